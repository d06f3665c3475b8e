"""The Dask engine writes exactly what the local engine writes: the same bytes of profiles (CSV and Parquet input,
CSV and Parquet output), rejects and messages, on Dask's threaded scheduler and on a distributed LocalCluster of
two worker processes; its manifest says which engine ran."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.batch import ScoreOptions, score_file
from profiler.batch.dask_engine import score_file_dask
from profiler.norms import load_norms
from profiler.simulation import simulate_responses

pytest.importorskip("distributed", reason="the Dask engine needs the batch extra (dask, distributed)")


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


@pytest.fixture(scope="module")
def files(ipip, tmp_path_factory):
    """A CSV of 3,000 respondents with ids, bad cells, text, blank lines and a formula; and the same as Parquet."""
    folder = tmp_path_factory.mktemp("dask")
    answers = simulate_responses(ipip, 3000, seed=8).astype(int).astype(str)
    rng = np.random.default_rng(8)
    cells = answers.to_numpy()
    cells[rng.random(cells.shape) < 0.002] = "7"
    cells[rng.random(cells.shape) < 0.002] = ""
    cells[rng.random(cells.shape) < 0.001] = "often"
    frame = pd.DataFrame(cells, columns=answers.columns)
    frame.insert(0, "cid", [f"c{i}" for i in range(len(frame))])
    frame.loc[5, "cid"] = "=HYPERLINK(1)"
    lines = [",".join(frame.columns)] + [",".join(row) for row in frame.itertuples(index=False)]
    lines.insert(1200, "")  # a blank line in the middle
    csv = folder / "answers.csv"
    csv.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    parquet = folder / "answers.parquet"
    frame.replace("", None).to_parquet(parquet, index=False, row_group_size=700)
    return csv, parquet


def _run(engine, ipip, source, folder: Path, fmt: str, **kwargs):
    folder.mkdir(parents=True, exist_ok=True)
    out, rejects = folder / f"out.{fmt}", folder / "rejects.csv"
    options = ScoreOptions(id_column="cid", on_error="skip", rejects=rejects, chunk_size=999, output_format=fmt)
    norms = load_norms(ipip, "general")
    run = engine(ipip, norms, source, out, options, **kwargs)
    return run, out.read_bytes(), rejects.read_bytes()


@pytest.mark.parametrize("source, fmt", [(0, "csv"), (1, "csv"), (0, "parquet")])
def test_threaded_dask_writes_the_local_bytes(ipip, files, tmp_path, monkeypatch, source, fmt):
    import profiler.batch.dask_engine as dask_engine

    monkeypatch.setattr(dask_engine, "PARTITION_BYTES", 100_000)  # several CSV partitions
    local, out_local, rejects_local = _run(score_file, ipip, files[source], tmp_path / "local", fmt)
    dasked, out_dask, rejects_dask = _run(score_file_dask, ipip, files[source], tmp_path / "dask", fmt)
    assert local.scored > 2000 and local.skipped > 50 and local.blank == (0 if source else 2)
    assert (dasked.rows, dasked.scored, dasked.skipped, dasked.blank, dasked.problems) == \
        (local.rows, local.scored, local.skipped, local.blank, local.problems)
    assert dasked.messages == local.messages
    assert out_dask == out_local and rejects_dask == rejects_local
    manifest = json.loads((tmp_path / "dask" / f"out.{fmt}.manifest.json").read_text(encoding="utf-8"))
    assert manifest["engine"] == "dask" and manifest["scheduler"] is None


def test_a_local_cluster_of_two_processes_writes_the_local_bytes(ipip, files, tmp_path, monkeypatch):
    from distributed import LocalCluster

    import profiler.batch.dask_engine as dask_engine

    monkeypatch.setattr(dask_engine, "PARTITION_BYTES", 100_000)
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        for source, fmt in ((0, "csv"), (1, "parquet")):  # the workers' results are packed on their way
            local, out_local, rejects_local = _run(score_file, ipip, files[source], tmp_path / f"local{fmt}", fmt)
            dasked, out_dask, rejects_dask = _run(score_file_dask, ipip, files[source], tmp_path / fmt, fmt,
                                                  scheduler=cluster.scheduler_address)
            assert (dasked.scored, dasked.skipped, dasked.blank) == (local.scored, local.skipped, local.blank)
            assert dasked.messages == local.messages
            assert out_dask == out_local and rejects_dask == rejects_local
    manifest = json.loads((tmp_path / "csv" / "out.csv.manifest.json").read_text(encoding="utf-8"))
    assert manifest["engine"] == "dask" and manifest["scheduler"].startswith("tcp://")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_scoring_in_slices_writes_the_same_bytes(ipip, files, tmp_path, monkeypatch, fmt):
    """A chunk is scored SLICE_ROWS rows at a time and the slices joined: the profiles, rejects, counts and
    messages do not depend on the slice (blank lines, bad rows and a whole chunk in one call included)."""
    import profiler.batch.chunks as chunks

    def run(folder):
        folder.mkdir()
        out, rejects = folder / f"out.{fmt}", folder / "rejects.csv"
        done = score_file(ipip, load_norms(ipip, "general"), files[0], out,
                          ScoreOptions(id_column="cid", on_error="skip", rejects=rejects, chunk_size=5000,
                                       output_format=fmt))
        return (done.rows, done.scored, done.skipped, done.blank, done.problems, done.messages, out.read_bytes(),
                rejects.read_bytes())

    whole = run(tmp_path / "whole")
    monkeypatch.setattr(chunks, "SLICE_ROWS", 250)
    assert run(tmp_path / "sliced") == whole
    assert whole[3] == 2 and whole[2] > 50


@pytest.mark.parametrize("collide", [False, True])
def test_a_packed_table_comes_back_bit_for_bit(monkeypatch, collide):
    """A worker's output rows travel as each group's distinct rows and a code per row (repeated text as a
    dictionary): unpacked, every value, missing cell, sign of zero and NaN payload is back, with the schema."""
    import pickle

    import pyarrow as pa

    from profiler.batch import distinct

    if collide:
        monkeypatch.setattr(distinct, "_MIX", np.uint64(0))  # every key the last column's bits: exact grouping
    rng = np.random.default_rng(5)
    raw = rng.integers(10, 14, 400) / 4
    raw[[3, 9]] = np.nan
    raw[5], raw[6] = -0.0, 0.0
    odd_nan = np.frombuffer(np.uint64(0x7FF8_0000_0000_0BAD).tobytes(), dtype=np.float64)[0]
    raw[7] = odd_nan
    sten = pa.array(np.where(np.isnan(raw), 0, np.round(raw)).astype(np.int8), mask=np.isnan(raw))
    table = pa.table({"id": [f"c{i}" for i in range(400)], "row": np.arange(400), "S.raw": raw,
                      "S.z": raw * 2 - 1, "S.sten": sten, "T.raw": rng.normal(size=400),
                      "T.z": rng.normal(size=400), "norm_group": ["general"] * 399 + [None]},
                     metadata={b"k": b"v"})
    packed = pickle.loads(pickle.dumps(distinct.PackedTable(table)))
    assert sum(codes is not None for _, codes in packed.parts) == 2  # S.* and norm_group; T.* has 400 distinct
    back = packed.unpack()
    assert back.schema.equals(table.schema, check_metadata=True)
    for name in table.column_names:
        original, restored = table.column(name).combine_chunks(), back.column(name).combine_chunks()
        assert restored.is_valid().equals(original.is_valid()), name
        if pa.types.is_floating(original.type):
            assert np.array_equal(original.to_numpy().view(np.uint64), restored.to_numpy().view(np.uint64)), name
        else:
            assert restored.to_pylist() == original.to_pylist(), name


def test_an_unreachable_scheduler_is_a_clear_error(ipip, files, tmp_path):
    from profiler.batch import BatchError

    with pytest.raises(BatchError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        score_file_dask(ipip, load_norms(ipip, "general"), files[0], tmp_path / "o.csv",
                        ScoreOptions(id_column="cid"), scheduler="tcp://127.0.0.1:9")
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("source", [0, 1])
def test_object_storage_through_fsspec(ipip, files, tmp_path, source):
    """A URL (here fsspec's in-memory filesystem, as s3:// would be with s3fs) is read by the Dask engine: the
    local bytes, and a manifest naming the URL with the file's hash; the local engine says which engine reads it."""
    import hashlib

    import fsspec

    from profiler.batch import BatchError

    url = f"memory://intake/{files[source].name}"
    data = files[source].read_bytes()
    with fsspec.open(url, "wb") as handle:
        handle.write(data)
    try:
        local, out_local, rejects_local = _run(score_file, ipip, files[source], tmp_path / "local", "csv")
        dasked, out_dask, rejects_dask = _run(score_file_dask, ipip, url, tmp_path / "dask", "csv")
        assert out_dask == out_local and rejects_dask == rejects_local and dasked.scored == local.scored
        manifest = json.loads((tmp_path / "dask" / "out.csv.manifest.json").read_text(encoding="utf-8"))
        assert manifest["inputs"] == [{"path": url, "sha256": f"sha256:{hashlib.sha256(data).hexdigest()}",
                                       "bytes": len(data)}]
        with pytest.raises(BatchError, match="read by the Dask engine \\(--engine dask"):
            score_file(ipip, load_norms(ipip, "general"), url, tmp_path / "o.csv")
        with pytest.raises(BatchError, match="no such file: memory://intake/nothing.csv"):
            score_file_dask(ipip, load_norms(ipip, "general"), "memory://intake/nothing.csv", tmp_path / "o.csv")
    finally:
        fsspec.filesystem("memory").rm(url)
