"""Thresholds and polychoric correlations against lavaan 0.6.14.

References: ``tests/reference/lavaan_ordinal_extra.R`` (printed output in
``lavaan_ordinal_extra.Rout``), files ``tests/reference/lavaan/ordinal_*``.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr
from scipy.stats import multivariate_normal

from analysis.sem.polychoric import (
    bivariate_normal_cdf,
    encode_ordinal,
    polychoric,
    polychoric_pair,
    thresholds,
)

REF = Path(__file__).resolve().parents[1] / "reference" / "lavaan"
CASES = {"hs": "ordinal_hs_data.csv", "sparse": "ordinal_sparse_data.csv",
         "hs_pairwise": "ordinal_hs_missing_data.csv"}  # NaN: available cases


def _data(case):
    return pd.read_csv(REF / CASES[case])


def _ref_cor(case):
    return pd.read_csv(REF / f"ordinal_{case}_wlsmv_polychoric.csv", index_col=0)


@pytest.mark.parametrize("rho", [-0.97, -0.8, -0.5, -0.2, 0.0, 0.1, 0.4, 0.7, 0.9, 0.95, 0.999])
def test_bivariate_cdf_matches_scipy(rho):
    rng = np.random.default_rng(11)
    x = rng.normal(scale=1.5, size=15)
    y = rng.normal(scale=1.5, size=15)
    ours = bivariate_normal_cdf(x, y, rho)
    mvn = multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]])
    ref = np.array([mvn.cdf([a, b]) for a, b in zip(x, y)])
    np.testing.assert_allclose(ours, ref, atol=1e-7)


def test_bivariate_cdf_analytic_values():
    # orthant probability: 1/4 + asin(rho) / (2 pi)
    for rho in (-0.9, -0.3, 0.2, 0.6, 0.95):
        assert bivariate_normal_cdf(0.0, 0.0, rho) == pytest.approx(
            0.25 + np.arcsin(rho) / (2 * np.pi), abs=1e-14)
    # independence and infinite limits
    assert bivariate_normal_cdf(0.3, -1.1, 0.0) == pytest.approx(ndtr(0.3) * ndtr(-1.1), abs=1e-15)
    np.testing.assert_allclose(bivariate_normal_cdf([np.inf, 0.4, -np.inf], [0.7, np.inf, 2.0], 0.5),
                               [ndtr(0.7), ndtr(0.4), 0.0], atol=1e-15)


@pytest.mark.parametrize("case", ["hs", "sparse", "hs_pairwise"])
def test_thresholds_match_lavaan(case):
    ref = pd.read_csv(REF / f"ordinal_{case}_wlsmv_thresholds.csv")
    cols = list(_ref_cor(case).index)
    th = thresholds(_data(case), cols)
    assert list(th["name"]) == list(ref["name"])
    np.testing.assert_allclose(th["est"].to_numpy(), ref["est"].to_numpy(), atol=1e-8)


@pytest.mark.parametrize("case", ["hs", "sparse", "hs_pairwise"])
def test_polychoric_matrix_matches_lavaan(case):
    ref = _ref_cor(case)
    r = polychoric(_data(case), list(ref.index))
    assert list(r.columns) == list(ref.columns)
    # lavaan's nlminb stops at ~1e-8; tables with empty cells included
    np.testing.assert_allclose(r.to_numpy(), ref.to_numpy(), atol=1e-6)


def test_sparse_case_has_empty_cells_and_a_2x2_table_with_one_empty_cell():
    d = _data("sparse")
    tab = pd.crosstab(d["b1"], d["b2"]).to_numpy()
    assert (tab == 0).sum() == 1          # the zero.add = 0.5 path of lavaan
    assert (pd.crosstab(d["y1"], d["y2"]).to_numpy() == 0).any()


def test_polychoric_recovers_known_correlation():
    rng = np.random.default_rng(20240601)
    n, rho = 20000, 0.55
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    x = np.digitize(z[:, 0], [-1.0, 0.2, 1.1]) + 1
    y = np.digitize(z[:, 1], [-0.5, 0.8]) + 1
    r = polychoric(pd.DataFrame({"x": x, "y": y}))
    assert r.loc["x", "y"] == pytest.approx(rho, abs=0.02)
    th = thresholds(pd.DataFrame({"x": x}))["est"].to_numpy()
    np.testing.assert_allclose(th, [-1.0, 0.2, 1.1], atol=0.03)


def test_two_by_two_special_cases_follow_lavaan():
    # proportional rows: rho = 0
    assert polychoric_pair([[10, 20], [5, 10]], [0.1], [0.2]) == 0.0
    # both thresholds at zero: -cos(2 pi n11 / n)
    assert polychoric_pair([[30, 10], [10, 30]], [0.0], [0.0]) == pytest.approx(
        -np.cos(2 * np.pi * 30 / 80))
    # two empty cells: +-1
    assert polychoric_pair([[10, 0], [0, 5]], [0.3], [0.3]) == 1.0
    assert polychoric_pair([[0, 10], [5, 0]], [0.3], [0.3]) == -1.0


def test_encode_ordinal_maps_observed_values_and_rejects_constants():
    od = encode_ordinal(pd.DataFrame({"a": [2, 4, 4, 7, np.nan]}))
    assert od.codes[:, 0].tolist() == [1, 2, 2, 3, 0]
    assert od.threshold_names == ["a|t1", "a|t2"]
    with pytest.raises(ValueError, match="at least two"):
        encode_ordinal(pd.DataFrame({"a": [3, 3, 3]}))
    with pytest.raises(ValueError, match="not found"):
        encode_ordinal(pd.DataFrame({"a": [1, 2]}), ["b"])


def test_bivariate_cdf_accepts_one_correlation_per_element():
    rng = np.random.default_rng(7)
    x = rng.normal(size=40)
    y = rng.normal(size=40)
    rho = rng.uniform(-0.99, 0.99, size=40)
    vec = bivariate_normal_cdf(x, y, rho)
    one = np.array([bivariate_normal_cdf(a, b, r) for a, b, r in zip(x, y, rho)])
    np.testing.assert_allclose(vec, one, rtol=0, atol=1e-15)
