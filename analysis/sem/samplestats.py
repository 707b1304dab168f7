"""Sample statistics per group: N, means and covariances (divisor N).

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36 (``likelihood =
   "normal"``: covariances with divisor N).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

__all__ = ["SampleStats", "sample_stats"]


@dataclass(frozen=True)
class SampleStats:
    """Per-group sample statistics.

    Attributes
    ----------
    ov_names : list of str
        Column order of every matrix.
    group_labels : list
        Group values in order of first appearance in the data (lavaan's
        order); ``[None]`` for a single group.
    nobs : list of int
        Rows used per group.
    cov : list of ndarray
        Covariance matrices with divisor N.
    mean : list of ndarray
        Mean vectors.
    data : list of ndarray
        The rows used (NaN kept only with ``missing="fiml"``).
    n_dropped : int
        Rows removed by listwise deletion (or because the group is missing).
    missing : str
        ``"listwise"`` or ``"fiml"``.
    weights : list of ndarray or None
        Sampling weights of the rows of ``data`` per group, normalised to sum
        to the total number of rows used (lavaan's ``sampling.weights`` with
        ``sampling.weights.normalization = "total"``); ``nobs`` is then the
        sum of the weights of each group and ``cov``/``mean`` are weighted.
    """

    ov_names: list
    group_labels: list
    nobs: list
    cov: list
    mean: list
    data: list
    n_dropped: int = 0
    missing: str = "listwise"
    weights: list | None = None

    @property
    def ntotal(self) -> int:
        """Total number of observations used."""
        return int(round(sum(self.nobs)))

    @property
    def ngroups(self) -> int:
        """Number of groups."""
        return len(self.nobs)

    def with_moments(self, cov, mean, nobs=None) -> "SampleStats":
        """A copy with new moments (the raw rows are dropped).

        Parameters
        ----------
        cov, mean : list of ndarray
        nobs : list of int, optional
        """
        return replace(self, cov=[np.asarray(c, float) for c in cov],
                       mean=[np.asarray(m, float) for m in mean],
                       nobs=list(self.nobs if nobs is None else nobs), data=[], weights=None)


def _moments(x: np.ndarray, w: np.ndarray | None = None):
    """Mean and covariance with divisor N (weighted: R's ``cov.wt(method = "ML")``)."""
    if w is None:
        mean = x.mean(axis=0)
        xc = x - mean
        return mean, xc.T @ xc / x.shape[0]
    share = w / w.sum()
    mean = share @ x
    xc = x - mean
    return mean, (xc * share[:, None]).T @ xc


def _weight_column(data: pd.DataFrame, weights: str) -> np.ndarray:
    """The sampling-weight column, checked as lavaan checks it."""
    if weights not in data.columns:
        raise ValueError(f"The sampling-weight column {weights!r} is not in the data.")
    col = data[weights]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise ValueError(f"The sampling-weight column {weights!r} is not numeric (dtype {col.dtype}).")
    w = col.to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(w))
    if bad.size:
        raise ValueError(f"The sampling-weight column {weights!r} has {bad.size} missing or infinite "
                         f"value(s) (first at data row {int(bad[0]) + 1}); every row needs a weight.")
    bad = np.flatnonzero(w < 0)
    if bad.size:
        raise ValueError(f"The sampling-weight column {weights!r} has {bad.size} negative value(s) "
                         f"(first at data row {int(bad[0]) + 1}).")
    return w


def sample_stats(data: pd.DataFrame, ov_names: list, *, group: str | None = None,
                 missing: str = "listwise", weights: str | None = None) -> SampleStats:
    """Compute the sample statistics a model needs.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per case; the columns ``ov_names`` must be numeric.
    ov_names : list of str
        Observed variables of the model.
    group : str, optional
        Column whose values define the groups.
    missing : {"listwise", "fiml"}
        ``"listwise"`` drops rows with any missing value in ``ov_names``;
        ``"fiml"`` keeps rows with at least one observed value (the moments
        are then pairwise-complete starting values only).
    weights : str, optional
        Column of sampling weights (lavaan's ``sampling.weights``): no
        missing or negative values; the weights of the rows used are
        normalised to sum to their number (over all groups) and the moments
        are weighted (:attr:`SampleStats.weights`; with FIML the moments here
        are starting values and the weights enter the pattern statistics).

    Returns
    -------
    SampleStats

    Notes
    -----
    :math:`\\bar x = \\frac1N\\sum_i x_i`, :math:`S = \\frac1N\\sum_i (x_i -
    \\bar x)(x_i - \\bar x)^\\top` (lavaan's ``likelihood = "normal"`` [1]_).

    References
    ----------
    .. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
       modeling. Journal of Statistical Software, 48(2), 1-36.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame.")
    missing_cols = [v for v in ov_names if v not in data.columns]
    if missing_cols:
        raise ValueError(
            f"The model uses variables that are not columns of the data: {missing_cols}."
        )
    for v in ov_names:
        if not (pd.api.types.is_numeric_dtype(data[v]) or pd.api.types.is_bool_dtype(data[v])):
            raise ValueError(f"Column {v!r} is not numeric (dtype {data[v].dtype}).")
    if missing not in ("listwise", "fiml", "ml"):
        raise ValueError(f"missing must be 'listwise' or 'fiml', not {missing!r}.")
    missing = "fiml" if missing == "ml" else missing
    n0 = len(data)
    if group is not None:
        if group not in data.columns:
            raise ValueError(f"The group column {group!r} is not in the data.")
        keep = data[group].notna().to_numpy()
        frame = data.loc[keep]
        labels = list(pd.unique(frame[group]))
    else:
        frame = data
        labels = [None]
    x_all = frame[list(ov_names)].to_numpy(dtype=float)
    gcol = frame[group].to_numpy() if group is not None else None
    if weights is not None:
        w_all = _weight_column(frame, weights)
        # the rows used: complete rows (listwise), rows with any value (FIML)
        used_rows = (~np.isnan(x_all).any(axis=1)) if missing == "listwise" else (~np.isnan(x_all).all(axis=1))
        w_used = w_all[used_rows]
        if not w_used.sum() > 0:
            raise ValueError(f"The sampling weights of the rows used ({weights!r}) sum to zero.")
        w_all = w_all / w_used.sum() * used_rows.sum()  # lavaan: normalised to the total N
    nobs, covs, means, rows, wts = [], [], [], [], []
    used = 0
    for lab in labels:
        x = x_all if group is None else x_all[gcol == lab]
        if missing == "listwise":
            keep_rows = ~np.isnan(x).any(axis=1)
            x = x[keep_rows]
            if x.shape[0] < 2:
                raise ValueError(
                    f"Group {lab!r} has fewer than 2 complete rows." if group else
                    "Fewer than 2 complete rows in the data."
                )
            w = None
            if weights is not None:
                w = (w_all if group is None else w_all[gcol == lab])[keep_rows]
                wts.append(w)
            mean, cov = _moments(x, w)
        else:
            keep_rows = ~np.isnan(x).all(axis=1)
            x = x[keep_rows]
            if weights is not None:
                wts.append((w_all if group is None else w_all[gcol == lab])[keep_rows])
            mean = np.nanmean(x, axis=0)
            frame_g = pd.DataFrame(x)
            cov = frame_g.cov(min_periods=2).to_numpy() * (x.shape[0] - 1) / x.shape[0]
            cov = np.where(np.isnan(cov), 0.0, cov)
            np.fill_diagonal(cov, np.where(np.diag(cov) > 0, np.diag(cov), 1.0))
        used += x.shape[0]
        nobs.append(int(x.shape[0]) if weights is None else float(wts[-1].sum()))
        covs.append(cov)
        means.append(mean)
        rows.append(x)
    return SampleStats(ov_names=list(ov_names), group_labels=labels, nobs=nobs, cov=covs,
                       mean=means, data=rows, n_dropped=int(n0 - used), missing=missing,
                       weights=wts if weights is not None else None)
