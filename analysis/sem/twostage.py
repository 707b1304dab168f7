"""Two-stage ML for incomplete data: complete rows with the EM moments.

References
----------
.. [1] Savalei, V., & Bentler, P. M. (2009). A two-stage approach to
   missing data: Theory and application to auxiliary variables.
   *Structural Equation Modeling*, 16(3), 477-497.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .bootstrap import em_moments

__all__ = ["exact_moment_data"]


def exact_moment_data(data: pd.DataFrame, columns, *, group=None, seed: int = 0) -> pd.DataFrame:
    r"""Rows whose sample moments equal the EM estimates of ``data`` (per group).

    Parameters
    ----------
    data : pandas.DataFrame
    columns : list of str
        Variables of the model (NaN allowed).
    group : str, optional
        Group column (moments per group).
    seed : int
        Seed of the (irrelevant) rotation of the rows.

    Returns
    -------
    pandas.DataFrame
        As many complete rows per group as the group has rows, whose mean
        and N-divisor covariance matrix are exactly the EM (saturated ML)
        estimates: fitting a model to them by ML is the two-stage ML
        estimator [1]_.

    Notes
    -----
    :math:`X = 1\hat\mu^\top + ZL^\top` with :math:`Z` centred and
    whitened to identity covariance and :math:`LL^\top = \hat\Sigma_{EM}`.

    ``sem(model, data, missing="two.stage")`` fits the model to these rows
    (the model's observed variables, in the model's order) and keeps the
    incomplete rows for its bootstrap, which re-estimates the EM moments in
    every draw (:func:`analysis.sem.bootstrap.bootstrap`).

    References
    ----------
    .. [1] Savalei, V., & Bentler, P. M. (2009). A two-stage approach to
       missing data: Theory and application to auxiliary variables.
       *Structural Equation Modeling*, 16(3), 477-497.
    """
    rng = np.random.default_rng(seed)
    parts = []
    groups = [(None, data)] if group is None else list(data.groupby(group, sort=False))
    for key, sub in groups:
        x = sub[list(columns)].to_numpy(float)
        m0 = np.nanmean(x, axis=0)
        c0 = np.diag(np.nanvar(x, axis=0))
        mu, sigma, _ = em_moments(x, m0, c0, tol=1e-8)
        z = rng.standard_normal(x.shape)
        z -= z.mean(axis=0)
        cz = z.T @ z / len(z)
        z = z @ np.linalg.inv(np.linalg.cholesky(cz)).T
        xs = mu + z @ np.linalg.cholesky(sigma).T
        frame = pd.DataFrame(xs, columns=list(columns))
        if group is not None:
            frame[group] = key
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)
