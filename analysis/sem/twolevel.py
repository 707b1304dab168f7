"""Two-level structural equation models by maximum likelihood (complete data).

lavaan's ``level: 1`` / ``level: 2`` syntax with ``cluster =``: members
(level 1) nested in clusters (level 2).  Every observed variable :math:`y_{ij}`
(member :math:`i` of cluster :math:`j`) is split into a within and a between
part, :math:`y_{ij} = \\mu + \\eta^B_j + \\eta^W_{ij}`, with
:math:`\\operatorname{Cov}(\\eta^W) = \\Sigma_W(\\theta)` (the level-1 model) and
:math:`\\operatorname{Cov}(\\eta^B) = \\Sigma_B(\\theta)`,
:math:`\\mu = \\mu_B(\\theta)` (the level-2 model) [1]_ [2]_.  The two levels are
two blocks of one parameter table (block 1 within, block 2 between), so
:class:`~analysis.sem.model.SEMModel` gives both implied moments and their
Jacobians; labels shared across levels, ``==`` and ``:=`` work across levels.

What is here, each reproducing lavaan 0.6.14:

* :func:`cluster_data`: listwise deletion and the cluster summaries of the
  likelihood (lavaan's ``YLp``): pooled within covariance, cluster means,
  clusters grouped by size.
* :func:`loglik_twolevel`: the log-likelihood (lavaan's ``logl``).
* :func:`em_saturated`: the saturated two-level model (free :math:`\\Sigma_W,
  \\Sigma_B, \\mu`) by lavaan's EM algorithm (the H1 of the chi-square test and
  of the SRMR, and the source of lavaan's fixed-x values).
* :class:`TwoLevelMLObjective`: the ML discrepancy (``fmin``), its analytic
  gradient, the expected and observed information.
* :class:`TwoLevelResult` and :func:`sem_twolevel`: the fit, its estimates
  (with ``level``), fit measures (chi-square against the EM saturated model,
  lavaan's two-level baseline, CFI/TLI/RMSEA, SRMR within + between, logl,
  AIC, BIC) and warnings.

Variables observed at one level only are handled as lavaan does: a variable
written only under ``level: 1`` is *within-only* (its between part is fixed at
zero: no row or column in :math:`\\Sigma_B`, its mean is a level-1 intercept),
a variable written only under ``level: 2`` is *between-only* (a cluster-level
variable, constant within clusters: no row or column in :math:`\\Sigma_W`;
its cluster values enter the likelihood jointly with the cluster means of the
other variables, [3]_).

Not here: missing data other than listwise, robust (MLR) standard errors,
random slopes, groups.

References
----------
.. [1] Muthén, B. O. (1994). Multilevel covariance structure analysis.
   *Sociological Methods & Research*, 22(3), 376-398.
.. [2] McDonald, R. P., & Goldstein, H. (1989). Balanced versus unbalanced
   designs for linear structural relations in two-level data. *British
   Journal of Mathematical and Statistical Psychology*, 42(2), 215-232.
.. [3] Rosseel, Y. (2021). Evaluating the observed log-likelihood function in
   two-level structural equation modeling with missing data: from formulas
   to R code. *Psych*, 3(2), 197-232.
.. [4] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. *Journal of Statistical Software*, 48(2), 1-36.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd

from . import fit_indices as _fi
from .fiml import numeric_hessian
from .model import SEMModel
from .objective import Objective, _collapse, _safe_inverse
from .assembly import Prepared, Stages, assemble
from .optimize import minimize
from .partable import VariableSets, build_partable_levels, fill_fixed_x
from .results import Section, SEMResult
from .start import start_values

__all__ = ["ClusterData", "cluster_data", "loglik_twolevel", "SaturatedTwoLevel",
           "em_saturated", "TwoLevelMLObjective", "Levels", "TwoLevelResult", "sem_twolevel",
           "TWOLEVEL_ESTIMATE_COLUMNS"]

_LOG2PI = math.log(2.0 * math.pi)

#: Columns of :attr:`TwoLevelResult.estimates`.
TWOLEVEL_ESTIMATE_COLUMNS = ["lhs", "op", "rhs", "block", "level", "group", "label", "est",
                             "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all"]


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterData:
    """Complete two-level data summarised as the likelihood needs it.

    Attributes
    ----------
    ov_names : list of str
        Column order of every vector and matrix.
    data : list of ndarray
        ``[Y]``: the rows used (N x p), in the order of the input.
    cluster_index : ndarray of int (N,)
        Cluster (0..J-1, order of first appearance) of each row used.
    cluster_values : ndarray (J,)
        The value of the cluster column of each cluster.
    cluster_size : ndarray of int (J,)
        :math:`n_j`.
    cluster_mean : ndarray (J, p)
        :math:`\\bar y_j`.
    mean : ndarray (p,)
        Grand mean of the rows used.
    y1y1 : ndarray (p, p)
        :math:`\\sum_{ij} y_{ij} y_{ij}^\\top` (uncentred).
    s_pw : ndarray (p, p)
        Pooled within covariance :math:`S_{PW} = \\sum_j\\sum_i (y_{ij} -
        \\bar y_j)(y_{ij}-\\bar y_j)^\\top / (N - J)`.
    sizes : ndarray of int (C,)
        The distinct cluster sizes.
    size_count : ndarray of int (C,)
        Clusters of each size.
    size_rows : list of ndarray
        For each size, the clusters of that size.
    mean_d : ndarray (C, p)
        Per size, the mean of the cluster means.
    cov_d : ndarray (C, p, p)
        Per size, the covariance of the cluster means (divisor: the count).
    n_dropped : int
        Rows dropped: a missing value in a model variable or in the cluster.
    n_dropped_cluster : int
        Of these, rows whose cluster is missing.
    within_idx : tuple of int
        Columns of the within-only variables (written under ``level: 1`` only).
    between_idx : tuple of int
        Columns of the between-only (cluster-level) variables (written under
        ``level: 2`` only; constant within clusters).
    """

    ov_names: list
    data: list
    cluster_index: np.ndarray
    cluster_values: np.ndarray
    cluster_size: np.ndarray
    cluster_mean: np.ndarray
    mean: np.ndarray
    y1y1: np.ndarray
    s_pw: np.ndarray
    sizes: np.ndarray
    size_count: np.ndarray
    size_rows: list
    mean_d: np.ndarray
    cov_d: np.ndarray
    n_dropped: int = 0
    n_dropped_cluster: int = 0
    group_labels: list = field(default_factory=lambda: [None])
    missing: str = "listwise"
    within_idx: tuple = ()
    between_idx: tuple = ()

    @property
    def y_idx(self) -> np.ndarray:
        """Columns observed at level 1 (all but the between-only variables)."""
        return np.setdiff1d(np.arange(self.p), np.asarray(self.between_idx, dtype=int))

    @property
    def level_idx(self) -> tuple:
        """Columns of the level-1 variables and of the level-2 variables."""
        lev2 = np.setdiff1d(np.arange(self.p), np.asarray(self.within_idx, dtype=int))
        return self.y_idx, lev2

    @property
    def ntotal(self) -> int:
        """N, the number of rows (level-1 units) used."""
        return int(self.data[0].shape[0])

    @property
    def nobs(self) -> list:
        """``[N]`` (one group)."""
        return [self.ntotal]

    @property
    def ngroups(self) -> int:
        """1: two-level models here have one group."""
        return 1

    @property
    def nclusters(self) -> int:
        """J, the number of clusters."""
        return int(self.cluster_size.shape[0])

    @property
    def p(self) -> int:
        """Number of observed variables."""
        return len(self.ov_names)


def cluster_data(data: pd.DataFrame, ov_names, cluster: str, *, within=(),
                 between=()) -> ClusterData:
    """Listwise deletion and the cluster summaries of two-level ML.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per level-1 unit.
    ov_names : list of str
        The observed variables of the model (numeric columns).
    cluster : str
        The column naming each row's cluster.
    within : sequence of str
        Within-only variables (written under ``level: 1`` only).
    between : sequence of str
        Between-only (cluster-level) variables (written under ``level: 2``
        only): each must be constant within every cluster.

    Returns
    -------
    ClusterData

    Raises
    ------
    ValueError
        When ``cluster`` or a model variable is not a column, a variable is
        not numeric or constant, fewer than two clusters remain, or a
        between-only variable varies within a cluster (the message names the
        variable and the first such cluster; lavaan 0.6.14 only warns and
        uses the cluster means).
    NotImplementedError
        For a level-1 variable without variation within clusters (a
        cluster-level variable, which belongs at level 2 only).

    Notes
    -----
    Rows with a missing value in a model variable or in the cluster column
    are dropped (and counted).  lavaan 0.6.14 drops the former too but keeps
    rows with a missing cluster (with a warning); here they are dropped.
    Clusters of equal size share the likelihood terms through the mean and
    covariance of their cluster means (lavaan's ``mean.d``/``cov.d``) [1]_.

    References
    ----------
    .. [1] Rosseel, Y. (2021). Evaluating the observed log-likelihood function
       in two-level structural equation modeling with missing data. *Psych*,
       3(2), 197-232.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame.")
    if not isinstance(cluster, str) or cluster not in data.columns:
        raise ValueError(f"The cluster column {cluster!r} is not in the data "
                         f"(columns: {list(map(str, data.columns))[:12]}).")
    ov_names = list(ov_names)
    absent = [v for v in ov_names if v not in data.columns]
    if absent:
        raise ValueError(f"The model uses variables that are not columns of the data: {absent}.")
    if cluster in ov_names:
        raise ValueError(f"The cluster column {cluster!r} is also a variable of the model.")
    for v in ov_names:
        if not (pd.api.types.is_numeric_dtype(data[v]) or pd.api.types.is_bool_dtype(data[v])):
            raise ValueError(f"Column {v!r} is not numeric (dtype {data[v].dtype}).")
    x = data[ov_names].to_numpy(dtype=float)
    cl_missing = data[cluster].isna().to_numpy()
    keep = ~np.isnan(x).any(axis=1) & ~cl_missing
    x = x[keep]
    labels = data[cluster].to_numpy()[keep]
    n_total = len(data)
    idx, values = pd.factorize(labels, sort=False)  # clusters in order of first appearance
    idx = np.asarray(idx, dtype=int)
    values = np.asarray(values)
    n, p = x.shape
    j = len(values)
    if j < 2:
        raise ValueError(f"The cluster column {cluster!r} has {j} cluster(s) with complete data; "
                         "a two-level model needs many clusters.")
    size = np.bincount(idx, minlength=j)
    sums = np.zeros((j, p))
    np.add.at(sums, idx, x)
    ybar = sums / size[:, None]
    resid = x - ybar[idx]
    if n - j <= 0:
        raise ValueError("Every cluster has a single member: there is no within-cluster variation.")
    s_pw = resid.T @ resid / (n - j)
    total = x.var(axis=0)
    constant = [v for v, t in zip(ov_names, total) if not t > 0]
    if constant:
        raise ValueError(f"Variables {constant} are constant in the rows used.")
    pos = {v: i for i, v in enumerate(ov_names)}
    unknown = [v for v in list(within) + list(between) if v not in pos]
    if unknown:
        raise ValueError(f"Variables {unknown} are not variables of the model.")
    b_idx = tuple(sorted(pos[v] for v in between))
    w_idx = tuple(sorted(pos[v] for v in within))
    for k in b_idx:
        # a cluster-level variable must take one value per cluster
        lo = np.full(j, np.inf)
        hi = np.full(j, -np.inf)
        np.minimum.at(lo, idx, x[:, k])
        np.maximum.at(hi, idx, x[:, k])
        spread = hi - lo
        tol = 1e-10 * max(1.0, float(np.max(np.abs(x[:, k]))))
        bad = np.flatnonzero(spread > tol)
        if bad.size:
            c = bad[0]
            label = values[c].item() if hasattr(values[c], "item") else values[c]
            raise ValueError(
                f"Variable {ov_names[k]!r} is written under 'level: 2' only (a cluster-level "
                f"variable) but varies within cluster {label!r} of {cluster!r} (values from "
                f"{lo[c]:.6g} to {hi[c]:.6g}; {bad.size} cluster(s) in all). A cluster-level "
                "variable must be constant within each cluster: fix the data, or write the "
                "variable under 'level: 1' as well (within and between parts).")
        x[:, k] = ybar[idx, k]  # exactly constant (rounding)
        resid[:, k] = 0.0
    if b_idx:
        s_pw = resid.T @ resid / (n - j)
    b_set = set(b_idx)
    no_within = [v for i, (v, w, t) in enumerate(zip(ov_names, np.diag(s_pw), total))
                 if i not in b_set and w <= 1e-10 * t]
    if no_within:
        raise NotImplementedError(
            f"Variables {no_within} do not vary within clusters: they are cluster-level "
            "(between-only) variables; write them under 'level: 2' only.")
    sizes, inv = np.unique(size, return_inverse=True)
    inv = np.asarray(inv).reshape(-1)
    rows = [np.flatnonzero(inv == c) for c in range(len(sizes))]
    count = np.array([len(r) for r in rows])
    mean_d = np.array([ybar[r].mean(axis=0) for r in rows])
    cov_d = np.array([np.cov(ybar[r].T, bias=True).reshape(p, p) if len(r) > 1 else np.zeros((p, p))
                      for r in rows])
    return ClusterData(
        ov_names=ov_names, data=[x], cluster_index=idx, cluster_values=values,
        cluster_size=size, cluster_mean=ybar, mean=x.mean(axis=0), y1y1=x.T @ x, s_pw=s_pw,
        sizes=sizes, size_count=count, size_rows=rows, mean_d=mean_d, cov_d=cov_d,
        n_dropped=int(n_total - n), n_dropped_cluster=int(cl_missing.sum()),
        within_idx=w_idx, between_idx=b_idx)


# --------------------------------------------------------------------------
# likelihood
# --------------------------------------------------------------------------
def _sym_inv_logdet(a):
    """Inverse and log-determinant of symmetric PD matrices (batched); None if not PD."""
    try:
        chol = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return None, None
    logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    inv_l = np.linalg.inv(chol)
    return np.swapaxes(inv_l, -1, -2) @ inv_l, logdet


def _within_inv_logdet(cd: ClusterData, sigma_w):
    """Inverse (zero-padded at the between-only columns) and log-determinant of
    the level-1 block of :math:`\\Sigma_W`; (None, None) if not PD."""
    if not cd.between_idx:
        return _sym_inv_logdet(sigma_w)
    y = cd.y_idx
    inv, logdet = _sym_inv_logdet(sigma_w[np.ix_(y, y)])
    if inv is None:
        return None, None
    out = np.zeros_like(sigma_w)
    out[np.ix_(y, y)] = inv
    return out, logdet


def _minus2_loglik(cd: ClusterData, sigma_w, sigma_b, mu, gradient: bool = False):
    """:math:`-2\\log L` without the :math:`\\log 2\\pi` constant (lavaan's
    ``minus.two = TRUE, log2pi = FALSE``), and optionally its derivatives
    with respect to :math:`\\Sigma_W`, :math:`\\Sigma_B` and :math:`\\mu`.

    With between-only variables :math:`z` (rows and columns of
    :math:`\\Sigma_W` zero), :math:`V_c = \\Sigma_W + n_c\\Sigma_B` over all
    variables is :math:`n_c` times the covariance of :math:`(z_j, \\bar y_j)`,
    and :math:`\\log|V_c| - p_z\\log n_c = \\log|\\Sigma_{zz}| +
    \\log|\\Sigma_W + n_c\\Sigma_{B\\cdot z}|` is lavaan's determinant term
    (``lav_mvnorm_cluster_loglik_samplestats_2l``); the within term uses the
    level-1 block only."""
    n_c = cd.sizes.astype(float)
    ns = cd.size_count.astype(float)
    v = sigma_w[None, :, :] + n_c[:, None, None] * sigma_b[None, :, :]
    v_inv, v_logdet = _sym_inv_logdet(v)
    w_inv, w_logdet = _within_inv_logdet(cd, sigma_w)
    if v_inv is None or w_inv is None:
        return (np.inf, None) if gradient else np.inf
    pz = len(cd.between_idx)
    if pz:
        v_logdet = v_logdet - pz * np.log(n_c)
    d = cd.mean_d - mu[None, :]
    a = cd.cov_d + d[:, :, None] * d[:, None, :]
    tr = np.einsum("cij,cji->c", v_inv, a)
    nw = cd.ntotal - cd.nclusters
    f = float(np.sum(ns * (v_logdet + n_c * tr))
              + nw * (w_logdet + np.sum(w_inv * cd.s_pw)))
    if not gradient:
        return f
    via = v_inv @ a @ v_inv
    g_c = ns[:, None, None] * (v_inv - n_c[:, None, None] * via)
    g_w = g_c.sum(axis=0) + nw * (w_inv - w_inv @ cd.s_pw @ w_inv)
    g_b = np.einsum("c,cij->ij", n_c, g_c)
    g_mu = -2.0 * np.einsum("c,cij,cj->i", ns * n_c, v_inv, d)
    return f, (0.5 * (g_w + g_w.T), 0.5 * (g_b + g_b.T), g_mu)


def loglik_twolevel(cd: ClusterData, sigma_w, sigma_b, mu) -> float:
    """Log-likelihood of complete two-level data (lavaan's ``logl``).

    Parameters
    ----------
    cd : ClusterData
    sigma_w, sigma_b : ndarray (p, p)
        Within and between covariance matrices.
    mu : ndarray (p,)
        Mean vector (within + between parts).

    Returns
    -------
    float
        :math:`\\sum_j l_j`, ``-inf`` when a matrix is not positive definite.

    Notes
    -----
    For cluster :math:`j` of size :math:`n_j`, with mean :math:`\\bar y_j` and
    within sum of squares :math:`W_j`,

    .. math::

        l_j = -\\tfrac12\\big[n_j p\\log 2\\pi + (n_j-1)\\log|\\Sigma_W|
              + \\operatorname{tr}(\\Sigma_W^{-1}W_j)
              + \\log|\\Sigma_W + n_j\\Sigma_B|
              + n_j(\\bar y_j-\\mu)^\\top(\\Sigma_W+n_j\\Sigma_B)^{-1}(\\bar y_j-\\mu)\\big]

    ([1]_, [2]_); clusters of equal size share
    :math:`\\Sigma_W + n_j\\Sigma_B` and enter through the mean and covariance
    of their cluster means.

    References
    ----------
    .. [1] McDonald, R. P., & Goldstein, H. (1989). Balanced versus unbalanced
       designs for linear structural relations in two-level data. *British
       Journal of Mathematical and Statistical Psychology*, 42(2), 215-232.
    .. [2] Muthén, B. O. (1994). Multilevel covariance structure analysis.
       *Sociological Methods & Research*, 22(3), 376-398.
    """
    f = _minus2_loglik(cd, np.asarray(sigma_w, float), np.asarray(sigma_b, float),
                       np.asarray(mu, float))
    if not np.isfinite(f):
        return -np.inf
    pz = len(cd.between_idx)
    nvalues = cd.ntotal * (cd.p - pz) + cd.nclusters * pz  # lavaan's P
    return float(-0.5 * f - 0.5 * nvalues * _LOG2PI)


# --------------------------------------------------------------------------
# the saturated model (H1) by lavaan's EM
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class SaturatedTwoLevel:
    """The saturated two-level model as lavaan's EM leaves it.

    Attributes
    ----------
    sigma_w, sigma_b : ndarray (p, p)
    mu_w, mu_b : ndarray (p,)
        The EM splits the mean into a within and a between part; only
        ``mu_w + mu_b`` is identified.
    loglik : float
        lavaan's ``unrestricted.logl``.
    n_iter : int
    converged : bool
        The change of the log-likelihood fell below ``tol``.
    """

    sigma_w: np.ndarray
    sigma_b: np.ndarray
    mu_w: np.ndarray
    mu_b: np.ndarray
    loglik: float
    n_iter: int
    converged: bool

    @property
    def mu(self) -> np.ndarray:
        """The total mean ``mu_w + mu_b``."""
        return self.mu_w + self.mu_b


def em_saturated(cd: ClusterData, *, tol: float = 1e-4, max_iter: int = 5000,
                 min_variance: float = 1e-5) -> SaturatedTwoLevel:
    """Saturated two-level model (free :math:`\\Sigma_W, \\Sigma_B, \\mu`) by EM.

    Parameters
    ----------
    cd : ClusterData
    tol : float
        Stop when the log-likelihood increases by less than ``tol``.
    max_iter : int
    min_variance : float
        Within variances below this are reset to it (their covariances to 0).

    Returns
    -------
    SaturatedTwoLevel

    Notes
    -----
    lavaan 0.6.14's ``lav_mvnorm_cluster_em_sat`` step for step: start at
    :math:`\\Sigma_W = \\Sigma_B = I`, :math:`\\mu_W = \\mu_B = 0`; the E-step
    takes the conditional mean :math:`E(\\eta^B_j\\mid\\bar y_j) = \\mu_B +
    \\Sigma_B(\\Sigma_j/n_j)^{-1}(\\bar y_j - \\mu)` and covariance
    :math:`\\Sigma_B - \\Sigma_B(\\Sigma_j/n_j)^{-1}\\Sigma_B` of the cluster
    effects (:math:`\\Sigma_j = \\Sigma_W + n_j\\Sigma_B`), the M-step the
    moments of :math:`\\eta^B` and of :math:`y - \\eta^B` ([1]_, [2]_); the
    stopping rule (log-likelihood change below ``1e-4``) is lavaan's, so the
    H1 log-likelihood -- and the chi-square, SRMR and fixed-x values that
    rest on it -- are lavaan's to the last digits, not the exact maximum
    (which may lie ~1e-4 higher).

    References
    ----------
    .. [1] Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). Maximum
       likelihood from incomplete data via the EM algorithm. *Journal of the
       Royal Statistical Society B*, 39(1), 1-38.
    .. [2] Rosseel, Y. (2021). Evaluating the observed log-likelihood function
       in two-level structural equation modeling with missing data. *Psych*,
       3(2), 197-232.
    """
    p, n, j = cd.p, cd.ntotal, cd.nclusters
    yi = cd.y_idx                                   # level-1 variables
    zi = np.asarray(cd.between_idx, dtype=int)      # between-only variables
    wi = np.searchsorted(yi, np.asarray(cd.within_idx, dtype=int))  # within-only, in y
    py, pz = yi.size, zi.size

    def full(s_w, s_b, s_yz, s_zz, m_w, m_b, m_z):
        """Saturated moments over all variables (lavaan's ``2l2implied``)."""
        sw_f, sb_f = np.zeros((p, p)), np.zeros((p, p))
        sw_f[np.ix_(yi, yi)] = s_w
        sb_f[np.ix_(yi, yi)] = s_b
        mw_f, mb_f = np.zeros(p), np.zeros(p)
        mw_f[yi] = m_w
        mb_f[yi] = m_b
        if pz:
            sb_f[np.ix_(yi, zi)] = s_yz
            sb_f[np.ix_(zi, yi)] = s_yz.T
            sb_f[np.ix_(zi, zi)] = s_zz
            mb_f[zi] = m_z
        if wi.size:  # within-only: no between part
            w_f = yi[wi]
            sb_f[w_f, :] = 0.0
            sb_f[:, w_f] = 0.0
            mb_f[w_f] = 0.0
        return sw_f, sb_f, mw_f, mb_f

    # start (lavaan): Sigma_W = I at level 1, Sigma_B = I at level 2, means 0
    sigma_w = np.eye(py)
    sigma_b = np.eye(py)
    sigma_b[wi, :] = 0.0
    sigma_b[:, wi] = 0.0
    mu_w, mu_b = np.zeros(py), np.zeros(py)
    sigma_yz = np.zeros((py, pz))
    sw_f, sb_f, mw_f, mb_f = full(sigma_w, sigma_b, sigma_yz, np.eye(pz), mu_w, mu_b, np.zeros(pz))
    fx_old = loglik_twolevel(cd, sw_f, sb_f, mw_f + mb_f)
    # the cluster-level variables: their mean and covariance over clusters (fixed)
    zc = cd.cluster_mean[:, zi]
    mu_z = zc.mean(axis=0)
    sigma_zz = np.cov(zc.T, bias=True).reshape(pz, pz) if pz else np.zeros((0, 0))
    y1y1 = cd.y1y1[np.ix_(yi, yi)]
    fx, it, converged = fx_old, 0, False
    for it in range(1, max_iter + 1):
        mu = mu_w + mu_b
        cw2 = np.zeros((py, py))
        cb = np.zeros((py, py))
        mw = np.zeros(py)
        mb = np.zeros(py)
        zy = np.zeros((pz, py))
        for nj, rows in zip(cd.sizes, cd.size_rows):
            ybar = cd.cluster_mean[np.ix_(rows, yi)]
            if pz:
                z = cd.cluster_mean[np.ix_(rows, zi)]
                omega = np.block([[sigma_zz, sigma_yz.T],
                                  [sigma_yz, (sigma_w + nj * sigma_b) / nj]])
                sigma_1 = np.hstack([sigma_yz, sigma_b])
                b = np.hstack([z, ybar])
                m_all = np.concatenate([mu_z, mu])
                s1 = sigma_1 @ np.linalg.inv(omega)
                ev = (b - m_all) @ s1.T + mu_b
                covv = len(rows) * (sigma_b - s1 @ sigma_1.T)
                zy += z.T @ ev
            else:
                omega_inv = np.linalg.inv((sigma_w + nj * sigma_b) / nj)
                s1 = sigma_b @ omega_inv
                ev = (ybar - mu) @ s1.T + mu_b
                covv = len(rows) * (sigma_b - s1 @ sigma_b.T)
            evv = 0.5 * (covv + covv.T) + ev.T @ ev
            mw += nj * np.sum(ybar - ev, axis=0)
            mb += np.sum(ev, axis=0)
            cw2 += nj * (evv - ybar.T @ ev - ev.T @ ybar)
            cb += evv
        mu_w = mw / n
        mu_b = mb / j
        sigma_w = (y1y1 + cw2) / n - np.outer(mu_w, mu_w)
        sigma_b = cb / j - np.outer(mu_b, mu_b)
        if pz:
            sigma_yz = (zy / j - np.outer(mu_z, mu_b)).T
        sw_out = sigma_w.copy()  # lavaan returns the matrix before the variance floor
        zero = np.flatnonzero(np.diag(sigma_w) < min_variance)
        if zero.size:
            sigma_w[zero, :] = 0.0
            sigma_w[:, zero] = 0.0
            sigma_w[zero, zero] = min_variance
        sw_f, sb_f, mw_f, mb_f = full(sigma_w, sigma_b, sigma_yz, sigma_zz, mu_w, mu_b, mu_z)
        fx = loglik_twolevel(cd, sw_f, sb_f, mw_f + mb_f)
        if fx - fx_old < tol:
            converged = True
            break
        fx_old = fx
    sw_f, sb_f, mw_f, mb_f = full(sw_out, sigma_b, sigma_yz, sigma_zz, mu_w, mu_b, mu_z)
    return SaturatedTwoLevel(sigma_w=sw_f, sigma_b=sb_f, mu_w=mw_f, mu_b=mb_f,
                             loglik=float(fx), n_iter=it, converged=converged)


# --------------------------------------------------------------------------
# the objective
# --------------------------------------------------------------------------
class TwoLevelMLObjective(Objective):
    """Two-level ML discrepancy on lavaan's ``fmin`` scale.

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
        Two blocks (block 1 within, block 2 between) with a mean structure.
    stats : ClusterData
    h1 : SaturatedTwoLevel, optional
        The saturated model (computed by :func:`em_saturated` when absent).

    Notes
    -----
    With :math:`V_c = \\Sigma_W + n_c\\Sigma_B` for clusters of size
    :math:`n_c` (:math:`m_c` of them, mean :math:`\\bar y_c` and covariance
    :math:`C_c` of their cluster means), :math:`d_c = \\bar y_c - \\mu` and
    :math:`A_c = C_c + d_cd_c^\\top`,

    .. math::

        F = \\sum_c m_c[\\log|V_c| + n_c\\operatorname{tr}(V_c^{-1}A_c)]
            + (N-J)[\\log|\\Sigma_W| + \\operatorname{tr}(\\Sigma_W^{-1}S_{PW})]

    is :math:`-2\\log L` up to :math:`Np\\log 2\\pi`, and ``value`` is lavaan's
    ``fmin`` :math:`= F/(2N)`.  The gradient is
    :math:`\\operatorname{tr}(G_W\\partial\\Sigma_W) + \\operatorname{tr}(G_B
    \\partial\\Sigma_B) + g_\\mu^\\top\\partial\\mu` with :math:`G_c = m_c(V_c^{-1}
    - n_cV_c^{-1}A_cV_c^{-1})`, :math:`G_W = \\sum_c G_c + (N-J)(\\Sigma_W^{-1}
    - \\Sigma_W^{-1}S_{PW}\\Sigma_W^{-1})`, :math:`G_B = \\sum_c n_cG_c`,
    :math:`g_\\mu = -2\\sum_c m_cn_cV_c^{-1}d_c`, over :math:`2N`, with the
    model's analytic Jacobians.  The expected unit information is
    :math:`N^{-1}\\{\\sum_c m_c[\\tfrac12\\operatorname{tr}(V_c^{-1}\\partial_kV_c
    V_c^{-1}\\partial_lV_c) + n_c\\partial_k\\mu^\\top V_c^{-1}\\partial_l\\mu]
    + \\tfrac{N-J}2\\operatorname{tr}(\\Sigma_W^{-1}\\partial_k\\Sigma_W
    \\Sigma_W^{-1}\\partial_l\\Sigma_W)\\}` (cluster means are
    :math:`N(\\mu, V_c/n_c)`, :math:`(N-J)S_{PW}` is Wishart); it drives the
    Fisher scoring steps.  Standard errors use the observed information, as
    lavaan 0.6.14 does for ``level:`` models (``information = "observed"``):
    the Hessian of ``fmin`` by four-point differences of the analytic
    gradient, as lavaan's ``lav_model_hessian`` ([1]_, [2]_).

    References
    ----------
    .. [1] Muthén, B. O. (1994). Multilevel covariance structure analysis.
       *Sociological Methods & Research*, 22(3), 376-398.
    .. [2] Rosseel, Y. (2021). Evaluating the observed log-likelihood function
       in two-level structural equation modeling with missing data. *Psych*,
       3(2), 197-232.
    """

    name = "ML"

    def __init__(self, model, stats: ClusterData, h1: SaturatedTwoLevel | None = None):
        if model.n_groups != 2 or not model.meanstructure:
            raise ValueError("A two-level objective needs a model with two blocks "
                             "(within, between) and a mean structure.")
        super().__init__(model, stats)
        self._h1 = h1

    @property
    def h1(self) -> SaturatedTwoLevel:
        """The saturated model (EM), computed once."""
        if self._h1 is None:
            self._h1 = em_saturated(self.stats)
        return self._h1

    def _moments(self, theta):
        (sw, mw), (sb, mb) = self.model.implied(theta)
        return sw, sb, mw + mb

    def value(self, theta) -> float:
        sw, sb, mu = self._moments(theta)
        return float(_minus2_loglik(self.stats, sw, sb, mu) / (2.0 * self.ntotal))

    def value_and_gradient(self, theta):
        """``value`` and its analytic gradient (one pass over the model)."""
        facs = self.model.jacobian_factors(theta)
        sw, sb = facs[0]["sigma"], facs[1]["sigma"]
        mu = facs[0]["mu"] + facs[1]["mu"]
        f, gm = _minus2_loglik(self.stats, sw, sb, mu, gradient=True)
        if gm is None:
            return float("inf"), None
        grad = np.zeros(self.model.n_free)
        for fac, gmat in zip(facs, gm[:2]):
            u, v, w = fac["u"], fac["v"], fac["w"]
            gpos = 2.0 * w * np.einsum("ij,ij->j", u, gmat @ v) + fac["dmu"].T @ gm[2]
            grad += fac["agg"].T @ gpos
        scale = 2.0 * self.ntotal
        return float(f / scale), grad / scale

    def gradient(self, theta) -> np.ndarray:
        return self.value_and_gradient(theta)[1]

    def information(self, theta, kind: str = "expected") -> np.ndarray:
        """Unit information: ``"expected"`` (analytic) or ``"observed"`` (Hessian of fmin)."""
        if kind == "observed":
            return numeric_hessian(self.gradient, np.asarray(theta, dtype=float))
        if kind != "expected":
            raise ValueError(f"kind must be 'expected' or 'observed', not {kind!r}.")
        cd = self.stats
        q = self.model.n_free
        facs = self.model.jacobian_factors(theta)
        f1, f2 = facs
        sw, sb = f1["sigma"], f2["sigma"]
        u = np.concatenate([f1["u"], f2["u"]], axis=1)
        v = np.concatenate([f1["v"], f2["v"]], axis=1)
        dmu = np.concatenate([f1["dmu"], f2["dmu"]], axis=1)
        n1 = f1["u"].shape[1]
        w1 = np.concatenate([f1["w"], np.zeros(f2["u"].shape[1])])
        w2 = np.concatenate([np.zeros(n1), f2["w"]])
        ipos = np.zeros((u.shape[1], u.shape[1]))
        for nj, m in zip(cd.sizes.astype(float), cd.size_count.astype(float)):
            vinv = np.linalg.inv(sw + nj * sb)
            w = w1 + nj * w2
            vu, vv = vinv @ u, vinv @ v
            guu, gvv, guv = u.T @ vu, v.T @ vv, u.T @ vv
            ipos += m * ((guu * gvv + guv * guv.T) * np.outer(w, w) + nj * dmu.T @ vinv @ dmu)
        winv, _ = _within_inv_logdet(cd, sw)
        if winv is None:
            winv = np.linalg.pinv(sw)
        wu, wv = winv @ u, winv @ v
        guu, gvv, guv = u.T @ wu, v.T @ wv, u.T @ wv
        ipos += (cd.ntotal - cd.nclusters) * (guu * gvv + guv * guv.T) * np.outer(w1, w1)
        fac = dict(agg=np.vstack([f1["agg"], f2["agg"]]),
                   ks=np.concatenate([f1["ks"], f2["ks"]]))
        fac["unique"] = len(set(fac["ks"].tolist())) == len(fac["ks"])
        info = _collapse(ipos, fac, q) / cd.ntotal
        return 0.5 * (info + info.T)

    def vcov(self, theta) -> np.ndarray:
        """``inv(N * H)`` with ``H`` the observed unit information (lavaan's default)."""
        return _safe_inverse(self.information(theta, kind="observed") * self.ntotal)

    def loglik(self, theta) -> float:
        sw, sb, mu = self._moments(theta)
        return loglik_twolevel(self.stats, sw, sb, mu)

    def loglik_h1(self) -> float:
        return float(self.h1.loglik)

    def test_statistic(self, theta) -> float:
        """:math:`\\max(0, 2[\\log L_1 - \\log L_0])` (lavaan's ``chisq``)."""
        return float(max(0.0, 2.0 * (self.loglik_h1() - self.loglik(theta))))


# --------------------------------------------------------------------------
# helpers of the fit
# --------------------------------------------------------------------------
def _level_roles(levels: list):
    """Observed variables of a two-level model and their roles.

    Returns
    -------
    ov : list of str
        The level-1 variables (level-1 order), then the between-only ones.
    within, between : list of str
        Variables written under ``level: 1`` only / ``level: 2`` only.
    """
    ov1, ov2 = list(levels[0].ov), list(levels[1].ov)
    within = [v for v in ov1 if v not in ov2]
    between = [v for v in ov2 if v not in ov1]
    return ov1 + between, within, between


def _free_within_intercepts(pt: pd.DataFrame, within) -> pd.DataFrame:
    """Free the level-1 intercepts of within-only variables (lavaan does).

    :func:`~analysis.sem.partable.build_partable_levels` fixes every level-1
    intercept at 0 (the means of variables present at both levels live at
    level 2); a within-only variable has no level-2 part, so its mean is a
    free level-1 intercept, unless it is a fixed-x covariate (``exo`` row,
    filled from the saturated model).
    """
    pt = pt.copy()
    m = ((pt["group"] == 1) & (pt["op"] == "~1") & pt["lhs"].isin(list(within))
         & (pt["exo"] != 1) & (pt["free"] == 0)).to_numpy()
    if not m.any():
        return pt
    free = pt["free"].to_numpy().copy()
    nxt = int(free.max()) if len(free) else 0
    for k in np.flatnonzero(m):
        nxt += 1
        free[k] = nxt
    pt["free"] = free
    ustart = pt["ustart"].to_numpy(dtype=float).copy()
    ustart[m] = np.nan
    pt["ustart"] = ustart
    if "eq_key" in pt:
        keys = pt["eq_key"].astype(object).to_numpy().copy()
        for k in np.flatnonzero(m):
            keys[k] = f"row:{pt['id'].iloc[k]}"
        pt["eq_key"] = keys
    return pt


def _floor_diag(cov, floor=1e-3):
    out = np.array(cov, dtype=float, copy=True)
    d = np.diag(out).copy()
    np.fill_diagonal(out, np.where(d < floor, floor, d))
    return out


def _level1_means(h1: SaturatedTwoLevel, within_idx) -> np.ndarray:
    """H1's level-1 means: the mean of each within-only variable, 0 otherwise."""
    out = np.zeros_like(h1.mu_w)
    w = np.asarray(within_idx, dtype=int)
    out[w] = h1.mu_w[w]
    return out


def _fixed_x_moments(h1: SaturatedTwoLevel, within_idx=()):
    """Per block (cov, mean) lavaan fixes exogenous covariates at (from H1).

    Level 1: the EM within covariance and, for a within-only covariate, its
    mean (the level-1 means of the other variables are 0); level 2: the EM
    between covariance and the between part of the mean.
    """
    return ([_floor_diag(h1.sigma_w), _floor_diag(h1.sigma_b)],
            [_level1_means(h1, within_idx), h1.mu_b.copy()])


def _start(pt, ov, lv, h1: SaturatedTwoLevel, std_lv: bool, within_idx=()):
    sb = h1.sigma_b.copy()
    d = np.diag(sb)
    np.fill_diagonal(sb, np.where(d < 1e-3, np.maximum(1e-3, 0.05 * np.diag(h1.sigma_w)), d))
    stats = SimpleNamespace(ov_names=list(ov), ngroups=2, cov=[h1.sigma_w, sb],
                            mean=[_level1_means(h1, within_idx), h1.mu])
    vs = VariableSets(ov=list(ov), lv=list(lv), ov_x=[], lv_x=[])
    return start_values(pt, vs, stats, std_lv=std_lv)


def _ndat(levels: list) -> int:
    """Sample statistics, as lavaan's ``lav_partable_ndat`` for two levels.

    Level 1: the within covariances of its variables, plus the means of the
    within-only variables; level 2: the between covariances and means of its
    variables; minus the fixed-x moments (no level-1 means for covariates).
    """
    ov1, ov2 = list(levels[0].ov), list(levels[1].ov)
    tot = 0
    for lev, vs in zip((1, 2), levels):
        p = len(vs.ov)
        px = len(vs.ov_x)
        tot += p * (p + 1) // 2 - px * (px + 1) // 2
        if lev == 1:
            tot += len([v for v in ov1 if v not in ov2 and v not in set(vs.ov_x)])
        else:
            tot += p - px
    return tot


def _exogenous_ov(partable, block: int, names) -> list:
    """Observed variables of a block that are only predictors (lavaan's ``ov.x``)."""
    sub = partable[partable["group"] == block]
    x = set(sub.loc[sub["op"] == "~", "rhs"])
    y = set(sub.loc[sub["op"] == "~", "lhs"]) | set(sub.loc[sub["op"] == "=~", "rhs"])
    return [v for v in names if v in x and v not in y]


def _baseline_partable(ov, levels, h1: SaturatedTwoLevel, partable=None) -> pd.DataFrame:
    """lavaan's independence model of a two-level fit (variances and level-2 means).

    Each level has the variances of its own variables; exogenous covariates
    keep their fixed moments (from H1); the level-1 means of variables present
    at both levels are fixed at H1's within part, as lavaan's
    ``lav_partable_independence`` does, while within-only variables have free
    level-1 means.  With ``fixed.x = FALSE`` the covariances among the
    exogenous covariates of a level are free (as lavaan's baseline).
    """
    pos = {v: i for i, v in enumerate(ov)}
    ov2 = set(levels[1].ov)
    within_idx = [pos[v] for v in levels[0].ov if v not in ov2]
    covs, _ = _fixed_x_moments(h1, within_idx)
    means = [h1.mu_w, h1.mu_b]
    rows = []
    free = 0
    for b, vs in enumerate(levels):
        lev_ov = [v for v in ov if v in set(vs.ov)]
        xs = [v for v in lev_ov if v in set(vs.ov_x)]
        for v in lev_ov:
            if v in xs:
                rows.append((v, "~~", v, b + 1, 0, covs[b][pos[v], pos[v]], 1))
            else:
                free += 1
                rows.append((v, "~~", v, b + 1, free, np.nan, 0))
        for i, a in enumerate(xs):
            for c in xs[i + 1:]:
                rows.append((a, "~~", c, b + 1, 0, covs[b][pos[a], pos[c]], 1))
        if not xs and partable is not None:
            ex = _exogenous_ov(partable, b + 1, lev_ov)
            for i, a in enumerate(ex):
                for c in ex[i + 1:]:
                    free += 1
                    rows.append((a, "~~", c, b + 1, free, np.nan, 0))
        for v in lev_ov:
            if v in xs:
                rows.append((v, "~1", "", b + 1, 0, float(means[b][pos[v]]), 1))
            elif b == 0 and v in ov2:
                rows.append((v, "~1", "", b + 1, 0, float(means[b][pos[v]]), 0))
            else:
                free += 1
                rows.append((v, "~1", "", b + 1, free, np.nan, 0))
    pt = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "group", "free", "ustart", "exo"])
    pt.insert(0, "id", np.arange(1, len(pt) + 1))
    pt["level"] = pt["group"]
    pt["user"] = 0
    pt["start"] = np.nan
    pt["label"] = ""
    pt["plabel"] = [f".p{i}." for i in pt["id"]]
    return pt


def _fit_baseline(cd: ClusterData, levels, h1: SaturatedTwoLevel, partable=None):
    ov = cd.ov_names
    pt = _baseline_partable(ov, levels, h1, partable)
    model = SEMModel(pt, ov, [], 2, True)
    obj = TwoLevelMLObjective(model, cd, h1)
    theta0 = _start(pt, ov, [], h1, False, cd.within_idx)
    res = minimize(obj, theta0)
    return obj.loglik(res.theta), int(model.n_free), bool(res.converged)


def _force_pd(s, tol=1e-6):
    """lavaan's ``lav_matrix_symmetric_force_pd``."""
    if s.shape[0] == 1:
        return np.array([[max(s[0, 0], tol)]])
    ev, vec = np.linalg.eigh(s)
    ev, vec = ev[::-1], vec[:, ::-1]
    ev = np.where(ev / abs(ev[0]) < tol, tol * abs(ev[0]), ev)
    return vec @ np.diag(ev) @ vec.T


def srmr_twolevel(h1: SaturatedTwoLevel, sigma_w, sigma_b) -> tuple[float, float]:
    """SRMR within and between (lavaan's ``srmr_within``, ``srmr_between``).

    Parameters
    ----------
    h1 : SaturatedTwoLevel
        The saturated (EM) covariance matrices.
    sigma_w, sigma_b : ndarray (p, p)
        The model-implied covariance matrices.

    Returns
    -------
    within, between : float

    Notes
    -----
    At each level :math:`\\sqrt{\\sum \\operatorname{vech}(R_S - R_\\Sigma)^2 /
    (p(p+1)/2)}` with :math:`R` the correlation matrices of the saturated and
    implied covariances (the implied between matrix made positive definite
    first); lavaan's ``srmr`` is their sum (``lav_fit_srmr_twolevel``) [1]_.

    References
    ----------
    .. [1] Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in
       covariance structure analysis. *Structural Equation Modeling*, 6, 1-55.
    """
    _, within, between = _fi.srmr_twolevel(h1.sigma_w, sigma_w, h1.sigma_b, _force_pd(sigma_b))
    return within, between


# --------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Levels(Section):
    """The section of a two-level result (``result.levels``; see :func:`sem_twolevel`).

    Attributes
    ----------
    variables : tuple of VariableSets
        The variables of level 1 (within) and level 2 (between).
    cluster : str
        The cluster column.

    With this section the result's ``estimates`` are lavaan's
    ``parameterEstimates()`` of a two-level fit (``lhs, op, rhs, block,
    level, group, label, est, se, z, pvalue, ci_lower, ci_upper, std_all``:
    ``block``/``level`` 1 within, 2 between, 0 for ``:=`` rows; ``group``
    1; standard errors from the observed information; ``std_all``
    standardizes each level by its own implied variances); its ``fit``:
    ``npar, fmin, chisq, df, pvalue, baseline_chisq, baseline_df,
    baseline_pvalue, cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper,
    rmsea_pvalue, srmr, srmr_within, srmr_between, loglik,
    unrestricted_loglik, aic, bic, bic2, nobs, nclusters, n_dropped``; its
    ``h1`` the saturated model of the test (lavaan's EM estimate,
    :class:`SaturatedTwoLevel`); its ``notes`` facts about the rows and
    clusters used.
    """

    variables: tuple
    cluster: str

    def block_names(self, result) -> dict:
        return {1: "level 1 [within]", 2: f"level 2 [{self.cluster}]"}

    def estimates(self, result, est: pd.DataFrame) -> pd.DataFrame:
        est = est.copy()
        block = est["group"].to_numpy(dtype=int)
        est.insert(3, "block", block)
        est.insert(4, "level", block)
        est["group"] = 1
        return est[TWOLEVEL_ESTIMATE_COLUMNS].reset_index(drop=True)

    def fit(self, result) -> pd.Series:
        """Fit measures (see the class docstring)."""
        obj = result.objective
        cd = result.stats
        q = result.model.n_free
        ndat = _ndat(self.variables)
        df = ndat - q
        chisq = obj.test_statistic(result.theta)
        h1 = obj.h1
        ll_b, npar_b, _ = _fit_baseline(cd, self.variables, h1, result.partable)
        chisq_b = max(0.0, 2.0 * (obj.loglik_h1() - ll_b))
        df_b = ndat - npar_b
        (sw, _), (sb, _) = result.implied
        i1, i2 = cd.level_idx  # SRMR of each level over its own variables
        h1_lev = SimpleNamespace(sigma_w=h1.sigma_w[np.ix_(i1, i1)],
                                 sigma_b=h1.sigma_b[np.ix_(i2, i2)])
        srmr_w, srmr_b = srmr_twolevel(h1_lev, sw[np.ix_(i1, i1)], sb[np.ix_(i2, i2)])
        ll_x = self.loglik_x(cd)
        out = _fi.fit_measures(
            chisq=chisq, df=df, npar=q, ntotal=cd.ntotal, ngroups=1,
            loglik=obj.loglik(result.theta) - ll_x, loglik_h1=obj.loglik_h1() - ll_x,
            chisq_b=chisq_b, df_b=df_b, srmr_value=srmr_w + srmr_b, fmin=obj.value(result.theta))
        extra = pd.Series({"srmr_within": srmr_w, "srmr_between": srmr_b,
                           "nclusters": float(cd.nclusters), "n_dropped": float(cd.n_dropped)},
                          dtype=float)
        return pd.concat([out, extra])

    def loglik_x(self, cd) -> float:
        """Log-likelihood of the fixed-x covariates observed at one level only.

        lavaan 0.6.14 reports ``logl`` (and ``unrestricted.logl``) conditional
        on the fixed-x covariates that are within-only (saturated normal
        log-likelihood of their covariance over all rows, divisor N) or
        between-only (of their covariance over clusters, divisor J); fixed-x
        covariates present at both levels are not conditioned on
        (``YLp$loglik.x`` of ``lav_samplestats_cluster_patterns``).
        """
        pos = {v: i for i, v in enumerate(cd.ov_names)}
        within = {cd.ov_names[i] for i in cd.within_idx}
        between = {cd.ov_names[i] for i in cd.between_idx}
        total = 0.0
        for vals, names in ((cd.data[0], [v for v in self.variables[0].ov_x if v in within]),
                            (cd.cluster_mean, [v for v in self.variables[1].ov_x if v in between])):
            if not names:
                continue
            x = vals[:, [pos[v] for v in names]]
            n, px = x.shape
            s = np.atleast_2d(np.cov(x.T, bias=True))
            total += -0.5 * n * (px * _LOG2PI + np.linalg.slogdet(s)[1] + px)
        return float(total)

    def notes(self, result) -> list:
        """Facts about the data used (rows dropped listwise, clusters)."""
        cd = result.stats
        msgs = [f"{cd.ntotal} rows in {cd.nclusters} clusters (sizes "
                f"{int(cd.cluster_size.min())}-{int(cd.cluster_size.max())}) were used."]
        if cd.n_dropped:
            what = ("a missing value in a model variable or in the cluster column"
                    if cd.n_dropped_cluster else "a missing value in a model variable")
            msgs.append(f"{cd.n_dropped} rows with {what} were dropped (listwise deletion"
                        + (f"; {cd.n_dropped_cluster} of them have no cluster" if cd.n_dropped_cluster
                           else "") + ").")
        if cd.within_idx:
            names = [cd.ov_names[i] for i in cd.within_idx]
            msgs.append(f"Within-only variables (level 1 only; no between part): {names}.")
        if cd.between_idx:
            names = [cd.ov_names[i] for i in cd.between_idx]
            msgs.append("Between-only variables (level 2 only; constant within clusters): "
                        f"{names}.")
        return msgs

    def issues(self, result) -> list:
        h1 = result.objective.h1
        if h1.converged:
            return []
        return ["The EM estimate of the saturated two-level model did not converge "
                f"in {h1.n_iter} iterations (chi-square and SRMR are approximate)."]


#: The name of the result of :func:`sem_twolevel`: one
#: :class:`~analysis.sem.results.SEMResult` type serves every fit, and a
#: two-level fit is one with a :class:`Levels` section.
TwoLevelResult = SEMResult


# --------------------------------------------------------------------------
# the driver
# --------------------------------------------------------------------------
def sem_twolevel(model, data: pd.DataFrame, cluster: str, *, std_lv: bool = False,
                 se: str = "standard", start=None, max_iter: int = 500,
                 fixed_x: bool = True) -> TwoLevelResult:
    """Fit a two-level model by ML (called by :func:`analysis.sem.sem` with ``cluster=``).

    Parameters
    ----------
    model : str or list of Formula
        lavaan syntax with ``level: 1`` and ``level: 2`` blocks.
    data : pandas.DataFrame
    cluster : str
        Column naming each row's cluster.
    std_lv : bool
        Identify latent variables by unit variances (both levels).
    se : {"standard", "none"}
        ``"standard"``: lavaan's default for two-level ML (observed
        information).
    start : ndarray, optional
        Warm start for the free parameters.
    max_iter : int
    fixed_x : bool
        lavaan's ``fixed.x`` (see Notes).

    Returns
    -------
    TwoLevelResult

    Raises
    ------
    ValueError
        For a bad cluster column or syntax, or a between-only variable that
        varies within a cluster.
    NotImplementedError
        For a variable written at both levels that does not vary within
        clusters (write it under ``level: 2`` only).

    Notes
    -----
    As lavaan 0.6.14 (``sem(model, data, cluster = ...)``): block 1 is the
    within level (observed intercepts fixed at 0), block 2 the between level
    (intercepts free); latent means are 0.  Under ``fixed.x`` the moments of
    an exogenous observed covariate are fixed, as lavaan fixes them, at the
    EM saturated estimates: its within covariance, its between covariance
    and the *between part* of its EM mean (its within mean is 0).  The mean
    of the covariate is then not its ML estimate, so even a saturated model
    has a small positive chi-square at df = 0 (lavaan's numbers, e.g. 1.943
    for the saturated mediation model of ``twolevel_paths.csv``); with
    ``fixed_x=False`` the covariate's variances, covariances and mean are
    estimated (lavaan's ``fixed.x = FALSE``) and a saturated model has
    chi-square 0.  Starting
    values come from the EM saturated moments (half the variance at each
    level for residual variances), then damped Fisher scoring with the
    analytic expected information.

    Variables written under one level only are lavaan's within-only and
    between-only variables: a within-only variable has no between part and
    its mean is a free level-1 intercept (fixed, for a fixed-x covariate, at
    its EM mean); a between-only variable is a cluster-level variable
    (constant within clusters), modelled at level 2 only, with its moments
    fixed at the EM (= sample, over clusters) values when it is a fixed-x
    covariate.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.sem import sem
    >>> d = pd.read_csv("tests/reference/data/Demo_twolevel.csv")
    >>> fit = sem("level: 1\\n fw =~ y1 + y2 + y3\\nlevel: 2\\n fb =~ y1 + y2 + y3",
    ...           d, cluster="cluster")
    >>> round(float(fit.fit["loglik"]), 3)   # lavaan: -12513.702
    -12513.702
    """
    from .options import Options
    from .syntax import parse_syntax

    opts = Options(cluster=cluster, std_lv=std_lv, se=se, max_iter=max_iter, fixed_x=fixed_x, two_level=True)
    formulas = parse_syntax(model) if isinstance(model, str) else list(model)
    return assemble(TWO_LEVEL_STAGES, formulas, data, opts, start=start)


class TwoLevelStages(Stages):
    """The stages of a two-level ML fit (:func:`sem_twolevel`).

    *prepare* splits the variables by level, summarises the clusters and
    estimates the saturated model by EM (its moments fix the fixed-x
    covariates and give the starting values); the objective is
    :class:`TwoLevelMLObjective`; the result a :class:`TwoLevelResult`.
    """

    def prepare(self, formulas, data, opts, **_) -> Prepared:
        from .estimators import get_estimator

        pt, levels = build_partable_levels(formulas, std_lv=opts.std_lv, fixed_x=opts.fixed_x)
        ov, within, between = _level_roles(levels)
        lv = list(dict.fromkeys(levels[0].lv + levels[1].lv))
        cd = cluster_data(data, ov, opts.cluster, within=within, between=between)
        h1 = em_saturated(cd)
        covs, means = _fixed_x_moments(h1, cd.within_idx)
        pt = _free_within_intercepts(pt, within)
        pt = fill_fixed_x(pt, ov, covs, means)
        variables = VariableSets(ov=list(ov), lv=lv, ov_x=[], lv_x=[])
        return Prepared(pt, variables, cd, get_estimator("ML"), 2, True, dict(levels=levels, h1=h1))

    def objective(self, model, prepared: Prepared, opts) -> "TwoLevelMLObjective":
        return TwoLevelMLObjective(model, prepared.stats, prepared.extra["h1"])

    def start(self, model, objective, prepared: Prepared, opts) -> np.ndarray:
        return _start(prepared.partable, prepared.variables.ov, prepared.variables.lv, prepared.extra["h1"],
                      opts.std_lv, prepared.stats.within_idx)

    def result(self, model, objective, optim, prepared: Prepared, opts, **_) -> "TwoLevelResult":
        options = opts.record(estimator="ML", meanstructure=True, levels=2, information="observed",
                              fixed_x=opts.fixed_x)
        section = Levels(variables=tuple(prepared.extra["levels"]), cluster=opts.cluster)
        return SEMResult(prepared.partable, prepared.variables, model, objective, prepared.estimator,
                         optim.theta, optim.converged, optim.n_iter, options, levels=section)


#: The two-level stages of the assembly line (:func:`analysis.sem.assembly.assemble`).
TWO_LEVEL_STAGES = TwoLevelStages()
