"""For psychologists: the calibration shipped for the organisation's questionnaires with its sealed hashes, the
technical manual as profiler manual writes it, and what changed between two recorded versions of a job model
(weights, thresholds, knock-outs, justifications), each version's hash checked; CSV of each table."""

from __future__ import annotations

import csv
import io
import json

import profiler
from profiler.artifacts import content_sha256
from profiler.resources import bundled_dir

from .conftest import signed_in_as
from .test_review_pages import HOSTILE

BOTH_BACKENDS = True  # each test also on PostgreSQL (conftest.py)


def test_calibrations_of_the_organisations_questionnaires_with_their_hashes(client, staff):
    signed_in_as(client, staff, "psychologist")
    page = client.get("/w/instruments")
    assert page.status_code == 200 and "Questionnaire ipip-bfm-50" in page.text
    assert "/w/instruments/manuals/ipip-bfm-50" in page.text
    assert "/w/instruments/diff?model=customer-support" in page.text
    table = list(csv.DictReader(io.StringIO(client.get("/w/instruments/calibrations.csv").text)))
    folder = bundled_dir("models") / "ipip-bfm-50"
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.json"))
    assert [r["file"] for r in table] == files
    general = next(r for r in table if r["file"] == "norms/general.json")
    doc = json.loads((folder / "norms" / "general.json").read_text(encoding="utf-8"))
    assert general["sha256"] == doc["sha256"] == content_sha256(doc) and general["hash_checked"] == "yes"
    assert (general["kind"], general["version"]) == ("norm table", "1.0.0")
    assert general["questionnaire_hash"] == profiler.load_questionnaire("ipip-bfm-50").content_hash
    assert all(r["hash_checked"] == "yes" for r in table)


def test_the_technical_manual_as_profiler_manual_writes_it(client, staff):
    signed_in_as(client, staff, "auditor")
    page = client.get("/w/instruments/manuals/ipip-bfm-50")
    assert page.status_code == 200
    for heading in ("1. Description of the questionnaire", "2. Norms", "3. Reliability", "4. Validity evidence"):
        assert heading in page.text
    assert "Not yet known" in page.text  # no calibration report: the manual says what it would add
    assert client.get("/w/instruments/manuals/mini").status_code == 404
    assert "<script>alert" not in client.get(f"/w/instruments/manuals/{HOSTILE}").text


def test_what_changed_between_two_versions_of_a_job_model(client, staff, second_version):
    signed_in_as(client, staff, "psychologist")
    bundled = profiler.load_job_model("customer-support")
    page = client.get("/w/instruments/diff", params={"model": "customer-support"})  # the two newest versions
    assert page.status_code == 200
    assert bundled.content_hash in page.text and second_version.content_hash in page.text
    assert page.text.count("hash checked") == 2
    table = list(csv.DictReader(io.StringIO(client.get("/w/instruments/diff.csv", params={
        "model": "customer-support", "from": bundled.content_hash, "to": second_version.content_hash}).text)))
    rows = [(r["section"], r["item"], r["field"], r["before"], r["after"]) for r in table]
    assert rows[:4] == [("Version", "", "", "1.0.0", "1.1.0"),
                        ("Thresholds", "", "advance from (score)", "60.0", "62.0"),
                        ("Criteria", "work_sample", "knock-out (minimum; below it a person reviews)", "40.0", "45.0"),
                        ("Criteria", "work_sample", "weight", "0.3", "0.35")]
    assert ("Criteria", "customer_focus", "weight", "0.25", "0.2") in rows
    rationale = [r for r in rows if r[1] == "customer_focus" and r[2] == "justification (rationale)"]
    assert len(rationale) == 1 and "(2026 update)" in rationale[0][4]
    assert {r["from_hash"] for r in table} == {bundled.content_hash}
    assert {r["to_hash"] for r in table} == {second_version.content_hash}
    same = client.get("/w/instruments/diff", params={"model": "customer-support", "from": bundled.content_hash,
                                                     "to": bundled.content_hash})
    assert "The two versions are identical" in same.text


def test_another_organisations_job_model_is_not_compared(client, staff):
    signed_in_as(client, staff, "psychologist-globex")
    assert client.get("/w/instruments/diff", params={"model": "customer-support"}).status_code == 404
    assert client.get("/w/instruments/diff.csv", params={"model": "customer-support"}).status_code == 404
    own = client.get("/w/instruments/diff", params={"model": "software-engineer"})
    assert own.status_code == 200 and "Only one version of software-engineer is known" in own.text


def test_an_edited_stored_version_is_shown_as_not_matching_its_hash(client, staff, store, second_version):
    from sqlalchemy import update

    from profiler.pipeline.job_model_versions import job_model_versions
    from profiler.store.tables import job_models

    versions = job_model_versions(store, "customer-support")
    assert [(v.version, v.bundled, v.recorded_at is not None) for v in versions] == [("1.0.0", True, True),
                                                                                    ("1.1.0", False, True)]
    edited = json.dumps({**versions[1].document, "version": "1.1.0-quietly-edited", "role": {"title": HOSTILE}})
    with store.write() as connection:
        connection.execute(update(job_models).where(job_models.c.content_hash == second_version.content_hash)
                           .values(document=edited))
    signed_in_as(client, staff, "auditor")
    page = client.get("/w/instruments/diff", params={"model": "customer-support"})
    assert "the stored content does not match its hash" in page.text and "1.1.0-quietly-edited" in page.text
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text
