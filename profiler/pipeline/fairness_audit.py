"""Running a recorded fairness audit of a job model: the one place where demographics meet outcomes.

:func:`run_fairness_audit` takes the latest recommendation (and the reviewer's outcome, once decided) of
each candidate assessed with a job model, joins the group labels — given explicitly, or read from the
store's :class:`~profiler.oversight.candidates.DemographicsVault` with the purpose logged — computes the
adverse-impact figures (:func:`profiler.fairness.fairness_audit`), writes the report (rendered by the
``render`` it is given: :func:`profiler.reports.fairness_report` for the HTML page) and a JSON of every figure,
and records the audit in the audit log (:class:`~profiler.store.records.StoredFairnessAudit`) with the SHA-256
of both files. :func:`profiler.reports.write_fairness_audit` is the call with the standard report. Scoring never
passes through here.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from profiler.canonical import sha256_bytes, sha256_text
from profiler.files import read_capped
from profiler.fairness.audit import AuditSummary, FairnessAudit, FairnessAuditError, fairness_audit
from profiler.oversight.candidates import DemographicsVault
from profiler.oversight.review import Review
from profiler.pipeline.cases import ReportError, review_status
from profiler.store import Store
from profiler.store.audit_log import AuditEvent, AuditLog
from profiler.store.records import StoredFairnessAudit

MAX_GROUPS_BYTES = 64 * 1024 * 1024  # a groups file has a short line per candidate


@dataclass(frozen=True)
class FairnessAuditRun:
    """Where an audit was written and how it was logged."""

    html_path: Path
    json_path: Path
    log_seq: int
    candidates: int
    minimum_impact_ratios: dict[str, float | None]


def _write_new(path: Path, text: str) -> None:
    """Write a file that did not exist, through a temporary name, so that no earlier audit is overwritten and
    no half-written report is left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _free_stem(folder: Path, stem: str) -> str:
    """``stem``, or ``stem-2``, ``stem-3``... when an audit of the same day is there already."""
    candidate, n = stem, 1
    while (folder / f"{candidate}.html").exists() or (folder / f"{candidate}.json").exists():
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def read_group_labels(path: str | Path) -> tuple[pd.DataFrame, str]:
    """Group labels from a CSV, and where they came from (the file's name and SHA-256, for the report).

    The candidate column is ``candidate`` or ``candidate_id`` (else the first column); every other column is an
    attribute (e.g. ``sex``). An empty cell is an unknown category.

    Raises
    ------
    ReportError
        The file cannot be read, has no attribute column, or lists a candidate twice.
    """
    path = Path(path)
    data = read_capped(path, MAX_GROUPS_BYTES, lambda message: ReportError(f"the groups file {path}: {message}"))
    try:
        # utf-8-sig: spreadsheet programs put a byte-order mark before the first column name
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise ReportError(f"cannot read the groups file {path}: {exc}") from None
    if frame.shape[1] < 2:
        raise ReportError(f"{path}: expected a candidate column and at least one attribute column (e.g. sex)")
    key = next((c for c in ("candidate", "candidate_id") if c in frame.columns), frame.columns[0])
    if frame[key].duplicated().any():
        raise ReportError(f"{path}: candidate {frame[key][frame[key].duplicated()].iloc[0]!r} is listed twice")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.set_index(key.strip())
    frame.index.name = "candidate_id"
    labels = frame.where(frame.apply(lambda col: col.str.strip() != ""), None)  # empty cell: unknown
    return labels, f"file {path.name} ({sha256_bytes(data)})"


def recorded_versions(store: Store, job_model: str) -> list[str]:
    """The versions of ``job_model`` that produced a recorded recommendation, in the order first recorded."""
    return list(dict.fromkeys(r.job_model_version for r in Review(store).recommendations(job_model=job_model)))


def compute_fairness_audit(
    store: Store,
    job_model: str,
    *,
    actor: str,
    groups: pd.DataFrame | None = None,
    groups_source: str | None = None,
    audit_date: dt.date | None = None,
    data_kind: str = "historical",
    data_reason: str | None = None,
    first_used: dt.date | None = None,
    auditor: str | None = None,
    version: str | None = None,
    purpose: str | None = None,
) -> FairnessAudit:
    """The figures of a fairness audit of ``job_model``'s recorded recommendations, written nowhere.

    The parameters are those of :func:`run_fairness_audit` (which writes and logs the audit from this), and
    ``purpose``: what the read of the demographics vault is logged as (default: "fairness audit of job model
    ID"). Reading the vault is logged even though nothing else is: the workspace shows an audit this way.

    Raises
    ------
    FairnessAuditError
        No recommendation of that model (version), or no group label for any of its candidates.
    """
    audit_date = audit_date or dt.date.today()
    review = Review(store)
    recorded = review.recommendations(job_model=job_model)
    if not recorded:
        raise FairnessAuditError(f"no recommendation is recorded for job model {job_model!r} in {store.name}")
    version = version or recorded[-1].job_model_version
    versions = sorted({r.job_model_version for r in recorded})
    recorded = [r for r in recorded if r.job_model_version == version]
    if not recorded:
        raise FairnessAuditError(f"no recommendation of {job_model} version {version!r} is recorded; recorded "
                                 f"versions: {', '.join(versions)}")
    latest = {r.candidate: r for r in recorded}  # oldest first: each candidate's latest recommendation stays
    rows = {}
    for candidate, r in latest.items():
        current = review_status(review, r.id, candidate).current
        rows[candidate] = {"band": r.band, "score": r.score,
                           "outcome": None if current is None else current.outcome}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    if groups is None:
        purpose = purpose or f"fairness audit of job model {job_model}"
        groups = DemographicsVault(store).read(actor=actor, purpose=purpose, candidates=list(frame.index))
        groups_source = "the store's demographics vault (self-reported categories; the read is logged)"
    if groups.shape[1] == 0:
        raise FairnessAuditError("no group labels: give them explicitly or record demographics in the store")
    labelled = frame.index.intersection(groups.index)
    if len(labelled) == 0:
        raise FairnessAuditError(f"none of the {len(frame)} candidates assessed with {job_model} {version} has a "
                                 f"group label (the labels name {len(groups)} other candidates)")
    newest = recorded[-1]
    first, last = min(r.recorded_at for r in recorded), max(r.recorded_at for r in recorded)
    summary = AuditSummary(
        audit_date=audit_date,
        data_source=(f"profiler store {store.name}: the latest recommendation of each of {len(frame)} candidates "
                     f"assessed with job model {job_model}, recorded {first:%Y-%m-%d} to {last:%Y-%m-%d}"),
        data_kind=data_kind, data_reason=data_reason, job_model_id=job_model,
        job_model_version=newest.job_model_version, job_model_hash=newest.job_model_hash,
        groups_source=groups_source or "group labels given by the caller", first_used=first_used or first.date(),
        auditor=auditor)
    return fairness_audit(frame, groups, summary)


def run_fairness_audit(
    store: Store,
    job_model: str,
    out_dir: Path,
    *,
    actor: str,
    render: Callable[[FairnessAudit], str],
    **options: Any,
) -> FairnessAuditRun:
    """Audit the recorded recommendations of ``job_model`` for adverse impact and log the audit.

    Parameters
    ----------
    store : Store
    job_model : str
        Id of the job model whose recommendations are audited.
    out_dir : Path
        Folder for ``fairness-<model>-<date>.html`` and ``.json``.
    actor : str
        Who runs the audit (logged, also with the demographics read).
    groups : DataFrame, optional
        Group labels indexed by candidate id, one column per attribute (e.g. ``sex``, ``race``); None reads
        them from the store's demographics vault.
    groups_source : str, optional
        Where explicit ``groups`` came from (a file and its hash), for the report.
    data_kind, data_reason : str
        ``historical`` or ``test`` data (NYC LL 144 asks for the reason when test data are used).
    version : str, optional
        The job-model version audited (an audit covers one version); default: the newest one recorded.
    render : callable
        The audit as an HTML page (:func:`profiler.reports.fairness_report`).
    **options
        ``groups``, ``groups_source``, ``audit_date``, ``data_kind``, ``data_reason``, ``first_used``, ``auditor``,
        ``version``, ``purpose``: as described here and in :func:`compute_fairness_audit`.

    Raises
    ------
    FairnessAuditError
        No recommendation of that model (version), or no group label for any of its candidates. Nothing is
        written or logged then; an earlier audit's files are never overwritten.
    """
    # Everything is computed before anything is written: a failing audit leaves no files and no log entry.
    audit = compute_fairness_audit(store, job_model, actor=actor, **options)
    summary = audit.summary
    version, audit_date = summary.job_model_version, summary.audit_date
    html = render(audit)
    figures = json.dumps(audit.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    html_digest, json_digest = sha256_text(html), sha256_text(figures)
    minimum = {f"{o} / {a}": v for (o, a), v in audit.selection.minimum_ratio().items()}
    minimum.update({f"{o} / {a}": v for (o, a), v in audit.scoring.minimum_ratio().items()})
    folder = Path(out_dir)
    stem = _free_stem(folder, f"fairness-{job_model}-{version}-{audit_date.isoformat()}")
    html_path, json_path = folder / f"{stem}.html", folder / f"{stem}.json"
    _write_new(html_path, html)
    _write_new(json_path, figures)
    entry = AuditLog(store).append(AuditEvent.AUDIT, StoredFairnessAudit(
        audit="fairness", job_model_id=job_model, job_model_version=version,
        job_model_hash=summary.job_model_hash, audit_date=audit_date.isoformat(), candidates=audit.n,
        data_kind=summary.data_kind, groups_source=summary.groups_source, minimum_impact_ratios=minimum,
        html_sha256=html_digest, json_sha256=json_digest).payload(), actor=actor)
    return FairnessAuditRun(html_path, json_path, entry.seq, audit.n, minimum)


__all__ = ["FairnessAuditError", "FairnessAuditRun", "compute_fairness_audit", "read_group_labels", "recorded_versions",
           "run_fairness_audit"]
