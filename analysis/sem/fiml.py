"""Full-information maximum likelihood (FIML) for incomplete normal data.

Two layers:

* moment-level functions of a mean vector ``mu`` and covariance matrix
  ``sigma`` given data summarised by pattern (:class:`~analysis.sem.saturated.MissingPatterns`):
  the loglikelihood, its gradient, its analytic Hessian (lavaan's
  ``lav_mvnorm_missing_logl_hessian_samplestats``) and the casewise scores
  (lavaan's ``lav_mvnorm_missing_scores_mu_vech_sigma``).  Complete data are
  the special case of one pattern, so the robust (MLR) code uses them too.
* :class:`FIMLObjective`, the estimator the SEM core dispatches to for
  ``missing="fiml"``: lavaan's ``fmin`` is ``(logl_H1 - logl_H0) / N``, so that
  ``chisq = 2 N fmin``; standard errors use the observed information (the
  Hessian of ``fmin`` by a four-point difference of the analytic gradient,
  step ``1e-6``, as lavaan's ``lav_model_hessian``).

Moment vectors are ordered as lavaan's: ``(mu, vech(Sigma))`` with ``vech``
the lower triangle column by column.

References
----------
.. [1] Arbuckle, J. L. (1996). Full information estimation in the presence of
   incomplete data. In G. A. Marcoulides & R. E. Schumacker (Eds.), *Advanced
   structural equation modeling* (pp. 243-277). Erlbaum.
.. [2] Savalei, V. (2010). Expected versus observed information in SEM with
   incomplete normal and nonnormal data. *Psychological Methods*, 15(4),
   352-367.
.. [3] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. *Journal of Statistical Software*, 48(2), 1-36.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import fit_indices as _fi
from .fit_indices import srmr_bentler  # re-exported; the one copy of the SRMR is in fit_indices
from .objective import Objective, _safe_inverse
from .saturated import (
    LOG2PI,
    _chol_inv_logdet,
    single_threaded,
    MissingPatterns,
    SaturatedFit,
    em_saturated,
    loglik_missing,
    missing_patterns,
    vech_indices,
)

__all__ = [
    "FIMLObjective",
    "loglik_missing",
    "gradient_moments",
    "hessian_moments",
    "theta_hessian",
    "information_moments",
    "casewise_scores",
    "casewise_loglik",
    "delta_matrix",
    "numeric_hessian",
    "srmr_bentler",
    "independence_fit",
]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def _inv(s: np.ndarray) -> np.ndarray:
    inv, _ = _chol_inv_logdet(np.asarray(s, dtype=float))
    if inv is None:
        raise ValueError("An implied covariance block is not positive definite.")
    return inv


def _vech_weights(p: int) -> np.ndarray:
    r, c = vech_indices(p)
    return np.where(r == c, 1.0, 2.0)


def delta_matrix(d_sigma: np.ndarray, d_mu: np.ndarray | None, meanstructure: bool = True) -> np.ndarray:
    """lavaan's ``Delta``: Jacobian of ``(mu, vech(Sigma))`` w.r.t. ``theta``.

    Parameters
    ----------
    d_sigma : numpy.ndarray, shape (q, p, p)
        ``d_sigma[k] = dSigma / dtheta_k`` (the core's ``model.jacobian``).
    d_mu : numpy.ndarray, shape (q, p), optional
        ``d_mu[k] = dmu / dtheta_k``.
    meanstructure : bool
        Include the mean rows.

    Returns
    -------
    numpy.ndarray, shape (p + p*, q) or (p*, q)
        With ``p* = p (p + 1) / 2``.
    """
    p = d_sigma.shape[1]
    r, c = vech_indices(p)
    ds = d_sigma[:, r, c].T
    if not meanstructure:
        return ds
    dm = np.zeros((p, d_sigma.shape[0])) if d_mu is None else np.asarray(d_mu).T
    return np.vstack([dm, ds])


# --------------------------------------------------------------------------
# moment-level functions
# --------------------------------------------------------------------------
@single_threaded
def gradient_moments(patterns: MissingPatterns, mu, sigma) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the FIML loglikelihood w.r.t. ``mu`` and ``Sigma``.

    Parameters
    ----------
    patterns : MissingPatterns
    mu : array-like, shape (p,)
    sigma : array-like, shape (p, p)

    Returns
    -------
    g_mu : numpy.ndarray, shape (p,)
        :math:`\\partial \\log L / \\partial \\mu`.
    g_sigma : numpy.ndarray, shape (p, p)
        The symmetric matrix :math:`G` with
        :math:`d\\log L = \\operatorname{tr}(G\\, d\\Sigma)` for symmetric
        :math:`d\\Sigma` (so the derivative w.r.t. ``vech(Sigma)`` is
        :math:`D_p' \\operatorname{vec} G`).

    Notes
    -----
    Per pattern :math:`k` with :math:`W_k = \\Sigma_k^{-1}`,
    :math:`d_k = \\bar y_k - \\mu_k` and :math:`T_k = S_k + d_k d_k'`:
    :math:`\\partial_\\mu = n_k W_k d_k` and
    :math:`G_k = \\tfrac{n_k}{2}(W_k T_k W_k - W_k)`, embedded in the
    observed rows and columns [1]_.

    References
    ----------
    .. [1] Savalei, V. (2010). Expected versus observed information in SEM
       with incomplete normal and nonnormal data. *Psychological Methods*,
       15(4), 352-367.
    """
    mu = np.asarray(mu, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    p = patterns.nvar
    g_mu = np.zeros(p)
    g_s = np.zeros((p, p))
    for o, n, m, s in zip(patterns.observed, patterns.freq, patterns.means, patterns.covs):
        w = _inv(sigma[np.ix_(o, o)])
        d = m - mu[o]
        wd = w @ d
        g_mu[o] += n * wd
        t = s + np.outer(d, d)
        g_s[np.ix_(o, o)] += 0.5 * n * (w @ t @ w - w)
    return g_mu, g_s


@single_threaded
def hessian_moments(patterns: MissingPatterns, mu, sigma, meanstructure: bool = True,
                    expected: bool = False) -> np.ndarray:
    """Analytic Hessian of the FIML loglikelihood w.r.t. ``(mu, vech(Sigma))``.

    Parameters
    ----------
    patterns : MissingPatterns
    mu : array-like, shape (p,)
    sigma : array-like, shape (p, p)
    meanstructure : bool, default True
        Include the mean block (otherwise only the ``vech(Sigma)`` block).
    expected : bool, default False
        Return the expectation of the Hessian instead (data replaced by
        their expectations under ``(mu, sigma)`` pattern by pattern; its
        negative is lavaan's ``lav_mvnorm_missing_information_expected``
        times N).

    Returns
    -------
    numpy.ndarray, shape (p + p*, p + p*) or (p*, p*)
        :math:`\\partial^2 \\log L / \\partial\\gamma\\,\\partial\\gamma'`
        with :math:`\\gamma = (\\mu', \\operatorname{vech}(\\Sigma)')'`.

    Notes
    -----
    Per pattern (symbols of :func:`gradient_moments`), with
    :math:`V_k = W_k T_k W_k` and :math:`A_k = 2V_k - W_k`:
    :math:`H_{\\mu\\mu} = -n_k W_k`,
    :math:`H_{\\sigma\\mu} = -n_k D'(W_k d_k \\otimes W_k)`,
    :math:`H_{\\sigma\\sigma} = -\\tfrac{n_k}{2} D'(W_k \\otimes A_k)D`
    (lavaan's ``lav_mvnorm_missing_logl_hessian_samplestats``); the
    expected version has :math:`d_k = 0` and :math:`A_k = W_k`.

    References
    ----------
    .. [1] Savalei, V. (2010). Expected versus observed information in SEM
       with incomplete normal and nonnormal data. *Psychological Methods*,
       15(4), 352-367.
    .. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. *Journal of Statistical Software*, 48(2), 1-36.
    """
    mu = np.asarray(mu, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    p = patterns.nvar
    ps = p * (p + 1) // 2
    h_mm = np.zeros((p, p))
    h_sm = np.zeros((ps, p))
    h_ss = np.zeros((ps, ps))
    r_all, c_all = vech_indices(p)
    pos = np.full((p, p), -1, dtype=int)
    pos[r_all, c_all] = np.arange(ps)
    pos[c_all, r_all] = np.arange(ps)
    for o, n, m, s in zip(patterns.observed, patterns.freq, patterns.means, patterns.covs):
        oi = np.flatnonzero(o)
        k = len(oi)
        w = _inv(sigma[np.ix_(oi, oi)])
        r, c = vech_indices(k)
        gidx = pos[oi[r], oi[c]]
        half = np.where(r == c, 0.5, 1.0)
        h_mm[np.ix_(oi, oi)] -= n * w
        if expected:
            a = w
        else:
            d = m - mu[oi]
            wd = w @ d
            a = 2.0 * (w @ (s + np.outer(d, d)) @ w) - w
            # column b = (k, l) of vech: -n (W[:, k] (Wd)_l + W[:, l] (Wd)_k), halved if k == l
            blk = -n * (w[:, r] * wd[c][None, :] + w[:, c] * wd[r][None, :]) * half[None, :]
            h_sm[np.ix_(gidx, oi)] += blk.T
        # entry (a=(i,j), b=(k,l)): -(n/2) h_a h_b [W_ik A_jl + W_il A_jk + W_jl A_ik + W_jk A_il]
        wr, wc = w[r], w[c]
        ar, ac = a[r], a[c]
        f = wr[:, r] * ac[:, c]
        f += wr[:, c] * ac[:, r]
        f += wc[:, c] * ar[:, r]
        f += wc[:, r] * ar[:, c]
        f *= (-0.5 * n) * half[:, None] * half[None, :]
        h_ss[np.ix_(gidx, gidx)] += f
    if not meanstructure:
        return h_ss
    return np.block([[h_mm, h_sm.T], [h_sm, h_ss]])


@single_threaded
def theta_hessian(patterns: MissingPatterns, mu, sigma, d_sigma, d_mu=None,
                  expected: bool = False) -> np.ndarray:
    r"""``Delta' H Delta``: the moment Hessian of the loglikelihood carried to ``theta``.

    Parameters
    ----------
    patterns : MissingPatterns
    mu : array-like, shape (p,)
    sigma : array-like, shape (p, p)
        Must be positive definite.
    d_sigma : numpy.ndarray, shape (q, p, p)
        ``dSigma / dtheta_k``.
    d_mu : numpy.ndarray, shape (q, p), optional
        ``dmu / dtheta_k`` (None: no mean structure).
    expected : bool, default False
        Use the expected moment Hessian (see :func:`hessian_moments`).

    Returns
    -------
    numpy.ndarray, shape (q, q)
        Equal to ``Delta' hessian_moments(...) Delta`` (without the
        second-derivative term of a nonlinear model).

    Notes
    -----
    Computed without forming the ``p* x p*`` moment Hessian: with
    :math:`\Omega = \Sigma^{-1}`, the zero-embedded inverse of a pattern's
    observed block is :math:`\tilde W_k = \Omega - L_kL_k'`,
    :math:`L_k = \Omega_{\cdot m}\,\mathrm{chol}(\Omega_{mm}^{-1})` (``m`` the
    missing variables), so that
    :math:`-\tfrac12\sum_k n_k\operatorname{tr}(\partial_a\Sigma\,\tilde A_k\,
    \partial_b\Sigma\,\tilde W_k) = -\tfrac12\operatorname{tr}(\partial_a\Sigma\,
    \bar A\,\partial_b\Sigma\,\Omega) + \tfrac12\sum_k n_k \sum_r
    (\partial_a\Sigma\, l_{kr})'\tilde A_k(\partial_b\Sigma\, l_{kr})` with
    :math:`\bar A = \sum_k n_k \tilde A_k`; the mean blocks likewise.  The
    cost per pattern is :math:`O(q^2 p\, |m|)` instead of :math:`O(p^4)`.

    References
    ----------
    .. [1] Savalei, V. (2010). Expected versus observed information in SEM
       with incomplete normal and nonnormal data. *Psychological Methods*,
       15(4), 352-367.
    .. [2] Henderson, H. V., & Searle, S. R. (1981). On deriving the inverse
       of a sum of matrices. *SIAM Review*, 23(1), 53-60.
    """
    mu = np.asarray(mu, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    ds = np.asarray(d_sigma, dtype=float)
    q, p, _ = ds.shape
    dm = None if d_mu is None else np.asarray(d_mu, dtype=float)
    omega = _inv(sigma)
    if expected:
        return _theta_hessian_expected(patterns, omega, ds, dm)
    ds2 = ds.reshape(q * p, p)
    a_bar = np.zeros((p, p))
    z_bar = np.zeros(p)
    n_tot = 0
    corr = np.zeros((q, q))      # + 1/2 sum n (dS l)' A (dS l)
    corr_mm = np.zeros((q, q))   # + sum n (L' dmu)' (L' dmu)
    cross = np.zeros((q, q))     # X[a, b], sigma-param a, mean-param b
    for o, n, m, s in zip(patterns.observed, patterns.freq, patterns.means, patterns.covs):
        oi = np.flatnonzero(o)
        mi = np.flatnonzero(~o)
        n_tot += n
        if len(mi):
            r_inv = _inv(omega[np.ix_(mi, mi)])
            lk = omega[:, mi] @ np.linalg.cholesky(r_inv)
            w_t = omega - lk @ lk.T
        else:
            lk = None
            w_t = omega
        w_o = w_t[np.ix_(oi, oi)]
        if expected:
            a_t = w_t
            z = None
        else:
            d = m - mu[oi]
            a_o = 2.0 * (w_o @ (s + np.outer(d, d)) @ w_o) - w_o
            a_t = np.zeros((p, p))
            a_t[np.ix_(oi, oi)] = a_o
            z = np.zeros(p)
            z[oi] = w_o @ d
            z_bar += n * z
        a_bar += n * a_t
        if lk is None:
            continue
        r = lk.shape[1]
        pk = (ds2 @ lk).reshape(q, p, r)               # dS_a l
        apk = (a_t @ pk.transpose(1, 0, 2).reshape(p, q * r)).reshape(p, q, r)
        corr += 0.5 * n * (pk.transpose(0, 2, 1).reshape(q, r * p)
                           @ apk.transpose(1, 2, 0).reshape(q, r * p).T)
        if dm is not None:
            ml = dm @ lk                               # (q, r)
            corr_mm += n * ml @ ml.T
            if z is not None:
                uk = np.tensordot(pk, z, axes=([1], [0]))   # z' dS_a l, (q, r)
                cross += n * uk @ ml.T
    # full-rank parts
    y = np.matmul(ds, a_bar)                           # dS_a A
    zz = np.matmul(ds, omega)                          # dS_b Omega
    h = -0.5 * y.reshape(q, -1) @ zz.transpose(0, 2, 1).reshape(q, -1).T + corr
    if dm is not None:
        h += -n_tot * dm @ omega @ dm.T + corr_mm
        if not expected:
            u = (ds2 @ z_bar).reshape(q, p)              # z' dS_a (dS_a symmetric)
            x = -u @ (dm @ omega).T + cross
            h += x + x.T
    return 0.5 * (h + h.T)


def _theta_hessian_expected(patterns: MissingPatterns, omega, ds, dm) -> np.ndarray:
    """Expected version of :func:`theta_hessian`, batched over patterns.

    With :math:`\\tilde A_k = \\tilde W_k = \\Omega - L_kL_k'` every
    pattern term is a product with :math:`\\Omega` or with the small
    :math:`L_k' \\partial\\Sigma L_k`, so the columns of all :math:`L_k`
    are stacked and the sums become a few large matrix products.
    """
    q, p, _ = ds.shape
    ds2 = ds.reshape(q * p, p)
    cols, weights, blocks = [], [], []
    n_tot = 0
    start = 0
    for o, n in zip(patterns.observed, patterns.freq):
        n_tot += n
        mi = np.flatnonzero(~o)
        if not len(mi):
            continue
        lk = omega[:, mi] @ np.linalg.cholesky(_inv(omega[np.ix_(mi, mi)]))
        cols.append(lk)
        weights.append(np.full(lk.shape[1], float(n)))
        blocks.append((start, start + lk.shape[1], float(n)))
        start += lk.shape[1]
    a_bar = n_tot * omega
    h = np.zeros((q, q))
    if cols:
        l_all = np.hstack(cols)                       # (p, R)
        w = np.concatenate(weights)                   # (R,)
        big_r = l_all.shape[1]
        a_bar = a_bar - (l_all * w) @ l_all.T
        pk = (ds2 @ l_all).reshape(q, p, big_r)       # dS_a l_c
        qk = (omega @ pk.transpose(1, 0, 2).reshape(p, q * big_r)).reshape(p, q, big_r)
        pw = (pk * w[None, None, :]).transpose(0, 2, 1).reshape(q, big_r * p)
        h += 0.5 * pw @ qk.transpose(1, 2, 0).reshape(q, big_r * p).T
        for a0, a1, n in blocks:
            b = np.tensordot(pk[:, :, a0:a1], l_all[:, a0:a1], axes=([1], [0])).reshape(q, -1)
            h -= 0.5 * n * b @ b.T
        if dm is not None:
            ml = dm @ l_all
            h += (ml * w) @ ml.T
    y = np.matmul(ds, a_bar)
    zz = np.matmul(ds, omega)
    h += -0.5 * y.reshape(q, -1) @ zz.transpose(0, 2, 1).reshape(q, -1).T
    if dm is not None:
        h += -n_tot * dm @ omega @ dm.T
    return 0.5 * (h + h.T)


def information_moments(patterns: MissingPatterns, mu, sigma, meanstructure: bool = True) -> np.ndarray:
    """Observed unit information of ``(mu, vech(Sigma))``: ``-Hessian / N``.

    Parameters
    ----------
    patterns : MissingPatterns
    mu, sigma : array-like
    meanstructure : bool, default True

    Returns
    -------
    numpy.ndarray, shape (p + p*, p + p*)
        lavaan's ``lav_mvnorm_missing_information_observed_samplestats``
        (at the EM estimates this is the unstructured H1 information ``A1``).

    References
    ----------
    .. [1] Savalei, V. (2010). Expected versus observed information in SEM
       with incomplete normal and nonnormal data. *Psychological Methods*,
       15(4), 352-367.
    """
    return -hessian_moments(patterns, mu, sigma, meanstructure) / patterns.total


@single_threaded
def casewise_scores(patterns: MissingPatterns, mu, sigma, meanstructure: bool = True) -> np.ndarray:
    """Casewise scores of the normal loglikelihood w.r.t. ``(mu, vech(Sigma))``.

    Parameters
    ----------
    patterns : MissingPatterns
    mu : array-like, shape (p,)
    sigma : array-like, shape (p, p)
    meanstructure : bool, default True
        Include the ``mu`` columns.

    Returns
    -------
    numpy.ndarray, shape (n, p + p*) or (n, p*)
        Row ``i`` (in the order of ``patterns.data``) is
        :math:`\\partial \\log L_i / \\partial \\gamma`.

    Notes
    -----
    For case :math:`i` with observed block :math:`o`,
    :math:`e_i = y_{i,o} - \\mu_o`, :math:`W = \\Sigma_{oo}^{-1}`:
    :math:`s_{\\mu} = W e_i` and :math:`s_\\Sigma = D'\\operatorname{vec}
    \\{\\tfrac12 (W e_i e_i' W - W)\\}` (zeros for unobserved variables),
    lavaan's ``lav_mvnorm_missing_scores_mu_vech_sigma``.

    References
    ----------
    .. [1] Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based
       methods for mean and covariance structure analysis with nonnormal
       missing data. *Sociological Methodology*, 30, 165-200.
    """
    mu = np.asarray(mu, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    x = patterns.data
    n, p = x.shape
    r, c = vech_indices(p)
    wv = _vech_weights(p)
    ps = len(r)
    out = np.zeros((n, p + ps))
    for o, idx in zip(patterns.observed, patterns.rows):
        oi = np.flatnonzero(o)
        w_o = _inv(sigma[np.ix_(o, o)])
        w = np.zeros((p, p))
        w[np.ix_(oi, oi)] = w_o
        e = np.zeros((len(idx), p))
        e[:, oi] = x[np.ix_(idx, oi)] - mu[oi]
        we = e @ w  # (n_k, p)
        out[idx, :p] = we
        out[idx, p:] = 0.5 * (we[:, r] * we[:, c] - w[r, c][None, :]) * wv[None, :]
    return out if meanstructure else out[:, p:]


@single_threaded
def casewise_loglik(patterns: MissingPatterns, mu, sigma) -> np.ndarray:
    """Casewise loglikelihood values (in the order of ``patterns.data``).

    Notes
    -----
    :math:`\\log L_i = -\\tfrac12[p_i\\log 2\\pi + \\log|\\Sigma_{oo}| +
    e_i'\\Sigma_{oo}^{-1}e_i]`.

    References
    ----------
    .. [1] Arbuckle, J. L. (1996). Full information estimation in the
       presence of incomplete data. Erlbaum.
    """
    mu = np.asarray(mu, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    x = patterns.data
    out = np.zeros(x.shape[0])
    for o, idx in zip(patterns.observed, patterns.rows):
        so = sigma[np.ix_(o, o)]
        w = _inv(so)
        logdet = np.linalg.slogdet(so)[1]
        e = x[np.ix_(idx, np.flatnonzero(o))] - mu[o]
        out[idx] = -0.5 * (o.sum() * LOG2PI + logdet + np.einsum("ij,jk,ik->i", e, w, e))
    return out


def numeric_hessian(gradient, theta, h: float = 1e-6) -> np.ndarray:
    """Hessian by a four-point central difference of an analytic gradient.

    Parameters
    ----------
    gradient : callable
        ``gradient(theta) -> ndarray (q,)``.
    theta : array-like, shape (q,)
    h : float, default 1e-6
        Step (lavaan's ``lav_model_hessian``).

    Returns
    -------
    numpy.ndarray, shape (q, q)
        Symmetrised Hessian.

    Notes
    -----
    Column :math:`j`: :math:`[g(\\theta-2he_j) - 8g(\\theta-he_j) +
    8g(\\theta+he_j) - g(\\theta+2he_j)]/(12h)`; then :math:`(H+H')/2`.

    References
    ----------
    .. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. *Journal of Statistical Software*, 48(2), 1-36.
    """
    theta = np.asarray(theta, dtype=float)
    q = theta.size
    hess = np.zeros((q, q))
    for j in range(q):
        cols = []
        for step in (-2.0, -1.0, 1.0, 2.0):
            t = theta.copy()
            t[j] += step * h
            cols.append(np.asarray(gradient(t), dtype=float))
        hess[:, j] = (cols[0] - 8.0 * cols[1] + 8.0 * cols[2] - cols[3]) / (12.0 * h)
    return 0.5 * (hess + hess.T)


def independence_fit(patterns: MissingPatterns) -> tuple[np.ndarray, np.ndarray, float]:
    """FIML estimate of the independence (baseline) model.

    Parameters
    ----------
    patterns : MissingPatterns

    Returns
    -------
    mu : numpy.ndarray
        Available-case means.
    var : numpy.ndarray
        Available-case variances (divisor: number observed).
    loglik : float
        FIML loglikelihood of the diagonal model.

    Notes
    -----
    With a diagonal :math:`\\Sigma` the incomplete-data likelihood factors
    into univariate likelihoods, so the FIML estimates are the available-case
    mean and N-divisor variance of each variable (lavaan fits the same model
    iteratively).

    References
    ----------
    .. [1] Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis
       with missing data* (2nd ed.). Wiley.
    """
    x = patterns.data
    if patterns.weights is None:
        mu = np.nanmean(x, axis=0)
        var = np.nanmean((x - mu) ** 2, axis=0)
    else:  # weighted available-case moments (sampling weights)
        w = np.where(np.isnan(x), 0.0, patterns.weights[:, None])
        xz = np.nan_to_num(x)
        mu = (w * xz).sum(axis=0) / w.sum(axis=0)
        var = (w * (xz - mu) ** 2).sum(axis=0) / w.sum(axis=0)
    return mu, var, loglik_missing(patterns, mu, np.diag(var))


# --------------------------------------------------------------------------
# the objective
# --------------------------------------------------------------------------
class FIMLObjective(Objective):
    """FIML for incomplete normal data, as lavaan's ``missing = "ml"``.

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
        Must have a mean structure (lavaan forces ``meanstructure = TRUE``
        with FIML); without one the EM means are held fixed.
    stats : analysis.sem.samplestats.SampleStats
        ``stats.data[g]`` holds the rows of group ``g`` (NaN = missing).
    em_max_iter, em_tol : optional
        EM settings for the saturated model (lavaan ``em.h1.iter.max``,
        ``em.h1.tol``).

    Notes
    -----
    :math:`f_{min}(\\theta) = (\\log L_{H1} - \\log L(\\theta))/N`, summed
    over groups; :math:`\\chi^2 = 2 N f_{min}` (0 when EM stopped short of
    the model's maximum); the gradient is
    :math:`-N^{-1}\\sum_g \\Delta_g' \\partial\\log L_g/\\partial\\gamma_g`;
    the default vcov is the inverse observed information
    :math:`[-\\partial^2 \\log L/\\partial\\theta\\partial\\theta']^{-1}`
    (lavaan ``information = "observed"``).

    References
    ----------
    .. [1] Arbuckle, J. L. (1996). Full information estimation in the
       presence of incomplete data. Erlbaum.
    .. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. *Journal of Statistical Software*, 48(2), 1-36.
    """

    name = "FIML"

    def __init__(self, model, stats, *, em_max_iter: int = 500, em_tol: float = 1e-5):
        super().__init__(model, stats)
        self.patterns: list[MissingPatterns] = []
        self.h1: list[SaturatedFit] = []
        for g, x in enumerate(stats.data):
            cols = list(model.ov_names[g]) if hasattr(model, "ov_names") else None
            frame = pd.DataFrame(np.asarray(x, dtype=float), columns=cols)
            wts = getattr(stats, "weights", None)
            mp = missing_patterns(frame, weights=None if not wts else wts[g])
            if len(mp.empty):
                raise ValueError(
                    f"{len(mp.empty)} case(s) in group {g + 1} have every variable missing; "
                    "remove them before a FIML fit (lavaan drops them with a warning)."
                )
            self.patterns.append(mp)
            self.h1.append(em_saturated(mp, max_iter=em_max_iter, tol=em_tol))
        self._nobs = np.array([mp.total for mp in self.patterns], dtype=float)  # sum of weights if weighted
        self._loglik_h1 = float(sum(h.loglik for h in self.h1))

    @property
    def ntotal(self) -> int:
        return int(round(self._nobs.sum()))

    @property
    def nobs(self) -> list:
        """Cases used per group (sums of the sampling weights when weighted)."""
        return [int(n) if mp.weights is None else float(n) for n, mp in zip(self._nobs, self.patterns)]

    # moments ------------------------------------------------------------
    def _moments(self, theta):
        out = []
        for g, (sigma, mu) in enumerate(self.model.implied(theta)):
            if mu is None or not getattr(self.model, "meanstructure", True):
                mu = self.h1[g].mean.to_numpy()
            out.append((np.asarray(sigma, dtype=float), np.asarray(mu, dtype=float)))
        return out

    def h1_moments(self) -> tuple[list, list]:
        """EM covariance matrices and mean vectors, one per group (lavaan's ``h1``).

        Returns
        -------
        covs, means : list of numpy.ndarray
        """
        return ([h.cov.to_numpy() for h in self.h1], [h.mean.to_numpy() for h in self.h1])

    def h1_information(self, group: int) -> np.ndarray:
        """Observed unit information of ``(mu, vech Sigma)`` at the EM moments (cached).

        lavaan's unstructured H1 information under FIML (``A1`` of the
        Yuan-Bentler test, ``Wm`` of FIML-C).
        """
        cache = self.__dict__.setdefault("_h1_info", {})
        if group not in cache:
            s, m = self.h1_group(group)
            mp = self.patterns[group]
            cache[group] = -hessian_moments(mp, m, s, meanstructure=True) / mp.total
        return cache[group]

    def h1_group(self, group: int) -> tuple[np.ndarray, np.ndarray]:
        """EM covariance matrix and mean vector of one group."""
        h = self.h1[group]
        return h.cov.to_numpy(), h.mean.to_numpy()

    def baseline_test(self) -> tuple[float, int]:
        """Chi-square and df of the independence model fitted by FIML.

        Notes
        -----
        The baseline has free means and variances and zero covariances;
        :math:`\\chi^2_0 = 2(\\log L_{H1} - \\log L_0)`,
        :math:`df_0 = \\sum_g p_g(p_g-1)/2` (lavaan's baseline under FIML).
        """
        ll0 = 0.0
        df0 = 0
        for mp in self.patterns:
            ll0 += independence_fit(mp)[2]
            df0 += mp.nvar * (mp.nvar - 1) // 2
        return max(2.0 * (self._loglik_h1 - ll0), 0.0), int(df0)

    # contract -------------------------------------------------------------
    @single_threaded
    def loglik(self, theta) -> float:
        total = 0.0
        for mp, (sigma, mu) in zip(self.patterns, self._moments(theta)):
            total += loglik_missing(mp, mu, sigma)
        return float(total) if np.isfinite(total) else float("nan")

    def loglik_h1(self) -> float:
        return self._loglik_h1

    @single_threaded
    def value(self, theta) -> float:
        ll = 0.0
        for mp, (sigma, mu) in zip(self.patterns, self._moments(theta)):
            ll += loglik_missing(mp, mu, sigma)
        if not np.isfinite(ll):
            return float("inf")
        return float((self._loglik_h1 - ll) / self.ntotal)

    @single_threaded
    def loglik_gradient(self, theta) -> np.ndarray:
        """Analytic gradient of the loglikelihood w.r.t. ``theta``."""
        jac = self.model.jacobian(theta)
        grad = np.zeros(self.model.n_free)
        meanstructure = getattr(self.model, "meanstructure", True)
        for g, (mp, (sigma, mu)) in enumerate(zip(self.patterns, self._moments(theta))):
            g_mu, g_s = gradient_moments(mp, mu, sigma)
            d_sigma, d_mu = jac[g]
            grad += d_sigma.reshape(d_sigma.shape[0], -1) @ g_s.ravel()
            if meanstructure and d_mu is not None:
                grad += np.asarray(d_mu) @ g_mu
        return grad

    def gradient(self, theta) -> np.ndarray:
        return -self.loglik_gradient(theta) / self.ntotal

    def value_and_gradient(self, theta):
        """Both ``value`` and ``gradient``."""
        v = self.value(theta)
        if not np.isfinite(v):
            return v, None
        return v, self.gradient(theta)

    @single_threaded
    def information(self, theta, kind: str = "expected") -> np.ndarray:
        """Unit information (per case) of the FIML objective.

        Parameters
        ----------
        theta : array-like
        kind : {"expected", "observed"}
            ``"observed"`` (lavaan's default for FIML) is the Hessian of
            ``value``; ``"expected"`` replaces the data by their expectations
            pattern by pattern (lavaan ``lav_mvnorm_missing_information_expected``).

        Returns
        -------
        numpy.ndarray, shape (q, q)

        Notes
        -----
        :math:`-N^{-1}[\\sum_g \\Delta_g' H_g \\Delta_g + \\sum_g
        \\sum_k (\\partial \\log L_g/\\partial\\gamma_k)\\,
        \\partial^2\\gamma_k/\\partial\\theta\\partial\\theta']` with the
        analytic moment Hessian :math:`H_g` (:func:`hessian_moments`); the
        second term (observed only) uses a forward difference of the
        model's analytic Jacobian (forward, step ``1e-6``).
        """
        if kind not in ("expected", "observed"):
            raise ValueError(f"Unknown information kind {kind!r}; use 'expected' or 'observed'.")
        theta = np.asarray(theta, dtype=float)
        key = (kind, theta.tobytes())
        cache = self.__dict__.setdefault("_info_cache", {})
        if key in cache:
            return cache[key].copy()
        q = self.model.n_free
        expected = kind == "expected"
        jac = self.model.jacobian(theta)
        moments = self._moments(theta)
        meanstructure = getattr(self.model, "meanstructure", True)
        hess = np.zeros((q, q))
        grads = []
        for g, (mp, (sigma, mu)) in enumerate(zip(self.patterns, moments)):
            d_sigma, d_mu = jac[g]
            hess += theta_hessian(mp, mu, sigma, d_sigma, d_mu if meanstructure else None,
                                  expected=expected)
            if not expected:
                grads.append(gradient_moments(mp, mu, sigma))
        if not expected:
            # second-derivative term: forward difference of the analytic Jacobian
            step = 1e-6
            for j in range(q):
                tp = theta.copy()
                tp[j] += step
                jp = self.model.jacobian(tp)
                for g, (g_mu, g_s) in enumerate(grads):
                    dds = (jp[g][0] - jac[g][0]) / step
                    col = dds.reshape(q, -1) @ g_s.ravel()
                    if meanstructure and jp[g][1] is not None:
                        col += ((np.asarray(jp[g][1]) - np.asarray(jac[g][1])) / step) @ g_mu
                    hess[:, j] += col
        info = -hess / self.ntotal
        info = 0.5 * (info + info.T)
        if len(cache) > 8:
            cache.clear()
        cache[key] = info
        return info.copy()

    def vcov(self, theta) -> np.ndarray:
        """Inverse of ``N`` times the observed information."""
        return _safe_inverse(self.information(theta, kind="observed") * self.ntotal)

    def test_statistic(self, theta) -> float:
        return float(max(2.0 * self.ntotal * self.value(theta), 0.0))

    # extras used by robust.py and the fit indices --------------------------
    @single_threaded
    def casewise_scores(self, theta) -> list[np.ndarray]:
        """Per group, the ``(n_g, q)`` casewise scores of ``log L`` w.r.t. ``theta``.

        Rows follow the order of ``stats.data[g]``.
        """
        jac = self.model.jacobian(theta)
        meanstructure = getattr(self.model, "meanstructure", True)
        out = []
        for g, (mp, (sigma, mu)) in enumerate(zip(self.patterns, self._moments(theta))):
            d_sigma, d_mu = jac[g]
            sc = casewise_scores(mp, mu, sigma, meanstructure=True)
            delta = delta_matrix(d_sigma, d_mu if meanstructure else None, meanstructure=True)
            out.append(sc @ delta)
        return out

    def fit_extras(self, theta) -> dict:
        """lavaan fit measures specific to FIML: baseline, SRMR, loglik.

        Returns
        -------
        dict
            ``baseline_chisq``, ``baseline_df``, ``baseline_loglik``,
            ``srmr`` (lavaan's ``srmr_bentler`` against the EM moments),
            ``loglik``, ``unrestricted_loglik``.
        """
        base_ll = 0.0
        base_df = 0
        for mp in self.patterns:
            _, _, ll = independence_fit(mp)
            base_ll += ll
            p = mp.nvar
            base_df += p * (p + 1) // 2 - p  # means and variances free; H1 has p + p*
        implied = self._moments(theta)
        cov_h1, mean_h1 = self.h1_moments()
        srmr = _fi.srmr(cov_h1, mean_h1, [s for s, _ in implied], [m for _, m in implied],
                        self._nobs, meanstructure=getattr(self.model, "meanstructure", True))
        return {
            "baseline_chisq": max(2.0 * (self._loglik_h1 - base_ll), 0.0),
            "baseline_df": base_df,
            "baseline_loglik": base_ll,
            "srmr": srmr,
            "loglik": self.loglik(theta),
            "unrestricted_loglik": self._loglik_h1,
        }
