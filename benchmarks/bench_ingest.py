"""Benchmark: ``resilience ingest`` of a 200,000-record 问卷星 export.

Goal: <= 30 s wall and <= 1 GB peak memory on this 2-core machine.

The export is built deterministically in a temporary folder (the repository
is left alone): ``simulate_sample(2000, 60, seed=20240601)`` written by
``write_export(..., "wjx", ..., encoding="utf-8-sig")`` (option text, the
platform's default), then its 2,000 data rows replicated with the csv
module up to ``--records`` rows.  Column 0 (序号) becomes the running record
number and copy ``k`` of a row has its submission time (column 1) shifted by
``k`` days and ``k`` seconds, so every record is a distinct submission
(ingest collapses records whose submission time, completion time and
answers are all identical); the run checks that the ingest report says
0 repeated copies and every record processed.

Compares, in the same run and on the same file, each in its own child
process (wall time, CPU time and peak RSS of that child from ``os.wait4``;
the CPU time depends far less on other jobs than the wall time):

* ``resilience ingest FILE --out DIR`` (the console script);
* the baseline ``pandas.read_csv(FILE, dtype=str, encoding="utf-8-sig")``
  (``python -c``, interpreter start and ``import pandas`` included, as the
  console script's start-up is included in the ingest figure).

Each is run ``--repeat`` times and the median is reported.

Run:  .venv/bin/python benchmarks/bench_ingest.py [--records 200000] [--repeat 3]
The machine's load average is printed: timings on a shared machine are
slower than on an idle one.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

BIN = Path(sys.executable).parent
GOAL_WALL_S = 30.0
GOAL_RSS_MB = 1024.0
SEED = 20240601
TIME_FMT = "%Y/%m/%d %H:%M:%S"


def build_export(path: Path, records: int, seed: int = SEED) -> int:
    """Write a ``records``-row 问卷星 CSV to ``path``; return the number of data rows."""
    from analysis.study.exports import write_export
    from analysis.study.instrument import load_instrument
    from analysis.study.simulate import simulate_sample

    inst = load_instrument()
    sample = simulate_sample(2000, 60, seed, instrument=inst)
    base = path.with_name("base_2000.csv")
    write_export(sample.data, "wjx", base, inst, encoding="utf-8-sig")
    with open(base, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, data = rows[0], rows[1:]
    stamps = [datetime.strptime(r[1], TIME_FMT) for r in data]
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(header)
        k = 0
        while n < records:
            shift = timedelta(days=k, seconds=k)
            for r, t in zip(data, stamps):
                if n >= records:
                    break
                n += 1
                t2 = t + shift
                # as the export writes it: month and day without a leading zero (2024/5/12 07:03:05)
                r = [str(n), f"{t2.year}/{t2.month}/{t2.day} {t2:%H:%M:%S}"] + r[2:]
                w.writerow(r)
            k += 1
    base.unlink()
    return n


def run_child(cmd: list[str]) -> tuple[float, float, float, subprocess.CompletedProcess]:
    """Run ``cmd``; return (wall s, CPU s (user + system), peak RSS MB of the child, result)."""
    bufs = {}

    def _drain(name, stream):
        bufs[name] = stream.read()

    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    threads = [threading.Thread(target=_drain, args=kv) for kv in (("out", p.stdout), ("err", p.stderr))]
    for th in threads:
        th.start()
    # os.wait4 gives the rusage of this child alone (getrusage(RUSAGE_CHILDREN)
    # would be the maximum over every child waited for so far)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    for th in threads:
        th.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    out, err = bufs["out"].decode(errors="replace"), bufs["err"].decode(errors="replace")
    cpu = ru.ru_utime + ru.ru_stime
    return wall, cpu, ru.ru_maxrss / 1024.0, subprocess.CompletedProcess(cmd, p.returncode, out, err)


BASELINE = ("import sys, time; t = time.perf_counter(); import pandas as pd; "
            "d = pd.read_csv(sys.argv[1], dtype=str, encoding='utf-8-sig'); "
            "print(d.shape[0], d.shape[1], round(time.perf_counter() - t, 2))")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    print(f"load average at start: {os.getloadavg()}; cpus: {os.cpu_count()}")
    import pandas as pd

    ok = True
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        export = Path(tmp) / "wjx_export.csv"
        t = time.perf_counter()
        n = build_export(export, args.records)
        print(f"export: {n} records (2,000 simulated rows replicated; seed {SEED}), "
              f"{export.stat().st_size / 2**20:.0f} MB utf-8-sig CSV, built in {time.perf_counter() - t:.1f} s")

        resilience = BIN / "resilience"
        ing_wall, ing_cpu, ing_rss, base_wall, base_cpu, base_rss = [], [], [], [], [], []
        for i in range(args.repeat):
            out_dir = Path(tmp) / f"out{i}"
            wall, cpu, rss, res = run_child([str(resilience), "ingest", str(export), "--out", str(out_dir)])
            if res.returncode != 0:
                print(f"resilience ingest failed (exit {res.returncode}):\n{res.stderr[-2000:]}")
                return 1
            ing_wall.append(wall)
            ing_cpu.append(cpu)
            ing_rss.append(rss)
            first = re.sub(r"^ingested \S+ ", "", res.stdout.splitlines()[0] if res.stdout else "")
            counts = json.loads((out_dir / "ingest_report.json").read_text(encoding="utf-8"))["counts"]
            good = (counts["records"] == n and counts["duplicates_collapsed"] == 0 and counts["accepted"] == n)
            ok &= good
            print(f"  ingest run {i + 1}: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {rss:.0f} MB; "
                  f"{'OK' if good else 'UNEXPECTED COUNTS'}: {first}")

            wall, cpu, rss, res = run_child([sys.executable, "-c", BASELINE, str(export)])
            if res.returncode != 0:
                print(f"baseline failed (exit {res.returncode}):\n{res.stderr[-2000:]}")
                return 1
            base_wall.append(wall)
            base_cpu.append(cpu)
            base_rss.append(rss)
            rows, cols, t_in = res.stdout.split()
            print(f"  pandas.read_csv run {i + 1}: {wall:.1f} s wall ({t_in} s import + read inside), {cpu:.1f} s CPU, "
                  f"peak RSS {rss:.0f} MB; {rows} rows x {cols} columns")

        med = statistics.median
        iw, ic, ir = med(ing_wall), med(ing_cpu), med(ing_rss)
        bw, bc, br = med(base_wall), med(base_cpu), med(base_rss)
        print(f"resilience ingest (median of {args.repeat}): {iw:.1f} s wall, {ic:.1f} s CPU, peak RSS {ir:.0f} MB; "
              f"{1e6 * iw / n:.0f} us/record wall")
        print(f"baseline pandas {pd.__version__} read_csv(dtype=str) (median of {args.repeat}): "
              f"{bw:.1f} s wall, {bc:.1f} s CPU, peak RSS {br:.0f} MB")
        print(f"ratio ingest / baseline: wall {iw / bw:.1f}x, CPU {ic / bc:.1f}x, peak RSS {ir / br:.2f}x")
        if n == 200_000:
            met_w, met_m = iw <= GOAL_WALL_S, ir <= GOAL_RSS_MB
            print(f"goal (<= {GOAL_WALL_S:.0f} s wall, <= {GOAL_RSS_MB:.0f} MB peak): "
                  f"wall {'met' if met_w else 'NOT met'}, memory {'met' if met_m else 'NOT met'}")
        if not ok:
            print("ingest counts: NOT as expected (every record distinct and processed)")
    print(f"load average at end: {os.getloadavg()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
