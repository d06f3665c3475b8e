"""Attack: documents made to hang the loader, exhaust memory or crash it.

Each hostile document is loaded in a fresh interpreter with limits (address space and CPU: a failure there
cannot take the machine down); the child measures the peak of Python's allocations (tracemalloc) while it
loads. Every document must end in a located error (``file:line:column: ...``), not a traceback, under 200 MB.
The only time limit is a guard far above what a load takes, so that a hang fails the test instead of the run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parents[1] / "fixtures" / "questionnaires"
MINI = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
JOB = (Path(__file__).parents[2] / "models" / "jobs").glob("*.yaml")
LOCATED = re.compile(r"^[\w.\-]+:\d+:\d+: ", re.MULTILINE)
MEMORY_BUDGET = 200 * 1024 * 1024
GUARD_SECONDS = 120  # a hang, not a slow load: loads take well under a second

CHILD = """
import json, resource, sys, time, tracemalloc
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
resource.setrlimit(resource.RLIMIT_CPU, (120, 120))
import profiler
from profiler.errors import ProfilerError
tracemalloc.start()
for line in sys.stdin:
    name, kind, path = json.loads(line)
    load = profiler.load_job_model if kind == "job" else profiler.load_questionnaire
    tracemalloc.reset_peak()
    start = time.perf_counter()
    try:
        load(path)
        outcome = {"error": None}
    except ProfilerError as exc:
        outcome = {"error": str(exc)}
    outcome.update(name=name, peak=tracemalloc.get_traced_memory()[1], seconds=time.perf_counter() - start)
    print(json.dumps(outcome), flush=True)
"""


def _mini_with(old: str, new: str) -> str:
    assert old in MINI
    return MINI.replace(old, new, 1)


def _documents(folder: Path) -> dict[str, tuple[str, Path]]:
    docs: dict[str, tuple[str, Path]] = {}

    def write(name: str, text: str, kind: str = "questionnaire") -> None:
        path = folder / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        docs[name] = (kind, path)

    long = "x" * 40_000
    aliases = "".join("\n  - *long" for _ in range(150_000))  # one per line: 1.4 MB, 6 GB once expanded
    write("alias-bomb", _mini_with("authors: [A. Example]", f"authors:\n  - &long {long}{aliases}"))
    laughs = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    laughs += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    write("billion-laughs", "\n".join(laughs) + "\n" + MINI)
    write("overflow-1e400", _mini_with("{value: 1, label:", "{value: 1e400, label:"))
    write("infinity", _mini_with("{value: 1, label:", "{value: .inf, label:"))
    write("not-a-number", _mini_with("{value: 1, label:", "{value: .nan, label:"))
    write("seed-above-int64", MINI.replace("administration:", "administration:\n  seed: 9223372036854775808", 1)
          if "administration:" in MINI else MINI + "\nadministration: {order: random, seed: 9223372036854775808}\n")
    write("huge-integer", _mini_with("{value: 1, label:", "{value: " + "9" * 5000 + ", label:"))
    write("time-limit-1e308", MINI + "\nvalidity_rules: {seconds_per_item_min: 1e308}\n"
          if "validity_rules" not in MINI else MINI)
    write("nested-500", MINI + "\nextra: " + "[" * 500 + "]" * 500 + "\n")
    write("nested-100000-flow", MINI + "\nextra: " + "[" * 100_000 + "]" * 100_000 + "\n")
    write("nested-500-block", MINI + "\nextra:\n" + "".join(" " * i + "- \n" for i in range(0, 1000, 2)))
    write("too-large", MINI + "\n" + ("# padding\n" * 300_000))
    write("one-long-line", "id: " + "a" * 1_900_000 + "\n")
    write("binary", "\x00\x01\x02" * 1000)
    fifo = folder / "pipe.yaml"
    os.mkfifo(fifo)
    docs["named-pipe"] = ("questionnaire", fifo)
    docs["dev-zero"] = ("questionnaire", Path("/dev/zero"))
    docs["directory"] = ("questionnaire", folder)
    job = next(iter(sorted(JOB))).read_text(encoding="utf-8")
    write("job-model-1e400", re.sub(r"weight: [0-9.]+", "weight: 1e400", job, count=1), "job")
    write("job-model-alias-bomb", job.replace("\n", f"\nnotes:\n  - &long {long}{aliases}\n", 1), "job")
    return docs


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    return _documents(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def outcomes(documents):
    """Every document loaded by one child interpreter (imports once), each measured on its own."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    lines = "".join(json.dumps([name, kind, str(path)]) + "\n" for name, (kind, path) in documents.items())
    result = subprocess.run([sys.executable, "-c", CHILD], input=lines, capture_output=True, text=True,
                            timeout=GUARD_SECONDS, env=env)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 0, result.stderr[-3000:]
    found = [json.loads(line) for line in result.stdout.splitlines()]
    return {outcome["name"]: outcome for outcome in found}


NAMES = ["alias-bomb", "billion-laughs", "overflow-1e400", "infinity", "not-a-number", "seed-above-int64",
         "huge-integer", "time-limit-1e308", "nested-500", "nested-100000-flow", "nested-500-block", "too-large",
         "one-long-line", "binary", "named-pipe", "dev-zero", "directory", "job-model-1e400", "job-model-alias-bomb"]


@pytest.mark.parametrize("name", NAMES)
def test_a_hostile_document_gets_a_located_error_within_bounds(outcomes, name):
    outcome = outcomes[name]
    assert outcome["error"] is not None, f"{name} loaded without an error"
    assert LOCATED.search(outcome["error"]), outcome["error"][:500]
    assert outcome["peak"] < MEMORY_BUDGET, f"{name}: {outcome['peak'] / 2**20:.0f} MB"


def test_profiler_check_says_what_is_wrong(documents):
    names = ["named-pipe", "dev-zero", "alias-bomb", "nested-100000-flow", "overflow-1e400"]
    result = subprocess.run([sys.executable, "-m", "profiler", "check", *(str(documents[n][1]) for n in names)],
                            capture_output=True, text=True, timeout=GUARD_SECONDS)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(LOCATED.findall(result.stderr)) >= len(names), result.stderr


@pytest.mark.parametrize("name", ["named-pipe", "dev-zero", "alias-bomb", "nested-100000-flow", "overflow-1e400"])
def test_profiler_check_says_what_is_wrong(documents, name):
    _, path = documents[name]
    result = subprocess.run([sys.executable, "-m", "profiler", "check", str(path)], capture_output=True, text=True,
                            timeout=GUARD_SECONDS)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert LOCATED.search(result.stderr), result.stderr


def test_the_located_errors_say_what_is_wrong(documents):
    from profiler.errors import ProfilerError
    import profiler

    expected = {
        "overflow-1e400": "1e400 is too large to be a number",
        "infinity": ".inf is not a finite number",
        "seed-above-int64": "seed",
        "nested-500": "nested more than 32 levels deep",
        "alias-bomb": "characters of text",
        "dev-zero": "is a device, not a regular file",
        "named-pipe": "is a named pipe, not a regular file",
        "directory": "is a directory",
        "too-large": "the limit is",
        "one-long-line": "line longer than 100,000 characters",
    }
    for name, words in expected.items():
        with pytest.raises(ProfilerError) as caught:
            profiler.load_questionnaire(documents[name][1])
        assert words in str(caught.value), (name, str(caught.value)[:300])


def test_hostile_csv_files_get_a_clear_error(tmp_path):
    import profiler
    from profiler.norms import build_norms
    from profiler.batch import BatchError, score_file
    from profiler.pipeline.fairness_audit import read_group_labels
    from profiler.pipeline.cases import ReportError
    from profiler.simulation import simulate_responses

    mini = profiler.parse_questionnaire(MINI, "mini.yaml")
    norms = build_norms(mini, simulate_responses(mini, 200, seed=3, loading=0.8), name="pilot", version="0.1", title="pilot",
                        population="p", collected="c", sampling="s", source="simulation", scales=["Voice"])
    header = ",".join(mini.item_ids)
    (tmp_path / "no-breaks.csv").write_text(header + "\n" + "1," * 1_200_000, encoding="utf-8")
    (tmp_path / "long-header.csv").write_text("x" * 1_200_000, encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.csv")
    cases = {"no-breaks.csv": "a line is longer than 1,048,576 bytes", "long-header.csv": "line 1 is longer",
             "pipe.csv": "is not a regular file", "/dev/zero": "is not a regular file"}
    for name, words in cases.items():
        path = Path(name) if name.startswith("/") else tmp_path / name
        with pytest.raises(BatchError, match=words):
            score_file(mini, norms, path, tmp_path / "out.csv")
    for path, words in ((tmp_path / "pipe.csv", "named pipe"), (Path("/dev/zero"), "device"),
                        (tmp_path, "directory")):
        with pytest.raises(ReportError, match=words):
            read_group_labels(path)
