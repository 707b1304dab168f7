"""WLSMV / DWLS on continuous and on mixed ordinal/continuous indicators, against lavaan 0.6.14.

As lavaan, ``sem(model, data, estimator="WLSMV")`` without ``ordered`` treats
the indicators as continuous (DWLS on the covariance matrix, robust SEs,
scaled-shifted test), and ``ordered=[some]`` fits a mixture (thresholds,
means and variances; polychoric, polyserial and Pearson correlations).

References: ``tests/reference/lavaan_wlsmv_twolevel_extra.R`` (printed output
``lavaan_wlsmv_twolevel_extra.Rout``), results
``tests/reference/lavaan/wlsmvtl_hs_*``, data
``tests/reference/data/HolzingerSwineford1939.csv`` and ``HS_mixed.csv``
(written by that script: x1..x3 the 4-category codes of ``HS_ordinal.csv``,
x4..x9 continuous, ``x6c`` = x6 cut into 14 categories).

Rows are matched on ``lhs, op, rhs, group``; a row of either side without a
partner fails.  Tolerances: the sample statistics (``wls.obs`` and the
diagonal of Gamma) agree to 1e-12 for continuous data and to 1e-7
(relative) for mixed data, where lavaan's polyserial correlations are
``nlminb`` optima (about 1e-8 from the exact root the core finds).  At
lavaan's estimates ``fmin``, the test statistics and the standard errors
agree to ``AT_LAVAAN`` (relative); at the core's optimum -- lavaan's optimizer
stops with an ``fmin`` up to 3e-11 above the core's -- estimates within
``EST_ATOL``, standard errors within ``SE_ATOL``, ``std_all`` within
``STD_ATOL`` and the fit measures within ``FIT_RTOL`` (relative).
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from analysis.sem import cfa, sem
from analysis.sem.dwls import OrdinalSEMResult, scaled_test, sem_ordinal, sem_wls
from analysis.sem.ordinal import continuous_stats, mixed_stats
from analysis.sem.polychoric import polyserial, polyserial_pair

from sem_ref import REF, read_estimates, read_fit

HS = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""
HS_SEM = HS + """
textual ~ a*visual
speed ~ b*textual + visual
x2 ~~ x3
ab := a*b
"""
HS_X = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
visual + textual ~ sex + ageyr
"""
MANY = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6c"
ORD3 = ["x1", "x2", "x3"]
XS = [f"x{i}" for i in range(1, 10)]

#: case -> (model, data set, sem() keyword arguments)
CASES = {
    "hs_cont": (HS, "hs", {"estimator": "WLSMV"}),
    "hs_cont_group": (HS, "hs", {"estimator": "WLSMV", "group": "school"}),
    "hs_cont_sem": (HS_SEM, "hs", {"estimator": "WLSMV"}),
    "hs_cont_x": (HS_X, "hs", {"estimator": "WLSMV"}),
    "hs_cont_dwls": (HS, "hs", {"estimator": "DWLS"}),
    "hs_mixed": (HS, "mix", {"estimator": "WLSMV", "ordered": ORD3}),
    "hs_mixed_many": (MANY, "mix", {"estimator": "WLSMV", "ordered": ORD3 + ["x6c"]}),
    "hs_mixed_group": (HS, "mix", {"estimator": "WLSMV", "ordered": ORD3, "group": "school"}),
}
KEY = ["lhs", "op", "rhs", "group"]
EST_ATOL = 1e-4
SE_ATOL = 2e-5
STD_ATOL = 5e-5
FIT_RTOL = 2e-6
#: lavaan inverts the non-central chi-square of the RMSEA interval with uniroot's
#: default tolerance: absolute tolerance for the interval bounds
CI_ATOL = 1e-6
#: relative agreement at lavaan's estimates: continuous data, mixed data
AT_LAVAAN = {"continuous": 1e-10, "mixed": 1e-6}
#: ours -> lavaan's fitMeasures() name
FIT_KEYS = {
    "npar": "npar", "df": "df", "fmin": "fmin", "chisq": "chisq", "pvalue": "pvalue",
    "baseline_chisq": "baseline.chisq", "baseline_df": "baseline.df", "cfi": "cfi", "tli": "tli",
    "rmsea": "rmsea", "rmsea_ci_lower": "rmsea.ci.lower", "rmsea_ci_upper": "rmsea.ci.upper",
    "srmr": "srmr",
}
SCALED_KEYS = {
    "chisq_scaled": "chisq.scaled", "df_scaled": "df.scaled", "pvalue_scaled": "pvalue.scaled",
    "scaling_factor": "chisq.scaling.factor",
    "baseline_chisq_scaled": "baseline.chisq.scaled", "cfi_scaled": "cfi.scaled",
    "tli_scaled": "tli.scaled", "rmsea_scaled": "rmsea.scaled",
    "cfi_robust": "cfi.robust", "tli_robust": "tli.robust", "rmsea_robust": "rmsea.robust",
}


@pytest.fixture(scope="module")
def data():
    return {"hs": pd.read_csv(REF / "data" / "HolzingerSwineford1939.csv"),
            "mix": pd.read_csv(REF / "data" / "HS_mixed.csv")}


@pytest.fixture(scope="module")
def fits(data):
    return {case: sem(model, data[d], **kw) for case, (model, d, kw) in CASES.items()}


def _ref(case):
    return (read_estimates(REF / "lavaan" / f"wlsmvtl_{case}_estimates.csv"),
            read_fit(REF / "lavaan" / f"wlsmvtl_{case}_fit.csv"))


def _matched(ours, ref):
    assert not ours.duplicated(KEY).any() and not ref.duplicated(KEY).any()
    m = ref.merge(ours, on=KEY, how="outer", suffixes=("_ref", ""), indicator=True)
    lonely = m[m["_merge"] != "both"]
    assert lonely.empty, f"rows without a partner (left_only = lavaan only):\n{lonely[KEY + ['_merge']]}"
    return m


def _lavaan_theta(fit, ref):
    """lavaan's estimates as the core's free-parameter vector."""
    m = fit.partable[fit.partable["op"] != ":="].merge(ref[KEY + ["est", "se"]], on=KEY,
                                                        how="left", validate="one_to_one")
    theta = np.full(fit.model.n_free, np.nan)
    for k, est in zip(m["free"], m["est"]):
        if k > 0:
            theta[k - 1] = est
    assert np.isfinite(theta).all()
    return theta


def _kind(case):
    return "mixed" if "mixed" in case else "continuous"


# --------------------------------------------------------------------------
# sample statistics
# --------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["hs_cont", "hs_cont_group", "hs_cont_x", "hs_mixed",
                                  "hs_mixed_many"])
def test_wls_statistics_and_gamma_match_lavaan(fits, case):
    fit = fits[case]
    ref = pd.read_csv(REF / "lavaan" / f"wlsmvtl_{case}_wls.csv")
    rtol = 1e-12 if _kind(case) == "continuous" else 1e-7
    for g, st in enumerate(fit.objective.ostats):
        r = ref[ref["group"] == g + 1]
        assert st.wls_names == r["name"].tolist()
        np.testing.assert_allclose(st.wls_obs, r["wls_obs"], rtol=rtol, atol=rtol)
        np.testing.assert_allclose(np.diag(st.gamma), r["gamma_diag"], rtol=rtol, atol=0)


def test_polyserial_correlations_are_lavaans(data):
    d = data["mix"]
    st = mixed_stats(d, XS, ORD3)
    assert st.kind == "mixed" and st.var_idx == (3, 4, 5, 6, 7, 8)
    # the polyserial entries are covariances: correlation times the SD of the continuous one
    r = st.polychoric[3, 0] / np.sqrt(st.polychoric[3, 3])
    assert r == pytest.approx(polyserial(d, "x4", "x1"), abs=1e-12)
    ref = pd.read_csv(REF / "lavaan" / "wlsmvtl_hs_mixed_wls.csv").set_index("name")["wls_obs"]
    assert st.polychoric[3, 0] == pytest.approx(ref["x1~~x4"], abs=1e-8)
    # means enter as minus the mean (lavaan), variances with divisor N
    assert ref["x4~1"] == pytest.approx(-d["x4"].mean(), abs=1e-12)
    assert ref["x4~~x4"] == pytest.approx(d["x4"].var(ddof=0), abs=1e-12)
    # the bounds of lavaan's box
    y = np.arange(200.0)
    codes = np.repeat([1, 2], 100)
    assert polyserial_pair(y, codes, np.array([0.0])) == pytest.approx(0.995)
    assert polyserial_pair(-y, codes, np.array([0.0])) == pytest.approx(-0.995)


def test_continuous_statistics_use_divisor_n_minus_1_and_adf_gamma(data):
    d = data["hs"]
    st = continuous_stats(d, XS)
    np.testing.assert_allclose(st.polychoric, np.cov(d[XS].to_numpy().T, ddof=1), rtol=1e-14)
    x = d[XS].to_numpy() - d[XS].to_numpy().mean(axis=0)
    z = x[:, 0] * x[:, 1]
    assert st.gamma_frame().loc["x1~~x2", "x1~~x2"] == pytest.approx(z.var(), rel=1e-12)
    assert st.wls_names[:3] == ["x1~~x1", "x1~~x2", "x1~~x3"]


# --------------------------------------------------------------------------
# at lavaan's estimates and at the core's optimum
# --------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(CASES))
def test_fmin_test_and_standard_errors_at_lavaans_estimates(fits, case):
    fit = fits[case]
    ref, rfit = _ref(case)
    m = fit.partable[fit.partable["op"] != ":="].merge(ref[KEY + ["est", "se"]], on=KEY,
                                                        how="left", validate="one_to_one")
    theta = _lavaan_theta(fit, ref)
    rtol = AT_LAVAAN[_kind(case)]
    obj = fit.objective
    assert obj.value(theta) == pytest.approx(rfit["fmin"], rel=rtol)
    se = np.sqrt(np.diag(fit.estimator.vcov(obj, theta)))
    free = m["free"].to_numpy()
    np.testing.assert_allclose(se[free[free > 0] - 1], m.loc[free > 0, "se"], rtol=rtol, atol=0)
    st = scaled_test(obj, theta)
    assert st["chisq"] == pytest.approx(rfit["chisq"], rel=rtol)
    if "chisq.scaled" in rfit.index:
        assert st["chisq_scaled"] == pytest.approx(rfit["chisq.scaled"], rel=rtol)
        assert st["baseline_chisq_scaled"] == pytest.approx(rfit["baseline.chisq.scaled"], rel=rtol)


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_match_lavaan(fits, case):
    fit = fits[case]
    ref, rfit = _ref(case)
    assert isinstance(fit, OrdinalSEMResult) and fit.thresholds is not None and fit.converged
    assert fit.options["data_kind"] == _kind(case)
    if _kind(case) == "continuous":   # same statistics: the core's optimum is at least as good
        assert fit.objective.value(fit.theta) <= rfit["fmin"] * (1 + 1e-12)
    m = _matched(fit.estimates, ref)
    assert (m["label"] == m["label_ref"]).all()
    bad = []
    for col, tol in (("est", EST_ATOL), ("se", SE_ATOL), ("std_all", STD_ATOL)):
        a, b = m[col].to_numpy(float), m[col + "_ref"].to_numpy(float)
        ok = (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= tol)
        bad += [f"{m.loc[i, 'lhs']} {m.loc[i, 'op']} {m.loc[i, 'rhs']} (group {m.loc[i, 'group']}) "
                f"{col}: ours {a[i]:.8f}, lavaan {b[i]:.8f}" for i in np.flatnonzero(~ok)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("case", list(CASES))
def test_fit_measures_match_lavaan(fits, case):
    fit = fits[case]
    _, rfit = _ref(case)
    keys = dict(FIT_KEYS)
    if "chisq.scaled" in rfit.index:
        keys.update(SCALED_KEYS)
    else:
        assert "chisq_scaled" not in fit.fit.index   # DWLS: the standard test only
    bad = []
    for ours, lav in keys.items():
        a, b = float(fit.fit[ours]), float(rfit[lav])
        atol = CI_ATOL if ours.startswith("rmsea_ci") else 1e-10
        if not ((np.isnan(a) and np.isnan(b)) or np.isclose(a, b, rtol=FIT_RTOL, atol=atol)):
            bad.append(f"{lav}: ours {a:.10g}, lavaan {b:.10g}")
    assert not bad, "\n".join(bad)


# --------------------------------------------------------------------------
# what lavaan does, and what it warns about
# --------------------------------------------------------------------------
def test_wlsmv_without_ordered_is_continuous_as_lavaan(fits, data):
    fit = fits["hs_cont"]
    assert fit.options["ordered"] == [] and not fit.model.meanstructure
    est = fit.estimates
    assert not (est["op"] == "|").any() and not (est["op"] == "~1").any()
    # lavaan's options: DWLS, robust.sem, scaled.shifted, meanstructure FALSE
    cases = pd.read_csv(REF / "lavaan" / "wlsmvtl_cases.csv").set_index("case")
    assert cases.loc["hs_cont", "se"] == "robust.sem" and cases.loc["hs_cont", "test"] == "scaled.shifted"
    assert not cases.loc["hs_cont", "meanstructure"] and cases.loc["hs_cont_group", "meanstructure"]
    assert fits["hs_cont_group"].model.meanstructure
    # lavaan's fixed.x = FALSE for this estimator: the covariates' moments are free
    x = fits["hs_cont_x"].estimates
    assert (x[(x["lhs"] == "sex") & (x["rhs"] == "ageyr")]["se"] > 0).all()
    assert not cases.loc["hs_cont_x", "fixed_x"]
    # meanstructure=True on request (means in the statistics, df unchanged)
    ms = sem(HS, data["hs"], estimator="WLSMV", meanstructure=True)
    assert ms.model.meanstructure and ms.fit["df"] == fit.fit["df"]
    assert ms.fit["chisq"] == pytest.approx(fit.fit["chisq"], rel=1e-6)


def test_mixed_model_parameterization(fits):
    est = fits["hs_mixed"].estimates.set_index(["lhs", "op", "rhs"])
    assert est.loc[("x1", "~*~", "x1"), "est"] == 1.0
    assert ("x4", "~*~", "x4") not in est.index
    assert est.loc[("x4", "~1", ""), "se"] > 0 and est.loc[("x1", "~1", ""), "est"] == 0
    assert est.loc[("x1", "~~", "x1"), "se"] == 0          # delta: derived
    assert est.loc[("x4", "~~", "x4"), "se"] > 0           # continuous: free
    assert (est.loc[("x1", "|", "t1"), "std_all"] == est.loc[("x1", "|", "t1"), "est"])


def test_many_levels_warning_is_an_issue(fits):
    issues = fits["hs_mixed_many"].issues
    assert any("more than 12 levels" in m and "x6c (14 levels)" in m for m in issues)
    assert not any("levels" in m for m in fits["hs_mixed"].issues)
    cases = pd.read_csv(REF / "lavaan" / "wlsmvtl_cases.csv").set_index("case")
    assert "more than 12 levels: x6c" in cases.loc["hs_mixed_many", "warnings"]
    assert fits["hs_mixed_many"].to_dict()["issues"] == issues


def test_routes_and_errors(data):
    d = data["mix"]
    # sem() and cfa() follow lavaan: no `ordered` -> continuous, a partial list -> mixed
    assert cfa(HS, d, estimator="WLSMV").options["data_kind"] == "continuous"
    assert cfa(HS, d, ordered=ORD3).options["data_kind"] == "mixed"   # ML -> WLSMV
    assert cfa(HS, data["hs"].assign(**{v: pd.read_csv(REF / "data" / "HS_ordinal.csv")[v]
                                        for v in XS}),
               ordered=True).options["data_kind"] == "ordinal"
    # sem_ordinal() stays ordinal-only and says where mixtures go
    with pytest.raises(ValueError, match="sem_wls"):
        sem_ordinal(HS, d, ordered=ORD3)
    with pytest.raises(ValueError, match="not columns"):
        sem_wls(HS, d, ordered=["x1", "nope"])
    with pytest.raises(NotImplementedError, match="pairwise"):
        sem_wls(HS, d, ordered=ORD3, missing="pairwise")
    with pytest.raises(NotImplementedError, match="pairwise"):
        sem_wls(HS, d, missing="pairwise")
    with pytest.raises(ValueError, match="Exogenous observed covariates"):
        sem_wls("f =~ x1 + x2 + x3\nf ~ x4", d, ordered=ORD3)


@pytest.mark.parametrize("case", ["hs_cont", "hs_mixed"])
def test_modification_indices_match_lavaan(fits, case):
    """Score tests on the DWLS objective, at lavaan's estimates (the indices are
    sensitive to where lavaan's optimizer stopped); rows matched on lhs, op, rhs."""
    fit = fits[case].with_theta(_lavaan_theta(fits[case], _ref(case)[0]))
    ours = fit.modindices(sort=False)
    ref = pd.read_csv(REF / "lavaan" / f"wlsmvtl_{case}_modindices.csv")
    m = ref.merge(ours, on=["lhs", "op", "rhs"], how="outer", suffixes=("_lav", ""),
                  indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["lhs", "op", "rhs", "_merge"]]
    tol = AT_LAVAAN[_kind(case)]
    for ours_col, lav_col in (("mi", "mi_lav"), ("epc", "epc_lav"), ("sepc_lv", "sepc.lv"),
                              ("sepc_all", "sepc.all")):
        np.testing.assert_allclose(m[ours_col], m[lav_col], rtol=tol, atol=tol, err_msg=ours_col)
