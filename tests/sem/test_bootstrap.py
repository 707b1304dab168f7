"""Bootstrap of a fitted SEM (``analysis.sem.bootstrap``).

References used here:

* lavaan 0.6.14, ``sem(pd_model_ind, PD, se = "bootstrap", bootstrap = 5000)``
  after ``set.seed(4100)`` (``tests/reference/lavaan_reference.R``, output
  ``lavaan_reference.Rout``; ``poldem_boot_*.csv``): percentile and
  bca.simple intervals of ``ind := a*b`` and ``total := c + a*b``.  lavaan
  keeps draws with a negative variance, so the comparison uses
  ``exclude_improper=False``.  The tolerance is Monte Carlo error: two
  independent bootstraps estimate the same quantile, each with standard error
  :math:`\\sqrt{p(1-p)/B}/f(q_p)` (the asymptotic SE of a sample quantile;
  Efron & Tibshirani 1993, sec. 19.3); the density :math:`f(q_p)` is
  estimated from our draws by a difference quotient of quantiles.  We allow
  4 standard errors of the difference of the two estimates.
* analytic truths: a just-identified one-factor model reproduces each
  resample's covariance matrix, so the residual variance of the first
  indicator is :math:`s_{11} - s_{12}s_{13}/s_{23}` in every draw (negative:
  an improper draw); a draw that omits the only nonzero value of a column
  has a singular covariance matrix and must fail.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.sem import sem
from analysis.sem.bootstrap import (bc_ci, bootstrap, bootstrap_draws, bootstrap_estimates,
                                    percentile_ci)
from sem_ref import REF

PD_IND = """
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  ind := a*b
  total := c + a*b
"""


@pytest.fixture(scope="module")
def pd_fit(poldem):
    return sem(PD_IND, poldem)


def _quantile_se(x, p, b_ref):
    """SE of the difference of two sample p-quantiles (B = len(x) and b_ref)."""
    d = 0.01
    lo, hi = np.quantile(x, [max(p - d, 0.001), min(p + d, 0.999)])
    inv_f = (hi - lo) / (2 * d)  # 1 / density at the quantile
    var = p * (1 - p) * inv_f ** 2 * (1 / len(x) + 1 / b_ref)
    return np.sqrt(var)


@pytest.mark.parametrize("n_boot", [400, pytest.param(5000, marks=pytest.mark.slow)])
def test_poldem_indirect_percentile_matches_lavaan(pd_fit, n_boot):
    ref = pd.read_csv(REF / "lavaan" / "poldem_boot_estimates.csv")
    info = pd.read_csv(REF / "lavaan" / "poldem_boot_info.csv").set_index("measure")["value"]
    b_ref = int(info["bootstrap_successful"])
    boot = bootstrap(pd_fit, n_boot=n_boot, seed=4100, n_jobs=2, exclude_improper=False)
    assert boot.n_failed == 0
    draws = boot.draws
    iv = boot.intervals().set_index("name")
    for name in ("ind", "total"):
        r = ref[(ref["op"] == ":=") & (ref["lhs"] == name)].iloc[0]
        x = draws[name].to_numpy()
        for col, p in (("ci_lower", 0.025), ("ci_upper", 0.975)):
            tol = 4 * _quantile_se(x, p, b_ref)
            assert abs(iv.loc[name, col] - r[col]) < tol, (name, col, iv.loc[name, col], r[col], tol)
        # bias-corrected (lavaan bca.simple): same Monte Carlo tolerance, wider tails
        for col, rcol, p in (("boot_ci_lower_bc", "ci_lower_bca", 0.025),
                             ("boot_ci_upper_bc", "ci_upper_bca", 0.975)):
            tol = 5 * _quantile_se(x, p, b_ref)
            assert abs(iv.loc[name, col] - r[rcol]) < tol, (name, col, iv.loc[name, col], r[rcol], tol)
    # the point estimates are the ML estimates (lavaan's est column)
    assert iv.loc["ind", "est"] == pytest.approx(float(ref.loc[ref["lhs"] == "ind", "est"].iloc[0]), rel=1e-5)
    # bootstrap SE of ind agrees with lavaan's (sd of 5,000 draws) within 10%
    assert iv.loc["ind", "boot_se"] == pytest.approx(float(ref.loc[ref["lhs"] == "ind", "se"].iloc[0]), rel=0.10)


def test_deterministic_and_independent_of_workers(pd_fit):
    b1 = bootstrap(pd_fit, n_boot=60, seed=7, n_jobs=1)
    b2 = bootstrap(pd_fit, n_boot=60, seed=7, n_jobs=2, chunk_size=7)
    np.testing.assert_array_equal(b1.theta, b2.theta)
    np.testing.assert_array_equal(b1.status, b2.status)
    b3 = bootstrap(pd_fit, n_boot=60, seed=8, n_jobs=1)
    assert not np.allclose(b1.theta, b3.theta, equal_nan=True)


def _heywood_data():
    corr = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.4], [0.8, 0.4, 1.0]])
    rng = np.random.default_rng(20261127)
    return pd.DataFrame(rng.multivariate_normal(np.zeros(3), corr, size=200),
                        columns=["x1", "x2", "x3"])


def test_improper_draws_counted_analytically():
    data = _heywood_data()
    fit = sem("f =~ x1 + x2 + x3", data)
    n_boot, seed = 80, 11
    boot = bootstrap(fit, n_boot=n_boot, seed=seed, n_jobs=1)
    # the same indices, drawn up front from default_rng(seed)
    idx = np.random.default_rng(seed).integers(0, len(data), size=(n_boot, len(data)), dtype=np.int32)
    x = data.to_numpy()
    expected = 0
    for rows in idx:
        s = np.cov(x[rows], rowvar=False, ddof=0)
        expected += int(s[0, 0] - s[0, 1] * s[0, 2] / s[1, 2] < 0)
    assert expected > 0
    assert boot.n_improper == expected
    assert boot.n_failed == 0
    assert boot.n_ok == n_boot - expected
    # lavaan's convention keeps them
    boot.exclude_improper = False
    assert boot.n_ok == n_boot


def test_failed_draws_counted_and_excluded():
    rng = np.random.default_rng(3)
    n = 40
    data = pd.DataFrame(rng.normal(size=(n, 3)), columns=["y", "x", "z"])
    data["d"] = 0.0
    data.loc[5, "d"] = 1.0  # one nonzero value: a resample without row 5 is singular
    fit = sem("y ~ b*x + d\nz ~ x\nbd := b*2", data)
    n_boot, seed = 50, 5
    boot = bootstrap(fit, n_boot=n_boot, seed=seed, n_jobs=1)
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n), dtype=np.int32)
    expected = int(sum(5 not in rows for rows in idx))
    assert 0 < expected < n_boot
    assert boot.n_failed == expected
    assert len(boot.draws) == n_boot - expected - boot.n_improper
    assert np.isfinite(boot.draws.to_numpy()).all()
    draws = bootstrap_draws(fit, n_boot=n_boot, seed=seed, n_jobs=1)
    assert np.isnan(draws).all(axis=1).sum() == expected + boot.n_improper


def test_interval_functions_on_known_quantiles():
    # percentile: type-7 quantiles; bias correction vanishes when est is the median
    x = np.arange(1, 1001, dtype=float)[:, None]
    lo, hi = percentile_ci(x, 0.95)
    assert lo[0] == pytest.approx(np.quantile(x, 0.025)) and hi[0] == pytest.approx(np.quantile(x, 0.975))
    blo, bhi = bc_ci(x, np.array([500.5]), 0.95)  # exactly half the draws below: z0 = 0
    assert blo[0] == pytest.approx(lo[0]) and bhi[0] == pytest.approx(hi[0])
    # est at the 84.13th percentile: z0 = 1, lower bound at Phi(2 - 1.96)
    est = np.quantile(x, stats.norm.cdf(1.0))
    prop = np.mean(x[:, 0] < est)
    z0 = stats.norm.ppf(prop)
    blo, _ = bc_ci(x, np.array([est]), 0.95)
    assert blo[0] == pytest.approx(np.quantile(x, stats.norm.cdf(2 * z0 - stats.norm.ppf(0.975))), rel=1e-9)


def test_bootstrap_estimates_table(pd_fit):
    boot = bootstrap(pd_fit, n_boot=40, seed=1, n_jobs=1, exclude_improper=False)
    tab = bootstrap_estimates(pd_fit, boot)
    assert list(tab.columns[:12]) == ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue",
                                      "ci_lower", "ci_upper", "std_all"]
    ind = tab[tab["lhs"] == "ind"].iloc[0]
    x = boot.draws["ind"].to_numpy()
    assert ind["se"] == pytest.approx(np.std(x, ddof=1))
    assert ind["ci_lower"] == pytest.approx(np.quantile(x, 0.025))
    assert ind["boot_ci_upper_bc"] >= ind["boot_ci_lower_bc"]


def test_multigroup_resamples_within_groups(hs):
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"
    fit = sem(model, hs, group="school")
    boot = bootstrap(fit, n_boot=20, seed=2, n_jobs=1)
    assert boot.theta.shape == (20, fit.model.n_free)
    assert boot.n_failed == 0
    # group sizes are kept: the mean of x1 in group 1 over draws centres on the sample mean
    assert any(n.endswith(".g2") for n in boot.names)


def test_cluster_bootstrap_se_of_a_mean():
    # y = cluster effect + noise; the mean's SE under cluster resampling is
    # sd(cluster means) / sqrt(G) (equal cluster sizes), under row resampling sd(y) / sqrt(n)
    rng = np.random.default_rng(4)
    g, m = 40, 10
    cl = np.repeat(np.arange(g), m)
    y = rng.normal(0, 1, g)[cl] + rng.normal(0, 1, g * m)
    x = rng.normal(size=g * m)
    data = pd.DataFrame({"y": y, "x": x})
    fit = sem("y ~ x\ny ~ 1", data)
    rows = bootstrap(fit, n_boot=400, seed=1, n_jobs=1)
    clus = bootstrap(fit, n_boot=400, seed=1, n_jobs=1, cluster=cl)
    k = rows.names.index("y~1")
    se_rows = np.std(rows.theta[:, k], ddof=1)
    se_clus = np.std(clus.theta[:, k], ddof=1)
    cm = pd.Series(y).groupby(cl).mean()
    # sampling SD of a bootstrap SE from 400 draws is ~ SE / sqrt(800): allow 15%
    assert se_clus == pytest.approx(np.std(cm, ddof=0) / np.sqrt(g), rel=0.15)
    assert se_rows == pytest.approx(np.std(y, ddof=0) / np.sqrt(g * m), rel=0.15)
    assert se_clus > 1.5 * se_rows
