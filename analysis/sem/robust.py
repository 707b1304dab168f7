"""Robust maximum likelihood (MLR): sandwich SEs and the Yuan-Bentler test.

Everything here works on an estimator objective (:class:`~analysis.sem.objective.MLObjective`
for complete data, :class:`~analysis.sem.fiml.FIMLObjective` for incomplete
data) and reproduces lavaan 0.6.14's ``estimator = "MLR"``:

* ``se = "robust.huber.white"``: :math:`N^{-1} E^{-1} B E^{-1}` with ``E``
  the observed information (Hessian of ``fmin``) and ``B`` the first-order
  information from the casewise scores; with ``cluster`` the scores are
  summed within clusters and ``B`` is multiplied by ``G / (G - 1)``
  (lavaan's ``cluster =`` for a single-level model).
* ``test = "yuan.bentler.mplus"``: scaling factor
  :math:`c = [\\operatorname{tr}(B_1A_1^{-1}) - \\operatorname{tr}(B_0E^{-1})]/df`
  with the unstructured H1 information ``A1`` and first-order ``B1``
  evaluated at the sample (or EM) moments; the same for the baseline model.
* ``test = "satorra.bentler"`` (:func:`satorra_bentler_test`), also with
  ``cluster`` (lavaan's ``se = "robust.cluster"``, ``test =
  "satorra.bentler"``).
* the inputs of the scaled and robust fit indices: ``cfi.scaled`` /
  ``tli.scaled`` (from scaled statistics), ``rmsea.scaled`` (lavaan:
  unscaled chi-square over ``df = tr(U Gamma)``), and ``cfi.robust`` /
  ``tli.robust`` / ``rmsea.robust`` of Brosseau-Liard & Savalei (2014)
  with, for FIML, the corrected FIML-C (V3 with a scaled test, V6
  without) of Zhang & Savalei (2023) (:func:`fiml_corrected`) and, for
  DWLS/WLSMV, lavaan's catML correction (:func:`catml_corrected`).  The
  index formulas themselves live in :mod:`analysis.sem.fit_indices`.

References
----------
.. [1] White, H. (1982). Maximum likelihood estimation of misspecified
   models. *Econometrica*, 50(1), 1-25.
.. [2] Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods
   for mean and covariance structure analysis with nonnormal missing data.
   *Sociological Methodology*, 30, 165-200.
.. [3] Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit
   indices for nonnormality. *Multivariate Behavioral Research*, 49(5),
   460-470.
.. [4] Zhang, X., & Savalei, V. (2023). New computations for RMSEA and CFI
   following FIML and TS estimation with missing data. *Psychological
   Methods*, 28(2), 263-283.
.. [5] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. *Journal of Statistical Software*, 48(2), 1-36.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import fit_indices as _fi
from .fiml import (
    FIMLObjective,
    casewise_score_blocks,
    delta_matrix,
    hessian_moments,
    independence_fit,
    numeric_hessian,
    theta_hessian,
)
from .saturated import MissingPatterns, missing_patterns, single_threaded, vech_indices

__all__ = [
    "observed_information",
    "casewise_scores",
    "first_order_information",
    "robust_vcov",
    "cluster_labels",
    "scaled_test",
    "yuan_bentler_test",
    "robust_fit_measures",
    "satorra_bentler_test",
    "fiml_corrected",
    "catml_corrected",
    "SCALED_TESTS",
]


# --------------------------------------------------------------------------
# plumbing: moments, patterns, clusters of an objective
# --------------------------------------------------------------------------
def _meanstructure(objective) -> bool:
    return bool(getattr(objective.model, "meanstructure", True))


def _is_fiml(objective) -> bool:
    return isinstance(objective, FIMLObjective)


def _patterns(objective) -> list[MissingPatterns]:
    if _is_fiml(objective):
        return objective.patterns
    cached = getattr(objective, "_robust_patterns", None)
    if cached is not None:
        return cached
    data = getattr(objective.stats, "data", None)
    if not data:
        raise ValueError(
            "Robust (MLR) standard errors need the raw data rows; this fit only has "
            "summary statistics (sample covariance matrices)."
        )
    pats = [missing_patterns(np.asarray(x, dtype=float)) for x in data]
    for mp in pats:
        if mp.npatterns != 1 or not mp.observed.all():
            raise ValueError(
                "The data have missing values but the estimator is complete-data ML; "
                "use missing='fiml'."
            )
    if _weights(objective, 0) is not None:
        # sampling weights: the one pattern carries the weighted moments and N = sum of the weights
        st = objective.stats
        pats = [replace(mp, freq=np.array([st.nobs[g]], dtype=float), means=[np.asarray(st.mean[g], float)],
                        covs=[np.asarray(st.cov[g], float)]) for g, mp in enumerate(pats)]
    objective._robust_patterns = pats
    return pats


def _weights(objective, g):
    """Sampling weights of the rows of group ``g`` (None without weights)."""
    w = getattr(objective.stats, "weights", None)
    return None if not w else w[g]


def _weighted_scores(objective, g, sc: np.ndarray) -> np.ndarray:
    """Casewise scores times the sampling weights (lavaan multiplies each row's score by its weight)."""
    w = _weights(objective, g)
    return sc if w is None else sc * w[:, None]


def _moments(objective, theta):
    if _is_fiml(objective):
        return objective._moments(theta)
    out = []
    for g, (s, m) in enumerate(objective.model.implied(theta)):
        if m is None or not _meanstructure(objective):
            m = objective.stats.mean[g]  # no mean structure: the sample mean
        out.append((np.asarray(s, float), np.asarray(m, float)))
    return out


def _h1_moments(objective, g):
    """Unrestricted moments of group g: sample (complete) or EM (FIML)."""
    if _is_fiml(objective):
        return objective.h1_group(g)
    return np.asarray(objective.stats.cov[g], float), np.asarray(objective.stats.mean[g], float)


def _nobs(objective) -> np.ndarray:
    if _is_fiml(objective):
        return np.asarray(objective.nobs, dtype=float)
    return np.asarray(objective.stats.nobs, dtype=float)


def _x_idx(objective) -> list[np.ndarray]:
    """Per group, positions of the fixed exogenous (fixed.x) observed variables."""
    model = objective.model
    pt = getattr(model, "partable", None)
    out = []
    for g in range(len(_nobs(objective))):
        names = list(model.ov_names[g]) if hasattr(model, "ov_names") else []
        xs = set()
        if pt is not None and "exo" in pt.columns:
            rows = pt[(pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & (pt["exo"] == 1)]
            if "group" in pt.columns:
                rows = rows[rows["group"] == g + 1]
            xs = set(rows["lhs"])
        out.append(np.array([i for i, v in enumerate(names) if v in xs], dtype=int))
    return out


def _keep_moments(p: int, x_idx, meanstructure: bool) -> np.ndarray:
    """Positions of ``(mu, vech Sigma)`` not made of fixed-x variables only."""
    r, c = vech_indices(p)
    isx = np.zeros(p, dtype=bool)
    isx[np.asarray(x_idx, dtype=int)] = True
    keep_s = ~(isx[r] & isx[c])
    if meanstructure:
        return np.flatnonzero(np.concatenate([~isx, keep_s]))
    return np.flatnonzero(keep_s)


def _clusters(objective, cluster):
    """Cluster labels per group (aligned with ``stats.data[g]``) or None."""
    if cluster is None:
        cluster = getattr(objective, "cluster", None)
    if cluster is None:
        cluster = getattr(objective.stats, "cluster", None)
    if cluster is None:
        return None
    pats = _patterns(objective)
    per_group = (isinstance(cluster, (list, tuple)) and len(cluster) == len(pats)
                 and all(np.ndim(c) == 1 for c in cluster))
    if not per_group:
        if len(pats) != 1:
            raise ValueError("With groups, give the cluster labels as a list with one array per group.")
        cluster = [cluster]
    out = []
    for g, (mp, cl) in enumerate(zip(pats, cluster)):
        cl = np.asarray(cl)
        if cl.shape[0] != mp.data.shape[0] + len(mp.empty):
            raise ValueError(
                f"The cluster variable has {cl.shape[0]} values but group {g + 1} has "
                f"{mp.data.shape[0] + len(mp.empty)} rows."
            )
        cl = cl[mp.kept]
        if pd_isna(cl).any():
            raise ValueError("The cluster variable has missing values.")
        out.append(cl)
    return out


def cluster_labels(data, ov_names, cluster: str, *, group: str | None = None,
                   missing: str = "listwise") -> list[np.ndarray]:
    """Cluster labels aligned with the rows the core keeps (``SampleStats.data``).

    Parameters
    ----------
    data : pandas.DataFrame
        The data passed to :func:`analysis.sem.sem`.
    ov_names : list of str
        Observed variables of the model.
    cluster : str
        Column holding the cluster (e.g. community) of each row.
    group : str, optional
        Group column, as given to ``sem``.
    missing : {"listwise", "fiml"}

    Returns
    -------
    list of numpy.ndarray
        One array per group (groups in order of first appearance), the labels
        of the rows used: complete rows under listwise deletion, rows with at
        least one observed value under FIML (the rules of
        :func:`analysis.sem.samplestats.sample_stats`).

    Notes
    -----
    Set ``objective.cluster = cluster_labels(...)`` to make :func:`robust_vcov`
    and :func:`scaled_test` cluster-robust (lavaan ``cluster =`` with a
    single-level model).

    References
    ----------
    .. [1] Rosseel, Y. (2012). lavaan. *Journal of Statistical Software*, 48(2).
    """
    import pandas as pd

    if cluster not in data.columns:
        raise ValueError(f"The cluster column {cluster!r} is not in the data.")
    if data[cluster].isna().any():
        rows = (np.flatnonzero(data[cluster].isna().to_numpy()) + 2)[:5].tolist()
        raise ValueError(f"The cluster column {cluster!r} has missing values (spreadsheet rows {rows}).")
    frame = data
    if group is not None:
        frame = data.loc[data[group].notna()]
        labels = list(pd.unique(frame[group]))
    else:
        labels = [None]
    x = frame[list(ov_names)].to_numpy(dtype=float)
    cl = frame[cluster].to_numpy()
    out = []
    for lab in labels:
        sel = np.ones(len(frame), dtype=bool) if group is None else (frame[group].to_numpy() == lab)
        xg, cg = x[sel], cl[sel]
        keep = ~np.isnan(xg).any(axis=1) if missing == "listwise" else ~np.isnan(xg).all(axis=1)
        out.append(cg[keep])
    return out


def pd_isna(a) -> np.ndarray:
    import pandas as pd

    return np.asarray(pd.isna(a))


def _crossprod_scores(sc: np.ndarray, cl) -> np.ndarray:
    """``crossprod(SC)`` (lavaan), with cluster sums and the G/(G-1) factor."""
    return _score_crossprod([(slice(None), sc)], cl)


def _moment_score_blocks(objective, g, mp, mu, sigma, meanstructure: bool, post=None):
    """The (weighted) casewise scores of ``(mu, vech Sigma)`` of group ``g``, in blocks of rows.

    Yields ``(rows, block)``; ``block`` is multiplied by ``post`` when given
    (a Jacobian: scores of parameters).  Never all ``n x (p + p*)`` scores at
    once (:func:`analysis.sem.fiml.casewise_score_blocks`).
    """
    w = _weights(objective, g)
    p = mp.nvar
    columns = None if meanstructure else np.arange(p, p + p * (p + 1) // 2)
    if post is not None and np.all((post == 0) | (post == 1)) and np.all(post.sum(axis=0) == 1):
        # a selection (the independence model's means and variances): compute only those scores
        rows_of = np.argmax(post, axis=0)
        columns, post = (rows_of if columns is None else columns[rows_of]), None
    for rows, block in casewise_score_blocks(mp, mu, sigma, columns=columns):
        if w is not None:
            block = block * w[rows, None]
        yield rows, (block if post is None else block @ post)


def _cluster_codes(cl) -> np.ndarray:
    """The cluster of every row as codes ``0 .. G-1`` (in sorted label order)."""
    _, inv = np.unique(cl, return_inverse=True)
    return np.asarray(inv).reshape(-1)


def _gram(a: np.ndarray, acc: np.ndarray | None = None) -> np.ndarray:
    """``a' a`` (plus ``acc``) by BLAS ``dsyrk``: half the work of ``a.T @ a``; upper triangle only
    (:func:`_symmetric` completes it)."""
    from scipy.linalg.blas import dsyrk

    a = np.ascontiguousarray(a, dtype=float)
    if acc is None:
        return dsyrk(1.0, a.T, trans=0)                     # a.T is Fortran-ordered: no copy
    return dsyrk(1.0, a.T, beta=1.0, c=acc, trans=0, overwrite_c=1)


def _symmetric(upper: np.ndarray) -> np.ndarray:
    return np.triu(upper) + np.triu(upper, 1).T


def _score_crossprod(blocks, cl) -> np.ndarray:
    """``crossprod(SC)`` of scores given in blocks of rows ``(rows, block)``, with cluster sums and the
    G/(G-1) factor when ``cl`` (the cluster of every row) is given; memory bounded by the blocks."""
    inv = n_cl = None
    if cl is not None:
        inv = _cluster_codes(cl)
        n_cl = int(inv.max()) + 1
        if n_cl < 2:
            raise ValueError("Cluster-robust standard errors need at least two clusters.")
    acc = summed = None
    for rows, block in blocks:
        if inv is None:
            acc = _gram(block, acc)
        else:
            if summed is None:
                summed = np.zeros((n_cl, block.shape[1]))
            np.add.at(summed, inv[rows], block)
    if inv is not None:
        return _symmetric(_gram(summed)) * (n_cl / (n_cl - 1.0))
    return _symmetric(acc)


def _once(objective, name: str, parts, compute):
    """``compute()`` once per FIML objective and key ``parts()`` (arrays): the robust SEs, the scaled
    test and the FIML-corrected indices share their information matrices (a FIML objective's data never
    change; other objectives are refitted to new data, so nothing is kept for them, and their key is
    never formed: a bootstrap draw's sandwich SE pays nothing for this)."""
    if not _is_fiml(objective):
        return compute()
    import hashlib

    key = (name,) + tuple(hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16).hexdigest()
                          if x is not None else None for x in parts())
    cache = objective.__dict__.setdefault("_robust_once", {})
    if key not in cache:
        if len(cache) > 16:
            cache.clear()
        value = compute()
        value.flags.writeable = False                # shared: read-only
        cache[key] = value
    return cache[key]


def _h1_first_order(objective, g, m, s, ms: bool, cl) -> np.ndarray:
    """Sum of the outer products of the H1 moment scores of group ``g`` (cluster sums with ``cl``)."""
    mp = _patterns(objective)[g]
    return _once(objective, "h1_first_order",
                 lambda: (np.int64(g), np.int8(ms), None if cl is None else _cluster_codes(cl)),
                 lambda: _score_crossprod(_moment_score_blocks(objective, g, mp, m, s, ms), cl))


def _complete_patterns(mean, cov, n) -> MissingPatterns:
    """A one-pattern summary with given moments (for complete-data h1 matrices)."""
    p = len(mean)
    return MissingPatterns(
        data=np.zeros((int(n), p)), columns=[f"V{j + 1}" for j in range(p)],
        observed=np.ones((1, p), dtype=bool), rows=[np.arange(int(n))],
        freq=np.array([int(n)]), means=[np.asarray(mean, float)], covs=[np.asarray(cov, float)],
        kept=np.arange(int(n)),
    )


# --------------------------------------------------------------------------
# information matrices in theta space
# --------------------------------------------------------------------------
@single_threaded
def observed_information(objective, theta) -> np.ndarray:
    """Observed unit information: the Hessian of lavaan's ``fmin``.

    Parameters
    ----------
    objective : Objective
    theta : array-like

    Returns
    -------
    numpy.ndarray, shape (q, q)

    Notes
    -----
    :math:`E = \\partial^2 f_{min}/\\partial\\theta\\partial\\theta' =
    -N^{-1}\\partial^2\\log L/\\partial\\theta\\partial\\theta'`, by a four-point
    difference of the analytic gradient (lavaan ``lav_model_hessian``).

    References
    ----------
    .. [1] Rosseel, Y. (2012). lavaan. *Journal of Statistical Software*, 48(2).
    """
    try:
        return objective.information(theta, kind="observed")
    except NotImplementedError:
        return numeric_hessian(objective.gradient, np.asarray(theta, dtype=float))


def casewise_scores(objective, theta) -> list[np.ndarray]:
    """Casewise scores of the loglikelihood w.r.t. ``theta``, per group.

    Parameters
    ----------
    objective : MLObjective or FIMLObjective
    theta : array-like

    Returns
    -------
    list of numpy.ndarray, each (n_g, q)

    Notes
    -----
    :math:`s_i(\\theta) = \\Delta'\\,\\partial\\log L_i/\\partial\\gamma` with
    :math:`\\gamma = (\\mu, \\operatorname{vech}\\Sigma)` at the implied
    moments (see :func:`analysis.sem.fiml.casewise_scores`).

    References
    ----------
    .. [1] White, H. (1982). Maximum likelihood estimation of misspecified
       models. *Econometrica*, 50(1), 1-25.
    """
    if _is_fiml(objective):
        return [_weighted_scores(objective, g, sc) for g, sc in enumerate(objective.casewise_scores(theta))]
    ms = _meanstructure(objective)
    jac = objective.model.jacobian(theta)
    out = []
    for g, (mp, (sigma, mu)) in enumerate(zip(_patterns(objective), _moments(objective, theta))):
        d_sigma, d_mu = jac[g]
        delta = delta_matrix(d_sigma, d_mu if ms else None, meanstructure=True)
        sc = np.empty((mp.nobs, delta.shape[1]))
        for rows, block in _moment_score_blocks(objective, g, mp, mu, sigma, True, post=delta):
            sc[rows] = block
        out.append(sc)
    return out


@single_threaded
def first_order_information(objective, theta, cluster=None) -> np.ndarray:
    """First-order (outer product of scores) unit information ``B``.

    Parameters
    ----------
    objective : MLObjective or FIMLObjective
    theta : array-like
    cluster : list of array-like, optional
        Cluster labels per group, aligned with ``stats.data[g]`` (default:
        ``objective.cluster`` or ``objective.stats.cluster`` when present).

    Returns
    -------
    numpy.ndarray, shape (q, q)
        Read-only for a FIML fit, whose value is computed once and shared
        (by the sandwich SEs and the scaled test).

    Notes
    -----
    :math:`B = N^{-1}\\sum_g\\sum_i s_{gi}s_{gi}'`; with clusters
    :math:`B = N^{-1}\\sum_g \\frac{G_g}{G_g-1}\\sum_c S_{gc}S_{gc}'` with
    :math:`S_{gc}` the sum of the scores in cluster :math:`c` (lavaan
    ``lav_mvnorm_information_firstorder``).

    References
    ----------
    .. [1] Williams, R. L. (2000). A note on robust variance estimation for
       cluster-correlated data. *Biometrics*, 56(2), 645-646.
    """
    cls = _clusters(objective, cluster)
    theta = np.asarray(theta, dtype=float)

    def compute():
        scores = casewise_scores(objective, theta)
        b = np.zeros((scores[0].shape[1],) * 2)
        for g, sc in enumerate(scores):
            b += _crossprod_scores(sc, None if cls is None else cls[g])
        return b / _nobs(objective).sum()

    def key():
        return (theta,) + (() if cls is None else tuple(_cluster_codes(c) for c in cls))

    return _once(objective, "first_order", key, compute)


@single_threaded
def robust_vcov(objective, theta, cluster=None) -> np.ndarray:
    """Huber-White sandwich covariance matrix of the estimates (lavaan MLR).

    Parameters
    ----------
    objective : MLObjective or FIMLObjective
    theta : array-like
        The estimates.
    cluster : list of array-like, optional
        Cluster labels per group (cluster-robust variant).

    Returns
    -------
    numpy.ndarray, shape (q, q)

    Notes
    -----
    :math:`\\widehat{V} = N^{-1} E^{-1} B E^{-1}`, with ``E`` the observed
    and ``B`` the first-order unit information.

    References
    ----------
    .. [1] White, H. (1982). Maximum likelihood estimation of misspecified
       models. *Econometrica*, 50(1), 1-25.
    .. [2] Yuan, K.-H., & Bentler, P. M. (2000). *Sociological Methodology*,
       30, 165-200.
    """
    theta = np.asarray(theta, dtype=float)
    e_inv = np.linalg.inv(observed_information(objective, theta))
    b = first_order_information(objective, theta, cluster)
    v = e_inv @ b @ e_inv / _nobs(objective).sum()
    return 0.5 * (v + v.T)


# --------------------------------------------------------------------------
# H1 (unstructured) matrices in moment space
# --------------------------------------------------------------------------
def _h1_matrices(objective, g, cl):
    """A1 (observed information) and B1 (first-order) at the H1 moments."""
    ms = _meanstructure(objective)
    s, m = _h1_moments(objective, g)
    mp = _patterns(objective)[g]
    if _is_fiml(objective):
        a1 = objective.h1_information(g)
        if not ms:
            a1 = a1[mp.nvar:, mp.nvar:]
    else:
        a1 = -hessian_moments(_complete_patterns(m, s, mp.nobs), m, s, meanstructure=ms) / mp.nobs
    b1 = _h1_first_order(objective, g, m, s, ms, cl) / _nobs(objective)[g]
    keep = _keep_moments(mp.nvar, _x_idx(objective)[g], ms)
    return a1[np.ix_(keep, keep)], b1[np.ix_(keep, keep)]


def _baseline_parts(objective, cl_all):
    """Independence model: chisq, df, E (unit observed info), B0 (first order)."""
    ms = _meanstructure(objective)
    n_tot = _nobs(objective).sum()
    blocks_e, blocks_b, deltas, moments = [], [], [], []
    ll_b = 0.0
    df_b = 0
    x_all = _x_idx(objective)
    for g, mp in enumerate(_patterns(objective)):
        p = mp.nvar
        xi = x_all[g]
        yi = np.setdiff1d(np.arange(p), xi)
        s, m = _h1_moments(objective, g)
        if _is_fiml(objective):
            mu_b, var_b, _ = independence_fit(mp)
        else:
            mu_b, var_b = m.copy(), np.diag(s).copy()
        sigma_b = np.diag(var_b)
        if len(xi):
            sigma_b[np.ix_(xi, xi)] = s[np.ix_(xi, xi)]
            mu_b[xi] = m[xi]
        from .saturated import loglik_missing

        ll_b += loglik_missing(mp, mu_b, sigma_b)
        df_b += p * (p - 1) // 2 - len(xi) * (len(xi) - 1) // 2
        r, c = vech_indices(p)
        pos = np.full((p, p), -1, dtype=int)
        pos[r, c] = np.arange(len(r))
        ps = len(r)
        k = len(yi)
        # parameters: variances (and means) of the non-exogenous variables
        if ms:
            d = np.zeros((p + ps, 2 * k))
            d[yi, np.arange(k)] = 1.0
            d[p + pos[yi, yi], k + np.arange(k)] = 1.0
        else:
            d = np.zeros((ps, k))
            d[pos[yi, yi], np.arange(k)] = 1.0
        dsb = np.zeros((d.shape[1], p, p))
        dmb = np.zeros((d.shape[1], p)) if ms else None
        for j in range(d.shape[1]):
            col = d[:, j]
            if ms:
                dmb[j] = col[:p]
                dsb[j][r, c] = col[p:]
            else:
                dsb[j][r, c] = col
            dsb[j][c, r] = dsb[j][r, c]
        h = theta_hessian(mp, mu_b, sigma_b, dsb, dmb)
        blocks_e.append(-h / n_tot)
        scores = _moment_score_blocks(objective, g, mp, mu_b, sigma_b, ms, post=d)
        blocks_b.append(_score_crossprod(scores, None if cl_all is None else cl_all[g]) / n_tot)
        deltas.append(d)
        moments.append((mu_b, sigma_b))
    chisq_b = max(2.0 * (objective.loglik_h1() - ll_b), 0.0)
    return {
        "loglik": ll_b, "df": df_b, "E": blocks_e, "B0": blocks_b, "delta": deltas,
        "moments": moments, "chisq": chisq_b,
    }


def _ndat(objective) -> int:
    ms = _meanstructure(objective)
    total = 0
    for mp, xi in zip(_patterns(objective), _x_idx(objective)):
        total += len(_keep_moments(mp.nvar, xi, ms))
    return total


def yuan_bentler_test(objective, theta, cluster=None, df=None) -> dict:
    """Yuan-Bentler scaled chi-square, Mplus variant (lavaan MLR's test).

    Parameters
    ----------
    objective : MLObjective or FIMLObjective
    theta : array-like
        The estimates.
    cluster : list of array-like, optional
        Cluster labels per group.
    df : int, optional
        Model degrees of freedom (default: moments minus free parameters).

    Returns
    -------
    dict
        ``chisq``, ``df``, ``chisq_scaled``, ``pvalue_scaled``,
        ``scaling_factor``, ``trace_ugamma``, ``scaling_factor_h1``,
        ``scaling_factor_h0``, and the same for the independence model under
        ``baseline_chisq``, ``baseline_df``, ``baseline_chisq_scaled``,
        ``baseline_pvalue_scaled``, ``baseline_scaling_factor``.

    Notes
    -----
    :math:`\\operatorname{tr}(U\\Gamma) = \\sum_g \\operatorname{tr}(B_{1g}
    A_{1g}^{-1}) - \\operatorname{tr}(B_0 E^{-1})`,
    :math:`c = \\operatorname{tr}(U\\Gamma)/df`,
    :math:`T_{YB} = T_{ML}/c` (lavaan ``lav_test_yuan_bentler_mplus_trace``).

    References
    ----------
    .. [1] Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based
       methods for mean and covariance structure analysis with nonnormal
       missing data. *Sociological Methodology*, 30, 165-200.
    .. [2] Muthén, L. K., & Muthén, B. O. (1998-2017). *Mplus user's guide*.
    """
    theta = np.asarray(theta, dtype=float)
    q = theta.size
    if df is None:
        df = _ndat(objective) - q
    chisq = float(objective.test_statistic(theta))
    cls = _clusters(objective, cluster)
    n_g = _nobs(objective)
    fg = n_g / n_g.sum()
    e = observed_information(objective, theta)
    e_inv = np.linalg.inv(e)
    b0 = first_order_information(objective, theta, cls)
    trace_h1 = 0.0
    ndat = 0
    h1_parts = []
    for g in range(len(n_g)):
        a1, b1 = _h1_matrices(objective, g, None if cls is None else cls[g])
        a1_inv = np.linalg.inv(a1)
        trace_h1 += float(np.sum(b1 * a1_inv.T))
        ndat += a1.shape[0]
        h1_parts.append((a1, b1))
    trace_h0 = float(np.sum(b0 * e_inv.T))
    trace = trace_h1 - trace_h0
    out = {"chisq": chisq, "df": int(df), "trace_ugamma": trace,
           "scaling_factor_h1": trace_h1 / ndat, "scaling_factor_h0": trace_h0 / q}
    if df > 0:
        c = trace / df
        c = c if c > 0 else np.nan
        out.update(scaling_factor=c, chisq_scaled=chisq / c,
                   pvalue_scaled=_fi.pchisq(chisq / c, df, lower_tail=False))
    else:
        out.update(scaling_factor=np.nan, chisq_scaled=chisq, pvalue_scaled=np.nan)
    # baseline
    base = _baseline_parts(objective, cls)
    e_b = _block_diag(base["E"])
    b0_b = _block_diag(base["B0"])
    trace_b = trace_h1 - float(np.sum(b0_b * np.linalg.inv(e_b).T))
    c_b = trace_b / base["df"] if base["df"] > 0 else np.nan
    out.update(baseline_chisq=base["chisq"], baseline_df=base["df"],
               baseline_scaling_factor=c_b, baseline_chisq_scaled=base["chisq"] / c_b,
               baseline_pvalue_scaled=_fi.pchisq(base["chisq"] / c_b, base["df"], lower_tail=False))
    return out


def _block_diag(blocks):
    nr = sum(b.shape[0] for b in blocks)
    nc = sum(b.shape[1] for b in blocks)
    out = np.zeros((nr, nc))
    i = j = 0
    for b in blocks:
        out[i:i + b.shape[0], j:j + b.shape[1]] = b
        i += b.shape[0]
        j += b.shape[1]
    return out


# --------------------------------------------------------------------------
# Satorra-Bentler scaled test (lavaan's test = "satorra.bentler")
# --------------------------------------------------------------------------
def _structured_h1_information(objective, g, mu, sigma, information: str) -> np.ndarray:
    """Unit h1 information of group g at the implied moments (lavaan ``h1.information = "structured"``).

    ``"expected"``: the normal-theory weight; ``"observed"``: lavaan's
    ``observed.information = "h1"`` (the observed information of the
    saturated model, evaluated at the implied moments with the sample ones).
    """
    ms = _meanstructure(objective)
    s, m = _h1_moments(objective, g)
    n = _patterns(objective)[g].nobs
    pats = _complete_patterns(m, s, n)
    return -hessian_moments(pats, mu, sigma, meanstructure=ms,
                            expected=(information == "expected")) / n


def _ugamma_trace(weights, deltas, gammas, fg) -> float:
    """``tr(U Gamma)`` with ``U = V - V Delta (Delta' V Delta)^{-1} Delta' V`` over groups.

    ``V = bdiag(f_g W_g)``, ``Gamma = bdiag(Gamma_g / f_g)`` (lavaan
    ``lav_test_satorra_bentler_trace_original``).
    """
    e = sum(f * d.T @ w @ d for w, d, f in zip(weights, deltas, fg))
    wgw = sum(f * d.T @ w @ gm @ w @ d for w, d, gm, f in zip(weights, deltas, gammas, fg))
    tr_wg = sum(float(np.sum(w * gm.T)) for w, gm in zip(weights, gammas))
    return tr_wg - float(np.sum(np.linalg.inv(e) * wgw.T))


def satorra_bentler_test(objective, theta, cluster=None, df=None,
                         information: str | None = None) -> dict:
    """Satorra-Bentler scaled chi-square (lavaan ``test = "satorra.bentler"``), also cluster-robust.

    Parameters
    ----------
    objective : MLObjective
        Complete-data ML (FIML and fixed-x covariates are not supported).
    theta : array-like
        The estimates.
    cluster : list of array-like, optional
        Cluster labels per group (default ``objective.cluster``): lavaan's
        ``se = "robust.cluster"``.
    df : int, optional
    information : {"observed", "expected"}, optional
        Information of ``U``: lavaan uses the h1-based observed information
        with ``cluster`` (``information = "observed"``,
        ``observed.information = "h1"``) and the expected information
        without (``estimator = "MLM"``); the default follows lavaan.

    Returns
    -------
    dict
        The keys of :func:`yuan_bentler_test` (without the h1/h0 scaling
        factors) plus ``test = "satorra.bentler"``; ``trace_ugamma`` is
        :math:`\\operatorname{tr}(U\\Gamma)`.

    Notes
    -----
    :math:`c = \\operatorname{tr}(U\\Gamma)/df`, :math:`T_{SB} = T_{ML}/c`, with
    :math:`U = W - W\\Delta(\\Delta'W\\Delta)^{-1}\\Delta'W` (structured h1
    information at the implied moments) and the asymptotic covariance of
    the sample moments :math:`\\Gamma = A_1^{-1}B_1A_1^{-1}` (unstructured
    h1 information :math:`A_1` and first-order :math:`B_1`), which is
    lavaan's NACOV (``lav_samplestats_Gamma``).  With clusters lavaan sums
    the centred moment deviations within clusters and multiplies the
    cross-product by **G/(G-1)** (the small-sample factor of the
    cluster-robust meat, here carried by :math:`B_1`), and takes U from the
    observed information of the h1 model at the implied moments (its
    ``observed.information = "h1"``).  Dropping the G/(G-1) or taking U from
    the expected information gives a scaling factor ~3% (G = 31) or ~1.3%
    below lavaan's for the HS model (1.0826, 1.1037 instead of 1.1187).
    The baseline model's test uses the same Gamma.

    References
    ----------
    .. [1] Satorra, A., & Bentler, P. M. (1994). Corrections to test
       statistics and standard errors in covariance structure analysis. In
       A. von Eye & C. C. Clogg (Eds.), *Latent variables analysis* (pp.
       399-419). Sage.
    .. [2] Rosseel, Y. (2012). lavaan. *Journal of Statistical Software*, 48(2).
    """
    if _is_fiml(objective):
        raise NotImplementedError("The Satorra-Bentler test is not available with missing='fiml' "
                                  "(lavaan: use MLR, the Yuan-Bentler test).")
    if any(len(x) for x in _x_idx(objective)):
        raise NotImplementedError("The Satorra-Bentler test with fixed exogenous covariates "
                                  "(fixed.x) is not implemented.")
    theta = np.asarray(theta, dtype=float)
    if df is None:
        df = _ndat(objective) - theta.size
    cls = _clusters(objective, cluster)
    if information is None:
        information = "expected" if cls is None else "observed"
    if information not in ("observed", "expected"):
        raise ValueError("information must be 'observed' or 'expected'.")
    ms = _meanstructure(objective)
    chisq = float(objective.test_statistic(theta))
    n_g = _nobs(objective)
    fg = n_g / n_g.sum()
    gammas = []
    for g in range(len(n_g)):
        a1, b1 = _h1_matrices(objective, g, None if cls is None else cls[g])
        a1_inv = np.linalg.inv(a1)
        gammas.append(a1_inv @ b1 @ a1_inv)
    jac = objective.model.jacobian(theta)
    weights, deltas = [], []
    for g, (sigma, mu) in enumerate(_moments(objective, theta)):
        weights.append(_structured_h1_information(objective, g, mu, sigma, information))
        d_sigma, d_mu = jac[g]
        deltas.append(delta_matrix(d_sigma, d_mu if ms else None, meanstructure=ms))
    out = {"test": "satorra.bentler", "chisq": chisq, "df": int(df)}
    if df > 0:
        trace = _ugamma_trace(weights, deltas, gammas, fg)
        c = trace / df
        c = c if c >= 0 else np.nan
        out.update(trace_ugamma=trace, scaling_factor=c, chisq_scaled=chisq / c,
                   pvalue_scaled=_fi.pchisq(chisq / c, df, lower_tail=False))
    else:  # lavaan: the standard test with an NA scaling factor
        out.update(trace_ugamma=np.nan, scaling_factor=np.nan, chisq_scaled=chisq,
                   pvalue_scaled=np.nan)
    base = _baseline_parts(objective, cls)
    w_b = [_structured_h1_information(objective, g, mu_b, sigma_b, information)
           for g, (mu_b, sigma_b) in enumerate(base["moments"])]
    trace_b = _ugamma_trace(w_b, base["delta"], gammas, fg)
    c_b = trace_b / base["df"] if base["df"] > 0 else np.nan
    out.update(baseline_chisq=base["chisq"], baseline_df=base["df"], baseline_trace_ugamma=trace_b,
               baseline_scaling_factor=c_b, baseline_chisq_scaled=base["chisq"] / c_b,
               baseline_pvalue_scaled=_fi.pchisq(base["chisq"] / c_b, base["df"], lower_tail=False))
    return out


# --------------------------------------------------------------------------
# corrections of the robust CFI/TLI/RMSEA (the indices: analysis.sem.fit_indices)
# --------------------------------------------------------------------------
def _per_df(k, df) -> float:
    """lavaan's ``k / df``: infinite at df = 0 (``k / 0`` in R; the indices then use their df = 0 rules)."""
    if df > 0:
        return k / df
    return np.inf if df == 0 else np.nan


def catml_corrected(objective, theta) -> dict:
    """catML statistics of the robust CFI/TLI/RMSEA after DWLS/WLSMV (lavaan ``lav_fit_catml_dwls``).

    Parameters
    ----------
    objective : analysis.sem.dwls.DWLSObjective
        All observed variables ordinal (otherwise, as lavaan, NaN).
    theta : array-like
        The DWLS estimates.

    Returns
    -------
    dict
        ``XX3, df3, c_hat3, XX3_scaled, XX3_null, df3_null, c_hat3_null``
        (all NaN when a polychoric matrix is not positive definite or a
        variable has no thresholds, as lavaan).

    Notes
    -----
    The model is evaluated (not refitted) by normal-theory ML on the
    polychoric correlations (lavaan's ``estimator = "catML"``):
    :math:`X^2_3 = \\sum_g N_g[\\log|\\Sigma_g| + \\operatorname{tr}(R_g\\Sigma_g^{-1})
    - \\log|R_g| - p]` on :math:`df_3` = correlations minus free
    non-threshold parameters.  With :math:`V` the catML weight (the
    normal-theory information of the correlations at :math:`\\Sigma`,
    :math:`V_{ij,kl} = \\sigma^{ik}\\sigma^{jl} + \\sigma^{il}\\sigma^{jk}`),
    :math:`W`, :math:`\\Gamma` the DWLS weight and NACOV of the correlations
    (groups weighted by :math:`f_g`, :math:`1/f_g`), :math:`\\Delta` their rows of
    the DWLS Jacobian and :math:`E^{-1}` the inverted DWLS information,
    :math:`M = I - \\Delta E^{-1}\\Delta'W`,
    :math:`\\hat c_3 = \\operatorname{tr}(M'VM\\Gamma)/df_3`; baseline:
    :math:`X^2_{3,0} = -\\sum_g N_g\\log|R_g|`,
    :math:`\\hat c_{3,0} = \\operatorname{tr}(\\Gamma)/df_{3,0}` [1]_.

    References
    ----------
    .. [1] Savalei, V. (2021). Improving fit indices in structural equation
       modeling with categorical data. *Multivariate Behavioral Research*,
       56(3), 390-407.
    """
    theta = np.asarray(theta, dtype=float)
    nan = dict(XX3=np.nan, df3=np.nan, c_hat3=np.nan, XX3_scaled=np.nan, XX3_null=np.nan,
               df3_null=np.nan, c_hat3_null=np.nan)
    ostats = objective.ostats
    for st in ostats:
        p = st.polychoric.shape[0]
        if len(np.unique(st.th_var)) < p:  # a continuous variable: lavaan gives NA
            return nan
        if np.any(np.linalg.eigvalsh(st.polychoric) < np.finfo(float).eps ** 0.5):
            return nan
    fg = np.asarray(objective.nobs, float) / objective.ntotal
    rows, cols = objective._rows, objective._cols
    dl = objective.delta(theta)
    xx3 = xx3_null = 0.0
    v_b, w_b, g_b, d_b = [], [], [], []
    ncor = 0
    for g, ((sigma, _), st) in enumerate(zip(objective.model.implied(theta), ostats)):
        r = st.polychoric
        p = r.shape[0]
        si = np.linalg.inv(sigma)
        xx3 += st.nobs * (np.linalg.slogdet(sigma)[1] + np.sum(r * si) - np.linalg.slogdet(r)[1] - p)
        xx3_null += -st.nobs * np.linalg.slogdet(r)[1]
        ncor += rows.size
        v = si[np.ix_(rows, rows)] * si[np.ix_(cols, cols)] + si[np.ix_(rows, cols)] * si[np.ix_(cols, rows)]
        t = st.thresholds.size
        v_b.append(fg[g] * v)
        w_b.append(fg[g] * np.diag(st.wls_v[t:]))
        g_b.append(st.gamma[t:, t:] / fg[g])
        d_b.append(dl[g][t:])
    pt = objective.model.partable
    free = pt.loc[(pt["free"] > 0) & ~pt["op"].isin(["|", "~1"]), "free"]
    df3 = int(ncor - free.nunique())
    v_all, w_all, gam_all = _block_diag(v_b), _block_diag(w_b), _block_diag(g_b)
    d_all = np.vstack(d_b)
    e_inv = np.linalg.inv(objective.information(theta))
    m = np.eye(d_all.shape[0]) - d_all @ e_inv @ d_all.T @ w_all
    ks = float(np.sum((m.T @ v_all @ m) * gam_all.T))
    c3 = _per_df(ks, df3)
    c3_null = _per_df(float(np.trace(gam_all)), ncor)
    return dict(XX3=xx3, df3=df3, c_hat3=c3, XX3_scaled=xx3 / c3, XX3_null=xx3_null,
                df3_null=ncor, c_hat3_null=c3_null)


def _ml_chisq(n, s, m, sigma, mu, meanstructure=True):
    """Complete-data ML chi-square of (sigma, mu) against moments (s, m)."""
    w = np.linalg.inv(sigma)
    p = s.shape[0]
    f = np.linalg.slogdet(sigma)[1] + np.sum(s * w) - np.linalg.slogdet(s)[1] - p
    if meanstructure:
        d = m - mu
        f += d @ w @ d
    return float(n * f)


def fiml_corrected(objective, theta, version: str = "V3", cluster=None, df=None) -> dict:
    """FIML-corrected statistics for the robust RMSEA/CFI after FIML.

    Parameters
    ----------
    objective : FIMLObjective
    theta : array-like
    version : {"V3", "V6"}
        lavaan uses V3 when a scaled test is requested (MLR), V6 otherwise.
    cluster : optional
        Cluster labels per group (enter the first-order matrix of V3).
    df : int, optional

    Returns
    -------
    dict
        ``XX3``, ``df3``, ``c_hat3``, ``XX3_scaled``, ``XX3_null``,
        ``df3_null``, ``c_hat3_null`` (lavaan ``lav_fit_fiml_corrected``).

    Notes
    -----
    ``XX3`` is the complete-data ML statistic of the FIML estimates against
    the EM moments; with :math:`W_m` the observed H1 information of the
    incomplete data, :math:`W_c` the complete-data one at the EM moments,
    :math:`U = W_m - W_m\\Delta(\\Delta'W_m\\Delta)^{-1}\\Delta'W_m` and
    :math:`\\Gamma = W_m^{-1}J_mW_m^{-1}`:
    V3 :math:`k = \\operatorname{tr}(UW_m^{-1}W_cW_m^{-1}U\\Gamma)`,
    V6 :math:`k = \\operatorname{tr}(W_cW_m^{-1}UW_m^{-1})`;
    :math:`\\hat c = k/df` (infinite at df = 0: lavaan's ``k / 0``) [1]_.

    References
    ----------
    .. [1] Zhang, X., & Savalei, V. (2023). New computations for RMSEA and
       CFI following FIML and TS estimation with missing data.
       *Psychological Methods*, 28(2), 263-283.
    """
    if not _is_fiml(objective):
        raise ValueError("fiml_corrected needs a FIML fit (missing='fiml').")
    version = version.upper()
    if version not in ("V3", "V6"):
        raise ValueError("version must be 'V3' or 'V6'.")
    theta = np.asarray(theta, dtype=float)
    q = theta.size
    if df is None:
        df = _ndat(objective) - q
    cls = _clusters(objective, cluster)
    ms = True
    n_g = _nobs(objective)
    fg = n_g / n_g.sum()
    jac = objective.model.jacobian(theta)
    implied = _moments(objective, theta)
    wm_b, wmi_b, wc_b, gam_b, deltas = [], [], [], [], []
    xx3 = 0.0
    for g, mp in enumerate(objective.patterns):
        s, m = objective.h1_group(g)
        sigma, mu = implied[g]
        xx3 += _ml_chisq(mp.total, s, m, sigma, mu, ms)
        wm = objective.h1_information(g)
        wc = -hessian_moments(_complete_patterns(m, s, mp.nobs), m, s, meanstructure=ms) / mp.nobs
        wmi = np.linalg.inv(wm)
        wm_b.append(fg[g] * wm)
        wc_b.append(fg[g] * wc)
        wmi_b.append(wmi / fg[g])
        if version == "V3":
            jm = _h1_first_order(objective, g, m, s, ms, None if cls is None else cls[g]) / mp.total
            gam_b.append(wmi @ jm @ wmi / fg[g])
        d_sigma, d_mu = jac[g]
        deltas.append(delta_matrix(d_sigma, d_mu, meanstructure=ms))
    wm_all, wc_all, wmi_all = _block_diag(wm_b), _block_diag(wc_b), _block_diag(wmi_b)
    gamma_all = _block_diag(gam_b) if version == "V3" else None
    m_all = wmi_all @ wc_all @ wmi_all

    def k_value(delta_all):
        wd = wm_all @ delta_all
        u = wm_all - wd @ np.linalg.solve(delta_all.T @ wd, wd.T)
        if version == "V3":
            return float(np.sum((u @ m_all @ u) * gamma_all.T))
        return float(np.sum(u * m_all.T))

    delta_all = np.vstack(deltas)
    c3 = _per_df(k_value(delta_all), df)
    out = {"XX3": xx3, "df3": int(df), "c_hat3": c3, "XX3_scaled": xx3 / c3}
    # baseline
    xx3_null = 0.0
    d_null = []
    df_null = 0
    for g, mp in enumerate(objective.patterns):
        s, m = objective.h1_group(g)
        mu_b, var_b, _ = independence_fit(mp)
        xx3_null += _ml_chisq(mp.total, s, m, np.diag(var_b), mu_b, ms)
        p = mp.nvar
        df_null += p * (p - 1) // 2
        r, c = vech_indices(p)
        ps = len(r)
        d = np.zeros((p + ps, 2 * p))
        d[np.arange(p), np.arange(p)] = 1.0
        d[p + np.flatnonzero(r == c), p + np.arange(p)] = 1.0
        d_null.append(d)
    db = _block_diag(d_null)
    c3_null = _per_df(k_value(db), df_null)
    out.update(XX3_null=xx3_null, df3_null=int(df_null), c_hat3_null=c3_null)
    return out


def robust_fit_measures(objective, theta, cluster=None, df=None, test: dict | None = None,
                        level: float = 0.90) -> dict:
    """lavaan's scaled and robust fit indices after MLR (or robust ones after FIML).

    Parameters
    ----------
    objective : MLObjective or FIMLObjective
    theta : array-like
    cluster : optional
        Cluster labels per group.
    df : int, optional
    test : dict, optional
        A result of :func:`yuan_bentler_test` or :func:`satorra_bentler_test`
        (the Yuan-Bentler test is computed when omitted).  For a FIML fit
        without a scaled test pass ``test={}``: only the ``*_robust`` keys,
        from FIML-C V6.
    level : float, default 0.90
        RMSEA confidence level.

    Returns
    -------
    dict
        Keys named as lavaan's ``fitMeasures`` with ``_`` for ``.``:
        ``chisq_scaled, df_scaled, pvalue_scaled, scaling_factor,
        baseline_chisq_scaled, baseline_df_scaled, baseline_pvalue_scaled,
        baseline_scaling_factor`` and the indices of
        :func:`analysis.sem.fit_indices.scaled_indices` (``cfi_scaled``,
        ``tli_scaled``, ``rmsea_scaled`` with interval and p-values) and
        :func:`analysis.sem.fit_indices.robust_indices` (``cfi_robust``,
        ``tli_robust``, ``rmsea_robust`` with interval and p-values).

    Notes
    -----
    The corrections (lavaan ``lav_fit_cfi_lavobject``,
    ``lav_fit_rmsea_lavobject``): complete data, :math:`\\hat c` is the
    scaling factor of the model and of the baseline (NaN at df = 0, so
    ``cfi_robust`` is NaN there); FIML, :math:`\\hat c` from
    :func:`fiml_corrected`.  ``rmsea_scaled`` is the unscaled statistic on
    :math:`df = \\operatorname{tr}(U\\Gamma)` (NaN at df = 0).

    References
    ----------
    .. [1] Brosseau-Liard, P. E., Savalei, V., & Li, L. (2012). An
       investigation of the sample performance of two nonnormality
       corrections for RMSEA. *Multivariate Behavioral Research*, 47(6),
       904-930.
    .. [2] Zhang, X., & Savalei, V. (2023). *Psychological Methods*, 28(2),
       263-283.
    """
    theta = np.asarray(theta, dtype=float)
    n = _nobs(objective).sum()
    groups = len(_nobs(objective))
    out = {}
    if test is None:
        test = yuan_bentler_test(objective, theta, cluster=cluster, df=df)
    scaled = bool(test)
    if scaled:
        x2, dfm = test["chisq"], test["df"]
        out.update(
            chisq_scaled=test["chisq_scaled"], df_scaled=dfm, pvalue_scaled=test["pvalue_scaled"],
            scaling_factor=test["scaling_factor"],
            baseline_chisq_scaled=test["baseline_chisq_scaled"],
            baseline_df_scaled=test["baseline_df"],
            baseline_pvalue_scaled=test["baseline_pvalue_scaled"],
            baseline_scaling_factor=test["baseline_scaling_factor"],
        )
        df2 = test["trace_ugamma"] if dfm > 0 else np.nan   # lavaan: no trace at df = 0
        df2 = df2 if np.isfinite(df2) and df2 != 0 else np.nan
        out.update(_fi.scaled_indices(
            chisq_scaled=test["chisq_scaled"], df_scaled=dfm,
            baseline_chisq_scaled=test["baseline_chisq_scaled"], baseline_df_scaled=test["baseline_df"],
            rmsea_chisq=x2, rmsea_df=df2, ntotal=n, ngroups=groups, level=level))
    if _is_fiml(objective):
        fc = fiml_corrected(objective, theta, version="V3" if scaled else "V6",
                            cluster=cluster, df=df if df is not None else (test or {}).get("df"))
        robust_in = dict(chisq=fc["XX3"], df=fc["df3"], c_hat=fc["c_hat3"],
                         chisq_scaled=fc["XX3_scaled"], baseline_chisq=fc["XX3_null"],
                         baseline_df=fc["df3_null"], c_hat_null=fc["c_hat3_null"])
    else:
        robust_in = dict(chisq=x2, df=dfm, c_hat=test["scaling_factor"],
                         chisq_scaled=test["chisq_scaled"], baseline_chisq=test["baseline_chisq"],
                         baseline_df=test["baseline_df"], c_hat_null=test["baseline_scaling_factor"])
    out.update(_fi.robust_indices(**robust_in, ntotal=n, ngroups=groups, level=level))
    return out


SCALED_TESTS = ("yuan.bentler.mplus", "satorra.bentler")


def scaled_test(objective, theta, cluster=None, df=None, test: str | None = None) -> dict:
    """The scaled test and the scaled/robust fit indices of MLR: the hook the SEM core calls.

    Parameters
    ----------
    objective : MLObjective or FIMLObjective
    theta : array-like
        The estimates.
    cluster : list of array-like, optional
        Cluster labels per group (default: ``objective.cluster``).
    df : int, optional
        Model degrees of freedom.
    test : {"yuan.bentler.mplus", "satorra.bentler"}, optional
        Default: ``objective.scaled_test_kind`` when set (``sem(...,
        test="satorra.bentler")``), else lavaan MLR's Yuan-Bentler (Mplus)
        test.

    Returns
    -------
    dict
        The keys of :func:`yuan_bentler_test` (``chisq_scaled, df,
        pvalue_scaled, scaling_factor, trace_ugamma, scaling_factor_h1,
        scaling_factor_h0, baseline_chisq, baseline_df,
        baseline_chisq_scaled, baseline_pvalue_scaled,
        baseline_scaling_factor``) or :func:`satorra_bentler_test`, and of
        :func:`robust_fit_measures`.

    Notes
    -----
    See :func:`yuan_bentler_test`, :func:`satorra_bentler_test` and
    :func:`robust_fit_measures`.

    References
    ----------
    .. [1] Yuan, K.-H., & Bentler, P. M. (2000). *Sociological
       Methodology*, 30, 165-200.
    .. [2] Brosseau-Liard, P. E., & Savalei, V. (2014). *Multivariate
       Behavioral Research*, 49(5), 460-470.
    """
    kind = test or getattr(objective, "scaled_test_kind", None) or "yuan.bentler.mplus"
    if kind == "yuan.bentler.mplus":
        res = yuan_bentler_test(objective, theta, cluster=cluster, df=df)
    elif kind == "satorra.bentler":
        res = satorra_bentler_test(objective, theta, cluster=cluster, df=df)
    else:
        raise ValueError(f"test must be one of {list(SCALED_TESTS)}, not {kind!r}.")
    out = {k: v for k, v in res.items() if k != "test"}
    out.update(robust_fit_measures(objective, theta, cluster=cluster, df=df, test=res))
    return out
