"""The reported structural model is one ``resilience fit`` command away (issue 14, point 2).

``run_structural`` writes the model syntax (``model.lav``), the model data
(``structural.parquet``: the analysis data plus the control columns) and the
command (``command.txt``).  Truth: running that command, as a reviewer would,
from the folder that holds the two files must give the estimates, bootstrap
standard errors, every bootstrap interval and the draw counts that the step
wrote to ``estimates.csv`` and ``bootstrap.csv``.

Tolerance: none beyond the stated precision. ``estimates.csv`` and the
command's JSON are written by the one writer (``analysis.io``: PRECISION
significant digits, at least MIN_DECIMALS decimals), so the command's numbers,
rounded as the writer rounds them (``round_number``), must give exactly the
file's digits: the same computation gives the same bits, hence the same text.
"""
from __future__ import annotations

import json
import shlex

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.io import round_number
from analysis.sem.bootstrap import INTERVAL_COLUMNS
from analysis.study import structural as S
from analysis.study.instrument import load_instrument

CFG = {"structural": {"bootstrap": 40, "bootstrap_unit": "community", "bootstrap_interval": "symmetric-t",
                      "comparison_bootstrap": 8, "montecarlo": 400, "seed": 5}}
#: Numeric columns of estimates.csv that the command must reproduce.
COLUMNS = ["est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all", "se_sandwich",
           *[c for pair in INTERVAL_COLUMNS.values() for c in pair]]


@pytest.fixture(scope="module")
def instrument():
    return load_instrument()


@pytest.fixture(scope="module")
def study(tmp_path_factory, instrument):
    """A small simulated sample with 3% of the answers missing, through the structural step."""
    from analysis.study.simulate import simulate_responses

    root = tmp_path_factory.mktemp("repo")
    d = simulate_responses(400, 20, seed=20261202, instrument=instrument)
    items = instrument.item_codes()
    x = d[items].to_numpy(float, copy=True)
    x[np.random.default_rng(2).random(x.shape) < 0.03] = np.nan
    d[items] = x
    processed = root / "data" / "processed"
    processed.mkdir(parents=True)
    d.to_parquet(processed / "analysis.parquet", index=False)
    out = root / "results" / "structural"
    S.run_structural(processed / "analysis.parquet", out_dir=out, instrument=instrument, config=CFG,
                     figures_dir=root / "results" / "figures", n_jobs=1)
    return root, out


def test_the_step_writes_model_data_and_command(study, instrument):
    root, out = study
    argv = shlex.split((out / "command.txt").read_text(encoding="utf-8"))
    assert argv[:4] == ["resilience", "fit", "results/structural/model.lav", "data/processed/structural.parquet"]
    rest = [a for a in argv[4:] if a != "--exclude-improper"]
    flags = dict(zip(rest[::2], rest[1::2]))
    assert flags == {"--missing": "two.stage", "--se": "standard", "--cluster": "community", "--bootstrap": "40",
                     "--ci-type": "symmetric-t", "--seed": "5", "--json": "structural_fit.json"}
    assert "--exclude-improper" in argv  # the study leaves improper draws out, as bootstrap.csv records
    model = pd.read_parquet(root / "data" / "processed" / "structural.parquet")
    analysis = pd.read_parquet(root / "data" / "processed" / "analysis.parquet")
    data, controls = S.control_columns(analysis)
    pd.testing.assert_frame_equal(model, data.reset_index(drop=True))
    assert {"role_2", "ctype_2", "years10"} <= set(controls)
    assert (out / "model.lav").read_text(encoding="utf-8") == S.structural_syntax(instrument, controls=controls)


def test_the_command_reproduces_estimates_and_bootstrap(study, monkeypatch):
    root, out = study
    argv = shlex.split((out / "command.txt").read_text(encoding="utf-8"))
    head = json.loads((out / "headline.json").read_text(encoding="utf-8"))
    monkeypatch.chdir(root)
    code = main(argv[1:] + ["--quiet", "--no-progress"])  # one BLAS thread, as the step (analysis/cli.py)
    assert code == (0 if not head["issues"] and head["converged"] else 3)
    payload = json.loads((root / "structural_fit.json").read_text(encoding="utf-8"))
    assert payload["options"]["missing"] == "two.stage" and payload["options"]["cluster"] == "community"

    ours = pd.DataFrame(payload["estimates"])
    ref = pd.read_csv(out / "estimates.csv")
    assert len(ours) == len(ref)
    for key in ("lhs", "op", "rhs"):
        assert ours[key].tolist() == ref[key].astype(str).tolist()
    for col in COLUMNS:
        if col not in ref.columns:  # bca: not computed for this interval type, by either
            assert col not in ours.columns
            continue
        a = ours[col].astype(float).to_numpy()
        b = ref[col].to_numpy(float)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=col)
        ok = ~np.isnan(a)
        stored = np.array([round_number(v) for v in a[ok]])  # as the writer stores them
        np.testing.assert_array_equal(stored, b[ok], err_msg=col)
    # the reported interval is the configured one, in the command's output too
    lo, hi = INTERVAL_COLUMNS[CFG["structural"]["bootstrap_interval"]]
    np.testing.assert_array_equal(ours["ci_lower"].astype(float), ours[lo].astype(float))
    np.testing.assert_array_equal(ours["ci_upper"].astype(float), ours[hi].astype(float))

    counts = pd.read_csv(out / "bootstrap.csv").iloc[0]
    boot = payload["bootstrap"]
    for key in ("n_boot", "n_boot_ok", "n_boot_failed", "n_boot_improper", "n_boot_no_se", "seed"):
        assert boot[key] == counts[key], key
        if key != "seed":
            assert payload["fit"][key] == counts[key], key
    assert (boot["method"], boot["interval"], bool(boot["exclude_improper"])) == (
        counts["method"], counts["interval"], bool(counts["exclude_improper"]))
    assert boot["unit"] == "cluster" and counts["unit"] == "community"
    fit = pd.read_csv(out / "fit.csv").iloc[0]
    for key in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "nobs"):
        assert round_number(payload["fit"][key]) == fit[key], key
