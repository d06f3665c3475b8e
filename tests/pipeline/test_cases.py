"""Reports from a store (through profiler.assessment and profiler.oversight.review), the commands, the log,
and the rule that no protected attribute reaches a candidate's or a cohort's report."""

from __future__ import annotations

import hashlib
import json
import re
from html import unescape

import pandas as pd
import pytest

import profiler
from profiler.cli import main
from profiler.oversight import AuditLog, Candidates, DemographicsVault
from profiler.reports import candidate_report, case_from_store, cohort_from_store, cohort_report, recruiter_report
from profiler.pipeline.cases import ReportError
from profiler.simulation import simulate_responses
from profiler.store import Store

# Distinctive values, so that finding one in a page cannot be a coincidence.
ATTRIBUTES = {"sex": ["Femaleqz", "Maleqz"], "race_ethnicity": ["Zetaland Origin", "Quorvian Heritage", None]}
N = 10


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from profiler.pipeline.assessment import assess_candidate
    from profiler.oversight.review import Review

    path = tmp_path_factory.mktemp("store") / "reports.db"
    jm = profiler.load_job_model("customer-support")
    answers = simulate_responses(jm.questionnaire, N, seed=5)
    with Store(str(path)) as store:
        people, vault = Candidates(store), DemographicsVault(store)
        ids = []
        for i in range(N):
            c = people.register(actor="recruiter:kim", candidate_id=f"cand-{i:04d}")
            vault.record(c.id, {k: v[i % len(v)] for k, v in ATTRIBUTES.items()}, actor="form:self-id")
            evidence = {
                "email_work_sample": {"kind": "test_score", "score": 30 + 7 * i, "date": "2026-04-01",
                                      "source": "platform"},
                "interview_customer_focus": {"kind": "interview_rating", "ratings": {"a": 2 + i % 3, "b": 3},
                                             "source": "panel", "date": "2026-04-02"},
            }
            a = assess_candidate(store, c.id, jm, answers.iloc[[i]], evidence, as_of="2026-05-01", draws=500)
            ids.append(a.recommendation_id)
        review = Review(store)
        for i, rid in enumerate(ids[:6]):
            band = review.recommendation(rid).band
            if band == "review":
                review.decide(rid, "override", outcome="advance" if i % 2 else "not_advance",
                              reason="job_related_evidence", note="references checked", reviewer="jdoe",
                              role="hiring_manager")
            else:
                review.decide(rid, "accept", reviewer="jdoe", role="hiring_manager")
        first = review.latest_decision("cand-0001")
        contest = review.contest(first.id, statement="I have more experience", received_by="hr:kim",
                                 assign_to="asmith")
        review.decide_contest(contest.id, "override", outcome="not_advance" if first.outcome == "advance"
                              else "advance", reason="job_related_evidence", note="second look",
                              reviewer="asmith", role="psychologist")
    return path


@pytest.fixture()
def store(store_path):
    with Store(str(store_path), create=False) as opened:
        yield opened


def protected_values() -> list[str]:
    return [v for values in ATTRIBUTES.values() for v in values if v is not None]


def assert_no_protected_attribute(html: str) -> None:
    text = unescape(html)
    for value in protected_values():
        assert value not in text, f"protected value {value!r} in a report"
    for name in ATTRIBUTES:
        assert re.search(rf"\b{name}\b", text) is None, f"attribute name {name!r} in a report"


def test_case_from_store(store):
    case = case_from_store(store, "cand-0001")
    assert case.job_model_matches
    assert case.validity is not None and case.validity.verdict in ("valid", "questionable", "invalid")
    assert case.profile is not None and case.norms is not None and case.norms.n == 19_635
    assert case.review.decision is not None and case.review.contests
    assert case.review.contests[0].status == "decided" and case.review.contests[0].result == "changed"
    assert case.review.state == "decided after contest"
    undecided = case_from_store(store, f"cand-{N - 1:04d}")
    assert undecided.review.state == "awaiting review"


def test_no_protected_attribute_in_any_candidate_report(store):
    demographics = DemographicsVault(store).read(actor="test", purpose="check the test data")
    assert set(demographics.columns) == set(ATTRIBUTES)  # they are stored...
    for i in range(N):
        case = case_from_store(store, f"cand-{i:04d}")
        assert_no_protected_attribute(recruiter_report(case))  # ...and never shown
        assert_no_protected_attribute(candidate_report(case))
    assert_no_protected_attribute(cohort_report(cohort_from_store(store, "customer-support")))


def test_cohort_from_store(store):
    cohort = cohort_from_store(store, "customer-support")
    assert [e.candidate for e in cohort.entries] == [f"cand-{i:04d}" for i in range(N)]
    statuses = {e.candidate: e.status for e in cohort.entries}
    assert statuses[f"cand-{N - 1:04d}"] == "awaiting review"
    assert statuses["cand-0001"] in ("overridden", "outcome chosen", "accepted")
    assert cohort.oversight["by_reviewer"][0]["reviewer"] in ("asmith", "jdoe")
    assert json.loads(json.dumps(cohort.to_dict()))["job_model_id"] == "customer-support"


def test_unknown_candidate_or_model(store):
    with pytest.raises(ReportError, match="no recommendation"):
        cohort_from_store(store, "software-engineer")
    people = Candidates(store)
    people.register(actor="test", candidate_id="cand-without-results")
    with pytest.raises(ReportError, match="no recommendation"):
        case_from_store(store, "cand-without-results")


def test_the_reports_way_to_record_a_decision_works(store_path, tmp_path, capsys):
    """The commands and the API call in the recruiter report's "how to record your decision" box, run as shown
    (the reviewer's id, role and reason filled in) against copies of the store, record the decision."""
    import shlex
    import shutil

    from profiler.oversight.review import Review

    undecided = f"cand-{N - 1:04d}"
    with Store(str(store_path), create=False) as opened:
        html = recruiter_report(case_from_store(opened, undecided))
    box = re.search(r'<div class="callout" id="record">(.*?)</div>', html, flags=re.S).group(1)
    commands = [unescape(c) for c in re.findall(r"<dd><code>(.*?)</code>", box)]
    api = unescape(re.search(r"<pre><code>(.*?)</code></pre>", box, flags=re.S).group(1))
    assert commands and all(c.startswith(f"profiler review {undecided} ") for c in commands)
    fill = {"YOUR-ID": "jdoe", "YOUR-ROLE": "hiring_manager", "CODE": "job_related_evidence"}
    for k, command in enumerate(commands + [api]):
        copy = tmp_path / f"copy-{k}.db"
        shutil.copy(store_path, copy)
        for placeholder, value in fill.items():
            command = command.replace(placeholder, value)
        if command is api or command.startswith("from "):
            exec(compile(command.replace('"profiler.db"', repr(str(copy))), "<report>", "exec"), {})
        else:
            assert main(shlex.split(command)[1:] + ["--db", str(copy)]) == 0, capsys.readouterr().err
        with Store(str(copy), create=False) as opened:
            decision = Review(opened).latest_decision(undecided)
        assert decision is not None and decision.reviewer == "jdoe" and decision.role == "hiring_manager"
    capsys.readouterr()


# Commands ---------------------------------------------------------------------------------------------------
def test_report_candidate_command(store_path, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "candidate", "cand-0002", "--db", str(store_path), "--out", str(out),
                 "--actor", "recruiter:kim"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Recruiter report" in html and "cand-0002" in html
    assert "wrote" in capsys.readouterr().out
    assert main(["report", "candidate", "cand-0002", "--db", str(store_path), "--for", "candidate",
                 "--out", str(tmp_path / "c.html"), "--contact", "jobs@example.org"]) == 0
    assert "jobs@example.org" in (tmp_path / "c.html").read_text(encoding="utf-8")
    with Store(str(store_path), create=False) as store:
        logged = [e for e in AuditLog(store).entries(event="report.generated")]
    assert logged[-2].candidate == "cand-0002" and logged[-2].payload["report"] == "recruiter"
    assert logged[-1].payload["report"] == "candidate" and logged[-1].payload["sha256"].startswith("sha256:")


def test_report_candidate_unknown_id(store_path, tmp_path, capsys):
    assert main(["report", "candidate", "cand-9999", "--db", str(store_path), "--out", str(tmp_path / "x.html")]) == 2
    assert "no recommendation" in capsys.readouterr().err


def test_report_cohort_command(store_path, tmp_path):
    out = tmp_path / "cohort.html"
    assert main(["report", "cohort", "customer-support", "--db", str(store_path), "--out", str(out)]) == 0
    assert "cand-0000" in out.read_text(encoding="utf-8")


def test_audit_fairness_from_the_vault(store_path, tmp_path, capsys):
    assert main(["audit", "fairness", "customer-support", "--db", str(store_path), "--out", str(tmp_path),
                 "--date", "2026-06-01", "--actor", "auditor:lee"]) == 0
    html = (tmp_path / "fairness-customer-support-1.0.0-2026-06-01.html").read_text(encoding="utf-8")
    figures = json.loads((tmp_path / "fairness-customer-support-1.0.0-2026-06-01.json").read_text(encoding="utf-8"))
    assert figures["n"] == N and figures["summary"]["data_kind"] == "historical"
    assert {r["attribute"] for r in figures["nyc_summary"]} == {"sex", "race_ethnicity", "race_ethnicity x sex"}
    assert sum(u["n_unknown"] for u in figures["unknown"] if u["attribute"] == "race_ethnicity") == 3
    assert "Date the tool was first used" in html
    assert "lowest impact ratio" in capsys.readouterr().out
    with Store(str(store_path), create=False) as store:
        log = AuditLog(store)
        reads = [e for e in log.entries(event="demographics.read") if e.actor == "auditor:lee"]
        runs = [e for e in log.entries(event="audit.run") if e.actor == "auditor:lee"]
        assert reads and reads[-1].payload["purpose"] == "fairness audit of job model customer-support"
        assert runs[-1].payload["audit"] == "fairness" and runs[-1].payload["candidates"] == N
        assert runs[-1].payload["html_sha256"].startswith("sha256:")
        assert log.verify().ok


def test_audit_fairness_from_a_file_and_test_data(store_path, tmp_path, capsys):
    groups = pd.DataFrame({"candidate_id": [f"cand-{i:04d}" for i in range(N)],
                           "sex": ["F" if i % 2 else "M" for i in range(N)]})
    path = tmp_path / "groups.csv"
    groups.to_csv(path, index=False)
    assert main(["audit", "fairness", "customer-support", "--db", str(store_path), "--groups", str(path),
                 "--out", str(tmp_path), "--date", "2026-06-02", "--data-kind", "test"]) == 2
    assert "--data-reason" in capsys.readouterr().err
    assert main(["audit", "fairness", "customer-support", "--db", str(store_path), "--groups", str(path),
                 "--out", str(tmp_path), "--date", "2026-06-02", "--data-kind", "test",
                 "--data-reason", "the tool is not yet in use", "--first-used", "2026-01-05"]) == 0
    figures = json.loads((tmp_path / "fairness-customer-support-1.0.0-2026-06-02.json").read_text(encoding="utf-8"))
    assert figures["summary"]["data_reason"] == "the tool is not yet in use"
    assert figures["summary"]["first_used"] == "2026-01-05"
    assert figures["summary"]["groups_source"].startswith("file groups.csv (sha256:")
    assert {r["category"] for r in figures["nyc_summary"]} == {"F", "M"}


def test_a_recorded_model_that_is_not_bundled_must_be_given(store, tmp_path):
    from profiler.pipeline.cases import load_recorded_model

    with pytest.raises(ReportError, match="--job-model PATH"):
        load_recorded_model("no-such-model")
    assert main(["report", "cohort", "customer-support", "--db", store.name, "--out", str(tmp_path / "k.html"),
                 "--job-model", "software-engineer"]) == 2


def test_a_failing_audit_writes_nothing_and_never_overwrites(store_path, tmp_path, capsys):
    strangers = pd.DataFrame({"candidate_id": ["nobody-1", "nobody-2"], "sex": ["F", "M"]})
    path = tmp_path / "strangers.csv"
    strangers.to_csv(path, index=False)
    args = ["audit", "fairness", "customer-support", "--db", str(store_path), "--out", str(tmp_path / "audit"),
            "--date", "2026-06-03"]
    assert main([*args, "--groups", str(path)]) == 2
    assert "none of the" in capsys.readouterr().err and not (tmp_path / "audit").exists()
    assert main(args) == 0 and main(args) == 0  # the same day twice: a second pair of files, the first kept
    names = sorted(p.name for p in (tmp_path / "audit").iterdir())
    stem = "fairness-customer-support-1.0.0-2026-06-03"
    assert names == [f"{stem}-2.html", f"{stem}-2.json", f"{stem}.html", f"{stem}.json"]


def test_groups_file_from_a_spreadsheet_with_a_byte_order_mark(tmp_path):
    from profiler.pipeline.fairness_audit import read_group_labels

    path = tmp_path / "groups.csv"
    path.write_bytes("\ufeffcandidate_id,sex\ncand-0000,F\ncand-0001,\n".encode("utf-8"))
    groups, source = read_group_labels(path)
    assert source == f"file groups.csv (sha256:{hashlib.sha256(path.read_bytes()).hexdigest()})"
    assert groups.index.name == "candidate_id" and list(groups.columns) == ["sex"]
    assert groups.loc["cand-0000", "sex"] == "F" and pd.isna(groups.loc["cand-0001", "sex"])  # empty: unknown
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ReportError, match="cannot read the groups file"):
        read_group_labels(empty)


def test_audit_fairness_of_a_version_that_was_not_recorded(store_path, tmp_path, capsys):
    assert main(["audit", "fairness", "customer-support", "--db", str(store_path), "--out", str(tmp_path),
                 "--version", "9.9.9"]) == 2
    err = capsys.readouterr().err
    assert "no recommendation of customer-support version '9.9.9' is recorded; recorded versions: 1.0.0" in err
    assert main(["audit", "fairness", "customer-support", "--db", str(store_path), "--out", str(tmp_path),
                 "--version", "1.0.0", "--date", "2026-06-04"]) == 0
    assert (tmp_path / "fairness-customer-support-1.0.0-2026-06-04.json").exists()
