"""Nonparametric bootstrap of a fitted SEM: fast warm-started refits.

Rows are resampled with replacement (within groups for a multigroup model)
with every index drawn up front from ``np.random.default_rng(seed)``, so the
draws do not depend on the number of workers.  Each draw needs only the
resampled sample moments; the model is refitted by Fisher scoring from the
full-sample estimate with the expected information held fixed at that
estimate (a chord method, recomputed when progress slows) and the analytic
gradient written in the low-rank form of the RAM Jacobian, which makes one
iteration cost :math:`O(p^2 k)` instead of :math:`O(q p^2)`.  Chunks of draws
run through the package's one chunked map, :func:`analysis._parallel.chunked_map`
(``n_jobs`` local worker processes, or a Dask cluster with
``backend="dask"``; one BLAS thread per worker); the results are the same on
every backend and for any number of workers.

Draws that do not converge (*failed*) and converged draws with a negative
variance estimate (*improper*) are counted and reported; by default both are
excluded from the intervals (lavaan keeps the improper ones:
``exclude_improper=False`` does the same).

With incomplete data (a FIML fit) each draw's moments are the EM estimates
of the unrestricted model on the resampled rows, warm-started from the
full-sample EM solution, and the model is fitted to them by ML: the
bootstrap of the two-stage estimator [4]_, which is consistent under MAR
and whose bootstrap distribution gives valid intervals.

References
----------
.. [1] Efron, B., & Tibshirani, R. J. (1993). *An introduction to the
   bootstrap*. Chapman & Hall (percentile, bias-corrected and BCa
   intervals, ch. 13-14).
.. [2] Bollen, K. A., & Stine, R. A. (1990). Direct and indirect effects:
   Classical and bootstrap estimates of variability. *Sociological
   Methodology*, 20, 115-140.
.. [3] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. *Journal of Statistical Software*, 48(2), 1-36
   (``se = "bootstrap"``, ``boot.ci.type = "perc"`` / ``"bca.simple"``).
.. [4] Savalei, V., & Bentler, P. M. (2009). A two-stage approach to
   missing data: Theory and application to auxiliary variables. *Structural
   Equation Modeling*, 16(3), 477-497.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .._parallel import chunk_spans, chunked_map
from .distributions import norm_cdf, norm_ppf, two_sided_p
from .refit import MLMoments, Refitter, complete_moments
from .saturated import _e_step, _em_sums, _missing_batches
from .studentized import cluster_starts, sandwich_se, score_sums, studentized_ci

__all__ = ["INTERVAL_COLUMNS", "BootstrapResult", "bootstrap", "bootstrap_draws", "bootstrap_estimates",
           "interval_options", "percentile_ci", "bc_ci", "bca_ci", "parameter_names", "em_moments",
           "em_completion", "resample_indices", "BootstrapJob", "run_job"]


#: Bootstrap interval methods and their (lower, upper) columns in
#: :meth:`BootstrapResult.intervals` ("bca" needs ``bca=True``, the
#: bootstrap-t methods ``studentize=True``).
INTERVAL_COLUMNS = {
    "percentile": ("ci_lower", "ci_upper"),
    "bc": ("boot_ci_lower_bc", "boot_ci_upper_bc"),
    "bca": ("boot_ci_lower_bca", "boot_ci_upper_bca"),
    "t": ("boot_ci_lower_t", "boot_ci_upper_t"),
    "symmetric-t": ("boot_ci_lower_st", "boot_ci_upper_st"),
}


def interval_options(interval: str) -> dict:
    """The :func:`bootstrap` options an interval type needs.

    Parameters
    ----------
    interval : str
        A key of :data:`INTERVAL_COLUMNS`.

    Returns
    -------
    dict
        ``{"studentize": ..., "bca": ...}``: ``studentize`` for the
        bootstrap-t intervals (``"t"``, ``"symmetric-t"``), ``bca`` (the
        jackknife acceleration) for ``"bca"``.

    Examples
    --------
    >>> interval_options("symmetric-t")
    {'studentize': True, 'bca': False}
    """
    if interval not in INTERVAL_COLUMNS:
        raise ValueError(f"The bootstrap interval must be one of {list(INTERVAL_COLUMNS)}, not {interval!r}.")
    return {"studentize": interval in ("t", "symmetric-t"), "bca": interval == "bca"}


# ---------------------------------------------------------------------------
# ML discrepancy with a fast gradient (low-rank Jacobian factors)
# ---------------------------------------------------------------------------
# ---------------------------------------------------------------------------
# EM moments for incomplete rows (two-stage bootstrap)
# ---------------------------------------------------------------------------
def em_moments(x, mean0, cov0, *, tol=1e-6, max_iter=500):
    """EM estimate of the unrestricted normal moments of incomplete rows.

    Parameters
    ----------
    x : ndarray (n, p)
        Rows with NaN for missing values.
    mean0, cov0 : ndarray
        Starting values (e.g. the full-sample EM solution).
    tol : float
        Stop when no element of the mean or covariance changes by more.
    max_iter : int

    Returns
    -------
    mean : ndarray (p,)
    cov : ndarray (p, p)
        Divisor N.
    n_iter : int

    Notes
    -----
    E-step through the precision matrix :math:`K=\\Sigma^{-1}`: for a row
    with missing set m and observed set o, :math:`E(x_m|x_o) = \\mu_m -
    K_{mm}^{-1}K_{mo}(x_o-\\mu_o)` and :math:`\\operatorname{Cov}(x_m|x_o)
    = K_{mm}^{-1}`, so only a :math:`|m|\\times|m|` system is solved per
    row [1]_.

    References
    ----------
    .. [1] Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis
       with missing data* (2nd ed., ch. 11). Wiley.
    """
    x = np.asarray(x, float)
    miss = np.isnan(x)
    n = x.shape[0]
    complete = x[~miss.any(axis=1)]
    sums = (complete.sum(axis=0), complete.T @ complete)
    batches = _missing_batches(miss)
    x0 = np.where(miss, 0.0, x)
    mu, sigma = np.array(mean0, float), np.array(cov0, float)
    for it in range(1, max_iter + 1):
        t1, t2 = _em_sums(x0, miss, batches, sums, mu, sigma)
        mu_new = t1 / n
        sigma_new = t2 / n - np.outer(mu_new, mu_new)
        sigma_new = 0.5 * (sigma_new + sigma_new.T)
        delta = max(np.max(np.abs(mu_new - mu)), np.max(np.abs(sigma_new - sigma)))
        mu, sigma = mu_new, sigma_new
        if delta < tol:
            return mu, sigma, it
    return mu, sigma, max_iter


def em_completion(x, mean, cov):
    r"""EM-completed rows: conditional means, and the conditional covariances of the missing blocks.

    Parameters
    ----------
    x : ndarray (n, p)
        Rows with NaN for missing values.
    mean, cov : ndarray
        The normal moments to condition on (the EM solution of ``x``).

    Returns
    -------
    rows : ndarray (n, p)
        :math:`E(x_i \mid x_{i,o})`.
    blocks : list of (rows, cols, cov)
        Rows with the same number k of missing values: their indices (m,),
        the missing columns (m, k) and :math:`\operatorname{Cov}(x_{i,mis}
        \mid x_{i,o})` (m, k, k); zero elsewhere.

    Notes
    -----
    The E-step of :func:`em_moments` at fixed moments [1]_.

    References
    ----------
    .. [1] Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis
       with missing data* (2nd ed., ch. 11). Wiley.
    """
    x = np.asarray(x, float)
    miss = np.isnan(x)
    x0 = np.where(miss, 0.0, x)
    out = x0.copy()
    kmat = np.linalg.inv(np.asarray(cov, float))
    blocks = []
    for rows, cols in _missing_batches(miss):
        xf, kinv = _e_step(x0, miss, rows, cols, np.asarray(mean, float), kmat)
        out[rows] = xf
        blocks.append((rows, cols, kinv))
    return out, blocks


# ---------------------------------------------------------------------------
# The work of one chunk of draws (runs in a worker)
# ---------------------------------------------------------------------------
@dataclass
class BootstrapJob:
    """What every draw of a bootstrap needs: the model, the rows, the centre and the options.

    Built by :func:`bootstrap` from a fit; :func:`run_job` refits given
    resamples of it (the recovery study builds jobs of its own).
    """

    model: object
    data: list           # per group: rows (float, NaN allowed with em=True)
    theta_hat: np.ndarray
    info_inv: np.ndarray
    var_idx: np.ndarray  # free-parameter indices of variances
    em: bool
    em_start: list = field(default_factory=list)  # per group (mean, cov)
    gtol: float = 1e-6
    cluster: np.ndarray | None = None  # cluster label per row (single group); None: rows
    studentize: bool = False           # also the sandwich SE of every draw
    defined: object = None             # DefinedParameters (studentize)


def _moments_for(job: BootstrapJob, g: int, rows: np.ndarray):
    x = job.data[g][rows]
    if job.em:
        m0, c0 = job.em_start[g]
        if not np.isnan(x).any():
            return complete_moments(x)
        m, c, _ = em_moments(x, m0, c0, tol=1e-5)
        return m, c
    return complete_moments(x)


def _sandwich_se(job: BootstrapJob, model, obj: MLMoments, theta, index, moments):
    """Sandwich SE (free then defined) of one draw, scores summed per resampled cluster.

    ``model`` and ``obj`` are the draw's (:class:`~analysis.sem.refit.Refitter`: fixed-x values of the draw).
    """
    scores, factors = [], []
    for g, rows in enumerate(index):
        x = job.data[g][rows]
        labels = job.cluster if g == 0 else None
        starts = cluster_starts(rows, labels)
        blocks = None
        if job.em and np.isnan(x).any():
            x, blocks = em_completion(x, *moments[g])
        scores.append(score_sums(model, theta, x, starts, blocks, g))
        factors.append(len(starts) / (len(starts) - 1) if labels is not None else 1.0)
    info = obj.information(theta) * sum(len(rows) for rows in index)
    return sandwich_se(model, theta, info, scores, defined=job.defined, small_sample=factors)


def _run_chunk(job: BootstrapJob, index_chunk: list):
    """Refit the draws of one chunk (in a worker, with one BLAS thread: :func:`analysis._parallel.chunked_map`).

    Returns ``(theta (k, q), status (k,), iters (k,), se)``; ``se`` is
    ``(k, q + d)`` sandwich standard errors when ``job.studentize``, else None.
    """
    k = len(index_chunk[0])
    q = len(job.theta_hat)
    thetas = np.full((k, q), np.nan)
    status = np.zeros(k, dtype=np.int8)  # 0 ok, 1 failed, 2 improper
    iters = np.zeros(k, dtype=np.int32)
    ses = None
    if job.studentize:
        ses = np.full((k, q + len(job.defined.names)), np.nan)
    refitter = Refitter(job.model, job.theta_hat, job.info_inv, gtol=job.gtol)  # fixed x reset per draw
    for b in range(k):
        moments = []
        try:
            for g in range(len(job.data)):
                rows = index_chunk[g][b]
                moments.append(_moments_for(job, g, rows))
            ns = [len(index_chunk[g][b]) for g in range(len(job.data))]
            obj, th, conv, nit = refitter.fit([c for _, c in moments], [m for m, _ in moments], ns)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            th, conv, nit = np.full(q, np.nan), False, 0
        iters[b] = nit
        if not conv or not np.all(np.isfinite(th)):
            status[b] = 1
            continue
        thetas[b] = th
        if len(job.var_idx) and np.any(th[job.var_idx] < 0):
            status[b] = 2
        if ses is not None:
            try:
                ses[b] = _sandwich_se(job, refitter.model, obj, th, [ix[b] for ix in index_chunk], moments)
            except (np.linalg.LinAlgError, ValueError, FloatingPointError):
                pass  # stays NaN: counted as a draw without a standard error
    return thetas, status, iters, ses


# ---------------------------------------------------------------------------
# Intervals
# ---------------------------------------------------------------------------
def percentile_ci(draws, level=0.95):
    """Percentile interval of each column (NaN rows ignored).

    Parameters
    ----------
    draws : ndarray (B, k)
    level : float

    Returns
    -------
    lower, upper : ndarray (k,)

    Notes
    -----
    The :math:`\\alpha/2` and :math:`1-\\alpha/2` sample quantiles (R's type 7,
    as lavaan's ``boot.ci.type = "perc"``) [1]_.

    References
    ----------
    .. [1] Efron, B., & Tibshirani, R. J. (1993). *An introduction to the
       bootstrap*. Chapman & Hall, ch. 13.
    """
    a = (1 - level) / 2
    q = np.nanquantile(np.asarray(draws, float), [a, 1 - a], axis=0)
    return q[0], q[1]


def bc_ci(draws, est, level=0.95):
    """Bias-corrected percentile interval (lavaan's ``"bca.simple"``).

    Parameters
    ----------
    draws : ndarray (B, k)
    est : ndarray (k,)
        Full-sample estimates.
    level : float

    Returns
    -------
    lower, upper : ndarray (k,)

    Notes
    -----
    :math:`z_0 = \\Phi^{-1}(\\#\\{\\hat\\theta^*_b < \\hat\\theta\\}/B)`; the
    interval is the :math:`\\Phi(2z_0 \\pm z_{1-\\alpha/2})` quantiles of
    the draws [1]_.

    References
    ----------
    .. [1] Efron, B., & Tibshirani, R. J. (1993). *An introduction to the
       bootstrap*. Chapman & Hall, sec. 14.3 (with acceleration 0).
    """
    return bca_ci(draws, est, np.zeros(np.shape(est)), level)


def bca_ci(draws, est, accel, level=0.95):
    """BCa interval: bias correction and acceleration.

    Parameters
    ----------
    draws : ndarray (B, k)
    est : ndarray (k,)
    accel : ndarray (k,)
        Acceleration (e.g. from the jackknife, :func:`bootstrap` with
        ``bca=True``).
    level : float

    Returns
    -------
    lower, upper : ndarray (k,)

    Notes
    -----
    :math:`\\alpha_{1,2} = \\Phi\\big(z_0 + \\frac{z_0 + z_{\\alpha/2,\\,1-\\alpha/2}}
    {1 - a(z_0 + z_{\\alpha/2,\\,1-\\alpha/2})}\\big)` [1]_.

    References
    ----------
    .. [1] Efron, B. (1987). Better bootstrap confidence intervals. *Journal
       of the American Statistical Association*, 82(397), 171-185.
    """
    draws = np.asarray(draws, float)
    est = np.asarray(est, float)
    accel = np.asarray(accel, float)
    a = (1 - level) / 2
    zl, zu = norm_ppf(a), norm_ppf(1 - a)
    lo = np.full(draws.shape[1], np.nan)
    hi = np.full(draws.shape[1], np.nan)
    for j in range(draws.shape[1]):
        x = draws[:, j]
        x = x[np.isfinite(x)]
        if x.size == 0 or not np.isfinite(est[j]):
            continue
        prop = np.sum(x < est[j]) / x.size
        if prop <= 0 or prop >= 1 or np.ptp(x) == 0:
            lo[j] = hi[j] = np.nan if np.ptp(x) > 0 else x[0]
            continue
        z0 = norm_ppf(prop)
        p1 = norm_cdf(z0 + (z0 + zl) / (1 - accel[j] * (z0 + zl)))
        p2 = norm_cdf(z0 + (z0 + zu) / (1 - accel[j] * (z0 + zu)))
        lo[j], hi[j] = np.quantile(x, [p1, p2])
    return lo, hi


# ---------------------------------------------------------------------------
# Result object
# ---------------------------------------------------------------------------
def parameter_names(result) -> list:
    """Names of the free parameters (``lhs op rhs``, ``.g2`` for group 2 ...)."""
    pt = result.partable
    names = [None] * result.model.n_free
    for r in pt.itertuples(index=False):
        if r.op != ":=" and r.free > 0 and names[int(r.free) - 1] is None:
            suffix = f".g{int(r.group)}" if int(r.group) > 1 else ""
            names[int(r.free) - 1] = f"{r.lhs}{r.op}{r.rhs}{suffix}"
    return names


@dataclass
class BootstrapResult:
    """Bootstrap draws of a fitted model and their intervals.

    Attributes
    ----------
    theta : ndarray (B, q)
        Free parameters per draw (NaN rows: failed draws).
    defined : ndarray (B, d)
        ``:=`` parameters per draw.
    status : ndarray (B,) of str
        ``"ok"``, ``"failed"`` (did not converge) or ``"improper"``
        (converged with a negative variance estimate).
    names : list of str
        Free-parameter names then defined-parameter names (the columns of
        :attr:`draws`).
    estimate : ndarray (q + d,)
        The centre (full-sample estimate; for a FIML fit the two-stage
        estimate the draws are centred on).
    n_iter : ndarray (B,)
        Scoring iterations per draw.
    seed : int or None
    exclude_improper : bool
        Whether improper draws are left out of :attr:`draws` and the
        intervals.
    accel : ndarray or None
        Jackknife acceleration per column (``bca=True``).
    method : str
        ``"ml"`` or ``"two-stage-em"``.
    se : ndarray (B, q + d) or None
        Sandwich standard error of every parameter in every draw
        (``studentize=True``; NaN where it could not be computed).
    se_hat : ndarray (q + d,) or None
        The same standard errors in the full sample.
    unit : str
        What was resampled: ``"row"`` or ``"cluster"``.
    """

    theta: np.ndarray
    defined: np.ndarray
    status: np.ndarray
    names: list
    estimate: np.ndarray
    n_iter: np.ndarray
    seed: int | None = None
    exclude_improper: bool = True
    accel: np.ndarray | None = None
    method: str = "ml"
    se: np.ndarray | None = None
    se_hat: np.ndarray | None = None
    unit: str = "row"

    @property
    def n_boot(self) -> int:
        """Draws requested."""
        return int(len(self.status))

    @property
    def n_failed(self) -> int:
        """Draws that did not converge."""
        return int(np.sum(self.status == "failed"))

    @property
    def n_improper(self) -> int:
        """Converged draws with a negative variance estimate."""
        return int(np.sum(self.status == "improper"))

    @property
    def n_ok(self) -> int:
        """Draws used in the intervals."""
        return int(np.sum(self.used))

    @property
    def used(self) -> np.ndarray:
        """Boolean mask of the draws used in the intervals."""
        ok = self.status == "ok"
        return ok if self.exclude_improper else ok | (self.status == "improper")

    @property
    def draws(self) -> pd.DataFrame:
        """The used draws, one column per parameter (free then defined)."""
        x = np.hstack([self.theta, self.defined])[self.used]
        return pd.DataFrame(x, columns=self.names)

    @property
    def n_no_se(self) -> int:
        """Used draws whose standard errors could not be computed (left out of the bootstrap-t)."""
        if self.se is None:
            return 0
        return int(np.sum(~np.all(np.isfinite(self.se[self.used]), axis=1)))

    def counts(self) -> dict:
        """``n_boot, n_boot_ok, n_boot_failed, n_boot_improper`` (and ``n_boot_no_se`` when studentized)."""
        out = {"n_boot": self.n_boot, "n_boot_ok": self.n_ok, "n_boot_failed": self.n_failed,
               "n_boot_improper": self.n_improper}
        if self.se is not None:
            out["n_boot_no_se"] = self.n_no_se
        return out

    def intervals(self, level: float = 0.95) -> pd.DataFrame:
        """Bootstrap SE and intervals per parameter.

        Returns
        -------
        pandas.DataFrame
            ``name, est, boot_se, ci_lower, ci_upper`` (percentile),
            ``boot_ci_lower_bc, boot_ci_upper_bc`` (bias-corrected,
            lavaan's bca.simple), when the acceleration is known
            ``boot_ci_lower_bca, boot_ci_upper_bca``, and when the draws
            were studentized ``se_sandwich`` (the full-sample sandwich SE,
            cluster-robust for a cluster bootstrap),
            ``boot_ci_lower_t, boot_ci_upper_t`` (equal-tailed bootstrap-t)
            and ``boot_ci_lower_st, boot_ci_upper_st`` (symmetric
            bootstrap-t; :func:`analysis.sem.studentized.studentized_ci`).
        """
        x = self.draws.to_numpy()
        lo, hi = percentile_ci(x, level) if len(x) else (np.full(len(self.names), np.nan),) * 2
        blo, bhi = bc_ci(x, self.estimate, level) if len(x) else (lo, hi)
        out = pd.DataFrame({"name": self.names, "est": self.estimate,
                            "boot_se": np.std(x, axis=0, ddof=1) if len(x) > 1 else np.nan,
                            "ci_lower": lo, "ci_upper": hi,
                            "boot_ci_lower_bc": blo, "boot_ci_upper_bc": bhi})
        if self.accel is not None and len(x):
            alo, ahi = bca_ci(x, self.estimate, self.accel, level)
            out["boot_ci_lower_bca"] = alo
            out["boot_ci_upper_bca"] = ahi
        if self.se is not None:
            tlo, thi = studentized_ci(x, self.se[self.used], self.estimate, self.se_hat, level)
            out["se_sandwich"] = self.se_hat
            out["boot_ci_lower_t"] = tlo
            out["boot_ci_upper_t"] = thi
            slo, shi = studentized_ci(x, self.se[self.used], self.estimate, self.se_hat, level, symmetric=True)
            out["boot_ci_lower_st"] = slo
            out["boot_ci_upper_st"] = shi
        return out

    def __repr__(self) -> str:
        return (f"<BootstrapResult B={self.n_boot}: ok={self.n_ok}, failed={self.n_failed}, "
                f"improper={self.n_improper}, method={self.method}>")


# ---------------------------------------------------------------------------
def _prepare(result, rows=None):
    """Rows per group, the centre and the start moments (EM for FIML)."""
    st = result.stats
    model = result.model
    em = result.options.get("missing") == "fiml"
    if rows is None:
        # a two-stage fit (sem(..., missing="two.stage")) was fitted to EM-moment rows: resample the raw ones
        rows = getattr(result, "incomplete_rows", None)
    if rows is not None:
        rows = rows if isinstance(rows, (list, tuple)) else [rows]
        data = [np.ascontiguousarray(x, float) for x in rows]  # rows in memory order: each draw gathers rows
        if len(data) != model.n_groups or any(x.shape[1] != model.p for x in data):
            raise ValueError("rows must hold one (n_g, p) array per group in the model's variable order.")
        em = em or any(np.isnan(x).any() for x in data)
    else:
        data = [np.ascontiguousarray(x, float) for x in st.data]
    if not data or any(len(x) == 0 for x in data):
        raise ValueError("The fit holds no raw rows to resample (was it fitted from moments?).")
    if not em and any(np.isnan(x).any() for x in data):
        raise ValueError("The rows hold missing values but the fit is not FIML.")
    if result.estimator.name not in ("ML", "MLR"):
        raise NotImplementedError(
            f"The bootstrap refits by ML; estimator {result.estimator.name} is not supported.")
    em_start = []
    theta_hat = np.asarray(result.theta, float)
    if em:
        covs, means = [], []
        for x in data:
            m0 = np.nanmean(x, axis=0)
            c0 = np.diag(np.nanvar(x, axis=0))
            m, c, _ = em_moments(x, m0, c0, tol=1e-8)
            em_start.append((m, c))
            covs.append(c)
            means.append(m)
        moments = (covs, means, [len(x) for x in data])
        _, th, conv, _ = Refitter(model, theta_hat, moments=moments, gtol=1e-9).fit(*moments)
        if conv:
            theta_hat = th
    obj = MLMoments(model, [np.eye(model.p)] * model.n_groups,
                    [np.zeros(model.p)] * model.n_groups, [len(x) for x in data])
    info_inv = np.linalg.inv(obj.information(theta_hat))
    pt = result.partable
    var_rows = pt[(pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & (pt["free"] > 0)]
    var_idx = np.unique(var_rows["free"].to_numpy(int) - 1)
    return BootstrapJob(model=model, data=data, theta_hat=theta_hat, info_inv=info_inv,
                var_idx=var_idx, em=em, em_start=em_start)


def _run(job, indices, n_jobs, backend, chunk_size, progress, desc):
    """Refit every draw of ``indices`` in chunks (:func:`analysis._parallel.chunked_map`), in order."""
    n = len(indices[0])
    spans = chunk_spans(n, chunk_size, n_jobs=n_jobs, backend=backend)
    indices = [ix if isinstance(ix, np.ndarray) else list(ix) for ix in indices]
    parts = chunked_map(_run_chunk, job, [[ix[s:e] for ix in indices] for s, e in spans],
                        sizes=[e - s for s, e in spans], n_jobs=n_jobs, backend=backend, progress=progress,
                        desc=desc, unit="draw")
    theta = np.vstack([p[0] for p in parts])
    status = np.concatenate([p[1] for p in parts])
    iters = np.concatenate([p[2] for p in parts])
    se = np.vstack([p[3] for p in parts]) if job.studentize else None
    return theta, status, iters, se


def _defined_values(d, theta):
    """The ``:=`` values of every draw, evaluated on whole columns (NaN for failed draws and wherever an
    expression has no finite value, as :meth:`~analysis.sem.defined.DefinedParameters.values` gives)."""
    from .montecarlo import defined_matrix

    out = defined_matrix(d, theta)
    out[~np.isfinite(out) | ~np.isfinite(theta).all(axis=1)[:, None]] = np.nan
    return out


def bootstrap(result, n_boot: int = 1000, seed=None, *, n_jobs: int | None = None, backend=None,
              chunk_size: int | None = None, exclude_improper: bool = True, bca: bool = False,
              progress: bool = False, rows=None, cluster=None, studentize: bool = False) -> BootstrapResult:
    """Nonparametric bootstrap of a fitted ML model.

    Parameters
    ----------
    result : SEMResult
        An ML (or MLR: same estimates) fit with complete data, or a FIML fit
        (then the two-stage EM bootstrap, see the module notes).
    n_boot : int
        Number of resamples.
    seed : int or None
        Seed of ``np.random.default_rng``; all resampling indices are drawn
        up front, so the draws are identical for any ``n_jobs``, backend or
        chunk size.
    n_jobs : int, optional
        Local worker processes (``1``: in-process); default: the active
        :func:`analysis._parallel.session`'s, else 2.
    backend : str, optional
        ``"local"`` (joblib's loky processes) or ``"dask"`` (the session's
        Dask cluster, or a ``LocalCluster`` of ``n_jobs`` workers started for
        this call); default: the active session's, else ``"local"``.
    chunk_size : int, optional
        Draws per task (default: about 8 tasks per worker).
    exclude_improper : bool
        Leave draws with a negative variance out of the intervals (lavaan
        keeps them: pass False to reproduce lavaan).
    bca : bool
        Also compute the jackknife acceleration for BCa intervals (one
        leave-one-out refit per row; per cluster with ``cluster``).
    progress : bool
        Show a tqdm progress bar.
    rows : ndarray or list of ndarray, optional
        The raw rows to resample, per group, columns in
        ``result.stats.ov_names`` order (default: the fit's own rows; for a
        two-stage fit, ``sem(..., missing="two.stage")``, the incomplete rows
        it was fitted from, ``result.incomplete_rows``).  Rows with missing
        values switch to the two-stage EM bootstrap: every draw re-estimates
        the EM moments of its resampled rows.
    cluster : array-like, optional
        Cluster of each row resampled (single-group models): resample whole
        clusters with replacement (the cluster bootstrap [3]_) instead of
        rows.  ``sem(..., cluster=COL, bootstrap=N)`` passes the labels of
        the rows it keeps.
    studentize : bool
        Also compute every draw's sandwich standard errors (cluster-robust
        with ``cluster``) for bootstrap-t intervals
        (:mod:`analysis.sem.studentized`); about 15-40% more time per draw.

    Returns
    -------
    BootstrapResult

    Notes
    -----
    Draw b resamples :math:`N_g` rows with replacement within each group g,
    computes the moments :math:`(\\bar x^*_g, S^*_g)` and minimises the ML
    discrepancy from :math:`\\hat\\theta` ([1]_, [2]_).  ``:=`` parameters
    are evaluated at each draw's estimate.

    References
    ----------
    .. [1] Efron, B., & Tibshirani, R. J. (1993). *An introduction to the
       bootstrap*. Chapman & Hall.
    .. [2] Bollen, K. A., & Stine, R. A. (1990). Direct and indirect
       effects: Classical and bootstrap estimates of variability.
       *Sociological Methodology*, 20, 115-140.
    .. [3] Field, C. A., & Welsh, A. H. (2007). Bootstrapping clustered
       data. *Journal of the Royal Statistical Society B*, 69(3), 369-390.

    Examples
    --------
    >>> from analysis.sem import sem
    >>> import semopy.examples as ex
    >>> fit = sem("dem60 =~ y1 + y2 + y3 + y4", ex.political_democracy.get_data())
    >>> boot = bootstrap(fit, n_boot=50, seed=1, n_jobs=1)
    >>> boot.n_boot, boot.n_failed
    (50, 0)
    """
    n_boot = int(n_boot)
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, not {n_boot}.")
    job = _prepare(result, rows)
    rng = np.random.default_rng(seed)
    if cluster is not None:
        if len(job.data) != 1:
            raise ValueError("The cluster bootstrap is implemented for single-group models.")
        cl = np.asarray(cluster)
        if len(cl) != len(job.data[0]):
            raise ValueError(f"cluster has {len(cl)} values for {len(job.data[0])} rows.")
        indices = [resample_indices(rng, n_boot, len(cl), cluster=cl)]
        job.cluster = cl
    else:
        indices = [resample_indices(rng, n_boot, len(x)) for x in job.data]
    return run_job(job, indices, result.defined, parameter_names(result), seed=seed, n_jobs=n_jobs,
                   backend=backend, chunk_size=chunk_size, exclude_improper=exclude_improper, bca=bca,
                   progress=progress, studentize=studentize)


def run_job(job: BootstrapJob, indices: list, defined, names: list, *, seed=None, n_jobs: int | None = None, backend=None,
            chunk_size: int | None = None, exclude_improper: bool = True, bca: bool = False,
            progress: bool = False, studentize: bool = False) -> BootstrapResult:
    """Refit the resamples ``indices`` of a prepared job (the work of :func:`bootstrap`).

    Parameters
    ----------
    job : BootstrapJob
        Model, rows, centre and options (``job.cluster`` for a cluster
        bootstrap).
    indices : list
        Per group, the row indices of every draw (:func:`resample_indices`).
    defined : analysis.sem.defined.DefinedParameters
    names : list of str
        Free-parameter names.
    seed, n_jobs, backend, chunk_size, exclude_improper, bca, progress, studentize
        As in :func:`bootstrap`.

    Returns
    -------
    BootstrapResult
    """
    job = replace(job, studentize=bool(studentize), defined=defined if studentize else None)
    se_hat = _full_sample_se(job) if studentize else None
    theta, status, iters, se = _run(job, indices, n_jobs, backend, chunk_size, progress, "bootstrap")
    labels = np.array(["ok", "failed", "improper"])[status]
    est = np.concatenate([job.theta_hat, defined.values(job.theta_hat)])
    accel = None
    if bca:
        accel = _jackknife_accel(defined, replace(job, studentize=False), n_jobs, backend, progress)
    return BootstrapResult(theta=theta, defined=_defined_values(defined, theta), status=labels,
                           names=list(names) + list(defined.names), estimate=est, n_iter=iters, seed=seed,
                           exclude_improper=exclude_improper, accel=accel,
                           method="two-stage-em" if job.em else "ml", se=se, se_hat=se_hat,
                           unit="row" if job.cluster is None else "cluster")


def _full_sample_se(job: BootstrapJob) -> np.ndarray:
    """Sandwich SE at the centre, from all rows (the EM moments for incomplete rows)."""
    index = [np.arange(len(x)) for x in job.data]
    moments = job.em_start if job.em else [complete_moments(x) for x in job.data]
    refitter = Refitter(job.model, job.theta_hat, job.info_inv)
    obj = refitter.objective([c for _, c in moments], [m for m, _ in moments], [len(x) for x in job.data])
    return _sandwich_se(job, refitter.model, obj, job.theta_hat, index, moments)


def resample_indices(rng, n_boot: int, n: int, cluster=None):
    """Row indices of ``n_boot`` bootstrap resamples of ``n`` rows.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_boot, n : int
    cluster : array-like, optional
        Cluster of each row: resample whole clusters with replacement (as
        many clusters as the data have), keeping every row of a drawn
        cluster [1]_; resamples then differ in size.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        ``(n_boot, n)`` int32 array of row indices (rows), or a list of
        ``n_boot`` index arrays (clusters).

    References
    ----------
    .. [1] Field, C. A., & Welsh, A. H. (2007). Bootstrapping clustered
       data. *Journal of the Royal Statistical Society B*, 69(3), 369-390.
    """
    if cluster is None:
        return rng.integers(0, n, size=(n_boot, n), dtype=np.int32)
    labels, inv = np.unique(np.asarray(cluster), return_inverse=True)
    members = [np.flatnonzero(inv == k).astype(np.int32) for k in range(len(labels))]
    picks = rng.integers(0, len(labels), size=(n_boot, len(labels)))
    return [np.concatenate([members[k] for k in row]) for row in picks]


def _jackknife_accel(defined, job, n_jobs, backend, progress):
    """Jackknife acceleration (leave one row out, or one cluster with ``job.cluster``).

    :math:`a = \\sum(\\bar\\theta-\\theta_{(i)})^3 /
    (6[\\sum(\\bar\\theta-\\theta_{(i)})^2]^{3/2})` (Efron 1987, eq. 6.6).
    """
    sizes = [len(x) for x in job.data]
    thetas = []
    if job.cluster is not None:
        labels = np.unique(job.cluster)
        idx = [[np.flatnonzero(job.cluster != k).astype(np.int32) for k in labels]]
        thetas.append(_run(job, idx, n_jobs, backend, max(1, len(labels) // 16), progress, "jackknife")[0])
    else:
        # leave-one-out within the row's own group; the other groups keep all rows
        for g, n in enumerate(sizes):
            loo = np.array([np.delete(np.arange(n), i) for i in range(n)], dtype=np.int32)
            idx = [np.tile(np.arange(m, dtype=np.int32), (n, 1)) if h != g else loo
                   for h, m in enumerate(sizes)]
            thetas.append(_run(job, idx, n_jobs, backend, max(1, n // 16), progress, "jackknife")[0])
    th = np.vstack(thetas)
    vals = np.hstack([th, _defined_values(defined, th)])
    vals = vals[np.all(np.isfinite(vals), axis=1)]
    dev = vals.mean(axis=0) - vals
    num = np.sum(dev ** 3, axis=0)
    den = 6.0 * np.sum(dev ** 2, axis=0) ** 1.5
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, 0.0)


def bootstrap_draws(result, n_boot: int, seed=None, **kwargs) -> np.ndarray:
    """The (B, q) draws of lavaan's ``se="bootstrap"``, NaN rows for the draws left out.

    Runs :func:`bootstrap` and returns the free-parameter draws with NaN rows
    for the draws left out (failed, and improper with
    ``exclude_improper=True``): the draws whose covariance is
    ``SEMResult.vcov`` of ``sem(..., se="bootstrap")`` (its ``.boot``).

    Parameters
    ----------
    result : SEMResult
    n_boot : int
    seed : int, optional
    **kwargs
        Passed to :func:`bootstrap`.

    Returns
    -------
    ndarray (B, q)
    """
    boot = bootstrap(result, n_boot=n_boot, seed=seed, **kwargs)
    theta = boot.theta.copy()
    theta[~boot.used] = np.nan
    return theta


def bootstrap_estimates(result, boot: BootstrapResult | None = None, level: float = 0.95,
                        estimates: pd.DataFrame | None = None, interval: str | None = None) -> pd.DataFrame:
    """``result.estimates`` with bootstrap SEs and intervals (lavaan's ``se="bootstrap"``).

    Parameters
    ----------
    result : SEMResult
    boot : BootstrapResult, optional
        Default ``result.bootstrap``.
    level : float
    estimates : pandas.DataFrame, optional
        The model-based table to start from (default ``result.estimates``;
        pass it when calling from inside ``SEMResult.estimates``).
    interval : str, optional
        The interval in ``ci_lower/ci_upper``: a key of
        :data:`INTERVAL_COLUMNS`.  Default: the fit's ``ci_type``
        (``sem(..., ci_type=)``), else ``"percentile"`` (as lavaan).

    Returns
    -------
    pandas.DataFrame
        The columns of :attr:`SEMResult.estimates` (``lhs, op, rhs, group,
        label, est, se, z, pvalue, ci_lower, ci_upper, std_all``) with
        ``se`` the standard deviation of the draws, ``z``/``pvalue`` from
        it, ``ci_lower/ci_upper`` the ``interval`` (percentile by default), plus
        every interval of :meth:`BootstrapResult.intervals`:
        ``boot_ci_lower_bc, boot_ci_upper_bc`` (bias-corrected) and, with
        ``bca=True``, ``boot_ci_lower_bca, boot_ci_upper_bca``.  Fixed
        rows keep ``se`` 0 and NaN intervals columns become ``est``.
    """
    boot = getattr(result, "bootstrap", None) if boot is None else boot
    if boot is None:
        raise ValueError("No bootstrap draws: run analysis.sem.bootstrap.bootstrap(result, ...) first.")
    if interval is None:
        interval = getattr(result, "options", {}).get("ci_type") or "percentile"
    est = (result.estimates if estimates is None else estimates).copy()
    iv = boot.intervals(level)
    if interval not in INTERVAL_COLUMNS or INTERVAL_COLUMNS[interval][0] not in iv.columns:
        have = [k for k, (lo, _) in INTERVAL_COLUMNS.items() if lo in iv.columns]
        raise ValueError(f"interval {interval!r} is not available from these draws; available: {have} "
                         "('bca' needs bca=True, 't' and 'symmetric-t' need studentize=True).")
    lo_col, hi_col = INTERVAL_COLUMNS[interval]
    pt = result.partable
    q = result.model.n_free
    free = pt["free"].to_numpy()
    is_def = (pt["op"] == ":=").to_numpy()
    pos = np.full(len(pt), -1)
    pos[free > 0] = free[free > 0] - 1
    dnames = list(result.defined.names)
    for i in np.flatnonzero(is_def):
        pos[i] = q + dnames.index(pt["lhs"].iloc[i])
    extra = [c for c in iv.columns if c.startswith("boot_ci") or c == "se_sandwich"]
    for c in extra:
        est[c] = 0.0 if c == "se_sandwich" else est["est"]
    sel = pos >= 0
    take = iv.iloc[pos[sel]]
    est.loc[sel, "se"] = take["boot_se"].to_numpy()
    est.loc[sel, "ci_lower"] = take[lo_col].to_numpy()
    est.loc[sel, "ci_upper"] = take[hi_col].to_numpy()
    for c in extra:
        est.loc[sel, c] = take[c].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est["est"] / est["se"]
    z = z.where(np.isfinite(z) & sel)
    est["z"] = z
    est["pvalue"] = two_sided_p(z.to_numpy(float))
    return est
