"""The README's quick start runs as written, and the distribution name is the one the README tells to install."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PROJECT = Path(__file__).parents[1]
README = (PROJECT / "README.md").read_text(encoding="utf-8")


def test_quick_start_runs_as_written(capsys):
    section = README[README.index("## Quick start"):]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    exec(compile(code, "README.md (quick start)", "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    assert "Recommendation: " in out and "A person decides" in out


def test_install_names_the_distribution_of_pyproject():
    name = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]
    assert name == "profiler-psychometrics" and name != "profiler"
    assert f"pip install {name}" in README
