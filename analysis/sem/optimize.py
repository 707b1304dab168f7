"""Minimise an estimator objective: damped Fisher scoring.

Each iteration solves :math:`(I(\\theta) + \\lambda D)\\,\\delta = g(\\theta)`
(``I`` the unit information of the objective, ``D`` its diagonal, ``g`` the
gradient) and moves to :math:`\\theta - \\delta`; the damping
:math:`\\lambda` (Levenberg--Marquardt) is 0 while full scoring steps
decrease the discrepancy and keep the implied covariance matrices positive
definite, and grows tenfold after each failed trial.  When scoring
stalls, a quasi-Newton (BFGS, analytic gradient) polish follows.  Fast
refits (bootstrap) start from the information at the original solution
and take Newton steps with the analytic Hessian of the ML discrepancy.

References
----------
.. [1] Lee, S.-Y., & Jennrich, R. I. (1979). A study of algorithms for
   covariance structure analysis with specific comparisons using factor
   analysis. Psychometrika, 44, 99-113.
.. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["OptimResult", "minimize", "brentq"]


@dataclass
class OptimResult:
    """Outcome of a minimisation.

    Attributes
    ----------
    theta : ndarray
        Final parameter vector.
    fmin : float
        Objective at ``theta``.
    converged : bool
    n_iter : int
    message : str
    """

    theta: np.ndarray
    fmin: float
    converged: bool
    n_iter: int
    message: str = ""


def _value_grad(objective, theta):
    if hasattr(objective, "value_and_gradient"):
        return objective.value_and_gradient(theta)
    f = objective.value(theta)
    if not np.isfinite(f):
        return f, None
    return f, objective.gradient(theta)


def _solve(info, grad):
    try:
        step = np.linalg.solve(info, grad)
        if np.all(np.isfinite(step)):
            return step
    except np.linalg.LinAlgError:
        pass
    ridge = 1e-8 * max(1.0, float(np.max(np.abs(np.diag(info)))))
    return np.linalg.lstsq(info + ridge * np.eye(len(grad)), grad, rcond=None)[0]


def _curvature(objective, theta, newton):
    """The Hessian when asked for, available and positive definite, else
    the (expected) information."""
    if newton and hasattr(objective, "hessian"):
        h = objective.hessian(theta)
        try:
            np.linalg.cholesky(h)
            return h
        except np.linalg.LinAlgError:
            pass
    return objective.information(theta)


def _scoring(objective, theta, *, max_iter, gtol, newton=False):
    """Fisher scoring with the information at every step (``newton=True``: the
    analytic Hessian when it is positive definite), Levenberg-Marquardt damped.
    (The warm refit of resampled moments is :func:`analysis.sem.refit.warm_refit`.)"""
    theta = np.array(theta, dtype=float)
    f, g = _value_grad(objective, theta)
    if not np.isfinite(f) or g is None:
        return OptimResult(theta, float(f), False, 0, "objective not finite at the start values")
    h = None
    fresh = False
    lam = 0.0
    for it in range(1, max_iter + 1):
        if np.max(np.abs(g)) < gtol:
            return OptimResult(theta, f, True, it - 1, "gradient below tolerance")
        if h is None:
            h = _curvature(objective, theta, newton)
            fresh = True
        accepted = False
        # Levenberg-Marquardt damping of the scoring step: robust when
        # the information is (nearly) singular far from the solution
        dg = np.clip(np.diag(h), 1e-12, None)
        for _ in range(40):
            step = _solve(h + lam * np.diag(dg), g) if lam > 0 else _solve(h, g)
            cand = theta - step
            fc, gc = _value_grad(objective, cand)
            if np.isfinite(fc) and gc is not None and fc <= f + 1e-12 * abs(f):
                accepted = True
                lam = 0.0 if lam < 1e-6 else lam / 10.0
                break
            lam = max(lam * 10.0, 1e-3)
        if not accepted:
            if not fresh:
                h = None  # retry with the information at the current point
                continue
            return OptimResult(theta, f, bool(np.max(np.abs(g)) < 1e3 * gtol), it,
                               "line search failed")
        small = (np.max(np.abs(theta - cand)) < 1e-12
                 and abs(f - fc) <= 1e-15 * max(1.0, abs(f)))
        h = None
        theta, f, g = cand, fc, gc
        if small:
            return OptimResult(theta, f, bool(np.max(np.abs(g)) < 1e3 * gtol), it,
                               "step below tolerance")
    return OptimResult(theta, f, bool(np.max(np.abs(g)) < gtol), max_iter, "iteration limit")


def minimize(objective, theta0, *, max_iter: int = 500, gtol: float = 1e-9,
             newton: bool = True) -> OptimResult:
    """Minimise ``objective.value`` from ``theta0``.

    Parameters
    ----------
    objective : analysis.sem.objective.Objective
    theta0 : array_like
        Starting values (or a warm start).
    max_iter : int
        Maximum scoring iterations.
    gtol : float
        Convergence when every gradient element is below ``gtol`` in
        absolute value (lavaan's ``fmin`` scale).
    newton : bool
        Use the analytic Hessian (when the objective has one and it is
        positive definite) instead of the expected information.

    Returns
    -------
    OptimResult
    """
    res = _scoring(objective, theta0, max_iter=max_iter, gtol=gtol, newton=newton)
    if res.converged or not np.isfinite(res.fmin):
        return res
    # polish / rescue with BFGS
    from scipy import optimize as _opt  # lazy: rarely needed, and slow to import

    def fun(th):
        f, g = _value_grad(objective, th)
        if not np.isfinite(f) or g is None:
            return 1e10, np.zeros_like(th)
        return f, g

    out = _opt.minimize(fun, res.theta, jac=True, method="BFGS",
                        options={"gtol": gtol, "maxiter": 10 * max_iter})
    theta = out.x
    res2 = _scoring(objective, theta, max_iter=max_iter, gtol=gtol, newton=newton)
    if res2.fmin <= res.fmin or not np.isfinite(res.fmin):
        res2.n_iter += res.n_iter + int(out.nit)
        return res2
    return res


def brentq(f, a, b, *, xtol, rtol, maxiter):
    """A root of ``f`` on ``[a, b]`` by Brent's method, step for step as ``scipy.optimize.brentq``.

    The same iterates as SciPy's C implementation (so the same root to the
    last bit), without importing ``scipy.optimize`` (a quarter of a second
    at start-up) for the RMSEA interval and the polychoric correlations.
    Raises ``ValueError`` when ``f(a)`` and ``f(b)`` have the same sign or
    ``f`` is NaN, and ``RuntimeError`` after ``maxiter`` iterations.

    References
    ----------
    .. [1] Brent, R. P. (1973). *Algorithms for Minimization without
       Derivatives*, ch. 4. Prentice-Hall.
    """
    xpre, xcur = float(a), float(b)
    fpre, fcur = float(f(xpre)), float(f(xcur))
    xblk = fblk = spre = scur = 0.0
    if math.isnan(fpre) or math.isnan(fcur):
        raise ValueError("the function is NaN at an end of the bracket")
    if fpre * fcur > 0:
        raise ValueError("f(a) and f(b) must have different signs")
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    for _ in range(maxiter):
        if fpre != 0 and fcur != 0 and math.copysign(1.0, fpre) != math.copysign(1.0, fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):  # keep the best estimate in xcur
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # secant
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # inverse quadratic interpolation
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):
                spre, scur = scur, stry  # a short interpolation step is accepted
            else:
                spre = scur = sbis  # bisection
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = float(f(xcur))
        if math.isnan(fcur):
            raise ValueError(f"the function is NaN at {xcur!r}")
    raise RuntimeError(f"no root to tolerance after {maxiter} iterations")
