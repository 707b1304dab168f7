"""Write ``tests/reference/data/twolevel_paths.csv`` (seeded, synthetic).

A two-level mediation data set for the lavaan reference
``tests/reference/lavaan_twolevel.R`` (case ``twolevel_paths``): 60 clusters
of 10-30 members; six observed variables ``x, m1..m4, y`` with a within and
a between component each (the shape of the study's PL -> GRID, RES, ORG,
LIST -> CR model by community), and 8 rows with one missing value (dropped
listwise by lavaan and by the core).

Run from the repository root::

    .venv/bin/python tests/reference/make_twolevel_paths.py

The file is committed; tests read the CSV (R fits exactly those numbers).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240611
OUT = Path(__file__).resolve().parent / "data" / "twolevel_paths.csv"


def make(seed: int = SEED) -> pd.DataFrame:
    """The data set: columns ``cluster, x, m1, m2, m3, m4, y``.

    Within (member) level: ``m_k = a_k x + e``, ``y = sum_k b_k m_k + c x + e``
    with correlated mediator residuals; between (cluster) level: the same
    paths with other coefficients and larger residual variances.
    """
    rng = np.random.default_rng(seed)
    n_cl = 60
    sizes = rng.integers(10, 31, size=n_cl)
    a_w, b_w, c_w = np.array([0.5, 0.4, 0.3, 0.2]), np.array([0.3, 0.2, 0.25, 0.15]), 0.1
    a_b, b_b = np.array([0.6, 0.5, 0.2, 0.4]), np.array([0.4, 0.3, 0.1, 0.2])
    psi_w = 0.6 * np.eye(4) + 0.15
    rows = []
    for j, n in enumerate(sizes):
        xb = rng.normal(scale=0.6)
        mb = a_b * xb + rng.normal(scale=0.35, size=4)
        yb = mb @ b_b + 0.05 * xb + rng.normal(scale=0.3)
        xw = rng.normal(size=n)
        mw = np.outer(xw, a_w) + rng.multivariate_normal(np.zeros(4), psi_w, size=n)
        yw = mw @ b_w + c_w * xw + rng.normal(scale=0.7, size=n)
        x = 3.0 + xb + xw
        m = np.array([3.2, 3.0, 2.8, 3.1]) + mb + mw
        y = 2.5 + yb + yw
        for i in range(n):
            rows.append([j + 1, x[i], *m[i], y[i]])
    df = pd.DataFrame(rows, columns=["cluster", "x", "m1", "m2", "m3", "m4", "y"])
    cols = ["x", "m1", "m2", "m3", "m4", "y"]
    df[cols] = df[cols].round(4)
    miss = rng.choice(len(df), size=8, replace=False)
    for r in miss:
        df.loc[r, cols[int(rng.integers(0, 6))]] = np.nan
    return df


if __name__ == "__main__":
    d = make()
    d.to_csv(OUT, index=False, na_rep="")
    print(f"{OUT}: {len(d)} rows, {d['cluster'].nunique()} clusters, "
          f"{int(d.isna().any(axis=1).sum())} rows with a missing value")
