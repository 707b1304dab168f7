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

#: Standard errors (lavaan's ``se =``).
_SE = ("standard", "robust", "robust.huber.white", "robust.cluster", "bootstrap", "none")
#: Missing-data options (lavaan's ``missing =``) and the name each is stored under in ``.options``.
_MISSING = {"listwise": "listwise", "fiml": "fiml", "ml": "fiml", "two.stage": "two.stage",
            "two-stage": "two.stage", "pairwise": "pairwise"}


def sem(model: str, data: pd.DataFrame, *, estimator: str = "ML", ordered=None,
        missing: str = "listwise", group: str | None = None, group_equal=(), group_partial=(),
        std_lv: bool = False, meanstructure: bool | None = None, se: str | None = None,
        bootstrap: int = 0, seed: int | None = None, ci_type: str | None = None,
        exclude_improper: bool = False, start=None, max_iter: int = 500, cluster: str | None = None,
        fixed_x: bool = True, progress: bool = False, n_jobs: int = 2,
        test: str | None = None, sampling_weights: str | None = None) -> SEMResult:
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
    missing : {"listwise", "fiml", "two.stage", "pairwise"}
        Listwise deletion (lavaan's default), full-information ML
        (``"ml"`` is an alias), pairwise (DWLS/WLSMV with ordinal
        indicators), or two-stage ML (``"two-stage"`` is an
        alias): ML fitted to the EM estimates of the saturated means and
        covariances [2]_ (rows whose sample moments are exactly those
        estimates, :func:`analysis.sem.twostage.exact_moment_data`; rows
        with every model variable missing are dropped and counted).  The
        result keeps the incomplete rows (``.incomplete_rows``), so that
        :func:`analysis.sem.bootstrap.bootstrap` resamples them and
        re-estimates the EM moments in every draw.  Its model-based SEs and
        chi-square treat the EM moments as complete data (``se="standard"``;
        the robust two-stage corrections are not implemented): report the
        bootstrap.  ML only, no ``ordered``; ``.options["missing"]`` is
        ``"two.stage"``.
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
    se : {"standard", "robust", "robust.cluster", "bootstrap", "none"}, optional
        Standard errors, as lavaan names them: ``"standard"`` the expected
        information of ML; ``"robust"`` (alias ``"robust.huber.white"``)
        the Huber-White sandwich of MLR (with ``cluster``: cluster-robust);
        ``"robust.cluster"`` the sandwich with the casewise scores summed
        within the clusters of ``cluster`` (needed); ``"bootstrap"`` the
        covariance of ``bootstrap`` draws; ``"none"``.  Default (None):
        lavaan's, i.e. ``"robust.cluster"`` with ``cluster`` and a
        single-level model, ``"bootstrap"`` when ``bootstrap > 0`` draws are
        requested, else ``"standard"``.  ``se`` sets :attr:`SEMResult.vcov`
        (and the test with ``cluster``); with bootstrap draws the estimates'
        ``se`` and intervals are the bootstrap's whatever ``se`` says.
    bootstrap : int
        Number of bootstrap draws; ``bootstrap > 0`` gives bootstrap SEs
        (the SD of the draws) and the ``ci_type`` interval in
        ``.estimates`` (plus every other available interval in
        ``boot_ci_*`` columns), the draws as ``.bootstrap`` and the counts
        of failed and improper draws in ``.fit``
        (:func:`analysis.sem.bootstrap.bootstrap_estimates`).  With
        ``cluster`` whole clusters are resampled (the cluster bootstrap),
        else rows; a two-stage fit resamples its incomplete rows.
    seed : int, optional
        Seed of the bootstrap.
    ci_type : {"percentile", "bc", "bca", "t", "symmetric-t"}, optional
        The bootstrap interval placed in ``ci_lower/ci_upper`` (a key of
        :data:`analysis.sem.bootstrap.INTERVAL_COLUMNS`; default
        ``"percentile"``, as lavaan's ``boot.ci.type = "perc"``).  ``"bca"``
        switches the jackknife acceleration on, ``"t"`` and
        ``"symmetric-t"`` the studentization of every draw by its own
        sandwich SE (cluster-robust in a cluster bootstrap).  Needs
        ``bootstrap > 0``.
    exclude_improper : bool
        Leave draws with a negative variance estimate out of the bootstrap
        SEs and intervals (they are counted either way).  Default False:
        kept, as lavaan.
    start : ndarray, optional
        Warm start for the free parameters.
    max_iter : int
        Maximum number of scoring iterations (lavaan's ``iter.max``).
    progress : bool
        Show a progress bar while the bootstrap runs.
    n_jobs : int
        Bootstrap workers (the draws do not depend on it).
    test : {"yuan.bentler.mplus", "satorra.bentler"}, optional
        With ``cluster`` and ``se="robust.cluster"`` (single-level model):
        the scaled test, lavaan's ``test =`` (default
        ``"yuan.bentler.mplus"``, lavaan's MLR); ``"satorra.bentler"`` is
        lavaan's ``estimator = "ML", se = "robust.cluster", test =
        "satorra.bentler"`` (:func:`analysis.sem.robust.satorra_bentler_test`).
        Otherwise only the default (None) is accepted.
    cluster : str, optional
        Column naming each row's cluster (lavaan's ``cluster =``).  With
        ``level: 1`` / ``level: 2`` blocks in the syntax: a two-level model
        estimated by ML (:mod:`analysis.sem.twolevel`; complete data, rows
        with a missing model variable or cluster dropped listwise and counted
        in ``.notes`` and ``.fit["n_dropped"]``).  Without level blocks: the
        single-level model, by default (``se="robust.cluster"``) with
        cluster-robust standard errors and the Yuan-Bentler scaled test
        (lavaan's ``se = "robust.cluster"``, ``test =
        "yuan.bentler.mplus"``, mean structure on), i.e. MLR with the
        casewise scores summed within clusters (:mod:`analysis.sem.robust`);
        with ``se="standard"`` or ``"bootstrap"`` the plain ML fit.  Rows
        whose cluster is missing are dropped (counted).  With
        ``bootstrap > 0`` the bootstrap resamples whole clusters.
    fixed_x : bool
        lavaan's ``fixed.x``: True (default) fixes the moments of exogenous
        observed covariates at their sample values (for a two-level model:
        at the EM saturated estimates, as lavaan); False estimates them.
        False is implemented for two-level models only.
    sampling_weights : str, optional
        Column of sampling weights, lavaan's ``sampling.weights``: the
        weights of the rows used are normalised to sum to their number
        (lavaan's ``sampling.weights.normalization = "total"``), the sample
        means and covariances are weighted (R's ``cov.wt(method = "ML")``)
        and each row's casewise score is multiplied by its weight in the
        sandwich.  As lavaan, ML becomes MLR (``se="robust"``, the
        Yuan-Bentler scaled test and the robust fit indices); with
        ``cluster`` the cluster-robust variant; with ``missing="fiml"`` the
        casewise loglikelihoods are weighted (weighted pattern statistics and
        EM).  Every row needs a non-negative weight.  ML/MLR, single-level
        models, no bootstrap draws; other combinations raise
        ``NotImplementedError``.

    Returns
    -------
    SEMResult
        :class:`~analysis.sem.twolevel.TwoLevelResult` for a two-level model.
        ``.options`` records the resolved ``missing``, ``se``, ``cluster``,
        ``bootstrap``, ``seed``, ``ci_type`` and ``exclude_improper``.

    Raises
    ------
    ValueError
        An unknown option, or options that do not go together (e.g.
        ``se="robust.cluster"`` without ``cluster``, ``ci_type`` without
        bootstrap draws, robust SEs with ``missing="two.stage"``), with a
        message that says which.

    Notes
    -----
    ML minimises :math:`F = \\tfrac12\\sum_g \\frac{N_g}{N}[\\log|\\Sigma_g|
    + \\operatorname{tr}(S_g\\Sigma_g^{-1}) - \\log|S_g| - p + (\\bar x_g
    - \\mu_g)^\\top\\Sigma_g^{-1}(\\bar x_g-\\mu_g)]` [1]_; standard errors
    come from the inverse of :math:`N` times the expected information.

    References
    ----------
    .. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. Journal of Statistical Software, 48(2), 1-36.
    .. [2] Savalei, V., & Bentler, P. M. (2009). A two-stage approach to
       missing data: Theory and application to auxiliary variables.
       *Structural Equation Modeling*, 16(3), 477-497.

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
    if se is not None and se not in _SE:
        raise ValueError(f"se must be one of {list(_SE)}, not {se!r}.")
    key = missing.lower() if isinstance(missing, str) else missing
    if key not in _MISSING:
        raise ValueError(f"missing must be one of {sorted(_MISSING)}, not {missing!r}.")
    missing = _MISSING[key]
    n_boot = _check_bootstrap_options(bootstrap, se, ci_type, exclude_improper)
    if sampling_weights is not None:
        _check_weights_options(sampling_weights, n_boot=n_boot, missing=missing, estimator=estimator,
                               ordered=ordered)
        if se is None and cluster is None:
            se = "robust"  # lavaan: sampling weights turn ML into MLR
    formulas = parse_syntax(model) if isinstance(model, str) else list(model)
    if isinstance(data, pd.DataFrame):  # lavaan's x:w product terms become columns
        from .interactions import add_products

        data = add_products(data, [n for f in formulas if f.op in ("~", "~~") for n in (f.lhs, f.rhs)])
    if any(getattr(f, "level", 0) for f in formulas):
        if sampling_weights is not None:
            raise NotImplementedError("Sampling weights are not implemented for two-level models.")
        if group_partial:
            raise NotImplementedError("group_partial needs groups; multigroup two-level models "
                                      "are not supported.")
        return _sem_twolevel(formulas, data, cluster=cluster, estimator=estimator,
                             ordered=ordered, missing=missing, group=group,
                             group_equal=group_equal, std_lv=std_lv, se=se or "standard",
                             bootstrap=n_boot, start=start, max_iter=max_iter,
                             fixed_x=fixed_x)
    if not fixed_x:
        raise NotImplementedError("fixed_x=False is implemented for two-level models only.")
    if se is None:  # lavaan's default
        se = "bootstrap" if n_boot else ("robust.cluster" if cluster is not None else "standard")
    if se == "robust.cluster" and cluster is None:
        raise ValueError("se='robust.cluster' needs cluster=, the column naming each row's cluster "
                         "(e.g. sem(model, data, se='robust.cluster', cluster='community')).")
    if test is not None and (cluster is None or se not in ("robust", "robust.huber.white",
                                                             "robust.cluster", "none")):
        raise (NotImplementedError if cluster is None else ValueError)(
            f"test={test!r} is available with cluster= and se='robust.cluster' (lavaan's se = "
            "'robust.cluster'); without it MLR gives the Yuan-Bentler test.")
    common = dict(estimator=estimator, ordered=ordered, group=group, group_equal=group_equal,
                  group_partial=group_partial, std_lv=std_lv, meanstructure=meanstructure,
                  start=start, max_iter=max_iter, sampling_weights=sampling_weights)
    if missing == "two.stage":
        result, labels = _sem_two_stage(model, formulas, data, se=se, cluster=cluster, **common)
    elif cluster is not None:
        result, labels = _sem_cluster(model, formulas, data, cluster=cluster, missing=missing, se=se,
                                      test=test, **common)
    else:
        result, labels = _fit_single(model, formulas, data, missing=missing, se=se, **common), None
    result.options.update(bootstrap=n_boot, seed=seed, ci_type=(ci_type or "percentile") if n_boot else None,
                          exclude_improper=bool(exclude_improper))
    if n_boot:
        _attach_bootstrap(result, n_boot, seed=seed, labels=labels, ci_type=ci_type or "percentile",
                          exclude_improper=exclude_improper, progress=progress, n_jobs=n_jobs)
    return result


def _check_bootstrap_options(bootstrap, se, ci_type, exclude_improper) -> int:
    """The number of draws, after checking the options that go with it."""
    from .bootstrap import INTERVAL_COLUMNS

    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a number of draws >= 0, not {bootstrap!r}.")
    n_boot = int(bootstrap)
    if se == "bootstrap" and n_boot == 0:
        raise ValueError("se='bootstrap' needs bootstrap > 0 draws.")
    if se == "none" and n_boot:
        raise ValueError("se='none' asks for no standard errors, but bootstrap draws were requested; "
                         "drop one of them.")
    if ci_type is not None:
        if ci_type not in INTERVAL_COLUMNS:
            raise ValueError(f"ci_type must be one of {list(INTERVAL_COLUMNS)}, not {ci_type!r}.")
        if n_boot == 0:
            raise ValueError(f"ci_type={ci_type!r} chooses a bootstrap interval: give bootstrap > 0 draws.")
    if exclude_improper and n_boot == 0:
        raise ValueError("exclude_improper applies to bootstrap draws: give bootstrap > 0 draws.")
    return n_boot


def _check_weights_options(weights, *, n_boot, missing, estimator, ordered) -> None:
    """Refuse, with a message, the combinations with sampling weights that are not implemented."""
    if not isinstance(weights, str):
        raise TypeError(f"sampling_weights must be a column name, not {type(weights).__name__}.")
    if n_boot:
        raise NotImplementedError("The bootstrap with sampling weights is not implemented; use the "
                                  "robust (sandwich) standard errors that the weighted fit reports.")
    if missing not in ("listwise", "fiml"):
        raise NotImplementedError(f"Sampling weights are implemented with missing='listwise' or 'fiml', "
                                  f"not missing={missing!r} (lavaan: two.stage + sampling.weights is not "
                                  "supported either).")
    if str(estimator).upper() not in ("ML", "MLR") or ordered not in (None, False):
        raise NotImplementedError("Sampling weights are implemented for ML/MLR with continuous "
                                  f"indicators, not estimator={estimator!r}"
                                  + (" with ordered variables" if ordered not in (None, False) else "")
                                  + ".")


def _fit_single(model, formulas, data, *, estimator, ordered, missing, group, group_equal,
                group_partial, std_lv, meanstructure, se, start, max_iter,
                sampling_weights=None) -> SEMResult:
    """The single-level fit of a data frame (no cluster, no bootstrap)."""
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
    if se == "robust.cluster":
        raise ValueError("se='robust.cluster' needs cluster=.")
    if missing not in ("listwise", "fiml"):
        raise ValueError(f"missing={missing!r} is not available for estimator {est.name} "
                         "(use 'listwise', 'fiml' or 'two.stage').")
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
    st = sample_stats(data, vs.ov, group=group, missing=missing, weights=sampling_weights)
    pt = fill_fixed_x(pt, vs.ov, st.cov, st.mean)
    mod = SEMModel(pt, vs.ov, vs.lv, ngroups, bool(ms))
    objective = est.build(mod, st, missing=missing, ordered=ordered)
    theta0 = start_values(pt, vs, st, std_lv=std_lv) if start is None else np.asarray(start, float)
    res = minimize(objective, theta0, max_iter=max_iter)
    options = dict(estimator=est.name, missing=missing, group=group,
                   group_equal=tuple(group_equal), std_lv=std_lv, meanstructure=bool(ms),
                   se=se, bootstrap=0, seed=None, ordered=ordered, sampling_weights=sampling_weights)
    options["group_partial"] = tuple(f"{lhs}{op}{rhs}"  # as lavaan stores it: "visual=~x2"
                                     for lhs, op, rhs in parse_group_partial(group_partial))
    return SEMResult(pt, vs, mod, objective, est, res.theta, res.converged, res.n_iter, options)


def _attach_bootstrap(result, n_boot, *, seed, labels, ci_type, exclude_improper, progress, n_jobs):
    """Run the (cluster) bootstrap of a fit and attach it (``.bootstrap``; ``.boot`` for se='bootstrap')."""
    from . import bootstrap as _boot

    if labels is not None and len(labels) != 1:
        raise ValueError("The cluster bootstrap is implemented for single-group models; drop group= or "
                         "cluster=.")
    boot = _boot.bootstrap(result, n_boot=n_boot, seed=seed, n_jobs=n_jobs, progress=progress,
                           exclude_improper=bool(exclude_improper),
                           cluster=None if labels is None else labels[0], **_boot.interval_options(ci_type))
    result.bootstrap = boot
    if result.options.get("se") == "bootstrap":
        # lavaan's se = "bootstrap": the covariance of the used draws is the fit's vcov
        theta = boot.theta.copy()
        theta[~boot.used] = np.nan
        result.boot = theta


def _sem_two_stage(model, formulas, data, *, estimator, ordered, group, group_equal, group_partial,
                   std_lv, meanstructure, se, start, max_iter, cluster, sampling_weights=None):
    """``sem(..., missing="two.stage")``: ML fitted to rows whose moments are the EM estimates.

    Returns the fit (remembering its incomplete rows) and, with ``cluster``,
    the cluster label of each remembered row (per group).
    """
    from .robust import cluster_labels
    from .twostage import exact_moment_data

    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame.")
    if str(estimator).upper() != "ML":
        raise ValueError(f"missing='two.stage' fits ML to the EM moments; estimator={estimator!r} is not "
                         "available with it (use estimator='ML' and se='bootstrap' or se='standard').")
    if ordered not in (None, False):
        raise ValueError("missing='two.stage' is for continuous indicators; ordered variables are fitted "
                         "by estimator='WLSMV' (pairwise).")
    if se not in ("standard", "bootstrap", "none"):
        raise ValueError(f"se={se!r} is not available with missing='two.stage': its robust (sandwich) "
                         "corrections need the two-stage asymptotic covariance, which is not implemented. "
                         "Use se='standard' (the EM moments treated as complete data) and bootstrap draws, "
                         "which resample the incomplete rows"
                         + (" and whole clusters" if cluster is not None else "") + ".")
    _, vs = build_partable(formulas)
    ov = list(vs.ov)
    absent = [v for v in ov if v not in data.columns]
    if absent:
        raise ValueError(f"The model uses variables that are not columns of the data: {absent}.")
    for v in ov:
        if not (pd.api.types.is_numeric_dtype(data[v]) or pd.api.types.is_bool_dtype(data[v])):
            raise ValueError(f"Column {v!r} is not numeric (dtype {data[v].dtype}).")
    if group is not None and group not in data.columns:
        raise ValueError(f"The group column {group!r} is not in the data.")
    keep = data[ov].notna().any(axis=1).to_numpy()  # as FIML: a row without any value carries none
    if group is not None:
        keep = keep & data[group].notna().to_numpy()
    if cluster is not None:
        if cluster not in data.columns:
            raise ValueError(f"The cluster column {cluster!r} is not in the data "
                             f"(columns: {list(map(str, data.columns))[:12]}).")
        keep = keep & data[cluster].notna().to_numpy()
    frame = data.loc[keep] if not keep.all() else data
    moments = exact_moment_data(frame, ov, group=group)
    fit = _fit_single(model, formulas, moments, estimator="ML", ordered=None, missing="listwise",
                      group=group, group_equal=group_equal, group_partial=group_partial, std_lv=std_lv,
                      meanstructure=meanstructure, se="none" if se == "none" else "standard",
                      start=start, max_iter=max_iter)
    names = list(fit.stats.ov_names)
    if group is None:
        rows = [frame[names].to_numpy(float)]
    else:
        gcol = frame[group].to_numpy()
        rows = [frame.loc[gcol == lab, names].to_numpy(float) for lab in fit.stats.group_labels]
    fit.incomplete_rows = rows
    n_out = int((~keep).sum())
    if n_out:
        fit.objective.stats = replace(fit.objective.stats, n_dropped=fit.objective.stats.n_dropped + n_out)
    fit.options.update(missing="two.stage", se=se, cluster=cluster)
    labels = None
    if cluster is not None:
        labels = cluster_labels(frame, names, cluster, group=group, missing="fiml")
    return fit, labels


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


def _sem_cluster(model, formulas, data, *, cluster, estimator, ordered, missing, group, group_equal,
                 group_partial, std_lv, meanstructure, se, start, max_iter, test=None,
                 sampling_weights=None):
    """Single-level ``sem(..., cluster=)``: ML estimates, cluster-robust SEs and test.

    As lavaan 0.6.14: ``estimator = "ML"`` (or ``"MLR"``) with ``cluster``
    gives ``se = "robust.cluster"`` (the sandwich of :func:`analysis.sem.robust.robust_vcov`
    with the scores summed within clusters, times ``G/(G-1)``) and
    ``test = "yuan.bentler.mplus"`` (``test="satorra.bentler"``: the
    Satorra-Bentler test with the cluster-robust Gamma), and switches the
    mean structure on.  ``se="standard"`` or ``"bootstrap"``: the plain ML
    fit (the clusters serve the bootstrap).  Rows whose cluster is missing
    are dropped (counted in ``stats.n_dropped``).

    Returns the fit and the cluster label of each row it uses (per group).
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
    from . import robust

    bad = data[cluster].isna().to_numpy()
    frame = data.loc[~bad]
    if se in ("standard", "bootstrap"):
        fit = _fit_single(model, formulas, frame, estimator=estimator, ordered=None, missing=missing,
                          group=group, group_equal=group_equal, group_partial=group_partial,
                          std_lv=std_lv, meanstructure=meanstructure, se="standard", start=start,
                          max_iter=max_iter, sampling_weights=sampling_weights)
        labels = robust.cluster_labels(frame, fit.stats.ov_names, cluster, group=group,
                                       missing=fit.options["missing"])
        if bad.any():
            fit.objective.stats = replace(fit.objective.stats,
                                          n_dropped=fit.objective.stats.n_dropped + int(bad.sum()))
        fit.options.update(cluster=cluster, se=se)
        return fit, labels
    test = test or "yuan.bentler.mplus"
    if test not in robust.SCALED_TESTS:
        raise ValueError(f"test must be one of {list(robust.SCALED_TESTS)} with cluster=, "
                         f"not {test!r}.")
    fit = _fit_single(model, formulas, frame, estimator="MLR", ordered=None, missing=missing, group=group,
                      group_equal=group_equal, group_partial=group_partial, std_lv=std_lv,
                      meanstructure=True, se="none" if se == "none" else "robust", start=start,
                      max_iter=max_iter, sampling_weights=sampling_weights)
    labels = robust.cluster_labels(frame, fit.stats.ov_names, cluster, group=group,
                                   missing=fit.options["missing"])
    fit.objective.cluster = labels
    if bad.any():
        fit.objective.stats = replace(fit.objective.stats,
                                      n_dropped=fit.objective.stats.n_dropped + int(bad.sum()))
    fit.objective.scaled_test_kind = test
    fit.options.update(cluster=cluster, se="none" if se == "none" else "robust.cluster",
                       test=test)
    return fit, labels


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
