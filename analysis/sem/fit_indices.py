"""Fit indices as lavaan 0.6.14's ``fitMeasures()`` reports them: the one home.

Every estimator of the SEM core (ML, MLR, FIML, DWLS/WLSMV, two-level ML)
computes its CFI, TLI, RMSEA (with its interval and the close / not-close
fit p-values) and SRMR here; the estimator modules only supply the test
statistics (plain, scaled, and the "robust" corrections of
:mod:`analysis.sem.robust`).

Conventions (lavaan's ``lav_fit_cfi``, ``lav_fit_tli``, ``lav_fit_rmsea``,
``lav_fit_rmsea_ci``, ``lav_fit_rmsea_closefit``,
``lav_fit_rmsea_notclosefit``) that matter for saturated models (df = 0)
and for missing corrections:

* an index is NaN when one of its inputs is NaN (``anyNA``); an infinite
  input is *not* NaN (lavaan's FIML-corrected / catML ``c.hat = k / df``
  is ``k / 0 = Inf`` at df = 0, and the index then follows its df = 0 rule);
* df = 0: CFI 1 (when the numerator is 0), TLI 1, RMSEA 0, interval
  (0, 0), p-values NaN.  These rules are the same for every estimator;
  what differs between estimators at df = 0 is only which inputs are NaN
  (e.g. MLR's scaling factor, so ``cfi_robust`` is NaN under complete-data
  MLR but 1 under FIML; ``rmsea_scaled`` is NaN under MLR, whose scaled
  RMSEA uses ``df = tr(U Gamma)``, which lavaan does not compute at
  df = 0, but 0 under WLSMV, whose scaled RMSEA uses the model df).

Key names follow lavaan's with ``_`` for ``.`` (``rmsea_ci_lower``,
``cfi_robust``, ``rmsea_ci_upper_scaled``, ...); ``loglik`` is lavaan's
``logl``.

References
----------
.. [1] Bentler, P. M. (1990). Comparative fit indexes in structural models.
   Psychological Bulletin, 107, 238-246 (CFI).
.. [2] Tucker, L. R., & Lewis, C. (1973). A reliability coefficient for
   maximum likelihood factor analysis. Psychometrika, 38, 1-10 (TLI).
.. [3] Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing
   model fit. In K. A. Bollen & J. S. Long (Eds.), Testing Structural
   Equation Models (pp. 136-162). Sage (RMSEA and its interval).
.. [4] Steiger, J. H. (1998). A note on multiple sample extensions of the
   RMSEA fit index. Structural Equation Modeling, 5, 411-419 (the sqrt(G)
   rule).
.. [5] Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in
   covariance structure analysis. Structural Equation Modeling, 6, 1-55
   (SRMR).
.. [6] Brosseau-Liard, P. E., Savalei, V., & Li, L. (2012). An investigation
   of the sample performance of two nonnormality corrections for RMSEA.
   Multivariate Behavioral Research, 47(6), 904-930 (robust RMSEA).
.. [7] Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit
   indices for nonnormality. Multivariate Behavioral Research, 49(5),
   460-470 (robust CFI/TLI).
.. [8] Savalei, V. (2018). On the computation of the RMSEA and CFI from the
   mean-and-variance corrected test statistic with nonnormal data in SEM.
   Multivariate Behavioral Research, 53(3), 419-429 (robust indices after
   the scaled-shifted test).
.. [9] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .distributions import pchisq as _pchisq
from .optimize import brentq

__all__ = [
    "baseline_chisq", "cfi", "tli", "rmsea", "rmsea_ci", "rmsea_pvalue",
    "rmsea_notclose_pvalue", "srmr_bentler", "srmr", "srmr_correlation", "srmr_twolevel",
    "cfi_tli", "rmsea_set", "scaled_indices", "robust_indices", "fit_measures", "pchisq",
]

_NAN = float("nan")


def _isnan(*values) -> bool:
    """lavaan's ``anyNA``: True when a value is None or NaN (infinity is not NaN)."""
    return any(v is None or (isinstance(v, (float, int, np.floating, np.integer))
                             and math.isnan(float(v))) for v in values)


def _finite(*values) -> bool:
    return all(v is not None and math.isfinite(float(v)) for v in values)


# --------------------------------------------------------------------------
# the baseline (independence) model of ML
# --------------------------------------------------------------------------
def baseline_chisq(cov_list, nobs, x_idx=()) -> tuple[float, int]:
    """Chi-square and df of lavaan's independence (baseline) model (ML).

    Parameters
    ----------
    cov_list : list of ndarray
        Sample covariances (divisor N) per group.
    nobs : list of int
    x_idx : sequence of int
        Indices of fixed-x covariates, whose covariances stay free.

    Returns
    -------
    chisq, df : float, int

    Notes
    -----
    Per group :math:`N_g(\\log|S_0| - \\log|S|)` where :math:`S_0` keeps the
    variances (and the covariance block of fixed-x covariates) and sets the
    other covariances to 0; df :math:`= \\sum_g [p(p-1)/2 - p_x(p_x-1)/2]`.
    """
    chisq, df = 0.0, 0
    x_idx = list(x_idx)
    for s, n in zip(cov_list, nobs):
        p = s.shape[0]
        s0 = np.diag(np.diag(s))
        if x_idx:
            s0[np.ix_(x_idx, x_idx)] = s[np.ix_(x_idx, x_idx)]
        ld0 = np.linalg.slogdet(s0)[1]
        ld = np.linalg.slogdet(s)[1]
        chisq += n * (ld0 - ld)
        px = len(x_idx)
        df += p * (p - 1) // 2 - px * (px - 1) // 2
    return float(chisq), int(df)


# --------------------------------------------------------------------------
# CFI, TLI
# --------------------------------------------------------------------------
def _corrected(df, c_hat, c_hat_null) -> bool:
    """lavaan uses the c-hat corrected formulas only when df > 0 and both c-hats differ from 1."""
    return c_hat is not None and c_hat_null is not None and df > 0 and c_hat != 1 and c_hat_null != 1


def cfi(chisq, df, chisq_null, df_null, c_hat=None, c_hat_null=None) -> float:
    """Comparative fit index [1]_ (lavaan ``lav_fit_cfi``), robust with ``c_hat`` [7]_.

    Parameters
    ----------
    chisq, df : float
        Test statistic of the model and its df.
    chisq_null, df_null : float
        The same for the baseline model.
    c_hat, c_hat_null : float, optional
        Scaling corrections of the robust CFI (Brosseau-Liard & Savalei):
        the scaling factor of the model and of the baseline, or the
        FIML-corrected / catML ones.

    Returns
    -------
    float
        :math:`1 - t_1/t_2`, :math:`t_1 = \\max(X^2 - c\\,df, 0)`,
        :math:`t_2 = \\max(X^2 - c\\,df, X^2_0 - c_0 df_0, 0)`; 1 when both
        are 0; NaN when an input is NaN.  The corrected terms are used only
        when df > 0 and both c-hats differ from 1 (lavaan's rule).
    """
    if _isnan(chisq, df, chisq_null, df_null, *[c for c in (c_hat, c_hat_null) if c is not None]):
        return _NAN
    if _corrected(df, c_hat, c_hat_null):
        t1 = max(chisq - c_hat * df, 0.0)
        t2 = max(chisq - c_hat * df, chisq_null - c_hat_null * df_null, 0.0)
    else:
        t1 = max(chisq - df, 0.0)
        t2 = max(chisq - df, chisq_null - df_null, 0.0)
    # R's isTRUE(all.equal(t, 0)): absolute difference below 1.5e-8
    if abs(t1) < 1.5e-8 and abs(t2) < 1.5e-8:
        return 1.0
    return float(1.0 - t1 / t2)


def tli(chisq, df, chisq_null, df_null, c_hat=None, c_hat_null=None) -> float:
    """Tucker-Lewis index [2]_ (lavaan ``lav_fit_tli``), robust with ``c_hat`` [7]_.

    Returns
    -------
    float
        :math:`1 - t_1/t_2`, :math:`t_1 = (X^2 - c\\,df)\\,df_0`,
        :math:`t_2 = (X^2_0 - c_0 df_0)\\,df` when df > 0 and
        :math:`t_2 \\ne 0`; otherwise 1 (so 1 at df = 0), NaN when an input
        is NaN or a term is not finite.
    """
    if _isnan(chisq, df, chisq_null, df_null, *[c for c in (c_hat, c_hat_null) if c is not None]):
        return _NAN
    if _corrected(df, c_hat, c_hat_null):
        t1 = (chisq - c_hat * df) * df_null
        t2 = (chisq_null - c_hat_null * df_null) * df
    else:
        t1 = (chisq - df) * df_null
        t2 = (chisq_null - df_null) * df
    if df > 0 and abs(t2) > 0:
        return float(1.0 - t1 / t2)
    if not (math.isfinite(t1) and math.isfinite(t2)):
        return _NAN
    return 1.0


def cfi_tli(chisq, df, chisq_null, df_null, c_hat=None, c_hat_null=None, suffix="") -> dict:
    """``{"cfi" + suffix: ..., "tli" + suffix: ...}`` (see :func:`cfi`, :func:`tli`)."""
    return {"cfi" + suffix: cfi(chisq, df, chisq_null, df_null, c_hat, c_hat_null),
            "tli" + suffix: tli(chisq, df, chisq_null, df_null, c_hat, c_hat_null)}


# --------------------------------------------------------------------------
# RMSEA
# --------------------------------------------------------------------------
def rmsea(chisq, df, ntotal, ngroups=1, c_hat=1.0) -> float:
    """RMSEA [3]_: ``sqrt(G) sqrt(max(X2/(N df) - c/N, 0))`` [4]_ (lavaan ``lav_fit_rmsea``).

    Returns
    -------
    float
        0 when df <= 0 (whatever the other inputs), NaN when df is NaN or,
        with df > 0, when ``chisq`` or ``c_hat`` is NaN.  ``c_hat`` is the
        correction of the robust RMSEA [6]_ (1 for the plain one).
    """
    if _isnan(df):
        return _NAN
    if df <= 0:
        return 0.0
    if _isnan(chisq, c_hat, ntotal):
        return _NAN
    return math.sqrt(max(chisq / ntotal / df - c_hat / ntotal, 0.0)) * math.sqrt(ngroups)


def pchisq(q, df, ncp=0.0, lower_tail=True) -> float:
    """Distribution function of the (noncentral) chi-square, R's ``pchisq(q, df, ncp, lower.tail)``.

    Computed without SciPy by :func:`analysis.sem.distributions.pchisq` (see
    there).  NaN when ``q`` is NaN, ``df <= 0`` or ``ncp < 0``; ``q <= 0``
    gives 0 (upper tail 1), ``q = inf`` gives 1 (upper tail 0).
    """
    return _pchisq(q, df, ncp, lower_tail)


def rmsea_ci(chisq, df, ntotal, ngroups=1, c_hat=1.0, level=0.90) -> tuple[float, float]:
    """Confidence interval of the RMSEA [3]_ (lavaan ``lav_fit_rmsea_ci``).

    Returns
    -------
    lower, upper : float
        NaN when ``chisq``, ``df`` or ``ntotal`` is not finite; (0, 0) when
        df < 1.  The lower limit solves ``pchisq(X2, df, ncp = lambda) =
        (1 + level)/2`` on ``[0, X2]``, the upper ``= (1 - level)/2`` on
        ``[0, max(N, 4 X2)]``; a limit is 0 when ``pchisq(X2, df)`` is already
        below its target (the upper also when ``pchisq(X2, df, max(N, 4 X2))``
        is above it), NaN when the root finder fails (lavaan's rules); each is
        ``sqrt(c lambda/(N df)) sqrt(G)``.
    """
    if not _finite(chisq, df, ntotal):
        return _NAN, _NAN
    hi_p, lo_p = 1.0 - (1.0 - level) / 2.0, (1.0 - level) / 2.0

    def cdf(lam):
        return pchisq(chisq, df, max(lam, 0.0))

    def limit(lam):
        value = c_hat * lam / (ntotal * df)
        return math.sqrt(value * ngroups) if value >= 0 else _NAN  # NaN stays NaN

    def root(target, upper):
        try:
            return brentq(lambda lam: cdf(lam) - target, 0.0, upper, xtol=1e-12,
                          rtol=4 * np.finfo(float).eps, maxiter=1000)
        except ValueError:  # not bracketed: lavaan's try(uniroot()) gives NA
            return _NAN

    if df < 1 or cdf(0.0) - hi_p < 0:
        lower = 0.0
    else:
        lower = limit(root(hi_p, chisq))
    n_rmsea = max(ntotal, chisq * 4)
    if df < 1 or cdf(n_rmsea) - lo_p > 0 or cdf(0.0) - lo_p < 0:
        upper = 0.0
    else:
        upper = limit(root(lo_p, n_rmsea))
    return float(lower), float(upper)


def _ncp(chisq, df, ntotal, ngroups, c_hat, h0) -> float:
    """Non-centrality ``N df h0^2 / (c G)`` of the RMSEA p-values; NaN where lavaan gives NA."""
    if not _finite(chisq, df, ntotal) or not df > 0 or _isnan(c_hat):
        return _NAN
    return ntotal * df / c_hat * h0 ** 2 / ngroups


def rmsea_pvalue(chisq, df, ntotal, ngroups=1, c_hat=1.0, h0=0.05) -> float:
    """P-value of close fit, ``P(X2' >= X2)`` under ncp ``N df h0^2 / (c G)`` (lavaan ``lav_fit_rmsea_closefit``).

    NaN when an input is not finite or df = 0.
    """
    ncp = _ncp(chisq, df, ntotal, ngroups, c_hat, h0)
    if _isnan(ncp):
        return _NAN
    return pchisq(chisq, df, ncp, lower_tail=False)


def rmsea_notclose_pvalue(chisq, df, ntotal, ngroups=1, c_hat=1.0, h0=0.08) -> float:
    """P-value of not-close fit, ``P(X2' <= X2)`` under ncp ``N df h0^2 / (c G)`` (lavaan ``lav_fit_rmsea_notclosefit``)."""
    ncp = _ncp(chisq, df, ntotal, ngroups, c_hat, h0)
    if _isnan(ncp):
        return _NAN
    return pchisq(chisq, df, ncp)


def rmsea_set(chisq, df, ntotal, ngroups=1, c_hat=1.0, chisq_ci=None, suffix="", level=0.90,
              close_h0=0.05, notclose_h0=0.08, c_hat_ci=None) -> dict:
    """RMSEA, its interval and the close / not-close p-values, keys with ``suffix``.

    Parameters
    ----------
    chisq, df, ntotal, ngroups, c_hat
        See :func:`rmsea`.
    chisq_ci : float, optional
        Statistic of the interval and p-values when it differs from the
        point estimate's (the robust RMSEA: ``X2 / c`` there, ``X2`` here).
    suffix : str
        ``""``, ``"_scaled"`` or ``"_robust"``.
    c_hat_ci : float, optional
        Correction of the interval and p-values when it differs from the
        point estimate's (default ``c_hat``; see :func:`robust_indices`).

    Returns
    -------
    dict
        ``rmsea, rmsea_ci_lower, rmsea_ci_upper, rmsea_pvalue,
        rmsea_notclose_pvalue`` (each + suffix).
    """
    x_ci = chisq if chisq_ci is None else chisq_ci
    c_ci = c_hat if c_hat_ci is None else c_hat_ci
    lo, hi = rmsea_ci(x_ci, df, ntotal, ngroups, c_ci, level)
    return {
        "rmsea" + suffix: rmsea(chisq, df, ntotal, ngroups, c_hat),
        "rmsea_ci_lower" + suffix: lo,
        "rmsea_ci_upper" + suffix: hi,
        "rmsea_pvalue" + suffix: rmsea_pvalue(x_ci, df, ntotal, ngroups, c_ci, close_h0),
        "rmsea_notclose_pvalue" + suffix: rmsea_notclose_pvalue(x_ci, df, ntotal, ngroups, c_ci,
                                                                notclose_h0),
    }


# --------------------------------------------------------------------------
# SRMR
# --------------------------------------------------------------------------
def srmr_bentler(s, m, sigma, mu, meanstructure: bool = True) -> float:
    """SRMR of one group, Bentler's version (lavaan's ``srmr_bentler``) [5]_.

    Parameters
    ----------
    s, m : array-like
        Observed (FIML: the EM; ordinal: the polychoric) covariance matrix and
        mean vector (``m`` unused without ``meanstructure``).
    sigma, mu : array-like
        Model-implied covariance matrix and mean vector.
    meanstructure : bool, default True
        Include the standardized mean residuals (lavaan's ``srmr_bentler``;
        False: ``srmr_bentler_nomean``).

    Returns
    -------
    float

    Notes
    -----
    Residuals standardized by the observed standard deviations,
    :math:`r_{ij} = (s_{ij}-\\sigma_{ij})/\\sqrt{s_{ii}s_{jj}}` over the lower
    triangle with diagonal and :math:`r_i = (m_i - \\mu_i)/\\sqrt{s_{ii}}`;
    :math:`\\sqrt{(\\sum r_{ij}^2 + \\sum r_i^2)/(p^* + p)}` (without the mean
    terms: divided by :math:`p^* = p(p+1)/2`).
    """
    s = np.asarray(s, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    sd = np.sqrt(np.diag(s))
    res = (s - sigma) / np.outer(sd, sd)
    r, c = np.tril_indices(s.shape[0])
    ss = float(np.sum(res[r, c] ** 2))
    e = len(r)
    if meanstructure:
        rm = (np.asarray(m, dtype=float) - np.asarray(mu, dtype=float)) / sd
        ss += float(np.sum(rm ** 2))
        e += s.shape[0]
    return math.sqrt(ss / e)


def srmr(cov_list, mean_list, sigma_list, mu_list, nobs, meanstructure=None) -> float:
    """lavaan's ``srmr`` of a single-level fit: the N-weighted mean of :func:`srmr_bentler`.

    Parameters
    ----------
    cov_list, mean_list : list of ndarray
        Sample (FIML: EM; ordinal: polychoric) moments per group
        (``mean_list`` may be None without a mean structure).
    sigma_list, mu_list : list of ndarray
        Implied moments per group (``mu_list`` None, or entries None,
        without a mean structure).
    nobs : list of int
    meanstructure : bool, optional
        Default: True when implied means are given.  lavaan's ``srmr`` is
        ``srmr_bentler`` (means included) for continuous data and
        ``srmr_bentler_nomean`` for ordinal data (pass False: thresholds are
        not counted).

    Returns
    -------
    float
        :math:`\\sum_g (N_g/N)\\,\\mathrm{SRMR}_g`.
    """
    ng = len(cov_list)
    mean_list = [None] * ng if mean_list is None else mean_list
    mu_list = [None] * ng if mu_list is None else mu_list
    vals = []
    for s, xbar, sig, mu in zip(cov_list, mean_list, sigma_list, mu_list):
        ms = (mu is not None) if meanstructure is None else bool(meanstructure)
        vals.append(srmr_bentler(s, xbar, sig, mu, meanstructure=ms))
    w = np.asarray(nobs, float)
    return float(np.dot(w, vals) / w.sum())


def srmr_correlation(s, sigma) -> float:
    """SRMR of correlation residuals ``vech(cov2cor(S) - cov2cor(Sigma))`` over ``p(p+1)/2``.

    NaN when an implied variance is not positive (lavaan's
    ``lav_fit_srmr_twolevel``, one level).
    """
    s = np.asarray(s, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    if not np.all(np.diag(sigma) > 0):
        return _NAN

    def cor(a):
        d = 1.0 / np.sqrt(np.diag(a))
        return a * np.outer(d, d)

    r = cor(s) - cor(sigma)
    iu = np.tril_indices(s.shape[0])
    return math.sqrt(float(np.sum(r[iu] ** 2)) / len(iu[0]))


def srmr_twolevel(s_within, sigma_within, s_between, sigma_between) -> tuple[float, float, float]:
    """lavaan's ``srmr``, ``srmr_within``, ``srmr_between`` of a two-level fit.

    Parameters
    ----------
    s_within, s_between : ndarray
        Saturated (EM) covariance matrices of each level.
    sigma_within, sigma_between : ndarray
        Implied covariance matrices (lavaan makes the between one positive
        definite first: pass it so).

    Returns
    -------
    total, within, between : float
        :func:`srmr_correlation` at each level; ``total = within + between``
        (``lav_fit_srmr_twolevel``).
    """
    w = srmr_correlation(s_within, sigma_within)
    b = srmr_correlation(s_between, sigma_between)
    return w + b, w, b


# --------------------------------------------------------------------------
# sets of indices: plain, scaled, robust
# --------------------------------------------------------------------------
def _pvalue(chisq, df) -> float:
    if not _finite(chisq, df) or not df > 0:
        return _NAN
    return pchisq(chisq, df, lower_tail=False)


def scaled_indices(*, chisq_scaled, df_scaled, baseline_chisq_scaled, baseline_df_scaled,
                   rmsea_chisq, rmsea_df, ntotal, ngroups=1, level=0.90) -> dict:
    """CFI, TLI and RMSEA of a scaled test (lavaan's ``*.scaled`` measures).

    Parameters
    ----------
    chisq_scaled, df_scaled : float
        The scaled statistic and its df.
    baseline_chisq_scaled, baseline_df_scaled : float
        The same for the baseline model.
    rmsea_chisq, rmsea_df : float
        What lavaan puts into ``rmsea.scaled``: the scaled statistic on the
        model df after the scaled-shifted test (WLSMV), otherwise the
        *unscaled* statistic on ``df = tr(U Gamma)`` (NaN at df = 0, where
        lavaan does not compute the trace).
    ntotal, ngroups : int
        N of the RMSEA (N - G for DWLS/WLSMV, as lavaan) and the groups.

    Returns
    -------
    dict
        ``cfi_scaled, tli_scaled, rmsea_scaled, rmsea_ci_lower_scaled,
        rmsea_ci_upper_scaled, rmsea_pvalue_scaled,
        rmsea_notclose_pvalue_scaled``.
    """
    out = cfi_tli(chisq_scaled, df_scaled, baseline_chisq_scaled, baseline_df_scaled,
                  suffix="_scaled")
    out.update(rmsea_set(rmsea_chisq, rmsea_df, ntotal, ngroups, suffix="_scaled", level=level))
    return out


def robust_indices(*, chisq, df, c_hat, chisq_scaled, baseline_chisq, baseline_df,
                   c_hat_null, ntotal, ngroups=1, df_robust=None, c_hat_ci=None,
                   level=0.90) -> dict:
    """Robust CFI, TLI [7]_ and RMSEA [6]_ [8]_ (lavaan's ``*.robust`` measures).

    Parameters
    ----------
    chisq : float
        ``XX3``: the model statistic (complete data: the ML/DWLS statistic;
        FIML: the complete-data statistic at the EM moments; WLSMV: the catML
        statistic).
    df : float
        Model df (of the CFI/TLI).
    c_hat : float
        ``c.hat3``: the scaling factor (complete-data MLR), the FIML-corrected
        or catML correction; NaN where lavaan has none (MLR at df = 0).
    chisq_scaled : float
        ``XX3.scaled``, the statistic of the RMSEA interval and p-values
        (lavaan uses the scaled test statistic there for complete-data MLR,
        ``XX3 / c.hat3`` for FIML and catML).
    baseline_chisq, baseline_df, c_hat_null : float
        ``XX3.null``, the baseline df and the baseline correction.
    ntotal, ngroups : int
    df_robust : float, optional
        ``df3`` of the RMSEA (default ``df``).
    c_hat_ci : float, optional
        Correction of the robust RMSEA's interval and p-values (default
        ``c_hat``).  lavaan uses a different one only after a scaled-shifted
        test on continuous data: ``c_hat = a (df - b)/df`` (scaling factor
        ``a``, shift ``b``) for the CFI/TLI and the point RMSEA, but ``a`` for
        the interval and p-values.

    Returns
    -------
    dict
        ``cfi_robust, tli_robust, rmsea_robust, rmsea_ci_lower_robust,
        rmsea_ci_upper_robust, rmsea_pvalue_robust,
        rmsea_notclose_pvalue_robust``.

    Notes
    -----
    :math:`\\mathrm{CFI} = 1 - \\max(X^2 - \\hat c\\,df, 0)/\\max(X^2 - \\hat c\\,df,
    X^2_0 - \\hat c_0 df_0, 0)`, :math:`\\mathrm{RMSEA} = \\sqrt G\\sqrt{\\max(X^2/(N
    df) - \\hat c/N, 0)}`; the interval inverts the non-central
    chi-square of :math:`X^2/\\hat c` and multiplies :math:`\\lambda` by
    :math:`\\hat c` (lavaan ``lav_fit_cfi_lavobject``,
    ``lav_fit_rmsea_lavobject``).
    """
    df3 = df if df_robust is None else df_robust
    out = cfi_tli(chisq, df, baseline_chisq, baseline_df, c_hat, c_hat_null, suffix="_robust")
    out.update(rmsea_set(chisq, df3, ntotal, ngroups, c_hat=c_hat, chisq_ci=chisq_scaled,
                         suffix="_robust", level=level, c_hat_ci=c_hat_ci))
    return out


def fit_measures(*, chisq, df, npar, ntotal, ngroups, loglik, loglik_h1,
                 chisq_b, df_b, srmr_value, fmin, rmsea_n=None, level=0.90) -> pd.Series:
    """The plain (unscaled) fit measures of any estimator, lavaan-named.

    Parameters
    ----------
    chisq, df : float
        The model test.
    npar : int
    ntotal, ngroups : int
    loglik, loglik_h1 : float
        NaN for least-squares estimators (AIC, BIC, BIC2 are then NaN).
    chisq_b, df_b : float
        The baseline test.
    srmr_value : float
        From :func:`srmr` (or :func:`srmr_twolevel`).
    fmin : float
    rmsea_n : int, optional
        N of the RMSEA (default ``ntotal``; N - G for DWLS/WLSMV, as lavaan).

    Returns
    -------
    pandas.Series
        ``npar, fmin, chisq, df, pvalue, baseline_chisq, baseline_df,
        baseline_pvalue, cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper,
        rmsea_pvalue, rmsea_notclose_pvalue, srmr, loglik,
        unrestricted_loglik, aic, bic, bic2, nobs``.

    Notes
    -----
    ``AIC = -2 logL + 2 npar``, ``BIC = -2 logL + npar log N``, ``BIC2``
    uses ``log((N + 2)/24)``; p-values are NaN at df = 0.
    """
    n_rm = ntotal if rmsea_n is None else rmsea_n
    out = {
        "npar": npar,
        "fmin": fmin,
        "chisq": chisq,
        "df": df,
        "pvalue": _pvalue(chisq, df),
        "baseline_chisq": chisq_b,
        "baseline_df": df_b,
        "baseline_pvalue": _pvalue(chisq_b, df_b),
    }
    out.update(cfi_tli(chisq, df, chisq_b, df_b))
    out.update(rmsea_set(chisq, df, n_rm, ngroups, level=level))
    out.update({
        "srmr": srmr_value,
        "loglik": loglik,
        "unrestricted_loglik": loglik_h1,
        "aic": -2 * loglik + 2 * npar,
        "bic": -2 * loglik + npar * math.log(ntotal),
        "bic2": -2 * loglik + npar * math.log((ntotal + 2) / 24),
        "nobs": ntotal,
    })
    return pd.Series(out, dtype=float)
