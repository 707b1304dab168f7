"""The normal and chi-square distribution functions a fit reports, without SciPy.

Every p-value, Wald interval and RMSEA interval of a fit comes from here:
the normal distribution function and its inverse (R's ``pnorm``/``qnorm``)
and the central and noncentral chi-square distribution functions (R's
``pchisq(q, df, ncp, lower.tail)``).  They are written out so that fitting
a model does not import SciPy, whose array-API layer takes longer to load
than the fit takes (``benchmarks/bench_startup.py``); the tests check them
against ``scipy.special`` (``ndtr``, ``ndtri``, ``chdtr``, ``chdtrc``,
``chndtr`` and SciPy's noncentral survival function) over a grid that
includes both far tails.

* Normal: :math:`\\Phi(x) = \\tfrac12\\operatorname{erfc}(-x/\\sqrt2)` with the C
  library's ``erfc`` (as Cephes' ``ndtr``); the inverse is Wichura's AS 241
  (``statistics.NormalDist.inv_cdf``, as R's ``qnorm``).
* Central chi-square: the regularized incomplete gamma functions
  :math:`P(a, x)` and :math:`Q(a, x)` with :math:`a = df/2`, :math:`x = q/2`,
  by their power series when :math:`x < a + 1` and by the continued fraction
  of :math:`Q` (modified Lentz) otherwise, each tail computed directly so
  that small tails keep their relative accuracy [1]_.
* Noncentral chi-square: the Poisson mixture
  :math:`\\sum_j w_j P(a + j, x)`, :math:`w_j = e^{-\\lambda/2}(\\lambda/2)^j/j!`,
  summed over the window of ``j`` where the terms matter.  Within the window
  the central terms follow from one direct evaluation by the recurrence
  :math:`P(a, x) = P(a + 1, x) + x^a e^{-x}/\\Gamma(a + 1)`, run downwards for
  the lower tail and upwards (:math:`Q(a + 1) = Q(a) + \\dots`) for the upper
  one, so that only positive terms are added [2]_.

References
----------
.. [1] Press, W. H., Teukolsky, S. A., Vetterling, W. T., & Flannery, B. P.
   (2007). *Numerical recipes* (3rd ed.), section 6.2. Cambridge University Press.
.. [2] Ding, C. G. (1992). Algorithm AS 275: Computing the non-central
   chi-squared distribution function. *Applied Statistics*, 41(2), 478-482.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = ["norm_cdf", "norm_ppf", "two_sided_p", "critical_value", "pchisq"]

_EPS = np.finfo(float).eps
_TINY = 1e-300
_STANDARD = NormalDist()


def _scalar_norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _scalar_norm_ppf(p: float) -> float:
    if math.isnan(p) or p < 0.0 or p > 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    return _STANDARD.inv_cdf(p)


_NORM_CDF = np.frompyfunc(_scalar_norm_cdf, 1, 1)
_NORM_PPF = np.frompyfunc(_scalar_norm_ppf, 1, 1)


def norm_cdf(x):
    """Standard normal distribution function (``scipy.special.ndtr``, R's ``pnorm``); float or array."""
    if np.ndim(x) == 0:
        return _scalar_norm_cdf(float(x))
    return _NORM_CDF(np.asarray(x, float)).astype(float)


def norm_ppf(p):
    """Its inverse (``scipy.special.ndtri``, R's ``qnorm``): -inf at 0, inf at 1, NaN outside [0, 1]."""
    if np.ndim(p) == 0:
        return _scalar_norm_ppf(float(p))
    return _NORM_PPF(np.asarray(p, float)).astype(float)


def two_sided_p(z):
    """Two-sided p-value of a Wald statistic, ``2 Phi(-|z|)`` (lavaan's ``pvalue``); NaN stays NaN."""
    return 2.0 * norm_cdf(-np.abs(z))


def critical_value(level: float = 0.95) -> float:
    """``Phi^-1((1 + level)/2)``, the multiplier of a two-sided Wald interval (1.959964 at 0.95)."""
    return float(norm_ppf(0.5 + level / 2.0))


# --------------------------------------------------------------------------
# central chi-square: the regularized incomplete gamma functions
# --------------------------------------------------------------------------
def _log_prefactor(a: float, x: float) -> float:
    """``log(x^a e^-x / Gamma(a))``."""
    return a * math.log(x) - x - math.lgamma(a)


def _gamma_series(a: float, x: float) -> float:
    """``P(a, x)`` by its power series (for ``x < a + 1``)."""
    term = total = 1.0 / a
    ap = a
    for _ in range(100000):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(_log_prefactor(a, x))


def _gamma_fraction(a: float, x: float) -> float:
    """``Q(a, x)`` by its continued fraction, modified Lentz (for ``x >= a + 1``)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 100000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(_log_prefactor(a, x)) * h


def _gamma_pq(a: float, x: float) -> tuple[float, float]:
    """``(P(a, x), Q(a, x))``, the tail that is computed directly keeping its relative accuracy."""
    if x <= 0.0:
        return 0.0, 1.0
    if math.isinf(x):
        return 1.0, 0.0
    if x < a + 1.0:
        p = _gamma_series(a, x)
        return p, 1.0 - p
    q = _gamma_fraction(a, x)
    return 1.0 - q, q


# --------------------------------------------------------------------------
# noncentral chi-square: the Poisson mixture over a window
# --------------------------------------------------------------------------
def _log_factorials(start: int, count: int) -> np.ndarray:
    """``log(j!)`` for ``j = start, ..., start + count - 1``."""
    logs = np.log(np.arange(start + 1, start + count, dtype=float))
    return math.lgamma(start + 1.0) + np.concatenate([[0.0], np.cumsum(logs)])


def _noncentral(x: float, a: float, mu: float, lower_tail: bool) -> float:
    """``sum_j w_j P(a + j, x)`` (lower tail) or ``sum_j w_j Q(a + j, x)``, ``w_j`` Poisson(``mu``)."""
    spread = 10.0 * math.sqrt(mu) + 10.0
    lo, hi = max(0, int(mu - spread)), int(mu + spread) + 1
    while True:
        j = np.arange(lo, hi + 1)
        log_w = -mu + j * math.log(mu) - _log_factorials(lo, len(j))
        # t_j = x^(a+j) e^-x / Gamma(a+j+1): P(a+j) = P(a+j+1) + t_j, Q(a+j+1) = Q(a+j) + t_j
        log_gamma = math.lgamma(a + lo + 1.0) + np.concatenate(
            [[0.0], np.cumsum(np.log(a + j[1:]))])  # log Gamma(a + j + 1)
        t = np.exp((a + j) * math.log(x) - x - log_gamma)
        if lower_tail:
            p_top = _gamma_pq(a + hi, x)[0]
            tail = p_top + np.concatenate([np.cumsum(t[:-1][::-1])[::-1], [0.0]])
        else:
            q_bottom = _gamma_pq(a + lo, x)[1]
            tail = q_bottom + np.concatenate([[0.0], np.cumsum(t[:-1])])
        w = np.exp(log_w)
        terms = w * tail
        # divided by the window's weight (1 up to rounding): the weights' common rounding error cancels
        total = float(terms.sum() / w.sum())
        # widen the window where its edge still carries weight: in a far lower tail the terms grow
        # towards j = 0, in a far upper tail towards large j (P falls and Q rises with j)
        tol = _EPS * 1e-3 * total
        grow_lo = lo > 0 and (terms[0] > tol or (lower_tail and terms[0] >= terms[1]))
        grow_hi = (hi < mu + 40.0 * math.sqrt(mu) + 100.0
                   and (terms[-1] > tol or (not lower_tail and terms[-1] >= terms[-2] and terms[-1] > 0)))
        if not (grow_lo or grow_hi):
            return min(max(total, 0.0), 1.0)
        step = max(int(spread), hi - lo)     # the window doubles: a far tail is reached in a few steps
        if grow_lo:
            lo = max(0, lo - step)
        if grow_hi:
            hi += step


def pchisq(q, df, ncp=0.0, lower_tail=True) -> float:
    """Distribution function of the (noncentral) chi-square, R's ``pchisq(q, df, ncp, lower.tail)``.

    NaN when ``q`` is NaN, ``df <= 0`` or ``ncp < 0``; ``q <= 0`` gives 0
    (upper tail 1), ``q = inf`` gives 1 (upper tail 0).
    """
    q, df, ncp = float(q), float(df), float(ncp)
    if math.isnan(q) or not df > 0 or not ncp >= 0:
        return math.nan
    if q <= 0 or math.isinf(q):
        return float((q > 0) == lower_tail)
    if ncp > 0:
        return _noncentral(q / 2.0, df / 2.0, ncp / 2.0, lower_tail)
    p, upper = _gamma_pq(df / 2.0, q / 2.0)
    return p if lower_tail else upper
