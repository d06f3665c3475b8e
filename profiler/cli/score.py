"""``profiler score QUESTIONNAIRE RESPONSES [--norms NAME] --out PROFILES``: batch trait profiles (CSV or Parquet).

Without ``--norms`` (a questionnaire that has none yet) it writes raw scale scores, labelled as not normed,
with the SEM of a calibration (``--calibration``, or the one shipped for the questionnaire) where one exists.

The command parses its options and prints; :func:`profiler.batch.score_file` does the work (chunks,
one validation, bad rows by CSV line, the output written whole or not at all; see its module for the format).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from profiler.cli._common import EXIT_OK, EXIT_PROBLEMS, add_db_option, db_location, default_actor


def register(commands) -> None:
    score = commands.add_parser(
        "score",
        help="score many respondents' answers (CSV or Parquet) to trait profiles against a norm group, or to "
        "raw scores",
        description="Score a file of answers (CSV or Parquet; one row per respondent, one column per item) to "
        "trait profiles against a norm group, chunk by chunk; without --norms, to raw scale scores (not normed).",
    )
    score.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="questionnaire YAML file or bundled id")
    score.add_argument("responses", metavar="RESPONSES",
                       help="answers, one row per respondent: a CSV file, or Parquet (.parquet); with --engine dask "
                       "also a URL of object storage (s3://...)")
    score.add_argument("--norms", metavar="NAME",
                       help="norm group shipped for the questionnaire (e.g. general) or a norm table .json; without "
                       "it, raw scale scores (not normed)")
    score.add_argument("--calibration", metavar="calibration.json",
                       help="without --norms: the calibration (a profiler calibrate report, or a factor model) whose "
                       "reliabilities give each raw score's SEM (default: the one shipped for the questionnaire)")
    score.add_argument("--out", required=True, type=Path, metavar="PROFILES", help="where to write profiles")
    score.add_argument("--format", choices=("csv", "parquet"), default=None,
                       help="format of the profiles (default: parquet when --out ends in .parquet, else csv)")
    score.add_argument("--id-column", metavar="COLUMN", help="a column identifying respondents, copied to the output")
    score.add_argument("--on-error", choices=("stop", "skip"), default="stop",
                       help="stop at the first chunk with a bad row (default), or skip bad rows and report them")
    score.add_argument("--rejects", type=Path, metavar="REJECTS.csv",
                       help="with --on-error skip: write the skipped rows, their line numbers and problems here")
    score.add_argument("--percentiles", choices=("empirical", "normal"),
                       help="with --norms: empirical (mid-rank in the norm sample, default) or normal-theory percentiles")
    score.add_argument("--chunk-size", type=int, default=16_384, metavar="ROWS", help="rows per chunk (default 16384)")
    score.add_argument("--sep", default=",", help="field separator of the CSV (default ',')")
    score.add_argument("--job-model", metavar="ID",
                       help="also evaluate every scored respondent against this job model (bundled id or YAML file): "
                       "band, score, contributions, stability, counterfactual distances")
    score.add_argument("--as-of", metavar="YYYY-MM-DD", help="with --job-model: the evaluation date (default: today)")
    score.add_argument("--engine", choices=("local", "dask"), default="local",
                       help="local: this process, chunk by chunk (default); dask: partitions on Dask's threads, or on "
                       "a distributed cluster with --scheduler")
    score.add_argument("--scheduler", metavar="ADDRESS",
                       help="with --engine dask: the address of a distributed scheduler (e.g. tcp://10.0.0.5:8786)")
    score.add_argument("--actor", default=None, help="who runs the batch, for the audit log (default: cli:<login>)")
    add_db_option(score)
    progress = score.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="show a progress bar on stderr (default: when stderr is a terminal)")
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    score.set_defaults(func=run)  # fmt: skip


class _Progress:
    """A one-line progress bar on stderr, driven by the bytes of the CSV consumed so far."""

    def __init__(self, total_bytes: int, enabled: bool, stream=None):
        self.total = max(total_bytes, 1)
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    def update(self, done_bytes: int, rows: int) -> None:
        if not self.enabled:
            return
        share = min(done_bytes / self.total, 1.0)
        bar = "#" * round(30 * share)
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\rscoring [{bar:<30}] {share:4.0%}  {rows:,} rows  {elapsed:.1f} s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    from profiler.errors import ProfilerError
    from profiler.norms import load_norms
    from profiler.batch import ScoreOptions, score_file
    from profiler.batch.reading import PARQUET_SUFFIXES
    from profiler.batch.sources import as_location, source_size
    from profiler.jobmodel import load_job_model
    from profiler.questionnaire import load_questionnaire
    from profiler.store import Store
    from profiler.store.redaction import redact_url

    # The flags' own rules, worded in flags (the pipeline checks the same options for library callers).
    if args.chunk_size < 1:
        raise ProfilerError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    if args.rejects is not None and args.on_error != "skip":
        raise ProfilerError("--rejects only applies with --on-error skip (with stop, nothing is skipped)")
    if len({"\\t": "\t", "tab": "\t"}.get(args.sep, args.sep)) != 1:
        raise ProfilerError(f"--sep must be one character (or \\t for a tab), got {args.sep!r}")
    if args.norms is None and args.percentiles is not None:
        raise ProfilerError("--percentiles needs --norms: raw scores are not placed against a norm group")
    if args.norms is not None and args.calibration is not None:
        raise ProfilerError("--calibration applies to raw scores only; with --norms the SEM comes from the norm table")
    percentiles = args.percentiles or "empirical"
    fmt = args.format or ("parquet" if args.out.suffix.lower() in PARQUET_SUFFIXES else "csv")
    options = ScoreOptions(id_column=args.id_column, on_error=args.on_error, rejects=args.rejects,
                           percentiles=percentiles, chunk_size=args.chunk_size, sep=args.sep, output_format=fmt)
    if args.scheduler is not None and args.engine != "dask":
        raise ProfilerError("--scheduler is the address of a Dask scheduler: it needs --engine dask")
    if args.as_of is not None and args.job_model is None:
        raise ProfilerError("--as-of dates a job model's evidence: it needs --job-model")
    questionnaire = load_questionnaire(args.questionnaire)
    job_model = load_job_model(args.job_model) if args.job_model is not None else None
    norms = load_norms(questionnaire, args.norms) if args.norms is not None else None
    calibration, sem_note = None, ""
    if norms is None:  # imported here: the calibration's module pulls factor analysis, which normed runs skip
        from profiler.pipeline.calibration import raw_score_sem

        calibration, sem_note = raw_score_sem(questionnaire, args.calibration)
    shown = sys.stderr.isatty() if args.progress is None else args.progress
    responses = as_location(args.responses)
    bar = _Progress(source_size(responses), shown)
    try:
        with Store(db_location(args)) as store:
            common = dict(progress=bar.update, calibration=calibration, job_model=job_model, as_of=args.as_of,
                          store=store, actor=args.actor or default_actor())
            if args.engine == "dask":
                from profiler.batch.dask_engine import score_file_dask

                run = score_file_dask(questionnaire, norms, responses, args.out, options,
                                      scheduler=args.scheduler, **common)
            else:
                run = score_file(questionnaire, norms, responses, args.out, options, **common)
    finally:
        bar.close()
    for message in run.messages:
        print(message, file=sys.stderr)
    if run.problems > len(run.messages):
        print(f"... and {run.problems - len(run.messages):,} more problem(s)", file=sys.stderr)
    if not run.complete:
        first, last, bad = run.stopped_at
        print(
            f"profiler score: stopped at the chunk of lines {first}-{last}, which has {bad:,} bad row(s); nothing "
            f"was written to {args.out}. Fix them, or pass --on-error skip to score the other rows.",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    if run.blank:
        print(f"profiler score: {run.blank:,} blank line(s) ignored", file=sys.stderr)
    if run.skipped:
        where = f"all are in {args.rejects}" if args.rejects else "pass --rejects FILE to get them all"
        print(f"profiler score: skipped {run.skipped:,} bad row(s) with {run.problems:,} problem(s); {where}",
              file=sys.stderr)  # fmt: skip
    if norms is None:
        print(f"scored {run.scored:,} of {run.rows:,} respondents -> {args.out}: RAW scale scores, NOT normed "
              f"(no norm group was given, so no z, T, percentiles or bands); {sem_note}")
    else:
        print(f"scored {run.scored:,} of {run.rows:,} respondents -> {args.out} "
              f"(norm group {norms.name} {norms.version}, {norms.sha256[:19]}..., {percentiles} percentiles)")
    if job_model is not None:
        print(f"evaluated against job model {job_model.id} {job_model.version} ({job_model.content_hash[:19]}...)")
    print(f"run manifest -> {run.manifest}; recorded in the audit log of {redact_url(db_location(args))} "
          f"(entry {run.log_seq})")
    return EXIT_OK if run.scored or not run.rows else EXIT_PROBLEMS
