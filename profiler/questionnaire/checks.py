"""Warnings about a questionnaire that loads but deserves an author's second look (``profiler check``)."""

from __future__ import annotations

from profiler.errors import ErrorDetail
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.yamlsource import YamlDocument

MIN_ITEMS_PER_SCALE = 3


def questionnaire_warnings(questionnaire: Questionnaire, doc: YamlDocument) -> list[ErrorDetail]:
    """Warnings, located in the file: short scales, one-directional keying, gaps in translations, unvalidated translations."""
    warnings: list[ErrorDetail] = []
    warn = lambda path, message: warnings.append(doc.error(path, message, severity="warning"))  # noqa: E731
    for i, scale in enumerate(questionnaire.scales):
        keys = questionnaire.keys(scale.id)
        if len(keys) < MIN_ITEMS_PER_SCALE:
            warn(("scales", i), f"scale {scale.id!r} has {len(keys)} item(s); fewer than {MIN_ITEMS_PER_SCALE} "
                 "items rarely give a reliable score")
        signs = {k.sign for k in keys}
        if len(keys) >= 2 and len(signs) == 1:
            direction = "positively" if signs == {1} else "negatively"
            warn(("scales", i), f"all items of scale {scale.id!r} are keyed {direction}; mixing keying "
                 "directions guards against acquiescent responding")
    for code, info in questionnaire.spec.languages.items():
        if code == questionnaire.default_language:
            continue
        missing = [item.id for item in questionnaire.items if code not in item.text]
        if missing:
            shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
            warn(("languages", code), f"translation {code!r} misses the text of {len(missing)} item(s): {shown}")
        if info.status == "unvalidated":
            warn(("languages", code), f"translation {code!r} is not validated: scores in it are not known to be "
                 "comparable with the original, so norms from the original language may not apply")
    return warnings
