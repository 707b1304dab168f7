"""Design weights and the weighted structural model: do the findings survive weighting?

The design interviews about the same number of residents in every sampled
community whatever its size, so a resident of a large community stands for
more residents than one of a small community: the sample is not
self-weighting.  The design weight of a resident of community :math:`j` is
the community's share of the frame's households over its share of the
sample,

.. math:: w_i = \\frac{H_j / \\sum_k H_k}{n_j / n},

(Kish 1965; the communities of the analysed sample form the frame), and the
weighted model is lavaan's ``sampling.weights`` fit (weights normalised to
sum to N, MLR with FIML, cluster-robust by community), beside the same fit
without weights.  Weighting spends precision: Kish's design effect of
weighting :math:`1 + CV^2(w)` and the effective sample size say how much.

The same frame gives the community-level covariate of the two-level path
model (chapter 8): the log of a community's households enters the
``level: 2`` block as a between-only regressor of PL, the mediators and CR
(lavaan's between-level variables), asking whether larger communities differ
in leadership, pathways or resilience.

Writes under ``results/weighting/``: ``weights.csv`` (one row per
community), ``estimates.csv`` (key parameters, unweighted and weighted),
``fit.csv``, ``twolevel_size.csv``, ``headline.json``.

References
----------
.. [1] Kish, L. (1965). *Survey sampling*. Wiley.
.. [2] Rosseel, Y. (2012). lavaan. *Journal of Statistical Software*, 48(2)
   (``sampling.weights``).
.. [3] Asparouhov, T. (2005). Sampling weights in latent variable modeling.
   *Structural Equation Modeling*, 12(3), 411-434.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..errors import InputError
from ..io import write_csv, write_json

__all__ = ["read_frame", "design_weights", "weight_summary", "fit_weighted", "run_weighting", "WEIGHT"]

#: The design-weight column added to the model data.
WEIGHT = "design_weight"
#: The community-size covariate of the two-level model: log households, centred over communities.
SIZE = "ln_households"


def read_frame(path) -> pd.DataFrame:
    """The sampling frame: ``community`` and ``households`` (one row per community)."""
    path = Path(path)
    if not path.exists():
        raise InputError("sampling frame not found (community, households per community)", file=path)
    frame = pd.read_csv(path, dtype={"community": str})
    for col in ("community", "households"):
        if col not in frame.columns:
            raise InputError(f"the sampling frame has no column {col!r}", file=path)
    dup = frame["community"][frame["community"].duplicated()]
    if not dup.empty:
        row = int(dup.index[0]) + 2
        raise InputError(f"community {dup.iloc[0]!r} appears twice", file=path, row=row, column="community")
    hh = pd.to_numeric(frame["households"], errors="coerce")
    bad = hh.isna() | (hh <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputError("households must be a positive number", file=path, row=row, column="households")
    return frame.assign(households=hh.astype(float))


def design_weights(data: pd.DataFrame, frame: pd.DataFrame, community: str = "community") -> pd.Series:
    """Each respondent's design weight (mean 1 over the sample).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per analysed respondent, with ``community``.
    frame : pandas.DataFrame
        :func:`read_frame`'s table.

    Returns
    -------
    pandas.Series
        :math:`w_i = (H_j/\\sum_k H_k)/(n_j/n)` over the communities of the
        sample (named ``design_weight``, aligned with ``data``).

    Raises
    ------
    InputError
        A respondent's community is missing or not in the frame.
    """
    comm = data[community].astype("string")
    if comm.isna().any():
        row = int(np.flatnonzero(comm.isna().to_numpy())[0]) + 1
        raise InputError(f"respondent in data row {row} has no community (needed for the design weight)",
                         column=community)
    hh = frame.set_index(frame["community"].astype(str))["households"]
    absent = sorted(set(comm) - set(hh.index))
    if absent:
        raise InputError(f"{len(absent)} sampled communit{'y is' if len(absent) == 1 else 'ies are'} not in the "
                         f"sampling frame (first: {absent[0]!r})", column=community)
    n_j = comm.map(comm.value_counts())
    sampled = hh.loc[sorted(set(comm))]
    share_pop = comm.map(sampled / sampled.sum()).astype(float)
    share_sample = n_j.astype(float) / len(comm)
    return (share_pop / share_sample).rename(WEIGHT).set_axis(data.index)


def weight_summary(weights: pd.Series) -> dict:
    """Kish's design effect of weighting, the effective N and the spread of the weights."""
    w = np.asarray(weights, float)
    cv2 = float(np.var(w) / np.mean(w) ** 2)
    return {"n": int(w.size), "min": float(w.min()), "max": float(w.max()), "cv": float(np.sqrt(cv2)),
            "deff_kish": 1.0 + cv2, "n_effective": float(w.sum() ** 2 / np.sum(w ** 2))}


def fit_weighted(data, model: str, *, weights: str | None, cluster: str = "community"):
    """The structural model by MLR with FIML and cluster-robust SEs, with or without sampling weights."""
    from ..sem import sem

    return sem(model, data, estimator="MLR", missing="fiml", cluster=cluster, sampling_weights=weights)


def run_weighting(out_dir=None, analysis_data=None, frame_path=None, *, instrument=None,
                  synthetic=None) -> list[Path]:
    """The weighting step: design weights, then the structural model unweighted and weighted.

    Parameters
    ----------
    out_dir, analysis_data, frame_path : path-like, optional
        Defaults: ``results/weighting``, ``data/processed/analysis.parquet``
        and the synthetic export's ``community_frame.csv``.

    Returns
    -------
    list of Path
    """
    from .._parallel import blas_threads
    from ..results import SYNTHETIC_NOTE_EN
    from .instrument import load_instrument
    from .multilevel import fit_twolevel, twolevel_table
    from .robustness import key_parameters, synthetic_of
    from .structural import control_columns, prepare_data, write_fit_command

    limiter = blas_threads(1)
    try:
        out = Path(out_dir) if out_dir is not None else paths.DEFAULT.results / "weighting"
        analysis_data = paths.DEFAULT.processed / "analysis.parquet" if analysis_data is None else analysis_data
        frame_path = (paths.DEFAULT.raw / "synthetic" / "community_frame.csv") if frame_path is None else frame_path
        ins = instrument or load_instrument()
        synth = synthetic_of(analysis_data, synthetic)
        data, controls = control_columns(prepare_data(analysis_data))
        frame = read_frame(frame_path)
        data[WEIGHT] = design_weights(data, frame)
        model = ins.model_syntax("structural", controls=tuple(controls))
        where = analysis_data if not isinstance(analysis_data, pd.DataFrame) else None
        model_data = (out / "weighting.parquet") if where is None else Path(where).with_name("weighting.parquet")
        written = write_fit_command(out, model, data, model_data, estimator="MLR", missing="fiml",
                                    cluster="community", se="robust.cluster", weights=WEIGHT, n_boot=0,
                                    interval=None, seed=None, json_path="weighting_fit.json")
        fits = {"unweighted": fit_weighted(data, model, weights=None),
                "design-weighted": fit_weighted(data, model, weights=WEIGHT)}
        rows = []
        for name, fit in fits.items():
            k = key_parameters(fit)
            k.insert(0, "model", name)
            rows.append(k)
        est = pd.concat(rows, ignore_index=True)
        u = est[est["model"] == "unweighted"].set_index(["lhs", "op", "rhs"])
        w = est[est["model"] == "design-weighted"].set_index(["lhs", "op", "rhs"])
        cmp = u[["label", "est", "se", "ci_lower", "ci_upper", "pvalue", "std_all"]].join(
            w[["est", "se", "ci_lower", "ci_upper", "pvalue", "std_all"]], rsuffix="_weighted").reset_index()
        cmp["diff"] = cmp["est_weighted"] - cmp["est"]
        cmp["diff_in_se"] = cmp["diff"] / cmp["se"]
        cmp["se_ratio"] = cmp["se_weighted"] / cmp["se"]
        cmp["same_decision"] = (cmp["pvalue"] < 0.05) == (cmp["pvalue_weighted"] < 0.05)
        cmp["synthetic"] = synth
        # the fit of each model: the ML chi-square and the SRMR (the scaled test of a weighted FIML fit of
        # this size costs minutes: the point of the comparison is the parameters)
        fit_rows = []
        for name, fit in fits.items():
            fit_rows.append({"model": name, "converged": bool(fit.converged), "n": int(fit.stats.ntotal),
                             "chisq": float(fit.objective.test_statistic(fit.theta)), "npar": int(fit.model.n_free),
                             "issues": "; ".join(map(str, fit.issues)), "synthetic": synth})
        # community size as a between-level covariate of the two-level path model (chapter 8's model)
        data[SIZE] = np.log(data["community"].astype(str).map(frame.set_index("community")["households"]))
        data[SIZE] = data[SIZE] - data.groupby("community")[SIZE].first().mean()
        tl_tab, tl_summary = twolevel_table(fit_twolevel(data, ins, between=(SIZE,)))
        tl_tab["synthetic"] = synth
        size_rows = tl_tab[tl_tab["rhs"] == SIZE]
        per_comm = (data.groupby("community", sort=True)[WEIGHT].agg(["size", "first"])
                    .rename(columns={"size": "n", "first": WEIGHT}).reset_index()
                    .merge(frame[["community", "households"]], on="community", how="left"))
        per_comm["synthetic"] = synth
        summ = weight_summary(data[WEIGHT])
        paths_only = cmp[cmp["op"] == "~"]
        head = {"synthetic": synth, "data_note": SYNTHETIC_NOTE_EN if synth else "", "weights": summ,
                "communities": int(per_comm.shape[0]), "frame": Path(frame_path).name,
                "max_abs_diff_in_se": float(np.abs(cmp["diff_in_se"]).max()),
                "median_se_ratio_paths": float(paths_only["se_ratio"].median()),
                "n_same_decision": int(cmp["same_decision"].sum()), "n_parameters": int(len(cmp)),
                "estimator": "MLR, FIML, cluster-robust by community",
                "twolevel_size": {"converged": tl_summary["converged"], "nclusters": tl_summary["nclusters"],
                                  "n_significant": int((size_rows["pvalue"] < 0.05).sum()),
                                  "n_paths": int(len(size_rows)),
                                  "cr_est": float(size_rows.loc[size_rows["lhs"] == "CR", "est"].iloc[0]),
                                  "cr_pvalue": float(size_rows.loc[size_rows["lhs"] == "CR", "pvalue"].iloc[0]),
                                  "total_indirect_between": tl_summary["total_indirect_between"]},
                "command": written[-1].read_text(encoding="utf-8").strip()}
        written += [write_csv(out / "weights.csv", per_comm), write_csv(out / "estimates.csv", cmp),
                   write_csv(out / "twolevel_size.csv", tl_tab),
                   write_csv(out / "fit.csv", pd.DataFrame(fit_rows)), write_json(out / "headline.json", head)]
        return written
    finally:
        limiter.restore_original_limits()
