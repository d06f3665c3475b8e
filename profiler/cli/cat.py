"""``profiler cat simulate BANK [--n 5000]``: a simulation study of an adaptive test, as a report.

BANK is a questionnaire with ``administration.adaptive`` (its adaptive scales with their own rules, facets and
banks), an IRT calibration (the id of a bundled one such as ``ipip-bfm-50``, a folder of ``<scale>.json``
artifacts or one artifact file; rules from the options), or ``synthetic`` (the 60-item, 6-facet bank
calibrated like a personality domain). Each scale's study draws true thetas from N(0, 1), answers every item
from the model, runs the adaptive test for everyone through the engine sessions use, and compares it with the
full-bank EAP theta: items used, SE reached, correlation with the full-bank and the true theta, bias, RMSE,
exposure of every item, facet coverage. ``--out FILE`` writes every figure as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from profiler.cli._common import EXIT_OK


def register(commands) -> None:
    cat = commands.add_parser("cat", help="computerized adaptive testing: simulation studies")
    actions = cat.add_subparsers(dest="action", metavar="ACTION", required=True)
    sim = actions.add_parser(
        "simulate", help="simulate an adaptive test and report items used, precision and exposure",
        description="Run the adaptive test of each scale of BANK for simulated respondents and report what it "
        "costs in items and gives in precision, against the full bank.")
    sim.add_argument("bank", metavar="BANK", help="a questionnaire with administration.adaptive, an IRT calibration "
                     "(bundled id, folder or file), or 'synthetic'")
    sim.add_argument("--n", type=int, default=5000, help="simulated respondents per scale (default 5000)")
    sim.add_argument("--seed", type=int, default=0, help="seed of the study (default 0)")
    sim.add_argument("--scale", action="append", dest="scales", metavar="SCALE",
                     help="only this scale (repeatable; default every scale of the bank)")
    rules = sim.add_argument_group("rules of a bank given without a questionnaire")
    rules.add_argument("--selection", choices=("fisher", "kl"), default="fisher")
    rules.add_argument("--exposure", choices=("none", "randomesque", "sympson-hetter"), default="none")
    rules.add_argument("--candidates", type=int, default=5, help="randomesque: draw among this many (default 5)")
    rules.add_argument("--se", default="0.3", help="stop at this SE (default 0.3), or 'full' for the SE of the "
                       "whole bank's marginal reliability, sqrt(1 - rxx)")
    rules.add_argument("--min-items", type=int, default=1)
    rules.add_argument("--max-items", type=int, default=None)
    rules.add_argument("--each-facet", type=int, default=0, help="items of every facet before stopping")
    sim.add_argument("--max-exposure", type=float, metavar="RATE",
                     help="first find Sympson-Hetter parameters that keep every item's exposure at most RATE "
                     "(iterated simulation), then run the study with them")
    sim.add_argument("--out", type=Path, metavar="FILE", help="write the report (every figure) as JSON")
    sim.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from profiler.cat.simulation import calibrate_sympson_hetter, simulate
    from profiler.errors import ProfilerError

    if args.n < 10:
        raise ProfilerError(f"--n must be at least 10 simulated respondents, got {args.n}")
    engines, source = _engines(args)
    report: dict[str, Any] = {"bank": source, "respondents": args.n, "seed": args.seed, "scales": {}}
    for scale, engine in engines.items():
        extra: dict[str, Any] = {}
        if args.max_exposure is not None:
            k, history = calibrate_sympson_hetter(engine, args.max_exposure, n=min(args.n, 2000), seed=args.seed + 1)
            engine = _with_rules(engine, replace(engine.rules, exposure="sympson-hetter", sympson_hetter=k))
            extra["sympson_hetter"] = {"max_rate": args.max_exposure, "parameters": k, "largest_exposure": history}
        summary = simulate(engine, args.n, seed=args.seed).summary()
        report["scales"][scale] = {**summary, **extra}
        _print(scale, summary)
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"report written to {args.out}")
    return EXIT_OK


def _with_rules(engine, rules):
    from profiler.cat.engine import CATEngine

    facets = [engine.facet_names[f] if f >= 0 else None for f in engine.facet_of]
    return CATEngine(engine.scale, engine.bank, rules, facets)


def _engines(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """Scale -> engine, and where the bank came from."""
    from profiler.cat.engine import CATEngine
    from profiler.cat.plan import adaptive_plan, resolve_bank
    from profiler.cat.synthetic import synthetic_bank
    from profiler.errors import ProfilerError
    from profiler.questionnaire.loader import bundled_questionnaires, load_questionnaire

    if args.bank == "synthetic":
        bank, facets = synthetic_bank()
        engines = {"synthetic": CATEngine("synthetic", bank, _rules(args, bank), facets)}
        source: dict[str, Any] = {"synthetic": "profiler.cat.synthetic_bank(): 60 GRM items, 6 facets, a ~ 1.4"}
    else:
        questionnaire = None
        path = Path(args.bank)
        if path.suffix in (".yaml", ".yml") or args.bank in bundled_questionnaires():
            questionnaire = load_questionnaire(args.bank)
        if questionnaire is not None and questionnaire.spec.administration.adaptive is not None:
            plan = adaptive_plan(questionnaire)
            assert plan is not None
            engines = {s.scale: s.engine for s in plan.scales}
            source = {"questionnaire": f"{questionnaire.id} {questionnaire.version}", "banks": plan.banks()}
        elif path.suffix in (".yaml", ".yml"):
            raise ProfilerError(f"{args.bank}: the questionnaire has no administration.adaptive section; give its "
                                "IRT calibration as BANK to simulate with the rules of the options")
        else:
            calibrations = resolve_bank(args.bank)
            engines = {scale: CATEngine(scale, c.bank(), _rules(args, c.bank())) for scale, c in calibrations.items()}
            source = {"calibrations": {scale: f"{c.name} {c.version} ({c.sha256})"
                                       for scale, c in calibrations.items()}}
    if args.scales:
        unknown = [s for s in args.scales if s not in engines]
        if unknown:
            raise ProfilerError(f"--scale {', '.join(unknown)}: not in the bank (scales: {', '.join(engines)})")
        engines = {s: engines[s] for s in args.scales}
    return engines, source


def _rules(args: argparse.Namespace, bank):
    from profiler.cat.rules import CATRules
    from profiler.errors import ProfilerError
    from profiler.irt.scoring import marginal_reliability

    if args.se == "full":
        se = math.sqrt(1.0 - marginal_reliability(bank))
    else:
        try:
            se = float(args.se)
        except ValueError:
            raise ProfilerError(f"--se must be a number or 'full', got {args.se!r}") from None
    return CATRules(selection=args.selection, exposure=args.exposure, candidates=args.candidates, se=se,
                    min_items=args.min_items, max_items=args.max_items, each_facet=args.each_facet)


def _print(scale: str, s: dict[str, Any]) -> None:
    used, se, r = s["items_used"], s["se"], s["correlation"]
    target = "no SE rule" if se["target"] is None else f"SE <= {se['target']:.3f} reached by {se['share_reached']:.1%}"
    lines = [f"{scale}: {s['respondents']:,} simulated respondents, bank of {s['bank_items']} items",
             f"  items used      mean {used['mean']:.2f} ({used['share_of_bank']:.1%} of the bank), median "
             f"{used['median']:g}, {used['min']}-{used['max']}",
             f"  precision       {target}; mean SE {se['mean']:.3f} (full bank {se['full_bank_mean']:.3f})",
             f"  theta           r with the full bank {r['cat_full']:.3f}, with the true theta {r['cat_true']:.3f} "
             f"(full bank {r['full_true']:.3f}); bias {s['bias']['cat_true']:+.3f}, RMSE {s['rmse']['cat_true']:.3f}",
             f"  exposure        max {s['exposure']['max']:.3f}, {s['exposure']['over_0.30']} item(s) over .30, "
             f"{s['exposure']['never_used']} never used",
             f"  stopped by      {', '.join(f'{k} {v:,}' for k, v in s['stop_reasons'].items())}"]
    if "facets" in s:
        lines.append(f"  facets          every facet covered for {s['facets']['share_with_every_facet']:.1%}")
    print("\n".join(lines))
    sys.stdout.flush()
