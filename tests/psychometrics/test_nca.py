"""Necessary Condition Analysis (analysis.psychometrics.nca) against NCA's definitions.

Reference values come from
* NCA's own example data ``nca.example`` (R package NCA 5.0.1,
  ``data/nca.example.RData``; "an example data file (presented in [Dul 2016])
  is included in the package", ``man/NCA-package.Rd``), with the ceiling zones,
  scopes, slopes and accuracies worked out by hand from the peers below,
  following NCA 5.0.1's ``R/p_ceiling.R`` (``p_ce_ceiling``, ``p_ceiling``),
  ``R/p_nca_cr_fdh.R`` and ``R/p_metrics.R`` (``p_above``, ``p_accuracy``);
* NCA's own unit test of the straight-line ceiling zone
  (``tests/testthat/test.p_ceiling.R``, upper-left corner block);
* small hand-computed cases and analytic truths (arithmetic in comments).
"""
import itertools
import json
import math
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

import analysis.psychometrics.nca as nca_module
from analysis.psychometrics.nca import (
    CeilingLine,
    ceiling_line,
    line_ceiling_zone,
    nca,
    nca_plot,
    permutation_p_value,
)

# nca.example (NCA 5.0.1): Individualism, Risk taking, Innovation performance.
NCA_EXAMPLE = pd.DataFrame(
    [
        ("Australia", 90, 84, 50.9), ("Austria", 55, 65, 52.4), ("Belgium", 75, 41, 75.1),
        ("Canada", 80, 87, 81.4), ("Czech Rep", 58, 61, 14.5), ("Denmark", 74, 112, 116.3),
        ("Finland", 63, 76, 173.1), ("France", 71, 49, 77.6), ("Germany", 67, 70, 109.5),
        ("Greece", 35, 23, 12.0), ("Hungary", 80, 53, 5.4), ("Ireland", 70, 100, 62.3),
        ("Italy", 76, 60, 19.7), ("Japan", 46, 43, 171.6), ("Mexico", 30, 53, 1.2),
        ("Netherlands", 80, 82, 68.7), ("New Zealand", 79, 86, 14.9), ("Norway", 69, 85, 75.1),
        ("Poland", 60, 42, 3.5), ("Portugal", 27, 31, 11.1), ("Slovak Rep", 52, 84, 3.5),
        ("South Korea", 18, 50, 42.3), ("Spain", 51, 49, 17.3), ("Sweden", 71, 106, 184.9),
        ("Switzerland", 68, 77, 149.7), ("Turkey", 37, 50, 1.4), ("UK", 89, 100, 79.4),
        ("USA", 91, 89, 214.4),
    ],
    columns=["country", "Individualism", "Risk taking", "Innovation performance"],
).set_index("country")
Y = "Innovation performance"


def _rows(result):
    return {(r["condition"], r["ceiling"]): r for r in result["results"]}


# --------------------------------------------------------------------------- #
# nca.example
# --------------------------------------------------------------------------- #
def test_nca_example_ce_fdh_individualism_and_risk_taking():
    rows = _rows(nca(NCA_EXAMPLE, Y, ["Individualism", "Risk taking"]))
    # Individualism: x 18..91, y 1.2..214.4 -> S = 73 * 213.2 = 15563.6.
    # Peers (South Korea, Japan, Finland, Sweden, USA):
    # (18, 42.3) (46, 171.6) (63, 173.1) (71, 184.9) (91, 214.4);
    # C = 28*129.3 + 45*1.5 + 53*11.8 + 73*29.5
    #   = 3620.4 + 67.5 + 625.4 + 2153.5 = 6466.8.
    r = rows["Individualism", "ce_fdh"]
    assert r["scope"] == pytest.approx(15563.6, rel=1e-12)
    assert r["ceiling_zone"] == pytest.approx(6466.8, rel=1e-12)
    assert r["effect_size"] == pytest.approx(6466.8 / 15563.6, rel=1e-12)   # 0.4155
    assert r["accuracy"] == 100.0
    # Risk taking: x 23..112 -> S = 89 * 213.2 = 18974.8.
    # Peers (Greece, Belgium, Japan, Finland, USA):
    # (23, 12.0) (41, 75.1) (43, 171.6) (76, 173.1) (89, 214.4);
    # C = 18*63.1 + 20*96.5 + 53*1.5 + 66*41.3 = 1135.8 + 1930 + 79.5 + 2725.8 = 5871.1.
    r = rows["Risk taking", "ce_fdh"]
    assert r["scope"] == pytest.approx(18974.8, rel=1e-12)
    assert r["ceiling_zone"] == pytest.approx(5871.1, rel=1e-12)
    assert r["effect_size"] == pytest.approx(5871.1 / 18974.8, rel=1e-12)   # 0.3094
    assert r["accuracy"] == 100.0


def test_nca_example_peers():
    ind = ceiling_line(NCA_EXAMPLE["Individualism"], NCA_EXAMPLE[Y], "ce_fdh")
    assert ind.peers.tolist() == [[18, 42.3], [46, 171.6], [63, 173.1], [71, 184.9], [91, 214.4]]
    risk = ceiling_line(NCA_EXAMPLE["Risk taking"], NCA_EXAMPLE[Y], "ce_fdh")
    assert risk.peers.tolist() == [[23, 12.0], [41, 75.1], [43, 171.6], [76, 173.1], [89, 214.4]]


def _line_zone_by_hand(intercept, slope, xmin, ymax):
    # The line enters the scope through its left edge (a + b*xmin > ymin) and
    # leaves it through the roof before xmax, so the ceiling zone is the
    # triangle between the left edge, the roof and the line.
    y_left = intercept + slope * xmin
    x_roof = (ymax - intercept) / slope
    return 0.5 * (x_roof - xmin) * (ymax - y_left)


def test_nca_example_cr_fdh_individualism():
    # OLS through the 5 peers: mean x = 289/5 = 57.8, mean y = 786.3/5 = 157.26;
    # Sxx = 1584.04 + 139.24 + 27.04 + 174.24 + 1102.24 = 3026.8;
    # Sxy = 4575.408 - 169.212 + 82.368 + 364.848 + 1897.048 = 6750.46.
    slope = 6750.46 / 3026.8                     # 2.23023
    intercept = 157.26 - slope * 57.8            # 28.3527
    line = ceiling_line(NCA_EXAMPLE["Individualism"], NCA_EXAMPLE[Y], "cr_fdh")
    assert line.slope == pytest.approx(slope, rel=1e-12)
    assert line.intercept == pytest.approx(intercept, rel=1e-12)
    # y(18) = 68.50 >= 1.2; the roof y = 214.4 is reached at x = 83.42 < 91.
    zone = _line_zone_by_hand(intercept, slope, 18, 214.4)    # 4772.54
    # Above the line: Japan (46, 171.6 > 130.94) and Finland (63, 173.1 > 168.86);
    # Sweden (71, 184.9 < 186.70) and USA (91, 214.4 < 231.3) are below -> 26/28.
    r = _rows(nca(NCA_EXAMPLE, Y, "Individualism"))["Individualism", "cr_fdh"]
    assert r["ceiling_zone"] == pytest.approx(zone, rel=1e-12)
    assert r["effect_size"] == pytest.approx(zone / 15563.6, rel=1e-12)     # 0.3066
    assert line.n_above == 2
    assert r["accuracy"] == pytest.approx(100 * 26 / 28)                    # 92.86 < 100


def test_nca_example_cr_fdh_risk_taking():
    # Peers' mean x = 272/5 = 54.4, mean y = 646.2/5 = 129.24;
    # Sxx = 985.96 + 179.56 + 129.96 + 466.56 + 1197.16 = 2959.2;
    # Sxy = 3681.336 + 725.476 - 482.904 + 947.376 + 2946.536 = 7817.82.
    slope = 7817.82 / 2959.2                     # 2.64187
    intercept = 129.24 - slope * 54.4            # -14.4777
    line = ceiling_line(NCA_EXAMPLE["Risk taking"], NCA_EXAMPLE[Y], "cr_fdh")
    assert line.slope == pytest.approx(slope, rel=1e-12)
    assert line.intercept == pytest.approx(intercept, rel=1e-12)
    zone = _line_zone_by_hand(intercept, slope, 23, 214.4)    # 5348.97
    r = _rows(nca(NCA_EXAMPLE, Y, "Risk taking"))["Risk taking", "cr_fdh"]
    assert r["ceiling_zone"] == pytest.approx(zone, rel=1e-12)
    assert r["effect_size"] == pytest.approx(zone / 18974.8, rel=1e-12)     # 0.2819
    # Only Japan (43, 171.6) is above the line (99.1 there).
    assert line.n_above == 1
    assert r["accuracy"] == pytest.approx(100 * 27 / 28)


def test_result_shape_order_and_json():
    got = nca(NCA_EXAMPLE, Y, ["Risk taking", "Individualism"], ceilings=("cr_fdh", "ce_fdh"))
    assert [(r["condition"], r["ceiling"]) for r in got["results"]] == [
        ("Risk taking", "cr_fdh"), ("Risk taking", "ce_fdh"),
        ("Individualism", "cr_fdh"), ("Individualism", "ce_fdh")]
    for r in got["results"]:
        assert set(r) == {"condition", "ceiling", "effect_size", "accuracy", "ceiling_zone",
                          "scope", "p_value"}
        assert r["p_value"] is None
        for key in ("effect_size", "accuracy", "ceiling_zone", "scope"):
            assert type(r[key]) is float
    json.dumps(got)


# --------------------------------------------------------------------------- #
# NCA's own unit test of the line ceiling zone (test.p_ceiling.R, corner 1)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(("slope", "intercept", "want"), [
    (1, 8, math.nan), (0, 8, math.nan), (-2 / 3, 8, math.nan), (-4 / 3, 8, math.nan),
    (2 / 3, 4, 4 / 3), (0, 3, 15), (0, 5, 5), (-2 / 3, 4, math.nan),
    (4 / 3, 0, 8), (2 / 3, 0, 17), (0, 0, 20), (-1, 0, math.nan),
])
def test_line_ceiling_zone_matches_nca_unit_test(slope, intercept, want):
    # Scope (1, 6, 2, 6), area 20.
    got = line_ceiling_zone(intercept, slope, (1, 6, 2, 6))
    if math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(want, rel=1e-12)


# --------------------------------------------------------------------------- #
# Hand-computed small cases
# --------------------------------------------------------------------------- #
SMALL = pd.DataFrame({"x": [1, 2, 3, 4, 5], "y": [1, 3, 2, 5, 4]})


def test_small_case_ce_fdh_by_hand():
    # Peers (1,1) (2,3) (4,5): C = (2-1)(3-1) + (4-1)(5-3) = 2 + 6 = 8; S = 4*4 = 16.
    r = _rows(nca(SMALL, "y", "x"))["x", "ce_fdh"]
    assert (r["ceiling_zone"], r["scope"], r["effect_size"], r["accuracy"]) == (8, 16, 0.5, 100)


def test_small_case_cr_fdh_has_a_case_above_the_line():
    # OLS through (1,1) (2,3) (4,5): mean (7/3, 3), Sxx = 14/3, Sxy = 6 ->
    # slope 9/7, intercept 3 - (9/7)(7/3) = 0. (2,3) is above y = 18/7; the
    # other four are below -> accuracy 4/5 = 80 %.
    # Zone: the line is 9/7 at x = 1 and meets y = 5 at x = 35/9, so
    # C = (35/9 - 1) * (5 - 9/7) / 2 = (26/9)(26/14) = 338/63; d = 338/1008.
    line = ceiling_line(SMALL["x"], SMALL["y"], "cr_fdh")
    assert line.slope == pytest.approx(9 / 7, rel=1e-12)
    assert line.intercept == pytest.approx(0, abs=1e-12)
    r = _rows(nca(SMALL, "y", "x"))["x", "cr_fdh"]
    assert r["accuracy"] == pytest.approx(80.0)
    assert r["accuracy"] < 100
    assert r["ceiling_zone"] == pytest.approx(338 / 63, rel=1e-12)
    assert r["effect_size"] == pytest.approx(338 / 1008, rel=1e-12)


def test_ties_and_duplicate_peers():
    # x = 1: y 1 and 4 (the run's top, 4, is the first peer); x = 2: y 4 (not
    # higher than 4: no peer); x = 3: y 6 twice (a duplicate peer).
    line = ceiling_line([1, 1, 2, 3, 3], [1, 4, 4, 6, 6], "ce_fdh")
    assert line.peers.tolist() == [[1, 4], [3, 6], [3, 6]]
    # C = (3-1)(6-4) + (3-1)(6-6) = 4; S = 2 * 5 = 10.
    assert line.ceiling_zone == 4 and line.effect_size == 0.4
    # The duplicate weighs in the regression: points (1,4) (3,6) (3,6) ->
    # mean (7/3, 16/3), Sxx = 8/3, Sxy = 8/3: slope 1, intercept 3.
    cr = ceiling_line([1, 1, 2, 3, 3], [1, 4, 4, 6, 6], "cr_fdh")
    assert (cr.slope, cr.intercept) == (pytest.approx(1), pytest.approx(3))
    # Through the left edge at 4, the roof at x = 3 = xmax: C = 2 * (6 - 5) = 2.
    assert cr.ceiling_zone == pytest.approx(2)
    assert cr.accuracy == 100.0


def test_missing_and_non_numeric_values_drop_the_pair():
    df = pd.DataFrame({"x": [1, 2, None, 3, 4, 5, "n/a"],
                       "y": [1, 3, 9, 2, 5, 4, 9]}, dtype=object)
    assert nca(df, "y", "x") == nca(SMALL, "y", "x")


def test_fewer_than_two_cases_and_zero_scope():
    one = pd.DataFrame({"x": [1.0, None], "y": [2.0, 3.0]})
    rows = nca(one, "y", "x", permutations=5, seed=0)["results"]
    assert all(math.isnan(r["effect_size"]) and math.isnan(r["p_value"]) for r in rows)
    # Constant x: S = 0 * 2 = 0, no slab, d = 0/0 undefined.
    flat = pd.DataFrame({"x": [2, 2, 2], "y": [1, 2, 3]})
    for r in nca(flat, "y", "x")["results"]:
        assert r["scope"] == 0 and r["ceiling_zone"] == 0 and math.isnan(r["effect_size"])
        assert r["accuracy"] == 100.0


# --------------------------------------------------------------------------- #
# Analytic truths
# --------------------------------------------------------------------------- #
def test_triangle_grid_has_the_diagonal_as_ceiling():
    # All grid points (i/k, j/k) with j <= i fill the triangle under y = x.
    # CR-FDH: the peers are (i/k, i/k), the line is y = x, C = 1/2 of S = 1.
    # CE-FDH: slabs of height 1/k at widths i/k -> C = sum i/k^2 = (k+1)/(2k).
    k = 10
    x, y = np.array([(i / k, j / k) for i in range(k + 1) for j in range(i + 1)]).T
    cr = ceiling_line(x, y, "cr_fdh")
    assert (cr.slope, cr.intercept) == (pytest.approx(1), pytest.approx(0, abs=1e-12))
    assert cr.effect_size == pytest.approx(0.5) and cr.accuracy == 100.0
    ce = ceiling_line(x, y, "ce_fdh")
    assert ce.effect_size == pytest.approx((k + 1) / (2 * k))


def test_triangle_population_sample_recovers_half():
    # (max, min) of two uniforms is uniform on the triangle 0 <= y <= x <= 1:
    # the true ceiling is y = x and the true effect size 1/2.
    u = np.random.default_rng(2016).uniform(size=(20_000, 2))
    x, y = u.max(axis=1), u.min(axis=1)
    for c in ("ce_fdh", "cr_fdh"):
        assert ceiling_line(x, y, c).effect_size == pytest.approx(0.5, abs=0.01)


def test_perfect_positive_correlation():
    # y = x at 1..4: every case is a peer. CE-FDH C = 1*1 + 2*1 + 3*1 = 6 of
    # S = 9 (d = 2/3); CR-FDH is y = x itself: C = 9/2, d = 1/2, accuracy 100.
    df = pd.DataFrame({"x": [1, 2, 3, 4], "y": [1, 2, 3, 4]})
    rows = _rows(nca(df, "y", "x"))
    assert rows["x", "ce_fdh"]["effect_size"] == pytest.approx(2 / 3)
    assert rows["x", "cr_fdh"]["effect_size"] == pytest.approx(1 / 2)
    assert rows["x", "cr_fdh"]["accuracy"] == 100.0


def test_empty_ceiling_zone():
    # y = -x: the case with the lowest x has the highest y, the only peer;
    # nothing is empty in the upper-left corner, and CR-FDH has no line.
    df = pd.DataFrame({"x": [1, 2, 3, 4], "y": [4, 3, 2, 1]})
    for r in nca(df, "y", "x")["results"]:
        assert (r["ceiling_zone"], r["effect_size"], r["accuracy"], r["scope"]) == (0, 0, 100, 9)
    cr = ceiling_line(df["x"], df["y"], "cr_fdh")
    assert math.isnan(cr.slope) and cr.peers.shape == (0, 2)


def test_negative_slope_cr_fdh_is_undefined(monkeypatch):
    # Peers always rise, so force the regression to a falling line.
    monkeypatch.setattr(nca_module, "_ols", lambda px, py: (6.0, -0.5))
    row = _rows(nca(SMALL, "y", "x"))["x", "cr_fdh"]
    assert math.isnan(row["ceiling_zone"]) and math.isnan(row["effect_size"])
    assert math.isnan(row["accuracy"])
    assert row["scope"] == 16.0
    assert math.isnan(ceiling_line(SMALL["x"], SMALL["y"], "cr_fdh").ceiling_zone)
    # the CE-FDH row is unaffected
    assert _rows(nca(SMALL, "y", "x"))["x", "ce_fdh"]["effect_size"] == 0.5


# --------------------------------------------------------------------------- #
# Permutation test
# --------------------------------------------------------------------------- #
def test_p_value_formula():
    # (#{d_r >= d} + 1) / (R + 1) over the valid (non-NaN) permuted d_r.
    assert permutation_p_value(0.3, [0.1, 0.5, np.nan, 0.3]) == (2 + 1) / (3 + 1)
    assert permutation_p_value(0.9, [0.1, 0.2, 0.3]) == 1 / 4
    assert permutation_p_value(0.0, [0.0, 0.0]) == 1.0
    assert math.isnan(permutation_p_value(np.nan, [0.1]))
    assert math.isnan(permutation_p_value(0.5, [np.nan]))


def test_exact_p_value_three_cases_by_hand():
    # x = y = (1, 2, 3); S = 4. The 3! = 6 orders of y give CE-FDH zones
    # (1,2,3): 1*1 + 2*1 = 3 -> d = .75; (1,3,2): 1*2 = 2 -> .5;
    # (2,1,3): 2*1 = 2 -> .5; (2,3,1): 1*1 -> .25; (3,1,2), (3,2,1): 0.
    # CR-FDH: .5, .25, .25, .125, 0, 0. Only the observed order reaches the
    # observed d, so p = (1 + 1) / (6 + 1) for both ceilings; asking for more
    # than 3! permutations is capped at all 3!, whatever the seed.
    df = pd.DataFrame({"x": [1, 2, 3], "y": [1, 2, 3]})
    for perms, seed in [(6, None), (1000, 1), (1000, 99)]:
        for r in nca(df, "y", "x", permutations=perms, seed=seed)["results"]:
            assert r["p_value"] == pytest.approx(2 / 7)


def test_exact_p_value_matches_brute_force():
    # All 5! = 120 permutations of SMALL's y, each through ceiling_line.
    x, y = SMALL["x"].to_numpy(float), SMALL["y"].to_numpy(float)
    got = _rows(nca(SMALL, "y", "x", permutations=120))
    for c in ("ce_fdh", "cr_fdh"):
        observed = ceiling_line(x, y, c).effect_size
        sims = [ceiling_line(x, y[list(p)], c).effect_size
                for p in itertools.permutations(range(5))]
        k = sum(d >= observed for d in sims)
        assert got["x", c]["p_value"] == pytest.approx((k + 1) / 121, rel=1e-12)


def test_permutation_test_is_deterministic_with_a_seed():
    conds = ["Individualism", "Risk taking"]
    a = nca(NCA_EXAMPLE, Y, conds, permutations=300, seed=7)
    b = nca(NCA_EXAMPLE, Y, conds, permutations=300, seed=7)
    assert a == b
    for r in a["results"]:
        assert 1 / 301 <= r["p_value"] <= 1
        assert r["p_value"] * 301 == pytest.approx(round(r["p_value"] * 301))
    # the permutations do not change the estimates
    plain = nca(NCA_EXAMPLE, Y, conds)["results"]
    for r, s in zip(a["results"], plain):
        assert {k: v for k, v in r.items() if k != "p_value"} == \
               {k: v for k, v in s.items() if k != "p_value"}


def test_unrelated_variables_are_not_significant():
    # y reversed against x: the upper-left corner is full, d = 0, and every
    # permuted d_r >= 0, so p = (R + 1) / (R + 1) = 1.
    df = pd.DataFrame({"x": np.arange(12.0), "y": np.arange(12.0)[::-1]})
    for r in nca(df, "y", "x", permutations=50, seed=3)["results"]:
        assert r["effect_size"] == 0 and r["p_value"] == 1.0


def test_distinct_permutations_for_small_n():
    perms = nca_module._permutations(5, 100, np.random.default_rng(0))
    assert len({p.tobytes() for p in perms}) == 100
    perms = nca_module._permutations(30, 200, np.random.default_rng(0))
    assert len({p.tobytes() for p in perms}) == 200


# --------------------------------------------------------------------------- #
# Input checks
# --------------------------------------------------------------------------- #
def test_input_errors():
    with pytest.raises(ValueError, match="unknown ceiling"):
        nca(SMALL, "y", "x", ceilings=["ols"])
    with pytest.raises(ValueError, match="not found"):
        nca(SMALL, "y", ["x", "z"])
    with pytest.raises(ValueError, match=">= 0"):
        nca(SMALL, "y", "x", permutations=-1)
    with pytest.raises(TypeError):
        nca(SMALL.to_numpy(), "y", "x")
    with pytest.raises(ValueError, match="at least 2"):
        ceiling_line([1], [2])


# --------------------------------------------------------------------------- #
# Plot
# --------------------------------------------------------------------------- #
def test_ceiling_points_for_plotting():
    ce = ceiling_line(SMALL["x"], SMALL["y"], "ce_fdh")
    xs, ys = ce.points()
    # up from (1, ymin), then right and up through (2,3) and (4,5), on to xmax = 5
    assert xs.tolist() == [1, 1, 2, 2, 4, 4, 5]
    assert ys.tolist() == [1, 1, 1, 3, 3, 5, 5]
    cr = ceiling_line(SMALL["x"], SMALL["y"], "cr_fdh")
    xs, ys = cr.points()
    # up the left edge to 9/7, along y = 9x/7 to the roof at x = 35/9, on to xmax
    np.testing.assert_allclose(xs, [1, 1, 35 / 9, 5])
    np.testing.assert_allclose(ys, [1, 9 / 7, 5, 5])
    assert isinstance(ce, CeilingLine)


def test_nca_plot_draws_points_and_both_ceilings():
    import matplotlib.pyplot as plt

    font = list(matplotlib.rcParams["font.sans-serif"])
    fig, ax0 = plt.subplots()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # glyphs missing from the test machine's fonts
        ax = nca_plot(NCA_EXAMPLE, Y, "Individualism", ax=ax0,
                      labels={"Individualism": "个人主义", Y: "创新绩效", "ce_fdh": "阶梯上限"})
        fig.canvas.draw()
    assert ax is ax0
    assert ax.get_xlabel() == "个人主义" and ax.get_ylabel() == "创新绩效"
    assert len(ax.collections[0].get_offsets()) == 28
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["阶梯上限 (d = 0.42)", "CR-FDH (d = 0.31)"]
    assert len(ax.lines) == 2
    assert matplotlib.rcParams["font.sans-serif"] == font
    plt.close(fig)
    ax = nca_plot(SMALL, "y", "x", ceilings=["cr_fdh"])
    assert ax.get_xlabel() == "x" and len(ax.lines) == 1
    plt.close(ax.figure)
