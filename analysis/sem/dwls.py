"""DWLS / WLSMV estimation, as lavaan: ordinal, continuous or mixed indicators.

As lavaan, which indicators are ordinal is said by ``ordered``
(:func:`sem_wls`): all of them (below), none -- continuous indicators,
fitted to the covariances (and, with a mean structure, the means) with the
ADF Gamma, lavaan's ``estimator = "WLSMV"`` without ``ordered`` -- or some
-- a mixture, fitted to the thresholds of the ordinal indicators, the means
and variances of the continuous ones and the polychoric, polyserial and
Pearson covariances (:mod:`analysis.sem.ordinal`).  Standard errors, tests
and fit measures take the same form for the three kinds of data.

For ordinal indicators the model is fitted to the sample thresholds and polychoric correlations
:math:`s` (:mod:`analysis.sem.ordinal`) with lavaan's default *delta*
parameterization: the latent responses :math:`y^*` have unit variance, the
residual variances of the ordinal indicators are not free but
:math:`\\theta_{ii} = 1 - [\\Lambda (I-B)^{-1}\\Psi (I-B)^{-\\top}
\\Lambda^\\top]_{ii}`, and the thresholds are free parameters (op ``|``,
``x|t1``).  With :math:`\\sigma(\\vartheta) = (\\tau, \\operatorname{vech}^*
\\Sigma^*)` and the diagonal weights :math:`W = \\operatorname{diag}
(\\Gamma)^{-1}`, per group

.. math:: F_g = (s_g - \\sigma_g)^\\top W_g (s_g - \\sigma_g),

lavaan's ``fmin`` is :math:`\\sum_g \\tfrac{N_g}{N}\\tfrac{N_g-1}{2N_g} F_g`
and the chi-square :math:`\\sum_g (N_g - 1) F_g`.

Standard errors: ``estimator="DWLS"`` reports lavaan's "standard" ones,
:math:`(N \\sum_g f_g \\Delta_g^\\top W_g \\Delta_g)^{-1}`;
``"WLSMV"`` the robust sandwich :math:`E^{-1} (\\sum_g f_g \\Delta_g^\\top
W_g \\Gamma_g W_g \\Delta_g) E^{-1} / N` with :math:`E = \\sum_g f_g
\\Delta_g^\\top W_g \\Delta_g`, :math:`f_g = N_g/N`, and the mean- and
variance-adjusted ("scaled and shifted") chi-square of Asparouhov & Muthen
(2010).

References
----------
.. [1] Muthen, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference
   using weighted least squares and quadratic estimating equations in latent
   variable modeling with categorical and continuous outcomes. Unpublished
   technical report.
.. [2] Asparouhov, T., & Muthen, B. (2010). Simple second order chi-square
   correction. Technical appendix, Mplus.
.. [3] Satorra, A., & Bentler, P. M. (1994). Corrections to test statistics
   and standard errors in covariance structure analysis. In A. von Eye & C.
   C. Clogg (Eds.), Latent variables analysis (pp. 399-419). Sage.
.. [4] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .assembly import Prepared, Stages, assemble
from .objective import Estimator, Objective, _safe_inverse
from .ordinal import MANY_LEVELS, OrdinalStats, continuous_stats, mixed_stats, ordinal_stats
from .results import Section, SEMResult

__all__ = [
    "ordinal_partable",
    "DWLSObjective",
    "robust_vcov",
    "scaled_test",
    "fit_indices",
    "OrdinalSEMResult",
    "Thresholds",
    "sem_ordinal",
    "sem_wls",
    "WLS_ESTIMATORS",
]


# ----------------------------------------------------------------------
# parameter table
# ----------------------------------------------------------------------
def ordinal_partable(partable: pd.DataFrame, ov_names, lv_names, ordered, nthresholds,
                     group_equal=()) -> pd.DataFrame:
    """Adapt a lavaan-style parameter table to ordinal indicators (delta).

    Parameters
    ----------
    partable : DataFrame
        From :func:`analysis.sem.partable.build_partable`.
    ov_names, lv_names : list of str
        Observed and latent variables of the model.
    ordered : list of str
        Ordinal observed variables; the others are continuous (mixed data:
        free intercepts and residual variances, as lavaan).
    nthresholds : dict or list of dict
        Number of thresholds of each ordinal variable (per group).
    group_equal : sequence of str
        ``"thresholds"`` holds thresholds equal across groups.

    Returns
    -------
    DataFrame
        Same columns; residual variances of ordinal indicators fixed (their
        value is derived, see :meth:`DWLSObjective.residual_variances`),
        ordinal intercepts and latent means fixed at 0, threshold rows
        (op ``|``, rhs ``t1``...) free, scale rows (op ``~*~``) fixed at 1,
        intercepts of continuous indicators free, free indices renumbered
        1..q.

    Raises
    ------
    ValueError
        For ordinal variables used as predictors.
    """
    ordered = [v for v in ov_names if v in set(ordered)]
    cont = [v for v in ov_names if v not in set(ordered)]
    pt = partable.copy()
    if "ustart" in pt:
        pt["ustart"] = pt["ustart"].astype(float)
    ngroups = int(pt.loc[pt["op"] != ":=", "group"].max()) if len(pt) else 1
    if isinstance(nthresholds, dict):
        nthresholds = [nthresholds] * ngroups
    for r in pt.itertuples(index=False):
        if r.op == "~" and r.rhs in ordered:
            raise ValueError(f"Ordinal variable {r.rhs!r} is used as a predictor "
                             f"('{r.lhs} ~ {r.rhs}'); this is not supported.")
    ordset = set(ordered)
    lvset = set(lv_names)
    # residual variances of ordinal indicators: derived (delta), fixed here at 0
    m = (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(ordset)
    pt.loc[m, "free"] = 0
    pt.loc[m, "ustart"] = 0.0
    # intercepts of ordinal indicators and latent means: fixed at 0
    m = (pt["op"] == "~1") & (pt["lhs"].isin(ordset) | pt["lhs"].isin(lvset))
    user_free = m & (pt["free"] > 0) & (pt["user"] == 1)
    if user_free.any():
        raise ValueError("Free intercepts or latent means are not supported with "
                         "ordinal indicators (delta parameterization).")
    pt.loc[m, "free"] = 0
    pt.loc[m, "ustart"] = 0.0
    # renumber the remaining free parameters 1..q in order of first appearance
    old = pt["free"].to_numpy()
    mapping = {}
    for k in old:
        if k > 0 and k not in mapping:
            mapping[k] = len(mapping) + 1
    pt["free"] = [mapping.get(k, 0) for k in old]
    q = len(mapping)
    cols = list(pt.columns)
    new_rows = []
    th_key = {}
    for g in range(ngroups):
        have = pt[(pt["group"] == g + 1)]
        for v in ordered:
            # thresholds
            user_th = have[(have["op"] == "|") & (have["lhs"] == v)]
            nth = int(nthresholds[g][v])
            if len(user_th):
                continue
            for t in range(nth):
                key = (v, f"t{t + 1}") if "thresholds" in group_equal else (g, v, f"t{t + 1}")
                if key not in th_key:
                    q += 1
                    th_key[key] = q
                new_rows.append(dict(lhs=v, op="|", rhs=f"t{t + 1}", user=0, group=g + 1,
                                     free=th_key[key], ustart=np.nan, start=np.nan, exo=0,
                                     label=""))
        for v in ordered:
            new_rows.append(dict(lhs=v, op="~*~", rhs=v, user=0, group=g + 1, free=0,
                                 ustart=1.0, start=np.nan, exo=0, label=""))
        for v in list(ov_names) + list(lv_names):
            if not ((have["op"] == "~1") & (have["lhs"] == v)).any():
                if v in cont:  # mixed data: the intercept of a continuous indicator is free
                    q += 1
                    new_rows.append(dict(lhs=v, op="~1", rhs="", user=0, group=g + 1, free=q,
                                         ustart=np.nan, start=np.nan, exo=0, label=""))
                else:
                    new_rows.append(dict(lhs=v, op="~1", rhs="", user=0, group=g + 1, free=0,
                                         ustart=0.0, start=np.nan, exo=0, label=""))
    if new_rows:
        extra = pd.DataFrame(new_rows)
        for c in cols:
            if c not in extra:
                extra[c] = "" if c in ("eq_key", "plabel") else np.nan
        pt = pd.concat([pt, extra[cols]], ignore_index=True)
        pt["id"] = np.arange(1, len(pt) + 1)
        if "plabel" in pt:
            pt["plabel"] = [f".p{i}." for i in pt["id"]]
    # user-written threshold rows: give free ones an index
    fr = pt["free"].to_numpy().copy()
    for i, r in enumerate(pt.itertuples(index=False)):
        if r.op == "|" and r.user == 1 and fr[i] > 0:
            q += 1
            fr[i] = q
    pt["free"] = fr
    pt["free"] = pt["free"].astype(int)
    pt = _lavaan_order(pt)
    pt["id"] = np.arange(1, len(pt) + 1)
    return pt


# ----------------------------------------------------------------------
# objective
# ----------------------------------------------------------------------
class DWLSObjective(Objective):
    """Diagonally weighted least squares on thresholds and polychorics (or on
    the means and covariances of continuous indicators, or a mixture).

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
        Built from a parameter table prepared by :func:`ordinal_partable`
        (threshold rows with op ``|``; residual variances of the ordinal
        indicators fixed at 0).
    stats : analysis.sem.samplestats.SampleStats or list of OrdinalStats
        Raw rows per group (``stats.data[g]``, columns in
        ``model.ov_names[g]`` order), or ordinal statistics already computed.
    ordered : list of str, optional
        Ordinal variables (default: all observed variables).
    weights : {"diagonal"}
        ``1 / diag(Gamma)`` (lavaan's DWLS); only this is implemented.
    exogenous : tuple of int
        Positions of exogenous observed covariates (continuous data: their
        covariances stay free in the baseline model, as lavaan's).
    sample : analysis.sem.samplestats.SampleStats, optional
        The rows the statistics came from, kept as ``.stats`` (default:
        ``stats``).

    Notes
    -----
    ``value`` is lavaan's ``fmin`` (see the module docstring), ``gradient``
    its analytic gradient :math:`-\\sum_g f_g \\tfrac{N_g-1}{N_g}
    \\Delta_g^\\top W_g (s_g - \\sigma_g)`, ``information`` the expected
    unit information :math:`\\sum_g f_g \\Delta_g^\\top W_g \\Delta_g`.
    """

    name = "DWLS"
    #: Modification indices: a candidate whose conditional information is below this is not tested (lavaan's).
    MI_TOLERANCE = np.finfo(float).eps ** (1 / 3)

    def for_model(self, model) -> "DWLSObjective":
        """The same statistics for another model (the extended model of :func:`analysis.sem.modindices.modindices`)."""
        return DWLSObjective(model, self.ostats)

    def __init__(self, model, stats, ordered=None, weights: str = "diagonal", *, exogenous=(), sample=None):
        if weights != "diagonal":
            raise ValueError("Only diagonal weights (DWLS/WLSMV) are implemented.")
        self.model = model
        ov = model.ov_names[0]
        ordered = list(ov) if ordered is None or ordered is True else list(ordered)
        if isinstance(stats, (list, tuple)) and stats and isinstance(stats[0], OrdinalStats):
            self.ostats = list(stats)
        else:
            self.ostats = _ordinal_stats_from_samplestats(stats, model.ov_names, ordered,
                                                          model.meanstructure)
        self.stats = stats if sample is None else sample
        self.exogenous_idx = tuple(exogenous)
        self.nobs = [s.nobs for s in self.ostats]
        n = np.asarray(self.nobs, dtype=float)
        self._w = n / n.sum()
        self._p = model.p
        self._rows, self._cols = self.ostats[0].cov_index
        self._mean_map = self._mean_map_build()
        self._th_map = self._threshold_map()

    # -- bookkeeping ----------------------------------------------------
    @property
    def ntotal(self) -> int:
        return int(sum(self.nobs))

    @property
    def ndat(self) -> int:
        """Number of sample statistics (thresholds + correlations, all groups; the
        fixed-x moments of continuous covariates, weight 0, not counted)."""
        return int(sum(np.count_nonzero(s.wls_v) for s in self.ostats))

    @property
    def df(self) -> int:
        """Degrees of freedom: ``ndat - q``."""
        return int(self.ndat - self.model.n_free)

    def _threshold_map(self):
        pt = self.model.partable
        out = []
        for g, st in enumerate(self.ostats):
            names = st.threshold_names
            pos = {nm: i for i, nm in enumerate(names)}
            fixed = np.full(len(names), np.nan)
            free_idx = np.full(len(names), -1, dtype=int)
            sub = pt[(pt["group"] == g + 1) & (pt["op"] == "|")]
            for r in sub.itertuples(index=False):
                nm = f"{r.lhs}|{r.rhs}"
                if nm not in pos:
                    raise ValueError(f"Threshold '{nm}' does not match the data's categories.")
                if r.free > 0:
                    free_idx[pos[nm]] = int(r.free) - 1
                else:
                    fixed[pos[nm]] = float(r.ustart)
            is_mean = st.is_mean
            fixed[is_mean] = 0.0  # means of continuous variables: from the model (_mean_map)
            missing = [names[i] for i in range(len(names))
                       if free_idx[i] < 0 and not np.isfinite(fixed[i])]
            if missing:
                raise ValueError(
                    f"The parameter table has no rows for thresholds {missing}: build the "
                    "model with analysis.sem.dwls.sem_ordinal() (or ordinal_partable()).")
            out.append((free_idx, fixed))
        return out

    def _mean_map_build(self):
        """Per group: positions of the means of continuous variables in the
        statistics, their variables and lavaan's sign (mixed -1, continuous +1)."""
        out = []
        pos = {v: i for i, v in enumerate(self.model.ov_names[0])}
        for st in self.ostats:
            at = np.flatnonzero(st.is_mean)
            var = np.array([pos[st.names[j]] for j in st.th_var[at]], dtype=int)
            if at.size and not self.model.meanstructure:
                raise ValueError("The statistics hold means of continuous variables: the model "
                                 "needs a mean structure.")
            out.append((at, var, st.mean_sign))
        return out

    # -- model moments ----------------------------------------------------
    def sigma(self, theta) -> list:
        """Implied statistics per group: thresholds (and signed means of continuous
        variables), then the (co)variances of the statistics' layout."""
        theta = np.asarray(theta, dtype=float)
        out = []
        for g, (sig, mu) in enumerate(self.model.implied(theta)):
            free_idx, fixed = self._th_map[g]
            tau = np.where(free_idx >= 0, theta[np.maximum(free_idx, 0)], fixed)
            at, var, sign = self._mean_map[g]
            if at.size:
                tau[at] = sign * mu[var]
            out.append(np.concatenate([tau, sig[self._rows, self._cols]]))
        return out

    def delta(self, theta) -> list:
        """Jacobians ``d sigma_g / d theta`` per group, shape (ndat_g, q)."""
        q = self.model.n_free
        out = []
        for g, (d_sigma, d_mu) in enumerate(self.model.jacobian(theta)):
            free_idx, _ = self._th_map[g]
            T = free_idx.size
            dg = np.zeros((T + self._rows.size, q))
            ok = free_idx >= 0
            dg[np.flatnonzero(ok), free_idx[ok]] = 1.0
            at, var, sign = self._mean_map[g]
            if at.size:
                dg[at] = sign * d_mu[:, var].T
            dg[T:] = d_sigma[:, self._rows, self._cols].T
            out.append(dg)
        return out

    def residual_variances(self, theta) -> list:
        """Derived residual variances of the latent responses, per group."""
        out = []
        for sig, _ in self.model.implied(theta):
            out.append(1.0 - np.diag(sig))
        return out

    # -- Objective interface --------------------------------------------
    def _fg(self, theta):
        sig = self.sigma(theta)
        res = [st.wls_obs - s for st, s in zip(self.ostats, sig)]
        f = np.array([np.sum(r * r * st.wls_v) for r, st in zip(res, self.ostats)])
        return f, res

    def group_values(self, theta) -> np.ndarray:
        """Unscaled :math:`F_g` per group."""
        return self._fg(theta)[0]

    def value(self, theta) -> float:
        f, _ = self._fg(theta)
        n = np.asarray(self.nobs, dtype=float)
        fx_group = 0.5 * (n - 1) / n * f
        return float(np.dot(self._w, fx_group))

    def gradient(self, theta) -> np.ndarray:
        _, res = self._fg(theta)
        dl = self.delta(theta)
        grad = np.zeros(self.model.n_free)
        for g, st in enumerate(self.ostats):
            n = st.nobs
            grad += -self._w[g] * (n - 1) / n * (dl[g].T @ (st.wls_v * res[g]))
        return grad

    def value_and_gradient(self, theta):
        return self.value(theta), self.gradient(theta)

    def information(self, theta, kind: str = "expected") -> np.ndarray:
        if kind != "expected":
            raise NotImplementedError("Only the expected information is implemented for DWLS.")
        dl = self.delta(theta)
        q = self.model.n_free
        info = np.zeros((q, q))
        for g, st in enumerate(self.ostats):
            d2 = np.sqrt(st.wls_v)[:, None] * dl[g]
            info += self._w[g] * (d2.T @ d2)
        return 0.5 * (info + info.T)

    def vcov(self, theta) -> np.ndarray:
        """lavaan's "standard" DWLS covariance ``inv(E) / (N - G)``."""
        v = _safe_inverse(self.information(theta)) / (self.ntotal - len(self.ostats))
        return 0.5 * (v + v.T)

    def test_statistic(self, theta) -> float:
        f = self.group_values(theta)
        n = np.asarray(self.nobs, dtype=float)
        return float(max(0.0, np.sum((n - 1) * f)))

    def chisq_groups(self, theta) -> np.ndarray:
        """Per-group contributions to the chi-square, ``(N_g - 1) F_g``."""
        n = np.asarray(self.nobs, dtype=float)
        return (n - 1) * self.group_values(theta)


def _ordinal_stats_from_samplestats(stats, ov_names, ordered, meanstructure=False) -> list:
    """Statistics per group from raw rows: ordinal (all ordered), continuous (none)
    or mixed (some; complete cases)."""
    ov = list(ov_names[0])
    frames = [pd.DataFrame(np.asarray(x, dtype=float), columns=ov) for x in stats.data]
    labels = getattr(stats, "group_labels", [None] * len(frames))
    ordered = [v for v in ov if v in set(ordered)]
    if len(ordered) < len(ov):
        frames = [fr.dropna() for fr in frames]
        if not ordered:
            return [continuous_stats(fr, ov, meanstructure=meanstructure, group=lab)
                    for fr, lab in zip(frames, labels)]
    levels = None
    if len(frames) > 1:
        allx = pd.concat(frames, ignore_index=True)
        levels = [np.unique(allx[v].dropna().to_numpy()) for v in ordered]
    if len(ordered) < len(ov):
        lev = None if levels is None else dict(zip(ordered, levels))
        return [mixed_stats(fr, ov, ordered, group=lab, levels=lev)
                for fr, lab in zip(frames, labels)]
    out = []
    for fr, lab in zip(frames, labels):
        fr = fr.dropna(subset=ordered)
        out.append(ordinal_stats(fr, ordered, group=lab, levels=levels))
    return out


# ----------------------------------------------------------------------
# robust standard errors and tests
# ----------------------------------------------------------------------
def _e_inv(objective, theta):
    return _safe_inverse(objective.information(theta))


def robust_vcov(objective: DWLSObjective, theta) -> np.ndarray:
    """Robust (sandwich) covariance of the estimates, as lavaan's WLSMV.

    Parameters
    ----------
    objective : DWLSObjective
    theta : ndarray

    Returns
    -------
    ndarray, shape (q, q)

    Notes
    -----
    :math:`V = E^{-1} \\big(\\sum_g f_g \\Delta_g^\\top W_g \\Gamma_g W_g
    \\Delta_g\\big) E^{-1} / N`, :math:`E = \\sum_g f_g \\Delta_g^\\top W_g
    \\Delta_g` (lavaan's ``se = "robust.sem"``) [1]_; lavaan divides by
    :math:`N - G` (G groups) for these estimators instead of :math:`N`.

    References
    ----------
    .. [1] Muthen, B., du Toit, S. H. C., & Spisic, D. (1997). Robust
       inference using weighted least squares and quadratic estimating
       equations in latent variable modeling with categorical and continuous
       outcomes. Unpublished technical report.
    """
    e_inv = _e_inv(objective, theta)
    dl = objective.delta(theta)
    q = objective.model.n_free
    meat = np.zeros((q, q))
    for g, st in enumerate(objective.ostats):
        wd = st.wls_v[:, None] * dl[g]
        meat += objective._w[g] * (wd.T @ st.gamma @ wd)
    v = e_inv @ meat @ e_inv / (objective.ntotal - len(objective.ostats))
    return 0.5 * (v + v.T)


def _ugamma_traces(objective, delta_all, e_inv):
    """tr(U Gamma) and tr((U Gamma)^2) without forming U (m x m).

    With A = V Gamma, B = V Delta and C = E^{-1} B' Gamma: U Gamma = A - B C, so
    tr(UG) = tr(A) - <B, C'> and tr((UG)^2) = tr(A^2) - 2 tr(C A B) + tr((CB)^2).
    """
    fg = objective._w
    v_all = np.concatenate([fg[g] * st.wls_v for g, st in enumerate(objective.ostats)])
    m = v_all.size
    gam = np.zeros((m, m))
    o = 0
    for g, st in enumerate(objective.ostats):
        k = st.gamma.shape[0]
        gam[o:o + k, o:o + k] = st.gamma / fg[g]
        o += k
    a = v_all[:, None] * gam                   # V Gamma
    b = v_all[:, None] * delta_all             # V Delta
    c = e_inv @ (b.T @ gam)                    # (q, m)
    cb = c @ b                                 # (q, q)
    t1 = float(np.trace(a) - np.sum(b * c.T))
    t2 = float(np.sum(a * a.T) - 2.0 * np.sum((c @ a) * b.T) + np.sum(cb * cb.T))
    return t1, t2


def scaled_test(objective: DWLSObjective, theta, kind: str = "scaled.shifted") -> dict:
    """Mean- and variance-adjusted chi-square, as lavaan's WLSMV.

    Parameters
    ----------
    objective : DWLSObjective
    theta : ndarray
    kind : {"scaled.shifted", "mean.var.adjusted", "satorra.bentler"}

    Returns
    -------
    dict
        Keys ``chisq``, ``df``, ``pvalue``, ``chisq_scaled``, ``df_scaled``,
        ``pvalue_scaled``, ``scaling_factor``, ``shift_parameter``,
        ``trace_ugamma``, ``trace_ugamma2`` and the same with a
        ``baseline_`` prefix for the independence model (thresholds free,
        correlations 0).

    Notes
    -----
    With :math:`U = V - V\\Delta E^{-1}\\Delta^\\top V` (:math:`V`, :math:`\\Gamma`
    block-diagonal over groups with :math:`f_g W_g`, :math:`\\Gamma_g/f_g`),
    :math:`t_1 = \\operatorname{tr}(U\\Gamma)`, :math:`t_2 =
    \\operatorname{tr}((U\\Gamma)^2)`. Scaled-shifted [1]_:
    :math:`a = \\sqrt{d/t_2}`, :math:`T = aT_{DWLS} + d - a t_1` on
    :math:`d` df; scaling factor :math:`1/a`. Mean-and-variance adjusted:
    df :math:`t_1^2/t_2`, :math:`T = T_{DWLS}\\, df / t_1`. Satorra-Bentler
    [2]_: :math:`T = T_{DWLS}\\, d / t_1`.

    References
    ----------
    .. [1] Asparouhov, T., & Muthen, B. (2010). Simple second order
       chi-square correction. Technical appendix, Mplus.
    .. [2] Satorra, A., & Bentler, P. M. (1994). Corrections to test
       statistics and standard errors in covariance structure analysis. In
       A. von Eye & C. C. Clogg (Eds.), Latent variables analysis
       (pp. 399-419). Sage.
    """
    if kind not in ("scaled.shifted", "mean.var.adjusted", "satorra.bentler"):
        raise ValueError(f"Unknown scaled test {kind!r}.")
    chisq = objective.test_statistic(theta)
    df = objective.df
    dl = np.vstack(objective.delta(theta))
    out = _scale(chisq, df, *_ugamma_traces(objective, dl, _e_inv(objective, theta)), kind)
    # baseline (independence) model: thresholds free, correlations zero
    fb, db, t1b, t2b = _baseline(objective)
    base = _scale(fb, db, t1b, t2b, kind)
    out.update({"baseline_" + k: v for k, v in base.items()})
    return out


def _scale(chisq, df, t1, t2, kind):
    res = dict(chisq=chisq, df=df, pvalue=_pchisq_upper(chisq, df),
               trace_ugamma=t1, trace_ugamma2=t2)
    if df <= 0:  # lavaan: the standard statistic with an NA scaling factor
        res.update(chisq_scaled=chisq, df_scaled=df, pvalue_scaled=np.nan,
                   scaling_factor=np.nan, shift_parameter=np.nan)
        return res
    if kind == "scaled.shifted":
        a = math.sqrt(df / t2)
        shift = df - a * t1
        stat = chisq * a + shift
        res.update(chisq_scaled=stat, df_scaled=df, scaling_factor=1.0 / a,
                   shift_parameter=shift)
        dfs = df
    elif kind == "mean.var.adjusted":
        dfs = t1 * t1 / t2
        c = t1 / dfs
        res.update(chisq_scaled=chisq / c, df_scaled=dfs, scaling_factor=c,
                   shift_parameter=np.nan)
    else:
        c = t1 / df
        dfs = df
        res.update(chisq_scaled=chisq / c, df_scaled=df, scaling_factor=c,
                   shift_parameter=np.nan)
    res["pvalue_scaled"] = _pchisq_upper(res["chisq_scaled"], dfs)
    return res


def _pchisq_upper(x, df):
    if not np.isfinite(x) or df <= 0:
        return np.nan
    from . import fit_indices as _fi

    return _fi.pchisq(x, df, lower_tail=False)


def _baseline(objective):
    """lavaan's independence model: thresholds, means and variances free (fitted
    exactly), every covariance/correlation 0 except those among exogenous
    covariates (``objective.exogenous_idx``, continuous data)."""
    fg = objective._w
    chisq = 0.0
    df = 0
    free_pos = []
    for g, st in enumerate(objective.ostats):
        T = st.thresholds.size
        s = st.wls_obs
        w = st.wls_v
        r, c = st.cov_index
        keep = np.concatenate([np.ones(T, dtype=bool), r == c])
        x = np.zeros(len(st.names), dtype=bool)
        x[list(getattr(objective, "exogenous_idx", ()))] = True
        keep[T:] |= x[r] & x[c]  # covariances among exogenous covariates stay free (lavaan)
        zero = ~keep
        chisq += (st.nobs - 1) * float(np.sum(s[zero] ** 2 * w[zero]))
        df += int(zero.sum())
        free_pos.append(np.flatnonzero(keep & (w > 0)))
    # Delta: identity on the free statistics of each group
    nstat = [st.wls_obs.size for st in objective.ostats]
    q = sum(f.size for f in free_pos)
    dl = np.zeros((sum(nstat), q))
    ro = co = 0
    for g, f in enumerate(free_pos):
        dl[ro + f, co + np.arange(f.size)] = 1.0
        ro += nstat[g]
        co += f.size
    v_all = np.concatenate([fg[g] * st.wls_v for g, st in enumerate(objective.ostats)])
    e = (dl * v_all[:, None]).T @ dl
    t1, t2 = _ugamma_traces(objective, dl, np.linalg.inv(e))
    return chisq, df, t1, t2


# ----------------------------------------------------------------------
# fit indices (formulas: analysis.sem.fit_indices)
# ----------------------------------------------------------------------
def _data_kind(objective) -> str:
    """"ordinal", "mixed" or "continuous" (the statistics of every group agree)."""
    return objective.ostats[0].kind


def _srmr_wls(objective, theta) -> float:
    """lavaan's ``srmr`` after DWLS/WLSMV.

    Ordinal and mixed data: ``srmr_bentler_nomean`` of the polychoric (and
    polyserial / Pearson) covariance matrix; continuous data: ``srmr_bentler``
    of the covariance matrix (with divisor N - 1) and, with a mean structure,
    of the means.
    """
    from . import fit_indices as _fi

    implied = objective.model.implied(theta)
    sig = [s for s, _ in implied]
    covs = [o.polychoric for o in objective.ostats]
    if _data_kind(objective) == "continuous" and objective.model.meanstructure:
        means = [o.thresholds for o in objective.ostats]
        return _fi.srmr(covs, means, sig, [m for _, m in implied], objective.nobs,
                        meanstructure=True)
    return _fi.srmr(covs, None, sig, None, objective.nobs, meanstructure=False)


def _robust_statistics(objective, theta, test: dict) -> dict:
    """The statistics of lavaan's ``*.robust`` CFI/TLI/RMSEA after WLSMV.

    Ordinal data: the catML correction (:func:`analysis.sem.robust.catml_corrected`);
    continuous data: the DWLS statistic with :math:`\\hat c = a(d - b)/d` from
    the scaled-shifted test (scaling factor :math:`a`, shift :math:`b`; the
    same for the baseline), lavaan's ``lav_fit_cfi_lavobject`` /
    ``lav_fit_rmsea_lavobject``; mixed ordinal/continuous data: NaN (lavaan
    0.6.14 reports NA).
    """
    from .robust import catml_corrected

    kind = _data_kind(objective)
    if kind == "ordinal":
        return catml_corrected(objective, theta)
    nan = dict(XX3=np.nan, df3=np.nan, c_hat3=np.nan, XX3_scaled=np.nan, XX3_null=np.nan,
               df3_null=np.nan, c_hat3_null=np.nan)
    if kind != "continuous":
        return nan

    def c_hat(a, b, d):
        return a * (d - b) / d if d > 0 and np.isfinite(a) else np.nan

    df, dfb = test["df"], test["baseline_df"]
    return dict(XX3=test["chisq"], df3=df,
                c_hat3=c_hat(test["scaling_factor"], test["shift_parameter"], df),
                XX3_scaled=test["chisq_scaled"], XX3_null=test["baseline_chisq"], df3_null=dfb,
                c_hat3_null=c_hat(test["baseline_scaling_factor"],
                                  test["baseline_shift_parameter"], dfb))


def fit_indices(objective: DWLSObjective, theta, robust: bool = True) -> pd.Series:
    """Fit measures lavaan reports for DWLS / WLSMV.

    Parameters
    ----------
    objective : DWLSObjective
    theta : ndarray
    robust : bool
        Add the scaled (scaled-shifted) and robust versions (WLSMV).

    Returns
    -------
    pandas.Series
        The keys of :func:`analysis.sem.fit_indices.fit_measures` (``loglik``,
        ``aic``, ``bic`` ... NaN) and, when ``robust``, ``chisq_scaled,
        df_scaled, pvalue_scaled, scaling_factor, shift_parameter,
        baseline_chisq_scaled, baseline_df_scaled, baseline_pvalue_scaled,
        baseline_scaling_factor`` with the ``*_scaled`` indices of
        :func:`~analysis.sem.fit_indices.scaled_indices` and the ``*_robust``
        ones of :func:`~analysis.sem.fit_indices.robust_indices`.

    Notes
    -----
    The RMSEA uses :math:`N - G` (lavaan's N for these estimators); the
    scaled versions put the scaled-shifted statistic in place of :math:`T`
    (same df); the robust ones use lavaan's catML correction
    (:func:`analysis.sem.robust.catml_corrected`) for ordinal data, the
    scaled-shifted :math:`\\hat c` for continuous data and are NaN for mixed
    data, as lavaan (:func:`_robust_statistics`).  SRMR is lavaan's
    ``srmr_bentler_nomean`` of the polychoric correlations (thresholds not
    counted), for continuous data ``srmr_bentler`` (:func:`_srmr_wls`).
    """
    from . import fit_indices as _fi

    st = scaled_test(objective, theta, kind="scaled.shifted")
    ng = len(objective.ostats)
    n_rm = objective.ntotal - ng
    x2, df = st["chisq"], st["df"]
    xb, dfb = st["baseline_chisq"], st["baseline_df"]
    srmr = _srmr_wls(objective, theta)
    out = _fi.fit_measures(chisq=x2, df=df, npar=objective.model.n_free, ntotal=objective.ntotal,
                           ngroups=ng, loglik=np.nan, loglik_h1=np.nan, chisq_b=xb, df_b=dfb,
                           srmr_value=srmr, fmin=objective.value(theta), rmsea_n=n_rm)
    if not robust:
        return out
    xs, xbs = st["chisq_scaled"], st["baseline_chisq_scaled"]
    extra = dict(chisq_scaled=xs, df_scaled=st["df_scaled"], pvalue_scaled=st["pvalue_scaled"],
                 scaling_factor=st["scaling_factor"], shift_parameter=st["shift_parameter"],
                 baseline_chisq_scaled=xbs, baseline_df_scaled=st["baseline_df_scaled"],
                 baseline_pvalue_scaled=st["baseline_pvalue_scaled"],
                 baseline_scaling_factor=st["baseline_scaling_factor"])
    extra.update(_fi.scaled_indices(chisq_scaled=xs, df_scaled=st["df_scaled"],
                                    baseline_chisq_scaled=xbs,
                                    baseline_df_scaled=st["baseline_df_scaled"],
                                    rmsea_chisq=xs, rmsea_df=df, ntotal=n_rm, ngroups=ng))
    cat = _robust_statistics(objective, theta, st)
    extra.update(_fi.robust_indices(chisq=cat["XX3"], df=df, c_hat=cat["c_hat3"],
                                    chisq_scaled=cat["XX3_scaled"], baseline_chisq=cat["XX3_null"],
                                    baseline_df=dfb, c_hat_null=cat["c_hat3_null"], ntotal=n_rm,
                                    ngroups=ng, df_robust=cat["df3"]))
    return pd.concat([out, pd.Series(extra, dtype=float)])


# ----------------------------------------------------------------------
# a standalone fit (until the core's sem()/cfa() dispatch to this module)
# ----------------------------------------------------------------------
def _start_values(model, objective, std_lv: bool) -> np.ndarray:
    """Simple, safe starting values (the optimum does not depend on them)."""
    pt = model.partable
    theta = np.full(model.n_free, np.nan)
    lvset = set(model.lv_names)
    th_sample = {}
    var_sample = {}
    for g, st in enumerate(objective.ostats):
        for nm, v in zip(st.threshold_names, st.thresholds):
            th_sample[(g + 1, nm)] = v
        for j in st.var_idx:  # continuous indicators of mixed data: mean and variance
            var_sample[(g + 1, st.names[j])] = st.polychoric[j, j]
        for nm, v, m in zip(st.threshold_names, st.thresholds, st.is_mean):
            if m:
                th_sample[(g + 1, nm)] = st.mean_sign * v
    for r in pt.itertuples(index=False):
        k = int(r.free) - 1
        if k < 0 or np.isfinite(theta[k]):
            continue
        if "start" in pt and np.isfinite(r.start):
            theta[k] = r.start
        elif r.op == "=~":
            theta[k] = 0.7 if std_lv else 1.0
        elif r.op == "|":
            theta[k] = th_sample.get((r.group, f"{r.lhs}|{r.rhs}"), 0.0)
        elif r.op == "~1":
            theta[k] = th_sample.get((r.group, f"{r.lhs}~1"), 0.0)
        elif r.op == "~~" and r.lhs == r.rhs:
            theta[k] = (0.3 if r.lhs in lvset else
                        0.5 * var_sample.get((r.group, r.lhs), 1.0))
        else:
            theta[k] = 0.0
    return theta


def _lavaan_order(pt: pd.DataFrame) -> pd.DataFrame:
    """Sort rows as lavaan's parameterEstimates for categorical models."""
    lv = set(pt.loc[pt["op"] == "=~", "lhs"])

    def rank(r):
        if r.op == ":=":
            return 9
        if r.user == 1 and r.op in ("=~", "~", "~~", "|"):
            return 0
        if r.op == "|":
            return 1
        if r.op == "~~":
            return 2 if r.lhs not in lv else 3
        if r.op == "~*~":
            return 5
        if r.op == "~1":
            return 6 if r.lhs not in lv else 7
        return 4

    key = [(int(r.group) if r.op != ":=" else 10 ** 6, rank(r), i)
           for i, r in enumerate(pt.itertuples(index=False))]
    order = sorted(range(len(pt)), key=lambda i: key[i])
    return pt.iloc[order].reset_index(drop=True)


@dataclass(frozen=True)
class Thresholds(Section):
    """The section of a DWLS/WLSMV result (``result.thresholds``).

    Attributes
    ----------
    ordered : tuple of str
        The ordinal indicators (empty for continuous data, which has no
        thresholds).
    data_issues : tuple of str
        Warnings about the data (an ordered variable with many levels).

    The estimate table carries the thresholds (op ``|``), the scales
    (``~*~``, fixed at 1 under the delta parameterization) and the derived
    residual variances of the latent responses (fixed rows, ``se`` 0, as
    lavaan prints them); the fit measures are those of :func:`fit_indices`.
    """

    ordered: tuple = ()
    data_issues: tuple = ()

    def fit(self, result) -> pd.Series:
        out = fit_indices(result.objective, result.theta, robust=result.estimator.scaled_test is not None)
        extra = pd.Series({"unrestricted_loglik": np.nan, "bic2": np.nan,
                           "ntotal": float(result.objective.ntotal)}, dtype=float)
        return pd.concat([out, extra[~extra.index.isin(out.index)]])

    def estimates(self, result, est: pd.DataFrame) -> pd.DataFrame:
        # thresholds and scales of latent responses with unit variance: std = est
        unit = est["op"].isin(["|", "~*~"]).to_numpy()
        if not unit.any():
            return est
        est = est.copy()
        est.loc[unit, "std_all"] = est.loc[unit, "est"]
        return est

    def issues(self, result) -> list:
        return list(self.data_issues)


#: The name of the result of :func:`sem_ordinal` and :func:`sem_wls`: one
#: :class:`~analysis.sem.results.SEMResult` type serves every fit, and a WLS
#: fit is one with a :class:`Thresholds` section.
OrdinalSEMResult = SEMResult


def sem_ordinal(model: str, data: pd.DataFrame, *, estimator: str = "WLSMV", ordered=True,
                group: str | None = None, group_equal=(), std_lv: bool = False,
                missing: str = "listwise", start=None) -> OrdinalSEMResult:
    """Fit a CFA/SEM to ordinal indicators by DWLS or WLSMV, as lavaan.

    Parameters
    ----------
    model : str
        lavaan model syntax (``=~``, ``~``, ``~~``, labels, ``:=``,
        ``==``).
    data : DataFrame
        Ordinal indicators as numeric category codes (NaN = missing).
    estimator : {"WLSMV", "DWLS"}
        ``"WLSMV"``: DWLS estimates, robust standard errors and the
        scaled-shifted test; ``"DWLS"``: lavaan's standard errors and test
        for ``estimator = "DWLS"``.
    ordered : True or list of str
        The ordinal variables (True or None: every observed variable of the
        model; a list must name them all -- for mixed ordinal/continuous or
        continuous indicators use :func:`sem_wls`).
    group : str, optional
        Column defining groups (thresholds and parameters free per group).
    group_equal : sequence of str
        Parameter types equal across groups among ``"loadings"``,
        ``"regressions"``, ``"lv.variances"``, ``"lv.covariances"``,
        ``"residual.covariances"`` (threshold invariance, which needs free
        latent means and scale factors, is not implemented).
    std_lv : bool
        Identify factors by unit variances instead of marker loadings.
    missing : {"listwise", "pairwise"}
        ``"listwise"`` (lavaan's default) drops rows with a missing value;
        ``"pairwise"`` keeps them: thresholds use the available cases of
        each variable, polychorics the complete pairs, and Gamma the
        casewise scores with missing terms set to zero (lavaan's
        ``missing = "pairwise"``).
    start : ndarray, optional
        Starting values of the free parameters.

    Returns
    -------
    OrdinalSEMResult

    Raises
    ------
    ValueError
        When ``ordered`` leaves out an observed variable of the model.

    Notes
    -----
    See the module docstring for the fit function, standard errors and test
    [1]_ [2]_.

    References
    ----------
    .. [1] Muthen, B., du Toit, S. H. C., & Spisic, D. (1997). Robust
       inference using weighted least squares and quadratic estimating
       equations in latent variable modeling with categorical and continuous
       outcomes. Unpublished technical report.
    .. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. Journal of Statistical Software, 48(2), 1-36.

    Examples
    --------
    In R: ``cfa(model, data, ordered = TRUE, estimator = "WLSMV")``.
    """
    from .partable import build_partable

    if not (ordered is True or ordered is None):
        _, vs = build_partable(model, meanstructure=False, fixed_x=True)
        cont = [v for v in vs.ov if v not in set(ordered)]
        if cont:
            raise ValueError(
                f"sem_ordinal() needs every observed variable of the model to be ordinal; "
                f"{cont} are not in `ordered` (mixed ordinal/continuous indicators: "
                "analysis.sem.dwls.sem_wls(), or sem(..., estimator='WLSMV', ordered=[...])).")
    return sem_wls(model, data, estimator=estimator, ordered=True if ordered is None else ordered,
                   group=group, group_equal=group_equal, std_lv=std_lv, missing=missing,
                   start=start)


def _exogenous(partable, ov) -> list:
    """Observed variables that are only predictors (lavaan's ``ov.x``)."""
    x = set(partable.loc[partable["op"] == "~", "rhs"])
    y = (set(partable.loc[partable["op"] == "~", "lhs"])
         | set(partable.loc[partable["op"] == "=~", "rhs"]))
    return [v for v in ov if v in x and v not in y]


def _many_levels(frames, ordered) -> list:
    """lavaan's warning for ordered variables with more than 12 levels."""
    many = []
    for v in ordered:
        vals = np.concatenate([f[v].to_numpy(dtype=float) for f in frames])
        k = np.unique(vals[np.isfinite(vals)]).size
        if k > MANY_LEVELS:
            many.append((v, k))
    if not many:
        return []
    listed = ", ".join(f"{v} ({k} levels)" for v, k in many)
    return [f"Some ordered categorical variables have more than {MANY_LEVELS} levels: {listed} "
            "(lavaan warns: 'some ordered categorical variable(s) have more than 12 levels'); "
            "consider treating them as continuous (leave them out of `ordered`)."]


def sem_wls(model: str, data: pd.DataFrame, *, estimator: str = "WLSMV", ordered=None,
            group: str | None = None, group_equal=(), std_lv: bool = False,
            missing: str = "listwise", start=None, meanstructure=None) -> OrdinalSEMResult:
    """DWLS / WLSMV for ordinal, continuous or mixed indicators, as lavaan.

    Parameters
    ----------
    model : str
        lavaan model syntax.
    data : DataFrame
        Ordinal indicators as numeric category codes, continuous ones as
        numbers (NaN = missing).
    estimator : {"WLSMV", "DWLS"}
        ``"WLSMV"``: DWLS estimates, robust standard errors (lavaan's
        ``robust.sem``) and the scaled-shifted test; ``"DWLS"``: lavaan's
        standard errors and test.
    ordered : None, True or list of str
        lavaan's ``ordered``: None (or False, or an empty list) -- every
        indicator is continuous; True -- every observed variable of the
        model is ordinal; a list -- these are ordinal, the others continuous
        (mixed).
    group, group_equal, std_lv, start
        As :func:`sem_ordinal`.
    missing : {"listwise", "pairwise"}
        ``"pairwise"`` is available for ordinal indicators only.
    meanstructure : bool, optional
        Continuous indicators: include the means (lavaan's default: with
        groups or ``~ 1`` in the syntax).  Ordinal and mixed data always
        have thresholds/means.

    Returns
    -------
    OrdinalSEMResult
        ``options["data_kind"]`` is ``"ordinal"``, ``"mixed"`` or
        ``"continuous"``.  An ordered variable with more than 12 levels
        gives an entry in ``.issues`` (lavaan's warning).

    Raises
    ------
    ValueError
        For an ordered variable that is not a column, ordinal variables used
        as predictors, or observed exogenous covariates with ordinal
        indicators.
    NotImplementedError
        For ``missing="pairwise"`` with continuous indicators.

    Notes
    -----
    Continuous indicators (no ``ordered``), as lavaan's
    ``estimator = "WLSMV"``: DWLS on :math:`s = (\\bar y, \\operatorname{vech} S)`
    (means only with a mean structure; :math:`S` with divisor
    :math:`N - 1`), :math:`W = \\operatorname{diag}(\\Gamma)^{-1}` with the
    ADF :math:`\\Gamma` (:func:`analysis.sem.ordinal.continuous_stats`);
    as lavaan 0.6.14 (``fixed.x = FALSE`` for this estimator) the variances
    and covariances of exogenous observed covariates are free parameters.
    Mixed indicators: thresholds of the ordinal ones, means and variances of
    the continuous ones and polychoric/polyserial/Pearson covariances
    (:func:`analysis.sem.ordinal.mixed_stats`), delta parameterization for
    the ordinal indicators, free intercepts and residual variances for the
    continuous ones.  Standard errors, test and fit measures as for ordinal
    data (module docstring).

    Examples
    --------
    In R: ``cfa(model, data, estimator = "WLSMV")`` (continuous),
    ``cfa(model, data, ordered = c("x1", "x2"), estimator = "WLSMV")`` (mixed).
    """
    from .options import Options
    from .syntax import parse_syntax

    est = WLS_ESTIMATORS.get(str(estimator).upper())
    if est is None:
        raise ValueError(f"estimator must be 'WLSMV' or 'DWLS', not {estimator!r}.")
    if isinstance(group_equal, str):
        group_equal = (group_equal,)
    opts = Options(estimator=est.name, ordered=ordered, missing=missing, group=group,
                   group_equal=tuple(group_equal), std_lv=std_lv, meanstructure=meanstructure)
    formulas = parse_syntax(model) if isinstance(model, str) else list(model)
    return assemble(WLS_STAGES, formulas, data, opts, start=start)


class WLSStages(Stages):
    """The stages of a DWLS/WLSMV fit (:func:`sem_wls`; :func:`analysis.sem.sem` with ``estimator="WLSMV"``
    or ``ordered``).

    *prepare* finds the kind of data (ordinal, mixed or continuous), checks
    what it allows and computes the statistics the estimator is fitted to
    (thresholds and polychoric correlations, or moments, with their
    asymptotic variances); *result* writes the derived residual variances of
    the latent responses into the result's parameter table (delta
    parameterization).
    """

    def prepare(self, formulas, data, opts, **_) -> Prepared:
        from .partable import build_partable
        from .samplestats import sample_stats

        est = WLS_ESTIMATORS.get(str(opts.estimator).upper())
        if est is None:
            raise ValueError(f"estimator must be 'WLSMV' or 'DWLS', not {opts.estimator!r}.")
        missing, group, group_equal = opts.missing, opts.group, tuple(opts.group_equal)
        if missing not in ("listwise", "pairwise"):
            raise ValueError("DWLS/WLSMV fits use listwise deletion or "
                             f"missing='pairwise'; missing={missing!r} is not available.")
        if group is not None and group not in data.columns:
            raise ValueError(f"The group column {group!r} is not in the data.")
        ngroups = 1 if group is None else int(data[group].dropna().nunique())
        pt, vs = build_partable(formulas, ngroups=ngroups, std_lv=opts.std_lv, meanstructure=False,
                                group_equal=group_equal, fixed_x=True)
        ov = list(vs.ov)
        ordered = opts.ordered
        if ordered is True:
            ordered_names = list(ov)
        elif ordered is None or ordered is False:
            ordered_names = []
        else:
            ordered = [ordered] if isinstance(ordered, str) else list(ordered)
            absent = [v for v in ordered if v not in data.columns]
            if absent:
                raise ValueError(f"Ordered variables {absent} are not columns of the data.")
            ordered_names = [v for v in ov if v in set(ordered)]
        kind = ("ordinal" if len(ordered_names) == len(ov) else
                "continuous" if not ordered_names else "mixed")
        if kind != "continuous":
            unsupported = [t for t in group_equal if t in ("thresholds", "intercepts", "means",
                                                           "residuals")]
            if unsupported:
                raise ValueError(f"group_equal {unsupported} is not implemented for ordinal "
                                 "indicators (it needs free latent means and scale factors).")
            if vs.ov_x:
                raise ValueError(f"Exogenous observed covariates {vs.ov_x} are not supported "
                                 "with ordinal indicators.")
        elif missing == "pairwise":
            raise NotImplementedError("missing='pairwise' is available for ordinal indicators only; "
                                      "continuous WLSMV uses listwise deletion.")
        if kind == "mixed" and missing == "pairwise":
            raise NotImplementedError("missing='pairwise' is available for ordinal indicators only, "
                                      "not for a mixture of ordinal and continuous ones.")
        # "fiml" keeps every row with at least one observed value (pairwise use)
        sample = sample_stats(data, ov, group=group, missing="listwise" if missing == "listwise" else "fiml")
        frames = [pd.DataFrame(x, columns=ov) for x in sample.data]
        extra = dict(kind=kind, ordered=ordered_names, sample=sample, issues=_many_levels(frames, ordered_names))
        if kind == "continuous":
            ms = bool(opts.meanstructure) if opts.meanstructure is not None else ngroups > 1
            ms = ms or bool(any(pt["op"] == "~1"))
            # lavaan 0.6.14 sets fixed.x = FALSE for DWLS/WLSMV on continuous data: the
            # moments of exogenous covariates are free parameters, fitted like the others
            pt, vs = build_partable(formulas, ngroups=ngroups, std_lv=opts.std_lv, meanstructure=ms,
                                    group_equal=group_equal, fixed_x=False)
            ost = [continuous_stats(f, ov, meanstructure=ms, group=lab)
                   for f, lab in zip(frames, sample.group_labels)]
            extra.update(means=[f.mean(axis=0).to_numpy() for f in frames],
                         exogenous=tuple(ov.index(v) for v in _exogenous(pt, ov)))
            return Prepared(pt, vs, ost, est, ngroups, ms, extra)
        levels = None
        if ngroups > 1:
            levels = [np.unique(np.concatenate([f[v].to_numpy() for f in frames])) for v in ov]
        if kind == "ordinal":
            ost = [ordinal_stats(f, ov, group=lab, levels=levels)
                   for f, lab in zip(frames, sample.group_labels)]
        else:
            lev = None if levels is None else {v: levels[j] for j, v in enumerate(ov)}
            ost = [mixed_stats(f, ov, ordered_names, group=lab, levels=lev)
                   for f, lab in zip(frames, sample.group_labels)]
        nth = [{v: int(np.sum((s.th_var == j) & ~s.is_mean)) for j, v in enumerate(ov)}
               for s in ost]
        pt = ordinal_partable(pt, ov, vs.lv, ordered_names, nth, group_equal=group_equal)
        return Prepared(pt, vs, ost, est, ngroups, kind == "mixed", extra)

    def objective(self, model, prepared: Prepared, opts) -> DWLSObjective:
        return DWLSObjective(model, prepared.stats, prepared.extra["ordered"],
                             exogenous=prepared.extra.get("exogenous", ()))

    def start(self, model, objective, prepared: Prepared, opts) -> np.ndarray:
        if prepared.extra["kind"] != "continuous":
            return _start_values(model, objective, opts.std_lv)
        from types import SimpleNamespace

        from .start import start_values

        moments = SimpleNamespace(ov_names=list(prepared.variables.ov), ngroups=prepared.ngroups,
                                  cov=[o.polychoric for o in prepared.stats], mean=prepared.extra["means"])
        return start_values(prepared.partable, prepared.variables, moments, std_lv=opts.std_lv)

    def result(self, model, objective, optim, prepared: Prepared, opts, **_) -> "OrdinalSEMResult":
        from .model import SEMModel

        kind, ordered_names, sample = (prepared.extra[k] for k in ("kind", "ordered", "sample"))
        ov, pt = list(prepared.variables.ov), prepared.partable
        if kind != "continuous":
            # the derived residual variances become the fixed values of the result's model
            pt = pt.copy()
            ustart = pt["ustart"].to_numpy(dtype=float).copy()
            resid = objective.residual_variances(optim.theta)
            pos = {v: i for i, v in enumerate(ov)}
            ordset = set(ordered_names)
            for k, r in enumerate(pt.itertuples(index=False)):
                if r.op == "~~" and r.lhs == r.rhs and r.lhs in ordset and r.free == 0:
                    ustart[k] = resid[r.group - 1][pos[r.lhs]]
            pt["ustart"] = ustart
            model = SEMModel(pt, ov, prepared.variables.lv, prepared.ngroups,
                             meanstructure=prepared.meanstructure)
        objective = DWLSObjective(model, prepared.stats, ordered_names,
                                  exogenous=prepared.extra.get("exogenous", ()), sample=sample)
        est = prepared.estimator
        resolved = dict(estimator=est.name, meanstructure=True if kind != "continuous" else prepared.meanstructure,
                        se="robust.sem" if est.name == "WLSMV" else "standard", ordered=ordered_names,
                        data_kind=kind)
        if kind != "continuous":
            resolved["parameterization"] = "delta"
        section = Thresholds(ordered=tuple(ordered_names), data_issues=tuple(prepared.extra["issues"]))
        return SEMResult(pt, prepared.variables, model, objective, est, optim.theta, optim.converged,
                         optim.n_iter, opts.record(**resolved), thresholds=section)


#: The DWLS/WLSMV stages of the assembly line (:func:`analysis.sem.assembly.assemble`).
WLS_STAGES = WLSStages()


#: Alias kept for the first version of this module.
fit_ordinal = sem_ordinal


def _build(model, stats, missing="listwise", ordered=None) -> DWLSObjective:
    return DWLSObjective(model, stats, ordered, weights="diagonal")


def _plain_vcov(objective: DWLSObjective, theta) -> np.ndarray:
    return objective.vcov(theta)


def _scaled_shifted(objective: DWLSObjective, theta) -> dict:
    return scaled_test(objective, theta, kind="scaled.shifted")


#: The DWLS and WLSMV plug-ins (:class:`~analysis.sem.objective.Estimator`), registered in
#: :data:`analysis.sem.estimators.ESTIMATORS`: DWLS with the plain (inverse information) SEs,
#: WLSMV with robust SEs and the scaled-shifted test (module-level functions: a result pickles).
WLS_ESTIMATORS = {
    "DWLS": Estimator("DWLS", _build, _plain_vcov),
    "WLSMV": Estimator("WLSMV", _build, robust_vcov, _scaled_shifted),
}
