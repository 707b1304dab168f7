"""Two-level models with variables observed at one level only, against lavaan 0.6.14.

lavaan's within-only variables (written under ``level: 1`` only: no between
part, their means are level-1 intercepts) and between-only variables (written
under ``level: 2`` only: cluster-level, constant within clusters).

References: ``tests/reference/lavaan_wlsmv_twolevel_extra.R`` (printed output
``lavaan_wlsmv_twolevel_extra.Rout``), results
``tests/reference/lavaan/wlsmvtl_tl_*``, data
``tests/reference/data/Demo_twolevel.csv`` (lavaan's Demo.twolevel: x1..x3
within-only, w1, w2 cluster-level).

Rows are matched on ``lhs, op, rhs, level``; a row of either side without a
partner fails the test.  Tolerances (as ``tests/sem/test_twolevel.py``, whose
header explains lavaan's optimizer precision): at lavaan's own estimates the
core's ``fmin`` agrees to 1e-12, ``logl`` to 1e-8 and the standard errors to
1e-7 (relative); at the core's optimum, estimates within 0.002 standard
errors (``EST_SE_SHARE``), standard errors within 5e-4 relative
(``SE_RTOL``), ``std_all`` within 1e-4 relative plus the same share of a
standard error, and each fit measure within ``FIT_TOL``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem import sem
from analysis.sem.twolevel import TwoLevelResult, cluster_data, em_saturated, loglik_twolevel

from sem_ref import REF, fit_mismatches, level_mismatches, read_estimates, read_fit

SIMPLE = """
level: 1
  y1 ~ x1
level: 2
  y1 ~ w1
"""
DEMO = """
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1 + w2
"""
ROLES = """
level: 1
  fw =~ y1 + y2 + y3 + x2
  fw ~ x1
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1
  w2 ~ fb
"""
#: case -> (model, sem() keyword arguments)
CASES = {
    "tl_simple": (SIMPLE, {}),
    "tl_demo": (DEMO, {}),
    "tl_roles": (ROLES, {}),
    "tl_demo_freex": (DEMO, {"fixed_x": False}),
}
KEY = ["lhs", "op", "rhs", "level"]
EST_SE_SHARE = 2e-3   # |est - lavaan| <= EST_SE_SHARE * se + 1e-9
SE_RTOL = 5e-4
STD_RTOL = 1e-4
#: lavaan fitMeasures() name -> (key of .fit, absolute tolerance)
FIT_TOL = {
    "npar": ("npar", 0), "df": ("df", 0), "ntotal": ("nobs", 0), "baseline.df": ("baseline_df", 0),
    "fmin": ("fmin", 1e-9), "logl": ("loglik", 1e-5), "unrestricted.logl": ("unrestricted_loglik", 1e-7),
    "chisq": ("chisq", 1e-4), "pvalue": ("pvalue", 1e-6), "baseline.chisq": ("baseline_chisq", 1e-4),
    "cfi": ("cfi", 1e-7), "tli": ("tli", 1e-7), "rmsea": ("rmsea", 1e-7),
    "rmsea.ci.lower": ("rmsea_ci_lower", 1e-7), "rmsea.ci.upper": ("rmsea_ci_upper", 1e-7),
    "srmr": ("srmr", 2e-5), "srmr_within": ("srmr_within", 2e-5),
    "srmr_between": ("srmr_between", 2e-5), "aic": ("aic", 2e-5), "bic": ("bic", 2e-5),
}


@pytest.fixture(scope="module")
def demo():
    return pd.read_csv(REF / "data" / "Demo_twolevel.csv")


@pytest.fixture(scope="module")
def fits(demo):
    return {case: sem(model, demo, cluster="cluster", **kw) for case, (model, kw) in CASES.items()}


def _ref(case):
    return (read_estimates(REF / "lavaan" / f"wlsmvtl_{case}_estimates.csv"),
            read_fit(REF / "lavaan" / f"wlsmvtl_{case}_fit.csv"))


def _matched(ours: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    """Reference and core rows side by side; fails on any row without a partner."""
    assert not ours.duplicated(KEY).any() and not ref.duplicated(KEY).any()
    m = ref.merge(ours, on=KEY, how="outer", suffixes=("_ref", ""), indicator=True)
    lonely = m[m["_merge"] != "both"]
    assert lonely.empty, f"rows without a partner (left_only = lavaan only):\n{lonely[KEY + ['_merge']]}"
    return m


def _lavaan_theta(fit, ref):
    """lavaan's estimates as the core's free-parameter vector."""
    m = fit.partable[fit.partable["op"] != ":="].merge(
        ref[KEY + ["est", "se"]], on=KEY, how="left", validate="one_to_one")
    theta = np.full(fit.model.n_free, np.nan)
    for k, est in zip(m["free"], m["est"]):
        if k > 0:
            theta[k - 1] = est
    assert np.isfinite(theta).all()
    return theta, m


@pytest.mark.parametrize("case", list(CASES))
def test_likelihood_and_standard_errors_at_lavaans_estimates(fits, case):
    fit = fits[case]
    ref, rfit = _ref(case)
    theta, m = _lavaan_theta(fit, ref)
    obj = fit.objective
    assert obj.value(theta) == pytest.approx(rfit["fmin"], rel=0, abs=1e-12)
    # lavaan's logl is conditional on the one-level fixed-x covariates
    assert obj.loglik(theta) - fit.levels.loglik_x(fit.stats) == pytest.approx(rfit["logl"], rel=0, abs=1e-8)
    se = np.sqrt(np.diag(obj.vcov(theta)))
    free = m["free"].to_numpy()
    np.testing.assert_allclose(se[free[free > 0] - 1], m.loc[free > 0, "se"], rtol=1e-7, atol=0)


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_match_lavaan(fits, case):
    fit = fits[case]
    ref, rfit = _ref(case)
    assert isinstance(fit, TwoLevelResult) and fit.levels is not None and fit.converged and not fit.issues
    assert fit.objective.value(fit.theta) <= rfit["fmin"] + 1e-12
    m = _matched(fit.estimates, ref)
    assert (m["block"] == m["block_ref"]).all() and (m["label"] == m["label_ref"]).all()
    bad = level_mismatches(m, est_se_share=EST_SE_SHARE, se_rtol=SE_RTOL, std_rtol=STD_RTOL, std_nan_both=True)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("case", list(CASES))
def test_fit_measures_match_lavaan(fits, case):
    fit = fits[case]
    _, rfit = _ref(case)
    bad = fit_mismatches(fit.fit, rfit, FIT_TOL)
    assert not bad, "\n".join(bad)


def test_roles_of_the_variables(fits):
    """Within-only: no level-2 rows, free level-1 mean (unless fixed x); between-only: level 2 only."""
    est = fits["tl_roles"].estimates
    for v in ("x1", "x2"):
        assert (est.loc[est["lhs"] == v, "level"] == 1).all()
    for v in ("w1", "w2"):
        assert (est.loc[(est["lhs"] == v) | (est["rhs"] == v), "level"] == 2).all()
    x2_mean = est[(est["lhs"] == "x2") & (est["op"] == "~1")].iloc[0]
    assert x2_mean["level"] == 1 and x2_mean["se"] > 0          # free, within-only indicator
    x1_mean = est[(est["lhs"] == "x1") & (est["op"] == "~1")].iloc[0]
    assert x1_mean["se"] == 0                                   # fixed-x covariate
    y_means = est[(est["lhs"].isin(["y1", "y2", "y3"])) & (est["op"] == "~1")]
    assert (y_means[y_means["level"] == 1]["est"] == 0).all()
    notes = " ".join(fits["tl_roles"].notes)
    assert "Within-only variables" in notes and "['x2', 'x1']" in notes
    assert "Between-only variables" in notes and "['w2', 'w1']" in notes


def test_fixed_x_values_are_lavaans_em_moments(fits, demo):
    """Fixed-x rows: within-only x at the EM level-1 moments, cluster-level w at the EM between ones."""
    fit = fits["tl_demo"]
    h1 = fit.h1
    ref, rfit = _ref("tl_demo")
    assert h1.converged and h1.loglik - fit.levels.loglik_x(fit.stats) == pytest.approx(
        rfit["unrestricted.logl"], rel=0, abs=1e-7)
    r = ref.set_index(["lhs", "op", "rhs", "level"])["est"]
    pos = {v: i for i, v in enumerate(fit.stats.ov_names)}
    for x in ("x1", "x2", "x3"):
        assert r[(x, "~~", x, 1)] == pytest.approx(h1.sigma_w[pos[x], pos[x]], abs=1e-10)
        assert r[(x, "~1", "", 1)] == pytest.approx(h1.mu_w[pos[x]], abs=1e-10)
        assert h1.mu_b[pos[x]] == 0 and not h1.sigma_b[pos[x]].any()
    for w in ("w1", "w2"):
        assert r[(w, "~~", w, 2)] == pytest.approx(h1.sigma_b[pos[w], pos[w]], abs=1e-10)
        assert r[(w, "~1", "", 2)] == pytest.approx(h1.mu_b[pos[w]], abs=1e-10)
        assert h1.mu_w[pos[w]] == 0 and not h1.sigma_w[pos[w]].any()
    # the cluster-level moments are the moments of the cluster values (divisor J)
    wv = demo.groupby("cluster", sort=False)[["w1", "w2"]].first().to_numpy()
    np.testing.assert_allclose(h1.sigma_b[np.ix_([pos["w1"], pos["w2"]], [pos["w1"], pos["w2"]])],
                               np.cov(wv.T, bias=True), rtol=1e-12)


def test_gradient_is_the_derivative_of_fmin(fits):
    fit = fits["tl_roles"]
    obj = fit.objective
    rng = np.random.default_rng(11)
    theta = fit.theta + rng.normal(scale=0.01, size=fit.theta.size)
    grad = obj.gradient(theta)
    h = 1e-6
    num = np.array([(obj.value(theta + h * e) - obj.value(theta - h * e)) / (2 * h)
                    for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-8)
    info = obj.information(fit.theta)
    assert np.allclose(info, info.T) and np.linalg.eigvalsh(info).min() > 0


def test_loglik_with_a_cluster_level_variable_is_the_joint_density(demo):
    """One cluster-level z and one level-1 y: the formula against a direct evaluation."""
    d = demo[demo["cluster"] <= 12]
    cd = cluster_data(d, ["y1", "w1"], "cluster", between=["w1"])
    sw = np.array([[1.7, 0.0], [0.0, 0.0]])
    sb = np.array([[0.6, 0.2], [0.2, 0.9]])
    mu = np.array([0.1, -0.05])
    ours = loglik_twolevel(cd, sw, sb, mu)
    direct = 0.0
    for _, g in d.groupby("cluster"):
        y = g["y1"].to_numpy()
        n = y.size
        cov = np.zeros((n + 1, n + 1))   # (z, y_1..y_n)
        cov[0, 0] = sb[1, 1]
        cov[0, 1:] = cov[1:, 0] = sb[0, 1]
        cov[1:, 1:] = sb[0, 0] + sw[0, 0] * np.eye(n)
        v = np.concatenate([[g["w1"].iloc[0]], y]) - np.concatenate([[mu[1]], np.full(n, mu[0])])
        direct += -0.5 * ((n + 1) * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1]
                          + v @ np.linalg.solve(cov, v))
    assert ours == pytest.approx(direct, rel=0, abs=1e-8)
    em = em_saturated(cd)
    assert em.converged and np.isfinite(em.loglik)


def test_cluster_level_variable_that_varies_within_a_cluster_is_an_error(demo):
    d = demo.copy()
    d.loc[4, "w1"] += 1.0   # row 5 is in cluster 1 (lavaan only warns; see the .Rout)
    with pytest.raises(ValueError, match=r"'w1'.*varies within cluster 1 of 'cluster'"):
        sem(DEMO, d, cluster="cluster")
    # the same variable written at both levels is a level-1 variable: no such check
    ok = sem("level: 1\n y1 ~ w1\nlevel: 2\n y1 ~ w1", d.assign(w1=d["w1"] + 0.01 * d["y2"]),
             cluster="cluster")
    assert ok.converged
