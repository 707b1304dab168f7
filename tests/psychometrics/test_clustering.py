import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.psychometrics.clustering import cluster_summary, design_effect, icc1

from psych_ref import ref


def test_icc1_matches_anova_reference():
    data = ref("icc_data.csv")
    want = ref("icc_ref.csv").iloc[0]
    got = icc1(data, "y", "cluster")
    for key in ("msb", "msw", "k0", "icc1", "mean_size"):
        assert_allclose(got[key], want[key], rtol=1e-10, err_msg=key)
    assert got["n_clusters"] == want["n_clusters"] and got["n"] == want["n"]
    # the REML variance ratio (lme4) estimates the same quantity
    assert got["icc1"] == pytest.approx(want["icc_reml"], abs=0.03)


def test_icc1_recovers_known_icc_with_unequal_clusters():
    rng = np.random.default_rng(2024)
    true_icc, est = 0.15, []
    for _ in range(40):
        sizes = rng.integers(5, 40, size=60)
        g = np.repeat(np.arange(60), sizes)
        y = rng.normal(0, np.sqrt(true_icc), 60)[g] + rng.normal(0, np.sqrt(1 - true_icc), g.size)
        est.append(icc1(pd.DataFrame({"y": y, "g": g}), "y", "g")["icc1"])
    assert np.mean(est) == pytest.approx(true_icc, abs=0.01)


def test_icc1_agrees_with_statsmodels_mixedlm():
    import statsmodels.formula.api as smf

    data = ref("icc_data.csv")
    m = smf.mixedlm("y ~ 1", data, groups=data["cluster"]).fit(reml=True)
    reml = float(m.cov_re.iloc[0, 0]) / (float(m.cov_re.iloc[0, 0]) + m.scale)
    want = ref("icc_ref.csv").iloc[0]
    assert reml == pytest.approx(want["icc_reml"], abs=1e-4)
    assert icc1(data, "y", "cluster")["icc1"] == pytest.approx(reml, abs=0.03)


def test_design_effect_and_effective_n():
    data = ref("icc_data.csv")
    got = cluster_summary(data.assign(z=data["y"] * 2), ["y", "z"], "cluster")
    assert_allclose(got["icc1"].iloc[0], got["icc1"].iloc[1])
    row = got.iloc[0]
    assert row["design_effect"] == pytest.approx(1 + (row["mean_size"] - 1) * row["icc1"])
    assert row["n_effective"] == pytest.approx(row["n"] / row["design_effect"])
    assert design_effect(0.0, 30) == 1.0


def test_one_cluster_is_an_error():
    with pytest.raises(ValueError, match="two clusters"):
        icc1(pd.DataFrame({"y": [1.0, 2, 3], "g": ["a"] * 3}), "y", "g")
