"""Clustering of respondents in communities: ICC(1), design effect, effective n."""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["icc1", "design_effect", "cluster_summary"]


def _groups(data: pd.DataFrame, score: str, cluster: str):
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame")
    for c in (score, cluster):
        if c not in data.columns:
            raise ValueError(f"column {c!r} not found in the data")
    if not pd.api.types.is_numeric_dtype(data[score]):
        raise ValueError(f"score column {score!r} must be numeric")
    d = data[[score, cluster]].dropna()
    y = d[score].to_numpy(dtype=float)
    codes, _ = pd.factorize(d[cluster], sort=True)
    sizes = np.bincount(codes)
    if sizes.size < 2:
        raise ValueError("ICC(1) needs at least two clusters")
    if y.size <= sizes.size:
        raise ValueError("ICC(1) needs more observations than clusters")
    return y, codes, sizes


def icc1(data: pd.DataFrame, score: str, cluster: str) -> pd.Series:
    """ICC(1) of a score by cluster, one-way ANOVA estimator (unequal sizes).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    score : str
        Numeric column (e.g. a scale mean).
    cluster : str
        Cluster identifier column (e.g. ``community``).

    Returns
    -------
    pandas.Series
        ``icc1, msb, msw, k0, n_clusters, n, mean_size, design_effect,
        n_effective`` (rows with a missing score or cluster are dropped).

    Notes
    -----
    With between- and within-cluster mean squares :math:`MSB, MSW`, :math:`J`
    clusters of sizes :math:`n_j`, :math:`N=\\sum n_j`:

    .. math:: k_0 = \\frac{N - \\sum n_j^2/N}{J-1},\\qquad
              ICC(1) = \\frac{MSB - MSW}{MSB + (k_0-1)MSW}.

    The design effect uses the mean cluster size :math:`\\bar m = N/J`:
    :math:`1 + (\\bar m - 1)\\,ICC(1)` (:func:`design_effect`). ICC(1) can be
    negative when clusters differ less than chance.

    References
    ----------
    .. [1] Bliese, P. D. (2000). Within-group agreement, non-independence, and
       reliability. In K. J. Klein & S. W. J. Kozlowski (Eds.), *Multilevel
       theory, research, and methods in organizations* (pp. 349-381).
    .. [2] Snedecor, G. W., & Cochran, W. G. (1989). *Statistical methods*
       (8th ed.), sec. 13.7 (the :math:`k_0` multiplier).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1., 2., 3., 6., 7., 8.], "g": list("aaabbb")})
    >>> round(float(icc1(df, "y", "g")["icc1"]), 4)
    0.9241
    """
    y, codes, sizes = _groups(data, score, cluster)
    n, j = y.size, sizes.size
    means = np.bincount(codes, weights=y) / sizes
    grand = y.mean()
    ssb = float(np.sum(sizes * (means - grand) ** 2))
    ssw = float(np.sum((y - means[codes]) ** 2))
    msb, msw = ssb / (j - 1), ssw / (n - j)
    k0 = (n - np.sum(sizes**2) / n) / (j - 1)
    icc = (msb - msw) / (msb + (k0 - 1) * msw)
    m_bar = n / j
    deff = design_effect(icc, m_bar)
    return pd.Series({"icc1": icc, "msb": msb, "msw": msw, "k0": k0, "n_clusters": j, "n": n,
                      "mean_size": m_bar, "design_effect": deff, "n_effective": n / deff})


def design_effect(icc: float, mean_size: float) -> float:
    """Kish's design effect of cluster sampling.

    Parameters
    ----------
    icc : float
        Intraclass correlation.
    mean_size : float
        Mean cluster size :math:`\\bar m`.

    Returns
    -------
    float
        :math:`1 + (\\bar m - 1)\\,\\rho`; the effective sample size is
        :math:`N / \\mathrm{deff}`.

    References
    ----------
    .. [1] Kish, L. (1965). *Survey sampling*. Wiley.

    Examples
    --------
    >>> design_effect(0.05, 21)
    2.0
    """
    if mean_size < 1:
        raise ValueError("mean_size must be at least 1")
    return float(1.0 + (mean_size - 1.0) * icc)


def cluster_summary(data: pd.DataFrame, scores, cluster: str) -> pd.DataFrame:
    """ICC(1), design effect and effective sample size for several scores.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    scores : list of str
        Numeric score columns.
    cluster : str
        Cluster identifier column.

    Returns
    -------
    pandas.DataFrame
        Columns ``score, icc1, msb, msw, k0, n_clusters, n, mean_size,
        design_effect, n_effective``, one row per score.

    Notes
    -----
    Each row is :func:`icc1` of one score.

    References
    ----------
    .. [1] Bliese, P. D. (2000), see :func:`icc1`.
    """
    rows = []
    for s in scores:
        row = icc1(data, s, cluster)
        rows.append({"score": str(s), **row.to_dict()})
    return pd.DataFrame(rows)
