"""The distribution functions behind every p-value, Wald interval and RMSEA interval (analysis/sem/distributions.py).

References: R 4.2.2's ``pchisq``/``pnorm``/``qnorm`` (tests/reference/r_distributions.R, its output in
tests/reference/r/), and SciPy's ``scipy.special`` functions, which these replace on the fit's path.
R computes a noncentral upper tail as one minus the lower one (it warns "full precision may not have
been achieved" there), so its far upper tails carry an absolute error of up to 1e-13; SciPy's
noncentral functions (Boost) keep their relative accuracy there but lose it in far lower tails (below
about 1e-90, and 0 below about 1e-100), where R's values are exact.  Each comparison is made where its reference is accurate.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import chdtr, chdtrc, chndtr, ndtr, ndtri
from scipy.special._ufuncs import _ncx2_sf

from analysis.sem.distributions import critical_value, norm_cdf, norm_ppf, pchisq, two_sided_p

REF = Path(__file__).resolve().parents[1] / "reference" / "r"


@pytest.fixture(scope="module")
def grid():
    return pd.read_csv(REF / "distributions.csv", skipinitialspace=True)


def _rel(a, b):
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def test_pchisq_matches_r_wherever_r_is_exact(grid):
    bad = []
    for r in grid.itertuples(index=False):
        lower, upper = pchisq(r.q, r.df, r.ncp), pchisq(r.q, r.df, r.ncp, lower_tail=False)
        # lower tails: R exact to its last digits, down to 1e-300 (SciPy underflows to 0 below ~1e-100)
        if lower > 0 or r.lower > 0:
            if _rel(lower, r.lower) > 1e-9 and r.lower > 1e-300:
                bad.append(("lower", r.q, r.df, r.ncp, lower, r.lower))
        # upper tails: R's absolute error (one minus the lower tail) reaches 1e-13 in far tails
        if abs(upper - r.upper) > 1e-9 * r.upper + 1e-13:
            bad.append(("upper", r.q, r.df, r.ncp, upper, r.upper))
    assert not bad, bad[:10]


def test_pchisq_matches_scipy_in_both_tails(grid):
    bad = []
    for r in grid.itertuples(index=False):
        for lower_tail in (True, False):
            ours = pchisq(r.q, r.df, r.ncp, lower_tail=lower_tail)
            if r.ncp == 0:
                ref = float(chdtr(r.df, r.q) if lower_tail else chdtrc(r.df, r.q))
            else:
                ref = float(chndtr(r.q, r.df, r.ncp) if lower_tail else _ncx2_sf(r.q, r.df, r.ncp))
            # SciPy's noncentral lower tails lose their accuracy below ~1e-90 (R's are exact there)
            floor = 1e-250 if (r.ncp == 0 or not lower_tail) else 1e-90
            if ref > floor and _rel(ours, ref) > 1e-9:
                bad.append((lower_tail, r.q, r.df, r.ncp, ours, ref))
    assert not bad, bad[:10]


def test_far_lower_tails_where_scipy_underflows(grid):
    """R's pchisq(0.01, 1, 500) = 4.394148228e-110: a Poisson mixture dominated by its first terms."""
    row = grid[(grid.q == 0.01) & (grid.df == 1) & (grid.ncp == 500)].iloc[0]
    assert float(chndtr(0.01, 1, 500)) == 0.0
    assert pchisq(0.01, 1, 500) == pytest.approx(row.lower, rel=1e-10)


def test_pchisq_edges():
    assert math.isnan(pchisq(float("nan"), 3)) and math.isnan(pchisq(1, 0)) and math.isnan(pchisq(1, 2, -1))
    assert pchisq(0, 3) == 0.0 and pchisq(0, 3, lower_tail=False) == 1.0
    assert pchisq(math.inf, 3, 2.0) == 1.0 and pchisq(math.inf, 3, lower_tail=False) == 0.0
    # the chi-square with 2 df is the exponential with mean 2
    for q in (0.1, 1.0, 7.0, 60.0):
        assert pchisq(q, 2, lower_tail=False) == pytest.approx(math.exp(-q / 2), rel=1e-14)
    # tails add to one
    for q, df, ncp in ((3.0, 4, 0.0), (123.185, 98, 10.0), (1413.1, 1300, 800.0)):
        assert pchisq(q, df, ncp) + pchisq(q, df, ncp, lower_tail=False) == pytest.approx(1.0, abs=1e-13)


def test_normal_against_r_and_scipy():
    ref = pd.read_csv(REF / "normal.csv", skipinitialspace=True)
    z, p = ref["z"].to_numpy(float), ref["p"].to_numpy(float)
    assert np.allclose(norm_cdf(z), ref["pnorm"].to_numpy(float), rtol=1e-13, atol=1e-300)
    assert np.allclose(norm_ppf(p), ref["qnorm"].to_numpy(float), rtol=1e-14)
    x = np.linspace(-37, 37, 1481)
    assert np.allclose(norm_cdf(x), ndtr(x), rtol=1e-12, atol=0)
    q = np.linspace(1e-9, 1 - 1e-9, 999)
    assert np.allclose(norm_ppf(q), ndtri(q), rtol=1e-14, atol=1e-15)
    assert norm_ppf(0.0) == -math.inf and norm_ppf(1.0) == math.inf and math.isnan(norm_ppf(1.5))
    assert math.isnan(norm_cdf(float("nan"))) and norm_cdf(-math.inf) == 0.0 and norm_cdf(math.inf) == 1.0


def test_wald_helpers():
    assert critical_value(0.95) == pytest.approx(1.959963984540054, rel=1e-15)  # R: qnorm(0.975)
    z = np.array([-2.5, 0.0, 1.959963984540054, np.nan])
    p = two_sided_p(z)
    assert p[1] == 1.0 and p[2] == pytest.approx(0.05, rel=1e-14) and np.isnan(p[3])
    assert p[0] == pytest.approx(2 * float(ndtr(-2.5)), rel=1e-14)


def test_a_fit_does_not_load_scipy():
    """The point of the module: fitting a model and printing its summary does not import SciPy."""
    import subprocess
    import sys

    code = ("import sys, numpy as np, pandas as pd\n"
            "from analysis.sem import sem\n"
            "rng = np.random.default_rng(1)\n"
            "f = rng.normal(size=(300, 1))\n"
            "d = pd.DataFrame(f @ np.ones((1, 4)) + rng.normal(size=(300, 4)), columns=list('abcd'))\n"
            "fit = sem('F =~ a + b + c + d', d)\n"
            "fit.summary(); fit.fit; fit.estimates; fit.standardized_solution()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
