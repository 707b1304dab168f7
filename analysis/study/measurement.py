"""The study's measurement step: item statistics, factor structure, reliability, validity.

Reads ``data/processed/analysis.parquet`` (kept rows, reverse-keyed items
already recoded) and the instrument; writes the tables of the measurement
chapter under ``results/measurement/`` and the item-distribution figure under
``results/figures/``. Every CSV carries a ``synthetic`` column and every JSON a
``synthetic`` flag (with ``analysis.results.SYNTHETIC_NOTE_*``) taken from the
ingest report beside the analysis data.

Run it as ``run_measurement()``; the ``resilience`` command calls the same.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..errors import InputError
from ..io import write_csv, write_json
from ..psychometrics import (
    bartlett_sphericity,
    chisq_difference,
    cluster_summary,
    common_latent_factor,
    cronbach_alpha,
    efa,
    fornell_larcker,
    harman_single_factor,
    higher_order_reliability,
    htmt,
    item_descriptives,
    kmo,
    parallel_analysis,
    plot_item_distributions,
    reliability_table,
    standardized_solution,
)
from ..results import SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_ZH, data_are_synthetic

__all__ = ["run_measurement", "measurement_invariance", "first_order_syntax", "DEFAULTS"]

#: Settings used when ``study.yaml``'s ``measurement`` section does not set them.
DEFAULTS = {
    "estimator": "ML",
    "missing": "listwise",
    "invariance_groups": ["community_type", "role"],
    "invariance_min_group_n": 100,
    "parallel_iter": 20,
    "seed": 5100,
    "cluster": "community",
    "modindices_top": 10,
    "common_latent_factor": True,
}

_INV_COLS = ["group_var", "model", "n_groups", "groups", "groups_dropped", "nobs", "chisq", "df", "pvalue",
             "cfi", "tli", "rmsea", "srmr", "delta_chisq", "delta_df", "delta_pvalue", "delta_cfi",
             "delta_rmsea", "invariant", "converged", "status"]
_FIT_COLS = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper",
             "srmr", "aic", "bic", "npar", "nobs"]


def first_order_syntax(instrument) -> str:
    """lavaan syntax of the 12 correlated first-order factors (no second order).

    Parameters
    ----------
    instrument : analysis.study.instrument.Instrument
        The loaded instrument.

    Returns
    -------
    str
        One ``F =~ i1 + i2 + ...`` line per construct, newline-terminated.

    Examples
    --------
    >>> from analysis.study.instrument import load_instrument
    >>> first_order_syntax(load_instrument()).splitlines()[0]
    'PL =~ PL1 + PL2 + PL3 + PL4'
    """
    return "".join(f"{c.code} =~ " + " + ".join(it.code for it in c.items) + "\n"
                   for c in instrument.constructs)


def _settings(config) -> dict:
    if config is None:
        from .settings import load_settings

        config = load_settings()
    section = dict(config.get("measurement", {}) or {}) if "measurement" in config else dict(config)
    return {**DEFAULTS, **section}


def _read(analysis_data: Path, instrument) -> pd.DataFrame:
    if not analysis_data.exists():
        raise InputError("analysis data not found; run `resilience screen` first", file=analysis_data)
    data = pd.read_parquet(analysis_data)
    items = instrument.item_codes()
    missing = [c for c in items if c not in data.columns]
    if missing:
        raise InputError(f"item columns missing: {', '.join(missing)}", file=analysis_data,
                         column=missing[0])
    for c in items:
        if not pd.api.types.is_numeric_dtype(data[c]):
            raise InputError("item column is not numeric", file=analysis_data, column=c)
        bad = data[c].notna() & ~data[c].isin(instrument.scale.values)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise InputError(f"value {data[c][bad].iloc[0]!r} outside the answer scale "
                             f"{instrument.scale.values}", file=analysis_data, row=row, column=c)
    if len(data) < 2 * len(items):
        raise InputError(f"only {len(data)} rows: too few for a {len(items)}-item measurement model",
                         file=analysis_data)
    return data


def _fit_row(model: str, result) -> dict:
    fit = result.fit
    row = {"model": model, **{k: float(fit[k]) if k in fit.index else np.nan for k in _FIT_COLS}}
    row["converged"] = bool(result.converged)
    row["issues"] = "; ".join(result.issues)
    return row


def _group_label(value) -> str:
    """A group code as text: ``2.0`` -> ``"2"``, ``"ZZ03"`` unchanged."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def measurement_invariance(model: str, data: pd.DataFrame, group: str, *, estimator: str = "ML",
                           missing: str = "listwise", min_group_n: int = 100) -> pd.DataFrame:
    """Configural, metric and scalar invariance of a CFA across the levels of ``group``.

    Parameters
    ----------
    model : str
        lavaan syntax of the CFA.
    data : pandas.DataFrame
        Item responses and the grouping column.
    group : str
        Grouping column; levels with fewer than ``min_group_n`` usable rows
        (complete rows, or under FIML rows with any item answered) are left
        out (and named in ``groups_dropped``).
    estimator : str
        Passed to ``analysis.sem.cfa``.
    missing : {"listwise", "fiml"}
        (``run_measurement`` also accepts ``"two-stage"`` in its settings and
        passes two-stage moment data here with ``"listwise"``.)
        Passed to ``analysis.sem.cfa``.
    min_group_n : int
        Smallest group kept.

    Returns
    -------
    pandas.DataFrame
        One row per model (``configural``, ``metric``, ``scalar``), columns
        ``group_var, model, n_groups, groups, groups_dropped, nobs, chisq, df,
        pvalue, cfi, tli, rmsea, srmr, delta_chisq, delta_df, delta_pvalue,
        delta_cfi, delta_rmsea, invariant, converged, status`` (deltas against
        the previous model; ``invariant`` by Chen's ΔCFI ≥ -.010 and ΔRMSEA ≤
        .015). When fewer than two groups are large enough, the three rows
        carry NaN statistics and ``status`` says why; otherwise ``status`` is
        ``"ok"``.

    Notes
    -----
    Metric: ``group_equal=("loadings",)``; scalar: ``("loadings",
    "intercepts")``, as ``lavaan::cfa(..., group.equal = ...)``.

    References
    ----------
    .. [1] Vandenberg, R. J., & Lance, C. E. (2000). A review and synthesis of
       the measurement invariance literature. *Organizational Research
       Methods*, 3(1), 4-70.
    .. [2] Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack
       of measurement invariance. *Structural Equation Modeling*, 14(3), 464-504.
    """
    from ..sem import cfa

    if group not in data.columns:
        raise ValueError(f"grouping column {group!r} not found")
    items = [t for line in model.splitlines() if "=~" in line
             for t in (s.strip() for s in line.split("=~")[1].split("+"))]
    if missing in ("fiml", "ml"):
        complete = data.dropna(subset=[group]).dropna(subset=items, how="all")
    else:
        complete = data.dropna(subset=items + [group])
    complete = complete.assign(**{group: complete[group].map(_group_label)})
    sizes = complete[group].value_counts().sort_index()
    keep = [g for g, n in sizes.items() if n >= min_group_n]
    dropped = [g for g in sizes.index if g not in keep]
    if len(keep) < 2:
        reason = (f"skipped: fewer than two groups of {group!r} have at least {min_group_n} usable rows "
                  f"(sizes {', '.join(f'{g}: {int(n)}' for g, n in sizes.items())})")
        return pd.DataFrame([{"group_var": group, "model": m, "n_groups": len(keep),
                              "groups": ";".join(map(str, keep)), "groups_dropped": ";".join(map(str, dropped)),
                              "status": reason} for m in ("configural", "metric", "scalar")],
                            columns=_INV_COLS)
    sub = complete[complete[group].isin(keep)].copy()
    rows, prev = [], None
    for name, equal in (("configural", ()), ("metric", ("loadings",)),
                        ("scalar", ("loadings", "intercepts"))):
        res = cfa(model, sub, estimator=estimator, missing=missing, group=group, group_equal=equal)
        fit = res.fit
        row = {"group_var": group, "model": name, "n_groups": len(keep),
               "groups": ";".join(map(str, keep)), "groups_dropped": ";".join(map(str, dropped)),
               "nobs": float(fit["nobs"]),
               **{k: float(fit[k]) for k in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr")}}
        if prev is None:
            row.update(delta_chisq=np.nan, delta_df=np.nan, delta_pvalue=np.nan,
                       delta_cfi=np.nan, delta_rmsea=np.nan, invariant=np.nan)
        else:
            d = chisq_difference(fit, prev)
            row.update(delta_chisq=d["delta_chisq"], delta_df=d["delta_df"], delta_pvalue=d["pvalue"],
                       delta_cfi=d["delta_cfi"], delta_rmsea=d["delta_rmsea"],
                       invariant=bool(d["delta_cfi"] >= -0.010 and d["delta_rmsea"] <= 0.015))
        row["converged"] = bool(res.converged)
        row["status"] = "ok"
        rows.append(row)
        prev = fit
    return pd.DataFrame(rows, columns=_INV_COLS)


def _matrix_frame(m: pd.DataFrame, key: str) -> pd.DataFrame:
    out = m.copy()
    out.insert(0, key, list(m.index))
    return out.reset_index(drop=True)


def run_measurement(analysis_data=None, out_dir=None, instrument=None, config=None, *,
                    figures_dir=None, synthetic=None) -> list[Path]:
    """Run the measurement step and write its tables, figure and headline numbers.

    Parameters
    ----------
    analysis_data : path-like, optional
        ``data/processed/analysis.parquet`` (default ``paths.DEFAULT.processed``).
    out_dir : path-like, optional
        Where the tables go (default ``paths.DEFAULT.results / "measurement"``).
    instrument : Instrument, optional
        Default :func:`analysis.study.instrument.load_instrument`.
    config : dict, optional
        ``study.yaml`` as loaded (its ``measurement`` section is used) or the
        section itself; missing keys take :data:`DEFAULTS`.
    figures_dir : path-like, optional
        Default ``paths.DEFAULT.figures``.
    synthetic : bool, optional
        Override the ``synthetic`` flag of the ingest report beside the data.

    Returns
    -------
    list of pathlib.Path
        The files written, in order.

    Notes
    -----
    Files under ``out_dir``: ``descriptives.csv``, ``kmo.csv``,
    ``bartlett.csv``, ``efa_loadings.csv``, ``efa_variance.csv``,
    ``parallel_analysis.csv``, ``reliability.csv``, ``fornell_larcker.csv``,
    ``htmt.csv`` (``reliability.csv`` also has one row per second-order factor:
    alpha over all its items, higher-order omega and CR), ``fit.csv`` (first- and second-order CFA), ``loadings.csv``
    (``=~`` rows with est, se, std_all and its delta-method
    ``std_se``, ``std_ci_lower``, ``std_ci_upper``), ``modindices.csv`` (top 10 of the
    first-order CFA), ``cmb_harman.csv``, ``cmb_clf_fit.csv``,
    ``cmb_clf_loadings.csv``, ``invariance.csv``, ``icc.csv`` and
    ``headline.json``; figure ``measurement_item_distributions.png``.
    Statistics and their references are those of :mod:`analysis.psychometrics`.

    References
    ----------
    .. [1] Brown, T. A. (2015). *Confirmatory factor analysis for applied
       research* (2nd ed.). Guilford.
    """
    from ..sem import cfa
    from .instrument import load_instrument
    from .style import save_figure, use

    analysis_data = Path(analysis_data) if analysis_data is not None else paths.DEFAULT.processed / "analysis.parquet"
    out_dir = Path(out_dir) if out_dir is not None else paths.DEFAULT.results / "measurement"
    figures_dir = Path(figures_dir) if figures_dir is not None else paths.DEFAULT.figures
    ins = instrument if instrument is not None else load_instrument()
    cfg = _settings(config)
    is_synth = data_are_synthetic(Path(analysis_data).parent, synthetic, unknown="error")
    data = _read(analysis_data, ins)
    items = ins.item_codes()
    scales = {c.code: [it.code for it in c.items] for c in ins.constructs}
    names = {c.code: (c.name_zh, c.name_en) for c in ins.constructs}
    construct_of = {it.code: it.construct for it in ins.items}
    written: list[Path] = []

    def put_csv(name, frame):
        frame = frame.copy()
        frame["synthetic"] = is_synth
        written.append(write_csv(out_dir / f"{name}.csv", frame))

    # --- item descriptives and figure -------------------------------------
    desc = item_descriptives(data, items, points=ins.scale.points)
    desc.insert(1, "construct", desc["item"].map(construct_of))
    put_csv("descriptives", desc)
    use()
    cats = [f"{lab.value} {lab.zh} {lab.en}" for lab in ins.scale.labels]
    fig = plot_item_distributions(data, items, points=ins.scale.points, category_labels=cats,
                                  item_labels={i: f"{i} {names[construct_of[i]][0]}" for i in items},
                                  title="题项作答分布 Item response distributions",
                                  note=f"{SYNTHETIC_NOTE_ZH}\n{SYNTHETIC_NOTE_EN}" if is_synth else None)
    fig_path = figures_dir / "measurement_item_distributions.png"
    save_figure(fig, fig_path)
    written.append(fig_path)

    # --- factorability, EFA, parallel analysis -----------------------------
    k = kmo(data, items)
    put_csv("kmo", k)
    bart = bartlett_sphericity(data, items)
    put_csv("bartlett", bart)
    n_factors = len(ins.constructs)
    ef = efa(data, n_factors, items, method="minres", rotation="oblimin")
    tidy = ef.tidy()
    tidy.insert(1, "construct", tidy["item"].map(construct_of))
    put_csv("efa_loadings", tidy)
    put_csv("efa_variance", ef.variance_table())
    pa = parallel_analysis(data, items, n_iter=int(cfg["parallel_iter"]), seed=int(cfg["seed"]))
    put_csv("parallel_analysis", pa.table)

    # --- CFA: first order and second order ---------------------------------
    first = first_order_syntax(ins)
    # Missing items: "two-stage" fits every model by ML to complete rows whose moments are the EM
    # (saturated ML) estimates of the incomplete data (Savalei & Bentler 2009), the estimator of the
    # structural step, so that the measurement and structural chapters rest on the same moments;
    # FIML gives the same point estimates asymptotically (the robustness step compares them).
    missing = cfg["missing"]
    model_data = data
    if missing == "two-stage":
        from ..sem.twostage import exact_moment_data

        model_data = exact_moment_data(data, items, seed=int(cfg["seed"]))
        missing = "listwise"
    fit1 = cfa(first, model_data, estimator=cfg["estimator"], missing=missing)
    fit2 = cfa(ins.model_syntax("measurement"), model_data, estimator=cfg["estimator"], missing=missing)
    put_csv("fit", pd.DataFrame([_fit_row("first_order", fit1), _fit_row("second_order", fit2)]))
    cols = ["lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all"]
    lo = []
    for name, res in (("first_order", fit1), ("second_order", fit2)):
        e = res.estimates
        e = e.loc[e["op"] == "=~", cols].copy()
        std = standardized_solution(res)
        std = std[std["op"] == "=~"].set_index(["lhs", "rhs"])
        key = list(zip(e["lhs"], e["rhs"]))
        e["std_se"] = std["se"].reindex(key).to_numpy()
        e["std_ci_lower"] = std["ci_lower"].reindex(key).to_numpy()
        e["std_ci_upper"] = std["ci_upper"].reindex(key).to_numpy()
        e.insert(0, "model", name)
        lo.append(e)
    put_csv("loadings", pd.concat(lo, ignore_index=True))
    mi = fit1.modindices()
    put_csv("modindices", mi.head(int(cfg["modindices_top"])).reset_index(drop=True))

    # --- reliability and validity ------------------------------------------
    rel = reliability_table(model_data, scales, result=fit1)
    rel.insert(1, "level", "first_order")
    higher = higher_order_reliability(fit2, model_data).set_index("factor")
    so_rows = []
    for so in ins.second_order:
        so_items = [i for ch in so.children for i in scales[ch]]
        a = cronbach_alpha(model_data, so_items)
        names[so.code] = (so.name_zh, so.name_en)
        so_rows.append({"scale": so.code, "level": "second_order", "n_items": len(so_items),
                        "alpha": a["alpha"], "ci_lower": a["ci_lower"], "ci_upper": a["ci_upper"],
                        "std_alpha": a["std_alpha"], "omega": higher.loc[so.code, "omega"],
                        "cr": higher.loc[so.code, "cr"], "ave": np.nan})
    rel = pd.concat([rel, pd.DataFrame(so_rows, columns=rel.columns)], ignore_index=True)
    rel.insert(2, "name_zh", rel["scale"].map(lambda c: names[c][0]))
    rel.insert(3, "name_en", rel["scale"].map(lambda c: names[c][1]))
    put_csv("reliability", rel)
    first_rel = rel[rel["level"] == "first_order"]
    fl = fornell_larcker(fit1, model_data)
    put_csv("fornell_larcker", _matrix_frame(fl, "factor"))
    ht = htmt(model_data, scales)
    put_csv("htmt", _matrix_frame(ht, "factor"))

    # --- common method bias --------------------------------------------------
    harm = pd.DataFrame([{"method": m, **harman_single_factor(data, items, method=m).to_dict()}
                         for m in ("pca", "fa")])
    put_csv("cmb_harman", harm)
    clf = None
    if cfg["common_latent_factor"]:
        clf = common_latent_factor(first, model_data, estimator=cfg["estimator"], missing=missing,
                                   fitted=fit1)
        comp = clf.comparison.copy()
        for key, val in clf.test.items():
            comp["lrt_" + key] = [np.nan, val]
        comp["method_variance"] = [np.nan, clf.method_variance]
        put_csv("cmb_clf_fit", comp)
        put_csv("cmb_clf_loadings", clf.loadings)

    # --- measurement invariance ------------------------------------------------
    inv = []
    for g in cfg["invariance_groups"]:
        group_data, dropped_before = data, []
        if cfg["missing"] == "two-stage":
            from ..sem.twostage import exact_moment_data

            rows = data.dropna(subset=[g])
            # EM needs more rows than items in each group: groups below the invariance minimum are
            # dropped here, as measurement_invariance would drop them, and named in groups_dropped.
            counts = rows[g].value_counts()
            dropped_before = sorted(_group_label(k) for k, n in counts.items()
                                    if n < int(cfg["invariance_min_group_n"]))
            rows = rows[rows[g].map(counts) >= int(cfg["invariance_min_group_n"])]
            group_data = exact_moment_data(rows.assign(**{g: rows[g].map(_group_label)}), items, group=g,
                                           seed=int(cfg["seed"]))
        res = measurement_invariance(first, group_data, g, estimator=cfg["estimator"], missing=missing,
                                     min_group_n=int(cfg["invariance_min_group_n"]))
        if dropped_before:
            res["groups_dropped"] = [";".join(dropped_before + [x for x in str(v).split(";") if x])
                                     for v in res["groups_dropped"].fillna("")]
        inv.append(res)
    inv_tab = pd.concat(inv, ignore_index=True) if inv else pd.DataFrame(columns=_INV_COLS)
    put_csv("invariance", inv_tab)

    # --- clustering by community ------------------------------------------------
    scores = pd.DataFrame({c: data[its].mean(axis=1) for c, its in scales.items()})
    for so in ins.second_order:
        scores[so.code] = data[[i for ch in so.children for i in scales[ch]]].mean(axis=1)
    scores[cfg["cluster"]] = data[cfg["cluster"]].to_numpy()
    icc = cluster_summary(scores, [c for c in scores.columns if c != cfg["cluster"]], cfg["cluster"])
    put_csv("icc", icc)

    # --- headline ---------------------------------------------------------------
    f1, f2 = fit1.fit, fit2.fit
    off = ~np.eye(len(ht), dtype=bool)
    fl_ok = all(fl.iloc[i, i] > np.abs(np.delete(fl.iloc[i].to_numpy(), i)).max() for i in range(len(fl)))
    headline = {
        "synthetic": is_synth, "note_zh": SYNTHETIC_NOTE_ZH if is_synth else "",
        "note_en": SYNTHETIC_NOTE_EN if is_synth else "",
        "n": int(len(data)), "n_cfa": int(f1["nobs"]), "missing": str(cfg["missing"]),
        "n_complete": int(data[items].notna().all(axis=1).sum()), "n_items": len(items), "n_constructs": n_factors,
        "kmo": float(k["msa"].iloc[-1]), "kmo_min_item": float(k["msa"].iloc[:-1].min()),
        "bartlett_chisq": float(bart["chisq"].iloc[0]), "bartlett_df": float(bart["df"].iloc[0]),
        "bartlett_pvalue": float(bart["pvalue"].iloc[0]),
        "parallel_n_factors": pa.n_factors, "parallel_n_components": pa.n_components,
        "efa_converged": ef.converged,
        **{f"first_order_{key}": float(f1[key]) for key in ("chisq", "df", "cfi", "tli", "rmsea", "srmr")},
        **{f"second_order_{key}": float(f2[key]) for key in ("chisq", "df", "cfi", "tli", "rmsea", "srmr")},
        "cfa_converged": bool(fit1.converged and fit2.converged),
        "min_std_loading": float(lo[0]["std_all"].min()),
        "min_alpha": float(first_rel["alpha"].min()),
        "min_alpha_scale": str(first_rel.loc[first_rel["alpha"].idxmin(), "scale"]),
        "min_omega": float(first_rel["omega"].min()), "min_cr": float(first_rel["cr"].min()),
        "min_ave": float(first_rel["ave"].min()),
        "max_htmt": float(ht.to_numpy()[off].max()), "fornell_larcker_ok": bool(fl_ok),
        "harman_share": float(harm.loc[harm["method"] == "pca", "share"].iloc[0]),
        "max_icc1": float(icc["icc1"].max()), "mean_design_effect": float(icc["design_effect"].mean()),
        "n_clusters": int(icc["n_clusters"].iloc[0]),
    }
    if clf is not None:
        headline.update(clf_delta_chisq=float(clf.test["delta_chisq"]), clf_pvalue=float(clf.test["pvalue"]),
                        clf_delta_cfi=float(clf.test["delta_cfi"]), clf_method_variance=clf.method_variance,
                        clf_max_abs_loading_change=float(clf.loadings["delta"].abs().max()))
    for g in cfg["invariance_groups"]:
        t = inv_tab[inv_tab["group_var"] == g].set_index("model")
        ok = bool((t["status"] == "ok").all())
        headline[f"invariance_{g}_status"] = "ok" if ok else str(t["status"].iloc[0])
        headline[f"invariance_{g}_metric_delta_cfi"] = float(t.loc["metric", "delta_cfi"]) if ok else None
        headline[f"invariance_{g}_scalar_delta_cfi"] = float(t.loc["scalar", "delta_cfi"]) if ok else None
        headline[f"invariance_{g}_scalar_holds"] = bool(t.loc[["metric", "scalar"], "invariant"].all()) if ok else None
    written.append(write_json(out_dir / "headline.json", headline))
    return written
