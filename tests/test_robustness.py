"""Tests of the robustness step (analysis.study.robustness).

All on small samples simulated from the study's population model (known
positive effects, communities with positive ICCs) and a reduced model of
four first-order factors, so that every FIML fit takes well under a second.
The truths asserted are:

* the listwise N is the number of complete rows, the FIML N all rows;
* MLR has the ML point estimates;
* cluster-robust SEs with one cluster per original row of a data set whose
  rows are all duplicated equal sqrt(G/(G-1)) times the MLR SEs of the
  original data (analytic: the scores of a cluster are k times a row's);
* cluster-robust SEs of the item means exceed the naive ones under the
  population model's positive ICCs;
* WLSMV and ML agree in sign and roughly in size on data simulated with
  positive effects;
* the missing-data description counts patterns and complete rows exactly;
* failures and improper solutions appear in the status column;
* two runs write byte-identical files.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis.io import number_unit, round_number  # noqa: E402
from analysis.study import robustness as rb  # noqa: E402
from analysis.study.instrument import load_instrument  # noqa: E402
from analysis.study.simulate import simulate_responses  # noqa: E402
from analysis.study.structural import control_columns  # noqa: E402

SMALL = """
PL =~ PL1 + PL2 + PL3 + PL4
GRID =~ GRID1 + GRID2 + GRID3 + GRID4
INT =~ INT1 + INT2 + INT3 + INT4
CRS =~ CRS1 + CRS2 + CRS3 + CRS4
GRID ~ a1*PL
INT ~ a2*PL
CRS ~ b1*GRID + b2*INT + c*PL{controls}
GRID ~~ INT
ind_GRID := a1*b1
ind_RES := a2*b2
total_indirect := a1*b1 + a2*b2
total := c + a1*b1 + a2*b2
"""
SMALL_ITEMS = [f"{c}{i}" for c in ("PL", "GRID", "INT", "CRS") for i in range(1, 5)]
SEED = 7301
#: Items given MCAR nonresponse in the tests (few patterns keep FIML fast).
HOLES = ["PL2", "GRID3", "INT1", "INT4", "CRS2", "CRS3"]


def _models(controls=()):
    ctl = "".join(f" + {c}" for c in controls)
    return {"controls": SMALL.format(controls=ctl), "nocontrols": SMALL.format(controls="")}


def _with_missing(df, items, rate, seed):
    rng = np.random.default_rng(seed)
    out = df.copy()
    mask = rng.random((len(df), len(items))) < rate
    vals = out[items].to_numpy(float, copy=True)
    vals[mask] = np.nan
    out[items] = vals
    return out


@pytest.fixture(scope="module")
def instrument():
    return load_instrument()


@pytest.fixture(scope="module")
def sample(instrument):
    """300 respondents in 20 communities, 8% MCAR nonresponse on six items."""
    df = simulate_responses(n=300, communities=20, seed=SEED, instrument=instrument)
    return _with_missing(df, HOLES, 0.08, SEED + 1)


@pytest.fixture(scope="module")
def run(tmp_path_factory, sample, instrument):
    out = tmp_path_factory.mktemp("rob")
    controls = ["years10"]  # one control keeps the test fast; the study uses nine
    files = rb.run_robustness(sample, out, instrument=instrument, synthetic=True,
                              models=_models(controls))
    return out, files, controls


def test_files_written(run):
    out, files, _ = run
    names = sorted(p.name for p in files)
    assert names == ["estimators.csv", "estimators_fit.csv", "headline.json", "missing.csv",
                     "missing_strategies.csv"]
    for p in files:
        assert p.parent == out and p.exists()


def test_listwise_n_is_complete_rows_and_fiml_n_all_rows(run, sample):
    out, _, _ = run
    complete = int(sample[SMALL_ITEMS].notna().all(axis=1).sum())
    assert 0 < complete < len(sample)
    head = json.loads((out / "headline.json").read_text())
    assert head["n_listwise"] == complete
    assert head["n_complete"] == complete
    assert head["n_fiml"] == len(sample)
    assert head["share_complete"] == round_number(complete / len(sample))  # as written, at analysis.io.PRECISION
    est = pd.read_csv(out / "estimators.csv")
    assert (est.loc[est.specification == "ml_listwise", "nobs"] == complete).all()
    assert (est.loc[est.specification == "ml_fiml", "nobs"] == len(sample)).all()


def test_mlr_has_ml_point_estimates_and_other_ses(run):
    out, _, _ = run
    est = pd.read_csv(out / "estimators.csv")
    ml = est[est.specification == "ml_fiml"].set_index("label")
    mlr = est[est.specification == "mlr_fiml"].set_index("label")
    np.testing.assert_allclose(mlr["est"], ml.loc[mlr.index, "est"], rtol=1e-4, atol=1e-6)
    assert (mlr["delta_est"].abs() < 1e-4).all()
    assert not np.allclose(mlr["se"], ml.loc[mlr.index, "se"], rtol=1e-3)


def test_key_parameters_and_status_columns(run):
    out, _, _ = run
    est = pd.read_csv(out / "estimators.csv")
    spec_names = [s.name for s in rb.SPECIFICATIONS]
    assert list(dict.fromkeys(est["specification"])) == spec_names
    main = est[est.specification == "ml_fiml"]
    assert set(main["label"]) >= {"a1", "a2", "b1", "b2", "c", "ind_GRID", "ind_RES", "total_indirect",
                                  "total"}
    assert set(est["status"]) <= {"ok", "not converged", "improper solution"} | {
        s for s in est["status"] if s.startswith("failed")}
    fits = pd.read_csv(out / "estimators_fit.csv")
    assert list(fits["specification"]) == spec_names
    assert fits["converged"].all()
    # scaled statistics where they apply, NaN where they do not
    f = fits.set_index("specification")
    assert np.isfinite(f.loc["mlr_fiml", "chisq_scaled"]) and np.isnan(f.loc["ml_fiml", "chisq_scaled"])
    assert np.isfinite(f.loc["wlsmv_pairwise", "chisq_scaled"]) and np.isnan(f.loc["wlsmv_pairwise", "aic"])
    # the synthetic label on every table
    for name in ("estimators", "estimators_fit", "missing", "missing_strategies"):
        t = pd.read_csv(out / f"{name}.csv")
        assert t["synthetic"].all() and (t["data_note"] == rb.SYNTHETIC_NOTE_EN).all()


def test_wlsmv_and_ml_agree_in_sign_and_size(run):
    out, _, _ = run
    est = pd.read_csv(out / "estimators.csv")
    key = ["a1", "a2", "b1", "b2", "ind_GRID", "ind_RES", "total"]
    w = est[est.specification == "wlsmv_pairwise"].set_index("label").loc[key]
    m = est[est.specification == "ml_fiml_nocontrols"].set_index("label").loc[key]
    # the population model's effects are positive; the a paths and the total effect sizable
    assert (m["std_all"] > 0).all() and (m["pvalue"].loc[["a1", "a2", "total"]] < 0.001).all()
    assert (m["std_all"].loc[["a1", "a2", "total"]] > 0.3).all()
    assert (np.sign(w["std_all"]) == np.sign(m["std_all"])).all()
    # polychoric std_all are larger (no attenuation by coarse categories) but of the same order
    np.testing.assert_allclose(w["std_all"], m["std_all"], atol=0.15)
    assert (w["reference"] == "ml_fiml_nocontrols").all()
    # three numbers written at analysis.io.PRECISION: half a unit of each apart at most
    units = [number_unit(v) / 2 for v in (*w["delta_std_all"], *w["std_all"], *m["std_all"])]
    np.testing.assert_allclose(w["delta_std_all"], w["std_all"].to_numpy() - m["std_all"].to_numpy(),
                               atol=3 * max(units), rtol=0)


def test_missing_description_counts(run, sample):
    out, _, _ = run
    miss = pd.read_csv(out / "missing.csv")
    m = miss[miss["scope"] == "data"].set_index("statistic")["value"]
    na = sample[SMALL_ITEMS].isna()
    assert m["n_rows"] == len(sample)
    assert m["n_patterns"] == len({tuple(r) for r in na.to_numpy()})
    assert m["max_items_missing"] == na.sum(axis=1).max()
    per = miss[miss.statistic == "share_missing"].set_index("item")["value"].astype(float)
    np.testing.assert_array_equal(per.loc[SMALL_ITEMS], [round_number(v) for v in na.mean()])  # as written
    strat = pd.read_csv(out / "missing_strategies.csv")
    assert set(strat["specification"]) == {"ml_listwise", "ml_fiml", "ml_two_stage", "wlsmv_pairwise"}
    assert set(strat["lhs"]) == {"ind_GRID", "ind_RES", "total_indirect"}


def test_missing_description_hand_example():
    df = pd.DataFrame({"x": [1, np.nan, 3, np.nan, 5], "y": [1, 2, np.nan, np.nan, 5]})
    t = rb.missing_description(df, ["x", "y"], {"x": "X", "y": "Y"})
    v = t[t["scope"] == "data"].set_index("statistic")["value"]
    assert v["n_complete"] == 2 and v["share_complete"] == pytest.approx(0.4)
    assert v["n_patterns"] == 4  # (o,o) (m,o) (o,m) (m,m)
    assert v["max_items_missing"] == 2
    assert v["mean_share_missing"] == pytest.approx(4 / 10)
    per = t[t.statistic == "share_missing"].set_index("item")
    assert per.loc["x", "value"] == pytest.approx(0.4) and per.loc["x", "construct"] == "X"


def test_cluster_robust_on_duplicated_rows_equals_mlr_of_originals(instrument):
    """Analytic: k copies of each row in one cluster leave E, multiply B by k, N by k."""
    df = simulate_responses(n=150, communities=10, seed=SEED + 5, instrument=instrument)
    df = _with_missing(df, HOLES, 0.05, SEED + 6)
    model = _models()["nocontrols"]
    spec_mlr = next(s for s in rb.SPECIFICATIONS if s.name == "mlr_fiml")
    spec_cl = next(s for s in rb.SPECIFICATIONS if s.name == "mlr_fiml_cluster")
    base = rb.fit_specification(spec_mlr, df, model, SMALL_ITEMS)
    k = 3
    dup = pd.concat([df] * k, ignore_index=True)
    dup["community"] = np.tile(np.arange(len(df)), k).astype(str)
    clus = rb.fit_specification(spec_cl, dup, model, SMALL_ITEMS, start=base.theta)
    g = len(df)
    np.testing.assert_allclose(clus.theta, base.theta, rtol=1e-5, atol=1e-7)
    free = base.partable["free"].to_numpy() > 0
    np.testing.assert_allclose(clus.estimates["se"].to_numpy()[free],
                               base.estimates["se"].to_numpy()[free] * np.sqrt(g / (g - 1)), rtol=1e-4)
    # and without the clusters the duplicated data look sqrt(k) times more precise
    naive = rb.fit_specification(spec_mlr, dup, model, SMALL_ITEMS, start=base.theta)
    np.testing.assert_allclose(naive.estimates["se"].to_numpy()[free],
                               base.estimates["se"].to_numpy()[free] / np.sqrt(k), rtol=1e-4)


def test_warm_start_reaches_the_cold_start_optimum(run, sample):
    """ml_fiml_nocontrols starts at the ML-FIML estimates; a cold fit agrees."""
    from analysis.sem import sem

    out, _, _ = run
    est = pd.read_csv(out / "estimators.csv")
    warm = est[est.specification == "ml_fiml_nocontrols"].set_index("label")
    cold = rb.key_parameters(sem(_models()["nocontrols"], sample, missing="fiml")).set_index("label")
    np.testing.assert_allclose(warm["est"], cold.loc[warm.index, "est"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(warm["se"], cold.loc[warm.index, "se"], rtol=1e-4)


def test_headline_se_ratios(run):
    """The headline's SE ratios are the medians of the table's ratios."""
    out, _, _ = run
    est = pd.read_csv(out / "estimators.csv")
    head = json.loads((out / "headline.json").read_text())
    se = est.pivot(index="label", columns="specification", values="se")
    # ratios of SEs written at six significant digits (analysis.io.PRECISION): within 1e-5 relative
    assert head["se_ratio_cluster"] == pytest.approx(
        float(np.median(se["mlr_fiml_cluster"] / se["mlr_fiml"])), rel=1e-5)
    assert head["se_ratio_mlr"] == pytest.approx(float(np.median(se["mlr_fiml"] / se["ml_fiml"])), rel=1e-5)


def test_cluster_robust_intercepts(sample, instrument):
    model = _models()["nocontrols"]
    spec_mlr = next(s for s in rb.SPECIFICATIONS if s.name == "mlr_fiml")
    spec_cl = next(s for s in rb.SPECIFICATIONS if s.name == "mlr_fiml_cluster")
    mlr = rb.fit_specification(spec_mlr, sample, model, SMALL_ITEMS)
    cl = rb.fit_specification(spec_cl, sample, model, SMALL_ITEMS, start=mlr.theta)
    a, b = mlr.estimates, cl.estimates
    means = (a["op"] == "~1") & a["lhs"].isin(SMALL_ITEMS)
    ratio = b.loc[means, "se"].to_numpy() / a.loc[means, "se"].to_numpy()
    # design effect 1 + (m - 1) ICC with m = 20, ICC ~ 0.1: SE ratio ~ 1.7
    assert np.median(ratio) > 1.2
    assert (ratio > 1).mean() >= 0.9
    np.testing.assert_allclose(b["est"], a["est"], atol=1e-12)


def test_failure_and_improper_solutions_are_reported(instrument):
    df = simulate_responses(n=120, communities=6, seed=SEED + 9, instrument=instrument)
    bad = df.drop(columns=["community"])
    outcomes = rb.fit_specifications(bad, _models(), SMALL_ITEMS,
                                     [s for s in rb.SPECIFICATIONS if s.name in ("ml_fiml", "mlr_fiml_cluster")])
    assert outcomes["ml_fiml"].status == "ok"
    assert outcomes["mlr_fiml_cluster"].status.startswith("failed: ")
    assert "community" in outcomes["mlr_fiml_cluster"].status
    est = rb.estimator_table(outcomes)
    failed = est[est.specification == "mlr_fiml_cluster"]
    assert len(failed) == len(est[est.specification == "ml_fiml"])
    assert failed["est"].isna().all() and (~failed["converged"]).all()
    fits = rb.fit_table(outcomes)
    assert fits.set_index("specification").loc["mlr_fiml_cluster", "status"].startswith("failed")
    # a Heywood case: GRID2 made a near copy of GRID1
    heywood = df.copy()
    heywood["GRID2"] = heywood["GRID1"] + np.random.default_rng(1).normal(0, 0.01, len(df))
    spec = next(s for s in rb.SPECIFICATIONS if s.name == "ml_listwise")
    o = rb.fit_specifications(heywood, _models(), SMALL_ITEMS, [spec])["ml_listwise"]
    assert o.status == "improper solution"
    issues = rb.fit_table({"ml_listwise": o}).loc[0, "issues"]
    assert "Negative variance estimate: GRID1 ~~ GRID1" in issues
    row = rb.estimator_table({"ml_listwise": o})
    assert (row["status"] == "improper solution").all() and row["est"].notna().all()


def test_significance_change_flags(run):
    out, _, _ = run
    est = pd.read_csv(out / "estimators.csv")
    ref = est.set_index(["specification", "label"])["pvalue"]
    for r in est.itertuples(index=False):
        if np.isnan(r.pvalue):
            continue
        p_ref = ref[(r.reference, r.label)]
        assert r.significance_changed == ((r.pvalue < 0.05) != (p_ref < 0.05))
    head = json.loads((out / "headline.json").read_text())
    assert head["any_significance_change"] == bool(est["significance_changed"].any())
    assert len(head["significance_changes"]) == int(est["significance_changed"].sum())
    ind = est[est.lhs.isin(rb.INDIRECT) & (est.specification != est.reference)]
    assert head["max_abs_delta_std_indirect"] == pytest.approx(ind["delta_std_all"].abs().max(), rel=1e-8)


def test_deterministic(sample, instrument, tmp_path):
    """Two runs write byte-identical files (the fast specifications only)."""
    specs = [s for s in rb.SPECIFICATIONS if s.name in ("ml_listwise", "ml_two_stage")]
    first = rb.run_robustness(sample, tmp_path / "a", instrument=instrument, synthetic=True,
                              models=_models(["years10"]), specs=specs)
    again = rb.run_robustness(sample, tmp_path / "b", instrument=instrument, synthetic=True,
                              models=_models(["years10"]), specs=specs)
    assert [p.name for p in first] == [p.name for p in again]
    for a, b in zip(first, again):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_input_errors(instrument, tmp_path):
    from analysis.errors import InputError

    with pytest.raises(InputError):
        rb.run_robustness(tmp_path / "nope.parquet", tmp_path, instrument=instrument)
    with pytest.raises(InputError):
        rb.missing_description(pd.DataFrame({"x": [1.0]}), ["x", "y"])
