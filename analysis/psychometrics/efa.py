"""Exploratory factor analysis (minres or ML, oblimin rotation) and parallel analysis.

Written to reproduce ``psych::fa`` and ``psych::fa.parallel`` (psych 2.2.9
with GPArotation 2022.10): the same fitting functions, start values, bounds,
rotation algorithm (gradient projection, Jennrich 2002) and the same rules for
signs and order of the factors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from .factorability import correlation_matrix

__all__ = ["EFAResult", "efa", "oblimin", "ParallelResult", "parallel_analysis"]


# --------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------
def _smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations :math:`1 - 1/\\mathrm{diag}(R^{-1})`."""
    try:
        inv = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(r)
    return 1.0 - 1.0 / np.diag(inv)


def _eigh_desc(a):
    vals, vecs = np.linalg.eigh(a)
    return vals[::-1], vecs[:, ::-1]


def _uls_objective(psi, r, nf):
    vals, vecs = _eigh_desc(r - np.diag(psi))
    lam = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0.0))
    resid = r - np.diag(psi) - lam @ lam.T
    grad = -np.diag(resid).copy()
    return 0.5 * float(np.sum(resid**2)), grad


def _uls_loadings(psi, r, nf):
    vals, vecs = _eigh_desc(r - np.diag(psi))
    return vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0.0))


def _ml_objective(psi, r, nf):
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = _eigh_desc(r * np.outer(sc, sc))
    e = vals[nf:]
    f = -(np.sum(np.log(e) - e) - nf + r.shape[0])
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1.0, 0.0))
    load = load * np.sqrt(psi)[:, None]
    g = np.diag(load @ load.T) + psi - np.diag(r)
    return float(f), g / psi**2


def _ml_loadings(psi, r, nf):
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = _eigh_desc(r * np.outer(sc, sc))
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1.0, 0.0))
    return load * np.sqrt(psi)[:, None]


def _fit_unrotated(r: np.ndarray, nf: int, method: str):
    smc = _smc(r)
    upper = max(float(smc.max()), 1.0)
    start = np.diag(r) - smc
    obj, loads = {"minres": (_uls_objective, _uls_loadings),
                  "ml": (_ml_objective, _ml_loadings)}[method]
    res = optimize.minimize(obj, start, args=(r, nf), jac=True, method="L-BFGS-B",
                            bounds=[(0.005, upper)] * len(start),
                            options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 5000})
    lam = loads(res.x, r, nf)
    return lam, res


# --------------------------------------------------------------------------
# rotation
# --------------------------------------------------------------------------
def _vgq_oblimin(lam, gam=0.0):
    k = lam.shape[1]
    x = (lam**2) @ (1.0 - np.eye(k))
    if gam != 0:
        p = lam.shape[0]
        x = (np.eye(p) - gam / p) @ x
    return lam * x, float(np.sum(lam**2 * x) / 4.0)


def oblimin(loadings, *, gamma: float = 0.0, eps: float = 1e-5, max_iter: int = 1000):
    """Oblimin rotation by gradient projection (GPArotation's ``GPFoblq``).

    Parameters
    ----------
    loadings : array-like, shape (p, k)
        Unrotated loadings, ``k >= 2``.
    gamma : float
        Oblimin parameter: 0 quartimin (GPArotation's default), 0.5
        biquartimin, 1 covarimin.
    eps : float
        Convergence criterion on the norm of the projected gradient.
    max_iter : int
        Iteration limit.

    Returns
    -------
    tuple of (ndarray, ndarray, bool)
        Rotated pattern loadings (p, k), factor correlations Phi (k, k), and
        whether the algorithm converged.

    Notes
    -----
    Minimises :math:`Q(\\Lambda) = \\tfrac14\\sum_{i}\\sum_{j\\ne l}
    \\lambda_{ij}^2\\lambda_{il}^2` (quartimin) over
    :math:`\\Lambda = A (T')^{-1}` with unit-length columns of :math:`T`;
    :math:`\\Phi = T'T`. Starts from :math:`T = I`, as ``GPArotation::oblimin``.

    References
    ----------
    .. [1] Jennrich, R. I. (2002). A simple general method for oblique
       rotation. *Psychometrika*, 67(1), 7-19.
    .. [2] Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection
       algorithms and software for arbitrary rotation criteria in factor
       analysis. *Educational and Psychological Measurement*, 65, 676-696.
    """
    a = np.asarray(loadings, dtype=float)
    if a.ndim != 2 or a.shape[1] < 2:
        raise ValueError("rotation needs at least two factors")
    t = np.eye(a.shape[1])
    al = 1.0
    lam = a @ np.linalg.inv(t).T
    gq, f = _vgq_oblimin(lam, gamma)
    g = -(lam.T @ gq @ np.linalg.inv(t)).T
    s = np.inf
    for _ in range(max_iter + 1):
        gp = g - t @ np.diag(np.sum(t * g, axis=0))
        s = float(np.sqrt(np.sum(gp**2)))
        if s < eps:
            break
        al *= 2.0
        for _ in range(11):
            x = t - al * gp
            tt = x / np.sqrt(np.sum(x**2, axis=0))
            lam = a @ np.linalg.inv(tt).T
            gq_t, f_t = _vgq_oblimin(lam, gamma)
            if f - f_t > 0.5 * s**2 * al:
                break
            al /= 2.0
        t = tt
        f = f_t
        g = -(lam.T @ gq_t @ np.linalg.inv(tt)).T
    return lam, t.T @ t, bool(s < eps)


# --------------------------------------------------------------------------
# EFA
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class EFAResult:
    """An exploratory factor analysis.

    Attributes
    ----------
    loadings : pandas.DataFrame
        Pattern loadings, items as index, factors ``F1..Fk`` as columns.
    phi : pandas.DataFrame
        Factor correlations (identity for unrotated or one factor).
    communality : pandas.Series
        :math:`h^2_i = \\mathrm{diag}(\\Lambda\\Phi\\Lambda')`.
    eigenvalues : pandas.Series
        Eigenvalues of the correlation matrix.
    reduced_eigenvalues : pandas.Series
        Eigenvalues of the reduced matrix (communalities on the diagonal):
        ``psych::fa(...)$values``.
    method, rotation : str
        How it was fitted.
    n_obs : int
        Rows of the data.
    converged : bool
        Fitting and rotation both converged.
    """

    loadings: pd.DataFrame
    phi: pd.DataFrame
    communality: pd.Series
    eigenvalues: pd.Series
    reduced_eigenvalues: pd.Series
    method: str
    rotation: str
    n_obs: int
    converged: bool

    def variance_table(self) -> pd.DataFrame:
        """Sum of squared loadings per factor.

        Returns
        -------
        pandas.DataFrame
            Columns ``factor, ss_loadings, proportion_var, cumulative_var``
            (``ss_loadings = diag(Phi Λ'Λ)``, as psych prints for oblique solutions).
        """
        lam = self.loadings.to_numpy()
        ss = np.diag(self.phi.to_numpy() @ lam.T @ lam)
        prop = ss / lam.shape[0]
        return pd.DataFrame({"factor": list(self.loadings.columns), "ss_loadings": ss,
                             "proportion_var": prop, "cumulative_var": np.cumsum(prop)})

    def tidy(self) -> pd.DataFrame:
        """Loadings in long form: columns ``item, factor, loading, communality``."""
        long = self.loadings.reset_index(names="item").melt(
            id_vars="item", var_name="factor", value_name="loading")
        long["communality"] = long["item"].map(self.communality)
        return long


def _efa_from_corr(r: np.ndarray, names, n_factors: int, method: str, rotation: str, n_obs: int):
    p = r.shape[0]
    if not 1 <= n_factors < p:
        raise ValueError(f"n_factors must be between 1 and {p - 1} for {p} items")
    lam, res = _fit_unrotated(r, n_factors, method)
    converged = bool(res.success)
    reduced = r.copy()
    np.fill_diagonal(reduced, np.diag(lam @ lam.T))
    reduced_vals = _eigh_desc(reduced)[0]
    if n_factors > 1:
        sgn = np.sign(lam.sum(axis=0))
        sgn[sgn == 0] = 1
        lam = lam * sgn
    phi = np.eye(n_factors)
    if rotation == "oblimin" and n_factors > 1:
        lam, phi, ok = oblimin(lam)
        converged = converged and ok
    elif rotation not in ("oblimin", "none"):
        raise ValueError("rotation must be 'oblimin' or 'none'")
    sgn = np.sign(lam.sum(axis=0))
    sgn[sgn == 0] = 1
    lam = lam * sgn
    phi = phi * np.outer(sgn, sgn)
    if n_factors > 1:
        order = np.argsort(-np.diag(phi @ lam.T @ lam), kind="stable")
        lam = lam[:, order]
        phi = phi[np.ix_(order, order)]
    cols = [f"F{i + 1}" for i in range(n_factors)]
    names = [str(c) for c in names]
    return EFAResult(
        loadings=pd.DataFrame(lam, index=names, columns=cols),
        phi=pd.DataFrame(phi, index=cols, columns=cols),
        communality=pd.Series(np.diag(lam @ phi @ lam.T), index=names, name="communality"),
        eigenvalues=pd.Series(_eigh_desc(r)[0], index=range(1, p + 1), name="eigenvalue"),
        reduced_eigenvalues=pd.Series(reduced_vals, index=range(1, p + 1), name="eigenvalue"),
        method=method, rotation=rotation if n_factors > 1 else "none", n_obs=int(n_obs),
        converged=converged,
    )


def efa(data: pd.DataFrame, n_factors: int, items=None, *, method: str = "minres",
        rotation: str = "oblimin") -> EFAResult:
    """Exploratory factor analysis of item correlations.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent (missing values: pairwise correlations).
    n_factors : int
        Number of factors.
    items : list of str, optional
        Item columns (default: all columns).
    method : {"minres", "ml"}
        Minimum residual (unweighted least squares) or maximum likelihood.
    rotation : {"oblimin", "none"}
        Oblique quartimin rotation (:func:`oblimin`) or none.

    Returns
    -------
    EFAResult
        Loadings (items x ``F1..Fk``), Phi, communalities, eigenvalues.

    Notes
    -----
    minres minimises :math:`\\tfrac12\\lVert R - \\Psi - \\Lambda\\Lambda'\\rVert^2`
    over uniquenesses :math:`\\Psi` (with :math:`\\Lambda` from the first
    eigenvectors of :math:`R-\\Psi`); ML minimises
    :math:`\\ln|\\Sigma| + \\mathrm{tr}(\\Sigma^{-1}R)`. Both start from
    :math:`\\Psi = 1 - SMC` with bounds :math:`[0.005, \\max(1, SMC)]`, as
    ``psych::fa``. Factors are then signed to positive column sums and
    ordered by :math:`\\mathrm{diag}(\\Phi\\Lambda'\\Lambda)`. In R:
    ``psych::fa(x, nfactors, fm = "minres", rotate = "oblimin")``.

    References
    ----------
    .. [1] Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing
       residuals (minres). *Psychometrika*, 31(3), 351-368.
    .. [2] Revelle, W. (2022). *psych* R package 2.2.9 (``fa``).
    """
    if method not in ("minres", "ml"):
        raise ValueError("method must be 'minres' or 'ml'")
    r_df = correlation_matrix(data, items)
    return _efa_from_corr(r_df.to_numpy(), r_df.columns, int(n_factors), method, rotation, len(data))


# --------------------------------------------------------------------------
# parallel analysis
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class ParallelResult:
    """Horn's parallel analysis.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns ``component, pc_observed, pc_simulated, pc_quantile, pc_sd,
        fa_observed, fa_simulated, fa_quantile, fa_sd`` (``*_simulated`` the
        mean, ``*_sd`` the standard deviation over the simulated data sets).
    n_factors : int
        Leading factor eigenvalues above their simulated mean.
    n_components : int
        Leading component eigenvalues above their simulated mean.
    n_iter, seed : int
        Simulation settings.
    """

    table: pd.DataFrame
    n_factors: int
    n_components: int
    n_iter: int
    seed: int | None


def _leading_above(obs, ref):
    above = obs > ref
    return int(np.argmin(above)) if not above.all() else int(above.size)


def parallel_analysis(data: pd.DataFrame, items=None, *, n_iter: int = 20, quantile: float = 0.95,
                      method: str = "minres", seed=None) -> ParallelResult:
    """Horn's parallel analysis for components and factors.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    items : list of str, optional
        Item columns (default: all columns).
    n_iter : int
        Number of simulated normal data sets of the same size.
    quantile : float
        Quantile of the simulated eigenvalues reported beside the mean.
    method : {"minres", "ml"}
        Factoring method for the factor eigenvalues.
    seed : int, optional
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    ParallelResult
        The eigenvalue table and the suggested numbers of factors/components.

    Notes
    -----
    Observed component eigenvalues are those of :math:`R`; observed factor
    eigenvalues those of :math:`R` with the communalities of a one-factor
    solution on the diagonal (``psych::fa.parallel``'s ``fa.values``). Each
    simulated data set is :math:`n\\times p` standard normal with the same
    treatment. The suggestion counts the leading observed eigenvalues that
    exceed the simulated mean, as psych prints it.

    References
    ----------
    .. [1] Horn, J. L. (1965). A rationale and test for the number of factors
       in factor analysis. *Psychometrika*, 30(2), 179-185.
    .. [2] Revelle, W. (2022). *psych* R package 2.2.9 (``fa.parallel``).
    """
    if int(n_iter) < 1:
        raise ValueError("n_iter must be at least 1")
    r_df = correlation_matrix(data, items)
    r = r_df.to_numpy()
    n, p = len(data), r.shape[0]
    pc_obs = _eigh_desc(r)[0]
    fa_obs = _efa_from_corr(r, r_df.columns, 1, method, "none", n).reduced_eigenvalues.to_numpy()
    rng = np.random.default_rng(seed)
    pcs, fas = np.empty((n_iter, p)), np.empty((n_iter, p))
    for i in range(int(n_iter)):
        sim = np.corrcoef(rng.standard_normal((n, p)), rowvar=False)
        pcs[i] = _eigh_desc(sim)[0]
        fas[i] = _efa_from_corr(sim, r_df.columns, 1, method, "none", n).reduced_eigenvalues.to_numpy()
    table = pd.DataFrame({
        "component": np.arange(1, p + 1),
        "pc_observed": pc_obs, "pc_simulated": pcs.mean(axis=0),
        "pc_quantile": np.quantile(pcs, quantile, axis=0),
        "pc_sd": pcs.std(axis=0, ddof=1) if n_iter > 1 else np.nan,
        "fa_observed": fa_obs, "fa_simulated": fas.mean(axis=0),
        "fa_quantile": np.quantile(fas, quantile, axis=0),
        "fa_sd": fas.std(axis=0, ddof=1) if n_iter > 1 else np.nan,
    })
    return ParallelResult(table=table,
                          n_factors=_leading_above(fa_obs, table["fa_simulated"].to_numpy()),
                          n_components=_leading_above(pc_obs, table["pc_simulated"].to_numpy()),
                          n_iter=int(n_iter), seed=seed)
