"""Run every benchmark module and rewrite docs/benchmarks.md from their sections.

Each module ``benchmarks/bench_*.py`` defines ``run() -> str`` returning a markdown section (a ``##``
heading, what was timed, a table of medians and the ratio against a baseline timed in the same run).
``python -m benchmarks efa cfa`` runs only the named modules and keeps the other sections as they were;
``python -m benchmarks --collect`` runs nothing and only rebuilds docs/benchmarks.md from the sections.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from pathlib import Path

from benchmarks._timing import machine_facts

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
SECTIONS = DOCS.parent / "benchmarks"  # one markdown file per benchmark module, kept between runs

HEADER = """# Benchmarks

Figures are medians of repeated runs measured on this project's development machine; each table puts
profiler beside a baseline timed in the same run, so the ratio is meaningful even on a noisy machine.
Regenerate with `make benchmarks` (all) or `.venv/bin/python -m benchmarks NAME...` (some).
"""


def available() -> list[str]:
    names = [m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])]
    return sorted(n.removeprefix("bench_") for n in names if n.startswith("bench_"))


def main(argv: list[str]) -> int:
    wanted = [] if argv == ["--collect"] else (argv or available())
    SECTIONS.mkdir(parents=True, exist_ok=True)
    for name in wanted:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"running benchmarks.bench_{name} ...", flush=True)
        section = module.run().strip() + "\n"
        (SECTIONS / f"{name}.md").write_text(section, encoding="utf-8")
        print(section)
    parts = [HEADER, f"Machine: {machine_facts()}.\n"]
    for path in sorted(SECTIONS.glob("*.md")):
        parts.append(path.read_text(encoding="utf-8"))
    DOCS.write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {DOCS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
