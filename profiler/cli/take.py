"""``profiler take QUESTIONNAIRE``: administer a questionnaire in the terminal, one item at a time.

Reads one line per action from standard input (so scripts and tests can drive it): the number of an
option (a number for number items), ``b`` back, ``s`` skip, Enter to keep an earlier answer, ``q`` quit.
End of input quits like ``q``. Every answer is committed to the store before the next item is shown; a
quit session is resumed with ``--resume SESSION_ID``.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys

from profiler.cli._common import EXIT_OK, add_db_option, db_hint, db_location, terminal_text

PROMPT = "> "
BAR_WIDTH = 24
EXIT_INTERRUPTED = 130


def register(commands) -> None:
    take = commands.add_parser("take", help="administer a questionnaire in the terminal (resumable)")
    take.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="questionnaire YAML file or bundled id")
    take.add_argument("--language", help="language of the items (default: the questionnaire's default)")
    add_db_option(take)
    take.add_argument("--resume", metavar="SESSION_ID", help="continue a session where it stopped")
    take.add_argument("--respondent", metavar="ID", help="pseudonymous respondent id (never a name or e-mail)")
    take.add_argument("--seed", type=int, help="seed of a random item order (default: drawn and recorded)")
    take.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from profiler.administration import Session, SessionError
    from profiler.questionnaire.loader import load_questionnaire
    from profiler.store import Store

    questionnaire = load_questionnaire(args.questionnaire)
    with Store(db_location(args), create=args.resume is None) as store:
        if args.resume:
            session = Session.resume(store, args.resume, questionnaire=questionnaire)
            if args.language and args.language != session.language:
                raise SessionError(f"session {session.id!r} is in {session.language!r}; it cannot change language")
            _say(f"Resuming session {session.id} at item {min(session.position + 1, len(session.order))} "
                 f"of {len(session.order)}.")
        else:
            session = Session.start(store, questionnaire, respondent=args.respondent, language=args.language,
                                    seed=args.seed)
            _introduce(session)
        # Never the password of a database URL: the hint names the store without it (db_hint).
        resume_hint = f"profiler take {shlex.quote(args.questionnaire)}{db_hint(args)} --resume {session.id}"
        try:
            done = _administer(session)
        except KeyboardInterrupt:
            done = None
        if not done:
            session.pause()
            hidden = " (the password of --db is not shown: type it again, or set PROFILER_DB)" \
                if "***" in resume_hint else ""
            _say(f"\nPaused. Your answers are saved. Resume with:\n  {resume_hint}{hidden}")
            return EXIT_INTERRUPTED if done is None else EXIT_OK
        _summarize(session)
    return EXIT_OK


def _administer(session) -> bool:
    """Show items and record actions until the session is finished (True) or the respondent quits (False)."""
    from profiler.administration import AnswerError, SessionError, SessionExpiredError

    last_page = None
    while not session.finished:
        if session.check_time():
            _say("\nTime is up: the session's time limit has passed. Your answers so far are kept.")
            session.finish()
            break
        prompt = session.current()
        if prompt is None:
            if not session.questionnaire.spec.administration.allow_back:
                session.finish()
                break
            _say(f"\nAll {len(session.order)} items are done. Enter = finish, b = back, q = quit.")
        else:
            if prompt.page != last_page and prompt.pages > 1:
                title = f": {prompt.page_title}" if prompt.page_title else ""
                _say(f"\n— Part {prompt.page + 1} of {prompt.pages}{title} —")
            last_page = prompt.page
            _show(prompt, session.language)
        while True:  # read until an action is accepted; re-prompt on anything else
            line = _read()
            if line is None or line.lower() == "q":
                return False
            try:
                _act(session, prompt, line)
                break
            except SessionExpiredError:
                break
            except (AnswerError, SessionError, ValueError) as exc:
                _say(f"  ! {_plain(exc, prompt)}")
    return True


def _act(session, prompt, line: str) -> None:
    """Carry out one typed action; raises (and records nothing) when it is not accepted."""
    command = line.lower()
    if prompt is None:  # past the last item
        if command == "":
            session.finish()
        elif command == "b":
            session.back()
        else:
            raise ValueError("press Enter to finish, b to go back or q to quit")
        return
    if command == "b":
        session.back()
    elif command == "s":
        session.skip()
    elif command == "":
        if prompt.answer is None and prompt.item_id not in session.answers():
            raise ValueError(f"type {_expected(prompt)}")
        session.forward()
    else:
        session.answer(prompt.parse(line))


def _show(prompt, language: str) -> None:
    done = prompt.position
    filled = round(BAR_WIDTH * done / prompt.total)
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    left = ""
    if prompt.remaining_seconds is not None:
        minutes, seconds = divmod(math.ceil(prompt.remaining_seconds), 60)
        left = f"   {minutes}:{seconds:02d} left"
    most = "at most " if prompt.adaptive else ""  # an adaptive test stops when it has measured enough
    _say(f"\n[{bar}] {prompt.position + 1}/{most}{prompt.total}{left}")
    marker = f" [{prompt.language}]" if prompt.language != language else ""  # a missing translation
    _say(f"{prompt.text}{marker}")
    for option in prompt.options:
        _say(f"  {option.key}  {option.label}")
    if prompt.number is not None:
        _say(f"  Type {_expected(prompt)}.")
    hints = [h for h, ok in (("b back", prompt.can_go_back), ("s skip", prompt.can_skip)) if ok] + ["q quit"]
    if prompt.answer is not None:
        current = next((o.label for o in prompt.options if o.value == prompt.answer), f"{prompt.answer:g}")
        hints.insert(0, f"Enter keeps {current}")
    _say("  (" + ", ".join(hints) + ")")


def _expected(prompt) -> str:
    if prompt.number is not None:
        from profiler.administration.prompt import describe_number

        return describe_number(prompt.number)
    return f"a number from 1 to {len(prompt.options)}"


def _plain(exc: Exception, prompt) -> str:
    """The error in the respondent's terms (keys rather than stored values)."""
    from profiler.administration import AnswerError

    if isinstance(exc, AnswerError) and prompt is not None:
        return f"{exc.value!r} is not an answer here: type {_expected(prompt)}" + (
            ", b, s or q" if prompt.can_skip and prompt.can_go_back else
            ", s or q" if prompt.can_skip else ", b or q" if prompt.can_go_back else " or q")
    return str(exc)


def _introduce(session) -> None:
    q = session.questionnaire
    status = q.spec.languages[session.language]
    if status.status == "unvalidated":
        note = f" ({status.note})" if status.note else ""
        text = f"note: the {session.language!r} version of {q.id} is an unvalidated translation{note}"
        print(terminal_text(text), file=sys.stderr)
    plan = session.adaptive_plan
    if plan is None:
        count = f"{len(session.order)} items"
    else:
        count = (f"at most {plan.max_items_after(tuple(session.order[:len(plan.fixed_items)]))} items; "
                 f"adaptive: {', '.join(s.scale for s in plan.scales)} (each item is chosen from your answers so far, "
                 "and there is no going back)")
    _say(f"{q.title(session.language)}\n"
         f"Session {session.id} (respondent {session.respondent}); {count}.\n"
         "Type the number of your answer and press Enter.")


def _summarize(session) -> None:
    q = session.questionnaire
    answers = session.answers()
    answered = sum(v is not None for v in answers.values())
    minutes, seconds = divmod(round(session.elapsed_seconds()), 60)
    expired = " (time limit reached)" if session.expired else ""
    _say(f"\nFinished{expired}: {answered} of {len(session.order)} items answered, time on task {minutes} min "
         f"{seconds:02d} s.\nSession {session.id}.\n\n"
         + ("Raw scale scores:" if session.adaptive_plan is None else "Scale scores (adaptive scales: EAP theta and SE):"))
    scores = q.score(session.responses(), invalid="missing").iloc[0]
    width = max(len(_scale_name(q, s, session.language)) for s in q.scale_ids)
    adaptive = session.adaptive_scores()
    for scale_id in q.scale_ids:
        value = scores[scale_id]
        if scale_id in adaptive.index:  # scored by IRT: the items given differ from person to person
            row = adaptive.loc[scale_id]
            shown = f"theta {row['theta']:+.2f}, SE {row['se']:.2f} ({int(row['items'])} items, adaptive)"
        else:
            shown = "—  (too few answers)" if math.isnan(value) else f"{value:.2f}"
        _say(f"  {_scale_name(q, scale_id, session.language):<{width}}  {shown}")


def _scale_name(q, scale_id: str, language: str) -> str:
    names = q.scale(scale_id).name or {}
    return names.get(language) or names.get(q.default_language) or scale_id


def _say(text: str) -> None:
    # Everything shown to the respondent passes here: item texts, labels and titles come from the
    # questionnaire's author, and a terminal must not act on escape sequences in them.
    print(terminal_text(text), flush=True)


def _read() -> str | None:
    """One line from standard input without its newline; None at end of input."""
    sys.stdout.write(PROMPT)
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not sys.stdin.isatty():  # scripted input: echo it so that the transcript reads like a terminal
        sys.stdout.write(terminal_text(line.rstrip("\n")) + "\n")
    return line.strip() if line else None
