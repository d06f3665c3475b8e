"""Job-model evaluation inside a batch: each chunk's good rows through :meth:`JobModel.evaluate_many`.

The trait inputs are the chunk's raw scale scores; evidence comes from columns of the responses file named as
the job model's inputs (``evidence.<id>``, and ``evidence.<id>.date`` / ``.raters`` / ``.expires``), when there
are any; an absent input is missing, as the job model's policy says. The output gains the columns of
``evaluate_many`` (band, score, contributions, stability, coverage, counterfactual distances...).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from profiler.batch.options import BatchError
from profiler.jobmodel import JobModel
from profiler.norms import NormTable
from profiler.questionnaire import Questionnaire

AUX = (".date", ".raters", ".expires")
TEXT_AUX = (".date", ".expires")


def as_of_date(value: Any) -> dt.date:
    """The evaluation date: today, or a date, datetime or ISO text (one date for the whole batch)."""
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise BatchError(f"as_of: {value!r} is not a date (YYYY-MM-DD)") from None


def evidence_columns(job_model: JobModel, header: list[str]) -> list[str]:
    """The header's columns that are inputs of the job model (or their dates, raters, expiry)."""
    evidence = [i for i in job_model.inputs if i.startswith("evidence.")]
    allowed = set(evidence) | {e + aux for e in evidence for aux in AUX}
    return [c for c in header if c in allowed]


def check_job_model(job_model: JobModel, questionnaire: Questionnaire, norms: NormTable | None) -> None:
    """The job model must read this questionnaire's content and place its traits against the same norms."""
    if job_model.questionnaire.content_hash != questionnaire.content_hash:
        raise BatchError(f"job model {job_model.id!r} reads questionnaire {job_model.questionnaire.id!r} "
                         f"({job_model.questionnaire.content_hash}), not this one ({questionnaire.content_hash})")
    if norms is None:
        raise BatchError(f"job model {job_model.id!r} reads trait scores placed against norm group "
                         f"{job_model.norms.name!r}: give those norms")
    if norms.sha256 != job_model.norms.sha256:
        raise BatchError(f"job model {job_model.id!r} uses norm group {job_model.norms.name!r} "
                         f"({job_model.norms.sha256}), but the profiles are placed against {norms.name!r} "
                         f"({norms.sha256}): score against the job model's norms")


class Evaluator:
    """Evaluates the good rows of a chunk: ``(scores, evidence table or None) -> evaluate_many's frame``."""

    def __init__(self, job_model: JobModel, evidence: list[str], as_of: dt.date):
        self.job_model, self.evidence, self.as_of = job_model, evidence, as_of
        self.traits = [i for i in job_model.inputs if i.startswith("trait.")]

    def __call__(self, scores: pd.DataFrame, evidence: Any = None) -> pd.DataFrame:
        frame = pd.DataFrame({t: scores[t.removeprefix("trait.")].to_numpy() for t in self.traits},
                             index=scores.index)
        if evidence is not None and self.evidence:
            for name in self.evidence:
                values = evidence.column(name).to_pylist()
                column = pd.Series(values, index=scores.index, dtype=object)
                if not name.endswith(TEXT_AUX):
                    numbers = pd.to_numeric(column, errors="coerce")
                    given = column.notna() & (column.astype(str).str.strip() != "")
                    if not (numbers.notna() | ~given).all():
                        raise BatchError(f"{name}: {int((numbers.isna() & given).sum())} value(s) are not numbers")
                    column = numbers.astype(float)
                frame[name] = column
        result = self.job_model.evaluate_many(frame, as_of=self.as_of)
        return result.reset_index(drop=True).set_axis(np.arange(len(result)))


__all__ = ["Evaluator", "as_of_date", "check_job_model", "evidence_columns"]
