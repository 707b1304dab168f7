"""Matrix representation of a model (RAM) with analytic Jacobians.

Per group, all variables (observed first, then latent) form one vector
:math:`v = A v + u` with :math:`\\operatorname{Cov}(u) = S` and
:math:`E(u) = m`.  With :math:`B = (I - A)^{-1}` and the filter :math:`F`
selecting the observed variables,

.. math::

    \\Sigma = F B S B^\\top F^\\top, \\qquad \\mu = F B m .

For a path :math:`A_{rc}` (effect of c on r) the derivatives are
:math:`\\partial\\Sigma = F B e_r (C e_c)_{obs}^\\top + (\\cdot)^\\top` with
:math:`C = B S B^\\top` and :math:`\\partial\\mu = F B e_r (Bm)_c`; for
:math:`S_{rc}` they are :math:`F B (e_r e_c^\\top + e_c e_r^\\top) B^\\top
F^\\top` (halved on the diagonal), and for :math:`m_r`,
:math:`\\partial\\mu = F B e_r` ([1]_, [2]_).

References
----------
.. [1] McArdle, J. J., & McDonald, R. P. (1984). Some algebraic properties of
   the Reticular Action Model for moment structures. British Journal of
   Mathematical and Statistical Psychology, 37, 234-251.
.. [2] Bollen, K. A. (1989). Structural Equations with Latent Variables.
   Wiley (implied moments, chapter 8).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SEMModel"]


@dataclass
class _GroupMaps:
    # positions in A, S, m that carry free parameters
    a_r: np.ndarray
    a_c: np.ndarray
    a_k: np.ndarray
    s_r: np.ndarray
    s_c: np.ndarray
    s_k: np.ndarray
    m_r: np.ndarray
    m_k: np.ndarray
    a0: np.ndarray
    s0: np.ndarray
    m0: np.ndarray


class SEMModel:
    """A structural equation model in RAM form, built from a parameter table.

    Parameters
    ----------
    partable : pandas.DataFrame
        From :func:`analysis.sem.partable.build_partable` (fixed-x rows
        already filled by :func:`~analysis.sem.partable.fill_fixed_x`).
    ov_names : list of str
        Observed variables (order of the implied matrices).
    lv_names : list of str
        Latent variables.
    ngroups : int
    meanstructure : bool

    Attributes
    ----------
    n_free : int
        Number of free parameters q (after equality constraints).
    names : list of str
        All variables: ``ov_names + lv_names``.
    """

    def __init__(self, partable: pd.DataFrame, ov_names, lv_names, ngroups: int,
                 meanstructure: bool):
        self.partable = partable
        self.ov_names = [list(ov_names)] * ngroups
        self.lv_names = list(lv_names)
        self.names = list(ov_names) + list(lv_names)
        self.n_groups = int(ngroups)
        self.meanstructure = bool(meanstructure)
        self.p = len(ov_names)
        self.n = len(self.names)
        free = partable["free"].to_numpy()
        self.n_free = int(free.max()) if len(free) else 0
        pos = {v: i for i, v in enumerate(self.names)}
        self._maps = []
        for g in range(self.n_groups):
            sub = partable[(partable["group"] == g + 1)]
            a0 = np.zeros((self.n, self.n))
            s0 = np.zeros((self.n, self.n))
            m0 = np.zeros(self.n)
            ar, ac, ak, sr, sc, sk, mr, mk = ([] for _ in range(8))
            for r in sub.itertuples(index=False):
                if r.op not in ("=~", "~", "~~", "~1"):
                    continue
                k = int(r.free) - 1
                val = float(r.ustart) if r.free == 0 else 0.0
                if r.free == 0 and not np.isfinite(val):
                    raise ValueError(
                        f"Parameter '{r.lhs} {r.op} {r.rhs}' is fixed but has no value."
                    )
                if r.op == "=~":
                    i, j = pos[r.rhs], pos[r.lhs]
                    (a0.__setitem__((i, j), val) if k < 0 else
                     (ar.append(i), ac.append(j), ak.append(k)))
                elif r.op == "~":
                    i, j = pos[r.lhs], pos[r.rhs]
                    (a0.__setitem__((i, j), val) if k < 0 else
                     (ar.append(i), ac.append(j), ak.append(k)))
                elif r.op == "~~":
                    i, j = pos[r.lhs], pos[r.rhs]
                    if k < 0:
                        s0[i, j] = s0[j, i] = val
                    else:
                        sr.append(i), sc.append(j), sk.append(k)
                else:
                    i = pos[r.lhs]
                    if k < 0:
                        m0[i] = val
                    else:
                        mr.append(i), mk.append(k)
            arr = lambda x: np.asarray(x, dtype=int)  # noqa: E731
            self._maps.append(_GroupMaps(arr(ar), arr(ac), arr(ak), arr(sr), arr(sc), arr(sk),
                                         arr(mr), arr(mk), a0, s0, m0))
        self._has_fixed_x = bool((partable["exo"] == 1).any())
        self._eye = np.eye(self.n)
        self._sources = [self._effect_sources(mp) for mp in self._maps]
        self._core_cache = {}
        self._build_jacobian_maps()

    # ------------------------------------------------------------------
    def _build_jacobian_maps(self):
        """Precompute position -> parameter aggregation (per group).

        Positions are ordered: paths in A, covariances in S, means in m.
        ``agg`` is a dense (npos, q) 0/1 matrix summing positions into the
        free parameters they share.
        """
        self._jmaps = []
        q = self.n_free
        for mp in self._maps:
            ks = np.concatenate([mp.a_k, mp.s_k, mp.m_k]).astype(int)
            agg = np.zeros((len(ks), q))
            agg[np.arange(len(ks)), ks] = 1.0
            w = np.concatenate([np.ones(len(mp.a_k)),
                                np.where(mp.s_r == mp.s_c, 0.5, 1.0),
                                np.zeros(len(mp.m_k))])
            self._jmaps.append(dict(ks=ks, agg=agg, w=w, unique=len(set(ks.tolist())) == len(ks),
                                    na=len(mp.a_k), ns=len(mp.s_k),
                                    nm=len(mp.m_k), u_cols=np.concatenate([mp.a_r, mp.s_r]).astype(int)))

    def jacobian_factors(self, theta):
        """Low-rank form of the Jacobian, per group (the fast path).

        For every position ``j`` (a path, covariance or mean carrying a free
        parameter), ``dSigma_j = w_j (u_j v_j' + v_j u_j')`` and
        ``dmu_j = m_j``; a parameter's derivative is the sum over its
        positions (``agg``).

        Returns
        -------
        list of dict
            Keys ``u``, ``v`` (p, npos), ``w`` (npos,), ``dmu`` (p, npos)
            or None, ``agg`` (npos, q), ``ks`` (npos,) the parameter index
            of each position, ``unique`` (True when no parameter has two
            positions in the group: then ``agg`` is a selection),
            ``sigma`` (p, p), ``mu`` (p,) or None.
        """
        p = self.p
        out = []
        for g in range(self.n_groups):
            mp, jm = self._maps[g], self._jmaps[g]
            a, s, m, b, c = self._core(theta, g)
            fb = b[:p]
            cp = c[:, :p]
            u = fb.take(jm["u_cols"], axis=1)
            v = np.concatenate([cp[mp.a_c].T, fb.take(mp.s_c, axis=1)], axis=1)
            if jm["nm"]:  # mean positions: no covariance part
                zeros = np.zeros((p, jm["nm"]))
                u = np.concatenate([u, zeros], axis=1)
                v = np.concatenate([v, zeros], axis=1)
            dmu = None
            mu = None
            if self.meanstructure:
                bm = b @ m
                mu = bm[:p]
                dmu = np.concatenate([fb[:, mp.a_r] * bm[mp.a_c],
                                      np.zeros((p, jm["ns"])), fb[:, mp.m_r]], axis=1)
            sigma = c[:p, :p]
            out.append(dict(u=u, v=v, w=jm["w"], dmu=dmu, agg=jm["agg"], ks=jm["ks"],
                            unique=jm["unique"],
                            sigma=0.5 * (sigma + sigma.T), mu=mu))
        return out

    def set_fixed_x(self, cov, mean) -> None:
        """Reset fixed-x values (``exo`` rows) from new sample moments.

        Under ``fixed.x = TRUE`` the variances, covariances and means of
        exogenous observed covariates are fixed at their *sample* values,
        so a refit on resampled data must move them too (as lavaan's
        bootstrap does).

        Parameters
        ----------
        cov, mean : list of ndarray
            Per-group covariance (divisor N) and mean in ``ov_names`` order.
        """
        pos = {v: i for i, v in enumerate(self.names)}
        pt = self.partable
        exo = pt[(pt["exo"] == 1) & (pt["free"] == 0)]
        for r in exo.itertuples(index=False):
            g = r.group - 1
            mp = self._maps[g]
            if r.op == "~~":
                i, j = pos[r.lhs], pos[r.rhs]
                mp.s0[i, j] = mp.s0[j, i] = cov[g][i, j]
            elif r.op == "~1":
                i = pos[r.lhs]
                mp.m0[i] = mean[g][i]
        self._core_cache.clear()

    @property
    def has_fixed_x(self) -> bool:
        """True when some rows are fixed at sample values (fixed.x)."""
        return self._has_fixed_x

    def matrices(self, theta, g: int = 0):
        """RAM matrices ``(A, S, m)`` of group ``g`` at ``theta``."""
        theta = np.asarray(theta, dtype=float)
        mp = self._maps[g]
        a = mp.a0.copy()
        a[mp.a_r, mp.a_c] = theta[mp.a_k]
        s = mp.s0.copy()
        s[mp.s_r, mp.s_c] = theta[mp.s_k]
        s[mp.s_c, mp.s_r] = theta[mp.s_k]
        m = mp.m0.copy()
        m[mp.m_r] = theta[mp.m_k]
        return a, s, m

    def _core(self, theta, g):
        key = (g, np.asarray(theta, dtype=float).tobytes())
        hit = self._core_cache.get(key)
        if hit is not None:
            return hit
        out = self._core_compute(theta, g)
        if len(self._core_cache) >= 4 * self.n_groups:
            self._core_cache.clear()
        self._core_cache[key] = out
        return out

    def _effect_sources(self, mp: _GroupMaps):
        """Where :meth:`_total_effects` reads and writes: the flat positions of the blocks ``(K, K)`` and
        ``(R, K)`` of an ``n x n`` matrix, K the variables with an effect on others (a column of ``A``
        that may be non-zero), R the others; None when K is most of the variables."""
        src = np.zeros(self.n, dtype=bool)
        src[mp.a_c] = True
        src |= (mp.a0 != 0).any(axis=0)
        k, r = np.flatnonzero(src), np.flatnonzero(~src)
        if 2 * len(k) > self.n:
            return None
        return (len(k), len(r), (k[:, None] * self.n + k).ravel(), (r[:, None] * self.n + k).ravel(),
                np.eye(len(k)), k)

    def _total_effects(self, a, g):
        """``B = (I - A)^-1``.

        Only the columns of the variables with effects (latent variables and
        observed predictors, K) differ from the identity's, and a path into K
        runs through K only, so ``B[K, K] = (I - A[K, K])^-1`` and
        ``B[R, K] = A[R, K] B[K, K]`` for the others (R): an inverse of the
        size of K instead of all variables.
        """
        parts = self._sources[g]
        if parts is None:
            return np.linalg.inv(self._eye - a)
        nk, nr, kk, rk, eye_k, _ = parts
        b_kk = np.linalg.inv(eye_k - a.take(kk).reshape(nk, nk))
        b = self._eye.copy()
        b.put(kk, b_kk)
        b.put(rk, a.take(rk).reshape(nr, nk) @ b_kk)
        return b

    def _implied_all(self, b, s, g):
        """``C = B S B'``, the implied covariance matrix of all variables.

        With ``B = I + E`` and E non-zero in the columns K only (:meth:`_total_effects`),
        ``C = S + E_K S_K. + (E_K S_K.)' + E_K S_KK E_K'``: products with the few columns of K.
        """
        parts = self._sources[g]
        if parts is None:
            return b @ s @ b.T
        nk, _, _, _, eye_k, k = parts
        e_k = b.take(k, axis=1)
        e_k[k] -= eye_k
        s_k = s.take(k, axis=0)
        t = e_k @ s_k
        return s + t + t.T + (e_k @ s_k.take(k, axis=1)) @ e_k.T

    def _core_compute(self, theta, g):
        a, s, m = self.matrices(theta, g)
        b = self._total_effects(a, g)
        c = self._implied_all(b, s, g)
        return a, s, m, b, c

    def total_moments(self, theta, g: int = 0):
        """Implied covariance and mean of *all* variables (observed + latent).

        Returns
        -------
        cov : ndarray (n, n)
        mean : ndarray (n,)
        """
        a, s, m, b, c = self._core(theta, g)
        return c, b @ m

    def implied(self, theta):
        """Implied ``(sigma, mu)`` per group (``mu`` None without means)."""
        out = []
        p = self.p
        for g in range(self.n_groups):
            a, s, m, b, c = self._core(theta, g)
            sigma = c[:p, :p]
            mu = b[:p] @ m if self.meanstructure else None
            out.append((0.5 * (sigma + sigma.T), mu))
        return out

    def ram_parts(self, theta):
        """Everything the analytic Hessian needs, per group.

        Returns
        -------
        list of dict
            The keys of :meth:`jacobian_factors` plus ``b`` ((I-A)^-1, n x n),
            ``c`` (B S B', n x n), ``bm`` (B m or None), and the position
            indices ``a_r, a_c`` (paths: effect of ``a_c`` on ``a_r``),
            ``s_r, s_c`` (covariances) and ``m_r`` (means).
        """
        out = []
        facs = self.jacobian_factors(theta)
        for g in range(self.n_groups):
            mp = self._maps[g]
            a, s, m, b, c = self._core(theta, g)
            d = dict(facs[g])
            d.update(b=b, c=c, bm=(b @ m) if self.meanstructure else None,
                     a_r=mp.a_r, a_c=mp.a_c, s_r=mp.s_r, s_c=mp.s_c, m_r=mp.m_r)
            out.append(d)
        return out

    def jacobian(self, theta):
        """Analytic derivatives of the implied moments, per group.

        Returns
        -------
        list of (d_sigma, d_mu)
            ``d_sigma`` (q, p, p), ``d_mu`` (q, p) or None without means.
        """
        out = []
        for fac in self.jacobian_factors(theta):
            u, v, w, agg = fac["u"], fac["v"], fac["w"], fac["agg"]
            x = np.einsum("ij,kj->jik", u * w, v)
            x = x + x.transpose(0, 2, 1)
            d_sigma = np.tensordot(agg.T, x, axes=1)
            d_mu = None if fac["dmu"] is None else agg.T @ fac["dmu"].T
            out.append((d_sigma, d_mu))
        return out

    # ------------------------------------------------------------------
    def theta_from_partable(self, column: str = "start") -> np.ndarray:
        """Free-parameter vector read from a partable column (first row wins)."""
        theta = np.full(self.n_free, np.nan)
        pt = self.partable
        for k, v in zip(pt["free"].to_numpy(), pt[column].to_numpy(dtype=float)):
            if k > 0 and np.isnan(theta[k - 1]):
                theta[k - 1] = v
        return theta
