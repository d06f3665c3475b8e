"""The versions of a job model a store knows: each one that produced a recorded recommendation (its exact
content, kept under its hash in the store's ``job_models`` table), and the bundled definition of today.

Read only; :func:`profiler.jobmodel.diff.job_model_diff` compares two of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from profiler.canonical import canonical_json, sha256_text
from profiler.errors import ProfilerError
from profiler.jobmodel import load_job_model
from profiler.store import Store
from profiler.store.tables import job_models


@dataclass(frozen=True)
class JobModelVersion:
    """One version's content: ``document`` is the job model's specification as hashed (``content_hash``)."""

    job_model_id: str
    version: str
    content_hash: str
    document: dict[str, Any]
    recorded_at: datetime | None  # when it first produced a recorded recommendation; None if it never did
    bundled: bool  # the definition bundled with this profiler

    @property
    def hash_checked(self) -> bool:
        """Whether the content still hashes to ``content_hash`` (the store's copy was not edited)."""
        return sha256_text(canonical_json(self.document)) == self.content_hash

    @property
    def label(self) -> str:
        where = ", ".join([*(["recorded"] if self.recorded_at is not None else []), *(["bundled"] if self.bundled
                                                                                        else [])])
        return f"{self.version} ({where}) {self.content_hash[:19]}\u2026"  # sha256: and 12 hex digits


def job_model_versions(store: Store, job_model_id: str) -> list[JobModelVersion]:
    """Every version of ``job_model_id`` recorded in ``store``, oldest first, then the bundled one (once: a
    recorded version with the bundled content is marked bundled)."""
    query = (select(job_models.c.content_hash, job_models.c.version, job_models.c.document, job_models.c.stored_at)
             .where(job_models.c.job_model_id == job_model_id).order_by(job_models.c.stored_at))
    with store.read() as connection:
        rows = connection.execute(query).all()
    try:
        bundled = load_job_model(job_model_id)
    except ProfilerError:
        bundled = None
    found = [JobModelVersion(job_model_id, row.version, row.content_hash, json.loads(row.document), row.stored_at,
                             bundled is not None and row.content_hash == bundled.content_hash) for row in rows]
    if bundled is not None and not any(v.bundled for v in found):
        found.append(JobModelVersion(job_model_id, bundled.version, bundled.content_hash,
                                     bundled.spec.model_dump(mode="json"), None, True))
    return found


__all__ = ["JobModelVersion", "job_model_versions"]
