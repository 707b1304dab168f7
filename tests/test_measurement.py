"""The measurement step on data simulated from the population model (seeded)."""
import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.io import round_number
from analysis.psychometrics import cronbach_alpha
from analysis.results import SYNTHETIC_NOTE_EN
from analysis.study.instrument import load_instrument
from analysis.study.measurement import first_order_syntax, measurement_invariance, run_measurement
from analysis.study.simulate import simulate_responses

FAST = {"measurement": {"invariance_groups": ["gender"], "invariance_min_group_n": 50,
                        "parallel_iter": 3, "seed": 1}}


@pytest.fixture(scope="module")
def small_instrument():
    """Four constructs (PL, GRID, INT, EXT) and the second-order RES = INT + EXT."""
    ins = load_instrument()
    return dataclasses.replace(ins, constructs=ins.constructs[:4],
                               second_order=[s for s in ins.second_order if s.code == "RES"])


def _processed(folder, n=400, seed=11, synthetic=True):
    folder.mkdir(parents=True, exist_ok=True)
    data = simulate_responses(n, 20, seed=seed)
    data.to_parquet(folder / "analysis.parquet", index=False)
    (folder / "ingest_report.json").write_text(json.dumps({"synthetic": synthetic}))
    return folder / "analysis.parquet", data


@pytest.fixture(scope="module")
def run(tmp_path_factory, small_instrument):
    root = tmp_path_factory.mktemp("m1")
    path, data = _processed(root / "processed")
    files = run_measurement(path, out_dir=root / "measurement", instrument=small_instrument,
                            config=FAST, figures_dir=root / "figures")
    return root, files, data


def test_writes_every_table_with_synthetic_flag(run):
    root, files, _ = run
    names = {f.name for f in files}
    for name in ("descriptives.csv", "kmo.csv", "bartlett.csv", "efa_loadings.csv", "parallel_analysis.csv",
                 "reliability.csv", "fornell_larcker.csv", "htmt.csv", "fit.csv", "loadings.csv",
                 "modindices.csv", "cmb_harman.csv", "cmb_clf_fit.csv", "cmb_clf_loadings.csv",
                 "invariance.csv", "icc.csv", "headline.json", "measurement_item_distributions.png"):
        assert name in names
    for f in files:
        if f.suffix == ".csv":
            assert pd.read_csv(f)["synthetic"].all(), f.name
    head = json.loads((root / "measurement" / "headline.json").read_text())
    assert head["synthetic"] is True and head["note_en"] == SYNTHETIC_NOTE_EN


def test_degrees_of_freedom_are_the_models(run, small_instrument):
    root, _, _ = run
    fit = pd.read_csv(root / "measurement" / "fit.csv").set_index("model")
    sizes = [len(c.items) for c in small_instrument.constructs]
    assert sizes == [4, 6, 5, 4]  # PL, GRID (two items split in two), INT (one split), EXT
    p = sum(sizes)  # 19 items: 190 moments
    # first order: one loading per factor fixed to 1, a residual per item, 4 variances, 6 covariances
    free = (p - 4) + p + 4 + 6
    assert fit.loc["first_order", "df"] == p * (p + 1) // 2 - free == 146
    # second order RES =~ INT + EXT: cov(INT,EXT), cov(INT|EXT, PL|GRID) (5 parameters) become
    # var(RES), one second-order loading, cov(RES, PL), cov(RES, GRID): one df more
    assert fit.loc["second_order", "df"] == 147
    assert fit["converged"].all()


def test_tables_agree_with_the_data(run, small_instrument):
    root, _, data = run
    rel = pd.read_csv(root / "measurement" / "reliability.csv").set_index("scale")
    for con in small_instrument.constructs:
        c = con.code
        a = cronbach_alpha(data, [i.code for i in con.items])
        assert rel.loc[c, "alpha"] == round_number(a["alpha"])  # as written, at analysis.io.PRECISION
        assert 0 < rel.loc[c, "ave"] < rel.loc[c, "cr"] < 1
    assert rel.loc["RES", "level"] == "second_order" and rel.loc["RES", "n_items"] == 9
    assert 0 < rel.loc["RES", "omega"] < 1
    head = json.loads((root / "measurement" / "headline.json").read_text())
    assert head["n"] == len(data) == head["n_cfa"]
    assert head["n_items"] == 19 and head["n_clusters"] == 20
    inv = pd.read_csv(root / "measurement" / "invariance.csv")
    assert list(inv["model"]) == ["configural", "metric", "scalar"]
    # metric adds 15 equal loadings, scalar 19 equal intercepts (minus 4 freed latent means)
    assert list(inv["delta_df"].iloc[1:]) == [15, 15]
    htmt = pd.read_csv(root / "measurement" / "htmt.csv").set_index("factor").drop(columns="synthetic")
    assert np.allclose(np.diag(htmt), 1.0)


def test_two_runs_are_byte_identical(run, tmp_path, small_instrument):
    root, files, _ = run
    path, _ = _processed(tmp_path / "processed")
    again = run_measurement(path, out_dir=tmp_path / "measurement", instrument=small_instrument,
                            config=FAST, figures_dir=tmp_path / "figures")
    assert [f.name for f in again] == [f.name for f in files]
    for a, b in zip(files, again):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_bad_inputs_are_input_errors(tmp_path, small_instrument):
    path, data = _processed(tmp_path / "p", n=200)
    (tmp_path / "p" / "ingest_report.json").unlink()
    with pytest.raises(InputError, match="synthetic"):
        run_measurement(path, out_dir=tmp_path / "o", instrument=small_instrument, config=FAST)
    data.loc[5, "PL2"] = 7
    data.to_parquet(path, index=False)
    with pytest.raises(InputError, match="outside the answer scale") as err:
        run_measurement(path, out_dir=tmp_path / "o", instrument=small_instrument, config=FAST, synthetic=True)
    assert err.value.row == 7 and err.value.column == "PL2"


def test_synthetic_flag_from_the_ingest_report(tmp_path):
    """One rule (analysis.results.data_are_synthetic); the measurement step refuses to guess."""
    from analysis.results import data_are_synthetic

    report = tmp_path / "ingest_report.json"
    assert data_are_synthetic(tmp_path) is True and data_are_synthetic(tmp_path, unknown=False) is False
    with pytest.raises(InputError, match="no ingest report"):
        data_are_synthetic(tmp_path, unknown="error")
    assert data_are_synthetic(tmp_path, False, unknown="error") is False  # given wins
    report.write_text(json.dumps({"synthetic": False, "raw_file": "wjx_synthetic.csv"}))
    assert data_are_synthetic(tmp_path, unknown="error") is False
    report.write_text(json.dumps({"raw_file": "wjx_synthetic.csv"}))
    assert data_are_synthetic(tmp_path, unknown="error") is True
    report.write_text(json.dumps({"raw_file": "fieldwork_2025.csv"}))
    assert data_are_synthetic(tmp_path) is True and data_are_synthetic(tmp_path, unknown=False) is False
    with pytest.raises(InputError, match="synthetic"):
        data_are_synthetic(tmp_path, unknown="error")
    data = simulate_responses(60, 3, seed=2)
    data.to_parquet(tmp_path / "analysis.parquet", index=False)
    with pytest.raises(InputError, match="synthetic"):
        run_measurement(tmp_path / "analysis.parquet", out_dir=tmp_path / "o", config=FAST)


def test_invariance_matches_lavaan_on_holzinger_swineford():
    # lavaan 0.6.14 reference recorded by tests/reference/lavaan_reference.R
    from pathlib import Path

    ref = Path(__file__).parent / "reference"
    hs = pd.read_csv(ref / "data" / "HolzingerSwineford1939.csv")
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
    got = measurement_invariance(model, hs, "school").set_index("model")
    lrt = pd.read_csv(ref / "lavaan" / "hs_invariance_lrt.csv").set_index("model")
    for mine, theirs in (("configural", "config"), ("metric", "metric"), ("scalar", "scalar")):
        assert got.loc[mine, "chisq"] == pytest.approx(lrt.loc[theirs, "Chisq"], rel=1e-4)
        assert got.loc[mine, "df"] == lrt.loc[theirs, "Df"]
    for mine, before in (("metric", "config"), ("scalar", "metric")):
        assert got.loc[mine, "delta_pvalue"] == pytest.approx(lrt.loc[mine, "Pr(>Chisq)"], rel=1e-3)
        fit = pd.read_csv(ref / "lavaan" / f"hs_{mine}_fit.csv").set_index("measure")["value"]
        prev = pd.read_csv(ref / "lavaan" / f"hs_{before}_fit.csv").set_index("measure")["value"]
        assert got.loc[mine, "delta_cfi"] == pytest.approx(fit["cfi"] - prev["cfi"], abs=1e-5)


def test_invariance_is_skipped_with_a_reason_when_groups_are_small():
    from pathlib import Path

    hs = pd.read_csv(Path(__file__).parent / "reference" / "data" / "HolzingerSwineford1939.csv")
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
    got = measurement_invariance(model, hs, "school", min_group_n=200)
    assert list(got["model"]) == ["configural", "metric", "scalar"]
    assert got["chisq"].isna().all()
    assert got["status"].str.startswith("skipped").all()


def test_first_order_syntax_has_every_item_once():
    ins = load_instrument()
    syntax = first_order_syntax(ins)
    listed = [t.strip() for line in syntax.splitlines() for t in line.split("=~")[1].split("+")]
    assert listed == ins.item_codes()


@pytest.mark.slow
def test_full_instrument_run(tmp_path):
    path, _ = _processed(tmp_path / "processed", n=1200, seed=20240534)
    files = run_measurement(path, out_dir=tmp_path / "measurement", figures_dir=tmp_path / "figures",
                            config={"measurement": {"invariance_groups": ["community_type"], "parallel_iter": 5}})
    head = json.loads((tmp_path / "measurement" / "headline.json").read_text())
    fit = pd.read_csv(tmp_path / "measurement" / "fit.csv").set_index("model")
    # p items: p(p+1)/2 moments; (p - 12) loadings + p residuals + 12 variances + 66 covariances
    p = len(load_instrument().items)                      # 53: 1431 moments, 172 parameters
    assert fit.loc["first_order", "df"] == p * (p + 1) // 2 - ((p - 12) + p + 12 + 66)
    assert head["first_order_cfi"] > 0.95 and head["cfa_converged"]
    assert len(files) == 19


def test_two_stage_invariance_names_the_groups_dropped_before_em(tmp_path, small_instrument):
    path, data = _processed(tmp_path / "processed")
    cfg = {"measurement": {"missing": "two-stage", "invariance_groups": ["role"], "invariance_min_group_n": 50,
                           "parallel_iter": 3, "seed": 1}}
    run_measurement(path, out_dir=tmp_path / "measurement", instrument=small_instrument, config=cfg,
                    figures_dir=tmp_path / "figures")
    inv = pd.read_csv(tmp_path / "measurement" / "invariance.csv", dtype={"groups": str, "groups_dropped": str})
    sizes = data["role"].value_counts()
    small = sorted(str(int(k)) for k, n in sizes.items() if n < 50)
    kept = sorted(str(int(k)) for k, n in sizes.items() if n >= 50)
    assert small and len(kept) >= 2
    assert (inv["groups_dropped"] == ";".join(small)).all()
    assert (inv["groups"] == ";".join(kept)).all()
    assert (inv["nobs"] == sizes[sizes >= 50].sum()).all()
