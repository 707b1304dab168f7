"""Gamma (NACOV) and the DWLS weights against lavaan 0.6.14.

References: ``tests/reference/lavaan_ordinal_extra.R`` ->
``ordinal_*_gamma.csv`` (``lavInspect(fit, "gamma")``) and
``ordinal_*_wls_v.csv`` (``diag(lavInspect(fit, "wls.v"))``).
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sem.ordinal import lower_index, ordinal_stats

REF = Path(__file__).resolve().parents[1] / "reference" / "lavaan"
CASES = {"hs": "ordinal_hs_data.csv", "sparse": "ordinal_sparse_data.csv",
         "hs_pairwise": "ordinal_hs_missing_data.csv"}  # NaN: missing = "pairwise"


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    name = request.param
    data = pd.read_csv(REF / CASES[name])
    cols = list(pd.read_csv(REF / f"ordinal_{name}_wlsmv_polychoric.csv", index_col=0).index)
    return name, ordinal_stats(data, cols)


def test_names_follow_lavaan_wls_obs_order(case):
    name, st = case
    ref = pd.read_csv(REF / f"ordinal_{name}_wlsmv_gamma.csv", index_col=0)
    assert st.wls_names == list(ref.index)


def test_gamma_matches_lavaan(case):
    name, st = case
    ref = pd.read_csv(REF / f"ordinal_{name}_wlsmv_gamma.csv", index_col=0).to_numpy()
    np.testing.assert_allclose(np.diag(st.gamma), np.diag(ref), rtol=1e-6)
    np.testing.assert_allclose(st.gamma, ref, atol=1e-6)


def test_wls_v_is_inverse_gamma_diagonal_as_lavaan(case):
    name, st = case
    ref = pd.read_csv(REF / f"ordinal_{name}_wlsmv_wls_v.csv")
    np.testing.assert_allclose(st.wls_v, ref["wls_v_diag"].to_numpy(), rtol=1e-6)


def test_wls_obs_stacks_thresholds_and_lower_polychorics(case):
    _, st = case
    r, c = lower_index(len(st.names))
    np.testing.assert_array_equal(st.wls_obs, np.concatenate([st.thresholds, st.polychoric[r, c]]))
    assert lower_index(4)[0].tolist() == [1, 2, 3, 2, 3, 3]


def test_gamma_diagonal_of_a_threshold_is_its_binomial_variance():
    # one threshold: Var(sqrt(N)(tau_hat - tau)) = p (1 - p) / phi(tau)^2 (delta method)
    rng = np.random.default_rng(5)
    x = (rng.normal(size=400) > 0.3).astype(int) + 1
    y = (rng.normal(size=400) > -0.2).astype(int) + 1
    st = ordinal_stats(pd.DataFrame({"x": x, "y": y}))
    p = np.mean(x == 1)
    tau = st.thresholds[0]
    phi = np.exp(-0.5 * tau * tau) / np.sqrt(2 * np.pi)
    assert st.gamma[0, 0] == pytest.approx(p * (1 - p) / phi ** 2, rel=1e-10)


def test_empty_category_in_a_group_is_an_error():
    d = pd.DataFrame({"x": [1, 1, 3, 3, 1], "y": [1, 2, 1, 2, 2]})
    with pytest.raises(ValueError, match="empty"):
        ordinal_stats(d, levels=[np.array([1, 2, 3]), np.array([1, 2])], group="g2")


def test_hs_ordinal_reference_of_the_core_script():
    # tests/reference/lavaan_reference.R: HS_ordinal (4 categories), WLSMV
    data = pd.read_csv(REF.parent / "data" / "HS_ordinal.csv")
    xs = [f"x{i}" for i in range(1, 10)]
    st = ordinal_stats(data, xs)
    ref = pd.read_csv(REF / "hs_wlsmv_nacov_diag.csv")
    assert st.wls_names == list(ref["element"])
    np.testing.assert_allclose(st.wls_obs, ref["wls_obs"].to_numpy(), atol=1e-7)
    np.testing.assert_allclose(np.diag(st.gamma), ref["gamma_diag"].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(st.wls_v, ref["wls_v_diag"].to_numpy(), rtol=1e-6)
    pc = pd.read_csv(REF / "hs_ordinal_polychoric.csv", index_col=0)
    np.testing.assert_allclose(st.polychoric, pc.loc[xs, xs].to_numpy(), atol=1e-6)
