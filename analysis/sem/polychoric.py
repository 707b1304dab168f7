"""Thresholds and polychoric correlations of ordinal variables, as lavaan.

Ordinal responses are treated as coarsened standard-normal latent responses
``y*``; a variable with ``K`` observed categories has ``K - 1`` thresholds.
This module estimates, without any model:

* the **thresholds** of each variable from its marginal proportions
  (lavaan's ``lav_uvord_th``: ``qnorm`` of the cumulative proportions);
* the **polychoric correlation** of each pair by two-step maximum likelihood
  (Olsson, 1979): thresholds fixed at their univariate values, the
  correlation maximising the multinomial likelihood of the two-way table
  (lavaan's ``lav_bvord_cor_twostep_fit``, including its handling of empty
  cells);
* the **polyserial correlation** of a continuous and an ordinal variable by
  two-step maximum likelihood (Olsson, Drasgow & Dorans, 1982): mean,
  variance and thresholds fixed, the correlation maximising the conditional
  likelihood of the ordinal responses (lavaan's ``lav_bvmix_cor_twostep_fit``),
  with the casewise scores lavaan's Gamma needs (:func:`polyserial_terms`).

The bivariate normal distribution function is Genz's (2004) vectorised
algorithm (the one R's ``pbivnorm`` uses, accurate to about 1e-15).

References
----------
.. [1] Olsson, U. (1979). Maximum likelihood estimation of the polychoric
   correlation coefficient. Psychometrika, 44(4), 443-460.
.. [2] Genz, A. (2004). Numerical computation of rectangular bivariate and
   trivariate normal and t probabilities. Statistics and Computing, 14,
   251-260.
.. [3] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from .optimize import brentq

__all__ = [
    "bivariate_normal_cdf",
    "bivariate_normal_pdf",
    "OrdinalData",
    "encode_ordinal",
    "univariate_thresholds",
    "cell_probabilities",
    "polychoric_pair",
    "thresholds",
    "polychoric",
    "polychoric_from_codes",
    "pair_tables",
    "padded_thresholds",
    "cell_probabilities_many",
    "phi_many",
    "PAD",
    "PI_FLOOR",
    "POLYSERIAL_BOUND",
    "polyserial_pair",
    "polyserial_terms",
    "polyserial",
]

#: lavaan's floor for a cell probability (``sqrt(.Machine$double.eps)``).
PI_FLOOR = float(np.sqrt(np.finfo(float).eps))
#: lavaan's bounds for the polychoric correlation search.
RHO_BOUND = 0.999

# Gauss-Legendre half-rules used by Genz's algorithm (6, 12 and 20 points).
_GL = {
    6: (np.array([0.1713244923791705, 0.3607615730481384, 0.4679139345726904]),
        np.array([0.9324695142031522, 0.6612093864662647, 0.2386191860831970])),
    12: (np.array([0.04717533638651177, 0.1069393259953183, 0.1600783285433464,
                   0.2031674267230659, 0.2334925365383547, 0.2491470458134029]),
         np.array([0.9815606342467191, 0.9041172563704750, 0.7699026741943050,
                   0.5873179542866171, 0.3678314989981802, 0.1252334085114692])),
    20: (np.array([0.01761400713915212, 0.04060142980038694, 0.06267204833410906,
                   0.08327674157670475, 0.1019301198172404, 0.1181945319615184,
                   0.1316886384491766, 0.1420961093183821, 0.1491729864726037,
                   0.1527533871307259]),
         np.array([0.9931285991850949, 0.9639719272779138, 0.9122344282513259,
                   0.8391169718222188, 0.7463319064601508, 0.6360536807265150,
                   0.5108670019508271, 0.3737060887154196, 0.2277858511416451,
                   0.07652652113349733])),
}


def _bvnu(h, k, r) -> np.ndarray:
    """Upper bivariate normal probability P(X > h, Y > k) for finite h, k.

    ``r`` may be a scalar or an array broadcast with ``h`` and ``k``; each
    element follows Genz's branch for its own ``|r|`` (6-, 12- or 20-point
    Gauss-Legendre rule below 0.925, the asymptotic expansion above).
    """
    h, k, r = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float),
                                  np.asarray(r, dtype=float))
    shape = h.shape
    h, k, r = h.ravel(), k.ravel(), r.ravel()
    out = np.empty(h.size)
    ar = np.abs(r)
    tp = 2.0 * np.pi
    zero = r == 0.0
    out[zero] = ndtr(-h[zero]) * ndtr(-k[zero])
    for lo, hi, n in ((0.0, 0.3, 6), (0.3, 0.75, 12), (0.75, 0.925, 20)):
        m = (ar >= lo) & (ar < hi) & ~zero
        if not m.any():
            continue
        w, x = _GL[n]
        w = np.concatenate([w, w])
        x = np.concatenate([1.0 - x, 1.0 + x])
        hm, km = h[m], k[m]
        hk = hm * km
        hs = (hm * hm + km * km) / 2.0
        asr = np.arcsin(r[m]) / 2.0
        sn = np.sin(asr[:, None] * x[None, :])
        e = np.exp((hk[:, None] * sn - hs[:, None]) / (1.0 - sn * sn))
        out[m] = np.clip((e @ w) * asr / tp + ndtr(-hm) * ndtr(-km), 0.0, 1.0)
    m = ar >= 0.925
    if m.any():
        out[m] = _bvnu_high(h[m], k[m], r[m])
    return out.reshape(shape)


def _bvnu_high(h, k, r) -> np.ndarray:
    """Genz's branch for |r| >= 0.925 (element-wise r)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _bvnu_high_raw(h, k, r)


def _bvnu_high_raw(h, k, r) -> np.ndarray:
    tp = 2.0 * np.pi
    w, x = _GL[20]
    w = np.concatenate([w, w])
    x = np.concatenate([1.0 - x, 1.0 + x])
    neg = r < 0
    k = np.where(neg, -k, k)
    hk = h * k
    bvn = np.zeros(h.size)
    lt1 = np.abs(r) < 1.0
    if lt1.any():
        hh, kk, rr, hkk = h[lt1], k[lt1], r[lt1], hk[lt1]
        as_ = 1.0 - rr * rr
        a = np.sqrt(as_)
        bs = (hh - kk) ** 2
        asr = -(bs / as_ + hkk) / 2.0
        c = (4.0 - hkk) / 8.0
        d = (12.0 - hkk) / 80.0
        b1 = np.where(asr > -100,
                      a * np.exp(asr) * (1 - c * (bs - as_) * (1 - d * bs) / 3
                                         + c * d * as_ * as_), 0.0)
        b = np.sqrt(bs)
        sp = np.sqrt(tp) * ndtr(-b / a)
        b1 = np.where(hkk > -100,
                      b1 - np.exp(-hkk / 2) * sp * b * (1 - c * bs * (1 - d * bs) / 3), b1)
        a = a / 2.0
        xs = (a[:, None] * x[None, :]) ** 2
        asr2 = -(bs[:, None] / xs + hkk[:, None]) / 2.0
        ok = asr2 > -100
        sp2 = 1.0 + c[:, None] * xs * (1.0 + 5.0 * d[:, None] * xs)
        rs = np.sqrt(1.0 - xs)
        ep = np.exp(-(hkk[:, None] / 2.0) * xs / (1.0 + rs) ** 2) / rs
        terms = np.where(ok, np.exp(np.where(ok, asr2, 0.0)) * (sp2 - ep), 0.0)
        bvn[lt1] = (a * (terms @ w) - b1) / tp
    pos = ~neg
    bvn[pos] = bvn[pos] + ndtr(-np.maximum(h[pos], k[pos]))
    if neg.any():
        hn, kn, bn = h[neg], k[neg], bvn[neg]
        low = np.where(hn < 0, ndtr(kn) - ndtr(hn), ndtr(-hn) - ndtr(-kn))
        bvn[neg] = np.where(hn >= kn, -bn, low - bn)
    return np.clip(bvn, 0.0, 1.0)


def bivariate_normal_cdf(x, y, rho) -> np.ndarray:
    """Standard bivariate normal distribution function P(X <= x, Y <= y).

    Parameters
    ----------
    x, y : array_like
        Upper limits (broadcast together); may be ``-inf``/``inf``.
    rho : float or array_like
        Correlation(s) in [-1, 1], broadcast with ``x`` and ``y``.

    Returns
    -------
    ndarray
        Probabilities with the broadcast shape of ``x`` and ``y``.

    Notes
    -----
    :math:`\\Phi_2(x, y; \\rho) = P(X > -x, Y > -y)` is computed by Genz's
    algorithm [1]_ (Drezner-Wesolowsky with Gauss-Legendre quadrature of
    Plackett's identity), the method of R's ``pbivnorm`` used by lavaan.

    References
    ----------
    .. [1] Genz, A. (2004). Numerical computation of rectangular bivariate and
       trivariate normal and t probabilities. Statistics and Computing, 14,
       251-260.

    Examples
    --------
    >>> round(float(bivariate_normal_cdf(0.0, 0.0, 0.5)), 12)  # 1/4 + asin(0.5)/(2 pi)
    0.333333333333
    """
    x, y, r = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float),
                                  np.asarray(rho, dtype=float))
    out = np.empty(x.shape)
    fin = np.isfinite(x) & np.isfinite(y)
    out[fin] = _bvnu(-x[fin], -y[fin], r[fin])
    nf = ~fin
    if nf.any():
        xn, yn = x[nf], y[nf]
        val = np.where((xn == -np.inf) | (yn == -np.inf), 0.0,
                       np.where(xn == np.inf, ndtr(yn), ndtr(xn)))
        out[nf] = val
    return out


def bivariate_normal_pdf(x, y, rho: float) -> np.ndarray:
    """Standard bivariate normal density, as lavaan's ``dbinorm``.

    Parameters
    ----------
    x, y : array_like
    rho : float

    Returns
    -------
    ndarray

    Notes
    -----
    :math:`\\phi_2(x,y;\\rho) = \\exp\\{-(x^2 - 2\\rho xy + y^2) /
    (2(1-\\rho^2))\\} / (2\\pi\\sqrt{1-\\rho^2})`; infinite limits give 0.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    r = 1.0 - rho * rho
    with np.errstate(invalid="ignore", over="ignore"):
        q = (x * x - 2.0 * rho * x * y + y * y) / r
        out = np.exp(-0.5 * q) / (2.0 * np.pi * np.sqrt(r))
    return np.where(np.isfinite(x) & np.isfinite(y), out, 0.0)


@dataclass(frozen=True)
class OrdinalData:
    """Ordinal variables recoded to category numbers ``1..K``.

    Attributes
    ----------
    names : list of str
        Variable names, in column order.
    codes : ndarray of int, shape (n, p)
        Category numbers ``1..K_j`` (0 marks a missing value).
    levels : list of ndarray
        The observed values behind codes ``1..K_j``, ascending.
    """

    names: list
    codes: np.ndarray
    levels: list

    @property
    def ncat(self) -> np.ndarray:
        """Number of categories of each variable."""
        return np.array([len(lv) for lv in self.levels], dtype=int)

    @property
    def threshold_names(self) -> list:
        """lavaan's threshold names ``x|t1``, ``x|t2``, ... in order."""
        return [f"{v}|t{t + 1}" for v, lv in zip(self.names, self.levels)
                for t in range(len(lv) - 1)]


def encode_ordinal(data: pd.DataFrame, columns=None, levels=None) -> OrdinalData:
    """Recode ordinal columns to category numbers ``1..K``.

    Parameters
    ----------
    data : DataFrame
        One column per ordinal variable; numeric codes (e.g. 1-5 Likert) or
        ordered categoricals. Missing values are NaN.
    columns : list of str, optional
        Columns to use (default: all).
    levels : list of array_like, optional
        The categories of each column, ascending (default: the observed
        values, as lavaan's ``ordered()``). Used to share categories across
        groups.

    Returns
    -------
    OrdinalData

    Raises
    ------
    ValueError
        When a column is missing, has fewer than two observed categories, or
        holds a value outside the given ``levels``.
    """
    cols = list(data.columns) if columns is None else list(columns)
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"Ordinal variables not found in the data: {missing}.")
    n = len(data)
    codes = np.zeros((n, len(cols)), dtype=np.int64)
    levs = []
    for j, c in enumerate(cols):
        s = data[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            if not s.cat.ordered:
                raise ValueError(f"Column {c!r} is an unordered categorical; "
                                 "pass numeric codes or an ordered categorical.")
            vals = s.cat.codes.to_numpy().astype(float)
            vals[vals < 0] = np.nan
        else:
            try:
                vals = pd.to_numeric(s, errors="raise").to_numpy(dtype=float)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"Column {c!r} must hold numeric category codes.") from exc
        obs = ~np.isnan(vals)
        lv = np.unique(vals[obs]) if levels is None else np.asarray(levels[j], dtype=float)
        if levels is None and lv.size < 2:
            raise ValueError(
                f"Ordinal variable {c!r} has {lv.size} observed category; "
                "at least two are needed for thresholds and polychoric correlations.")
        idx = np.searchsorted(lv, vals[obs])
        idx = np.clip(idx, 0, lv.size - 1)
        if not np.array_equal(lv[idx], vals[obs]):
            raise ValueError(f"Column {c!r} holds values outside its categories {lv.tolist()}.")
        codes[obs, j] = idx + 1
        levs.append(lv)
    return OrdinalData(names=[str(c) for c in cols], codes=codes, levels=levs)


def univariate_thresholds(codes: np.ndarray, ncat: int) -> np.ndarray:
    """Thresholds of one ordinal variable from its marginal proportions.

    Parameters
    ----------
    codes : ndarray of int
        Category numbers ``1..ncat`` (0 = missing, ignored).
    ncat : int
        Number of categories K.

    Returns
    -------
    ndarray, shape (K - 1,)

    Raises
    ------
    ValueError
        When a category is empty (lavaan stops in that case too).

    Notes
    -----
    :math:`\\tau_k = \\Phi^{-1}(\\sum_{c \\le k} n_c / n)`, the ML estimate of
    the probit model without covariates (lavaan's ``lav_uvord_th``) [1]_.

    References
    ----------
    .. [1] Olsson, U. (1979). Maximum likelihood estimation of the
       polychoric correlation coefficient. Psychometrika, 44(4), 443-460.
    """
    freq = np.bincount(codes[codes > 0], minlength=ncat + 1)[1:]
    if np.any(freq == 0):
        raise ValueError(f"Some categories are empty; frequencies are {freq.tolist()}.")
    prop = np.cumsum(freq)[:-1] / freq.sum()
    return ndtri(prop)


def _bi_grid(th1: np.ndarray, th2: np.ndarray, rho: float) -> np.ndarray:
    """Phi_2 at all threshold pairs, bordered by the margins (lavaan's BI)."""
    n1, n2 = th1.size, th2.size
    bi = bivariate_normal_cdf(th1[:, None], th2[None, :], rho)
    out = np.zeros((n1 + 2, n2 + 2))
    out[1:n1 + 1, 1:n2 + 1] = bi
    out[n1 + 1, 1:n2 + 1] = ndtr(th2)
    out[1:n1 + 1, n2 + 1] = ndtr(th1)
    out[n1 + 1, n2 + 1] = 1.0
    return out


def cell_probabilities(th1, th2, rho: float, floor: bool = True) -> np.ndarray:
    """Model probabilities of a two-way table of ordinal variables.

    Parameters
    ----------
    th1, th2 : array_like
        Thresholds of the row and column variable (finite, ascending).
    rho : float
        Correlation of the latent responses.
    floor : bool
        Raise probabilities below ``sqrt(eps)`` to that value (lavaan).

    Returns
    -------
    ndarray, shape (len(th1) + 1, len(th2) + 1)

    Notes
    -----
    :math:`\\pi_{ij} = \\Phi_2(\\tau_i, \\tau_j) - \\Phi_2(\\tau_{i-1},
    \\tau_j) - \\Phi_2(\\tau_i, \\tau_{j-1}) + \\Phi_2(\\tau_{i-1},
    \\tau_{j-1})` with :math:`\\tau_0 = -\\infty`, :math:`\\tau_K = \\infty`
    [1]_.

    References
    ----------
    .. [1] Olsson, U. (1979). Maximum likelihood estimation of the
       polychoric correlation coefficient. Psychometrika, 44(4), 443-460.
    """
    th1 = np.asarray(th1, dtype=float)
    th2 = np.asarray(th2, dtype=float)
    if rho == 0.0:
        pi = np.outer(np.diff(np.concatenate([[0.0], ndtr(th1), [1.0]])),
                      np.diff(np.concatenate([[0.0], ndtr(th2), [1.0]])))
        return pi
    bi = _bi_grid(th1, th2, rho)
    pi = bi[1:, 1:] - bi[1:, :-1] - bi[:-1, 1:] + bi[:-1, :-1]
    if floor:
        pi = np.where(pi < PI_FLOOR, PI_FLOOR, pi)
    return pi


def _phi_table(th1, th2, rho):
    """d pi_ij / d rho: differences of the bivariate density (lavaan's phi)."""
    n1, n2 = th1.size, th2.size
    d = bivariate_normal_pdf(th1[:, None], th2[None, :], rho)
    p = np.zeros((n1 + 2, n2 + 2))
    p[1:n1 + 1, 1:n2 + 1] = d
    return p[1:, 1:] - p[:-1, 1:] - p[1:, :-1] + p[:-1, :-1]


def _pair_table(c1: np.ndarray, c2: np.ndarray, k1: int, k2: int) -> np.ndarray:
    ok = (c1 > 0) & (c2 > 0)
    flat = (c1[ok] - 1) * k2 + (c2[ok] - 1)
    return np.bincount(flat, minlength=k1 * k2).reshape(k1, k2).astype(float)


def polychoric_pair(table, th1, th2, zero_add=(0.5, 0.0), zero_keep_margins=True) -> float:
    """Two-step ML polychoric correlation of one two-way table.

    Parameters
    ----------
    table : array_like, shape (K1, K2)
        Observed frequencies.
    th1, th2 : array_like
        Thresholds of the row and column variable (fixed).
    zero_add : (float, float)
        lavaan's ``zero.add``: added to the empty cell of a 2x2 table with one
        empty cell (first value, keeping the margins) and to empty cells of
        larger tables (second value; lavaan's default adds nothing).
    zero_keep_margins : bool
        lavaan's ``zero.keep.margins``.

    Returns
    -------
    float
        The polychoric correlation, in [-0.999, 0.999] (or +-1 for a 2x2 table
        with two empty cells, as lavaan).

    Notes
    -----
    Maximises :math:`\\ell(\\rho) = \\sum_{ij} n_{ij} \\log \\pi_{ij}(\\rho)`
    with the thresholds fixed at their univariate estimates [1]_; the
    derivative is :math:`\\sum_{ij} n_{ij} \\phi_{ij} / \\pi_{ij}` with
    :math:`\\phi_{ij}` the corresponding differences of the bivariate normal
    density. Special cases follow lavaan: a 2x2 table with proportional
    rows gives 0, with both thresholds at 0 gives
    :math:`-\\cos(2\\pi n_{11}/n)`.

    References
    ----------
    .. [1] Olsson, U. (1979). Maximum likelihood estimation of the polychoric
       correlation coefficient. Psychometrika, 44(4), 443-460.
    """
    freq = np.array(table, dtype=float)
    th1 = np.asarray(th1, dtype=float)
    th2 = np.asarray(th2, dtype=float)
    nr, nc = freq.shape
    if nr == 2 and nc == 2:
        zero = np.flatnonzero(freq.ravel(order="F") == 0)
        if zero.size == 2:
            return 1.0 if freq[0, 0] > 0 else -1.0
        if zero.size == 1 and zero_add[0] > 0:
            a = zero_add[0]
            if zero_keep_margins:
                sgn = 1.0 if zero[0] in (0, 3) else -1.0
                freq += sgn * a * np.array([[1.0, -1.0], [-1.0, 1.0]])
            else:
                freq[np.unravel_index(zero[0], (2, 2), order="F")] += a
        if freq[0, 0] * freq[1, 1] == freq[0, 1] * freq[1, 0]:
            return 0.0
        if th1[0] == 0 and th2[0] == 0:
            return float(-np.cos(2.0 * np.pi * freq[0, 0] / freq.sum()))
    elif zero_add[1] > 0:
        freq[freq == 0] = zero_add[1]

    n = freq.sum()

    def negll(rho):
        pi = cell_probabilities(th1, th2, rho)
        return -np.sum(freq * np.log(pi)) / n

    def grad(rho):
        pi = cell_probabilities(th1, th2, rho)
        return -np.sum(freq * _phi_table(th1, th2, rho) / pi) / n

    # the log-likelihood is unimodal in rho: bracket the root of its derivative
    lo, hi = -RHO_BOUND, RHO_BOUND
    glo, ghi = grad(lo), grad(hi)
    if glo >= 0:
        return lo
    if ghi <= 0:
        return hi
    try:
        rho = brentq(grad, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=200)
    except (ValueError, RuntimeError):  # pragma: no cover - fallback
        from scipy import optimize  # lazy: slow to import, rarely needed

        res = optimize.minimize_scalar(negll, bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-12})
        rho = res.x
    return float(rho)


def thresholds(data: pd.DataFrame, columns=None) -> pd.DataFrame:
    """Sample thresholds of ordinal variables, as lavaan.

    Parameters
    ----------
    data : DataFrame
        Ordinal variables as numeric codes (NaN = missing; each variable uses
        its available cases).
    columns : list of str, optional
        Variables to use (default: all columns).

    Returns
    -------
    DataFrame
        Columns ``variable`` (str), ``threshold`` (1, 2, ...), ``name``
        (lavaan's ``x|t1``) and ``est`` (float).

    Notes
    -----
    :math:`\\tau_{jk} = \\Phi^{-1}(P(Y_j \\le k))` [1]_.

    References
    ----------
    .. [1] Olsson, U. (1979). Maximum likelihood estimation of the polychoric
       correlation coefficient. Psychometrika, 44(4), 443-460.

    Examples
    --------
    >>> import pandas as pd
    >>> thresholds(pd.DataFrame({"x": [1, 1, 2, 2, 2, 3]}))["est"].round(4).tolist()
    [-0.4307, 0.9674]
    """
    od = encode_ordinal(data, columns)
    rows = []
    for j, v in enumerate(od.names):
        th = univariate_thresholds(od.codes[:, j], int(od.ncat[j]))
        for t, val in enumerate(th):
            rows.append({"variable": v, "threshold": t + 1, "name": f"{v}|t{t + 1}",
                         "est": float(val)})
    return pd.DataFrame(rows, columns=["variable", "threshold", "name", "est"])


def polychoric(data: pd.DataFrame, columns=None) -> pd.DataFrame:
    """Polychoric correlation matrix of ordinal variables, as lavaan.

    Parameters
    ----------
    data : DataFrame
        Ordinal variables as numeric codes (NaN = missing; each pair uses its
        complete cases, each threshold its available cases).
    columns : list of str, optional
        Variables to use (default: all columns).

    Returns
    -------
    DataFrame
        Square, symmetric, unit diagonal, indexed and labelled by variable.

    Notes
    -----
    Two-step ML [1]_: thresholds from the margins, then each correlation
    maximises the bivariate multinomial likelihood of its table
    (:func:`polychoric_pair`). Empty cells of tables larger than 2x2 are kept
    as they are (lavaan's default ``zero.add = c(0.5, 0)``).

    References
    ----------
    .. [1] Olsson, U. (1979). Maximum likelihood estimation of the polychoric
       correlation coefficient. Psychometrika, 44(4), 443-460.
    .. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. Journal of Statistical Software, 48(2), 1-36.
    """
    od = encode_ordinal(data, columns)
    th = [univariate_thresholds(od.codes[:, j], int(od.ncat[j])) for j in range(len(od.names))]
    r = polychoric_from_codes(od.codes, od.ncat, th)
    return pd.DataFrame(r, index=od.names, columns=od.names)


#: Stand-in for +-infinity when thresholds of variables with fewer
#: categories are padded to a common length (lavaan uses 100 the same way).
PAD = 100.0


def padded_thresholds(th_list, width: int) -> np.ndarray:
    """Stack thresholds in rows of ``width``, padding with :data:`PAD`."""
    out = np.full((len(th_list), width), PAD)
    for j, t in enumerate(th_list):
        out[j, :t.size] = t
    return out


def _grid_many(t1: np.ndarray, t2: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Bordered Phi_2 grids for many pairs: (P, a+2, b+2)."""
    npair, a = t1.shape
    b = t2.shape[1]
    out = np.zeros((npair, a + 2, b + 2))
    out[:, 1:a + 1, 1:b + 1] = bivariate_normal_cdf(t1[:, :, None], t2[:, None, :],
                                                    rho[:, None, None])
    out[:, a + 1, 1:b + 1] = ndtr(t2)
    out[:, 1:a + 1, b + 1] = ndtr(t1)
    out[:, a + 1, b + 1] = 1.0
    return out


def cell_probabilities_many(t1, t2, rho) -> np.ndarray:
    """:func:`cell_probabilities` for many pairs at once, shape (P, a+1, b+1)."""
    bi = _grid_many(t1, t2, np.asarray(rho, dtype=float))
    pi = bi[:, 1:, 1:] - bi[:, 1:, :-1] - bi[:, :-1, 1:] + bi[:, :-1, :-1]
    return np.where(pi < PI_FLOOR, PI_FLOOR, pi)


def phi_many(t1, t2, rho) -> np.ndarray:
    """d pi / d rho for many pairs, shape (P, a+1, b+1)."""
    npair, a = t1.shape
    b = t2.shape[1]
    p = np.zeros((npair, a + 2, b + 2))
    p[:, 1:a + 1, 1:b + 1] = bivariate_normal_pdf(t1[:, :, None], t2[:, None, :],
                                                  np.asarray(rho, float)[:, None, None])
    return p[:, 1:, 1:] - p[:, :-1, 1:] - p[:, 1:, :-1] + p[:, :-1, :-1]


def _gnorm_many(t1, t2, rho) -> np.ndarray:
    """d phi / d rho for many pairs (lavaan's ``gnorm``), shape (P, a+1, b+1)."""
    npair, a = t1.shape
    b = t2.shape[1]
    rho = np.asarray(rho, float)[:, None, None]
    u = t1[:, :, None]
    v = t2[:, None, :]
    r = 1.0 - rho * rho
    guv = (u * v * r - rho * (u * u - 2 * rho * u * v + v * v) + rho * r) / (r * r)
    p = np.zeros((npair, a + 2, b + 2))
    p[:, 1:a + 1, 1:b + 1] = bivariate_normal_pdf(u, v, rho) * guv
    return p[:, 1:, 1:] - p[:, :-1, 1:] - p[:, 1:, :-1] + p[:, :-1, :-1]


def _polychoric_many(freq: np.ndarray, t1: np.ndarray, t2: np.ndarray, start=None,
                     tol: float = 1e-12, max_iter: int = 200) -> np.ndarray:
    """Two-step ML correlations of many tables at once.

    Newton-Raphson on the log-likelihood (analytic second derivative, as
    lavaan's ``lav_bvord_hessian_cache``), safeguarded by bisection inside a
    bracket of the root of the score: the likelihood is unimodal in rho, so
    its score is decreasing; a bound of [-0.999, 0.999] is returned when the
    score does not change sign there (lavaan's box constraints).
    """
    n = freq.sum(axis=(1, 2))

    def score_info(rho, idx):
        pi = cell_probabilities_many(t1[idx], t2[idx], rho)
        ph = phi_many(t1[idx], t2[idx], rho)
        f = freq[idx]
        g = np.sum(f * ph / pi, axis=(1, 2)) / n[idx]
        gn = _gnorm_many(t1[idx], t2[idx], rho)
        h = (np.sum(f * gn / pi, axis=(1, 2)) - np.sum(f * ph * ph / (pi * pi), axis=(1, 2)))
        return g, h / n[idx]

    npair = freq.shape[0]
    allidx = np.arange(npair)
    lo = np.full(npair, -RHO_BOUND)
    hi = np.full(npair, RHO_BOUND)
    glo, _ = score_info(lo, allidx)
    ghi, _ = score_info(hi, allidx)
    out = np.full(npair, np.nan)
    out[glo <= 0] = -RHO_BOUND
    out[(glo > 0) & (ghi >= 0)] = RHO_BOUND
    act = np.flatnonzero(np.isnan(out))
    L, U = lo[act], hi[act]
    rho = np.zeros(act.size) if start is None else np.clip(np.asarray(start, float)[act],
                                                          -0.9, 0.9)
    for _ in range(max_iter):
        if act.size == 0:
            break
        g, h = score_info(rho, act)
        L = np.where(g > 0, rho, L)
        U = np.where(g < 0, rho, U)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = rho - g / h
        ok = (h < 0) & (newton > L) & (newton < U)
        new = np.where(ok, newton, 0.5 * (L + U))
        done = (g == 0) | (ok & (np.abs(new - rho) < tol)) | ((U - L) < tol)
        new = np.where(g == 0, rho, new)
        out[act[done]] = new[done]
        keep = ~done
        act, L, U, rho = act[keep], L[keep], U[keep], new[keep]
    out[act] = rho  # pragma: no cover - not reached in practice
    return out


def polychoric_from_codes(codes: np.ndarray, ncat, th) -> np.ndarray:
    """Polychoric matrix from category codes and fixed thresholds.

    Parameters
    ----------
    codes : ndarray of int, shape (n, p)
        Category numbers (0 = missing).
    ncat : sequence of int
        Categories per variable.
    th : list of ndarray
        Thresholds per variable.

    Returns
    -------
    ndarray, shape (p, p)

    Notes
    -----
    Tables of two binary variables go through :func:`polychoric_pair`
    (lavaan's special cases); all others are solved together, vectorised.
    """
    p = codes.shape[1]
    ncat = np.asarray(ncat, dtype=int)
    r = np.eye(p)
    kmax = int(ncat.max())
    tpad = padded_thresholds(th, kmax - 1)
    rows, cols = [], []
    for j in range(p - 1):
        for i in range(j + 1, p):
            if ncat[i] == 2 and ncat[j] == 2:
                tab = _pair_table(codes[:, j], codes[:, i], 2, 2)
                r[i, j] = r[j, i] = polychoric_pair(tab, th[j], th[i])
            else:
                rows.append(i)
                cols.append(j)
    if rows:
        rows = np.asarray(rows)
        cols = np.asarray(cols)
        freq = pair_tables(codes, rows, cols, kmax)
        for start in range(0, rows.size, 2000):
            sl = slice(start, start + 2000)
            rho = _polychoric_many(freq[sl], tpad[cols[sl]], tpad[rows[sl]])
            r[rows[sl], cols[sl]] = rho
            r[cols[sl], rows[sl]] = rho
    return r


def pair_tables(codes: np.ndarray, rows: np.ndarray, cols: np.ndarray, kmax: int) -> np.ndarray:
    """Two-way tables (row variable ``cols[k]``, column variable ``rows[k]``).

    Returns
    -------
    ndarray, shape (P, kmax, kmax)
        Frequencies; categories beyond a variable's own are empty.
    """
    npair = rows.size
    out = np.zeros((npair, kmax, kmax))
    for k in range(npair):
        c1, c2 = codes[:, cols[k]], codes[:, rows[k]]
        ok = (c1 > 0) & (c2 > 0)
        flat = (c1[ok] - 1) * kmax + (c2[ok] - 1)
        out[k] = np.bincount(flat, minlength=kmax * kmax).reshape(kmax, kmax)
    return out


# ----------------------------------------------------------------------
# polyserial correlations (a continuous and an ordinal variable)
# ----------------------------------------------------------------------
#: lavaan's box for a polyserial correlation (``lav_bvmix_cor_twostep_fit``).
POLYSERIAL_BOUND = 0.995
_EPS = float(np.finfo(float).eps)
_BIG = 100.0  # lavaan's stand-in for an infinite threshold (``lav_uvord``)


def _threshold_bounds(codes: np.ndarray, th: np.ndarray):
    """Upper and lower threshold of each case's category (lavaan's ``z1``, ``z2``)."""
    tt = np.concatenate([[-_BIG], np.asarray(th, dtype=float), [_BIG]])
    return tt[codes], tt[codes - 1]


def polyserial_terms(y, codes, th, mean: float, var: float, rho: float) -> dict:
    """Casewise quantities of the polyserial likelihood (lavaan's ``lav_bvmix``).

    Parameters
    ----------
    y : ndarray (n,)
        The continuous variable (complete cases).
    codes : ndarray of int (n,)
        Categories ``1..K`` of the ordinal variable.
    th : ndarray (K-1,)
        Its thresholds.
    mean, var : float
        Mean and variance (divisor n) of ``y``.
    rho : float

    Returns
    -------
    dict
        ``lik`` (the casewise likelihood :math:`\\phi(y; \\mu, \\sigma)\\,
        P(Y_2 = k \\mid y)`), ``dx_rho``, ``dx_mu``, ``dx_var``, ``dx_th``
        (n, K-1): the casewise scores of the log-likelihood with respect to
        the correlation, the mean and variance of ``y`` and the thresholds
        (``lav_bvmix_cor_scores_cache``).
    """
    y = np.asarray(y, dtype=float)
    codes = np.asarray(codes, dtype=int)
    th = np.asarray(th, dtype=float)
    sd = np.sqrt(var)
    z = (y - mean) / sd
    z1, z2 = _threshold_bounds(codes, th)
    r = np.sqrt(1.0 - rho * rho)
    t1 = (z1 - rho * z) / r
    t2 = (z2 - rho * z) / r
    d1 = np.exp(-0.5 * t1 * t1) / np.sqrt(2 * np.pi)
    d2 = np.exp(-0.5 * t2 * t2) / np.sqrt(2 * np.pi)
    p21 = ndtr(t1) - ndtr(t2)
    p21 = np.where(p21 < _EPS, _EPS, p21)
    inv = 1.0 / p21
    dd = d1 - d2
    lik = np.exp(-0.5 * z * z) / (np.sqrt(2 * np.pi) * sd) * p21
    k = np.arange(1, th.size + 1)
    up = (codes[:, None] == k[None, :]).astype(float)
    lo = ((codes - 1)[:, None] == k[None, :]).astype(float)
    return dict(
        lik=lik,
        dx_rho=inv / (r * r * r) * (d1 * (z1 * rho - z) - d2 * (z2 * rho - z)),
        dx_mu=(z + inv * (rho / r) * dd) / sd,
        dx_var=((z * z - 1.0) + (inv * rho * z / r) * dd) / (2.0 * var),
        dx_th=(up * d1[:, None] - lo * d2[:, None]) / r * inv[:, None],
    )


def polyserial_pair(y, codes, th, mean: float | None = None, var: float | None = None) -> float:
    """Two-step ML polyserial correlation of a continuous and an ordinal variable.

    Parameters
    ----------
    y : array_like (n,)
        The continuous variable (complete cases).
    codes : array_like of int (n,)
        Categories ``1..K`` of the ordinal variable.
    th : array_like (K-1,)
        Its thresholds (fixed, from the margins).
    mean, var : float, optional
        Mean and variance of ``y`` (fixed; default: the sample mean and the
        variance with divisor n, lavaan's ``lav_uvreg_fit``).

    Returns
    -------
    float
        The correlation of ``y`` and the latent response of the ordinal
        variable, in lavaan's box [-0.995, 0.995].

    Notes
    -----
    Maximises :math:`\\sum_i \\log P(Y_{2i} = k_i \\mid y_i) =
    \\sum_i \\log[\\Phi(\\tau_{k}^*) - \\Phi(\\tau_{k-1}^*)]`,
    :math:`\\tau^* = (\\tau - \\rho z_i)/\\sqrt{1-\\rho^2}`,
    :math:`z_i = (y_i - \\mu)/\\sigma`, with the mean, variance and
    thresholds fixed (Olsson, Drasgow & Dorans, 1982; lavaan's
    ``lav_bvmix_cor_twostep_fit``); cases whose likelihood is below
    :math:`\\sqrt{\\epsilon}` are left out, as lavaan does.  The score is
    decreasing in :math:`\\rho` near the root; it is solved by Brent's method.

    References
    ----------
    .. [1] Olsson, U., Drasgow, F., & Dorans, N. J. (1982). The polyserial
       correlation coefficient. Psychometrika, 47(3), 337-347.
    """
    y = np.asarray(y, dtype=float)
    codes = np.asarray(codes, dtype=int)
    mean = float(np.mean(y)) if mean is None else float(mean)
    var = float(np.mean((y - mean) ** 2)) if var is None else float(var)

    def score(rho):
        t = polyserial_terms(y, codes, th, mean, var, rho)
        ok = t["lik"] >= PI_FLOOR
        return float(np.sum(t["dx_rho"][ok]))

    lo, hi = -POLYSERIAL_BOUND, POLYSERIAL_BOUND
    slo, shi = score(lo), score(hi)
    if slo <= 0:
        return lo
    if shi >= 0:
        return hi
    return float(brentq(score, lo, hi, xtol=1e-14, rtol=4 * _EPS, maxiter=200))


def polyserial(data: pd.DataFrame, continuous: str, ordinal: str) -> float:
    """Polyserial correlation of two columns, as lavaan's ``lavCor``.

    Parameters
    ----------
    data : DataFrame
    continuous, ordinal : str
        The continuous column and the ordinal column (numeric codes);
        rows with a missing value in either are dropped.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=2000)
    >>> y = 0.6 * x + 0.8 * rng.normal(size=2000)
    >>> d = pd.DataFrame({"x": x, "o": np.digitize(y, [-0.5, 0.5]) + 1})
    >>> round(polyserial(d, "x", "o"), 1)
    0.6
    """
    d = data[[continuous, ordinal]].dropna()
    od = encode_ordinal(d, [ordinal])
    th = univariate_thresholds(od.codes[:, 0], int(od.ncat[0]))
    return polyserial_pair(d[continuous].to_numpy(dtype=float), od.codes[:, 0], th)
