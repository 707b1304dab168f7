"""Observed product terms (lavaan's ``y ~ x + w + x:w``) and their probing.

lavaan reads ``x:w`` in a regression as an observed variable whose value is
the product of the columns ``x`` and ``w`` of the data (no centring; missing
when a factor is missing), exogenous like ``x`` and ``w`` (its moments fixed
at their sample values under ``fixed.x``).  :func:`add_products` adds those
columns to the data before the fit, so every estimator, the standardized
solution and the bootstrap treat the product as any other observed variable.

Probing a two-way interaction ``y ~ b1*x + b2*w + b3*x:w`` gives the
conditional effect of ``x`` at values of ``w``, :math:`\\theta(w) = b_1 +
b_3 w`, with the delta-method standard error :math:`\\sqrt{v_{11} + 2 w
v_{13} + w^2 v_{33}}` (:func:`simple_slopes`), and the Johnson-Neyman
bounds, the values of ``w`` where :math:`\\theta(w)^2 = z^2_{1-\\alpha/2}
\\operatorname{var}\\theta(w)` (:func:`johnson_neyman`).

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. *Journal of Statistical Software*, 48(2), 1-36.
.. [2] Preacher, K. J., Curran, P. J., & Bauer, D. J. (2006). Computational
   tools for probing interactions in multiple linear regression, multilevel
   modeling, and latent curve analysis. *Journal of Educational and
   Behavioral Statistics*, 31(4), 437-448.
.. [3] Hayes, A. F. (2015). An index and test of linear moderated mediation.
   *Multivariate Behavioral Research*, 50(1), 1-22.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .distributions import critical_value, two_sided_p
from .syntax import PRODUCT

__all__ = ["product_names", "add_products", "simple_slopes", "johnson_neyman", "JohnsonNeyman"]


def product_names(names) -> list[str]:
    """The names in ``names`` that are product terms (``x:w``), in order."""
    return [str(n) for n in names if PRODUCT.match(str(n))]


def add_products(data: pd.DataFrame, names) -> pd.DataFrame:
    """The data with a column for every product term among ``names``.

    Parameters
    ----------
    data : pandas.DataFrame
    names : iterable of str
        Variable names of a model; those written ``a:b`` (or ``a:b:c``) are
        products.

    Returns
    -------
    pandas.DataFrame
        ``data`` itself when there is no product term (or every product is
        already a column), else a copy with the products appended (raw
        products, NaN when a factor is NaN), as lavaan computes them.

    Raises
    ------
    ValueError
        A factor of a product is not a column of the data, or not numeric.
    """
    wanted = [n for n in dict.fromkeys(product_names(names)) if n not in data.columns]
    if not wanted:
        return data
    new = {}
    for name in wanted:
        factors = name.split(":")
        absent = [f for f in factors if f not in data.columns]
        if absent:
            raise ValueError(f"The product term {name!r} uses {absent[0]!r}, which is not a column of "
                             "the data.")
        value = None
        for f in factors:
            col = data[f]
            if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
                raise ValueError(f"The product term {name!r} uses column {f!r}, which is not numeric "
                                 f"(dtype {col.dtype}).")
            col = col.astype(float)
            value = col if value is None else value * col
        new[name] = value
    return pd.concat([data, pd.DataFrame(new, index=data.index)], axis=1)


def _coefficients(fit, y: str, x: str, w: str, group: int, product: str | None = None):
    """Positions (in theta) and estimates of ``y ~ x`` and ``y ~ x:w`` (either order of the factors),
    or ``y ~ product`` (a latent interaction's product factor)."""
    pt = fit.partable
    reg = pt[(pt["op"] == "~") & (pt["lhs"] == y) & (pt["group"] == group)]
    rows = {}
    for key, names in (("b1", [x]), ("b3", [product] if product else [f"{x}:{w}", f"{w}:{x}"])):
        hit = reg[reg["rhs"].isin(names)]
        if hit.empty:
            raise ValueError(f"The model has no regression {y} ~ {names[0]}"
                             + (f" (or {y} ~ {names[1]})" if len(names) > 1 else "")
                             + "; probing needs y ~ x + w + x:w.")
        rows[key] = hit.iloc[0]
    est = fit.estimates
    out = {}
    for key, row in rows.items():
        free = int(row["free"])
        value = float(est.loc[row.name, "est"])
        out[key] = (free - 1 if free > 0 else None, value)
    return out


def _slope_moments(fit, y, x, w, group, product=None):
    c = _coefficients(fit, y, x, w, group, product)
    (i1, b1), (i3, b3) = c["b1"], c["b3"]
    vc = np.asarray(fit.vcov, float)

    def v(i, j):
        return 0.0 if i is None or j is None else float(vc[i, j])

    return b1, b3, v(i1, i1), v(i3, i3), v(i1, i3)


def simple_slopes(fit, y: str, x: str, w: str, at, *, level: float = 0.95,
                  group: int = 1, product: str | None = None) -> pd.DataFrame:
    """Conditional (simple) effects of ``x`` on ``y`` at values of the moderator ``w``.

    Parameters
    ----------
    fit : SEMResult
        A fit whose model has ``y ~ x + ... + x:w``.
    y, x, w : str
        Outcome, focal predictor and moderator.
    at : array-like
        Values of ``w`` (e.g. mean - SD, mean, mean + SD).
    level : float
        Confidence level of the Wald interval.
    group : int
        Group (1-based, as the estimates' ``group`` column).
    product : str, optional
        The regressor carrying the interaction when it is not ``x:w``: the
        latent product factor of a product-indicator model (e.g. ``PLxW``
        measured by :func:`analysis.sem.indprod` products), with ``w`` in
        the metric of that factor's moderator.

    Returns
    -------
    pandas.DataFrame
        ``w, slope, se, z, pvalue, ci_lower, ci_upper``: :math:`b_1 + b_3 w`
        and its delta-method standard error from the fit's ``vcov``
        (robust, cluster-robust or bootstrap, whatever the fit's ``se``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.sem import sem
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"x": rng.normal(size=500), "w": rng.normal(size=500)})
    >>> d["y"] = 0.2 * d.x + 0.5 * d.x * d.w + rng.normal(size=500)
    >>> fit = sem("y ~ x + w + x:w", d)
    >>> s = simple_slopes(fit, "y", "x", "w", at=[-1, 0, 1])
    >>> bool(s.slope.iloc[2] > s.slope.iloc[0])
    True
    """
    b1, b3, v11, v33, v13 = _slope_moments(fit, y, x, w, group, product)
    at = np.atleast_1d(np.asarray(at, dtype=float))
    slope = b1 + b3 * at
    se = np.sqrt(np.clip(v11 + 2 * at * v13 + at ** 2 * v33, 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = slope / se
    crit = critical_value(level)
    return pd.DataFrame({"w": at, "slope": slope, "se": se, "z": z,
                         "pvalue": two_sided_p(z),
                         "ci_lower": slope - crit * se, "ci_upper": slope + crit * se})


@dataclass(frozen=True)
class JohnsonNeyman:
    """The Johnson-Neyman interval of a two-way interaction.

    Attributes
    ----------
    lower, upper : float
        The roots of :math:`(b_1+b_3w)^2 = z^2\\operatorname{var}(b_1+b_3w)`
        (NaN when there is none: the effect is significant everywhere or
        nowhere).
    inside : bool
        True when the effect of ``x`` is significant for ``w`` between the
        bounds, False when outside them.
    significant_everywhere : bool
        No root and the effect significant at every ``w``.
    level : float
    """

    lower: float
    upper: float
    inside: bool
    significant_everywhere: bool
    level: float

    def describe(self) -> str:
        """One sentence (English) saying where the effect is significant."""
        if math.isnan(self.lower):
            return ("the effect is significant at every value of the moderator"
                    if self.significant_everywhere else
                    "the effect is significant at no value of the moderator")
        where = "between" if self.inside else "below and above"
        return f"the effect is significant {where} {self.lower:.3f} and {self.upper:.3f}"


def johnson_neyman(fit, y: str, x: str, w: str, *, level: float = 0.95, group: int = 1,
                   product: str | None = None) -> JohnsonNeyman:
    """The Johnson-Neyman bounds of the effect of ``x`` on ``y`` moderated by ``w``.

    Parameters
    ----------
    fit, y, x, w, level, group, product
        As :func:`simple_slopes`.

    Returns
    -------
    JohnsonNeyman

    Notes
    -----
    With :math:`z` the critical value, the bounds solve
    :math:`a w^2 + b w + c = 0`, :math:`a = b_3^2 - z^2 v_{33}`,
    :math:`b = 2(b_1 b_3 - z^2 v_{13})`, :math:`c = b_1^2 - z^2 v_{11}`
    (Preacher, Curran & Bauer, 2006); the effect is significant where the
    quadratic is positive.
    """
    b1, b3, v11, v33, v13 = _slope_moments(fit, y, x, w, group, product)
    z2 = critical_value(level) ** 2
    qa, qb, qc = b3 ** 2 - z2 * v33, 2 * (b1 * b3 - z2 * v13), b1 ** 2 - z2 * v11
    disc = qb * qb - 4 * qa * qc
    if qa == 0 or disc < 0:
        return JohnsonNeyman(math.nan, math.nan, False, bool(qa > 0 or (qa == 0 and qc > 0)), level)
    r = sorted(((-qb - math.sqrt(disc)) / (2 * qa), (-qb + math.sqrt(disc)) / (2 * qa)))
    return JohnsonNeyman(r[0], r[1], inside=bool(qa < 0), significant_everywhere=False, level=level)
