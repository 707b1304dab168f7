"""Benchmark: the power study (5 sample sizes x 500 replications, 2 workers).

Run:  .venv/bin/python benchmarks/bench_power.py [--reps 500]
Writes into a temporary folder (results/ is left alone) and prints the wall
time and the machine's load average.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=None, help="default: study.yaml power.replications")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    from analysis.study.power import run_power

    print(f"load average at start: {os.getloadavg()}; cpus: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        run_power(out_dir=Path(tmp) / "power", replications=args.reps, n_jobs=args.jobs, progress=True)
        print(f"run_power: {time.perf_counter() - t:.1f} s wall")
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
