"""``profiler demo``: the whole pipeline on bundled defaults and simulated candidates (``make demo``)."""

from __future__ import annotations

import argparse


def register(commands) -> None:
    demo = commands.add_parser("demo", help="run the whole pipeline on bundled defaults and simulated candidates")
    demo.add_argument("--respondents", type=int, default=8, help="number of simulated candidates (default 8; the last two answer carelessly)")
    demo.add_argument("--seed", type=int, default=2024, help="seed of the simulation")
    demo.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from profiler.demo import run_demo

    return run_demo(n_respondents=args.respondents, seed=args.seed)
