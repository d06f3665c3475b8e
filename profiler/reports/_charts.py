"""Deterministic inline SVG charts (matplotlib, no GUI backend).

Every chart is drawn on a :class:`matplotlib.figure.Figure` (pyplot is never imported, so no global
figure state and no interactive backend) and saved as SVG under :data:`CHART_RC`:

- ``svg.hashsalt`` fixed, so the ids matplotlib derives for clip paths and markers are the same on every
  run;
- ``svg.fonttype = "none"``: text stays text (the page's font draws it; no glyph outlines that change
  with the font files);
- metadata ``Date`` and ``Creator`` None: no time stamp, no matplotlib version.

The SVG is then made fit for inlining in HTML: the XML prolog, the metadata block and matplotlib's
global ``<style>`` are removed, every id is prefixed with the chart's name (several charts share one
page), and a ``<title>`` names the chart for screen readers. The same inputs give the same bytes.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Sequence
from html import escape
from typing import Any

from markupsafe import Markup

CHART_RC: dict[str, Any] = {
    "svg.hashsalt": "profiler-reports",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8.0,
    "axes.linewidth": 0.6,
    "axes.edgecolor": "#9aa5b1",
    "axes.labelcolor": "#3e4c59",
    "xtick.color": "#7b8794",
    "ytick.color": "#7b8794",
    "xtick.labelcolor": "#3e4c59",
    "ytick.labelcolor": "#1f2933",
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 3.0,
    "ytick.major.size": 0.0,
    "hatch.linewidth": 0.6,
    "hatch.color": "#7b8794",
}
SVG_METADATA = {"Date": None, "Creator": None}

# A calm palette: ink, greys, a teal for what raises a score, a muted terracotta for what lowers it.
INK = "#1f2933"
MUTED = "#52606d"
LINE = "#9aa5b1"
GRID = "#e4e7eb"
UP = "#2f7d6d"
DOWN = "#b4553e"
NEUTRAL = "#cbd2d9"
ACCENT = "#3a5a8c"
ZONES = {"not_advance": "#f6e9e5", "review": "#f8f1de", "advance": "#e4f1ec"}
ZONE_WORDS = {"not_advance": "not advance", "review": "human review", "advance": "advance"}

_ID = re.compile(r'\bid="([^"]+)"')
_URL = re.compile(r"url\(#([^)]+)\)")
_HREF = re.compile(r'xlink:href="#([^"]+)"')


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def svg_of(fig: Any, name: str, title: str, *, wide: bool = False) -> Markup:
    """The figure as SVG markup ready to inline (see the module docstring); ``name`` must be unique per page."""
    if not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise ValueError(f"chart name {name!r}: lower-case letters, digits and '-'")
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata=SVG_METADATA)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'\s*<style type="text/css">.*?</style>', "", text, flags=re.S)
    text = re.sub(r"\s*<defs>\s*</defs>", "", text)
    text = _ID.sub(lambda m: f'id="{name}-{m.group(1)}"', text)
    text = _URL.sub(lambda m: f"url(#{name}-{m.group(1)})", text)
    text = _HREF.sub(lambda m: f'xlink:href="#{name}-{m.group(1)}"', text)
    opening_end = text.index(">") + 1
    css = "chart wide" if wide else "chart"
    opening = text[:opening_end].replace("<svg ", f'<svg class="{css}" role="img" aria-labelledby="{name}-title" ', 1)
    text = f'{opening}\n <title id="{name}-title">{escape(title)}</title>{text[opening_end:]}'
    return Markup(text.rstrip() + "\n")


def _rc():
    import matplotlib

    return matplotlib.rc_context(CHART_RC)


def _clean_axes(ax: Any, *, left: bool = False) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_visible(left)


def _wrap(label: str, width: int = 30) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


# Charts ------------------------------------------------------------------------------------------------
def waterfall(name: str, base: float, steps: Sequence[tuple[str, float, bool]], score: float,
              thresholds: dict[str, float], *, base_label: str = "average candidate") -> Markup:
    """Horizontal waterfall: the reference point's score, each criterion's contribution, the score.

    ``steps`` are ``(label, points, imputed)`` in the order drawn (top to bottom); imputed inputs are
    drawn hatched. The band thresholds are dashed lines. ``base_label`` names the reference point.
    """
    rows = len(steps) + 2
    running = [base]
    for _, points, _ in steps:
        running.append(running[-1] + points)
    lower, upper = thresholds["not_advance_below"], thresholds["advance_at_or_above"]
    values = running + [score, lower, upper]
    lo = max(0.0, 5.0 * math.floor((min(values) - 4.0) / 5.0))
    hi = min(100.0, 5.0 * math.ceil((max(values) + 4.0) / 5.0))
    with _rc():
        fig = _figure(6.4, 0.34 * rows + 0.55)
        ax = fig.add_axes((0.34, 0.42 / (0.34 * rows + 0.55), 0.6, 1 - 0.55 / (0.34 * rows + 0.55)))
        ax.set_xlim(lo, hi)
        ax.set_ylim(rows - 0.4, -0.6)
        for x, label in ((lower, f"not advance below {lower:g}"), (upper, f"advance from {upper:g}")):
            ax.axvline(x, color=LINE, linewidth=0.7, linestyle=(0, (3, 2)), zorder=1)
            ax.text(x, -0.55, label, ha="center", va="bottom", fontsize=6.5, color=MUTED)
        ax.barh(0, base - lo, left=lo, height=0.5, color=NEUTRAL, zorder=2)
        ax.text(base + (hi - lo) * 0.01, 0, f"{base:.1f}", va="center", ha="left", color=INK, fontsize=7.5)
        for row, ((label, points, imputed), start) in enumerate(zip(steps, running), start=1):
            colour = NEUTRAL if imputed or points == 0 else (UP if points > 0 else DOWN)
            width = points if points != 0 else 0.0001 * (hi - lo)
            ax.barh(row, width, left=start, height=0.56, color=colour, zorder=2,
                    hatch="////" if imputed else None, edgecolor=LINE if imputed else colour, linewidth=0.4)
            ax.plot([start, start], [row - 1.28, row - 0.28] if row > 1 else [row - 1.25, row - 0.28],
                    color=LINE, linewidth=0.5, zorder=1)
            end = start + points
            text = ("0.0 (imputed)" if imputed else f"{points:+.1f}").replace("-", "\u2212")
            ax.text(max(start, end) + (hi - lo) * 0.01, row, text, va="center", ha="left", fontsize=7.5,
                    color=INK)
        ax.plot([running[-1], running[-1]], [rows - 2.28, rows - 1.28], color=LINE, linewidth=0.5, zorder=1)
        ax.barh(rows - 1, score - lo, left=lo, height=0.5, color=ACCENT, zorder=2)
        ax.text(score + (hi - lo) * 0.01, rows - 1, f"{score:.1f}", va="center", ha="left", color=INK,
                fontsize=7.5, fontweight="bold")
        ax.set_yticks(range(rows), [f"{base_label} (base)"] + [_wrap(s[0]) for s in steps] + ["score"])
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("score points (0\u2013100)", fontsize=7)
        ax.grid(axis="x", color=GRID, linewidth=0.5, zorder=0)
        ax.set_axisbelow(True)
        _clean_axes(ax)
        return svg_of(fig, name, f"Contribution waterfall: from the {base_label}'s score to this score",
                      wide=True)


def sten_strip(name: str, position: float | None, low: float | None, high: float | None, *,
               label: str) -> Markup:
    """A sten scale 1-10 with the confidence band (``low``..``high`` in sten units) and the score.

    Stens 4-7 (the middle two thirds of the norm group) are shaded; ``position`` is the unrounded sten
    (5.5 + 2 z); ``None`` draws the empty scale (no score).
    """
    with _rc():
        fig = _figure(3.0, 0.5)
        ax = fig.add_axes((0.02, 0.34, 0.96, 0.62))
        ax.set_xlim(0.5, 10.5)
        ax.set_ylim(0, 1)
        ax.axvspan(3.5, 7.5, color="#f0f2f4", zorder=0, linewidth=0)
        for edge in range(1, 10):
            ax.axvline(edge + 0.5, color=GRID, linewidth=0.6, zorder=1)
        if position is not None and low is not None and high is not None:
            lo, hi = max(0.5, low), min(10.5, high)
            ax.axvspan(lo, hi, ymin=0.2, ymax=0.8, color=ACCENT, alpha=0.22, zorder=2, linewidth=0)
            ax.plot([min(max(position, 0.5), 10.5)], [0.5], marker="o", markersize=5.5, color=ACCENT, zorder=3,
                    markeredgecolor="white", markeredgewidth=0.8)
        ax.set_xticks(range(1, 11), [str(k) for k in range(1, 11)], fontsize=6.5)
        ax.tick_params(axis="x", length=0, pad=1.5)
        ax.set_yticks([])
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.spines["bottom"].set_color(LINE)
        return svg_of(fig, name, label, wide=True)


def score_scale(name: str, score: float, se: float, thresholds: dict[str, float],
                plausible: tuple[float, float] | None = None, *, label: str = "score") -> Markup:
    """The 0-100 score line with the three bands, the score and its 90% measurement interval
    (score +/- 1.645 SE) and, when inputs are unknown, the range of scores they could give."""
    lower, upper = thresholds["not_advance_below"], thresholds["advance_at_or_above"]
    with _rc():
        fig = _figure(6.4, 1.25)
        ax = fig.add_axes((0.02, 0.2, 0.96, 0.76))
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 1)
        for band, (a, b) in (("not_advance", (0, lower)), ("review", (lower, upper)), ("advance", (upper, 100))):
            ax.axvspan(a, b, color=ZONES[band], zorder=0, linewidth=0)
            ax.text((a + b) / 2, 0.95, ZONE_WORDS[band], ha="center", va="top", fontsize=7, color=MUTED)
        for x in (lower, upper):
            ax.axvline(x, color=LINE, linewidth=0.7, linestyle=(0, (3, 2)), zorder=1)
        half = 1.645 * se
        ax.plot([max(0, score - half), min(100, score + half)], [0.5, 0.5], color=ACCENT, linewidth=2.2,
                solid_capstyle="butt", zorder=3, alpha=0.55)
        if plausible is not None:
            a, b = plausible
            ax.plot([a, a, b, b], [0.3, 0.24, 0.24, 0.3], color=MUTED, linewidth=0.8, zorder=3)
            ax.text((a + b) / 2, 0.19, "range if the unknown inputs took plausible values", ha="center", va="top",
                    fontsize=6.5, color=MUTED)
        ax.plot([score], [0.5], marker="D", markersize=6, color=ACCENT, markeredgecolor="white",
                markeredgewidth=0.8, zorder=4)
        ax.text(score, 0.6, f"{label} {score:.1f}", ha="center", va="bottom", fontsize=7.5, color=INK,
                fontweight="bold")
        ax.set_xticks(range(0, 101, 10))
        ax.tick_params(axis="x", labelsize=6.5)
        ax.set_yticks([])
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        return svg_of(fig, name, f"The {label} on the 0 to 100 scale with its 90% measurement interval and the "
                                 "band thresholds", wide=True)


def cohort_strip(name: str, scores: Sequence[float], bands: Sequence[str], thresholds: dict[str, float]) -> Markup:
    """Each candidate's score as a dot on the 0-100 line, stacked within 2-point bins, over the bands."""
    lower, upper = thresholds["not_advance_below"], thresholds["advance_at_or_above"]
    stacks: dict[int, int] = {}
    xs, ys, colours = [], [], []
    order = sorted(range(len(scores)), key=lambda i: (scores[i], i))
    for i in order:
        if scores[i] is None or math.isnan(scores[i]):
            continue
        key = int(scores[i] // 2)
        level = stacks.get(key, 0)
        stacks[key] = level + 1
        xs.append(scores[i])
        ys.append(level)
        colours.append({"advance": UP, "not_advance": DOWN}.get(bands[i], "#c79a2e"))
    top = max([*ys, 4]) + 1.5
    with _rc():
        fig = _figure(6.4, 1.3)
        ax = fig.add_axes((0.02, 0.24, 0.96, 0.72))
        ax.set_xlim(0, 100)
        ax.set_ylim(-0.8, top)
        for band, (a, b) in (("not_advance", (0, lower)), ("review", (lower, upper)), ("advance", (upper, 100))):
            ax.axvspan(a, b, color=ZONES[band], zorder=0, linewidth=0)
            ax.text((a + b) / 2, top - 0.3, ZONE_WORDS[band], ha="center", va="top", fontsize=7, color=MUTED)
        if xs:
            ax.scatter(xs, ys, s=16, c=colours, zorder=3, edgecolors="white", linewidths=0.5)
        ax.set_xticks(range(0, 101, 10))
        ax.tick_params(axis="x", labelsize=6.5)
        ax.set_yticks([])
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        return svg_of(fig, name, "Scores of the candidates on the 0 to 100 scale, coloured by recommended band",
                      wide=True)


def impact_ratios(name: str, rows: Sequence[dict[str, Any]], *, title: str) -> Markup:
    """Impact ratio of each category with its 95% CI, against lines at 0.8 and 1.

    ``rows``: ``category``, ``impact_ratio``, ``ratio_ci_lower``, ``ratio_ci_upper``, ``reference``.
    Categories without a ratio (left out, or a zero rate) are listed without a point.
    """
    n = len(rows)
    with _rc():
        height = 0.26 * n + 0.55
        fig = _figure(6.4, height)
        ax = fig.add_axes((0.3, 0.4 / height, 0.64, 1 - 0.5 / height))
        ax.set_ylim(n - 0.5, -0.7)
        highs = [r["ratio_ci_upper"] for r in rows if r.get("ratio_ci_upper") is not None]
        right = max([1.2, *[min(h, 3.0) for h in highs]])
        ax.set_xlim(0, right * 1.05)
        ax.axvspan(0, 0.8, color=ZONES["not_advance"], zorder=0, linewidth=0)
        for x, text in ((0.8, "0.8"), (1.0, "1.0")):
            ax.axvline(x, color=LINE, linewidth=0.7, linestyle=(0, (3, 2)), zorder=1)
        ax.text(0.4, -0.6, "ratio below 0.8", ha="center", va="bottom", fontsize=6.5, color=MUTED)
        for i, row in enumerate(rows):
            ratio = row.get("impact_ratio")
            if ratio is None:
                ax.text(0.02, i, "no ratio", va="center", fontsize=6.5, color=MUTED)
                continue
            lo, hi = row.get("ratio_ci_lower"), row.get("ratio_ci_upper")
            if lo is not None and hi is not None:
                ax.plot([lo, min(hi, right * 1.05)], [i, i], color=ACCENT, linewidth=1.2, alpha=0.6, zorder=2)
            ax.plot([ratio], [i], marker="s" if row.get("reference") else "o", markersize=4.5, color=ACCENT,
                    zorder=3, markeredgecolor="white", markeredgewidth=0.6)
        ax.set_yticks(range(n), [_wrap(str(r["category"]), 34) + (" (reference)" if r.get("reference") else "")
                                 for r in rows])
        ax.tick_params(axis="y", length=0, labelsize=7)
        ax.tick_params(axis="x", labelsize=6.5)
        ax.set_xlabel("impact ratio (95% CI)", fontsize=7)
        _clean_axes(ax)
        return svg_of(fig, name, title, wide=True)


# Distinct by colour and by marker, so that no line is told apart by colour alone.
SERIES_STYLES = (("#3a5a8c", "o"), ("#b4553e", "s"), ("#2f7d6d", "^"), ("#7a5410", "D"), ("#6b3f8c", "v"),
                 ("#1f2933", "P"), ("#8a6d1e", "X"), ("#52606d", "*"))


def rates_over_time(name: str, periods: Sequence[str], series: dict[str, Sequence[float | None]], *,
                    title: str, ylabel: str) -> Markup:
    """Rates (0..1) per period as lines, one per series, on a 0-100% axis.

    ``periods`` are the x labels in order; each series has one value per period (None or NaN where it has
    none: the line breaks there). Series are told apart by colour and marker, and named in the legend.
    """
    n = len(periods)
    with _rc():
        fig = _figure(6.4, 2.5)
        ax = fig.add_axes((0.09, 0.3, 0.62, 0.62))
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlim(-0.4, max(n - 1, 0) + 0.4)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
        ax.grid(axis="y", color=GRID, linewidth=0.6, zorder=0)
        for i, (label, values) in enumerate(series.items()):
            colour, marker = SERIES_STYLES[i % len(SERIES_STYLES)]
            ys = [math.nan if v is None else float(v) for v in values]
            ax.plot(range(n), ys, color=colour, marker=marker, markersize=4, linewidth=1.1, label=_wrap(label, 24),
                    zorder=3)
        step = max(1, math.ceil(n / 8))  # at most about eight labels under the axis
        ax.set_xticks(range(0, n, step), [periods[i] for i in range(0, n, step)])
        ax.tick_params(axis="x", labelsize=6.5, rotation=0)
        ax.tick_params(axis="y", labelsize=6.5)
        ax.set_ylabel(ylabel, fontsize=7)
        _clean_axes(ax, left=True)
        if series:
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=6.5, frameon=False)
        return svg_of(fig, name, title, wide=True)


def scree(name: str, observed: Sequence[float], simulated: Sequence[float], declared: int) -> Markup:
    """Parallel analysis: observed eigenvalues (reduced matrix) against those of random data, the declared count marked."""
    k = range(1, len(observed) + 1)
    with _rc():
        fig = _figure(6.4, 2.3)
        ax = fig.add_axes((0.08, 0.17, 0.9, 0.78))
        ax.axhline(0, color=GRID, linewidth=0.6, zorder=0)
        ax.axvline(declared + 0.5, color=LINE, linewidth=0.7, linestyle=(0, (3, 2)), zorder=1)
        ax.text(declared + 0.6, max(observed) * 0.95, f"{declared} declared", fontsize=6.5, color=MUTED, va="top")
        ax.plot(k, simulated, color=LINE, linewidth=1.2, marker="o", markersize=3, label="random data (mean)")
        ax.plot(k, observed, color=ACCENT, linewidth=1.4, marker="o", markersize=3.5, label="observed")
        ax.set_xticks(list(k))
        ax.tick_params(labelsize=6.5)
        ax.set_xlabel("factor", fontsize=7)
        ax.set_ylabel("eigenvalue", fontsize=7)
        ax.legend(fontsize=6.5, frameon=False, loc="upper right")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        return svg_of(fig, name, "Parallel analysis: eigenvalues of the observed data against random data of the same "
                                 "size", wide=True)


__all__ = ["CHART_RC", "cohort_strip", "impact_ratios", "score_scale", "scree", "sten_strip", "svg_of", "waterfall"]
