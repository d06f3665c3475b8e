"""``profiler model stop|resume|status``: the global stop of a job model (EU AI Act Art. 14(4)(e)).

- ``stop MODEL --operator ID --reason TEXT [--version V]``: no recommendation is produced with the model
  (one version, or every version without ``--version``) until it is resumed; a batch running now stops at
  its next candidate, leaving no half-written case.
- ``resume MODEL --operator ID --reason TEXT [--version V]``: end the stop (without ``--version``: every
  stop of the model).
- ``status [MODEL]``: the stops in force (``--all`` for the history with resumptions).

Stops and resumptions are logged (``model.stopped``, ``model.resumed``) with the operator and the reason.
"""

from __future__ import annotations

import argparse

from profiler.cli._common import EXIT_OK, add_db_option, db_location


def register(commands) -> None:
    model = commands.add_parser("model", help="stop or resume a job model (no recommendations while stopped)")
    actions = model.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = argparse.ArgumentParser(add_help=False)
    add_db_option(common)
    for name, text in (("stop", "stop a job model: no recommendation is produced with it until resumed"),
                       ("resume", "resume a stopped job model")):
        action = actions.add_parser(name, parents=[common], help=text, description=text)
        action.add_argument("model", metavar="MODEL", help="job model id, e.g. customer-support")
        action.add_argument("--version", default=None, help="one version only (default: every version)")
        action.add_argument("--operator", required=True, metavar="ID", help="who acts (logged)")
        action.add_argument("--reason", required=True, help="why (logged)")
        action.set_defaults(func=run_stop if name == "stop" else run_resume)
    status = actions.add_parser("status", parents=[common], help="list the stops in force")
    status.add_argument("model", metavar="MODEL", nargs="?", help="one job model id (default: all)")
    status.add_argument("--all", action="store_true", help="the whole history, resumed stops included")
    status.set_defaults(func=run_status)


def run_stop(args: argparse.Namespace) -> int:
    from profiler.oversight.control import ModelControl
    from profiler.store import Store

    # create=False: a mistyped --db must not stop the model in a new, empty store while the real one runs on
    with Store(db_location(args), create=False) as store:
        stop = ModelControl(store).stop(args.model, version=args.version, operator=args.operator, reason=args.reason)
    print(f"stopped {_describe(stop)}; log entry {stop.stop_seq}")
    return EXIT_OK


def run_resume(args: argparse.Namespace) -> int:
    from profiler.oversight.control import ModelControl
    from profiler.store import Store

    with Store(db_location(args), create=False) as store:
        ended = ModelControl(store).resume(args.model, version=args.version, operator=args.operator,
                                           reason=args.reason)
    for stop in ended:
        print(f"resumed {_describe(stop)}; log entry {stop.resume_seq}")
    return EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    from profiler.oversight.control import ModelControl
    from profiler.store import Store

    with Store(db_location(args), create=False) as store:
        control = ModelControl(store)
        stops = control.history(args.model) if args.all else control.active(args.model)
    if not stops:
        print("no stop in force" if not args.all else "no stop recorded")
    for stop in stops:
        line = f"{'STOPPED' if stop.active else 'resumed'}: {_describe(stop)}"
        if not stop.active:
            line += f"; resumed by {stop.resumed_by} on {stop.resumed_at:%Y-%m-%d %H:%M} UTC: {stop.resume_reason}"
        print(line)
    return EXIT_OK


def _describe(stop) -> str:
    scope = "every version" if stop.job_model_version is None else f"version {stop.job_model_version}"
    return (f"job model {stop.job_model_id} ({scope}) by {stop.stopped_by} on {stop.stopped_at:%Y-%m-%d %H:%M} UTC: "
            f"{stop.reason}")
