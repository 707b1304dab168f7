"""Benchmark: the heavy steps on 1 and 2 workers, on both backends of ``analysis/_parallel.py``.

Times, in one command and on the same inputs:

* the Monte Carlo power grid of ``study.yaml`` (5 sample sizes x 500
  replications of the study's structural model: simulate, fit, Monte Carlo
  interval; the ``monte_carlo`` call of ``run_power``);
* the study's reported bootstrap: 5,000 draws resampling the 60 communities,
  every draw studentized by its cluster-robust sandwich SE (the full study
  model, N = 1,200, complete data; as ``bench_bootstrap.py``);

each with the ``local`` backend (joblib worker processes) and the ``dask``
backend (a ``dask.distributed`` LocalCluster of as many single-threaded worker
processes), on 1 and 2 workers; the workers are started (and have imported
the package) before the clock starts, and that start-up time is printed
apart.  It checks that every run gives the same numbers as the first (bit
for bit) and prints the machine's load average before and after each run
and the CPU seconds the run's processes used (this process, which also
hosts the LocalCluster's scheduler, and its workers; ``efficiency`` = CPU /
(wall x workers)): the machine is shared with other jobs, and a busy
machine slows the 2-worker runs most.

Run:  .venv/bin/python benchmarks/bench_parallel.py | tee benchmarks/bench_parallel_output.txt
      (``--reps 50 --draws 500`` for a quick look)
"""
from __future__ import annotations

import os

# one BLAS thread per process and pinned kernels, set before numpy loads (the one place that
# sets them: analysis/_determinism.py): multithreaded OpenBLAS on this 2-core machine makes
# the small matrix operations of a refit far slower
from analysis._determinism import pin_environment  # noqa: E402

pin_environment()

import argparse
import functools
import platform
import sys
import time


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _cpu() -> dict:
    """CPU seconds (user + system) of this process and each of its descendants (workers), by pid."""
    import psutil

    out = {}
    for p in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.Error:  # pragma: no cover - a process that just ended
            pass
    return out


def _warm(shared, chunk):
    """Start a worker and import what the runs need (before the clock starts)."""
    import analysis.sem.bootstrap  # noqa: F401
    import analysis.study.power  # noqa: F401

    time.sleep(0.2)
    return chunk


def _cpu_used(before: dict, after: dict) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=None, help="replications per sample size (default: study.yaml)")
    ap.add_argument("--draws", type=int, default=5000, help="bootstrap draws")
    ap.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    ap.add_argument("--backends", default="local,dask", help="backends, comma-separated")
    args = ap.parse_args(argv)

    import dask
    import distributed
    import joblib
    import numpy as np
    import pandas as pd

    from analysis import _parallel
    from analysis.psychometrics.power import monte_carlo
    from analysis.sem import sem
    from analysis.sem.bootstrap import bootstrap
    from analysis.study.instrument import load_instrument
    from analysis.study.power import build_context, replicate
    from analysis.study.settings import load_settings
    from analysis.study.simulate import simulate_responses

    cfg = load_settings()["power"]
    reps = args.reps or int(cfg["replications"])
    sizes = [int(n) for n in cfg["sample_sizes"]]
    counts = [int(w) for w in args.workers.split(",")]
    backends = [b.strip() for b in args.backends.split(",")]
    print("Parallel benchmark (benchmarks/bench_parallel.py)")
    print("command: benchmarks/bench_parallel.py " + " ".join(sys.argv[1:] if argv is None else argv))
    print(f"python {platform.python_version()}, numpy {np.__version__}, joblib {joblib.__version__}, "
          f"dask {dask.__version__}, distributed {distributed.__version__}; cpus: {os.cpu_count()}")
    print(f"load average (1/5/15 min) at start: {_load()}")

    with _parallel.blas_threads(1):
        ctx = build_context(seed=int(cfg["seed"]), alpha=float(cfg.get("alpha", 0.05)))
        ins = load_instrument()
        data = simulate_responses(1200, 60, seed=20240534, instrument=ins)
        fit = sem(ins.model_syntax("structural"), data)
        community = data["community"].to_numpy()
    conds = [{"n": n} for n in sizes]

    def power():
        return monte_carlo(functools.partial(replicate, ctx=ctx), conds, reps, int(cfg["seed"]) + 1)

    def boot():
        return bootstrap(fit, n_boot=args.draws, seed=1, cluster=community, studentize=True, exclude_improper=True)

    jobs = {
        f"power grid ({len(sizes)} sizes x {reps} replications)": (power, lambda r: r.select_dtypes("number")),
        f"study bootstrap ({args.draws:,} cluster draws, studentized)":
            (boot, lambda b: pd.DataFrame(np.hstack([b.theta, b.se]))),
    }
    rows = []
    first = {}
    for backend in backends:
        for k in counts:
            start = time.perf_counter()
            with _parallel.session(jobs=k, backend=backend):
                _parallel.chunked_map(_warm, None, [[i] for i in range(2 * k)])  # workers up before the clock
                startup = time.perf_counter() - start
                for name, (run, key) in jobs.items():
                    before = _load()
                    c0 = _cpu()
                    t = time.perf_counter()
                    out = run()
                    wall = time.perf_counter() - t
                    cpu = _cpu_used(c0, _cpu())
                    after = _load()
                    value = key(out)
                    same = True
                    if name in first:
                        same = bool(value.equals(first[name]))
                    else:
                        first[name] = value
                    rows.append({"what": name, "backend": backend, "workers": k, "wall_s": round(wall, 1),
                                 "cpu_s": round(cpu, 1), "efficiency": round(cpu / (wall * k), 2),
                                 "startup_s": round(startup, 1),
                                 "identical": same, "load_before": before, "load_after": after})
                    print(f"{name}: {backend}, {k} worker(s): {wall:.1f} s wall, {cpu:.1f} s CPU"
                          + f" (+{startup:.1f} s to start the workers)"
                          + f"; same numbers as the first run: {same}; load {before} -> {after}", flush=True)
    tab = pd.DataFrame(rows)
    print()
    pd.set_option("display.width", 200)
    print(tab.to_string(index=False))
    print()
    for name in jobs:
        sub = tab[tab["what"] == name].set_index(["backend", "workers"])["wall_s"]
        for backend in backends:
            if (backend, 1) in sub.index and (backend, 2) in sub.index:
                print(f"speed-up 1 -> 2 workers, {name}, {backend}: {sub[(backend, 1)] / sub[(backend, 2)]:.2f}x")
        if ("local", 2) in sub.index and ("dask", 2) in sub.index:
            print(f"dask / local wall time on 2 workers, {name}: {sub[('dask', 2)] / sub[('local', 2)]:.2f}")
    print(f"every run gave the same numbers: {bool(tab['identical'].all())}")
    print(f"load average at end: {_load()}")
    return 0 if tab["identical"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
