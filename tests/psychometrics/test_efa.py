import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.psychometrics.efa import efa, oblimin, parallel_analysis

from psych_ref import HS_ITEMS, ref

CASES = [("hs", "minres", 3), ("hs", "ml", 3), ("bfi10", "minres", 2)]


def _data(name, hs, bfi10):
    return hs[HS_ITEMS] if name == "hs" else bfi10


@pytest.mark.parametrize("dataset, fm, nf", CASES)
def test_efa_loadings_phi_communalities_match_psych_fa(hs, bfi10, dataset, fm, nf):
    got = efa(_data(dataset, hs, bfi10), nf, method=fm)
    assert got.converged
    load = ref("efa_loadings.csv").query("dataset == @dataset and fm == @fm")
    want = load.pivot(index="item", columns="factor", values="loading").loc[got.loadings.index]
    assert_allclose(got.loadings.to_numpy(), want.to_numpy(), atol=1e-4)
    phi = ref("efa_phi.csv").query("dataset == @dataset and fm == @fm")
    want_phi = phi.pivot(index="row", columns="col", values="phi").to_numpy()
    assert_allclose(got.phi.to_numpy(), want_phi, atol=1e-4)
    com = ref("efa_communality.csv").query("dataset == @dataset and fm == @fm").set_index("item")
    assert_allclose(got.communality.loc[com.index], com["communality"], atol=1e-4)


def test_variance_table_sums_communalities_for_orthogonal_solution(hs):
    got = efa(hs[HS_ITEMS], 3, rotation="none")
    assert_allclose(got.variance_table()["ss_loadings"].sum(), got.communality.sum(), rtol=1e-10)
    assert set(got.tidy().columns) == {"item", "factor", "loading", "communality"}


def test_oblimin_recovers_simple_structure():
    # a rotated perfect-cluster pattern is rotated back (up to sign/order)
    true = np.zeros((9, 3))
    for f in range(3):
        true[3 * f:3 * f + 3, f] = 0.7
    t = np.linalg.qr(np.random.default_rng(3).standard_normal((3, 3)))[0]
    lam, phi, ok = oblimin(true @ t)
    assert ok
    back = np.abs(lam)
    back = back[:, np.argmax(back, axis=0).argsort()]
    assert_allclose(np.sort(back, axis=1)[:, -1], 0.7, atol=1e-4)
    assert_allclose(np.sort(back, axis=1)[:, :2], 0.0, atol=1e-4)
    assert_allclose(np.abs(phi), np.eye(3), atol=1e-4)


def test_efa_recovers_known_loadings():
    rng = np.random.default_rng(11)
    lam = np.zeros((8, 2))
    lam[:4, 0] = [0.8, 0.7, 0.6, 0.5]
    lam[4:, 1] = [0.8, 0.7, 0.6, 0.5]
    f = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=20000)
    x = f @ lam.T + rng.standard_normal((20000, 8)) * np.sqrt(1 - (lam**2).sum(1))
    got = efa(pd.DataFrame(x, columns=[f"v{i}" for i in range(8)]), 2)
    l = got.loadings.to_numpy()
    if abs(l[0, 0]) < abs(l[0, 1]):
        l = l[:, ::-1]
    assert_allclose(l, lam, atol=0.03)
    assert abs(got.phi.iloc[0, 1]) == pytest.approx(0.3, abs=0.03)


def test_parallel_analysis_matches_psych(hs):
    want = ref("parallel_hs.csv")
    n_iter = 40
    got = parallel_analysis(hs[HS_ITEMS], n_iter=n_iter, seed=1)
    # observed eigenvalues: exact
    assert_allclose(got.table["pc_observed"], want["pc_observed"], rtol=1e-8)
    assert_allclose(got.table["fa_observed"], want["fa_observed"], atol=1e-4)
    # simulated eigenvalues: random, same distribution: the two means (ours over
    # n_iter sets, psych's over 200) differ by less than 4 standard errors
    for kind in ("pc", "fa"):
        se = got.table[f"{kind}_sd"] * np.sqrt(1 / n_iter + 1 / 200)
        diff = (got.table[f"{kind}_simulated"] - want[f"{kind}_simulated"]).abs()
        assert (diff < 4 * se).all(), kind
    n = ref("parallel_hs_n.csv").iloc[0]
    assert got.n_factors == n["nfact"] and got.n_components == n["ncomp"]


def test_parallel_analysis_is_seeded(hs):
    a = parallel_analysis(hs[HS_ITEMS], n_iter=5, seed=3).table
    b = parallel_analysis(hs[HS_ITEMS], n_iter=5, seed=3).table
    pd.testing.assert_frame_equal(a, b)


def test_bad_number_of_factors(hs):
    with pytest.raises(ValueError, match="n_factors"):
        efa(hs[HS_ITEMS], 9)
