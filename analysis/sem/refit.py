"""One warm refit: a fitted ML model re-estimated from new sample moments.

Every resampled fit of the package goes through here: the bootstrap draws
(and their jackknife), the Monte Carlo power replications and the recovery
checks.  :class:`MLMoments` is the ML objective of given moments,
:func:`warm_refit` the quasi-Newton iterations from the full-sample solution,
and :class:`Refitter` puts them together for one model: it keeps a private
copy of the model whose fixed-x values (the moments of exogenous observed
covariates under ``fixed.x = TRUE``) it resets from each new set of moments,
as lavaan refits every bootstrap sample, so that the information, the
standard errors and the standardized values of a refit are those of a full
fit of the same data.

References
----------
.. [1] Nocedal, J., & Wright, S. J. (2006). *Numerical optimization* (2nd
   ed.). Springer.
.. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. *Journal of Statistical Software*, 48(2), 1-36.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import blas as _blas, lapack as _lapack

from .objective import MLObjective

__all__ = ["MLMoments", "Refitter", "warm_refit", "complete_moments"]


@dataclass(frozen=True)
class _Moments:
    """The sample moments an ML objective reads (``SampleStats`` without the data)."""

    cov: list
    mean: list
    nobs: list

    @property
    def ntotal(self) -> int:
        return int(sum(self.nobs))


class MLMoments(MLObjective):
    """The ML objective (:class:`~analysis.sem.objective.MLObjective`) of given sample moments.

    The objective of every resampled draw (bootstrap, Monte Carlo power,
    recovery): built from moments alone, with :meth:`set_moments` to swap
    them cheaply, and a singular sample covariance matrix recorded (its
    ``logdet_s`` entry NaN) instead of refused, so that the draw is counted
    as failed.

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
    cov, mean : list of ndarray
        Per-group covariance (divisor N) and mean.
    nobs : list of int
    """

    def __init__(self, model, cov, mean, nobs):
        self.model = model
        self.set_moments(cov, mean, nobs)

    def set_moments(self, cov, mean, nobs=None):
        """Replace the sample moments."""
        nobs = self.stats.nobs if nobs is None else list(nobs)
        self.stats = _Moments([np.asarray(c, float) for c in cov], [np.asarray(m, float) for m in mean], nobs)
        n = np.asarray(nobs, float)
        self._w = n / n.sum()
        self._logdet_s = []
        for c in self.stats.cov:
            sign, ld = np.linalg.slogdet(c)
            self._logdet_s.append(ld if sign > 0 else np.nan)

    @staticmethod
    def _inverse_logdet(sigma):
        """``(Sigma^-1, log|Sigma|)`` by LAPACK's Cholesky factor and inverse (``dpotrf``, ``dpotri``): the
        same quantities as the full fit's, in half the time of a general inverse (the refit's hot path)."""
        chol, info = _lapack.dpotrf(sigma, lower=1)
        if info != 0:
            return None
        inv, info = _lapack.dpotri(chol, lower=1)
        if info != 0:
            return None
        w = inv + inv.T  # dpotri fills the lower triangle; the upper one is dpotrf's cleaned zeros
        w.flat[::w.shape[0] + 1] *= 0.5
        return w, 2.0 * np.sum(np.log(chol.diagonal()))

    @property
    def logdet_s(self) -> list:
        """``log|S_g|`` per group (NaN: the resampled covariance matrix is singular)."""
        return self._logdet_s


def warm_refit(obj: MLMoments, start, info_inv, *, gtol=1e-7, max_iter=200):
    """Quasi-Newton refit from a warm start: the refit of every bootstrap draw, power and recovery replication.

    The inverse Hessian starts at the inverse expected information of the
    full-sample solution (``info_inv``) and is improved by BFGS updates
    from the analytic gradients; steps are halved until the discrepancy
    decreases and the implied covariance matrices stay positive definite
    ([1]_, ch. 6).

    Returns
    -------
    theta : ndarray
    converged : bool
        Every gradient element below ``gtol``.
    n_iter : int

    References
    ----------
    .. [1] Nocedal, J., & Wright, S. J. (2006). *Numerical optimization*
       (2nd ed.). Springer.
    """
    theta = np.array(start, float)
    f, g = obj.value_and_gradient(theta)
    if g is None or not math.isfinite(f):
        return theta, False, 0
    # the inverse Hessian is updated in place in its upper triangle (BLAS dsyr2/dsyr, read by dsymv)
    h = np.array(info_inv, float, order="F")
    for it in range(1, max_iter + 1):
        if abs(g).max() < gtol:
            return theta, True, it - 1
        step = _blas.dsymv(1.0, h, g)
        slope = step @ g
        if slope <= 0:  # not a descent direction: restart from the information
            h = np.array(info_inv, float, order="F")
            step = _blas.dsymv(1.0, h, g)
            slope = step @ g
        t = 1.0
        while t > 1e-10:
            cand = theta - t * step
            fc, gc = obj.value_and_gradient(cand)
            if gc is not None and math.isfinite(fc) and fc <= f - 1e-4 * t * slope + 1e-15:
                break
            t *= 0.5
        else:
            return theta, bool(abs(g).max() < 100 * gtol), it
        s_vec = cand - theta
        y_vec = gc - g
        sy = s_vec @ y_vec
        theta, f, g = cand, fc, gc
        if sy > 1e-12:  # BFGS: H - rho (s Hy' + Hy s') + (rho^2 y'Hy + rho) s s'
            rho = 1.0 / sy
            hy = _blas.dsymv(1.0, h, y_vec)
            h = _blas.dsyr2(-rho, s_vec, hy, a=h, overwrite_a=1)
            h = _blas.dsyr(rho * rho * (y_vec @ hy) + rho, s_vec, a=h, overwrite_a=1)
        if abs(s_vec).max() < 1e-10:
            return theta, bool(abs(g).max() < 100 * gtol), it
    return theta, bool(abs(g).max() < gtol), max_iter


def complete_moments(x):
    """Mean and covariance (divisor N) of complete rows: the moments :class:`MLMoments` takes."""
    m = x.mean(axis=0)
    xc = x - m
    return m, xc.T @ xc / x.shape[0]


class Refitter:
    """A fitted ML model, refitted to new sample moments from its solution.

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
        Copied when it has fixed-x covariates (their values change with
        every refit; the fit's own model is never touched).
    theta : array-like
        The warm start (the full-sample estimate).
    info_inv : ndarray, optional
        The inverse expected information the iterations start from
        (default: at ``theta`` under ``moments``).
    moments : tuple, optional
        ``(cov, mean, nobs)`` lists for the default ``info_inv``.
    gtol : float
        Gradient tolerance of :func:`warm_refit`.

    Attributes
    ----------
    model : SEMModel
        The model of the last refit (its fixed-x values are that sample's).
    """

    def __init__(self, model, theta, info_inv=None, *, moments=None, gtol: float = 1e-6):
        self.model = copy.deepcopy(model) if model.has_fixed_x else model
        self.theta = np.asarray(theta, float)
        self.gtol = gtol
        self._obj = None
        if info_inv is None:
            if moments is None:
                raise ValueError("give info_inv or the moments to compute it from")
            info_inv = np.linalg.inv(self.objective(*moments).information(self.theta))
        self.info_inv = info_inv

    def objective(self, cov, mean, nobs) -> MLMoments:
        """The ML objective of these moments (fixed-x values reset from them)."""
        if self._obj is None:
            self._obj = MLMoments(self.model, cov, mean, nobs)
        else:
            self._obj.set_moments(cov, mean, nobs)
        if not all(np.isfinite(self._obj.logdet_s)):
            raise np.linalg.LinAlgError("singular resampled covariance matrix")
        if self.model.has_fixed_x:
            self.model.set_fixed_x(self._obj.stats.cov, self._obj.stats.mean)
        return self._obj

    def fit(self, cov, mean, nobs, start=None):
        """Refit to these moments: ``(objective, theta, converged, n_iter)``.

        ``start`` overrides the warm start (default: the full-sample estimate).

        Raises
        ------
        numpy.linalg.LinAlgError
            A singular sample covariance matrix.
        """
        obj = self.objective(cov, mean, nobs)
        start = self.theta if start is None else np.asarray(start, float)
        theta, converged, n_iter = warm_refit(obj, start, self.info_inv, gtol=self.gtol)
        return obj, theta, converged, n_iter
