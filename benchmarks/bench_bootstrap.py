"""Benchmark: 5,000 bootstrap resamples of the full study model on N = 1,200.

Compares, in the same run and on the same data and model:

* ``analysis.sem.bootstrap.bootstrap`` (warm-started quasi-Newton refits
  from resampled moments, 2 joblib workers, progress bar);
* a plain semopy loop (``semopy.Model(desc).fit(resample)``: refit from
  scratch) timed on ``--semopy`` draws;
* lavaan's ``se = "bootstrap"`` via ``bench_lavaan_boot.R`` on ``--lavaan``
  draws (when ``Rscript`` with lavaan is installed).

Run:  .venv/bin/python benchmarks/bench_bootstrap.py [--draws 5000]
The machine's load average is printed: timings on a shared machine are
slower than on an idle one.
"""
from __future__ import annotations

import os

# one BLAS thread per process and pinned kernels, set before numpy loads (the one place that
# sets them: analysis/_determinism.py): multithreaded OpenBLAS on this 2-core machine makes
# the small matrix operations of a refit far slower
from analysis._determinism import pin_environment  # noqa: E402

pin_environment()

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def marginal_per_draw(syntax, data, draws: int, repeats: int = 3) -> float:
    """The issue's measure: CPU time of ``sem(..., bootstrap=draws)`` minus that of ``sem(...)``, per draw
    (one worker; median over ``repeats``)."""
    from analysis.sem import sem

    out = []
    for _ in range(repeats):
        c0 = time.process_time()
        sem(syntax, data)
        plain = time.process_time() - c0
        c0 = time.process_time()
        sem(syntax, data, bootstrap=draws, seed=3, n_jobs=1)
        out.append((time.process_time() - c0 - plain) / draws)
    return float(np.median(out))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=5000)
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--semopy", type=int, default=10, help="draws of the semopy loop")
    ap.add_argument("--lavaan", type=int, default=30, help="draws of lavaan's bootstrap")
    ap.add_argument("--marginal-draws", type=int, default=1000,
                    help="draws of the marginal-time measure (sem(..., bootstrap=k) minus sem(...))")
    ap.add_argument("--cpu-sample", type=int, default=200,
                    help="draws timed in-process by CPU time (load-independent per-draw cost)")
    args = ap.parse_args(argv)

    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    from analysis.sem import sem
    from analysis.sem.bootstrap import bootstrap
    from analysis.study.instrument import load_instrument
    from analysis.study.simulate import simulate_responses

    ins = load_instrument()
    data = simulate_responses(args.n, 60, seed=20240534, instrument=ins)
    syntax = ins.model_syntax("structural")
    print(f"load average at start: {os.getloadavg()}; cpus: {os.cpu_count()}")
    t = time.perf_counter()
    fit = sem(syntax, data)
    t_fit = time.perf_counter() - t
    print(f"full-sample fit (analysis.sem.sem): {t_fit:.1f} s, converged={fit.converged}, "
          f"free parameters={fit.model.n_free}, observed variables={fit.model.p}")

    c0 = time.process_time()
    bootstrap(fit, n_boot=args.cpu_sample, seed=3, n_jobs=1)
    cpu = (time.process_time() - c0) / args.cpu_sample
    print(f"analysis.sem.bootstrap CPU time: {1000 * cpu:.1f} ms/draw (in-process, {args.cpu_sample} draws) "
          f"-> {args.draws} draws on {args.jobs} idle cores ~{args.draws * cpu / args.jobs:.0f} s")
    marginal = marginal_per_draw(syntax, data, args.marginal_draws)
    print(f"marginal CPU time per draw (sem(..., bootstrap={args.marginal_draws}, n_jobs=1) minus sem(...), "
          f"divided by the draws; median of 3): {1000 * marginal:.2f} ms")

    t = time.perf_counter()
    boot = bootstrap(fit, n_boot=args.draws, seed=1, n_jobs=args.jobs, progress=True)
    t_boot = time.perf_counter() - t
    per = t_boot / args.draws
    print(f"analysis.sem.bootstrap: {args.draws} draws in {t_boot:.1f} s ({1000 * per:.1f} ms/draw wall, "
          f"{args.jobs} workers); ok={boot.n_ok}, failed={boot.n_failed}, improper={boot.n_improper}; "
          f"median iterations {int(np.median(boot.n_iter))}")

    # the study's reported bootstrap: whole communities resampled, every draw studentized (bootstrap-t)
    cl = data["community"].to_numpy()
    c0 = time.process_time()
    bootstrap(fit, n_boot=args.cpu_sample, seed=3, n_jobs=1, cluster=cl, studentize=True)
    cpu_t = (time.process_time() - c0) / args.cpu_sample
    print(f"cluster bootstrap with a sandwich SE per draw (studentize=True) CPU time: {1000 * cpu_t:.1f} ms/draw "
          f"(in-process, {args.cpu_sample} draws): {cpu_t / cpu:.2f}x the plain draw")
    t = time.perf_counter()
    boot = bootstrap(fit, n_boot=args.draws, seed=1, n_jobs=args.jobs, progress=True, cluster=cl, studentize=True)
    t_boot = time.perf_counter() - t
    print(f"studentized cluster bootstrap: {args.draws} draws in {t_boot:.1f} s ({args.jobs} workers); "
          f"ok={boot.n_ok}, failed={boot.n_failed}, improper={boot.n_improper}, without SE={boot.n_no_se}")

    # semopy: refit from scratch (no := in semopy's syntax)
    import semopy
    from _semopy import semopy_syntax

    if args.semopy <= 0:
        print(f"load average at end: {os.getloadavg()}")
        return 0

    desc = semopy_syntax(syntax)
    rng = np.random.default_rng(2)
    c0 = time.process_time()
    for _ in range(args.semopy):
        rows = rng.integers(0, len(data), len(data))
        semopy.Model(desc).fit(data.iloc[rows].reset_index(drop=True))
    t_sem = (time.process_time() - c0) / args.semopy
    print(f"semopy {semopy.__version__} refit-from-scratch loop: {t_sem:.2f} s CPU/draw -> 5,000 draws "
          f"~{5000 * t_sem / 60:.0f} CPU-min; ratio to analysis.sem.bootstrap (CPU per draw) "
          f"{t_sem / cpu:.0f}x")

    if shutil.which("Rscript") and args.lavaan > 0:
        with tempfile.TemporaryDirectory() as tmp:
            csv, lav = Path(tmp) / "d.csv", Path(tmp) / "m.lav"
            data[list(fit.stats.ov_names)].to_csv(csv, index=False)
            lav.write_text(syntax, encoding="utf-8")
            out = subprocess.run(["Rscript", str(HERE / "bench_lavaan_boot.R"), str(csv), str(lav),
                                  str(args.lavaan)], capture_output=True, text=True)
            m = re.search(r" user_per_draw ([0-9.]+)", out.stdout)
            mm = re.search(r"marginal_user_per_draw ([0-9.]+)", out.stdout)
            if m:
                t_lav = float(m.group(1))
                print(out.stdout.strip())
                print(f"lavaan bootstrap: {t_lav:.2f} s CPU/draw -> 5,000 draws ~{5000 * t_lav / 60:.0f} CPU-min; "
                      f"ratio to analysis.sem.bootstrap (CPU per draw) {t_lav / cpu:.0f}x")
            if mm:
                t_marg = float(mm.group(1))
                print(f"marginal time per draw, ours / lavaan's (goal <= 0.05): {1000 * marginal:.2f} ms / "
                      f"{1000 * t_marg:.1f} ms = {marginal / t_marg:.3f}")
            else:
                print("lavaan run failed:", out.stderr[-500:])
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
