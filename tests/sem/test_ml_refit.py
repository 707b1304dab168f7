"""The fast refit path and recovery of known parameters from simulated data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem import cfa, sem
from analysis.sem.refit import Refitter
from analysis.sem.standardized import std_all

from sem_ref import HS_MODEL, PD_MODEL


def _moments(x):
    return x.mean(axis=0), np.cov(x, rowvar=False, ddof=0)


def test_refit_on_original_moments_returns_the_estimate(hs):
    res = cfa(HS_MODEL, hs)
    theta, ok, n_iter = res.refit(res.stats.cov, res.stats.mean, res.stats.nobs)
    assert ok and n_iter <= 1
    np.testing.assert_allclose(theta, res.theta, atol=1e-8)


@pytest.mark.parametrize("kind", ["hs", "poldem", "hs_groups"])
def test_refit_equals_a_full_fit_of_the_resampled_data(hs, poldem, kind):
    rng = np.random.default_rng(11)
    if kind == "hs":
        model, data, kw = HS_MODEL, hs, {}
    elif kind == "poldem":
        model, data, kw = PD_MODEL, poldem, {}
    else:
        model, data, kw = HS_MODEL, hs, dict(group="school", group_equal=["loadings"])
    res = sem(model, data, **kw)
    for _ in range(3):
        if kind == "hs_groups":
            boot = pd.concat([g.iloc[rng.integers(0, len(g), len(g))]
                              for _, g in data.groupby("school", sort=False)])
        else:
            boot = data.iloc[rng.integers(0, len(data), len(data))]
        full = sem(model, boot, **kw)
        cov = [c for c in full.stats.cov]
        mean = [m for m in full.stats.mean]
        theta, ok, _ = res.refit(cov, mean, full.stats.nobs)
        assert ok
        np.testing.assert_allclose(theta, full.theta, atol=1e-5)


def test_recovers_known_parameters_from_simulated_data():
    """Seeded data from a known two-factor SEM; N = 20,000 so the sampling
    error of each estimate is about 0.01: require |est - truth| < 0.05."""
    rng = np.random.default_rng(20261127)
    n = 20_000
    truth = {"lam": [1.0, 0.8, 0.6], "beta": 0.5, "psi_x": 1.0, "psi_y": 0.75, "theta": 0.4}
    xi = rng.normal(scale=np.sqrt(truth["psi_x"]), size=n)
    eta = truth["beta"] * xi + rng.normal(scale=np.sqrt(truth["psi_y"]), size=n)
    cols = {}
    for k, lam in enumerate(truth["lam"], start=1):
        cols[f"x{k}"] = lam * xi + rng.normal(scale=np.sqrt(truth["theta"]), size=n)
        cols[f"y{k}"] = lam * eta + rng.normal(scale=np.sqrt(truth["theta"]), size=n)
    data = pd.DataFrame(cols)
    res = sem("xi =~ x1 + x2 + x3\neta =~ y1 + y2 + y3\neta ~ b*xi", data)
    est = res.estimates.set_index(["lhs", "op", "rhs"])["est"]
    assert res.converged
    assert est[("eta", "~", "xi")] == pytest.approx(truth["beta"], abs=0.05)
    assert est[("xi", "~~", "xi")] == pytest.approx(truth["psi_x"], abs=0.05)
    assert est[("eta", "~~", "eta")] == pytest.approx(truth["psi_y"], abs=0.05)
    for k, lam in enumerate(truth["lam"][1:], start=2):
        assert est[("xi", "=~", f"x{k}")] == pytest.approx(lam, abs=0.05)
        assert est[("eta", "=~", f"y{k}")] == pytest.approx(lam, abs=0.05)
        assert est[(f"x{k}", "~~", f"x{k}")] == pytest.approx(truth["theta"], abs=0.05)
    # a correctly specified model: the chi-square is not significant at 0.1%
    assert res.fit["pvalue"] > 0.001


def test_fit_is_deterministic(hs):
    a = cfa(HS_MODEL, hs).to_dict()
    b = cfa(HS_MODEL, hs).to_dict()
    assert a == b


def test_refit_with_fixed_x_resets_covariate_moments(poldem):
    """With fixed.x the covariates' moments are sample values: a refit on
    resampled data must equal a full fit of that sample."""
    model = "dem60 =~ y1 + y2 + y3 + y4\ndem60 ~ x1 + x2"
    res = sem(model, poldem, meanstructure=True)
    rng = np.random.default_rng(5)
    boot = poldem.iloc[rng.integers(0, len(poldem), len(poldem))]
    full = sem(model, boot, meanstructure=True)
    theta, ok, _ = res.refit(full.stats.cov, full.stats.mean, full.stats.nobs)
    assert ok
    np.testing.assert_allclose(theta, full.theta, atol=1e-5)
    # the estimates alone would not notice stale x moments (the likelihood
    # factors into y|x and x); the chi-square, the information (hence the SEs)
    # and the standardized values of the refit do
    refitter = Refitter(res.model, res.theta, moments=(res.stats.cov, res.stats.mean, res.stats.nobs))
    obj, theta, ok, _ = refitter.fit(full.stats.cov, full.stats.mean, full.stats.nobs)
    assert ok
    assert obj.test_statistic(theta) == pytest.approx(full.fit["chisq"], abs=1e-6)
    free = full.partable["free"].to_numpy() > 0
    se = np.sqrt(np.diag(np.linalg.inv(obj.information(theta) * full.stats.ntotal)))
    np.testing.assert_allclose(se, full.estimates.loc[free, "se"], rtol=1e-5)
    std = std_all(refitter.model, theta, full.partable, full.defined)
    np.testing.assert_allclose(std, full.estimates["std_all"], rtol=1e-5, atol=1e-7)
    # the original fit is untouched
    np.testing.assert_allclose(res.implied[0][0], sem(model, poldem, meanstructure=True).implied[0][0])
    np.testing.assert_array_equal(res.model.implied(res.theta)[0][0], res.implied[0][0])
