"""Small, seeded results folders for the report and book tests.

The values are random (seeded), not typed: a test that finds them in the
DOCX or HTML has read them from the files, not from a hard-coded copy.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

MEDIATORS = ("GRID", "RES", "ORG", "LIST")


def make_results(root: Path, seed: int = 7) -> Path:
    """Write a miniature ``results/`` and ``data/processed/`` under ``root``; return the results dir."""
    rng = np.random.default_rng(seed)
    results = root / "results"
    processed = root / "data" / "processed"
    for d in (results / "data", results / "measurement", results / "structural", results / "power", processed):
        d.mkdir(parents=True, exist_ok=True)
    n = int(rng.integers(900, 1200))
    fit = pd.DataFrame({
        "model": ["first_order", "second_order"],
        "chisq": rng.uniform(1500, 2500, 2), "df": [1014, 1062],
        "cfi": rng.uniform(0.93, 0.99, 2), "tli": rng.uniform(0.92, 0.99, 2),
        "rmsea": rng.uniform(0.02, 0.06, 2), "srmr": rng.uniform(0.02, 0.06, 2),
    })
    fit["synthetic"] = True
    fit.to_csv(results / "measurement" / "fit.csv", index=False)
    constructs = ["PL", "GRID", "INT", "EXT"]
    rel = pd.DataFrame({"scale": constructs, "n_items": 4, "alpha": rng.uniform(0.7, 0.9, 4),
                        "omega": rng.uniform(0.7, 0.9, 4), "cr": rng.uniform(0.7, 0.9, 4),
                        "ave": rng.uniform(0.45, 0.7, 4)})
    rel.to_csv(results / "measurement" / "reliability.csv", index=False)
    second = fit.iloc[1]
    # keys as analysis.study.measurement.run_measurement writes them
    head = {"n": n, **{f"second_order_{k}": float(second[k]) for k in ("cfi", "tli", "rmsea", "srmr")},
            **{f"first_order_{k}": float(fit.iloc[0][k]) for k in ("cfi", "tli", "rmsea", "srmr")},
            "min_alpha": float(rel.alpha.min()), "min_cr": float(rel.cr.min()), "min_ave": float(rel.ave.min()),
            "max_htmt": float(rng.uniform(0.5, 0.8)), "synthetic": True}
    (results / "measurement" / "headline.json").write_text(json.dumps(head), encoding="utf-8")
    rows = []
    a = rng.uniform(0.3, 0.6, 4)
    b = rng.uniform(0.05, 0.3, 4)
    for i, m in enumerate(MEDIATORS):
        rows.append(dict(lhs=m, op="~", rhs="PL", label=f"a{i+1}", est=a[i], se=0.03, std_all=a[i]))
        rows.append(dict(lhs="CR", op="~", rhs=m, label=f"b{i+1}", est=b[i], se=0.04, std_all=b[i]))
    c = float(rng.uniform(0.05, 0.2))
    rows.append(dict(lhs="CR", op="~", rhs="PL", label="c", est=c, se=0.05, std_all=c))
    # controls, named as analysis.study.structural.control_columns names them
    for ctl in ("role_2", "ctype_3", "years10"):
        b_ctl = float(rng.uniform(-0.2, 0.2))
        rows.append(dict(lhs="CR", op="~", rhs=ctl, label="", est=b_ctl, se=0.07, std_all=b_ctl / 3))
    for i, m in enumerate(MEDIATORS):
        rows.append(dict(lhs=f"ind_{m}", op=":=", rhs=f"a{i+1}*b{i+1}", label=f"ind_{m}",
                         est=a[i] * b[i], se=0.02, std_all=a[i] * b[i]))
    ti = float((a * b).sum())
    rows.append(dict(lhs="total_indirect", op=":=", rhs="...", label="total_indirect", est=ti, se=0.03, std_all=ti))
    rows.append(dict(lhs="diff_GRID_RES", op=":=", rhs="...", label="diff_GRID_RES", est=a[0] * b[0] - a[1] * b[1],
                     se=0.03, std_all=a[0] * b[0] - a[1] * b[1]))
    est = pd.DataFrame(rows)
    est["group"] = 1
    est["z"] = est["est"] / est["se"]
    from scipy import stats

    est["pvalue"] = 2 * stats.norm.sf(est["z"].abs())
    est["ci_lower"] = est["est"] - 1.96 * est["se"]
    est["ci_upper"] = est["est"] + 1.96 * est["se"]
    est = est[["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all"]]
    est.to_csv(results / "structural" / "estimates.csv", index=False)
    defined = est[est.op == ":="]
    # the reported interval (ci_*_boot) differs from the other intervals of the file
    indirect = pd.DataFrame({"lhs": defined.lhs, "rhs": defined.rhs, "est": defined.est, "std_all": defined.std_all,
                             "se": defined.se, "pvalue": defined.pvalue,
                             "boot_se": defined.se * rng.uniform(0.9, 1.1, len(defined)),
                             "ci_lower_boot": defined.est - rng.uniform(0.03, 0.06, len(defined)),
                             "ci_upper_boot": defined.est + rng.uniform(0.03, 0.06, len(defined)),
                             "ci_lower_bc": defined.est - rng.uniform(0.03, 0.06, len(defined)),
                             "ci_upper_bc": defined.est + rng.uniform(0.03, 0.06, len(defined))})
    indirect.to_csv(results / "structural" / "indirect.csv", index=False)
    effects = {r.lhs: {"est": float(r.est), "std_all": float(r.std_all), "se": float(r.se),
                       "ci_boot": [float(r.ci_lower_boot), float(r.ci_upper_boot)],
                       "ci_boot_bc": [float(r.ci_lower_bc), float(r.ci_upper_bc)]} for r in indirect.itertuples()}
    # keys as analysis.study.structural.run_structural writes them
    (results / "structural" / "headline.json").write_text(json.dumps(
        {"n": n, "cfi": float(rng.uniform(0.93, 0.99)), "rmsea": float(rng.uniform(0.02, 0.06)),
         "srmr": float(rng.uniform(0.02, 0.06)), "total_indirect": ti, "direct": c, "bootstrap": 200,
         "bootstrap_interval": "symmetric-t", "bootstrap_unit": "community", "bootstrap_method": "two-stage-em",
         "estimator": "ML", "missing": "two.stage", "n_boot_ok": 198, "effects": effects}),
        encoding="utf-8")
    # long, as analysis.study.power.run_power writes it
    curve = pd.DataFrame([{"n": n, "effect": e, "power": p, "mc_se": 0.01, "n_valid": 500, "n_invalid": 0}
                          for e in ("ind_GRID", "ind_RES")
                          for n, p in zip((300, 600, 900), np.sort(rng.uniform(0.3, 1, 3)))])
    curve.to_csv(results / "power" / "curve.csv", index=False)
    n80 = int(rng.choice([600, 900]))
    deff = float(rng.uniform(1.5, 2.5))
    (results / "power" / "headline.json").write_text(json.dumps(
        {"n_for_80": n80, "design_effect": deff, "n_recommended": int(round(n80 * deff)), "replications": 500}),
        encoding="utf-8")
    (processed / "ingest_report.json").write_text(json.dumps({"synthetic": True, "n_in": n + 40,
                                                               "n_accepted": n + 30, "n_quarantined": 10}),
                                                  encoding="utf-8")
    screening = pd.DataFrame({"rule": ["attention", "speed"], "flagged": rng.integers(5, 30, 2),
                              "n_before": [n + 30, n + 30], "n_after": [n + 10, n]})
    screening.to_csv(results / "data" / "screening_report.csv", index=False)
    # keys as analysis.study.sample.run_sample writes them
    (results / "data" / "headline.json").write_text(json.dumps(
        {"synthetic": True, "n_rows": n + 47, "n_consent_excluded": 4, "n_collapsed": 3, "n_accepted": n + 30,
         "n_quarantined": 10, "n_analysed": n,
         "n_flagged": 30, "n_communities": int(rng.integers(40, 60))}), encoding="utf-8")
    return results
