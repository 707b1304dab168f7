import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.psychometrics.validity import htmt

from psych_ref import HS_SCALES, ref


@pytest.mark.parametrize("htmt2, col", [(True, "htmt2"), (False, "htmt")])
def test_htmt_matches_semtools(hs, htmt2, col):
    want = ref("htmt_hs.csv").pivot(index="row", columns="col", values=col)
    got = htmt(hs, HS_SCALES, htmt2=htmt2)
    want = want.loc[got.index, got.columns]
    assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-8)


def test_htmt_of_two_tau_equivalent_scales_is_true_correlation():
    # items of scale 1 = t1 + e, scale 2 = t2 + e, corr(t1, t2) = .5: HTMT = .5
    rng = np.random.default_rng(9)
    t = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], size=100_000)
    cols = {f"a{i}": t[:, 0] + rng.standard_normal(len(t)) for i in range(3)}
    cols |= {f"b{i}": t[:, 1] + rng.standard_normal(len(t)) for i in range(3)}
    got = htmt(pd.DataFrame(cols), {"A": ["a0", "a1", "a2"], "B": ["b0", "b1", "b2"]})
    assert got.loc["A", "B"] == pytest.approx(0.5, abs=0.01)
