"""Invariance steps against lavaan 0.6-14 (Holzinger-Swineford by school), partial invariance, BIG5."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

import profiler
from profiler.factors.cfa import CFA
from profiler.fairness import invariance
from profiler.fairness.invariance import _syntax

HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
LAVAAN = {"configural": "configural", "metric": "loadings", "scalar": "loadings+intercepts",
          "strict": "loadings+intercepts+residuals"}
NEVER_REJECT = {"cfi": 1.0, "rmsea": 1.0, "srmr": 1.0, "srmr_metric": 1.0}
PARTIAL_REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "lavaan_partial_reference.json"


def test_full_invariance_steps_match_lavaan(holzinger_swineford, reference):
    hs = holzinger_swineford
    result = invariance(hs, HS_MODEL, hs["school"], partial=False, criteria=NEVER_REJECT)
    steps = result.steps.set_index("step")
    worst = 0.0
    for step, name in LAVAAN.items():
        ref = reference["cfa_hs"]["invariance_by_school"][name]
        for key in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr"):
            diff = abs(steps.loc[step, key] - ref[key]) / (ref[key] if key == "chisq" else 1.0)
            worst = max(worst, diff)
            assert diff < 1e-3, (step, key)
    assert worst < 1e-6  # the labelled models are lavaan's group.equal models, to optimizer precision
    assert list(result.group_sizes.index) == ["Pasteur", "Grant-White"]


def test_changes_and_decision_rule(holzinger_swineford, reference):
    hs = holzinger_swineford
    result = invariance(hs, HS_MODEL, hs["school"], partial=False)
    steps = result.steps.set_index("step")
    ref = reference["cfa_hs"]["invariance_by_school"]
    expected = ref["loadings"]["cfi"] - ref["configural"]["cfi"]
    assert steps.loc["metric", "delta_cfi"] == pytest.approx(expected, abs=1e-6)
    assert steps.loc["metric", "verdict"] == "holds"
    # scalar: CFI drops by .038 > .010 -> rejected; strict is then not tested
    assert steps.loc["scalar", "delta_cfi"] == pytest.approx(ref["loadings+intercepts"]["cfi"] - ref["loadings"]["cfi"],
                                                             abs=1e-6)
    assert not steps.loc["scalar", "cfi_ok"] and steps.loc["scalar", "verdict"] == "fails"
    assert "strict" not in steps.index and any("not tested" in n for n in result.notes)
    assert steps.loc["scalar", "delta_df"] == 6
    assert steps.loc["scalar", "delta_p"] < 0.001


def test_released_intercepts_are_lavaans_group_partial(holzinger_swineford, reference):
    # releasing every intercept but the markers' leaves the factor means just identified: the metric model
    hs = holzinger_swineford.assign(__group__=holzinger_swineford.school)
    factors = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
    released = {("intercept", x) for x in ("x2", "x3", "x5", "x6", "x8", "x9")}
    syntax, equal, partial = _syntax(factors, "scalar", released)
    assert equal == ("loadings", "intercepts") and partial == ("x2~1", "x3~1", "x5~1", "x6~1", "x8~1", "x9~1")
    fit = CFA(syntax).fit(hs, group="__group__", equal=equal, partial=partial)
    ref = reference["cfa_hs"]["invariance_by_school"]["loadings"]
    assert fit.fit_indices_["df"] == ref["df"]
    assert fit.fit_indices_["chisq"] == pytest.approx(ref["chisq"], rel=1e-6)
    assert fit.fit_indices_["cfi"] == pytest.approx(ref["cfi"], abs=1e-6)
    assert fit.admissible_ and fit.converged_


def test_partial_scalar_invariance_on_holzinger_swineford(holzinger_swineford):
    hs = holzinger_swineford
    result = invariance(hs, HS_MODEL, hs["school"], marker="first")  # lavaan's markers
    steps = result.steps.set_index("step")
    assert steps.loc["scalar", "verdict"] == "partial"
    assert list(result.freed.parameter) == ["x3~1", "x7~1"]  # the two largest chi-square drops, in order
    assert steps.loc["scalar", "df"] == 58 and steps.loc["scalar", "cfi_ok"]
    assert steps.loc["strict", "verdict"] in ("holds", "partial")
    assert (result.freed.delta_chisq > 0).all()
    assert result.models["scalar"] == (HS_MODEL.replace("\n ", "\n"), ("loadings", "intercepts"), ("x3~1", "x7~1"))
    assert result.models["strict"][2][:2] == ("x3~1", "x7~1")
    json.dumps(result.to_dict())


def test_partial_scalar_step_matches_lavaan_group_partial(holzinger_swineford):
    # lavaan 0.6-14: group.equal = c("loadings", "intercepts"), group.partial = c("x3~1", "x7~1")
    ref = json.loads(PARTIAL_REFERENCE.read_text())["models"]["scalar_partial_x3_x7"]
    hs = holzinger_swineford
    result = invariance(hs, HS_MODEL, hs["school"], steps=("configural", "metric", "scalar"), marker="first")
    scalar = result.steps.set_index("step").loc["scalar"]
    for key in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr"):
        expected = ref["fit"][key]
        assert abs(scalar[key] - expected) / (expected if key == "chisq" else 1.0) < 1e-3, key
    est = result.fits["scalar"].estimates_.set_index(["lhs", "op", "rhs", "group"])
    for row in ref["freed"]:
        assert est.loc[(row["lhs"], row["op"], row["rhs"], row["group"]), "est"] == pytest.approx(row["est"], abs=1e-3)


def test_candidates_keep_enough_invariant_indicators(holzinger_swineford):
    hs = holzinger_swineford
    result = invariance(hs, HS_MODEL, hs["school"], min_invariant=3, steps=("configural", "metric", "scalar"))
    # with three indicators per factor nothing may be released: scalar fails outright
    assert result.freed.empty and result.steps.iloc[-1].verdict == "fails"


def test_input_errors(holzinger_swineford):
    hs = holzinger_swineford
    with pytest.raises(ValueError, match="prefix"):
        invariance(hs, HS_MODEL, hs["school"], steps=("metric",))
    with pytest.raises(ValueError, match="plain"):
        invariance(hs, HS_MODEL + "\n x1 ~~ x4", hs["school"])
    with pytest.raises(ValueError, match="unknown criteria"):
        invariance(hs, HS_MODEL, hs["school"], criteria={"tli": 0.01})
    with pytest.raises(ValueError, match="lack"):
        invariance(hs.drop(columns="x9"), HS_MODEL, hs["school"])


def test_big5_sex_from_the_questionnaire(big5):
    rows = big5[big5.sex.isin(["male", "female"])]
    q = profiler.load_questionnaire("ipip-bfm-50")
    result = invariance(rows, q, rows.sex, steps=("configural", "metric"))
    steps = result.steps.set_index("step")
    assert steps.loc["metric", "delta_df"] == 45  # 50 loadings - 5 markers
    items = [f"{f}{i}" for f in "ENACO" for i in range(1, 11)]
    assert result.n_rows_dropped == int(rows[items].isna().any(axis=1).sum())
    assert np.isfinite(steps.loc["metric", "delta_cfi"])


def test_ordinal_invariance_sequence_follows_wu_and_estabrook(bfi):
    """WLSMV invariance by gender on bfi: the steps' fits are lavaan's (ordinal_reference.json)."""
    ref = json.loads((Path(__file__).parents[1] / "fixtures" / "reference" / "ordinal_reference.json").read_text())
    ref = ref["invariance"]
    items = bfi.iloc[:, :25]
    scales = {f: [f"{f}{i}" for i in range(1, 6)] for f in "ACENO"}
    result = invariance(items, scales, bfi["gender"], ordered=True, partial=False, marker="first")
    steps = result.steps.set_index("step")
    assert list(steps.index) == ["configural", "thresholds", "metric"][: len(steps)]
    for step, key in [("configural", "configural"), ("thresholds", "thresholds"), ("metric", "thresholds_loadings")]:
        if step not in steps.index:
            continue
        assert steps.loc[step, "chisq"] == pytest.approx(ref[key]["fit"]["chisq"], rel=1e-3)
        assert steps.loc[step, "cfi"] == pytest.approx(ref[key]["fit"]["cfi.scaled"], abs=1e-3)
        assert steps.loc[step, "rmsea"] == pytest.approx(ref[key]["fit"]["rmsea.scaled"], abs=1e-3)
    assert np.isnan(steps.loc["thresholds", "delta_p"])  # no chi-square difference test for WLSMV
    assert result.models["thresholds"][1] == ("thresholds",)
    with pytest.raises(ValueError, match="prefix of"):
        invariance(items, scales, bfi["gender"], ordered=True, steps=("configural", "scalar"))


def test_marker_choice_does_not_change_the_fully_constrained_models(holzinger_swineford):
    hs = holzinger_swineford
    auto = invariance(hs, HS_MODEL, hs["school"], partial=False, criteria=NEVER_REJECT)
    first = invariance(hs, HS_MODEL, hs["school"], partial=False, criteria=NEVER_REJECT, marker="first")
    assert auto.markers == {"visual": "x3", "textual": "x6", "speed": "x7"}
    assert first.markers == {"visual": "x1", "textual": "x4", "speed": "x7"}
    columns = ["chisq", "df", "cfi", "rmsea", "srmr"]
    np.testing.assert_allclose(auto.steps[columns].to_numpy(float), first.steps[columns].to_numpy(float), rtol=1e-7)
    assert auto.models["metric"][0].startswith("visual =~ x3 + x1 + x2")
    named = invariance(hs, HS_MODEL, hs["school"], partial=False, marker={"visual": "x2"}, steps=("configural",))
    assert named.markers == {"visual": "x2", "textual": "x4", "speed": "x7"}
    with pytest.raises(profiler.FairnessInputError, match="marker\\(s\\) visual: x9"):
        invariance(hs, HS_MODEL, hs["school"], marker={"visual": "x9"})


def test_a_loading_that_changes_sign_is_warned_about_and_never_the_marker(holzinger_swineford):
    hs = holzinger_swineford.copy()
    grant = hs["school"] == "Grant-White"
    hs.loc[grant, "x2"] = 10 - hs.loc[grant, "x2"]  # x2 reversed in one school, as a reversed translation would
    with pytest.warns(profiler.LoadingSignWarning, match="x2 on visual \\(Pasteur \\+0.3"):
        result = invariance(hs, HS_MODEL, hs["school"].tolist(), steps=("configural",))
    assert result.markers["visual"] != "x2"
    assert any("loadings change sign between groups: x2 on visual" in note for note in result.notes)
    assert "loadings change sign" in result.summary()


def test_a_fit_that_does_not_converge_is_reported_and_never_compared(holzinger_swineford, monkeypatch):
    hs = holzinger_swineford
    stopped = invariance(hs, HS_MODEL, hs["school"], max_iter=2, marker="first")
    assert stopped.steps.verdict.tolist() == ["not estimated"]
    assert any("the configural model did not converge in 2 iterations" in n for n in stopped.notes)
    # A candidate release whose model does not converge is left out of the search, and named.
    module = importlib.import_module("profiler.fairness.invariance")  # the attribute is the function

    class StallsOnX3(CFA):
        def fit(self, data, group=None, equal=(), partial=()):
            fitted = super().fit(data, group=group, equal=equal, partial=partial)
            if "x3~1" in partial:
                fitted.converged_ = False
            return fitted

    monkeypatch.setattr(module, "CFA", StallsOnX3)
    result = invariance(hs, HS_MODEL, hs["school"], steps=("configural", "metric", "scalar"), marker="first")
    assert "x3~1" not in set(result.freed.parameter)
    assert any("releasing x3~1 at the scalar step: the model did not converge" in n for n in result.notes)


def test_the_verdict_says_how_much_was_freed(holzinger_swineford):
    hs = holzinger_swineford
    result = invariance(hs, HS_MODEL, hs["school"], steps=("configural", "metric", "scalar"), marker="first")
    scalar = result.steps.set_index("step").loc["scalar"]
    assert scalar.n_freed == 2 and scalar.n_constraints == 9
    assert result.summary().startswith("configural baseline; metric holds; scalar partial (2 of 9 intercepts freed, "
                                       "22%: x3~1, x7~1)")
    assert result.to_dict()["summary"] == result.summary()
