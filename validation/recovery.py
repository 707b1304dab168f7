"""Parameter recovery of the whole structural pipeline, with bootstrap coverage.

Draws ``--reps`` samples of the study size from the declared population
model (``data/population_model.yaml``), fits the structural model to each
(the fast ML refit of :mod:`analysis.sem.bootstrap`, from a template fit),
and bootstraps each fit with ``--boot`` draws (percentile intervals).  It
reports, for every structural path and indirect effect:

* bias and relative bias of the standardized estimates against the
  declared standardized truth;
* bias, relative bias, RMSE of the unstandardized estimates against the
  pseudo-true values (the model's ML solution on one sample of 100,000:
  the items are 5-point Likert answers, so the model's unstandardized
  estimand is that of the categorized data);
* 95% coverage of the Wald (delta-method), Monte Carlo and bootstrap
  percentile intervals of the pseudo-true values.

Criteria of the study: |relative bias| < 5% and coverage in [0.93, 0.97].
With R replications the Monte Carlo SE of a coverage near .95 is
sqrt(.95 * .05 / R) (0.015 for R = 200), so [0.93, 0.97] is roughly
+-1.3 SE: a few parameters are expected outside it by chance alone; the
output prints the Monte Carlo SE next to each coverage.

Run:  .venv/bin/python validation/recovery.py --reps 200 --boot 200 \
          | tee validation/recovery_output.txt
"""
from __future__ import annotations

import os

# one BLAS thread per process (set before numpy loads): multithreaded OpenBLAS
# on this 2-core machine makes the small matrix operations of a refit far slower
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import functools
import platform
import sys
import time

import numpy as np
import pandas as pd


def expanded_percentile_ci(draws, n_units, level=0.95):
    """Expanded percentile interval for a bootstrap over ``n_units`` resampled units.

    The percentile interval at :math:`\alpha' / 2 = \Phi(-\sqrt{n/(n-1)}\,
    t_{n-1,1-\alpha/2})` instead of :math:`\alpha/2`: it widens the
    percentile interval by the small-sample factor of a t interval, here
    with :math:`n` the number of clusters (Hesterberg 2015, sec. 5.2).

    References
    ----------
    Hesterberg, T. C. (2015). What teachers should know about the bootstrap:
    Resampling in the undergraduate statistics curriculum. *The American
    Statistician*, 69(4), 371-386.
    """
    from scipy import stats

    from analysis.sem.bootstrap import percentile_ci

    a = 1 - level
    adj = stats.norm.cdf(-np.sqrt(n_units / (n_units - 1)) * stats.t.ppf(1 - a / 2, n_units - 1))
    return percentile_ci(draws, 1 - 2 * adj)


def _replicate_boot(condition, rep, seed, ctx, n_boot, row_boot=True):
    """One replication of analysis.study.power.replicate plus a row and a cluster bootstrap."""
    from analysis.sem.bootstrap import _Job, _run_chunk, bc_ci, percentile_ci, resample_indices
    from analysis.sem.montecarlo import defined_matrix
    from analysis.study.power import PATHS, _controls, _fit_moments, n_communities, replicate
    from analysis.study.simulate import simulate_responses

    rows = replicate(condition, rep, seed, ctx)
    kinds = ("boot", "cboot") if row_boot else ("cboot",)
    if not rows[0]["converged"]:
        for r in rows:
            for kind in kinds:
                r.update({f"{kind}_lower": np.nan, f"{kind}_upper": np.nan, f"{kind}_failed": n_boot,
                          f"{kind}_improper": 0})
            r.update(cboot_bc_lower=np.nan, cboot_bc_upper=np.nan, cboot_xp_lower=np.nan, cboot_xp_upper=np.nan)
        return rows
    n = int(condition["n"])
    # the same sample as replicate() draws (same seed and community count)
    d = _controls(simulate_responses(n, n_communities(condition), seed=seed,
                                     population=ctx.population, instrument=ctx.instrument))
    x = d[ctx.ov_names].to_numpy(float)
    obj, th, _ = _fit_moments(ctx, x)
    info_inv = np.linalg.inv(obj.information(th))
    job = _Job(model=ctx.model, data=[x], theta_hat=th, info_inv=info_inv, var_idx=ctx.var_idx, em=False)
    names = list(ctx.defined.names)
    plan = [("boot", None, 1), ("cboot", d["community"].to_numpy(), 2)]
    for kind, cluster, stream in (plan if row_boot else plan[1:]):
        idx = resample_indices(np.random.default_rng([seed, stream]), n_boot, n, cluster=cluster)
        theta, status, _ = _run_chunk(job, [idx])
        ok = status == 0
        dm = defined_matrix(ctx.defined, theta[ok])
        for r in rows:
            p = r["param"]
            if p in PATHS:
                k = int(ctx.partable["free"].iloc[ctx.rows[p]]) - 1
                col = theta[ok][:, [k]]
            else:
                col = dm[:, [names.index(p)]]
            lo, hi = percentile_ci(col, 0.95)
            r.update({f"{kind}_lower": float(lo[0]), f"{kind}_upper": float(hi[0]),
                      f"{kind}_failed": int(np.sum(status == 1)), f"{kind}_improper": int(np.sum(status == 2))})
            if cluster is not None:
                blo, bhi = bc_ci(col, np.array([r["est"]]), 0.95)
                xlo, xhi = expanded_percentile_ci(col, len(np.unique(cluster)), 0.95)
                r.update(cboot_bc_lower=float(blo[0]), cboot_bc_upper=float(bhi[0]),
                         cboot_xp_lower=float(xlo[0]), cboot_xp_upper=float(xhi[0]))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=9100)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--communities", type=int, default=None,
                    help="communities per sample (default: one per 20 respondents)")
    ap.add_argument("--no-row-boot", action="store_true",
                    help="skip the row bootstrap (cluster bootstrap intervals only)")
    ap.add_argument("--truth-n", type=int, default=1_000_000,
                    help="rows of the sample whose ML solution is the pseudo-truth")
    args = ap.parse_args(argv)

    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    from analysis.psychometrics.power import monte_carlo, recovery_table
    from analysis.study.population import load_population
    from analysis.study.power import build_context, pseudo_truth

    t0 = time.perf_counter()
    pop = load_population()
    ctx = build_context(pop, seed=args.seed, mc_draws=2000)
    truth_u = pseudo_truth(ctx, n=args.truth_n, seed=args.seed + 1)
    truth_s = dict(zip(pop.true_effects()["label"], pop.true_effects()["est"]))
    condition = {"n": args.n} | ({"communities": args.communities} if args.communities else {})
    reps = monte_carlo(functools.partial(_replicate_boot, ctx=ctx, n_boot=args.boot, row_boot=not args.no_row_boot),
                       [condition],
                       args.reps, seed=args.seed + 2, n_jobs=args.jobs, chunk_size=2, progress=False)
    elapsed = time.perf_counter() - t0

    rs = recovery_table(reps, truth_s, est="std_est", lower=None, upper=None)
    rw = recovery_table(reps, truth_u)
    rm = recovery_table(reps, truth_u, lower="mc_lower", upper="mc_upper")
    rc = recovery_table(reps, truth_u, lower="cboot_lower", upper="cboot_upper")
    cover = {"cover_wald": rw["coverage"], "cover_mc": rm["coverage"]}
    if not args.no_row_boot:
        cover["cover_boot"] = recovery_table(reps, truth_u, lower="boot_lower", upper="boot_upper")["coverage"]
    cover["cover_cboot"] = rc["coverage"]
    for kind in ("bc", "xp"):
        cover[f"cover_cboot_{kind}"] = recovery_table(reps, truth_u, lower=f"cboot_{kind}_lower",
                                                      upper=f"cboot_{kind}_upper")["coverage"]
    tab = pd.DataFrame({
        "param": rs["param"], "truth_std": rs["truth"], "mean_std": rs["mean"],
        "relbias_std": rs["rel_bias"], "truth_unstd": rw["truth"], "relbias_unstd": rw["rel_bias"],
        "rmse_unstd": rw["rmse"], **cover, "cover_mc_se": rc["coverage_mc_se"], "n_valid": rw["n_valid"],
    })
    order = ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4", "c", "ind_GRID", "ind_RES", "ind_ORG",
             "ind_LIST", "total_indirect", "total"]
    tab = tab.set_index("param").loc[[p for p in order if p in set(tab["param"])]].reset_index()
    first = reps.drop_duplicates("rep")
    pd.set_option("display.width", 200)
    print("Parameter recovery of the structural pipeline (validation/recovery.py)")
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}")
    print(f"communities per sample = {args.communities or max(1, args.n // 20)}")
    print(f"N = {args.n}, replications = {args.reps}, bootstrap draws per replication = {args.boot}, "
          f"seed = {args.seed}, workers = {args.jobs}, pseudo-truth sample = {args.truth_n:,} rows")
    row = ("row bootstrap: not run" if args.no_row_boot else
           f"row bootstrap draws failed: {int(first['boot_failed'].sum())}, "
           f"improper: {int(first['boot_improper'].sum())}")
    print(f"non-converged replications: {int((~first['converged']).sum())}; improper (negative variance): "
          f"{int(first['improper'].sum())}; {row}; cluster bootstrap draws failed: "
          f"{int(first['cboot_failed'].sum())}, improper: {int(first['cboot_improper'].sum())}")
    print("intervals: wald = delta method, mc = Monte Carlo, boot = row bootstrap percentile, cboot = cluster "
          "bootstrap percentile, cboot_bc = its bias-corrected, cboot_xp = its expanded percentile "
          "(t with G - 1 df, Hesterberg 2015)")
    print(f"elapsed: {elapsed:.0f} s")
    print()
    print(tab.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print()
    bias_ok = (tab["relbias_unstd"].abs() < 0.05)
    cov_ok = tab["cover_cboot"].between(0.93, 0.97)

    print(f"|relative bias| < 5% (unstandardized, pseudo-truth): {int(bias_ok.sum())}/{len(tab)}; "
          f"failing: {list(tab.loc[~bias_ok, 'param'])}")
    print(f"|relative bias| < 5% (standardized, declared truth): "
          f"{int((tab['relbias_std'].abs() < 0.05).sum())}/{len(tab)}; failing: "
          f"{list(tab.loc[tab['relbias_std'].abs() >= 0.05, 'param'])}")
    print(f"cluster bootstrap coverage in [0.93, 0.97]: {int(cov_ok.sum())}/{len(tab)}; outside: "
          f"{list(tab.loc[~cov_ok, 'param'])} (Monte Carlo SE of a coverage ~ {tab['cover_mc_se'].median():.3f})")
    for col, what in (("cover_boot", "row bootstrap (ignores the communities)"),
                      ("cover_cboot_bc", "cluster bootstrap, bias-corrected"),
                      ("cover_cboot_xp", "cluster bootstrap, expanded percentile")):
        if col in tab:
            ok = tab[col].between(0.93, 0.97)
            print(f"{what} coverage in [0.93, 0.97]: {int(ok.sum())}/{len(tab)}; outside: "
                  f"{list(tab.loc[~ok, 'param'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
