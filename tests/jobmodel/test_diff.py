"""job_model_diff: what changed between two versions of a job model, row by row."""

from __future__ import annotations

import copy

import profiler
from profiler.jobmodel.diff import Change, job_model_diff


def _spec():
    return profiler.load_job_model("customer-support").spec.model_dump(mode="json")


def _criterion(doc, criterion_id):
    return next(c for c in doc["criteria"] if c["id"] == criterion_id)


def test_equal_documents_have_no_difference():
    assert job_model_diff(_spec(), _spec()) == []


def test_weights_thresholds_knock_outs_criteria_and_justifications():
    before = _spec()
    after = copy.deepcopy(before)
    after["version"] = "1.1.0"
    after["bands"]["advance_from"] = 62
    work_sample = _criterion(after, "work_sample")
    work_sample["weight"] = 0.35
    work_sample["minimum"] = 45
    work_sample["rationale"] = "Raised after the 2026 validation study."
    after["criteria"] = [c for c in after["criteria"] if c["id"] != "sociability"]
    added = {"id": "languages", "input": "evidence.support_experience", "transform": {"kind": "binary"},
             "weight": 0.05, "missing": "review", "rationale": "Customers write in two languages."}
    after["criteria"].append(added)
    after["criteria"].reverse()  # order alone is no change
    rows = [(c.section, c.item, c.field, c.before, c.after, c.kind) for c in job_model_diff(before, after)]
    old_rationale = _criterion(before, "work_sample")["rationale"]
    assert rows == [
        ("Version", "", "", "1.0.0", "1.1.0", "changed"),
        ("Thresholds", "", "advance from (score)", 60, 62, "changed"),
        ("Criteria", "work_sample", "knock-out (minimum; below it a person reviews)", 40, 45, "changed"),
        ("Criteria", "work_sample", "weight", 0.30, 0.35, "changed"),
        ("Criteria", "work_sample", "justification (rationale)", old_rationale,
         "Raised after the 2026 validation study.", "changed"),
        ("Criteria", "sociability", "(the whole item)", _criterion(before, "sociability"), None, "removed"),
        ("Criteria", "languages", "(the whole item)", None, added, "added"),
    ]


def test_values_read_as_one_line():
    assert Change.text({"kind": "linear", "at_zero": 30}) == '{"at_zero": 30, "kind": "linear"}'
    assert Change.text(None) == "" and Change.text("a") == "a" and Change.text(0.35) == "0.35"
