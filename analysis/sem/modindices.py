"""Modification indices (score tests for fixed-at-zero parameters).

Candidates, as lavaan's ``modindices()`` lists them for a model: loadings of
every observed variable on every latent variable, and covariances between
every pair of observed variables and every pair of latent variables, when
not already in the model.

References
----------
.. [1] Sörbom, D. (1989). Model modification. Psychometrika, 54, 371-384.
.. [2] Saris, W. E., Satorra, A., & Sörbom, D. (1987). The detection and
   correction of specification errors in structural equation models.
   Sociological Methodology, 17, 105-129 (EPC and standardized EPC).
.. [3] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .model import SEMModel

__all__ = ["modindices"]


def _candidates(pt, variables, ngroups):
    have = set()
    for r in pt.itertuples(index=False):
        have.add((r.lhs, r.op, r.rhs, r.group))
        if r.op == "~~":
            have.add((r.rhs, r.op, r.lhs, r.group))
    ov = [v for v in variables.ov if v not in variables.ov_x]
    out = []
    for g in range(1, ngroups + 1):
        for f in variables.lv:
            for x in ov:
                if (f, "=~", x, g) not in have:
                    out.append((f, "=~", x, g))
        for names in (ov, variables.lv):
            for i, a in enumerate(names):
                for b in names[i + 1:]:
                    if (a, "~~", b, g) not in have:
                        out.append((a, "~~", b, g))
    return out


def modindices(result, *, sort: bool = True, minimum_value: float = 0.0) -> pd.DataFrame:
    r"""Modification indices of a fitted model (ML with complete data, DWLS/WLSMV), as lavaan's ``modindices()``.

    Parameters
    ----------
    result : analysis.sem.results.SEMResult
        A model fitted by ML with complete data, or by DWLS/WLSMV.
    sort : bool
        Sort by ``mi`` decreasing (lavaan's ``sort. = TRUE``).
    minimum_value : float
        Drop rows with ``mi`` below this value.

    Returns
    -------
    pandas.DataFrame
        Columns ``lhs, op, rhs, group, mi, epc, sepc_lv, sepc_all,
        sepc_nox``.

    Notes
    -----
    The objective of the fit, evaluated for the model extended by the
    candidates (its ``for_model``), gives the expected unit information,
    partitioned into free (1) and candidate (2) parameters, and the gradient
    :math:`g` of the discrepancy at the estimate (for DWLS :math:`g =
    -\sum_g f_g \tfrac{N_g-1}{N_g} \Delta_g^\top W_g (s_g - \sigma_g)`,
    the gradient of lavaan's ``fmin``); with :math:`V = I_{22} - I_{21}
    I_{11}^{-1} I_{12}`, :math:`MI_j = N g_j^2 / V_{jj}` and :math:`EPC_j =
    -g_j / V_{jj}` [1]_ (NaN where :math:`V_{jj}` is below the objective's
    ``MI_TOLERANCE``).  ``sepc_all`` rescales the EPC: ``epc * sd(lv) /
    sd(ov)`` for loadings, ``epc / sqrt(omega_a omega_b)`` for covariances
    (residual variances :math:`\omega`) [2]_.
    """
    for_model = getattr(result.objective, "for_model", None)
    if for_model is None:
        raise NotImplementedError("Modification indices are implemented for ML with complete data and "
                                  "for DWLS/WLSMV.")
    pt = result.partable
    vs = result.variables
    ng = result.model.n_groups
    cands = _candidates(pt, vs, ng)
    cols = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_lv", "sepc_all", "sepc_nox"]
    if not cands:
        return pd.DataFrame(columns=cols)
    q = result.model.n_free
    base = pt[pt["op"] != ":="]
    extra = pd.DataFrame({
        "id": np.arange(len(pt) + 1, len(pt) + 1 + len(cands)),
        "lhs": [c[0] for c in cands], "op": [c[1] for c in cands],
        "rhs": [c[2] for c in cands], "user": 0, "group": [c[3] for c in cands],
        "free": np.arange(q + 1, q + 1 + len(cands)), "ustart": np.nan, "start": np.nan,
        "exo": 0, "label": "", "plabel": "", "eq_key": "",
    })
    ext = pd.concat([base, extra[[c for c in base.columns if c in extra.columns]]], ignore_index=True)
    model = SEMModel(ext, result.model.ov_names[0], result.model.lv_names, ng,
                     meanstructure=result.model.meanstructure)
    obj = for_model(model)
    theta = np.concatenate([result.theta, np.zeros(len(cands))])
    info = obj.information(theta)
    grad = obj.gradient(theta)
    i11, i12, i22 = info[:q, :q], info[:q, q:], info[q:, q:]
    v = np.diag(i22) - np.einsum("ij,ij->j", i12, np.linalg.pinv(i11, hermitian=True) @ i12)
    v = np.where(v > obj.MI_TOLERANCE, v, np.nan)
    g2 = grad[q:]
    n = result.objective.ntotal
    mi = n * g2 ** 2 / v
    epc = -g2 / v
    # standardization at the current estimates
    pos = {name: i for i, name in enumerate(result.model.names)}
    lvset = set(result.model.lv_names)
    sepc_lv = np.empty(len(cands))
    sepc_all = np.empty(len(cands))
    for k, (lhs, op, rhs, g) in enumerate(cands):
        c, _ = result.model.total_moments(result.theta, g - 1)
        _, s, _ = result.model.matrices(result.theta, g - 1)
        sd = np.sqrt(np.clip(np.diag(c), 0, None))
        if op == "=~":
            sepc_lv[k] = epc[k] * sd[pos[lhs]]
            sepc_all[k] = epc[k] * sd[pos[lhs]] / sd[pos[rhs]]
        else:
            i, j = pos[lhs], pos[rhs]
            std = epc[k] / np.sqrt(s[i, i] * s[j, j])
            sepc_lv[k] = std if lhs in lvset else epc[k]
            sepc_all[k] = std
    out = pd.DataFrame({"lhs": [c[0] for c in cands], "op": [c[1] for c in cands],
                        "rhs": [c[2] for c in cands], "group": [c[3] for c in cands],
                        "mi": mi, "epc": epc, "sepc_lv": sepc_lv, "sepc_all": sepc_all,
                        "sepc_nox": sepc_all})
    out = out[~(out["mi"] < minimum_value)]
    if sort:
        out = out.sort_values("mi", ascending=False, kind="mergesort")
    return out.reset_index(drop=True)
