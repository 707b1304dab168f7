"""Product indicators (``analysis.sem.indprod``) against semTools 0.5-6 ``indProd``,
and the latent-interaction model fitted on them against lavaan 0.6-14.

References: ``tests/reference/semtools_indprod.R`` (printed output in
``semtools_indprod.Rout``) on the synthetic data set
``tests/reference/data/latent_interaction.csv`` (300 rows, 10 missing
cells), writing ``tests/reference/lavaan/indprod_<case>.csv`` and
``indprod_fit_<model>_{estimates,fit}.csv``.

Tolerances: product indicators 1e-10 (absolute; NaN where R has NA);
estimates, SEs and std_all 1e-4 absolute (every row); fit measures as
``FIT_TOL`` below (0 for counts).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem import indprod, sem

from sem_ref import REF, assert_estimates_match, fit_mismatches, read_estimates, read_fit

XS = ["x1", "x2", "x3"]
ZS = ["z1", "z2", "z3"]

#: case of semtools_indprod.R -> (var2, keyword arguments of indprod)
CASES = {
    "default": (ZS, {}),
    "nomatch": (ZS, {"match": False}),
    "meanc_only": (ZS, {"double_mean_center": False}),
    "raw": (ZS, {"mean_center": False, "double_mean_center": False}),
    "dmc_only": (ZS, {"mean_center": False}),
    "residual": (ZS, {"residual_center": True, "double_mean_center": False}),
    "residual_dmc": (ZS, {"residual_center": True}),
    "residual_nomatch": (ZS, {"residual_center": True, "match": False}),
    "unequal_nomatch": (["z1", "z2"], {"match": False}),
    "unequal_residual": (["z1", "z2"], {"match": False, "residual_center": True,
                                        "double_mean_center": False}),
    "names": (ZS, {"names_prod": ["p1", "p2", "p3"]}),
}

PAIRS = [f"{x}.{z}" for x in XS for z in ZS]
SHARED = [f"{p} ~~ {q}" for i, p in enumerate(PAIRS) for q in PAIRS[i + 1:]
          if p.split(".")[0] == q.split(".")[0] or p.split(".")[1] == q.split(".")[1]]
BASE = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + XZ\n"
#: model -> (syntax, indprod keyword arguments), as in semtools_indprod.R
MODELS = {
    "matched": (BASE + "XZ =~ x1.z1 + x2.z2 + x3.z3\n", {}),
    "allpairs": (BASE + "XZ =~ " + " + ".join(PAIRS) + "\n" + "\n".join(SHARED), {"match": False}),
}

# lavaan's fitMeasures() name -> (ours, absolute tolerance)
FIT_TOL = {
    "npar": ("npar", 0), "df": ("df", 0), "ntotal": ("nobs", 0), "baseline.df": ("baseline_df", 0),
    "fmin": ("fmin", 1e-7), "chisq": ("chisq", 1e-4), "pvalue": ("pvalue", 1e-6),
    "baseline.chisq": ("baseline_chisq", 1e-4), "cfi": ("cfi", 1e-6), "tli": ("tli", 1e-6),
    "rmsea": ("rmsea", 1e-6), "rmsea.ci.lower": ("rmsea_ci_lower", 1e-6),
    "rmsea.ci.upper": ("rmsea_ci_upper", 1e-6), "rmsea.pvalue": ("rmsea_pvalue", 1e-6),
    "srmr": ("srmr", 1e-6), "logl": ("loglik", 1e-4), "unrestricted.logl": ("unrestricted_loglik", 1e-4),
    "aic": ("aic", 1e-4), "bic": ("bic", 1e-4), "bic2": ("bic2", 1e-4),
}


@pytest.fixture(scope="module")
def li() -> pd.DataFrame:
    """The synthetic latent-interaction data of semtools_indprod.R."""
    return pd.read_csv(REF / "data" / "latent_interaction.csv")


@pytest.mark.parametrize("case", list(CASES))
def test_products_match_semtools(li, case):
    var2, kwargs = CASES[case]
    ours = indprod(li, XS, var2, **kwargs)
    ref = pd.read_csv(REF / "lavaan" / f"indprod_{case}.csv")
    assert list(ours.columns) == list(ref.columns)
    a, b = ours.to_numpy(float), ref.to_numpy(float)
    assert (np.isnan(a) == np.isnan(b)).all(), "missing values in other cells than semTools"
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-10, equal_nan=True)


def test_single_names_and_index_kept(li):
    """One name per set gives the column of the matched case; a permuted index travels with its rows."""
    ref = pd.read_csv(REF / "lavaan" / "indprod_default.csv")
    one = indprod(li, "x2", "z2")
    assert list(one.columns) == list(li.columns) + ["x2.z2"]
    np.testing.assert_allclose(one["x2.z2"], ref["x2.z2"], rtol=0, atol=1e-10)
    shuffled = li.sample(frac=1.0, random_state=7)
    out = indprod(shuffled, XS, ZS)
    assert out.index.equals(shuffled.index)
    np.testing.assert_allclose(out.loc[li.index, "x3.z3"], ref["x3.z3"], rtol=0, atol=1e-10,
                               equal_nan=True)
    assert list(li.columns) == list(ref.columns[:len(li.columns)])   # input left unchanged


def test_residual_products_orthogonal_to_indicators(li):
    """Residual centring: on the rows with every product, each product is orthogonal to 1, x and z."""
    out = indprod(li, XS, ZS, residual_center=True, double_mean_center=False, match=False)
    rows = out[PAIRS].notna().all(axis=1)
    design = np.column_stack([np.ones(rows.sum()), out.loc[rows, XS + ZS].to_numpy(float)])
    cross = design.T @ out.loc[rows, PAIRS].to_numpy(float)
    assert np.abs(cross).max() < 1e-8


@pytest.mark.parametrize("call, message", [
    (lambda d: indprod(d, XS, ["z1", "z2"]), "equal length"),
    (lambda d: indprod(d, XS, ["z1", "z2", "w9"]), "not in data: w9"),
    (lambda d: indprod(d.assign(z1=d["z1"].astype(str)), XS, ZS), "'z1' is not numeric"),
    (lambda d: indprod(d, ["x1", "x1"], ZS[:2]), "twice"),
    (lambda d: indprod(d, XS, ZS, names_prod=["a", "b"]), "2 names for 3"),
    (lambda d: indprod(d, XS, ZS, names_prod=["y1", "b", "c"]), "already a column"),
    (lambda d: indprod(d, [], []), "names no column"),
])
def test_bad_input_one_clear_error(li, call, message):
    with pytest.raises(ValueError, match=message):
        call(li)


def test_data_must_be_a_frame(li):
    with pytest.raises(TypeError, match="DataFrame"):
        indprod(li.to_numpy(), XS, ZS)


@pytest.fixture(scope="module")
def fits(li):
    return {name: sem(model, indprod(li, XS, ZS, **kwargs)) for name, (model, kwargs) in MODELS.items()}


@pytest.mark.parametrize("model", list(MODELS))
def test_latent_interaction_estimates_match_lavaan(fits, model):
    res = fits[model]
    assert res.converged
    ref = read_estimates(REF / "lavaan" / f"indprod_fit_{model}_estimates.csv")
    assert_estimates_match(res.estimates, ref, atol_est=1e-4, atol_se=1e-4, atol_std=1e-4)


@pytest.mark.parametrize("model", list(MODELS))
def test_latent_interaction_fit_measures_match_lavaan(fits, model):
    rfit = read_fit(REF / "lavaan" / f"indprod_fit_{model}_fit.csv")
    bad = fit_mismatches(fits[model].fit, rfit, FIT_TOL)
    assert not bad, "\n".join(bad)
