"""Item descriptives for Likert items and a stacked-bar distribution plot.

Data first, columns by name (pingouin style): ``item_descriptives(data,
items=[...])`` returns one tidy row per item.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["item_descriptives", "skewness", "kurtosis", "plot_item_distributions"]


def _select(data: pd.DataFrame, items) -> pd.DataFrame:
    """Return the numeric item columns of ``data`` as float, checking names."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    items = list(data.columns) if items is None else list(items)
    missing = [c for c in items if c not in data.columns]
    if missing:
        raise ValueError(f"items not found in the data: {', '.join(map(str, missing))}")
    frame = data[items]
    bad = [c for c in items if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(f"items must be numeric; not numeric: {', '.join(map(str, bad))}")
    return frame.astype(float)


def skewness(x, type: int = 2) -> float:
    """Sample skewness of ``x`` (NaN removed).

    Parameters
    ----------
    x : array-like
        Values.
    type : {1, 2, 3}
        Estimator, as in ``e1071::skewness`` and ``psych::describe``.

    Returns
    -------
    float
        NaN when fewer than 3 values (type 2) or zero variance.

    Notes
    -----
    With :math:`m_r = \\frac1n\\sum (x_i-\\bar x)^r` and :math:`g_1 = m_3/m_2^{3/2}`:
    type 1 is :math:`g_1`; type 2 (SAS, SPSS) is
    :math:`G_1 = g_1\\sqrt{n(n-1)}/(n-2)`; type 3 (psych's default) is
    :math:`b_1 = g_1\\,((n-1)/n)^{3/2}`.

    References
    ----------
    .. [1] Joanes, D. N., & Gill, C. A. (1998). Comparing measures of sample
       skewness and kurtosis. *The Statistician*, 47(1), 183-189.

    Examples
    --------
    >>> round(skewness([1, 2, 3, 10], type=1), 4)
    1.0182
    """
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if type not in (1, 2, 3):
        raise ValueError("type must be 1, 2 or 3")
    if n < 3:
        return float("nan")
    d = x - x.mean()
    m2, m3 = np.mean(d**2), np.mean(d**3)
    if m2 == 0:
        return float("nan")
    g1 = m3 / m2**1.5
    if type == 1:
        return float(g1)
    if type == 2:
        return float(g1 * np.sqrt(n * (n - 1)) / (n - 2))
    return float(g1 * ((n - 1) / n) ** 1.5)


def kurtosis(x, type: int = 2) -> float:
    """Sample excess kurtosis of ``x`` (NaN removed).

    Parameters
    ----------
    x : array-like
        Values.
    type : {1, 2, 3}
        Estimator, as in ``e1071::kurtosis`` and ``psych::describe``.

    Returns
    -------
    float
        Excess kurtosis (0 for a normal distribution); NaN when fewer than
        4 values (type 2) or zero variance.

    Notes
    -----
    With :math:`g_2 = m_4/m_2^2 - 3`: type 1 is :math:`g_2`; type 2 (SAS,
    SPSS) is :math:`G_2 = ((n+1)g_2 + 6)(n-1)/((n-2)(n-3))`; type 3 (psych's
    default) is :math:`b_2 = (g_2+3)(1-1/n)^2 - 3`.

    References
    ----------
    .. [1] Joanes, D. N., & Gill, C. A. (1998). Comparing measures of sample
       skewness and kurtosis. *The Statistician*, 47(1), 183-189.

    Examples
    --------
    >>> round(kurtosis([1, 2, 3, 4, 5], type=1), 4)
    -1.3
    """
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if type not in (1, 2, 3):
        raise ValueError("type must be 1, 2 or 3")
    if n < 4:
        return float("nan")
    d = x - x.mean()
    m2, m4 = np.mean(d**2), np.mean(d**4)
    if m2 == 0:
        return float("nan")
    g2 = m4 / m2**2 - 3.0
    if type == 1:
        return float(g2)
    if type == 2:
        return float(((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3)))
    return float((g2 + 3) * (1 - 1 / n) ** 2 - 3)


def item_descriptives(data: pd.DataFrame, items=None, *, points: int = 5, type: int = 2) -> pd.DataFrame:
    """Descriptive statistics of Likert items, one row per item.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; items coded 1..``points``, NaN for missing.
    items : list of str, optional
        Item columns (default: all columns).
    points : int
        Number of answer categories (5 for a five-point scale).
    type : {1, 2, 3}
        Skewness/kurtosis estimator (:func:`skewness`); 2 is the SPSS/SAS one.

    Returns
    -------
    pandas.DataFrame
        Columns ``item, n, missing, mean, sd, skew, kurtosis, min, max`` and
        ``p1 .. p<points>``, the proportion of the non-missing answers in each
        category (a row's proportions sum to 1 when all answers are in range).

    Notes
    -----
    ``sd`` uses the :math:`n-1` denominator; ``kurtosis`` is excess kurtosis.

    References
    ----------
    .. [1] Revelle, W. (2022). *psych: Procedures for psychological,
       psychometric, and personality research* (``describe``). R package 2.2.9.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2, 2, 5], "b": [3, 3, None, 4]})
    >>> item_descriptives(df)[["item", "n", "missing", "mean", "p2"]]
      item  n  missing      mean   p2
    0    a  4        0  2.500000  0.5
    1    b  3        1  3.333333  0.0
    """
    frame = _select(data, items)
    if int(points) < 2:
        raise ValueError("points must be at least 2")
    rows = []
    for code in frame.columns:
        x = frame[code].to_numpy()
        ok = x[~np.isnan(x)]
        n = ok.size
        row = {
            "item": str(code),
            "n": int(n),
            "missing": int(x.size - n),
            "mean": float(ok.mean()) if n else np.nan,
            "sd": float(ok.std(ddof=1)) if n > 1 else np.nan,
            "skew": skewness(ok, type=type),
            "kurtosis": kurtosis(ok, type=type),
            "min": float(ok.min()) if n else np.nan,
            "max": float(ok.max()) if n else np.nan,
        }
        for k in range(1, int(points) + 1):
            row[f"p{k}"] = float(np.mean(ok == k)) if n else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def plot_item_distributions(data: pd.DataFrame, items=None, *, points: int = 5,
                            item_labels=None, category_labels=None, title=None, note=None):
    """Stacked horizontal bars of the answer categories of each item.

    Parameters
    ----------
    data : pandas.DataFrame
        Items coded 1..``points``.
    items : list of str, optional
        Items to show, top to bottom (default: all columns).
    points : int
        Number of categories.
    item_labels : dict, optional
        Item code -> label shown on the y axis (default: the code).
    category_labels : list of str, optional
        Legend labels of the categories (e.g. "1 非常不同意 Strongly disagree").
    title : str, optional
        Figure title.
    note : str, optional
        A note printed under the axis (e.g. the synthetic-data label).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (save it with ``analysis.study.style.save_figure``).

    Notes
    -----
    Bars show the proportion of the non-missing answers in each category, as
    in :func:`item_descriptives` ``p1 .. p<points>``. Call
    ``analysis.study.style.use()`` first for Chinese labels.

    References
    ----------
    .. [1] Robbins, N. B., & Heiberger, R. M. (2011). Plotting Likert and
       other rating scales. *Proceedings of the Survey Research Methods
       Section*, American Statistical Association, 1058-1066.
    """
    import matplotlib.pyplot as plt

    desc = item_descriptives(data, items, points=points)
    props = desc[[f"p{k}" for k in range(1, points + 1)]].to_numpy()
    labels = [(item_labels or {}).get(c, c) for c in desc["item"]]
    if category_labels is None:
        category_labels = [str(k) for k in range(1, points + 1)]
    if len(category_labels) != points:
        raise ValueError(f"category_labels needs {points} labels, got {len(category_labels)}")
    colors = plt.get_cmap("RdYlBu")(np.linspace(0.1, 0.9, points))
    height = max(2.0, 0.22 * len(labels) + 1.2)
    fig, ax = plt.subplots(figsize=(8.5, height))
    y = np.arange(len(labels))[::-1]
    left = np.zeros(len(labels))
    for k in range(points):
        ax.barh(y, props[:, k], left=left, height=0.8, color=colors[k], edgecolor="white",
                linewidth=0.5, label=category_labels[k])
        left += props[:, k]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.set_xlim(0, 1)
    ax.margins(0)
    ax.set_xlabel("比例 Proportion")
    ax.legend(ncol=min(points, 3), loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8,
              frameon=False)
    if title:
        fig.suptitle(title, y=1.0, va="bottom")
    if note:
        ax.annotate(note, xy=(0, 0), xycoords="axes fraction", xytext=(0, -40),
                    textcoords="offset points", fontsize=7, va="top", color="0.3")
    fig.tight_layout()
    return fig
