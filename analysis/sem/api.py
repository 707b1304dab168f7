"""``sem()`` and ``cfa()``: lavaan syntax and a data frame in, a fit out.

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from .assembly import Prepared, Stages, assemble
from .estimators import get_estimator
from .options import Options
from .partable import build_partable, fill_fixed_x, parse_group_partial
from .results import SEMResult
from .samplestats import sample_stats
from .syntax import parse_syntax

__all__ = ["sem", "cfa"]


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
        One type for every fit; a two-level fit has a ``levels`` section
        (:class:`~analysis.sem.twolevel.Levels`), a DWLS/WLSMV fit a
        ``thresholds`` section (:class:`~analysis.sem.dwls.Thresholds`).
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
    formulas = parse_syntax(model) if isinstance(model, str) else list(model)
    opts = Options.resolve(
        two_level=any(getattr(f, "level", 0) for f in formulas), estimator=estimator, ordered=ordered,
        missing=missing, group=group, group_equal=group_equal, group_partial=group_partial, std_lv=std_lv,
        meanstructure=meanstructure, se=se, bootstrap=bootstrap, seed=seed, ci_type=ci_type,
        exclude_improper=exclude_improper, max_iter=max_iter, cluster=cluster, fixed_x=fixed_x, test=test,
        sampling_weights=sampling_weights)
    if isinstance(data, pd.DataFrame):  # lavaan's x:w product terms become columns
        from .interactions import add_products

        data = add_products(data, [n for f in formulas if f.op in ("~", "~~") for n in (f.lhs, f.rhs)])
    if opts.two_level:
        return assemble(_stages(opts), formulas, data, opts, start=start)
    if opts.missing == "two.stage":
        result = _sem_two_stage(formulas, data, opts, start=start)
    elif opts.cluster is not None:
        result = _sem_cluster(formulas, data, opts, start=start)
    else:
        result = _fit_single(formulas, data, opts, start=start)
    if not opts.bootstrap:
        return result
    from . import bootstrap as _boot

    labels = result.cluster_labels
    if labels is not None and len(labels) != 1:
        raise ValueError("The cluster bootstrap is implemented for single-group models; drop group= or "
                         "cluster=.")
    boot = _boot.bootstrap(result, n_boot=opts.bootstrap, seed=opts.seed, n_jobs=n_jobs, progress=progress,
                           exclude_improper=opts.exclude_improper,
                           cluster=None if labels is None else labels[0], **_boot.interval_options(opts.interval))
    return result.with_bootstrap(boot, opts.interval)


class SingleLevel(Stages):
    """The stages of a single-level fit to moments: ML, MLR, FIML, two-stage ML, cluster-robust ML.

    ``opts`` says what to fit.  Context of :func:`~analysis.sem.assembly.assemble`:
    ``incomplete``, the rows two-stage ML took its EM moments from (passed as
    ``data``), which the result keeps (per group, ``.incomplete_rows``) for its
    bootstrap; ``n_dropped``, rows left out before (no value, no cluster);
    ``recorded``, what ``.options`` reports instead of the options fitted.  With
    ``opts.cluster`` the cluster label of each row used is found here
    (``.cluster_labels``), and with ``opts.test`` set (the cluster-robust fit)
    the estimator is MLR with the casewise scores summed within clusters.
    """

    def prepare(self, formulas, data, opts: Options, *, n_dropped=0, incomplete=None, **_) -> Prepared:
        est = get_estimator(opts.estimator)
        if opts.missing not in ("listwise", "fiml"):
            raise ValueError(f"missing={opts.missing!r} is not available for estimator {est.name} "
                             "(use 'listwise', 'fiml' or 'two.stage').")
        cluster_robust = opts.cluster is not None and opts.test is not None
        if est.name == "ML" and (cluster_robust or opts.se in ("robust", "robust.huber.white")):
            est = get_estimator("MLR")
        group = opts.group
        ngroups = 1
        if group is not None:
            if group not in data.columns:
                raise ValueError(f"The group column {group!r} is not in the data.")
            ngroups = int(data[group].dropna().nunique())
        ms = opts.meanstructure
        if ms is None:
            ms = ngroups > 1 or opts.missing == "fiml"
        if cluster_robust:
            ms = True  # lavaan switches the mean structure on with cluster=
        pt, vs = build_partable(formulas, ngroups=ngroups, std_lv=opts.std_lv, meanstructure=bool(ms),
                                group_equal=opts.group_equal, group_partial=opts.group_partial)
        if any(pt["op"] == "~1"):
            ms = True
        st = sample_stats(data, vs.ov, group=group, missing=opts.missing, weights=opts.sampling_weights)
        if n_dropped:
            st = replace(st, n_dropped=st.n_dropped + n_dropped)
        rows = labels = None
        names = list(st.ov_names)
        if incomplete is not None:  # the rows the moments came from, per group as in the statistics
            if group is None:
                rows = (incomplete[names].to_numpy(float),)
            else:
                gcol = incomplete[group].to_numpy()
                rows = tuple(incomplete.loc[gcol == lab, names].to_numpy(float) for lab in st.group_labels)
        if opts.cluster is not None:
            from .robust import cluster_labels

            source = data if incomplete is None else incomplete
            labels = cluster_labels(source, names, opts.cluster, group=group,
                                    missing=opts.missing if incomplete is None else "fiml")
        pt = fill_fixed_x(pt, vs.ov, st.cov, st.mean)
        return Prepared(pt, vs, st, est, ngroups, bool(ms),
                        dict(incomplete_rows=rows, cluster_labels=labels, cluster_robust=cluster_robust))

    def objective(self, model, prepared: Prepared, opts: Options):
        objective = super().objective(model, prepared, opts)
        if prepared.extra["cluster_robust"]:  # the sandwich and the scaled test sum the scores within clusters
            objective.cluster = prepared.extra["cluster_labels"]
            objective.scaled_test_kind = opts.test
        return objective

    def result(self, model, objective, optim, prepared: Prepared, opts: Options, *, recorded=None,
               **_) -> SEMResult:
        partial = tuple(f"{lhs}{op}{rhs}" for lhs, op, rhs in parse_group_partial(opts.group_partial))
        options = opts.record(estimator=prepared.estimator.name, meanstructure=prepared.meanstructure,
                              group_partial=partial, **(recorded or {}))  # group_partial: "visual=~x2"
        return SEMResult(prepared.partable, prepared.variables, model, objective, prepared.estimator,
                         optim.theta, optim.converged, optim.n_iter, options,
                         incomplete_rows=prepared.extra["incomplete_rows"],
                         cluster_labels=prepared.extra["cluster_labels"])


#: The single-level stages (one object: they keep no state).
SINGLE_LEVEL = SingleLevel()


def _stages(opts: Options) -> Stages:
    """The kind of fit the options ask for (the two-level and WLS stages are imported when needed)."""
    if opts.two_level:
        from .twolevel import TWO_LEVEL_STAGES  # lazy: keeps the single-level import light

        return TWO_LEVEL_STAGES
    if _wls_estimator(opts) is not None:
        from .dwls import WLS_STAGES  # lazy: the ordinal engine imports polychoric correlations

        if opts.group_partial:
            raise NotImplementedError("group_partial is not available for ordinal (DWLS/WLSMV) "
                                      "fits; free the parameters with per-group labels instead.")
        return WLS_STAGES
    return SINGLE_LEVEL


def _wls_estimator(opts: Options) -> str | None:
    """"DWLS" or "WLSMV" when the fit is one of weighted least squares (lavaan switches ML with
    ``ordered`` to WLSMV), else None."""
    name = str(opts.estimator).upper()
    if name in ("DWLS", "WLSMV"):
        return name
    if opts.ordered is not None and opts.ordered is not False:
        if name == "MLR":
            raise ValueError(f"estimator={opts.estimator!r} cannot be used with ordered variables; "
                             "use 'WLSMV' or 'DWLS'.")
        if name == "ML":
            return "WLSMV"
    return None


def _fit_single(formulas, data, opts: Options, *, start=None, **context) -> SEMResult:
    """One fit of a model without ``level:`` blocks, through the assembly line."""
    stages = _stages(opts)
    if stages is not SINGLE_LEVEL:
        opts = opts.but(estimator=_wls_estimator(opts))
    return assemble(stages, formulas, data, opts, start=start, **context)


def _check_cluster_column(data, cluster: str) -> None:
    if cluster not in data.columns:
        raise ValueError(f"The cluster column {cluster!r} is not in the data "
                         f"(columns: {list(map(str, data.columns))[:12]}).")


def _sem_two_stage(formulas, data, opts: Options, *, start=None) -> SEMResult:
    """``sem(..., missing="two.stage")``: ML fitted to rows whose moments are the EM estimates.

    The fit keeps the incomplete rows (per group) and, with ``cluster``, the
    cluster label of each, which its bootstrap resamples (re-estimating the
    EM moments in every draw).
    """
    from .twostage import exact_moment_data

    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame.")
    group, cluster = opts.group, opts.cluster
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
        _check_cluster_column(data, cluster)
        keep = keep & data[cluster].notna().to_numpy()
    frame = data.loc[keep] if not keep.all() else data
    inner = opts.but(missing="listwise", se="none" if opts.se == "none" else "standard")
    return _fit_single(formulas, exact_moment_data(frame, ov, group=group), inner, start=start,
                       n_dropped=int((~keep).sum()), incomplete=frame,
                       recorded=dict(missing="two.stage", se=opts.se))


def _sem_cluster(formulas, data, opts: Options, *, start=None) -> SEMResult:
    """Single-level ``sem(..., cluster=)``: ML estimates, cluster-robust SEs and test.

    As lavaan 0.6.14: ``estimator = "ML"`` (or ``"MLR"``) with ``cluster``
    gives ``se = "robust.cluster"`` (the sandwich of :func:`analysis.sem.robust.robust_vcov`
    with the scores summed within clusters, times ``G/(G-1)``) and
    ``test = "yuan.bentler.mplus"`` (``test="satorra.bentler"``: the
    Satorra-Bentler test with the cluster-robust Gamma), and switches the
    mean structure on.  ``se="standard"`` or ``"bootstrap"``: the plain ML
    fit (the clusters serve the bootstrap).  Rows whose cluster is missing
    are dropped (counted in ``stats.n_dropped``).
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame.")
    _check_cluster_column(data, opts.cluster)
    bad = data[opts.cluster].isna().to_numpy()
    return _fit_single(formulas, data.loc[~bad], opts, start=start, n_dropped=int(bad.sum()))


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
