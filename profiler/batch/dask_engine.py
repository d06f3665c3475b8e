"""The Dask engine: the same chunk scoring as :func:`profiler.batch.score_file`, as ``map_partitions`` over a Dask
DataFrame read from CSV or Parquet (local files, or object storage through fsspec URLs), on Dask's threaded
scheduler by default or on a ``distributed`` cluster given its address.

Every partition is scored by :class:`~profiler.batch.chunks.ChunkScorer` (``meta`` declared, one row per
partition carrying its scored chunk); the client takes the results in partition order and writes them with the
local engine's writers, so the output, the rejects and the messages are byte for byte those of the local engine
on the same input (in ``on_error="skip"`` mode: with ``"stop"`` the run stops at the first bad partition, whose
span differs from a local chunk's).

**Line numbers.** A partition of a CSV does not know how many lines come before it, so the engine first counts
the rows of every partition (a pass over the file that reads no more than it must parse) and numbers each
partition from the sum of the counts before it: line 2 is the first respondent, blank lines count, as locally.
Parquet rows are numbered from 1 the same way. Both readers take the same cells as empty (:data:`NULL_CELLS`).
"""

from __future__ import annotations

import pickle
import warnings
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

PARTITION_BYTES = 16 << 20  # CSV bytes per partition
WINDOW = 8  # partitions computed at a time: memory stays bounded by them


def _score_partition(part: pd.DataFrame, scorer: ChunkScorer, offsets: list[int], item_columns: list[str],
                     partition_info: dict | None = None) -> pd.DataFrame:
    """One partition scored: a one-row frame holding the pickled :class:`ScoredChunk`."""
    import pyarrow as pa

    number = partition_info["number"] if partition_info else 0
    table = pa.Table.from_pandas(part.reset_index(drop=True), preserve_index=False)
    ids = None
    if scorer.id_column is not None:
        ids = table.column(scorer.id_column).cast(pa.string()).to_numpy(zero_copy_only=False)
    chunk = Chunk(answers_of(table, item_columns), table, ids, offsets[number] + np.arange(len(part)), 0)
    return pd.DataFrame({"scored": [pickle.dumps(scorer.score(chunk))]})


def _frame(plan: FilePlan, parquet: bool) -> Any:
    import dask.dataframe as dd

    columns = [*plan.item_columns, *([plan.options.id_column] if plan.options.id_column else []), *plan.other]
    if parquet:
        return dd.read_parquet(str(plan.path), columns=columns)
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
            lengths = frame.map_partitions(len, meta=(None, "int64")).compute()  # the counting pass
            first = 2 if not is_parquet(responses) else 1  # line 2 (after the header), or row 1
            offsets = (first + np.concatenate([[0], np.cumsum(lengths)[:-1]])).astype(np.int64).tolist()
            scored = frame.map_partitions(_score_partition, plan.scorer, offsets, plan.item_columns,
                                          meta=pd.DataFrame({"scored": pd.Series([], dtype=object)}))
            size = source_size(responses)
            results = _results(scored.to_delayed(), size, int(sum(lengths)))
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


def _results(parts: list, size: int, total: int) -> Iterator[tuple[ScoredChunk, int]]:
    """The partitions' scored chunks in order, computed a window at a time (memory bounded by the window)."""
    import dask

    done = 0
    for start in range(0, len(parts), WINDOW):
        for frame in dask.compute(*parts[start : start + WINDOW]):
            chunk = pickle.loads(frame["scored"].iloc[0])
            done += chunk.rows + chunk.blank
            yield chunk, int(size * done / max(total, 1))


__all__ = ["score_file_dask"]
