"""Reliability: Cronbach's alpha (with Feldt's interval), omega, composite reliability, AVE.

Alpha needs only the data. Omega, composite reliability (CR) and the average
variance extracted (AVE) need a fitted CFA (``analysis.sem.cfa``) and the data
it was fitted to; they reproduce semTools 0.5.6 ``compRelSEM`` and ``AVE``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .descriptives import _select

__all__ = ["cronbach_alpha", "model_matrices", "cfa_reliability", "higher_order_reliability",
           "reliability_table"]


def cronbach_alpha(data: pd.DataFrame, items=None, *, ci: float = 0.95,
                   nan_policy: str = "pairwise") -> pd.Series:
    """Cronbach's alpha with Feldt's confidence interval.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    items : list of str, optional
        Item columns (default: all columns), at least two.
    ci : float
        Confidence level of the interval.
    nan_policy : {"pairwise", "listwise"}
        Pairwise-complete covariances (psych's default) or complete rows.

    Returns
    -------
    pandas.Series
        ``alpha, std_alpha, ci_lower, ci_upper, n, n_items``; ``n`` is the
        number of rows used (all rows under ``pairwise``).

    Notes
    -----
    With item covariance matrix :math:`C` of :math:`k` items:

    .. math:: \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\mathrm{tr}\\,C}{\\mathbf 1'C\\mathbf 1}\\right),

    ``std_alpha`` is :math:`k\\bar r/(1+(k-1)\\bar r)` with :math:`\\bar r` the mean
    off-diagonal element of :math:`C` rescaled to unit diagonal (as psych). Feldt's interval:
    :math:`1-(1-\\alpha)F_{1-a/2}` to :math:`1-(1-\\alpha)F_{a/2}` with
    :math:`F` on :math:`(n-1, (n-1)(k-1)` df. In R: ``psych::alpha(x)`` and
    ``psych::alpha.ci(alpha, n.obs, n.var)``.

    References
    ----------
    .. [1] Cronbach, L. J. (1951). Coefficient alpha and the internal
       structure of tests. *Psychometrika*, 16(3), 297-334.
    .. [2] Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical
       inference for coefficient alpha. *Applied Psychological Measurement*,
       11(1), 93-103.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [1, 2, 3, 4, 5]})
    >>> float(cronbach_alpha(df)["alpha"])
    1.0
    """
    frame = _select(data, items)
    k = frame.shape[1]
    if k < 2:
        raise ValueError("alpha needs at least two items")
    if nan_policy not in ("pairwise", "listwise"):
        raise ValueError("nan_policy must be 'pairwise' or 'listwise'")
    if not 0 < ci < 1:
        raise ValueError("ci must be between 0 and 1")
    if nan_policy == "listwise":
        frame = frame.dropna()
    n = len(frame)
    if n < 3:
        raise ValueError("alpha needs at least three respondents")
    c = frame.cov().to_numpy()
    if np.isnan(c).any():
        raise ValueError("some pairs of items have no common answers")
    r = c / np.sqrt(np.outer(np.diag(c), np.diag(c)))
    alpha = k / (k - 1) * (1 - np.trace(c) / c.sum())
    rbar = (r.sum() - k) / (k * (k - 1))
    std_alpha = k * rbar / (1 + (k - 1) * rbar)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    a = 1 - ci
    lower = 1 - (1 - alpha) * stats.f.ppf(1 - a / 2, df1, df2)
    upper = 1 - (1 - alpha) * stats.f.ppf(a / 2, df1, df2)
    return pd.Series({"alpha": alpha, "std_alpha": std_alpha, "ci_lower": lower,
                      "ci_upper": upper, "n": n, "n_items": k})


def model_matrices(estimates: pd.DataFrame, group=None) -> dict:
    """LISREL-style matrices of a fitted CFA/SEM from its tidy estimates.

    Parameters
    ----------
    estimates : pandas.DataFrame
        ``SEMResult.estimates`` (columns ``lhs, op, rhs, est`` and optionally
        ``group``).
    group : optional
        Which group of a multi-group fit (default: the first).

    Returns
    -------
    dict
        ``observed`` (list), ``latent`` (list), ``lambda`` (observed x latent
        DataFrame), ``beta`` (latent x latent; row regressed on column),
        ``psi`` (latent residual covariances), ``theta`` (observed residual
        covariances), ``cov_lv`` (model-implied latent covariances
        :math:`(I-B)^{-1}\\Psi(I-B)^{-T}`) and ``implied`` (model-implied
        observed covariances :math:`\\Lambda\\,\\mathrm{cov}_{lv}\\Lambda' + \\Theta`).

    Notes
    -----
    A latent indicator of a latent (second-order ``=~``) becomes a row of
    :math:`B`, as lavaan's all-y representation does.

    References
    ----------
    .. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. *Journal of Statistical Software*, 48(2), 1-36.
    """
    est = estimates
    if "group" in est.columns and est["group"].notna().any():
        groups = list(dict.fromkeys(est["group"].dropna()))
        est = est[est["group"] == (groups[0] if group is None else group)]
    meas = est[est["op"] == "=~"]
    if meas.empty:
        raise ValueError("the model has no measurement (=~) part")
    latent = list(dict.fromkeys(meas["lhs"]))
    observed = [v for v in dict.fromkeys(meas["rhs"]) if v not in latent]
    li = {v: i for i, v in enumerate(latent)}
    oi = {v: i for i, v in enumerate(observed)}
    lam = np.zeros((len(observed), len(latent)))
    beta = np.zeros((len(latent), len(latent)))
    psi = np.zeros((len(latent), len(latent)))
    theta = np.zeros((len(observed), len(observed)))
    for row in est.itertuples(index=False):
        if row.op == "=~":
            if row.rhs in li:
                beta[li[row.rhs], li[row.lhs]] = row.est
            else:
                lam[oi[row.rhs], li[row.lhs]] = row.est
        elif row.op == "~" and row.lhs in li and row.rhs in li:
            beta[li[row.lhs], li[row.rhs]] = row.est
        elif row.op == "~~":
            if row.lhs in li and row.rhs in li:
                psi[li[row.lhs], li[row.rhs]] = psi[li[row.rhs], li[row.lhs]] = row.est
            elif row.lhs in oi and row.rhs in oi:
                theta[oi[row.lhs], oi[row.rhs]] = theta[oi[row.rhs], oi[row.lhs]] = row.est
    ib = np.linalg.inv(np.eye(len(latent)) - beta)
    cov_lv = ib @ psi @ ib.T
    implied = lam @ cov_lv @ lam.T + theta
    return {
        "observed": observed, "latent": latent,
        "lambda": pd.DataFrame(lam, index=observed, columns=latent),
        "beta": pd.DataFrame(beta, index=latent, columns=latent),
        "psi": pd.DataFrame(psi, index=latent, columns=latent),
        "theta": pd.DataFrame(theta, index=observed, columns=observed),
        "cov_lv": pd.DataFrame(cov_lv, index=latent, columns=latent),
        "implied": pd.DataFrame(implied, index=observed, columns=observed),
    }


def _sample_cov(data: pd.DataFrame, observed, result=None) -> pd.DataFrame:
    """Observed covariances as lavaan's ``sampstat``: complete rows, or EM under FIML."""
    frame = _select(data, observed)
    options = getattr(result, "options", None) or {}
    if options.get("missing") == "fiml" and frame.isna().to_numpy().any():
        from ..sem.saturated import em_saturated

        return em_saturated(frame.dropna(how="all")).cov.loc[list(observed), list(observed)]
    frame = frame.dropna()
    if len(frame) < 2:
        raise ValueError("too few complete rows to compute the sample covariance matrix")
    return frame.cov(ddof=0)


def cfa_reliability(result, data: pd.DataFrame) -> pd.DataFrame:
    """Omega, composite reliability and AVE of each first-order factor of a CFA.

    Parameters
    ----------
    result : analysis.sem.SEMResult
        A fitted CFA (its ``.estimates`` are read), single-group.
    data : pandas.DataFrame
        The data the model was fitted to (for the observed covariances).

    Returns
    -------
    pandas.DataFrame
        Columns ``factor, n_items, omega, cr, ave``, one row per factor that
        has observed indicators. ``ave`` is NaN for a factor with an
        indicator that also loads on another factor.

    Notes
    -----
    For factor :math:`f` with indicators :math:`I_f`, unstandardized loadings
    :math:`\\lambda_i` and (implied) factor variance :math:`\\phi_f`:

    .. math:: \\omega_f = \\frac{(\\sum_{i\\in I_f}\\lambda_i)^2\\phi_f}{\\sum_{i,j\\in I_f} S_{ij}},\\qquad
              CR_f = \\frac{(\\sum\\lambda_i)^2\\phi_f}{\\sum_{i,j\\in I_f}\\hat\\Sigma_{ij}},\\qquad
              AVE_f = \\frac{\\sum\\lambda_i^2\\phi_f}{\\sum_{i\\in I_f} S_{ii}},

    with :math:`S` the sample covariance matrix (divisor :math:`N`, complete
    rows; under ``missing="fiml"`` the EM estimate, as lavaan's ``sampstat``) and :math:`\\hat\\Sigma` the model-implied one. These are semTools
    0.5.6 ``compRelSEM(fit)`` (its default ``obs.var = TRUE``),
    ``compRelSEM(fit, obs.var = FALSE)`` (Raykov's / Fornell and Larcker's
    composite reliability, the model-implied denominator) and ``AVE(fit)``.

    References
    ----------
    .. [1] McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.
    .. [2] Raykov, T. (1997). Estimation of composite reliability for
       congeneric measures. *Applied Psychological Measurement*, 21, 173-184.
    .. [3] Fornell, C., & Larcker, D. F. (1981). Evaluating structural
       equation models with unobservable variables and measurement error.
       *Journal of Marketing Research*, 18(1), 39-50.
    .. [4] Jorgensen, T. D., et al. (2022). *semTools* R package 0.5.6.
    """
    mats = model_matrices(result.estimates)
    lam = mats["lambda"]
    s = _sample_cov(data, mats["observed"], result)
    implied = mats["implied"]
    phi = mats["cov_lv"]
    rows = []
    for f in mats["latent"]:
        idx = list(lam.index[lam[f] != 0])
        if not idx:
            continue
        common = lam.loc[idx, f].sum() ** 2 * phi.loc[f, f]
        cross = (lam.loc[idx].drop(columns=f) != 0).to_numpy().any()
        ave = np.nan if cross else (lam.loc[idx, f] ** 2).sum() * phi.loc[f, f] / np.trace(s.loc[idx, idx])
        rows.append({"factor": f, "n_items": len(idx),
                     "omega": common / s.loc[idx, idx].to_numpy().sum(),
                     "cr": common / implied.loc[idx, idx].to_numpy().sum(),
                     "ave": ave})
    return pd.DataFrame(rows)


def higher_order_reliability(result, data: pd.DataFrame) -> pd.DataFrame:
    """Omega of each second-order factor (the share of its indicators' sum it explains).

    Parameters
    ----------
    result : analysis.sem.SEMResult
        A fitted higher-order CFA (second-order ``=~`` lines), single-group.
    data : pandas.DataFrame
        The data it was fitted to.

    Returns
    -------
    pandas.DataFrame
        Columns ``factor, n_items, omega, cr``: one row per latent measured by
        latents; ``n_items`` counts the observed items of its children.

    Notes
    -----
    For second-order factor :math:`h` with first-order children :math:`C`
    (loadings :math:`\\gamma_c`) and their items :math:`I`:

    .. math:: \\omega_h = \\frac{\\mathbf 1'\\Lambda_I\\,\\gamma\\,\\phi_h\\,\\gamma'\\Lambda_I'\\mathbf 1}
                                {\\mathbf 1' S_{II}\\mathbf 1}

    (:math:`\\omega_{L1}`), and ``cr`` the same over the model-implied
    :math:`\\hat\\Sigma_{II}`. These are semTools 0.5.6
    ``compRelSEM(fit, higher = "h")`` and the same with ``obs.var = FALSE``.

    References
    ----------
    .. [1] Jorgensen, T. D., et al. (2022). *semTools* R package 0.5.6.
    .. [2] Raykov, T., & Marcoulides, G. A. (2012). Evaluation of validity and
       reliability for hierarchical scales using latent variable modeling.
       *Structural Equation Modeling*, 19(3), 495-508.
    """
    mats = model_matrices(result.estimates)
    lam, beta, phi = mats["lambda"], mats["beta"], mats["cov_lv"]
    s = _sample_cov(data, mats["observed"], result)
    implied = mats["implied"]
    rows = []
    for h in mats["latent"]:
        children = list(beta.index[beta[h] != 0])
        if not children:
            continue
        idx = list(lam.index[(lam[children] != 0).any(axis=1)])
        w = lam.loc[idx, children].to_numpy() @ beta.loc[children, h].to_numpy()
        common = float(w.sum() ** 2 * phi.loc[h, h])
        rows.append({"factor": h, "n_items": len(idx),
                     "omega": common / s.loc[idx, idx].to_numpy().sum(),
                     "cr": common / implied.loc[idx, idx].to_numpy().sum()})
    return pd.DataFrame(rows, columns=["factor", "n_items", "omega", "cr"])


def reliability_table(data: pd.DataFrame, scales: dict, *, result=None, ci: float = 0.95) -> pd.DataFrame:
    """One row per scale: alpha with its interval, and omega, CR, AVE from a CFA.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses (reverse-keyed items already recoded).
    scales : dict
        Scale code -> list of item codes (the factors of the CFA).
    result : analysis.sem.SEMResult, optional
        The fitted CFA whose factors are named by ``scales``' keys; without it
        ``omega, cr, ave`` are NaN.
    ci : float
        Confidence level of alpha's interval.

    Returns
    -------
    pandas.DataFrame
        Columns ``scale, n_items, alpha, ci_lower, ci_upper, std_alpha,
        omega, cr, ave``.

    Notes
    -----
    See :func:`cronbach_alpha` and :func:`cfa_reliability`.

    References
    ----------
    .. [1] Cronbach (1951); McDonald (1999); Fornell & Larcker (1981): see
       :func:`cronbach_alpha` and :func:`cfa_reliability`.
    """
    rows = []
    for code, items in scales.items():
        a = cronbach_alpha(data, items, ci=ci)
        rows.append({"scale": code, "n_items": len(items), "alpha": a["alpha"],
                     "ci_lower": a["ci_lower"], "ci_upper": a["ci_upper"],
                     "std_alpha": a["std_alpha"]})
    out = pd.DataFrame(rows)
    if result is not None:
        rel = cfa_reliability(result, data).set_index("factor")
        for col in ("omega", "cr", "ave"):
            out[col] = out["scale"].map(rel[col]).astype(float)
    else:
        for col in ("omega", "cr", "ave"):
            out[col] = np.nan
    return out
