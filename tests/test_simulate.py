"""The population model and the simulation: analytic truths and seeded recovery."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.errors import InputError
from analysis.io import read_json
from analysis.study.instrument import load_instrument
from analysis.study.population import MEDIATORS, STRUCTURAL, load_population
from analysis.study.settings import load_settings
from analysis.study.simulate import simulate_responses, simulate_sample, simulate_to_file

POP = load_population()
INST = load_instrument()


# --- the population model ------------------------------------------------
def test_latents_have_unit_variance_and_declared_icc():
    total = POP.structural_covariance("total")
    between = POP.structural_covariance("between")
    np.testing.assert_allclose(np.diag(total), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.diag(between), [POP.icc[v] for v in STRUCTURAL], atol=1e-12)
    np.testing.assert_allclose(total, POP.structural_covariance("between") + POP.structural_covariance("within"),
                               atol=1e-12)


def test_implied_covariances_follow_path_tracing():
    cov = POP.structural_covariance()
    g_pl = POP.controls.get("PL", {})
    # Cov(PL, M_i) = a_i (PL's variance is 1); Cov(M_i, M_j) = a_i a_j (uncorrelated disturbances)
    for m in MEDIATORS:
        assert cov.loc["PL", m] == pytest.approx(POP.a[m], abs=1e-12)
    assert cov.loc["GRID", "LIST"] == pytest.approx(POP.a["GRID"] * POP.a["LIST"], abs=1e-12)
    # Cov(PL, CR) = c + sum a_i b_i + Cov(PL, control) * effect of the control on CR
    g_cr = POP.controls.get("CR", {})
    extra = sum(g_pl.get(z, 0.0) * g_cr.get(z, 0.0) for z in g_cr)
    expected = POP.c + sum(POP.a[m] * POP.b[m] for m in MEDIATORS) + extra
    assert cov.loc["PL", "CR"] == pytest.approx(expected, abs=1e-12)


def test_true_effects_and_declared_ranges():
    eff = POP.true_effects().set_index("label")["est"]
    for i, m in enumerate(MEDIATORS, 1):
        assert eff[f"ind_{m}"] == pytest.approx(eff[f"a{i}"] * eff[f"b{i}"])
        assert 0.45 <= eff[f"a{i}"] <= 0.6 and 0.15 <= eff[f"b{i}"] <= 0.3
    assert eff["total"] == pytest.approx(eff["c"] + eff["total_indirect"])
    assert POP.item_loadings().between(0.65, 0.85).all()
    assert all(0.05 <= v <= 0.20 for v in POP.icc.values())
    assert sorted(POP.item_codes()) == sorted(INST.item_codes())


def test_category_probabilities_are_negatively_skewed():
    for c in POP.first_order:
        p = POP.category_probabilities(c)
        assert p.sum() == pytest.approx(1.0)
        assert p[3] + p[4] > p[0] + p[1] + 0.3


def test_inadmissible_population_is_an_input_error(tmp_path):
    text = paths.DEFAULT.population_model.read_text(encoding="utf-8")
    bad = tmp_path / "pop.yaml"
    bad.write_text(text.replace("c: 0.15", "c: 0.95"), encoding="utf-8")
    with pytest.raises(InputError, match="not admissible"):
        load_population(bad)
    with pytest.raises(InputError, match="not found"):
        load_population(tmp_path / "missing.yaml")


# --- clean simulation ----------------------------------------------------
def test_simulate_responses_is_fast_deterministic_and_clean():
    simulate_responses(50, 10, 1, POP, INST)  # warm-up
    t0 = time.perf_counter()
    d = simulate_responses(1500, 60, 7, POP, INST)
    assert time.perf_counter() - t0 < 0.5
    assert len(d) == 1500 and d["community"].nunique() <= 60
    assert list(d.columns[:len(INST.item_codes())]) == INST.item_codes()
    assert d[INST.item_codes()].notna().all().all()
    assert d[INST.item_codes()].isin([1, 2, 3, 4, 5]).all().all()
    pd.testing.assert_frame_equal(d, simulate_responses(1500, 60, 7, POP, INST))
    assert not d.equals(simulate_responses(1500, 60, 8, POP, INST))


def test_scored_and_answered_differ_only_in_reverse_items():
    scored = simulate_responses(300, 20, 3, POP, INST, scored=True)
    answered = simulate_responses(300, 20, 3, POP, INST, scored=False)
    rev = INST.reverse_codes
    pd.testing.assert_frame_equal(scored[rev], 6 - answered[rev])
    keep = [c for c in scored.columns if c not in rev]
    pd.testing.assert_frame_equal(scored[keep], answered[keep])


def test_latent_scores_recover_implied_covariance_and_icc():
    sample = simulate_sample(20000, 400, 2024, POP, INST)
    truth = sample.truth[sample.truth["status"] != "duplicate"]
    eta = truth[[f"true_{v}" for v in STRUCTURAL]].to_numpy()
    emp = np.cov(eta, rowvar=False)
    np.testing.assert_allclose(emp, POP.structural_covariance().to_numpy(), atol=0.04)
    # ICC of PL by the ANOVA estimator (one-way random effects)
    frame = pd.DataFrame({"g": sample.data.loc[truth.index, "community"], "y": truth["true_PL"]})
    groups = frame.groupby("g")["y"]
    k, n = groups.ngroups, len(frame)
    n0 = (n - (groups.size() ** 2).sum() / n) / (k - 1)
    msb = (groups.size() * (groups.mean() - frame["y"].mean()) ** 2).sum() / (k - 1)
    msw = ((frame["y"] - groups.transform("mean")) ** 2).sum() / (n - k)
    icc = (msb - msw) / (msb + (n0 - 1) * msw)
    assert icc == pytest.approx(POP.icc["PL"], abs=0.04)


def test_item_category_shares_match_the_thresholds():
    d = simulate_responses(8000, 60, 11, POP, INST, scored=True)
    for code in ("PL1", "RISK2", "DEV1"):
        construct = INST.item(code).construct
        shares = d[code].value_counts(normalize=True).reindex([1, 2, 3, 4, 5], fill_value=0).to_numpy()
        np.testing.assert_allclose(shares, POP.category_probabilities(construct), atol=0.025)


def test_scale_means_recover_sign_and_order_of_paths():
    d = simulate_responses(6000, 60, 99, POP, INST, scored=True)
    means = pd.DataFrame({c.code: d[INST.item_codes(c.code)].mean(axis=1) for c in INST.constructs})
    means["RES"] = means[["INT", "EXT"]].mean(axis=1)
    means["ORG"] = means[["SELF", "SOC"]].mean(axis=1)
    means["LIST"] = means[["RESP", "RISK", "INST"]].mean(axis=1)
    means["CR"] = means[["CRS", "RCV", "DEV"]].mean(axis=1)
    r = means.corr()
    for m in MEDIATORS:
        assert r.loc["PL", m] > 0.15
    # a: LIST (.60) > GRID (.55) > RES (.50) > ORG (.45); attenuated but ordered at the ends
    assert r.loc["PL", "LIST"] > r.loc["PL", "ORG"] + 0.05
    # regression of CR on PL and the mediators: every coefficient positive, LIST largest b
    X = np.column_stack([np.ones(len(means))] + [means[v] for v in ("PL", *MEDIATORS)])
    beta = np.linalg.lstsq(X, means["CR"], rcond=None)[0][1:]
    assert (beta > 0).all()
    assert beta[4] == beta[1:].max()


# --- the raw sample --------------------------------------------------------
def test_response_process_counts_and_patterns():
    n = 1000
    s = simulate_sample(n, 40, 5, POP, INST)
    rp = POP.response
    counts = s.truth["status"].value_counts()
    n_dup = round(rp.duplicate_rate * n)
    n_u = n - n_dup
    assert counts.get("duplicate", 0) == n_dup
    n_care = round(rp.careless_rate * n_u)
    assert counts["careless_straight"] + counts["careless_random"] == n_care
    assert counts["speeder"] == round(rp.speeder_rate * n_u)
    items = INST.item_codes()
    answers = s.data[items]
    straight = s.truth["status"] == "careless_straight"
    assert (answers[straight].nunique(axis=1) == 1).all()
    speeders = s.truth["status"] == "speeder"
    lo, hi = rp.speeder_duration_s
    assert s.data.loc[speeders, "duration_s"].between(lo, hi).all()
    assert (s.data.loc[~speeders, "duration_s"] > 120).mean() > 0.99
    # duplicates repeat the original's answers and context
    for r in s.truth.itertuples():
        if r.status == "duplicate":
            orig = int(r.duplicate_of) - 1
            cols = items + [INST.attention_check.code] + INST.context_codes
            pd.testing.assert_series_equal(s.data.loc[r.row - 1, cols], s.data.loc[orig, cols], check_names=False)
    # missingness: only attentive rows, ~missing_rate, rising with age band (MAR)
    valid = s.truth["status"] == "valid"
    rate = answers[valid].isna().mean(axis=1)
    assert answers[~valid & (s.truth["status"] != "duplicate")].notna().all().all()
    assert rate.mean() == pytest.approx(rp.missing_rate, abs=0.01)
    by_age = rate.groupby(s.data.loc[valid, "age_band"]).mean()
    assert by_age.loc[6] > by_age.loc[1]
    # rows are in submission order
    assert s.data["submitted"].is_monotonic_increasing


def test_committed_synthetic_export_regenerates_identically(tmp_path):
    syn = load_settings()["synthetic"]
    committed = paths.DEFAULT.raw / "synthetic" / "wjx_synthetic.csv"
    export, truth = simulate_to_file(syn["n"], syn["communities"], syn["seed"], syn["format"],
                                     tmp_path / committed.name)
    assert export.read_bytes() == committed.read_bytes()
    assert truth.read_bytes() == committed.with_name("wjx_synthetic.truth.json").read_bytes()
    t = read_json(truth)
    assert t["settings"]["n"] == syn["n"] and len(t["rows"]) == syn["n"]
    assert sum(t["counts"].values()) == syn["n"]


@pytest.mark.parametrize("fmt,name", [("kobo", "k.csv"), ("csv", "c.csv"), ("wjx", "w.xlsx")])
def test_simulate_to_file_is_deterministic(fmt, name, tmp_path):
    a, ta = simulate_to_file(60, 8, 3, fmt, tmp_path / "a" / name)
    b, tb = simulate_to_file(60, 8, 3, fmt, tmp_path / "b" / name)
    assert a.read_bytes() == b.read_bytes() and ta.read_bytes() == tb.read_bytes()


def test_bad_arguments():
    with pytest.raises(ValueError):
        simulate_responses(0, 10, 1, POP, INST)
    with pytest.raises(ValueError, match="unknown export format"):
        simulate_to_file(20, 5, 1, "spss", "/tmp/never-written.sav")
    with pytest.raises(ValueError, match="at most 99"):
        simulate_to_file(2000, 400, 1, "wjx", "/tmp/never-written.csv")
