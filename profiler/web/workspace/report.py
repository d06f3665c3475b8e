"""The recruiter report inside a workspace page: the body of :func:`profiler.reports.recruiter_report`,
rendered from the same template and context, with its charts as images.

The workspace's Content-Security-Policy allows no inline styles, and matplotlib's SVG styles every shape
inline; an SVG shown as an image (``<img src="data:image/svg+xml;base64,...">``, its title as the alternative
text) keeps its own styles and nothing of it can run. The report's stylesheet is served as
``/w/report.css``.
"""

from __future__ import annotations

import base64
import html
import re
from importlib import resources
from typing import Any

from markupsafe import Markup

from profiler.pipeline.case import CandidateCase
from profiler.reports._render import environment
from profiler.reports.recruiter import GLOSSARY_MARK, recruiter_context, with_glossary

_SVG = re.compile(r'<svg class="(chart[^"]*)" role="img" aria-labelledby="[^"]+" (.*?)</svg>', re.S)
_TITLE = re.compile(r"<title id=\"[^\"]+\">(.*?)</title>", re.S)


def stylesheet() -> str:
    """The reports' stylesheet (served as ``/w/report.css``)."""
    return resources.files("profiler.reports").joinpath("templates", "style.css").read_text(encoding="utf-8")


def _as_image(match: re.Match[str]) -> str:
    svg = match.group(0)
    title = _TITLE.search(svg)
    alt = html.unescape(title.group(1)) if title else "chart"
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="{match.group(1)}" alt="{html.escape(alt, quote=True)}" src="data:image/svg+xml;base64,{data}">'


def charts_as_images(markup: str) -> str:
    """Every inline chart of a report as an ``<img>`` of the same SVG."""
    return _SVG.sub(_as_image, markup)


def report_body(template_name: str, values: dict[str, Any]) -> Markup:
    """The ``body`` block of a report template (``recruiter.html``, ``fairness.html``, ``manual.html``) rendered
    with ``values``, its charts as images: the report as the command line writes it, inside a workspace page."""
    template = environment().get_template(template_name)
    context = template.new_context(values)
    # A child template's top level (its imports and macros, which its blocks call) runs before its layout's
    # first output: start the page, keep what the top level defined, and render only the body block.
    rendering = template.root_render_func(context)
    next(rendering, None)
    rendering.close()
    return Markup(charts_as_images("".join(template.blocks["body"](context))))


def recruiter_sections(case: CandidateCase) -> Markup:
    """The recruiter report's body (header and sections 1-8) as markup for a workspace page."""
    env = environment()
    template = env.get_template("recruiter.html")
    values = {**recruiter_context(case), "m": env.get_template("_macros.html").module}

    body = "".join(template.blocks["body"](template.new_context({**values, "glossary_mark": GLOSSARY_MARK})))
    # As the report itself does: the glossary lists only the technical words the page shows.
    return Markup(charts_as_images(with_glossary(body)))


__all__ = ["charts_as_images", "recruiter_sections", "report_body", "stylesheet"]
