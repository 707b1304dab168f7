"""The robustness step: do the key results survive other analysis choices?

``run_robustness`` refits the instrument's structural model (the same model
as the structural step: PL -> GRID, RES, ORG, LIST -> CR with the direct
path and the controls on CR) under several estimators and missing-data
strategies, and compares the structural paths ``a1..a4, b1..b4, c`` and the
``:=`` effects (indirect effects, total, contrasts) with the comparison
reference, ML with FIML (the main analysis, chapter 6, is two-stage ML; the two
are asymptotically equivalent under MAR and ``ml_two_stage`` is one of the
strategies compared).  It writes under ``results/robustness/``:

``estimators.csv``
    One row per (specification, parameter): ``est, se, z, pvalue,
    ci_lower, ci_upper, std_all, nobs``, the specification's reference and
    the change in ``std_all`` and in the significance decision against it,
    and a ``status`` column (non-convergence and improper solutions are
    reported, never hidden).
``estimators_fit.csv``
    Fit measures per specification (scaled/robust ones where they apply).
``missing.csv``
    The missing data: share missing per item, number of missing-data
    patterns, share of complete rows (long format ``statistic, scope, item,
    construct, value``).
``missing_strategies.csv``
    Indirect effects under listwise deletion, FIML, two-stage ML and
    pairwise WLSMV side by side.
``headline.json``
    Numbers for the chapter prose.

Specifications (:data:`SPECIFICATIONS`)
---------------------------------------
``ml_fiml``
    ML, FIML (lavaan ``missing = "ml"``): the comparison reference.
``ml_listwise``
    ML on the complete rows only (lavaan's default ``missing = "listwise"``).
``mlr_fiml``
    MLR with FIML: Huber-White SEs and the Yuan-Bentler scaled test.
``mlr_fiml_cluster``
    MLR with FIML and cluster-robust SEs by community (casewise scores
    summed within communities, lavaan's ``cluster =`` for a single-level
    model).
``ml_two_stage``
    Two-stage ML (EM moments, then ML: the point estimator of the
    structural step; its model-based SEs treat the EM moments as complete
    data).
``ml_fiml_nocontrols``
    ML, FIML without the controls: the like-for-like reference of WLSMV.
``wlsmv_pairwise``
    WLSMV with every item as ordinal (polychoric correlations from all
    available pairs, lavaan's ``missing = "pairwise"``); without the
    controls, because the SEM core fits ordinal models only when every
    observed variable is ordinal.

References
----------
.. [1] Enders, C. K., & Bandalos, D. L. (2001). The relative performance of
   full information maximum likelihood estimation for missing data in
   structural equation models. *Structural Equation Modeling*, 8(3),
   430-457.
.. [2] Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods
   for mean and covariance structure analysis with nonnormal missing data.
   *Sociological Methodology*, 30, 165-200.
.. [3] Muthén, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference
   using weighted least squares and quadratic estimating equations in
   latent variable modeling with categorical and continuous outcomes.
   Unpublished technical report.
.. [4] Williams, R. L. (2000). A note on robust variance estimation for
   cluster-correlated data. *Biometrics*, 56(2), 645-646.
.. [5] Savalei, V., & Bentler, P. M. (2009). A two-stage approach to
   missing data: Theory and application to auxiliary variables.
   *Structural Equation Modeling*, 16(3), 477-497.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..errors import InputError
from ..io import write_csv, write_json
from ..results import SYNTHETIC_NOTE_EN

__all__ = ["Specification", "SPECIFICATIONS", "FitOutcome", "KEY_LABELS", "fit_specification", "fit_specifications",
           "key_parameters", "estimator_table", "fit_table", "missing_description",
           "strategy_table", "robustness_headline", "run_robustness"]

#: Labelled structural paths compared across specifications (plus every ``:=`` effect).
KEY_LABELS = ("a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4", "c")
#: Indirect effects whose standardized change the headline reports.
INDIRECT = ("ind_GRID", "ind_RES", "ind_ORG", "ind_LIST", "total_indirect")
ALPHA = 0.05

EST_COLUMNS = ["specification", "description", "estimator", "missing", "se_type", "lhs", "op", "rhs",
               "label", "est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all", "nobs",
               "reference", "delta_est", "delta_std_all", "significant", "significance_changed",
               "converged", "status", "note"]
FIT_COLUMNS = ["specification", "description", "estimator", "missing", "se_type", "converged", "status",
               "issues", "nobs", "npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
               "rmsea_ci_upper", "srmr", "aic", "bic", "chisq_scaled", "df_scaled", "pvalue_scaled",
               "scaling_factor", "cfi_scaled", "tli_scaled", "rmsea_scaled", "cfi_robust", "tli_robust",
               "rmsea_robust", "note"]


@dataclass(frozen=True)
class Specification:
    """One analysis choice.

    Attributes
    ----------
    name : str
        Short id (the ``specification`` column).
    description : str
        What it is, in words.
    estimator : {"ML", "MLR", "WLSMV"}
    missing : {"fiml", "listwise", "two-stage", "pairwise"}
    se_type : str
        ``"information"``, ``"robust"``, ``"cluster-robust"`` or ``"robust (WLSMV)"``.
    controls : bool
        Whether the control variables enter the model.
    cluster : bool
        Cluster-robust SEs by community.
    reference : str
        The specification it is compared with.
    note : str
        A caveat printed in the tables.
    """

    name: str
    description: str
    estimator: str
    missing: str
    se_type: str
    controls: bool = True
    cluster: bool = False
    reference: str = "ml_fiml"
    note: str = ""


SPECIFICATIONS = (
    Specification("ml_fiml", "ML, FIML (comparison reference)", "ML", "fiml", "information",
                  reference="ml_fiml"),
    Specification("ml_listwise", "ML, listwise deletion", "ML", "listwise", "information",
                  note="complete rows only"),
    Specification("mlr_fiml", "MLR, FIML (robust SEs)", "MLR", "fiml", "robust",
                  note="Huber-White SEs, Yuan-Bentler scaled test"),
    Specification("mlr_fiml_cluster", "MLR, FIML, cluster-robust SEs by community", "MLR", "fiml",
                  "cluster-robust", cluster=True,
                  note="scores summed within communities, G/(G-1) correction"),
    Specification("ml_two_stage", "ML, two-stage (EM moments; structural step's estimator)", "ML",
                  "two-stage", "information",
                  note="model-based SEs treat the EM moments as complete data (liberal)"),
    Specification("ml_fiml_nocontrols", "ML, FIML, no controls (reference for WLSMV)", "ML", "fiml",
                  "information", controls=False),
    Specification("wlsmv_pairwise", "WLSMV, items ordinal, pairwise present", "WLSMV", "pairwise",
                  "robust (WLSMV)", controls=False, reference="ml_fiml_nocontrols",
                  note="no controls: ordinal models need every observed variable ordinal; "
                       "std_all on the latent-response scale"),
)


class FitOutcome:
    """A fitted specification or the reason it failed.

    Attributes
    ----------
    spec : Specification
    fit : SEMResult or None
    error : str
        Empty unless the fit raised.
    """

    def __init__(self, spec: Specification, fit=None, error: str = ""):
        self.spec = spec
        self.fit = fit
        self.error = error

    @property
    def status(self) -> str:
        """``ok``, ``not converged``, ``improper solution`` or ``failed: <reason>``."""
        if self.fit is None:
            return f"failed: {self.error}"
        if not self.fit.converged:
            return "not converged"
        if self.fit.issues:
            return "improper solution"
        return "ok"


# ---------------------------------------------------------------------------
def fit_specification(spec: Specification, data: pd.DataFrame, model: str, items, *,
                      cluster: str = "community", start=None, seed: int = 0):
    """Fit one specification.

    Parameters
    ----------
    spec : Specification
    data : pandas.DataFrame
        Scored items, the model's control columns and ``cluster``.
    model : str
        lavaan syntax of the model for this specification (with or without
        the controls, as ``spec.controls`` says).
    items : list of str
        The Likert items (the ordinal variables of WLSMV).
    cluster : str
        Column with the cluster labels (``spec.cluster``).
    start : ndarray, optional
        Warm start (the ML-FIML estimates for MLR: same point estimates).
    seed : int
        Kept for the callers; every specification is deterministic.

    Returns
    -------
    SEMResult

    Notes
    -----
    MLR and ML share the point estimates; MLR's SEs are
    :math:`N^{-1}E^{-1}BE^{-1}` with :math:`B` the mean outer product of
    the casewise scores [2]_, and the cluster-robust variant replaces the
    casewise scores by their sums within clusters and multiplies :math:`B`
    by :math:`G/(G-1)` [4]_.  The two-stage estimator fits ML to rows whose
    moments are the EM estimates [5]_.
    """
    from ..sem import sem

    if spec.estimator == "WLSMV":
        return sem(model, data[list(items)], estimator="WLSMV", ordered=list(items),
                   missing=spec.missing)
    if spec.missing == "two-stage":
        return sem(model, data, missing="two.stage", meanstructure=True)
    if spec.cluster:
        if cluster not in data.columns:
            raise InputError(f"the cluster column {cluster!r} is not in the analysis data")
        if data[cluster].isna().any():
            raise InputError(f"the cluster column {cluster!r} has missing values")
        # lavaan's cluster = for a single-level model: MLR estimates, cluster-robust SEs and test
        return sem(model, data.assign(**{cluster: data[cluster].astype(str)}), estimator=spec.estimator,
                   missing=spec.missing, cluster=cluster, se="robust.cluster", start=start)
    return sem(model, data, estimator=spec.estimator, missing=spec.missing, start=start)


def _warm_start(fit, model: str):
    """Start values for ``model`` from a FIML fit of a model sharing its parameters.

    Every free parameter of ``model`` (single group, mean structure) is
    looked up by ``(lhs, op, rhs)`` in ``fit``; None when one is missing.
    Only the starting point changes: the optimum and every statistic are
    those of a cold start (FIML fits of the full model take minutes, so the
    MLR and no-controls fits start at the ML solution).
    """
    if fit is None:
        return None
    from ..sem.partable import build_partable

    pt, _ = build_partable(model, meanstructure=True)
    e = fit.estimates
    known = {(r.lhs, r.op, r.rhs): r.est for r in e.itertuples(index=False) if r.op != ":="}
    free = pt[pt["free"] > 0].sort_values("free")
    keys = list(zip(free["lhs"], free["op"], free["rhs"]))
    if not all(k in known for k in keys):
        return None
    return np.array([known[k] for k in keys], dtype=float)


def _observed(model: str) -> list:
    from ..sem.partable import build_partable

    _, vs = build_partable(model)
    return list(vs.ov)


def fit_specifications(data: pd.DataFrame, models: dict, items, specs=SPECIFICATIONS, *,
                       cluster: str = "community", seed: int = 0) -> dict:
    """Fit every specification; failures are kept with their reason.

    Parameters
    ----------
    data : pandas.DataFrame
    models : dict
        ``{"controls": syntax, "nocontrols": syntax}``.
    items : list of str
    specs : sequence of Specification
    cluster : str
    seed : int

    Returns
    -------
    dict
        ``name -> FitOutcome`` in the order of ``specs``.
    """
    out = {}
    fiml_fit = None
    for spec in specs:
        model = models["controls" if spec.controls else "nocontrols"]
        start = _warm_start(fiml_fit, model) if spec.missing == "fiml" else None
        try:
            fit = fit_specification(spec, data, model, items, cluster=cluster, start=start, seed=seed)
            fit.estimates  # noqa: B018  (compute now, so errors are caught here)
            fit.fit  # noqa: B018
            if spec.missing == "fiml" and fit.converged and fiml_fit is None:
                fiml_fit = fit
            out[spec.name] = FitOutcome(spec, fit)
        except (ValueError, np.linalg.LinAlgError, NotImplementedError, InputError) as exc:
            out[spec.name] = FitOutcome(spec, None, str(exc))
    return out


# ---------------------------------------------------------------------------
def key_parameters(fit) -> pd.DataFrame:
    """The labelled structural paths and the ``:=`` effects of a fit.

    Parameters
    ----------
    fit : SEMResult

    Returns
    -------
    pandas.DataFrame
        ``lhs, op, rhs, label, est, se, z, pvalue, ci_lower, ci_upper,
        std_all`` for the rows labelled ``a1..a4, b1..b4, c`` and every
        ``:=`` row, in the order of the estimates table.
    """
    e = fit.estimates
    keep = (e["op"] == ":=") | ((e["op"] == "~") & e["label"].isin(KEY_LABELS))
    cols = ["lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all"]
    return e.loc[keep, cols].reset_index(drop=True)


def _nobs(fit) -> float:
    try:
        return float(fit.fit["nobs"])
    except (KeyError, TypeError):
        return float("nan")


def estimator_table(outcomes: dict, alpha: float = ALPHA) -> pd.DataFrame:
    """Key parameters of every specification, compared with its reference.

    Parameters
    ----------
    outcomes : dict
        From :func:`fit_specifications`.
    alpha : float
        Significance level of the decisions compared.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EST_COLUMNS`: ``specification, description,
        estimator, missing, se_type, lhs, op, rhs, label, est, se, z,
        pvalue, ci_lower, ci_upper, std_all, nobs, reference, delta_est,
        delta_std_all, significant, significance_changed, converged,
        status, note``.  A failed specification has one row per key
        parameter of the reference with NaN numbers.

    Notes
    -----
    ``delta_std_all`` is :math:`\\hat\\beta^{std}_{spec} -
    \\hat\\beta^{std}_{ref}`; ``significance_changed`` is True when
    :math:`p < \\alpha` in one and not in the other.  Wald p-values
    :math:`2\\Phi(-|z|)` with delta-method SEs for ``:=`` effects [1]_.

    References
    ----------
    .. [1] Sobel, M. E. (1982). Asymptotic confidence intervals for indirect
       effects in structural equation models. *Sociological Methodology*,
       13, 290-312.
    """
    tables = {name: key_parameters(o.fit) for name, o in outcomes.items() if o.fit is not None}
    template = next(iter(tables.values()), None)
    frames = []
    for name, o in outcomes.items():
        s = o.spec
        if o.fit is not None:
            t = tables[name].copy()
            nobs = _nobs(o.fit)
            converged = bool(o.fit.converged)
        else:
            t = (template[["lhs", "op", "rhs", "label"]].copy() if template is not None
                 else pd.DataFrame(columns=["lhs", "op", "rhs", "label"]))
            for c in ("est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all"):
                t[c] = np.nan
            nobs, converged = np.nan, False
        t["nobs"] = nobs
        ref = tables.get(s.reference)
        if ref is not None:
            r = ref.set_index(["lhs", "op", "rhs"])
            idx = pd.MultiIndex.from_frame(t[["lhs", "op", "rhs"]])
            r = r.reindex(idx)
            t["delta_est"] = t["est"].to_numpy() - r["est"].to_numpy()
            t["delta_std_all"] = t["std_all"].to_numpy() - r["std_all"].to_numpy()
            sig_ref = r["pvalue"].to_numpy() < alpha
            sig = t["pvalue"].to_numpy() < alpha
            valid = np.isfinite(t["pvalue"].to_numpy()) & np.isfinite(r["pvalue"].to_numpy())
            t["significance_changed"] = np.where(valid, sig != sig_ref, False)
        else:
            t["delta_est"] = np.nan
            t["delta_std_all"] = np.nan
            t["significance_changed"] = False
        t["significant"] = t["pvalue"].to_numpy() < alpha
        t = t.assign(specification=s.name, description=s.description, estimator=s.estimator,
                     missing=s.missing, se_type=s.se_type, reference=s.reference, converged=converged,
                     status=o.status, note=s.note)
        frames.append(t[EST_COLUMNS])
    if not frames:
        return pd.DataFrame(columns=EST_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["significant"] = out["significant"].astype(bool)
    out["significance_changed"] = out["significance_changed"].astype(bool)
    return out


def fit_table(outcomes: dict) -> pd.DataFrame:
    """Fit measures per specification.

    Parameters
    ----------
    outcomes : dict
        From :func:`fit_specifications`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FIT_KEYS`: ``specification, description, estimator,
        missing, se_type, converged, status, issues, nobs, npar, chisq, df,
        pvalue, cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper, srmr, aic,
        bic, chisq_scaled, df_scaled, pvalue_scaled, scaling_factor,
        cfi_scaled, tli_scaled, rmsea_scaled, cfi_robust, tli_robust,
        rmsea_robust, note``; NaN where a measure does not apply (scaled
        ones for ML; AIC/BIC for WLSMV).

    Notes
    -----
    MLR: Yuan-Bentler scaled chi-square [1]_ and the robust CFI/TLI/RMSEA of
    Brosseau-Liard & Savalei [2]_ (FIML-corrected for incomplete data);
    WLSMV: mean- and variance-adjusted chi-square [3]_.  With FIML and
    listwise deletion the chi-squares rest on different N and are not
    comparable with each other.

    References
    ----------
    .. [1] Yuan, K.-H., & Bentler, P. M. (2000). *Sociological
       Methodology*, 30, 165-200.
    .. [2] Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting
       incremental fit indices for nonnormality. *Multivariate Behavioral
       Research*, 49(5), 460-470.
    .. [3] Asparouhov, T., & Muthén, B. (2010). Simple second order
       chi-square correction. Technical appendix, Mplus.
    """
    rows = []
    for name, o in outcomes.items():
        s = o.spec
        row = {"specification": s.name, "description": s.description, "estimator": s.estimator,
               "missing": s.missing, "se_type": s.se_type, "status": o.status, "note": s.note}
        if o.fit is not None:
            f = o.fit.fit
            row["converged"] = bool(o.fit.converged)
            row["issues"] = "; ".join(o.fit.issues)
            for k in FIT_COLUMNS:
                if k not in row:
                    v = f.get(k, np.nan)
                    row[k] = float(v) if v is not None else np.nan
            if s.cluster:
                row["note"] = (s.note + "; " if s.note else "") + "scaled test also cluster-robust"
        else:
            row["converged"] = False
            row["issues"] = o.error
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=FIT_COLUMNS)


# ---------------------------------------------------------------------------
def missing_description(data: pd.DataFrame, items, construct_of: dict | None = None) -> pd.DataFrame:
    """How much is missing, item by item and row by row.

    Parameters
    ----------
    data : pandas.DataFrame
    items : list of str
    construct_of : dict, optional
        ``item -> construct code`` (the ``construct`` column).

    Returns
    -------
    pandas.DataFrame
        Long format ``statistic, scope, item, construct, value``: per item
        (``scope == "item"``) ``n_missing`` and ``share_missing``; for the
        whole data (``scope == "data"``, ``item`` and ``construct`` empty)
        ``n_rows``, ``n_complete``, ``share_complete``,
        ``n_patterns`` (distinct patterns of missing items),
        ``mean_share_missing`` and ``max_items_missing`` (most items
        missing in one row).

    Notes
    -----
    A missing-data pattern is the set of items a row leaves empty [1]_;
    listwise deletion keeps the rows with the empty pattern only, about
    :math:`(1-m)^{p}` of them for independent nonresponse of rate
    :math:`m` on :math:`p` items.

    References
    ----------
    .. [1] Little, R. J. A., & Rubin, D. B. (2019). *Statistical analysis
       with missing data* (3rd ed.). Wiley, ch. 1.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1, None, 3, 4], "y": [1, 2, None, None]})
    >>> t = missing_description(df, ["x", "y"])
    >>> t.loc[t.statistic == "n_patterns", "value"].item()
    3.0
    """
    items = list(items)
    missing = [c for c in items if c not in data.columns]
    if missing:
        raise InputError(f"items missing from the analysis data: {', '.join(missing)}")
    na = data[items].isna()
    construct_of = construct_of or {}
    rows = []
    for c in items:
        rows.append(("n_missing", "item", c, construct_of.get(c, ""), float(na[c].sum())))
        rows.append(("share_missing", "item", c, construct_of.get(c, ""),
                     float(na[c].mean()) if len(na) else np.nan))
    n = len(na)
    complete = int((~na.any(axis=1)).sum())
    n_patterns = int(len(na.drop_duplicates())) if n else 0
    rows += [(k, "data", "", "", v) for k, v in (
        ("n_rows", float(n)),
        ("n_complete", float(complete)),
        ("share_complete", complete / n if n else np.nan),
        ("n_patterns", float(n_patterns)),
        ("mean_share_missing", float(na.to_numpy().mean()) if n else np.nan),
        ("max_items_missing", float(na.sum(axis=1).max()) if n else np.nan))]
    return pd.DataFrame(rows, columns=["statistic", "scope", "item", "construct", "value"])


STRATEGIES = (("ml_listwise", "listwise deletion (ML)"), ("ml_fiml", "FIML (ML)"),
              ("ml_two_stage", "two-stage ML (EM moments)"), ("wlsmv_pairwise", "pairwise present (WLSMV)"))


def strategy_table(estimates: pd.DataFrame) -> pd.DataFrame:
    """Indirect effects under the missing-data strategies.

    Parameters
    ----------
    estimates : pandas.DataFrame
        From :func:`estimator_table`.

    Returns
    -------
    pandas.DataFrame
        ``lhs, strategy, specification, nobs, est, se, pvalue, ci_lower,
        ci_upper, std_all, delta_std_all, significance_changed, reference,
        status``: one row per (indirect effect, strategy), for
        ``ind_GRID, ind_RES, ind_ORG, ind_LIST, total_indirect``.

    Notes
    -----
    Listwise deletion is unbiased only under MCAR and discards every row
    with a missing item; FIML and two-stage ML are consistent under MAR
    [1]_; pairwise WLSMV uses all available pairs for the polychoric
    correlations (consistent under MCAR).  ``delta_std_all`` is against
    each specification's reference (WLSMV: ML-FIML without controls).

    References
    ----------
    .. [1] Enders, C. K., & Bandalos, D. L. (2001). *Structural Equation
       Modeling*, 8(3), 430-457.
    """
    e = estimates[(estimates["op"] == ":=") & estimates["lhs"].isin(INDIRECT)]
    frames = []
    for name, label in STRATEGIES:
        t = e[e["specification"] == name].copy()
        t["strategy"] = label
        frames.append(t)
    cols = ["lhs", "strategy", "specification", "nobs", "est", "se", "pvalue", "ci_lower", "ci_upper",
            "std_all", "delta_std_all", "significance_changed", "reference", "status"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    order = {k: i for i, k in enumerate(INDIRECT)}
    out["_o"] = out["lhs"].map(order)
    out = out.sort_values(["_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    return out[cols]


def _clean(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if np.isfinite(v) else None
    return v


def robustness_headline(estimates: pd.DataFrame, fits: pd.DataFrame, missing: pd.DataFrame,
                        *, synthetic: bool, main: str = "ml_fiml", alpha: float = ALPHA) -> dict:
    """Key numbers for the chapter prose.

    Parameters
    ----------
    estimates, fits, missing : pandas.DataFrame
        From :func:`estimator_table`, :func:`fit_table`,
        :func:`missing_description`.
    synthetic : bool
    main : str
        The main specification.
    alpha : float

    Returns
    -------
    dict
        ``synthetic, note, n_rows, n_complete, share_complete, n_patterns,
        mean_share_missing, n_listwise, n_fiml, n_specifications,
        specifications`` (name -> description, status, nobs),
        ``max_abs_delta_std_indirect`` (largest :math:`|\\Delta|` of a
        standardized indirect effect against the reference) with
        ``max_delta_parameter`` and ``max_delta_specification``,
        ``any_significance_change``, ``significance_changes`` (list of
        ``specification, parameter, pvalue, pvalue_reference``),
        ``se_ratio_cluster`` (median ratio of cluster-robust to MLR SEs of
        the key parameters), ``se_ratio_mlr`` (median MLR / ML SE ratio),
        ``main_indirect`` (std_all of the main analysis' indirect
        effects), ``all_converged``, ``problems`` (specification ->
        status, for those not ``ok``), ``alpha``.
    """
    m = missing[missing["scope"] == "data"].set_index("statistic")["value"]
    specs = fits.set_index("specification")
    ind = estimates[(estimates["op"] == ":=") & estimates["lhs"].isin(INDIRECT)
                    & (estimates["specification"] != estimates["reference"])]
    ind = ind[np.isfinite(ind["delta_std_all"].to_numpy(float))]
    head = {"synthetic": bool(synthetic), "note": SYNTHETIC_NOTE_EN if synthetic else "",
            "alpha": alpha,
            "n_rows": _clean(m.get("n_rows")), "n_complete": _clean(m.get("n_complete")),
            "share_complete": _clean(m.get("share_complete")), "n_patterns": _clean(m.get("n_patterns")),
            "mean_share_missing": _clean(m.get("mean_share_missing")),
            "n_listwise": _clean(specs["nobs"].get("ml_listwise", np.nan)),
            "n_fiml": _clean(specs["nobs"].get(main, np.nan)),
            "n_specifications": int(len(fits))}
    head["specifications"] = {r.specification: {"description": r.description, "status": r.status,
                                                "nobs": _clean(r.nobs)}
                              for r in fits.itertuples(index=False)}
    if len(ind):
        k = int(np.argmax(np.abs(ind["delta_std_all"].to_numpy(float))))
        row = ind.iloc[k]
        head.update(max_abs_delta_std_indirect=abs(float(row["delta_std_all"])),
                    max_delta_parameter=str(row["lhs"]), max_delta_specification=str(row["specification"]))
    else:
        head.update(max_abs_delta_std_indirect=None, max_delta_parameter=None, max_delta_specification=None)
    changed = estimates[estimates["significance_changed"].astype(bool)]
    ref_p = estimates.set_index(["specification", "lhs", "op", "rhs"])["pvalue"]
    head["any_significance_change"] = bool(len(changed))
    head["significance_changes"] = [
        {"specification": r.specification, "parameter": r.lhs if r.op == ":=" else r.label,
         "pvalue": _clean(r.pvalue),
         "pvalue_reference": _clean(ref_p.get((r.reference, r.lhs, r.op, r.rhs), np.nan))}
        for r in changed.itertuples(index=False)]

    def ratio(num, den):
        a = estimates[estimates["specification"] == num].set_index(["lhs", "op", "rhs"])["se"]
        b = estimates[estimates["specification"] == den].set_index(["lhs", "op", "rhs"])["se"]
        r = (a / b.reindex(a.index)).to_numpy(float)
        r = r[np.isfinite(r)]
        return float(np.median(r)) if len(r) else None

    head["se_ratio_cluster"] = ratio("mlr_fiml_cluster", "mlr_fiml")
    head["se_ratio_mlr"] = ratio("mlr_fiml", main)
    main_ind = estimates[(estimates["specification"] == main) & estimates["lhs"].isin(INDIRECT)]
    head["main_indirect"] = {r.lhs: {"std_all": _clean(r.std_all), "pvalue": _clean(r.pvalue)}
                             for r in main_ind.itertuples(index=False)}
    head["all_converged"] = bool(fits["converged"].astype(bool).all())
    head["problems"] = {r.specification: r.status for r in fits.itertuples(index=False) if r.status != "ok"}
    return head


# ---------------------------------------------------------------------------
def synthetic_of(analysis_data, synthetic=None) -> bool:
    """The ``synthetic`` flag of a step's input: given, else the ingest report beside the data file.

    A DataFrame passed without ``synthetic`` is not synthetic; a data file
    whose report does not say is not either (:func:`analysis.results.data_are_synthetic`).
    """
    from ..results import data_are_synthetic

    if isinstance(analysis_data, pd.DataFrame):
        return bool(synthetic) if synthetic is not None else False
    return data_are_synthetic(Path(analysis_data).parent, synthetic, unknown=False)


def _read(analysis_data) -> pd.DataFrame:
    if isinstance(analysis_data, pd.DataFrame):
        return analysis_data
    p = Path(analysis_data)
    if not p.exists():
        raise InputError("analysis data not found (run `resilience reproduce screen`)", file=p)
    return pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)


def run_robustness(analysis_data=None, out_dir=None, instrument=None, config=None, *,
                   synthetic=None, specs=SPECIFICATIONS, models: dict | None = None) -> list[Path]:
    """Refit the structural model under each specification and write the comparison.

    Parameters
    ----------
    analysis_data : path-like or DataFrame, optional
        Default ``paths.DEFAULT.processed / "analysis.parquet"``.
    out_dir : path-like, optional
        Default ``paths.DEFAULT.results / "robustness"``.
    instrument : Instrument, optional
    config : dict, optional
        ``study.yaml`` settings; an optional ``robustness`` section may set
        ``cluster`` (default ``"community"``) and ``seed`` (default 0).
    synthetic : bool, optional
        Override the ``synthetic`` flag of the ingest report beside the data.
    specs : sequence of Specification
        Default :data:`SPECIFICATIONS`.
    models : dict, optional
        ``{"controls": syntax, "nocontrols": syntax}`` (default: the
        instrument's structural model with and without the controls of the
        structural step); a smaller model keeps tests fast.

    Returns
    -------
    list of Path
        ``estimators.csv``, ``estimators_fit.csv``, ``missing.csv``,
        ``missing_strategies.csv``, ``headline.json``.  Every CSV has the
        columns ``synthetic`` and ``data_note`` (the synthetic-data label).
    """
    from .instrument import load_instrument
    from .structural import control_columns

    from .._parallel import blas_threads

    limiter = blas_threads(1)  # one BLAS thread: the fits are many small matrix products
    try:
        analysis_data = paths.DEFAULT.processed / "analysis.parquet" if analysis_data is None else analysis_data
        out = Path(out_dir) if out_dir is not None else paths.DEFAULT.results / "robustness"
        ins = instrument or load_instrument()
        cfg = dict((config or {}).get("robustness", {}) or {})
        cluster = str(cfg.get("cluster", "community"))
        seed = int(cfg.get("seed", 0))
        synth = synthetic_of(analysis_data, synthetic)
        raw = _read(analysis_data)
        items = ins.item_codes()
        data, controls = control_columns(raw)
        if models is None:
            models = {"controls": ins.model_syntax("structural", controls=tuple(controls)),
                      "nocontrols": ins.model_syntax("structural")}
        used = sorted(set(_observed(models["controls"])) | set(_observed(models["nocontrols"])))
        model_items = [c for c in items if c in used]
        construct_of = {it.code: it.construct for it in ins.items}
        outcomes = fit_specifications(data, models, model_items, specs, cluster=cluster, seed=seed)
        est = estimator_table(outcomes)
        fits = fit_table(outcomes)
        miss = missing_description(raw, model_items, construct_of)
        strat = strategy_table(est)
        note = SYNTHETIC_NOTE_EN if synth else ""
        written = []
        for name, frame in (("estimators", est), ("estimators_fit", fits), ("missing", miss),
                            ("missing_strategies", strat)):
            frame = frame.copy()
            frame["synthetic"] = synth
            frame["data_note"] = note
            written.append(write_csv(out / f"{name}.csv", frame))
        head = robustness_headline(est, fits, miss, synthetic=synth)
        head["model_items"] = len(model_items)
        head["controls"] = list(controls)
        head["cluster"] = cluster
        head["n_clusters"] = int(raw[cluster].nunique()) if cluster in raw.columns else None
        written.append(write_json(out / "headline.json", head))
        return written
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
