"""The inline SVG charts: deterministic bytes, ids scoped per chart, fit for inlining."""

from __future__ import annotations

import re

import matplotlib
import pytest

from profiler.reports import _charts

LIMITS = {"not_advance_below": 42.0, "advance_at_or_above": 63.0}


def charts() -> dict[str, str]:
    return {
        "waterfall": _charts.waterfall("w", 56.1, [("Work sample", 6.0, False), ("Interview", -2.5, False),
                                                    ("Experience", 0.0, True)], 59.6, LIMITS),
        "sten": _charts.sten_strip("s", 7.2, 6.1, 8.3, label="Conscientiousness: sten 7"),
        "sten-empty": _charts.sten_strip("e", None, None, None, label="no score"),
        "score": _charts.score_scale("c", 59.6, 4.5, LIMITS, (55.0, 64.0)),
        "cohort": _charts.cohort_strip("k", [40.0, 41.0, 63.5, float("nan")], ["not_advance", "review", "advance",
                                                                               "review"], LIMITS),
        "ratios": _charts.impact_ratios("r", [
            {"category": "female", "impact_ratio": 0.62, "ratio_ci_lower": 0.38, "ratio_ci_upper": 1.0,
             "reference": False},
            {"category": "male", "impact_ratio": 1.0, "ratio_ci_lower": None, "ratio_ci_upper": None,
             "reference": True}], title="Impact ratios"),
        "over-time": _charts.rates_over_time("t", ["2026-01", "2026-02", "2026-03"],
                                             {"kim": [0.1, None, 0.3], "lee": [0.0, 0.5, float("nan")]},
                                             title="Override rate by month", ylabel="override rate"),
    }


@pytest.fixture(scope="module")
def drawn() -> dict[str, str]:
    return charts()


def test_same_inputs_same_bytes(drawn):
    assert charts() == drawn


@pytest.mark.parametrize("name", ["waterfall", "sten", "sten-empty", "score", "cohort", "ratios", "over-time"])
def test_svg_is_fit_for_inlining(drawn, name):
    svg = str(drawn[name])
    assert svg.startswith("<svg ") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<metadata" not in svg
    assert "<style" not in svg  # matplotlib's global style rule is dropped (it would apply to the whole page)
    assert "<script" not in svg
    assert matplotlib.__version__ not in svg and "Matplotlib" not in svg  # no version, no creator
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", svg) is None  # no time stamp
    assert 'role="img"' in svg and "<title id=" in svg
    assert "<text" in svg  # fonttype "none": text stays text


def test_ids_are_prefixed_and_references_follow(drawn):
    svg = str(drawn["waterfall"])
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("w-") for i in ids)
    for ref in re.findall(r"url\(#([^)]+)\)", svg) + re.findall(r'xlink:href="#([^"]+)"', svg):
        assert ref in ids


def test_rc_settings_do_not_leak():
    before = dict(matplotlib.rcParams)
    charts()
    assert dict(matplotlib.rcParams) == before


def test_chart_names_are_checked():
    from matplotlib.figure import Figure

    with pytest.raises(ValueError, match="chart name"):
        _charts.svg_of(Figure(), "Bad Name", "t")


def test_lines_over_time_are_named_in_the_legend_and_told_apart_by_marker(drawn):
    svg = str(drawn["over-time"])
    assert ">kim<" in svg and ">lee<" in svg and ">2026-02<" in svg
    assert "Override rate by month" in svg
    markers = re.findall(r'<path id="t-(m[0-9a-f]+)"', svg)
    assert len(set(markers)) >= 2  # a circle for one reviewer, a square for the other
