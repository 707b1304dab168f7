"""The structural step (``analysis.study.structural``) and parameter recovery.

Truths: dummy coding and the exact-moment construction are checked
analytically (the rows' moments equal the EM estimates to rounding); the
indirect effects equal the products of the labelled paths; the chi-square
difference is the difference of the two fits; recovery uses the declared
population model (``data/population_model.yaml``): over 20 replications at
the study N the mean standardized estimate of each structural path and
indirect effect lies within 0.04 of its declared value (4-5 Monte Carlo
standard errors of a 20-replication mean, whose SD is ~0.008 for the
effects and up to ~0.012 for the paths), while the same check fails for a
misspecified model without the direct path (the indirect effects absorb the
omitted c = .15).
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from analysis.io import number_unit
from analysis.sem.bootstrap import em_moments
from analysis.sem.twostage import exact_moment_data
from analysis.study.instrument import load_instrument
from analysis.study import structural as S


@pytest.fixture(scope="module")
def instrument():
    return load_instrument()


@pytest.fixture(scope="module")
def sample(instrument):
    from analysis.study.simulate import simulate_responses

    d = simulate_responses(600, 30, seed=20261127, instrument=instrument)
    rng = np.random.default_rng(1)
    items = instrument.item_codes()
    mask = rng.random((len(d), len(items))) < 0.02
    x = d[items].to_numpy(float).copy()
    x[mask] = np.nan
    return pd.concat([d.drop(columns=items), pd.DataFrame(x, columns=items, index=d.index)], axis=1)


def test_control_columns(sample):
    out, names = S.control_columns(sample)
    codes = sorted(sample["role"].unique())
    assert [n for n in names if n.startswith("role_")] == [f"role_{c}" for c in codes[1:]]
    for c in codes[1:]:
        np.testing.assert_array_equal(out[f"role_{c}"], (sample["role"] == c).astype(float))
    np.testing.assert_allclose(out["years10"], sample["years"] / 10)


def test_exact_moment_data_reproduces_em_moments(sample, instrument):
    cols = instrument.item_codes()[:10]
    rows = exact_moment_data(sample, cols)
    x = sample[cols].to_numpy(float)
    mu, sigma, _ = em_moments(x, np.nanmean(x, 0), np.diag(np.nanvar(x, 0)), tol=1e-10)
    y = rows.to_numpy(float)
    np.testing.assert_allclose(y.mean(axis=0), mu, atol=1e-8)
    np.testing.assert_allclose(np.cov(y, rowvar=False, ddof=0), sigma, atol=1e-7)
    assert len(rows) == len(sample) and not np.isnan(y).any()


@pytest.fixture(scope="module")
def fits(sample, instrument):
    data, controls = S.control_columns(sample)
    full = S.fit_structural(data, instrument, controls=controls)
    no_c = S.fit_structural(data, instrument, controls=controls, direct=False)
    return data, controls, full, no_c


def test_fit_and_tables(fits):
    from analysis.sem.bootstrap import bootstrap
    from analysis.sem.montecarlo import montecarlo_ci

    data, controls, full, no_c = fits
    assert full.converged and full.options["missing"] == "two.stage"
    rows = data[list(full.stats.ov_names)].to_numpy(float)
    boot = bootstrap(full, n_boot=12, seed=1, n_jobs=1, rows=rows)
    assert boot.method == "two-stage-em" and boot.n_boot == 12
    mc = montecarlo_ci(full, n_draws=2000, seed=2)
    ind = S.indirect_table(full, boot, mc).set_index("lhs")
    est = full.estimates
    lab = est[est["op"] == "~"].drop_duplicates("label").set_index("label")["est"]
    assert ind.loc["ind_GRID", "est"] == pytest.approx(lab["a1"] * lab["b1"])
    assert ind.loc["total", "est"] == pytest.approx(lab["c"] + sum(lab[f"a{i}"] * lab[f"b{i}"] for i in range(1, 5)))
    assert (ind["ci_lower_mc"] <= ind["est"]).all() and (ind["est"] <= ind["ci_upper_mc"]).all()
    riv = S.rival_table({"hypothesized": full, "no c": no_c}, {"no c": "hypothesized"}).set_index("model")
    assert riv.loc["no c", "delta_chisq"] == pytest.approx(no_c.fit["chisq"] - full.fit["chisq"])
    assert riv.loc["no c", "delta_df"] == 1
    cb = bootstrap(full, n_boot=6, seed=3, n_jobs=1, rows=rows, cluster=data["community"].to_numpy())
    tab = S.estimator_table(full, {"rows": boot, "communities": cb})
    assert set(tab["method"]) == {"ML", "rows", "communities"}
    paths = tab[tab["lhs"] == "GRID~PL"].set_index("method")
    assert paths.loc["rows", "se"] == pytest.approx(boot.draws["GRID~PL"].std(ddof=1))


def test_clustering_table_matches_icc1(sample, instrument):
    from analysis.psychometrics.clustering import icc1

    tab = S.clustering_table(sample, instrument).set_index("score")
    score = sample[instrument.item_codes("PL")].mean(axis=1)
    ref = icc1(pd.DataFrame({"s": score, "community": sample["community"]}), "s", "community")
    assert tab.loc["PL", "icc1"] == pytest.approx(ref["icc1"])
    assert {"RES", "ORG", "LIST", "CR"} <= set(tab.index)


# --- fast parameter recovery ------------------------------------------------------
def _recovery(direct):
    from analysis.psychometrics.power import monte_carlo, recovery_table
    from analysis.study.population import load_population
    from analysis.study.power import build_context, replicate

    pop = load_population()
    ctx = build_context(pop, seed=5, direct=direct, mc_draws=200)
    reps = monte_carlo(functools.partial(replicate, ctx=ctx), [{"n": 1200}], 20, seed=21, n_jobs=2,
                       chunk_size=5)
    truth = dict(zip(pop.true_effects()["label"], pop.true_effects()["est"]))
    return recovery_table(reps, truth, est="std_est", lower=None, upper=None).set_index("param")


def test_recovery_right_model_passes_wrong_model_fails():
    right = _recovery(True)
    assert len(right) == 15
    assert (right["bias"].abs() < 0.04).all(), right[["truth", "mean", "bias"]]
    wrong = _recovery(False)
    bad = wrong.loc[["ind_GRID", "ind_RES", "ind_ORG", "ind_LIST", "total_indirect"], "bias"].abs()
    assert (bad >= 0.04).any(), wrong[["truth", "mean", "bias"]]


# --- the whole step on a small sample ----------------------------------------------
def test_run_structural_reports_the_resampling_unit_and_both_levels(tmp_path, sample, instrument):
    import json

    cfg = {"structural": {"bootstrap": 16, "bootstrap_unit": "community", "bootstrap_interval": "symmetric-t",
                          "comparison_bootstrap": 8, "montecarlo": 400, "seed": 3}}
    files = S.run_structural(sample, out_dir=tmp_path / "structural", instrument=instrument, config=cfg,
                             figures_dir=tmp_path / "figures", n_jobs=1)
    names = {f.name for f in files}
    assert {"estimates.csv", "indirect.csv", "estimators.csv", "bootstrap.csv", "twolevel.csv",
            "headline.json"} <= names
    head = json.loads((tmp_path / "structural" / "headline.json").read_text())
    assert head["bootstrap_unit"] == "community" and head["bootstrap"] == 16
    boot = pd.read_csv(tmp_path / "structural" / "bootstrap.csv").iloc[0]
    assert boot["unit"] == "community"
    assert boot["n_boot_ok"] + boot["n_boot_failed"] + boot["n_boot_improper"] == 16
    est = pd.read_csv(tmp_path / "structural" / "estimators.csv")
    assert set(est["method"]) == {"ML", "bootstrap (respondents)", "cluster bootstrap (communities)"}
    tl = pd.read_csv(tmp_path / "structural" / "twolevel.csv")
    assert set(tl["level"]) == {"within", "between"}
    assert head["twolevel"]["nclusters"] == sample["community"].nunique()
    # the reported interval is the cluster bootstrap's: estimates.csv's se equals its SD
    a1 = pd.read_csv(tmp_path / "structural" / "estimates.csv").query("label == 'a1'").iloc[0]
    cl = est[(est["lhs"] == "GRID~PL") & (est["method"] == "cluster bootstrap (communities)")].iloc[0]
    assert a1["se"] == pytest.approx(cl["se"])
    # ... and its interval the configured one (symmetric about the estimate), in every table
    assert head["bootstrap_interval"] == "symmetric-t" and boot["interval"] == "symmetric-t"
    assert (a1["ci_lower"], a1["ci_upper"]) == (a1["boot_ci_lower_st"], a1["boot_ci_upper_st"])
    # symmetric up to the rounding of three numbers written at analysis.io.PRECISION
    unit = max(number_unit(a1[k]) for k in ("ci_upper", "est", "ci_lower"))
    assert a1["ci_upper"] - a1["est"] == pytest.approx(a1["est"] - a1["ci_lower"], abs=2 * unit)
    assert (cl["ci_lower"], cl["ci_upper"]) == pytest.approx((a1["ci_lower"], a1["ci_upper"]))
    ind = pd.read_csv(tmp_path / "structural" / "indirect.csv").set_index("lhs")
    assert head["effects"]["ind_GRID"]["ci_boot"] == pytest.approx(
        [ind.loc["ind_GRID", "ci_lower_boot"], ind.loc["ind_GRID", "ci_upper_boot"]])
    assert boot["n_boot_no_se"] == 0
    from analysis.errors import InputError

    for key, value in (("bootstrap_unit", "city"), ("bootstrap_interval", "abc")):
        bad = {"structural": {**cfg["structural"], key: value}}
        with pytest.raises(InputError, match=key):
            S.run_structural(sample, out_dir=tmp_path / "bad", instrument=instrument, config=bad, n_jobs=1)
