"""Benchmark: the power study (5 sample sizes x 500 replications, 2 workers).

Measures the CPU time of replications in-process (``--sample`` per sample
size; load-independent) and projects the wall time of the full study on
idle cores; with ``--full`` it also runs ``run_power`` into a temporary
folder (results/ is left alone) and prints the wall time and the machine's
load average.

Run:  .venv/bin/python benchmarks/bench_power.py [--sample 10] [--full]
"""
from __future__ import annotations

import os

# one BLAS thread per process (set before numpy loads): multithreaded OpenBLAS
# on this 2-core machine makes the small matrix operations of a refit far slower
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

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
    for n in cfg["sample_sizes"]:
        c0 = time.process_time()
        for r in range(args.sample):
            replicate({"n": n}, r, 1000 + r, ctx)
        per = (time.process_time() - c0) / args.sample
        total += per * cfg["replications"]
        print(f"N = {n}: {1000 * per:.0f} ms CPU per replication")
    print(f"projected: {len(cfg['sample_sizes'])} x {cfg['replications']} replications = {total:.0f} CPU-s "
          f"-> ~{total / args.jobs:.0f} s on {args.jobs} idle cores")
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
