"""Full-information maximum likelihood (FIML) for incomplete normal data.

Two layers:

* moment-level functions of a mean vector ``mu`` and covariance matrix
  ``sigma`` given data summarised by pattern (:class:`~analysis.sem.saturated.MissingPatterns`):
  the loglikelihood, its gradient, its analytic Hessian (lavaan's
  ``lav_mvnorm_missing_logl_hessian_samplestats``) and the casewise scores
  (lavaan's ``lav_mvnorm_missing_scores_mu_vech_sigma``).  Complete data are
  the special case of one pattern, so the robust (MLR) code uses them too.
  They work through the precision matrix, vectorised over patterns (see
  "the pattern algebra" below): memory is bounded by the data and a few
  arrays per pattern, never ``n x p x p`` or per-pattern ``p* x p*`` arrays.
* :class:`FIMLObjective`, the estimator the SEM core dispatches to for
  ``missing="fiml"``: lavaan's ``fmin`` is ``(logl_H1 - logl_H0) / N``, so that
  ``chisq = 2 N fmin``; standard errors use the observed information (the
  Hessian of ``fmin`` by a four-point difference of the analytic gradient,
  step ``1e-6``, as lavaan's ``lav_model_hessian``).

Moment vectors are ordered as lavaan's: ``(mu, vech(Sigma))`` with ``vech``
the lower triangle column by column.

References
----------
.. [1] Arbuckle, J. L. (1996). Full information estimation in the presence of
   incomplete data. In G. A. Marcoulides & R. E. Schumacker (Eds.), *Advanced
   structural equation modeling* (pp. 243-277). Erlbaum.
.. [2] Savalei, V. (2010). Expected versus observed information in SEM with
   incomplete normal and nonnormal data. *Psychological Methods*, 15(4),
   352-367.
.. [3] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. *Journal of Statistical Software*, 48(2), 1-36.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import fit_indices as _fi
from .fit_indices import srmr_bentler  # re-exported; the one copy of the SRMR is in fit_indices
from .objective import Objective, _safe_inverse
from .saturated import (
    LOG2PI,
    _chol_inv_logdet,
    single_threaded,
    MissingPatterns,
    SaturatedFit,
    _missing_batches,
    em_saturated,
    loglik_missing,
    missing_patterns,
    vech_indices,
)

__all__ = [
    "FIMLObjective",
    "loglik_missing",
    "gradient_moments",
    "hessian_moments",
    "theta_hessian",
    "information_moments",
    "casewise_scores",
    "casewise_score_blocks",
    "casewise_loglik",
    "delta_matrix",
    "numeric_hessian",
    "srmr_bentler",
    "independence_fit",
]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def _inv(s: np.ndarray) -> np.ndarray:
    inv, _ = _chol_inv_logdet(np.asarray(s, dtype=float))
    if inv is None:
        raise ValueError("An implied covariance block is not positive definite.")
    return inv


def _vech_weights(p: int) -> np.ndarray:
    r, c = vech_indices(p)
    return np.where(r == c, 1.0, 2.0)


def delta_matrix(d_sigma: np.ndarray, d_mu: np.ndarray | None, meanstructure: bool = True) -> np.ndarray:
    """lavaan's ``Delta``: Jacobian of ``(mu, vech(Sigma))`` w.r.t. ``theta``.

    Parameters
    ----------
    d_sigma : numpy.ndarray, shape (q, p, p)
        ``d_sigma[k] = dSigma / dtheta_k`` (the core's ``model.jacobian``).
    d_mu : numpy.ndarray, shape (q, p), optional
        ``d_mu[k] = dmu / dtheta_k``.
    meanstructure : bool
        Include the mean rows.

    Returns
    -------
    numpy.ndarray, shape (p + p*, q) or (p*, q)
        With ``p* = p (p + 1) / 2``.
    """
    p = d_sigma.shape[1]
    r, c = vech_indices(p)
    ds = d_sigma[:, r, c].T
    if not meanstructure:
        return ds
    dm = np.zeros((p, d_sigma.shape[0])) if d_mu is None else np.asarray(d_mu).T
    return np.vstack([dm, ds])


# --------------------------------------------------------------------------
# the pattern algebra, through the precision matrix
# --------------------------------------------------------------------------
# Every function of this module works on the pattern summary of the data
# (:class:`MissingPatterns`), vectorised over patterns.  With
# :math:`\Omega = \Sigma^{-1}` and the missing set ``m`` of a pattern, the
# zero-embedded inverse of its observed block is
# :math:`\tilde W = \Omega - \Omega_{\cdot m} K \Omega_{m\cdot}`,
# :math:`K = \Omega_{mm}^{-1}`, and :math:`\log|\Sigma_{oo}| = \log|\Sigma|
# + \log|\Omega_{mm}|`, so a pattern costs an :math:`|m| \times |m|` inverse
# (batched over the patterns with the same :math:`|m|`) instead of a
# :math:`p_o \times p_o` one, and no per-case or per-pattern ``p x p``
# matrices are kept: a pattern's second moments
# :math:`n_k T_k = n_k (S_k + d_k d_k')` (:math:`d_k` its mean minus
# :math:`\mu`) enter as "rows" :math:`f` with :math:`\sum f f' = n_k T_k`
# (one row :math:`\sqrt{n_k}\,d_k`, plus the eigenvectors of :math:`n_k S_k`
# scaled by the root of their eigenvalues when the pattern has two cases or
# more), and :math:`z = \tilde W f` carries every data-dependent term.
_CHUNK = 4096  # rows per block of the row-wise products (bounds the temporaries)


@dataclass(frozen=True)
class _Layout:
    """What the vectorised functions need from a :class:`MissingPatterns`, computed once.

    Attributes
    ----------
    freq : ndarray (K,)
        Cases per pattern (sums of the weights when weighted).
    observed : ndarray of bool (K, p)
    means : ndarray (K, p)
        Pattern means, 0 at the missing variables.
    batches : list of (patterns, cols)
        Incomplete patterns batched by their number ``j`` of missing
        variables: pattern numbers (B,) and missing columns (B, j).
    batch_of, pos_in : ndarray of int (K,)
        Batch of each pattern (-1: complete) and its position there.
    srows : ndarray (R, p)
        Rows :math:`f` with :math:`\\sum_{f \\in k} f f' = n_k S_k`, zero
        at the missing variables; ``spat`` (R,) their patterns.
    """

    freq: np.ndarray
    observed: np.ndarray
    means: np.ndarray
    batches: list
    batch_of: np.ndarray
    pos_in: np.ndarray
    srows: np.ndarray
    spat: np.ndarray

    @property
    def nvar(self) -> int:
        return int(self.observed.shape[1])

    def by_batch(self, pat):
        """For rows of the patterns ``pat``: ``(b, sel, pos, cols)`` for every batch ``b`` that has rows.

        ``sel`` are the rows, ``pos`` their patterns' places in the batch and
        ``cols`` (len(sel), j) their missing columns.
        """
        which = self.batch_of[pat]
        for b, (_, cols) in enumerate(self.batches):
            sel = np.flatnonzero(which == b)
            if len(sel):
                pos = self.pos_in[pat[sel]]
                yield b, sel, pos, cols[pos]


def _layout(patterns: MissingPatterns) -> _Layout:
    """The :class:`_Layout` of ``patterns`` (cached on the frozen object, as ``functools.cached_property`` does)."""
    cached = patterns.__dict__.get("_precision_layout")
    if cached is not None:
        return cached
    obs = np.asarray(patterns.observed, dtype=bool)
    npat, p = obs.shape
    freq = np.asarray(patterns.freq, dtype=float)
    means = np.zeros((npat, p))
    by_size: dict[int, list] = {}
    for k in range(npat):
        means[k, obs[k]] = patterns.means[k]
        s = patterns.covs[k]
        if np.any(s):  # one case (or identical cases): no within-pattern spread
            by_size.setdefault(s.shape[0], []).append(k)
    srows, spat = [np.zeros((0, p))], [np.zeros(0, dtype=int)]
    for size, ks in by_size.items():
        for start in range(0, len(ks), 512):  # eigh of n_k S_k, batched over patterns of one size
            part = ks[start:start + 512]
            lam, vec = np.linalg.eigh(np.stack([freq[k] * np.asarray(patterns.covs[k], float) for k in part]))
            keep = lam > lam[:, -1:] * (size * np.finfo(float).eps)
            for b, k in enumerate(part):
                f = np.zeros((int(keep[b].sum()), p))
                f[:, obs[k]] = (vec[b][:, keep[b]] * np.sqrt(lam[b, keep[b]])).T
                srows.append(f)
                spat.append(np.full(f.shape[0], k))
    batches = _missing_batches(~obs)
    batch_of = np.full(npat, -1)
    pos_in = np.zeros(npat, dtype=int)
    for b, (pats, _) in enumerate(batches):
        batch_of[pats] = b
        pos_in[pats] = np.arange(len(pats))
    out = _Layout(freq=freq, observed=obs, means=means, batches=batches, batch_of=batch_of,
                  pos_in=pos_in, srows=np.vstack(srows), spat=np.concatenate(spat))
    patterns.__dict__["_precision_layout"] = out
    return out


class _Precision:
    """The pattern algebra of one ``(mu, Sigma)``: :math:`\\Omega`, every pattern's ``K`` and log-determinant.

    Raises ``ValueError`` when ``Sigma`` is not positive definite (lavaan
    rejects such a Sigma too).
    """

    def __init__(self, patterns: MissingPatterns, mu, sigma):
        lay = _layout(patterns)
        self.layout = lay
        self.mu = np.asarray(mu, dtype=float)
        self.omega = _inv(np.asarray(sigma, dtype=float))
        p = lay.nvar
        logdet_sigma = -float(np.linalg.slogdet(self.omega)[1])
        self.logdet = np.full(len(lay.freq), logdet_sigma)  # log|Sigma_oo| per pattern
        self.kinv = []
        psum = np.zeros(p * p)
        for pats, cols in lay.batches:
            kmm = self.omega[cols[:, :, None], cols[:, None, :]]
            k = np.linalg.inv(kmm)
            self.kinv.append(k)
            self.logdet[pats] += np.linalg.slogdet(kmm)[1]
            flat = (cols[:, :, None] * p + cols[:, None, :]).ravel()
            psum += np.bincount(flat, weights=(k * lay.freq[pats, None, None]).ravel(), minlength=p * p)
        self.psum = psum.reshape(p, p)          # sum_k n_k K_k, embedded
        self.n = float(lay.freq.sum())

    def apply(self, f, pat):
        """:math:`z = \\tilde W_k f` and :math:`f'\\tilde W_k f` for rows ``f`` (0 at the missing variables) of patterns ``pat``."""
        lay = self.layout
        g = f @ self.omega
        quad = np.einsum("ij,ij->i", f, g)
        v = f.copy()
        for b, sel, pos, c in lay.by_batch(pat):
            r = np.take_along_axis(g[sel], c, axis=1)                 # (Omega f)_m
            kr = np.einsum("nij,nj->ni", self.kinv[b][pos], r)        # K (Omega f)_m
            quad[sel] -= np.einsum("ni,ni->n", r, kr)
            vs = v[sel]
            np.put_along_axis(vs, c, np.take_along_axis(vs, c, axis=1) - kr, axis=1)
            v[sel] = vs
        z = v @ self.omega
        z[~lay.observed[pat]] = 0.0
        return z, quad

    def rows(self):
        """Rows of the second moments: the spread rows, then :math:`\\sqrt{n_k} d_k`; with their patterns."""
        lay = self.layout
        d = np.where(lay.observed, lay.means - self.mu, 0.0)
        f = np.vstack([lay.srows, np.sqrt(lay.freq)[:, None] * d])
        return f, np.concatenate([lay.spat, np.arange(len(lay.freq))])

    def zrows(self):
        """``(z, pat, quad)`` of :meth:`rows` (cached); the last ``K`` rows are the mean rows."""
        if not hasattr(self, "_z"):
            f, pat = self.rows()
            z, quad = self.apply(f, pat)
            self._z = (z, pat, quad)
        return self._z

    def loglik(self) -> float:
        lay = self.layout
        _, _, quad = self.zrows()
        nvar = lay.observed.sum(axis=1)
        return float(-0.5 * (lay.freq @ (nvar * LOG2PI + self.logdet) + quad.sum()))

    def grad(self):
        """``(g_mu, G)`` of :func:`gradient_moments`."""
        z, _, _ = self.zrows()
        npat = len(self.layout.freq)
        g_mu = np.sqrt(self.layout.freq) @ z[-npat:]
        m = self.omega @ self.psum @ self.omega
        g_s = 0.5 * (z.T @ z - (self.n * self.omega - m))
        return g_mu, 0.5 * (g_s + g_s.T)

    def pattern_chunks(self, max_entries: int = 1 << 19):
        """Incomplete patterns in chunks of at most ``max_entries`` :math:`j^4` terms: ``(cols, K, n)``."""
        lay = self.layout
        for b, (pats, cols) in enumerate(lay.batches):
            step = max(1, max_entries // cols.shape[1] ** 4)
            for s0 in range(0, len(pats), step):
                yield cols[s0:s0 + step], self.kinv[b][s0:s0 + step], lay.freq[pats[s0:s0 + step]]

    def kk_pairs(self, gflat):
        """:math:`\\sum_k n_k \\operatorname{tr}(K_k (G_a)_{mm} K_k (G_b)_{mm})` for the rows ``G_a`` of ``gflat`` (q, p*p).

        Through the sparse ``p^2 x p^2`` matrix with :math:`n_k K_{st}K_{uv}`
        at row ``(m_t, m_u)`` and column ``(m_v, m_s)`` (``j^4`` entries per
        pattern), built and applied in chunks of patterns.
        """
        from scipy import sparse  # lazy: FIML only

        p = self.layout.nvar
        out = np.zeros((gflat.shape[0], gflat.shape[0]))
        for cols, k, n in self.pattern_chunks():
            shape = (len(n),) + (cols.shape[1],) * 4                          # [pattern, s, t, u, v]
            rows = np.broadcast_to(cols[:, None, :, None, None] * p + cols[:, None, None, :, None], shape)
            cols_ = np.broadcast_to(cols[:, None, None, None, :] * p + cols[:, :, None, None, None], shape)
            vals = n[:, None, None, None, None] * k[:, :, :, None, None] * k[:, None, None, :, :]
            u = sparse.csr_array((vals.ravel(), (rows.ravel(), cols_.ravel())), shape=(p * p, p * p))
            out += gflat @ (u @ gflat.T)
        return out

    def missing_products(self, z, pat, mats):
        """For rows ``z`` of patterns ``pat``: :math:`Y_r = (A_a z_r)_m` for ``mats`` A (q, p, p), and K.

        Yields ``(K_r (n, j, j), Y (n, j, q), cols (n, j), sel)`` per batch and block of rows.
        """
        at = np.ascontiguousarray(mats.transpose(1, 2, 0))       # (p, p, q): at[v] = rows v of every A_a
        for b, sel_all, pos_all, c_all in self.layout.by_batch(pat):
            for start in range(0, len(sel_all), _CHUNK):
                sel, pos, c = (a[start:start + _CHUNK] for a in (sel_all, pos_all, c_all))
                y = np.empty((len(sel), c.shape[1], mats.shape[0]))
                zs = z[sel]
                for t in range(c.shape[1]):
                    order = np.argsort(c[:, t], kind="stable")
                    vs, starts = np.unique(c[order, t], return_index=True)
                    ends = np.append(starts[1:], len(order))
                    for v, s0, s1 in zip(vs, starts, ends):
                        idx = order[s0:s1]
                        y[idx, t, :] = zs[idx] @ at[v]
                yield self.kinv[b][pos], y, c, sel


def _trace_pairs(ds, a, b) -> np.ndarray:
    """:math:`\\operatorname{tr}(D_i A D_j B)` for every pair of the ``(q, p, p)`` symmetric matrices ``ds``."""
    q = ds.shape[0]
    x = np.matmul(ds, a).reshape(q, -1)
    y = np.matmul(ds, b).transpose(0, 2, 1).reshape(q, -1)
    return x @ y.T


def _add_outer(t, a, b) -> None:
    """``t[i, j, k, l] += a[i, k] b[j, l]`` in place, one ``i`` slice at a time (no second ``p^4`` array)."""
    for i in range(t.shape[0]):
        t[i] += a[i][None, :, None] * b[:, None, :]


def _modes(t, omega, axes) -> np.ndarray:
    """Multiply the array ``t`` by the symmetric ``omega`` along each of ``axes``, in place.

    Slice by slice, so that no second array of the size of ``t`` (``p^4``
    for :func:`hessian_moments`) is made.
    """
    p = omega.shape[0]
    for ax in axes:
        if ax == t.ndim - 1:
            flat = t.reshape(-1, p)
            for s0 in range(0, flat.shape[0], p * p):
                flat[s0:s0 + p * p] = flat[s0:s0 + p * p] @ omega
        elif ax == 0:
            flat = t.reshape(p, -1)
            for s0 in range(0, flat.shape[1], p * p):
                flat[:, s0:s0 + p * p] = omega @ flat[:, s0:s0 + p * p]
        else:
            for i in range(t.shape[0]):
                _modes(t[i], omega, (ax - 1,))
    return t


def _row_patterns(patterns: MissingPatterns) -> np.ndarray:
    """The pattern of every row of ``patterns.data``."""
    pat = np.empty(patterns.data.shape[0], dtype=int)
    for k, idx in enumerate(patterns.rows):
        pat[idx] = k
    return pat


def casewise_score_blocks(patterns: MissingPatterns, mu, sigma, columns=None):
    r"""Casewise scores of ``(mu, vech Sigma)`` in blocks of rows: yields ``(rows, scores)``.

    ``rows`` is a slice of ``patterns.data``; the blocks hold at most
    ``_CHUNK`` rows, so that no caller needs all ``n x (p + p*)`` scores at once
    (:func:`casewise_scores` gathers them).  ``columns`` (positions in
    ``(mu, vech Sigma)``) computes only those scores, in that order.

    Notes
    -----
    Row :math:`i` of pattern :math:`k` has the scores :math:`z_i = W_k(x_i -
    \mu)` (0 at its missing variables) and :math:`\tfrac12\operatorname{vech}_w
    (z_i z_i' - W_k)` with :math:`W_k = \Omega - \Omega_{\cdot m}K_k\Omega_{m\cdot}`
    (off-diagonal entries counted twice); :math:`W_k` is formed once per
    pattern of a block, not per row.
    """
    st = _Precision(patterns, mu, sigma)
    x = patterns.data
    p = x.shape[1]
    r, c = vech_indices(p)                         # column by column: column j is rows j..p-1
    wv = 0.5 * _vech_weights(p)
    if columns is None:
        seg = np.concatenate([[0], np.cumsum(np.arange(p, 0, -1))])   # where each column of vech starts
        vech_cols = slice(None)
    else:
        columns = np.asarray(columns, dtype=int)
        mean_at, vech_at = np.flatnonzero(columns < p), np.flatnonzero(columns >= p)
        mean_cols, vech_cols = columns[mean_at], columns[vech_at] - p
    rv, cv, wvv = r[vech_cols], c[vech_cols], wv[vech_cols]
    w_full = st.omega[rv, cv] * wvv
    pat = _row_patterns(patterns)
    lay = st.layout
    width = p + len(r) if columns is None else len(columns)
    for start in range(0, x.shape[0], _CHUNK):
        rows = slice(start, start + _CHUNK)
        k = pat[rows]
        z, _ = st.apply(np.nan_to_num(x[rows] - st.mu, nan=0.0), k)
        block = np.empty((len(k), width))
        if columns is None:
            block[:, :p] = z
            second = block[:, p:]
            for j in range(p):                     # vech(z z') from contiguous slices (no gathers)
                np.multiply(z[:, j:], z[:, j:j + 1], out=second[:, seg[j]:seg[j + 1]])
            second[:, seg[:-1]] *= 0.5             # the diagonal: weight 1/2 (off-diagonal 1)
        else:
            block[:, mean_at] = z[:, mean_cols]
            second = z[:, rv] * z[:, cv] * wvv
        uniq, inv = np.unique(k, return_inverse=True)
        wtab = np.broadcast_to(w_full, (len(uniq), len(rv))).copy()
        for b, sel, pos, cols in lay.by_batch(uniq):
            a = st.omega[cols]                                         # (u, j, p): rows m of Omega
            ka = np.einsum("nij,njp->nip", st.kinv[b][pos], a)
            wtab[sel] -= np.einsum("nsp,nsq->npq", a, ka)[:, rv, cv] * wvv
        second -= np.take(wtab, inv, axis=0)
        if columns is not None:
            block[:, vech_at] = second
        yield rows, block


def _loglik(patterns: MissingPatterns, mu, sigma) -> float:
    """FIML loglikelihood (:func:`loglik_missing`) through the precision matrix; ``-inf`` when Sigma is not positive definite."""
    try:
        return _Precision(patterns, mu, sigma).loglik()
    except ValueError:
        return -np.inf


# --------------------------------------------------------------------------
# moment-level functions
# --------------------------------------------------------------------------
@single_threaded
def gradient_moments(patterns: MissingPatterns, mu, sigma) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the FIML loglikelihood w.r.t. ``mu`` and ``Sigma``.

    Parameters
    ----------
    patterns : MissingPatterns
    mu : array-like, shape (p,)
    sigma : array-like, shape (p, p)

    Returns
    -------
    g_mu : numpy.ndarray, shape (p,)
        :math:`\\partial \\log L / \\partial \\mu`.
    g_sigma : numpy.ndarray, shape (p, p)
        The symmetric matrix :math:`G` with
        :math:`d\\log L = \\operatorname{tr}(G\\, d\\Sigma)` for symmetric
        :math:`d\\Sigma` (so the derivative w.r.t. ``vech(Sigma)`` is
        :math:`D_p' \\operatorname{vec} G`).

    Notes
    -----
    Per pattern :math:`k` with :math:`W_k = \\Sigma_k^{-1}`,
    :math:`d_k = \\bar y_k - \\mu_k` and :math:`T_k = S_k + d_k d_k'`:
    :math:`\\partial_\\mu = n_k W_k d_k` and
    :math:`G_k = \\tfrac{n_k}{2}(W_k T_k W_k - W_k)`, embedded in the
    observed rows and columns [1]_.

    References
    ----------
    .. [1] Savalei, V. (2010). Expected versus observed information in SEM
       with incomplete normal and nonnormal data. *Psychological Methods*,
       15(4), 352-367.
    """
    return _Precision(patterns, mu, sigma).grad()


@single_threaded
def hessian_moments(patterns: MissingPatterns, mu, sigma, meanstructure: bool = True,
                    expected: bool = False) -> np.ndarray:
    """Analytic Hessian of the FIML loglikelihood w.r.t. ``(mu, vech(Sigma))``.

    Parameters
    ----------
    patterns : MissingPatterns
    mu : array-like, shape (p,)
    sigma : array-like, shape (p, p)
    meanstructure : bool, default True
        Include the mean block (otherwise only the ``vech(Sigma)`` block).
    expected : bool, default False
        Return the expectation of the Hessian instead (data replaced by
        their expectations under ``(mu, sigma)`` pattern by pattern; its
        negative is lavaan's ``lav_mvnorm_missing_information_expected``
        times N).

    Returns
    -------
    numpy.ndarray, shape (p + p*, p + p*) or (p*, p*)
        :math:`\\partial^2 \\log L / \\partial\\gamma\\,\\partial\\gamma'`
        with :math:`\\gamma = (\\mu', \\operatorname{vech}(\\Sigma)')'`.

    Notes
    -----
    Per pattern (symbols of :func:`gradient_moments`), with
    :math:`V_k = W_k T_k W_k` and :math:`A_k = 2V_k - W_k`:
    :math:`H_{\\mu\\mu} = -n_k W_k`,
    :math:`H_{\\sigma\\mu} = -n_k D'(W_k d_k \\otimes W_k)`,
    :math:`H_{\\sigma\\sigma} = -\\tfrac{n_k}{2} D'(W_k \\otimes A_k)D`
    (lavaan's ``lav_mvnorm_missing_logl_hessian_samplestats``); the
    expected version has :math:`d_k = 0` and :math:`A_k = W_k`.  Summed over
    patterns through the precision matrix :math:`\\Omega`: with
    :math:`W_k = \\Omega - \\Omega K_k \\Omega` (:math:`K_k` the embedded
    :math:`\\Omega_{mm}^{-1}`) and :math:`n_k V_k = \\sum_r z_r z_r'`, every
    term is a product of :math:`\\Omega` with a ``p^4`` array accumulated
    from :math:`|m|^2` (or :math:`|m|^4`) entries per pattern, so the cost
    does not grow as :math:`p^4` per pattern.

    References
    ----------
    .. [1] Savalei, V. (2010). Expected versus observed information in SEM
       with incomplete normal and nonnormal data. *Psychological Methods*,
       15(4), 352-367.
    .. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. *Journal of Statistical Software*, 48(2), 1-36.
    """
    st = _Precision(patterns, mu, sigma)
    lay, om, n = st.layout, st.omega, st.n
    p = lay.nvar
    m = om @ st.psum @ om                                   # sum_k n_k (Omega - W_k)
    # Q[i, j, k, l] = sum_k n_k W[i, k] A[j, l]; first sum_k n_k W (x) W, W = Omega - Omega K Omega
    u2 = np.zeros(p ** 4)                                   # sum_k n_k K[a, c] K[b, d] at [a, b, c, d]
    for cols, k, nk in st.pattern_chunks():
        flat = ((cols[:, :, None, None, None] * p + cols[:, None, None, :, None]) * p
                + cols[:, None, :, None, None]) * p + cols[:, None, None, None, :]  # [pattern, s, t, u, v]
        val = nk[:, None, None, None, None] * k[:, :, :, None, None] * k[:, None, None, :, :]
        np.add.at(u2, flat.ravel(), val.ravel())
    q4 = _modes(u2.reshape(p, p, p, p), om, (0, 1, 2, 3))
    del u2
    _add_outer(q4, n * om - m, om)
    _add_outer(q4, om, -m)
    if not expected:  # n_k A_k = 2 sum_r z_r z_r' - n_k W_k
        z, pat, _ = st.zrows()
        u1 = np.zeros((p * p, p * p))                       # sum_r K_r[a, c] z_r z_r' at [(a, c), (j, l)]
        pair, row, wgt = [], [], []
        for b, sel, pos, c in lay.by_batch(pat):
            pair.append((c[:, :, None] * p + c[:, None, :]).ravel())
            row.append(np.repeat(sel, c.shape[1] ** 2))
            wgt.append(st.kinv[b][pos].ravel())
        if pair:
            pair, row, wgt = np.concatenate(pair), np.concatenate(row), np.concatenate(wgt)
            order = np.argsort(pair, kind="stable")
            keys, starts = np.unique(pair[order], return_index=True)
            for key, s0, s1 in zip(keys, starts, np.append(starts[1:], len(order))):
                idx = order[s0:s1]
                zr = z[row[idx]]
                u1[key] = ((zr * wgt[idx, None]).T @ zr).ravel()
        t1 = _modes(u1.reshape(p, p, p, p), om, (0, 1)).transpose(0, 2, 1, 3)
        t1 *= 2.0
        q4 += t1                                            # q4 <- 2 (Omega (x) Z'Z - T1) - q4, in place
        del u1, t1
        q4 *= -1.0
        _add_outer(q4, om, 2.0 * (z.T @ z))
    r, c = vech_indices(p)
    qf = q4.reshape(-1)

    def at(i, j, k, l):
        return qf[((i[:, None] * p + j[:, None]) * p + k[None, :]) * p + l[None, :]]

    half = np.where(r == c, 0.5, 1.0)
    h_ss = at(r, c, r, c) + at(r, c, c, r) + at(c, r, c, r) + at(c, r, r, c)
    h_ss *= -0.5 * half[:, None] * half[None, :]
    if not meanstructure:
        return h_ss
    h_mm = -(n * om - m)
    if expected:
        h_sm = np.zeros((len(r), p))
    else:  # R3[i, k, l] = sum_k n_k W[i, k] (W d_k)[l]
        npat = len(lay.freq)
        zd = z[-npat:]                                      # sqrt(n_k) W d_k
        g_mu = np.sqrt(lay.freq) @ zd
        u3 = np.zeros(p ** 3)
        for b, (pats, cols) in enumerate(lay.batches):
            flat = (cols[:, :, None, None] * p + cols[:, None, :, None]) * p + np.arange(p)
            val = (np.sqrt(lay.freq[pats])[:, None, None, None] * st.kinv[b][:, :, :, None]
                   * zd[pats][:, None, None, :])
            u3 += np.bincount(flat.ravel(), weights=val.ravel(), minlength=p ** 3)
        r3 = np.einsum("ik,l->ikl", om, g_mu) - _modes(u3.reshape(p, p, p), om, (0, 1))
        h_sm = -half[:, None] * (r3[:, r, c] + r3[:, c, r]).T
    return np.block([[h_mm, h_sm.T], [h_sm, h_ss]])


@single_threaded
def theta_hessian(patterns: MissingPatterns, mu, sigma, d_sigma, d_mu=None,
                  expected: bool = False) -> np.ndarray:
    r"""``Delta' H Delta``: the moment Hessian of the loglikelihood carried to ``theta``.

    Parameters
    ----------
    patterns : MissingPatterns
    mu : array-like, shape (p,)
    sigma : array-like, shape (p, p)
        Must be positive definite.
    d_sigma : numpy.ndarray, shape (q, p, p)
        ``dSigma / dtheta_k``.
    d_mu : numpy.ndarray, shape (q, p), optional
        ``dmu / dtheta_k`` (None: no mean structure).
    expected : bool, default False
        Use the expected moment Hessian (see :func:`hessian_moments`).

    Returns
    -------
    numpy.ndarray, shape (q, q)
        Equal to ``Delta' hessian_moments(...) Delta`` (without the
        second-derivative term of a nonlinear model).

    Notes
    -----
    Computed without forming the ``p* x p*`` moment Hessian: with
    :math:`\Omega = \Sigma^{-1}`, the zero-embedded inverse of a pattern's
    observed block is :math:`\tilde W_k = \Omega - L_kL_k'`,
    :math:`L_k = \Omega_{\cdot m}\,\mathrm{chol}(\Omega_{mm}^{-1})` (``m`` the
    missing variables), so that
    :math:`-\tfrac12\sum_k n_k\operatorname{tr}(\partial_a\Sigma\,\tilde A_k\,
    \partial_b\Sigma\,\tilde W_k) = -\tfrac12\operatorname{tr}(\partial_a\Sigma\,
    \bar A\,\partial_b\Sigma\,\Omega) + \tfrac12\sum_k n_k \sum_r
    (\partial_a\Sigma\, l_{kr})'\tilde A_k(\partial_b\Sigma\, l_{kr})` with
    :math:`\bar A = \sum_k n_k \tilde A_k`; the mean blocks likewise.
    With :math:`n_k\tilde A_k = 2\sum_r z_rz_r' - n_k\tilde W_k` and
    :math:`\sum_k n_k L_kL_k' = \Omega P \Omega` (:math:`P` the sum of the
    embedded :math:`n_k\Omega_{mm}^{-1}`) all that remains per pattern is
    :math:`\sum_k n_k\operatorname{tr}(K_k G_{a,mm} K_k G_{b,mm})`
    (:math:`G_a = \Omega\,\partial_a\Sigma\,\Omega`, a sparse product with
    :math:`|m|^4` entries per pattern) and, for the observed version,
    :math:`\sum_r (\Omega\partial_a\Sigma z_r)_m' K (\Omega\partial_b\Sigma
    z_r)_m` over the rows :math:`z_r` of the pattern algebra.

    References
    ----------
    .. [1] Savalei, V. (2010). Expected versus observed information in SEM
       with incomplete normal and nonnormal data. *Psychological Methods*,
       15(4), 352-367.
    .. [2] Henderson, H. V., & Searle, S. R. (1981). On deriving the inverse
       of a sum of matrices. *SIAM Review*, 23(1), 53-60.
    """
    st = _Precision(patterns, mu, sigma)
    om, n = st.omega, st.n
    ds = np.asarray(d_sigma, dtype=float)
    q, p, _ = ds.shape
    dm = None if d_mu is None else np.asarray(d_mu, dtype=float)
    m = om @ st.psum @ om
    gflat = np.matmul(np.matmul(om, ds), om).reshape(q, -1)        # Omega D_a Omega
    kk = st.kk_pairs(gflat)                                        # sum_k n_k tr(K G_a K G_b)
    h_exp = -0.5 * _trace_pairs(ds, n * om - 2.0 * m, om) - 0.5 * kk
    if expected:
        h = h_exp
    else:  # n_k A_k = 2 sum_r z_r z_r' - n_k W_k
        z, pat, _ = st.zrows()
        od = np.matmul(om, ds)                                     # Omega D_a
        yky = np.zeros((q, q))
        for k, y, _, _ in st.missing_products(z, pat, od):
            yky += np.einsum("nij,njq->niq", k, y).reshape(-1, q).T @ y.reshape(-1, q)
        h = -_trace_pairs(ds, z.T @ z, om) + yky - h_exp
    if dm is not None:
        dmo = dm @ om
        h = h - n * dmo @ dm.T + dmo @ st.psum @ dmo.T
        if not expected:  # sigma-mean block: -sum_k n_k (W d_k)' D_a W_k dmu_b
            npat = len(st.layout.freq)
            zd, pd_ = z[-npat:], pat[-npat:]
            u = (ds.reshape(q * p, p) @ (np.sqrt(st.layout.freq) @ zd)).reshape(q, p)
            cross = np.zeros((q, q))
            for k, y, cols, sel in st.missing_products(zd, pd_, od):
                ky = np.einsum("nij,njq->niq", k, dmo.T[cols]) * np.sqrt(st.layout.freq[pd_[sel]])[:, None, None]
                cross += y.reshape(-1, q).T @ ky.reshape(-1, q)
            x = -u @ dmo.T + cross
            h = h + x + x.T
    return 0.5 * (h + h.T)


def information_moments(patterns: MissingPatterns, mu, sigma, meanstructure: bool = True) -> np.ndarray:
    """Observed unit information of ``(mu, vech(Sigma))``: ``-Hessian / N``.

    Parameters
    ----------
    patterns : MissingPatterns
    mu, sigma : array-like
    meanstructure : bool, default True

    Returns
    -------
    numpy.ndarray, shape (p + p*, p + p*)
        lavaan's ``lav_mvnorm_missing_information_observed_samplestats``
        (at the EM estimates this is the unstructured H1 information ``A1``).

    References
    ----------
    .. [1] Savalei, V. (2010). Expected versus observed information in SEM
       with incomplete normal and nonnormal data. *Psychological Methods*,
       15(4), 352-367.
    """
    return -hessian_moments(patterns, mu, sigma, meanstructure) / patterns.total


@single_threaded
def casewise_scores(patterns: MissingPatterns, mu, sigma, meanstructure: bool = True) -> np.ndarray:
    """Casewise scores of the normal loglikelihood w.r.t. ``(mu, vech(Sigma))``.

    Parameters
    ----------
    patterns : MissingPatterns
    mu : array-like, shape (p,)
    sigma : array-like, shape (p, p)
    meanstructure : bool, default True
        Include the ``mu`` columns.

    Returns
    -------
    numpy.ndarray, shape (n, p + p*) or (n, p*)
        Row ``i`` (in the order of ``patterns.data``) is
        :math:`\\partial \\log L_i / \\partial \\gamma`.

    Notes
    -----
    For case :math:`i` with observed block :math:`o`,
    :math:`e_i = y_{i,o} - \\mu_o`, :math:`W = \\Sigma_{oo}^{-1}`:
    :math:`s_{\\mu} = W e_i` and :math:`s_\\Sigma = D'\\operatorname{vec}
    \\{\\tfrac12 (W e_i e_i' W - W)\\}` (zeros for unobserved variables),
    lavaan's ``lav_mvnorm_missing_scores_mu_vech_sigma``.

    References
    ----------
    .. [1] Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based
       methods for mean and covariance structure analysis with nonnormal
       missing data. *Sociological Methodology*, 30, 165-200.
    """
    x = patterns.data
    n, p = x.shape
    ps = p * (p + 1) // 2
    out = np.zeros((n, p + ps))
    for rows, block in casewise_score_blocks(patterns, mu, sigma):
        out[rows] = block
    return out if meanstructure else out[:, p:]


@single_threaded
def casewise_loglik(patterns: MissingPatterns, mu, sigma) -> np.ndarray:
    """Casewise loglikelihood values (in the order of ``patterns.data``).

    Notes
    -----
    :math:`\\log L_i = -\\tfrac12[p_i\\log 2\\pi + \\log|\\Sigma_{oo}| +
    e_i'\\Sigma_{oo}^{-1}e_i]`.

    References
    ----------
    .. [1] Arbuckle, J. L. (1996). Full information estimation in the
       presence of incomplete data. Erlbaum.
    """
    st = _Precision(patterns, mu, sigma)
    x = patterns.data
    pat = _row_patterns(patterns)
    out = np.zeros(x.shape[0])
    nvar = st.layout.observed.sum(axis=1)
    for start in range(0, x.shape[0], _CHUNK):
        rows = slice(start, start + _CHUNK)
        e = np.nan_to_num(x[rows] - st.mu, nan=0.0)
        _, quad = st.apply(e, pat[rows])
        k = pat[rows]
        out[rows] = -0.5 * (nvar[k] * LOG2PI + st.logdet[k] + quad)
    return out


def numeric_hessian(gradient, theta, h: float = 1e-6) -> np.ndarray:
    """Hessian by a four-point central difference of an analytic gradient.

    Parameters
    ----------
    gradient : callable
        ``gradient(theta) -> ndarray (q,)``.
    theta : array-like, shape (q,)
    h : float, default 1e-6
        Step (lavaan's ``lav_model_hessian``).

    Returns
    -------
    numpy.ndarray, shape (q, q)
        Symmetrised Hessian.

    Notes
    -----
    Column :math:`j`: :math:`[g(\\theta-2he_j) - 8g(\\theta-he_j) +
    8g(\\theta+he_j) - g(\\theta+2he_j)]/(12h)`; then :math:`(H+H')/2`.

    References
    ----------
    .. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. *Journal of Statistical Software*, 48(2), 1-36.
    """
    theta = np.asarray(theta, dtype=float)
    q = theta.size
    hess = np.zeros((q, q))
    for j in range(q):
        cols = []
        for step in (-2.0, -1.0, 1.0, 2.0):
            t = theta.copy()
            t[j] += step * h
            cols.append(np.asarray(gradient(t), dtype=float))
        hess[:, j] = (cols[0] - 8.0 * cols[1] + 8.0 * cols[2] - cols[3]) / (12.0 * h)
    return 0.5 * (hess + hess.T)


def independence_fit(patterns: MissingPatterns) -> tuple[np.ndarray, np.ndarray, float]:
    """FIML estimate of the independence (baseline) model.

    Parameters
    ----------
    patterns : MissingPatterns

    Returns
    -------
    mu : numpy.ndarray
        Available-case means.
    var : numpy.ndarray
        Available-case variances (divisor: number observed).
    loglik : float
        FIML loglikelihood of the diagonal model.

    Notes
    -----
    With a diagonal :math:`\\Sigma` the incomplete-data likelihood factors
    into univariate likelihoods, so the FIML estimates are the available-case
    mean and N-divisor variance of each variable (lavaan fits the same model
    iteratively).

    References
    ----------
    .. [1] Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis
       with missing data* (2nd ed.). Wiley.
    """
    x = patterns.data
    if patterns.weights is None:
        mu = np.nanmean(x, axis=0)
        var = np.nanmean((x - mu) ** 2, axis=0)
    else:  # weighted available-case moments (sampling weights)
        w = np.where(np.isnan(x), 0.0, patterns.weights[:, None])
        xz = np.nan_to_num(x)
        mu = (w * xz).sum(axis=0) / w.sum(axis=0)
        var = (w * (xz - mu) ** 2).sum(axis=0) / w.sum(axis=0)
    return mu, var, _loglik(patterns, mu, np.diag(var))


# --------------------------------------------------------------------------
# the objective
# --------------------------------------------------------------------------
class FIMLObjective(Objective):
    """FIML for incomplete normal data, as lavaan's ``missing = "ml"``.

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
        Must have a mean structure (lavaan forces ``meanstructure = TRUE``
        with FIML); without one the EM means are held fixed.
    stats : analysis.sem.samplestats.SampleStats
        ``stats.data[g]`` holds the rows of group ``g`` (NaN = missing).
    em_max_iter, em_tol : optional
        EM settings for the saturated model (lavaan ``em.h1.iter.max``,
        ``em.h1.tol``).

    Notes
    -----
    :math:`f_{min}(\\theta) = (\\log L_{H1} - \\log L(\\theta))/N`, summed
    over groups; :math:`\\chi^2 = 2 N f_{min}` (0 when EM stopped short of
    the model's maximum); the gradient is
    :math:`-N^{-1}\\sum_g \\Delta_g' \\partial\\log L_g/\\partial\\gamma_g`;
    the default vcov is the inverse observed information
    :math:`[-\\partial^2 \\log L/\\partial\\theta\\partial\\theta']^{-1}`
    (lavaan ``information = "observed"``).

    References
    ----------
    .. [1] Arbuckle, J. L. (1996). Full information estimation in the
       presence of incomplete data. Erlbaum.
    .. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. *Journal of Statistical Software*, 48(2), 1-36.
    """

    name = "FIML"

    def __init__(self, model, stats, *, em_max_iter: int = 500, em_tol: float = 1e-5):
        super().__init__(model, stats)
        self.patterns: list[MissingPatterns] = []
        self.h1: list[SaturatedFit] = []
        for g, x in enumerate(stats.data):
            cols = list(model.ov_names[g]) if hasattr(model, "ov_names") else None
            frame = pd.DataFrame(np.asarray(x, dtype=float), columns=cols)
            wts = getattr(stats, "weights", None)
            mp = missing_patterns(frame, weights=None if not wts else wts[g])
            if len(mp.empty):
                raise ValueError(
                    f"{len(mp.empty)} case(s) in group {g + 1} have every variable missing; "
                    "remove them before a FIML fit (lavaan drops them with a warning)."
                )
            self.patterns.append(mp)
            self.h1.append(em_saturated(mp, max_iter=em_max_iter, tol=em_tol))
        self._nobs = np.array([mp.total for mp in self.patterns], dtype=float)  # sum of weights if weighted
        self._loglik_h1 = float(sum(h.loglik for h in self.h1))

    @property
    def ntotal(self) -> int:
        return int(round(self._nobs.sum()))

    @property
    def nobs(self) -> list:
        """Cases used per group (sums of the sampling weights when weighted)."""
        return [int(n) if mp.weights is None else float(n) for n, mp in zip(self._nobs, self.patterns)]

    # moments ------------------------------------------------------------
    def _moments(self, theta):
        out = []
        for g, (sigma, mu) in enumerate(self.model.implied(theta)):
            if mu is None or not getattr(self.model, "meanstructure", True):
                mu = self.h1[g].mean.to_numpy()
            out.append((np.asarray(sigma, dtype=float), np.asarray(mu, dtype=float)))
        return out

    def h1_moments(self) -> tuple[list, list]:
        """EM covariance matrices and mean vectors, one per group (lavaan's ``h1``).

        Returns
        -------
        covs, means : list of numpy.ndarray
        """
        return ([h.cov.to_numpy() for h in self.h1], [h.mean.to_numpy() for h in self.h1])

    def h1_information(self, group: int) -> np.ndarray:
        """Observed unit information of ``(mu, vech Sigma)`` at the EM moments (cached).

        lavaan's unstructured H1 information under FIML (``A1`` of the
        Yuan-Bentler test, ``Wm`` of FIML-C).
        """
        cache = self.__dict__.setdefault("_h1_info", {})
        if group not in cache:
            s, m = self.h1_group(group)
            mp = self.patterns[group]
            cache[group] = -hessian_moments(mp, m, s, meanstructure=True) / mp.total
        return cache[group]

    def h1_group(self, group: int) -> tuple[np.ndarray, np.ndarray]:
        """EM covariance matrix and mean vector of one group."""
        h = self.h1[group]
        return h.cov.to_numpy(), h.mean.to_numpy()

    def baseline_test(self) -> tuple[float, int]:
        """Chi-square and df of the independence model fitted by FIML.

        Notes
        -----
        The baseline has free means and variances and zero covariances;
        :math:`\\chi^2_0 = 2(\\log L_{H1} - \\log L_0)`,
        :math:`df_0 = \\sum_g p_g(p_g-1)/2` (lavaan's baseline under FIML).
        """
        ll0 = 0.0
        df0 = 0
        for mp in self.patterns:
            ll0 += independence_fit(mp)[2]
            df0 += mp.nvar * (mp.nvar - 1) // 2
        return max(2.0 * (self._loglik_h1 - ll0), 0.0), int(df0)

    # contract -------------------------------------------------------------
    @single_threaded
    def loglik(self, theta) -> float:
        total = 0.0
        for mp, (sigma, mu) in zip(self.patterns, self._moments(theta)):
            total += _loglik(mp, mu, sigma)
        return float(total) if np.isfinite(total) else float("nan")

    def loglik_h1(self) -> float:
        return self._loglik_h1

    @single_threaded
    def value(self, theta) -> float:
        ll = 0.0
        for mp, (sigma, mu) in zip(self.patterns, self._moments(theta)):
            ll += _loglik(mp, mu, sigma)
        if not np.isfinite(ll):
            return float("inf")
        return float((self._loglik_h1 - ll) / self.ntotal)

    @single_threaded
    def loglik_gradient(self, theta) -> np.ndarray:
        """Analytic gradient of the loglikelihood w.r.t. ``theta``."""
        jac = self.model.jacobian(theta)
        grad = np.zeros(self.model.n_free)
        meanstructure = getattr(self.model, "meanstructure", True)
        for g, (mp, (sigma, mu)) in enumerate(zip(self.patterns, self._moments(theta))):
            g_mu, g_s = gradient_moments(mp, mu, sigma)
            d_sigma, d_mu = jac[g]
            grad += d_sigma.reshape(d_sigma.shape[0], -1) @ g_s.ravel()
            if meanstructure and d_mu is not None:
                grad += np.asarray(d_mu) @ g_mu
        return grad

    def gradient(self, theta) -> np.ndarray:
        return -self.loglik_gradient(theta) / self.ntotal

    def value_and_gradient(self, theta):
        """Both ``value`` and ``gradient``."""
        v = self.value(theta)
        if not np.isfinite(v):
            return v, None
        return v, self.gradient(theta)

    @single_threaded
    def information(self, theta, kind: str = "expected") -> np.ndarray:
        """Unit information (per case) of the FIML objective.

        Parameters
        ----------
        theta : array-like
        kind : {"expected", "observed"}
            ``"observed"`` (lavaan's default for FIML) is the Hessian of
            ``value``; ``"expected"`` replaces the data by their expectations
            pattern by pattern (lavaan ``lav_mvnorm_missing_information_expected``).

        Returns
        -------
        numpy.ndarray, shape (q, q)

        Notes
        -----
        :math:`-N^{-1}[\\sum_g \\Delta_g' H_g \\Delta_g + \\sum_g
        \\sum_k (\\partial \\log L_g/\\partial\\gamma_k)\\,
        \\partial^2\\gamma_k/\\partial\\theta\\partial\\theta']` with the
        analytic moment Hessian :math:`H_g` (:func:`hessian_moments`); the
        second term (observed only) uses a forward difference of the
        model's analytic Jacobian (forward, step ``1e-6``).
        """
        if kind not in ("expected", "observed"):
            raise ValueError(f"Unknown information kind {kind!r}; use 'expected' or 'observed'.")
        theta = np.asarray(theta, dtype=float)
        key = (kind, theta.tobytes())
        cache = self.__dict__.setdefault("_info_cache", {})
        if key in cache:
            return cache[key].copy()
        q = self.model.n_free
        expected = kind == "expected"
        jac = self.model.jacobian(theta)
        moments = self._moments(theta)
        meanstructure = getattr(self.model, "meanstructure", True)
        hess = np.zeros((q, q))
        grads = []
        for g, (mp, (sigma, mu)) in enumerate(zip(self.patterns, moments)):
            d_sigma, d_mu = jac[g]
            hess += theta_hessian(mp, mu, sigma, d_sigma, d_mu if meanstructure else None,
                                  expected=expected)
            if not expected:
                grads.append(gradient_moments(mp, mu, sigma))
        if not expected:
            # second-derivative term: forward difference of the analytic Jacobian
            step = 1e-6
            for j in range(q):
                tp = theta.copy()
                tp[j] += step
                jp = self.model.jacobian(tp)
                for g, (g_mu, g_s) in enumerate(grads):
                    dds = (jp[g][0] - jac[g][0]) / step
                    col = dds.reshape(q, -1) @ g_s.ravel()
                    if meanstructure and jp[g][1] is not None:
                        col += ((np.asarray(jp[g][1]) - np.asarray(jac[g][1])) / step) @ g_mu
                    hess[:, j] += col
        info = -hess / self.ntotal
        info = 0.5 * (info + info.T)
        if len(cache) > 8:
            cache.clear()
        cache[key] = info
        return info.copy()

    def vcov(self, theta) -> np.ndarray:
        """Inverse of ``N`` times the observed information."""
        return _safe_inverse(self.information(theta, kind="observed") * self.ntotal)

    def test_statistic(self, theta) -> float:
        return float(max(2.0 * self.ntotal * self.value(theta), 0.0))

    # extras used by robust.py and the fit indices --------------------------
    @single_threaded
    def casewise_scores(self, theta) -> list[np.ndarray]:
        """Per group, the ``(n_g, q)`` casewise scores of ``log L`` w.r.t. ``theta``.

        Rows follow the order of ``stats.data[g]``.
        """
        jac = self.model.jacobian(theta)
        meanstructure = getattr(self.model, "meanstructure", True)
        out = []
        for g, (mp, (sigma, mu)) in enumerate(zip(self.patterns, self._moments(theta))):
            d_sigma, d_mu = jac[g]
            delta = delta_matrix(d_sigma, d_mu if meanstructure else None, meanstructure=True)
            sc = np.empty((mp.nobs, delta.shape[1]))
            for rows, block in casewise_score_blocks(mp, mu, sigma):  # never all n x (p + p*) scores at once
                sc[rows] = block @ delta
            out.append(sc)
        return out

    def fit_extras(self, theta) -> dict:
        """lavaan fit measures specific to FIML: baseline, SRMR, loglik.

        Returns
        -------
        dict
            ``baseline_chisq``, ``baseline_df``, ``baseline_loglik``,
            ``srmr`` (lavaan's ``srmr_bentler`` against the EM moments),
            ``loglik``, ``unrestricted_loglik``.
        """
        base_ll = 0.0
        base_df = 0
        for mp in self.patterns:
            _, _, ll = independence_fit(mp)
            base_ll += ll
            p = mp.nvar
            base_df += p * (p + 1) // 2 - p  # means and variances free; H1 has p + p*
        implied = self._moments(theta)
        cov_h1, mean_h1 = self.h1_moments()
        srmr = _fi.srmr(cov_h1, mean_h1, [s for s, _ in implied], [m for _, m in implied],
                        self._nobs, meanstructure=getattr(self.model, "meanstructure", True))
        return {
            "baseline_chisq": max(2.0 * (self._loglik_h1 - base_ll), 0.0),
            "baseline_df": base_df,
            "baseline_loglik": base_ll,
            "srmr": srmr,
            "loglik": self.loglik(theta),
            "unrestricted_loglik": self._loglik_h1,
        }
