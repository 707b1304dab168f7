"""Every fit measure, one formula: ML, MLR, FIML, WLSMV, DWLS, two-level and
cluster-robust fits against all of lavaan 0.6.14's ``fitMeasures()``.

References: ``tests/reference/lavaan_fit_extra.R`` (printed output in
``lavaan_fit_extra.Rout``), results ``tests/reference/lavaan/fitextra_*``;
the ``_sat`` cases are saturated (df = 0).  The cluster variable of the
``*_cluster`` cases is ``row // 10`` (31 blocks of consecutive rows), as in
the R script.

Every measure lavaan reports must be either compared (``lavaan_key`` maps it
to ours; NA in lavaan must be NaN here and the reverse) or listed in
``sem_ref.NOT_IMPLEMENTED``; tolerances are per quantity (``sem_ref.TOL``), with the
two-level case's looser ones explained at ``CASE_TOL``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.sem import cfa, fit_indices as fi, robust, sem

from sem_ref import (HS_MODEL, NOT_IMPLEMENTED, REF, assert_estimates_match, lavaan_key,
                     measure_mismatches, read_estimates, read_fit)

LAV = REF / "lavaan"
HS3 = "visual =~ x1 + x2 + x3"
XS = [f"x{i}" for i in range(1, 10)]
TWOLEVEL = """
level: 1
  fw =~ y1 + y2 + y3
level: 2
  fb =~ y1 + y2 + y3
"""


def _data(name):
    d = pd.read_csv(REF / "data" / name)
    if name == "HolzingerSwineford1939.csv":
        d["cl"] = np.arange(len(d)) // 10
    return d


def _mlm(d):
    """lavaan's estimator = "MLM": the Satorra-Bentler test (expected information)."""
    res = cfa(HS_MODEL, d, estimator="MLR")
    out = res.fit.copy()
    sb = robust.scaled_test(res.objective, res.theta, test="satorra.bentler")
    for k, v in sb.items():
        out[k] = float(v)
    return out


HS, HSM, HSO, PD, TL = ("HolzingerSwineford1939.csv", "HS_missing.csv", "HS_ordinal.csv",
                        "PoliticalDemocracy.csv", "Demo_twolevel.csv")
CASES = {
    "hs_ml": (HS, lambda d: cfa(HS_MODEL, d)),
    "hs_ml_sat": (HS, lambda d: cfa(HS3, d)),
    "hs_ml_group_sat": (HS, lambda d: cfa(HS3, d, group="school")),
    "hs_mlr": (HS, lambda d: cfa(HS_MODEL, d, estimator="MLR")),
    "hs_mlr_sat": (HS, lambda d: cfa(HS3, d, estimator="MLR")),
    "hs_fiml": (HSM, lambda d: cfa(HS_MODEL, d, missing="ml")),
    "hs_fiml_sat": (HSM, lambda d: cfa(HS3, d, missing="ml")),
    "hs_mlr_fiml": (HSM, lambda d: cfa(HS_MODEL, d, missing="ml", estimator="MLR")),
    "hs_mlr_fiml_sat": (HSM, lambda d: cfa(HS3, d, missing="ml", estimator="MLR")),
    "hs_wlsmv": (HSO, lambda d: cfa(HS_MODEL, d, ordered=XS, estimator="WLSMV")),
    "hs_wlsmv_group": (HSO, lambda d: cfa(HS_MODEL, d, ordered=XS, estimator="WLSMV",
                                          group="school")),
    "hs_wlsmv_sat": (HSO, lambda d: cfa(HS3, d, ordered=XS[:3], estimator="WLSMV")),
    "hs_dwls": (HSO, lambda d: cfa(HS_MODEL, d, ordered=XS, estimator="DWLS")),
    "hs_dwls_sat": (HSO, lambda d: cfa(HS3, d, ordered=XS[:3], estimator="DWLS")),
    "poldem_ml_sat": (PD, lambda d: sem("y1 ~ x1 + x2", d)),
    "poldem_mlr_sat": (PD, lambda d: sem("y1 ~ x1 + x2", d, estimator="MLR")),
    "hs_mlr_cluster": (HS, lambda d: cfa(HS_MODEL, d, estimator="MLR", cluster="cl")),
    "hs_sb_cluster": (HS, lambda d: cfa(HS_MODEL, d, estimator="ML", se="robust.cluster",
                                        cluster="cl", test="satorra.bentler")),
    "hs_mlm": (HS, _mlm),
    "twolevel_sat": (TL, lambda d: sem(TWOLEVEL, d, cluster="cluster")),
}
# hs_mlm is MLR's fit with the Satorra-Bentler test swapped in: its scaled and
# robust measures are compared; the plain ones are MLR's (the same as ML's).

# The saturated two-level fit: lavaan's optimizer stops at a gradient of ~1e-6
# (see test_twolevel.py); its SRMR (1.6e-4, within 1.1e-5, between 1.5e-4:
# the EM h1 against the implied moments) moves by ~1.5e-6 between its optimum
# and the core's.
CASE_TOL = {"twolevel_sat": {"srmr": (0.0, 5e-6)}}


@pytest.fixture(scope="module")
def fits():
    cache = {}

    def get(case):
        if case not in cache:
            fname, fn = CASES[case]
            res = fn(_data(fname))
            cache[case] = res
        return cache[case]

    return get


def _fit_series(res) -> pd.Series:
    return res if isinstance(res, pd.Series) else res.fit


def _mismatches(case, ours: pd.Series, ref: pd.Series) -> list:
    return measure_mismatches(ours, ref, CASE_TOL.get(case))


@pytest.mark.parametrize("case", list(CASES))
def test_every_fit_measure_matches_lavaan(fits, case):
    ref = read_fit(LAV / f"fitextra_{case}_fit.csv")
    ours = _fit_series(fits(case))
    if case == "hs_mlm":  # only the Satorra-Bentler part is lavaan's MLM
        ref = ref[[m for m in ref.index if "scaled" in m or "robust" in m]]
    bad = _mismatches(case, ours, ref)
    # and the reverse: no scaled / robust measure where lavaan reports none (e.g. DWLS)
    flavoured = {lavaan_key(m) for m in ref.index if m.endswith((".scaled", ".robust"))}
    extra = sorted(k for k in ours.index if k.endswith(("_scaled", "_robust")) and k not in flavoured)
    bad += [f"{k}: ours {float(ours[k])!r}, lavaan reports no such measure" for k in extra]
    assert not bad, f"{case}:\n" + "\n".join(bad)


def test_reference_cases_are_what_the_names_say():
    cases = pd.read_csv(LAV / "fitextra_cases.csv").set_index("case")
    assert set(cases.index) == set(CASES)
    assert cases["converged"].all()
    sat = [c for c in cases.index if c.endswith("_sat")]
    assert (cases.loc[sat, "df"] == 0).all() and (cases.drop(index=sat)["df"] > 0).all()
    assert cases.loc["hs_sb_cluster", "se"] == "robust.cluster"
    assert cases.loc["hs_sb_cluster", "test"] == "standard;satorra.bentler"
    assert cases.loc["hs_mlr_cluster", "test"] == "yuan.bentler.mplus"


# --------------------------------------------------------------------------
# the saturated models: one rule for every estimator
# --------------------------------------------------------------------------
@pytest.mark.parametrize("case", [c for c in CASES if c.endswith("_sat")])
def test_saturated_models_follow_lavaans_df0_rules(fits, case):
    f = _fit_series(fits(case))
    assert f["df"] == 0
    # CFI is 1 - t1/t2 with t1 the chi-square's rounding error: lavaan 0.6.14 itself gives
    # 0.99999999999999633626 for hs_ml_sat (chisq 4.0e-13); TLI is 1 by its df = 0 rule
    assert f["cfi"] == pytest.approx(1.0, abs=1e-12) and f["tli"] == 1.0
    assert f["rmsea"] == 0.0 and f["rmsea_ci_lower"] == 0.0 and f["rmsea_ci_upper"] == 0.0
    assert np.isnan(f["pvalue"]) and np.isnan(f["rmsea_pvalue"])
    if "rmsea_robust" in f.index:
        assert f["rmsea_robust"] == 0.0


# --------------------------------------------------------------------------
# the cluster-robust Satorra-Bentler test (issue 14, point 3)
# --------------------------------------------------------------------------
def test_cluster_satorra_bentler_estimates_and_ses_match_lavaan(fits):
    res = fits("hs_sb_cluster")
    assert res.options["test"] == "satorra.bentler" and res.options["se"] == "robust.cluster"
    ref = read_estimates(LAV / "fitextra_hs_sb_cluster_estimates.csv")
    assert_estimates_match(res.estimates, ref, atol_est=1e-5, atol_se=1e-5, atol_std=1e-5)


def test_cluster_satorra_bentler_gamma_is_the_sandwich_one(fits):
    """lavaan's clustered Gamma (NACOV) carries a G/(G-1) factor and its U uses the
    h1-based observed information: without either, the scaling factor misses lavaan's."""
    res = fits("hs_sb_cluster")
    ref = read_fit(LAV / "fitextra_hs_sb_cluster_fit.csv")
    obj, theta = res.objective, res.theta
    ours = robust.satorra_bentler_test(obj, theta)["scaling_factor"]
    assert ours == pytest.approx(ref["chisq.scaling.factor"], rel=1e-6)
    expected_u = robust.satorra_bentler_test(obj, theta, information="expected")["scaling_factor"]
    assert abs(expected_u / ref["chisq.scaling.factor"] - 1) > 0.01
    g = len(np.unique(obj.cluster[0]))
    assert ours * (g - 1) / g != pytest.approx(ref["chisq.scaling.factor"], rel=1e-3)


def test_satorra_bentler_refuses_what_it_does_not_implement(hs):
    with pytest.raises(NotImplementedError, match="with cluster="):
        cfa(HS_MODEL, hs, test="satorra.bentler")
    with pytest.raises(ValueError, match="test must be one of"):
        cfa(HS_MODEL, hs.assign(cl=np.arange(len(hs)) // 10), cluster="cl", test="bollen.stine")
    res = sem("visual =~ x1 + x2 + x3\n visual ~ ageyr", hs, estimator="MLR")
    with pytest.raises(NotImplementedError, match="fixed.x"):
        robust.satorra_bentler_test(res.objective, res.theta)


# --------------------------------------------------------------------------
# the formulas themselves (analytic values)
# --------------------------------------------------------------------------
def test_index_formulas_on_hand_values():
    assert fi.cfi(30.0, 10, 210.0, 15) == pytest.approx(1 - 20 / 195)
    assert fi.tli(30.0, 10, 210.0, 15) == pytest.approx(1 - (20 * 15) / (195 * 10))
    # robust: c-hats enter only when df > 0 and both differ from 1
    assert fi.cfi(30.0, 10, 210.0, 15, 1.5, 2.0) == pytest.approx(1 - 15 / 180)
    assert fi.cfi(30.0, 10, 210.0, 15, 1.0, 2.0) == fi.cfi(30.0, 10, 210.0, 15)
    assert np.isnan(fi.cfi(30.0, 10, 210.0, 15, np.nan, 2.0))
    assert fi.cfi(0.0, 0, 210.0, 15, np.inf, 2.0) == 1.0   # lavaan's k/0 at df = 0
    assert fi.rmsea(30.0, 10, 101) == pytest.approx(math.sqrt(20 / 1010))
    assert fi.rmsea(30.0, 10, 101, ngroups=2) == pytest.approx(math.sqrt(2 * 20 / 1010))
    assert fi.rmsea(30.0, 10, 101, c_hat=1.5) == pytest.approx(math.sqrt((3 - 1.5) / 101))
    assert fi.rmsea(np.nan, 0, 101) == 0.0 and np.isnan(fi.rmsea(1.0, np.nan, 101))
    assert all(np.isnan(fi.rmsea_ci(np.nan, 5, 100))) and fi.rmsea_ci(1e-9, 0, 100) == (0.0, 0.0)
    lo, hi = fi.rmsea_ci(30.0, 10, 101)
    from scipy import stats

    for lim, target in ((lo, 0.95), (hi, 0.05)):
        lam = lim ** 2 * 101 * 10
        assert stats.ncx2.cdf(30.0, 10, lam) == pytest.approx(target, abs=1e-9)
    assert fi.rmsea_pvalue(30.0, 10, 101) == pytest.approx(
        stats.ncx2.sf(30.0, 10, 101 * 10 * 0.05 ** 2))
    assert fi.rmsea_notclose_pvalue(30.0, 10, 101) == pytest.approx(
        stats.ncx2.cdf(30.0, 10, 101 * 10 * 0.08 ** 2))


def test_srmr_variants_are_one_function():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(50, 3))
    s = np.cov(a.T, bias=True)
    m = a.mean(axis=0)
    sigma = np.diag(np.diag(s))
    mu = m + 0.1
    d = np.sqrt(np.diag(s))
    r = (s - sigma) / np.outer(d, d)
    cov_part = np.sum(np.tril(r) ** 2)
    mean_part = np.sum(((m - mu) / d) ** 2)
    assert fi.srmr_bentler(s, m, sigma, mu) == pytest.approx(math.sqrt((cov_part + mean_part) / 9))
    assert fi.srmr_bentler(s, m, sigma, mu, meanstructure=False) == pytest.approx(
        math.sqrt(cov_part / 6))
    two = fi.srmr([s, s], [m, m], [sigma, s], [mu, m], [30, 10])
    assert two == pytest.approx(0.75 * fi.srmr_bentler(s, m, sigma, mu))
    # correlation SRMR (two-level): scale-free
    assert fi.srmr_correlation(4 * s, sigma) == pytest.approx(fi.srmr_bentler(s, m, sigma, mu, False))
    tot, w, b = fi.srmr_twolevel(s, sigma, s, s)
    assert (tot, b) == (pytest.approx(w), 0.0)
    assert np.isnan(fi.srmr_correlation(s, -sigma))
