"""The candidate's own report: their profile in plain, respectful language, how it was used, how to contest.

What it says, in order: what was measured (a self-report questionnaire about preferred ways of behaving,
not a test of ability, with measurement error); each scale with both of its poles described and where
the candidate's answers place them, with the band of measurement error drawn; how the results were used
(the criteria of the job model and their weights in words, and which information was missing); that a
person decides; the state of that decision; and how to contest it. No score is called good or bad, no
trait is called a strength or a weakness, and nothing is said about the candidate that the questionnaire
did not measure.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from profiler.reports._common import band_words, profile_rows
from profiler.reports._render import render
from profiler.reports.case import CandidateCase



def contest_steps(days: int) -> tuple[str, ...]:
    """The contest process of :mod:`profiler.oversight.review` (``Review.contest``), in plain words."""
    return (
        "Tell the contact below that you contest the decision, quoting your reference. You do not need to "
        "give a reason, but anything you add (for example information that was missing) is recorded with "
        "your contest and considered.",
        "Your contest goes to a second reviewer: a person who did not make the first decision. They see "
        "everything shown here, the full explanation of the suggestion and the first reviewer's reason, and "
        f"decide within {days} days.",
        "Their decision and its reason are recorded, and you are told the outcome. A person reviews your "
        "contest, never the system alone.",
    )


RESULT_WORDS = {
    "advance": "to move your application forward",
    "not_advance": "not to move your application forward",
    "do_not_use": "not to use these results; your application is considered without them",
}
SUGGESTION_WORDS = {
    "advance": "move the application forward",
    "not_advance": "do not move the application forward",
    "review": "a person should look at the application closely (no suggestion either way)",
}


def weight_words(share: float) -> str:
    """A criterion's share of the score in words: ``a large part (30%)``."""
    if share >= 0.25:
        words = "a large part"
    elif share >= 0.15:
        words = "a substantial part"
    elif share >= 0.08:
        words = "a moderate part"
    else:
        words = "a small part"
    return f"{words} ({100 * share:.0f}%)"


def how_it_counts(transform: Any) -> str:
    """How a criterion's value turns into points, in words."""
    kind = transform.kind
    if kind == "linear":
        higher = transform.at_one > transform.at_zero
        return "higher values count more" if higher else "lower values count more"
    if kind == "target_range":
        return "a middle range counts most; values far above or below it count less"
    if kind == "saturating":
        return "more counts more, with less and less added beyond a point"
    return "counts if met"


def placement(row: dict[str, Any]) -> str:
    """Where the candidate's answers place them on one scale, in the second person."""
    if not row["scored"]:
        return "Too few statements of this scale were answered to give a result."
    low, high = row["band_T"]
    if low > 50:
        return "Your answers place you above the average of the comparison group, towards the description on the right."
    if high < 50:
        return "Your answers place you below the average of the comparison group, towards the description on the left."
    return ("Your answers place you close to the average of the comparison group: the difference is within the "
            "measurement error.")


def candidate_context(case: CandidateCase, *, contact: str | None = None,
                      prepared: dt.date | None = None) -> dict[str, Any]:
    """The data the candidate template renders (see :func:`candidate_report`)."""
    rec = case.recommendation
    spec = case.job_model.spec
    questionnaire = case.job_model.questionnaire
    language = case.profile.language if case.profile is not None else questionnaire.default_language
    title = questionnaire.spec.title
    criteria = []
    statuses = {c.input: c for c in rec.coverage.inputs}
    total_trait = 0.0
    for criterion in spec.criteria:
        contribution = rec.contribution(criterion.id)
        coverage = statuses.get(criterion.input)
        trait = criterion.input.startswith("trait.")
        if trait:
            total_trait += contribution.weight_share
        criteria.append({
            "name": contribution.name, "trait": trait, "weight": weight_words(contribution.weight_share),
            "counts": how_it_counts(criterion.transform), "rationale": criterion.rationale,
            "missing": coverage is not None and coverage.status != "measured",
            "status": None if coverage is None else coverage.status,
            "handling": None if coverage is None else coverage.handling,
        })
    current = case.review.current
    open_contest = any(c.status == "open" for c in case.review.contests)
    contest_decided = any(c.status == "decided" for c in case.review.contests)
    return {
        "title": f"Your assessment results: {spec.role.title}",
        "case": case, "rec": rec, "spec": spec, "prepared": prepared,
        "questionnaire_title": title.get(language, next(iter(title.values()))),
        "n_statements": len(questionnaire.scored_items),
        "rows": [dict(row, placement=placement(row)) for row in profile_rows(case)],
        "norms": case.norms,
        "criteria": criteria, "trait_share": f"{100 * total_trait:.0f}%",
        "other_share": f"{100 * (1 - total_trait):.0f}%",
        "suggestion": SUGGESTION_WORDS.get(rec.band, band_words(rec.band)),
        "decision": None if current is None else RESULT_WORDS.get(current.result, band_words(current.result)),
        "decision_reason": None if current is None else (current.reason_text or current.reason),
        "open_contest": open_contest, "contest_decided": contest_decided,
        "review_state": case.review.state,
        "contest_steps": contest_steps(case.review.contest_days), "contact": contact,
    }


def candidate_report(case: CandidateCase, *, contact: str | None = None, prepared: dt.date | None = None) -> str:
    """The candidate's own report on their case as a self-contained HTML page.

    Parameters
    ----------
    case : CandidateCase
    contact : str, optional
        Where to contest a decision or ask questions (an address of the employer's hiring team); without
        it the report says to reply to the message that brought the report.
    prepared : date, optional
        Printed as the date the report was prepared (left out by default: the same case, the same bytes).
    """
    return render("candidate.html", **candidate_context(case, contact=contact, prepared=prepared))


__all__ = ["contest_steps", "candidate_context", "candidate_report", "how_it_counts", "weight_words"]
