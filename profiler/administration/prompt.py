"""What a respondent sees for one item (text, options with labels) and which answers it accepts.

Pure functions of the questionnaire: no store, no clock. An item without text in the session's language
is shown in the questionnaire's default language, and :attr:`Prompt.language` says so.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from profiler.administration.errors import AnswerError
from profiler.questionnaire.spec import LikertFormat, NumberFormat, YesNoFormat
from profiler.questionnaire.questionnaire import Questionnaire

# Yes/no labels when the questionnaire gives none in the session's language.
_YES_NO = {"en": ("Yes", "No"), "fr": ("Oui", "Non"), "de": ("Ja", "Nein"), "es": ("Sí", "No"),
           "it": ("Sì", "No"), "nl": ("Ja", "Nee"), "pt": ("Sim", "Não")}


@dataclass(frozen=True)
class Option:
    """One answer to choose: the key the respondent presses (1, 2, ...), the value stored, and its label."""

    key: int
    value: float
    label: str


@dataclass(frozen=True)
class NumberRange:
    """The answers of a number item: from ``min`` to ``max``, whole numbers only when ``integer``."""

    min: float
    max: float
    integer: bool
    unit: str | None


@dataclass(frozen=True)
class Prompt:
    """The current item of a session, ready to show.

    Attributes
    ----------
    item_id, text : str
        The item and its text in :attr:`language`.
    language : str
        Language of the text shown: the session's, or the default language where a translation is missing.
    position, total : int
        0-based position of the item in the session's order, and the number of items.
    options : tuple of Option
        The choices (Likert and yes/no items); empty for a number item.
    number : NumberRange or None
        The accepted range of a number item.
    required : bool
        Whether the item must be answered (it cannot be skipped).
    answer : float or None
        The answer currently recorded for the item (after going back), else None.
    page, pages : int
        0-based page (block) of the item and number of pages; ``page_title`` its title, if any.
    can_go_back, can_skip : bool
        Whether :meth:`Session.back` and :meth:`Session.skip` are allowed here.
    remaining_seconds : float or None
        Time left of the session's time limit (None without a limit).
    adaptive : bool
        Whether the session is adaptive: ``total`` is then the most items it can give, not how many it will.
    """

    item_id: str
    text: str
    language: str
    position: int
    total: int
    options: tuple[Option, ...]
    number: NumberRange | None
    required: bool
    answer: float | None
    page: int
    pages: int
    page_title: str | None
    can_go_back: bool
    can_skip: bool
    remaining_seconds: float | None
    adaptive: bool = False

    def parse(self, typed: str) -> float:
        """The value of what a respondent typed: an option's key (``"1"``..), or a number for a number item.

        Raises
        ------
        AnswerError
            Naming the item and the keys or numbers allowed.
        """
        typed = typed.strip()
        if self.number is not None:
            try:
                value = float(typed.replace(",", ".")) if typed else math.nan
            except ValueError:
                value = math.nan
            if math.isnan(value):
                raise AnswerError(self.item_id, typed, describe_number(self.number), "is not a number")
            return value
        keys = {str(option.key): option.value for option in self.options}
        if typed not in keys:
            allowed = ", ".join(f"{option.key} ({option.label})" for option in self.options)
            raise AnswerError(self.item_id, typed, allowed, "is not one of the keys")
        return keys[typed]


def item_text(questionnaire: Questionnaire, item_id: str, language: str) -> tuple[str, str]:
    """The item's text in ``language``, else in the default language; and the language used."""
    texts = questionnaire.item(item_id).text
    if language in texts:
        return texts[language], language
    return texts[questionnaire.default_language], questionnaire.default_language


def _label(translations: dict[str, str] | None, language: str, default_language: str) -> str | None:
    if not translations:
        return None
    return translations.get(language) or translations.get(default_language)


def options_of(questionnaire: Questionnaire, item_id: str, language: str) -> tuple[Option, ...]:
    """The choices of a Likert or yes/no item, keyed 1, 2, ... in the questionnaire's order."""
    fmt = questionnaire.response_format(item_id)
    default = questionnaire.default_language
    if isinstance(fmt, LikertFormat):
        return tuple(Option(k, float(o.value), _label(o.label, language, default) or f"{o.value:g}")
                     for k, o in enumerate(fmt.options, start=1))
    if isinstance(fmt, YesNoFormat):
        yes, no = _YES_NO.get(language.split("-")[0], _YES_NO["en"])
        return (Option(1, 1.0, _label(fmt.yes, language, default) or yes),
                Option(2, 0.0, _label(fmt.no, language, default) or no))
    return ()


def number_range(questionnaire: Questionnaire, item_id: str, language: str) -> NumberRange | None:
    fmt = questionnaire.response_format(item_id)
    if not isinstance(fmt, NumberFormat):
        return None
    unit = _label(fmt.unit, language, questionnaire.default_language)
    return NumberRange(float(fmt.min), float(fmt.max), fmt.integer, unit)


def describe_number(number: NumberRange) -> str:
    kind = "a whole number" if number.integer else "a number"
    unit = f" ({number.unit})" if number.unit else ""
    return f"{kind} from {number.min:g} to {number.max:g}{unit}"


def check_answer(questionnaire: Questionnaire, item_id: str, value: object, language: str | None = None) -> float:
    """``value`` as the float to store, if the item's response format accepts it.

    Likert items accept the value of one of their options, yes/no items 1 or 0 (or True/False), number
    items a finite number within their range (a whole number when the format says ``integer``).

    Raises
    ------
    AnswerError
        Naming the item, the value and the allowed answers (with labels in ``language``).
    """
    language = language or questionnaire.default_language
    fmt = questionnaire.response_format(item_id)
    if isinstance(value, bool) and isinstance(fmt, YesNoFormat):
        value = int(value)
    x = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else None

    def refuse(reason: str) -> AnswerError:  # the allowed answers are spelled out only when needed
        number = number_range(questionnaire, item_id, language)
        allowed = describe_number(number) if number else ", ".join(
            f"{o.value:g} ({o.label})" for o in options_of(questionnaire, item_id, language))
        return AnswerError(item_id, value, allowed, reason)

    if x is None:
        raise refuse("is not a number")
    if isinstance(fmt, NumberFormat):
        if not (math.isfinite(x) and fmt.min <= x <= fmt.max):
            raise refuse("is out of range")
        if fmt.integer and x != round(x):
            raise refuse("is not a whole number")
        return x
    accepted = [o.value for o in fmt.options] if isinstance(fmt, LikertFormat) else [1, 0]
    if x not in accepted:
        raise refuse("is not an answer of this item")
    return x
