"""Product indicators of a latent interaction, as semTools' ``indProd``.

A latent interaction X*Z is measured by products of the indicators of X and Z
(Marsh, Wen & Hau, 2004); :func:`indprod` builds them, with the centring
options of semTools 0.5-6 ``indProd`` and its exact numbers
(``tests/reference/semtools_indprod.R``).  The products are ordinary observed
variables afterwards: fit the model with :func:`analysis.sem.sem`.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["indprod"]


def indprod(data: pd.DataFrame, var1, var2, match: bool = True, mean_center: bool = True,
            double_mean_center: bool = True, residual_center: bool = False,
            names_prod=None) -> pd.DataFrame:
    """Add the product indicators of two sets of indicators (semTools ``indProd``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per case; missing values are NaN.
    var1, var2 : str or list of str
        The indicator columns of the first and the second factor.
    match : bool
        Matched pairs (``var1[0]*var2[0]``, ``var1[1]*var2[1]``, ...; the two
        lists must be equally long) or, if false, every pair, ``var1`` varying
        slowest (``x1.z1, x1.z2, ..., x2.z1, ...``).
    mean_center : bool
        Centre each indicator at its mean before multiplying (semTools ``meanC``).
    double_mean_center : bool
        Centre each product at its mean as the last step (``doubleMC``; Lin et
        al., 2010), whether or not the indicators were centred or the products
        residual-centred.
    residual_center : bool
        Replace the products by their residuals from one least-squares
        regression of each on an intercept and all ``var1`` and ``var2``
        columns (``residualC``; Little, Bovaird & Widaman, 2006).
    names_prod : list of str, optional
        Names of the product columns (``namesProd``); by default
        ``"<var1>.<var2>"``, e.g. ``x1.z1``.

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` (same index and columns) followed by one float
        column per product, in semTools' order.

    Raises
    ------
    ValueError
        Unknown or non-numeric columns, a variable listed twice, unequal
        lengths with ``match=True``, a wrong number of ``names_prod``, a
        product name that is already a column, or no complete row for the
        residual-centring regression.

    Notes
    -----
    The steps, in semTools' order: (1) with ``mean_center``,
    :math:`x_{ij} \\leftarrow x_{ij}-\\bar x_j` (mean over the observed
    values of column :math:`j`); (2) products :math:`p = x_j z_k`, NaN when
    a factor is missing; (3) with ``residual_center``, on the rows where
    *every* product is observed, :math:`p \\leftarrow p-[1,X,Z]\\hat\\beta`
    (least squares); a row with some product missing keeps its other
    products un-residualized, as semTools does; (4) with
    ``double_mean_center``, :math:`p \\leftarrow p-\\bar p` (mean over the
    observed values).

    Differences from R, by design: column names are kept as given (R's
    ``data.frame()`` passes them through ``make.names``), a product name
    that clashes with a column is an error (R renames it ``x1.z1.1``),
    and one indicator per set works for every option (R fails for
    ``meanC = FALSE`` with ``match = TRUE``).  The three-way option ``var3``
    is not implemented.

    References
    ----------
    .. [1] Marsh, H. W., Wen, Z., & Hau, K.-T. (2004). Structural equation
       models of latent interactions: Evaluation of alternative estimation
       strategies and indicator construction. *Psychological Methods*, 9(3),
       275-300.
    .. [2] Lin, G.-C., Wen, Z., Marsh, H. W., & Lin, H.-S. (2010). Structural
       equation models of latent interactions: Clarification of orthogonalizing
       and double-mean-centering strategies. *Structural Equation Modeling*,
       17(3), 374-391.
    .. [3] Little, T. D., Bovaird, J. A., & Widaman, K. F. (2006). On the
       merits of orthogonalizing powered and product terms. *Structural
       Equation Modeling*, 13(4), 497-519.

    Examples
    --------
    >>> df = pd.DataFrame({"x1": [1.0, 2.0, 3.0, 4.0], "z1": [1.0, 3.0, 2.0, 6.0]})
    >>> indprod(df, "x1", "z1")["x1.z1"].tolist()
    [1.25, -1.75, -2.25, 2.75]

    In R, ``semTools::indProd(df, "x1", "z1")$x1.z1`` gives the same.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}.")
    v1, v2 = _columns(data, var1, "var1"), _columns(data, var2, "var2")
    if match and len(v1) != len(v2):
        raise ValueError(f"match=True pairs var1 and var2 one to one, but var1 has {len(v1)} "
                         f"variables and var2 has {len(v2)}; pass lists of equal length or match=False.")
    a = data[v1].to_numpy(dtype=float)
    b = data[v2].to_numpy(dtype=float)
    if mean_center:
        a, b = a - _colmeans(a), b - _colmeans(b)
    if match:
        prod = a * b
        names = [f"{x}.{z}" for x, z in zip(v1, v2)]
    else:
        prod = np.concatenate([a[:, [i]] * b for i in range(len(v1))], axis=1)
        names = [f"{x}.{z}" for x in v1 for z in v2]
    if residual_center:
        rows = ~np.isnan(prod).any(axis=1)
        if not rows.any():
            raise ValueError("residual_center=True needs at least one row with every product observed.")
        design = np.column_stack([np.ones(rows.sum()), a[rows], b[rows]])
        coef = np.linalg.lstsq(design, prod[rows], rcond=None)[0]
        prod[rows] = prod[rows] - design @ coef
    if double_mean_center:
        prod = prod - _colmeans(prod)
    if names_prod is not None:
        names = [names_prod] if isinstance(names_prod, str) else list(names_prod)
        if len(names) != prod.shape[1]:
            raise ValueError(f"names_prod has {len(names)} names for {prod.shape[1]} product indicators.")
        if len(set(names)) != len(names):
            raise ValueError("names_prod has a name twice.")
    clash = [n for n in names if n in data.columns]
    if clash:
        raise ValueError(f"product name(s) already a column of data: {', '.join(map(str, clash))}; "
                         "rename them with names_prod.")
    return pd.concat([data, pd.DataFrame(prod, index=data.index, columns=names)], axis=1)


def _columns(data: pd.DataFrame, var, what: str) -> list:
    """``var`` as a list of known, numeric, distinct column names of ``data``."""
    names = [var] if isinstance(var, str) else list(var)
    if not names:
        raise ValueError(f"{what} names no column.")
    unknown = [v for v in names if v not in data.columns]
    if unknown:
        raise ValueError(f"{what}: column(s) not in data: {', '.join(map(str, unknown))}.")
    twice = sorted({str(v) for v in names if names.count(v) > 1})
    if twice:
        raise ValueError(f"{what} lists {', '.join(twice)} twice.")
    for v in names:
        col = data[v]
        if isinstance(col, pd.DataFrame):
            raise ValueError(f"{what}: data has more than one column named {v!r}.")
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise ValueError(f"Column {v!r} is not numeric (dtype {col.dtype}).")
    return names


def _colmeans(x: np.ndarray) -> np.ndarray:
    """Column means over the observed values (R's ``colMeans(x, na.rm = TRUE)``; NaN if none)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=0)
