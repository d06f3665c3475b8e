"""Golden pages: the reports of the fixed cases in tests/fixtures/reports, byte for byte.

Nothing is normalised, with one documented exception: the inline SVG charts are matplotlib's output, which
may change between matplotlib releases (path precision, element order). The goldens record the matplotlib
version they were made with (``matplotlib-version.txt``); under another major.minor release the pages are
compared with every ``<svg ...>...</svg>`` element replaced by a placeholder, and the charts' own
determinism is checked in tests/reports/test_charts.py instead.

Regenerate after an intended change with ``PROFILER_REGENERATE_GOLDEN=1 pytest tests/reports`` and review
the diff (the pages open in any browser).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reports"
REGENERATE = os.environ.get("PROFILER_REGENERATE_GOLDEN") == "1"
VERSION_FILE = FIXTURES / "matplotlib-version.txt"
SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


@pytest.fixture(scope="module")
def pages(lib, case, cohort, audit) -> dict[str, str]:
    return lib.render_all(case, cohort, audit)


@pytest.mark.parametrize("name", ["recruiter.html", "candidate.html", "cohort.html", "fairness.html"])
def test_golden(pages, name):
    path = FIXTURES / name
    if REGENERATE:
        path.write_text(pages[name], encoding="utf-8", newline="")
        VERSION_FILE.write_text(matplotlib.__version__ + "\n", encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    actual = pages[name]
    made_with = VERSION_FILE.read_text(encoding="utf-8").strip()
    if _major_minor(made_with) != _major_minor(matplotlib.__version__):
        expected, actual = SVG.sub("<svg/>", expected), SVG.sub("<svg/>", actual)
    assert actual == expected, f"{name} differs from its golden file (regenerate with PROFILER_REGENERATE_GOLDEN=1)"


def test_rendering_twice_gives_the_same_bytes(lib, case, cohort, audit, pages):
    assert lib.render_all(case, cohort, audit) == pages


def test_another_process_gives_the_same_bytes(pages):
    """A fresh interpreter with another hash seed renders the same pages (no set order, no random ids)."""
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, str(Path(__file__).parent / "_fixtures.py")], capture_output=True,
                          text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == pages
