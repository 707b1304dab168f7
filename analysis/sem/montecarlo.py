"""Monte Carlo confidence intervals for defined (``:=``) parameters.

The free parameters are drawn from their estimated sampling distribution
:math:`N(\\hat\\theta, \\hat V)` and every defined parameter is evaluated at
each draw; the interval is formed by the quantiles of those values.  For a
product of coefficients (an indirect effect) this follows the skewed
distribution of the product instead of assuming normality (the delta
method) and needs no refits (unlike the bootstrap).

References
----------
.. [1] MacKinnon, D. P., Lockwood, C. M., & Williams, J. (2004). Confidence
   limits for the indirect effect: Distribution of the product and
   resampling methods. *Multivariate Behavioral Research*, 39(1), 99-128.
.. [2] Preacher, K. J., & Selig, J. P. (2012). Advantages of Monte Carlo
   confidence intervals for indirect effects. *Communication Methods and
   Measures*, 6(2), 77-98.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["montecarlo_draws", "montecarlo_defined", "montecarlo_ci", "defined_matrix"]


def defined_matrix(defined, thetas) -> np.ndarray:
    """Defined parameters at many parameter vectors at once.

    Parameters
    ----------
    defined : analysis.sem.defined.DefinedParameters
    thetas : ndarray (R, q)

    Returns
    -------
    ndarray (R, d)
        Column k is the k-th ``:=`` parameter; evaluated on whole columns
        (vectorised) when the expressions allow it, row by row otherwise.
    """
    thetas = np.atleast_2d(np.asarray(thetas, float))
    try:
        env = {}
        for name, (kind, v) in defined.refs.items():
            env[name] = thetas[:, v] if kind == "free" else np.full(len(thetas), float(v))
        out = []
        with np.errstate(all="ignore"):
            for name, node, _ in defined.defs:
                val = np.asarray(defined._eval(node, env), float) * np.ones(len(thetas))
                env[name] = val
                out.append(val)
        return np.column_stack(out) if out else np.zeros((len(thetas), 0))
    except (TypeError, AttributeError, KeyError):
        return np.array([defined.values(t) for t in thetas]).reshape(len(thetas), -1)


def montecarlo_draws(theta, vcov, n_draws: int = 20000, seed=None) -> np.ndarray:
    """Draws of the free parameters from :math:`N(\\hat\\theta, \\hat V)`.

    Parameters
    ----------
    theta : array_like (q,)
    vcov : array_like (q, q)
        Covariance matrix of the estimates (symmetric, positive
        semidefinite; an eigenvalue decomposition handles singular ones).
    n_draws : int
    seed : int or None
        Seed of ``np.random.default_rng``.

    Returns
    -------
    ndarray (n_draws, q)

    Notes
    -----
    :math:`\\theta^* = \\hat\\theta + Q\\Lambda^{1/2}z` with :math:`\\hat V =
    Q\\Lambda Q^\\top` (negative round-off eigenvalues set to 0) and
    :math:`z\\sim N(0, I)` [1]_.

    References
    ----------
    .. [1] Preacher, K. J., & Selig, J. P. (2012). Advantages of Monte Carlo
       confidence intervals for indirect effects. *Communication Methods and
       Measures*, 6(2), 77-98.
    """
    theta = np.asarray(theta, float)
    vcov = np.asarray(vcov, float)
    if vcov.shape != (theta.size, theta.size):
        raise ValueError(f"vcov must be ({theta.size}, {theta.size}), not {vcov.shape}.")
    if int(n_draws) < 2:
        raise ValueError("n_draws must be at least 2.")
    vals, vecs = np.linalg.eigh(0.5 * (vcov + vcov.T))
    root = vecs * np.sqrt(np.clip(vals, 0, None))
    z = np.random.default_rng(seed).standard_normal((int(n_draws), theta.size))
    return theta + z @ root.T


def montecarlo_defined(theta, vcov, fn, names, *, n_draws: int = 20000, seed=None,
                       level: float = 0.95, vectorized=None) -> pd.DataFrame:
    """Monte Carlo intervals of functions of the parameters.

    Parameters
    ----------
    theta, vcov : array_like
        Estimates and their covariance matrix.
    fn : callable
        ``fn(theta) -> array (d,)``: the defined parameters at one
        parameter vector.
    names : list of str
        Names of the ``d`` outputs.
    n_draws, seed, level
        Number of draws, seed, coverage.
    vectorized : callable, optional
        ``vectorized(thetas (R, q)) -> (R, d)``: the same as ``fn`` on all
        draws at once (faster).

    Returns
    -------
    pandas.DataFrame
        ``lhs, est, mc_se, mc_ci_lower, mc_ci_upper, n_draws``: ``est``
        is ``fn(theta)``, ``mc_se`` the standard deviation of the draws and
        the interval their :math:`\\alpha/2, 1-\\alpha/2` quantiles
        (non-finite values dropped).

    Notes
    -----
    See :func:`montecarlo_draws` and [1]_.

    References
    ----------
    .. [1] MacKinnon, D. P., Lockwood, C. M., & Williams, J. (2004).
       Confidence limits for the indirect effect. *Multivariate Behavioral
       Research*, 39(1), 99-128.

    Examples
    --------
    >>> tab = montecarlo_defined([0.5, 0.4], [[0.01, 0], [0, 0.01]],
    ...                          lambda t: [t[0] * t[1]], ["ab"], seed=1)
    >>> float(tab["est"].iloc[0])
    0.2
    """
    draws = montecarlo_draws(theta, vcov, n_draws, seed)
    if vectorized is not None:
        vals = np.asarray(vectorized(draws), float)
    else:
        vals = np.array([np.asarray(fn(t), float) for t in draws])
    vals = vals.reshape(len(draws), -1)
    a = (1 - level) / 2
    rows = []
    est = np.asarray(fn(np.asarray(theta, float)), float).reshape(-1)
    for j, name in enumerate(names):
        x = vals[:, j]
        x = x[np.isfinite(x)]
        lo, hi = np.quantile(x, [a, 1 - a]) if x.size else (np.nan, np.nan)
        rows.append({"lhs": name, "est": float(est[j]), "mc_se": float(np.std(x, ddof=1)),
                     "mc_ci_lower": float(lo), "mc_ci_upper": float(hi), "n_draws": int(x.size)})
    return pd.DataFrame(rows, columns=["lhs", "est", "mc_se", "mc_ci_lower", "mc_ci_upper", "n_draws"])


def montecarlo_ci(result, *, n_draws: int = 20000, seed=None, level: float = 0.95,
                  vcov=None) -> pd.DataFrame:
    """Monte Carlo intervals of every ``:=`` parameter of a fitted model.

    Parameters
    ----------
    result : SEMResult
    n_draws : int
        Default 20,000 (``study.yaml`` structural.montecarlo).
    seed : int or None
    level : float
    vcov : ndarray, optional
        Covariance of the free parameters (default ``result.vcov``; pass a
        robust or cluster-robust one to propagate it).

    Returns
    -------
    pandas.DataFrame
        ``lhs, est, mc_se, mc_ci_lower, mc_ci_upper, n_draws``, one row per
        defined parameter in model order.

    Notes
    -----
    :math:`\\theta^*_r \\sim N(\\hat\\theta, \\hat V)`, :math:`d^*_r =
    h(\\theta^*_r)`, interval = quantiles of :math:`d^*` ([1]_, [2]_).

    References
    ----------
    .. [1] MacKinnon, D. P., Lockwood, C. M., & Williams, J. (2004).
       *Multivariate Behavioral Research*, 39(1), 99-128.
    .. [2] Preacher, K. J., & Selig, J. P. (2012). *Communication Methods
       and Measures*, 6(2), 77-98.
    """
    d = result.defined
    if not d.names:
        raise ValueError("The model defines no ':=' parameters.")
    v = result.vcov if vcov is None else np.asarray(vcov, float)
    return montecarlo_defined(result.theta, v, d.values, list(d.names), n_draws=n_draws,
                              seed=seed, level=level, vectorized=lambda th: defined_matrix(d, th))
