"""Minimise an estimator objective: Fisher scoring with step halving.

Each iteration solves :math:`I(\\theta)\\,\\delta = g(\\theta)` (``I`` the
unit information of the objective, ``g`` its gradient) and moves to
:math:`\\theta - t\\delta`, halving ``t`` until the discrepancy decreases
and the implied covariance matrices stay positive definite.  When scoring
stalls, a quasi-Newton (BFGS, analytic gradient) polish follows.  Fast
refits (bootstrap) reuse a fixed information matrix from the original
solution (a chord method) and recompute it only when progress slows.

References
----------
.. [1] Lee, S.-Y., & Jennrich, R. I. (1979). A study of algorithms for
   covariance structure analysis with specific comparisons using factor
   analysis. Psychometrika, 44, 99-113.
.. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize as _opt

__all__ = ["OptimResult", "minimize", "refit_theta"]


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


def _scoring(objective, theta, *, max_iter, gtol, info_fixed=None, refresh=5):
    theta = np.array(theta, dtype=float)
    f, g = _value_grad(objective, theta)
    if not np.isfinite(f) or g is None:
        return OptimResult(theta, float(f), False, 0, "objective not finite at the start values")
    info = info_fixed
    since = 0
    for it in range(1, max_iter + 1):
        if np.max(np.abs(g)) < gtol:
            return OptimResult(theta, f, True, it - 1, "gradient below tolerance")
        if info is None or (info_fixed is not None and since >= refresh):
            info = objective.information(theta)
            since = 0
        step = _solve(info, g)
        t = 1.0
        accepted = False
        while t > 1e-10:
            cand = theta - t * step
            fc, gc = _value_grad(objective, cand)
            if np.isfinite(fc) and gc is not None and fc <= f + 1e-12 * abs(f):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            if info_fixed is not None and since > 0:
                info, since = None, refresh  # recompute information and retry
                info = objective.information(theta)
                since = 0
                continue
            return OptimResult(theta, f, np.max(np.abs(g)) < 1e3 * gtol, it,
                               "line search failed")
        small = np.max(np.abs(theta - cand)) < 1e-12 and abs(f - fc) <= 1e-15 * max(1.0, abs(f))
        theta, f, g = cand, fc, gc
        since += 1
        if info_fixed is None:
            info = None
        if small:
            return OptimResult(theta, f, np.max(np.abs(g)) < 1e3 * gtol, it, "step below tolerance")
    return OptimResult(theta, f, bool(np.max(np.abs(g)) < gtol), max_iter, "iteration limit")


def minimize(objective, theta0, *, max_iter: int = 500, gtol: float = 1e-9) -> OptimResult:
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

    Returns
    -------
    OptimResult
    """
    res = _scoring(objective, theta0, max_iter=max_iter, gtol=gtol)
    if res.converged or not np.isfinite(res.fmin):
        return res
    # polish / rescue with BFGS

    def fun(th):
        f, g = _value_grad(objective, th)
        if not np.isfinite(f) or g is None:
            return 1e10, np.zeros_like(th)
        return f, g

    out = _opt.minimize(fun, res.theta, jac=True, method="BFGS",
                        options={"gtol": gtol, "maxiter": 10 * max_iter})
    theta = out.x
    res2 = _scoring(objective, theta, max_iter=max_iter, gtol=gtol)
    if res2.fmin <= res.fmin or not np.isfinite(res.fmin):
        res2.n_iter += res.n_iter + int(out.nit)
        return res2
    return res


def refit_theta(objective, start, info=None, *, max_iter: int = 200,
                gtol: float = 1e-9) -> OptimResult:
    """Fast re-minimisation from a warm start (chord / fixed information).

    Parameters
    ----------
    objective : Objective
        Already holding the new sample moments.
    start : ndarray
        Warm start (usually the original estimate).
    info : ndarray, optional
        Information matrix to reuse (e.g. at the original estimate); it is
        recomputed every few iterations when given, at every iteration when
        None.

    Returns
    -------
    OptimResult
    """
    res = _scoring(objective, start, max_iter=max_iter, gtol=gtol, info_fixed=info)
    if not res.converged:
        res = minimize(objective, start, gtol=gtol)
    return res
