"""Batch trait profiles of a responses file, streamed: what ``profiler score`` runs on one machine.

:func:`score_file` reads a CSV or Parquet file in chunks (``chunk_size`` rows, :mod:`profiler.batch.reading`),
so memory stays flat however many respondents it holds. Each chunk is validated once: the answers that pass are
scored and placed against the norms (and evaluated against a job model, when one is given), the bad rows (an
invalid answer, an unanswered required item) are reported by line number (CSV: the header is line 1, so the first
respondent is line 2; blank lines count) or row number (Parquet: the first row is row 1) and item, in
:func:`~profiler.questionnaire.scoring.validate_responses`' words (:mod:`profiler.batch.chunks`).
``on_error="stop"`` (the default) stops at the first chunk with a bad row and writes nothing; ``"skip"`` scores
the other rows, and with ``rejects`` writes the bad ones with their problems.

Without norms (``norms=None``, a new questionnaire that has none yet) the output holds raw scale scores only,
labelled as such: ``<scale>.raw`` and ``<scale>.sem`` (the SEM from a calibration's reliabilities when one is
given, empty otherwise), then ``normed`` (``no``), ``calibration`` and ``calibration_sha256``
(:mod:`profiler.batch.placement`).

The output has one row per scored respondent: the id column (``id_column``) if given, ``line`` (``row`` for
Parquet input), then ``<scale>.<measure>`` columns (see :data:`profiler.norms.MEASURES`; rounded to 4 decimals,
T-unit values and percentiles to 2), then ``norm_group``, ``norms_sha256`` and ``percentiles``, so every row names
the norms it was placed against. It is CSV, or Parquet with ``output_format="parquet"``; it is written to
``<out>.partial`` and renamed when complete: a run that stops or fails leaves no partial output.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from profiler.batch.background import read_ahead
from profiler.batch.chunks import MEASURE_DECIMALS, ChunkScorer, ScoredChunk
from profiler.batch.evaluation import Evaluator, as_of_date, check_job_model, evidence_columns
from profiler.batch.header import check_header, read_header
from profiler.batch.manifest import record_run, run_record, write_manifest
from profiler.batch.placement import placement
from profiler.batch.options import SHOWN_PROBLEMS, BatchError, Progress, ScoreOptions, ScoreRun
from profiler.batch.reading import Chunk, ReadDigest, csv_chunks, is_parquet, parquet_chunks, parquet_header
from profiler.batch.sources import Location, check_source, is_url
from profiler.batch.writers import ProfileOutput, StagedFile, write_rejects, write_rejects_header
from profiler.jobmodel import JobModel
from profiler.norms import NormTable, RawScoreSEM
from profiler.questionnaire import Questionnaire
from profiler.store import Store


def score_file(questionnaire: Questionnaire, norms: NormTable | None, responses: str | Path, out: str | Path,
               options: ScoreOptions | None = None, *, progress: Progress | None = None,
               calibration: RawScoreSEM | None = None, job_model: JobModel | None = None, as_of: Any = None,
               store: Store | None = None, actor: str = "profiler") -> ScoreRun:
    """Trait profiles of every respondent of a CSV or Parquet file, written to ``out`` (see the module docstring).

    With ``norms=None`` the output holds raw scale scores, not normed, with the SEM of ``calibration`` (see
    :func:`profiler.pipeline.calibration.raw_score_sem`) where it gives one. With ``job_model`` every scored row is
    also evaluated (:mod:`profiler.batch.evaluation`; ``as_of`` dates the evidence). A completed run writes its
    manifest next to ``out`` and, with ``store``, records it in the audit log as ``actor``
    (:mod:`profiler.batch.manifest`).

    Raises
    ------
    BatchError
        The file is missing, empty, not UTF-8 or malformed; its header does not fit the questionnaire (unknown
        or duplicated columns, required items missing: all named at once); ``out`` is the input, a folder or
        cannot be written.
    NormsMismatchError
        The norms were built for other questionnaire content.
    """
    options = options or ScoreOptions()
    if is_url(responses):
        raise BatchError(f"{responses}: files in object storage are read by the Dask engine (--engine dask, "
                         "profiler.batch.dask_engine.score_file_dask); the local engine reads local files")
    responses, out = Path(responses), Path(out)
    started = datetime.now(UTC)
    plan = prepare(questionnaire, norms, responses, out, options, calibration=calibration, job_model=job_model,
                   as_of=as_of)
    chunks = read_ahead(plan.chunks())  # the next chunks are read while this one is scored
    try:
        run = write_scored(plan, ((plan.scorer.score(chunk), chunk.done) for chunk in chunks), out, options,
                           progress)
    finally:
        chunks.close()
    if run.stopped_at is None:
        finish(run, plan, [responses], [p for p in (out, options.rejects) if p is not None], questionnaire, norms,
               calibration, job_model, options, "local", None, started, store, actor)
    return run


def write_scored(plan: FilePlan, scored: Iterator[tuple[ScoredChunk, int]], out: Path, options: ScoreOptions,
                 progress: Progress | None) -> ScoreRun:
    """Write scored chunks, in order, to the staged output and rejects (``scored`` yields each chunk with the
    bytes of the file consumed so far); committed when the run completes, discarded when it stops or fails."""
    run = ScoreRun(out=out, norms=plan.scorer.placement.label)
    staged = [StagedFile(out, "the output")]
    output = None
    try:
        if options.rejects is not None:
            staged.append(StagedFile(options.rejects, "the rejects file"))
        output = ProfileOutput(staged[0], options.output_format, MEASURE_DECIMALS)
        rejects = staged[1] if len(staged) > 1 else None
        if rejects is not None:
            write_rejects_header(rejects, plan.header, options.id_column, plan.scorer.position)
        for chunk, done in scored:
            if not record(run, chunk, options):
                break
            if rejects is not None and len(chunk.bad_positions):
                write_rejects(rejects, chunk.rejects)
            if chunk.table is not None:
                output.write(chunk.table)
            if progress is not None:
                progress(done, run.rows)
        if run.stopped_at is None:
            output.close(plan.scorer.empty_table())
        else:
            output.abort()
    except BaseException:
        if output is not None:
            output.abort()  # its worker stops writing before the files are removed
        for file in staged:
            file.discard()
        raise
    for file in staged:
        file.discard() if run.stopped_at is not None else file.commit()
        if file.sha256 is not None:
            plan.hashed[file.path] = (file.sha256, file.size)
    return run


def finish(run: ScoreRun, plan: FilePlan, inputs: list[Location], outputs: list[Path], questionnaire: Questionnaire,
           norms: NormTable | None, calibration: RawScoreSEM | None, job_model: JobModel | None,
           options: ScoreOptions, engine: str, scheduler: str | None, started: datetime, store: Store | None,
           actor: str) -> None:
    """The manifest of a completed run, next to its output and (with a store) in the audit log."""
    if plan.read.complete:
        plan.hashed[plan.path] = (f"sha256:{plan.read.digest.hexdigest()}", plan.read.size)
    record = run_record(run, inputs=inputs, outputs=outputs, questionnaire=questionnaire, norms=norms,
                        calibration=calibration, job_model=job_model, options=options, engine=engine,
                        scheduler=scheduler, started=started, finished=datetime.now(UTC), hashed=plan.hashed)
    run.manifest = write_manifest(run.out, record)
    if store is not None:
        run.log_seq = record_run(store, record, actor)


class FilePlan:
    """A checked responses file: its header, item columns, how to read it in chunks, and the chunk scorer.

    ``read`` hashes the CSV as :meth:`chunks` reads it and ``hashed`` collects the files hashed as they were
    written (path -> ``sha256:<hex>``, bytes), so that the manifest does not read them again.
    """

    def __init__(self, path: Location, header: list[str], item_columns: list[str], options: ScoreOptions,
                 scorer: ChunkScorer, other: list[str]):
        self.path, self.header, self.item_columns, self.options = path, header, item_columns, options
        self.scorer, self.other = scorer, other
        self.read = ReadDigest()
        self.hashed: dict[Path, tuple[str, int]] = {}

    def chunks(self) -> Iterator[Chunk]:
        o = self.options
        if is_parquet(self.path):
            return parquet_chunks(self.path, self.item_columns, o.id_column, o.chunk_size, self.other)
        return csv_chunks(self.path, self.header, self.item_columns, o.id_column, o.sep, o.chunk_size, self.read)


def prepare(questionnaire: Questionnaire, norms: NormTable | None, responses: Location, out: Path,
            options: ScoreOptions, *, calibration: RawScoreSEM | None = None, job_model: JobModel | None = None,
            as_of: Any = None) -> FilePlan:
    """Check the input, the output's place and the header; the :class:`FilePlan` to run."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise BatchError("batch scoring reads and writes files with pyarrow, which is not installed: "
                         "pip install 'profiler-psychometrics[batch]'") from None
    check_source(responses)
    local = [] if is_url(responses) else [Path(responses).resolve()]
    if out.resolve() in local:
        raise BatchError("the output must not be the responses file")
    if options.rejects is not None and Path(options.rejects).resolve() in (out.resolve(), *local):
        raise BatchError("the rejects file must be neither the responses file nor the output")
    placed = placement(questionnaire, norms, calibration, options.percentiles)
    parquet = is_parquet(responses)
    header = parquet_header(responses) if parquet else read_header(responses, options.sep)
    evaluator, evidence = None, []
    if job_model is not None:
        check_job_model(job_model, questionnaire, norms)
        evidence = evidence_columns(job_model, header)
        evaluator = Evaluator(job_model, evidence, as_of_date(as_of))
    item_columns = check_header(header, questionnaire, options.id_column, frozenset(evidence))
    scorer = ChunkScorer(questionnaire, placed, header, item_columns, options.id_column,
                         "row" if parquet else "line", evaluator)
    return FilePlan(responses, header, item_columns, options, scorer, evidence)


def record(run: ScoreRun, scored: ScoredChunk, options: ScoreOptions) -> bool:
    """Add a chunk's counts and first messages to the run; False when the run stops at this chunk."""
    run.blank += scored.blank
    run.rows += scored.rows
    bad = len(scored.bad_positions)
    if bad:
        run.problems += scored.problems
        run.messages.extend(scored.messages[: max(0, SHOWN_PROBLEMS - len(run.messages))])
        if options.on_error == "stop":
            run.stopped_at = (*scored.span, bad)
            return False
        run.skipped += bad
    run.scored += scored.rows - bad
    return True


__all__ = ["FilePlan", "finish", "prepare", "record", "score_file", "write_scored"]
