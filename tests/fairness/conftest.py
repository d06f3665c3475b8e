"""BIG5 pieces shared by the fairness tests: items with 0 (missed) as NaN, labelled groups, a subsample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import profiler

ITEMS = [f"{f}{i}" for f in "ENACO" for i in range(1, 11)]


@pytest.fixture(scope="session")
def big5(big5_raw) -> pd.DataFrame:
    """A seeded 3,000-row subsample: items (0 -> NaN), sex (male/female/other/NaN), native (yes/no/NaN)."""
    sample = big5_raw.sample(n=3000, random_state=20260101).reset_index(drop=True)
    out = sample[ITEMS].replace(0, np.nan).astype(float)
    out["sex"] = sample["gender"].map({1: "male", 2: "female", 3: "other"})
    out["native"] = sample["engnat"].map({1: "native", 2: "non-native"})
    return out


def _simulated_questionnaire(n_items: int = 8):
    """One trait of ``n_items`` items on 1-5, every third reverse keyed."""
    items = "\n".join(f"  - id: Q{i}\n    text: {{en: 'Statement {i}.'}}" for i in range(1, n_items + 1))
    keys = ", ".join(f"Q{i}" if i % 3 else f"-Q{i}" for i in range(1, n_items + 1))
    text = f"""
id: sim
version: "1"
title: {{en: Simulated}}
default_language: en
languages: {{en: {{status: original}}}}
defaults: {{response_format: agree5}}
response_formats:
  agree5:
    type: likert
    options:
      - {{value: 1, label: {{en: a}}}}
      - {{value: 2, label: {{en: b}}}}
      - {{value: 3, label: {{en: c}}}}
      - {{value: 4, label: {{en: d}}}}
      - {{value: 5, label: {{en: e}}}}
items:
{items}
scales:
  - id: Trait
    keys: [{keys}]
"""
    return profiler.parse_questionnaire(text)


@pytest.fixture(scope="session")
def simulated_questionnaire():
    """A function: the simulated questionnaire of n items (one trait, every third item reverse keyed)."""
    return _simulated_questionnaire
