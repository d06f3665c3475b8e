"""Attack: a questionnaire whose texts carry terminal escape sequences, to clear the respondent's screen,
retitle the window, hide or reorder text; ``profiler take`` must print the words and nothing a terminal acts on."""

from __future__ import annotations

import io
import sys

from profiler.cli import main
from profiler.cli._common import terminal_text

HOSTILE = r"""
id: hostile
version: "1"
title: {en: "Survey\e]0;pwned\a"}
default_language: en
languages: {en: {status: original, note: "\e[2J"}, de: {status: unvalidated, note: "note\e[31m"}}
response_formats:
  agree3:
    type: likert
    options:
      - {value: 0, label: {en: "No\e[8m"}}
      - {value: 1, label: {en: "Maybe\r\x9b2K"}}
      - {value: 2, label: {en: "Yes\u202Eon"}}
defaults: {response_format: agree3}
administration:
  blocks:
    - {id: one, title: {en: "Part\e[1A\e[2K"}, items: [A]}
    - {id: two, items: [B]}
items:
  - {id: A, text: {en: "First\e[2J\e[H statement.\a\x7f", de: "Erste\e[5m"}}
  - {id: B, text: {en: "Second\u2066 statement\u2069.\u2028\tend"}}
scales:
  - {id: Both, name: {en: "Both\e[0m items"}, keys: [A, B]}
"""
CONTROL = [chr(c) for c in (*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f, *range(0x80, 0xa0))] + \
    ["\u202e", "\u2066", "\u2069", "\u2028", "\u200e"]


def test_terminal_text_keeps_words_and_line_breaks():
    assert terminal_text("a\x1b[2Jb\nc\td\u202ee\x9b") == "a[2Jb\nc de"
    assert terminal_text("Pas d’accord — très") == "Pas d’accord — très"


def test_take_prints_no_control_character(tmp_path, monkeypatch, capsys):
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    for language, keys in (("en", "1\n3\n\n"), ("de", "2\n\x1b[2J\n1\n\n")):
        monkeypatch.setattr(sys, "stdin", io.StringIO(keys))
        code = main(["take", str(path), "--db", str(tmp_path / "s.db"), "--language", language])
        out = capsys.readouterr()
        assert code == 0, out.err
        printed = out.out + out.err
        assert [c for c in CONTROL if c in printed] == []
        assert "statement" in printed and "Finished" in printed
    assert "First[2J[H statement." in printed or "Erste[5m" in printed
