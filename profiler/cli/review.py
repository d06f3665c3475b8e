"""``profiler review``: a person decides on each recommendation; contests go to a second reviewer.

- ``review ID --decision accept|override|do-not-use [--outcome advance|not-advance] [--reason CODE]
  [--note TEXT] --reviewer ID --role ROLE``: record the decision on candidate ID's case: their open contest
  if they have one, otherwise their latest recommendation nobody has decided (``--recommendation N`` or
  ``--contest N`` to name one). An override and "do not use" need ``--reason`` and ``--note``; accepting
  the band ``review`` is refused.
- ``review show ID``: the candidate's recommendations, validity and measurement error first, with
  decisions and contests.
- ``review pending [MODEL]``: the review queue and the open contests (overdue ones marked).
- ``review contest ID --received-by ACTOR [--statement TEXT] [--assign REVIEWER] [--due YYYY-MM-DD]``:
  record the candidate's contest of their latest decision (``--decision N`` for another one).
- ``review assign CONTEST --reviewer ID --actor ACTOR``: route an open contest to a second reviewer.
- ``review confirm DECISION --reviewer ID --role ROLE [--note TEXT]``: a second person confirms an override
  (where the organisation asks for one; never its author).
- ``review refuse DECISION --reviewer ID --role ROLE --reason TEXT``: a second person refuses to confirm an
  override, saying why; the override does not stand and the recommendation waits for a new decision.
- ``review figures [MODEL]``: decisions, override and "do not use" rates, times to decision and contests
  per reviewer and per job model; exits 1 when a reviewer is flagged for rubber-stamping or a contest is
  overdue.
- ``review codes``: the reason codes in force.

``show``, ``pending``, ``contest``, ``assign``, ``confirm``, ``refuse``, ``figures`` and ``codes`` are reserved
words: candidate ids are pseudonyms such as ``cand-0123abcd...``, never these.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime

from profiler.cli._common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_db_option, db_location

ACTIONS = ("show", "pending", "contest", "assign", "confirm", "refuse", "figures", "codes")


def register(commands) -> None:
    review = commands.add_parser(
        "review", help="record a reviewer's decision, a contest, or show the review queue and oversight figures",
        description="Record a reviewer's decision on a candidate's recommendation: profiler review ID --decision "
        "accept|override|do-not-use ... Also: review show ID, review pending [MODEL], review contest ID ..., "
        "review assign CONTEST ..., review confirm DECISION ..., review refuse DECISION ..., review figures [MODEL], "
        "review codes.")
    review.add_argument("target", metavar="ID|ACTION", help="candidate id, or one of: " + ", ".join(ACTIONS))
    review.add_argument("argument", metavar="ARG", nargs="?", help="the candidate id, contest id or job model id "
                        "the action needs")
    add_db_option(review)
    decide = review.add_argument_group("deciding")
    decide.add_argument("--decision", choices=["accept", "override", "do-not-use", "do_not_use"])
    decide.add_argument("--outcome", choices=["advance", "not-advance", "not_advance"],
                        help="the outcome chosen (required with override)")
    decide.add_argument("--reason", metavar="CODE", help="reason code (required with override and do-not-use; "
                        "see: profiler review codes); with review refuse, why the override is not confirmed")
    decide.add_argument("--note", metavar="TEXT", help="why, in words (required with override and do-not-use)")
    decide.add_argument("--reviewer", metavar="ID", help="who decides")
    decide.add_argument("--role", metavar="ROLE", help="the reviewer's role, e.g. hiring_manager")
    decide.add_argument("--recommendation", type=int, metavar="N", help="decide this recommendation")
    decide.add_argument("--contest", type=int, metavar="N", help="decide this contest")
    contest = review.add_argument_group("contests")
    contest.add_argument("--received-by", metavar="ACTOR", help="who took the contest in")
    contest.add_argument("--statement", metavar="TEXT", help="the candidate's reasons")
    contest.add_argument("--assign", metavar="REVIEWER", help="the second reviewer")
    contest.add_argument("--due", type=_date, metavar="YYYY-MM-DD", help="due date (default: in 14 days or the "
                         "store's setting)")
    contest.add_argument("--against", type=int, metavar="N", dest="against",
                         help="contest this decision (default: the candidate's latest)")
    contest.add_argument("--actor", metavar="ACTOR", help="who assigns (review assign)")
    figures = review.add_argument_group("figures")
    figures.add_argument("--min-decisions", type=int, metavar="N", help="rubber-stamp rule: at least N decisions")
    figures.add_argument("--max-override-rate", type=float, metavar="RATE",
                         help="rubber-stamp rule: override rate below RATE (e.g. 0.02)")
    review.set_defaults(func=run)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _usage(message: str) -> int:
    print(f"profiler review: {message}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    from profiler.oversight.review import Review
    from profiler.store import Store

    action = args.target if args.target in ACTIONS else "decide"
    needs = {"show": "a candidate id", "contest": "a candidate id", "assign": "a contest id",
             "confirm": "a decision id", "refuse": "a decision id"}
    if action in needs and args.argument is None:
        return _usage(f"review {action} needs {needs[action]}")
    if action == "decide" and args.argument is not None:
        return _usage(f"unexpected argument {args.argument!r} (did you mean one of: {', '.join(ACTIONS)}?)")
    with Store(db_location(args), create=False) as store:
        review = Review(store)
        return {"decide": _decide, "show": _show, "pending": _pending, "contest": _contest, "assign": _assign,
                "confirm": _confirm, "refuse": _refuse, "figures": _figures, "codes": _codes}[action](review, args)


def _decide(review, args) -> int:
    from profiler.pipeline.review_target import decide_for_candidate

    candidate = args.target
    missing = [f"--{name}" for name in ("decision", "reviewer", "role") if getattr(args, name) is None]
    if missing:
        return _usage(f"to record a decision on {candidate} give {', '.join(missing)}")
    decision, target = decide_for_candidate(
        review, candidate, args.decision, reviewer=args.reviewer, role=args.role,
        outcome=args.outcome.replace("-", "_") if args.outcome else None, reason=args.reason, note=args.note,
        recommendation=args.recommendation, contest=args.contest)
    result = decision.outcome or "do not use"
    reason = f", reason {decision.reason}" if decision.reason else ""
    print(f"decision {decision.id} recorded for {candidate} on {target.describe()}: {decision.decision} -> "
          f"{result}{reason}; by {decision.reviewer} ({decision.role}); log entry {decision.audit_seq}")
    return EXIT_OK


def _show(review, args) -> int:
    candidate = args.argument
    recommendations = review.recommendations(candidate)
    if not recommendations:
        print(f"no recommendation recorded for {candidate}")
    decisions = review.decisions(candidate)
    refused = {r.decision_id: r for r in review.refusals(candidate)}
    for rec in recommendations:
        print(rec.summary())
        for d in decisions:
            if d.recommendation_id == rec.id:
                print(f"  {d.stage} decision {d.id}: {d.decision} -> {d.outcome or 'do not use'} by {d.reviewer} "
                      f"({d.role}) on {d.decided_at:%Y-%m-%d %H:%M} UTC"
                      + (f"; reason {d.reason}: {d.note}" if d.reason else ""))
                if d.id in refused:
                    r = refused[d.id]
                    print(f"    not confirmed: {r.refused_by} ({r.role}) refused on {r.refused_at:%Y-%m-%d} "
                          f"({r.reason}); it does not stand")
        print()
    for c in review.contests(candidate):
        overdue = " OVERDUE" if c.overdue() else ""
        print(f"contest {c.id} of decision {c.decision_id}: {c.status}{overdue}, due {c.due:%Y-%m-%d}, assigned to "
              f"{c.assigned_to or 'nobody yet'}")
    return EXIT_OK


def _pending(review, args) -> int:
    queue = review.pending(job_model=args.argument)
    print(f"{len(queue)} recommendation(s) awaiting a decision")
    for rec in queue:
        flag = "  INVALID RESPONSES" if rec.validity_verdict == "invalid" else ""
        score = "-" if rec.score is None else f"{rec.score:.1f}"
        print(f"  {rec.id}: {rec.candidate} {rec.job_model_id} {rec.job_model_version} band {rec.band} "
              f"(score {score}), recorded {rec.recorded_at:%Y-%m-%d %H:%M} UTC{flag}")
    contests = [c for c in review.contests(status="open")
                if args.argument is None or c.job_model_id == args.argument]
    print(f"{len(contests)} open contest(s)")
    for c in contests:
        print(f"  {c.id}: {c.candidate}, decision {c.decision_id} by {c.first_reviewer}; due {c.due:%Y-%m-%d}"
              f"{' OVERDUE' if c.overdue() else ''}; assigned to {c.assigned_to or 'nobody yet'}")
    return EXIT_OK


def _contest(review, args) -> int:
    if args.received_by is None:
        return _usage("review contest needs --received-by ACTOR (who took the contest in)")
    decision_id = args.against if args.against is not None else review.latest_decision(args.argument).id
    contest = review.contest(decision_id, received_by=args.received_by, statement=args.statement,
                             assign_to=args.assign, due=args.due)
    print(f"contest {contest.id} recorded for {contest.candidate} against decision {contest.decision_id} by "
          f"{contest.first_reviewer}; due {contest.due:%Y-%m-%d %H:%M} UTC; assigned to "
          f"{contest.assigned_to or 'nobody yet (profiler review assign ' + str(contest.id) + ' --reviewer ID ...)'}")
    return EXIT_OK


def _assign(review, args) -> int:
    try:
        contest_id = int(args.argument)
    except ValueError:
        return _usage(f"review assign takes a contest id (a number), got {args.argument!r}")
    if args.reviewer is None or args.actor is None:
        return _usage("review assign needs --reviewer ID and --actor ACTOR")
    contest = review.assign(contest_id, args.reviewer, actor=args.actor)
    print(f"contest {contest.id} assigned to {contest.assigned_to}; due {contest.due:%Y-%m-%d}")
    return EXIT_OK


def _second_person(args, action: str, *needed: str) -> int | None:
    """The decision id a confirmation or refusal is about, or None after a usage message."""
    try:
        decision_id = int(args.argument)
    except ValueError:
        _usage(f"review {action} takes a decision id (a number), got {args.argument!r}")
        return None
    missing = [f"--{name} {name.upper()}" for name in ("reviewer", "role", *needed) if getattr(args, name) is None]
    if missing:
        _usage(f"review {action} needs {' and '.join(missing)}")
        return None
    return decision_id


def _confirm(review, args) -> int:
    decision_id = _second_person(args, "confirm")
    if decision_id is None:
        return EXIT_USAGE
    confirmation = review.confirm(decision_id, reviewer=args.reviewer, role=args.role, note=args.note)
    print(f"decision {confirmation.decision_id} by {confirmation.decided_by} confirmed by "
          f"{confirmation.confirmed_by} ({confirmation.role}); record {confirmation.id}")
    return EXIT_OK


def _refuse(review, args) -> int:
    decision_id = _second_person(args, "refuse", "reason")
    if decision_id is None:
        return EXIT_USAGE
    refusal = review.refuse_confirmation(decision_id, reviewer=args.reviewer, role=args.role, reason=args.reason)
    print(f"decision {refusal.decision_id} by {refusal.decided_by} not confirmed: {refusal.refused_by} "
          f"({refusal.role}) refused ({refusal.reason}); record {refusal.id}; recommendation "
          f"{refusal.recommendation_id} waits for a new decision")
    return EXIT_OK


def _figures(review, args) -> int:
    from dataclasses import replace

    rule = review.settings.rubber_stamp
    if args.min_decisions is not None:
        rule = replace(rule, min_decisions=args.min_decisions)
    if args.max_override_rate is not None:
        rule = replace(rule, max_override_rate=args.max_override_rate)
    figures = review.figures(job_model=args.argument, rule=rule)
    print(figures)
    overdue = int(figures.by_job_model["contests_overdue"].sum()) if len(figures.by_job_model) else 0
    if overdue:
        print(f"WARNING: {overdue} contest(s) overdue (as of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    return EXIT_PROBLEMS if figures.warnings or overdue else EXIT_OK


def _codes(review, args) -> int:
    for code, text in review.reason_codes.items():
        print(f"{code:<24}{text}")
    print(f"contests are due {review.settings.contest_days} days after they are filed")
    return EXIT_OK
