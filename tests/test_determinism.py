"""The ``resilience`` command pins BLAS threads, the BLAS kernel and numpy's SIMD loops before numpy loads.

Truth: a fresh interpreter that imports the command's module first and numpy
second must report, through threadpoolctl and numpy's own feature table, the
settings :func:`analysis._determinism.pinned_environment` chooses for this
machine; a variable the user set is left as it is.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from analysis._determinism import NUMPY_DISABLED, OPENBLAS_CORETYPE, THREAD_VARIABLES, pinned_environment

_PROBE = """
import json, analysis.cli, numpy
from numpy._core._multiarray_umath import __cpu_features__ as features
from threadpoolctl import threadpool_info
blas = [i for i in threadpool_info() if i["internal_api"] == "openblas"][0]
print(json.dumps({"threads": blas["num_threads"], "arch": blas["architecture"],
                  "x86_v4": features.get("X86_V4"), "env": {k: __import__("os").environ.get(k) for k in
                  ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE",
                   "NPY_DISABLE_CPU_FEATURES")}}))
"""
_PINS = (*THREAD_VARIABLES, "OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES")


def _probe(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _PINS}
    env.update(extra)
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_command_pins_blas_before_numpy_loads():
    want = pinned_environment()
    got = _probe()
    assert {k: v for k, v in got["env"].items() if v is not None} == want
    assert got["threads"] == 1
    if "OPENBLAS_CORETYPE" in want:  # an x86-64 machine with AVX2 and FMA
        assert got["arch"] == OPENBLAS_CORETYPE
        assert got["x86_v4"] is False  # numpy's AVX-512 loops are off
        assert want["NPY_DISABLE_CPU_FEATURES"] == NUMPY_DISABLED


def test_a_setting_of_the_user_wins():
    got = _probe(OMP_NUM_THREADS="2", OPENBLAS_CORETYPE="")
    assert got["env"]["OMP_NUM_THREADS"] == "2" and got["env"]["OPENBLAS_CORETYPE"] == ""
    assert got["env"]["OPENBLAS_NUM_THREADS"] == "1"


# ------------------------------------------------------------------------------------------------
# the noise between machines, simulated on this one, never reaches the written bytes
# ------------------------------------------------------------------------------------------------
_FIT = """
import json, sys
from pathlib import Path
import numpy as np
from analysis.io import write_csv
from analysis.sem import sem
from analysis.study.instrument import load_instrument
from analysis.study.robustness import _observed
from analysis.study.simulate import simulate_responses

ins = load_instrument()
model = ins.model_syntax("structural")
data = simulate_responses(500, 25, seed=20260515, instrument=ins)  # synthetic
items = [c for c in ins.item_codes() if c in set(_observed(model))]
est = sem(model, data[items], estimator="WLSMV", ordered=items).estimates
out = Path(sys.argv[1])
write_csv(out.with_suffix(".csv"), est)
cols = ["est", "se", "pvalue"]
out.with_suffix(".json").write_text(json.dumps([repr(float(v)) for v in est[cols].to_numpy().ravel()]))
"""

#: OpenBLAS kernels every x86-64 machine with AVX can run, and numpy with or without its AVX-512 loops.
_MACHINES = {
    "haswell": {"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": NUMPY_DISABLED},
    "sandybridge": {"OPENBLAS_CORETYPE": "Sandybridge", "NPY_DISABLE_CPU_FEATURES": NUMPY_DISABLED},
    "prescott": {"OPENBLAS_CORETYPE": "Prescott", "NPY_DISABLE_CPU_FEATURES": ""},
    "two_threads": {"OPENBLAS_CORETYPE": "Sandybridge", "NPY_DISABLE_CPU_FEATURES": "",
                    "OPENBLAS_NUM_THREADS": "2"},
}


@pytest.mark.slow
@pytest.mark.skipif("OPENBLAS_CORETYPE" not in pinned_environment(), reason="needs an x86-64 processor with AVX2")
def test_blas_kernel_noise_stays_below_the_written_precision(tmp_path):
    """A WLSMV fit under four BLAS/numpy set-ups (as on four machines): the numbers differ, the file does not."""
    csv, values = {}, {}
    for name, extra in _MACHINES.items():
        env = {k: v for k, v in os.environ.items() if k not in _PINS}
        env.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **extra})
        subprocess.run([sys.executable, "-c", _FIT, str(tmp_path / name)], env=env, check=True, capture_output=True)
        csv[name] = (tmp_path / f"{name}.csv").read_bytes()
        values[name] = json.loads((tmp_path / f"{name}.json").read_text())
    differing = {name: sum(a != b for a, b in zip(values["haswell"], v)) for name, v in values.items()}
    assert all(differing[name] > 0 for name in _MACHINES if name != "haswell"), differing  # the noise exists
    assert len(set(csv.values())) == 1  # and is not written
