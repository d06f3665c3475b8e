"""What a batch writes is safe to open in a spreadsheet, and a run that cannot write says so and leaves nothing."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.batch import BatchError, ScoreOptions, score_file
from profiler.batch.writers import csv_field, safe_frame, spreadsheet_safe
from profiler.norms import load_norms
from profiler.simulation import simulate_responses

PACKAGE = Path(profiler.__file__).parent


@pytest.mark.parametrize("text, safe", [
    ("=1+2", "'=1+2"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("-1", "-1"), ("+2.5", "+2.5"), ("-3e2", "-3e2"), ("-.5", "-.5"),
    ("Ann", "Ann"), ("", ""), ("a=b", "a=b"), ("-", "'-"), ("- 1", "'- 1"),
])  # fmt: skip
def test_owasp_rule(text, safe):
    assert spreadsheet_safe(text) == safe


def test_csv_field_neutralises_then_quotes():
    assert csv_field('=HYPERLINK("http://x","y")') == '"\'=HYPERLINK(""http://x"",""y"")"'
    assert csv_field("a,b") == '"a,b"'
    frame = safe_frame(pd.DataFrame({"=id": ["=x", "y", None], "n": [-1.0, 2.0, np.nan]}))
    assert list(frame.columns) == ["'=id", "n"]
    assert frame["'=id"].tolist()[:2] == ["'=x", "y"] and frame["n"].tolist()[:2] == [-1.0, 2.0]


@pytest.mark.parametrize("kind", ["string", "large_string"])
def test_text_columns_are_checked_from_their_buffers_as_cell_by_cell(kind):
    """safe_text and csv_text look for formula starts and CSV specials in the arrays' bytes (not cell by cell):
    slices, empty and null cells, and a risky cell first, last or alone give what the per-cell rules give."""
    import pyarrow as pa

    from profiler.batch.writers import csv_text, safe_text

    cells = ["1", "", None, "=A1", "2", "a,b", 'say "hi"', "", "-", "x\ny", "3", "@", None, "-1", ""]
    whole = pa.array(cells, type=getattr(pa, kind)())
    for start in range(len(cells)):
        for stop in range(start, len(cells) + 1):
            part = whole.slice(start, stop - start)
            expected = [None if v is None else spreadsheet_safe(v) for v in cells[start:stop]]
            assert safe_text(part).to_pylist() == expected, (start, stop)
            if stop > start:
                text = bytes(csv_text(pa.table({"c": safe_text(part)}), {})).decode()
                assert text == "".join(csv_field(v or "") + "\n" for v in cells[start:stop]), (start, stop)


def test_every_csv_the_package_writes_goes_through_the_writers():
    """CSV is written in one module only, profiler.batch.writers, where every text cell is neutralised."""
    writers = PACKAGE / "batch" / "writers.py"
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
            if name in ("to_csv", "writer", "DictWriter", "write_csv") and path != writers:
                if name != "writer" or (isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "csv"):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}")
    assert offenders == []


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


def test_profiles_and_rejects_are_neutralised(ipip, tmp_path):
    answers = simulate_responses(ipip, 4, seed=3).astype(int).astype(str)
    answers.insert(0, "cid", ["=1+2", "@me", "-5", "+cmd|' /C calc'!A0"])
    answers.loc[3, "E1"] = "=SUM(A1:A9)"
    path = tmp_path / "r.csv"
    answers.to_csv(path, index=False)
    out, rejects = tmp_path / "p.csv", tmp_path / "rej.csv"
    run = score_file(ipip, load_norms(ipip, "general"), path, out,
                     ScoreOptions(id_column="cid", on_error="skip", rejects=rejects))
    assert (run.scored, run.skipped) == (3, 1)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert [r[0] for r in rows[1:]] == ["'=1+2", "'@me", "-5"]
    with rejects.open(newline="", encoding="utf-8") as handle:
        rejected = list(csv.DictReader(handle))
    assert rejected[0]["cid"] == "'+cmd|' /C calc'!A0" and rejected[0]["E1"] == "'=SUM(A1:A9)"
    assert rejected[0]["problems"] == "item 'E1': not a number: '=SUM(A1:A9)'"


def test_out_a_folder_or_unwritable_is_a_clear_error(ipip, tmp_path):
    answers = simulate_responses(ipip, 3, seed=3).astype(int)
    path = tmp_path / "r.csv"
    answers.to_csv(path, index=False)
    norms = load_norms(ipip, "general")
    with pytest.raises(BatchError, match="is a folder: give the name of a file"):
        score_file(ipip, norms, path, tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(BatchError, match="cannot write the output"):
        score_file(ipip, norms, path, blocker / "p.csv")
    with pytest.raises(BatchError, match="cannot write the rejects file"):
        score_file(ipip, norms, path, tmp_path / "p.csv",
                   ScoreOptions(on_error="skip", rejects=blocker / "r.csv"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "r.csv"]  # nothing partial left


def test_a_failing_run_leaves_nothing(ipip, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(",".join(ipip.item_ids) + "\n" + ",".join(["1"] * 50) + "\n" + '"unclosed\n', encoding="utf-8")
    with pytest.raises(BatchError):
        score_file(ipip, load_norms(ipip, "general"), path, tmp_path / "p.csv",
                   ScoreOptions(on_error="skip", rejects=tmp_path / "rej.csv", chunk_size=1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]


def test_rejects_show_parquet_cells_as_read(ipip, tmp_path):
    """Numbers in a rejected Parquet row are shown as written (whole numbers without a point, a blank empty),
    every problem of a row in one field, worded once per distinct value."""
    answers = simulate_responses(ipip, 3, seed=3).astype(float)
    answers.loc[0, "E1"], answers.loc[0, "A1"] = 2.5, np.nan  # not an answer; a required item not answered
    answers.loc[1, "E1"], answers.loc[2, "E1"] = 1e20, 2.5
    path = tmp_path / "r.parquet"
    answers.to_parquet(path, index=False)
    rejects = tmp_path / "rej.csv"
    run = score_file(ipip, load_norms(ipip, "general"), path, tmp_path / "p.csv",
                     ScoreOptions(on_error="skip", rejects=rejects))
    assert (run.scored, run.skipped, run.problems) == (0, 3, 4)
    assert run.messages[:2] == ["row 1, item 'E1': not an answer of this item (one of 1, 2, 3, 4, 5): 2.5",
                                "row 1, item 'A1': required item not answered"]
    with rejects.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["row"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["problems"] == ("item 'E1': not an answer of this item (one of 1, 2, 3, 4, 5): 2.5; "
                                   "item 'A1': required item not answered")
    assert [r["E1"] for r in rows] == ["2.5", "100000000000000000000", "2.5"]
    assert rows[0]["A1"] == "" and rows[0]["C1"] == str(int(answers.loc[0, "C1"]))


@pytest.mark.parametrize("collide", [False, True])
def test_csv_text_prints_every_row_as_printf_would(monkeypatch, collide):
    """Numbers of a group are formatted once per distinct combination, rounded as numpy rounds: the text of each
    row is what ``%.4f`` / ``%d`` of its own rounded values gives (``-0.0`` printed as such, blanks for NaN),
    also when every row's hash collides (the exact grouping then takes over); constant columns end each row."""
    import pyarrow as pa

    from profiler.batch import distinct, writers

    if collide:
        monkeypatch.setattr(distinct, "_MIX", np.uint64(0))  # every key the last column's bits: groups collide
    rng = np.random.default_rng(4)
    raw = np.concatenate([rng.integers(10, 50, 40) / 10, [np.nan, -0.00001, 0.0, 0.00004999, 0.12345, -0.0]])
    sten = np.where(np.isnan(raw), np.nan, np.round(raw))
    table = pa.table({"id": [f"c{i}" for i in range(len(raw))], "S.raw": raw, "S.z": (raw - 3.1) / 0.7,
                      "S.sten": pa.array(np.nan_to_num(sten).astype(np.int8), mask=np.isnan(sten)),
                      "norm_group": ["general"] * len(raw), "percentiles": ["empirical"] * len(raw)})
    text = bytes(writers.csv_text(table, {"raw": 4, "z": 4, "sten": None})).decode()

    def printed(value, digits):
        return "" if np.isnan(value) else f"%.{digits}f" % np.round(value, digits)

    expected = [f"c{i},{printed(r, 4)},{printed((r - 3.1) / 0.7, 4)},{'' if np.isnan(s) else int(s)},general,empirical"
                for i, (r, s) in enumerate(zip(raw, sten, strict=True))]
    assert text.splitlines() == expected
    assert text.endswith("\n") and "-0.0000" in expected[-5] and expected[-4].split(",")[1] == "0.0000"


def test_reading_ahead_and_writing_behind_keep_order_and_raise_errors():
    from profiler.batch.background import WriteBehind, read_ahead

    assert list(read_ahead(range(7), depth=3)) == list(range(7))

    def failing():
        yield 1
        raise BatchError("line 3: broken")

    items = read_ahead(failing())
    assert next(items) == 1
    with pytest.raises(BatchError, match="line 3"):
        next(items)
    closed = []

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.append(True)

    items = read_ahead(endless())
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    assert closed == [True]  # stopping early stops the reader and closes the source

    written = []
    behind = WriteBehind(depth=1)
    for n in range(5):
        behind.submit(written.append, n)
    behind.drain()
    assert written == [0, 1, 2, 3, 4]
    behind = WriteBehind()
    behind.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        behind.drain()
