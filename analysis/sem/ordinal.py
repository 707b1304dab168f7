"""Sample statistics of DWLS/WLSMV: thresholds, polychorics and Gamma.

DWLS/WLSMV fit a model to the vector of sample *thresholds* and
*polychoric correlations*

.. math:: s = (\\tau_1, \\ldots, \\tau_T, r_{21}, r_{31}, \\ldots, r_{p,p-1}),

(thresholds variable by variable, then the strictly lower triangle of the
polychoric matrix column by column, lavaan's ``WLS.obs``), weighted by the
inverse of the diagonal of :math:`\\Gamma`, the asymptotic covariance matrix
of :math:`\\sqrt{N}(s - \\sigma)` ("NACOV").  :math:`\\Gamma` is estimated as
lavaan's ``muthen1984``: from the casewise scores of the univariate
(threshold) and bivariate (correlation) likelihoods, by the delta method
through the two-step estimating equations (Muthen, 1984; Muthen, du Toit &
Spisic, 1997).

The same statistics for the other two kinds of data lavaan's WLSMV takes:

* **mixed** ordinal and continuous indicators (:func:`mixed_stats`): the
  "thresholds" of a continuous variable are its mean (with lavaan's sign,
  :math:`-\\bar y`), its variance is a statistic, and the correlations are
  polychoric (ordinal pairs), polyserial (ordinal-continuous) and Pearson
  (continuous pairs), the last two turned into covariances with the
  standard deviations of the continuous variables; Gamma is lavaan's
  ``muthen1984`` with the univariate regression and bivariate
  polyserial/Pearson scores;
* **continuous** indicators only (:func:`continuous_stats`): the means (with
  a mean structure) and the covariance matrix (divisor N - 1), Gamma the
  asymptotically distribution-free estimate (fourth-order moments, divisor
  N; lavaan's ``lav_samplestats_Gamma``).

References
----------
.. [1] Muthen, B. (1984). A general structural equation model with
   dichotomous, ordered categorical, and continuous latent variable
   indicators. Psychometrika, 49(1), 115-132.
.. [2] Muthen, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference
   using weighted least squares and quadratic estimating equations in latent
   variable modeling with categorical and continuous outcomes. Unpublished
   technical report.
.. [3] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr

from .polychoric import (
    PI_FLOOR,
    OrdinalData,
    cell_probabilities_many,
    encode_ordinal,
    padded_thresholds,
    pair_tables,
    phi_many,
    polychoric_from_codes,
    univariate_thresholds,
)

__all__ = ["OrdinalStats", "ordinal_stats", "mixed_stats", "continuous_stats", "lower_index",
           "vech_index", "MANY_LEVELS"]

#: lavaan warns about ordered variables with more levels than this.
MANY_LEVELS = 12

_BIG = 100.0  # lavaan's stand-in for +-infinity in the casewise scores


def vech_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the lower triangle *with* the diagonal, column by column.

    Returns
    -------
    (ndarray, ndarray)
        ``rows, cols`` with pairs (1,1), (2,1), ..., (p,1), (2,2), ...
        (0-based), lavaan's ``lav_matrix_vech(.)`` order.
    """
    cols, rows = np.triu_indices(p)
    return rows.astype(int), cols.astype(int)


def lower_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the strict lower triangle, column by column.

    Parameters
    ----------
    p : int

    Returns
    -------
    (ndarray, ndarray)
        ``rows, cols`` with pairs (2,1), (3,1), ..., (p,1), (3,2), ...
        (0-based), lavaan's ``lav_matrix_vech(., diagonal = FALSE)`` order.
    """
    cols, rows = np.triu_indices(p, 1)
    return rows.astype(int), cols.astype(int)


@dataclass(frozen=True)
class OrdinalStats:
    """Thresholds, polychoric correlations and their Gamma for one group.

    Attributes
    ----------
    names : list of str
        Ordinal variables, in column order.
    levels : list of ndarray
        Observed categories of each variable.
    thresholds : ndarray, shape (T,)
        Sample thresholds, variable by variable.
    th_var : ndarray of int, shape (T,)
        Index of the variable each threshold belongs to.
    polychoric : ndarray, shape (p, p)
        Polychoric correlation matrix.
    gamma : ndarray, shape (T + p*, T + p*)
        lavaan's NACOV: asymptotic covariance of :math:`\\sqrt N (s - \\sigma)`.
    nobs : int
        Number of cases.
    group : object
        Group label (None for a single group).
    zero_cell_tables : list of (str, str)
        Pairs whose two-way table has an empty cell.
    th_mean : ndarray of bool, optional
        For mixed or continuous data: which entries of :attr:`thresholds`
        are (signed) means of continuous variables rather than thresholds.
    var_idx : tuple of int
        Mixed data: the continuous variables, whose variances follow the
        thresholds in :attr:`wls_obs`.
    vech_diag : bool
        Continuous data: the covariances are ``vech(S)`` *with* the diagonal
        (lavaan's layout without ``categorical``), not the variances of
        :attr:`var_idx` followed by the strict lower triangle.
    kind : {"ordinal", "mixed", "continuous"}

    Notes
    -----
    :attr:`polychoric` holds the matrix the covariance part of
    :attr:`wls_obs` is read from: polychoric correlations, for mixed data
    with the rows and columns of the continuous variables scaled by their
    standard deviations, for continuous data the covariance matrix.  The
    mean of a continuous variable enters :attr:`thresholds` as
    :math:`-\\bar y` for mixed data (lavaan's convention: a continuous
    variable's "threshold" is minus its intercept) and as :math:`\\bar y`
    for continuous data.
    """

    names: list
    levels: list
    thresholds: np.ndarray
    th_var: np.ndarray
    polychoric: np.ndarray
    gamma: np.ndarray
    nobs: int
    group: object = None
    zero_cell_tables: list = field(default_factory=list)
    th_mean: np.ndarray | None = None
    var_idx: tuple = ()
    vech_diag: bool = False
    kind: str = "ordinal"

    @property
    def is_mean(self) -> np.ndarray:
        """Boolean per entry of :attr:`thresholds`: a mean, not a threshold."""
        if self.th_mean is None:
            return np.zeros(self.thresholds.size, dtype=bool)
        return np.asarray(self.th_mean, dtype=bool)

    @property
    def mean_sign(self) -> float:
        """Sign of a mean in :attr:`wls_obs` (-1 for mixed data, lavaan)."""
        return 1.0 if self.kind == "continuous" else -1.0

    @property
    def cov_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns of :attr:`polychoric` read into :attr:`wls_obs`."""
        p = len(self.names)
        if self.vech_diag:
            return vech_index(p)
        r, c = lower_index(p)
        if self.var_idx:
            v = np.asarray(self.var_idx, dtype=int)
            return np.concatenate([v, r]), np.concatenate([v, c])
        return r, c

    @property
    def threshold_names(self) -> list:
        """lavaan's names ``x|t1``, ... (``x~1`` for the mean of a continuous variable)."""
        out, count = [], {}
        for j, m in zip(self.th_var, self.is_mean):
            if m:
                out.append(f"{self.names[j]}~1")
                continue
            count[j] = count.get(j, 0) + 1
            out.append(f"{self.names[j]}|t{count[j]}")
        return out

    @property
    def correlation_names(self) -> list:
        """lavaan's names ``x1~~x2``, ... in ``WLS.obs`` order."""
        r, c = self.cov_index
        return [f"{self.names[j]}~~{self.names[i]}" for i, j in zip(r, c)]

    @property
    def wls_names(self) -> list:
        """Names of the elements of :attr:`wls_obs`."""
        return self.threshold_names + self.correlation_names

    @property
    def wls_obs(self) -> np.ndarray:
        """The vector ``s``: thresholds (and means), then the (co)variances."""
        r, c = self.cov_index
        return np.concatenate([self.thresholds, self.polychoric[r, c]])

    @property
    def wls_v(self) -> np.ndarray:
        """DWLS weights: ``1 / diag(Gamma)`` (lavaan's ``WLS.VD``; 0 where the
        diagonal is 0, the fixed-x moments of continuous covariates)."""
        d = np.diag(self.gamma)
        with np.errstate(divide="ignore"):
            return np.where(d == 0, 0.0, 1.0 / np.where(d == 0, 1.0, d))

    def gamma_frame(self) -> pd.DataFrame:
        """Gamma as a labelled DataFrame (rows and columns :attr:`wls_names`)."""
        return pd.DataFrame(self.gamma, index=self.wls_names, columns=self.wls_names)


def _uni_scores(codes: np.ndarray, th: np.ndarray) -> np.ndarray:
    """Casewise scores of the univariate probit log-likelihood (n, K-1)."""
    k1 = th.size
    tt = np.concatenate([[-_BIG], th, [_BIG]])
    ok = codes > 0
    y = np.where(ok, codes, 1)
    z1 = tt[y]
    z2 = tt[y - 1]
    pi = ndtr(z1) - ndtr(z2)
    d1 = np.exp(-0.5 * z1 * z1) / np.sqrt(2 * np.pi)
    d2 = np.exp(-0.5 * z2 * z2) / np.sqrt(2 * np.pi)
    t = np.arange(1, k1 + 1)
    sc = ((y[:, None] == t) * d1[:, None] - ((y - 1)[:, None] == t) * d2[:, None]) / pi[:, None]
    sc[~ok] = 0.0
    return sc


def _bi_cell_scores_many(t1: np.ndarray, t2: np.ndarray, rho: np.ndarray):
    """Per-cell derivatives of log pi_ab for many pairs (padded thresholds).

    Parameters
    ----------
    t1, t2 : ndarray, shape (P, K-1)
        Thresholds of the row (lavaan's ``y1``) and column variable, padded
        with :data:`~analysis.sem.polychoric.PAD`.
    rho : ndarray, shape (P,)

    Returns
    -------
    d_rho : (P, K, K)
    d_th1, d_th2 : (P, K, K, K-1)
        Zero where the cell probability is below lavaan's floor.
    """
    npair, km1 = t1.shape
    k = km1 + 1
    pi = cell_probabilities_many(t1, t2, rho)
    lik = np.where(pi <= PI_FLOOR, np.nan, pi)
    phi = phi_many(t1, t2, rho)
    rr = rho[:, None, None]
    r = np.sqrt(1.0 - rr * rr)
    big = np.full((npair, 1), _BIG)
    e1 = np.concatenate([-big, t1, big], axis=1)
    e2 = np.concatenate([-big, t2, big], axis=1)
    u1, l1 = e1[:, 1:, None], e1[:, :-1, None]        # (P, K, 1)
    u2, l2 = e2[:, None, 1:], e2[:, None, :-1]        # (P, 1, K)

    def dens(x):
        return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)

    y1_z1 = dens(u1) * (ndtr((u2 - rr * u1) / r) - ndtr((l2 - rr * u1) / r))
    y1_z2 = dens(l1) * (ndtr((u2 - rr * l1) / r) - ndtr((l2 - rr * l1) / r))
    y2_z1 = dens(u2) * (ndtr((u1 - rr * u2) / r) - ndtr((l1 - rr * u2) / r))
    y2_z2 = dens(l2) * (ndtr((u1 - rr * l2) / r) - ndtr((l1 - rr * l2) / r))
    cat = np.arange(1, k + 1)
    t = np.arange(1, k)
    up = (cat[:, None] == t[None, :]).astype(float)   # (K, K-1): threshold t is the upper bound
    lo = (cat[:, None] - 1 == t[None, :]).astype(float)
    d_th1 = (y1_z1[..., None] * up[None, :, None, :]
             - y1_z2[..., None] * lo[None, :, None, :]) / lik[..., None]
    d_th2 = (y2_z1[..., None] * up[None, None, :, :]
             - y2_z2[..., None] * lo[None, None, :, :]) / lik[..., None]
    d_rho = phi / lik
    return np.nan_to_num(d_rho), np.nan_to_num(d_th1), np.nan_to_num(d_th2)


def ordinal_stats(data: pd.DataFrame, ordered=None, *, group=None, levels=None,
                  gamma: bool = True) -> OrdinalStats:
    """Thresholds, polychoric correlations and Gamma of ordinal variables.

    Parameters
    ----------
    data : DataFrame
        Complete cases of the ordinal variables (numeric category codes);
        rows with a missing value contribute nothing to the pair or variable
        concerned.
    ordered : list of str, optional
        The ordinal variables, in the order of the model's observed variables
        (default: all columns).
    group : object, optional
        Group label stored in the result.
    levels : list of array_like, optional
        Categories of each variable (to share them across groups); a
        category that is empty in this group is an error, as in lavaan.
    gamma : bool
        Compute Gamma (set False for thresholds and correlations only).

    Returns
    -------
    OrdinalStats

    Raises
    ------
    ValueError
        For a variable with fewer than two categories or an empty category.

    Notes
    -----
    With :math:`\\dot\\ell_i` the casewise scores of the univariate probit
    likelihoods (thresholds) and the bivariate likelihoods (correlations,
    thresholds fixed), :math:`B` the matrix of the two-step estimating
    equations (blocks :math:`A_{11}` = outer products of the univariate
    scores per variable, :math:`A_{21}` = cross-products of correlation and
    bivariate threshold scores, :math:`A_{22}` = diagonal of the squared
    correlation scores) and :math:`J = \\sum_i \\dot\\ell_i \\dot\\ell_i^\\top`,

    .. math:: \\Gamma = N\\, B^{-1} J B^{-\\top},\\qquad
              B^{-1} = \\begin{pmatrix} A_{11}^{-1} & 0 \\\\
              -A_{22}^{-1}A_{21}A_{11}^{-1} & A_{22}^{-1}\\end{pmatrix},

    exactly lavaan's ``muthen1984`` without covariates [1]_ [2]_.

    References
    ----------
    .. [1] Muthen, B. (1984). A general structural equation model with
       dichotomous, ordered categorical, and continuous latent variable
       indicators. Psychometrika, 49(1), 115-132.
    .. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. Journal of Statistical Software, 48(2), 1-36.
    """
    od: OrdinalData = encode_ordinal(data, ordered, levels=levels)
    codes = od.codes
    n, p = codes.shape
    ncat = od.ncat
    th_list = []
    for j, name in enumerate(od.names):
        try:
            th_list.append(univariate_thresholds(codes[:, j], int(ncat[j])))
        except ValueError as exc:
            where = "" if group is None else f" in group {group!r}"
            raise ValueError(f"Ordinal variable {name!r}{where}: {exc}") from None
    th = np.concatenate(th_list)
    th_var = np.concatenate([np.full(t.size, j) for j, t in enumerate(th_list)])
    R = polychoric_from_codes(codes, ncat, th_list)
    rows, cols = lower_index(p)
    tabs = pair_tables(codes, rows, cols, int(ncat.max()))
    zero_tables = []
    for k, (i, j) in enumerate(zip(rows, cols)):
        if np.any(tabs[k, :ncat[j], :ncat[i]] == 0):
            zero_tables.append((od.names[i], od.names[j]))
    G = np.full((th.size + rows.size,) * 2, np.nan)
    if gamma:
        G = _gamma(codes, th_list, R, rows, cols)
    return OrdinalStats(names=od.names, levels=od.levels, thresholds=th, th_var=th_var,
                        polychoric=R, gamma=G, nobs=int(n), group=group,
                        zero_cell_tables=zero_tables)


def _gamma(codes, th_list, R, rows, cols, chunk: int = 256) -> np.ndarray:
    n, p = codes.shape
    nth = np.array([t.size for t in th_list])
    end = np.cumsum(nth)
    start = end - nth
    T = int(end[-1])
    pstar = rows.size
    kmax = int(nth.max()) + 1
    tpad = padded_thresholds(th_list, kmax - 1)
    sc_th = np.zeros((n, T))
    for j in range(p):
        sc_th[:, start[j]:end[j]] = _uni_scores(codes[:, j], th_list[j])
    sc_cor = np.zeros((n, pstar))
    a21 = np.zeros((pstar, T))
    for c0 in range(0, pstar, chunk):
        sl = slice(c0, min(c0 + chunk, pstar))
        ri, cj = rows[sl], cols[sl]
        # lavaan: fit.y1 = variable i (the larger index), fit.y2 = variable j
        d_rho, d_th1, d_th2 = _bi_cell_scores_many(tpad[ri], tpad[cj], R[ri, cj])
        ci, cc = codes[:, ri], codes[:, cj]                       # (n, P)
        ok = (ci > 0) & (cc > 0)
        ii = np.where(ok, ci, 1) - 1
        jj = np.where(ok, cc, 1) - 1
        pidx = np.arange(ri.size)[None, :]
        s_rho = np.where(ok, d_rho[pidx, ii, jj], 0.0)            # (n, P)
        s_th1 = np.where(ok[..., None], d_th1[pidx, ii, jj], 0.0)  # (n, P, K-1)
        s_th2 = np.where(ok[..., None], d_th2[pidx, ii, jj], 0.0)
        sc_cor[:, sl] = s_rho
        m1 = np.einsum("np,npt->pt", s_rho, s_th1)
        m2 = np.einsum("np,npt->pt", s_rho, s_th2)
        for q, (i, j) in enumerate(zip(ri, cj)):
            a21[c0 + q, start[i]:end[i]] = m1[q, :nth[i]]
            a21[c0 + q, start[j]:end[j]] = m2[q, :nth[j]]
    # B^{-1} J B^{-T} = Z'Z with Z = SC B^{-T} (the transformed casewise scores)
    a11_inv = np.zeros((T, T))
    for j in range(p):
        blk = slice(start[j], end[j])
        s_j = sc_th[:, blk]
        a11_inv[blk, blk] = np.linalg.inv(s_j.T @ s_j)
    a22 = np.einsum("ij,ij->j", sc_cor, sc_cor)
    if np.any(a22 == 0):
        raise ValueError("Cannot compute the weight matrix: a polychoric correlation "
                         "has no information (a degenerate two-way table).")
    a22_inv = 1.0 / a22
    c21 = -(a22_inv[:, None] * a21) @ a11_inv          # lower-left block of B^{-1}
    z = np.empty((n, T + pstar))
    z[:, :T] = sc_th @ a11_inv.T
    z[:, T:] = sc_th @ c21.T + sc_cor * a22_inv[None, :]
    G = (z.T @ z) * n
    return 0.5 * (G + G.T)


# ----------------------------------------------------------------------
# continuous indicators (WLSMV without `ordered`)
# ----------------------------------------------------------------------
def continuous_stats(data: pd.DataFrame, names, *, meanstructure: bool = False,
                     group=None) -> OrdinalStats:
    """Means, covariances and their ADF Gamma of continuous variables (lavaan's WLSMV).

    Parameters
    ----------
    data : DataFrame
        Complete cases of the variables.
    names : list of str
        The observed variables of the model, in its order.
    meanstructure : bool
        Include the means in the statistics (lavaan: with groups, ``~ 1`` in
        the syntax or ``meanstructure = TRUE``).
    group : object, optional
        Group label stored in the result.

    Returns
    -------
    OrdinalStats
        ``kind = "continuous"``: :attr:`~OrdinalStats.thresholds` holds the
        means (empty without a mean structure), :attr:`~OrdinalStats.polychoric`
        the covariance matrix with divisor N - 1 (lavaan's sample statistics
        for least-squares estimators, ``sample.cov.rescale = FALSE``), the
        covariance part of ``wls_obs`` is ``vech(S)`` with the diagonal.

    Notes
    -----
    With :math:`d_i = (y_i - \\bar y,\\ \\operatorname{vech}[(y_i - \\bar y)(y_i -
    \\bar y)^\\top])` (the first part only with a mean structure),
    :math:`\\Gamma = N^{-1}\\sum_i (d_i - \\bar d)(d_i - \\bar d)^\\top`, the
    asymptotically distribution-free estimate of the covariance of
    :math:`\\sqrt N` times the sample moments (Browne, 1984; lavaan's
    ``lav_samplestats_Gamma`` with ``gamma.unbiased = FALSE``).

    References
    ----------
    .. [1] Browne, M. W. (1984). Asymptotically distribution-free methods for
       the analysis of covariance structures. British Journal of
       Mathematical and Statistical Psychology, 37, 62-83.
    """
    names = [str(v) for v in names]
    x = data[names].to_numpy(dtype=float)
    if np.isnan(x).any():
        raise ValueError("continuous_stats needs complete cases.")
    n, p = x.shape
    if n < 2:
        raise ValueError("At least two cases are needed.")
    mean = x.mean(axis=0)
    zc = x - mean
    s = zc.T @ zc / (n - 1)
    rows, cols = vech_index(p)
    d = zc[:, rows] * zc[:, cols]
    if meanstructure:
        d = np.hstack([zc, d])
    dc = d - d.mean(axis=0)
    gamma = dc.T @ dc / n
    return OrdinalStats(names=names, levels=[None] * p,
                        thresholds=mean.copy() if meanstructure else np.zeros(0),
                        th_var=np.arange(p) if meanstructure else np.zeros(0, dtype=int),
                        polychoric=s, gamma=0.5 * (gamma + gamma.T), nobs=int(n), group=group,
                        th_mean=np.ones(p if meanstructure else 0, dtype=bool),
                        var_idx=tuple(range(p)), vech_diag=True, kind="continuous")


# ----------------------------------------------------------------------
# mixed ordinal and continuous indicators
# ----------------------------------------------------------------------
def mixed_stats(data: pd.DataFrame, names, ordered, *, group=None, levels=None) -> OrdinalStats:
    """Thresholds, means, variances, correlations and Gamma of mixed data (lavaan).

    Parameters
    ----------
    data : DataFrame
        Complete cases.
    names : list of str
        The observed variables of the model, in its order.
    ordered : list of str
        The ordinal ones (numeric category codes); the others are continuous.
    group : object, optional
        Group label stored in the result.
    levels : dict, optional
        Categories of each ordinal variable (name -> values), to share them
        across groups.

    Returns
    -------
    OrdinalStats
        ``kind = "mixed"``: per variable in model order its thresholds
        (ordinal) or minus its mean (continuous), then the variances of the
        continuous variables, then the strict lower triangle of the
        correlation matrix with the continuous rows and columns scaled by
        their standard deviations (polychoric, polyserial covariances,
        covariances); Gamma in the same order.

    Notes
    -----
    lavaan's ``muthen1984`` without covariates, step by step [1]_ [2]_.
    Step 1 (univariate): thresholds from the margins and their probit
    scores; for a continuous :math:`y` the mean and variance (divisor N)
    with the regression scores :math:`(y-\\mu)/\\sigma^2` and
    :math:`-1/(2\\sigma^2) + (y-\\mu)^2/(2\\sigma^4)`.  Step 2 (bivariate, the
    univariate estimates fixed): polychoric, polyserial
    (:func:`~analysis.sem.polychoric.polyserial_pair`) or Pearson correlation
    with the casewise scores of the correlation and of the fixed univariate
    parameters.  With :math:`A_{11}` block diagonal per variable, :math:`A_{21}`
    the cross-products of correlation and univariate scores, :math:`A_{22}`
    the diagonal of squared correlation scores, :math:`B^{-1}` as in
    :func:`ordinal_stats` and :math:`J` the cross-products of all scores,
    :math:`\\Gamma = N\\,H B^{-1} J B^{-\\top} H^\\top`, where :math:`H` maps a
    correlation involving continuous variables to its covariance
    (:math:`\\partial\\sigma_{ij}/\\partial\\rho_{ij} = \\sigma_i\\sigma_j`,
    :math:`\\partial\\sigma_{ij}/\\partial\\sigma_i^2 = \\rho_{ij}\\sigma_j/(2\\sigma_i)`),
    and the rows of the means change sign.

    References
    ----------
    .. [1] Muthen, B. (1984). A general structural equation model with
       dichotomous, ordered categorical, and continuous latent variable
       indicators. Psychometrika, 49(1), 115-132.
    .. [2] Olsson, U., Drasgow, F., & Dorans, N. J. (1982). The polyserial
       correlation coefficient. Psychometrika, 47(3), 337-347.
    """
    from .polychoric import polyserial_pair, polyserial_terms

    names = [str(v) for v in names]
    ordered = [v for v in names if v in set(ordered)]
    p = len(names)
    is_ord = np.array([v in set(ordered) for v in names])
    num_idx = [j for j in range(p) if not is_ord[j]]
    n = len(data)
    y = np.zeros((n, p))
    codes = np.zeros((n, p), dtype=np.int64)
    ncat = np.zeros(p, dtype=int)
    levs = [None] * p
    if ordered:
        od = encode_ordinal(data, ordered,
                            levels=None if levels is None else [levels[v] for v in ordered])
        for k, v in enumerate(ordered):
            j = names.index(v)
            codes[:, j] = od.codes[:, k]
            ncat[j] = od.ncat[k]
            levs[j] = od.levels[k]
    for j in num_idx:
        y[:, j] = data[names[j]].to_numpy(dtype=float)
    if np.isnan(y).any() or (codes[:, is_ord] == 0).any():
        raise ValueError("mixed_stats needs complete cases.")
    # step 1: univariate
    th_list, sc_list, var = [], [], np.ones(p)
    mean = np.zeros(p)
    sc_var = np.zeros((n, len(num_idx)))
    for j in range(p):
        if is_ord[j]:
            try:
                th = univariate_thresholds(codes[:, j], int(ncat[j]))
            except ValueError as exc:
                where = "" if group is None else f" in group {group!r}"
                raise ValueError(f"Ordinal variable {names[j]!r}{where}: {exc}") from None
            th_list.append(th)
            sc_list.append(_uni_scores(codes[:, j], th))
        else:
            mean[j] = y[:, j].mean()
            res = y[:, j] - mean[j]
            var[j] = np.mean(res * res)
            th_list.append(np.array([mean[j]]))
            sc_list.append((res / var[j])[:, None])
            sc_var[:, num_idx.index(j)] = -1.0 / (2.0 * var[j]) + res * res / (2.0 * var[j] ** 2)
    nth = np.array([t.size for t in th_list])
    end = np.cumsum(nth)
    start = end - nth
    T = int(end[-1])
    nvar = len(num_idx)
    sc_th = np.hstack(sc_list)
    # step 2: bivariate
    rows, cols = lower_index(p)
    pstar = rows.size
    cor = np.eye(p)
    sd = np.sqrt(var)
    ord_pos = [j for j in range(p) if is_ord[j]]
    if len(ord_pos) > 1:
        sub = polychoric_from_codes(codes[:, ord_pos], ncat[ord_pos],
                                    [th_list[j] for j in ord_pos])
        cor[np.ix_(ord_pos, ord_pos)] = sub
    sc_cor = np.zeros((n, pstar))
    a21 = np.zeros((pstar, T + nvar))
    h21 = np.zeros((pstar, T + nvar))
    h22 = np.ones(pstar)

    def vidx(j):
        return T + num_idx.index(j)

    oo = []
    for k, (i, j) in enumerate(zip(rows, cols)):
        ti, tj = slice(start[i], end[i]), slice(start[j], end[j])
        if not is_ord[i] and not is_ord[j]:
            y1c, y2c = y[:, i] - mean[i], y[:, j] - mean[j]
            rho = float(np.sum(y1c * y2c) / (n * sd[i] * sd[j]))
            cor[i, j] = cor[j, i] = rho
            r = 1.0 - rho * rho
            s12 = sd[i] * sd[j]
            z = y1c * y1c / var[i] - 2 * rho * y1c * y2c / s12 + y2c * y2c / var[j]
            sc = rho / r + (y1c * y2c / (s12 * r) - z * rho / (r * r))
            sc_cor[:, k] = sc
            a21[k, ti] = sc @ ((2 * y1c / var[i] - 2 * rho * y2c / s12) / (2 * r))
            a21[k, tj] = sc @ (-(2 * rho * y1c / s12 - 2 * y2c / var[j]) / (2 * r))
            dv1 = -(0.5 / var[i] - (y1c * y1c / var[i] ** 2
                                    - rho * y1c * y2c / (var[i] * s12)) / (2 * r))
            dv2 = -(0.5 / var[j] + (rho * y1c * y2c / (var[j] * s12)
                                    - y2c * y2c / var[j] ** 2) / (2 * r))
            a21[k, vidx(i)] = sc @ dv1
            a21[k, vidx(j)] = sc @ dv2
            h21[k, vidx(i)] = sd[j] * rho / (2 * sd[i])
            h21[k, vidx(j)] = sd[i] * rho / (2 * sd[j])
            h22[k] = s12
        elif is_ord[i] and is_ord[j]:
            oo.append(k)
        else:
            c, o = (i, j) if not is_ord[i] else (j, i)   # continuous, ordinal
            rho = polyserial_pair(y[:, c], codes[:, o], th_list[o], mean[c], var[c])
            cor[i, j] = cor[j, i] = rho
            t = polyserial_terms(y[:, c], codes[:, o], th_list[o], mean[c], var[c], rho)
            sc = t["dx_rho"]
            sc_cor[:, k] = sc
            a21[k, start[c]:end[c]] = sc @ t["dx_mu"]
            a21[k, start[o]:end[o]] = sc @ t["dx_th"]
            a21[k, vidx(c)] = sc @ t["dx_var"]
            h21[k, vidx(c)] = rho / (2 * sd[c])
            h22[k] = sd[c]
    if oo:
        oo = np.asarray(oo)
        kmax = int(ncat.max())
        tpad = padded_thresholds([th_list[j] if is_ord[j] else np.zeros(0) for j in range(p)],
                                 kmax - 1)
        ri, cj = rows[oo], cols[oo]
        d_rho, d_th1, d_th2 = _bi_cell_scores_many(tpad[ri], tpad[cj], cor[ri, cj])
        ci, cc = codes[:, ri], codes[:, cj]
        pidx = np.arange(oo.size)[None, :]
        s_rho = d_rho[pidx, ci - 1, cc - 1]
        s_th1 = d_th1[pidx, ci - 1, cc - 1]
        s_th2 = d_th2[pidx, ci - 1, cc - 1]
        sc_cor[:, oo] = s_rho
        m1 = np.einsum("np,npt->pt", s_rho, s_th1)
        m2 = np.einsum("np,npt->pt", s_rho, s_th2)
        for q, (k, i, j) in enumerate(zip(oo, ri, cj)):
            a21[k, start[i]:end[i]] = m1[q, :nth[i]]
            a21[k, start[j]:end[j]] = m2[q, :nth[j]]
    # Gamma = N H B^{-1} J B^{-T} H'
    sc = np.hstack([sc_th, sc_var, sc_cor])
    inner = sc.T @ sc
    na = T + nvar
    a11 = np.zeros((na, na))
    for j in range(p):
        idx = list(range(start[j], end[j])) + ([vidx(j)] if not is_ord[j] else [])
        a11[np.ix_(idx, idx)] = inner[np.ix_(idx, idx)]
    a11_inv = np.linalg.inv(a11)
    a22 = np.einsum("ij,ij->j", sc_cor, sc_cor)
    if np.any(a22 == 0):
        raise ValueError("Cannot compute the weight matrix: a correlation has no information "
                         "(a degenerate pair of variables).")
    b_inv = np.zeros((na + pstar, na + pstar))
    b_inv[:na, :na] = a11_inv
    b_inv[na:, na:] = np.diag(1.0 / a22)
    b_inv[na:, :na] = -(a21 / a22[:, None]) @ a11_inv
    w = b_inv @ inner @ b_inv.T
    h = np.eye(na + pstar)
    h[na:, :na] = h21
    h[na:, na:] = np.diag(h22)
    w = h @ w @ h.T
    flip = np.ones(na + pstar)
    num_th = np.asarray([start[j] for j in num_idx], dtype=int)
    flip[num_th] = -1.0
    gam = n * w * np.outer(flip, flip)
    covm = cor * np.outer(sd, sd)
    th_vec = np.concatenate(th_list)
    th_vec[num_th] = -th_vec[num_th]
    th_var = np.concatenate([np.full(t.size, j) for j, t in enumerate(th_list)])
    th_mean = np.zeros(T, dtype=bool)
    th_mean[num_th] = True
    zero_tables = []
    if len(ord_pos) > 1:
        for i, j in zip(rows, cols):
            if is_ord[i] and is_ord[j]:
                tab = pair_tables(codes, np.array([i]), np.array([j]), int(ncat.max()))[0]
                if np.any(tab[:ncat[j], :ncat[i]] == 0):
                    zero_tables.append((names[i], names[j]))
    return OrdinalStats(names=names, levels=levs, thresholds=th_vec, th_var=th_var,
                        polychoric=covm, gamma=0.5 * (gam + gam.T), nobs=int(n), group=group,
                        zero_cell_tables=zero_tables, th_mean=th_mean,
                        var_idx=tuple(num_idx), kind="mixed")
