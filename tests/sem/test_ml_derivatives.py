"""Analytic derivatives of the ML discrepancy against finite differences.

Truth: central differences of the analytic gradient (for the Hessian) and
of the discrepancy (for the gradient), at perturbed parameter values, for
models that exercise every block (loadings, regressions, second-order
factors, residual covariances, means, fixed-x covariates, equality
constraints across groups).  Relative tolerance 1e-5 of the largest entry.
"""
from __future__ import annotations

import numpy as np
import pytest

from analysis.sem import cfa, sem

from sem_ref import HS_MODEL, PD_MODEL

CASES = {
    "hs_meanstructure": ("hs", HS_MODEL, dict(meanstructure=True)),
    "poldem": ("poldem", PD_MODEL, {}),
    "second_order": ("hs", HS_MODEL + "\ng =~ visual + textual + speed", {}),
    "groups_equal": ("hs", HS_MODEL, dict(group="school", group_equal=["loadings", "intercepts"])),
    "fixed_x_means": ("poldem", "dem60 =~ y1 + y2 + y3 + y4\ndem60 ~ x1 + x2",
                      dict(meanstructure=True)),
}


def _num_grad(f, th, h=1e-6):
    out = np.zeros_like(th)
    for k in range(len(th)):
        e = np.zeros_like(th)
        e[k] = h
        out[k] = (f(th + e) - f(th - e)) / (2 * h)
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_gradient_and_hessian(case, hs, poldem):
    dname, model, kw = CASES[case]
    res = sem(model, {"hs": hs, "poldem": poldem}[dname], **kw)
    obj = res.objective
    rng = np.random.default_rng(3)
    th = res.theta + rng.normal(scale=0.03, size=len(res.theta))
    g = obj.gradient(th)
    gn = _num_grad(obj.value, th)
    assert np.max(np.abs(g - gn)) <= 1e-5 * max(1.0, np.max(np.abs(g)))
    h = obj.hessian(th)
    eye = np.eye(len(th)) * 1e-6
    hn = np.column_stack([(obj.gradient(th + e) - obj.gradient(th - e)) / 2e-6 for e in eye])
    hn = 0.5 * (hn + hn.T)
    assert np.max(np.abs(h - hn)) <= 1e-5 * np.max(np.abs(hn))
    np.testing.assert_allclose(obj.information(th, kind="observed"), h)


def test_expected_information_is_hessian_at_a_perfect_fit(hs):
    """When the model reproduces S and the means exactly, the Hessian of
    the discrepancy equals the expected information (analytic truth)."""
    res = cfa("f =~ x1 + x2 + x3", hs, meanstructure=True)   # df = 0
    assert res.fit["df"] == 0
    np.testing.assert_allclose(res.objective.hessian(res.theta),
                               res.objective.information(res.theta), atol=1e-8)
