"""Screening statistics for careless responding, data first.

Each function takes a DataFrame (rows = respondents) and the columns to use,
and returns a Series or DataFrame aligned on the input's index; none drops a
row.  The study's ``screen`` step combines them into flags.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "longstring",
    "mahalanobis",
    "duplicated_responses",
    "attention_failed",
    "too_fast",
    "classification_accuracy",
]


def _columns(data: pd.DataFrame, items) -> list:
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame")
    cols = list(data.columns) if items is None else list(items)
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"columns not in data: {', '.join(map(str, missing))}")
    if not cols:
        raise ValueError("no columns to screen")
    return cols


def longstring(data: pd.DataFrame, items=None) -> pd.Series:
    """Longest run of identical consecutive answers per respondent.

    Parameters
    ----------
    data : DataFrame
    items : list of str, optional
        Columns in questionnaire order (default: all columns).

    Returns
    -------
    Series of int
        Named ``longstring``, indexed like ``data``.  A missing answer ends
        a run and starts none (0 for a row with no answers).

    Notes
    -----
    The longstring index [1]_ is :math:`\\max_k L_k`, the length of the
    longest sequence of equal consecutive responses; straight-lining gives a
    value equal to the number of items.

    References
    ----------
    .. [1] Johnson, J. A. (2005). Ascertaining the validity of individual
       protocols from Web-based personality inventories. *Journal of
       Research in Personality*, 39(1), 103-129.

    Examples
    --------
    >>> import pandas as pd
    >>> longstring(pd.DataFrame([[1, 1, 2, 2, 2], [3, 3, None, 3, 3]])).tolist()
    [3, 2]
    """
    cols = _columns(data, items)
    x = data[cols].to_numpy(dtype=float)
    n, k = x.shape
    best = np.where(np.isnan(x[:, 0]), 0, 1)
    run = best.copy()
    for j in range(1, k):
        same = (x[:, j] == x[:, j - 1]) & ~np.isnan(x[:, j])
        run = np.where(same, run + 1, np.where(np.isnan(x[:, j]), 0, 1))
        best = np.maximum(best, run)
    return pd.Series(best.astype(int), index=data.index, name="longstring")


def mahalanobis(data: pd.DataFrame, items=None, reference=None) -> pd.DataFrame:
    """Squared Mahalanobis distance of each respondent from the centroid, with a chi-square p-value.

    Parameters
    ----------
    data : DataFrame
    items : list of str, optional
        Columns to use (default: all).
    reference : array-like of bool, optional
        Rows that estimate the mean vector and covariance matrix (default:
        all rows).  Distances are computed for every row.

    Returns
    -------
    DataFrame
        Indexed like ``data``; columns ``d2`` (squared distance), ``df``
        (number of answered items) and ``pvalue`` (upper tail of
        :math:`\\chi^2_{df}`).  Rows without answers get NaN.

    Notes
    -----
    :math:`D^2_i = (x_i-\\bar x)^\\top S^{-1} (x_i-\\bar x)`, compared with
    :math:`\\chi^2_p` [1]_.  With missing answers a row uses its observed
    items and the matching sub-block of :math:`S`; :math:`\\bar x` and
    :math:`S` come from the reference rows (pairwise-complete covariances,
    divisor :math:`n-1`, as R's ``cov(use = "pairwise")``).  In R:
    ``mahalanobis(x, colMeans(x), cov(x))`` and
    ``pchisq(d2, df = ncol(x), lower.tail = FALSE)``.

    References
    ----------
    .. [1] Mahalanobis, P. C. (1936). On the generalised distance in
       statistics. *Proceedings of the National Institute of Sciences of
       India*, 2, 49-55.
    """
    cols = _columns(data, items)
    x = data[cols].to_numpy(dtype=float)
    ref = np.ones(len(x), bool) if reference is None else np.asarray(reference, bool)
    if ref.shape != (len(x),):
        raise ValueError("reference must be one boolean per row of data")
    if ref.sum() <= len(cols):
        raise ValueError(f"need more reference rows ({int(ref.sum())}) than items ({len(cols)}) to estimate a covariance matrix")
    ref_frame = pd.DataFrame(x[ref], columns=cols)
    mean = ref_frame.mean().to_numpy()
    cov = ref_frame.cov().to_numpy()
    if not np.all(np.isfinite(cov)):
        raise ValueError("the covariance matrix has undefined entries (a pair of items is never answered together)")
    d2 = np.full(len(x), np.nan)
    obs = ~np.isnan(x)
    patterns, inverse = np.unique(obs, axis=0, return_inverse=True)
    for p, pattern in enumerate(patterns):
        rows = np.flatnonzero(inverse.ravel() == p)
        if not pattern.any():
            continue
        sub = cov[np.ix_(pattern, pattern)]
        dev = x[np.ix_(rows, np.flatnonzero(pattern))] - mean[pattern]
        try:
            sol = np.linalg.solve(sub, dev.T)
        except np.linalg.LinAlgError:
            sol = np.linalg.pinv(sub) @ dev.T
        d2[rows] = np.einsum("ij,ji->i", dev, sol)
    dfree = obs.sum(axis=1).astype(float)
    dfree[dfree == 0] = np.nan
    p = stats.chi2.sf(d2, dfree)
    return pd.DataFrame({"d2": d2, "df": dfree, "pvalue": p}, index=data.index)


def duplicated_responses(data: pd.DataFrame, columns=None) -> pd.DataFrame:
    """Rows that repeat an earlier row exactly on ``columns``.

    Parameters
    ----------
    data : DataFrame
    columns : list of str, optional
        Columns compared (default: all).  Missing values compare equal.

    Returns
    -------
    DataFrame
        Indexed like ``data``; columns ``duplicate`` (bool: True for the
        second and later copies, the first copy is kept) and
        ``duplicate_of`` (index label of the first copy, or None).

    Notes
    -----
    Two rows duplicate each other when every compared value is equal [1]_;
    comparing answers together with context variables separates a repeated
    submission from two straight-liners who happen to agree.

    References
    ----------
    .. [1] Curran, P. G. (2016). Methods for the detection of carelessly
       invalid responses in survey data. *Journal of Experimental Social
       Psychology*, 66, 4-19.

    Examples
    --------
    >>> import pandas as pd
    >>> duplicated_responses(pd.DataFrame({"a": [1, 2, 1], "b": [3, 4, 3]}))["duplicate_of"].tolist()
    [None, None, 0]
    """
    cols = _columns(data, columns)
    key = data[cols].astype("object").where(data[cols].notna(), "\x00NA").astype(str).agg("\x1f".join, axis=1)
    first = {}
    dup, of = [], []
    for label, k in zip(data.index, key):
        if k in first:
            dup.append(True)
            of.append(first[k])
        else:
            first[k] = label
            dup.append(False)
            of.append(None)
    return pd.DataFrame({"duplicate": dup, "duplicate_of": pd.Series(of, index=data.index, dtype="object")},
                        index=data.index)


def attention_failed(data: pd.DataFrame, column: str, correct) -> pd.Series:
    """True where the attention-check answer is not the instructed one (missing counts as failed).

    Returns
    -------
    Series of bool
        Named ``attention_failed``.

    References
    ----------
    .. [1] Meade, A. W., & Craig, S. B. (2012). Identifying careless
       responses in survey data. *Psychological Methods*, 17(3), 437-455.

    Examples
    --------
    >>> import pandas as pd
    >>> attention_failed(pd.DataFrame({"ATTN": [4, 2, None]}), "ATTN", 4).tolist()
    [False, True, True]
    """
    _columns(data, [column])
    return pd.Series(~(data[column] == correct).fillna(False).astype(bool), index=data.index, name="attention_failed")


def too_fast(duration, min_seconds: float) -> pd.Series:
    """True where the completion time is below ``min_seconds`` (unknown time: False).

    Returns
    -------
    Series of bool
        Named ``too_fast``.

    References
    ----------
    .. [1] Huang, J. L., Curran, P. G., Keeney, J., Poposki, E. M., &
       DeShon, R. P. (2012). Detecting and deterring insufficient effort
       responding to surveys. *Journal of Business and Psychology*, 27, 99-114.
    """
    if min_seconds is None or float(min_seconds) < 0:
        raise ValueError("min_seconds must be a non-negative number of seconds")
    d = pd.Series(duration, dtype=float)
    return pd.Series((d < float(min_seconds)).to_numpy(), index=d.index, name="too_fast")


def classification_accuracy(flags: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity and specificity of each screening rule against known truth.

    Parameters
    ----------
    flags : DataFrame
        One boolean column per rule (True = flagged).
    targets : DataFrame
        The same columns: True where the rule *should* flag.  Aligned with
        ``flags`` on the index.

    Returns
    -------
    DataFrame
        One row per rule; columns ``rule, tp, fp, fn, tn, sensitivity,
        specificity`` (NaN when undefined).

    Notes
    -----
    sensitivity :math:`= TP/(TP+FN)`, specificity :math:`= TN/(TN+FP)` [1]_.

    References
    ----------
    .. [1] Altman, D. G., & Bland, J. M. (1994). Diagnostic tests 1:
       sensitivity and specificity. *BMJ*, 308, 1552.
    """
    missing = [c for c in flags.columns if c not in targets.columns]
    if missing:
        raise ValueError(f"no truth for rule(s): {', '.join(missing)}")
    idx = flags.index.intersection(targets.index)
    rows = []
    for rule in flags.columns:
        f = flags.loc[idx, rule].astype(bool).to_numpy()
        t = targets.loc[idx, rule].astype(bool).to_numpy()
        tp, fp = int((f & t).sum()), int((f & ~t).sum())
        fn, tn = int((~f & t).sum()), int((~f & ~t).sum())
        rows.append((rule, tp, fp, fn, tn, tp / (tp + fn) if tp + fn else np.nan,
                     tn / (tn + fp) if tn + fp else np.nan))
    return pd.DataFrame(rows, columns=["rule", "tp", "fp", "fn", "tn", "sensitivity", "specificity"])
