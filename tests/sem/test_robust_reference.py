"""Robust ML (MLR) against lavaan 0.6.14: sandwich SEs, Yuan-Bentler test,
scaled and robust fit indices; complete data, FIML, multigroup, fixed-x and
cluster-robust.

References: ``tests/reference/lavaan/hs_mlr_*``, ``hs_mlr_fiml_*``
(``lavaan_reference.R``) and ``fiml_extra_*`` (``lavaan_fiml_extra.R``, its
printed output in ``lavaan_fiml_extra.Rout``).  The cluster variable of the
``*_cluster`` cases is ``(row - 1) // 10`` (31 blocks of consecutive rows),
as in the R script.  Tolerance: ``atol=1e-3`` for est, se, std_all and each
fit measure.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem import cfa, sem
from analysis.sem import robust

from sem_ref import HS_MODEL, REF, assert_estimates_match, read_estimates, read_fit

# lavaan fitMeasures() name -> key of SEMResult.fit / robust.scaled_test
ROBUST_MAP = {
    "chisq": "chisq", "df": "df", "chisq.scaled": "chisq_scaled",
    "pvalue.scaled": "pvalue_scaled", "chisq.scaling.factor": "scaling_factor",
    "baseline.chisq": "baseline_chisq", "baseline.chisq.scaled": "baseline_chisq_scaled",
    "baseline.chisq.scaling.factor": "baseline_scaling_factor",
    "cfi.scaled": "cfi_scaled", "tli.scaled": "tli_scaled",
    "cfi.robust": "cfi_robust", "tli.robust": "tli_robust",
    "rmsea.scaled": "rmsea_scaled", "rmsea.ci.lower.scaled": "rmsea_ci_lower_scaled",
    "rmsea.ci.upper.scaled": "rmsea_ci_upper_scaled",
    "rmsea.robust": "rmsea_robust", "rmsea.ci.lower.robust": "rmsea_ci_lower_robust",
    "rmsea.ci.upper.robust": "rmsea_ci_upper_robust",
    "scaling.factor.h1": "scaling_factor_h1", "scaling.factor.h0": "scaling_factor_h0",
}
PLAIN_MAP = {"cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "srmr": "srmr", "npar": "npar"}


@pytest.fixture(scope="module")
def hsm() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "HS_missing.csv")


def _clusters(n):
    return np.arange(n) // 10


CASES = {
    "hs_mlr": ("hs", lambda d: cfa(HS_MODEL, d, estimator="MLR")),
    "hs_mlr_fiml": ("hsm", lambda d: cfa(HS_MODEL, d, estimator="MLR", missing="fiml")),
    "fiml_extra_hs_mlr_meanstructure": ("hs", lambda d: cfa(HS_MODEL, d, estimator="MLR",
                                                            meanstructure=True)),
    "fiml_extra_hs_mlr_group": ("hs", lambda d: cfa(HS_MODEL, d, estimator="MLR", group="school")),
    "fiml_extra_hs_mlr_fiml_group": ("hsm", lambda d: cfa(HS_MODEL, d, estimator="MLR",
                                                          missing="fiml", group="school")),
    "fiml_extra_hs_mlr_x": ("hs", lambda d: sem(HS_MODEL + "\n visual ~ ageyr + sex\n speed ~ ageyr",
                                                d, estimator="MLR")),
}
# lavaan's cluster= switches the mean structure on; the cluster labels go to
# the robust functions directly (the core's sem() has no cluster argument yet)
CLUSTER_CASES = {
    "fiml_extra_hs_mlr_cluster": ("hs", lambda d: cfa(HS_MODEL, d, estimator="MLR",
                                                      meanstructure=True)),
    "fiml_extra_hs_mlr_fiml_cluster": ("hsm", lambda d: cfa(HS_MODEL, d, estimator="MLR",
                                                            missing="fiml")),
}


@pytest.fixture(scope="module")
def fits(hs, hsm):
    data = {"hs": hs, "hsm": hsm}
    return {name: fn(data[d]) for name, (d, fn) in {**CASES, **CLUSTER_CASES}.items()}


def _compare(values: dict, ref: pd.Series, mapping: dict) -> list:
    bad = []
    for lav, ours in mapping.items():
        if lav not in ref.index:
            continue
        a, b = float(values[ours]), float(ref[lav])
        if not np.isclose(a, b, rtol=0, atol=1e-3):
            bad.append(f"{lav}: ours {a:.6f}, lavaan {b:.6f}")
    return bad


@pytest.mark.parametrize("case", list(CASES))
def test_mlr_estimates_and_sandwich_se_match_lavaan(fits, case):
    res = fits[case]
    assert res.converged
    ref = read_estimates(REF / "lavaan" / f"{case}_estimates.csv")
    assert_estimates_match(res.estimates, ref, atol_est=1e-3, atol_se=1e-3, atol_std=1e-3)


@pytest.mark.parametrize("case", list(CASES))
def test_mlr_scaled_and_robust_fit_match_lavaan(fits, case):
    res = fits[case]
    ref = read_fit(REF / "lavaan" / f"{case}_fit.csv")
    bad = _compare(res.fit, ref, {**ROBUST_MAP, **PLAIN_MAP})
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("case", list(CLUSTER_CASES))
def test_cluster_robust_se_and_test_match_lavaan(fits, case):
    res = fits[case]
    cl = [_clusters(res.stats.nobs[0])]
    vcov = robust.robust_vcov(res.objective, res.theta, cluster=cl)
    ref = read_estimates(REF / "lavaan" / f"{case}_estimates.csv")
    # map free parameters to their rows: use the core's estimates table and swap the SEs
    est = res.estimates.copy()
    se_free = np.sqrt(np.diag(vcov))
    naive = np.sqrt(np.diag(res.vcov))
    for k in range(len(se_free)):
        rows = np.flatnonzero(np.isclose(est["se"].to_numpy(float), naive[k], rtol=0, atol=1e-12))
        est.loc[est.index[rows], "se"] = se_free[k]
    assert_estimates_match(est, ref, atol_est=1e-3, atol_se=1e-3, atol_std=1e-3)
    test = robust.scaled_test(res.objective, res.theta, cluster=cl)
    bad = _compare(test, read_fit(REF / "lavaan" / f"{case}_fit.csv"), ROBUST_MAP)
    assert not bad, "\n".join(bad)


def test_cluster_of_single_cases_is_huber_white_times_n_over_n_minus_1(fits):
    """Analytic identity: one case per cluster gives B * N/(N-1)."""
    res = fits["hs_mlr"]
    n = res.stats.nobs[0]
    v0 = robust.robust_vcov(res.objective, res.theta)
    v1 = robust.robust_vcov(res.objective, res.theta, cluster=[np.arange(n)])
    np.testing.assert_allclose(v1, v0 * n / (n - 1), rtol=1e-10)


def test_sandwich_equals_model_based_se_under_correct_normal_model():
    """Seeded simulation: with normal data from the model, MLR and ML SEs agree."""
    rng = np.random.default_rng(11)
    n = 3000
    f = rng.normal(size=(n, 1))
    lam = np.array([1.0, 0.8, 0.6, 0.7])
    x = f @ lam[None, :] + rng.normal(scale=0.6, size=(n, 4))
    d = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    ml = cfa("F =~ a + b + c + d", d)
    mlr = cfa("F =~ a + b + c + d", d, estimator="MLR")
    se_ml = ml.estimates["se"].to_numpy(float)
    se_mlr = mlr.estimates["se"].to_numpy(float)
    ok = se_ml > 0
    np.testing.assert_allclose(se_mlr[ok] / se_ml[ok], 1.0, atol=0.08)
    assert float(mlr.fit["scaling_factor"]) == pytest.approx(1.0, abs=0.25)
    est = mlr.estimates.set_index(["lhs", "op", "rhs"])["est"]
    np.testing.assert_allclose([est[("F", "=~", v)] for v in "bcd"], lam[1:] / lam[0], atol=0.05)


def test_bad_cluster_input_is_explained(fits):
    res = fits["hs_mlr"]
    with pytest.raises(ValueError, match="cluster variable has 3 values"):
        robust.robust_vcov(res.objective, res.theta, cluster=[np.arange(3)])
    with pytest.raises(ValueError, match="at least two clusters"):
        robust.robust_vcov(res.objective, res.theta, cluster=[np.zeros(res.stats.nobs[0])])


def test_cluster_labels_follow_the_rows_the_core_keeps(fits, hsm):
    from analysis.sem import sample_stats

    xs = [f"x{i}" for i in range(1, 10)]
    d = hsm.assign(cl=np.arange(len(hsm)) // 10)
    for missing in ("listwise", "fiml"):
        labs = robust.cluster_labels(d, xs, "cl", missing=missing)
        st = sample_stats(d, xs, missing=missing)
        assert len(labs) == 1 and len(labs[0]) == st.nobs[0]
        keep = d[xs].notna().all(axis=1) if missing == "listwise" else d[xs].notna().any(axis=1)
        np.testing.assert_array_equal(labs[0], d.loc[keep, "cl"].to_numpy())
    # attached to the objective, the labels make the default calls cluster-robust
    res = fits["fiml_extra_hs_mlr_fiml_cluster"]
    explicit = robust.robust_vcov(res.objective, res.theta, cluster=[_clusters(301)])
    res.objective.cluster = robust.cluster_labels(d, xs, "cl", missing="fiml")
    try:
        np.testing.assert_allclose(robust.robust_vcov(res.objective, res.theta), explicit, rtol=1e-12)
    finally:
        del res.objective.cluster
    with pytest.raises(ValueError, match="not in the data"):
        robust.cluster_labels(d, xs, "community")
