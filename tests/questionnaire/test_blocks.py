"""Scoring reads every numeric table the same way: numpy and pandas dtypes, nullable and Arrow-backed columns and
2-D numpy arrays give exactly the scores and counts of the general (column by column, float) path, and the same
errors; formats that are not integer-coded take that path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import profiler
from profiler.errors import ResponseError
from profiler.questionnaire import blocks, fused
from profiler.questionnaire import numeric
from profiler.questionnaire.blocks import code_plan
from profiler.questionnaire.numeric import column_as_float, numeric_source
from profiler.questionnaire.scoring import score_and_count, score_answers, score_responses, validate_responses

MINI = Path(__file__).parents[1] / "fixtures" / "questionnaires" / "mini.yaml"
def _whole(frame: pd.DataFrame) -> pd.DataFrame:
    """Fractions and huge numbers (which 16-bit integer columns cannot hold) replaced by another invalid answer."""
    return frame.mask(frame.notna() & ((frame % 1 != 0) | (frame.abs() > 30_000)), 7.0)


def _byte(frame: pd.DataFrame) -> pd.DataFrame:
    """As :func:`_whole`, and answers that a byte cannot hold replaced by another invalid one that it can."""
    frame = _whole(frame)
    return frame.mask(frame.abs() > 100, -100.0)


CONVERSIONS = {
    "float64": lambda f: f,
    "int8": lambda f: _byte(f).fillna(0).astype(np.int8),  # no blanks in numpy integers: 0 is an invalid answer
    "uint8": lambda f: _byte(f).abs().fillna(0).astype(np.uint8),
    "int16": lambda f: _whole(f).fillna(-3).astype(np.int16),
    "Int8": lambda f: _byte(f).astype("Int8"),
    "UInt8": lambda f: _byte(f).abs().astype("UInt8"),
    "int8[pyarrow]": lambda f: _byte(f).astype("Int8").astype("int8[pyarrow]"),
    "numpy int8": lambda f: _byte(f).fillna(0).to_numpy().astype(np.int8),
    "numpy float64, row-major": lambda f: np.ascontiguousarray(f.to_numpy()),
    "float32": lambda f: f.mask(f.abs() > 1e30, np.inf).astype(np.float32),  # what float32 makes of 1e300
    "Float64": lambda f: f.astype("Float64"),
    "Int16": lambda f: _whole(f).astype("Int16"),
    "double[pyarrow]": lambda f: f.astype("double[pyarrow]"),
    "int16[pyarrow]": lambda f: _whole(f).astype("Int16").astype("int16[pyarrow]"),
    "numpy": lambda f: f.to_numpy(),
    # nullable and Arrow float columns keep a number under their missing cells: an answer there is no answer
    "Float64, answers under NA": lambda f: pd.DataFrame(
        {c: pd.arrays.FloatingArray(f[c].fillna(3.0).to_numpy(), f[c].isna().to_numpy()) for c in f.columns}),
    "double[pyarrow], answers under nulls": lambda f: pd.DataFrame(
        {c: pd.arrays.ArrowExtensionArray(pa.array(f[c].fillna(1.0).to_numpy(), mask=f[c].isna().to_numpy()))
         for c in f.columns}),
    "numpy float64, every other row of a taller array": lambda f: np.repeat(f.to_numpy(), 2, axis=0)[::2],
    "big-endian float64": lambda f: f.astype(">f8"),
    "mixed": lambda f: _whole(f).astype({c: ("Int16" if i % 3 == 0 else "float64[pyarrow]" if i % 3 == 1 else float)
                                 for i, c in enumerate(f.columns)}),
}


@pytest.fixture(scope="module")
def mini():
    return profiler.load_questionnaire(MINI)


def _general(questionnaire, frame, invalid):
    return score_answers(questionnaire, validate_responses(questionnaire, frame, invalid=invalid))


NEAR = 3.0000000000000004  # the next float after 3: not an answer (nor is 3 + that difference for a 0..50 item)
CELLS = st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 3.0, 5.0, np.nan, 0.0, 6.0, 2.5, -1.0, 300.0, NEAR, 256.0,
                         np.inf, -np.inf, -0.0, 255.0, np.nextafter(5.0, 0), 1e300])
ANSWERS = st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0, np.nan])  # valid or blank: the coded path answers
BLANKS = st.sampled_from([np.nan, np.nan, np.nan, np.nan, 1.0, 5.0, 0.0, NEAR])  # mostly blank, some invalid
TENURES = st.sampled_from([0.0, 12.0, 50.0, np.nan, 51.0, NEAR, np.nextafter(1.0, 0), -0.0, -1.0, 12.5])


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_dtype_scores_as_the_general_path(mini, data):
    n = data.draw(st.integers(1, 30))
    with pytest.MonkeyPatch.context() as patch:
        rows = data.draw(st.sampled_from([4, 7, 8192]))  # chunks (and row blocks) of a few rows too
        patch.setattr(blocks, "CHUNK_ROWS", rows)
        patch.setattr(blocks, "ROW_BLOCK", data.draw(st.sampled_from([3, 2048])))
        patch.setattr(numeric, "SMALL_ROWS", data.draw(st.sampled_from([0, 0, 1024])))  # by columns, or one copy
        patch.setattr(blocks, "FUSED_ROWS", data.draw(st.sampled_from([0, 8192])))  # chunks long enough for...
        patch.setenv(fused.MODE_VARIABLE, data.draw(st.sampled_from(["always", "never"])))  # ... compiled loops
        _compare_with_the_general_path(mini, data, n)


def _compare_with_the_general_path(mini, data, n):
    columns = mini.item_ids
    cells = data.draw(st.sampled_from([CELLS, ANSWERS, BLANKS]))
    values = np.array([[data.draw(cells) for _ in columns] for _ in range(n)])
    values[:, columns.index("TEN")] = data.draw(st.lists(TENURES, min_size=n, max_size=n))
    frame = pd.DataFrame(values, columns=columns)
    name = data.draw(st.sampled_from(sorted(CONVERSIONS)))
    table = CONVERSIONS[name](frame)
    if name in ("Int16", "int16[pyarrow]", "mixed"):
        frame = _whole(frame)
    elif name == "float32":
        frame = table.astype(float)  # what the table holds (3.0000000000000004 is 3 in float32)
    elif name in ("int8", "uint8", "int16", "Int8", "UInt8", "int8[pyarrow]", "numpy int8"):
        frame = pd.DataFrame(table.astype(float) if isinstance(table, np.ndarray) else
                             table.astype("float64").to_numpy(), columns=columns)  # what the table holds
    if isinstance(table, pd.DataFrame) and data.draw(st.booleans()):  # items on one format: codes 1..5 in place
        table, frame = table.drop(columns="TEN"), frame.drop(columns="TEN")
        assert code_plan(mini.scoring_plan, list(frame.columns)).uniform == (0, 5)
    for invalid in ("missing", "allow-unanswered", "raise"):
        try:
            expected = _general(mini, frame, invalid)
        except ResponseError as exc:
            with pytest.raises(ResponseError) as caught:
                score_and_count(mini, table, invalid=invalid)
            assert [(p.position, p.item, p.message) for p in caught.value.problems] == \
                [(p.position, p.item, p.message) for p in exc.problems]
            continue
        scores, counts = score_and_count(mini, table, invalid=invalid)
        np.testing.assert_array_equal(scores.to_numpy(), expected[0].to_numpy())
        np.testing.assert_array_equal(counts.to_numpy(), expected[1].to_numpy())
        assert scores.attrs == expected[0].attrs and counts.attrs == expected[1].attrs
        alone = score_responses(mini, table, invalid=invalid)  # scores without counts: the same scores
        np.testing.assert_array_equal(alone.to_numpy(), expected[0].to_numpy())
        assert alone.attrs == expected[0].attrs and list(alone.columns) == list(expected[0].columns)


def test_integer_codes_are_used_where_formats_allow(mini):
    assert code_plan(mini.scoring_plan, mini.item_ids) is not None
    ipip = profiler.load_questionnaire("ipip-bfm-50")
    answers = profiler.simulate_responses(ipip, 50, seed=1).astype(np.int8)
    assert numeric_source(answers) is not None
    assert numeric_source(answers.astype(str)) is None  # text: the general path words every problem
    scores = ipip.score(answers)
    expected = _general(ipip, answers.astype(float), "raise")[0]
    np.testing.assert_array_equal(scores.to_numpy(), expected.to_numpy())


def test_numpy_arrays_name_their_shape(mini):
    with pytest.raises(ValueError, match="one column per item of 'team-climate-mini' \\(8, in item order\\)"):
        mini.score(np.ones((3, 4)))
    with pytest.raises(TypeError, match="DataFrame or a 2-D numpy array"):
        mini.score([[1, 2]])


def test_column_as_float_reads_missing_values(mini):
    column = pd.Series([1, None, 3], dtype="Int8")
    np.testing.assert_array_equal(column_as_float(column), [1.0, np.nan, 3.0])
    np.testing.assert_array_equal(column_as_float(column.astype("int8[pyarrow]")), [1.0, np.nan, 3.0])
    np.testing.assert_array_equal(column_as_float(pd.Series(["1", None])), [1.0, np.nan])
