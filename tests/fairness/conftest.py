"""BIG5 pieces shared by the fairness tests: items with 0 (missed) as NaN, labelled groups, a subsample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

ITEMS = [f"{f}{i}" for f in "ENACO" for i in range(1, 11)]


@pytest.fixture(scope="session")
def big5(big5_raw) -> pd.DataFrame:
    """A seeded 3,000-row subsample: items (0 -> NaN), sex (male/female/other/NaN), native (yes/no/NaN)."""
    sample = big5_raw.sample(n=3000, random_state=20260101).reset_index(drop=True)
    out = sample[ITEMS].replace(0, np.nan).astype(float)
    out["sex"] = sample["gender"].map({1: "male", 2: "female", 3: "other"})
    out["native"] = sample["engnat"].map({1: "native", 2: "non-native"})
    return out
