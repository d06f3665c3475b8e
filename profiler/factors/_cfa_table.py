"""The parameter table of a CFA: one row per model parameter, in lavaan's order.

Each row names a parameter (``lhs op rhs`` in one group), says where it sits in the LISREL-style
model matrices and whether it is free (and which free parameter it is: rows constrained equal
share one) or fixed (and to what). The order is lavaan's ``parTable`` order, so that
``parameterEstimates`` can be compared row by row: per group, the user's statements in the order
written, then residual variances, factor variances, factor covariances and, with a mean
structure, intercepts and factor means.

Model (per group g)::

    Sigma_g = Lambda Psi Lambda' + Theta        mu_g = nu + Lambda alpha

Ordinal indicators (``ordinal=``) add thresholds tau (``y | t1``, matrix TAU) and scale factors
(``y ~*~ y``, matrix DELTA) in lavaan's delta parameterisation: the latent responses y* have
variances 1/delta^2, so residual variances are not free but derived, theta_ii = 1/delta_i^2 -
(Lambda Psi Lambda')_ii (rows flagged in ``derived``), and the intercepts of y* are fixed to 0.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from profiler.errors import ProfilerError
from profiler.factors.model_syntax import ParsedModel, suggest

LAMBDA, PSI, THETA, NU, ALPHA, TAU, DELTA, BETA = range(8)

#: group.equal categories (lavaan's names) that profiler supports.
EQUAL_CATEGORIES = (
    "thresholds",
    "loadings",
    "intercepts",
    "means",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
    "regressions",
)


class ModelSpecificationError(ProfilerError, ValueError):
    """A model that parses but cannot be estimated as given (not identified, unknown variables...)."""


@dataclass
class ParameterTable:
    """lavaan-style parameter table; arrays are aligned, one entry per row."""

    lhs: list[str]
    op: list[str]
    rhs: list[str]
    group: np.ndarray  # 0-based group index
    user: np.ndarray  # bool: written by the user (not a default)
    free: np.ndarray  # free-parameter index (0-based), -1 when fixed
    value: np.ndarray  # fixed value (NaN for free rows)
    label: list[str]  # user label, lavaan-style ".pN." for group.equal, or ""
    mat: np.ndarray  # LAMBDA, PSI, THETA, NU or ALPHA
    row: np.ndarray
    col: np.ndarray
    observed: tuple[str, ...]
    latent: tuple[str, ...]
    n_groups: int
    meanstructure: bool
    partial: tuple[str, ...] = ()  # parameters freed from ``equal``, in lavaan's spelling
    ordinal: tuple[str, ...] = ()  # ordinal observed variables (delta parameterisation)
    derived: np.ndarray | None = None  # bool: value computed from other parameters (ordinal residual variances)
    defined: tuple = ()  # (name, text, expression tree) of each ':=' statement

    @property
    def has_beta(self) -> bool:
        """Regressions between factors or higher-order factors (the B matrix)."""
        return bool(np.any(self.mat == BETA))

    @property
    def n_free(self) -> int:
        return int(self.free.max()) + 1 if np.any(self.free >= 0) else 0

    def __len__(self) -> int:
        return len(self.lhs)


@dataclass
class _Row:
    lhs: str
    op: str
    rhs: str
    mat: int
    row: int
    col: int
    user: bool
    fixed: float | None = None  # user-fixed value
    force_free: bool = False  # NA*x
    label: str = ""


def build_table(
    model: ParsedModel,
    *,
    n_groups: int = 1,
    std_lv: bool = False,
    equal: Collection[str] = (),
    partial: Collection[str] = (),
    meanstructure: bool = False,
    ordinal: Mapping[str, int] | None = None,
) -> ParameterTable:
    """Parameter table for ``model`` with lavaan's ``cfa()`` defaults.

    Identification: the first loading of each factor is fixed to 1 (marker), or with ``std_lv`` the
    factor variances are fixed to 1 and all loadings are free. Factors covary freely; residual
    variances are free; with a mean structure, intercepts are free and factor means fixed to 0 --
    except, as in lavaan, in groups after the first when ``equal`` holds the intercepts (and not the
    means), and factor variances in later groups when ``std_lv`` and equal loadings.

    ``partial`` names parameters in lavaan's notation (``"visual=~x2"``, ``"x3~1"``, ``"x5~~x5"``) that
    stay free in every group although ``equal`` covers their kind (lavaan's ``group.partial``). Which
    parameters are free or fixed does not change: factor means and variances follow ``equal`` alone.

    ``ordinal`` maps each ordinal observed variable to its number of thresholds: thresholds are free
    (equal across groups with ``"thresholds"`` in ``equal``), intercepts fixed to 0, residual variances
    derived, scale factors fixed to 1 -- in groups after the first, with equal thresholds, the scale
    factors and factor means are free (lavaan's defaults, Wu & Estabrook's 2016 identification).

    In R: ``lavaan::lavaanify(model, auto = TRUE, std.lv = ..., ngroups = ..., group.equal = ...,
    group.partial = ...)``.

    Raises
    ------
    ModelSpecificationError
        A ``partial`` entry that is not a parameter of the model, or one that ``equal`` does not
        constrain (fixed, held equal by a label, or of a kind not in ``equal``); all such entries at once.
    """
    equal = frozenset(equal)
    ordinal = dict(ordinal or {})
    meanstructure = meanstructure or bool(ordinal)
    ov, lv = model.observed, model.latent
    ov_idx = {n: i for i, n in enumerate(ov)}
    lv_idx = {n: j for j, n in enumerate(lv)}

    rows: list[_Row] = []
    seen: set[tuple[str, str, str]] = set()

    def key(lhs: str, op: str, rhs: str) -> tuple[str, str, str]:
        return (min(lhs, rhs), op, max(lhs, rhs)) if op == "~~" else (lhs, op, rhs)

    defined = []
    for st in model.statements:
        if st.op == ":=":
            defined.append((st.lhs, st.rhs[0].name, st.expr))
            continue
        for term in st.rhs:
            if st.op == "=~" and term.name in lv_idx:  # higher-order: the factor is regressed on st.lhs
                row = _Row(st.lhs, "=~", term.name, BETA, lv_idx[term.name], lv_idx[st.lhs], True)
            elif st.op == "~":  # regression between factors
                row = _Row(st.lhs, "~", term.name, BETA, lv_idx[st.lhs], lv_idx[term.name], True)
            elif st.op == "=~":
                row = _Row(st.lhs, "=~", term.name, LAMBDA, ov_idx[term.name], lv_idx[st.lhs], True)
            elif st.op == "~~":
                a, b = st.lhs, term.name
                if a in lv_idx:
                    row = _Row(a, "~~", b, PSI, lv_idx[a], lv_idx[b], True)
                else:
                    row = _Row(a, "~~", b, THETA, ov_idx[a], ov_idx[b], True)
            elif st.op == "|":
                if st.lhs not in ordinal:
                    raise ModelSpecificationError(
                        f"thresholds of {st.lhs!r}{_where(model, st.lhs)} need {st.lhs!r} to be ordinal: list it in "
                        "CFA(..., ordered=[...]) or pass ordered=True")
                t = int(term.name[1:])
                if t > ordinal[st.lhs]:
                    raise ModelSpecificationError(
                        f"{st.lhs!r} has {ordinal[st.lhs]} thresholds in the data ({ordinal[st.lhs] + 1} answer "
                        f"categories); the model names {term.name!r} (line {term.line}, column {term.column})")
                row = _Row(st.lhs, "|", term.name, TAU, ov_idx[st.lhs], t - 1, True)
            else:  # "~1"
                if st.lhs in lv_idx:
                    row = _Row(st.lhs, "~1", "", ALPHA, lv_idx[st.lhs], 0, True)
                else:
                    row = _Row(st.lhs, "~1", "", NU, ov_idx[st.lhs], 0, True)
            row.fixed, row.force_free, row.label = term.fixed, term.free, term.label or ""
            rows.append(row)
            seen.add(key(row.lhs, row.op, row.rhs))

    defaults: list[_Row] = []
    defaults += [_Row(n, "|", f"t{t + 1}", TAU, i, t, False) for i, n in enumerate(ov) if n in ordinal
                 for t in range(ordinal[n])]
    defaults += [_Row(n, "~~", n, THETA, i, i, False) for i, n in enumerate(ov)]
    defaults += [_Row(n, "~~", n, PSI, j, j, False) for j, n in enumerate(lv)]
    # factors covary freely unless one is endogenous (regressed on another): lavaan's auto.cov.lv.x
    endogenous = {r.lhs if r.op == "~" else r.rhs for r in rows if r.mat == BETA}
    exogenous = [n for n in lv if n not in endogenous]
    defaults += [_Row(a, "~~", b, PSI, lv_idx[a], lv_idx[b], False) for a, b in combinations(exogenous, 2)]
    defaults += [_Row(n, "~*~", n, DELTA, i, i, False) for i, n in enumerate(ov) if n in ordinal]
    if meanstructure:
        defaults += [_Row(n, "~1", "", NU, i, 0, False) for i, n in enumerate(ov)]
        defaults += [_Row(n, "~1", "", ALPHA, j, 0, False) for j, n in enumerate(lv)]
    rows += [r for r in defaults if key(r.lhs, r.op, r.rhs) not in seen]

    # default free/fixed status in one group (before the user's modifiers)
    first_loading = {}
    for k, r in enumerate(rows):
        if r.op == "=~" and r.lhs not in first_loading:
            first_loading[r.lhs] = k
    marker_rows = set() if std_lv else set(first_loading.values())

    def default_fixed(k: int, r: _Row, g: int) -> float | None:
        if k in marker_rows:
            return 1.0
        ordinal_var = (r.mat == NU or (r.mat in (THETA, DELTA) and r.row == r.col)) and ov[r.row] in ordinal
        if ordinal_var and r.mat == THETA:
            return np.nan  # derived from the scale factor and the common variance
        if ordinal_var and r.mat == NU:
            return 0.0
        if r.mat == DELTA:
            if g > 0 and "thresholds" in equal:
                return None  # equal thresholds identify later groups' scales (lavaan; Wu & Estabrook 2016)
            return 1.0
        if r.mat == PSI and r.row == r.col and std_lv:
            if g > 0 and "loadings" in equal and "lv.variances" not in equal and not r.user:
                return None  # lavaan >= 0.6-4: equal loadings identify later groups' variances
            return 1.0
        if r.mat == ALPHA:
            equal_location = "intercepts" in equal or (ordinal and "thresholds" in equal)
            if g > 0 and equal_location and "means" not in equal and not r.user:
                return None  # lavaan frees latent means after the first group under equal intercepts
            return 0.0
        return None

    freed = _resolve_partial(partial, rows, equal, default_fixed, n_groups)

    n_rows = len(rows)
    lhs, op, rhs, labels = [], [], [], []
    group = np.repeat(np.arange(n_groups), n_rows)
    user = np.tile([r.user for r in rows], n_groups)
    mat = np.tile([r.mat for r in rows], n_groups)
    row_i = np.tile([r.row for r in rows], n_groups)
    col_i = np.tile([r.col for r in rows], n_groups)
    free = np.full(n_rows * n_groups, -1, dtype=np.int64)
    value = np.full(n_rows * n_groups, np.nan)
    keys: dict[tuple, int] = {}
    for g in range(n_groups):
        for k, r in enumerate(rows):
            i = g * n_rows + k
            lhs.append(r.lhs)
            op.append(r.op)
            rhs.append(r.rhs)
            fixed = _fixed_value(k, r, g, default_fixed)
            if fixed is not None:
                value[i] = fixed
                labels.append(r.label)
                continue
            # rows that share a key share one free parameter (labels, group.equal)
            if r.label:
                free_key: tuple = ("label", r.label)
            elif n_groups > 1 and _category(r) in equal and k not in freed:
                free_key = ("equal", k)
            else:
                free_key = ("row", i)
            free[i] = keys.setdefault(free_key, len(keys))
            labels.append(r.label or (f".p{k + 1}." if free_key[0] == "equal" else ""))
    derived = np.isnan(value) & (free < 0)
    return ParameterTable(
        lhs, op, rhs, group, user, free, value, labels, mat, row_i, col_i, ov, lv, n_groups, meanstructure,
        partial=tuple(freed.values()), ordinal=tuple(n for n in ov if n in ordinal), derived=derived,
        defined=tuple(defined),
    )


def _fixed_value(k: int, r: _Row, g: int, default_fixed) -> float | None:
    """The value row ``k`` is fixed to in group ``g``, or None when it is free."""
    if r.fixed is not None:
        return r.fixed
    return None if r.force_free or r.label else default_fixed(k, r, g)


# lhs, operator, rhs of one parameter in lavaan's notation; "x3~1" is an intercept (or factor mean)
_PARTIAL = re.compile(r"([A-Za-z_.][A-Za-z0-9_.]*)(=~|~~|~)([A-Za-z0-9_.]+)")


def _name(r: _Row) -> str:
    return f"{r.lhs}{r.op}{r.rhs}"


def _resolve_partial(
    partial: Collection[str], rows: list[_Row], equal: frozenset, default_fixed, n_groups: int
) -> dict[int, str]:
    """Map each ``partial`` entry to its row: ``{row index: lavaan spelling}``, in the order given.

    Whitespace is ignored and a covariance may be written either way round (``x8~~x7``; lavaan itself
    only matches the order of its parameter table and silently ignores the other).
    """
    by_key = {}
    for k, r in enumerate(rows):
        by_key[(r.lhs, r.op, r.rhs)] = k
        if r.op == "~~":
            by_key.setdefault((r.rhs, r.op, r.lhs), k)
    out: dict[int, str] = {}
    problems: list[str] = []
    for entry in partial:
        text = re.sub(r"\s+", "", entry)
        match = _PARTIAL.fullmatch(text)
        key = None
        if match:
            lhs, op, rhs = match.groups()
            key = (lhs, "~1", "") if op == "~" and rhs == "1" else (lhs, op, rhs)
        k = by_key.get(key)
        if k is None:
            hint = suggest(text, [_name(r) for r in rows])
            problems.append(f"{entry!r} is not a parameter of the model{hint}; write loadings 'f=~x', intercepts "
                            "'x~1', (residual) variances 'x~~x' and covariances 'x~~y'")
            continue
        r = rows[k]
        category = _category(r)
        if r.label:
            problems.append(f"{entry!r} is held equal across groups by its label {r.label!r}, not by equal=: "
                            "remove the label to free it")
        elif all(_fixed_value(k, r, g, default_fixed) is not None for g in range(max(n_groups, 2))):
            value = _fixed_value(k, r, 0, default_fixed)
            problems.append(f"{entry!r} is fixed (to {value:g}) in every group, not constrained by equal=")
        elif category not in equal:
            problems.append(f"{entry!r} is not constrained by equal={tuple(sorted(equal))}: it would be held "
                            f"equal only with {category!r} in equal")
        else:
            out.setdefault(k, _name(r))
    if problems:
        raise ModelSpecificationError("partial= can only free parameters that equal= holds equal across groups:\n"
                                      + "\n".join(f"- {p}" for p in problems))
    return out


def _category(r: _Row) -> str:
    if r.mat == BETA:
        return "loadings" if r.op == "=~" else "regressions"
    if r.mat == TAU:
        return "thresholds"
    if r.mat == DELTA:
        return "scales"
    if r.mat == LAMBDA:
        return "loadings"
    if r.mat == NU:
        return "intercepts"
    if r.mat == ALPHA:
        return "means"
    if r.mat == THETA:
        return "residuals" if r.row == r.col else "residual.covariances"
    return "lv.variances" if r.row == r.col else "lv.covariances"


def check_identification(table: ParameterTable, model: ParsedModel) -> None:
    """Structural checks that need no data: every factor has a scale, single indicators are handled.

    Raises
    ------
    ModelSpecificationError
        Naming the factor, where it is defined, and the usual remedies.
    """
    problems: list[str] = []
    first = table.group == 0
    for j, name in enumerate(table.latent):
        where = _where(model, name)
        load = first & (table.mat == LAMBDA) & (table.col == j)
        items = [table.observed[i] for i in table.row[load]]
        # a higher-order factor's "indicators" are factors: rows of B with op '=~' and this factor as predictor
        higher = first & (table.mat == BETA) & (table.col == j) & np.array([o == "=~" for o in table.op])
        var = first & (table.mat == PSI) & (table.row == j) & (table.col == j)
        var_fixed = bool(np.any(table.free[var] < 0))
        scale = load | higher
        loading_fixed = bool(np.any((table.free[scale] < 0) & (table.value[scale] != 0)))
        if higher.any():
            if not var_fixed and not loading_fixed:
                problems.append(f"factor {name!r}{where} has no scale: fix one loading or its variance")
            if int(higher.sum()) + len(items) < 2:
                problems.append(f"higher-order factor {name!r}{where} needs at least two indicators "
                                "(three first-order factors identify it on its own)")
            continue
        if not var_fixed and not loading_fixed:
            problems.append(
                f"factor {name!r}{where} has no scale: fix one loading (lavaan fixes the first to 1 unless it "
                "is freed with NA*) or its variance, or use std_lv=True"
            )
        if len(items) == 1:
            i = table.observed.index(items[0])
            resid = first & (table.mat == THETA) & (table.row == i) & (table.col == i)
            if not np.any(table.free[resid] < 0):
                problems.append(
                    f"factor {name!r}{where} has a single indicator {items[0]!r}: the factor variance and the "
                    f"residual variance of {items[0]!r} cannot both be estimated. Fix the residual variance "
                    f"(e.g. '{items[0]} ~~ 0*{items[0]}', which lavaan does silently) or add indicators"
                )
    if problems:
        raise ModelSpecificationError("the model is not identified:\n" + "\n".join(f"- {p}" for p in problems))


def _where(model: ParsedModel, name: str) -> str:
    line, column = model.locate(name)
    return f" (line {line}, column {column})" if line > 0 else ""
