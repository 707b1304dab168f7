"""Two-level path model of the scale scores (``analysis.study.multilevel``).

Truths: scale scores computed by hand; within and between paths recovered
from data simulated with known, different coefficients at the two levels.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.sem import sem
from analysis.study import multilevel as M
from analysis.study.instrument import load_instrument
from analysis.study.simulate import simulate_responses


@pytest.fixture(scope="module")
def instrument():
    return load_instrument()


def test_scale_scores_are_item_means(instrument):
    d = simulate_responses(50, 5, seed=3)
    d.loc[0, "INT1"] = np.nan
    sc = M.scale_scores(d, instrument, ["PL", "RES"])
    res_items = instrument.item_codes("INT") + instrument.item_codes("EXT")
    assert sc.loc[0, "RES"] == pytest.approx(d.loc[0, res_items].dropna().mean())
    assert sc.loc[1, "PL"] == pytest.approx(d.loc[1, instrument.item_codes("PL")].mean())
    with pytest.raises(ValueError, match="unknown construct"):
        M.scale_scores(d, instrument, ["NOPE"])


def _two_level_sample(n_clusters=300, size=15, seed=7):
    """PL -> M1, M2 -> CR with a = .5 / b = .4 within and a = .2 / b = .8 between."""
    rng = np.random.default_rng(seed)
    truth = {1: {"a": 0.5, "b": 0.4, "c": 0.1, "sd": 1.0}, 2: {"a": 0.2, "b": 0.8, "c": 0.3, "sd": 0.6}}

    def level(n, t):
        pl = rng.standard_normal(n) * t["sd"]
        m = {k: t["a"] * pl + rng.standard_normal(n) * t["sd"] for k in M.MEDIATORS}
        cr = t["b"] * sum(m.values()) + t["c"] * pl + rng.standard_normal(n) * t["sd"]
        return pd.DataFrame({"PL": pl, **m, "CR": cr})

    cl = np.repeat(np.arange(n_clusters), size)
    within = level(len(cl), truth[1])
    between = level(n_clusters, truth[2]).iloc[cl].reset_index(drop=True)
    data = within + between + 3.0
    data["community"] = cl
    return data, truth


def test_within_and_between_paths_are_recovered():
    data, truth = _two_level_sample()
    fit = sem(M.twolevel_syntax(), data, cluster="community")
    assert fit.converged
    table, summary = M.twolevel_table(fit)
    paths = table[table["op"] == "~"]
    for lvl, s in (("within", 1), ("between", 2)):
        t = truth[s]
        sub = paths[paths["level"] == lvl]
        a = sub[sub["rhs"] == "PL"].query("lhs != 'CR'")["est"]
        b = sub[(sub["lhs"] == "CR") & (sub["rhs"] != "PL")]["est"]
        se_a = sub[sub["rhs"] == "PL"].query("lhs != 'CR'")["se"].max()
        se_b = sub[(sub["lhs"] == "CR") & (sub["rhs"] != "PL")]["se"].max()
        assert np.all(np.abs(a - t["a"]) < 4 * se_a), (lvl, a.tolist())
        assert np.all(np.abs(b - t["b"]) < 4 * se_b), (lvl, b.tolist())
    ind = table.set_index("lhs")
    assert ind.loc["total_indirect_w", "est"] == pytest.approx(
        sum(ind.loc[f"ind_{m}_w", "est"] for m in M.MEDIATORS))
    true_w = 4 * truth[1]["a"] * truth[1]["b"]
    assert abs(summary["total_indirect_within"]["est"] - true_w) < 4 * summary["total_indirect_within"]["se"]
    assert summary["nclusters"] == 300 and summary["n_dropped"] == 0
    assert set(table["level"]) == {"within", "between"}


def test_fit_twolevel_drops_and_counts_missing_scores(instrument):
    d = simulate_responses(1200, 60, seed=20240534)  # the study's design: 60 communities of ~20
    d.loc[:2, instrument.item_codes("PL")] = np.nan
    fit = M.fit_twolevel(d, instrument)
    _, summary = M.twolevel_table(fit)
    assert summary["converged"] and summary["n_dropped"] == 3 and summary["nobs"] == 1197
    with pytest.raises(InputError, match="community"):
        M.fit_twolevel(d.drop(columns="community"), instrument)
