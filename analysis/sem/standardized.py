"""Completely standardized solution (lavaan's ``std.all``).

References
----------
.. [1] Bollen, K. A. (1989). Structural Equations with Latent Variables.
   Wiley, pp. 349-350 (standardized coefficients).
.. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36
   (``standardizedSolution()``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["std_all"]


def std_all(model, theta, partable, defined=None) -> np.ndarray:
    """``std.all`` for every row of ``partable``.

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
    theta : ndarray (q,)
    partable : pandas.DataFrame
        Rows in the order wanted; ``est`` is taken from ``theta``/``ustart``.
    defined : analysis.sem.defined.DefinedParameters, optional
        For ``:=`` rows (re-evaluated at the standardized values of the
        labelled parameters, as lavaan does).

    Returns
    -------
    ndarray
        One value per row (NaN where undefined).

    Notes
    -----
    With :math:`\\sigma_v` the model-implied standard deviation of variable
    :math:`v` (observed or latent) and :math:`\\omega_{v}` its residual (or
    exogenous) variance:
    loadings ``f =~ x``: :math:`\\lambda\\sigma_f/\\sigma_x`;
    regressions ``y ~ x``: :math:`\\beta\\sigma_x/\\sigma_y`;
    variances ``v ~~ v``: :math:`\\omega_v/\\sigma_v^2`;
    covariances ``a ~~ b``: :math:`\\omega_{ab}/\\sqrt{\\omega_a\\omega_b}`
    (a correlation between residuals); intercepts/means ``v ~1``:
    :math:`\\nu_v/\\sigma_v` [1]_, [2]_.
    """
    pos = {v: i for i, v in enumerate(model.names)}
    tot = []
    res = []
    for g in range(model.n_groups):
        c, _ = model.total_moments(theta, g)
        _, s, _ = model.matrices(theta, g)
        tot.append(np.sqrt(np.clip(np.diag(c), 0, None)))
        res.append(np.diag(s))
    out = np.full(len(partable), np.nan)
    est = np.where(partable["free"].to_numpy() > 0,
                   np.asarray(theta)[np.maximum(partable["free"].to_numpy() - 1, 0)],
                   partable["ustart"].to_numpy(dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, r in enumerate(partable.itertuples(index=False)):
            if r.op == ":=":
                continue
            if r.op not in ("=~", "~", "~~", "~1"):
                continue
            g = r.group - 1
            sd = tot[g]
            e = est[k]
            if r.op == "=~":
                out[k] = e * sd[pos[r.lhs]] / sd[pos[r.rhs]]
            elif r.op == "~":
                out[k] = e * sd[pos[r.rhs]] / sd[pos[r.lhs]]
            elif r.op == "~~":
                i, j = pos[r.lhs], pos[r.rhs]
                if i == j:
                    out[k] = e / sd[i] ** 2
                else:
                    out[k] = e / np.sqrt(res[g][i] * res[g][j])
            else:
                out[k] = e / sd[pos[r.lhs]]
        if defined is not None and defined.defs:
            overrides = {}
            for k, r in enumerate(partable.itertuples(index=False)):
                if r.op == ":=":
                    continue
                if r.label and r.label not in overrides:
                    overrides[r.label] = out[k]
                overrides[r.plabel] = out[k]
            vals = dict(zip(defined.names, defined.values(theta, overrides)))
            for k, r in enumerate(partable.itertuples(index=False)):
                if r.op == ":=":
                    out[k] = vals[r.lhs]
    return out
