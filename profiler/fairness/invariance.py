"""Measurement invariance across groups with the multi-group CFA: configural -> metric -> scalar -> strict.

Each step adds equality constraints across groups (metric: loadings; scalar: + intercepts, with the factor
means then free in every group but the first; strict: + residual variances) and is compared with the last
accepted step. It is rejected when fit worsens by more than the usual criteria (Cheung & Rensvold, 2002;
Chen, 2007): CFI drops by more than .010, RMSEA rises by more than .015, or SRMR rises by more than .030
(metric) or .010 (scalar, strict). The chi-square difference test is reported beside them; with
thousands of respondents it rejects almost any constraint, which is why the change criteria are used.

**Partial invariance** when a step is rejected: constraints of that step are released one at a time, each
time the one whose release lowers chi-square most, found by *fitting every candidate model* (comparing
freed models, not modification indices: the CFA's modification indices do not cover equality
constraints), until the step meets the criteria, ``max_free`` releases are spent, or no candidate is
left (a factor keeps at least ``min_invariant`` invariant indicators, its marker counted). Later steps keep
the releases.

**Fits that fail are never compared.** A model that does not converge (or cannot be estimated) is not
used: a rejected step's candidate releases that fail are left out of the search and named in the notes,
and a step whose own model fails ends the sequence with the verdict ``not estimated``.

**The marker** (the item whose loading is fixed to 1, which sets its factor's scale in every group) is
chosen (``marker="auto"``, the default): from a configural fit with standardized factors, the item whose
loadings are in the most typical ratio across groups (the ratio most items share, as a factor-variance
difference would make it), among items loading at least .30 with the same sign in every group. A marker
that is itself non-invariant would push its bias onto every other item. ``marker="first"`` keeps lavaan's
rule (the first item); a mapping names the marker of each factor.

**Loadings that change sign** between groups (after aligning each group's factor with the first group's),
the mark of a reversed translation or a misunderstood item, raise a :class:`LoadingSignWarning` and are
named in the notes: invariance of such an item is not a question of degree.

Every model is the plain factor model fitted with lavaan's ``group.equal`` categories (metric
``("loadings",)``, scalar ``+ "intercepts"``, strict ``+ "residuals"``) and the released constraints as
``group.partial`` (``F=~x2``, ``x3~1``, ``x3~~x3``): :class:`profiler.factors.CFA` ``fit(..., equal=...,
partial=...)``, so each model can be refitted in R exactly as written in ``InvarianceResult.models``.

**Ordinal items** (``ordered=True``): WLSMV, delta parameterisation, and the sequence Wu & Estabrook
(2016) recommend for ordered categories, as lavaan's defaults implement it: configural -> thresholds
(equal thresholds; the scale factors and factor means become free after the first group) -> metric
(thresholds and loadings). Intercepts of latent responses are fixed to 0 in every group, so a separate
scalar step adds nothing; residual variances are not free parameters under the delta parameterisation.
The criteria are applied to the scaled CFI and RMSEA (lavaan's ``cfi.scaled``, ``rmsea.scaled``; the
robust versions are not defined once scale factors are free) and to SRMR; the difference of WLSMV
chi-squares is not a chi-square, so ``delta_p`` is NaN.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from profiler.errors import ProfilerError
from profiler.factors.cfa import CFA, CFAConvergenceWarning
from profiler.factors.model_syntax import parse_model
from profiler.fairness._input import FairnessInputError, group_labels
from profiler.fairness.impact import _records
from profiler.questionnaire.questionnaire import Questionnaire

__all__ = ["CRITERIA", "InvarianceResult", "LoadingSignWarning", "invariance"]

STEPS = ("configural", "metric", "scalar", "strict")
ORDINAL_STEPS = ("configural", "thresholds", "metric")
CONSTRAINED = {"metric": "loading", "scalar": "intercept", "strict": "residual", "thresholds": "threshold"}
EQUAL = ("loadings", "intercepts", "residuals")  # lavaan's group.equal added by metric, scalar, strict
ORDINAL_EQUAL = ("thresholds", "loadings")  # added by the thresholds and metric steps
# worse by more than this means the step does not hold (SRMR: .030 for metric, .010 afterwards)
CRITERIA = {"cfi": 0.010, "rmsea": 0.015, "srmr_metric": 0.030, "srmr": 0.010}
GROUP = "__group__"
FIT_COLUMNS = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr"]
MIN_MARKER_LOADING = 0.30  # standardized; a weaker item makes a poor scale for its factor


class LoadingSignWarning(UserWarning):
    """An item loads on its factor with opposite signs in two groups (a reversed translation, a misread item)."""


@dataclass(frozen=True)
class InvarianceResult:
    """The sequence of invariance models.

    Attributes
    ----------
    steps : DataFrame
        One row per step tested: fit (``chisq, df, pvalue, cfi, tli, rmsea, srmr``), changes against
        the last accepted step (``delta_chisq, delta_df, delta_p, delta_cfi, delta_rmsea, delta_srmr``),
        whether each criterion is met (``cfi_ok, rmsea_ok, srmr_ok``), ``n_freed`` and ``verdict``:
        ``baseline`` (configural), ``holds``, ``partial`` (holds after releasing ``freed``) or ``fails``;
        ``full_chisq, full_df, full_cfi, full_rmsea, full_srmr, full_delta_cfi``: the step with all of its
        constraints, before any release.
    freed : DataFrame
        Released constraints in order: ``step, parameter`` (lavaan ``group.partial`` syntax), ``kind``,
        ``item``, ``delta_chisq`` (drop from the release) and fit after it.
    group_sizes : Series
    models : dict
        Step -> (model syntax, ``equal``, ``partial``) of the accepted model of that step: lavaan's
        ``cfa(syntax, group.equal = equal, group.partial = partial)``.
    fits : dict
        Step -> fitted :class:`~profiler.factors.CFA` (not serialized).
    notes : list of str
        Poor configural fit, fits that failed, loadings that change sign, steps not tested.
    markers : dict
        Factor -> the item whose loading is fixed to 1 (see ``marker``).
    """

    steps: pd.DataFrame
    freed: pd.DataFrame
    group_sizes: pd.Series
    n_rows_dropped: int
    models: dict
    fits: dict = field(repr=False, default_factory=dict)
    notes: list = field(default_factory=list)
    markers: dict = field(default_factory=dict)

    def summary(self) -> str:
        """The verdict in words: each step, how much of it had to be freed, and the notes."""
        parts = []
        for row in self.steps.itertuples():
            if row.step == "configural":
                parts.append(f"configural {'baseline' if row.verdict == 'baseline' else row.verdict}")
                continue
            text = f"{row.step} {row.verdict}"
            if row.n_freed:
                kind = CONSTRAINED.get(row.step, "constraint")
                text += (f" ({int(row.n_freed)} of {int(row.n_constraints)} {kind}s freed, "
                         f"{row.n_freed / row.n_constraints:.0%}: {', '.join(row.freed)})")
            parts.append(text)
        return "; ".join(parts) + ("" if not self.notes else ". Notes: " + "; ".join(self.notes))

    def to_dict(self) -> dict:
        steps = self.steps.copy()
        steps["freed"] = steps["freed"].apply(list)
        return {"steps": _records(steps), "freed": _records(self.freed),
                "group_sizes": {str(k): int(v) for k, v in self.group_sizes.items()},
                "n_rows_dropped": self.n_rows_dropped,
                "models": {k: {"syntax": s, "equal": list(e), "partial": list(p)}
                           for k, (s, e, p) in self.models.items()},
                "notes": list(self.notes), "markers": dict(self.markers), "summary": self.summary()}


def _factors(model) -> dict[str, list[str]]:
    if isinstance(model, Questionnaire):
        return {s.id: [k.item for k in model.keys(s.id)] for s in model.scales if s.keys is not None}
    if isinstance(model, Mapping):
        return {str(f): [str(i).lstrip("-") for i in items] for f, items in model.items()}
    if isinstance(model, str):
        parsed = parse_model(model)
        out: dict[str, list[str]] = {}
        for st in parsed.statements:
            plain = all(t.fixed is None and not t.free and t.label is None for t in st.rhs)
            if st.op != "=~" or not plain:
                raise ValueError("invariance() takes a model of plain 'factor =~ item + item' statements (or a "
                                 "mapping or questionnaire); fit other models with profiler.factors.CFA directly")
            out.setdefault(st.lhs, []).extend(t.name for t in st.rhs)
        return out
    raise TypeError(f"model must be a Questionnaire, a mapping {{factor: [items]}} or lavaan syntax, not "
                    f"{type(model).__name__}")


def _syntax(factors: dict[str, list[str]], step: str, released: set, ordered: bool = False
            ) -> tuple[str, tuple, tuple]:
    """Model text, ``equal`` and ``partial`` of a step with the given (kind, item) constraints released.

    ``partial`` lists the releases of this step and the earlier ones, loadings first, then intercepts and
    residual variances, each in model order (deterministic, whatever order they were released in).
    """
    syntax = "\n".join(f"{factor} =~ " + " + ".join(items) for factor, items in factors.items())
    equal = ORDINAL_EQUAL[:ORDINAL_STEPS.index(step)] if ordered else EQUAL[:STEPS.index(step)]
    observed = [i for items in factors.values() for i in items]
    partial = tuple(_parameter(kind, item, factors) for kind in CONSTRAINED.values() for item in observed
                    if (kind, item) in released)
    return syntax, equal, partial


def _parameter(kind: str, item: str, factors: dict) -> str:
    if kind == "loading":
        factor = next(f for f, items in factors.items() if item in items)
        return f"{factor}=~{item}"
    return f"{item}~1" if kind == "intercept" else f"{item}~~{item}"


def _fit(data: pd.DataFrame, factors, step, released, ordered: bool = False, max_iter: int = 500
         ) -> tuple[CFA | None, str | None]:
    """The fitted step model, or None and why it cannot be used (no convergence, no estimate)."""
    syntax, equal, partial = _syntax(factors, step, released, ordered)
    cfa = CFA(syntax, missing="listwise", ordered=True if ordered else None, max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CFAConvergenceWarning)  # judged by converged_ below, and reported
        try:
            fit = cfa.fit(data, group=GROUP, equal=equal, partial=partial)
        except (ProfilerError, np.linalg.LinAlgError) as exc:
            return None, f"could not be estimated ({exc})"
    if not fit.converged_:
        return None, f"did not converge in {max_iter} iterations"
    return fit, None


def _orientation(data: pd.DataFrame, factors: dict[str, list[str]], ordered: bool, max_iter: int
                 ) -> tuple[pd.DataFrame | None, str | None]:
    """Standardized loadings per group (items x groups) of a configural fit with standardized factors, each group's
    factor turned to agree with the first group's; None and why when that fit fails."""
    syntax = "\n".join(f"{factor} =~ " + " + ".join(items) for factor, items in factors.items())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a poor fit still orders the items; failures are reported
        try:
            fit = CFA(syntax, std_lv=True, missing="listwise", ordered=True if ordered else None,
                      max_iter=max_iter).fit(data, group=GROUP)
        except (ProfilerError, np.linalg.LinAlgError) as exc:
            return None, str(exc)
    if not fit.converged_:
        return None, "it did not converge"
    rows = fit.estimates_[fit.estimates_["op"] == "=~"]
    table = rows.pivot_table(index=["lhs", "rhs"], columns="group", values="std_all", sort=False)
    table = table[[g for g in rows["group"].unique()]]
    for factor in factors:
        block = table.loc[factor]
        first = block.iloc[:, 0].to_numpy()
        for g in block.columns[1:]:
            if float(first @ block[g].to_numpy()) < 0:  # the factor points the other way in this group
                table.loc[factor, g] = -block[g].to_numpy()
    return table, None


def _choose_markers(factors: dict[str, list[str]], loadings: pd.DataFrame) -> dict[str, str]:
    """Per factor, the item whose loadings across groups are in the ratio most items share."""
    markers = {}
    for factor, items in factors.items():
        block = loadings.loc[factor].loc[items]
        same_sign = (np.sign(block).nunique(axis=1) == 1) & (block.abs().min(axis=1) >= MIN_MARKER_LOADING)
        candidates = block[same_sign & (block.iloc[:, 0] > 0)] if (same_sign & (block.iloc[:, 0] > 0)).any() \
            else block[same_sign]
        if candidates.empty:
            markers[factor] = items[0]
            continue
        ratios = np.log(np.abs(candidates.iloc[:, 1:].to_numpy()) / np.abs(candidates.iloc[:, :1].to_numpy()))
        typical = np.median(ratios, axis=0)
        distance = np.abs(ratios - typical).sum(axis=1)
        markers[factor] = str(candidates.index[int(np.argmin(distance))])
    return markers


def _sign_changes(factors: dict[str, list[str]], loadings: pd.DataFrame) -> list[str]:
    """Items whose (aligned) standardized loading is at least .10 in size with opposite signs in two groups."""
    out = []
    for factor, items in factors.items():
        for item in items:
            values = loadings.loc[(factor, item)].to_numpy()
            strong = values[np.abs(values) >= 0.10]
            if (strong > 0).any() and (strong < 0).any():
                shown = ", ".join(f"{g} {v:+.2f}" for g, v in zip(loadings.columns, values, strict=True))
                out.append(f"{item} on {factor} ({shown})")
    return out


def _candidates(factors: dict, step: str, released: set, min_invariant: int) -> list[tuple[str, str]]:
    kind = CONSTRAINED[step]
    if kind == "threshold":  # releasing an item's thresholds with its scale free leaves it unidentified
        return []
    out = []
    for items in factors.values():
        # a marker loading is fixed to 1 in every group: invariant, never a candidate
        pool = [i for i in (items[1:] if kind == "loading" else items) if (kind, i) not in released]
        invariant = len(pool) + (1 if kind == "loading" else 0)
        if invariant - 1 >= min_invariant:
            out += [(kind, i) for i in pool]
    return out


def _indices(fit: CFA) -> pd.Series:
    """The indices the criteria read: for WLSMV the scaled CFI, TLI and RMSEA stand in for cfi, tli, rmsea."""
    ind = fit.fit_indices_
    if fit.estimator_ not in ("WLSMV", "ULSMV"):
        return ind
    out = ind.copy()
    out["cfi"], out["tli"], out["rmsea"] = ind["cfi_scaled"], ind["tli_scaled"], ind["rmsea_scaled"]
    return out


def _changes(fit: pd.Series, base: pd.Series, step: str, criteria: dict) -> dict:
    d = {f"delta_{k}": float(fit[k] - base[k]) for k in ("chisq", "df", "cfi", "rmsea", "srmr")}
    scaled = "chisq_scaled" in fit.index  # WLSMV: the difference of two such chi-squares is not a chi-square
    d["delta_p"] = float(stats.chi2.sf(d["delta_chisq"], d["delta_df"])) if d["delta_df"] > 0 and not scaled \
        else np.nan
    srmr_cut = criteria["srmr_metric"] if step == "metric" else criteria["srmr"]
    d["cfi_ok"] = bool(-d["delta_cfi"] <= criteria["cfi"])
    d["rmsea_ok"] = bool(d["delta_rmsea"] <= criteria["rmsea"])
    d["srmr_ok"] = bool(d["delta_srmr"] <= srmr_cut)
    return d


def invariance(
    responses: pd.DataFrame,
    model,
    groups: pd.Series,
    *,
    steps: Sequence[str] = STEPS,
    partial: bool = True,
    max_free: int = 10,
    min_invariant: int = 2,
    criteria: Mapping[str, float] | None = None,
    ordered: bool = False,
    marker: str | Mapping[str, str] = "auto",
    max_iter: int = 500,
) -> InvarianceResult:
    """Test configural, metric, scalar (and strict) invariance across ``groups``, with partial invariance.

    Parameters
    ----------
    responses : DataFrame
        Item responses (NaN = missing: incomplete rows are dropped listwise and counted, never imputed).
    model : Questionnaire, mapping or str
        One factor per scale of a questionnaire (its items, keying ignored: loadings carry the sign),
        ``{factor: [items]}``, or lavaan syntax of plain ``=~`` statements.
    groups : Series or array-like
        Group of each person (a Series with the same index, or a list or array in the rows' order); missing
        labels' rows are dropped. Groups are ordered by first appearance (lavaan's order); factor means are
        fixed to 0 in the first.
    steps : sequence of str
        A prefix of ``("configural", "metric", "scalar", "strict")``.
    partial : bool, default True
        Release constraints of a rejected step (see the module docstring); else stop at the first rejection.
    max_free : int, default 10
        Most constraints released per step.
    min_invariant : int, default 2
        Invariant indicators a factor must keep (marker included).
    criteria : mapping, optional
        Overrides of :data:`CRITERIA` (``cfi``, ``rmsea``, ``srmr_metric``, ``srmr``).
    ordered : bool, default False
        Treat the items as ordinal: WLSMV and the steps ``("configural", "thresholds", "metric")`` (see
        the module docstring); ``steps`` is then a prefix of those.
    marker : "auto", "first" or mapping, default "auto"
        How each factor's marker item is chosen (see the module docstring).
    max_iter : int, default 500
        Iterations of each model fit; a fit that does not converge is reported and never compared.

    Returns
    -------
    InvarianceResult

    Notes
    -----
    In R: ``lavaan::cfa(model, data, group = "g", group.equal = ..., group.partial = ...)`` for every model,
    compared with ``lavTestLRT`` and ``fitMeasures``; semTools' ``measEq.syntax`` builds the same sequence.
    """
    all_steps = ORDINAL_STEPS if ordered else STEPS
    steps = tuple(steps) if tuple(steps) != STEPS or not ordered else ORDINAL_STEPS
    if steps != all_steps[: len(steps)] or not steps:
        raise ValueError(f"steps must be a prefix of {all_steps}, got {steps}")
    crit = {**CRITERIA, **(criteria or {})}
    unknown = set(crit) - set(CRITERIA)
    if unknown:
        raise ValueError(f"unknown criteria {sorted(unknown)}; use {sorted(CRITERIA)}")
    groups = group_labels(groups, responses.index)
    factors = _factors(model)
    items = [i for its in factors.values() for i in its]
    missing_cols = [i for i in items if i not in responses.columns]
    if missing_cols:
        raise FairnessInputError(f"responses lack the model's items {missing_cols}")
    data = responses[items].apply(pd.to_numeric, errors="raise")
    data[GROUP] = groups.to_numpy()
    if data[GROUP].nunique() < 2:
        raise FairnessInputError("invariance needs at least two groups")

    notes: list[str] = []
    factors, markers = _with_markers(data, factors, marker, ordered, max_iter, notes)
    rows, freed_rows, fits, models = [], [], {}, {}
    released: set = set()
    base = None
    for step in steps:
        fit, problem = _fit(data, factors, step, released, ordered, max_iter)
        if fit is None:
            rows.append({"step": step, "verdict": "not estimated", "n_freed": 0, "freed": ()})
            notes.append(f"the {step} model {problem}: it is not compared with anything, and later steps were not "
                         "tested")
            break
        ind = _indices(fit)
        row = {"step": step, **{k: float(ind[k]) for k in FIT_COLUMNS}}
        if step == "configural":
            row.update(verdict="baseline", freed=(), n_freed=0)
            if ind["cfi"] < 0.90:
                notes.append(f"the configural model fits poorly (CFI {ind['cfi']:.3f}): the change criteria were "
                             "studied on models that fit, so read the changes with care")
        else:
            change = _changes(ind, base, step, crit)
            # the step with all of its constraints, before any release
            row.update({f"full_{k}": float(ind[k]) for k in ("chisq", "df", "cfi", "rmsea", "srmr")})
            row["full_delta_cfi"] = change["delta_cfi"]
            n_freed = 0
            while partial and not (change["cfi_ok"] and change["rmsea_ok"] and change["srmr_ok"]) \
                    and n_freed < max_free:
                options = _candidates(factors, step, released, min_invariant)
                if not options:
                    break
                trials = []
                for candidate in options:
                    trial, problem = _fit(data, factors, step, released | {candidate}, ordered, max_iter)
                    if trial is None:
                        notes.append(f"releasing {_parameter(*candidate, factors)} at the {step} step: the model "
                                     f"{problem}; that release was not compared")
                    else:
                        trials.append((trial, candidate))
                if not trials:
                    break
                best, choice = min(trials, key=lambda t: t[0].fit_indices_["chisq"])
                best_ind = _indices(best)
                freed_rows.append({"step": step, "parameter": _parameter(*choice, factors), "kind": choice[0],
                                   "item": choice[1], "delta_chisq": float(ind["chisq"] - best_ind["chisq"]),
                                   **{k: float(best_ind[k]) for k in ("chisq", "df", "cfi", "rmsea", "srmr")}})
                released.add(choice)
                fit, ind, n_freed = best, best_ind, n_freed + 1
                change = _changes(ind, base, step, crit)
                row.update({k: float(ind[k]) for k in FIT_COLUMNS})
            ok = change["cfi_ok"] and change["rmsea_ok"] and change["srmr_ok"]
            verdict = ("partial" if n_freed else "holds") if ok else "fails"
            kind = CONSTRAINED[step]
            row.update(change, verdict=verdict, n_freed=n_freed, n_constraints=_n_constraints(factors, kind),
                       freed=tuple(_parameter(k, i, factors) for k, i in sorted(released) if k == kind))
        rows.append(row)
        fits[step] = fit
        models[step] = _syntax(factors, step, released, ordered)
        if row["verdict"] == "fails":
            notes.append(f"{step} invariance does not hold" + (" even after releasing constraints" if partial else "")
                         + f"; later steps ({', '.join(steps[steps.index(step) + 1:]) or 'none'}) were not tested")
            break
        base = ind
    columns = ["step", *FIT_COLUMNS, "delta_chisq", "delta_df", "delta_p", "delta_cfi", "delta_rmsea", "delta_srmr",
               "cfi_ok", "rmsea_ok", "srmr_ok", "n_freed", "n_constraints", "freed", "verdict", "full_chisq", "full_df",
               "full_cfi",
               "full_rmsea", "full_srmr", "full_delta_cfi"]
    steps_frame = pd.DataFrame(rows).reindex(columns=columns)
    freed = pd.DataFrame(freed_rows, columns=["step", "parameter", "kind", "item", "delta_chisq", "chisq", "df", "cfi",
                                              "rmsea", "srmr"])
    if not fits:
        sizes = data.dropna()[GROUP].value_counts(sort=False)
        return InvarianceResult(steps=steps_frame, freed=freed, group_sizes=sizes.rename("n"),
                                n_rows_dropped=int(len(data) - sizes.sum()), models=models, fits=fits, notes=notes,
                                markers=markers)
    first = fits["configural"] if "configural" in fits else next(iter(fits.values()))
    return InvarianceResult(steps=steps_frame, freed=freed, group_sizes=first.group_sizes_,
                            n_rows_dropped=int(first.n_rows_dropped_), models=models, fits=fits, notes=notes,
                            markers=markers)


def _n_constraints(factors: dict[str, list[str]], kind: str) -> int:
    """Equality constraints of a kind across groups, counted per item (markers' loadings are fixed, not constrained)."""
    n_items = sum(len(items) for items in factors.values())
    return n_items - len(factors) if kind == "loading" else n_items


def _with_markers(data: pd.DataFrame, factors: dict[str, list[str]], marker, ordered: bool, max_iter: int,
                  notes: list[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The factors with their markers first, the markers, and sign changes noted and warned about."""
    loadings, problem = _orientation(data, factors, ordered, max_iter)
    if loadings is None:
        notes.append(f"the configural model with standardized factors failed ({problem}): markers could not be "
                     "chosen from it and loadings were not checked for sign changes")
    else:
        changes = _sign_changes(factors, loadings)
        if changes:
            message = ("loadings change sign between groups: " + "; ".join(changes) + ". An item that measures the "
                       "opposite in one group (a reversed translation, a misread item) is not comparable: revise it")
            notes.append(message)
            warnings.warn(message, LoadingSignWarning, stacklevel=3)
    if isinstance(marker, Mapping):
        unknown = [f"{f}: {i}" for f, i in marker.items() if f not in factors or i not in factors[f]]
        if unknown:
            raise FairnessInputError(f"marker(s) {', '.join(unknown)} are not items of those factors")
        chosen = {f: marker.get(f, items[0]) for f, items in factors.items()}
    elif marker == "first" or loadings is None:
        chosen = {f: items[0] for f, items in factors.items()}
    elif marker == "auto":
        chosen = _choose_markers(factors, loadings)
    else:
        raise ValueError(f"marker={marker!r}; use 'auto', 'first' or a mapping factor -> item")
    ordered_factors = {f: [chosen[f]] + [i for i in items if i != chosen[f]] for f, items in factors.items()}
    return ordered_factors, chosen
