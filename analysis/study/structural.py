"""The structural step: hypothesized model, mediation, rivals, clustering.

``run_structural`` fits the instrument's structural model (PL -> GRID, RES,
ORG, LIST -> CR with the direct path and controls for role, community type
and years of residence on CR) to ``analysis.parquet`` by maximum likelihood
(two-stage ML when items are missing: ML fitted to the EM estimates of the
saturated moments [3]_, whose bootstrap re-estimates the EM moments in
every draw; the robustness step compares it with FIML), and writes
under ``results/structural/``:

``fit.csv``
    Fit measures of the hypothesized model (one row).
``estimates.csv``
    lavaan columns; ``se`` is the bootstrap SD and ``ci_lower/ci_upper`` the
    reported bootstrap interval (``study.yaml``:
    ``structural.bootstrap_interval``, a key of
    :data:`analysis.sem.bootstrap.INTERVAL_COLUMNS`), plus the other
    bootstrap intervals (``boot_ci_*``) and the model-based
    ``se_ml, ci_lower_ml, ci_upper_ml`` (information/delta method).
``indirect.csv``
    Every ``:=`` effect with delta-method, reported bootstrap, bootstrap
    percentile, bias-corrected and Monte Carlo intervals.
``bootstrap.csv``
    Draws requested, used, failed and improper, the resampling unit
    (``study.yaml``: ``structural.bootstrap_unit``, ``community`` for the
    cluster bootstrap or ``respondent``) and the reported interval.
``rivals.csv``
    Hypothesized, full-mediation and serial models: fit, AIC/BIC and
    chi-square difference tests where nested.
``estimators.csv``
    Paths and indirect effects with ML, row-bootstrap (respondents
    resampled) and cluster-bootstrap (communities resampled) standard
    errors and intervals.
``multigroup.csv``
    Structural paths free vs equal across community types.
``clustering.csv``
    ICC(1) of the scale scores by community and design effects.
``twolevel.csv``
    Two-level path model of the scale scores: within- and
    between-community paths and indirect effects
    (:mod:`analysis.study.multilevel`).
``headline.json``
    Key numbers for the book and the report.
``model.lav``
    The exact lavaan syntax of the hypothesized model.
``command.txt``
    The one ``resilience fit`` command that reproduces the hypothesized
    model's estimates, bootstrap SEs and reported intervals (``estimates.csv``)
    from ``model.lav`` and the model data, run from the folder that holds
    both (the repository root in the pipeline).

It also writes the model data (the analysis data plus the control columns of
:func:`control_columns`) to ``data/processed/structural.parquet`` (beside the
analysis data; processed data are not committed), and the path diagram
``results/figures/structural_paths.png``.

References
----------
.. [1] Preacher, K. J., & Hayes, A. F. (2008). Asymptotic and resampling
   strategies for assessing and comparing indirect effects in multiple
   mediator models. *Behavior Research Methods*, 40(3), 879-891.
.. [2] MacKinnon, D. P., Lockwood, C. M., & Williams, J. (2004). Confidence
   limits for the indirect effect. *Multivariate Behavioral Research*,
   39(1), 99-128.
.. [3] Savalei, V., & Bentler, P. M. (2009). A two-stage approach to
   missing data: Theory and application to auxiliary variables.
   *Structural Equation Modeling*, 16(3), 477-497.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as _st

from .. import paths
from ..errors import InputError
from ..io import write_csv, write_json, write_parquet, write_text

__all__ = ["run_structural", "prepare_data", "control_columns", "structural_syntax", "fit_structural",
           "fit_command",
           "indirect_table", "rival_table", "estimator_table", "multigroup_table",
           "clustering_table", "CONTROLS"]

#: Context variables controlled on CR (dummies for categorical ones, first code = reference).
CONTROLS = {"role": "categorical", "community_type": "categorical", "years": "numeric"}
_PREFIX = {"role": "role", "community_type": "ctype"}
_Z975 = float(_st.norm.ppf(0.975))
#: Resampling units of the bootstrap (``study.yaml``: ``structural.bootstrap_unit``) and their method names.
_UNITS = {"respondent": "bootstrap (respondents)", "community": "cluster bootstrap (communities)"}


def control_columns(data: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """Add the control variables as model columns.

    Parameters
    ----------
    data : pandas.DataFrame
        Needs ``role``, ``community_type`` (codes) and ``years``.

    Returns
    -------
    data : pandas.DataFrame
        A copy with ``role_2..role_5``, ``ctype_2..ctype_5`` (0/1 dummies,
        code 1 the reference; codes absent from the data get no column) and
        ``years10`` (years of residence / 10, so that its variance is of the
        order of the items').
    names : list of str
        The added columns.
    """
    out = data.copy()
    names = []
    for var, kind in CONTROLS.items():
        if var not in out.columns:
            raise InputError(f"column {var!r} (a control variable) is missing from the analysis data")
        if kind == "categorical":
            codes = sorted(int(c) for c in pd.unique(out[var].dropna()))
            for c in codes[1:]:
                col = f"{_PREFIX[var]}_{c}"
                out[col] = (out[var] == c).astype(float).where(out[var].notna())
                names.append(col)
        else:
            out["years10"] = pd.to_numeric(out[var], errors="coerce") / 10.0
            names.append("years10")
    return out, names


def prepare_data(analysis_data) -> pd.DataFrame:
    """Read ``analysis.parquet`` (path) or take a DataFrame as is."""
    if isinstance(analysis_data, pd.DataFrame):
        return analysis_data
    p = Path(analysis_data)
    if not p.exists():
        raise InputError("analysis data not found (run `resilience reproduce screen`)", file=p)
    return pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)


def _missing_option(data, instrument) -> str:
    items = instrument.item_codes()
    return "two.stage" if data[items].isna().to_numpy().any() else "listwise"


def structural_syntax(instrument, *, controls=(), direct=True, serial=False) -> str:
    """The lavaan syntax of one variant of the structural model.

    ``Instrument.model_syntax("structural", direct=, serial=, controls=)``:
    the text :func:`fit_structural` fits and ``run_structural`` writes to
    ``model.lav``.
    """
    return instrument.model_syntax("structural", direct=direct, serial=serial, controls=tuple(controls))


def fit_structural(data, instrument, *, controls=(), direct=True, serial=False, missing=None,
                   group=None, group_equal=()):
    """Fit one variant of the structural model by ML.

    Parameters
    ----------
    data : pandas.DataFrame
    instrument : Instrument
    controls : sequence of str
        Control columns regressed on CR.
    direct, serial : bool
        Passed to ``Instrument.model_syntax("structural", ...)``.
    missing : {"listwise", "fiml", "two.stage"}, optional
        Default: two-stage ML when any item is missing, else listwise.
    group, group_equal
        Multigroup options of :func:`analysis.sem.sem`.

    Returns
    -------
    SEMResult
        ``sem(structural_syntax(...), data, missing=missing, se="standard",
        group=group, group_equal=group_equal)``.

    Notes
    -----
    ``missing="two.stage"`` fits by ML to the EM moments of the incomplete
    data (:func:`analysis.sem.sem`'s two-stage option [3]_): consistent
    under MAR; its model-based standard errors and chi-square treat the EM
    moments as complete data (slightly liberal), so the study reports
    bootstrap intervals that resample the incomplete rows (the fit
    remembers them: :func:`analysis.sem.bootstrap.bootstrap`).
    """
    from ..sem import sem

    syntax = structural_syntax(instrument, controls=controls, direct=direct, serial=serial)
    missing = missing or _missing_option(data, instrument)
    return sem(syntax, data, missing=missing, se="standard", group=group, group_equal=tuple(group_equal))


def fit_command(model_path: str, data_path: str, *, missing: str, cluster: str | None, n_boot: int,
                interval: str | None, seed: int | None, exclude_improper: bool = True,
                json_path: str = "structural_fit.json", estimator: str | None = None, se: str = "standard",
                weights: str | None = None) -> str:
    """The ``resilience fit`` command of the reported model (one line, shell-quoted).

    Parameters
    ----------
    model_path, data_path : str
        The model syntax and the model data, relative to where the command runs.
    missing : str
        ``fit.options["missing"]``.
    cluster : str or None
        The cluster column of a cluster bootstrap (None: rows are resampled).
    n_boot, interval, seed, exclude_improper
        The bootstrap of ``study.yaml`` (``structural:``); ``n_boot = 0``: no bootstrap.
    json_path : str
        Where the command writes its JSON.
    estimator, se, weights
        ``--estimator`` (omitted when None), ``--se`` and ``--weights`` (omitted when None).

    Returns
    -------
    str
        ``resilience fit MODEL DATA --missing ... --se standard [--cluster C]
        --bootstrap N --ci-type I [--exclude-improper] --seed S --json OUT``.
    """
    import shlex

    parts = ["resilience", "fit", model_path, data_path]
    if estimator is not None:
        parts += ["--estimator", estimator]
    parts += ["--missing", missing, "--se", se]
    if cluster is not None:
        parts += ["--cluster", cluster]
    if weights is not None:
        parts += ["--weights", weights]
    if n_boot:
        parts += ["--bootstrap", str(int(n_boot)), "--ci-type", interval]
        if exclude_improper:
            parts.append("--exclude-improper")
        parts += ["--seed", str(int(seed))]
    parts += ["--json", json_path]
    return shlex.join(parts)


def write_fit_command(out_dir: Path, syntax: str, data: pd.DataFrame, model_data: Path, **options) -> list[Path]:
    """Write a reported model one command away: ``model.lav``, its data and ``command.txt``.

    Parameters
    ----------
    out_dir : Path
        The step's results folder (``model.lav`` and ``command.txt`` go there).
    syntax : str
        The model.
    data : pandas.DataFrame
        The model data, written to ``model_data`` (Parquet).
    model_data : Path
    **options
        :func:`fit_command`'s keywords.

    Returns
    -------
    list of Path
        ``model.lav`` and ``command.txt`` (the data file is not a results file).
    """
    model_path = write_text(Path(out_dir) / "model.lav", syntax)
    write_parquet(model_data, data)
    root = os.path.commonpath([model_path.resolve(), Path(model_data).resolve()])
    command = fit_command(Path(os.path.relpath(model_path.resolve(), root)).as_posix(),
                          Path(os.path.relpath(Path(model_data).resolve(), root)).as_posix(), **options)
    return [model_path, write_text(Path(out_dir) / "command.txt", command + "\n")]


# ---------------------------------------------------------------------------
def indirect_table(fit, boot, mc: pd.DataFrame, interval: str = "percentile") -> pd.DataFrame:
    """Defined effects with delta-method, bootstrap and Monte Carlo intervals.

    Parameters
    ----------
    fit : SEMResult
    boot : analysis.sem.bootstrap.BootstrapResult
    mc : pandas.DataFrame
        From :func:`analysis.sem.montecarlo.montecarlo_ci`.
    interval : str
        The reported bootstrap interval (a key of
        :data:`analysis.sem.bootstrap.INTERVAL_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        ``lhs, rhs, est, std_all, se, z, pvalue, ci_lower_delta,
        ci_upper_delta, boot_se, ci_lower_boot, ci_upper_boot (the reported
        interval), ci_lower_perc, ci_upper_perc, ci_lower_bc, ci_upper_bc,
        mc_se, ci_lower_mc, ci_upper_mc``.

    Notes
    -----
    Delta method: :math:`\\hat d \\pm z_{.975}\\sqrt{J\\hat VJ^\\top}` [3]_;
    bootstrap percentile and bias-corrected intervals [1]_; Monte Carlo
    intervals from :math:`N(\\hat\\theta,\\hat V)` [2]_.

    References
    ----------
    .. [1] Preacher, K. J., & Hayes, A. F. (2008). *Behavior Research
       Methods*, 40(3), 879-891.
    .. [2] MacKinnon, D. P., Lockwood, C. M., & Williams, J. (2004).
       *Multivariate Behavioral Research*, 39(1), 99-128.
    .. [3] Sobel, M. E. (1982). *Sociological Methodology*, 13, 290-312.
    """
    from ..sem.bootstrap import INTERVAL_COLUMNS

    est = fit.estimates
    d = est[est["op"] == ":="].reset_index(drop=True)
    iv = boot.intervals().set_index("name")
    lo, hi = INTERVAL_COLUMNS[interval]
    m = mc.set_index("lhs")
    out = pd.DataFrame({
        "lhs": d["lhs"], "rhs": d["rhs"], "est": d["est"], "std_all": d["std_all"],
        "se": d["se"], "z": d["z"], "pvalue": d["pvalue"],
        "ci_lower_delta": d["ci_lower"], "ci_upper_delta": d["ci_upper"],
        "boot_se": iv.loc[d["lhs"], "boot_se"].to_numpy(),
        "ci_lower_boot": iv.loc[d["lhs"], lo].to_numpy(),
        "ci_upper_boot": iv.loc[d["lhs"], hi].to_numpy(),
        "ci_lower_perc": iv.loc[d["lhs"], "ci_lower"].to_numpy(),
        "ci_upper_perc": iv.loc[d["lhs"], "ci_upper"].to_numpy(),
        "ci_lower_bc": iv.loc[d["lhs"], "boot_ci_lower_bc"].to_numpy(),
        "ci_upper_bc": iv.loc[d["lhs"], "boot_ci_upper_bc"].to_numpy(),
        "mc_se": m.loc[d["lhs"], "mc_se"].to_numpy(),
        "ci_lower_mc": m.loc[d["lhs"], "mc_ci_lower"].to_numpy(),
        "ci_upper_mc": m.loc[d["lhs"], "mc_ci_upper"].to_numpy(),
    })
    return out


def _fit_row(name, fit) -> dict:
    f = fit.fit
    row = {"model": name, "converged": bool(fit.converged), "n_issues": len(fit.issues)}
    for k in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic", "npar", "nobs"):
        row[k] = float(f[k]) if k in f.index else np.nan
    return row


def rival_table(fits: dict, nested: dict) -> pd.DataFrame:
    """Fit of rival models and chi-square difference tests.

    Parameters
    ----------
    fits : dict
        ``name -> SEMResult`` (first: the hypothesized model).
    nested : dict
        ``name -> name of the larger model it is nested in`` (others get
        NaN tests: compare them by AIC/BIC).

    Returns
    -------
    pandas.DataFrame
        ``model, converged, n_issues, chisq, df, pvalue, cfi, tli, rmsea,
        srmr, aic, bic, npar, nobs, compared_with, delta_chisq, delta_df,
        delta_pvalue``.

    Notes
    -----
    :math:`\\Delta\\chi^2 = \\chi^2_{restricted} - \\chi^2_{full}` on
    :math:`\\Delta df` degrees of freedom for nested models [1]_; AIC and
    BIC otherwise [2]_.

    References
    ----------
    .. [1] Bollen, K. A. (1989). *Structural equations with latent
       variables*. Wiley, pp. 291-292.
    .. [2] Burnham, K. P., & Anderson, D. R. (2002). *Model selection and
       multimodel inference* (2nd ed.). Springer.
    """
    rows = []
    for name, fit in fits.items():
        row = _fit_row(name, fit)
        big = nested.get(name)
        if big is not None and big in fits:
            dchi = row["chisq"] - float(fits[big].fit["chisq"])
            ddf = row["df"] - float(fits[big].fit["df"])
            row.update(compared_with=big, delta_chisq=dchi, delta_df=ddf,
                       delta_pvalue=float(_st.chi2.sf(dchi, ddf)) if ddf > 0 else np.nan)
        else:
            row.update(compared_with="", delta_chisq=np.nan, delta_df=np.nan, delta_pvalue=np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def estimator_table(fit, boots: dict, interval: str = "percentile") -> pd.DataFrame:
    """Structural paths and defined effects under several sampling assumptions.

    Parameters
    ----------
    fit : SEMResult
    boots : dict
        ``method name -> BootstrapResult``, e.g. ``{"bootstrap
        (respondents)": row_boot, "cluster bootstrap (communities)":
        cluster_boot}``.
    interval : str
        The bootstrap interval (a key of
        :data:`analysis.sem.bootstrap.INTERVAL_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        ``lhs, method, est, se, ci_lower, ci_upper`` with method ``ML``
        (information / delta method, Wald interval) and one method per
        bootstrap (SD of the draws, ``interval``); rows for every
        ``~`` path among latent variables and every ``:=`` effect.

    Notes
    -----
    The cluster bootstrap resamples whole communities with replacement, so
    its SEs include the dependence of respondents within a community [1]_;
    the row bootstrap and the ML information treat respondents as
    independent.

    References
    ----------
    .. [1] Field, C. A., & Welsh, A. H. (2007). Bootstrapping clustered data.
       *Journal of the Royal Statistical Society B*, 69(3), 369-390.
    """
    from ..sem.bootstrap import INTERVAL_COLUMNS, parameter_names

    lo, hi = INTERVAL_COLUMNS[interval]
    pt = fit.partable
    lv = set(fit.variables.lv)
    names = parameter_names(fit)
    est = fit.estimates
    wanted = []
    for i, r in enumerate(pt.itertuples(index=False)):
        if (r.op == "~" and r.lhs in lv and r.rhs in lv and r.free > 0) or r.op == ":=":
            key = r.lhs if r.op == ":=" else names[int(r.free) - 1]
            wanted.append((i, key, r.lhs if r.op == ":=" else f"{r.lhs}~{r.rhs}"))
    rows = []
    for i, _, label in wanted:
        e = est.iloc[i]
        rows.append((label, "ML", e["est"], e["se"], e["ci_lower"], e["ci_upper"]))
    for method, b in boots.items():
        iv = b.intervals().set_index("name")
        for i, key, label in wanted:
            r = iv.loc[key]
            rows.append((label, method, est.iloc[i]["est"], r["boot_se"], r[lo], r[hi]))
    return pd.DataFrame(rows, columns=["lhs", "method", "est", "se", "ci_lower", "ci_upper"])


def multigroup_table(data, instrument, controls, group="community_type") -> tuple[pd.DataFrame, str]:
    """Structural paths free vs equal across groups (chi-square difference).

    Parameters
    ----------
    data : pandas.DataFrame
    instrument : Instrument
    controls : list of str
        Control columns (the dummies of ``group`` itself are dropped).
    group : str

    Returns
    -------
    table : pandas.DataFrame
        ``model, group_equal, converged, chisq, df, cfi, rmsea, aic, bic,
        delta_chisq, delta_df, delta_pvalue`` for the model with equal
        loadings (metric invariance, paths free) and with equal loadings and
        regressions (paths equal).
    note : str
        Empty, or why the comparison could not be made.

    Notes
    -----
    :math:`\\Delta\\chi^2` of the nested models [1]_.

    References
    ----------
    .. [1] Byrne, B. M., Shavelson, R. J., & Muthén, B. (1989). Testing for
       the equivalence of factor covariance and mean structures.
       *Psychological Bulletin*, 105(3), 456-466.
    """
    ctl = [c for c in controls if not c.startswith(_PREFIX.get(group, group) + "_")]
    free_eq = ("loadings",)
    eq_eq = ("loadings", "regressions")
    try:
        f_free = fit_structural(data, instrument, controls=ctl, group=group, group_equal=free_eq)
        f_eq = fit_structural(data, instrument, controls=ctl, group=group, group_equal=eq_eq)
    except (ValueError, np.linalg.LinAlgError, NotImplementedError) as exc:
        return pd.DataFrame(), f"multigroup model not estimated: {exc}"
    rows = []
    for name, ge, f in (("paths free", "+".join(free_eq), f_free), ("paths equal", "+".join(eq_eq), f_eq)):
        r = _fit_row(name, f)
        r["group_equal"] = ge
        rows.append(r)
    dchi = rows[1]["chisq"] - rows[0]["chisq"]
    ddf = rows[1]["df"] - rows[0]["df"]
    rows[0].update(delta_chisq=np.nan, delta_df=np.nan, delta_pvalue=np.nan)
    rows[1].update(delta_chisq=dchi, delta_df=ddf,
                   delta_pvalue=float(_st.chi2.sf(dchi, ddf)) if ddf > 0 else np.nan)
    cols = ["model", "group_equal", "converged", "n_issues", "chisq", "df", "cfi", "rmsea", "aic", "bic",
            "nobs", "delta_chisq", "delta_df", "delta_pvalue"]
    note = "" if (f_free.converged and f_eq.converged) else "a multigroup model did not converge"
    return pd.DataFrame(rows)[cols], note


def clustering_table(data, instrument, cluster="community") -> pd.DataFrame:
    """ICC(1) and design effect of each construct's scale score by community.

    Parameters
    ----------
    data : pandas.DataFrame
        Scored items (reverse-keyed already recoded) and ``cluster``.
    instrument : Instrument
    cluster : str

    Returns
    -------
    pandas.DataFrame
        ``score, icc1, msb, msw, k0, n_clusters, n, mean_size,
        design_effect, n_effective`` (one row per first- and second-order
        construct; scale score = mean of the available items).

    Notes
    -----
    See :func:`analysis.psychometrics.clustering.icc1` [1]_.

    References
    ----------
    .. [1] Bliese, P. D. (2000). Within-group agreement, non-independence,
       and reliability. In *Multilevel theory, research, and methods in
       organizations* (pp. 349-381). Jossey-Bass.
    """
    from ..psychometrics.clustering import cluster_summary
    from .multilevel import scale_scores

    scores = scale_scores(data, instrument)
    cols = list(scores.columns)
    scores[cluster] = data[cluster].to_numpy()
    return cluster_summary(scores, cols, cluster)


# ---------------------------------------------------------------------------
#: How the notes name each bootstrap interval (keys of analysis.sem.bootstrap.INTERVAL_COLUMNS).
_INTERVAL_NAMES = {
    "percentile": "percentile intervals",
    "bc": "bias-corrected percentile intervals",
    "bca": "BCa intervals (jackknife acceleration, leaving out one resampling unit at a time)",
    "t": "bootstrap-t intervals (every draw studentized by its own sandwich SE, cluster-robust when "
         "communities are resampled)",
    "symmetric-t": "symmetric bootstrap-t intervals (every draw studentized by its own sandwich SE, "
                   "cluster-robust when communities are resampled)",
}


def _draw_counts(n, boot) -> str:
    text = f"{n} draws; {boot.n_failed} failed, {boot.n_improper} improper"
    return text + (f", {boot.n_no_se} without a standard error" if boot.se is not None else "")


def _unit_note(unit, interval, n_boot, boot, n_other, other) -> str:
    """Which bootstrap gives the reported intervals, and the comparison's counts."""
    first = (f"The reported intervals are {_INTERVAL_NAMES[interval]} from a bootstrap that resamples whole "
             f"communities (cluster bootstrap, {_draw_counts(n_boot, boot)}), because respondents of one community "
             "are not independent; the comparison resamples respondents" if unit == "community" else
             f"The reported intervals are {_INTERVAL_NAMES[interval]} from a bootstrap that resamples respondents "
             f"({_draw_counts(n_boot, boot)}); the comparison resamples whole communities (cluster bootstrap")
    return (f"{first} ({_draw_counts(n_other, other)}). The recovery study (validation/recovery.py) compares the "
            "coverage of every interval method of the cluster bootstrap (validation/recovery_output.txt) and of "
            "the row against the cluster bootstrap (validation/recovery_row_vs_cluster_output.txt) on samples "
            "simulated from the population model.")


def _headline(fit, boot, unit: str, interval: str, ind: pd.DataFrame, notes: list, n_rows: int) -> dict:
    f = fit.fit
    est = fit.estimates
    direct = est[(est["op"] == "~") & (est["label"] == "c")]
    effects = {}
    for r in ind.itertuples(index=False):
        effects[r.lhs] = {"est": r.est, "std_all": r.std_all, "se": r.se, "pvalue": r.pvalue,
                          "ci_delta": [r.ci_lower_delta, r.ci_upper_delta],
                          "ci_boot": [r.ci_lower_boot, r.ci_upper_boot],
                          "ci_boot_perc": [r.ci_lower_perc, r.ci_upper_perc],
                          "ci_boot_bc": [r.ci_lower_bc, r.ci_upper_bc],
                          "ci_mc": [r.ci_lower_mc, r.ci_upper_mc]}
    ti = ind.set_index("lhs")
    return {
        "n": int(f["nobs"]), "n_rows": int(n_rows), "estimator": "ML",
        "missing": fit.options.get("missing"),
        "chisq": float(f["chisq"]), "df": int(f["df"]), "cfi": float(f["cfi"]),
        "tli": float(f["tli"]), "rmsea": float(f["rmsea"]), "srmr": float(f["srmr"]),
        "converged": bool(fit.converged), "issues": list(fit.issues),
        "total_indirect": float(ti.loc["total_indirect", "est"]) if "total_indirect" in ti.index else None,
        "total": float(ti.loc["total", "est"]) if "total" in ti.index else None,
        "direct": float(direct["est"].iloc[0]) if len(direct) else None,
        "bootstrap": int(boot.n_boot), "bootstrap_method": boot.method, "bootstrap_unit": unit,
        "bootstrap_interval": interval,
        "n_boot_ok": boot.n_ok, "n_boot_failed": boot.n_failed, "n_boot_improper": boot.n_improper,
        "effects": effects, "notes": notes,
    }


def _diagram(estimates, instrument, path):
    from .diagrams import STUDY_NODES, path_diagram
    from .style import save_figure
    import matplotlib.pyplot as plt

    names = {c.code: c.name_zh for c in instrument.constructs}
    names.update({s.code: s.name_zh for s in instrument.second_order})
    labels = {c: f"{names.get(c, c)}\n{c}" for c in STUDY_NODES}
    fig = path_diagram(estimates, labels=labels)
    save_figure(fig, path)
    plt.close(fig)
    return Path(path)


def run_structural(analysis_data=None, out_dir=None, instrument=None, config=None, *,
                   figures_dir=None, model_data=None, n_jobs: int | None = None, progress: bool = False) -> list[Path]:
    """Fit the hypothesized and rival structural models and write the results.

    Parameters
    ----------
    analysis_data : path-like or DataFrame, optional
        Default ``paths.DEFAULT.processed / "analysis.parquet"``.
    out_dir : path-like, optional
        Default ``paths.DEFAULT.results / "structural"``.
    instrument : Instrument, optional
    config : dict, optional
        ``study.yaml`` settings (``structural: bootstrap, bootstrap_unit,
        bootstrap_interval, comparison_bootstrap, montecarlo, seed``).
    figures_dir : path-like, optional
        Default: ``figures`` beside ``out_dir`` (``results/figures``).
    model_data : path-like, optional
        Where to write the model data (a Parquet file): default
        ``structural.parquet`` beside ``analysis_data`` when that is a file
        (``data/processed/structural.parquet``), else in ``out_dir``.
        ``command.txt`` names it and ``model.lav`` relative to the folder
        that holds both.
    n_jobs : int, optional
        Bootstrap workers (default: the active :func:`analysis._parallel.session`'s, else 2).
    progress : bool
        Progress bar for the bootstrap.

    Returns
    -------
    list of Path
        The results files written (see the module docstring; the model data
        are not among them: they are processed data).

    Notes
    -----
    The hypothesized model is ``sem(model.lav, model data, missing=...,
    se="standard")`` (:func:`fit_structural`) and its reported bootstrap is
    :func:`analysis.sem.bootstrap.bootstrap` with the options that
    ``sem(..., cluster=, bootstrap=, seed=, ci_type=, exclude_improper=True)``
    passes, so the command in ``command.txt`` reproduces ``estimates.csv``.
    """
    from .._parallel import blas_threads
    from ..sem.bootstrap import INTERVAL_COLUMNS, bootstrap, bootstrap_estimates, interval_options
    from ..sem.montecarlo import montecarlo_ci
    from .instrument import load_instrument
    from .multilevel import fit_twolevel, twolevel_table
    from .settings import load_settings

    limiter = blas_threads(1)
    try:
        out_dir = Path(out_dir) if out_dir is not None else paths.DEFAULT.results / "structural"
        figures_dir = Path(figures_dir) if figures_dir is not None else out_dir.parent / "figures"
        analysis_data = paths.DEFAULT.processed / "analysis.parquet" if analysis_data is None else analysis_data
        instrument = instrument or load_instrument()
        cfg = (config or load_settings())["structural"]
        n_boot, n_mc, seed = int(cfg["bootstrap"]), int(cfg["montecarlo"]), int(cfg["seed"])
        raw = prepare_data(analysis_data)
        data, controls = control_columns(raw)
        notes = []
        unit = str(cfg.get("bootstrap_unit", "respondent"))
        if unit not in _UNITS:
            raise InputError(f"structural.bootstrap_unit must be one of {sorted(_UNITS)}, not {unit!r}",
                             file="study.yaml")
        interval = str(cfg.get("bootstrap_interval", "percentile"))
        if interval not in INTERVAL_COLUMNS:
            raise InputError(f"structural.bootstrap_interval must be one of {sorted(INTERVAL_COLUMNS)}, "
                             f"not {interval!r}", file="study.yaml")
        resample = interval_options(interval)
        where = analysis_data if not isinstance(analysis_data, pd.DataFrame) else None
        if "community" not in data.columns:
            raise InputError("column 'community' is missing from the analysis data (needed for the cluster "
                             "bootstrap and the clustering analysis)", file=where)
        if data["community"].isna().any():
            raise InputError(f"{int(data['community'].isna().sum())} row(s) have no community (needed for the "
                             "cluster bootstrap and the clustering analysis)", file=where, column="community")
        if model_data is None:
            model_data = out_dir / "structural.parquet" if where is None else Path(where).with_name(
                "structural.parquet")
        model_data = Path(model_data)
        fit = fit_structural(data, instrument, controls=controls)
        if fit.options.get("missing") == "two.stage":
            notes.append("Items have missing values: two-stage ML (EM moments of the incomplete data, then ML; "
                         "Savalei & Bentler 2009). Model-based SEs and the chi-square treat the EM moments as "
                         "complete data; the bootstrap resamples the incomplete rows and recomputes the EM "
                         "moments in every draw, so its intervals account for the missing data.")
        community = data["community"].to_numpy()
        # the draws of sem(..., cluster=, bootstrap=n_boot, seed=, ci_type=interval, exclude_improper=True)
        boot = bootstrap(fit, n_boot=n_boot, seed=seed, n_jobs=n_jobs, progress=progress,
                         cluster=community if unit == "community" else None, exclude_improper=True, **resample)
        mc = montecarlo_ci(fit, n_draws=n_mc, seed=seed + 1)
        written = []
        fit_tab = pd.DataFrame([_fit_row("hypothesized", fit)])
        written.append(write_csv(out_dir / "fit.csv", fit_tab))
        est = bootstrap_estimates(fit, boot, interval=interval)
        base = fit.estimates
        est["se_ml"] = base["se"].to_numpy()
        est["ci_lower_ml"] = base["ci_lower"].to_numpy()
        est["ci_upper_ml"] = base["ci_upper"].to_numpy()
        written.append(write_csv(out_dir / "estimates.csv", est))
        # the reported model, one command away: its syntax, its data and the command
        written += write_fit_command(out_dir, structural_syntax(instrument, controls=controls), data, model_data,
                                     missing=fit.options["missing"],
                                     cluster="community" if unit == "community" else None,
                                     n_boot=n_boot, interval=interval, seed=seed, exclude_improper=True)
        ind = indirect_table(fit, boot, mc, interval)
        written.append(write_csv(out_dir / "indirect.csv", ind))
        bt = pd.DataFrame([{**boot.counts(), "method": boot.method, "unit": unit, "interval": interval, "seed": seed,
                            "exclude_improper": boot.exclude_improper}])
        written.append(write_csv(out_dir / "bootstrap.csv", bt))
        # rivals
        fits = {"hypothesized": fit,
                "full mediation (no c)": fit_structural(data, instrument, controls=controls, direct=False),
                "serial (GRID first)": fit_structural(data, instrument, controls=controls, serial=True)}
        rivals = rival_table(fits, {"full mediation (no c)": "hypothesized"})
        h, sr = fits["hypothesized"].fit, fits["serial (GRID first)"].fit
        if h["df"] == sr["df"] and abs(h["chisq"] - sr["chisq"]) < 1e-4 * max(1.0, h["chisq"]):
            notes.append("The serial model (GRID -> RES, ORG, LIST) and the hypothesized model (correlated "
                         "mediator residuals) are equivalent models: same chi-square and df, so the data "
                         "cannot tell them apart; the choice rests on theory (Lee & Hershberger 1990).")
        written.append(write_csv(out_dir / "rivals.csv", rivals))
        # the other resampling unit, for comparison
        n_cmp = int(cfg.get("comparison_bootstrap", 1000))
        other = bootstrap(fit, n_boot=n_cmp, seed=seed + 2, n_jobs=n_jobs, progress=progress,
                          cluster=None if unit == "community" else community, exclude_improper=True, **resample)
        by_unit = {unit: boot, ("respondent" if unit == "community" else "community"): other}
        est_tab = estimator_table(fit, {_UNITS[u]: by_unit[u] for u in ("respondent", "community")}, interval)
        written.append(write_csv(out_dir / "estimators.csv", est_tab))
        notes.append(_unit_note(unit, interval, n_boot, boot, n_cmp, other))
        mg, mg_note = multigroup_table(data, instrument, controls)
        if mg_note:
            notes.append(mg_note)
        written.append(write_csv(out_dir / "multigroup.csv", mg))
        clus = clustering_table(raw, instrument)
        written.append(write_csv(out_dir / "clustering.csv", clus))
        tl_summary = None
        try:
            tl_fit = fit_twolevel(raw, instrument)
            tl_tab, tl_summary = twolevel_table(tl_fit)
            written.append(write_csv(out_dir / "twolevel.csv", tl_tab))
            notes.append(f"Two-level path model of the scale scores (PL, GRID, RES, ORG, LIST, CR; "
                         f"{tl_summary['nobs']} respondents in {tl_summary['nclusters']} communities, "
                         f"{tl_summary['n_dropped']} rows dropped for a missing score; converged: "
                         f"{tl_summary['converged']}): within-community and between-community paths "
                         "(twolevel.csv). Scale scores carry measurement error, so its within paths are "
                         "attenuated compared with the latent model.")
        except (ValueError, np.linalg.LinAlgError, NotImplementedError) as exc:
            notes.append(f"two-level model not estimated: {exc}")
        try:
            written.append(_diagram(est, instrument, figures_dir / "structural_paths.png"))
        except ValueError as exc:
            notes.append(f"path diagram not drawn: {exc}")
        head = _headline(fit, boot, unit, interval, ind, notes, len(raw))
        head["rival_models"] = int(len(rivals))
        head["max_design_effect"] = float(clus["design_effect"].max())
        head["twolevel"] = tl_summary
        written.append(write_json(out_dir / "headline.json", head))
        return written
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
