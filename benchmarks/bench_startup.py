"""Benchmark: start-up of ``resilience fit`` against ``Rscript`` with lavaan.

Goal: ``resilience fit MODEL.lav DATA.csv`` of a 16-indicator model, run from
the shell, takes less wall time than ``Rscript`` fitting the same model
with lavaan, R's start-up and ``library(lavaan)`` included.

Model and data (synthetic, built in a temporary folder; the repository is
left alone): four correlated factors with four indicators each (loadings
0.6-0.9, factor correlations 0.4), N = 500 rows drawn with
``numpy.random.default_rng(20241214)``, written to CSV with 6 decimals.

Compared in the same run, each command a child process started from this
script (wall time, CPU time and peak RSS from ``os.wait4``), the commands
interleaved and repeated ``--repeat`` times, medians reported:

* ``fit only``: ``resilience fit m16.lav d16.csv --quiet`` against
  ``Rscript -e 'library(lavaan); fit <- sem(readLines("m16.lav"), data = read.csv("d16.csv"))'``
  (the issue's comparison; ``resilience fit`` still computes the estimates
  table and fit measures it would write with ``--json``);
* ``same output``: ``resilience fit m16.lav d16.csv`` (prints the summary:
  test, CFI/TLI/RMSEA with interval/SRMR, estimates with ``Std.all``)
  against lavaan printing ``summary(fit, fit.measures = TRUE,
  standardized = TRUE)``;
* the floors: ``python -c "import numpy, pandas"`` and
  ``Rscript -e 'library(lavaan)'``.

The children write and read Python bytecode in a temporary cache
(``PYTHONPYCACHEPREFIX``, one warm-up run per command first), as an
installed package does; an environment with ``PYTHONDONTWRITEBYTECODE=1``
would otherwise recompile the package's modules on every start (~40 ms).
Both fits are checked to give the same chi-square.

Run:  .venv/bin/python benchmarks/bench_startup.py [--repeat 9]
Writes benchmarks/bench_startup_output.txt.  The machine's load average is
printed: timings on a shared machine are slower than on an idle one.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_ingest import run_child

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "bench_startup_output.txt"
SEED = 20241214
N_ROWS = 500


def write_data(folder: Path, n: int = N_ROWS, seed: int = SEED) -> tuple[Path, Path]:
    """Write the synthetic 16-indicator data set and its model; return (model path, data path)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    k, per = 4, 4
    phi = np.full((k, k), 0.4) + 0.6 * np.eye(k)
    eta = rng.multivariate_normal(np.zeros(k), phi, size=n)
    loadings = 0.6 + 0.1 * np.arange(per)
    cols = []
    for j in range(k):
        for lam in loadings:
            cols.append(lam * eta[:, j] + rng.normal(0.0, np.sqrt(1 - 0.8 * lam ** 2), n))
    x = np.column_stack(cols)
    names = [f"x{i + 1}" for i in range(k * per)]
    data = folder / "d16.csv"
    np.savetxt(data, x, fmt="%.6f", delimiter=",", header=",".join(names), comments="")
    model = folder / "m16.lav"
    model.write_text("".join(f"f{j + 1} =~ " + " + ".join(names[j * per:(j + 1) * per]) + "\n"
                             for j in range(k)), encoding="utf-8")
    return model, data


def r_script(model: Path, data: Path, *, summary: bool, chisq: bool = False) -> str:
    """R code fitting ``model`` to ``data`` with lavaan (optionally printing its summary or chi-square)."""
    code = ("suppressPackageStartupMessages(library(lavaan)); "
            f"fit <- sem(readLines('{model}'), data = read.csv('{data}'))")
    if summary:
        code += "; summary(fit, fit.measures = TRUE, standardized = TRUE)"
    if chisq:
        code += "; cat(sprintf('%.10f', fitMeasures(fit, 'chisq')), '\\n')"
    return code


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=9, help="runs of each command (medians reported)")
    args = ap.parse_args(argv)
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    resilience = str(Path(sys.executable).parent / "resilience")
    rscript = shutil.which("Rscript")
    say(f"load average at start: {tuple(round(v, 2) for v in os.getloadavg())}; cpus: {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="bench_startup_") as tmp:
        tmp = Path(tmp)
        model, data = write_data(tmp)
        say(f"synthetic data: {N_ROWS} rows x 16 indicators, 4 factors (seed {SEED}); model:")
        for line in model.read_text(encoding="utf-8").splitlines():
            say(f"    {line}")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        commands = {
            "resilience fit --quiet": [resilience, "fit", str(model), str(data), "--quiet"],
            "resilience fit (summary)": [resilience, "fit", str(model), str(data)],
            "python: import numpy, pandas": [sys.executable, "-c", "import numpy, pandas"],
        }
        if rscript:
            commands.update({
                "lavaan sem()": [rscript, "-e", r_script(model, data, summary=False)],
                "lavaan sem() + summary()": [rscript, "-e", r_script(model, data, summary=True)],
                "R: library(lavaan)": [rscript, "-e", "suppressPackageStartupMessages(library(lavaan))"],
            })
        else:
            say("Rscript not found: lavaan not timed (install R with lavaan to compare)")

        # the two fits agree
        js = tmp / "fit.json"
        wall, cpu, rss, res = run_child(commands["resilience fit --quiet"] + ["--json", str(js)])
        if res.returncode != 0:
            say(f"resilience fit failed ({res.returncode}): {res.stderr[-500:]}")
            return 1
        ours = json.loads(js.read_text(encoding="utf-8"))["fit"]["chisq"]
        say(f"resilience fit: chisq {ours:.6f}")
        if rscript:
            res = run_child([rscript, "-e", r_script(model, data, summary=False, chisq=True)])[3]
            theirs = float(res.stdout.split()[-1])
            say(f"lavaan 0.6 sem(): chisq {theirs:.6f} (difference {abs(ours - theirs):.1e})")

        times = {name: [] for name in commands}
        for name, cmd in commands.items():  # warm-up: bytecode cache, file-system cache
            run_child(cmd)
        for _ in range(args.repeat):
            for name, cmd in commands.items():
                wall, cpu, rss, res = run_child(cmd)
                if res.returncode != 0:
                    say(f"{name} failed ({res.returncode}): {res.stderr[-500:]}")
                    return 1
                times[name].append((wall, cpu, rss))

    say(f"\nmedians of {args.repeat} runs (wall s, CPU s, peak RSS MB):")
    med = {}
    for name, runs in times.items():
        w, c, r = (statistics.median(v) for v in zip(*runs))
        med[name] = w
        say(f"  {name:<30} wall {w:6.3f}  cpu {c:6.3f}  rss {r:6.0f}   (wall runs {min(v[0] for v in runs):.3f}-"
            f"{max(v[0] for v in runs):.3f})")
    if rscript:
        for ours_name, theirs_name in (("resilience fit --quiet", "lavaan sem()"),
                                       ("resilience fit (summary)", "lavaan sem() + summary()")):
            ratio = med[ours_name] / med[theirs_name]
            verdict = "faster" if ratio < 1 else "slower"
            say(f"ratio {ours_name} / {theirs_name}: {ratio:.2f} ({verdict} than lavaan)")
    say(f"load average at end: {tuple(round(v, 2) for v in os.getloadavg())}")
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
