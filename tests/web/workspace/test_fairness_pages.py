"""The fairness audit in the workspace: the figures of profiler.fairness for the organisation's job model
version, from the demographics vault (each read logged with the user and purpose), rendered by the fairness
report's template, every table as CSV; another organisation's model refused."""

from __future__ import annotations

import csv
import io

import pytest

from profiler.oversight import AuditLog, Review
from profiler.oversight.candidates import DemographicsVault

from .conftest import signed_in_as
from .test_review_pages import HOSTILE

BOTH_BACKENDS = True  # each test also on PostgreSQL (conftest.py)

SEX = {"cand-a0": "female", "cand-a1": "female", "cand-a2": "male", "cand-g0": "male"}


@pytest.fixture
def labelled(store):
    vault = DemographicsVault(store)
    for candidate, sex in SEX.items():
        vault.record(candidate, {"sex": sex}, actor="form:self-id")
    return store


def _rates(store) -> dict[str, float]:
    """Selection rate (recommended to advance) per category, by hand from the recorded bands."""
    bands = {r.candidate: r.band for r in Review(store).recommendations(job_model="customer-support")}
    out = {}
    for sex in ("female", "male"):
        people = [c for c, s in SEX.items() if s == sex and c in bands]
        out[sex] = sum(bands[c] == "advance" for c in people) / len(people)
    return out


def test_the_audit_of_a_version_as_the_fairness_report_shows_it(client, staff, labelled, recs):
    signed_in_as(client, staff, "auditor")
    listing = client.get("/w/fairness")
    assert listing.status_code == 200 and "version 1.0.0" in listing.text
    assert "software-engineer" not in listing.text
    before = len(AuditLog(labelled))
    page = client.get("/w/fairness", params={"model": "customer-support", "version": "1.0.0"})
    assert page.status_code == 200, page.text[:500]
    assert "1. Summary of results" in page.text and "Impact ratio (95% CI)" in page.text
    assert "Individuals assessed" in page.text
    reads = [e for e in AuditLog(labelled).entries() if e.seq > before]
    assert [e.event for e in reads] == ["demographics.read"]
    assert reads[0].actor == "auditor:auditor" and "workspace" in str(reads[0].payload)

    summary = list(csv.DictReader(io.StringIO(client.get(
        "/w/fairness/summary.csv", params={"model": "customer-support", "version": "1.0.0"}).text)))
    rates = _rates(labelled)
    best = max(rates.values())
    assert {r["category"]: (int(r["n"]), float(r["selection_rate"])) for r in summary} == {
        "female": (2, rates["female"]), "male": (1, rates["male"])}
    for row in summary:
        if best > 0:
            assert float(row["selection_ratio"]) == pytest.approx(rates[row["category"]] / best)
    selection = list(csv.DictReader(io.StringIO(client.get(
        "/w/fairness/selection.csv", params={"model": "customer-support", "version": "1.0.0"}).text)))
    assert {"impact_ratio", "ratio_ci_lower", "ratio_ci_upper", "fisher_p"} <= set(selection[0])
    assert client.get("/w/fairness/smd.csv", params={"model": "customer-support"}).status_code == 200
    nothing_decided = client.get("/w/fairness/decisions.csv", params={"model": "customer-support"})
    assert nothing_decided.status_code == 404


def test_another_organisations_model_and_unknown_tables_are_refused(client, staff, labelled):
    signed_in_as(client, staff, "auditor")
    before = len(AuditLog(labelled))
    other = client.get("/w/fairness", params={"model": "software-engineer"})
    assert other.status_code == 404 and "no such job model in your organisation" in other.text
    assert client.get("/w/fairness/summary.csv", params={"model": "software-engineer"}).status_code == 404
    assert client.get("/w/fairness/secrets.csv", params={"model": "customer-support"}).status_code == 404
    assert len(AuditLog(labelled)) == before  # globex's demographics were not read


def test_without_demographics_the_page_says_why(client, staff, store):
    signed_in_as(client, staff, "psychologist")
    page = client.get("/w/fairness", params={"model": "customer-support", "version": "9.9"})
    assert page.status_code == 409 and "no recommendation of customer-support version" in page.text
    page = client.get("/w/fairness", params={"model": "customer-support", "version": HOSTILE})
    assert "<script>alert(1)" not in page.text
    page = client.get("/w/fairness", params={"model": "customer-support"})
    assert page.status_code == 409 and "record demographics in the store" in page.text
