"""The batch path (profiler.batch.score_file) against the single one: for any file of answers, good rows,
bad rows and blanks mixed, in any chunking, the rows written are the trait profiles of the good rows as
trait_profiles computes them, and the rows rejected are exactly those validate_responses refuses, with its
words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import profiler
from profiler.errors import ResponseError
from profiler.norms import build_norms, trait_profiles
from profiler.batch import BatchError, ScoreOptions, score_file
from profiler.questionnaire.scoring import validate_responses
from profiler.simulation import simulate_responses

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "questionnaires" / "mini.yaml"


@pytest.fixture(scope="module")
def mini():
    return profiler.load_questionnaire(MINI)


@pytest.fixture(scope="module")
def norms(mini):
    sample = simulate_responses(mini, 400, seed=4)
    return build_norms(mini, sample, name="pilot", version="0.1", title="pilot", population="p", collected="c",
                       sampling="s", source="simulation", scales=["Voice", "Trust", "Climate"])


# A cell: a valid answer (most of the time), a blank, a value out of range, or text.
CELL = st.sampled_from(["1", "2", "3", "4", "5", "", "9", "often", "2.5"])


@st.composite
def answer_files(draw, items: list[str]):
    n = draw(st.integers(min_value=1, max_value=25))
    rows = []
    for _ in range(n):
        bad = draw(st.booleans()) and draw(st.booleans())  # about a quarter of the rows get a drawn cell
        row = {item: draw(st.sampled_from(["1", "2", "3", "4", "5"])) for item in items}
        if bad:
            row[draw(st.sampled_from(items))] = draw(CELL)
        rows.append(row)
    return pd.DataFrame(rows, columns=items), draw(st.integers(min_value=1, max_value=7))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_batch_equals_the_single_path(mini, norms, tmp_path_factory, data):
    items = [i for i in mini.item_ids if i != "TEN"]
    frame, chunk = data.draw(answer_files(items))
    # Tenure in years (0-50, optional): blank, valid or out of range
    frame["TEN"] = data.draw(st.lists(st.sampled_from(["", "0", "3", "50", "60"]), min_size=len(frame),
                                      max_size=len(frame)))
    folder = tmp_path_factory.mktemp("batch")
    frame.insert(0, "who", [f"p{i}" for i in range(len(frame))])
    source = data.draw(st.sampled_from(["csv", "parquet text", "parquet numbers"]))
    out_format = data.draw(st.sampled_from(["csv", "parquet"]))
    if source == "csv":
        path = folder / "answers.csv"
        frame.to_csv(path, index=False)
    else:
        path = folder / "answers.parquet"
        stored = frame.replace("", None)
        if source == "parquet numbers":  # numbers of any stored type: text cannot be stored, so it becomes 9
            items = stored.columns[1:]
            stored[items] = stored[items].replace("often", "9").apply(pd.to_numeric)
            dtype = data.draw(st.sampled_from(["float64", "Float32", "Int16", "int16[pyarrow]", "double[pyarrow]"]))
            if "Int" in dtype or "int" in dtype:
                stored[items] = stored[items].mask(stored[items] % 1 != 0, 9.0)
            stored = stored.astype({c: dtype for c in items})
        stored.to_parquet(path, index=False)
    out = folder / f"out.{out_format}"
    run = score_file(mini, norms, path, out, ScoreOptions(id_column="who", on_error="skip",
                                                          rejects=folder / "rejects.csv", chunk_size=chunk,
                                                          output_format=out_format))
    if source == "csv":
        raw = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("who")
        numeric = raw.replace("", np.nan)
    else:
        numeric = pd.read_parquet(path).set_index("who").astype(object)
        numeric = numeric.where(numeric.notna(), np.nan)
        if source == "parquet numbers":
            numeric = numeric.astype(float)
    bad, messages = [], []
    for who, row in numeric.iterrows():
        try:
            validate_responses(mini, row.to_frame().T, invalid="raise")
        except ResponseError as exc:
            bad.append(who)
            messages += [p.message for p in exc.problems]
    good = [w for w in numeric.index if w not in bad]
    assert (run.rows, run.scored, run.skipped) == (len(frame), len(good), len(bad))
    rejects = pd.read_csv(folder / "rejects.csv", dtype=str, keep_default_na=False)
    assert list(rejects["who"]) == bad
    assert sorted(m for text in rejects["problems"] for m in _words(text)) == sorted(messages)
    written = (pd.read_csv(out) if out_format == "csv" else pd.read_parquet(out)).set_index("who")
    assert list(written.index) == good
    position = "line" if source == "csv" else "row"
    assert rejects.columns[1] == position and written.columns[0] == position
    if good:
        answers = numeric.loc[good].apply(pd.to_numeric)
        expected = trait_profiles(mini, answers, norms)
        for scale in ("Voice", "Trust", "Climate"):
            for measure, decimals in (("raw", 4), ("T", 2), ("percentile", 2), ("sem", 4)):
                np.testing.assert_allclose(written[f"{scale}.{measure}"].to_numpy(dtype=float),
                                           expected[(scale, measure)].to_numpy(dtype=float).round(decimals),
                                           atol=1e-9, equal_nan=True)


def _words(problems: str) -> list[str]:
    """The problem words of a rejects cell ``item 'X': message: value; item 'Y': ...``."""
    out = []
    for part in problems.split("; item "):
        message = part.split(": ", 1)[1]
        for known in ("required item not answered", "not a number"):
            if message.startswith(known):
                message = known
        if message.startswith("not an answer of this item"):
            message = message[: message.index(")") + 1]
        out.append(message)
    return out


def test_options_are_checked_for_library_callers(mini, norms, tmp_path):
    with pytest.raises(BatchError, match="at least 1"):
        ScoreOptions(chunk_size=0)
    with pytest.raises(BatchError, match="rejects only apply when bad rows are skipped"):
        ScoreOptions(rejects=tmp_path / "r.csv")
    with pytest.raises(BatchError, match="one character"):
        ScoreOptions(sep=";;")
    assert ScoreOptions(sep="\\t").sep == "\t"
    with pytest.raises(BatchError, match="no such file"):
        score_file(mini, norms, tmp_path / "absent.csv", tmp_path / "out.csv")
    path = tmp_path / "a.csv"
    path.write_text("S1,S2\n1,2\n", encoding="utf-8")
    with pytest.raises(BatchError, match="must not be the responses file"):
        score_file(mini, norms, path, path)
    with pytest.raises(BatchError, match="required item\\(s\\) missing from the header: S3, T1, T2"):
        score_file(mini, norms, path, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.csv.partial").exists()


def test_the_old_location_warns_and_forwards():
    import profiler.batch
    import profiler.pipeline.batch as old

    with pytest.warns(DeprecationWarning, match="profiler.pipeline.batch.score_file moved to profiler.batch"):
        assert old.score_file is profiler.batch.score_file
