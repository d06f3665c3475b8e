"""Warnings about a questionnaire that loads but deserves an author's second look (``profiler check``).

Every warning has a stable code (:mod:`profiler.questionnaire.warning_codes`). An author who has looked
at one and accepts it writes a ``silence`` entry with the code and the reason: at the top of the document
(everywhere) or on the item, scale or language concerned (there only). A silence that silences nothing is
itself a warning (``unused-silence``), so stale ones do not pile up.
"""

from __future__ import annotations

from profiler.errors import ErrorDetail
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.questionnaire.spec import Silence
from profiler.yamlsource import YamlDocument

MIN_ITEMS_PER_SCALE = 3

Place = tuple  # the document path of the item, scale or language a warning is about; () for the document


class _Warnings:
    """Collects warnings, dropping those an author silenced and remembering which silences were used."""

    def __init__(self, questionnaire: Questionnaire, doc: YamlDocument):
        self.doc = doc
        self.found: list[ErrorDetail] = []
        self.silences: dict[Place, list[Silence]] = {(): list(questionnaire.spec.silence)}
        for i, item in enumerate(questionnaire.items):
            self.silences[("items", i)] = list(item.silence)
        for i, scale in enumerate(questionnaire.scales):
            self.silences[("scales", i)] = list(scale.silence)
        for code, info in questionnaire.spec.languages.items():
            self.silences[("languages", code)] = list(info.silence)
        self.used: set[tuple[Place, int]] = set()

    def silenced(self, code: str, place: Place) -> bool:
        """Whether ``code`` is silenced at ``place`` (its own silences first, then the document's)."""
        for where in (place, ()):
            for j, silence in enumerate(self.silences.get(where, [])):
                if silence.warning == code:
                    self.used.add((where, j))
                    return True
        return False

    def warn(self, code: str, place: Place, message: str, path: tuple | None = None) -> None:
        if not self.silenced(code, place):
            self.found.append(self.doc.error(place if path is None else path, message, severity="warning", code=code))

    def unused(self) -> None:
        for place, silences in self.silences.items():
            for j, silence in enumerate(silences):
                if (place, j) not in self.used:
                    where = "anywhere in the document" if place == () else f"on this {_KINDS[place[0]]}"
                    self.found.append(self.doc.error(
                        place + ("silence", j), f"silence of {silence.warning!r} silences nothing: that warning "
                        f"does not occur {where}; remove the entry", severity="warning", code="unused-silence"))


_KINDS = {"items": "item", "scales": "scale", "languages": "language"}


def questionnaire_warnings(questionnaire: Questionnaire, doc: YamlDocument) -> list[ErrorDetail]:
    """Warnings with their codes, located in the file, without those the document silences.

    Short scales, one-directional keying, gaps in translations, unvalidated translations, items with the
    same text, and silences that silence nothing.
    """
    out = _Warnings(questionnaire, doc)
    for i, scale in enumerate(questionnaire.scales):
        keys = questionnaire.keys(scale.id)
        if len(keys) < MIN_ITEMS_PER_SCALE:
            out.warn("short-scale", ("scales", i), f"scale {scale.id!r} has {len(keys)} item(s); fewer than "
                     f"{MIN_ITEMS_PER_SCALE} items rarely give a reliable score")
        signs = {k.sign for k in keys}
        if len(keys) >= 2 and len(signs) == 1:
            direction = "positively" if signs == {1} else "negatively"
            out.warn("one-way-keying", ("scales", i), f"all items of scale {scale.id!r} are keyed {direction}; "
                     "mixing keying directions guards against acquiescent responding")
    item_place = {item.id: ("items", i) for i, item in enumerate(questionnaire.items)}
    for code, info in questionnaire.spec.languages.items():
        if code == questionnaire.default_language:
            continue
        missing = [item.id for item in questionnaire.items if code not in item.text
                   and not out.silenced("missing-translation", item_place[item.id])]
        if missing:
            shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
            out.warn("missing-translation", ("languages", code),
                     f"translation {code!r} misses the text of {len(missing)} item(s): {shown}")
        if info.status == "unvalidated":
            out.warn("unvalidated-translation", ("languages", code), f"translation {code!r} is not validated: "
                     "scores in it are not known to be comparable with the original, so norms from the original "
                     "language may not apply")
    _duplicate_texts(questionnaire, out)
    out.unused()
    return out.found


def _duplicate_texts(questionnaire: Questionnaire, out: _Warnings) -> None:
    first: dict[tuple[str, str], str] = {}
    for i, item in enumerate(questionnaire.items):
        for language, text in item.text.items():
            normal = " ".join(text.split()).casefold()
            if (language, normal) in first:
                out.warn("duplicate-text", ("items", i), f"item {item.id!r} has the same {language!r} text as item "
                         f"{first[language, normal]!r}", path=("items", i, "text", language))
            else:
                first[language, normal] = item.id
