"""Statistics that need a fitted CFA (analysis.sem): omega, CR, AVE, Fornell-Larcker, CLF."""
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.psychometrics.method_bias import common_latent_factor
from analysis.psychometrics.reliability import (
    cfa_reliability,
    higher_order_reliability,
    model_matrices,
    reliability_table,
)
from analysis.psychometrics.validity import fornell_larcker, standardized_solution
from analysis.sem import cfa

from psych_ref import HS_MODEL, HS_SCALES, ref


@pytest.fixture(scope="module")
def hs_fit(hs):
    return cfa(HS_MODEL, hs)


def test_omega_cr_ave_match_semtools(hs, hs_fit):
    want = ref("reliability_cfa_hs.csv").set_index("factor")
    got = cfa_reliability(hs_fit, hs).set_index("factor").loc[want.index]
    for col in ("omega", "cr", "ave"):
        assert_allclose(got[col], want[col], atol=1e-4, err_msg=col)


def test_reliability_table_combines_alpha_and_cfa(hs, hs_fit):
    tab = reliability_table(hs, HS_SCALES, result=hs_fit).set_index("scale")
    want = ref("reliability_cfa_hs.csv").set_index("factor")
    assert_allclose(tab.loc[want.index, "omega"], want["omega"], atol=1e-4)
    assert_allclose(tab.loc["textual", "alpha"], ref("alpha.csv").set_index("scale").loc["textual", "alpha"])


def test_fornell_larcker_matches_lavaan_and_semtools(hs, hs_fit):
    fl = fornell_larcker(hs_fit, hs)
    ave = ref("reliability_cfa_hs.csv").set_index("factor")["ave"]
    assert_allclose(np.diag(fl.loc[ave.index, ave.index]), np.sqrt(ave), atol=1e-4)
    std = ref("cfa_std_hs.csv")
    cov = std[(std.op == "~~") & (std.lhs != std.rhs)]
    for r in cov.itertuples():
        assert fl.loc[r.lhs, r.rhs] == pytest.approx(r._4, abs=1e-4)


def test_second_order_model_matrices_imply_latent_covariances():
    est = pd.DataFrame({
        "lhs": ["G", "G", "A", "B", "G", "A", "B"],
        "op": ["=~", "=~", "=~", "=~", "~~", "~~", "~~"],
        "rhs": ["A", "B", "a1", "b1", "G", "A", "B"],
        "est": [1.0, 0.5, 1.0, 1.0, 2.0, 0.3, 0.4],
    })
    m = model_matrices(est)
    # cov(A, B) = 1 * 0.5 * var(G); var(B) = 0.25 * 2 + 0.4
    assert m["cov_lv"].loc["A", "B"] == pytest.approx(1.0)
    assert m["cov_lv"].loc["B", "B"] == pytest.approx(0.9)


def test_common_latent_factor_matches_lavaan(hs, hs_fit):
    got = common_latent_factor(HS_MODEL, hs, fitted=hs_fit)
    want = ref("clf_fit_hs.csv").set_index("model")
    comp = got.comparison.set_index("model").loc[want.index]
    for col in ("chisq", "df", "cfi", "tli", "rmsea", "srmr"):
        assert_allclose(comp[col], want[col], rtol=1e-4, atol=1e-6, err_msg=col)
    assert got.test["delta_chisq"] == pytest.approx(want["chisq"].iloc[0] - want["chisq"].iloc[1], rel=1e-4)
    assert got.test["delta_df"] == 1
    std = ref("clf_std_hs.csv")
    std = std[std.lhs != "CMF"].set_index(["lhs", "rhs"])["est.std"]
    mine = got.loadings.set_index(["factor", "item"])["std_all_clf"]
    assert_allclose(mine.loc[std.index], std, atol=1e-3)
    # lavaan warns: this HS model's latent covariance matrix is not positive definite
    assert not got.converged


def test_higher_order_omega_matches_semtools(hs):
    fit = cfa(HS_MODEL + "g =~ visual + textual + speed\n", hs)
    want = ref("higher_order_hs.csv").set_index("factor")
    got = higher_order_reliability(fit, hs).set_index("factor")
    assert list(got.index) == ["g"] and got.loc["g", "n_items"] == 9
    assert_allclose(got.loc["g", "omega"], want.loc["g", "omega"], atol=1e-4)
    assert_allclose(got.loc["g", "cr"], want.loc["g", "cr"], atol=1e-4)
    # the first-order factors of the same fit keep their compRelSEM values
    first = cfa_reliability(fit, hs).set_index("factor")
    assert_allclose(first.loc[["visual", "textual", "speed"], "omega"],
                    want.loc[["visual", "textual", "speed"], "omega"], atol=1e-4)


def test_standardized_solution_se_match_lavaan(hs_fit):
    want = ref("std_se_hs.csv")
    got = standardized_solution(hs_fit).merge(want, on=["lhs", "op", "rhs"], how="inner")
    assert len(got) == len(want)
    assert_allclose(got["est_std"], got["est.std"], atol=1e-6)
    assert_allclose(got["se_x"], got["se_y"], atol=1e-5)
    free = got["se_y"] > 0
    assert_allclose(got.loc[free, "ci_lower"], got.loc[free, "ci.lower"], atol=1e-5)
    assert_allclose(got.loc[free, "pvalue_x"], got.loc[free, "pvalue_y"], atol=1e-6)


def test_omega_cr_ave_under_fiml_use_the_em_covariance():
    from pathlib import Path

    hsm = pd.read_csv(Path(__file__).parents[1] / "reference" / "data" / "HS_missing.csv")
    fit = cfa(HS_MODEL, hsm, missing="fiml")
    want = ref("reliability_cfa_hs_fiml.csv").set_index("factor")
    got = cfa_reliability(fit, hsm).set_index("factor").loc[want.index]
    for col in ("omega", "cr", "ave"):
        assert_allclose(got[col], want[col], atol=1e-4, err_msg=col)
