"""The catalogue of ``profiler check`` warnings: a stable code for each, and what it is about.

A code never changes meaning once released; an author silences a warning by its code (``silence:`` in the
questionnaire, with a reason), the way linters silence a rule. New warnings get new codes.
"""

from __future__ import annotations

from typing import Literal

WarningCode = Literal[
    "short-scale",
    "one-way-keying",
    "missing-translation",
    "unvalidated-translation",
    "duplicate-text",
    "unused-silence",
]

# code -> (where it can be silenced besides the top of the document, what it says)
WARNINGS: dict[str, tuple[str, str]] = {
    "short-scale": ("scale", "a scale with fewer than 3 items rarely gives a reliable score"),
    "one-way-keying": ("scale", "every item of a scale is keyed the same way: no guard against acquiescence"),
    "missing-translation": ("language or item", "a translation misses the text of some items"),
    "unvalidated-translation": ("language", "a translation without evidence that its scores are comparable"),
    "duplicate-text": ("item", "two items have the same text in one language (a copy-paste slip?)"),
    "unused-silence": ("-", "a silence that silences nothing (the warning it names does not occur there)"),
}
