"""The one chunked map (``analysis/_parallel.py``): same results on every backend, any number of workers.

* local with one job, local with two, a ``dask.distributed`` LocalCluster of two worker processes, and a
  scheduler and two workers started separately (``python -m dask scheduler`` / ``dask worker`` on free
  ports of 127.0.0.1) give bit-identical bootstrap draws, intervals and Monte Carlo replications for the
  same seed;
* outputs come back in the order of the chunks, with a progress bar on either backend;
* a Dask worker that dies is replaced, its chunk recomputed, and the result is unchanged;
* an unreachable scheduler is one line and exit status 2;
* the command line's --jobs/--backend/--scheduler win over study.yaml's ``parallel:``, which is in no
  step's ``config_changed`` (changing the backend reruns nothing).
"""
from __future__ import annotations

import functools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import _parallel
from analysis.cli import main
from analysis.errors import InputError
from analysis.psychometrics.power import monte_carlo
from analysis.sem import sem
from analysis.sem.bootstrap import bootstrap

REF = Path(__file__).parent / "reference"
DATA = REF / "data" / "PoliticalDemocracy.csv"
MODEL = """
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  y1 ~~ y5
  ind := a*b
  total := c + a*b
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop a process this test started (SIGTERM, then SIGKILL), by its id."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _slow_square(offset, chunk):
    time.sleep(0.05 * (3 - chunk[0] % 3))  # later chunks finish first
    return [offset + x * x for x in chunk]


@pytest.fixture(scope="module")
def fit():
    return sem(MODEL, pd.read_csv(DATA))


@pytest.fixture(scope="module")
def local_cluster():
    """A dask.distributed LocalCluster with two worker processes (one thread each)."""
    import logging

    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": ":0"},  # no dashboard; its http port: any free one
                           silence_logs=logging.ERROR)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def power_context():
    from analysis.study.population import load_population
    from analysis.study.power import build_context

    return build_context(load_population(), seed=3, n_template=1500, mc_draws=200)


def _boot(fit, **kw):
    cl = np.repeat(np.arange(15), 5)
    rows = bootstrap(fit, n_boot=40, seed=11, bca=True, studentize=True, **kw)
    clus = bootstrap(fit, n_boot=30, seed=12, cluster=cl, studentize=True, **kw)
    return rows, clus


def _assert_same_boot(a, b):
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.defined, b.defined)
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_array_equal(a.se, b.se)
    if a.accel is not None or b.accel is not None:
        np.testing.assert_array_equal(a.accel, b.accel)
    pd.testing.assert_frame_equal(a.intervals(), b.intervals(), check_exact=True)


def _power(ctx, **kw):
    from analysis.study.power import replicate

    return monte_carlo(functools.partial(replicate, ctx=ctx), [{"n": 300}, {"n": 600}], 4, seed=21,
                       chunk_size=3, **kw)


# --- the map itself -------------------------------------------------------------------------------
def test_chunked_map_keeps_order_on_one_and_two_local_workers():
    chunks = [[i, i + 100] for i in range(7)]
    expect = [[5 + x * x for x in c] for c in chunks]
    assert _parallel.chunked_map(_slow_square, 5, chunks, n_jobs=1) == expect
    assert _parallel.chunked_map(_slow_square, 5, chunks, n_jobs=2) == expect
    assert _parallel.chunked_map(_slow_square, 5, [], n_jobs=2) == []


def test_chunk_spans_follow_the_workers_but_cover_everything():
    assert _parallel.chunk_spans(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert _parallel.chunk_spans(160, n_jobs=2) == [(s, s + 10) for s in range(0, 160, 10)]
    with _parallel.session(jobs=4):
        assert len(_parallel.chunk_spans(160)) == 32


def test_settings_command_line_wins_over_study_yaml():
    file = {"jobs": 3, "backend": "local", "scheduler": None}
    assert _parallel.resolve(file) == {"jobs": 3, "backend": "local", "scheduler": None}
    assert _parallel.resolve(file, jobs=1, backend="dask") == {"jobs": 1, "backend": "dask", "scheduler": None}
    assert _parallel.resolve({"backend": "dask", "scheduler": "tcp://h:1"}, backend="local")["scheduler"] is None
    assert _parallel.resolve(None, scheduler="tcp://127.0.0.1:8786") == {
        "jobs": 2, "backend": "dask", "scheduler": "tcp://127.0.0.1:8786"}
    # the whole study.yaml works too, and the committed one asks for two local workers
    from analysis.study.settings import load_settings

    assert _parallel.resolve(load_settings()) == {"jobs": 2, "backend": "local", "scheduler": None}
    for bad in ({"backend": "ray"}, {"jobs": 0}, {"jobs": "two"}, {"workers": 2}):
        with pytest.raises(InputError):
            _parallel.resolve(bad)
    with pytest.raises(InputError, match="--scheduler needs --backend dask"):
        _parallel.resolve(None, backend="local", scheduler="tcp://127.0.0.1:8786")


def test_parallel_settings_rerun_no_step(monkeypatch, tmp_path):
    """`parallel:` is in no step's config_changed; the command line reaches the steps over study.yaml."""
    from analysis import paths, pipeline
    from analysis.study.settings import load_settings

    settings = load_settings()
    other = {**settings, "parallel": {"jobs": 7, "backend": "dask", "scheduler": "tcp://10.0.0.1:8786"}}

    def configs(s):
        defs = pipeline.task_definitions(paths.DEFAULT, s)
        return {name: [u.config for u in d.get("uptodate", []) if hasattr(u, "config")] for name, d in defs.items()}

    assert configs(settings) == configs(other)
    assert not any("parallel" in c for cs in configs(settings).values() for c in cs)

    seen = []

    def probe():
        s = _parallel.active()
        seen.append((s.jobs, s.backend, s.scheduler))

    def task_probe():
        return {"actions": [(probe, [])], "uptodate": [False], "verbosity": 0}

    def fake_namespace(layout, settings, skip=()):
        return {"DOIT_CONFIG": {"dep_file": str(tmp_path / ".doit.db"), "backend": "json", "verbosity": 0,
                                "default_tasks": ["probe"]},
                "task_probe": task_probe}

    monkeypatch.setattr(pipeline, "_loader_namespace", fake_namespace)
    file = {**settings, "parallel": {"jobs": 3, "backend": "local", "scheduler": None}}
    assert pipeline.run(layout=paths.Layout(root=tmp_path), settings=file, verbose=False) == 0
    assert pipeline.run(layout=paths.Layout(root=tmp_path), settings=file, verbose=False,
                        parallel={"jobs": 1, "backend": None, "scheduler": None}) == 0
    assert seen == [(3, "local", None), (1, "local", None)]


def test_reproduce_and_fit_take_the_parallel_options():
    from analysis.cli import build_parser

    p = build_parser()
    a = p.parse_args(["reproduce", "power", "--jobs", "4", "--backend", "dask", "--scheduler", "tcp://h:8786"])
    assert (a.jobs, a.backend, a.scheduler) == (4, "dask", "tcp://h:8786")
    a = p.parse_args(["fit", "m.lav", "d.csv", "--bootstrap", "10", "--seed", "1", "--jobs", "2",
                      "--backend", "local", "--json", "out.json"])
    assert (a.jobs, a.backend, a.scheduler, a.bootstrap, a.seed) == (2, "local", None, 10, 1)


# --- a LocalCluster with two worker processes ------------------------------------------------------
def test_bootstrap_and_power_identical_on_a_local_cluster(fit, local_cluster, power_context):
    local_rows, local_clus = _boot(fit, n_jobs=1)
    local_power = _power(power_context, n_jobs=1)
    with _parallel.session(backend="dask", scheduler=local_cluster.scheduler_address) as s:
        assert s.workers() == 2
        dask_rows, dask_clus = _boot(fit)
        dask_power = _power(power_context)
    _assert_same_boot(local_rows, dask_rows)
    _assert_same_boot(local_clus, dask_clus)
    pd.testing.assert_frame_equal(local_power, dask_power, check_exact=True)
    # and two local workers with another chunking
    two_rows, _ = _boot(fit, n_jobs=2, chunk_size=7)
    _assert_same_boot(local_rows, two_rows)


@pytest.mark.parametrize("backend", ["local", "dask"])
def test_progress_bar_on_both_backends(backend, local_cluster, capsys):
    where = {"scheduler": local_cluster.scheduler_address} if backend == "dask" else {"jobs": 2}
    with _parallel.session(**where):
        out = _parallel.chunked_map(_slow_square, 1, [[i] for i in range(12)], progress=True, desc="draws",
                                    unit="draw")
    assert out == [[1 + i * i] for i in range(12)]
    err = capsys.readouterr().err
    # the bar starts at 0/12 and moves as chunks finish (tqdm redraws at most every 0.1 s)
    assert "draws:" in err and "0/12" in err
    assert re.search(r"draws:\s+\d+%\|[^|]*\| (?:[1-9]|1[0-2])/12", err), err


def test_dead_worker_is_retried_and_the_result_is_unchanged(tmp_path):
    marker = tmp_path / "died-once"

    def die_once(offset, chunk):  # nested: pickled by value to the workers
        import os as _os
        import time as _time

        if chunk[0] == 3 and not _os.path.exists(marker):
            open(marker, "w").close()
            _os._exit(1)  # the worker process dies in the middle of the map
        _time.sleep(0.02)
        return [offset + x * x for x in chunk]

    chunks = [[i, i + 10] for i in range(8)]
    marker.touch()  # this process must not die
    local = _parallel.chunked_map(die_once, 2, chunks, n_jobs=1, backend="local")
    marker.unlink()
    with _parallel.session(jobs=2, backend="dask") as s:  # its own LocalCluster, closed on exit
        out = _parallel.chunked_map(die_once, 2, chunks)
        assert s._cluster is not None
    assert marker.exists() and out == local
    assert s._cluster is None and s._client is None


# --- the command: local, its own LocalCluster, and a scheduler with two workers started apart --------------
def _fit(tmp_path, name, *extra, env=None):
    model = tmp_path / "pd.lav"
    model.write_text(MODEL, encoding="utf-8")
    out = tmp_path / f"{name}.json"
    proc = subprocess.run([sys.executable, "-m", "analysis.cli", "fit", str(model), str(DATA), "--bootstrap", "60",
                           "--seed", "5", "--ci-type", "bca", "--json", str(out), "--quiet", *extra],
                          capture_output=True, text=True, env=env, timeout=300)
    return proc, out


def _defined(path):
    payload = json.loads(path.read_text(encoding="utf-8"))
    rows = [r for r in payload["estimates"] if r["op"] == ":="]
    return {r["lhs"]: (r["est"], r["ci_lower"], r["ci_upper"], r["boot_ci_lower_bca"], r["boot_ci_upper_bca"],
                       r["se"]) for r in rows}, payload


def test_fit_gives_the_same_estimates_and_intervals_three_ways(tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = open(tmp_path / "dask.log", "w")
    scheduler = subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port",
                                  str(port), "--no-dashboard", "--dashboard-address", "127.0.0.1:0"],
                                 stdout=logs, stderr=subprocess.STDOUT)
    worker = None
    try:
        worker = subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--host", "127.0.0.1",
                                   "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
                                  stdout=logs, stderr=subprocess.STDOUT)
        one, one_out = _fit(tmp_path, "local1", "--jobs", "1")
        own, own_out = _fit(tmp_path, "dask_own", "--jobs", "2", "--backend", "dask")
        from distributed import Client

        with Client(address, timeout=60) as c:  # the workers started apart are up
            c.wait_for_workers(2, timeout=60)
        far, far_out = _fit(tmp_path, "dask_scheduler", "--backend", "dask", "--scheduler", address)
    finally:
        if worker is not None:
            _stop(worker)
        _stop(scheduler)
        logs.close()
    for proc in (one, own, far):
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
    ref, ref_payload = _defined(one_out)
    assert set(ref) == {"ind", "total"} and ref_payload["bootstrap"]["n_boot"] == 60
    for path in (own_out, far_out):
        got, payload = _defined(path)
        assert got == ref
        assert payload["estimates"] == ref_payload["estimates"]
        assert payload["bootstrap"] == ref_payload["bootstrap"]


def test_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, capsys):
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}
    proc, _ = _fit(tmp_path, "none", "--backend", "dask", "--scheduler", address, env=env)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0] and address in lines[0]
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert main(["reproduce", "power", "--scheduler", address]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach the Dask scheduler" in err[0]
    model = tmp_path / "pd.lav"
    assert main(["fit", str(model), str(DATA), "--bootstrap", "5", "--backend", "local", "--scheduler", address]) == 2
    assert "--scheduler needs --backend dask" in capsys.readouterr().err
