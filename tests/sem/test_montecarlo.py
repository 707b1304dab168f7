"""Monte Carlo intervals of defined parameters (``analysis.sem.montecarlo``).

Truth: the quantiles of the product of two independent normal variables,
computed by numerical integration of its distribution function
:math:`F(t) = \\int \\phi_a(x)\\,P(xb \\le t)\\,dx` (Craig 1936; MacKinnon et
al. 2004), against the Monte Carlo quantiles with a tolerance of four Monte
Carlo standard errors of a sample quantile, :math:`\\sqrt{p(1-p)/R}/f(q_p)`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

from analysis.sem import sem
from analysis.sem.montecarlo import montecarlo_ci, montecarlo_defined, montecarlo_draws
from sem_ref import REF
from test_bootstrap import PD_IND

MA, SA, MB, SB = 0.5, 0.1, 0.3, 0.12


def _cdf(t):
    def integrand(a):
        z = (t / a - MB) / SB
        p = stats.norm.cdf(z) if a > 0 else stats.norm.sf(z)
        return stats.norm.pdf(a, MA, SA) * p
    lo, hi = MA - 12 * SA, MA + 12 * SA
    parts = [(lo, 0.0), (0.0, hi)] if lo < 0 < hi else [(lo, hi)]
    return sum(integrate.quad(integrand, a, b, limit=200, points=None)[0] for a, b in parts)


def _quantile(p):
    return optimize.brentq(lambda t: _cdf(t) - p, -1.0, 2.0, xtol=1e-12)


def test_product_quantiles_match_distribution_of_product():
    r = 200_000
    tab = montecarlo_defined([MA, MB], np.diag([SA ** 2, SB ** 2]), lambda t: [t[0] * t[1]], ["ab"],
                             n_draws=r, seed=20261127)
    for p, col in ((0.025, "mc_ci_lower"), (0.975, "mc_ci_upper")):
        q = _quantile(p)
        h = 1e-4
        dens = (_cdf(q + h) - _cdf(q - h)) / (2 * h)
        se = np.sqrt(p * (1 - p) / r) / dens
        assert abs(tab[col].iloc[0] - q) < 4 * se, (col, tab[col].iloc[0], q, se)
    # analytic moments of the product: E = ma mb, Var = ma^2 sb^2 + mb^2 sa^2 + sa^2 sb^2
    sd = np.sqrt(MA ** 2 * SB ** 2 + MB ** 2 * SA ** 2 + SA ** 2 * SB ** 2)
    assert tab["mc_se"].iloc[0] == pytest.approx(sd, rel=0.01)


def test_draws_have_the_requested_covariance():
    v = np.array([[1.0, 0.6], [0.6, 2.0]])
    x = montecarlo_draws([1.0, -1.0], v, 100_000, seed=3)
    np.testing.assert_allclose(np.cov(x, rowvar=False), v, atol=0.03)
    np.testing.assert_allclose(x.mean(axis=0), [1.0, -1.0], atol=0.02)
    np.testing.assert_array_equal(x, montecarlo_draws([1.0, -1.0], v, 100_000, seed=3))
    with pytest.raises(ValueError):
        montecarlo_draws([1.0], v, 10)


def test_montecarlo_ci_of_fitted_model(poldem):
    fit = sem(PD_IND, poldem)
    tab = montecarlo_ci(fit, n_draws=20_000, seed=4100).set_index("lhs")
    ref = pd.read_csv(REF / "lavaan" / "poldem_ind_estimates.csv")
    ind = ref[(ref["op"] == ":=") & (ref["lhs"] == "ind")].iloc[0]
    assert tab.loc["ind", "est"] == pytest.approx(ind["est"], rel=1e-5)
    # the SD of a*b under N(theta, V) is the delta-method SE up to the sa^2 sb^2 term (a few %)
    assert tab.loc["ind", "mc_se"] == pytest.approx(ind["se"], rel=0.08)
    # the product's distribution is skewed right: the interval is asymmetric around est
    assert tab.loc["ind", "mc_ci_upper"] - ind["est"] > ind["est"] - tab.loc["ind", "mc_ci_lower"]
    again = montecarlo_ci(fit, n_draws=20_000, seed=4100).set_index("lhs")
    pd.testing.assert_frame_equal(tab, again)
