"""The reference point of an explanation: the background against which contributions are measured.

A contribution says how far one criterion puts the candidate above or below a reference, in score points:
``c_i (u_i(x_i) - r_i)`` with ``r_i`` the reference's (mean) utility of criterion i; the reference's score
is the base value. The score and the band do not depend on the reference; the contributions' signs and
sizes do. Three references are offered:

- ``norm_group`` (the default): the average candidate, every input at its norm mean (trait scales at the
  means of the job model's norm group, evidence at the means or base rates the model declares);
- ``cohort``: the candidates evaluated together (an applicant pool); ``r_i`` is the mean utility over the
  cohort, the base value its mean score: interventional SHAP with the cohort as background, exactly what
  ``shap.LinearExplainer`` gives with ``shap.maskers.Independent(cohort, max_samples=len(cohort))``;
- ``declared``: one reference candidate whose input values are given, with a description of who that is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from profiler.canonical import canonical_json, sha256_text, to_plain

WHY = ("Contributions are measured from this reference: + means above it on that criterion, - below; against "
       "another reference (say, this round's applicants) they change sign and size, while the score and the band "
       "stay the same.")


@dataclass(frozen=True)
class ReferencePoint:
    """The background of the SHAP contributions (see the module docstring).

    ``values`` (one per input of the compiled model) are the reference's input values (the cohort's means
    for a cohort), ``utility`` its mean utility per criterion, ``base_value`` its mean score.
    """

    kind: Literal["norm_group", "cohort", "declared"]
    description: str
    values: np.ndarray
    utility: np.ndarray
    base_value: float
    n: int | None = None

    @property
    def why(self) -> str:
        return WHY

    @property
    def sentence(self) -> str:
        """``Reference point: ... (base value 56.1).``"""
        return f"relative to {self.description} (base value {self.base_value:.1f})"

    @property
    def sha256(self) -> str:
        """``sha256:<hex>`` of what the contributions are measured against: the reference's input values, its
        utility per criterion and its base value (exact floats, canonical JSON)."""
        return sha256_text(canonical_json({"values": self.values, "utility": self.utility,
                                           "base_value": self.base_value}, where="reference"))

    def to_dict(self) -> dict[str, Any]:
        return to_plain({"kind": self.kind, "description": self.description, "base_value": self.base_value,
                         "n": self.n, "why": self.why}, "reference")


__all__ = ["WHY", "ReferencePoint"]
