"""Standardized solutions (lavaan's ``std.lv``, ``std.all``, ``std.nox``).

:func:`standardize` gives the standardized value of every row of a
parameter table, ``:=`` rows included; :func:`standardized_solution` adds
delta-method standard errors, as lavaan's ``standardizedSolution()``.

References
----------
.. [1] Bollen, K. A. (1989). Structural Equations with Latent Variables.
   Wiley, pp. 349-350 (standardized coefficients).
.. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36
   (``standardizedSolution()``; the code followed here is lavaan 0.6.14's
   ``lav_standardize_lv``, ``lav_standardize_all``,
   ``lav_standardize_all_nox`` and ``lav_object_inspect_vcov``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .distributions import critical_value, two_sided_p

__all__ = ["STD_TYPES", "standardize", "std_all", "std_lv", "std_nox", "standardized_solution"]

#: The standardizations of lavaan, in its order.
STD_TYPES = ("std.lv", "std.all", "std.nox")

_EPS = np.finfo(float).eps


def _std_type(type: str) -> str:
    t = str(type).replace("_", ".").lower()
    if not t.startswith("std."):
        t = "std." + t
    if t not in STD_TYPES:
        raise ValueError(f"type must be one of {list(STD_TYPES)}, not {type!r}.")
    return t


def _default_ov_x(partable) -> set:
    if "exo" not in partable.columns:
        return set()
    pt = partable
    rows = pt[(pt["exo"] == 1) & (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"])]
    return set(rows["lhs"].astype(str))


def standardize(model, theta, partable, type: str = "std.all", defined=None,
                ov_x=None) -> np.ndarray:
    """Standardized value of every row of ``partable``.

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
    theta : ndarray (q,)
    partable : pandas.DataFrame
        Rows in the order wanted; ``est`` is taken from ``theta``/``ustart``.
    type : {"std.all", "std.lv", "std.nox"}
        lavaan's standardizations (``"std_lv"`` etc. are accepted too).
    defined : analysis.sem.defined.DefinedParameters, optional
        For ``:=`` rows: the definition is evaluated at the standardized
        values of the parameters it names, as lavaan does (NaN without it).
    ov_x : iterable of str, optional
        Exogenous observed covariates (fixed-x), left unstandardized by
        ``std.nox``.  Default: the variables with ``exo`` variance rows.

    Returns
    -------
    ndarray
        One value per row (NaN where undefined).

    Notes
    -----
    With :math:`\\sigma_v` the model-implied standard deviation of variable
    :math:`v` (observed or latent) and :math:`\\omega_v` its residual (or
    exogenous) variance parameter, a variable is *scaled* when it is latent
    (every type), observed (``std.all``) or observed but not a fixed-x
    covariate (``std.nox``); :math:`s_v = \\sigma_v` and :math:`r_v =
    \\sqrt{|\\omega_v|}` for scaled variables and 1 otherwise. Then
    loadings ``f =~ x``: :math:`\\lambda s_f/s_x`;
    regressions ``y ~ x``: :math:`\\beta s_x/s_y`;
    variances ``v ~~ v``: :math:`\\omega_v/s_v^2`;
    covariances ``a ~~ b``: :math:`\\omega_{ab}/(r_a r_b)` (a correlation
    between residuals); intercepts and means ``v ~1``: :math:`\\nu_v/s_v`;
    thresholds ``x | t``: :math:`\\tau/s_x`; scale factors ``~*~``: 1
    (both unchanged by ``std.lv``) [1]_, [2]_.

    A ``:=`` parameter is its expression evaluated at the standardized
    values of the parameters it names (for a label carried by several rows,
    e.g. a ``group_equal`` constraint, the first row's), so
    ``ind := a*b`` becomes the product of the standardized ``a`` and ``b``;
    its sampling variance is obtained by :func:`standardized_solution`.

    As lavaan, a negative implied variance gives NaN for the rows it scales.
    """
    t = _std_type(type)
    pt = partable
    n_rows = len(pt)
    pos = {v: i for i, v in enumerate(model.names)}
    p = model.p
    if ov_x is None:
        ov_x = _default_ov_x(pt)
    ov_x = set(ov_x)

    def scaled(name) -> bool:
        i = pos.get(name)
        if i is None:
            return False
        if i >= p:  # latent
            return True
        if t == "std.lv":
            return False
        return t == "std.all" or name not in ov_x

    theta = np.asarray(theta, dtype=float)
    sd, var, res = [], [], []
    for g in range(model.n_groups):
        c, _ = model.total_moments(theta, g)
        _, s, _ = model.matrices(theta, g)
        v = np.diag(c).copy()
        with np.errstate(invalid="ignore"):
            sd.append(np.where(v > 0, np.sqrt(np.clip(v, 0, None)), np.nan))
        var.append(v)
        res.append(np.abs(np.diag(s)))
    free = pt["free"].to_numpy()
    est = np.where(free > 0, theta[np.maximum(free - 1, 0)], pt["ustart"].to_numpy(dtype=float))
    out = np.full(n_rows, np.nan)
    ops = pt["op"].astype(str).to_numpy()
    lhs = pt["lhs"].astype(str).to_numpy()
    rhs = pt["rhs"].astype(str).to_numpy()
    grp = pt["group"].to_numpy(dtype=int)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(n_rows):
            op = ops[k]
            if op not in ("=~", "~", "~~", "~1", "|", "~*~") or grp[k] < 1:
                continue
            g = grp[k] - 1
            e = est[k]
            l, r = lhs[k], rhs[k]
            il = pos.get(l)
            if il is None:
                continue
            s_l = sd[g][il] if scaled(l) else 1.0
            if op == "=~":
                ir = pos[r]
                out[k] = e * s_l / (sd[g][ir] if scaled(r) else 1.0)
            elif op == "~":
                ir = pos[r]
                out[k] = e * (sd[g][ir] if scaled(r) else 1.0) / s_l
            elif op == "~~":
                ir = pos[r]
                if il == ir:
                    if not scaled(l):
                        out[k] = e
                    elif il >= p or var[g][il] > 0:
                        out[k] = e / s_l ** 2
                    elif abs(var[g][il]) >= _EPS:  # lavaan: observed, negative variance
                        out[k] = e / var[g][il]
                else:
                    out[k] = e / np.sqrt((res[g][il] if scaled(l) else 1.0)
                                         * (res[g][ir] if scaled(r) else 1.0))
            elif op == "~1":
                out[k] = e / s_l
            elif op == "|":
                out[k] = e if t == "std.lv" else e / sd[g][il]
            else:  # "~*~"
                out[k] = e if t == "std.lv" else 1.0
        if defined is not None and defined.defs and (ops == ":=").any():
            overrides = {}
            labels = pt["label"].to_numpy()
            plabels = pt["plabel"].to_numpy()
            for k in range(n_rows):
                if ops[k] == ":=":
                    continue
                if labels[k] and labels[k] not in overrides:
                    overrides[labels[k]] = out[k]
                overrides[plabels[k]] = out[k]
            vals = dict(zip(defined.names, defined.values(theta, overrides)))
            for k in np.flatnonzero(ops == ":="):
                out[k] = vals.get(lhs[k], np.nan)
    return out


def std_all(model, theta, partable, defined=None, ov_x=None) -> np.ndarray:
    """``std.all`` for every row of ``partable`` (see :func:`standardize`)."""
    return standardize(model, theta, partable, "std.all", defined, ov_x)


def std_lv(model, theta, partable, defined=None, ov_x=None) -> np.ndarray:
    """``std.lv`` for every row of ``partable``: latent variables scaled only (see :func:`standardize`)."""
    return standardize(model, theta, partable, "std.lv", defined, ov_x)


def std_nox(model, theta, partable, defined=None, ov_x=None) -> np.ndarray:
    """``std.nox`` for every row: as ``std.all`` but fixed-x covariates unscaled (see :func:`standardize`)."""
    return standardize(model, theta, partable, "std.nox", defined, ov_x)


def standardized_solution(result, type: str = "std.all", *, level: float = 0.95,
                          step: float = 1e-6) -> pd.DataFrame:
    """Standardized estimates with delta-method standard errors (lavaan's ``standardizedSolution()``).

    Parameters
    ----------
    result : analysis.sem.SEMResult
        A fitted model.
    type : {"std.all", "std.lv", "std.nox"}
        The standardization (:func:`standardize`).
    level : float
        Confidence level of the Wald intervals.
    step : float
        Relative step of the central differences of the Jacobian.

    Returns
    -------
    pandas.DataFrame
        One row per row of the parameter table, ``:=`` rows included:
        ``lhs, op, rhs, group, label, est_std, se, z, pvalue, ci_lower,
        ci_upper``.  As lavaan, an ``se`` below
        :math:`\\epsilon^{1/4}` (about 1.2e-4; e.g. a fixed standardized value
        such as the variance of an exogenous latent, 1) is 0 and its ``z``
        and ``pvalue`` are NaN; ``se`` is NaN without standard errors
        (``se="none"``).

    Notes
    -----
    With :math:`s(\\theta)` the standardized values of all rows (each
    ``:=`` row being its expression evaluated at the standardized
    parameters) and :math:`\\hat V` the covariance matrix of the free
    parameters (``result.vcov``: the bootstrap covariance after a
    bootstrap, as lavaan), :math:`\\operatorname{Var}(s) \\approx J\\hat VJ'`
    with :math:`J = \\partial s/\\partial\\theta'` by central differences
    (lavaan: complex step); ``z``, ``pvalue`` and the interval
    :math:`s \\pm z_{1-\\alpha/2}\\,se` are Wald statistics [2]_.

    Examples
    --------
    >>> fit = sem("x4 ~ a*x1; x7 ~ b*x4 + c*x1; ind := a*b", hs)   # doctest: +SKIP
    >>> fit.standardized_solution().query("op == ':='")            # doctest: +SKIP
    """
    t = _std_type(type)
    pt = result.partable
    theta = np.asarray(result.theta, dtype=float)
    defined = result.defined
    ov_x = getattr(getattr(result, "variables", None), "ov_x", None)

    def f(th):
        return standardize(result.model, th, pt, t, defined, ov_x)

    base = f(theta)
    vcov = np.asarray(result.vcov, dtype=float)
    if vcov.size and np.all(np.isfinite(vcov)):
        jac = np.empty((len(base), theta.size))
        for k in range(theta.size):
            h = step * max(1.0, abs(theta[k]))
            up, dn = theta.copy(), theta.copy()
            up[k] += h
            dn[k] -= h
            jac[:, k] = (f(up) - f(dn)) / (2 * h)
        var = np.einsum("ij,jk,ik->i", jac, vcov, jac)
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.where(var < 0, np.nan, var))
        se[se < _EPS ** 0.25] = 0.0
    elif vcov.size == 0:
        se = np.where(np.isfinite(base), 0.0, np.nan)
    else:
        se = np.full(len(base), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, base / se, np.nan)
    crit = critical_value(level)
    label = pt["label"].astype(str).to_numpy() if "label" in pt.columns else np.full(len(pt), "")
    return pd.DataFrame({
        "lhs": pt["lhs"].astype(str).to_numpy(), "op": pt["op"].astype(str).to_numpy(),
        "rhs": pt["rhs"].astype(str).to_numpy(), "group": pt["group"].to_numpy(dtype=int),
        "label": label, "est_std": base, "se": se, "z": z,
        "pvalue": two_sided_p(z),
        "ci_lower": base - crit * se, "ci_upper": base + crit * se,
    })
