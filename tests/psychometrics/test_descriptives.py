import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.psychometrics.descriptives import item_descriptives, kurtosis, plot_item_distributions, skewness

from psych_ref import ref


@pytest.mark.parametrize("type_", [2, 3])
def test_describe_matches_psych(bfi10, type_):
    want = ref("describe_bfi10.csv").query("type == @type_").set_index("item")
    got = item_descriptives(bfi10, points=6, type=type_).set_index("item").loc[want.index]
    for col in ("n", "mean", "sd", "skew", "kurtosis", "min", "max"):
        assert_allclose(got[col], want[col], rtol=1e-10, atol=1e-12, err_msg=col)
    assert_allclose(got["missing"], len(bfi10) - want["n"])


def test_type1_matches_scipy_biased_moments(bfi10):
    # psych 2.2.9's type-1 kurtosis divides by the column length including
    # NAs, so type 1 is checked against scipy's g1/g2 instead.
    from scipy import stats

    got = item_descriptives(bfi10, points=6, type=1)
    for code, sk, ku in zip(got["item"], got["skew"], got["kurtosis"]):
        x = bfi10[code].dropna().to_numpy(float)
        assert sk == pytest.approx(stats.skew(x, bias=True), rel=1e-10)
        assert ku == pytest.approx(stats.kurtosis(x, fisher=True, bias=True), rel=1e-10)


def test_category_proportions_are_counts(bfi10):
    got = item_descriptives(bfi10, ["A1"], points=6).iloc[0]
    counts = bfi10["A1"].value_counts(normalize=True)
    for k in range(1, 7):
        assert got[f"p{k}"] == pytest.approx(counts.get(k, 0.0))


def test_normal_sample_skew_kurtosis_near_zero():
    x = np.random.default_rng(1).standard_normal(200_000)
    assert abs(skewness(x)) < 0.02
    assert abs(kurtosis(x)) < 0.04


def test_bad_input_messages():
    with pytest.raises(ValueError, match="not found"):
        item_descriptives(pd.DataFrame({"a": [1, 2]}), ["b"])
    with pytest.raises(ValueError, match="numeric"):
        item_descriptives(pd.DataFrame({"a": ["x", "y"]}))


def test_plot_has_one_bar_segment_per_item_and_category(bfi10):
    from analysis.study.style import use

    use()  # the CJK font for the Chinese axis label
    fig = plot_item_distributions(bfi10, ["A1", "A2"], points=6)
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * 6
    widths = np.array([p.get_width() for p in ax.patches]).reshape(6, 2)
    assert_allclose(widths.sum(axis=0), 1.0)
