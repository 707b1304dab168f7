"""The moderated-mediation step (analysis.study.moderation): syntax, data, recovery of the
declared interaction, probing, and the step's files."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.study.instrument import load_instrument
from analysis.study.moderation import (PRODUCT, conditional_band, fit_moderation, moderation_data,
                                       moderation_spec, moderation_syntax, probe_table, run_moderation)
from analysis.study.population import load_population
from analysis.study.simulate import simulate_responses


@pytest.fixture(scope="module")
def setup():
    pop, ins = load_population(), load_instrument()
    return pop, ins, moderation_spec(pop)


@pytest.fixture(scope="module")
def large_fit(setup):
    pop, ins, spec = setup
    d = moderation_data(simulate_responses(20_000, 60, seed=11, population=pop, instrument=ins), ins, spec)
    return fit_moderation(d, ins, spec, missing="listwise")


def test_spec_follows_the_population_model(setup):
    pop, ins, spec = setup
    assert (spec.moderator, spec.focal, spec.mediator) == (pop.moderation["moderator"], *pop.moderation["path"])
    syntax = moderation_syntax(ins, spec)
    assert f"{spec.mediator} ~ a1*{spec.focal} + a2*{spec.w} + a3*{PRODUCT}" in syntax
    assert "imm := a3*b" in syntax and "ind_lo := (a1 - a3*1)*b" in syntax
    for item in ins.item_codes(spec.focal):
        assert f"{item}.{spec.w}" in syntax


def test_moderator_is_standardized_and_products_double_mean_centred(setup):
    pop, ins, spec = setup
    d = moderation_data(simulate_responses(500, 20, seed=3, population=pop, instrument=ins), ins, spec)
    assert d[spec.w].mean() == pytest.approx(0, abs=1e-12) and d[spec.w].std() == pytest.approx(1)
    first = ins.item_codes(spec.focal)[0]
    prod = d[f"{first}.{spec.w}"]
    assert prod.mean() == pytest.approx(0, abs=1e-12)
    raw = (d[first] - d[first].mean()) * d[spec.w]
    np.testing.assert_allclose(prod, raw - raw.mean(), atol=1e-12)


def test_declared_interaction_and_index_are_recovered(setup, large_fit):
    """One sample of 20,000 from the population model: the standardized a3 and imm are the declared ones."""
    pop, ins, spec = setup
    est = large_fit.estimates
    a3 = est.loc[est["label"] == "a3", "std_all"].iloc[0]
    imm = est.loc[est["lhs"] == "imm", "std_all"].iloc[0]
    assert a3 == pytest.approx(spec.interaction, abs=0.03)
    assert imm == pytest.approx(spec.interaction * pop.b[spec.mediator], abs=0.012)
    a1 = est.loc[est["label"] == "a1", "std_all"].iloc[0]
    assert a1 == pytest.approx(pop.a[spec.mediator], abs=0.04)


def test_probe_is_a1_plus_a3_w(large_fit, setup):
    _, _, spec = setup
    est = large_fit.estimates.set_index("label")
    p = probe_table(large_fit, spec, at=[-1, 0, 2])
    np.testing.assert_allclose(p["slope"], est.loc["a1", "est"] + est.loc["a3", "est"] * np.array([-1, 0, 2]))
    assert p.loc[1, "se"] == pytest.approx(est.loc["a1", "se"])


def test_conditional_band_brackets_the_estimate(large_fit):
    class Boot:  # draws scattered around the estimate
        theta = large_fit.theta + np.random.default_rng(1).normal(0, 0.01, (400, large_fit.theta.size))
        used = np.ones(400, bool)

    band = conditional_band(large_fit, Boot, [-1.0, 0.0, 1.0])
    assert (band["ci_lower"] < band["indirect"]).all() and (band["indirect"] < band["ci_upper"]).all()
    est = large_fit.estimates
    mid = est.loc[est["lhs"] == "ind_mid", "est"].iloc[0]
    assert band.loc[1, "indirect"] == pytest.approx(mid)


def test_step_writes_its_files(tmp_path, setup):
    pop, ins, spec = setup
    d = simulate_responses(400, 20, seed=4, population=pop, instrument=ins)
    cfg = {"moderation": {"bootstrap": 6, "replications": 2, "seed": 1, "pseudo_n": 3000},
           "structural": {"bootstrap_unit": "community", "bootstrap_interval": "percentile"},
           "synthetic": {"n": 400}}
    out = tmp_path / "moderation"
    written = run_moderation(out_dir=out, analysis_data=d, config=cfg, instrument=ins, population=pop,
                             figures_dir=tmp_path / "figures", synthetic=True, n_jobs=1)
    names = {p.name for p in written}
    assert {"model.lav", "estimates.csv", "effects.csv", "probe.csv", "recovery.csv", "headline.json",
            "command.txt", "moderation_probe.png"} <= names
    head = json.loads((out / "headline.json").read_text())
    assert head["synthetic"] is True and head["bootstrap"]["n_boot"] == 6
    assert head["command"].startswith("resilience fit model.lav moderation.parquet --missing")
    eff = pd.read_csv(out / "effects.csv")
    assert set(eff["param"]) >= {"a3", "imm", "ind_lo", "ind_mid", "ind_hi"}
    rec = pd.read_csv(out / "recovery.csv")
    assert set(rec["param"]) == {"a3", "imm"} and rec["synthetic"].all()


@pytest.mark.parametrize("lower, upper, inside, expected", [
    (-5.4, -2.4, False, "处处显著"),           # both bounds below the observed range: significant throughout
    (-0.5, 0.8, False, "[-2.00, -0.50]、[0.80, 3.00]"),
    (-0.5, 0.8, True, "[-0.50, 0.80]"),
    (4.0, 5.0, True, "都不显著"),
])
def test_johnson_neyman_sentence_clips_to_the_observed_range(lower, upper, inside, expected):
    from analysis.sem.interactions import JohnsonNeyman
    from analysis.study.moderation import jn_sentence_zh

    text = jn_sentence_zh(JohnsonNeyman(lower, upper, inside, False, 0.95), -2.0, 3.0)
    assert expected in text and "-2.00 到 3.00" in text
