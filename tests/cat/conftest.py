"""Questionnaires with adaptive administration for the tests: a domain of facets with a bank made here, and the
IPIP-50 given adaptively on its shipped calibration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from profiler.irt import IRTCalibration
from profiler.questionnaire.loader import bundled_questionnaires, parse_questionnaire

FACETS = {"Warmth": ["W1", "-W2", "W3", "W4"], "Energy": ["E1", "E2", "-E3", "E4"], "Cheer": ["C1", "C2", "C3", "-C4"]}

HEADER = """\
id: facet-test
version: "1.0"
title: {en: A facet test}
default_language: en
languages: {en: {status: original}}
defaults: {response_format: agree5}
response_formats:
  agree5:
    type: likert
    options:
      - {value: 1, label: {en: Disagree}}
      - {value: 2, label: {en: Slightly disagree}}
      - {value: 3, label: {en: Neutral}}
      - {value: 4, label: {en: Slightly agree}}
      - {value: 5, label: {en: Agree}}
"""


def facet_yaml(adaptive: str, *, allow_back: str = "false", extra_items: bool = True) -> str:
    """A questionnaire with domain Sociability (facets Warmth, Energy, Cheer; 12 items), an attention check and a
    one-item scale Other, and ``adaptive`` (YAML lines under ``adaptive:``, indented by 4)."""
    items = [key.lstrip("-") for keys in FACETS.values() for key in keys]
    lines = [HEADER, "items:"]
    lines += [f"  - {{id: {i}, text: {{en: 'Statement {i}.'}}}}" for i in items]
    if extra_items:
        lines += ["  - {id: X1, text: {en: 'Something else.'}}",
                  "  - {id: AC, text: {en: 'Answer Agree here.'}, validity: {kind: attention_check, expected: 5}}"]
    lines.append("scales:")
    lines.append("  - {id: Sociability, facets: [Warmth, Energy, Cheer]}")
    lines += [f"  - {{id: {f}, keys: [{', '.join(keys)}]}}" for f, keys in FACETS.items()]
    if extra_items:
        lines.append("  - {id: Other, keys: [X1]}")
    lines += ["administration:", "  order: fixed", f"  allow_back: {allow_back}", "  adaptive:", adaptive]
    return "\n".join(lines) + "\n"


def write_bank(folder: Path, questionnaire, scale: str = "Sociability", seed: int = 5, name: str = "test-bank",
               flip: str | None = None) -> Path:
    """A sealed GRM calibration of ``scale`` (slopes about 1.5) written to ``folder/<scale>.json``."""
    rng = np.random.default_rng(seed)
    items = []
    for k in questionnaire.keys(scale):
        a = float(np.exp(rng.normal(np.log(1.5), 0.2)))
        b = np.sort(rng.normal(0, 0.4) + np.array([-2.0, -0.75, 0.35, 1.6]))
        sign = -k.sign if k.item == flip else k.sign
        items.append({"id": k.item, "key": sign, "answers": [1, 2, 3, 4, 5] if sign > 0 else [5, 4, 3, 2, 1],
                      "a": a, "d": [float(-a * x) for x in b], "b": [float(x) for x in b], "se_a": 0.05,
                      "se_d": [0.05] * 4})
    calibration = IRTCalibration.seal(
        name=name, version="1.0.0", questionnaire=questionnaire.identity(), scale=scale, model="graded", items=items,
        estimation={"method": "made for the tests"}, sample={"n": 1000, "source": "simulated"}, fit={},
        created="2026-01-01")
    return calibration.write(folder / f"{scale}.json")


@pytest.fixture
def facet_questionnaire(tmp_path):
    """The facet questionnaire with adaptive Sociability on a bank in tmp_path/irt (returns the loaded one)."""
    from profiler.questionnaire.loader import load_questionnaire

    text = facet_yaml("    bank: irt\n    scales: {Sociability: {}}\n    content: {each_facet: 1}\n"
                      "    stop: {se: 0.45, max_items: 8}\n    exposure: {method: randomesque, candidates: 2}")
    path = tmp_path / "facet-test.yaml"
    path.write_text(text)
    q = load_questionnaire(path)
    write_bank(tmp_path / "irt", q)
    return load_questionnaire(path)


def ipip_cat_yaml(adaptive: str = "    bank: ipip-bfm-50\n    stop: {se: 0.4, max_items: 6}") -> str:
    """The bundled IPIP-50 given adaptively (id ipip-bfm-50-cat; same items, keys and options)."""
    text = bundled_questionnaires()["ipip-bfm-50"].read_text(encoding="utf-8")
    text = text.replace("id: ipip-bfm-50\n", "id: ipip-bfm-50-cat\n", 1)
    old = "administration:\n  order: fixed\n  allow_back: true\n"
    assert old in text
    return text.replace(old, f"administration:\n  order: fixed\n  allow_back: false\n  adaptive:\n{adaptive}\n")


@pytest.fixture
def ipip_cat():
    return parse_questionnaire(ipip_cat_yaml(), "ipip-bfm-50-cat.yaml")
