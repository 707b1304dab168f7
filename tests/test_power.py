"""Monte Carlo power and recovery (``analysis.psychometrics.power``, ``analysis.study.power``).

Truths: under the null a level-alpha z test rejects with probability alpha
(binomial Monte Carlo error); the power of the one-sample z test is
:math:`\\Phi(\\delta\\sqrt n - z_{1-\\alpha/2}) + \\Phi(-\\delta\\sqrt n - z_{1-\\alpha/2})`;
recovery statistics of known numbers are computed by hand.  The study-level
test uses the declared population model with the GRID -> CR path set to 0:
the indirect effect through GRID is then null and must be rejected at about
the nominal rate or less (the product test is conservative: MacKinnon et
al. 2002), while the non-null effects are detected more often at larger N.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.psychometrics.power import monte_carlo, power_table, recovery_table, smallest_n


def _ztest(cond, rep, seed):
    x = np.random.default_rng(seed).normal(cond["delta"], 1.0, size=cond["n"])
    z = x.mean() * np.sqrt(cond["n"])
    return {"effect": "mean", "reject": bool(abs(z) > stats.norm.ppf(0.975)), "valid": True}


def test_null_rejection_rate_is_alpha():
    reps = monte_carlo(_ztest, [{"n": 30, "delta": 0.0}], 2000, seed=1, n_jobs=1, chunk_size=250)
    tab = power_table(reps, "n")
    p = tab["power"].iloc[0]
    assert abs(p - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 2000)
    assert tab["mc_se"].iloc[0] == pytest.approx(np.sqrt(p * (1 - p) / 2000))


def test_power_matches_analytic_and_increases_with_n():
    conds = [{"n": n, "delta": 0.3} for n in (20, 50, 100)]
    reps = monte_carlo(_ztest, conds, 1000, seed=2, n_jobs=1, chunk_size=200)
    tab = power_table(reps, ["n", "delta"]).sort_values("n")
    z = stats.norm.ppf(0.975)
    for r in tab.itertuples():
        truth = stats.norm.cdf(0.3 * np.sqrt(r.n) - z) + stats.norm.cdf(-0.3 * np.sqrt(r.n) - z)
        assert abs(r.power - truth) < 4 * np.sqrt(truth * (1 - truth) / 1000)
    assert np.all(np.diff(tab["power"].to_numpy()) > 0)
    assert smallest_n(tab, target=0.8) == 100.0
    assert np.isnan(smallest_n(tab, target=0.99))


def test_seeds_independent_of_workers():
    conds = [{"n": 10, "delta": 0.0}]
    a = monte_carlo(_ztest, conds, 40, seed=5, n_jobs=1)
    b = monte_carlo(_ztest, conds, 40, seed=5, n_jobs=2, chunk_size=3)
    pd.testing.assert_frame_equal(a, b)


def test_recovery_table_by_hand():
    reps = pd.DataFrame({"param": ["a"] * 4, "est": [0.9, 1.1, 1.2, 0.8],
                         "ci_lower": [0.5, 1.05, 0.9, 0.1], "ci_upper": [1.5, 1.5, 1.6, 0.95],
                         "valid": [True, True, True, False]})
    tab = recovery_table(reps, {"a": 1.0}).iloc[0]
    assert tab["mean"] == pytest.approx(3.2 / 3)
    assert tab["bias"] == pytest.approx(3.2 / 3 - 1)
    assert tab["rel_bias"] == pytest.approx(3.2 / 3 - 1)
    assert tab["rmse"] == pytest.approx(np.sqrt((0.01 + 0.01 + 0.04) / 3))
    assert tab["coverage"] == pytest.approx(2 / 3)
    assert tab["n_invalid"] == 1


# --- the study's power study --------------------------------------------------
@pytest.fixture(scope="module")
def null_context():
    from analysis.study.population import load_population
    from analysis.study.power import build_context

    pop = load_population()
    b = dict(pop.b)
    b["GRID"] = 0.0
    pop0 = dataclasses.replace(pop, b=b)
    return build_context(pop0, seed=3, mc_draws=1000)


def test_study_power_null_and_growth(null_context):
    from analysis.study.power import replicate

    reps = monte_carlo(functools.partial(replicate, ctx=null_context), [{"n": 300}, {"n": 900}], 30,
                       seed=11, n_jobs=2, chunk_size=5)
    assert reps["converged"].all()
    eff = reps[reps["kind"] == "effect"]
    tab = power_table(eff, "n", effect="param", reject="reject").set_index(["param", "n"])
    # the null indirect effect: rejected at most at about alpha (binomial 99.9% bound for 30 draws)
    assert tab.loc[("ind_GRID", 900), "power"] <= stats.binom.ppf(0.999, 30, 0.05) / 30
    assert tab.loc[("ind_GRID", 300), "power"] <= stats.binom.ppf(0.999, 30, 0.05) / 30
    # the weakest non-null effect is found more often with more respondents
    assert tab.loc[("ind_ORG", 900), "power"] > tab.loc[("ind_ORG", 300), "power"]
