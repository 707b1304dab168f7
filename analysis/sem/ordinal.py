"""Sample statistics for ordinal SEM: thresholds, polychorics and Gamma.

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

__all__ = ["OrdinalStats", "ordinal_stats", "lower_index"]

_BIG = 100.0  # lavaan's stand-in for +-infinity in the casewise scores


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

    @property
    def threshold_names(self) -> list:
        """lavaan's names ``x|t1``, ..."""
        out, count = [], {}
        for j in self.th_var:
            count[j] = count.get(j, 0) + 1
            out.append(f"{self.names[j]}|t{count[j]}")
        return out

    @property
    def correlation_names(self) -> list:
        """lavaan's names ``x1~~x2``, ... in ``WLS.obs`` order."""
        r, c = lower_index(len(self.names))
        return [f"{self.names[j]}~~{self.names[i]}" for i, j in zip(r, c)]

    @property
    def wls_names(self) -> list:
        """Names of the elements of :attr:`wls_obs`."""
        return self.threshold_names + self.correlation_names

    @property
    def wls_obs(self) -> np.ndarray:
        """The vector ``s``: thresholds then the strict lower polychorics."""
        r, c = lower_index(len(self.names))
        return np.concatenate([self.thresholds, self.polychoric[r, c]])

    @property
    def wls_v(self) -> np.ndarray:
        """DWLS weights: ``1 / diag(Gamma)`` (lavaan's ``WLS.VD``)."""
        return 1.0 / np.diag(self.gamma)

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
