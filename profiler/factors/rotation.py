"""Factor rotations by gradient projection (Bernaards & Jennrich, 2005), and promax as psych does it.

Orthogonal rotations (varimax) use the orthogonal gradient projection algorithm (GPForth); oblique
rotations (oblimin, quartimin, geomin) the oblique one (GPFoblq). Both are run from the identity and
from ``n_starts`` seeded random orthogonal starts at once (the starts are batched along a leading axis,
so extra starts cost little), and the solution with the lowest criterion is returned; ties go to the
earliest start, so the identity wins when it reaches the best optimum.

Kaiser normalisation defaults follow what ``psych::fa`` uses in R: varimax is ``stats::varimax``
(normalised); promax is ``psych::kaiser(rotate = "Promax")`` (normalised); oblimin, quartimin and
geominQ are GPArotation's functions with their default ``normalize = FALSE``.

Conventions: ``pattern = loadings @ rotation_matrix`` and ``phi = inv(R) @ inv(R).T`` for the rotation
matrix ``R`` (psych's ``rot.mat``, equal to ``t(solve(Th))`` for GPArotation's ``Th``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.exceptions import ConvergenceWarning

from profiler.factors.extraction import small_matrix_threads

ROTATIONS: tuple[str, ...] = (
    "none", "varimax", "promax", "oblimin", "quartimin", "geomin",
    "quartimax", "equamax", "bentlerT", "bentlerQ", "geominT", "simplimax",
    "targetT", "targetQ", "bifactor", "biquartimin",
)  # fmt: skip
ORTHOGONAL: frozenset[str] = frozenset({"none", "varimax", "quartimax", "equamax", "bentlerT", "geominT",
                                        "targetT", "bifactor"})
#: Rotations that need a target matrix.
TARGET_ROTATIONS: frozenset[str] = frozenset({"targetT", "targetQ"})
#: Kaiser normalisation used by default, per rotation (psych::fa's defaults: R's varimax and psych's
#: promax normalise; every GPArotation function, and psych's equamax, bifactor and biquartimin, do not).
DEFAULT_NORMALIZE: dict[str, bool] = {name: name in ("varimax", "promax") for name in ROTATIONS}

Criterion = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Rotation:
    """A rotated solution.

    Attributes
    ----------
    loadings : ndarray of shape (p, k)
        Pattern loadings ``A @ rotation_matrix``.
    phi : ndarray of shape (k, k)
        Factor correlations (identity for orthogonal rotations).
    rotation_matrix : ndarray of shape (k, k)
        ``R`` with ``loadings = A @ R``.
    method : str
    orthogonal : bool
    normalize : bool
        Whether Kaiser (row) normalisation was applied.
    criterion : float
        Criterion value of the returned solution (nan for none/promax).
    converged : bool
    n_iter : int
        Iterations of the returned start.
    start : int
        Index of the returned start (0 is the identity).
    start_criteria : ndarray
        Final criterion value of every start (identity first).
    """

    loadings: np.ndarray
    phi: np.ndarray
    rotation_matrix: np.ndarray
    method: str
    orthogonal: bool
    normalize: bool
    criterion: float
    converged: bool
    n_iter: int
    start: int
    start_criteria: np.ndarray


# --- criteria: value and gradient with respect to the loadings, batched over a leading axis ----------


def oblimin_criterion(gamma: float = 0.0) -> Criterion:
    """Oblimin: ``f = sum(L^2 * X) / 4`` with ``X = (I - gamma/p 11') L^2 (11' - I)``; gamma 0 is quartimin."""

    def crit(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        L2 = L * L
        X = L2.sum(axis=-1, keepdims=True) - L2
        if gamma != 0.0:
            X = X - gamma * X.mean(axis=-2, keepdims=True)
        return (L2 * X).sum(axis=(-2, -1)) / 4.0, L * X

    return crit


def geomin_criterion(delta: float = 0.01) -> Criterion:
    """Geomin: ``f = sum_i (prod_j (L_ij^2 + delta))^(1/k)`` (GPArotation's default delta 0.01)."""

    def crit(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = L.shape[-1]
        L2 = L * L + delta
        pro = np.exp(np.log(L2).mean(axis=-1, keepdims=True))
        return pro.sum(axis=(-2, -1)), (2.0 / k) * L / L2 * pro

    return crit


def varimax_criterion(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Varimax: ``f = -||L^2 - colmeans(L^2)||^2 / 4``."""
    L2 = L * L
    QL = L2 - L2.mean(axis=-2, keepdims=True)
    return -(QL * QL).sum(axis=(-2, -1)) / 4.0, -L * QL


def quartimax_criterion(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quartimax: ``f = -sum(L^4) / 4`` (GPArotation's ``vgQ.quartimax``)."""
    L2 = L * L
    return -(L2 * L2).sum(axis=(-2, -1)) / 4.0, -L * L2


def crawford_ferguson_criterion(kappa: float) -> Criterion:
    """Crawford-Ferguson: ``f = (1 - kappa) sum(L^2 * (L^2 N)) / 4 + kappa sum(L^2 * (M L^2)) / 4``
    with ``N = 11' - I`` (factors) and ``M = 11' - I`` (items) (GPArotation's ``vgQ.cf``); psych's
    equamax is this with ``kappa = k / (2p)``, orthogonal and unnormalised."""

    def crit(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        L2 = L * L
        row = L2.sum(axis=-1, keepdims=True) - L2  # L2 N
        col = L2.sum(axis=-2, keepdims=True) - L2  # M L2
        f = ((1 - kappa) * (L2 * row).sum(axis=(-2, -1)) + kappa * (L2 * col).sum(axis=(-2, -1))) / 4.0
        return f, (1 - kappa) * L * row + kappa * L * col

    return crit


def bentler_criterion(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bentler's invariant pattern simplicity: ``f = -(log|M| - log|diag M|) / 4``, ``M = (L^2)'L^2``."""
    L2 = L * L
    M = np.swapaxes(L2, -1, -2) @ L2
    d = np.diagonal(M, axis1=-2, axis2=-1)
    _, logdet = np.linalg.slogdet(M)
    f = -(logdet - np.log(d).sum(axis=-1)) / 4.0
    X = np.linalg.inv(M) - d[..., None] ** -1 * np.eye(M.shape[-1])
    return f, -L * (L2 @ X)


def simplimax_criterion(n_small: int) -> Criterion:
    """Simplimax: the sum of the ``n_small`` smallest squared loadings (GPArotation's ``vgQ.simplimax``,
    ``k = p`` by default); every squared loading not above the ``n_small``-th smallest counts (ties
    included, as GPArotation)."""

    def crit(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        L2 = L * L
        flat = L2.reshape(*L2.shape[:-2], -1)
        cut = np.partition(flat, n_small - 1, axis=-1)[..., n_small - 1]
        small = L2 <= cut[..., None, None]
        return (L2 * small).sum(axis=(-2, -1)), 2.0 * L * small

    return crit


def target_criterion(target: np.ndarray) -> Criterion:
    """Target: ``f = sum((L - target)^2)`` over the specified entries; NaN entries of the target are free
    (GPArotation's ``vgQ.target``, which drops NA; the same as ``pstQ`` with weights ``!is.na``)."""
    free = np.isnan(target)
    tgt = np.where(free, 0.0, target)

    def crit(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        D = np.where(free, 0.0, L - tgt)
        return (D * D).sum(axis=(-2, -1)), 2.0 * D

    return crit


def bifactor_criterion(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Jennrich & Bentler's bifactor criterion (psych's ``vgQ.bimin``): quartimin on every factor but the
    first, ``f = sum(L2^2 (11' - I) L2^2)`` with ``L2`` the loadings without the general factor."""
    G = np.zeros_like(L)
    L1 = L[..., 1:]
    S = L1 * L1
    X = S.sum(axis=-1, keepdims=True) - S
    G[..., 1:] = 4.0 * L1 * X
    return (S * X).sum(axis=(-2, -1)), G


# --- gradient projection, batched over starts ---------------------------------------------------------


def random_starts(k: int, n_starts: int, random_state: int | np.random.Generator | None) -> np.ndarray:
    """The identity followed by ``n_starts`` random orthogonal matrices (QR of Gaussian matrices)."""
    rng = np.random.default_rng(random_state)
    starts = np.empty((n_starts + 1, k, k))
    starts[0] = np.eye(k)
    if n_starts:
        q, r = np.linalg.qr(rng.standard_normal((n_starts, k, k)))
        starts[1:] = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[:, None, :]
    return starts


def _gpf(
    A: np.ndarray,
    T0: np.ndarray,
    crit: Criterion,
    orthogonal: bool,
    max_iter: int,
    tol: float,
    double_every_step: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradient projection from every start in ``T0`` (shape (s, k, k)) at once.

    Each start follows Bernaards & Jennrich's GPForth/GPFoblq: move against the projected gradient
    ``Gp`` with step ``alpha``, halving it until the Armijo condition
    ``f(T_new) < f(T) - alpha ||Gp||^2 / 2`` holds (the 11th trial is taken regardless, as GPArotation
    does). One change: GPArotation doubles ``alpha`` at every iteration, which costs about one rejected
    trial per iteration; here it is doubled only after a step accepted at its first trial, unless
    ``double_every_step`` (GPArotation's rule, used for simplimax: its criterion is not smooth, the
    iteration never converges, and the point where it stops after ``max_iter`` steps depends on the
    path, so the path must be GPArotation's).

    The starts are batched along the leading axis and advance one trial per pass: a start whose trial
    is rejected retries with half the step in the next pass while the others move on, so each pass
    costs one criterion evaluation for the whole batch, and every start follows exactly the path it
    would follow alone.

    Returns T, the criterion values, the loadings, convergence flags and iteration counts per start.
    """
    s_count, k, _ = T0.shape

    def loadings_of(T: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if orthogonal:
            return A @ T, None
        Ti = np.linalg.inv(T)
        return A @ np.swapaxes(Ti, -1, -2), Ti

    def gradient(L: np.ndarray, Gq: np.ndarray, Ti: np.ndarray | None) -> np.ndarray:
        if orthogonal:
            return A.T @ Gq
        return -np.swapaxes(np.swapaxes(L, -1, -2) @ Gq @ Ti, -1, -2)

    def project(T: np.ndarray, G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if orthogonal:
            M = np.swapaxes(T, -1, -2) @ G
            Gp = G - T @ ((M + np.swapaxes(M, -1, -2)) / 2.0)
        else:
            Gp = G - T * (T * G).sum(axis=-2, keepdims=True)
        return Gp, np.sqrt((Gp * Gp).sum(axis=(-2, -1)))

    T = T0.copy()
    L, Ti = loadings_of(T)
    f, Gq = crit(L)
    G = gradient(L, Gq, Ti)
    Gp, s = project(T, G)
    converged = s < tol
    active = ~converged & (max_iter > 0)
    alpha = np.ones(s_count)
    grow = np.ones(s_count, dtype=bool)
    tries = np.zeros(s_count, dtype=np.int64)
    n_iter = np.zeros(s_count, dtype=np.int64)
    new_iter = active.copy()
    while active.any():
        alpha = np.where(new_iter & grow, alpha * 2.0, alpha)
        n_iter += new_iter
        tries[new_iter] = 0
        X = T - alpha[:, None, None] * Gp
        if orthogonal:
            U, _, Vt = np.linalg.svd(X)
            Tt = U @ Vt
        else:
            Tt = X / np.sqrt((X * X).sum(axis=-2, keepdims=True))
        Lt, Tit = loadings_of(Tt)
        ft, Gqt = crit(Lt)
        ok = ft < f - 0.5 * s**2 * alpha
        grow = np.where(active & (tries == 0), ok | double_every_step, grow)
        tries += active
        accept = active & (ok | (tries >= 11))
        alpha = np.where(active & ~ok, alpha / 2.0, alpha)
        if accept.any():
            m = accept[:, None, None]
            T = np.where(m, Tt, T)
            L = np.where(m, Lt, L)
            f = np.where(accept, ft, f)
            if Tit is not None:
                Ti = np.where(m, Tit, Ti)
            G = np.where(m, gradient(Lt, Gqt, Tit), G)
            Gp_new, s_new = project(T, G)
            Gp = np.where(m, Gp_new, Gp)
            s = np.where(accept, s_new, s)
            newly = accept & (s < tol)
            converged |= newly
            active &= ~newly & ~(accept & (n_iter >= max_iter))
        new_iter = accept & active
    return T, f, L, converged, n_iter


def _kaiser_varimax(
    A: np.ndarray, T0: np.ndarray, max_iter: int, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kaiser's SVD iteration for varimax, batched over starts, with ``stats::varimax``'s stopping rule.

    Each step sets ``T = U V'`` from the SVD of ``B = A'(Z^3 - Z diag(colSums(Z^2)) / p)``, ``Z = A T``;
    it stops when the sum of singular values grows by less than a factor ``1 + eps`` (R's default
    ``eps = 1e-5``). psych::fa's varimax is this algorithm, which stops slightly short of the optimum
    (differences up to ~1e-3 in loadings); it is kept so that results agree with R.
    """
    p = A.shape[0]
    T = T0.copy()
    d = np.zeros(T.shape[0])
    active = np.ones(T.shape[0], dtype=bool)
    n_iter = np.zeros(T.shape[0], dtype=np.int64)
    converged = np.zeros(T.shape[0], dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        Z = A @ T[idx]
        B = A.T @ (Z**3 - Z * ((Z * Z).sum(axis=-2, keepdims=True) / p))
        U, sv, Vt = np.linalg.svd(B)
        T[idx] = U @ Vt
        n_iter[idx] += 1
        d_past = d[idx]
        d[idx] = sv.sum(axis=-1)
        done = d[idx] < d_past * (1.0 + eps)
        converged[idx[done]] = True
        active[idx[done]] = False
        if not active.any():
            break
    f, _ = varimax_criterion(A @ T)
    return T, f, converged, n_iter


def _criterion(
    method: str, shape: tuple[int, int], gamma: float, delta: float, target: np.ndarray | None
) -> Criterion:
    p, k = shape
    if method in ("oblimin", "quartimin"):
        return oblimin_criterion(gamma if method == "oblimin" else 0.0)
    if method in ("geomin", "geominT"):
        return geomin_criterion(delta)
    if method in TARGET_ROTATIONS:
        return target_criterion(target)
    simple: dict[str, Criterion] = {
        "varimax": varimax_criterion,
        "quartimax": quartimax_criterion,
        "equamax": crawford_ferguson_criterion(k / (2 * p)),
        "bentlerT": bentler_criterion,
        "bentlerQ": bentler_criterion,
        "simplimax": simplimax_criterion(p),
        "bifactor": bifactor_criterion,
        "biquartimin": bifactor_criterion,
    }
    return simple[method]


def _kaiser_weights(A: np.ndarray) -> np.ndarray:
    w = np.sqrt((A * A).sum(axis=1))
    w[w == 0] = 1.0
    return w


def _best_start(f: np.ndarray, rtol: float) -> int:
    """First start within ``rtol`` (relative) of the lowest criterion: the identity wins ties."""
    best = np.min(f)
    return int(np.flatnonzero(f <= best + rtol * max(1.0, abs(best)))[0])


def _gpf_rotation(
    A: np.ndarray,
    method: str,
    normalize: bool,
    n_starts: int,
    random_state: int | np.random.Generator | None,
    max_iter: int,
    tol: float,
    gamma: float,
    delta: float,
    algorithm: str = "gpf",
    target: np.ndarray | None = None,
) -> Rotation:
    k = A.shape[1]
    w = _kaiser_weights(A) if normalize else np.ones(A.shape[0])
    An = A / w[:, None]
    crit = _criterion(method, A.shape, gamma, delta, target)
    orthogonal = method in ORTHOGONAL
    starts = random_starts(k, n_starts, random_state)
    if method == "varimax" and algorithm == "kaiser":
        # stopped short of the optimum by R's rule, the same optimum differs by ~1e-6 between starts
        T, f, converged, n_iter = _kaiser_varimax(An, starts, max_iter, eps=1e-5)
        b = _best_start(f, 1e-5)
    else:
        T, f, _, converged, n_iter = _gpf(An, starts, crit, orthogonal, max_iter, tol, method == "simplimax")
        b = _best_start(f, 1e-9)
    if not converged[b]:
        warnings.warn(
            f"{method} rotation did not converge in {max_iter} iterations "
            f"(projected gradient still >= {tol:g}); increase max_iter or check the solution.",
            ConvergenceWarning,
            stacklevel=4,
        )
    Tb = T[b]
    R = Tb if orthogonal else np.linalg.inv(Tb).T
    phi = np.eye(k) if orthogonal else Tb.T @ Tb
    return Rotation(
        loadings=A @ R,
        phi=phi,
        rotation_matrix=R,
        method=method,
        orthogonal=orthogonal,
        normalize=normalize,
        criterion=float(f[b]),
        converged=bool(converged[b]),
        n_iter=int(n_iter[b]),
        start=b,
        start_criteria=f.copy(),
    )


def _promax(
    A: np.ndarray,
    normalize: bool,
    power: float,
    n_starts: int,
    random_state: int | np.random.Generator | None,
    max_iter: int,
    tol: float,
    algorithm: str,
) -> Rotation:
    """psych's ``kaiser(f, rotate = "Promax")``: varimax, then a least-squares fit to the target
    ``X * |X|^(power - 1)`` of the (row-normalised) varimax loadings, columns rescaled so that the
    factors have unit variance."""
    k = A.shape[1]
    w = _kaiser_weights(A) if normalize else np.ones(A.shape[0])
    An = A / w[:, None]
    vm = _gpf_rotation(An, "varimax", True, n_starts, random_state, max_iter, tol, 0.0, 0.0, algorithm)
    X = vm.loadings
    Q = X * np.abs(X) ** (power - 1.0)
    U = np.linalg.lstsq(X, Q, rcond=None)[0]
    d = np.diag(np.linalg.inv(U.T @ U))
    U = U * np.sqrt(d)[None, :]
    R = vm.rotation_matrix @ U
    Ri = np.linalg.inv(R)
    return Rotation(
        loadings=A @ R,
        phi=Ri @ Ri.T,
        rotation_matrix=R,
        method="promax",
        orthogonal=False,
        normalize=normalize,
        criterion=float("nan"),
        converged=vm.converged,
        n_iter=vm.n_iter,
        start=vm.start,
        start_criteria=vm.start_criteria,
    )


def rotate(
    loadings: np.ndarray,
    method: str = "oblimin",
    *,
    normalize: bool | None = None,
    n_starts: int = 10,
    random_state: int | np.random.Generator | None = None,
    max_iter: int = 1000,
    tol: float = 1e-6,
    gamma: float = 0.0,
    delta: float = 0.01,
    power: float = 4.0,
    algorithm: str | None = None,
    target: np.ndarray | None = None,
) -> Rotation:
    """Rotate a loading matrix.

    Parameters
    ----------
    loadings : ndarray of shape (p, k)
        Unrotated loadings ``A``.
    method : str
        One of :data:`ROTATIONS`. Orthogonal: ``varimax`` (``stats::varimax``), ``quartimax``,
        ``equamax`` (psych's: Crawford-Ferguson with ``kappa = k/(2p)``), ``bentlerT``, ``geominT``,
        ``targetT``, ``bifactor`` (Jennrich & Bentler). Oblique: ``oblimin``, ``quartimin``, ``geomin``
        (GPArotation's ``geominQ``), ``bentlerQ``, ``simplimax`` (the ``p`` smallest squared loadings),
        ``targetQ``, ``biquartimin``, ``promax`` (psych's). ``none`` leaves ``A`` as it is.
    normalize : bool, optional
        Kaiser normalisation (rotate ``A / h`` row-wise, then rescale); default per rotation as in
        psych::fa (:data:`DEFAULT_NORMALIZE`).
    n_starts : int
        Random orthogonal starts in addition to the identity.
    random_state : int, Generator or None
        Seed for the random starts.
    max_iter : int
        Gradient-projection iterations per start; a :class:`~sklearn.exceptions.ConvergenceWarning` is
        issued if the returned start has not converged.
    tol : float
        Stop when the Frobenius norm of the projected gradient falls below ``tol`` (GPArotation's
        ``eps`` is 1e-5; the tighter default makes the starts' criteria comparable).
    gamma : float
        Oblimin's gamma (0: quartimin; 0.5: biquartimin; 1: covarimin).
    delta : float
        Geomin's delta.
    power : float
        Promax power (psych's ``m = 4``).
    algorithm : {None, "kaiser", "gpf"}
        Varimax algorithm (also inside promax). None or ``"kaiser"``: Kaiser's SVD iteration stopped as
        ``stats::varimax`` stops it (what psych::fa uses, so results agree with R to ~1e-6);
        ``"gpf"``: orthogonal gradient projection run to ``tol`` (the exact optimum, up to ~1e-3 away
        from R's). Oblique rotations always use GPF.
    target : ndarray of shape (p, k), optional
        The target of ``targetT`` / ``targetQ`` (required for them, refused for the others): the
        rotation minimises ``sum((L - target)^2)`` over the entries that are not NaN, so NaN marks a
        loading left free (a partially specified target, GPArotation's ``pstT`` / ``pstQ`` with
        weights 1 where specified).

    Returns
    -------
    Rotation

    Notes
    -----
    Orthogonal GPF minimises ``Q(A T)`` over orthogonal ``T``; oblique GPF minimises
    ``Q(A T'^-1)`` over ``T`` with unit-length columns, ``Phi = T'T``. Each step moves against the
    projected gradient ``Gp`` and maps back (polar decomposition, or column normalisation), halving the
    step until ``Q`` decreases by at least ``0.5 * alpha * ||Gp||^2``.

    In R: ``GPArotation::oblimin(A)``, ``quartimin(A)``, ``geominQ(A)``, ``geominT(A)``,
    ``quartimax(A)``, ``bentlerT(A)``, ``bentlerQ(A)``, ``simplimax(A)``, ``targetT(A, Target = ..)``,
    ``targetQ(A, Target = ..)``, ``stats::varimax(A)``, ``psych::kaiser(A, rotate = "Promax")``,
    ``psych::equamax(A)``, ``psych::bifactor(A)``, ``psych::biquartimin(A)`` (what ``psych::fa`` calls for
    each ``rotate``).
    """
    A = np.asarray(loadings, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"loadings must be 2-D; got {A.ndim} dimension(s).")
    if method not in ROTATIONS:
        raise ValueError(f"rotation must be one of {ROTATIONS}; got {method!r}.")
    k = A.shape[1]
    tgt = _check_target(target, method, A.shape)
    norm = DEFAULT_NORMALIZE[method] if normalize is None else bool(normalize)
    if method == "none" or k < 2:
        return Rotation(A.copy(), np.eye(k), np.eye(k), method, True, norm, float("nan"), True, 0, 0, np.zeros(1))
    if algorithm not in (None, "kaiser", "gpf"):
        raise ValueError(f"algorithm must be None, 'kaiser' or 'gpf'; got {algorithm!r}.")
    algo = algorithm or "kaiser"
    with small_matrix_threads():
        if method == "promax":
            return _promax(A, norm, power, n_starts, random_state, max_iter, tol, algo)
        return _gpf_rotation(A, method, norm, n_starts, random_state, max_iter, tol, gamma, delta, algo, tgt)


def _check_target(target: object, method: str, shape: tuple[int, int]) -> np.ndarray | None:
    if method not in TARGET_ROTATIONS:
        if target is not None:
            raise ValueError(f"A target matrix is only used by the rotations targetT and targetQ, not {method!r}.")
        return None
    if target is None:
        raise ValueError(f"rotation={method!r} needs a target matrix of shape {shape} (NaN = free loading).")
    tgt = np.asarray(target, dtype=np.float64)
    if tgt.shape != shape:
        raise ValueError(f"The target matrix has shape {tgt.shape}; the loadings have shape {shape}.")
    if np.isinf(tgt).any():
        raise ValueError("The target matrix has infinite entries; use NaN for a loading left free.")
    if np.isnan(tgt).all():
        raise ValueError("The target matrix specifies no loading (all NaN).")
    return tgt


def tucker_congruence(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Tucker's congruence coefficients between the columns of two loading matrices.

    ``phi_jl = sum_i x_ij y_il / sqrt(sum_i x_ij^2 sum_i y_il^2)``. In R: ``psych::factor.congruence``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return (x.T @ y) / np.outer(np.linalg.norm(x, axis=0), np.linalg.norm(y, axis=0))


def align_factors(loadings: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match the factors of ``loadings`` to those of ``target`` (same shape) and fix their signs.

    Factors are paired to maximise the summed absolute Tucker congruence (Hungarian algorithm), then
    each matched column is flipped to agree in sign with its target.

    Returns
    -------
    perm : ndarray of int
        ``loadings[:, perm]`` has the target's column order.
    signs : ndarray of +-1
        ``loadings[:, perm] * signs`` agrees in sign with ``target``; factor correlations align as
        ``phi[np.ix_(perm, perm)] * np.outer(signs, signs)``.
    congruence : ndarray
        Absolute congruence of each matched pair, in target order.
    """
    c = tucker_congruence(loadings, target)
    rows, cols = linear_sum_assignment(-np.abs(c))
    perm = np.empty(c.shape[1], dtype=int)
    perm[cols] = rows
    matched = c[perm, np.arange(c.shape[1])]
    signs = np.where(matched < 0, -1.0, 1.0)
    return perm, signs, np.abs(matched)
