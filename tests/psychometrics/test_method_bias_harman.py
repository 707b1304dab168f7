import numpy as np
import pandas as pd
import pytest

from analysis.psychometrics.method_bias import chisq_difference, harman_single_factor

from psych_ref import HS_ITEMS, ref


@pytest.mark.parametrize("method", ["pca", "fa"])
def test_harman_matches_psych(hs, method):
    want = ref("harman_hs.csv").set_index("method").loc[method, "share"]
    got = harman_single_factor(hs, HS_ITEMS, method=method)
    assert got["share"] == pytest.approx(want, abs=1e-6)
    assert not got["dominant"]


def test_harman_flags_a_single_dominant_factor():
    rng = np.random.default_rng(1)
    f = rng.standard_normal(5000)
    x = pd.DataFrame({f"v{i}": 0.9 * f + 0.3 * rng.standard_normal(5000) for i in range(6)})
    got = harman_single_factor(x)
    # analytic: first eigenvalue of a compound-symmetric R is 1 + (p-1) r, r = .81/.90
    assert got["share"] == pytest.approx((1 + 5 * 0.81 / 0.9) / 6, abs=0.01)
    assert got["dominant"]


def test_chisq_difference_is_likelihood_ratio():
    r = pd.Series({"chisq": 100.0, "df": 30, "cfi": 0.95, "rmsea": 0.06})
    f = pd.Series({"chisq": 90.0, "df": 27, "cfi": 0.96, "rmsea": 0.055})
    got = chisq_difference(r, f)
    assert got["delta_chisq"] == 10.0 and got["delta_df"] == 3
    # chi-square(3) survival: 2(1 - Phi(sqrt x)) + sqrt(2x/pi) exp(-x/2)
    from math import erf, exp, pi, sqrt

    x = 10.0
    want = 2 * (1 - 0.5 * (1 + erf(sqrt(x) / sqrt(2)))) + sqrt(2 * x / pi) * exp(-x / 2)
    assert got["pvalue"] == pytest.approx(want, rel=1e-10)
