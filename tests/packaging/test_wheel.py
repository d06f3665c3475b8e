"""The built wheel carries the bundled questionnaires and models, and finds them when installed."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).parents[2]

pytestmark = pytest.mark.wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(PROJECT)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{result.stdout}\n{result.stderr}")
    (path,) = out.glob("profiler_psychometrics-*.whl")  # the distribution's name; the module is profiler
    return path


def test_wheel_contains_bundled_files(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "profiler/_bundled/questionnaires/ipip-bfm-50.yaml" in names
    assert "profiler/_bundled/questionnaires/schema.json" in names
    assert not any(name.startswith("tests/") for name in names)


def test_installed_wheel_loads_bundled_questionnaire_by_id(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    script = (
        "import profiler; q = profiler.load_questionnaire('ipip-bfm-50'); "
        "print(profiler.__file__); print(q.source, len(q.items), q.content_hash)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    module_file, summary = result.stdout.splitlines()
    assert module_file.startswith(str(target)), "the test must import the installed wheel, not the checkout"
    source, n_items, content_hash = summary.split()
    assert source == "bundled:ipip-bfm-50" and n_items == "50"
    import profiler

    assert content_hash == profiler.load_questionnaire("ipip-bfm-50").content_hash
