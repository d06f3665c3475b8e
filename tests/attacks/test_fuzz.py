"""Fuzzing: whatever bytes a user gives the YAML loader, the questionnaire and job-model loaders, or the CSV
readers (batch scoring, the fairness audit's groups file), the answer is a result or a ProfilerError, never a
traceback.

The budget is fixed (``PROFILER_FUZZ_EXAMPLES`` examples per test, 150 by default) and the examples are
derandomized, so a CI run is reproducible and takes the same time; raise the number to fuzz longer locally.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import profiler
from profiler.errors import ProfilerError
from profiler.norms import build_norms
from profiler.batch import BatchError, ScoreOptions, score_file
from profiler.pipeline.fairness_audit import read_group_labels
from profiler.simulation import simulate_responses
from profiler.yamlsource import YamlSourceError, parse_yaml

EXAMPLES = int(os.environ.get("PROFILER_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
ROOT = Path(__file__).parents[2]
MINI = (ROOT / "tests" / "fixtures" / "questionnaires" / "mini.yaml").read_text(encoding="utf-8")
JOB = (ROOT / "models" / "jobs" / "customer-support.yaml").read_text(encoding="utf-8")

# Pieces YAML is made of, and values that break naive loaders.
TOKENS = st.sampled_from([
    "a", "id", "items", "- ", ": ", ":", "\n", "\n  ", "\n    ", "  ", "[", "]", "{", "}", ",", "&x ", "*x", "&y ",
    "*y", "!!python/object:os.system ", "!!str ", "'", '"', "#", "|", ">", "---\n", "...\n", "? ", "<<: ", "1e400",
    ".inf", "-.nan", "0x1F", "9" * 30, "1.10", "No", "yes", "~", "null", "\t", "\x00", "\x1b[31m", "\u202e", "é",
    "%YAML 1.2\n", "@", "`", "key: value\n", "- item\n",
])
yaml_texts = st.one_of(st.text(max_size=300), st.lists(TOKENS, max_size=60).map("".join))


@st.composite
def mutated(draw, base: str):
    """A valid document with random cuts, insertions and replacements (structure kept enough to go deep)."""
    text = base
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.one_of(TOKENS, st.text(max_size=8)))
        end = min(len(text), at + draw(st.integers(0, 40)))
        text = text[:at] + piece + text[at:] if action == "insert" else \
            text[:at] + text[end:] if action == "delete" else text[:at] + piece + text[end:]
    return text


@FUZZ
@given(yaml_texts)
def test_the_yaml_loader_never_raises_anything_else(text):
    try:
        parse_yaml(text, "fuzz.yaml")
    except YamlSourceError as exc:
        assert exc.errors and all(e.file == "fuzz.yaml" for e in exc.errors)


@FUZZ
@given(mutated(MINI))
def test_the_questionnaire_loader_never_raises_anything_else(text):
    try:
        profiler.parse_questionnaire(text, "fuzz.yaml")
    except ProfilerError as exc:
        assert "fuzz.yaml:" in str(exc)


@FUZZ
@given(mutated(JOB))
def test_the_job_model_loader_never_raises_anything_else(text):
    try:
        profiler.parse_job_model(text, "fuzz.yaml")
    except ProfilerError as exc:
        assert str(exc)


@pytest.fixture(scope="module")
def mini_and_norms():
    mini = profiler.parse_questionnaire(MINI, "mini.yaml")
    norms = build_norms(mini, simulate_responses(mini, 300, seed=2, loading=0.8), name="pilot", version="0.1", title="pilot",
                        population="p", collected="c", sampling="s", source="simulation",
                        scales=["Voice", "Trust", "Climate"])
    return mini, norms


CELLS = st.one_of(st.sampled_from(["1", "2", "3", "4", "5", "", "1e400", "inf", "-inf", "nan", "NaN", "9" * 400,
                                   '"', '""', "\x00", "a,b", "\r", "\u2028", "0x10", "1_000", "+3", " 2 "]),
                  st.text(max_size=10))


@st.composite
def csv_files(draw, header: list[str]):
    columns = draw(st.one_of(st.just(header), st.lists(st.sampled_from(header + ["x", "", "id"]), max_size=10)))
    lines = [",".join(columns)]
    for _ in range(draw(st.integers(0, 12))):
        lines.append(",".join(draw(CELLS) for _ in range(draw(st.integers(0, len(columns) + 2)))))
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    raw = text.encode("utf-8", errors="surrogatepass") if draw(st.booleans()) else draw(st.binary(max_size=200))
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + raw


@FUZZ
@given(data=st.data())
def test_the_batch_csv_reader_never_raises_anything_else(mini_and_norms, tmp_path_factory, data):
    mini, norms = mini_and_norms
    content = data.draw(csv_files(list(mini.item_ids)))
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "in.csv").write_bytes(content)
    options = ScoreOptions(on_error=data.draw(st.sampled_from(["stop", "skip"])),
                           chunk_size=data.draw(st.integers(1, 5)), sep=data.draw(st.sampled_from([",", ";"])))
    try:
        score_file(mini, norms, folder / "in.csv", folder / "out.csv", options)
    except BatchError as exc:
        assert str(exc)


@FUZZ
@given(content=st.one_of(st.binary(max_size=300),
                         st.lists(st.sampled_from(["candidate,sex\n", "cand-1,f\n", "cand-1,m\n", ",,\n", '"\n',
                                                   "a,b,c\n", "\x00", "\ufeff", "candidate\n"]),
                                  max_size=12).map(lambda parts: "".join(parts).encode())))
def test_the_groups_reader_never_raises_anything_else(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("groups") / "groups.csv"
    path.write_bytes(content)
    try:
        read_group_labels(path)
    except ProfilerError as exc:
        assert str(exc)
