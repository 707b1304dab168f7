"""FIML (``missing="fiml"``) and the EM saturated model against lavaan 0.6.14.

References: ``tests/reference/lavaan/hs_fiml_*`` (``lavaan_reference.R``) and
``tests/reference/lavaan/fiml_extra_hs_em_*`` (``lavaan_fiml_extra.R``, its
output in ``lavaan_fiml_extra.Rout``); data ``tests/reference/data/HS_missing.csv``.
Tolerances: ``atol=1e-3`` for est, se, std_all and every fit measure; the
moment-level derivatives are checked against finite differences (an
analytic truth) and the EM against the closed form for complete data.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem import cfa
from analysis.sem.fiml import (
    casewise_loglik,
    casewise_scores,
    gradient_moments,
    hessian_moments,
    numeric_hessian,
)
from analysis.sem.saturated import em_saturated, loglik_missing, missing_patterns, unvech, vech, vech_indices

from sem_ref import HS_MODEL, REF, assert_estimates_match, read_estimates, read_fit

XS = [f"x{i}" for i in range(1, 10)]

FIT_MAP = {
    "npar": "npar", "chisq": "chisq", "df": "df", "pvalue": "pvalue", "fmin": "fmin",
    "baseline.chisq": "baseline_chisq", "baseline.df": "baseline_df",
    "cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "rmsea.ci.lower": "rmsea_ci_lower",
    "rmsea.ci.upper": "rmsea_ci_upper", "rmsea.pvalue": "rmsea_pvalue", "srmr": "srmr",
    "logl": "loglik", "unrestricted.logl": "unrestricted_loglik", "aic": "aic",
    "bic": "bic", "bic2": "bic2", "ntotal": "nobs",
}


@pytest.fixture(scope="module")
def hsm() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "HS_missing.csv")


@pytest.fixture(scope="module")
def fiml_fit(hsm):
    return cfa(HS_MODEL, hsm, missing="fiml")


# --------------------------------------------------------------------------
# EM saturated model
# --------------------------------------------------------------------------
def test_em_matches_lavaan_h1(hsm):
    fit = em_saturated(hsm[XS])
    mean = pd.read_csv(REF / "lavaan" / "fiml_extra_hs_em_mean.csv").set_index("variable")["mean"]
    cov = pd.read_csv(REF / "lavaan" / "fiml_extra_hs_em_cov.csv").set_index("variable")
    np.testing.assert_allclose(fit.mean[XS].to_numpy(), mean[XS].to_numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(fit.cov.loc[XS, XS].to_numpy(), cov.loc[XS, XS].to_numpy(),
                               rtol=0, atol=1e-6)
    ref = read_fit(REF / "lavaan" / "hs_fiml_fit.csv")
    assert fit.loglik == pytest.approx(ref["unrestricted.logl"], abs=1e-6)
    assert fit.converged and fit.nobs == 301


def test_em_complete_data_is_sample_moments():
    rng = np.random.default_rng(20240601)
    x = rng.normal(size=(80, 4)) @ rng.normal(size=(4, 4))
    fit = em_saturated(x)
    s = np.cov(x.T, bias=True)
    np.testing.assert_allclose(fit.mean.to_numpy(), x.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(fit.cov.to_numpy(), s, atol=1e-12)
    n, p = x.shape
    closed = -0.5 * n * (p * np.log(2 * np.pi) + np.linalg.slogdet(s)[1] + p)
    assert fit.loglik == pytest.approx(closed, rel=1e-12)


def test_em_recovers_population_moments_under_mcar():
    rng = np.random.default_rng(7)
    sigma = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.5], [0.3, 0.5, 1.0]])
    mu = np.array([1.0, -2.0, 0.5])
    x = rng.multivariate_normal(mu, sigma, size=4000)
    x[rng.random(x.shape) < 0.2] = np.nan
    fit = em_saturated(x)
    np.testing.assert_allclose(fit.mean.to_numpy(), mu, atol=0.06)
    np.testing.assert_allclose(fit.cov.to_numpy(), sigma, atol=0.06)


def test_patterns_drop_empty_rows_and_check_input():
    x = np.array([[1.0, 2.0], [np.nan, np.nan], [np.nan, 1.0], [3.0, 5.0]])
    mp = missing_patterns(x)
    assert mp.nobs == 3 and mp.empty.tolist() == [1] and mp.freq.tolist() == [2, 1]
    with pytest.raises(ValueError, match="not numeric"):
        missing_patterns(pd.DataFrame({"a": ["x", "y"], "b": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="no variance"):
        em_saturated(np.array([[1.0, 2.0], [1.0, 3.0], [1.0, np.nan]]))


# --------------------------------------------------------------------------
# moment-level derivatives (analytic truth: finite differences)
# --------------------------------------------------------------------------
def test_gradient_hessian_scores_are_derivatives_of_loglik(hsm):
    mp = missing_patterns(hsm[XS])
    fit = em_saturated(mp)
    p = 9
    r, c = vech_indices(p)
    wv = np.where(r == c, 1.0, 2.0)
    mu = fit.mean.to_numpy() + 0.05
    sigma = fit.cov.to_numpy() * 1.1

    def split(gam):
        return gam[:p], unvech(gam[p:], p)

    def grad(gam):
        g_mu, g_s = gradient_moments(mp, *split(gam))
        return np.concatenate([g_mu, g_s[r, c] * wv])

    gam0 = np.concatenate([mu, vech(sigma)])
    eps = 1e-5
    num = np.array([(loglik_missing(mp, *split(gam0 + eps * e)) - loglik_missing(mp, *split(gam0 - eps * e)))
                    / (2 * eps) for e in np.eye(len(gam0))])
    np.testing.assert_allclose(grad(gam0), num, atol=1e-4)
    np.testing.assert_allclose(hessian_moments(mp, mu, sigma), numeric_hessian(grad, gam0), atol=1e-5)
    np.testing.assert_allclose(casewise_scores(mp, mu, sigma).sum(axis=0), grad(gam0), atol=1e-9)
    assert casewise_loglik(mp, mu, sigma).sum() == pytest.approx(loglik_missing(mp, mu, sigma), rel=1e-12)


# --------------------------------------------------------------------------
# FIML fit through the core
# --------------------------------------------------------------------------
def test_fiml_estimates_match_lavaan(fiml_fit):
    assert fiml_fit.converged
    ref = read_estimates(REF / "lavaan" / "hs_fiml_estimates.csv")
    assert_estimates_match(fiml_fit.estimates, ref, atol_est=1e-3, atol_se=1e-3, atol_std=1e-3)


def test_fiml_fit_measures_match_lavaan(fiml_fit):
    ref = read_fit(REF / "lavaan" / "hs_fiml_fit.csv")
    bad = []
    for lav, ours in FIT_MAP.items():
        a, b = float(fiml_fit.fit[ours]), float(ref[lav])
        if not np.isclose(a, b, rtol=0, atol=1e-3):
            bad.append(f"{lav}: ours {a:.6f}, lavaan {b:.6f}")
    assert not bad, "\n".join(bad)


def test_fiml_robust_indices_without_scaled_test_match_lavaan(fiml_fit):
    """lavaan reports cfi.robust/rmsea.robust after plain FIML (FIML-C, V6)."""
    from analysis.sem.robust import robust_fit_measures

    ref = read_fit(REF / "lavaan" / "hs_fiml_fit.csv")
    ours = robust_fit_measures(fiml_fit.objective, fiml_fit.theta, test={})
    for key in ("cfi.robust", "tli.robust", "rmsea.robust", "rmsea.ci.lower.robust",
                "rmsea.ci.upper.robust"):
        assert ours[key.replace(".", "_")] == pytest.approx(ref[key], abs=1e-3), key


def test_fiml_with_complete_data_equals_ml(hs):
    """FIML on complete data is ML with a mean structure (same numbers)."""
    a = cfa(HS_MODEL, hs, missing="fiml")
    b = cfa(HS_MODEL, hs, meanstructure=True)
    np.testing.assert_allclose(a.theta, b.theta, atol=1e-5)
    assert float(a.fit["chisq"]) == pytest.approx(float(b.fit["chisq"]), abs=1e-5)
    ref = read_estimates(REF / "lavaan" / "hs_cfa_meanstructure_estimates.csv")
    # observed and expected information coincide at the saturated moments only,
    # so compare estimates (not SEs) with lavaan's ML fit
    m = ref.merge(a.estimates, on=["lhs", "op", "rhs", "group"], suffixes=("_ref", ""))
    np.testing.assert_allclose(m["est"], m["est_ref"], atol=1e-3)
