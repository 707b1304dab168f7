"""Moderated mediation (有调节的中介): does the grid pathway work the same for every resident?

The population model declares one moderation (``moderation:`` in
``data/population_model.yaml``): the first stage of a pathway, Party
leadership (PL) -> the mediator, depends on a resident characteristic (years
of residence).  This step tests it as a first-stage moderated mediation
(Hayes's model 7) with latent variables: the interaction PL x W is a latent
factor measured by the double-mean-centred products of PL's items with the
standardized moderator W (:func:`analysis.sem.indprod`, semTools'
``indProd``; Marsh, Wen & Hau 2004; Lin et al. 2010), and

* ``a3`` (mediator ~ PLxW) is the interaction,
* ``imm := a3*b`` the index of moderated mediation (Hayes 2015),
* ``ind_lo/ind_mid/ind_hi := (a1 + a3*w)*b`` the conditional indirect effects
  at w = -1, 0, +1 SD of the moderator.

Missing items are handled as in the structural chapter (two-stage ML, the
bootstrap resampling the incomplete rows), and the reported intervals are the
structural chapter's cluster bootstrap (communities resampled) with its
interval type (``study.yaml``: ``structural.bootstrap_interval``).  Probing:
the conditional first-stage effect with its interval and the Johnson-Neyman
bounds (:mod:`analysis.sem.interactions`), and a figure of both conditional
effects with their bands.  Recovery: ``moderation.replications`` samples of
the study's size drawn from the population model, each fitted by ML, give the
bias of the standardized interaction and index and the coverage of their Wald
intervals against the values of one very large sample (the same pseudo-truth
approach as the power chapter).

Writes under ``results/moderation/``: ``model.lav``, ``estimates.csv``,
``effects.csv``, ``probe.csv``, ``johnson_neyman.json``, ``recovery.csv``,
``headline.json`` (and ``results/figures/moderation_probe.png``).

References
----------
.. [1] Hayes, A. F. (2015). An index and test of linear moderated mediation.
   *Multivariate Behavioral Research*, 50(1), 1-22.
.. [2] Marsh, H. W., Wen, Z., & Hau, K.-T. (2004). Structural equation models
   of latent interactions. *Psychological Methods*, 9(3), 275-300.
.. [3] Lin, G.-C., Wen, Z., Marsh, H. W., & Lin, H.-S. (2010). Structural
   equation models of latent interactions: Clarification of orthogonalizing
   and double-mean-centering strategies. *Structural Equation Modeling*,
   17(3), 374-391.
.. [4] Preacher, K. J., Curran, P. J., & Bauer, D. J. (2006). Computational
   tools for probing interactions. *Journal of Educational and Behavioral
   Statistics*, 31(4), 437-448.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..errors import InputError
from ..io import write_csv, write_json

__all__ = ["ModerationSpec", "moderation_spec", "moderation_data", "moderation_syntax", "fit_moderation",
           "probe_table", "conditional_band", "jn_sentence_zh", "param_labels_zh", "recovery_replicate", "run_moderation"]

#: The name of the latent interaction factor.
PRODUCT = "PLxW"
#: Moderator values (in SD units) of the conditional indirect effects.
AT = {"ind_lo": -1.0, "ind_mid": 0.0, "ind_hi": 1.0}


@dataclass(frozen=True)
class ModerationSpec:
    """Which path is moderated by what (from the population model's ``moderation:``).

    Attributes
    ----------
    moderator : str
        Data column of the moderator (e.g. ``years``).
    focal, mediator, outcome : str
        Constructs: the moderated first stage ``focal -> mediator`` and the
        outcome of the pathway.
    interaction : float
        The declared standardized interaction (the population value).
    """

    moderator: str
    focal: str
    mediator: str
    outcome: str
    interaction: float

    @property
    def w(self) -> str:
        """The standardized moderator's column name."""
        return f"{self.moderator}_z"


def moderation_spec(population=None) -> ModerationSpec:
    """The moderation declared in the population model."""
    from .population import load_population

    pop = population or load_population()
    if not pop.moderation:
        raise InputError("the population model declares no moderation (section moderation:)",
                         file=pop.source or None)
    m = pop.moderation
    return ModerationSpec(m["moderator"], m["path"][0], m["path"][1], "CR", float(m["interaction"]))


def param_labels_zh(spec: ModerationSpec | None = None, labels: dict | None = None) -> dict[str, str]:
    """Chinese labels of the effects table's parameters (``a1`` ... ``ind_hi``), codes spelt out.

    Parameters
    ----------
    spec : ModerationSpec, optional
        Default: the population model's moderation.
    labels : dict, optional
        ``code -> 中文`` (default :func:`analysis.study.glossary.code_labels`).
    """
    from .glossary import code_labels

    spec = spec or moderation_spec()
    labels = labels or code_labels()
    x, m, y, w = (labels.get(c, c) for c in (spec.focal, spec.mediator, spec.outcome, spec.moderator))
    return {
        "a1": f"第一阶段主效应（{x} → {m}，{w}取均值）", "a2": f"调节变量主效应（{w} → {m}）",
        "a3": f"交互项（{x} × {w} → {m}）", "b": f"第二阶段效应（{m} → {y}）",
        "cp": f"直接效应（{x} → {y}）", "imm": "有调节的中介指数",
        "ind_lo": f"条件间接效应（{w}低一个标准差）", "ind_mid": f"条件间接效应（{w}取均值）",
        "ind_hi": f"条件间接效应（{w}高一个标准差）",
    }


def moderation_data(data: pd.DataFrame, instrument, spec: ModerationSpec) -> pd.DataFrame:
    """The data with the standardized moderator and the product indicators.

    ``<moderator>_z`` is the moderator standardized by its sample mean and SD
    (n - 1); the products ``<item>.<moderator>_z`` of the focal construct's
    items with it are double-mean-centred (:func:`analysis.sem.indprod`
    defaults, semTools' ``indProd``).  A row missing the moderator keeps
    NaN there (two-stage ML treats it as missing at random).
    """
    from ..sem import indprod

    if spec.moderator not in data.columns:
        raise InputError(f"column {spec.moderator!r} (the moderator) is missing from the analysis data")
    out = data.copy()
    w = pd.to_numeric(out[spec.moderator], errors="coerce").astype(float)
    out[spec.w] = (w - w.mean()) / w.std()
    return indprod(out, instrument.item_codes(spec.focal), [spec.w], match=False)


def _indicators(instrument, code: str) -> list[str]:
    """``code =~`` lines of a construct (second-order: its first-order factors and their items)."""
    second = {s.code: s for s in instrument.second_order}
    if code in second:
        lines = [f"{c} =~ {' + '.join(instrument.item_codes(c))}" for c in second[code].children]
        return lines + [f"{code} =~ {' + '.join(second[code].children)}"]
    return [f"{code} =~ {' + '.join(instrument.item_codes(code))}"]


def moderation_syntax(instrument, spec: ModerationSpec) -> str:
    """The lavaan syntax of the first-stage moderated mediation model."""
    x, m, y, w = spec.focal, spec.mediator, spec.outcome, spec.w
    products = [f"{i}.{w}" for i in instrument.item_codes(x)]
    lines = ["# measurement"]
    for code in (x, m, y):
        lines += _indicators(instrument, code)
    lines += [f"{PRODUCT} =~ {' + '.join(products)}", "# structure",
              f"{m} ~ a1*{x} + a2*{w} + a3*{PRODUCT}", f"{y} ~ b*{m} + cp*{x} + {w}",
              "# index of moderated mediation and conditional indirect effects (w in SD units)",
              "imm := a3*b"]
    for name, v in AT.items():
        lines.append(f"{name} := (a1 {'-' if v < 0 else '+'} a3*{abs(v):g})*b" if v else f"{name} := a1*b")
    return "\n".join(lines) + "\n"


def fit_moderation(data, instrument, spec: ModerationSpec, *, missing=None):
    """Fit the moderated mediation model by ML (two-stage ML when items are missing)."""
    from ..sem import sem

    used = instrument.item_codes(spec.focal) + instrument.item_codes(spec.mediator) + [spec.w]
    missing = missing or ("two.stage" if data[used].isna().to_numpy().any() else "listwise")
    return sem(moderation_syntax(instrument, spec), data, missing=missing, se="standard")


def probe_table(fit, spec: ModerationSpec, at=(-2, -1, 0, 1, 2)) -> pd.DataFrame:
    """Conditional first-stage effect ``a1 + a3*w`` at moderator values (SD units), with Wald intervals."""
    from ..sem.interactions import simple_slopes

    return simple_slopes(fit, spec.mediator, spec.focal, spec.w, at=list(at), product=PRODUCT)


def _free_index(fit, label: str) -> int:
    pt = fit.partable
    return int(pt.loc[pt["label"] == label, "free"].iloc[0]) - 1


def conditional_band(fit, boot, grid, level: float = 0.95) -> pd.DataFrame:
    """Conditional indirect effect ``(a1 + a3*w)*b`` over ``grid`` with percentile bands of the bootstrap draws."""
    th = fit.theta
    ia1, ia3, ib = (_free_index(fit, k) for k in ("a1", "a3", "b"))
    used = boot.theta[boot.used] if hasattr(boot, "used") else boot.theta
    used = used[np.all(np.isfinite(used), axis=1)]
    grid = np.asarray(grid, float)
    est = (th[ia1] + th[ia3] * grid) * th[ib]
    draws = (used[:, [ia1]] + used[:, [ia3]] * grid[None, :]) * used[:, [ib]]
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return pd.DataFrame({"w": grid, "indirect": est, "ci_lower": lo, "ci_upper": hi})


def _figure(probe: pd.DataFrame, band: pd.DataFrame, jn, spec: ModerationSpec, path: Path, synthetic: bool):
    import matplotlib.pyplot as plt

    from . import style
    from .diagrams import conditional_effect_axes

    style.use()
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8))
    xlabel = "居住年限（标准化，w）"
    conditional_effect_axes(axes[0], probe, bounds=(jn.lower, jn.upper), xlabel=xlabel,
                            ylabel=f"{spec.focal} → {spec.mediator} 的效应", line_label="条件效应 a1 + a3·w",
                            title="第一阶段条件效应（虚线：Johnson–Neyman 界）")
    conditional_effect_axes(axes[1], band, y="indirect", xlabel=xlabel,
                            ylabel=f"{spec.focal} → {spec.mediator} → {spec.outcome}",
                            line_label="条件间接效应 (a1 + a3·w)·b", band_label="95% 自助百分位带",
                            title="条件间接效应", color="#006d2c", fill="#c7e9c0")
    if synthetic:
        fig.suptitle("合成数据（模拟样本，非实地调查） · Synthetic data", fontsize=9, color="#7f2704")
    fig.tight_layout()
    style.save_figure(fig, path)


def jn_sentence_zh(jn, w_min: float, w_max: float) -> str:
    """Where, within the observed range of the moderator, the first-stage effect is significant (Chinese).

    Parameters
    ----------
    jn : analysis.sem.interactions.JohnsonNeyman
    w_min, w_max : float
        The observed range of the standardized moderator.
    """
    import math

    rng = f"本样本观测到的标准化居住年限从 {w_min:.2f} 到 {w_max:.2f}"
    if math.isnan(jn.lower):
        return f"{rng}；在任何取值上效应都" + ("显著" if jn.significant_everywhere else "不显著")
    if jn.inside:
        parts = [(max(jn.lower, w_min), min(jn.upper, w_max))]
    else:
        parts = [(w_min, min(jn.lower, w_max)), (max(jn.upper, w_min), w_max)]
    parts = [(a, b) for a, b in parts if b > a]
    if not parts:
        return f"{rng}；在这个范围内效应都不显著（Johnson–Neyman 界为 {jn.lower:.2f} 与 {jn.upper:.2f}）"
    if parts == [(w_min, w_max)]:
        return (f"{rng}；在这个范围内效应处处显著（Johnson–Neyman 界 {jn.lower:.2f} 与 {jn.upper:.2f} "
                "都落在观测范围之外）")
    where = "、".join(f"[{a:.2f}, {b:.2f}]" for a, b in parts)
    return f"{rng}；效应显著的范围是 {where}（Johnson–Neyman 界为 {jn.lower:.2f} 与 {jn.upper:.2f}）"


def recovery_replicate(condition: dict, rep: int, seed: int, *, spec: ModerationSpec, population, instrument) -> list:
    """One recovery replication: simulate attentive respondents, fit by ML, return a3 and imm.

    Returns one dict per parameter (``a3``, ``imm``): ``est`` (unstandardized),
    ``std_est`` (std_all), Wald ``ci_lower``/``ci_upper``, ``converged``,
    ``improper``, ``valid``.
    """
    from .simulate import simulate_responses

    n = int(condition["n"])
    d = simulate_responses(n, int(condition["communities"]), seed=seed, population=population,
                           instrument=instrument)
    d = moderation_data(d, instrument, spec)
    out = []
    try:
        fit = fit_moderation(d, instrument, spec, missing="listwise")
        est = fit.estimates
        ok = bool(fit.converged)
        improper = any("negative" in str(i).lower() for i in fit.issues)
    except (np.linalg.LinAlgError, ValueError):
        fit, ok, improper = None, False, False
    for p in ("a3", "imm"):
        if fit is None or not ok:
            out.append({"param": p, "est": np.nan, "std_est": np.nan, "ci_lower": np.nan, "ci_upper": np.nan,
                        "converged": False, "improper": False, "valid": False})
            continue
        row = est[est["label"] == p] if p != "imm" else est[est["lhs"] == "imm"]
        r = row.iloc[0]
        out.append({"param": p, "est": float(r["est"]), "std_est": float(r["std_all"]),
                    "ci_lower": float(r["ci_lower"]), "ci_upper": float(r["ci_upper"]),
                    "converged": True, "improper": improper, "valid": not improper})
    return out


def _pseudo_truth(spec, population, instrument, n: int, communities: int, seed: int) -> dict:
    """Unstandardized a3 and imm of one very large sample (the estimands of the Wald intervals)."""
    rows = recovery_replicate({"n": n, "communities": communities}, 0, seed, spec=spec, population=population,
                              instrument=instrument)
    if not all(r["converged"] for r in rows):
        raise RuntimeError("the pseudo-population fit of the moderation model did not converge")
    return {r["param"]: r["est"] for r in rows}


def run_moderation(out_dir=None, analysis_data=None, *, config=None, instrument=None, population=None,
                   figures_dir=None, synthetic=None, n_jobs: int | None = None, progress: bool = False) -> list[Path]:
    """The moderation step: fit, bootstrap, probe, recover; write ``results/moderation/``.

    Parameters
    ----------
    out_dir, analysis_data, figures_dir : path-like, optional
        Defaults: ``results/moderation``, ``data/processed/analysis.parquet``,
        ``results/figures``.
    config : dict, optional
        ``study.yaml`` (``moderation:`` bootstrap, replications, seed;
        ``structural:`` bootstrap_unit and bootstrap_interval; ``synthetic: n``).
    n_jobs, progress
        Workers and progress bar of the bootstrap and the recovery.

    Returns
    -------
    list of Path
    """
    from .._parallel import blas_threads
    from ..psychometrics.power import monte_carlo, recovery_table
    from ..sem.bootstrap import INTERVAL_COLUMNS, bootstrap, bootstrap_estimates, interval_options
    from ..sem.interactions import johnson_neyman
    from .instrument import load_instrument
    from .population import load_population
    from .power import n_communities
    from .robustness import synthetic_of
    from .settings import load_settings
    from .structural import prepare_data, write_fit_command

    limiter = blas_threads(1)
    try:
        out = Path(out_dir) if out_dir is not None else paths.DEFAULT.results / "moderation"
        figures = Path(figures_dir) if figures_dir is not None else out.parent / "figures"
        analysis_data = paths.DEFAULT.processed / "analysis.parquet" if analysis_data is None else analysis_data
        cfg_all = config or load_settings()
        cfg, scfg = cfg_all["moderation"], cfg_all["structural"]
        ins = instrument or load_instrument()
        pop = population or load_population()
        spec = moderation_spec(pop)
        synth = synthetic_of(analysis_data, synthetic)
        n_boot, seed, reps = int(cfg["bootstrap"]), int(cfg["seed"]), int(cfg["replications"])
        interval = str(scfg.get("bootstrap_interval", "percentile"))
        if interval not in INTERVAL_COLUMNS:
            raise InputError(f"structural.bootstrap_interval must be one of {sorted(INTERVAL_COLUMNS)}",
                             file="study.yaml")
        unit = str(scfg.get("bootstrap_unit", "community"))
        data = moderation_data(prepare_data(analysis_data), ins, spec)
        fit = fit_moderation(data, ins, spec)
        cluster = data["community"].to_numpy() if unit == "community" else None
        boot = bootstrap(fit, n_boot=n_boot, seed=seed, n_jobs=n_jobs, progress=progress, cluster=cluster,
                         exclude_improper=True, **interval_options(interval))
        est = bootstrap_estimates(fit, boot, interval=interval)
        base = fit.estimates
        est["se_ml"], est["ci_lower_ml"], est["ci_upper_ml"] = (base["se"].to_numpy(), base["ci_lower"].to_numpy(),
                                                                base["ci_upper"].to_numpy())
        # the reported model, one command away (as the structural chapter's): its data and the command
        where = analysis_data if not isinstance(analysis_data, pd.DataFrame) else None
        model_data = (out / "moderation.parquet") if where is None else Path(where).with_name("moderation.parquet")
        written = write_fit_command(out, moderation_syntax(ins, spec), data, model_data,
                                    missing=fit.options["missing"], cluster="community" if unit == "community" else None,
                                    n_boot=n_boot, interval=interval, seed=seed, exclude_improper=True,
                                    json_path="moderation_fit.json")
        command = written[-1].read_text(encoding="utf-8").strip()
        note = "synthetic" if synth else ""
        est["synthetic"] = synth
        written.append(write_csv(out / "estimates.csv", est))
        keys = ["a1", "a2", "a3", "b", "cp"]
        eff = est[(est["label"].isin(keys)) | (est["op"] == ":=")].copy()
        eff["param"] = np.where(eff["op"] == ":=", eff["lhs"], eff["label"])
        eff["w"] = eff["param"].map(AT)
        eff = eff[["param", "lhs", "op", "rhs", "w", "est", "se", "ci_lower", "ci_upper", "std_all", "se_ml",
                   "ci_lower_ml", "ci_upper_ml", "synthetic"]]
        written.append(write_csv(out / "effects.csv", eff))
        grid = np.round(np.linspace(-2.5, 2.5, 51), 2)
        probe = probe_table(fit, spec, at=grid)
        probe["synthetic"] = synth
        written.append(write_csv(out / "probe.csv", probe))
        jn = johnson_neyman(fit, spec.mediator, spec.focal, spec.w, product=PRODUCT)
        band = conditional_band(fit, boot, grid)
        band["synthetic"] = synth
        written.append(write_csv(out / "conditional_indirect.csv", band))
        figures.mkdir(parents=True, exist_ok=True)
        fig_path = figures / "moderation_probe.png"
        _figure(probe, band, jn, spec, fig_path, synth)
        written.append(fig_path)
        # recovery at the study's N against a very large sample's values
        n = int(cfg_all["synthetic"]["n"])
        cond = {"n": n, "communities": n_communities({"n": n})}
        rep_fn = functools.partial(recovery_replicate, spec=spec, population=pop, instrument=ins)
        rows = monte_carlo(rep_fn, [cond], reps, seed + 1, n_jobs=n_jobs, progress=progress)
        truth_u = _pseudo_truth(spec, pop, ins, int(cfg.get("pseudo_n", 100_000)),
                                n_communities({"n": int(cfg.get("pseudo_n", 100_000))}), seed + 2)
        b_med = pop.b[spec.mediator]
        truth_std = {"a3": spec.interaction, "imm": spec.interaction * b_med}
        rec = pd.concat([recovery_table(rows, truth_std, est="std_est", lower=None, upper=None)
                         .assign(truth_kind="declared (standardized)"),
                         recovery_table(rows, truth_u).assign(truth_kind="large-sample (unstandardized)")],
                        ignore_index=True)
        rec["synthetic"] = True
        written.append(write_csv(out / "recovery.csv", rec))
        std_rows = rec[rec["truth_kind"].str.startswith("declared")].set_index("param")
        u_rows = rec[rec["truth_kind"].str.startswith("large")].set_index("param")
        counts = boot.counts()
        head = {
            "synthetic": synth, "data_note": note, "n": int(fit.stats.ntotal), "missing": fit.options["missing"],
            "moderator": spec.moderator, "w": spec.w, "focal": spec.focal, "mediator": spec.mediator,
            "outcome": spec.outcome, "declared_interaction": spec.interaction,
            "bootstrap": {**counts, "unit": unit, "interval": interval, "seed": seed, "draws": n_boot},
            "johnson_neyman": {"lower": jn.lower, "upper": jn.upper, "inside": jn.inside,
                               "significant_everywhere": jn.significant_everywhere,
                               "w_min": float(data[spec.w].min()), "w_max": float(data[spec.w].max()),
                               "sentence": jn.describe(),
                               "sentence_zh": jn_sentence_zh(jn, float(data[spec.w].min()),
                                                             float(data[spec.w].max()))},
            "fit": {k: float(fit.fit[k]) for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr")},
            "recovery": {"replications": reps, "n": n, "seed": seed + 1,
                         "valid": int(rows.loc[rows["param"] == "a3", "valid"].sum()),
                         **{f"{p}_{k}": float(std_rows.loc[p, k]) for p in ("a3", "imm")
                            for k in ("truth", "mean", "bias", "rel_bias")},
                         **{f"{p}_coverage": float(u_rows.loc[p, "coverage"]) for p in ("a3", "imm")}},
            "command": command,
        }
        for p in ("a3", "imm", "ind_lo", "ind_mid", "ind_hi"):
            r = eff[eff["param"] == p].iloc[0]
            head[p] = {"est": float(r["est"]), "ci_lower": float(r["ci_lower"]), "ci_upper": float(r["ci_upper"]),
                       "std_all": float(r["std_all"])}
        written.append(write_json(out / "headline.json", head))
        return written
    finally:
        limiter.restore_original_limits()
