"""The unrestricted (H1, saturated) normal model under missing data.

With incomplete data the saturated model's mean vector and covariance matrix
have no closed form: they are estimated by the EM algorithm [1]_, pattern by
pattern, exactly as lavaan's ``lav_mvnorm_missing_h1_estimate_moments`` does
(same starting values, same stopping rule: the largest absolute change of any
element of ``(mu, vech(Sigma))`` below ``tol = 1e-5``, at most 500
iterations).  Its loglikelihood is lavaan's ``unrestricted.logl`` and the H1
reference of the FIML chi-square.  With complete data the EM stops after one
step at the sample mean and the N-divisor covariance matrix.

The data are summarised once by missing-data pattern (:class:`MissingPatterns`);
every likelihood, gradient and information function of the FIML estimator
(:mod:`analysis.sem.fiml`) works on that summary.

References
----------
.. [1] Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). Maximum
   likelihood from incomplete data via the EM algorithm. *Journal of the Royal
   Statistical Society B*, 39(1), 1-38.
.. [2] Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis with
   missing data* (2nd ed., ch. 8). Wiley.
.. [3] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. *Journal of Statistical Software*, 48(2), 1-36.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "MissingPatterns",
    "SaturatedFit",
    "missing_patterns",
    "loglik_missing",
    "em_saturated",
    "vech",
    "vech_indices",
    "unvech",
]

LOG2PI = float(np.log(2.0 * np.pi))


def single_threaded(func):
    """Run ``func`` with BLAS limited to one thread.

    FIML works with many small matrices (one per missing-data pattern); a
    multithreaded BLAS spends more time waking threads than computing, and
    far more on a busy machine.  Uses :mod:`threadpoolctl` when installed.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        ctl = _controller()
        if ctl is None or _SINGLE.depth:
            return func(*args, **kwargs)
        _SINGLE.depth += 1
        try:
            with ctl.limit(limits=1, user_api="blas"):
                return func(*args, **kwargs)
        finally:
            _SINGLE.depth -= 1

    return wrapper


class _Depth:
    depth = 0


_SINGLE = _Depth()


@functools.lru_cache(maxsize=1)
def _controller():
    """One cached threadpoolctl controller (scanning the libraries is slow)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - optional
        return None
    return ThreadpoolController()


# --------------------------------------------------------------------------
# vech helpers (lavaan order: lower triangle, column by column)
# --------------------------------------------------------------------------
def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of ``vech`` in lavaan's order.

    lavaan's ``lav_matrix_vech`` stacks the lower triangle column by column:
    ``(0,0), (1,0), ..., (p-1,0), (1,1), (2,1), ...``.

    Returns
    -------
    rows, cols : numpy.ndarray of int, each of length ``p (p + 1) / 2``.
    """
    upper_r, upper_c = np.triu_indices(p)
    return upper_c, upper_r


def vech(a: np.ndarray) -> np.ndarray:
    """Half-vectorisation of a symmetric matrix in lavaan's order."""
    a = np.asarray(a)
    r, c = vech_indices(a.shape[0])
    return a[r, c]


def unvech(v: np.ndarray, p: int) -> np.ndarray:
    """Inverse of :func:`vech`: a symmetric ``p x p`` matrix."""
    r, c = vech_indices(p)
    out = np.zeros((p, p))
    out[r, c] = v
    out[c, r] = v
    return out


# --------------------------------------------------------------------------
# patterns
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class MissingPatterns:
    """Data summarised by missing-data pattern.

    Attributes
    ----------
    data : numpy.ndarray
        The ``n x p`` data with the completely empty rows removed (NaN = missing).
    columns : list of str
        Variable names.
    observed : numpy.ndarray of bool, shape (n_patterns, p)
        ``observed[k, j]`` is True when variable ``j`` is observed in pattern ``k``.
    rows : list of numpy.ndarray
        For each pattern, the row numbers (into ``data``) of its cases.
    freq : numpy.ndarray of int
        Number of cases per pattern.
    means, covs : list of numpy.ndarray
        Per pattern, the mean vector and the N-divisor covariance matrix of the
        observed variables.
    kept : numpy.ndarray of int
        Row numbers of the original data that were kept (not empty).
    empty : numpy.ndarray of int
        Row numbers of the original data with every variable missing
        (dropped, as lavaan drops them).
    """

    data: np.ndarray
    columns: list
    observed: np.ndarray
    rows: list
    freq: np.ndarray
    means: list
    covs: list
    kept: np.ndarray
    empty: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    #: Sampling weights of the rows of ``data`` (None: unweighted); with weights ``freq`` holds the summed
    #: weights of each pattern and ``means``/``covs`` are weighted (lavaan's ``sampling.weights``).
    weights: np.ndarray | None = None

    @property
    def total(self) -> float:
        """The number of cases, or the sum of their weights (the N of the loglikelihood)."""
        return float(self.freq.sum())

    @property
    def nobs(self) -> int:
        """Number of cases used (non-empty rows)."""
        return int(self.data.shape[0])

    @property
    def nvar(self) -> int:
        """Number of variables."""
        return int(self.data.shape[1])

    @property
    def npatterns(self) -> int:
        """Number of distinct missing-data patterns."""
        return int(self.observed.shape[0])

    @property
    def coverage(self) -> pd.DataFrame:
        """Proportion of cases observing each pair of variables (lavaan's coverage)."""
        obs = (~np.isnan(self.data)).astype(float)
        cov = obs.T @ obs / self.nobs
        return pd.DataFrame(cov, index=self.columns, columns=self.columns)


def _as_matrix(data) -> tuple[np.ndarray, list]:
    if isinstance(data, pd.DataFrame):
        cols = [str(c) for c in data.columns]
        bad = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
        if bad:
            raise ValueError(
                f"Columns {bad} are not numeric; FIML needs numeric variables "
                "(code missing answers as NaN, not as text)."
            )
        x = data.to_numpy(dtype=float, na_value=np.nan)
    else:
        x = np.asarray(data, dtype=float)
        if x.ndim != 2:
            raise ValueError("data must be a 2-D table (cases x variables).")
        cols = [f"V{j + 1}" for j in range(x.shape[1])]
    if np.isinf(x).any():
        raise ValueError("data contain infinite values; use NaN for missing values.")
    return x, cols


def missing_patterns(data, weights=None) -> MissingPatterns:
    """Summarise data by missing-data pattern.

    Parameters
    ----------
    data : pandas.DataFrame or array-like, shape (n, p)
        Numeric data, NaN for missing values.
    weights : array-like, shape (n,), optional
        Sampling weights of the rows: each pattern's ``freq`` is then the sum
        of its weights and its moments are weighted.

    Returns
    -------
    MissingPatterns
        Patterns in order of first appearance; rows with every variable
        missing are dropped (``.empty`` lists them).

    Notes
    -----
    For pattern :math:`k` with :math:`n_k` cases and observed variables
    :math:`o_k`, the sufficient statistics are the pattern mean
    :math:`\\bar y_k` and the N-divisor covariance
    :math:`S_k = n_k^{-1}\\sum_i (y_{i,o_k}-\\bar y_k)(y_{i,o_k}-\\bar y_k)'`.

    References
    ----------
    .. [1] Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis with
       missing data* (2nd ed.). Wiley.

    Examples
    --------
    >>> import numpy as np
    >>> mp = missing_patterns(np.array([[1.0, 2.0], [np.nan, 1.0], [3.0, 4.0]]))
    >>> mp.npatterns, mp.freq.tolist()
    (2, [2, 1])
    """
    x, cols = _as_matrix(data)
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError("data have no rows or no columns.")
    wts = None if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    if wts is not None and wts.size != x.shape[0]:
        raise ValueError(f"{wts.size} weights for {x.shape[0]} rows.")
    obs = ~np.isnan(x)
    empty = np.flatnonzero(~obs.any(axis=1))
    kept = np.flatnonzero(obs.any(axis=1))
    x = x[kept]
    obs = obs[kept]
    if x.shape[0] == 0:
        raise ValueError("every row of the data is completely missing.")
    keys, first, inverse = np.unique(obs, axis=0, return_index=True, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    order = np.argsort(first, kind="stable")
    # the rows of every pattern (ascending) from one sort, not one scan of all rows per pattern
    by_pattern = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=len(keys)))])
    observed, rows, freq, means, covs = [], [], [], [], []
    for k in order:
        idx = by_pattern[bounds[k]:bounds[k + 1]]
        o = keys[k]
        y = x[np.ix_(idx, np.flatnonzero(o))]
        observed.append(o)
        rows.append(idx)
        if wts is None:
            m = y.mean(axis=0)
            yc = y - m
            freq.append(len(idx))
            means.append(m)
            cov = yc.T @ yc / len(idx) if len(idx) > 1 else None
        else:
            w = wts[kept][idx]
            m = (w @ y) / w.sum()
            yc = y - m
            freq.append(float(w.sum()))
            means.append(m)
            cov = (yc * w[:, None]).T @ yc / w.sum() if len(idx) > 1 else None
        # one case: its covariance matrix is zero, kept as a read-only view (most patterns of a
        # large sample have one case, and p x p zeros each would outweigh the data)
        covs.append(cov if cov is not None else np.broadcast_to(0.0, (len(m), len(m))))
    return MissingPatterns(
        data=x,
        columns=cols,
        observed=np.array(observed, dtype=bool),
        rows=rows,
        freq=np.array(freq, dtype=int if wts is None else float),
        means=means,
        covs=covs,
        kept=kept,
        empty=empty,
        weights=None if wts is None else wts[kept],
    )


def _chol_inv_logdet(s: np.ndarray):
    """Inverse and log-determinant of a symmetric positive definite matrix.

    Returns ``(None, nan)`` when ``s`` is not positive definite.  Uses LAPACK
    ``dpotrf``/``dpotri`` directly (the matrices are small and many).
    """
    from scipy.linalg import lapack as _lapack  # lazy: scipy.linalg is slow to import

    c, info = _lapack.dpotrf(s, lower=1, clean=1)
    if info != 0:
        return None, np.nan
    logdet = 2.0 * float(np.log(np.diag(c)).sum())
    inv, info = _lapack.dpotri(c, lower=1)
    if info != 0:
        return None, np.nan
    inv = np.tril(inv) + np.tril(inv, -1).T
    return inv, logdet


@single_threaded
def loglik_missing(patterns: MissingPatterns, mu, sigma) -> float:
    """Normal loglikelihood of incomplete data (casewise, by pattern).

    Parameters
    ----------
    patterns : MissingPatterns
    mu : array-like, shape (p,)
    sigma : array-like, shape (p, p)

    Returns
    -------
    float
        :math:`\\log L`, including the :math:`2\\pi` constant; ``-inf`` when
        a pattern's covariance block is not positive definite.

    Notes
    -----
    .. math::
        \\log L = -\\tfrac12 \\sum_k n_k \\big[p_k \\log 2\\pi
        + \\log|\\Sigma_k| + \\operatorname{tr}(\\Sigma_k^{-1}S_k)
        + (\\bar y_k-\\mu_k)'\\Sigma_k^{-1}(\\bar y_k-\\mu_k)\\big]

    with :math:`\\Sigma_k, \\mu_k` the blocks of the observed variables of
    pattern :math:`k` (lavaan's ``lav_mvnorm_missing_loglik_samplestats``).

    References
    ----------
    .. [1] Arbuckle, J. L. (1996). Full information estimation in the presence
       of incomplete data. In G. A. Marcoulides & R. E. Schumacker (Eds.),
       *Advanced structural equation modeling* (pp. 243-277). Erlbaum.
    """
    mu = np.asarray(mu, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    total = 0.0
    for o, n, m, s in zip(patterns.observed, patterns.freq, patterns.means, patterns.covs):
        so = sigma[np.ix_(o, o)]
        inv, logdet = _chol_inv_logdet(so)
        if inv is None:
            return -np.inf
        d = m - mu[o]
        total += -0.5 * n * (o.sum() * LOG2PI + logdet + np.sum(inv * s) + d @ inv @ d)
    return float(total)


# --------------------------------------------------------------------------
# EM
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class SaturatedFit:
    """The EM estimate of the unrestricted normal model.

    Attributes
    ----------
    mean : pandas.Series
        Estimated means (index: variable names).
    cov : pandas.DataFrame
        Estimated N-divisor covariance matrix.
    loglik : float
        Loglikelihood at the estimate (lavaan ``unrestricted.logl``).
    iterations : int
        EM iterations used.
    converged : bool
        Whether the stopping rule was met before ``max_iter``.
    nobs : int
        Cases used (non-empty rows).
    patterns : MissingPatterns
        The pattern summary the fit was computed from.
    """

    mean: pd.Series
    cov: pd.DataFrame
    loglik: float
    iterations: int
    converged: bool
    nobs: int
    patterns: MissingPatterns


def _missing_batches(miss):
    """Incomplete rows batched by their number of missing values (vectorised E-step).

    Returns
    -------
    list of (rows, cols)
        For each number k of missing values: the rows (m,) and their missing
        columns (m, k).
    """
    nmiss = miss.sum(axis=1)
    batches = []
    for k in np.unique(nmiss[nmiss > 0]):
        rows = np.flatnonzero(nmiss == k)
        cols = np.nonzero(miss[rows])[1].reshape(len(rows), k)
        batches.append((rows, cols))
    return batches


def _e_step(x0, miss, rows, cols, mu, kmat):
    """Rows with their missing values replaced by the conditional means, and the conditional covariances."""
    xr = x0[rows]
    dev = np.where(miss[rows], 0.0, xr - mu)              # x_o - mu_o, 0 at m
    r = np.take_along_axis(dev @ kmat, cols, axis=1)       # K_mo (x_o - mu_o)
    kmm = kmat[cols[:, :, None], cols[:, None, :]]         # (n_k, k, k)
    kinv = np.linalg.inv(kmm)
    fill = mu[cols] - np.einsum("nij,nj->ni", kinv, r)
    xf = xr.copy()
    np.put_along_axis(xf, cols, fill, axis=1)
    return xf, kinv


def _em_sums(x0, miss, batches, complete, mu, sigma, weights=None):
    """E-step sums :math:`T_1 = \\sum_i w_i E(y_i)`, :math:`T_2 = \\sum_i w_i E(y_iy_i')` given ``(mu, sigma)``.

    Through the precision matrix :math:`K = \\Sigma^{-1}`: for a row with
    missing set m, :math:`E(y_m|y_o) = \\mu_m - K_{mm}^{-1}K_{mo}(y_o-\\mu_o)`
    and :math:`\\operatorname{Cov}(y_m|y_o) = K_{mm}^{-1}`, so only an
    :math:`|m|\\times|m|` system is solved per row, and the rows are batched
    by :math:`|m|` [1]_.  ``complete`` holds ``(T_1, T_2)`` of the complete
    rows (the same in every iteration); ``x0`` is the data with 0 for NaN.

    References
    ----------
    .. [1] Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis
       with missing data* (2nd ed., ch. 11). Wiley.
    """
    p = len(mu)
    kmat = np.linalg.inv(sigma)
    t1 = complete[0].copy()
    t2 = complete[1].copy()
    for rows, cols in batches:
        xf, kinv = _e_step(x0, miss, rows, cols, mu, kmat)
        w = None if weights is None else weights[rows]
        t1 += xf.sum(axis=0) if w is None else w @ xf
        t2 += xf.T @ xf if w is None else (xf * w[:, None]).T @ xf
        if w is not None:
            kinv = kinv * w[:, None, None]
        flat = (cols[:, :, None] * p + cols[:, None, :]).ravel()
        t2 += np.bincount(flat, weights=kinv.ravel(), minlength=p * p).reshape(p, p)
    return t1, t2


@single_threaded
def em_saturated(data, *, max_iter: int = 500, tol: float = 1e-5) -> SaturatedFit:
    """EM estimate of the unrestricted mean vector and covariance matrix.

    Parameters
    ----------
    data : pandas.DataFrame, array-like or MissingPatterns
        Numeric data with NaN for missing values (or its pattern summary).
    max_iter : int, default 500
        Largest number of EM iterations (lavaan ``em.h1.iter.max``).
    tol : float, default 1e-5
        Stop when the largest absolute change of any element of
        ``(mu, vech(Sigma))`` falls below ``tol`` (lavaan ``em.h1.tol``).

    Returns
    -------
    SaturatedFit
        ``mean`` (Series), ``cov`` (DataFrame, N-divisor), ``loglik``,
        ``iterations``, ``converged``, ``nobs``, ``patterns``.

    Notes
    -----
    Start: available-case means and variances, zero covariances.  E-step per
    row with observed block :math:`o` and missing block :math:`m`:
    :math:`\\hat y_m = \\mu_m + \\Sigma_{mo}\\Sigma_{oo}^{-1}(y_o-\\mu_o)`,
    adding :math:`\\Sigma_{mm}-\\Sigma_{mo}\\Sigma_{oo}^{-1}\\Sigma_{om}` to
    the cross-products of the missing block (computed through the precision
    matrix, rows batched by their number of missing values: :func:`_em_sums`).
    M-step: :math:`\\mu = T_1/N`, :math:`\\Sigma = T_2/N - \\mu\\mu'`.  As in lavaan, a
    ridge of ``1e-8 * max(diag(Sigma))`` is added when an eigenvalue falls
    below ``1e-6``.

    References
    ----------
    .. [1] Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). Maximum
       likelihood from incomplete data via the EM algorithm. *JRSS B*, 39, 1-38.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(50, 3))
    >>> fit = em_saturated(x)
    >>> bool(np.allclose(fit.cov.to_numpy(), np.cov(x.T, bias=True)))
    True
    """
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1.")
    if not tol > 0:
        raise ValueError("tol must be positive.")
    mp = data if isinstance(data, MissingPatterns) else missing_patterns(data)
    x = mp.data
    p = x.shape[1]
    n = mp.total  # the number of cases, or the sum of their weights
    mu0 = np.nanmean(x, axis=0)
    var0 = np.nanmean((x - mu0) ** 2, axis=0)
    bad = ~np.isfinite(var0) | (var0 == 0)
    if bad.any():
        names = [mp.columns[j] for j in np.flatnonzero(bad)]
        raise ValueError(f"Variables {names} have no variance among the observed values.")
    sigma0 = np.diag(var0)
    mu, sigma = mu0, sigma0
    r, c = vech_indices(p)
    miss = np.isnan(x)
    x0 = np.where(miss, 0.0, x)
    whole = ~miss.any(axis=1)
    xc, wc = x0[whole], None if mp.weights is None else mp.weights[whole]
    complete = (xc.sum(axis=0), xc.T @ xc) if wc is None else (wc @ xc, (xc * wc[:, None]).T @ xc)
    batches = _missing_batches(miss)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        t1, t2 = _em_sums(x0, miss, batches, complete, mu, sigma, mp.weights)
        mu = t1 / n
        sigma = t2 / n - np.outer(mu, mu)
        sigma = (sigma + sigma.T) / 2.0
        ev = np.linalg.eigvalsh(sigma)
        if np.any(ev < 1e-6):
            sigma = sigma + np.eye(p) * (np.max(np.diag(sigma)) * 1e-8)
        delta = max(np.max(np.abs(mu - mu0)), np.max(np.abs(sigma[r, c] - sigma0[r, c])))
        if delta < tol:
            converged = True
            break
        mu0, sigma0 = mu, sigma
    ll = loglik_missing(mp, mu, sigma)
    return SaturatedFit(
        mean=pd.Series(mu, index=mp.columns, name="mean"),
        cov=pd.DataFrame(sigma, index=mp.columns, columns=mp.columns),
        loglik=ll,
        iterations=it,
        converged=converged,
        nobs=mp.nobs,
        patterns=mp,
    )
