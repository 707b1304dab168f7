"""Estimator objectives: the interface every estimator implements.

An *objective* couples a model (:class:`analysis.sem.model.SEMModel`, which
maps a free-parameter vector ``theta`` to implied moments and their analytic
Jacobian) with the data summaries an estimator needs, and exposes the few
quantities the optimiser, the standard errors and the fit indices use.

The contract (other estimators -- FIML, MLR, DWLS/WLSMV -- subclass
:class:`Objective` and provide the same methods):

``value(theta) -> float``
    The discrepancy minimised, on lavaan's scale ("fmin"): for ML
    ``0.5 * sum_g (N_g / N) * F_g`` (see :class:`MLObjective`).
``gradient(theta) -> ndarray (q,)``
    Analytic gradient of ``value``.
``information(theta, kind="expected") -> ndarray (q, q)``
    *Unit* information as lavaan defines it (per observation, groups
    weighted by ``N_g / N``).  It must also serve as the (Gauss--Newton /
    Fisher scoring) approximation of the Hessian of ``value``: the optimiser
    takes steps ``-information^{-1} gradient``.  ``kind="observed"`` may
    raise ``NotImplementedError``.
``test_statistic(theta) -> float``
    The model chi-square (lavaan's ``chisq``): ``2 * N * value(theta)`` for
    ML.
``loglik(theta) -> float``
    The log-likelihood of the fitted model (NaN when not defined).
``loglik_h1() -> float``
    The log-likelihood of the unrestricted model (NaN when not defined).
``vcov(theta) -> ndarray (q, q)``
    Covariance matrix of the free parameters; default
    ``inv(N * information(theta))``.  Robust estimators override it.
``ntotal``
    Total number of observations used (sum of ``N_g``).

The model API the objectives rely on (see :mod:`analysis.sem.model`):
``model.n_free`` (q), ``model.n_groups``, ``model.ov_names[g]``,
``model.meanstructure``, ``model.implied(theta) -> list[(sigma, mu)]`` with
``sigma`` (p_g, p_g) and ``mu`` (p_g,), and
``model.jacobian(theta) -> list[(d_sigma, d_mu)]`` with ``d_sigma`` of shape
(q, p_g, p_g) (``d_sigma[k] = dSigma / dtheta_k``, symmetric) and ``d_mu``
of shape (q, p_g).  When the model has no mean structure, ``mu`` and
``d_mu`` are None (the means are saturated: ``mu`` equals the sample mean).

The sample statistics (:class:`analysis.sem.samplestats.SampleStats`):
``stats.nobs[g]``, ``stats.ntotal``, ``stats.cov[g]`` (divisor N),
``stats.mean[g]``, ``stats.data[g]`` (the rows used, as a float ndarray in
``ov_names`` order, NaN kept only when ``missing="fiml"``).

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
.. [2] Bollen, K. A. (1989). Structural Equations with Latent Variables.
   Wiley. Chapter 4 (the ML fitting function).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Objective", "MLObjective", "Estimator"]

_LOG2PI = math.log(2.0 * math.pi)


def _collapse(mat, fac, q):
    """Sum a (npos, npos) position matrix into the (q, q) parameter matrix."""
    if fac.get("unique", False):
        out = np.zeros((q, q))
        ks = fac["ks"]
        out[np.ix_(ks, ks)] = mat
        return out
    agg = fac["agg"]
    return agg.T @ mat @ agg


def _cholesky(a):
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return None


def _chol_inverse(chol):
    inv_l = np.linalg.inv(chol)
    return inv_l.T @ inv_l


@dataclass(frozen=True)
class Estimator:
    """How one estimator builds its objective and post-processes a fit.

    Attributes
    ----------
    name : str
        lavaan's name (``"ML"``, ``"MLR"``, ...).
    build : callable
        ``build(model, stats, missing, ordered) -> Objective``.
    vcov : callable
        ``vcov(objective, theta) -> ndarray``.
    scaled_test : callable or None
        ``scaled_test(objective, theta) -> dict`` or None for a plain test.
    """

    name: str
    build: Callable[..., Objective]
    vcov: Callable
    scaled_test: Callable | None = None


class Objective:
    """Base class: an estimator's discrepancy function and its derivatives.

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
        The model (implied moments and Jacobians).
    stats : analysis.sem.samplestats.SampleStats
        Sample statistics per group.

    Notes
    -----
    Subclasses implement :meth:`value`, :meth:`gradient`,
    :meth:`information` and :meth:`test_statistic`; the default
    :meth:`vcov` is ``inv(N * information(theta, "expected"))``.
    """

    name = "base"

    def __init__(self, model, stats):
        self.model = model
        self.stats = stats

    @property
    def ntotal(self) -> int:
        """Total number of observations (sum over groups)."""
        return int(self.stats.ntotal)

    # -- to implement ---------------------------------------------------
    def value(self, theta) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    def gradient(self, theta) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def information(self, theta, kind: str = "expected") -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def test_statistic(self, theta) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    # -- defaults ---------------------------------------------------------
    def loglik(self, theta) -> float:
        return float("nan")

    def loglik_h1(self) -> float:
        return float("nan")

    def vcov(self, theta) -> np.ndarray:
        """``inv(N * I(theta))`` with the expected unit information."""
        info = self.information(theta, kind="expected") * self.ntotal
        return _safe_inverse(info)


def _safe_inverse(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric matrix; pseudo-inverse when singular."""
    try:
        inv = np.linalg.inv(a)
        if np.all(np.isfinite(inv)):
            return 0.5 * (inv + inv.T)
    except np.linalg.LinAlgError:
        pass
    return np.linalg.pinv(a, hermitian=True)


class MLObjective(Objective):
    """Normal-theory maximum likelihood (complete data), as lavaan's ML.

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
    stats : analysis.sem.samplestats.SampleStats
        ``cov`` must use divisor N (lavaan's ``likelihood = "normal"``).

    Notes
    -----
    Per group, with :math:`S` and :math:`\\bar x` the sample covariance
    (divisor N) and mean, and :math:`\\Sigma, \\mu` the implied moments,

    .. math::

        F_g = \\log|\\Sigma| + \\operatorname{tr}(S\\Sigma^{-1}) - \\log|S| - p
              + (\\bar x - \\mu)^\\top \\Sigma^{-1} (\\bar x - \\mu),

    and lavaan's ``fmin`` is :math:`\\tfrac12 \\sum_g (N_g/N) F_g`; the
    chi-square is :math:`2 N f_{min} = \\sum_g N_g F_g`.  The gradient is
    :math:`\\tfrac12\\sum_g w_g [\\operatorname{tr}(W(\\Sigma - S - dd^\\top)W
    \\partial_k\\Sigma) - 2 d^\\top W \\partial_k\\mu]` with
    :math:`W=\\Sigma^{-1}`, :math:`d=\\bar x-\\mu`, and the expected unit
    information is :math:`\\sum_g w_g [\\tfrac12 \\operatorname{tr}(W
    \\partial_k\\Sigma W \\partial_l\\Sigma) + \\partial_k\\mu^\\top W
    \\partial_l\\mu]` ([1]_, [2]_).

    References
    ----------
    .. [1] Bollen, K. A. (1989). Structural Equations with Latent Variables.
       Wiley, pp. 107-111, 131-135.
    .. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. Journal of Statistical Software, 48(2), 1-36.
    """

    name = "ML"

    #: Modification indices: a candidate whose conditional information is below this is not tested.
    MI_TOLERANCE = 1e-12

    def for_model(self, model) -> "MLObjective":
        """The same sample statistics for another model (the extended model of modification indices)."""
        return MLObjective(model, self.stats)

    def __init__(self, model, stats):
        super().__init__(model, stats)
        n = np.asarray(stats.nobs, dtype=float)
        self._w = n / n.sum()
        self._logdet_s = []
        for s in stats.cov:
            sign, ld = np.linalg.slogdet(s)
            if sign <= 0:
                raise ValueError(
                    "The sample covariance matrix is not positive definite "
                    "(some variables are constant or linearly dependent)."
                )
            self._logdet_s.append(ld)

    # the sample moments may be swapped by refit (bootstrap); keep in sync
    def set_moments(self, cov, mean, nobs=None):
        """Replace the sample moments (used by fast refits).

        Parameters
        ----------
        cov, mean : list of ndarray
            New per-group covariance (divisor N) and mean.
        nobs : list of int, optional
            New group sizes (default: unchanged).
        """
        self.stats = self.stats.with_moments(cov, mean, nobs)
        n = np.asarray(self.stats.nobs, dtype=float)
        self._w = n / n.sum()
        self._logdet_s = [np.linalg.slogdet(s)[1] for s in self.stats.cov]

    def _group_terms(self, theta):
        out = []
        for g, (sigma, mu) in enumerate(self.model.implied(theta)):
            sign, logdet = np.linalg.slogdet(sigma)
            if sign <= 0:
                return None
            w_inv = np.linalg.inv(sigma)
            out.append((sigma, mu, w_inv, logdet))
        return out

    def _resid_mean(self, g, mu):
        if mu is None:
            return np.zeros(self.stats.cov[g].shape[0])
        return self.stats.mean[g] - mu

    def _f_groups(self, terms):
        fs = []
        for g, (sigma, mu, w_inv, logdet) in enumerate(terms):
            s = self.stats.cov[g]
            p = s.shape[0]
            d = self._resid_mean(g, mu)
            f = (logdet + np.einsum("ij,ji->", s, w_inv) - self._logdet_s[g] - p
                 + d @ w_inv @ d)
            fs.append(f)
        return np.array(fs)

    def value(self, theta) -> float:
        terms = self._group_terms(theta)
        if terms is None:
            return float("inf")
        return float(0.5 * np.dot(self._w, self._f_groups(terms)))

    def value_and_gradient(self, theta):
        """Both ``value`` and ``gradient`` (one pass over the model)."""
        if not hasattr(self.model, "jacobian_factors"):
            return self._value_and_gradient_dense(theta)
        grad = np.zeros(self.model.n_free)
        fval = 0.0
        for g, fac in enumerate(self.model.jacobian_factors(theta)):
            sigma, mu = fac["sigma"], fac["mu"]
            inverse = self._inverse_logdet(sigma)
            if inverse is None:
                return float("inf"), None
            w_inv, logdet = inverse
            s = self.stats.cov[g]
            ws = w_inv @ s
            f = logdet + np.trace(ws) - self._logdet_s[g] - s.shape[0]
            # M = W (Sigma - S - dd') W = W - W S W - (W d)(W d)'
            m = w_inv - ws @ w_inv
            if mu is not None:
                d = self.stats.mean[g] - mu
                wd = w_inv @ d
                f += d @ wd
                m -= np.outer(wd, wd)
            fval += 0.5 * self._w[g] * f
            u, v, w = fac["u"], fac["v"], fac["w"]
            gpos = 2.0 * w * np.einsum("ij,ij->j", u, m @ v)
            if fac["dmu"] is not None:
                gpos = gpos - 2.0 * (fac["dmu"].T @ wd)
            grad += 0.5 * self._w[g] * (fac["agg"].T @ gpos)
        return float(fval), grad

    @staticmethod
    def _inverse_logdet(sigma):
        """``(Sigma^-1, log|Sigma|)`` through the Cholesky factor, or None when ``Sigma`` is not positive
        definite."""
        chol = _cholesky(sigma)
        if chol is None:
            return None
        return _chol_inverse(chol), 2.0 * np.sum(np.log(np.diag(chol)))

    def _value_and_gradient_dense(self, theta):
        terms = self._group_terms(theta)
        if terms is None:
            return float("inf"), None
        fval = float(0.5 * np.dot(self._w, self._f_groups(terms)))
        jac = self.model.jacobian(theta)
        grad = np.zeros(self.model.n_free)
        for g, (sigma, mu, w_inv, _) in enumerate(terms):
            d = self._resid_mean(g, mu)
            m = w_inv @ (sigma - self.stats.cov[g] - np.outer(d, d)) @ w_inv
            d_sigma, d_mu = jac[g]
            gk = np.einsum("kij,ij->k", d_sigma, m)
            if d_mu is not None:
                gk = gk - 2.0 * d_mu @ (w_inv @ d)
            grad += 0.5 * self._w[g] * gk
        return fval, grad

    def gradient(self, theta) -> np.ndarray:
        return self.value_and_gradient(theta)[1]

    def information(self, theta, kind: str = "expected") -> np.ndarray:
        if kind == "observed":
            return self.hessian(theta)
        if kind != "expected":
            raise ValueError(f"kind must be 'expected' or 'observed', not {kind!r}.")
        q = self.model.n_free
        info = np.zeros((q, q))
        if hasattr(self.model, "jacobian_factors"):
            # dSigma_j = w_j (u_j v_j' + v_j u_j'):
            # 0.5 tr(W dS_j W dS_k) = w_j w_k (Guu*Gvv + Guv*Guv')_jk
            for g, fac in enumerate(self.model.jacobian_factors(theta)):
                w_inv = np.linalg.inv(fac["sigma"])
                u, v, w = fac["u"], fac["v"], fac["w"]
                wu, wv = w_inv @ u, w_inv @ v
                guu, gvv, guv = u.T @ wu, v.T @ wv, u.T @ wv
                ipos = (guu * gvv + guv * guv.T) * np.outer(w, w)
                if fac["dmu"] is not None:
                    ipos += fac["dmu"].T @ w_inv @ fac["dmu"]
                info += self._w[g] * _collapse(ipos, fac, q)
            return 0.5 * (info + info.T)
        jac = self.model.jacobian(theta)
        for g, (sigma, mu) in enumerate(self.model.implied(theta)):
            w_inv = np.linalg.inv(sigma)
            d_sigma, d_mu = jac[g]
            a = np.matmul(np.matmul(w_inv, d_sigma), w_inv)  # (q, p, p)
            ig = 0.5 * a.reshape(q, -1) @ d_sigma.reshape(q, -1).T
            if d_mu is not None:
                ig += d_mu @ w_inv @ d_mu.T
            info += self._w[g] * ig
        return 0.5 * (info + info.T)

    def hessian(self, theta) -> np.ndarray:
        """Analytic Hessian of :meth:`value` (lavaan's observed information).

        Notes
        -----
        With :math:`\\hat S = S + dd^\\top`, :math:`M = W - W\\hat S W`,
        :math:`P = W\\hat S W` and :math:`a = Wd`,

        .. math::

            \\partial_k\\partial_l F = -\\operatorname{tr}(W\\Sigma_l W\\Sigma_k)
              + 2\\operatorname{tr}(W\\Sigma_l P \\Sigma_k)
              + 2 a^\\top(\\Sigma_k W\\mu_l + \\Sigma_l W\\mu_k)
              + 2\\mu_l^\\top W\\mu_k
              + \\operatorname{tr}(M\\Sigma_{kl}) - 2a^\\top\\mu_{kl},

        subscripts denoting derivatives; the second derivatives of the RAM
        moments follow from :math:`\\partial B = B\\,\\partial A\\,B`.
        """
        q = self.model.n_free
        hess = np.zeros((q, q))
        for g, pr in enumerate(self.model.ram_parts(theta)):
            sigma, mu = pr["sigma"], pr["mu"]
            w_inv = np.linalg.inv(sigma)
            s = self.stats.cov[g]
            d = self._resid_mean(g, mu)
            s_hat = s + np.outer(d, d)
            pmat = w_inv @ s_hat @ w_inv
            mmat = w_inv - pmat
            u, v, w = pr["u"], pr["v"], pr["w"]
            ww = np.outer(w, w)
            wu, wv = w_inv @ u, w_inv @ v
            pu, pv = pmat @ u, pmat @ v
            guu, gvv, guv = u.T @ wu, v.T @ wv, u.T @ wv
            huu, hvv, huv = u.T @ pu, v.T @ pv, u.T @ pv
            # tr(W dS_k W dS_l) = 2 (Guu*Gvv + Guv*Guv') w w'
            t_ww = 2.0 * (guu * gvv + guv * guv.T)
            # tr(W dS_l P dS_k), symmetrised
            t_wp = (huv.T * guv + hvv * guu + huu * gvv + huv * guv.T)
            t_wp = t_wp + t_wp.T
            hpos = (-t_ww + t_wp) * ww
            # second derivatives of Sigma
            b, c = pr["b"], pr["c"]
            p = sigma.shape[0]
            fb = b[:p]
            lmat = fb.T @ mmat @ fb
            kmat = c[:, :p] @ mmat @ fb
            ar, ac, sr, sc, mr = pr["a_r"], pr["a_c"], pr["s_r"], pr["s_c"], pr["m_r"]
            na, ns = len(ar), len(sr)
            ia = np.arange(na)
            is_ = np.arange(na, na + ns)
            im = np.arange(na + ns, na + ns + len(mr))
            bk = b[np.ix_(ac, ar)] * kmat[np.ix_(ac, ar)].T
            aa = 2.0 * (bk + bk.T) + 2.0 * c[np.ix_(ac, ac)] * lmat[np.ix_(ar, ar)]
            sw = w[is_]
            as_ = 2.0 * (b[np.ix_(ac, sr)] * lmat[np.ix_(ar, sc)]
                         + b[np.ix_(ac, sc)] * lmat[np.ix_(ar, sr)]) * sw[None, :]
            hpos[np.ix_(ia, ia)] += aa
            hpos[np.ix_(ia, is_)] += as_
            hpos[np.ix_(is_, ia)] += as_.T
            if pr["dmu"] is not None:
                dmu = pr["dmu"]
                avec = w_inv @ d
                wdmu = w_inv @ dmu
                ua, va = u.T @ avec, v.T @ avec
                qm = w[:, None] * (ua[:, None] * (v.T @ wdmu) + va[:, None] * (u.T @ wdmu))
                hpos += 2.0 * (qm + qm.T) + 2.0 * dmu.T @ wdmu
                bm = pr["bm"]
                h = fb.T @ avec
                # -2 a' d2mu: paths x paths and paths x means
                t1 = (h[ar][:, None] * b[np.ix_(ac, ar)]) * bm[ac][None, :]
                hpos[np.ix_(ia, ia)] -= 2.0 * (t1 + t1.T)
                t2 = h[ar][:, None] * b[np.ix_(ac, mr)]
                hpos[np.ix_(ia, im)] -= 2.0 * t2
                hpos[np.ix_(im, ia)] -= 2.0 * t2.T
            hess += 0.5 * self._w[g] * _collapse(hpos, pr, q)
        return 0.5 * (hess + hess.T)

    def test_statistic(self, theta) -> float:
        return float(2.0 * self.ntotal * self.value(theta))

    def loglik(self, theta) -> float:
        terms = self._group_terms(theta)
        if terms is None:
            return float("nan")
        fs = self._f_groups(terms)
        total = 0.0
        for g in range(len(fs)):
            p = self.stats.cov[g].shape[0]
            n = self.stats.nobs[g]
            # F_g = logdet + tr - logdetS - p + md  =>  loglik = -n/2 (p log2pi + F_g + logdetS + p)
            total += -0.5 * n * (p * _LOG2PI + fs[g] + self._logdet_s[g] + p)
        return float(total)

    def loglik_h1(self) -> float:
        total = 0.0
        for g in range(len(self.stats.cov)):
            p = self.stats.cov[g].shape[0]
            total += -0.5 * self.stats.nobs[g] * (p * _LOG2PI + self._logdet_s[g] + p)
        return float(total)
