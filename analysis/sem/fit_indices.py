"""Fit indices as lavaan's ``fitMeasures()`` reports them (ML).

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
.. [6] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = ["baseline_chisq", "rmsea", "rmsea_ci", "srmr", "cfi", "tli", "fit_measures"]


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


def cfi(chisq, df, chisq_b, df_b) -> float:
    """Comparative fit index [1]_: ``1 - max(X2-df,0)/max(X2-df, X2b-dfb, 0)``."""
    num = max(chisq - df, 0.0)
    den = max(chisq - df, chisq_b - df_b, 0.0)
    return 1.0 if den == 0 else 1.0 - num / den


def tli(chisq, df, chisq_b, df_b) -> float:
    """Tucker-Lewis index [2]_: ``(X2b/dfb - X2/df) / (X2b/dfb - 1)``."""
    if df == 0:
        return 1.0
    t1 = chisq_b / df_b
    return (t1 - chisq / df) / (t1 - 1.0)


def rmsea(chisq, df, ntotal, ngroups=1) -> float:
    """RMSEA [3]_: ``sqrt(max(X2/(N df) - 1/N, 0)) * sqrt(G)`` [4]_."""
    if df < 0:
        return float("nan")
    if df == 0:
        return 0.0
    return math.sqrt(max(chisq / (ntotal * df) - 1.0 / ntotal, 0.0)) * math.sqrt(ngroups)


def rmsea_ci(chisq, df, ntotal, ngroups=1, level=0.90) -> tuple[float, float]:
    """90% interval of the RMSEA by non-central chi-square inversion [3]_.

    Notes
    -----
    The lower limit solves ``pchisq(X2, df, ncp=lambda) = (1+level)/2``,
    the upper ``= (1-level)/2``; each limit is ``sqrt(lambda/(N df)) *
    sqrt(G)``, and 0 when ``pchisq(X2, df, 0)`` is already below the target
    (lavaan's rule).
    """
    if df < 0:
        return float("nan"), float("nan")
    if df == 0:
        return 0.0, 0.0
    hi_p, lo_p = (1 + level) / 2, (1 - level) / 2

    def solve(target):
        fun = lambda lam: stats.ncx2.cdf(chisq, df, lam) - target if lam > 0 else stats.chi2.cdf(chisq, df) - target  # noqa: E731
        if fun(0.0) < 0:
            return 0.0
        upper = max(chisq, 1.0)
        while fun(upper) > 0:
            upper *= 2.0
        return optimize.brentq(fun, 0.0, upper, xtol=1e-12, rtol=1e-12, maxiter=500)

    lam_l = solve(hi_p)
    lam_u = solve(lo_p)
    g = math.sqrt(ngroups)
    return (math.sqrt(lam_l / (ntotal * df)) * g, math.sqrt(lam_u / (ntotal * df)) * g)


def srmr(cov_list, mean_list, sigma_list, mu_list, nobs) -> float:
    """SRMR as lavaan's ``fitMeasures()["srmr"]`` (Bentler's version) [5]_.

    Parameters
    ----------
    cov_list, mean_list : list of ndarray
        Sample moments per group.
    sigma_list, mu_list : list of ndarray
        Implied moments per group (``mu`` None without a mean structure).
    nobs : list of int

    Notes
    -----
    Per group, with :math:`D = \\operatorname{diag}(S)^{-1/2}`, the residuals
    :math:`D(S-\\Sigma)D` on and below the diagonal (and, with a mean
    structure, :math:`D(\\bar x - \\mu)`) are squared, averaged over their
    number ``p(p+1)/2`` (+ ``p``) and square-rooted; groups are combined as
    the ``N_g``-weighted mean.
    """
    vals = []
    for s, xbar, sig, mu in zip(cov_list, mean_list, sigma_list, mu_list):
        d = 1.0 / np.sqrt(np.diag(s))
        r = (s - sig) * np.outer(d, d)
        p = s.shape[0]
        iu = np.tril_indices(p)
        ss = float(np.sum(r[iu] ** 2))
        e = p * (p + 1) / 2
        if mu is not None:
            ss += float(np.sum(((xbar - mu) * d) ** 2))
            e += p
        vals.append(math.sqrt(ss / e))
    w = np.asarray(nobs, float)
    return float(np.dot(w, vals) / w.sum())


def fit_measures(*, chisq, df, npar, ntotal, ngroups, loglik, loglik_h1,
                 chisq_b, df_b, srmr_value, fmin) -> pd.Series:
    """Collect the fit measures into lavaan-named entries.

    Returns
    -------
    pandas.Series
        ``npar, fmin, chisq, df, pvalue, baseline_chisq, baseline_df,
        baseline_pvalue, cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper,
        rmsea_pvalue, srmr, loglik, unrestricted_loglik, aic, bic, bic2,
        nobs``.

    Notes
    -----
    ``AIC = -2 logL + 2 npar``, ``BIC = -2 logL + npar log N``, ``BIC2``
    uses ``log((N + 2)/24)``; the RMSEA p-value is the probability of close
    fit, ``1 - pchisq(X2, df, ncp = N df 0.05^2 / G)``.
    """
    pvalue = float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan")
    lo, hi = rmsea_ci(chisq, df, ntotal, ngroups)
    if df > 0:
        ncp = ntotal * df * 0.05 ** 2 / ngroups
        rm_p = float(stats.ncx2.sf(chisq, df, ncp))
    else:
        rm_p = float("nan")
    out = {
        "npar": npar,
        "fmin": fmin,
        "chisq": chisq,
        "df": df,
        "pvalue": pvalue,
        "baseline_chisq": chisq_b,
        "baseline_df": df_b,
        "baseline_pvalue": float(stats.chi2.sf(chisq_b, df_b)) if df_b > 0 else float("nan"),
        "cfi": cfi(chisq, df, chisq_b, df_b),
        "tli": tli(chisq, df, chisq_b, df_b),
        "rmsea": rmsea(chisq, df, ntotal, ngroups),
        "rmsea_ci_lower": lo,
        "rmsea_ci_upper": hi,
        "rmsea_pvalue": rm_p,
        "srmr": srmr_value,
        "loglik": loglik,
        "unrestricted_loglik": loglik_h1,
        "aic": -2 * loglik + 2 * npar,
        "bic": -2 * loglik + npar * math.log(ntotal),
        "bic2": -2 * loglik + npar * math.log((ntotal + 2) / 24),
        "nobs": ntotal,
    }
    return pd.Series(out, dtype=float)
