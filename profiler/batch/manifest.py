"""The run manifest: what a batch read, what scored it, how, and what came of it.

Every completed run writes ``<out>.manifest.json`` next to its output (the JSON of a
:class:`~profiler.store.records.StoredBatchRun`: input files and their SHA-256, the output and rejects files and
theirs, questionnaire, norm group or calibration, job model and the reference point of its contributions, engine,
counts, start and end) and, given a store,
appends the same record to its audit log (event ``batch.scored``), so a batch is as traceable as a single
assessment. A run that stopped at a bad chunk wrote nothing and records nothing.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from profiler.batch.options import ScoreOptions, ScoreRun
from profiler.batch.sources import Location, is_url, open_source
from profiler.canonical import canonical_json
from profiler.store import Store
from profiler.store.audit_log import AuditEvent, AuditLog
from profiler.store.records import BatchFile, BatchReference, StoredBatchRun

BLOCK = 1 << 20


def file_record(path: Location, hashed: dict[Path, tuple[str, int]] | None = None) -> BatchFile:
    """A file's place, SHA-256 and size: as hashed when it was read or written (``hashed``), else read in blocks."""
    where = str(path) if is_url(path) else str(Path(path).resolve())
    if hashed and path in hashed:
        sha256, size = hashed[path]
        return BatchFile(path=where, sha256=sha256, bytes=size)
    digest = hashlib.sha256()
    size = 0
    with open_source(path) as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
            size += len(block)
    return BatchFile(path=where, sha256=f"sha256:{digest.hexdigest()}", bytes=size)


def manifest_path(out: Path) -> Path:
    return out.with_name(out.name + ".manifest.json")


def run_record(run: ScoreRun, *, inputs: list[Location], outputs: list[Path], questionnaire: Any, norms: Any,
               calibration: Any, job_model: Any, options: ScoreOptions, engine: str, scheduler: str | None,
               started: datetime, finished: datetime,
               hashed: dict[Path, tuple[str, int]] | None = None) -> StoredBatchRun:
    """The typed record of a completed run (``hashed``: files already hashed, see :func:`file_record`)."""
    q = questionnaire.identity()
    jm = job_model.identity() if job_model is not None else {}
    ref = job_model.norm_reference if job_model is not None else None  # what evaluate_many measures against
    return StoredBatchRun(
        inputs=[file_record(p, hashed) for p in inputs], outputs=[file_record(p, hashed) for p in outputs],
        questionnaire_id=q["questionnaire_id"], questionnaire_version=q["questionnaire_version"],
        questionnaire_hash=q["content_hash"],
        norm_group=norms.name if norms is not None else None, norm_version=norms.version if norms is not None else None,
        norms_sha256=norms.sha256 if norms is not None else None,
        percentiles=options.percentiles if norms is not None else None,
        calibration_sha256=calibration.sha256 if calibration is not None else None,
        job_model_id=jm.get("job_model_id"), job_model_version=jm.get("job_model_version"),
        job_model_hash=jm.get("job_model_hash"),
        reference=BatchReference(kind=ref.kind, name=ref.description, sha256=ref.sha256) if ref else None,
        engine=engine, scheduler=scheduler, on_error=options.on_error,
        rows=run.rows, scored=run.scored, skipped=run.skipped, blank=run.blank, problems=run.problems,
        started=started, finished=finished,
    )  # fmt: skip


def write_manifest(out: Path, record: StoredBatchRun) -> Path:
    """``<out>.manifest.json``, written whole (through a temporary name)."""
    path = manifest_path(out)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(canonical_json(record.payload()) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def record_run(store: Store, record: StoredBatchRun, actor: str) -> int:
    """Append the run to the store's audit log; the entry's sequence number."""
    return AuditLog(store).append(AuditEvent.BATCH, record.payload(), actor=actor).seq


__all__ = ["file_record", "manifest_path", "record_run", "run_record", "write_manifest"]
