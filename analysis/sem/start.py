"""Starting values, in the spirit of lavaan's ``start = "simple"``.

Residual variances start at half the observed variance, observed
intercepts at the sample means, regressions and covariances at 0, latent
means at 0.  Latent variances start at the mean covariance among a factor's
observed indicators (at least 0.05), loadings at 1 (or, with ``std_lv``, at
the square root of that covariance).  User ``start()`` values win.

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

import numpy as np

__all__ = ["start_values"]


def start_values(partable, variables, stats, std_lv: bool = False) -> np.ndarray:
    """Starting values of the free parameters.

    Parameters
    ----------
    partable : pandas.DataFrame
    variables : analysis.sem.partable.VariableSets
    stats : analysis.sem.samplestats.SampleStats
    std_lv : bool

    Returns
    -------
    ndarray (q,)
    """
    pos = {v: i for i, v in enumerate(stats.ov_names)}
    lv = set(variables.lv)
    q = int(partable["free"].max()) if len(partable) else 0
    theta = np.full(q, np.nan)
    # latent "scale": mean covariance among observed indicators of a factor
    psi = {}
    for g in range(stats.ngroups):
        s = stats.cov[g]
        for f in variables.lv:
            inds = partable[(partable["group"] == g + 1) & (partable["op"] == "=~")
                            & (partable["lhs"] == f)]["rhs"]
            idx = [pos[x] for x in inds if x in pos]
            val = 0.05
            if len(idx) >= 2:
                sub = s[np.ix_(idx, idx)]
                off = sub[~np.eye(len(idx), dtype=bool)]
                val = max(float(np.mean(np.abs(off))), 0.05)
            psi[(g, f)] = val
    for r in partable.itertuples(index=False):
        k = int(r.free)
        if k == 0 or not np.isnan(theta[k - 1]):
            continue
        g = r.group - 1
        if np.isfinite(r.start):
            val = float(r.start)
        elif r.op == "=~":
            val = np.sqrt(psi[(g, r.lhs)]) if (std_lv and r.rhs in pos) else 1.0
            if std_lv and r.rhs not in pos:
                val = 0.7
        elif r.op == "~~" and r.lhs == r.rhs:
            if r.lhs in pos:
                val = 0.5 * stats.cov[g][pos[r.lhs], pos[r.lhs]]
            else:
                val = psi.get((g, r.lhs), 0.05)
        elif r.op == "~1" and r.lhs in pos:
            val = float(stats.mean[g][pos[r.lhs]])
        else:
            val = 0.0
        theta[k - 1] = val
    return theta
