"""The rules of human review, without a database: what a decision must carry, the reason codes in force, the
rubber-stamp rule. :class:`~profiler.oversight.review.Review` applies them; the web app and the CLI show them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from profiler.documents import did_you_mean
from profiler.errors import ProfilerError
from profiler.oversight.control import ControlError, check_person

DECISIONS = ("accept", "override", "do_not_use")
OUTCOMES = ("advance", "not_advance")
BANDS = ("advance", "review", "not_advance")

# The default reason codes: code -> what it means (shown to reviewers, recorded with each decision).
DEFAULT_REASON_CODES: Mapping[str, str] = {
    "job_related_evidence": "job-related evidence the model does not weigh supports another outcome",
    "measurement_error": "the result lies within measurement error, or an input was measured doubtfully",
    "invalid_profile": "the responses cannot be read as a profile (careless, too fast, checks failed)",
    "accommodation_needed": "the candidate needs an accommodation the assessment did not provide",
    "data_error": "an input is wrong (mis-keyed, another candidate's, out of date)",
    "other": "another reason, given in the note",
}
DEFAULT_CONTEST_DAYS = 14
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
ROLE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_ .\-]{0,63}$")
MAX_NOTE = 4000


class ReviewError(ProfilerError, ValueError):
    """A decision or contest that cannot be recorded: a missing or unknown reason code, accepting a
    ``review`` band, the same reviewer for a contest, a recommendation decided already, ..."""


@dataclass(frozen=True)
class RubberStampRule:
    """When a reviewer looks like they rubber-stamp recommendations (automation bias).

    Flagged when the reviewer acted on at least ``min_decisions`` recommendations with a definite band
    (accepted or overrode an ``advance`` or ``not_advance``) and overrode fewer than ``max_override_rate``
    of them. Default: 50 decisions and 2%, i.e. at most one override in 50-99 such decisions. A flag is a
    prompt to look at how the reviewer works (time per decision, cases seen), not proof of anything: a
    reviewer of a well-built model may rightly agree often.
    """

    min_decisions: int = 50
    max_override_rate: float = 0.02

    def __post_init__(self) -> None:
        if isinstance(self.min_decisions, bool) or not isinstance(self.min_decisions, int) or self.min_decisions < 1:
            raise ReviewError(f"min_decisions must be a whole number >= 1, got {self.min_decisions!r}")
        if not 0 <= float(self.max_override_rate) <= 1:
            raise ReviewError(f"max_override_rate must lie in [0, 1], got {self.max_override_rate!r}")

    def text(self) -> str:
        return (f">= {self.min_decisions} definite-band decisions and an override rate below "
                f"{100 * self.max_override_rate:g}%")


@dataclass(frozen=True)
class ReviewSettings:
    """The review settings of a store: reason codes, days to answer a contest, the rubber-stamp rule."""

    reason_codes: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_REASON_CODES))
    contest_days: int = DEFAULT_CONTEST_DAYS
    rubber_stamp: RubberStampRule = field(default_factory=RubberStampRule)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason_codes", check_reason_codes(self.reason_codes))
        if isinstance(self.contest_days, bool) or not isinstance(self.contest_days, int) or self.contest_days < 1:
            raise ReviewError(f"contest_days must be a whole number of days >= 1, got {self.contest_days!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"reason_codes": dict(self.reason_codes), "contest_days": self.contest_days,
                "rubber_stamp": {"min_decisions": self.rubber_stamp.min_decisions,
                                 "max_override_rate": self.rubber_stamp.max_override_rate}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReviewSettings:
        """From :meth:`to_dict` (as logged by ``review.configured``)."""
        rule = data.get("rubber_stamp") or {}
        return cls(reason_codes=data["reason_codes"], contest_days=int(data["contest_days"]),
                   rubber_stamp=RubberStampRule(int(rule.get("min_decisions", 50)),
                                                float(rule.get("max_override_rate", 0.02))))


def check_reason_codes(codes: Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    """Reason codes as ``code -> description`` (an iterable of codes gets the codes as descriptions)."""
    if not isinstance(codes, Mapping):
        if isinstance(codes, str):
            raise ReviewError("give reason codes as a mapping code -> description, or a list of codes")
        codes = {code: DEFAULT_REASON_CODES.get(code, code) for code in codes}
    if not codes:
        raise ReviewError("the list of reason codes is empty: reviewers could give no reason")
    out = {}
    for code, text in codes.items():
        if not isinstance(code, str) or not CODE_PATTERN.match(code):
            raise ReviewError(f"reason code {code!r} must be a lower-case name of up to 48 characters "
                              "(letters, digits, '_'), e.g. 'job_related_evidence'")
        if not isinstance(text, str) or not text.strip():
            raise ReviewError(f"reason code {code!r} needs a description in words")
        out[code] = text.strip()
    return out


@dataclass(frozen=True)
class DecisionRequest:
    """A reviewer's decision as asked for, checked against the rules that need no record (see :func:`request`)."""

    decision: str
    outcome: str | None
    reviewer: str
    role: str
    reason: str | None
    note: str | None


def request(settings: ReviewSettings, decision: str, reviewer: str, role: str, outcome: str | None,
            reason: str | None, note: str | None) -> DecisionRequest:
    """Check a decision's parts: a known decision and outcome, a reviewer id and role, a reason code in force,
    an override naming its outcome, a reason code and a note with an override or "do not use".

    Raises
    ------
    ReviewError
        The first rule broken, in words.
    """
    kind = decision.replace("-", "_") if isinstance(decision, str) else decision
    if kind not in DECISIONS:
        raise ReviewError(f"decision {decision!r} is not one of accept, override, do_not_use"
                          f"{did_you_mean(decision, DECISIONS)}")
    reviewer = person(reviewer, "reviewer")
    if not isinstance(role, str) or not ROLE_PATTERN.match(role):
        raise ReviewError(f"role {role!r} must name the reviewer's role in up to 64 characters "
                          "(e.g. 'hiring_manager', 'psychologist')")
    if outcome is not None and outcome not in OUTCOMES:
        raise ReviewError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}{did_you_mean(outcome, OUTCOMES)}")
    if reason is not None and reason not in settings.reason_codes:
        raise ReviewError(f"reason code {reason!r} is not in the list{did_you_mean(reason, settings.reason_codes)}; "
                          f"codes: {', '.join(settings.reason_codes)}")
    if note is not None:
        note = text(note, "note")
    if kind == "override" and outcome is None:
        raise ReviewError("an override names the outcome the reviewer chooses: outcome='advance' or 'not_advance'")
    if kind == "do_not_use" and outcome is not None:
        raise ReviewError("'do not use' sets the recommendation aside: it has no outcome")
    if kind in ("override", "do_not_use") and (reason is None or note is None):
        words = "an override" if kind == "override" else "'do not use'"
        raise ReviewError(f"{words} needs a reason code (one of {', '.join(settings.reason_codes)}) and a "
                          "note saying why")
    return DecisionRequest(kind, outcome, reviewer, role, reason, note)


def check_against(recommendation_id: int, band: str, routed_to_review: bool, asked: DecisionRequest) -> None:
    """The rules that depend on the recommended band: nothing to accept in ``review``; an accept gives the
    band itself; an override must change it."""
    if asked.decision == "accept":
        if band == "review":
            why = " (its responses were judged invalid)" if routed_to_review else ""
            raise ReviewError(f"recommendation {recommendation_id} has the band 'review'{why}: there is nothing to "
                              "accept; choose an outcome (override with outcome=...) or set it aside (do_not_use)")
        if asked.outcome is not None and asked.outcome != band:
            raise ReviewError(f"accepting recommendation {recommendation_id} gives its band {band!r}; outcome "
                              f"{asked.outcome!r} would be an override (with a reason code and a note)")
    if asked.decision == "override" and asked.outcome == band:
        raise ReviewError(f"recommendation {recommendation_id} already recommends {band!r}: that is an accept, not "
                          "an override")


def person(value: object, what: str) -> str:
    """``value`` if it is a person's id; :class:`ReviewError` otherwise."""
    try:
        return check_person(value, what)
    except ControlError as exc:
        raise ReviewError(str(exc)) from None


def text(value: object, what: str) -> str:
    """A non-empty note or statement of at most :data:`MAX_NOTE` characters, stripped."""
    if not isinstance(value, str) or not value.strip():
        raise ReviewError(f"{what} must be a non-empty text")
    if len(value) > MAX_NOTE:
        raise ReviewError(f"{what} is {len(value)} characters long; keep it under {MAX_NOTE}")
    return value.strip()


def due_moment(due: date | datetime) -> datetime:
    """A contest's due date as a moment: a date means the end of that day, UTC."""
    if isinstance(due, datetime):
        if due.tzinfo is None:
            raise ReviewError("give the due date with a timezone (or as a date)")
        return due.astimezone(UTC)
    if isinstance(due, date):
        return datetime.combine(due, time(23, 59, 59, 999999), tzinfo=UTC)
    raise ReviewError(f"due must be a date or a timezone-aware datetime, got {type(due).__name__}")


__all__ = [
    "BANDS",
    "DECISIONS",
    "DEFAULT_CONTEST_DAYS",
    "DEFAULT_REASON_CODES",
    "OUTCOMES",
    "DecisionRequest",
    "ReviewError",
    "ReviewSettings",
    "RubberStampRule",
    "check_against",
    "check_reason_codes",
    "due_moment",
    "person",
    "request",
    "text",
]
