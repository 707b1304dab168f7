"""Benchmark: a FIML fit of the study's second-order measurement model at N = 1,200, 12,000 and 120,000.

Goal: memory bounded by the data plus per-pattern work (<= 1 GB peak at
N = 120,000) and <= 60 s there, with the chi-square unchanged.

Data (synthetic, built in a temporary folder; the repository is left
alone): ``simulate_responses(N, 60, seed=20241215)`` (the population
model), its item answers with 3 % of them set missing completely at random
(``numpy.random.default_rng(7)``; the population model's item nonresponse
rate), written to Parquet.  Model: ``Instrument.model_syntax("measurement")``
(first-order factors and four second-order factors).

Each size runs in its own child process (``--child``), started from this
script: read the Parquet file, ``sem(model, data, missing="fiml")``, then the
fit measures (``.fit``: chi-square, CFI/TLI/RMSEA, the FIML-corrected robust
indices) and the estimates table (standard errors from the observed
information), as ``resilience fit --missing fiml`` does.  Wall time of each
stage comes from the child, peak RSS (imports and data included) from
``os.wait4``.  With ``--lavaan-max N`` (and ``Rscript`` with lavaan) lavaan
0.6 fits the same file for the sizes up to N (``missing = "ml"``) and its
chi-square and time are printed beside ours.

With ``--estimator MLR`` the fit is robust FIML (lavaan's ``estimator =
"MLR", missing = "ml"``): Huber-White SEs and the Yuan-Bentler scaled test,
whose casewise scores are accumulated in blocks of rows, never as the whole
``N x (p + p(p+1)/2)`` matrix (``analysis.sem.robust``).

Run:  .venv/bin/python benchmarks/bench_fiml_scale.py [--sizes 1200 12000 120000] [--lavaan-max 1200]
                                                       [--estimator ML|MLR]
Writes benchmarks/bench_fiml_scale_output.txt (``_mlr_output.txt`` with MLR).
"""
from __future__ import annotations

import os

# one BLAS thread per process and pinned kernels, set before numpy loads (the one place that
# sets them: analysis/_determinism.py): multithreaded OpenBLAS on this 2-core machine makes
# the small matrix operations of a refit far slower
from analysis._determinism import pin_environment  # noqa: E402

pin_environment()

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench_ingest import run_child

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "bench_fiml_scale_output.txt"
SEED = 20241215
MISSING_SEED = 7
MISSING_RATE = 0.03
GOAL_S = 60.0
GOAL_MB = 1024.0


def write_data(n: int, folder: Path) -> tuple[Path, Path]:
    """Simulate N respondents, knock out 3 % of the item answers, write Parquet and the model."""
    import numpy as np
    import pandas as pd

    from analysis.study.instrument import load_instrument
    from analysis.study.simulate import simulate_responses

    ins = load_instrument()
    model = ins.model_syntax("measurement")
    data = simulate_responses(n, 60, seed=SEED, instrument=ins)
    items = [it.code for it in ins.items if it.code in data.columns]
    x = data[items].to_numpy(dtype=float, copy=True)
    x[np.random.default_rng(MISSING_SEED).random(x.shape) < MISSING_RATE] = np.nan
    path = folder / f"fiml_{n}.parquet"
    pd.DataFrame(x, columns=items).to_parquet(path)
    csv = folder / f"fiml_{n}.csv"
    pd.DataFrame(x, columns=items).to_csv(csv, index=False, na_rep="NA")
    lav = folder / "measurement.lav"
    lav.write_text(model, encoding="utf-8")
    return path, lav


def child(path: str, model: str, estimator: str = "ML") -> int:
    """Fit one size; print a JSON line of stage times and results."""
    t0 = time.perf_counter()
    import pandas as pd

    from analysis.sem import sem

    data = pd.read_parquet(path)
    t1 = time.perf_counter()
    fit = sem(Path(model).read_text(encoding="utf-8"), data, missing="fiml", estimator=estimator)
    t2 = time.perf_counter()
    measures = fit.fit
    t3 = time.perf_counter()
    est = fit.estimates
    t4 = time.perf_counter()
    mp = fit.objective.patterns[0]
    print(json.dumps({
        "n": int(mp.nobs), "p": int(mp.nvar), "patterns": int(mp.npatterns),
        "chisq": float(measures["chisq"]), "df": float(measures["df"]),
        "chisq_scaled": float(measures.get("chisq_scaled", float("nan"))),
        "cfi_robust": float(measures.get("cfi_robust", float("nan"))),
        "converged": bool(fit.converged), "n_se": int(est["se"].notna().sum()),
        "t_load": t1 - t0, "t_sem": t2 - t1, "t_fit": t3 - t2, "t_est": t4 - t3,
    }))
    return 0


def lavaan(rscript: str, csv: Path, model: Path) -> dict | None:
    """lavaan's FIML fit of the same data: chi-square and elapsed time (or None)."""
    code = (f"suppressPackageStartupMessages(library(lavaan)); d <- read.csv('{csv}'); "
            f"m <- readLines('{model}'); m <- m[!grepl('^[[:space:]]*#', m)]; "  # lavaan 0.6.14 reads '# ...:' as a block
            "t <- system.time(fit <- cfa(m, data = d, missing = 'ml')); "
            "cat(sprintf('%.8f %.2f %s', fitMeasures(fit, 'chisq'), t[['elapsed']], packageVersion('lavaan')), '\\n')")
    wall, cpu, rss, res = run_child([rscript, "-e", code])
    if res.returncode != 0:
        return None
    chisq, elapsed, version = res.stdout.split()[-3:]
    return {"chisq": float(chisq), "elapsed": float(elapsed), "version": version, "rss": rss, "wall": wall}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1200, 12000, 120000])
    ap.add_argument("--lavaan-max", type=int, default=1200,
                    help="also fit with lavaan the sizes up to this N (0: none; lavaan needs ~1 min at 1,200)")
    ap.add_argument("--estimator", choices=["ML", "MLR"], default="ML")
    ap.add_argument("--child", nargs=2, metavar=("DATA", "MODEL"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(*args.child, estimator=args.estimator)
    output = OUTPUT if args.estimator == "ML" else OUTPUT.with_name("bench_fiml_scale_mlr_output.txt")
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    rscript = shutil.which("Rscript")
    say(f"load average at start: {tuple(round(v, 2) for v in os.getloadavg())}; cpus: {os.cpu_count()}")
    say(f"synthetic data: simulate_responses(N, 60, seed={SEED}), {MISSING_RATE:.0%} of the item answers "
        f"missing completely at random (seed {MISSING_SEED}); FIML (missing='fiml', estimator='{args.estimator}'), "
        "one BLAS thread")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_fiml_") as tmp:
        for n in args.sizes:
            path, model = write_data(n, Path(tmp))
            wall, cpu, rss, res = run_child([sys.executable, str(Path(__file__).resolve()), "--child",
                                             str(path), str(model), "--estimator", args.estimator])
            if res.returncode != 0:
                say(f"N = {n}: failed ({res.returncode}): {res.stderr[-800:]}")
                return 1
            r = json.loads(res.stdout.strip().splitlines()[-1])
            r.update(wall=wall, cpu=cpu, rss=rss)
            say(f"N = {n:>7,}: {r['p']} indicators, {r['patterns']:,} missing-data patterns; "
                f"wall {wall:6.1f} s (read {r['t_load']:.1f}, fit {r['t_sem']:.1f}, fit measures {r['t_fit']:.1f}, "
                f"estimates {r['t_est']:.1f}), CPU {cpu:6.1f} s, peak RSS {rss:6.0f} MB; "
                f"chisq {r['chisq']:.6f} on {r['df']:.0f} df"
                + (f" (scaled {r['chisq_scaled']:.6f})" if args.estimator == "MLR" else "")
                + f", converged {r['converged']}")
            if rscript and n <= args.lavaan_max:
                lav = lavaan(rscript, path.with_suffix(".csv"), model)
                if lav is None:
                    say("           lavaan failed")
                else:
                    say(f"           lavaan {lav['version']}: chisq {lav['chisq']:.6f} (difference "
                        f"{abs(lav['chisq'] - r['chisq']):.1e}), {lav['elapsed']:.1f} s elapsed, "
                        f"peak RSS {lav['rss']:.0f} MB")
            rows.append(r)
    big = max(rows, key=lambda r: r["n"])
    say(f"largest N = {big['n']:,}: {big['wall']:.1f} s wall (goal <= {GOAL_S:.0f} s: "
        f"{'met' if big['wall'] <= GOAL_S else 'NOT met'}), peak RSS {big['rss']:.0f} MB "
        f"(goal <= {GOAL_MB:.0f} MB: {'met' if big['rss'] <= GOAL_MB else 'NOT met'})")
    if len(rows) > 1:
        lo, hi = min(rows, key=lambda r: r["n"]), big
        say(f"memory per additional respondent: {(hi['rss'] - lo['rss']) * 1024 / (hi['n'] - lo['n']):.1f} KB")
    say(f"load average at end: {tuple(round(v, 2) for v in os.getloadavg())}")
    output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
