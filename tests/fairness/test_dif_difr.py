"""Mantel-Haenszel DIF against difR 5.1's own code (make_difr_reference.R): yes/no answers to 20 items, 6 of
them biased the same way, matched on the total score, with every item as an anchor and with difR's purified
anchors; and what profiler's purification finds on the same answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import profiler

PROJECT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((PROJECT / "tests" / "fixtures" / "reference" / "difr_reference.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def sample():
    q = profiler.load_questionnaire(PROJECT / "tests" / "fixtures" / "questionnaires" / "yes-no-20.yaml")
    data = pd.read_csv(PROJECT / "tests" / "fixtures" / "reference" / "dif_binary_sample.csv")
    return q, data[q.item_ids], data["group"].map({0: "reference", 1: "focal"})


def _mh(sample, anchors):
    q, answers, groups = sample
    result = profiler.dif(answers, q, groups, focal="focal", reference="reference", anchors=anchors,
                          logistic=False, adjust=False)
    return result.items.set_index("item").loc[q.item_ids]


@pytest.mark.parametrize("part", ["all_items", "purified"])
def test_mantel_haenszel_as_difr(sample, part):
    reference = REFERENCE[part]
    # difR's purified statistics match on the anchors it kept (plus the studied item): give profiler the same.
    anchors = None if part == "all_items" else [i for i in sample[0].item_ids if i not in reference["flagged"]]
    items = _mh(sample, anchors)
    np.testing.assert_allclose(items["mh_chi2"], reference["chi2"], rtol=1e-12)  # continuity-corrected
    np.testing.assert_allclose(items["mh_alpha"], reference["alpha"], rtol=1e-12)
    # ETS delta's SE is 2.35 times the SE of log alpha (difR's varLambda is its variance).
    np.testing.assert_allclose(items["mh_d_se"], 2.35 * np.sqrt(reference["var_lambda"]), rtol=1e-12)


def test_purification_finds_the_six_biased_items(sample):
    q, answers, groups = sample
    result = profiler.dif(answers, q, groups, focal="focal", reference="reference", logistic=False)
    # difR flags by the chi-square at .05 unadjusted: the six and two clean ones (Q10, Q15) after 5 rounds.
    assert REFERENCE["purified"]["flagged"] == ["Q2", "Q5", "Q9", "Q10", "Q12", "Q15", "Q16", "Q19"]
    # profiler drops ETS class B or C (Benjamini-Hochberg adjusted) from the anchors: exactly the six.
    assert sorted(result.flagged(), key=lambda i: int(i[1:])) == ["Q2", "Q5", "Q9", "Q12", "Q16", "Q19"]
    assert result.purification["converged"] and len(result.purification["rounds"]) == 2
