"""Which case a reviewer means: "decide on candidate X" resolved to one recommendation or one open contest.

A candidate may have several recommendations (several job models, a re-assessment) and contests. A person who
names only the candidate means their one open contest, or else their one recommendation nobody has decided;
when that is ambiguous the pipeline refuses to guess and lists what is there, so that the reviewer names one.
The command line (``profiler review ID --decision ...``) and the web app both decide through
:func:`decide_for_candidate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from profiler.oversight.review import Contest, Decision, RecordedRecommendation, Review, ReviewError


@dataclass(frozen=True)
class ReviewTarget:
    """What a decision is about: a recommendation (first decision) or a contest (second review).

    ``recommendation`` is the recommendation decided on either way (a contest's is the contested one's).
    """

    kind: Literal["recommendation", "contest"]
    recommendation: RecordedRecommendation
    contest: Contest | None = None

    @property
    def id(self) -> int:
        return self.contest.id if self.contest is not None else self.recommendation.id

    def describe(self) -> str:
        """``recommendation 12 (band advance)`` or ``contest 30 (second review of decision 14)``."""
        if self.contest is not None:
            return f"contest {self.contest.id} (second review of decision {self.contest.decision_id})"
        return f"recommendation {self.recommendation.id} (band {self.recommendation.band})"


def review_target(review: Review, candidate: str, *, recommendation: int | None = None,
                  contest: int | None = None) -> ReviewTarget:
    """The recommendation or contest a decision on ``candidate`` is about.

    Parameters
    ----------
    review : Review
    candidate : str
    recommendation, contest : int, optional
        Name one explicitly (at most one of them); it must be about ``candidate``.

    Raises
    ------
    ReviewError
        Both named; the one named is about another candidate; nothing to decide; or several candidates for the
        decision (open contest and pending recommendation, several pending recommendations, several open
        contests): the message lists them.
    """
    if recommendation is not None and contest is not None:
        raise ReviewError("name a recommendation or a contest, not both")
    if contest is None and recommendation is None:
        open_contests = review.contests(candidate, status="open")
        pending = [r for r in review.pending() if r.candidate == candidate]
        if open_contests and pending:
            raise ReviewError(f"{candidate} has an open contest ({open_contests[-1].id}) and a recommendation to decide "
                              f"({pending[-1].id}): name one with --contest or --recommendation")
        if len(pending) > 1:
            listed = "; ".join(f"{r.id} ({r.job_model_id} {r.job_model_version}, band {r.band})" for r in pending)
            raise ReviewError(f"{candidate} has {len(pending)} recommendations to decide: {listed}; name one with "
                              "--recommendation")
        if len(open_contests) > 1:
            raise ReviewError(f"{candidate} has {len(open_contests)} open contests "
                              f"({', '.join(str(c.id) for c in open_contests)}): name one with --contest")
        if open_contests:
            contest = open_contests[-1].id
        elif pending:
            recommendation = pending[-1].id
        else:
            if not review.recommendations(candidate):
                raise ReviewError(f"no recommendation has been recorded for candidate {candidate!r}")
            raise ReviewError(f"every recommendation of {candidate} is decided; a candidate who disagrees can contest "
                              f"(profiler review contest {candidate} --received-by ...)")
    if contest is not None:
        found = review.contest_of(contest)
        if found.candidate != candidate:
            raise ReviewError(f"contest {contest} is not about candidate {candidate}")
        return ReviewTarget("contest", review.recommendation(found.recommendation_id), found)
    rec = review.recommendation(recommendation)
    if rec.candidate != candidate:
        raise ReviewError(f"recommendation {recommendation} is not about candidate {candidate}")
    return ReviewTarget("recommendation", rec)


def decide_for_candidate(review: Review, candidate: str, decision: str, *, reviewer: str, role: str,
                         outcome: str | None = None, reason: str | None = None, note: str | None = None,
                         recommendation: int | None = None,
                         contest: int | None = None) -> tuple[Decision, ReviewTarget]:
    """Record a reviewer's decision on the case of ``candidate`` that :func:`review_target` resolves.

    Returns the decision and what it was about. Raises :class:`ReviewError` as :func:`review_target`,
    :meth:`Review.decide` and :meth:`Review.decide_contest` do.
    """
    target = review_target(review, candidate, recommendation=recommendation, contest=contest)
    common = {"reviewer": reviewer, "role": role, "outcome": outcome, "reason": reason, "note": note}
    if target.contest is not None:
        return review.decide_contest(target.contest.id, decision, **common), target
    return review.decide(target.recommendation.id, decision, **common), target


__all__ = ["ReviewTarget", "decide_for_candidate", "review_target"]
