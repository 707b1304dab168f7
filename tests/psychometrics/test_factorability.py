import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.psychometrics.factorability import bartlett_sphericity, kmo

from psych_ref import HS_ITEMS, ref


def test_kmo_matches_psych(hs):
    want = ref("kmo_hs.csv")
    got = kmo(hs, HS_ITEMS)
    assert list(got["item"]) == list(want["item"])
    assert_allclose(got["msa"], want["msa"], rtol=1e-10)


def test_kmo_pairwise_missing_matches_psych(bfi10):
    want = ref("kmo_bfi10.csv")
    assert_allclose(kmo(bfi10)["msa"], want["msa"], rtol=1e-10)


def test_bartlett_matches_psych(hs):
    want = ref("bartlett_hs.csv").iloc[0]
    got = bartlett_sphericity(hs, HS_ITEMS).iloc[0]
    assert_allclose(got["chisq"], want["chisq"], rtol=1e-10)
    assert got["df"] == want["df"]
    assert_allclose(got["pvalue"], want["pvalue"], rtol=1e-8)


def test_bartlett_null_holds_under_independence():
    # under H0 the p-values are uniform: about 5% below .05
    rng = np.random.default_rng(7)
    p = [bartlett_sphericity(pd.DataFrame(rng.standard_normal((100, 5)))).loc[0, "pvalue"] for _ in range(200)]
    assert 0.01 < np.mean(np.array(p) < 0.05) < 0.10


def test_singular_matrix_is_reported():
    df = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 4, 6, 8.1], "c": [3.0, 6, 9, 12.1]})
    df["d"] = df["a"] + df["b"]
    with pytest.raises(ValueError, match="singular"):
        kmo(df)
