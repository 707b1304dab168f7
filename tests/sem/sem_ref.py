"""Helpers of the SEM-core tests: model texts and lavaan reference readers.

The reference values were recorded by ``tests/reference/lavaan_reference.R``
(lavaan 0.6.14; its printed output is ``tests/reference/lavaan_reference.Rout``)
and, for the extra ML cases, by ``tests/sem/lavaan_ml_extra.R`` (output in
``tests/sem/lavaan_ml_extra.Rout``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


REF = Path(__file__).resolve().parents[1] / "reference"
EXTRA = Path(__file__).resolve().parent / "reference"

HS_MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""

PD_MODEL = """
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"""

NUMERIC = ["est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all"]


def read_estimates(path: Path) -> pd.DataFrame:
    """A reference estimates CSV with empty strings kept for rhs/label."""
    df = pd.read_csv(path, dtype={"lhs": str, "op": str, "rhs": str, "label": str},
                     keep_default_na=False, na_values={c: [""] for c in NUMERIC})
    return df


def read_fit(path: Path) -> pd.Series:
    return pd.read_csv(path).set_index("measure")["value"]


def assert_estimates_match(ours: pd.DataFrame, ref: pd.DataFrame, *, atol_est=1e-3,
                           atol_se=1e-3, atol_std=1e-3):
    """Every reference row must be found, and est/se/std_all must match.

    Rows are matched on ``lhs, op, rhs, group``; NaN in the reference (e.g.
    ``z`` of a fixed parameter) must be NaN in ours too.
    """
    key = ["lhs", "op", "rhs", "group"]
    assert not ours.duplicated(key).any(), "duplicated parameter rows"
    m = ref.merge(ours, on=key, how="left", suffixes=("_ref", ""), indicator=True)
    missing = m[m["_merge"] != "both"]
    assert missing.empty, f"reference rows not found:\n{missing[key]}"
    assert len(ours) == len(ref), f"{len(ours)} rows, lavaan has {len(ref)}"
    bad = []
    for col, tol in (("est", atol_est), ("se", atol_se), ("std_all", atol_std)):
        a, b = m[col].to_numpy(float), m[col + "_ref"].to_numpy(float)
        both_nan = np.isnan(a) & np.isnan(b)
        ok = both_nan | (np.abs(a - b) <= tol)
        for i in np.flatnonzero(~ok):
            bad.append(f"{m.loc[i, 'lhs']} {m.loc[i, 'op']} {m.loc[i, 'rhs']} "
                       f"(group {m.loc[i, 'group']}) {col}: ours {a[i]:.6f}, lavaan {b[i]:.6f}")
    assert not bad, "mismatches:\n" + "\n".join(bad)
    labels_ref = m["label_ref"].fillna("")
    assert (labels_ref == m["label"]).all(), "labels differ"
