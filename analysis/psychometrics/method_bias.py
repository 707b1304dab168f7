"""Common method bias: Harman's single-factor test and a common latent method factor."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .efa import efa
from .factorability import correlation_matrix

__all__ = ["harman_single_factor", "chisq_difference", "CLFResult", "common_latent_factor"]


def harman_single_factor(data: pd.DataFrame, items=None, *, method: str = "pca",
                         threshold: float = 0.5) -> pd.Series:
    """Harman's single-factor test: variance share of the first unrotated factor.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses.
    items : list of str, optional
        Item columns (default: all columns).
    method : {"pca", "fa"}
        First principal component (the usual SPSS practice) or a one-factor
        minres solution.
    threshold : float
        Share above which a single factor is said to dominate (conventionally .50).

    Returns
    -------
    pandas.Series
        ``share`` (proportion of the total standardized variance), ``eigenvalue``
        (sum of squared loadings of the first factor), ``n_items``, ``threshold``
        and ``dominant`` (``share > threshold``).

    Notes
    -----
    For ``pca``, :math:`\\text{share} = \\lambda_1(R)/p`; for ``fa``,
    :math:`\\sum_i \\ell_{i1}^2/p` of an unrotated one-factor solution. A
    share below .50 is customarily read as no single dominant method factor;
    the test is weak (Podsakoff et al. 2003), so report it beside a
    method-factor check (:func:`common_latent_factor`). In R:
    ``psych::principal(x, 1, rotate = "none")$values[1] / ncol(x)``.

    References
    ----------
    .. [1] Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P.
       (2003). Common method biases in behavioral research. *Journal of
       Applied Psychology*, 88(5), 879-903.
    """
    if method == "pca":
        r = correlation_matrix(data, items).to_numpy()
        ev = float(np.linalg.eigvalsh(r)[-1])
        p = r.shape[0]
    elif method == "fa":
        res = efa(data, 1, items, method="minres", rotation="none")
        ev = float((res.loadings.to_numpy() ** 2).sum())
        p = res.loadings.shape[0]
    else:
        raise ValueError("method must be 'pca' or 'fa'")
    share = ev / p
    return pd.Series({"share": share, "eigenvalue": ev, "n_items": p,
                      "threshold": float(threshold), "dominant": bool(share > threshold)})


def chisq_difference(restricted: pd.Series, free: pd.Series) -> pd.Series:
    """Chi-square difference test of two nested models fitted by ML.

    Parameters
    ----------
    restricted, free : pandas.Series
        ``SEMResult.fit`` of the more restricted and the less restricted
        model (keys ``chisq, df, cfi, rmsea``).

    Returns
    -------
    pandas.Series
        ``delta_chisq, delta_df, pvalue, delta_cfi, delta_rmsea`` (deltas are
        restricted minus free).

    Notes
    -----
    :math:`\\Delta\\chi^2 = \\chi^2_r - \\chi^2_f` on :math:`df_r - df_f` df
    (lavaan's ``lavTestLRT`` for ML without robust corrections). Chen's
    (2007) cut-offs for invariance: :math:`\\Delta CFI \\ge -.010` and
    :math:`\\Delta RMSEA \\le .015`.

    References
    ----------
    .. [1] Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack
       of measurement invariance. *Structural Equation Modeling*, 14(3),
       464-504.

    Examples
    --------
    >>> r = pd.Series({"chisq": 30.0, "df": 12, "cfi": 0.95, "rmsea": 0.05})
    >>> f = pd.Series({"chisq": 20.0, "df": 10, "cfi": 0.97, "rmsea": 0.04})
    >>> round(float(chisq_difference(r, f)["pvalue"]), 6)
    0.006738
    """
    d = float(restricted["chisq"] - free["chisq"])
    ddf = float(restricted["df"] - free["df"])
    p = float(stats.chi2.sf(d, ddf)) if ddf > 0 else np.nan
    return pd.Series({"delta_chisq": d, "delta_df": ddf, "pvalue": p,
                      "delta_cfi": float(restricted["cfi"] - free["cfi"]),
                      "delta_rmsea": float(restricted["rmsea"] - free["rmsea"])})


@dataclass(frozen=True)
class CLFResult:
    """A CFA compared with the same CFA plus a common latent (method) factor.

    Attributes
    ----------
    comparison : pandas.DataFrame
        Columns ``model, chisq, df, pvalue, cfi, tli, rmsea, srmr, aic, bic``;
        rows ``"cfa"`` and ``"cfa + method factor"``.
    test : pandas.Series
        :func:`chisq_difference` of the CFA against the method-factor model.
    loadings : pandas.DataFrame
        Columns ``factor, item, std_all_cfa, std_all_clf, delta``
        (standardized trait loadings without and with the method factor).
    method_loading : float
        Mean standardized loading of the items on the method factor.
    method_variance : float
        Mean squared standardized method loading: the share of item variance
        attributable to the common method.
    converged : bool
        Both models converged without reported issues.
    """

    comparison: pd.DataFrame
    test: pd.Series
    loadings: pd.DataFrame
    method_loading: float
    method_variance: float
    converged: bool


def _fit_row(name, fit):
    keys = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic"]
    return {"model": name, **{k: float(fit.get(k, np.nan)) for k in keys}}


def common_latent_factor(model: str, data: pd.DataFrame, *, method_factor: str = "CMF",
                         estimator: str = "ML", missing: str = "listwise", fitted=None) -> CLFResult:
    """Common-latent-factor check: add an equal-loading method factor to a CFA.

    Parameters
    ----------
    model : str
        lavaan syntax of the CFA (first-order factors).
    data : pandas.DataFrame
        Item responses.
    method_factor : str
        Name of the added factor (must not be a variable of the model).
    estimator : str
        Passed to ``analysis.sem.cfa``.
    missing : {"listwise", "fiml"}
        Passed to ``analysis.sem.cfa``.
    fitted : analysis.sem.SEMResult, optional
        The CFA already fitted to ``data`` (saves refitting it).

    Returns
    -------
    CLFResult
        Fit comparison, chi-square difference, loading changes, method variance.

    Notes
    -----
    The method factor loads on every indicator with loadings fixed to 1
    (equal unstandardized loadings), has a free variance, and is
    uncorrelated with the trait factors:
    ``CMF =~ 1*x1 + ... + 1*xp; CMF ~~ 0*F1; ...``. A significant
    :math:`\\Delta\\chi^2` with small changes of the standardized trait
    loadings (:math:`|\\Delta| < .20` is a common rule) and a small method
    variance (well under .25) indicate that common method variance does not
    distort the measurement model.

    References
    ----------
    .. [1] Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P.
       (2003). Common method biases in behavioral research. *Journal of
       Applied Psychology*, 88(5), 879-903.
    .. [2] Williams, L. J., Cote, J. A., & Buckley, M. R. (1989). Lack of
       method variance in self-reported affect and perceptions at work.
       *Journal of Applied Psychology*, 74(3), 462-468.
    """
    from ..sem import cfa

    base = fitted if fitted is not None else cfa(model, data, estimator=estimator, missing=missing)
    est = base.estimates
    meas = est[est["op"] == "=~"]
    latent = list(dict.fromkeys(meas["lhs"]))
    items = [v for v in dict.fromkeys(meas["rhs"]) if v not in latent]
    if method_factor in latent or method_factor in items:
        raise ValueError(f"method_factor {method_factor!r} is already a variable of the model")
    lines = [model.rstrip(), f"{method_factor} =~ " + " + ".join(f"1*{i}" for i in items),
             f"{method_factor} ~~ {method_factor}"]
    lines += [f"{method_factor} ~~ 0*{f}" for f in latent]
    clf = cfa("\n".join(lines) + "\n", data, estimator=estimator, missing=missing)

    def std(result):
        e = result.estimates
        e = e[(e["op"] == "=~") & e["lhs"].isin(latent) & e["rhs"].isin(items)]
        return e.set_index(["lhs", "rhs"])["std_all"]

    s0, s1 = std(base), std(clf)
    loadings = pd.DataFrame({"factor": [k[0] for k in s0.index], "item": [k[1] for k in s0.index],
                             "std_all_cfa": s0.to_numpy(), "std_all_clf": s1.loc[s0.index].to_numpy()})
    loadings["delta"] = loadings["std_all_clf"] - loadings["std_all_cfa"]
    e1 = clf.estimates
    m = e1[(e1["op"] == "=~") & (e1["lhs"] == method_factor)]["std_all"].to_numpy(dtype=float)
    comparison = pd.DataFrame([_fit_row("cfa", base.fit), _fit_row("cfa + method factor", clf.fit)])
    ok = bool(base.converged and clf.converged and not base.issues and not clf.issues)
    return CLFResult(comparison=comparison, test=chisq_difference(base.fit, clf.fit), loadings=loadings,
                     method_loading=float(np.mean(m)), method_variance=float(np.mean(m**2)),
                     converged=ok)
