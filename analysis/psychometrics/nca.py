r"""Necessary Condition Analysis (NCA): ceiling lines, effect sizes, permutation test.

Data first, columns by name: ``nca(data, outcome="Y", conditions=["X1", "X2"])``
returns one tidy row per condition and ceiling. The definitions are those of
the R package ``NCA`` (Dul; version 5.0.1) for the default corner (upper
left: a high level of the condition is necessary for a high level of the
outcome), the empirical scope and the two default ceilings:

* **CE-FDH** (ceiling envelopment, free disposal hull): the non-decreasing step
  function through the *peers*, the upper-left corner points of the data;
* **CR-FDH** (ceiling regression, free disposal hull): the ordinary least
  squares line through those peers.

For one condition :math:`x` and the outcome :math:`y` (complete pairs only,
:math:`n` cases):

.. math::

   S = (x_{\max} - x_{\min})\,(y_{\max} - y_{\min}), \qquad
   d = C / S, \qquad
   \text{accuracy} = 100\,\frac{n - \#\{i : y_i > c(x_i)\}}{n},

where :math:`S` is the (empirical) scope, :math:`C` the ceiling zone (the
empty area above the ceiling line :math:`c` inside the scope) and :math:`d`
the necessity effect size (Dul, 2016). :func:`ceiling_line` gives the line,
:func:`line_ceiling_zone` the area above a straight line, and
:func:`permutation_p_value` the p value of NCA's approximate permutation test
(Dul, van der Laan & Kuik, 2020).

References
----------
.. [1] Dul, J. (2016). Necessary Condition Analysis (NCA): Logic and
   methodology of "necessary but not sufficient" causality. *Organizational
   Research Methods*, 19(1), 10-52. https://doi.org/10.1177/1094428115584005
.. [2] Dul, J., van der Laan, E., & Kuik, R. (2020). A statistical
   significance test for Necessary Condition Analysis. *Organizational
   Research Methods*, 23(2), 385-395. https://doi.org/10.1177/1094428118795272
.. [3] Dul, J., & Buijs, G. (2026). *NCA: Necessary Condition Analysis*
   (R package version 5.0.1). CRAN.
.. [4] North, B. V., Curtis, D., & Sham, P. C. (2002). A note on the
   calculation of empirical P values from Monte Carlo procedures. *American
   Journal of Human Genetics*, 71(2), 439-441. https://doi.org/10.1086/341527
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "nca",
    "ceiling_line",
    "nca_plot",
    "CeilingLine",
    "line_ceiling_zone",
    "permutation_p_value",
    "CEILINGS",
]

#: Ceiling techniques implemented here (NCA's default pair).
CEILINGS = ("ce_fdh", "cr_fdh")

# A case counts as above a straight ceiling when it lies more than this
# (absolute) distance over it, as in NCA's ``p_above``.
_ABOVE_TOLERANCE = 1e-7
# NCA lowers test.rep to n! for n < 16 and draws distinct permutations when
# test.rep <= 720 (``p_test``).
_MAX_N_FOR_FACTORIAL_CAP = 16
_DISTINCT_DRAWS_UP_TO = 720
# Up to this n, distinct permutations are drawn by rank (n! <= 40 320).
_RANK_SAMPLING_MAX_N = 8

_DEFAULT_NAMES = {"ce_fdh": "CE-FDH", "cr_fdh": "CR-FDH"}
# Colours and line styles of NCA's plots (``line.colors``, ``line.types``).
_STYLE = {"ce_fdh": {"color": "red", "linestyle": "-."},
          "cr_fdh": {"color": "orange", "linestyle": "-"}}


# --------------------------------------------------------------------------- #
# Input handling
# --------------------------------------------------------------------------- #
def _check_ceilings(ceilings) -> tuple[str, ...]:
    if isinstance(ceilings, str):
        ceilings = (ceilings,)
    out = []
    for c in ceilings:
        key = str(c).lower()
        if key not in CEILINGS:
            raise ValueError(f"unknown ceiling {c!r}; supported: {', '.join(CEILINGS)}")
        if key not in out:
            out.append(key)
    if not out:
        raise ValueError("at least one ceiling is needed")
    return tuple(out)


def _as_float(values) -> np.ndarray:
    """Values as float; anything not numeric becomes NaN (as NCA's ``as.numeric``)."""
    return pd.to_numeric(pd.Series(np.asarray(values, dtype=object).ravel()),
                         errors="coerce").to_numpy(dtype=float)


def _complete_pairs(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = _as_float(x)
    y = _as_float(y)
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length ({x.size} and {y.size})")
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


# --------------------------------------------------------------------------- #
# Core geometry
# --------------------------------------------------------------------------- #
class _SortedX:
    """The x values in ascending order and the start of each run of equal x.

    Permuting y against x leaves this fixed, so the permutation test builds it
    once.
    """

    def __init__(self, x: np.ndarray):
        self.order = np.argsort(x, kind="stable")
        self.xs = x[self.order]
        new = np.ones(self.xs.size, dtype=bool)
        new[1:] = self.xs[1:] != self.xs[:-1]
        self.starts = np.flatnonzero(new)
        sizes = np.diff(np.append(self.starts, self.xs.size))
        self.group = np.repeat(np.arange(self.starts.size), sizes)
        self.xmin = float(self.xs[0])

    def peers(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Peers of (x, y): x values, y values (with duplicates) and the count of distinct peers.

        A run of equal x contributes its highest y when that y is strictly
        above every y at a lower x; identical copies of that point are kept,
        as NCA keeps duplicate peers (they weigh in the CR-FDH regression).
        """
        ys = y[self.order]
        top = np.maximum.reduceat(ys, self.starts)
        before = np.empty_like(top)
        before[0] = -np.inf
        before[1:] = np.maximum.accumulate(top)[:-1]
        keep = top > before
        copies = np.add.reduceat((ys == top[self.group]).astype(np.int64), self.starts)
        px = np.repeat(self.xs[self.starts][keep], copies[keep])
        py = np.repeat(top[keep], copies[keep])
        return px, py, int(keep.sum())


def _ce_fdh_zone(px: np.ndarray, py: np.ndarray, xmin: float) -> float:
    """Area above the CE-FDH step function: horizontal slabs between peers."""
    return float(np.sum((px[1:] - xmin) * np.diff(py)))


def _ols(px: np.ndarray, py: np.ndarray) -> tuple[float, float]:
    """Intercept and slope of the least-squares line of ``py`` on ``px``."""
    xbar = px.mean()
    ybar = py.mean()
    dx = px - xbar
    slope = float(np.sum(dx * (py - ybar)) / np.sum(dx * dx))
    return float(ybar - slope * xbar), slope


def line_ceiling_zone(intercept: float, slope: float, scope) -> float:
    r"""Ceiling zone of a straight ceiling line: the area above it inside the scope.

    Parameters
    ----------
    intercept, slope : float
        The line :math:`c(x) = a + b x`.
    scope : sequence of 4 floats
        :math:`(x_{\min}, x_{\max}, y_{\min}, y_{\max})`.

    Returns
    -------
    float
        .. math:: C = \int_{x_{\min}}^{x_{\max}}
                  \bigl(y_{\max} - \min(\max(a + b x,\, y_{\min}),\, y_{\max})\bigr)\,dx,

        the whole scope area when the line runs below the scope, and NaN when
        the slope is negative or missing (a negative slope does not bound the
        upper-left corner) or when the line runs above the scope, as in NCA's
        ``p_ceiling``.

    Examples
    --------
    >>> line_ceiling_zone(0.0, 1.0, (0, 1, 0, 1))     # the diagonal halves the square
    0.5
    >>> round(line_ceiling_zone(4.0, 2 / 3, (1, 6, 2, 6)), 12)   # 4/3, NCA's unit test
    1.333333333333
    >>> line_ceiling_zone(1.0, -0.5, (0, 1, 0, 1))
    nan
    """
    a = float(intercept)
    b = float(slope)
    xmin, xmax, ymin, ymax = (float(v) for v in scope)
    if not (math.isfinite(a) and math.isfinite(b)) or b < 0:
        return math.nan
    y_left = a + b * xmin
    y_right = a + b * xmax
    if y_left > ymax and y_right > ymax:
        return math.nan
    if y_left < ymin and y_right < ymin:
        return (xmax - xmin) * (ymax - ymin)
    if b == 0:
        return (xmax - xmin) * (ymax - a)
    # Where the line enters the scope (left edge or floor) and leaves it
    # (roof or right edge); left of the entry the line is under the floor.
    x_in, y_in = (xmin, y_left) if y_left >= ymin else ((ymin - a) / b, ymin)
    x_out, y_out = (xmax, y_right) if y_right <= ymax else ((ymax - a) / b, ymax)
    return ((x_in - xmin) * (ymax - ymin)
            + (x_out - x_in) * (ymax - 0.5 * (y_in + y_out)))


def _effect(zone: float, scope_area: float) -> float:
    if not math.isfinite(zone) or scope_area <= 0:
        return math.nan
    return zone / scope_area


# --------------------------------------------------------------------------- #
# Ceiling line
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class CeilingLine:
    r"""One ceiling line fitted to one condition (see :func:`ceiling_line`).

    Attributes
    ----------
    ceiling : str
        ``"ce_fdh"`` or ``"cr_fdh"``.
    peers : numpy.ndarray
        ``(k, 2)`` peer points ``(x, y)``, ascending; duplicate peers repeat.
        For CE-FDH they are the corners of the step function; for CR-FDH the
        points the regression goes through (empty when fewer than two
        distinct peers, and then there is no line).
    intercept, slope : float
        The CR-FDH line :math:`c(x) = a + b x`; NaN for CE-FDH and when there
        are fewer than two distinct peers.
    scope : tuple of float
        Empirical scope :math:`(x_{\min}, x_{\max}, y_{\min}, y_{\max})`.
    n : int
        Complete cases used.
    n_above : int
        Cases strictly above the ceiling line (more than 1e-7 above a CR-FDH
        line; none for CE-FDH, which envelops the data by construction);
        -1 when undefined (a CR-FDH line with a negative slope).
    ceiling_zone : float
        Empty area above the ceiling inside the scope (NaN when undefined).
    """

    ceiling: str
    peers: np.ndarray
    intercept: float
    slope: float
    scope: tuple[float, float, float, float]
    n: int
    n_above: int
    ceiling_zone: float

    @property
    def scope_area(self) -> float:
        r"""Scope :math:`S = (x_{\max} - x_{\min})(y_{\max} - y_{\min})`."""
        xmin, xmax, ymin, ymax = self.scope
        return (xmax - xmin) * (ymax - ymin)

    @property
    def effect_size(self) -> float:
        """Necessity effect size :math:`d = C / S` (NaN when :math:`S = 0` or C is undefined)."""
        return _effect(self.ceiling_zone, self.scope_area)

    @property
    def accuracy(self) -> float:
        """Ceiling accuracy: percentage of cases on or below the ceiling line."""
        if self.n_above < 0 or self.n == 0:
            return math.nan
        return 100.0 * (self.n - self.n_above) / self.n

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """Vertices of the line as NCA draws it, for plotting.

        CE-FDH: from ``(x_1, y_min)`` up to the first peer, then right and up
        through every peer, ending at ``x_max``. CR-FDH: from ``(x_min,
        y_min)`` up the left edge to the line (or from the point where the line
        crosses the floor), along the line, and along the roof to ``x_max``.
        Empty arrays when there is no line.
        """
        xmin, xmax, ymin, ymax = self.scope
        if self.ceiling == "ce_fdh":
            if self.peers.size == 0:
                return np.empty(0), np.empty(0)
            px, py = self.peers[:, 0], self.peers[:, 1]
            xs = np.append(np.repeat(px, 2), xmax)
            ys = np.append(np.column_stack([np.r_[ymin, py[:-1]], py]).ravel(), py[-1])
            return xs, ys
        a, b = self.intercept, self.slope
        if not (math.isfinite(a) and math.isfinite(b)) or b == 0:
            if math.isfinite(a) and b == 0 and ymin <= a <= ymax:
                return np.array([xmin, xmax]), np.array([a, a])
            return np.empty(0), np.empty(0)
        pts = []
        y_left, y_right = a + b * xmin, a + b * xmax
        x_floor, x_roof = (ymin - a) / b, (ymax - a) / b
        if ymin <= y_left <= ymax:
            pts += [(xmin, ymin), (xmin, y_left)]
        elif xmin <= x_floor <= xmax:
            pts.append((x_floor, ymin))
        if xmin <= x_roof <= xmax:
            pts += [(x_roof, ymax), (xmax, ymax)]
        elif ymin <= y_right <= ymax:
            pts.append((xmax, y_right))
        if not pts:
            return np.empty(0), np.empty(0)
        arr = np.array(sorted(pts))
        return arr[:, 0], arr[:, 1]


def _fit(sx: _SortedX, x: np.ndarray, y: np.ndarray, ceiling: str) -> CeilingLine:
    scope = (sx.xmin, float(sx.xs[-1]), float(y.min()), float(y.max()))
    px, py, distinct = sx.peers(y)
    peers = np.column_stack([px, py])
    if ceiling == "ce_fdh":
        return CeilingLine("ce_fdh", peers, math.nan, math.nan, scope, int(x.size), 0,
                           _ce_fdh_zone(px, py, sx.xmin))
    if distinct < 2:
        # One peer (the case with the lowest x has the highest y): no line,
        # nothing above it, an empty ceiling zone (NCA's p_nca_cr_fdh).
        return CeilingLine("cr_fdh", np.empty((0, 2)), math.nan, math.nan, scope,
                           int(x.size), 0, 0.0)
    intercept, slope = _ols(px, py)
    zone = line_ceiling_zone(intercept, slope, scope)
    if slope < 0:
        n_above = -1
    else:
        n_above = int(np.sum(y - (intercept + slope * x) > _ABOVE_TOLERANCE))
    return CeilingLine("cr_fdh", peers, intercept, slope, scope, int(x.size), n_above, zone)


def _effect_only(sx: _SortedX, y: np.ndarray, ceiling: str, scope) -> float:
    """Effect size of one ceiling for the permutation test (same arithmetic as :func:`_fit`)."""
    px, py, distinct = sx.peers(y)
    area = (scope[1] - scope[0]) * (scope[3] - scope[2])
    if ceiling == "ce_fdh":
        return _effect(_ce_fdh_zone(px, py, sx.xmin), area)
    if distinct < 2:
        return _effect(0.0, area)
    intercept, slope = _ols(px, py)
    return _effect(line_ceiling_zone(intercept, slope, scope), area)


def ceiling_line(x, y, ceiling: str = "ce_fdh") -> CeilingLine:
    r"""Fit one NCA ceiling line of outcome ``y`` on condition ``x``.

    Parameters
    ----------
    x, y : array-like
        Condition and outcome; pairs with a missing or non-numeric value are
        dropped.
    ceiling : {"ce_fdh", "cr_fdh"}
        Ceiling technique.

    Returns
    -------
    CeilingLine
        Peers, intercept and slope (CR-FDH), scope, ceiling zone, effect size,
        accuracy, and :meth:`CeilingLine.points` for plotting.

    Notes
    -----
    **Peers.** Sort the cases by :math:`x`. Among cases with equal :math:`x`
    take the highest :math:`y`; it is a peer when it is strictly higher than
    the :math:`y` of every case with a lower :math:`x`. The first peer is at
    :math:`x_{\min}`, the last has :math:`y = y_{\max}`. Exact copies of a
    peer are kept as peers, as in NCA. (NCA compares values with a relative
    tolerance of 1e-6; here ties are exact.)

    **CE-FDH.** The step function :math:`c(x) = y_j` for
    :math:`x_j \le x < x_{j+1}` through peers :math:`(x_1, y_1), \dots,
    (x_k, y_k)`; its ceiling zone is a sum of horizontal slabs,

    .. math:: C_{\text{CE-FDH}} = \sum_{j=1}^{k-1} (x_{j+1} - x_{\min})(y_{j+1} - y_j),

    and no case lies above it (accuracy 100 %).

    **CR-FDH.** The ordinary least-squares line :math:`c(x) = a + b x` through
    the peers; its ceiling zone is :func:`line_ceiling_zone`, and cases more
    than 1e-7 above it lower the accuracy. With a single distinct peer (the
    case with the lowest :math:`x` has the highest :math:`y`) there is no line
    and the ceiling zone is 0. A negative slope (impossible for peers, which
    rise) would give NaN for the ceiling zone, effect size and accuracy.

    References
    ----------
    .. [1] Dul, J. (2016). Necessary Condition Analysis (NCA): Logic and
       methodology of "necessary but not sufficient" causality.
       *Organizational Research Methods*, 19(1), 10-52.

    Examples
    --------
    >>> line = ceiling_line([1, 2, 3, 4, 5], [1, 3, 2, 5, 4], "ce_fdh")
    >>> line.peers.tolist()
    [[1.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    >>> line.ceiling_zone, line.scope_area, line.effect_size
    (8.0, 16.0, 0.5)
    >>> cr = ceiling_line([1, 2, 3, 4, 5], [1, 3, 2, 5, 4], "cr_fdh")
    >>> round(cr.slope, 4), round(abs(cr.intercept), 4), cr.accuracy   # y = 9x/7
    (1.2857, 0.0, 80.0)
    """
    (ceiling,) = _check_ceilings(ceiling)
    x, y = _complete_pairs(x, y)
    if x.size < 2:
        raise ValueError(f"a ceiling line needs at least 2 complete cases, got {x.size}")
    return _fit(_SortedX(x), x, y, ceiling)


# --------------------------------------------------------------------------- #
# Permutation test
# --------------------------------------------------------------------------- #
def permutation_p_value(observed: float, permuted) -> float:
    r"""p value of NCA's approximate permutation test.

    Parameters
    ----------
    observed : float
        Effect size of the data.
    permuted : array-like
        Effect sizes of the data with :math:`y` permuted against :math:`x`;
        NaN values (undefined effect sizes) are not counted.

    Returns
    -------
    float
        .. math:: p = \frac{\#\{r : d_r \ge d_{\text{obs}}\} + 1}{R + 1}

        over the :math:`R` valid permuted effect sizes :math:`d_r` (North,
        Curtis & Sham, 2002); NaN when the observed effect size is undefined
        or no permuted one is valid.

    Notes
    -----
    NCA 5.0.1 computes the same ratio and then floors it at
    :math:`1/\text{test.rep}`; this function does not apply that floor.

    References
    ----------
    .. [1] Dul, J., van der Laan, E., & Kuik, R. (2020). A statistical
       significance test for Necessary Condition Analysis. *Organizational
       Research Methods*, 23(2), 385-395.
    .. [2] North, B. V., Curtis, D., & Sham, P. C. (2002). A note on the
       calculation of empirical P values from Monte Carlo procedures.
       *American Journal of Human Genetics*, 71(2), 439-441.

    Examples
    --------
    >>> permutation_p_value(0.3, [0.1, 0.5, float("nan"), 0.3])   # (2 + 1) / (3 + 1)
    0.75
    """
    observed = float(observed)
    permuted = np.asarray(permuted, dtype=float).ravel()
    permuted = permuted[~np.isnan(permuted)]
    if math.isnan(observed) or permuted.size == 0:
        return math.nan
    return float((np.sum(permuted >= observed) + 1) / (permuted.size + 1))


def _unrank(rank: int, n: int) -> np.ndarray:
    """The permutation of ``range(n)`` with lexicographic rank ``rank``."""
    pool = list(range(n))
    out = np.empty(n, dtype=np.intp)
    for i in range(n):
        f = math.factorial(n - 1 - i)
        j, rank = divmod(rank, f)
        out[i] = pool.pop(j)
    return out


def _permutations(n: int, count: int, rng: np.random.Generator):
    """``count`` permutations of ``range(n)`` (at most n!), as NCA's ``p_test`` draws them.

    All n! when ``count`` reaches n! (n < 16); distinct permutations when
    ``count`` <= 720 or n <= 8; otherwise independent draws.
    """
    if n < _MAX_N_FOR_FACTORIAL_CAP:
        total = math.factorial(n)
        if count >= total:
            return [np.array(p, dtype=np.intp) for p in itertools.permutations(range(n))]
        if n <= _RANK_SAMPLING_MAX_N:
            ranks = rng.choice(total, size=count, replace=False)
            return [_unrank(int(r), n) for r in ranks]
    if count <= _DISTINCT_DRAWS_UP_TO:
        seen: set[bytes] = set()
        out = []
        while len(out) < count:
            p = rng.permutation(n)
            key = p.tobytes()
            if key not in seen:
                seen.add(key)
                out.append(p)
        return out
    return (rng.permutation(n) for _ in range(count))


# --------------------------------------------------------------------------- #
# Public analysis
# --------------------------------------------------------------------------- #
def _columns(data, outcome, conditions) -> list[str]:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if isinstance(conditions, str) or not isinstance(
            conditions, Sequence | pd.Index | pd.Series | np.ndarray):
        conditions = [conditions]
    conditions = list(conditions)
    if not conditions:
        raise ValueError("at least one condition is needed")
    missing = [c for c in [outcome, *conditions] if c not in data.columns]
    if missing:
        raise ValueError(f"columns not found in the data: {', '.join(map(str, missing))}")
    return conditions


def _nan_row(condition, ceiling, n_perm: int) -> dict:
    return {"condition": condition, "ceiling": ceiling, "effect_size": math.nan,
            "accuracy": math.nan, "ceiling_zone": math.nan, "scope": math.nan,
            "p_value": math.nan if n_perm else None}


def nca(data: pd.DataFrame, outcome: str, conditions, ceilings=CEILINGS,
        permutations: int = 0, seed=None) -> dict:
    r"""Necessary Condition Analysis of one outcome on one or more conditions.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per case.
    outcome : str
        Outcome column :math:`y`.
    conditions : str or list of str
        Condition columns :math:`x`, each analysed on its own (bivariate NCA)
        with its complete pairs (non-numeric values count as missing).
    ceilings : sequence of {"ce_fdh", "cr_fdh"}
        Ceiling techniques, in the order of the output rows.
    permutations : int
        Permutations of the approximate permutation test (NCA's
        ``test.rep``); 0 skips the test.
    seed : int, numpy.random.Generator or None
        Seed of ``numpy.random.default_rng``; the same seed gives the same
        p values.

    Returns
    -------
    dict
        ``{"results": [row, ...]}``, one row per condition and ceiling
        (conditions outer, ceilings inner), each with ``condition``,
        ``ceiling``, ``effect_size`` (:math:`d = C/S`), ``accuracy`` (% of
        cases on or below the ceiling), ``ceiling_zone`` (:math:`C`),
        ``scope`` (:math:`S`) as floats, and ``p_value`` (float, or None
        without permutations). Undefined values are NaN: fewer than two
        complete cases, a zero scope (:math:`d = 0/0`), a CR-FDH line with a
        negative slope.

    Notes
    -----
    Scope and ceiling zone are areas in the units of :math:`x \times y` over
    the empirical scope :math:`S = (x_{\max} - x_{\min})(y_{\max} -
    y_{\min})`; see :func:`ceiling_line` for the ceilings.

    **Permutation test** (Dul, van der Laan & Kuik, 2020). Under the null
    hypothesis that :math:`x` and :math:`y` are unrelated, every pairing is
    equally likely: the outcome is permuted against the condition
    ``permutations`` times (capped at :math:`n!`; all :math:`n!`
    permutations when that many are asked for; distinct ones when at most
    720 are drawn, as in NCA), the effect size is recomputed for each, and
    :math:`p = (\#\{d_r \ge d\} + 1)/(R + 1)` over the :math:`R` valid
    permuted effect sizes (:func:`permutation_p_value`). The same
    permutations serve every ceiling of a condition.

    References
    ----------
    .. [1] Dul, J. (2016). Necessary Condition Analysis (NCA): Logic and
       methodology of "necessary but not sufficient" causality.
       *Organizational Research Methods*, 19(1), 10-52.
    .. [2] Dul, J., van der Laan, E., & Kuik, R. (2020). A statistical
       significance test for Necessary Condition Analysis. *Organizational
       Research Methods*, 23(2), 385-395.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1, 2, 3, 4, 5], "y": [1, 3, 2, 5, 4]})
    >>> for row in nca(df, "y", "x")["results"]:
    ...     print(row["ceiling"], round(row["effect_size"], 4), row["accuracy"], row["scope"])
    ce_fdh 0.5 100.0 16.0
    cr_fdh 0.3353 80.0 16.0
    >>> res = nca(df, "y", ["x"], ceilings=["ce_fdh"], permutations=120)  # all 5! orders
    >>> res["results"][0]["p_value"] == 12 / 121   # 11 other orders reach d = 0.5
    True
    """
    conditions = _columns(data, outcome, conditions)
    ceilings = _check_ceilings(ceilings)
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer):
        raise TypeError("permutations must be an integer")
    if permutations < 0:
        raise ValueError("permutations must be >= 0")
    permutations = int(permutations)
    rng = np.random.default_rng(seed) if permutations else None

    rows = []
    for condition in conditions:
        x, y = _complete_pairs(data[condition], data[outcome])
        if x.size < 2:
            rows += [_nan_row(condition, c, permutations) for c in ceilings]
            continue
        sx = _SortedX(x)
        lines = {c: _fit(sx, x, y, c) for c in ceilings}
        p_values = dict.fromkeys(ceilings)
        if permutations:
            scope = lines[ceilings[0]].scope
            observed = {c: _effect_only(sx, y, c, scope) for c in ceilings}
            sims = {c: [] for c in ceilings}
            for perm in _permutations(x.size, permutations, rng):
                yp = y[perm]
                for c in ceilings:
                    sims[c].append(_effect_only(sx, yp, c, scope))
            p_values = {c: permutation_p_value(observed[c], sims[c]) for c in ceilings}
        for c in ceilings:
            line = lines[c]
            rows.append({
                "condition": condition,
                "ceiling": c,
                "effect_size": float(line.effect_size),
                "accuracy": float(line.accuracy),
                "ceiling_zone": float(line.ceiling_zone),
                "scope": float(line.scope_area),
                "p_value": None if p_values[c] is None else float(p_values[c]),
            })
    return {"results": rows}


def nca_plot(data: pd.DataFrame, outcome: str, condition: str, ceilings=CEILINGS,
             ax=None, labels: Mapping[str, str] | None = None):
    """Scatter plot of one condition against the outcome with the ceiling lines.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per case (complete pairs are plotted).
    outcome, condition : str
        Columns on the y and x axes.
    ceilings : sequence of {"ce_fdh", "cr_fdh"}
        Ceiling lines to draw.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    labels : mapping, optional
        Display names keyed by column name (axis titles) and by ceiling
        (legend), e.g. ``{"X1": "个人主义 Individualism"}``; default: the
        column names and "CE-FDH" / "CR-FDH".

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the scope drawn as a dotted rectangle and each ceiling
        in NCA's colours (CE-FDH red dash-dot, CR-FDH orange), its legend
        entry giving the effect size.

    Notes
    -----
    Fonts come from matplotlib's rcParams; call
    ``analysis.study.style.use()`` first for Chinese labels.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    _columns(data, outcome, [condition])
    ceilings = _check_ceilings(ceilings)
    names = dict(labels or {})
    x, y = _complete_pairs(data[condition], data[outcome])
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.scatter(x, y, s=18, facecolors="none", edgecolors="tab:blue", linewidths=0.8, zorder=3)
    if x.size >= 2:
        sx = _SortedX(x)
        xmin, xmax, ymin, ymax = sx.xmin, float(sx.xs[-1]), float(y.min()), float(y.max())
        for c in ceilings:
            line = _fit(sx, x, y, c)
            xs, ys = line.points()
            if xs.size:
                ax.plot(xs, ys, linewidth=1.4, zorder=2,
                        label=f"{names.get(c, _DEFAULT_NAMES[c])} (d = {line.effect_size:.2f})",
                        **_STYLE[c])
        ax.add_patch(Rectangle((xmin, ymin), xmax - xmin, ymax - ymin, fill=False,
                               linestyle=":", linewidth=0.8, edgecolor="0.5", zorder=1))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, frameon=False, loc="best")
    ax.set_xlabel(names.get(condition, str(condition)))
    ax.set_ylabel(names.get(outcome, str(outcome)))
    return ax
