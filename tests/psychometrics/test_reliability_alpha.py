import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.psychometrics.reliability import cronbach_alpha, reliability_table

from psych_ref import HS_SCALES, ref


def test_alpha_and_feldt_ci_match_psych(hs, bfi10):
    want = ref("alpha.csv")
    for row in want.itertuples():
        if row.dataset == "hs":
            got = cronbach_alpha(hs, HS_SCALES[row.scale])
        else:
            got = cronbach_alpha(bfi10, ["A2", "A3", "A4", "A5"])   # pairwise, with NAs
        assert_allclose(got["alpha"], row.alpha, rtol=1e-10)
        assert_allclose(got["std_alpha"], row.std_alpha, rtol=1e-10)
        assert_allclose(got["ci_lower"], row.ci_lower, rtol=1e-8)
        assert_allclose(got["ci_upper"], row.ci_upper, rtol=1e-8)
        assert got["n"] == row.n


def test_alpha_of_parallel_items_is_spearman_brown():
    # k parallel items, each with reliability rho: alpha = k rho / (1 + (k-1) rho)
    rng = np.random.default_rng(5)
    n, k, rho = 100_000, 4, 0.4
    t = rng.standard_normal(n)
    x = t[:, None] + rng.standard_normal((n, k)) * np.sqrt((1 - rho) / rho)
    got = cronbach_alpha(pd.DataFrame(x))
    assert got["alpha"] == pytest.approx(k * rho / (1 + (k - 1) * rho), abs=0.005)
    assert got["ci_lower"] < got["alpha"] < got["ci_upper"]


def test_reliability_table_without_cfa_has_nan_omega(hs):
    tab = reliability_table(hs, HS_SCALES)
    assert list(tab["scale"]) == list(HS_SCALES)
    assert tab["omega"].isna().all()


def test_alpha_needs_two_items(hs):
    with pytest.raises(ValueError, match="two items"):
        cronbach_alpha(hs, ["x1"])
