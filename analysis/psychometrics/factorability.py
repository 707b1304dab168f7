"""Is a correlation matrix worth factoring? KMO and Bartlett's test of sphericity."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .descriptives import _select

__all__ = ["correlation_matrix", "kmo", "bartlett_sphericity"]


def correlation_matrix(data: pd.DataFrame, items=None) -> pd.DataFrame:
    """Pearson correlations of the items, pairwise-complete (as ``psych``'s default).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    items : list of str, optional
        Item columns (default: all columns).

    Returns
    -------
    pandas.DataFrame
        Square, symmetric, items as index and columns.

    Raises
    ------
    ValueError
        If a pair of items has no common observations or an item is constant.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2, 3], "b": [2, 4, 7]})
    >>> round(float(correlation_matrix(df).loc["a", "b"]), 4)
    0.9934
    """
    frame = _select(data, items)
    r = frame.corr(method="pearson", min_periods=2)
    if r.isna().to_numpy().any():
        bad = sorted({str(c) for c in r.columns[r.isna().any(axis=0)]})
        raise ValueError(
            "cannot correlate items (constant, or no pairs of answers): " + ", ".join(bad)
        )
    return r


def _as_corr(data, items):
    r = correlation_matrix(data, items)
    return r, r.to_numpy()


def kmo(data: pd.DataFrame, items=None) -> pd.DataFrame:
    """Kaiser-Meyer-Olkin measure of sampling adequacy, per item and overall.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent (missing values handled pairwise).
    items : list of str, optional
        Item columns (default: all columns).

    Returns
    -------
    pandas.DataFrame
        Columns ``item, msa``: one row per item, then a last row with
        ``item == "overall"``.

    Notes
    -----
    With correlations :math:`r_{ij}` and anti-image (partial) correlations
    :math:`a_{ij} = -q_{ij}/\\sqrt{q_{ii}q_{jj}}`, :math:`Q = R^{-1}`:

    .. math:: MSA_i = \\frac{\\sum_{j\\ne i} r_{ij}^2}{\\sum_{j\\ne i} r_{ij}^2 + \\sum_{j\\ne i} a_{ij}^2},

    and the overall KMO sums over all :math:`i \\ne j`. Kaiser's labels: .90
    marvelous, .80 meritorious, .70 middling, .60 mediocre, .50 miserable.
    Equals ``psych::KMO(cor(x))``.

    References
    ----------
    .. [1] Kaiser, H. F. (1970). A second generation little jiffy.
       *Psychometrika*, 35(4), 401-415.
    .. [2] Kaiser, H. F., & Rice, J. (1974). Little jiffy, mark IV.
       *Educational and Psychological Measurement*, 34(1), 111-117.
    """
    r_df, r = _as_corr(data, items)
    try:
        q = np.linalg.inv(r)
    except np.linalg.LinAlgError as exc:
        raise ValueError("the correlation matrix is singular: drop redundant items") from exc
    d = np.sqrt(np.diag(q))
    a = -q / np.outer(d, d)
    off = ~np.eye(len(r), dtype=bool)
    r2 = np.where(off, r**2, 0.0)
    a2 = np.where(off, a**2, 0.0)
    msa = r2.sum(axis=0) / (r2.sum(axis=0) + a2.sum(axis=0))
    overall = r2.sum() / (r2.sum() + a2.sum())
    return pd.DataFrame({"item": [str(c) for c in r_df.columns] + ["overall"],
                         "msa": np.append(msa, overall)})


def bartlett_sphericity(data: pd.DataFrame, items=None, *, n=None) -> pd.DataFrame:
    """Bartlett's test that the correlation matrix is an identity matrix.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    items : list of str, optional
        Item columns (default: all columns).
    n : int, optional
        Sample size used in the statistic (default: number of rows).

    Returns
    -------
    pandas.DataFrame
        One row, columns ``chisq, df, pvalue, n``.

    Notes
    -----
    .. math:: \\chi^2 = -\\left(n - 1 - \\frac{2p+5}{6}\\right)\\ln|R|,
              \\qquad df = p(p-1)/2.

    Equals ``psych::cortest.bartlett(cor(x), n = nrow(x))``.

    References
    ----------
    .. [1] Bartlett, M. S. (1951). The effect of standardization on a chi
       square approximation in factor analysis. *Biometrika*, 38, 337-344.
    """
    r_df, r = _as_corr(data, items)
    n = len(data) if n is None else int(n)
    p = r.shape[0]
    sign, logdet = np.linalg.slogdet(r)
    if sign <= 0:
        raise ValueError("the correlation matrix is not positive definite")
    chisq = -(n - 1 - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) / 2
    return pd.DataFrame({"chisq": [chisq], "df": [df], "pvalue": [stats.chi2.sf(chisq, df)], "n": [n]})
