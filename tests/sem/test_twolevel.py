"""Two-level SEM (``level: 1`` / ``level: 2`` with ``cluster=``) and single-level
``cluster=`` against lavaan 0.6.14.

References: ``tests/reference/lavaan_twolevel.R`` (its output
``lavaan_twolevel.Rout``), results in ``tests/reference/lavaan/twolevel_*``,
data ``tests/reference/data/Demo_twolevel.csv`` (lavaan's Demo.twolevel) and
``twolevel_paths.csv`` (``tests/reference/make_twolevel_paths.py``).

Tolerances.  lavaan's optimizer stops the two-level fits with a gradient of
about 1e-6 (fmin scale), so its estimates of flat directions sit up to ~1e-4
(relative) from the exact maximum, which the core reaches (its fmin is lower
than lavaan's).  The likelihood, the fixed-x values and the standard errors
are therefore checked twice: at lavaan's own estimates, where they must agree
to ~1e-10 (fmin, logl) and 1e-6 (SEs, relative); and at the core's optimum,
where estimates must lie within 0.002 standard errors of lavaan's (``atol =
2e-3 * se``), SEs within 5e-4 (relative), ``std_all`` within 1e-4 (relative)
plus the same 0.002 standard errors scaled to the standardized metric, and
each fit measure within the tolerance stated in ``FIT_TOL``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem import cfa, sem
from analysis.sem.partable import build_partable, build_partable_levels
from analysis.sem.syntax import parse_syntax
from analysis.sem.twolevel import TwoLevelResult, cluster_data, em_saturated

from sem_ref import REF, fit_mismatches, level_mismatches, read_estimates, read_fit

DEMO_CFA = """
level: 1
  fw =~ y1 + y2 + y3
level: 2
  fb =~ y1 + y2 + y3
"""
DEMO_CFA6 = """
level: 1
  fw1 =~ y1 + y2 + y3
  fw2 =~ y4 + y5 + y6
level: 2
  fb1 =~ y1 + y2 + y3
  fb2 =~ y4 + y5 + y6
"""
PATHS = """
level: 1
  m1 ~ a1w*x
  m2 ~ a2w*x
  m3 ~ a3w*x
  m4 ~ a4w*x
  y ~ b1w*m1 + b2w*m2 + b3w*m3 + b4w*m4 + cw*x
  m1 ~~ m2 + m3 + m4
  m2 ~~ m3 + m4
  m3 ~~ m4
level: 2
  m1 ~ a1b*x
  m2 ~ a2b*x
  m3 ~ a3b*x
  m4 ~ a4b*x
  y ~ b1b*m1 + b2b*m2 + b3b*m3 + b4b*m4
ind1_w := a1w*b1w
ind_w := a1w*b1w + a2w*b2w + a3w*b3w + a4w*b4w
total_w := cw + a1w*b1w + a2w*b2w + a3w*b3w + a4w*b4w
ind1_b := a1b*b1b
ind_b := a1b*b1b + a2b*b2b + a3b*b3b + a4b*b4b
diff_1 := a1b*b1b - a1w*b1w
"""


def _saturated_level(s: str) -> str:
    return f"""
  m1 ~ a1{s}*x
  m2 ~ a2{s}*x
  m3 ~ a3{s}*x
  m4 ~ a4{s}*x
  y ~ b1{s}*m1 + b2{s}*m2 + b3{s}*m3 + b4{s}*m4 + c{s}*x
  m1 ~~ m2 + m3 + m4
  m2 ~~ m3 + m4
  m3 ~~ m4
"""


#: The study's shape: saturated mediation at both levels, := effects per level.
PATHS_SAT = ("level: 1\n" + _saturated_level("w") + "level: 2\n" + _saturated_level("b")
             + "\n".join([f"ind{k}_{s} := a{k}{s}*b{k}{s}" for s in "wb" for k in range(1, 5)]
                         + [f"total_ind_{s} := " + " + ".join(f"a{k}{s}*b{k}{s}" for k in range(1, 5))
                            for s in "wb"]
                         + [f"total_{s} := c{s} + " + " + ".join(f"a{k}{s}*b{k}{s}" for k in range(1, 5))
                            for s in "wb"]) + "\n")
CFA2 = "f1 =~ y1 + y2 + y3\nf2 =~ y4 + y5 + y6"

#: case -> (data set, model, sem() keyword arguments)
TWOLEVEL_CASES = {
    "demo_cfa": ("demo", DEMO_CFA, {}),
    "demo_cfa6": ("demo", DEMO_CFA6, {}),
    "paths": ("paths", PATHS, {}),
    "paths_freex": ("paths", PATHS, {"fixed_x": False}),
    "paths_sat": ("paths", PATHS_SAT, {}),
}
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
def data():
    return {"demo": pd.read_csv(REF / "data" / "Demo_twolevel.csv"),
            "paths": pd.read_csv(REF / "data" / "twolevel_paths.csv")}


@pytest.fixture(scope="module")
def fits(data):
    return {case: sem(model, data[d], cluster="cluster", **kw)
            for case, (d, model, kw) in TWOLEVEL_CASES.items()}


def _ref(case):
    return (read_estimates(REF / "lavaan" / f"twolevel_{case}_estimates.csv"),
            read_fit(REF / "lavaan" / f"twolevel_{case}_fit.csv"))


def _lavaan_theta(fit, ref):
    """lavaan's estimates as the core's free-parameter vector."""
    pt = fit.partable.rename(columns={"group": "block"})
    m = pt.merge(ref, on=["lhs", "op", "rhs", "block"], how="left")
    theta = np.full(fit.model.n_free, np.nan)
    for k, est in zip(m["free"], m["est"]):
        if k > 0:
            theta[k - 1] = est
    assert np.isfinite(theta).all()
    return theta


# --------------------------------------------------------------------------
# two-level ML against lavaan
# --------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(TWOLEVEL_CASES))
def test_likelihood_and_standard_errors_at_lavaans_estimates(fits, case):
    fit = fits[case]
    ref, rfit = _ref(case)
    theta = _lavaan_theta(fit, ref)
    obj = fit.objective
    assert obj.value(theta) == pytest.approx(rfit["fmin"], rel=0, abs=1e-12)
    assert obj.loglik(theta) == pytest.approx(rfit["logl"], rel=0, abs=1e-7)
    vcov = obj.vcov(theta)
    se_free = np.sqrt(np.diag(vcov))
    m = fit.partable.rename(columns={"group": "block"}).merge(
        ref, on=["lhs", "op", "rhs", "block"], how="left")
    free = m["free"].to_numpy()
    np.testing.assert_allclose(se_free[free[free > 0] - 1], m.loc[free > 0, "se"], rtol=1e-6)
    if fit.defined.defs:
        d = ref[ref["op"] == ":="].set_index("lhs")
        names = fit.defined.names
        np.testing.assert_allclose(fit.defined.values(theta), d.loc[names, "est"], rtol=1e-9)
        dse = np.sqrt(np.diag(fit.defined.vcov(theta, vcov)))
        np.testing.assert_allclose(dse, d.loc[names, "se"], rtol=1e-6)


@pytest.mark.parametrize("case", list(TWOLEVEL_CASES))
def test_estimates_match_lavaan(fits, case):
    fit = fits[case]
    ref, rfit = _ref(case)
    assert isinstance(fit, TwoLevelResult) and fit.levels is not None and fit.converged and not fit.issues
    assert fit.objective.value(fit.theta) <= rfit["fmin"] + 1e-12  # at least as good as lavaan's
    est = fit.estimates
    assert list(est.columns) == ["lhs", "op", "rhs", "block", "level", "group", "label", "est",
                                 "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all"]
    key = ["lhs", "op", "rhs", "block"]
    assert len(est) == len(ref) and not est.duplicated(key).any()
    m = ref.merge(est, on=key, how="left", suffixes=("_ref", ""), indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", key]
    assert (m["level"] == m["level_ref"]).all() and (m["label"] == m["label_ref"]).all()
    bad = level_mismatches(m)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("case", list(TWOLEVEL_CASES))
def test_fit_measures_match_lavaan(fits, case):
    fit = fits[case]
    _, rfit = _ref(case)
    bad = fit_mismatches(fit.fit, rfit, FIT_TOL)
    assert not bad, "\n".join(bad)


def test_saturated_model_is_lavaans_em(data):
    """The EM reproduces lavaan's H1 (unrestricted.logl) and its fixed-x values."""
    cd = cluster_data(data["paths"], ["m1", "m2", "m3", "m4", "y", "x"], "cluster")
    h1 = em_saturated(cd)
    _, rfit = _ref("paths")
    assert h1.converged and h1.loglik == pytest.approx(rfit["unrestricted.logl"], rel=0, abs=1e-7)
    ref, _ = _ref("paths")
    xrows = ref[(ref["lhs"] == "x") & (ref["rhs"].isin(["x", ""]))].set_index(["op", "level"])["est"]
    # lavaan fixes x at the EM within/between variances and the between part of its mean
    assert xrows[("~~", 1)] == pytest.approx(h1.sigma_w[5, 5], abs=1e-10)
    assert xrows[("~~", 2)] == pytest.approx(h1.sigma_b[5, 5], abs=1e-10)
    assert xrows[("~1", 2)] == pytest.approx(h1.mu_b[5], abs=1e-10)
    assert xrows[("~1", 1)] == 0.0


def test_study_shape_converges_from_default_starts(fits, data):
    """Saturated at both levels: df 0; lavaan's fixed-x quirk gives chisq 1.943."""
    fit = fits["paths_sat"]
    assert fit.converged and fit.n_iter < 100
    assert fit.fit["df"] == 0 and fit.fit["chisq"] == pytest.approx(1.943, abs=5e-4)
    est = fit.estimates
    defs = est[est["op"] == ":="]
    assert set(defs["lhs"]) >= {"ind1_w", "ind4_b", "total_ind_w", "total_ind_b"}
    assert (defs["level"] == 0).all() and (defs["se"] > 0).all()
    free = sem(PATHS_SAT, data["paths"], cluster="cluster", fixed_x=False)
    assert free.converged and free.fit["chisq"] == pytest.approx(0.0, abs=1e-6)


def test_gradient_is_the_derivative_of_fmin(fits):
    fit = fits["paths"]
    obj = fit.objective
    rng = np.random.default_rng(7)
    theta = fit.theta + rng.normal(scale=0.01, size=fit.theta.size)
    grad = obj.gradient(theta)
    h = 1e-6
    num = np.array([(obj.value(theta + h * e) - obj.value(theta - h * e)) / (2 * h)
                    for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-8)
    info = obj.information(fit.theta)
    assert np.allclose(info, info.T) and np.linalg.eigvalsh(info).min() > 0
    # at the optimum the expected and observed information are close (correct model)
    obs = obj.information(fit.theta, kind="observed")
    assert np.abs(np.diag(info) / np.diag(obs) - 1).max() < 0.2


# --------------------------------------------------------------------------
# data handling and errors
# --------------------------------------------------------------------------
def test_listwise_deletion_is_reported(fits, data):
    fit = fits["paths"]
    assert fit.fit["nobs"] == 1206 and fit.fit["n_dropped"] == 8 and fit.fit["nclusters"] == 60
    assert any("8 rows" in n for n in fit.notes)
    assert "Rows dropped (missing)" in fit.summary()
    d = data["paths"].copy()
    d.loc[[0, 1, 2], "cluster"] = np.nan
    refit = sem(PATHS, d, cluster="cluster")
    assert refit.fit["n_dropped"] == 11 and refit.fit["nobs"] == 1203
    assert any("no cluster" in n for n in refit.notes)
    assert refit.to_dict()["notes"] == refit.notes


def test_cluster_level_variable_at_both_levels_raises(data):
    # variables written at one level only are fitted (tests/sem/test_twolevel_onelevel.py);
    # a cluster-level variable written at both levels has no within variance
    with pytest.raises(NotImplementedError, match=r"\['w1'\] do not vary within clusters"):
        sem("level: 1\n y1 ~ w1\nlevel: 2\n y1 ~ w1", data["demo"], cluster="cluster")


def test_bad_cluster_and_options_are_explained(data):
    d = data["demo"]
    with pytest.raises(ValueError, match="cluster column 'school' is not in the data"):
        sem(DEMO_CFA, d, cluster="school")
    with pytest.raises(ValueError, match="cluster column 'school' is not in the data"):
        cfa(CFA2, d, cluster="school")
    with pytest.raises(ValueError, match="give the cluster column"):
        sem(DEMO_CFA, d)
    with pytest.raises(NotImplementedError, match="ML only"):
        sem(DEMO_CFA, d, cluster="cluster", estimator="MLR")
    with pytest.raises(NotImplementedError, match="listwise"):
        sem(DEMO_CFA, d, cluster="cluster", missing="fiml")
    with pytest.raises(NotImplementedError, match="two-level models only"):
        cfa(CFA2, d, fixed_x=False)
    with pytest.raises(ValueError, match="level: 2"):
        sem("level: 1\n fw =~ y1 + y2 + y3", d, cluster="cluster")


def test_level_syntax():
    f = parse_syntax("level: within\n f =~ a + b\nlevel: between\n g =~ a + b\nd := 2*1")
    assert [x.level for x in f] == [1, 1, 2, 2, 2]
    assert all(x.level == 0 for x in parse_syntax("f =~ a + b"))
    for text, msg in [("group: 1\n f =~ a + b", "not supported"),
                      ("f =~ a + b\nlevel: 1\n g =~ a + b", "must follow a 'level:' line"),
                      ("level: 3\n f =~ a + b", "unknown level"),
                      ("level: 1\n f =~ a\nlevel: 1\n g =~ b", "appears twice")]:
        with pytest.raises(ValueError, match=msg):
            parse_syntax(text)
    with pytest.raises(ValueError, match="build_partable_levels"):
        build_partable(DEMO_CFA)
    pt, levels = build_partable_levels(DEMO_CFA)
    within_int = pt[(pt["level"] == 1) & (pt["op"] == "~1")]
    assert (within_int["free"] == 0).all() and (within_int["ustart"] == 0).all()
    assert (pt[(pt["level"] == 2) & (pt["op"] == "~1") & pt["lhs"].str.startswith("y")]["free"] > 0).all()
    with pytest.raises(ValueError, match="estimated at level 2"):
        build_partable_levels("level: 1\n f =~ a + b\n a ~ 1\nlevel: 2\n g =~ a + b")


# --------------------------------------------------------------------------
# single-level model with cluster= (cluster-robust SEs)
# --------------------------------------------------------------------------
def test_single_level_cluster_robust_matches_lavaan(data):
    fit = cfa(CFA2, data["demo"], cluster="cluster")
    assert fit.options["se"] == "robust.cluster" and fit.model.meanstructure
    ref, rfit = _ref("demo_cluster")
    est = fit.estimates
    m = ref.merge(est, on=["lhs", "op", "rhs", "group"], suffixes=("_ref", ""))
    assert len(m) == len(ref) == len(est)
    np.testing.assert_allclose(m["est"], m["est_ref"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(m["se"], m["se_ref"], rtol=1e-5, atol=1e-8)
    for lav, ours in [("chisq", "chisq"), ("df", "df"), ("cfi", "cfi"), ("rmsea", "rmsea"),
                      ("srmr", "srmr"), ("logl", "loglik")]:
        assert fit.fit[ours] == pytest.approx(rfit[lav], rel=1e-6, abs=1e-8), lav
    # the scaled test is lavaan's estimator = "MLR" (with the default "ML", lavaan 0.6.14
    # approximates the test's observed information by its h1 form: scaling factor 1.586)
    _, rmlr = _ref("demo_cluster_mlr")
    for lav, ours in [("chisq.scaled", "chisq_scaled"), ("chisq.scaling.factor", "scaling_factor"),
                      ("baseline.chisq.scaled", "baseline_chisq_scaled"), ("cfi.robust", "cfi_robust"),
                      ("rmsea.robust", "rmsea_robust"), ("tli.scaled", "tli_scaled")]:
        assert fit.fit[ours] == pytest.approx(rmlr[lav], rel=1e-5), lav
    assert rfit["chisq.scaling.factor"] == pytest.approx(1.5862, abs=1e-4)
    # rows without a cluster are dropped and counted
    d = data["demo"].copy()
    d.loc[[0, 1], "cluster"] = np.nan
    fit2 = cfa(CFA2, d, cluster="cluster")
    assert fit2.stats.n_dropped == 2 and fit2.fit["nobs"] == 2498


def test_std_lv_and_labels_shared_across_levels(fits, data):
    """std_lv reparameterizes (same likelihood); a label used at both levels is one parameter."""
    base = fits["demo_cfa"]
    stdlv = sem(DEMO_CFA, data["demo"], cluster="cluster", std_lv=True)
    assert stdlv.converged
    assert stdlv.fit["loglik"] == pytest.approx(base.fit["loglik"], abs=1e-6)
    equal = sem("level: 1\n fw =~ y1 + a*y2 + b*y3\nlevel: 2\n fb =~ y1 + a*y2 + b*y3",
                data["demo"], cluster="cluster")
    assert equal.converged and equal.fit["npar"] == base.fit["npar"] - 2
    assert equal.fit["df"] == 2 and equal.fit["chisq"] > 0
    est = equal.estimates.set_index(["lhs", "op", "rhs", "level"])["est"]
    assert est[("fw", "=~", "y2", 1)] == est[("fb", "=~", "y2", 2)]
