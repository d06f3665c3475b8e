"""The committed JSON Schema, and the ``profiler check`` / ``profiler schema`` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from profiler.cli import main
from profiler.questionnaire.schema import questionnaire_schema_text
from profiler.yamlsource import read_yaml_file

PROJECT = Path(__file__).parents[2]
SCHEMA = PROJECT / "questionnaires" / "schema.json"
FIXTURES = PROJECT / "tests" / "fixtures" / "questionnaires"


def _plain(node):
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return type(node).__mro__[1](node) if type(node).__name__.startswith("Source") else node
    return node


def test_committed_schema_is_current():
    assert SCHEMA.read_text(encoding="utf-8") == questionnaire_schema_text(), (
        "questionnaires/schema.json is stale: run `make schema` and commit it"
    )


def test_schema_is_valid_draft07_and_accepts_the_bundled_files():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    for path in [PROJECT / "questionnaires" / "ipip-bfm-50.yaml", FIXTURES / "mini.yaml"]:
        errors = list(validator.iter_errors(_plain(read_yaml_file(path).data)))
        assert not errors, [e.message for e in errors]


def test_schema_rejects_an_unknown_key():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    data = _plain(read_yaml_file(FIXTURES / "mini.yaml").data)
    data["administration"]["alow_back"] = False
    assert not jsonschema.Draft7Validator(schema).is_valid(data)


def test_check_ok_and_warnings(capsys):
    assert main(["check", "ipip-bfm-50"]) == 0
    out = capsys.readouterr().out
    assert "ipip-bfm-50: ok" in out and "translation 'fr' is not validated" in out
    assert main(["check", "--strict", "ipip-bfm-50"]) == 1


def test_check_reports_errors_without_traceback(capsys):
    broken = FIXTURES / "broken" / "several_problems.yaml"
    assert main(["check", str(broken), str(FIXTURES / "mini.yaml")]) == 1
    captured = capsys.readouterr()
    assert "several_problems.yaml:70:3: unknown key 'alow_back' (did you mean 'allow_back'?)" in captured.err
    assert "mini.yaml: ok" in captured.out
    assert "Traceback" not in captured.err


def test_check_single_scale_warning(capsys):
    assert main(["check", str(FIXTURES / "mini.yaml")]) == 0
    assert "scale 'Tenure' has 1 item(s)" in capsys.readouterr().out


def test_python_dash_m_and_schema_command():
    result = subprocess.run([sys.executable, "-m", "profiler", "schema"], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)["title"] == "profiler questionnaire"
    bad = subprocess.run([sys.executable, "-m", "profiler", "check", "no-such-questionnaire"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "no such file or bundled questionnaire" in bad.stderr
    assert "Traceback" not in bad.stderr
