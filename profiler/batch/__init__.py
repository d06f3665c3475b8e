"""Batch scoring: trait profiles of a whole file of respondents, streamed (what ``profiler score`` runs).

- :func:`score_file`: a responses file in, profiles (and the rejected rows) out, chunk by chunk;
- :class:`ScoreOptions` / :class:`ScoreRun`: what a run is asked to do and what it did;
- :func:`read_header`, :func:`check_header`: the file's header against the questionnaire;
- :func:`profiler.batch.dask_engine.score_file_dask`: the same on Dask (threads, or a distributed cluster).

A completed run writes its manifest next to the output and, given a store, records it in the audit log
(:mod:`profiler.batch.manifest`).

The package sits in the pipeline's layer and reads only the domain packages below it.
"""

from profiler.batch.engine import score_file
from profiler.batch.header import check_header, read_header
from profiler.batch.options import SHOWN_PROBLEMS, BatchError, ScoreOptions, ScoreRun

__all__ = ["SHOWN_PROBLEMS", "BatchError", "ScoreOptions", "ScoreRun", "check_header", "read_header", "score_file"]
