"""Oversight figures: whether the people really decide (override and "do not use" rates, time to decision,
contests, the rubber-stamp rule), per reviewer, per job model and per group of candidates."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from profiler.oversight.review.rules import OUTCOMES, ReviewError, RubberStampRule

if TYPE_CHECKING:
    import pandas as pd

DECISION_COLUMNS = ("id", "candidate", "recommendation", "band", "job_model_id", "job_model_version", "reviewer",
                    "role", "decision", "outcome", "reason", "stage", "contest", "recommended_at", "decided_at")
CONTEST_COLUMNS = ("id", "candidate", "decision", "first_reviewer", "job_model_id", "job_model_version", "filed_at",
                   "due", "assigned_to", "second_decision", "second_reviewer", "decided_at")
REVIEWER_FIGURES = ("decisions", "accepted", "overridden", "chosen", "do_not_use", "override_rate", "do_not_use_rate",
                    "hours_median", "hours_p90", "contested", "contests_decided", "contests_changed", "second_reviews",
                    "rubber_stamp")
MODEL_FIGURES = ("decisions", "accepted", "overridden", "chosen", "do_not_use", "override_rate", "do_not_use_rate",
                 "hours_median", "hours_p90", "contests", "contests_open", "contests_overdue", "contests_upheld",
                 "contests_changed")


@dataclass(frozen=True)
class OversightFigures:
    """Oversight figures per reviewer and per job model (see :func:`oversight_figures`)."""

    by_reviewer: pd.DataFrame
    by_job_model: pd.DataFrame
    rule: RubberStampRule
    warnings: tuple[str, ...]

    def __str__(self) -> str:
        lines = ["Oversight figures (first-line decisions; override rate over accepted + overridden "
                 "advance/not_advance recommendations; hours from recommendation to decision)", "", "Per reviewer"]
        lines.append(_table(self.by_reviewer) if len(self.by_reviewer) else "  no decisions")
        lines += ["", "Per job model"]
        lines.append(_table(self.by_job_model) if len(self.by_job_model) else "  no decisions")
        lines += ["", f"Rubber-stamp rule: {self.rule.text()}"]
        lines += [f"WARNING: {w}" for w in self.warnings] or ["no reviewer flagged"]
        return "\n".join(lines)


def _table(frame: pd.DataFrame) -> str:
    import pandas as pd

    shown = frame.copy()
    for column in ("override_rate", "do_not_use_rate"):
        shown[column] = [("-" if pd.isna(v) else f"{100 * v:.1f}%") for v in shown[column]]
    for column in ("hours_median", "hours_p90"):
        shown[column] = [("-" if pd.isna(v) else f"{v:.1f}") for v in shown[column]]
    return shown.to_string()


def _tallies(first: pd.DataFrame) -> dict[str, Any]:
    """Counts, rates and times of a group of first-line decisions."""
    import numpy as np
    import pandas as pd

    definite = first["band"].isin(OUTCOMES)
    accepted = int((first["decision"] == "accept").sum())
    overridden = int(((first["decision"] == "override") & definite).sum())
    chosen = int(((first["decision"] == "override") & ~definite).sum())
    do_not_use = int((first["decision"] == "do_not_use").sum())
    n = len(first)
    hours = ((pd.to_datetime(first["decided_at"], utc=True) - pd.to_datetime(first["recommended_at"], utc=True))
             .dt.total_seconds().to_numpy(dtype=float) / 3600.0) if n else np.array([])
    return {
        "decisions": n, "accepted": accepted, "overridden": overridden, "chosen": chosen, "do_not_use": do_not_use,
        "override_rate": overridden / (accepted + overridden) if accepted + overridden else math.nan,
        "do_not_use_rate": do_not_use / n if n else math.nan,
        "hours_median": float(np.median(hours)) if n else math.nan,
        "hours_p90": float(np.quantile(hours, 0.9)) if n else math.nan,  # numpy "linear" = R quantile type 7
    }


def _results(decisions: pd.DataFrame) -> dict[int, str]:
    """Decision id -> its result (the outcome, or do_not_use)."""
    return {int(i): (o if isinstance(o, str) else "do_not_use")
            for i, o in zip(decisions["id"], decisions["outcome"], strict=True)}


def oversight_figures(decisions: pd.DataFrame, contests: pd.DataFrame | None = None, *,
                      rule: RubberStampRule | None = None, now: datetime | None = None) -> OversightFigures:
    """Oversight figures per reviewer and per job model, from tables of decisions and contests.

    Parameters
    ----------
    decisions : DataFrame
        One row per decision, columns :data:`DECISION_COLUMNS` (``Review.decision_frame()``): ``band`` is
        the recommended band, ``decision`` one of :data:`DECISIONS`, ``stage`` ``first`` or ``contest``.
    contests : DataFrame, optional
        One row per contest, columns :data:`CONTEST_COLUMNS` (``Review.contest_frame()``).
    rule : RubberStampRule, optional
    now : datetime, optional
        For overdue contests (default: now).

    Returns
    -------
    OversightFigures
        ``by_reviewer`` (index: reviewer) and ``by_job_model`` (index: job model id and version), computed
        on first-line decisions (``stage == "first"``):

        - ``decisions``; ``accepted``; ``overridden`` (an ``advance`` or ``not_advance`` recommendation
          overridden); ``chosen`` (an outcome chosen for a ``review`` band); ``do_not_use``; they add up
          to ``decisions``;
        - ``override_rate = overridden / (accepted + overridden)``: how often the reviewer departed from a
          definite recommendation they acted on (NaN without one);
        - ``do_not_use_rate = do_not_use / decisions``;
        - ``hours_median``, ``hours_p90``: hours from the recommendation to the decision (median; 90th
          percentile by linear interpolation, numpy's default and R's ``quantile(type = 7)``);
        - per reviewer: ``contested`` (contests of their decisions), ``contests_decided`` and
          ``contests_changed`` (of those, decided by a second reviewer, and with another result),
          ``second_reviews`` (contests they decided), ``rubber_stamp`` (the rule's flag);
        - per job model: ``contests``, ``contests_open``, ``contests_overdue``, ``contests_upheld``,
          ``contests_changed``.

        ``warnings`` names every reviewer flagged by the rule.
    """
    import pandas as pd

    rule = rule or RubberStampRule()
    now = now or datetime.now(UTC)
    missing = [c for c in ("id", "band", "reviewer", "decision", "outcome", "stage", "job_model_id",
                           "job_model_version", "recommended_at", "decided_at") if c not in decisions.columns]
    if missing:
        raise ReviewError(f"the decisions table lacks the column(s) {', '.join(missing)}")
    if contests is None:
        contests = pd.DataFrame(columns=list(CONTEST_COLUMNS))
    first = decisions[decisions["stage"] == "first"]
    second = decisions[decisions["stage"] == "contest"]
    results = _results(decisions)
    contest_result = {}
    for row in contests.itertuples(index=False):
        if row.second_decision is None or pd.isna(row.second_decision):
            contest_result[row.id] = "open"
        else:
            same = results.get(int(row.second_decision)) == results.get(int(row.decision))
            contest_result[row.id] = "upheld" if same else "changed"

    reviewers = []
    for reviewer in sorted(set(first["reviewer"]) | set(second["reviewer"])):
        mine = first[first["reviewer"] == reviewer]
        against = contests[contests["first_reviewer"] == reviewer]
        outcomes = [contest_result[c] for c in against["id"]]
        tallies = _tallies(mine)
        definite = tallies["accepted"] + tallies["overridden"]
        flagged = definite >= rule.min_decisions and tallies["override_rate"] < rule.max_override_rate
        reviewers.append({"reviewer": reviewer, **tallies, "contested": len(against),
                          "contests_decided": sum(o != "open" for o in outcomes),
                          "contests_changed": outcomes.count("changed"),
                          "second_reviews": int((second["reviewer"] == reviewer).sum()), "rubber_stamp": flagged})
    by_reviewer = pd.DataFrame(reviewers, columns=["reviewer", *REVIEWER_FIGURES]).set_index("reviewer")

    models = []
    keys = sorted(set(zip(first["job_model_id"], first["job_model_version"], strict=True))
                  | set(zip(contests["job_model_id"], contests["job_model_version"], strict=True)))
    for model_id, version in keys:
        mine = first[(first["job_model_id"] == model_id) & (first["job_model_version"] == version)]
        theirs = contests[(contests["job_model_id"] == model_id) & (contests["job_model_version"] == version)]
        outcomes = [contest_result[c] for c in theirs["id"]]
        overdue = sum(contest_result[c] == "open" and pd.Timestamp(d).to_pydatetime() < now
                      for c, d in zip(theirs["id"], theirs["due"], strict=True))
        models.append({"job_model_id": model_id, "job_model_version": version, **_tallies(mine),
                       "contests": len(theirs), "contests_open": outcomes.count("open"), "contests_overdue": overdue,
                       "contests_upheld": outcomes.count("upheld"), "contests_changed": outcomes.count("changed")})
    by_model = pd.DataFrame(models, columns=["job_model_id", "job_model_version", *MODEL_FIGURES]) \
        .set_index(["job_model_id", "job_model_version"])

    warnings = tuple(
        f"reviewer {name} overrode {int(row.overridden)} of {int(row.accepted + row.overridden)} advance/not_advance "
        f"recommendations ({100 * row.override_rate:.1f}%): possible rubber-stamping (rule: {rule.text()}); look "
        "at how these cases were reviewed"
        for name, row in by_reviewer.iterrows() if row.rubber_stamp)
    return OversightFigures(by_reviewer, by_model, rule, warnings)


PERIODS = {"month": "M", "week": "W-SUN", "quarter": "Q"}  # pandas period aliases; weeks run Monday to Sunday
TIME_FIGURES = ("decisions", "accepted", "overridden", "override_rate", "contested", "contest_rate")


def oversight_over_time(decisions: pd.DataFrame, contests: pd.DataFrame | None = None, *, by: str = "reviewer",
                        period: str = "month") -> pd.DataFrame:
    """Override and contest rates per reviewer (or job model) and calendar period of the decision.

    Parameters
    ----------
    decisions, contests : DataFrame
        As for :func:`oversight_figures` (``Review.decision_frame()``, ``Review.contest_frame()``).
    by : {"reviewer", "job_model_id"}
        Who the rows are about: the first reviewer, or the job model (all its versions).
    period : {"month", "week", "quarter"}
        The period a decision falls in, by its ``decided_at`` in UTC.

    Returns
    -------
    DataFrame
        One row per (``by``, period) with at least one first-line decision, in order, with columns ``by``,
        ``period`` (``2026-03``; a week as its Monday, ``2026-03-02``; ``2026Q1``), ``start`` (the period's
        first day) and :data:`TIME_FIGURES`: ``override_rate = overridden / (accepted + overridden)`` as in
        :func:`oversight_figures` (NaN without a definite recommendation acted on), ``contested`` the
        period's decisions a candidate contested (whenever the contest was filed), and ``contest_rate =
        contested / decisions``.
    """
    import pandas as pd

    if by not in ("reviewer", "job_model_id"):
        raise ReviewError(f"oversight over time is by 'reviewer' or 'job_model_id', not {by!r}")
    if period not in PERIODS:
        raise ReviewError(f"the period is one of {', '.join(PERIODS)}, not {period!r}")
    columns = [by, "period", "start", *TIME_FIGURES]
    first = decisions[decisions["stage"] == "first"]
    if not len(first):
        return pd.DataFrame(columns=columns)
    contested_ids = set() if contests is None else {int(d) for d in contests["decision"]}
    moments = pd.to_datetime(first["decided_at"], utc=True).dt.tz_localize(None)
    periods = moments.dt.to_period(PERIODS[period])
    rows = []
    for (who, when), mine in first.groupby([first[by], periods], sort=True):
        tallies = _tallies(mine)
        contested = sum(int(i) in contested_ids for i in mine["id"])
        start = when.start_time.date()
        label = start.isoformat() if period == "week" else str(when)
        rows.append({by: who, "period": label, "start": start,
                     **{k: tallies[k] for k in ("decisions", "accepted", "overridden", "override_rate")},
                     "contested": contested, "contest_rate": contested / tallies["decisions"]})
    return pd.DataFrame(rows, columns=columns)


def override_rates_by_group(decisions: pd.DataFrame, groups: pd.Series | Mapping[str, Any], *,
                            unknown: str = "unknown") -> pd.DataFrame:
    """Override rates of first-line decisions per group of candidates, from demographics passed in.

    The guide asks to track override rates per group (do reviewers override more often, or in one
    direction, for some groups?). Nothing here reads protected attributes: the caller passes them,
    e.g. a column of ``DemographicsVault.read(actor=..., purpose=...)``, whose read is logged.

    Parameters
    ----------
    decisions : DataFrame
        ``Review.decision_frame()`` (columns ``candidate``, ``band``, ``decision``, ``outcome``, ``stage``).
    groups : Series or mapping
        Candidate id -> group label (e.g. ``"female"``); candidates without one (or None/NaN) fall in
        ``unknown``.

    Returns
    -------
    DataFrame
        Index: group (sorted, ``unknown`` last); columns ``decisions``, ``accepted``, ``overridden``,
        ``override_rate`` (as in :func:`oversight_figures`), ``overridden_up`` (``not_advance`` overridden to
        ``advance``), ``overridden_down`` (``advance`` to ``not_advance``), ``do_not_use``,
        ``do_not_use_rate``. Every group is listed with its n, however small: read rates of small groups
        with their n.
    """
    import pandas as pd

    if isinstance(groups, Mapping):
        groups = pd.Series(groups, dtype=object)
    if not isinstance(groups, pd.Series):
        raise ReviewError("groups must be a Series or a mapping candidate id -> group label")
    if groups.index.has_duplicates:
        raise ReviewError("groups lists a candidate twice")
    first = decisions[decisions["stage"] == "first"]
    label = first["candidate"].map(groups).astype(object)
    label = label.where(label.notna(), unknown).astype(str)
    rows = []
    names = sorted(set(label) - {unknown}) + ([unknown] if unknown in set(label) else [])
    for name in names:
        mine = first[label == name]
        definite = mine["band"].isin(OUTCOMES)
        accepted = int((mine["decision"] == "accept").sum())
        over = (mine["decision"] == "override") & definite
        overridden = int(over.sum())
        do_not_use = int((mine["decision"] == "do_not_use").sum())
        rows.append({"group": name, "decisions": len(mine), "accepted": accepted, "overridden": overridden,
                     "override_rate": overridden / (accepted + overridden) if accepted + overridden else math.nan,
                     "overridden_up": int((over & (mine["outcome"] == "advance")).sum()),
                     "overridden_down": int((over & (mine["outcome"] == "not_advance")).sum()),
                     "do_not_use": do_not_use, "do_not_use_rate": do_not_use / len(mine)})
    columns = ["group", "decisions", "accepted", "overridden", "override_rate", "overridden_up", "overridden_down",
               "do_not_use", "do_not_use_rate"]
    return pd.DataFrame(rows, columns=columns).set_index("group")


__all__ = ["CONTEST_COLUMNS", "DECISION_COLUMNS", "MODEL_FIGURES", "PERIODS", "REVIEWER_FIGURES", "TIME_FIGURES",
           "OversightFigures", "override_rates_by_group", "oversight_figures", "oversight_over_time"]
