"""Tests for analysis.psychometrics.qca (fsQCA with the definitions of R's QCA).

Reference values come from
* the worked examples printed in the documentation of the R package QCA 3.23
  (A. Duşa, CRAN 2024-12-04): the rendered examples of ``?minimize``,
  ``?truthTable`` and ``?pof`` shipped in the package (inst/staticdocs/
  minimize.html, truthTable.html, pof.html), on the package's own data sets
  LF, LC (Lipset 1959 via Ragin 2009 / Rihoux & De Meur 2009; data/LF.rda,
  data/LC.rda) and CVF (Cebotari & Vink 2013; data/CVF.tab.gz), copied below;
  these outputs are printed to 3 decimals, hence ``abs=5e-4``;
* small cases computed by hand (arithmetic in the comments);
* analytic truths (planted configurations, brute-force minimum covers).
"""
import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.psychometrics import qca as Q
from analysis.psychometrics.qca import (
    TOL,
    calibrate_direct,
    minimize,
    necessity,
    qca,
    sufficiency,
    truth_table,
)

PUB = 5e-4  # published values are rounded to 3 decimals

LIPSET = ["DEV", "URB", "LIT", "IND", "STB"]
COUNTRIES = "AU BE CZ EE FI FR DE GR HU IE IT NL PL PT RO ES SE UK".split()

# QCA data set LF (fuzzy Lipset data), columns DEV URB LIT IND STB SURV
LF = pd.DataFrame(
    [
        [0.81, 0.12, 0.99, 0.73, 0.43, 0.05],
        [0.99, 0.89, 0.98, 1.00, 0.98, 0.95],
        [0.58, 0.98, 0.98, 0.90, 0.91, 0.89],
        [0.16, 0.07, 0.98, 0.01, 0.91, 0.12],
        [0.58, 0.03, 0.99, 0.08, 0.58, 0.77],
        [0.98, 0.03, 0.99, 0.81, 0.95, 0.95],
        [0.89, 0.79, 0.99, 0.96, 0.31, 0.05],
        [0.04, 0.09, 0.13, 0.36, 0.43, 0.06],
        [0.07, 0.16, 0.88, 0.07, 0.13, 0.42],
        [0.72, 0.05, 0.98, 0.01, 0.95, 0.92],
        [0.34, 0.10, 0.41, 0.47, 0.58, 0.05],
        [0.98, 1.00, 0.99, 0.94, 0.99, 0.95],
        [0.02, 0.17, 0.59, 0.00, 0.00, 0.12],
        [0.01, 0.02, 0.01, 0.11, 0.01, 0.05],
        [0.01, 0.03, 0.17, 0.00, 0.84, 0.21],
        [0.03, 0.30, 0.09, 0.21, 0.20, 0.06],
        [0.95, 0.13, 0.99, 0.67, 0.91, 0.95],
        [0.98, 0.99, 0.99, 1.00, 0.98, 0.95],
    ],
    index=COUNTRIES, columns=LIPSET + ["SURV"],
)

# QCA data set LC (binary crisp Lipset data)
LC = pd.DataFrame(
    [
        [1, 0, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 1, 0, 1, 0],
        [1, 0, 1, 0, 1, 1], [1, 0, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0],
        [0, 0, 1, 0, 0, 0], [1, 0, 1, 0, 1, 1], [0, 0, 0, 0, 1, 0], [1, 1, 1, 1, 1, 1],
        [0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0],
        [1, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1],
    ],
    index=COUNTRIES, columns=LIPSET + ["SURV"],
)

# QCA data set LR (raw Lipset data)
LR = pd.DataFrame(
    [
        [720, 33.4, 98, 33.4, 10, -9], [1098, 60.5, 94.4, 48.9, 4, 10],
        [586, 69, 95.9, 37.4, 6, 7], [468, 28.5, 95, 14, 6, -6],
        [590, 22, 99.1, 22, 9, 4], [983, 21.2, 96.2, 34.8, 5, 10],
        [795, 56.5, 98, 40.4, 11, -9], [390, 31.1, 59.2, 28.1, 10, -8],
        [424, 36.3, 85, 21.6, 13, -1], [662, 25, 95, 14.5, 5, 8],
        [517, 31.4, 72.1, 29.6, 9, -9], [1008, 78.8, 99.9, 39.3, 2, 10],
        [350, 37, 76.9, 11.2, 21, -6], [320, 15.3, 38, 23.1, 19, -9],
        [331, 21.9, 61.8, 12.2, 7, -4], [367, 43, 55.6, 25.5, 12, -8],
        [897, 34, 99.9, 32.3, 6, 10], [1038, 74, 99.9, 49.9, 4, 10],
    ],
    index=COUNTRIES, columns=LIPSET + ["SURV"],
)

CVF_CONDS = ["DEMOC", "ETHFRACT", "GEOCON", "POLDIS", "NATPRIDE"]
# QCA data set CVF (Cebotari & Vink 2013), columns DEMOC ETHFRACT GEOCON POLDIS NATPRIDE PROTEST
CVF = pd.DataFrame.from_records(
    [
        ("GreeksAlbania", 0.41, 0.08, 0.95, 0.88, 0.77, 0.47),
        ("LezginsAzerbaijan", 0.06, 0.14, 0.35, 0.05, 0.88, 0.7),
        ("RussiansAzerbaijan", 0.06, 0.14, 0.35, 0.24, 0.91, 0.03),
        ("PolesBelarus", 0.1, 0.32, 0.78, 0.37, 0.8, 0.03),
        ("RussiansBelarus", 0.1, 0.32, 0.35, 0.05, 0.6, 0.03),
        ("CroatsBosnia", 0.13, 0.86, 0.78, 0.05, 0.66, 0.27),
        ("MuslimsBosnia", 0.13, 0.86, 0.78, 0.05, 0.96, 0.15),
        ("SerbsBosnia", 0.13, 0.86, 0.78, 0.05, 0.87, 0.44),
        ("TurksBulgaria", 0.87, 0.23, 0.78, 0.05, 0.7, 0.47),
        ("RomaBulgaria", 0.87, 0.23, 0.05, 0.95, 0.83, 0.36),
        ("RussiansEstonia", 0.82, 0.54, 0.78, 0.8, 0.54, 0.79),
        ("RussiansGeorgia", 0.35, 0.49, 0.35, 0.11, 0.93, 0.33),
        ("SardiniansItaly", 0.96, 0.06, 0.95, 0.05, 0.86, 0.02),
        ("SouthTyrolians", 0.96, 0.06, 0.95, 0.05, 0.75, 0.36),
        ("RussiansLatvia", 0.88, 0.72, 0.35, 0.92, 0.29, 0.85),
        ("AlbaniansFYROM", 0.56, 0.59, 0.95, 0.58, 0.25, 0.85),
        ("SerbsFYROM", 0.56, 0.59, 0.78, 0.05, 0.87, 0.57),
        ("RomaFYROM", 0.56, 0.59, 0.35, 0.69, 0.95, 0.09),
        ("GagauzMoldova", 0.49, 0.54, 0.95, 0.65, 0.6, 0.73),
        ("SlavsMoldova", 0.49, 0.54, 0.35, 0.05, 0.51, 0.56),
        ("HungariansRom", 0.7, 0.23, 0.95, 0.83, 0.62, 0.59),
        ("BasquesSpain", 0.96, 0.51, 0.95, 0.05, 0.38, 0.93),
        ("CatalansSpain", 0.96, 0.51, 0.95, 0.05, 0.86, 0.56),
        ("CatholicsNIreland", 0.96, 0.26, 0.95, 0.58, 0.75, 0.89),
        ("ScotsUK", 0.96, 0.26, 0.95, 0.05, 0.88, 0.36),
        ("CrimRussiansUkr", 0.49, 0.39, 0.95, 0.05, 0.06, 0.89),
        ("RussiansUkraine", 0.49, 0.39, 0.95, 0.05, 0.34, 0.52),
        ("HungariansYugo", 0.12, 0.95, 0.95, 0.95, 0.43, 0.85),
        ("KosovoAlbanians", 0.12, 0.95, 0.95, 0.92, 0.41, 0.98),
    ],
    columns=["case"] + CVF_CONDS + ["PROTEST"], index="case",
)


def _check_terms(sol, expected):
    assert [t.term for t in sol.terms] == [e[0] for e in expected]
    for t, (_, incl, pri, cov, cov_u) in zip(sol.terms, expected):
        assert t.inclS == pytest.approx(incl, abs=PUB)
        assert t.pri == pytest.approx(pri, abs=PUB)
        assert t.covS == pytest.approx(cov, abs=PUB)
        if cov_u is None:
            assert t.covU is None
        else:
            assert t.covU == pytest.approx(cov_u, abs=PUB)


# --------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------
def test_calibrate_anchors_increasing_and_decreasing():
    got = calibrate_direct([2500.0, 20000.0, 1000.0], 2500, 5000, 20000)
    assert got[:2] == pytest.approx([0.05, 0.95], abs=1e-12)
    dec = calibrate_direct([0.0, 100.0], 100, 50, 0)  # exclusion 100 > crossover > inclusion 0
    assert dec == pytest.approx([0.95, 0.05], abs=1e-12)
    # the crossover itself is 0.5, which is rejected (see below); just next to it:
    near = calibrate_direct([5000.001, 4999.999], 2500, 5000, 20000)
    assert near == pytest.approx([0.5, 0.5], abs=1e-5)
    assert near[0] > 0.5 > near[1]


def test_calibrate_hand_computed_values_and_clipping():
    # increasing, e=2500, c=5000, i=20000, L = ln 19:
    # x=10000 -> log-odds (10000-5000) * L / 15000 = L/3 -> mu = 19^(1/3) / (1 + 19^(1/3))
    # x=4000  -> log-odds (4000-5000) * L / 2500 = -0.4 L -> mu = 1 / (1 + 19^0.4)
    got = calibrate_direct(pd.Series([10000.0, 4000.0, np.nan]), 2500, 5000, 20000)
    c3 = 19 ** (1 / 3)
    assert got[0] == pytest.approx(c3 / (1 + c3), rel=1e-12)  # 0.72740
    assert got[1] == pytest.approx(1 / (1 + 19 ** 0.4), rel=1e-12)  # 0.23545
    assert math.isnan(got[2])
    # QCA's calibrate sets memberships < 1e-4 to 0 and > 0.9999 to 1:
    # e=0, c=5, i=10: x=21 -> log-odds 16 L / 5 = 9.422 -> 0.99992 -> 1; x=20 -> 0.99985 kept
    raw = lambda x: 1 / (1 + 19 ** (-(x - 5) / 5))  # noqa: E731
    assert raw(21) > 0.9999 and raw(20) < 0.9999
    out = calibrate_direct([21.0, 20.0, -11.0, -10.0], 0, 5, 10)
    assert out[0] == 1.0 and out[1] == pytest.approx(raw(20), rel=1e-12)
    assert out[2] == 0.0 and out[3] == pytest.approx(1 - raw(20), rel=1e-9)


def test_calibrate_half_membership_raises_naming_the_case():
    x = pd.Series([1.0, 5.0, 9.0], index=["low", "mid", "high"])
    with pytest.raises(ValueError, match="'mid'"):
        calibrate_direct(x, 0, 5, 10)
    with pytest.raises(ValueError, match="0.5"):
        calibrate_direct([1.0, 5.0], 0, 5, 10)


def test_calibrate_rejects_non_monotone_anchors():
    with pytest.raises(ValueError, match="monotone"):
        calibrate_direct([1.0], 0, 10, 5)
    with pytest.raises(ValueError, match="monotone"):
        calibrate_direct([1.0], 5, 5, 10)


def test_half_membership_in_data_raises_naming_the_case():
    bad = LF.copy()
    bad.loc["FI", "URB"] = 0.5
    with pytest.raises(ValueError, match="'FI'"):
        qca(bad, "SURV", LIPSET)
    with pytest.raises(ValueError, match="'FI'"):
        truth_table(bad, "SURV", LIPSET)
    # after calibration: STB has 10 cabinets for AU and GR, the crossover below
    with pytest.raises(ValueError, match="'AU'"):
        qca(LR, "SURV", LIPSET, calibrate={"STB": (14, 10, 5)})


def test_memberships_are_validated():
    bad = LF.copy()
    bad.loc["BE", "DEV"] = 1.2
    with pytest.raises(ValueError, match="'BE'"):
        necessity(bad, "SURV", LIPSET)
    bad.loc["BE", "DEV"] = np.nan
    with pytest.raises(ValueError, match="missing"):
        necessity(bad, "SURV", LIPSET)


# --------------------------------------------------------------------------
# necessity and sufficiency fit
# --------------------------------------------------------------------------
def test_necessity_hand_computed():
    # A=(0.9,0.8,0.2), Y=(0.7,0.9,0.1): min=(0.7,0.8,0.1) -> sum 1.6
    # inclN = 1.6/1.7, covN = 1.6/1.9, RoN = (0.1+0.2+0.8)/(0.3+0.2+0.9) = 1.1/1.4
    # ~A=(0.1,0.2,0.8): min=(0.1,0.2,0.1) -> 0.4; 0.4/1.7, 0.4/1.1, RoN=(0.9+0.8+0.2)/(0.9+0.8+0.9)=1.9/2.6
    df = pd.DataFrame({"A": [0.9, 0.8, 0.2], "B": [1.0, 1.0, 1.0], "Y": [0.7, 0.9, 0.1]})
    got = necessity(df, "Y", ["A", "B"])
    assert got["condition"].tolist() == ["A", "~A", "B", "~B"]
    assert got.loc[0, ["consistency", "coverage", "ron"]].tolist() == pytest.approx([1.6 / 1.7, 1.6 / 1.9, 1.1 / 1.4])
    assert got.loc[1, ["consistency", "coverage", "ron"]].tolist() == pytest.approx([0.4 / 1.7, 0.4 / 1.1, 1.9 / 2.6])
    # B is a constant 1: trivially necessary (inclN = 1) and irrelevant (RoN = 0/... = 0)
    assert got.loc[2, "consistency"] == pytest.approx(1.0) and got.loc[2, "ron"] == 0.0
    assert got.loc[2, "coverage"] == pytest.approx(1.7 / 3.0)


def test_necessity_matches_published_cvf():
    # ?pof examples: pof(conds, PROTEST) and pof(1 - conds, PROTEST)
    published = {  # inclN, RoN, covN
        "DEMOC": (0.741, 0.758, 0.713), "ETHFRACT": (0.680, 0.830, 0.755),
        "GEOCON": (0.904, 0.492, 0.624), "POLDIS": (0.518, 0.878, 0.744),
        "NATPRIDE": (0.708, 0.523, 0.539),
        "~DEMOC": (0.564, 0.736, 0.601), "~ETHFRACT": (0.661, 0.684, 0.614),
        "~GEOCON": (0.317, 0.873, 0.601), "~POLDIS": (0.631, 0.517, 0.493),
        "~NATPRIDE": (0.597, 0.952, 0.899),
    }
    got = necessity(CVF, "PROTEST", CVF_CONDS).set_index("condition")
    assert list(got.index) == [x for c in CVF_CONDS for x in (c, "~" + c)]
    for cond, (incl, ron, cov) in published.items():
        assert got.loc[cond, "consistency"] == pytest.approx(incl, abs=PUB), cond
        assert got.loc[cond, "ron"] == pytest.approx(ron, abs=PUB), cond
        assert got.loc[cond, "coverage"] == pytest.approx(cov, abs=PUB), cond
    # pof(conds, 1 - PROTEST): negated outcome
    neg = CVF.assign(PROTEST=1 - CVF["PROTEST"])
    got = necessity(neg, "PROTEST", CVF_CONDS).set_index("condition")
    assert got.loc["NATPRIDE", ["consistency", "ron", "coverage"]].tolist() == pytest.approx(
        [0.932, 0.622, 0.693], abs=PUB)
    assert got.loc["POLDIS", ["consistency", "ron", "coverage"]].tolist() == pytest.approx(
        [0.335, 0.776, 0.470], abs=PUB)


def test_sufficiency_expression_matches_published_pof():
    # ?pof: pof("~NATPRIDE + GEOCON => PROTEST", data = CVF) and => ~PROTEST
    got = sufficiency(CVF, "PROTEST", "~NATPRIDE + GEOCON")
    want = [[0.899, 0.807, 0.597, 0.042], [0.624, 0.449, 0.904, 0.349], [0.633, 0.462, 0.946]]
    for row, w in zip(got.itertuples(index=False), want):
        assert list(row)[:len(w)] == pytest.approx(w, abs=PUB)
    assert list(got.index) == ["~NATPRIDE", "GEOCON", "expression"] and math.isnan(got.iloc[2, 3])
    got = sufficiency(CVF.assign(PROTEST=1 - CVF["PROTEST"]), "PROTEST", "~NATPRIDE + GEOCON")
    assert got.to_numpy()[:, :3].ravel().tolist() == pytest.approx(
        [0.561, 0.156, 0.381, 0.529, 0.309, 0.784, 0.524, 0.303, 0.803], abs=PUB)
    assert got["covU"].tolist()[:2] == pytest.approx([0.018, 0.421], abs=PUB)


# --------------------------------------------------------------------------
# truth table
# --------------------------------------------------------------------------
# ?truthTable: truthTable(CVF, "PROTEST", incl.cut = c(0.8, 0.75), sort.by = "incl")
CVF_TT = {  # row: (n, incl, PRI)
    31: (1, 0.959, 0.891), 29: (1, 0.957, 0.858), 27: (1, 0.938, 0.783), 15: (2, 0.929, 0.839),
    30: (2, 0.922, 0.667), 24: (2, 0.904, 0.754), 32: (1, 0.892, 0.717), 5: (2, 0.874, 0.584),
    16: (1, 0.821, 0.591), 28: (1, 0.768, 0.225), 8: (1, 0.749, 0.248), 10: (1, 0.741, 0.086),
    6: (1, 0.732, 0.148), 22: (4, 0.725, 0.281), 20: (1, 0.711, 0.162), 14: (3, 0.653, 0.098),
    2: (4, 0.648, 0.182),
}
# truthTable(CVF, "~PROTEST", incl.cut = 0.8, sort.by = "incl")
CVF_TT_NEG = {
    10: (1, 0.976, 0.914, 1), 6: (1, 0.953, 0.852, 1), 28: (1, 0.933, 0.775, 1),
    14: (3, 0.929, 0.816, 1), 2: (4, 0.922, 0.818, 1), 20: (1, 0.902, 0.714, 1),
    8: (1, 0.902, 0.705, 1), 22: (4, 0.846, 0.597, 1), 30: (2, 0.843, 0.333, 1),
    5: (2, 0.823, 0.416, 1), 27: (1, 0.776, 0.217, 0), 16: (1, 0.742, 0.409, 0),
    29: (1, 0.738, 0.142, 0), 32: (1, 0.726, 0.283, 0), 24: (2, 0.699, 0.229, 0),
    31: (1, 0.662, 0.109, 0), 15: (2, 0.629, 0.161, 0),
}


def test_truth_table_matches_published_cvf():
    tt = truth_table(CVF, "PROTEST", CVF_CONDS, incl_cut=0.8)
    assert list(tt.columns) == CVF_CONDS + ["n", "incl", "pri", "out"]
    assert list(tt.index) == sorted(CVF_TT)  # QCA's row order (binary, first condition first)
    for row, (n, incl, pri) in CVF_TT.items():
        r = tt.loc[row]
        bits = [int(b) for b in format(row - 1, "05b")]
        assert r[CVF_CONDS].tolist() == bits
        assert r["n"] == n and r["incl"] == pytest.approx(incl, abs=PUB) and r["pri"] == pytest.approx(pri, abs=PUB)
        assert r["out"] == (1 if incl >= 0.8 else 0)  # row 28 is "C" only with incl.cut = c(0.8, 0.75)
    assert tt["n"].sum() == len(CVF)
    neg = truth_table(CVF.assign(PROTEST=1 - CVF["PROTEST"]), "PROTEST", CVF_CONDS, incl_cut=0.8)
    for row, (n, incl, pri, out) in CVF_TT_NEG.items():
        r = neg.loc[row]
        assert (r["n"], r["out"]) == (n, out)
        assert r["incl"] == pytest.approx(incl, abs=PUB) and r["pri"] == pytest.approx(pri, abs=PUB)


def test_truth_table_matches_published_lc():
    # ?truthTable: truthTable(LC, "SURV"), rows with n, OUT; incl and PRI are 0 or 1
    tt = truth_table(LC, "SURV", LIPSET)
    want = {1: (3, 0), 2: (2, 0), 5: (2, 0), 6: (1, 0), 22: (2, 1), 23: (1, 0), 24: (2, 1),
            31: (1, 0), 32: (4, 1)}
    assert {k: (int(r.n), r.out) for k, r in tt.iterrows()} == want
    assert tt["incl"].tolist() == tt["pri"].tolist() == [float(o) for o in tt["out"]]
    assert tt.attrs["qca"]["row_cases"][32] == ("BE", "CZ", "NL", "UK")


def _tolerance_data():
    # One condition A. Cases: (A, Y) = (0.6, 0.6), (0.9, 0.6), (0.0, 0.0).
    # Row A=1: X = A; sum min(X,Y) = 0.6 + 0.6 + 0 = 1.2, sum X = 1.5 -> incl = 0.8 exactly,
    # but 1.2/1.5 is 0.7999999999999999 in floating point.
    # PRI: sum min(X,Y,1-Y) = 0.4 + 0.4 + 0 = 0.8 -> (1.2-0.8)/(1.5-0.8) = 0.4/0.7.
    # Row A=0: X = 1-A = (0.4, 0.1, 1); min(X,Y) = (0.4, 0.1, 0) -> 0.5/1.5; n = 1 (third case).
    return pd.DataFrame({"A": [0.6, 0.9, 0.0], "Y": [0.6, 0.6, 0.0]}, index=["p", "q", "r"])


def test_truth_table_incl_tolerance_at_exactly_incl_cut():
    df = _tolerance_data()
    tt = truth_table(df, "Y", ["A"], incl_cut=0.8)
    assert tt.loc[2, "incl"] < 0.8  # floating point falls short ...
    assert tt.loc[2, "incl"] == pytest.approx(0.8, abs=1e-15)
    assert tt.loc[2, "out"] == 1  # ... QCA's agteb tolerance (sqrt eps) accepts it
    assert tt.loc[2, "pri"] == pytest.approx(0.4 / 0.7)
    assert tt.loc[1, ["n", "incl"]].tolist() == pytest.approx([1, 1 / 3])
    assert truth_table(df, "Y", ["A"], incl_cut=0.8 + 10 * TOL).loc[2, "out"] == 0


def test_truth_table_pri_cut():
    df = _tolerance_data()
    assert truth_table(df, "Y", ["A"], incl_cut=0.8, pri_cut=0.57).loc[2, "out"] == 1
    assert truth_table(df, "Y", ["A"], incl_cut=0.8, pri_cut=0.6).loc[2, "out"] == 0


def test_n_cut_rows_are_question_marks_and_remainders():
    # crisp A, B: rows 11 (Y=1, 2 cases), 10 (Y=0, 2 cases), 01 (Y=1, 1 case)
    df = pd.DataFrame({"A": [1, 1, 1, 1, 0], "B": [1, 1, 0, 0, 1], "Y": [1, 1, 0, 0, 1]})
    tt1 = truth_table(df, "Y", ["A", "B"])
    assert tt1["out"].tolist() == [1, 0, 1]  # rows 2 (01), 3 (10), 4 (11)
    assert [s.expression for s in minimize(tt1)] == ["B"]  # 01 + 11 = B
    tt2 = truth_table(df, "Y", ["A", "B"], n_cut=2)
    assert tt2["out"].tolist() == ["?", 0, 1] and tt2.loc[2, "n"] == 1
    # with row 01 a remainder, the complex solution keeps A*B, the parsimonious uses it: B
    assert [s.expression for s in minimize(tt2)] == ["A*B"]
    assert [s.expression for s in minimize(tt2, solution="parsimonious")] == ["B"]
    with pytest.raises(ValueError, match="n_cut"):
        truth_table(df, "Y", ["A", "B"], n_cut=3)


# --------------------------------------------------------------------------
# minimization: published examples (?minimize)
# --------------------------------------------------------------------------
def test_lf_complex_solution_published():
    # minimize(truthTable(LF, "SURV", incl.cut = 0.8), details = TRUE)
    (sol,) = minimize(LF, "SURV", LIPSET, incl_cut=0.8)
    assert sol.expression == "DEV*URB*LIT*IND*STB + DEV*~URB*LIT*~IND*STB"
    _check_terms(sol, [("DEV*URB*LIT*IND*STB", 0.904, 0.886, 0.454, 0.393),
                       ("DEV*~URB*LIT*~IND*STB", 0.804, 0.719, 0.265, 0.204)])
    assert [sol.consistency, sol.pri, sol.coverage] == pytest.approx([0.870, 0.843, 0.658], abs=PUB)


def test_lf_parsimonious_solution_published():
    # minimize(ttLF, include = "?", details = TRUE)
    (sol,) = minimize(truth_table(LF, "SURV", LIPSET), solution="parsimonious")
    assert sol.expression == "DEV*~IND + URB*STB"
    _check_terms(sol, [("DEV*~IND", 0.815, 0.721, 0.284, 0.194),
                       ("URB*STB", 0.874, 0.845, 0.520, 0.430)])
    assert [sol.consistency, sol.pri, sol.coverage] == pytest.approx([0.850, 0.819, 0.714], abs=PUB)


def test_lf_intermediate_solution_published():
    # minimize(ttLF, include = "?", dir.exp = "DEV, URB, LIT, IND, STB")
    (sol,) = minimize(truth_table(LF, "SURV", LIPSET), solution="intermediate",
                      directional={c: 1 for c in LIPSET})
    assert sol.expression == "DEV*URB*LIT*STB + DEV*LIT*~IND*STB" and sol.sources == ("C1P1",)
    _check_terms(sol, [("DEV*URB*LIT*STB", 0.901, 0.879, 0.468, 0.378),
                       ("DEV*LIT*~IND*STB", 0.814, 0.721, 0.282, 0.191)])
    assert [sol.consistency, sol.pri, sol.coverage] == pytest.approx([0.866, 0.839, 0.660], abs=PUB)


def test_lc_crisp_solutions_published():
    tt = truth_table(LC, "SURV", LIPSET)
    (c,) = minimize(tt)
    assert c.expression == "DEV*~URB*LIT*STB + DEV*LIT*IND*STB"
    _check_terms(c, [("DEV*~URB*LIT*STB", 1, 1, 0.5, 0.25), ("DEV*LIT*IND*STB", 1, 1, 0.75, 0.5)])
    (p,) = minimize(tt, solution="parsimonious")
    _check_terms(p, [("DEV*STB", 1, 1, 1, None)])  # one term: covU printed as "-"
    # pLC$SA: the simplifying assumptions are rows 18, 20, 26, 28, 30
    _, _, _, pos, neg = Q._tt_parts(tt)
    pis, models = Q._chart(Q._ccubes_primes(pos, neg), pos)
    sa = {r for i in models[0] for r in Q._expand(pis[i])} - set(pos)
    assert sorted(Q._row_number(r) for r in sa) == [18, 20, 26, 28, 30]
    # negated outcome (truthTable(LC, "~SURV"))
    ttn = truth_table(LC.assign(SURV=1 - LC["SURV"]), "SURV", LIPSET)
    assert [s.expression for s in minimize(ttn)] == ["~DEV*~URB*~IND + DEV*LIT*IND*~STB"]
    (pn,) = minimize(ttn, solution="parsimonious")
    _check_terms(pn, [("~DEV", 1, 1, 0.8, 0.3), ("~STB", 1, 1, 0.7, 0.2)])


def test_cvf_parsimonious_four_minimal_models_published():
    # pCVF <- minimize(ttCVF, include = "?", details = TRUE): M1..M4, essential PIs first
    sols = minimize(truth_table(CVF, "PROTEST", CVF_CONDS, incl_cut=0.8), solution="parsimonious")
    ess = "~NATPRIDE + DEMOC*GEOCON*POLDIS + "
    assert [s.label for s in sols] == ["M1", "M2", "M3", "M4"]
    assert [s.expression for s in sols] == [
        ess + "~DEMOC*ETHFRACT*POLDIS + DEMOC*ETHFRACT*GEOCON",
        ess + "~DEMOC*ETHFRACT*POLDIS + DEMOC*ETHFRACT*~POLDIS",
        ess + "DEMOC*ETHFRACT*GEOCON + ETHFRACT*GEOCON*POLDIS",
        ess + "DEMOC*ETHFRACT*~POLDIS + ETHFRACT*GEOCON*POLDIS",
    ]
    assert all(s.essential == ("~NATPRIDE", "DEMOC*GEOCON*POLDIS") for s in sols)
    fit = {"~NATPRIDE": (0.899, 0.807, 0.597), "DEMOC*GEOCON*POLDIS": (0.906, 0.805, 0.342),
           "~DEMOC*ETHFRACT*POLDIS": (0.842, 0.718, 0.299), "DEMOC*ETHFRACT*GEOCON": (0.935, 0.826, 0.480),
           "DEMOC*ETHFRACT*~POLDIS": (0.932, 0.773, 0.417), "ETHFRACT*GEOCON*POLDIS": (0.869, 0.786, 0.365)}
    cov_u = [(0.132, 0.065, 0.040, 0.085), (0.122, 0.070, 0.040, 0.085),
             (0.136, 0.065, 0.085, 0.045), (0.126, 0.065, 0.085, 0.045)]  # columns (M1)..(M4)
    for sol, cu in zip(sols, cov_u):
        _check_terms(sol, [(t.term, *fit[t.term], u) for t, u in zip(sol.terms, cu)])
    want = [(0.877, 0.777, 0.805)] * 2 + [(0.879, 0.782, 0.810)] * 2
    for sol, w in zip(sols, want):
        assert [sol.consistency, sol.pri, sol.coverage] == pytest.approx(w, abs=PUB)
    # pCVF$PIchart: the prime implicants in QCA's order
    _, _, _, pos, neg = Q._tt_parts(truth_table(CVF, "PROTEST", CVF_CONDS))
    pis, _ = Q._chart(Q._ccubes_primes(pos, neg), pos)
    assert [Q._term_label(p, CVF_CONDS) for p in pis] == [
        "~NATPRIDE", "~DEMOC*ETHFRACT*POLDIS", "DEMOC*ETHFRACT*GEOCON",
        "DEMOC*ETHFRACT*~POLDIS", "DEMOC*GEOCON*POLDIS", "ETHFRACT*GEOCON*POLDIS"]


def test_cvf_complex_solution_term_order():
    # ?pof: cCVF <- minimize(CVF, outcome = "PROTEST", incl.cut = 0.8); pof(1 - cCVF$pims, PROTEST)
    # lists the negations of the complex solution's terms in this order
    (sol,) = minimize(CVF, "PROTEST", CVF_CONDS, incl_cut=0.8)
    assert [t.term for t in sol.terms] == [
        "DEMOC*ETHFRACT*GEOCON", "ETHFRACT*GEOCON*POLDIS", "DEMOC*ETHFRACT*POLDIS*~NATPRIDE",
        "DEMOC*GEOCON*POLDIS*NATPRIDE", "~DEMOC*~ETHFRACT*GEOCON*~POLDIS*~NATPRIDE"]


# --------------------------------------------------------------------------
# minimization: hand-computed and analytic cases
# --------------------------------------------------------------------------
def _crisp_all_rows(k, positive):
    rows = list(itertools.product([0, 1], repeat=k))
    names = "ABCDEF"[:k]
    df = pd.DataFrame(rows, columns=list(names))
    df["Y"] = [int(r in positive) for r in rows]
    return df, list(names)


def test_ambiguous_cover_gives_two_solutions():
    # Cyclic function of 3 conditions: Y = 1 on 000, 001, 010, 101, 110, 111 (one case each).
    # Prime implicants: ~A~B, ~A~C, ~BC, B~C, AC, AB; each covers 2 rows, the chart is
    # cyclic, and exactly two covers use the minimum of 3 PIs.
    pos = [(0, 0, 0), (0, 0, 1), (0, 1, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1)]
    df, names = _crisp_all_rows(3, pos)
    sols = minimize(df, "Y", names)
    assert [s.expression for s in sols] == ["~A*~B + A*C + B*~C", "~A*~C + A*B + ~B*C"]
    assert [s.label for s in sols] == ["M1", "M2"] and sols[0].essential == ()
    # brute force: every set of <= 3 PIs covering the positive rows
    pis = Q._qmc_primes(set(pos))
    covers = [set(Q._term_label(p, names) for p in c) for k in (1, 2, 3)
              for c in itertools.combinations(pis, k)
              if all(any(Q._covers(p, r) for p in c) for r in pos)]
    assert sorted(map(sorted, covers)) == sorted(sorted(t.term for t in s.terms) for s in sols)
    # covU by hand: each term covers 2 of the 6 positive cases and no other term does,
    # so covS = covU = 2/6; the union covers all 6 positive cases: coverage 1, consistency 1
    for s in sols:
        assert [t.covU for t in s.terms] == pytest.approx([1 / 3] * 3)
        assert (s.consistency, s.coverage) == (1.0, 1.0)


def test_covu_hand_computed_with_overlap():
    # A=(1,1,0,0), B=(0,1,1,0), Y=(1,1,1,0): covS(A) = covS(B) = 2/3; the union covers 3/3;
    # without A it covers 2/3 -> covU(A) = 1 - 2/3 = 1/3, likewise covU(B) = 1/3
    df = pd.DataFrame({"A": [1, 1, 0, 0], "B": [0, 1, 1, 0], "Y": [1, 1, 1, 0]})
    (sol,) = minimize(df, "Y", ["A", "B"], solution="parsimonious")
    assert sol.expression == "A + B"
    assert [v for t in sol.terms for v in (t.covS, t.covU)] == pytest.approx([2 / 3, 1 / 3] * 2)


def test_planted_configuration_is_recovered():
    # Y = A*~B + C*D (fuzzy OR of fuzzy ANDs) on 48 cases, 3 in each of the 16 corners,
    # memberships far from 0.5. Every corner of A*~B or C*D has corner membership <= Y for
    # every case, so incl = 1; with all corners observed there are no remainders and the
    # three solutions coincide with the planted expression.
    rng = np.random.default_rng(7)
    corners = np.repeat(np.array(list(itertools.product([0, 1], repeat=4))), 3, axis=0)
    x = np.where(corners == 1, rng.uniform(0.8, 1.0, corners.shape), rng.uniform(0.0, 0.2, corners.shape))
    df = pd.DataFrame(x, columns=list("ABCD"))
    df["Y"] = np.maximum(np.minimum(df.A, 1 - df.B), np.minimum(df.C, df.D))
    tt = truth_table(df, "Y", list("ABCD"))
    planted = [((a == 1 and b == 0) or (c == 1 and d == 1)) for a, b, c, d in tt[list("ABCD")].to_numpy()]
    assert tt["out"].tolist() == [int(p) for p in planted] and (tt["n"] == 3).all()
    assert tt.loc[[p for p, q in zip(tt.index, planted) if q], "incl"].tolist() == pytest.approx([1.0] * 7)
    for kind in ("complex", "parsimonious", "intermediate"):
        (sol,) = minimize(tt, solution=kind, directional={"A": 1, "B": 0, "C": 1, "D": 1})
        assert sol.expression == "A*~B + C*D"
        assert sol.consistency == pytest.approx(1.0) and sol.coverage == pytest.approx(1.0)


def test_planted_configuration_with_remainders():
    # Only corners 1111 (Y=1), 0111 (Y=0), 0000 (Y=0) observed, crisp:
    # complex A*B*C*D; parsimonious: A alone excludes both negatives -> A
    df = pd.DataFrame({"A": [1, 0, 0], "B": [1, 1, 0], "C": [1, 1, 0], "D": [1, 1, 0], "Y": [1, 0, 0]})
    assert [s.expression for s in minimize(df, "Y", list("ABCD"))] == ["A*B*C*D"]
    assert [s.expression for s in minimize(df, "Y", list("ABCD"), solution="parsimonious")] == ["A"]


@pytest.mark.parametrize("directional, expected", [
    # positive 111, negatives 011 and 000 -> complex A*B*C, parsimonious A, whose
    # simplifying assumptions are the remainders 100, 101, 110
    ({"A": 1, "B": 1, "C": 1}, "A*B*C"),  # B, C present as expected: no easy counterfactual
    ({"A": 1, "B": 0, "C": 1}, "A*C"),    # B present against the expectation: 101 is easy
    ({"B": 0, "C": 0}, "A"),              # both dropped: all SAs easy -> parsimonious
    ({"B": "-", "C": 0}, "A*B"),          # no expectation on B keeps it: 110 easy
    ({}, "A*B*C"),                        # no expectations at all: the complex solution
])
def test_intermediate_hand_cases(directional, expected):
    df = pd.DataFrame({"A": [1, 0, 0], "B": [1, 1, 0], "C": [1, 1, 0], "Y": [1, 0, 0]})
    assert [s.expression for s in minimize(df, "Y", list("ABC"))] == ["A*B*C"]
    assert [s.expression for s in minimize(df, "Y", list("ABC"), solution="parsimonious")] == ["A"]
    sols = minimize(df, "Y", list("ABC"), solution="intermediate", directional=directional)
    assert [s.expression for s in sols] == [expected]


def test_intermediate_over_several_parsimonious_models():
    # CVF: one complex model (C1) and four parsimonious ones (P1..P4); the intermediate
    # solutions are the distinct models over the pairs C1P1..C1P4
    tt = truth_table(CVF, "PROTEST", CVF_CONDS)
    sols = minimize(tt, solution="intermediate", directional={c: 1 for c in CVF_CONDS})
    sources = [src for s in sols for src in s.sources]
    assert sorted(sources) == ["C1P1", "C1P2", "C1P3", "C1P4"]
    (c,) = minimize(tt)
    pars = minimize(tt, solution="parsimonious")

    def corners(sol):  # the truth-table rows (crisp corners) a model covers
        return {r for t in sol.terms for r in Q._expand(Q._parse_expression(t.term, CVF_CONDS)[0])}

    for s in sols:  # an intermediate model lies between the complex and the parsimonious one
        for src in s.sources:
            assert corners(c) <= corners(s) <= corners(pars[int(src[-1]) - 1])


def test_minimize_on_an_edited_truth_table():
    tt = truth_table(LF, "SURV", LIPSET)
    tt.loc[24, "out"] = 1  # row 24 (incl 0.709) recoded by hand, as QCA allows
    (sol,) = minimize(tt)
    assert sol.expression == "DEV*~URB*LIT*STB + DEV*LIT*IND*STB"  # rows 22+24, 24+32


def test_minimize_errors():
    df = pd.DataFrame({"A": [1, 0], "Y": [0, 0]})
    with pytest.raises(ValueError, match="nothing to explain"):
        minimize(df, "Y", ["A"])
    df = pd.DataFrame({"A": [1, 0], "B": [1, 1], "Y": [1, 1]})
    with pytest.raises(ValueError, match="all conditions"):
        minimize(df, "Y", ["A", "B"], solution="parsimonious")
    tt = truth_table(LF, "SURV", LIPSET)
    with pytest.raises(ValueError, match="directional"):
        minimize(tt, solution="intermediate")
    with pytest.raises(ValueError, match="unknown"):
        minimize(tt, solution="intermediate", directional={"GDP": 1})
    with pytest.raises(ValueError, match="1, 0 or"):
        minimize(tt, solution="intermediate", directional={"DEV": 2})
    with pytest.raises(ValueError, match="solution"):
        minimize(tt, solution="maximal")
    with pytest.raises(ValueError, match="clash"):
        truth_table(LF.rename(columns={"DEV": "n"}), "SURV", ["n", "URB"])
    with pytest.raises(ValueError, match="condition name"):
        truth_table(LF.rename(columns={"DEV": "D*V"}), "SURV", ["D*V", "URB"])


# --------------------------------------------------------------------------
# one-call entry
# --------------------------------------------------------------------------
def test_qca_structure_and_values_lf():
    res = qca(LF, "SURV", LIPSET, directional={c: 1 for c in LIPSET})
    assert json.loads(json.dumps(res)) == res  # JSON-able, no nan
    assert set(res) == {"incl_cut", "n_cut", "pri_cut", "necessity", "truth_table", "solutions"}
    assert (res["incl_cut"], res["n_cut"], res["pri_cut"]) == (0.8, 1, 0.0)
    assert [r["condition"] for r in res["necessity"]][:4] == ["DEV", "~DEV", "URB", "~URB"]
    assert set(res["necessity"][0]) == {"condition", "consistency", "coverage", "ron"}
    row = res["truth_table"][-1]
    assert row == {"configuration": dict(zip(LIPSET, [1] * 5)), "n": 4,
                   "incl": pytest.approx(0.904, abs=PUB), "pri": pytest.approx(0.886, abs=PUB), "out": 1}
    sols = res["solutions"]
    assert [s["expression"] for s in sols["complex"]] == ["DEV*URB*LIT*IND*STB + DEV*~URB*LIT*~IND*STB"]
    assert [s["expression"] for s in sols["parsimonious"]] == ["DEV*~IND + URB*STB"]
    assert [s["expression"] for s in sols["intermediate"]] == ["DEV*URB*LIT*STB + DEV*LIT*~IND*STB"]
    p = sols["parsimonious"][0]
    assert set(p) == {"expression", "consistency", "coverage", "terms"}
    assert p["terms"][1] == {"term": "URB*STB", "inclS": pytest.approx(0.874, abs=PUB),
                             "pri": pytest.approx(0.845, abs=PUB), "covS": pytest.approx(0.520, abs=PUB),
                             "covU": pytest.approx(0.430, abs=PUB)}
    assert qca(LF, "SURV", LIPSET)["solutions"]["intermediate"] == []


def test_qca_question_marks_and_degenerate_tables():
    res = qca(LF, "SURV", LIPSET, n_cut=2)
    outs = {tuple(r["configuration"].values()): r["out"] for r in res["truth_table"]}
    assert outs[(0, 0, 1, 0, 1)] == "?" and outs[(1, 1, 1, 1, 1)] == 1
    all_pos = pd.DataFrame({"A": [1, 0], "B": [1, 1], "Y": [1, 1]})
    res = qca(all_pos, "Y", ["A", "B"], directional={"A": 1})
    assert [s["expression"] for s in res["solutions"]["complex"]] == ["B"]
    assert res["solutions"]["parsimonious"] == [] == res["solutions"]["intermediate"]
    none_pos = pd.DataFrame({"A": [1, 0], "Y": [0, 0]})
    assert qca(none_pos, "Y", ["A"])["solutions"] == {"complex": [], "parsimonious": [], "intermediate": []}


def test_qca_with_calibration_equals_precalibrated():
    anchors = {"DEV": (400, 550, 900), "URB": (25, 50, 65), "LIT": (50, 75, 90),
               "IND": (20, 30, 40), "STB": (14, 9.5, 5), "SURV": (-5, 0, 5)}
    res = qca(LR, "SURV", LIPSET, calibrate=anchors, directional={c: 1 for c in LIPSET})
    pre = LR.astype(float).copy()
    for col, (e, c, i) in anchors.items():
        pre[col] = calibrate_direct(LR[col], e, c, i)
    assert res == qca(pre, "SURV", LIPSET, directional={c: 1 for c in LIPSET})
    assert pre.loc["AU", "STB"] == pytest.approx(1 - 1 / (1 + 19 ** (-0.5 / 4.5)))  # 10 cabinets, decreasing
    assert res["solutions"]["complex"]
