"""Bootstrap-t intervals with sandwich standard errors (``analysis.sem.studentized``).

Truths: the casewise scores of the core (checked against lavaan in
``test_robust_reference.py``) summed within clusters; the ML gradient at the
EM moments (the EM-completed scores sum to it); the sandwich of the core's
own information matrices; and bootstrap-t quantiles of draws built from known
t values.
"""
import numpy as np
import pandas as pd
import pytest
import semopy.examples as ex

from analysis.sem import sem
from analysis.sem.bootstrap import bootstrap, em_completion, em_moments, resample_indices
from analysis.sem.refit import MLMoments
from analysis.sem.robust import casewise_scores, first_order_information
from analysis.sem.studentized import cluster_starts, score_sums, studentized_ci

MODEL = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ a*ind60
dem65 ~ b*dem60 + ind60
ind := a*b
"""


@pytest.fixture(scope="module")
def data():
    return ex.political_democracy.get_data()


@pytest.fixture(scope="module")
def fit(data):
    return sem(MODEL, data)


def test_cluster_starts_split_a_cluster_drawn_twice():
    labels = np.array([0, 0, 1, 1, 1, 2])
    members = {0: [0, 1], 1: [2, 3, 4], 2: [5]}
    index = np.concatenate([members[k] for k in (1, 1, 2, 0, 2, 2)])
    assert list(cluster_starts(index, labels)) == [0, 3, 6, 7, 9, 10]
    assert list(cluster_starts(index)) == list(range(len(index)))


def test_cluster_starts_of_resample_indices_count_the_clusters():
    labels = np.repeat(np.arange(7), [3, 1, 4, 2, 5, 1, 2])
    for index in resample_indices(np.random.default_rng(3), 20, len(labels), cluster=labels):
        assert len(cluster_starts(index, labels)) == 7


@pytest.mark.parametrize("meanstructure", [False, True])
def test_score_sums_equal_summed_casewise_scores(data, meanstructure):
    f = sem(MODEL, data, meanstructure=meanstructure)
    x = data[list(f.stats.ov_names)].to_numpy(float)
    theta = np.asarray(f.theta) * 1.05  # away from the estimate: the scores do not sum to zero
    starts = np.arange(0, len(x), 5)
    want = np.add.reduceat(casewise_scores(f.objective, theta)[0], starts, axis=0)
    got = score_sums(f.model, theta, x, starts)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_em_completed_scores_sum_to_the_gradient_at_the_em_moments(fit, data):
    x = data[list(fit.stats.ov_names)].to_numpy(float)
    rng = np.random.default_rng(7)
    x[rng.random(x.shape) < 0.1] = np.nan
    m, c, _ = em_moments(x, np.nanmean(x, axis=0), np.diag(np.nanvar(x, axis=0)), tol=1e-12)
    rows, blocks = em_completion(x, m, c)
    observed = ~np.isnan(x)
    np.testing.assert_array_equal(rows[observed], x[observed])
    for idx, cols, cov in blocks:  # blocks cover exactly the missing cells
        assert np.isnan(np.take_along_axis(x[idx], cols, axis=1)).all()
        assert cov.shape == (len(idx), cols.shape[1], cols.shape[1])
    assert sum(cols.size for _, cols, _ in blocks) == np.isnan(x).sum()
    theta = np.asarray(fit.theta) * 0.97
    starts = np.arange(0, len(x), 4)
    sums = score_sums(fit.model, theta, rows, starts, blocks).sum(axis=0)
    _, grad = MLMoments(fit.model, [c], [m], [len(x)]).value_and_gradient(theta)
    np.testing.assert_allclose(sums, -len(x) * grad, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("clustered", [False, True])
def test_full_sample_se_is_the_sandwich_of_the_core(fit, data, clustered):
    cl = np.arange(len(data)) // 5 if clustered else None
    boot = bootstrap(fit, n_boot=20, seed=1, n_jobs=1, studentize=True, cluster=cl)
    n = len(data)
    a_inv = np.linalg.inv(fit.objective.information(fit.theta) * n)
    meat = first_order_information(fit.objective, fit.theta, None if cl is None else [cl]) * n
    vcov = a_inv @ meat @ a_inv
    want = np.concatenate([np.sqrt(np.diag(vcov)), np.sqrt(np.diag(fit.defined.vcov(fit.theta, vcov)))])
    np.testing.assert_allclose(boot.se_hat, want, rtol=1e-9)
    assert boot.se.shape == (20, len(want))
    assert boot.counts()["n_boot_no_se"] == 0
    assert boot.unit == ("cluster" if clustered else "row")


def test_draw_se_is_the_sandwich_of_the_resample(fit, data):
    """A draw's SE equals the core's cluster-robust sandwich refitted on that resample."""
    cl = np.arange(len(data)) // 5
    boot = bootstrap(fit, n_boot=3, seed=11, n_jobs=1, studentize=True, cluster=cl)
    index = resample_indices(np.random.default_rng(11), 3, len(data), cluster=cl)[1]
    starts = cluster_starts(index, cl)
    copy = np.zeros(len(index), dtype=int)
    copy[starts[1:]] = 1
    resample = data.iloc[index].reset_index(drop=True)
    refit = sem(MODEL, resample)
    n = len(resample)
    theta = np.asarray(refit.theta)
    np.testing.assert_allclose(boot.theta[1], theta, rtol=1e-4, atol=1e-5)
    a_inv = np.linalg.inv(refit.objective.information(theta) * n)
    meat = first_order_information(refit.objective, theta, [np.cumsum(copy)]) * n
    se = np.sqrt(np.diag(a_inv @ meat @ a_inv))
    np.testing.assert_allclose(boot.se[1, :len(se)], se, rtol=1e-3)


def test_draw_se_with_fixed_x_covariates_is_the_sandwich_of_the_resample(data):
    """With fixed.x covariates each draw has its own covariate moments (as lavaan refits a
    bootstrap sample): the draw's SE is the sandwich of a full fit of the resample, not one
    computed with the full sample's covariate variances (1-4% off on this model)."""
    model = "dem60 =~ y1 + y2 + y3 + y4\ndem60 ~ x1 + x2"
    fit = sem(model, data)
    boot = bootstrap(fit, n_boot=3, seed=5, n_jobs=1, studentize=True)
    index = resample_indices(np.random.default_rng(5), 3, len(data))[2]
    resample = data.iloc[index].reset_index(drop=True)
    refit = sem(model, resample)
    theta = np.asarray(refit.theta)
    np.testing.assert_allclose(boot.theta[2], theta, rtol=1e-4, atol=1e-5)
    n = len(resample)
    a_inv = np.linalg.inv(refit.objective.information(theta) * n)
    meat = first_order_information(refit.objective, theta) * n
    se = np.sqrt(np.diag(a_inv @ meat @ a_inv))
    np.testing.assert_allclose(boot.se[2, :len(se)], se, rtol=1e-3)
    # the fit's own model keeps the full sample's covariate moments
    np.testing.assert_array_equal(fit.model.implied(fit.theta)[0][0], sem(model, data).implied[0][0])


def test_studentized_ci_from_known_t():
    rng = np.random.default_rng(0)
    t = rng.standard_t(5, size=(4001, 2))
    se_draws = rng.uniform(0.5, 2.0, size=t.shape)
    est, se = np.array([1.0, -2.0]), np.array([0.3, 0.7])
    lo, hi = studentized_ci(est + t * se_draws, se_draws, est, se, 0.90)
    q_lo, q_hi = np.quantile(t, [0.05, 0.95], axis=0)
    np.testing.assert_allclose(lo, est - q_hi * se)
    np.testing.assert_allclose(hi, est - q_lo * se)


def test_studentized_ci_skips_draws_without_se():
    draws = np.array([[1.0], [2.0], [3.0], [np.nan]])
    se_draws = np.array([[1.0], [np.nan], [1.0], [1.0]])
    lo, hi = studentized_ci(draws, se_draws, np.array([2.0]), np.array([1.0]), 0.5)
    q = np.quantile([-1.0, 1.0], [0.25, 0.75])
    assert (lo[0], hi[0]) == pytest.approx((2 - q[1], 2 - q[0]))


def test_symmetric_studentized_ci_uses_the_quantile_of_abs_t():
    rng = np.random.default_rng(1)
    t = rng.standard_t(4, size=(2001, 1)) + 0.3
    se_draws = rng.uniform(0.5, 2.0, size=t.shape)
    lo, hi = studentized_ci(3.0 + t * se_draws, se_draws, np.array([3.0]), np.array([0.5]), 0.95,
                            symmetric=True)
    c = np.quantile(np.abs(t), 0.95)
    assert (lo[0], hi[0]) == pytest.approx((3.0 - 0.5 * c, 3.0 + 0.5 * c))


def test_cluster_jackknife_acceleration_of_a_mean():
    """Leave-one-cluster-out acceleration of a mean of equal clusters, by hand.

    Dropping cluster k moves the mean by (ybar_k - ybar)/(G-1), so
    a = sum d^3 / (6 (sum d^2)^1.5) with d the centred cluster means.
    """
    rng = np.random.default_rng(5)
    g, m = 9, 4
    cl = np.repeat(np.arange(g), m)
    y = np.repeat(rng.lognormal(0, 1, g), m) + rng.normal(0, 0.3, g * m)
    f = sem("y ~ 1", pd.DataFrame({"y": y}), meanstructure=True)
    b = bootstrap(f, n_boot=10, seed=1, n_jobs=1, bca=True, cluster=cl, studentize=True)
    d = y.reshape(g, m).mean(axis=1)
    d = d - d.mean()
    want = np.sum(d ** 3) / (6 * np.sum(d ** 2) ** 1.5)
    assert b.accel[b.names.index("y~1")] == pytest.approx(want, rel=1e-6)
    cols = set(b.intervals().columns)
    assert {"boot_ci_lower_bca", "boot_ci_lower_t", "boot_ci_upper_st", "se_sandwich"} <= cols


def test_bootstrap_estimates_report_the_chosen_interval(fit):
    from analysis.sem.bootstrap import INTERVAL_COLUMNS, bootstrap_estimates

    boot = bootstrap(fit, n_boot=30, seed=2, n_jobs=1, studentize=True)
    iv = boot.intervals().set_index("name")
    est = bootstrap_estimates(fit, boot, interval="symmetric-t")
    row = est[est["lhs"] == "ind"].iloc[0]
    lo, hi = INTERVAL_COLUMNS["symmetric-t"]
    assert (row["ci_lower"], row["ci_upper"]) == (iv.loc["ind", lo], iv.loc["ind", hi])
    assert row["se_sandwich"] == iv.loc["ind", "se_sandwich"]
    with pytest.raises(ValueError, match="bca=True"):
        bootstrap_estimates(fit, boot, interval="bca")
