"""A loaded job model: its criteria, inputs and identity (evaluation lives in its own modules)."""

from __future__ import annotations

import hashlib
import json
from functools import cached_property

from profiler.jobmodel.model import Criterion, JobModelSpec
from profiler.questionnaire.questionnaire import Questionnaire


class JobModel:
    """A validated job model bound to its questionnaire.

    Build one with :func:`profiler.load_job_model`. Immutable; :attr:`content_hash` identifies the
    normalized content so that every recommendation records exactly which model produced it.
    """

    def __init__(self, spec: JobModelSpec, questionnaire: Questionnaire, source: str = "<string>"):
        self.spec = spec
        self.questionnaire = questionnaire
        self.source = source

    def __repr__(self) -> str:
        return (f"JobModel(id={self.id!r}, version={self.version!r}, criteria={len(self.criteria)}, "
                f"hash={self.content_hash[:19]}...)")

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def criteria(self) -> list[Criterion]:
        return list(self.spec.criteria)

    @cached_property
    def content_hash(self) -> str:
        """``sha256:<hex>`` of the normalized content (defaults filled in, keys sorted)."""
        canonical = json.dumps(self.spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False)
        return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def identity(self) -> dict[str, str]:
        """What a recommendation records about the model and its questionnaire."""
        return {"job_model_id": self.id, "job_model_version": self.version, "job_model_hash": self.content_hash,
                **self.questionnaire.identity()}

    @cached_property
    def inputs(self) -> list[str]:
        """The inputs the model declares (``trait.X``, ``evidence.Y``), in criterion order, each once."""
        return list(dict.fromkeys(c.input for c in self.spec.criteria))

    @cached_property
    def evidence_specs(self) -> dict:
        """Declared evidence by id: the only evidence this model accepts."""
        return {e.id: e for e in self.spec.evidence}
