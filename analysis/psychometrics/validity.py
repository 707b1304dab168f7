"""Discriminant validity: HTMT and the Fornell-Larcker criterion."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .descriptives import _select
from .reliability import cfa_reliability, model_matrices

__all__ = ["htmt", "fornell_larcker", "standardized_solution"]


def htmt(data: pd.DataFrame, scales: dict, *, htmt2: bool = True, absolute: bool = True) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses (listwise deletion over all listed items, as semTools).
    scales : dict
        Scale code -> list of item codes (at least two items each).
    htmt2 : bool
        Geometric means (HTMT2, Roemer et al. 2021; semTools 0.5.6's default)
        instead of arithmetic means (Henseler et al. 2015).
    absolute : bool
        Use absolute correlations (always so for ``htmt2``).

    Returns
    -------
    pandas.DataFrame
        Square matrix, scales as index and columns; 1 on the diagonal.

    Notes
    -----
    With :math:`\\bar r_{ij}` the mean of the heterotrait correlations
    between the items of scales :math:`i, j` and :math:`\\bar r_{ii}` the mean
    of the monotrait correlations within scale :math:`i` (off-diagonal):

    .. math:: HTMT_{ij} = \\frac{\\bar r_{ij}}{\\sqrt{\\bar r_{ii}\\,\\bar r_{jj}}},

    with geometric means for HTMT2. Values above .85 (or .90) question
    discriminant validity. In R: ``semTools::htmt(model, data)``.

    References
    ----------
    .. [1] Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion
       for assessing discriminant validity in variance-based structural
       equation modeling. *JAMS*, 43(1), 115-135.
    .. [2] Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2: An improved
       criterion for assessing discriminant validity in structural equation
       modeling. *Industrial Management & Data Systems*, 121(12), 2637-2650.
    """
    if len(scales) < 2:
        raise ValueError("HTMT needs at least two scales")
    items = [i for its in scales.values() for i in its]
    frame = _select(data, items).dropna()
    if len(frame) < 3:
        raise ValueError("too few complete rows for HTMT")
    r = frame.corr()
    if absolute or htmt2:
        r = r.abs()
    codes = list(scales)

    def mean_block(a, b, same):
        block = r.loc[list(scales[a]), list(scales[b])].to_numpy()
        if same:
            block = block[~np.eye(len(block), dtype=bool)]
        block = block.ravel()
        if block.size == 0:
            raise ValueError(f"scale {a!r} needs at least two items for HTMT")
        return float(np.exp(np.mean(np.log(block)))) if htmt2 else float(np.mean(block))

    mono = {c: mean_block(c, c, True) for c in codes}
    out = np.eye(len(codes))
    for i, a in enumerate(codes):
        for j, b in enumerate(codes):
            if i != j:
                out[i, j] = mean_block(a, b, False) / np.sqrt(mono[a] * mono[b])
    return pd.DataFrame(out, index=codes, columns=codes)


def fornell_larcker(result, data: pd.DataFrame) -> pd.DataFrame:
    """Fornell-Larcker table: sqrt(AVE) on the diagonal, latent correlations below and above.

    Parameters
    ----------
    result : analysis.sem.SEMResult
        A fitted single-group CFA.
    data : pandas.DataFrame
        The data it was fitted to (for AVE's observed variances).

    Returns
    -------
    pandas.DataFrame
        Square matrix over the factors with indicators: diagonal
        :math:`\\sqrt{AVE_f}`, off-diagonal model-implied latent correlations.

    Notes
    -----
    Discriminant validity holds for factor :math:`f` when
    :math:`\\sqrt{AVE_f} > |\\rho_{fg}|` for every other factor :math:`g`.
    AVE as :func:`analysis.psychometrics.reliability.cfa_reliability`.

    References
    ----------
    .. [1] Fornell, C., & Larcker, D. F. (1981). Evaluating structural
       equation models with unobservable variables and measurement error.
       *Journal of Marketing Research*, 18(1), 39-50.
    """
    rel = cfa_reliability(result, data).set_index("factor")
    cov = model_matrices(result.estimates)["cov_lv"].loc[rel.index, rel.index].to_numpy()
    sd = np.sqrt(np.diag(cov))
    cor = cov / np.outer(sd, sd)
    np.fill_diagonal(cor, np.sqrt(rel["ave"].to_numpy()))
    return pd.DataFrame(cor, index=list(rel.index), columns=list(rel.index))


def standardized_solution(result, *, level: float = 0.95, step: float = 1e-6) -> pd.DataFrame:
    """Completely standardized estimates with delta-method standard errors.

    Parameters
    ----------
    result : analysis.sem.SEMResult
        A fitted model.
    level : float
        Confidence level of the Wald intervals.
    step : float
        Step of the central finite differences of the Jacobian.

    Returns
    -------
    pandas.DataFrame
        Columns ``lhs, op, rhs, group, est_std, se, z, pvalue, ci_lower,
        ci_upper``, one row per ``=~ ~ ~~`` row of the parameter table.
        ``se`` is 0 (and ``z``, ``pvalue`` NaN) where the standardized value
        is fixed (e.g. the standardized variance of an exogenous latent, 1).

    Notes
    -----
    With :math:`s(\\theta)` the ``std.all`` values and
    :math:`\\hat V` the covariance matrix of the free parameters,
    :math:`\\mathrm{Var}(s) \\approx J\\hat VJ'` with
    :math:`J = \\partial s/\\partial\\theta'` by central differences; ``z``,
    ``pvalue`` and the interval are Wald statistics. This is lavaan's
    ``standardizedSolution(fit)``.

    References
    ----------
    .. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. *Journal of Statistical Software*, 48(2), 1-36.
    .. [2] Bollen, K. A. (1989). *Structural equations with latent variables*.
       Wiley, pp. 123-126.
    """
    from ..sem.standardized import std_all

    pt = result.partable
    keep = pt["op"].isin(["=~", "~", "~~"]).to_numpy()
    sub = pt[keep]
    theta = np.asarray(result.theta, dtype=float)

    def f(t):
        return std_all(result.model, t, sub)

    base = f(theta)
    jac = np.empty((len(base), theta.size))
    for k in range(theta.size):
        h = step * max(1.0, abs(theta[k]))
        up, dn = theta.copy(), theta.copy()
        up[k] += h
        dn[k] -= h
        jac[:, k] = (f(up) - f(dn)) / (2 * h)
    var = np.einsum("ij,jk,ik->i", jac, np.asarray(result.vcov, dtype=float), jac)
    se = np.sqrt(np.clip(var, 0, None))
    se[se < 1e-8] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, base / se, np.nan)
    crit = stats.norm.ppf(0.5 + level / 2)
    group = sub["group"].to_numpy() if "group" in sub.columns else np.ones(len(sub), dtype=int)
    return pd.DataFrame({
        "lhs": sub["lhs"].to_numpy(), "op": sub["op"].to_numpy(), "rhs": sub["rhs"].to_numpy(),
        "group": group, "est_std": base, "se": se, "z": z,
        "pvalue": 2 * stats.norm.sf(np.abs(z)), "ci_lower": base - crit * se, "ci_upper": base + crit * se,
    })
