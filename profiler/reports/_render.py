"""Rendering: one Jinja2 environment (autoescaped, strict) over the templates shipped in the package.

Templates live in ``profiler/reports/templates/`` and ship in the wheel. Every page is self-contained:
the stylesheet is inlined, charts are inline SVG, there are no scripts and no external resources. Text
is escaped on output; only the SVG of :mod:`profiler.reports._charts` is marked safe.

The number formats are the report's own (not the locale's), so that the same inputs give the same bytes.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

MINUS = "\u2212"  # a typographic minus: "−3.2", not "-3.2"
DASH = "\u2013"  # shown for a missing number

# Bumped when a template or a chart changes what a report shows; printed in every report's footer.
REPORT_FORMAT = "profiler.reports/1"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: Any, digits: int = 1, *, signed: bool = False, thousands: bool = True) -> str:
    """``value`` with ``digits`` decimals (a typographic minus, thousands separated); a dash when missing."""
    if _missing(value):
        return DASH
    value = float(value)
    if round(value, digits) == 0:
        value = 0.0  # no "−0.0"
    text = f"{abs(value):,.{digits}f}" if thousands else f"{abs(value):.{digits}f}"
    sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    return sign + text


def integer(value: Any) -> str:
    return DASH if _missing(value) else f"{int(value):,}"


def percent(value: Any, digits: int = 0) -> str:
    """A share 0..1 as a percentage: ``0.973`` -> ``97%``."""
    return DASH if _missing(value) else f"{number(100.0 * float(value), digits)}%"


def p_value(value: Any) -> str:
    """A p-value: three decimals, ``< 0.001`` below that."""
    if _missing(value):
        return DASH
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def short_hash(value: Any, length: int = 12) -> str:
    """``sha256:0123456789ab…`` for tables; the full hash sits in the title attribute."""
    if _missing(value):
        return DASH
    text = str(value)
    prefix = "sha256:" if text.startswith("sha256:") else ""
    digest = text[len(prefix):]
    return prefix + digest[:length] + ("\u2026" if len(digest) > length else "")


def yes_no(value: Any) -> str:
    return DASH if value is None else ("yes" if value else "no")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The reports' Jinja2 environment: HTML autoescaped, undefined names are errors."""
    env = Environment(
        loader=PackageLoader("profiler.reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(number=number, integer=integer, percent=percent, p_value=p_value, short_hash=short_hash,
                       yes_no=yes_no)
    env.globals.update(REPORT_FORMAT=REPORT_FORMAT, DASH=DASH)
    return env


def render(template: str, **context: Any) -> str:
    """Render ``template`` (a file in ``templates/``) with ``context``; returns the HTML text."""
    return environment().get_template(template).render(**context)


__all__ = ["REPORT_FORMAT", "environment", "integer", "number", "p_value", "percent", "render", "short_hash"]
