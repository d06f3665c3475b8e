"""Human review: a named person decides on every recommendation, candidates can contest, and the figures
that show whether the people really decide (AI Act Art. 14 and 26; GDPR Art. 22(3)).

A :class:`~profiler.jobmodel.Recommendation` is never a decision. The recorded pipeline
(:mod:`profiler.pipeline.assessment`) stores each recommendation as a case record of kind ``recommendation`` and puts
the case in the review queue; a reviewer (an id and a role) then records one of

``accept``
    the recommended band becomes the outcome. Not possible for the band ``review``: there a person
    chooses an outcome.
``override``
    another outcome (``advance`` or ``not_advance``) than the recommended one; on a ``review`` band the
    reviewer's choice of outcome. Needs a reason code and a note.
``do_not_use``
    the recommendation must not be used (an invalid profile, an accommodation needed, wrong data, ...);
    no outcome. Needs a reason code and a note.

Reason codes come from a configurable list (:data:`DEFAULT_REASON_CODES`; per store with
:func:`configure_review`, per call with ``Review(store, reason_codes=...)``). A recommendation is decided
once; a candidate who disagrees files a contest (:meth:`Review.contest`), which goes to a second
reviewer, never the first, with a due date (:data:`DEFAULT_CONTEST_DAYS` calendar days by default); the
second reviewer's decision is recorded against the contest and is final within profiler.

Every decision, contest and assignment is a typed case record of the candidate
(:class:`~profiler.store.records.StoredDecision`, ``StoredContest``, ``StoredContestAssignment``; so that export
and erasure cover it, and :meth:`~profiler.oversight.AuditLog.verify` detects an edited one), followed in the
same transaction by a readable log entry: ``review.decision`` (reviewer, role, decision, outcome, reason code,
the recommendation's record id and hash), ``review.contested``, ``review.contest_assigned``. Notes and
statements are kept in the case records only.

The package is split the way :mod:`profiler.administration` is: :mod:`.rules` (what a decision must carry;
no database), :mod:`.cases` (what reviewers read), :mod:`.queries` (reading the records inside a
transaction), :mod:`.service` (:class:`Review`), :mod:`.figures` (oversight figures).

:func:`oversight_figures` computes, per reviewer and per job model, the number of decisions, the
override and "do not use" rates, the time from recommendation to decision, contests and their outcomes,
and flags rubber-stamping (:class:`RubberStampRule`). :func:`override_rates_by_group` gives override rates
per group of candidates from demographics the caller passes in; nothing here reads them from the store.
"""

from profiler.oversight.review.cases import Confirmation, Contest, Decision, RecordedRecommendation, Refusal
from profiler.oversight.review.figures import (
    CONTEST_COLUMNS,
    DECISION_COLUMNS,
    MODEL_FIGURES,
    REVIEWER_FIGURES,
    OversightFigures,
    override_rates_by_group,
    oversight_figures,
    oversight_over_time,
)
from profiler.oversight.review.rules import (
    BANDS,
    DECISIONS,
    DEFAULT_CONTEST_DAYS,
    DEFAULT_REASON_CODES,
    OUTCOMES,
    ReviewError,
    ReviewSettings,
    RubberStampRule,
    check_reason_codes,
)
from profiler.oversight.review.service import (
    ASSIGNED_EVENT,
    CONFIRMED_EVENT,
    CONTESTED_EVENT,
    QUEUED_EVENT,
    REFUSED_EVENT,
    SETTINGS_EVENT,
    Review,
    configure_review,
    review_settings,
)

__all__ = [
    "ASSIGNED_EVENT",
    "BANDS",
    "CONFIRMED_EVENT",
    "CONTESTED_EVENT",
    "CONTEST_COLUMNS",
    "DECISIONS",
    "DECISION_COLUMNS",
    "DEFAULT_CONTEST_DAYS",
    "DEFAULT_REASON_CODES",
    "MODEL_FIGURES",
    "OUTCOMES",
    "QUEUED_EVENT",
    "REFUSED_EVENT",
    "REVIEWER_FIGURES",
    "SETTINGS_EVENT",
    "Confirmation",
    "Contest",
    "Decision",
    "OversightFigures",
    "RecordedRecommendation",
    "Refusal",
    "Review",
    "ReviewError",
    "ReviewSettings",
    "RubberStampRule",
    "check_reason_codes",
    "configure_review",
    "oversight_figures",
    "oversight_over_time",
    "override_rates_by_group",
    "review_settings",
]
