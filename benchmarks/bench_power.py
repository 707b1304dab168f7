"""Benchmark: the power study (5 sample sizes x 500 replications, 2 workers).

Measures the CPU time of replications in-process (``--sample`` per sample
size; load-independent) and projects the wall time of the full study on
idle cores; with ``--full`` it also runs ``run_power`` into a temporary
folder (results/ is left alone) and prints the wall time and the machine's
load average.  The baseline, run in the same command, is a replication
done with semopy (simulate, fit from scratch, standard errors) on
``--semopy`` replications at N = 1,200.

Run:  .venv/bin/python benchmarks/bench_power.py [--sample 10] [--full]
"""
from __future__ import annotations

import os

# one BLAS thread per process and pinned kernels, set before numpy loads (the one place that
# sets them: analysis/_determinism.py): multithreaded OpenBLAS on this 2-core machine makes
# the small matrix operations of a refit far slower
from analysis._determinism import pin_environment  # noqa: E402

pin_environment()

import argparse
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=10, help="replications timed per sample size")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--full", action="store_true", help="also time the full run_power")
    ap.add_argument("--semopy", type=int, default=3, help="replications of the semopy baseline")
    args = ap.parse_args(argv)

    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    from analysis.study.power import build_context, replicate
    from analysis.study.settings import load_settings

    cfg = load_settings()["power"]
    print(f"load average at start: {os.getloadavg()}; cpus: {os.cpu_count()}")
    c0 = time.process_time()
    ctx = build_context(seed=1)
    print(f"template fit: {time.process_time() - c0:.1f} s CPU")
    total = 0.0
    per_n = {}
    for n in cfg["sample_sizes"]:
        c0 = time.process_time()
        for r in range(args.sample):
            replicate({"n": n}, r, 1000 + r, ctx)
        per = (time.process_time() - c0) / args.sample
        per_n[n] = per
        total += per * cfg["replications"]
        print(f"N = {n}: {1000 * per:.0f} ms CPU per replication")
    print(f"projected: {len(cfg['sample_sizes'])} x {cfg['replications']} replications = {total:.0f} CPU-s "
          f"-> ~{total / args.jobs:.0f} s on {args.jobs} idle cores")
    if args.semopy > 0:
        import semopy
        from _semopy import semopy_syntax

        from analysis.study.power import CONTROLS, with_controls, n_communities
        from analysis.study.simulate import simulate_responses

        desc = semopy_syntax(ctx.instrument.model_syntax("structural", controls=CONTROLS))
        c0 = time.process_time()
        for r in range(args.semopy):
            d = with_controls(simulate_responses(1200, n_communities({"n": 1200}), seed=2000 + r,
                                             population=ctx.population, instrument=ctx.instrument))
            m = semopy.Model(desc)
            m.fit(d)
            m.inspect()
        base = (time.process_time() - c0) / args.semopy
        ours = per_n[1200]
        print(f"semopy {semopy.__version__} replication (simulate, fit from scratch, SEs), N = 1200: "
              f"{base:.2f} s CPU; ratio to ours (CPU per replication) {base / ours:.0f}x; 5 x 500 "
              f"replications ~{5 * cfg['replications'] * base / 60:.0f} CPU-min")
    if args.full:
        from analysis.study.power import run_power

        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            run_power(out_dir=Path(tmp) / "power", n_jobs=args.jobs, progress=True)
            print(f"run_power: {time.perf_counter() - t:.1f} s wall")
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
