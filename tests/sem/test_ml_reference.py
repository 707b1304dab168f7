"""ML fits compared with lavaan 0.6.14, parameter by parameter.

Tolerances: ``atol=1e-3`` for est, se and std_all of every row and for
every fit measure (chi-square, log-likelihoods, AIC and BIC included).
References: ``tests/reference/lavaan/<case>_{estimates,fit}.csv`` written by
``tests/reference/lavaan_reference.R``.
"""
from __future__ import annotations

import numpy as np
import pytest

from analysis.sem import cfa, sem

from sem_ref import HS_MODEL, PD_MODEL, REF, assert_estimates_match, read_estimates, read_fit

PD_IND = (PD_MODEL.replace("dem60 ~ ind60", "dem60 ~ a*ind60")
          .replace("dem65 ~ ind60 + dem60", "dem65 ~ c*ind60 + b*dem60")
          + "\n  ind := a*b\n  total := c + a*b\n")
PD_EQ = (PD_MODEL.replace("dem60 =~ y1 + y2 + y3 + y4", "dem60 =~ y1 + a*y2 + b*y3 + c*y4")
         .replace("dem65 =~ y5 + y6 + y7 + y8", "dem65 =~ y5 + a*y6 + b*y7 + c*y8"))

CASES = {
    "hs_cfa": ("hs", lambda d: cfa(HS_MODEL, d)),
    "hs_cfa_stdlv": ("hs", lambda d: cfa(HS_MODEL, d, std_lv=True)),
    "hs_cfa_meanstructure": ("hs", lambda d: cfa(HS_MODEL, d, meanstructure=True)),
    "hs_second_order": ("hs", lambda d: cfa(HS_MODEL + "\n g =~ visual + textual + speed", d)),
    "poldem_sem": ("poldem", lambda d: sem(PD_MODEL, d)),
    "poldem_ind": ("poldem", lambda d: sem(PD_IND, d)),
    "poldem_labels_equal": ("poldem", lambda d: sem(PD_EQ, d)),
    "hs_config": ("hs", lambda d: cfa(HS_MODEL, d, group="school")),
    "hs_metric": ("hs", lambda d: cfa(HS_MODEL, d, group="school", group_equal=["loadings"])),
    "hs_scalar": ("hs", lambda d: cfa(HS_MODEL, d, group="school",
                                       group_equal=["loadings", "intercepts"])),
    "hs_strict": ("hs", lambda d: cfa(HS_MODEL, d, group="school",
                                       group_equal=["loadings", "intercepts", "residuals"])),
}

# lavaan's fitMeasures() name -> ours
FIT_MAP = {
    "npar": "npar", "chisq": "chisq", "df": "df", "pvalue": "pvalue",
    "baseline.chisq": "baseline_chisq", "baseline.df": "baseline_df",
    "cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "rmsea.ci.lower": "rmsea_ci_lower",
    "rmsea.ci.upper": "rmsea_ci_upper", "rmsea.pvalue": "rmsea_pvalue", "srmr": "srmr",
    "logl": "loglik", "unrestricted.logl": "unrestricted_loglik", "aic": "aic",
    "bic": "bic", "bic2": "bic2", "ntotal": "nobs", "fmin": "fmin",
}


@pytest.fixture(scope="module")
def fits(hs, poldem):
    data = {"hs": hs, "poldem": poldem}
    return {name: fn(data[d]) for name, (d, fn) in CASES.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_match_lavaan(fits, case):
    res = fits[case]
    assert res.converged
    ref = read_estimates(REF / "lavaan" / f"{case}_estimates.csv")
    assert_estimates_match(res.estimates, ref, atol_est=1e-3, atol_se=1e-3, atol_std=1e-3)


@pytest.mark.parametrize("case", list(CASES))
def test_fit_measures_match_lavaan(fits, case):
    res = fits[case]
    ref = read_fit(REF / "lavaan" / f"{case}_fit.csv")
    bad = []
    for lav, ours in FIT_MAP.items():
        a, b = float(res.fit[ours]), float(ref[lav])
        if not (np.isclose(a, b, rtol=0, atol=1e-3) or (np.isnan(a) and np.isnan(b))):
            bad.append(f"{lav}: ours {a:.6f}, lavaan {b:.6f}")
    assert not bad, "\n".join(bad)


def test_defined_parameters_delta_method(fits):
    """':=' rows: estimate, delta-method SE, z and CI as lavaan (atol 1e-3)."""
    est = fits["poldem_ind"].estimates
    ref = read_estimates(REF / "lavaan" / "poldem_ind_estimates.csv")
    for name in ("ind", "total"):
        a = est[(est["op"] == ":=") & (est["lhs"] == name)].iloc[0]
        b = ref[(ref["op"] == ":=") & (ref["lhs"] == name)].iloc[0]
        for col in ("est", "se", "z", "ci_lower", "ci_upper", "std_all"):
            assert a[col] == pytest.approx(b[col], abs=1e-3), (name, col)
    # the defined value is the product of the labelled paths
    a = est.set_index("label").loc["a", "est"]
    b = est.set_index("label").loc["b", "est"]
    assert est[est["lhs"] == "ind"]["est"].iloc[0] == pytest.approx(a * b, rel=1e-12)


def test_equal_labels_share_one_parameter(fits):
    est = fits["poldem_labels_equal"].estimates
    for lab in ("a", "b", "c"):
        vals = est.loc[est["label"] == lab, "est"].to_numpy()
        assert len(vals) == 2 and vals[0] == vals[1]


def test_invariance_chisq_differences(fits):
    """Chi-square differences of the invariance sequence equal lavTestLRT's."""
    import pandas as pd

    lrt = pd.read_csv(REF / "lavaan" / "hs_invariance_lrt.csv")
    names = ["hs_config", "hs_metric", "hs_scalar", "hs_strict"]
    chisq = [float(fits[n].fit["chisq"]) for n in names]
    dfs = [float(fits[n].fit["df"]) for n in names]
    col_chi = [c for c in lrt.columns if c.lower().startswith("chisq")][0]
    assert np.allclose(chisq, lrt[col_chi].to_numpy(float), atol=1e-3)
    assert np.allclose(dfs, lrt["Df"].to_numpy(float), atol=0)
