"""``sem()`` and ``cfa()``: lavaan syntax and a data frame in, a fit out.

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .estimators import get_estimator
from .model import SEMModel
from .optimize import minimize
from .partable import build_partable, fill_fixed_x, parse_group_partial
from .results import SEMResult
from .samplestats import sample_stats
from .start import start_values
from .syntax import parse_syntax

__all__ = ["sem", "cfa"]

_SE = ("standard", "robust", "robust.huber.white", "bootstrap", "none")


def sem(model: str, data: pd.DataFrame, *, estimator: str = "ML", ordered=None,
        missing: str = "listwise", group: str | None = None, group_equal=(), group_partial=(),
        std_lv: bool = False, meanstructure: bool | None = None, se: str = "standard",
        bootstrap: int = 0, seed: int | None = None, start=None,
        max_iter: int = 500, cluster: str | None = None, fixed_x: bool = True,
        progress: bool = False, test: str | None = None) -> SEMResult:
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
    ordered : list of str or True, optional
        Ordinal indicators (DWLS/WLSMV; True: all).  As lavaan, DWLS/WLSMV
        without ``ordered`` treat the indicators as continuous, and a list
        naming some of them gives a mixed ordinal/continuous model
        (:func:`analysis.sem.dwls.sem_wls`).
    missing : {"listwise", "fiml"}
        Listwise deletion (lavaan's default) or full-information ML.
    group : str, optional
        Column defining the groups (multigroup model).
    group_equal : sequence of str
        Parameter types held equal across groups (``"loadings"``,
        ``"intercepts"``, ``"residuals"``, ``"residual.covariances"``,
        ``"lv.variances"``, ``"lv.covariances"``, ``"regressions"``,
        ``"means"``).
    group_partial : sequence of str
        lavaan's ``group.partial``: parameters freed from the
        ``group_equal`` constraints, written as in the syntax, e.g.
        ``["visual =~ x2", "x3 ~ 1", "x1 ~~ x1"]`` (white space optional;
        a string may list several separated by commas).  See
        :func:`analysis.sem.partable.build_partable`.  Not available for
        ordinal (DWLS/WLSMV) fits.
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
    progress : bool
        Show a progress bar while the bootstrap runs.
    test : {"yuan.bentler.mplus", "satorra.bentler"}, optional
        With ``cluster`` (single-level model): the scaled test, lavaan's
        ``test =`` (default ``"yuan.bentler.mplus"``, lavaan's MLR);
        ``"satorra.bentler"`` is lavaan's ``estimator = "ML", se =
        "robust.cluster", test = "satorra.bentler"``
        (:func:`analysis.sem.robust.satorra_bentler_test`).  Without
        ``cluster`` only the default (None) is accepted.
    cluster : str, optional
        Column naming each row's cluster (lavaan's ``cluster =``).  With
        ``level: 1`` / ``level: 2`` blocks in the syntax: a two-level model
        estimated by ML (:mod:`analysis.sem.twolevel`; complete data, rows
        with a missing model variable or cluster dropped listwise and counted
        in ``.notes`` and ``.fit["n_dropped"]``).  Without level blocks: the
        single-level model with cluster-robust standard errors and the
        Yuan-Bentler scaled test (lavaan's ``se = "robust.cluster"``, ``test
        = "yuan.bentler.mplus"``, mean structure on), i.e. MLR with the
        casewise scores summed within clusters (:mod:`analysis.sem.robust`).
    fixed_x : bool
        lavaan's ``fixed.x``: True (default) fixes the moments of exogenous
        observed covariates at their sample values (for a two-level model:
        at the EM saturated estimates, as lavaan); False estimates them.
        False is implemented for two-level models only.

    Returns
    -------
    SEMResult
        :class:`~analysis.sem.twolevel.TwoLevelResult` for a two-level model.

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
    if cluster is not None and not isinstance(cluster, str):
        raise TypeError(f"cluster must be a column name, not {type(cluster).__name__}.")
    formulas = parse_syntax(model) if isinstance(model, str) else list(model)
    if any(getattr(f, "level", 0) for f in formulas):
        if group_partial:
            raise NotImplementedError("group_partial needs groups; multigroup two-level models "
                                      "are not supported.")
        return _sem_twolevel(formulas, data, cluster=cluster, estimator=estimator,
                             ordered=ordered, missing=missing, group=group,
                             group_equal=group_equal, std_lv=std_lv, se=se,
                             bootstrap=bootstrap, start=start, max_iter=max_iter,
                             fixed_x=fixed_x)
    if not fixed_x:
        raise NotImplementedError("fixed_x=False is implemented for two-level models only.")
    if cluster is not None:
        return _sem_cluster(formulas, data, cluster=cluster, estimator=estimator,
                            ordered=ordered, missing=missing, group=group,
                            group_equal=group_equal, group_partial=group_partial,
                            std_lv=std_lv, se=se,
                            bootstrap=bootstrap, start=start, max_iter=max_iter, test=test)
    if test is not None:
        raise NotImplementedError("test= is available with cluster= (lavaan's se = "
                                  "'robust.cluster'); without it MLR gives the Yuan-Bentler test.")
    est = get_estimator(estimator)
    if ordered is not None and ordered is not False and est.name in ("ML", "MLR"):
        if str(estimator).upper() != "ML":
            raise ValueError(f"estimator={estimator!r} cannot be used with ordered variables; "
                             "use 'WLSMV' or 'DWLS'.")
        est = get_estimator("WLSMV")  # lavaan switches to WLSMV for ordered data
    if est.name in ("DWLS", "WLSMV"):
        from .dwls import sem_wls  # lazy: written by the ordinal engineer

        if group_partial:
            raise NotImplementedError("group_partial is not available for ordinal (DWLS/WLSMV) "
                                      "fits; free the parameters with per-group labels instead.")
        # as lavaan: without `ordered` the indicators are continuous; a partial list is mixed
        return sem_wls(model, data, estimator=est.name, ordered=ordered, group=group,
                       group_equal=tuple([group_equal] if isinstance(group_equal, str)
                                         else group_equal),
                       std_lv=std_lv, missing=missing, start=start, meanstructure=meanstructure)
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
    pt, vs = build_partable(formulas, ngroups=ngroups, std_lv=std_lv, meanstructure=bool(ms),
                            group_equal=tuple(group_equal), group_partial=group_partial)
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
    options["group_partial"] = tuple(f"{lhs}{op}{rhs}"  # as lavaan stores it: "visual=~x2"
                                     for lhs, op, rhs in parse_group_partial(group_partial))
    result = SEMResult(pt, vs, mod, objective, est, res.theta, res.converged, res.n_iter, options)
    if se == "bootstrap" or bootstrap > 0:
        if bootstrap <= 0:
            raise ValueError("se='bootstrap' needs bootstrap > 0 draws.")
        from . import bootstrap as _boot  # lazy: written by the bootstrap engineer

        # As lavaan: draws that fail are dropped, improper ones (negative variances) are kept in the
        # intervals; both are counted in .fit (n_boot_failed, n_boot_improper).
        result.boot = _boot.bootstrap_draws(result, n_boot=bootstrap, seed=seed, exclude_improper=False,
                                            progress=progress)
    return result


def _sem_twolevel(formulas, data, *, cluster, estimator, ordered, missing, group, group_equal,
                  std_lv, se, bootstrap, start, max_iter, fixed_x):
    """``sem()`` of a model with ``level:`` blocks: checks, then :func:`~analysis.sem.twolevel.sem_twolevel`."""
    if cluster is None:
        raise ValueError("The model has 'level:' blocks: give the cluster column, "
                         "e.g. sem(model, data, cluster='community').")
    if str(estimator).upper() != "ML":
        raise NotImplementedError(f"Two-level models are estimated by ML only, not {estimator!r}.")
    if ordered not in (None, False):
        raise NotImplementedError("Two-level models with ordered variables are not supported.")
    if missing != "listwise":
        raise NotImplementedError("Two-level models use complete data (listwise deletion); "
                                  f"missing={missing!r} is not supported.")
    if group is not None or group_equal:
        raise NotImplementedError("Multigroup two-level models are not supported.")
    if se not in ("standard", "none"):
        raise NotImplementedError(f"se={se!r} is not available for two-level models "
                                  "(standard errors: observed information, as lavaan).")
    if bootstrap:
        raise NotImplementedError("The bootstrap is not available for two-level models.")
    from .twolevel import sem_twolevel  # lazy: keeps the single-level import light

    return sem_twolevel(formulas, data, cluster, std_lv=std_lv, se=se, start=start,
                        max_iter=max_iter, fixed_x=fixed_x)


def _sem_cluster(formulas, data, *, cluster, estimator, ordered, missing, group, group_equal,
                 std_lv, se, bootstrap, start, max_iter, group_partial=(), test=None):
    """Single-level ``sem(..., cluster=)``: ML estimates, cluster-robust SEs and test.

    As lavaan 0.6.14: ``estimator = "ML"`` (or ``"MLR"``) with ``cluster``
    gives ``se = "robust.cluster"`` (the sandwich of :func:`analysis.sem.robust.robust_vcov`
    with the scores summed within clusters, times ``G/(G-1)``) and
    ``test = "yuan.bentler.mplus"`` (``test="satorra.bentler"``: the
    Satorra-Bentler test with the cluster-robust Gamma), and switches the
    mean structure on.  Rows whose cluster is missing are dropped (counted in ``stats.n_dropped``).
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame.")
    if cluster not in data.columns:
        raise ValueError(f"The cluster column {cluster!r} is not in the data "
                         f"(columns: {list(map(str, data.columns))[:12]}).")
    if str(estimator).upper() not in ("ML", "MLR") or ordered not in (None, False):
        raise NotImplementedError("cluster= with a single-level model is available for ML/MLR "
                                  f"(cluster-robust SEs), not estimator={estimator!r}"
                                  + (" with ordered variables" if ordered not in (None, False) else "")
                                  + ".")
    if bootstrap or se == "bootstrap":
        raise NotImplementedError("cluster= with the bootstrap is not supported (resample whole "
                                  "clusters instead).")
    from . import robust

    test = test or "yuan.bentler.mplus"
    if test not in robust.SCALED_TESTS:
        raise ValueError(f"test must be one of {list(robust.SCALED_TESTS)} with cluster=, "
                         f"not {test!r}.")
    if se not in ("standard", "robust", "robust.cluster", "robust.huber.white", "none"):
        raise ValueError(f"se={se!r} cannot be combined with cluster=.")

    bad = data[cluster].isna().to_numpy()
    frame = data.loc[~bad]
    fit = sem(formulas, frame, estimator="MLR", missing=missing, group=group,
              group_equal=group_equal, group_partial=group_partial, std_lv=std_lv,
              meanstructure=True,
              se="none" if se == "none" else "robust", start=start, max_iter=max_iter)
    labels = robust.cluster_labels(frame, fit.stats.ov_names, cluster, group=group,
                                   missing=fit.options["missing"])
    fit.objective.cluster = labels
    if bad.any():
        fit.objective.stats = replace(fit.objective.stats,
                                      n_dropped=fit.objective.stats.n_dropped + int(bad.sum()))
    fit.objective.scaled_test_kind = test
    fit.options.update(cluster=cluster, se="none" if se == "none" else "robust.cluster",
                       test=test)
    return fit


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
