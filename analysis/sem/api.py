"""``sem()`` and ``cfa()``: lavaan syntax and a data frame in, a fit out.

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .estimators import get_estimator
from .model import SEMModel
from .optimize import minimize
from .partable import build_partable, fill_fixed_x
from .results import SEMResult
from .samplestats import sample_stats
from .start import start_values

__all__ = ["sem", "cfa"]

_SE = ("standard", "robust", "robust.huber.white", "bootstrap", "none")


def sem(model: str, data: pd.DataFrame, *, estimator: str = "ML", ordered=None,
        missing: str = "listwise", group: str | None = None, group_equal=(),
        std_lv: bool = False, meanstructure: bool | None = None, se: str = "standard",
        bootstrap: int = 0, seed: int | None = None, start=None,
        max_iter: int = 500) -> SEMResult:
    """Fit a structural equation model with lavaan's ``sem()`` defaults.

    Parameters
    ----------
    model : str
        lavaan model syntax.
    data : pandas.DataFrame
        One row per case.
    estimator : {"ML", "MLR", "DWLS", "WLSMV"}
        As lavaan; "MLR" gives Huber-White SEs and the Yuan-Bentler scaled
        test (:mod:`analysis.sem.robust`).
    ordered : list of str, optional
        Ordinal indicators (DWLS/WLSMV).
    missing : {"listwise", "fiml"}
        Listwise deletion (lavaan's default) or full-information ML.
    group : str, optional
        Column defining the groups (multigroup model).
    group_equal : sequence of str
        Parameter types held equal across groups (``"loadings"``,
        ``"intercepts"``, ``"residuals"``, ``"residual.covariances"``,
        ``"lv.variances"``, ``"lv.covariances"``, ``"regressions"``,
        ``"means"``).
    std_lv : bool
        Fix latent (residual) variances to 1 and free all loadings.
    meanstructure : bool, optional
        Default: True with groups, FIML or ``~ 1`` in the syntax.
    se : {"standard", "robust", "bootstrap", "none"}
        Standard errors; "standard" is the expected information for ML.
    bootstrap : int
        Number of bootstrap draws; ``bootstrap > 0`` (or ``se="bootstrap"``)
        gives bootstrap SEs and percentile intervals in ``.estimates`` (plus
        bias-corrected ``boot_ci_*_bc`` columns) and the counts of failed and
        improper draws in ``.fit``.
    seed : int, optional
        Seed of the bootstrap.
    start : ndarray, optional
        Warm start for the free parameters.
    max_iter : int
        Maximum number of scoring iterations (lavaan's ``iter.max``).

    Returns
    -------
    SEMResult

    Notes
    -----
    ML minimises :math:`F = \\tfrac12\\sum_g \\frac{N_g}{N}[\\log|\\Sigma_g|
    + \\operatorname{tr}(S_g\\Sigma_g^{-1}) - \\log|S_g| - p + (\\bar x_g
    - \\mu_g)^\\top\\Sigma_g^{-1}(\\bar x_g-\\mu_g)]` [1]_; standard errors
    come from the inverse of :math:`N` times the expected information.

    Examples
    --------
    >>> from analysis.sem import sem
    >>> import semopy.examples as ex
    >>> fit = sem("ind60 =~ x1 + x2 + x3", ex.political_democracy.get_data())
    >>> round(float(fit.fit["df"]), 1)
    0.0
    """
    est = get_estimator(estimator)
    if ordered is not None and ordered is not False and est.name in ("ML", "MLR"):
        if str(estimator).upper() != "ML":
            raise ValueError(f"estimator={estimator!r} cannot be used with ordered variables; "
                             "use 'WLSMV' or 'DWLS'.")
        est = get_estimator("WLSMV")  # lavaan switches to WLSMV for ordered data
    if est.name in ("DWLS", "WLSMV"):
        from .dwls import sem_ordinal  # lazy: written by the ordinal engineer

        return sem_ordinal(model, data, estimator=est.name,
                           ordered=True if ordered is None else ordered, group=group,
                           group_equal=tuple([group_equal] if isinstance(group_equal, str)
                                             else group_equal),
                           std_lv=std_lv, missing=missing, start=start)
    if se not in _SE:
        raise ValueError(f"se must be one of {list(_SE)}, not {se!r}.")
    if missing not in ("listwise", "fiml", "ml"):
        raise ValueError(f"missing must be 'listwise' or 'fiml', not {missing!r}.")
    missing = "fiml" if missing == "ml" else missing
    if isinstance(group_equal, str):
        group_equal = (group_equal,)
    if se in ("robust", "robust.huber.white") and est.name == "ML":
        est = get_estimator("MLR")
    ngroups = 1
    if group is not None:
        if group not in data.columns:
            raise ValueError(f"The group column {group!r} is not in the data.")
        ngroups = int(data[group].dropna().nunique())
    ms = meanstructure
    if ms is None:
        ms = ngroups > 1 or missing == "fiml"
    pt, vs = build_partable(model, ngroups=ngroups, std_lv=std_lv, meanstructure=bool(ms),
                            group_equal=tuple(group_equal))
    if any(pt["op"] == "~1"):
        ms = True
    st = sample_stats(data, vs.ov, group=group, missing=missing)
    pt = fill_fixed_x(pt, vs.ov, st.cov, st.mean)
    mod = SEMModel(pt, vs.ov, vs.lv, ngroups, bool(ms))
    objective = est.build(mod, st, missing=missing, ordered=ordered)
    theta0 = start_values(pt, vs, st, std_lv=std_lv) if start is None else np.asarray(start, float)
    res = minimize(objective, theta0, max_iter=max_iter)
    options = dict(estimator=est.name, missing=missing, group=group,
                   group_equal=tuple(group_equal), std_lv=std_lv, meanstructure=bool(ms),
                   se=se, bootstrap=bootstrap, seed=seed, ordered=ordered)
    result = SEMResult(pt, vs, mod, objective, est, res.theta, res.converged, res.n_iter, options)
    if se == "bootstrap" or bootstrap > 0:
        if bootstrap <= 0:
            raise ValueError("se='bootstrap' needs bootstrap > 0 draws.")
        from . import bootstrap as _boot  # lazy: written by the bootstrap engineer

        # As lavaan: draws that fail are dropped, improper ones (negative variances) are kept in the
        # intervals; both are counted in .fit (n_boot_failed, n_boot_improper).
        result.boot = _boot.bootstrap_draws(result, n_boot=bootstrap, seed=seed, exclude_improper=False)
    return result


def cfa(model: str, data: pd.DataFrame, **kwargs) -> SEMResult:
    """Fit a confirmatory factor analysis (lavaan's ``cfa()``).

    Same arguments and defaults as :func:`sem` (lavaan's ``cfa()`` and
    ``sem()`` share their defaults).

    Examples
    --------
    >>> from analysis.sem import cfa
    >>> import semopy.examples as ex
    >>> hs = ex.holzinger39.get_data()
    >>> fit = cfa("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; "
    ...           "speed =~ x7 + x8 + x9", hs)
    >>> round(float(fit.fit["chisq"]), 3)   # lavaan: 85.306
    85.306
    """
    return sem(model, data, **kwargs)
