"""Screening statistics: R references, analytic truths."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.psychometrics.screening import (
    attention_failed,
    classification_accuracy,
    duplicated_responses,
    longstring,
    mahalanobis,
    too_fast,
)

REF = Path(__file__).parent / "reference" / "screening"


def test_mahalanobis_matches_r():
    # tests/reference/screening/screening_reference.R (R 4.2.2, stats::mahalanobis, pchisq)
    x = pd.read_csv(REF / "attitude.csv")
    ref = pd.read_csv(REF / "mahalanobis_attitude.csv")
    got = mahalanobis(x)
    np.testing.assert_allclose(got["d2"], ref["d2"], rtol=1e-10)
    np.testing.assert_allclose(got["pvalue"], ref["pvalue"], rtol=1e-9)
    assert (got["df"] == x.shape[1]).all()
    sub = mahalanobis(x, reference=np.arange(len(x)) < 20)
    np.testing.assert_allclose(sub["d2"], ref["d2_ref20"], rtol=1e-10)


def test_mahalanobis_with_missing_uses_the_observed_block():
    rng = np.random.default_rng(4)
    x = pd.DataFrame(rng.normal(size=(200, 4)), columns=list("abcd"))
    y = x.copy()
    y.iloc[0, 1] = np.nan
    y.iloc[1, [0, 3]] = np.nan
    got = mahalanobis(y, reference=np.r_[False, False, np.ones(198, bool)])
    ref = x.iloc[2:]
    mean, cov = ref.mean().to_numpy(), ref.cov().to_numpy()
    for row, obs in ((0, [0, 2, 3]), (1, [1, 2]), (5, [0, 1, 2, 3])):
        dev = x.iloc[row, obs].to_numpy() - mean[obs]
        d2 = dev @ np.linalg.solve(cov[np.ix_(obs, obs)], dev)
        assert got["d2"].iloc[row] == pytest.approx(d2, rel=1e-10)
        assert got["df"].iloc[row] == len(obs)
        assert got["pvalue"].iloc[row] == pytest.approx(stats.chi2.sf(d2, len(obs)), rel=1e-10)


def test_mahalanobis_false_positive_rate_under_normality():
    rng = np.random.default_rng(12)
    x = pd.DataFrame(rng.multivariate_normal(np.zeros(6), np.eye(6) + 0.5, size=20000))
    assert (mahalanobis(x)["pvalue"] < 0.05).mean() == pytest.approx(0.05, abs=0.006)


def test_mahalanobis_input_checks():
    with pytest.raises(ValueError, match="more reference rows"):
        mahalanobis(pd.DataFrame(np.eye(3)))
    with pytest.raises(ValueError, match="not in data"):
        mahalanobis(pd.DataFrame({"a": [1.0, 2.0]}), items=["b"])


def test_longstring():
    d = pd.DataFrame([[1, 1, 1, 1, 1, 1],
                      [1, 2, 1, 2, 1, 2],
                      [3, 3, np.nan, 3, 3, 3],
                      [np.nan] * 6,
                      [5, 4, 4, 4, 2, 2]], index=list("vwxyz"))
    got = longstring(d)
    assert got.tolist() == [6, 1, 3, 0, 3]
    assert got.index.tolist() == list("vwxyz")
    assert longstring(d, items=[0, 1]).tolist() == [2, 1, 2, 0, 1]


def test_duplicates_keep_the_first_copy():
    d = pd.DataFrame({"a": [1, 2, 1, 1, np.nan, np.nan], "b": [3, 4, 3, 9, 5, 5]}, index=[10, 11, 12, 13, 14, 15])
    got = duplicated_responses(d)
    assert got["duplicate"].tolist() == [False, False, True, False, False, True]
    assert got["duplicate_of"].tolist() == [None, None, 10, None, None, 14]
    assert duplicated_responses(d, ["a"])["duplicate"].sum() == 3


def test_attention_and_speed():
    d = pd.DataFrame({"ATTN": [4, 3, np.nan, 4.0]})
    assert attention_failed(d, "ATTN", 4).tolist() == [False, True, True, False]
    assert too_fast([30, 120, 119.5, np.nan], 120).tolist() == [True, False, True, False]
    with pytest.raises(ValueError):
        too_fast([1], -1)


def test_classification_accuracy_counts():
    flags = pd.DataFrame({"r": [True, True, False, False, True]})
    truth = pd.DataFrame({"r": [True, False, True, False, True]})
    got = classification_accuracy(flags, truth).iloc[0]
    assert (got.tp, got.fp, got.fn, got.tn) == (2, 1, 1, 1)
    assert got.sensitivity == pytest.approx(2 / 3) and got.specificity == pytest.approx(1 / 2)
    with pytest.raises(ValueError, match="no truth"):
        classification_accuracy(pd.DataFrame({"q": [True]}), truth)
