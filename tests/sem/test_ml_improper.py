"""Improper solutions and non-convergence are reported in ``issues``.

Truth here is analytic: a one-factor model with three indicators is just
identified, so ML reproduces S exactly and the residual variance of the
marker is ``s11 - s12 s13 / s23`` [Bollen 1989, p. 282], negative (a
Heywood case) when ``s12 s13 / s23 > s11``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem import cfa


@pytest.fixture(scope="module")
def heywood_data():
    corr = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.4], [0.8, 0.4, 1.0]])
    rng = np.random.default_rng(20261127)
    x = rng.multivariate_normal(np.zeros(3), corr, size=400)
    return pd.DataFrame(x, columns=["x1", "x2", "x3"])


def test_heywood_case_is_estimated_and_reported(heywood_data):
    res = cfa("f =~ x1 + x2 + x3", heywood_data)
    x = heywood_data.to_numpy()
    s = np.cov(x, rowvar=False, ddof=0)
    theta1 = s[0, 0] - s[0, 1] * s[0, 2] / s[1, 2]
    assert theta1 < 0
    est = res.estimates.set_index(["lhs", "op", "rhs"])["est"]
    assert est[("x1", "~~", "x1")] == pytest.approx(theta1, abs=1e-6)
    assert est[("f", "~~", "f")] == pytest.approx(s[0, 1] * s[0, 2] / s[1, 2], abs=1e-6)
    assert res.fit["df"] == 0 and res.fit["chisq"] == pytest.approx(0.0, abs=1e-8)
    assert res.converged
    assert any("Negative variance" in m and "x1 ~~ x1" in m for m in res.issues)
    assert any("residuals is not positive definite" in m for m in res.issues)
    assert "x1 ~~ x1" in res.summary()


def test_non_convergence_is_reported(heywood_data):
    res = cfa("f =~ x1 + x2 + x3", heywood_data, max_iter=1)
    assert not res.converged
    assert any("did not converge" in m for m in res.issues)
    assert res.to_dict()["converged"] is False


def test_under_identified_model_is_flagged(heywood_data):
    # two indicators, one factor: 4 parameters for 3 moments (df = -1)
    res = cfa("f =~ x1 + x2", heywood_data)
    assert res.fit["df"] == -1
    assert any("not be identified" in m or "did not converge" in m for m in res.issues)
