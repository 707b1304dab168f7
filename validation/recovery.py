"""Parameter recovery of the whole structural pipeline, with bootstrap coverage.

Draws ``--reps`` samples of the study size from the declared population
model (``data/population_model.yaml``), fits the structural model to each
(the fast ML refit of :mod:`analysis.sem.bootstrap`, from a template fit),
and bootstraps each fit with ``--boot`` draws, resampling whole communities
(and, unless ``--no-row-boot``, respondents).  It reports, for every
structural path and indirect effect:

* bias and relative bias of the standardized estimates against the
  declared standardized truth;
* bias, relative bias, RMSE of the unstandardized estimates against the
  pseudo-true values (the model's ML solution on one sample of
  ``--truth-n`` rows: the items are 5-point Likert answers, so the model's
  unstandardized estimand is that of the categorized data);
* 95% coverage of the pseudo-true values by the Wald (delta-method) and
  Monte Carlo intervals and by every bootstrap interval of the core
  (percentile, bias-corrected, BCa, bootstrap-t, symmetric bootstrap-t;
  :data:`analysis.sem.bootstrap.INTERVAL_COLUMNS`) plus the expanded
  percentile interval; the study's reported interval (``study.yaml``
  ``structural.bootstrap_interval``) is marked.

Criteria of the study: |relative bias| < 5% and coverage in [0.93, 0.97].
With R replications the Monte Carlo SE of a coverage near .95 is
sqrt(.95 * .05 / R) (0.015 for R = 200, 0.007 for R = 1,000), so a
parameter can fall outside [0.93, 0.97] by chance alone; the output prints
the Monte Carlo SE next to each coverage.

Recorded runs (their commands are in their first lines):

* ``recovery_output.txt``: ``--reps 1000 --boot 200 --no-row-boot``;
* ``recovery_seed7700_output.txt``: ``--seed 7700 --reps 500 --boot 200
  --no-row-boot`` (the samples on which the reported interval was chosen);
* ``recovery_row_vs_cluster_output.txt``: row against cluster bootstrap,
  percentile intervals (an earlier version of this script, same seeds);
* ``recovery_cluster_intervals_output.txt``,
  ``recovery_100_communities_output.txt``: percentile, BC and expanded
  percentile with 60 and with 100 communities (earlier version).

Run:  .venv/bin/python validation/recovery.py --reps 1000 --boot 200 --no-row-boot \
          | tee validation/recovery_output.txt

The replications run through :func:`analysis._parallel.chunked_map` with
``--jobs/--backend/--scheduler`` (defaults: ``study.yaml`` ``parallel:``), on
this machine's cores or on a Dask cluster (``--backend dask --scheduler
tcp://HOST:PORT``); every replication is seeded up front, so the output is the
same on any of them.
"""
from __future__ import annotations

# one BLAS thread per process and pinned kernels, set before numpy loads (the one place
# that sets them: analysis/_determinism.py): multithreaded OpenBLAS on this 2-core
# machine makes the small matrix operations of a refit far slower
from analysis._determinism import pin_environment

pin_environment()

import argparse
import functools
import platform
import sys
import time

import numpy as np
import pandas as pd

from analysis.sem.bootstrap import INTERVAL_COLUMNS


def expanded_percentile_ci(draws, n_units, level=0.95):
    r"""Expanded percentile interval for a bootstrap over ``n_units`` resampled units.

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


#: The two resampling units and their names in the output.
UNITS = {"boot": "row bootstrap", "cboot": "cluster bootstrap"}
#: Interval methods recorded: the core's, plus the expanded percentile of this script.
METHODS = (*INTERVAL_COLUMNS, "expanded")


def _replicate_boot(condition, rep, seed, ctx, n_boot, row_boot=True):
    """One replication of analysis.study.power.replicate plus a row and a cluster bootstrap."""
    from analysis.sem.bootstrap import BootstrapJob, resample_indices, run_job
    from analysis.study.power import PATHS, fit_moments, with_controls, n_communities, replicate
    from analysis.study.simulate import simulate_responses

    rows = replicate(condition, rep, seed, ctx)
    kinds = ("boot", "cboot") if row_boot else ("cboot",)
    if not rows[0]["converged"]:
        for r in rows:
            for kind in kinds:
                r.update({f"{kind}_{m}_{side}": np.nan for m in METHODS for side in ("lower", "upper")})
                r.update({f"{kind}_failed": n_boot, f"{kind}_improper": 0})
        return rows
    n = int(condition["n"])
    # the same sample as replicate() draws (same seed and community count)
    d = with_controls(simulate_responses(n, n_communities(condition), seed=seed,
                                     population=ctx.population, instrument=ctx.instrument))
    x = d[ctx.ov_names].to_numpy(float)
    obj, th, _ = fit_moments(ctx, x)
    info_inv = np.linalg.inv(obj.information(th))
    names = [f"p{k}" for k in range(len(th))]
    plan = [("boot", None, 1), ("cboot", d["community"].to_numpy(), 2)]
    for kind, cluster, stream in (plan if row_boot else plan[1:]):
        job = BootstrapJob(model=ctx.refitter.model, data=[x], theta_hat=th, info_inv=info_inv, var_idx=ctx.var_idx, em=False,
                   cluster=cluster)
        idx = resample_indices(np.random.default_rng([seed, stream]), n_boot, n, cluster=cluster)
        boot = run_job(job, [idx], ctx.defined, names, n_jobs=1, backend="local", bca=True, studentize=True)
        iv = boot.intervals(0.95)
        n_units = n if cluster is None else len(np.unique(cluster))
        xlo, xhi = expanded_percentile_ci(boot.draws.to_numpy(), n_units, 0.95)
        for r in rows:
            p = r["param"]
            if p in PATHS:
                i = int(ctx.partable["free"].iloc[ctx.rows[p]]) - 1
            else:
                i = len(th) + list(ctx.defined.names).index(p)
            for m, (lo, hi) in INTERVAL_COLUMNS.items():
                r[f"{kind}_{m}_lower"] = float(iv[lo].iloc[i])
                r[f"{kind}_{m}_upper"] = float(iv[hi].iloc[i])
            r.update({f"{kind}_expanded_lower": float(xlo[i]), f"{kind}_expanded_upper": float(xhi[i]),
                      f"{kind}_failed": boot.n_failed, f"{kind}_improper": boot.n_improper,
                      f"{kind}_no_se": boot.n_no_se})
    return rows


def _study_settings() -> dict:
    """``study.yaml``."""
    import yaml

    from analysis.paths import ROOT

    return yaml.safe_load((ROOT / "study.yaml").read_text(encoding="utf-8"))


def _study_interval() -> str:
    """The study's reported bootstrap interval (study.yaml ``structural.bootstrap_interval``)."""
    return str(_study_settings()["structural"].get("bootstrap_interval", "percentile"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=9100)
    ap.add_argument("--jobs", type=int, default=None, help="workers (default: study.yaml parallel: jobs)")
    ap.add_argument("--backend", choices=["local", "dask"], default=None,
                    help="local worker processes or a Dask cluster (default: study.yaml parallel: backend)")
    ap.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                    help="a running Dask scheduler (implies --backend dask)")
    ap.add_argument("--communities", type=int, default=None,
                    help="communities per sample (default: one per 20 respondents)")
    ap.add_argument("--no-row-boot", action="store_true",
                    help="skip the row bootstrap (cluster bootstrap intervals only)")
    ap.add_argument("--interval", default=None,
                    help="the study's reported interval (default: study.yaml structural.bootstrap_interval)")
    ap.add_argument("--truth-n", type=int, default=1_000_000,
                    help="rows of the sample whose ML solution is the pseudo-truth")
    args = ap.parse_args(argv)

    from analysis import _parallel
    from analysis.errors import InputError
    from analysis.psychometrics.power import monte_carlo, recovery_table
    from analysis.study.population import load_population
    from analysis.study.power import build_context, pseudo_truth

    try:
        par = _parallel.resolve(_study_settings().get("parallel"), jobs=args.jobs, backend=args.backend,
                                scheduler=args.scheduler)
        t0 = time.perf_counter()
        with _parallel.blas_threads(1), _parallel.session(**par):
            pop = load_population()
            ctx = build_context(pop, seed=args.seed, mc_draws=2000)
            truth_u = pseudo_truth(ctx, n=args.truth_n, seed=args.seed + 1)
            truth_s = dict(zip(pop.true_effects()["label"], pop.true_effects()["est"]))
            condition = {"n": args.n} | ({"communities": args.communities} if args.communities else {})
            reps = monte_carlo(functools.partial(_replicate_boot, ctx=ctx, n_boot=args.boot,
                                                 row_boot=not args.no_row_boot),
                               [condition], args.reps, seed=args.seed + 2, chunk_size=2, progress=False)
        elapsed = time.perf_counter() - t0
    except InputError as exc:
        print(f"recovery.py: error: {exc}", file=sys.stderr)
        return 2
    where = par["scheduler"] or f"LocalCluster of {par['jobs']}"
    workers = par["jobs"] if par["backend"] == "local" else f"dask ({where})"

    rs = recovery_table(reps, truth_s, est="std_est", lower=None, upper=None)
    rw = recovery_table(reps, truth_u)
    rm = recovery_table(reps, truth_u, lower="mc_lower", upper="mc_upper")
    order = ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4", "c", "ind_GRID", "ind_RES", "ind_ORG",
             "ind_LIST", "total_indirect", "total"]
    bias = pd.DataFrame({
        "param": rs["param"], "truth_std": rs["truth"], "mean_std": rs["mean"],
        "relbias_std": rs["rel_bias"], "truth_unstd": rw["truth"], "relbias_unstd": rw["rel_bias"],
        "rmse_unstd": rw["rmse"], "n_valid": rw["n_valid"]})
    cover = {"param": rw["param"], "wald": rw["coverage"], "mc": rm["coverage"]}
    kinds = ("cboot",) if args.no_row_boot else ("boot", "cboot")
    for kind in kinds:
        for m in METHODS:
            cover[f"{kind}_{m}"] = recovery_table(reps, truth_u, lower=f"{kind}_{m}_lower",
                                                  upper=f"{kind}_{m}_upper")["coverage"]
    cover["mc_se"] = rw["coverage_mc_se"]
    cover = pd.DataFrame(cover)

    def ordered(tab):
        return tab.set_index("param").loc[[p for p in order if p in set(tab["param"])]].reset_index()

    bias, cover = ordered(bias), ordered(cover)
    first = reps.drop_duplicates("rep")
    pd.set_option("display.width", 200)
    print("Parameter recovery of the structural pipeline (validation/recovery.py)")
    print("command: validation/recovery.py " + " ".join(sys.argv[1:] if argv is None else argv))
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}")
    print(f"communities per sample = {args.communities or max(1, args.n // 20)}")
    print(f"N = {args.n}, replications = {args.reps}, bootstrap draws per replication = {args.boot}, "
          f"seed = {args.seed}, workers = {workers}, pseudo-truth sample = {args.truth_n:,} rows")
    print(f"non-converged replications: {int((~first['converged']).sum())}; improper (negative variance): "
          f"{int(first['improper'].sum())}")
    for kind in kinds:
        print(f"{UNITS[kind]} draws failed: {int(first[f'{kind}_failed'].sum())}, improper: "
              f"{int(first[f'{kind}_improper'].sum())}, without a standard error: {int(first[f'{kind}_no_se'].sum())}")
    print(f"elapsed: {elapsed:.0f} s")
    print()
    print(bias.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print()
    print("95% coverage of the pseudo-true values. wald = delta method, mc = Monte Carlo; boot = row bootstrap, "
          "cboot = cluster bootstrap, each as percentile, bc bias-corrected, bca BCa (jackknife acceleration, "
          "clusters left out for cboot), t bootstrap-t and symmetric-t (sandwich SE per draw, cluster-robust for "
          "cboot), expanded percentile (t with G - 1 df, Hesterberg 2015)")
    print(cover.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print()
    bias_ok = bias["relbias_unstd"].abs() < 0.05
    print(f"|relative bias| < 5% (unstandardized, pseudo-truth): {int(bias_ok.sum())}/{len(bias)}; "
          f"failing: {list(bias.loc[~bias_ok, 'param'])}")
    print(f"|relative bias| < 5% (standardized, declared truth): "
          f"{int((bias['relbias_std'].abs() < 0.05).sum())}/{len(bias)}; failing: "
          f"{list(bias.loc[bias['relbias_std'].abs() >= 0.05, 'param'])}")
    reported = f"cboot_{args.interval or _study_interval()}"
    for col in cover.columns[1:-1]:
        ok = cover[col].between(0.93, 0.97)
        mark = "   <- the study's reported interval" if col == reported else ""
        print(f"coverage in [0.93, 0.97], {col:>10}: {int(ok.sum())}/{len(cover)}; outside: "
              f"{list(cover.loc[~ok, 'param'])}{mark}")
    print(f"(Monte Carlo SE of a coverage near .95: {cover['mc_se'].median():.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
