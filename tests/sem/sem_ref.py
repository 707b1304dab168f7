"""Helpers of the SEM-core tests: model texts and lavaan reference readers.

The reference values were recorded by ``tests/reference/lavaan_reference.R``
(lavaan 0.6.14; its printed output is ``tests/reference/lavaan_reference.Rout``)
and, for the extra ML cases, by ``tests/sem/lavaan_ml_extra.R`` (output in
``tests/sem/lavaan_ml_extra.Rout``).
"""
from __future__ import annotations

import math
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


def level_mismatches(matched: pd.DataFrame, *, est_se_share: float = 2e-3, se_rtol: float = 5e-4,
                     std_rtol: float = 1e-4, std_nan_both: bool = False) -> list[str]:
    """Rows of a two-level comparison (ours merged with lavaan's, suffix ``_ref``) that do not match.

    ``est`` within ``est_se_share`` of lavaan's standard error (+1e-9), ``se`` within ``se_rtol``
    relative, ``std_all`` within ``std_rtol`` relative plus the same share of a standard error carried
    through the ratio std_all/est. A NaN ``std_all`` in lavaan passes when ``std_nan_both`` is false, and
    only together with a NaN of ours when it is true.
    """
    bad = []
    for r in matched.itertuples(index=False):
        name = f"{r.lhs} {r.op} {r.rhs} (level {r.level})"
        if abs(r.est - r.est_ref) > est_se_share * r.se_ref + 1e-9:
            bad.append(f"{name} est: ours {r.est:.8f}, lavaan {r.est_ref:.8f}")
        if not np.isclose(r.se, r.se_ref, rtol=se_rtol, atol=1e-12):
            bad.append(f"{name} se: ours {r.se:.8f}, lavaan {r.se_ref:.8f}")
        # std_all = est * (a ratio of implied SDs): the same share of a standard error
        ratio = abs(r.std_all_ref / r.est_ref) if r.est_ref != 0 else 0.0
        tol_std = std_rtol * max(1.0, abs(r.std_all_ref)) + est_se_share * r.se_ref * ratio
        nan_ok = np.isnan(r.std_all_ref) and (np.isnan(r.std_all) or not std_nan_both)
        if not (nan_ok or abs(r.std_all - r.std_all_ref) <= tol_std):
            bad.append(f"{name} std_all: ours {r.std_all:.8f}, lavaan {r.std_all_ref:.8f}")
    return bad


def fit_mismatches(fit: dict, rfit: pd.Series, tolerances: dict) -> list[str]:
    """Fit measures outside their tolerance: ``tolerances`` maps lavaan's name to (our key, atol);
    NaN matches NaN."""
    bad = []
    for lav, (ours, tol) in tolerances.items():
        a, b = float(fit[ours]), float(rfit[lav])
        if not ((np.isnan(a) and np.isnan(b)) or abs(a - b) <= tol):
            bad.append(f"{lav}: ours {a:.10g}, lavaan {b:.10g}")
    return bad


# lavaan measures not computed by the core (no other estimator-specific formula
# hides behind them): the remaining incremental indices, the unstandardized and
# Mplus/correlation residual variants, Hoelter's N, GFI family, ECVI, WRMR, and
# the settings echoed by fitMeasures().
NOT_IMPLEMENTED = {
    "rfi", "nfi", "pnfi", "ifi", "rfi.scaled", "nfi.scaled", "pnfi.scaled", "ifi.scaled",
    "rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean",
    "srmr_mplus", "srmr_mplus_nomean", "cn_05", "cn_01", "gfi", "agfi", "pgfi", "mfi",
    "ecvi", "wrmr", "rmsea.ci.level", "rmsea.close.h0", "rmsea.notclose.h0",
    # lavaan's RNI is the CFI without its truncation at 1 (above 1 when chisq < df)
    "rni", "rni.scaled", "rni.robust",
}
RENAME = {"chisq.scaling.factor": "scaling_factor",
          "baseline.chisq.scaling.factor": "baseline_scaling_factor",
          "logl": "loglik", "unrestricted.logl": "unrestricted_loglik", "ntotal": "nobs"}


def lavaan_key(measure: str) -> str:
    """Our key of a lavaan measure (NNFI is the TLI: checked as such)."""
    if measure in RENAME:
        return RENAME[measure]
    if measure.startswith("nnfi"):
        measure = "tli" + measure[4:]
    return measure.replace(".", "_")


def _kind(measure: str) -> str:
    if measure in ("npar", "ntotal") or measure.startswith(("df", "baseline.df")):
        return "count"
    if "scaling.factor" in measure:
        return "factor"
    if measure in ("chisq", "chisq.scaled", "baseline.chisq", "baseline.chisq.scaled"):
        return "statistic"
    if measure in ("logl", "unrestricted.logl", "aic", "bic", "bic2"):
        return "loglik"
    if measure == "fmin":
        return "fmin"
    if "pvalue" in measure:
        return "pvalue"
    if measure.startswith("srmr"):
        return "srmr"
    return "index"  # cfi, tli, nnfi, rni, rmsea and its interval (each flavour)


# (rtol, atol) per quantity.  Observed worst cases: statistics and scaling
# factors 5e-7 relative (the cluster Satorra-Bentler test, computed at
# estimates that differ from lavaan's by ~1e-7), indices and p-values 1e-7
# absolute; saturated statistics are ~1e-13 on both sides (hence the atol).
TOL = {
    "count": (0.0, 0.0),
    "factor": (2e-6, 1e-9),
    "statistic": (2e-6, 1e-6),
    "loglik": (1e-9, 1e-6),
    "fmin": (1e-6, 1e-9),
    "pvalue": (0.0, 1e-6),
    "srmr": (0.0, 1e-6),
    "index": (0.0, 1e-6),
}


def measure_mismatches(ours: pd.Series, ref: pd.Series, overrides: dict | None = None) -> list:
    """Every fit measure lavaan reports, compared with ours at the tolerance of its kind (``TOL``,
    ``overrides`` maps a kind to its own (rtol, atol)); NA must match NaN; ``NOT_IMPLEMENTED`` skipped."""
    bad = []
    for measure, value in ref.items():
        if measure in NOT_IMPLEMENTED:
            continue
        key = lavaan_key(measure)
        if key not in ours.index:
            bad.append(f"{measure}: lavaan reports {value}, we have no {key!r}")
            continue
        a, b = float(ours[key]), float(value)
        if math.isnan(b) or math.isnan(a):
            if not (math.isnan(a) and math.isnan(b)):
                bad.append(f"{measure}: ours {a!r}, lavaan {b!r} (NA must match NaN)")
            continue
        kind = _kind(measure)
        rtol, atol = (overrides or {}).get(kind, TOL[kind])
        if not abs(a - b) <= atol + rtol * abs(b):
            bad.append(f"{measure} [{kind}: rtol={rtol}, atol={atol}]: ours {a:.12g}, "
                       f"lavaan {b:.12g}")
    return bad
