"""The Dask engine: the same chunk scoring as :func:`profiler.batch.score_file`, as ``map_partitions`` over a Dask
DataFrame read from CSV or Parquet (local files, or object storage through fsspec URLs), on Dask's threaded
scheduler by default or on a ``distributed`` cluster given its address.

Every partition is scored by :class:`~profiler.batch.chunks.ChunkScorer` (``meta`` declared, one row per
partition carrying its scored chunk); the client takes the results in partition order and writes them with the
local engine's writers, so the output, the rejects and the messages are byte for byte those of the local engine
on the same input (in ``on_error="skip"`` mode: with ``"stop"`` the run stops at the first bad partition, whose
span differs from a local chunk's).

**Line numbers.** A partition of a CSV does not know how many lines come before it, so each is scored with its
rows numbered from 0 and the client renumbers them as it takes the partitions in order (every partition's result
says how many lines it read, blank ones included): line 2 is the first respondent, blank lines count, as locally.
Parquet rows are numbered from 1 the same way. Both readers take the same cells as empty (:data:`NULL_CELLS`).
The file is read once.

**Results.** A partition's result is its :class:`~profiler.batch.chunks.ScoredChunk`, which travels packed (each
scale's distinct rows of measures and a code per row: :class:`~profiler.batch.distinct.PackedTable`, some 26
times fewer bytes than the Arrow table). On a distributed cluster the client keeps a window of partitions in
flight while it unpacks and writes the finished ones, so the workers never wait for the writing.
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from profiler.batch.chunks import ChunkScorer, ScoredChunk
from profiler.batch.engine import FilePlan, finish, prepare, write_scored
from profiler.batch.options import BatchError, Progress, ScoreOptions, ScoreRun
from profiler.batch.reading import NULL_CELLS, Chunk, answers_of, is_parquet
from profiler.batch.sources import as_location, source_size
from profiler.jobmodel import JobModel
from profiler.norms import NormTable, RawScoreSEM
from profiler.questionnaire import Questionnaire
from profiler.store import Store

PARTITION_BYTES = 32 << 20  # CSV bytes per partition: a million rows (100 MB) give each of two workers two
WINDOW = 8  # partitions computed at a time: memory stays bounded by them


def _score_partition(part: pd.DataFrame, scorer: ChunkScorer, item_columns: list[str]) -> pd.DataFrame:
    """One partition scored, its rows numbered from 0: a one-row frame holding the :class:`ScoredChunk`."""
    import pyarrow as pa

    table = pa.Table.from_pandas(part.reset_index(drop=True), preserve_index=False)
    ids = None
    if scorer.id_column is not None:
        ids = table.column(scorer.id_column).cast(pa.string()).to_numpy(zero_copy_only=False)
    chunk = Chunk(answers_of(table, item_columns), table, ids, np.arange(len(part)), 0)
    return pd.DataFrame({"scored": pd.Series([scorer.score(chunk)], dtype=object)})


def _frame(plan: FilePlan, parquet: bool) -> Any:
    import dask.dataframe as dd

    columns = [*plan.item_columns, *([plan.options.id_column] if plan.options.id_column else []), *plan.other]
    if parquet:
        return dd.read_parquet(str(plan.path), columns=columns, split_row_groups=True)  # a partition per row group
    return dd.read_csv(str(plan.path), sep=plan.options.sep, names=plan.header, header=0, dtype=str,
                       keep_default_na=False, na_values=NULL_CELLS, skip_blank_lines=False,
                       blocksize=PARTITION_BYTES, encoding="utf-8")


def score_file_dask(questionnaire: Questionnaire, norms: NormTable | None, responses: str | Path, out: str | Path,
                    options: ScoreOptions | None = None, *, scheduler: str | None = None,
                    progress: Progress | None = None, calibration: RawScoreSEM | None = None,
                    job_model: JobModel | None = None, as_of: Any = None, store: Store | None = None,
                    actor: str = "profiler") -> ScoreRun:
    """:func:`profiler.batch.score_file` on Dask (see the module docstring); ``scheduler`` is the address of a
    ``distributed`` scheduler (``tcp://host:8786``), or None for Dask's threaded scheduler."""
    import dask

    options = options or ScoreOptions()
    responses, out = as_location(responses), Path(out)
    started = datetime.now(UTC)
    plan = prepare(questionnaire, norms, responses, out, options, calibration=calibration, job_model=job_model,
                   as_of=as_of)
    client = _client(scheduler)
    try:
        frame = _frame(plan, is_parquet(responses))
        with dask.config.set(scheduler=client if client is not None else "threads"), warnings.catch_warnings():
            # dask's own readers still call pandas APIs that pandas 3 deprecates; that is dask's to change
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"dask(\.|$)")
            scored = frame.map_partitions(_score_partition, plan.scorer, plan.item_columns,
                                          meta=pd.DataFrame({"scored": pd.Series([], dtype=object)}))
            first = 2 if not is_parquet(responses) else 1  # line 2 (after the header), or row 1
            results = _results(scored.to_delayed(), client, first, source_size(responses))
            run = write_scored(plan, results, out, options, progress)
    finally:
        if client is not None:
            client.close()
    if run.stopped_at is None:
        finish(run, plan, [responses], [p for p in (out, options.rejects) if p is not None], questionnaire, norms,
               calibration, job_model, options, "dask", scheduler, started, store, actor)
    return run


def _client(scheduler: str | None) -> Any:
    if scheduler is None:
        return None
    from distributed import Client

    try:
        return Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise BatchError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def _results(parts: list, client: Any, first: int, size: int) -> Iterator[tuple[ScoredChunk, int]]:
    """The partitions' scored chunks in order, numbered from line (row) ``first`` on, with the bytes of the file
    consumed so far (an estimate): at most :data:`WINDOW` partitions computed or held at a time."""
    done = 0
    for k, frame in enumerate(_in_order(parts, client)):
        chunk = frame["scored"].iloc[0]
        chunk.shift(first + done)
        done += chunk.rows + chunk.blank
        yield chunk, int(size * (k + 1) / len(parts))


def _in_order(parts: list, client: Any) -> Iterator[pd.DataFrame]:
    """Computed partitions in order: on a cluster, a sliding window of futures (the workers keep scoring while
    the client writes); on Dask's threads, a window at a time."""
    import dask

    if client is None:
        for start in range(0, len(parts), WINDOW):
            yield from dask.compute(*parts[start : start + WINDOW])
        return
    futures = deque(client.compute(parts[:WINDOW]))
    following = iter(parts[WINDOW:])
    try:
        while futures:
            future = futures.popleft()
            frame = future.result()
            future.release()
            following_part = next(following, None)
            if following_part is not None:
                futures.append(client.compute(following_part))
            yield frame
    finally:
        for future in futures:
            future.cancel()


__all__ = ["score_file_dask"]
