"""Checking translations from a sample file: ``profiler check-translation`` and the translation step of a calibration.

The sample needs a column naming the language each respondent answered in; the comparison itself is
:func:`profiler.fairness.translation.translation_check`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from profiler.fairness.translation import TranslationCheck, translation_check
from profiler.pipeline.sample_file import SampleFile, read_sample
from profiler.questionnaire import Questionnaire


def translation_from_file(questionnaire: Questionnaire, data: str | Path, language_column: str, *,
                          source: str | None = None, check_invariance: bool = True,
                          sep: str = ",") -> tuple[SampleFile, TranslationCheck]:
    """Read ``data`` and compare every language in ``language_column`` with the source language."""
    sample = read_sample(questionnaire, data, columns=[language_column], sep=sep)
    check = translation_check(sample.answers, questionnaire, sample.columns[language_column], source=source,
                              check_invariance=check_invariance)
    return sample, check


def translation_summary(check: TranslationCheck) -> dict[str, Any]:
    """What a calibration report and the technical manual keep of a translation check."""
    languages = []
    for language, n in check.sizes.items():
        alpha = check.alphas.loc[language].to_dict() if language in check.alphas.index else {}
        languages.append({"language": language, "n": n, "source": language == check.source,
                          "compared": language not in check.skipped, "skipped": check.skipped.get(language),
                          "alpha": {s: float(a) for s, a in alpha.items()},
                          "send_back": [s for s in check.send_back if s["language"] == language]})
    return {"summary": check.summary(), "source": check.source, "languages": languages,
            "invariance": None if check.invariance is None else {"verdict": check.invariance["verdict"]},
            "items": check.to_dict()["items"]}
