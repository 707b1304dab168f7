"""Studentized bootstrap (bootstrap-t) intervals with cluster-robust standard errors.

The percentile interval takes its width from the spread of the bootstrap
draws, so it is only as good as the sample's own estimate of the sampling
variance.  With clustered data that estimate rests on the number of
clusters, and when a parameter's cluster-level contributions are heavy
tailed (a covariance between two variables that both vary between
clusters is a product of cluster effects) it varies a lot from sample to
sample: percentile intervals then cover too rarely.  The studentized
bootstrap [1]_ divides every draw's deviation by that draw's own standard
error, :math:`t^*_b = (\\hat\\theta^*_b - \\hat\\theta)/\\widehat{se}^*_b`,
and takes the critical values from the draws of :math:`t^*`, which carry the
variability of the standard error with them.  With clustered data it is the
pairs cluster bootstrap-t of Cameron, Gelbach and Miller [2]_.

The standard error of a draw is the sandwich (Huber-White) standard error
of the ML estimate, with the scores summed within clusters [3]_ (rows are
their own clusters in a row bootstrap) and the expected information as the
bread.  For incomplete rows (the two-stage EM bootstrap) the scores are
those of the EM-completed rows: each row's conditional mean and covariance
given its observed items at the resample's EM moments.  That ignores the
information lost to the missing values and so understates every standard
error by a factor that is nearly the same in every draw; the bootstrap-t
interval :math:`[\\hat\\theta - t^*_{1-\\alpha/2}\\widehat{se},\\;
\\hat\\theta - t^*_{\\alpha/2}\\widehat{se}]` is unchanged when
:math:`\\widehat{se}` and every :math:`\\widehat{se}^*_b` are multiplied by
the same constant, so what matters is only that the standard error tracks
the variability from sample to sample.

References
----------
.. [1] Efron, B., & Tibshirani, R. J. (1993). *An introduction to the
   bootstrap*. Chapman & Hall, ch. 12 (bootstrap-t intervals).
.. [2] Cameron, A. C., Gelbach, J. B., & Miller, D. L. (2008).
   Bootstrap-based improvements for inference with clustered errors.
   *Review of Economics and Statistics*, 90(3), 414-427.
.. [3] Williams, R. L. (2000). A note on robust variance estimation for
   cluster-correlated data. *Biometrics*, 56(2), 645-646.
"""
from __future__ import annotations

import numpy as np

__all__ = ["cluster_starts", "score_sums", "sandwich_se", "studentized_ci"]


def cluster_starts(index, labels=None) -> np.ndarray:
    """First position of every resampled cluster in a resample's row index.

    Parameters
    ----------
    index : ndarray (n,)
        Row indices of one resample, as :func:`analysis.sem.bootstrap.
        resample_indices` returns them: the rows of each drawn cluster in
        ascending order, cluster after cluster.
    labels : ndarray (N,), optional
        Cluster of every original row; None when every row is its own
        cluster (a row bootstrap).

    Returns
    -------
    ndarray of int
        A cluster starts where the label changes or, within one label, where
        the row index stops increasing (the same cluster drawn again).
    """
    index = np.asarray(index)
    if labels is None:
        return np.arange(len(index))
    lab = np.asarray(labels)[index]
    new = (lab[1:] != lab[:-1]) | (index[1:] <= index[:-1])
    return np.flatnonzero(np.r_[True, new])


def score_sums(model, theta, rows, starts, cond_blocks=None, group: int = 0) -> np.ndarray:
    """Loglikelihood scores summed within clusters, for one group.

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
    theta : ndarray (q,)
    rows : ndarray (n, p)
        Complete rows (or conditional means), grouped by cluster.
    starts : ndarray of int
        First row of every cluster (:func:`cluster_starts`).
    cond_blocks : list of (rows, cols, cov), optional
        Conditional covariances of the missing values of EM-completed rows
        (:func:`analysis.sem.bootstrap.em_completion`).
    group : int

    Returns
    -------
    ndarray (n_clusters, q)

    Notes
    -----
    With :math:`\\partial_j\\Sigma = w_j(u_jv_j^\\top + v_ju_j^\\top)` and
    :math:`r_i = \\Sigma^{-1}(x_i-\\mu)` the score of row i at position j is
    :math:`w_j[(r_i^\\top u_j)(r_i^\\top v_j) - u_j^\\top\\Sigma^{-1}v_j] +
    \\partial_j\\mu^\\top r_i`; a conditional covariance :math:`C_i` adds
    :math:`w_j u_j^\\top\\Sigma^{-1}C_i\\Sigma^{-1}v_j` (the expectation of
    the complete-data score given the observed items) [1]_.  Without a mean
    structure :math:`\\mu` is the rows' mean.

    References
    ----------
    .. [1] Bollen, K. A. (1989). *Structural equations with latent
       variables*. Wiley, pp. 131-135.
    """
    fac = model.jacobian_factors(theta)[group]
    w_inv = np.linalg.inv(fac["sigma"])
    mu = fac["mu"] if fac["mu"] is not None else rows.mean(axis=0)
    r = (rows - mu) @ w_inv
    u, v = fac["u"], fac["v"]
    wu, wv = w_inv @ u, w_inv @ v
    const = np.einsum("ij,ij->j", u, wv)
    quad = (r @ u) * (r @ v) - const
    for idx, cols, cov in cond_blocks or ():
        # u' W C W v over the missing block only: (m, k, npos) each side
        quad[idx] += np.einsum("nkj,nkj->nj", wu[cols], np.einsum("nkl,nlj->nkj", cov, wv[cols]))
    pos = fac["w"] * quad
    if fac["dmu"] is not None:
        pos = pos + r @ fac["dmu"]
    return np.add.reduceat(pos, starts, axis=0) @ fac["agg"]


def sandwich_se(model, theta, information, scores, *, defined=None, small_sample=None):
    """Sandwich standard errors of the free and the defined parameters.

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
    theta : ndarray (q,)
    information : ndarray (q, q)
        Expected information of the whole sample (unit information times N).
    scores : list of ndarray
        Per group, the cluster sums of the scores (:func:`score_sums`).
    defined : analysis.sem.defined.DefinedParameters, optional
    small_sample : list of float, optional
        Per group, the factor of the meat (:math:`G/(G-1)` for clusters).

    Returns
    -------
    ndarray (q + d,)
        NaN when the information is singular.

    Notes
    -----
    :math:`\\widehat V = A^{-1}BA^{-1}` with :math:`B=\\sum_g c_g\\sum_k
    S_{gk}S_{gk}^\\top` [1]_; the defined parameters by the delta method.

    References
    ----------
    .. [1] White, H. (1982). Maximum likelihood estimation of misspecified
       models. *Econometrica*, 50(1), 1-25.
    """
    q = len(theta)
    n_def = len(defined.names) if defined is not None else 0
    try:
        a_inv = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return np.full(q + n_def, np.nan)
    factors = small_sample or [1.0] * len(scores)
    meat = sum(c * (s.T @ s) for c, s in zip(factors, scores))
    vcov = a_inv @ meat @ a_inv
    var = np.diag(vcov)
    if n_def:
        jac = defined.jacobian(theta)
        var = np.concatenate([var, np.einsum("ij,jk,ik->i", jac, vcov, jac)])
    with np.errstate(invalid="ignore"):
        return np.sqrt(var)


def studentized_ci(draws, se_draws, est, se, level: float = 0.95, symmetric: bool = False):
    """Bootstrap-t interval of each column, equal-tailed or symmetric.

    Parameters
    ----------
    draws, se_draws : ndarray (B, k)
        Bootstrap estimates and their standard errors (rows with a NaN
        standard error are left out).
    est, se : ndarray (k,)
        Full-sample estimates and standard errors.
    level : float
    symmetric : bool
        The symmetric interval :math:`\\hat\\theta \\pm \\hat c\\,\\widehat{se}`
        with :math:`\\hat c` the ``level`` quantile of :math:`|t^*_b|` [2]_.

    Returns
    -------
    lower, upper : ndarray (k,)

    Notes
    -----
    Equal-tailed: :math:`[\\hat\\theta - \\hat t_{1-\\alpha/2}\\widehat{se},\\;\\hat\\theta -
    \\hat t_{\\alpha/2}\\widehat{se}]` with :math:`\\hat t_a` the a-quantile of
    :math:`t^*_b=(\\hat\\theta^*_b-\\hat\\theta)/\\widehat{se}^*_b` [1]_.

    References
    ----------
    .. [1] Efron, B., & Tibshirani, R. J. (1993). *An introduction to the
       bootstrap*. Chapman & Hall, sec. 12.5.
    .. [2] Hall, P. (1988). On symmetric bootstrap confidence intervals.
       *Journal of the Royal Statistical Society B*, 50(1), 35-45.
    """
    draws = np.asarray(draws, float)
    se_draws = np.asarray(se_draws, float)
    est = np.asarray(est, float)
    se = np.asarray(se, float)
    a = (1 - level) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (draws - est) / se_draws
    t[~np.isfinite(t)] = np.nan
    lo = np.full(draws.shape[1], np.nan)
    hi = np.full(draws.shape[1], np.nan)
    for j in range(draws.shape[1]):
        tj = t[:, j][np.isfinite(t[:, j])]
        if tj.size == 0 or not np.isfinite(se[j]):
            continue
        if symmetric:
            c = np.quantile(np.abs(tj), level)
            lo[j], hi[j] = est[j] - c * se[j], est[j] + c * se[j]
        else:
            t_lo, t_hi = np.quantile(tj, [a, 1 - a])
            lo[j], hi[j] = est[j] - t_hi * se[j], est[j] - t_lo * se[j]
    return lo, hi
