"""Observed product terms (``y ~ x + w + x:w``), moderated mediation, probing and
sampling weights against lavaan 0.6.14.

References: ``tests/reference/lavaan_moderation.R`` (printed output in
``lavaan_moderation.Rout``); data ``tests/reference/data/modmed.csv``
(simulated in that script, 400 rows in 40 clusters, with a design weight) and
``HS_weights.csv`` (lavaan's HolzingerSwineford1939 with a weight column);
results ``tests/reference/lavaan/mod_*``.

Estimates, standard errors and ``std_all`` (``x:w`` and ``:=`` rows
included) must agree within ``EST_ATOL``: lavaan stops its optimizer at a
relative tolerance that leaves ~1e-4 in some residual covariances of the
weighted PoliticalDemocracy model (the chi-squares agree to 8 digits); every
fit measure lavaan reports is compared at the per-quantity tolerances of
``sem_ref.TOL``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem import sem
from analysis.sem.interactions import add_products, johnson_neyman, simple_slopes
from analysis.sem.syntax import parse_syntax

from sem_ref import HS_MODEL, PD_MODEL, REF, assert_estimates_match, measure_mismatches, read_estimates, read_fit

LAV = REF / "lavaan"
EST_ATOL = 2e-4
#: fit-measure tolerances (sem_ref.TOL kinds) loosened where lavaan's early stop shows: the scaled test of
#: the weighted PoliticalDemocracy model is evaluated at estimates ~1e-4 from the optimum, which moves
#: its RMSEA p-values by ~1.2e-6 (the chi-squares agree to 8 digits)
FIT_TOL = {"statistic": (2e-6, 1e-6), "index": (0.0, 2e-6)}
CASE_FIT_TOL = {"wt_pd": {"pvalue": (0.0, 5e-6)}}
SIMPLE = " y ~ b1*x + b2*w + b3*x:w "
MODMED = """
  m ~ a1*x + a2*w + a3*x:w
  y ~ cp*x + b*m + w
  imm    := a3*b
  ind_lo := (a1 + a3*1.3)*b
  ind_mi := (a1 + a3*2.0)*b
  ind_hi := (a1 + a3*2.7)*b
"""


def _data(name: str) -> pd.DataFrame:
    if name == "HS_missing_weights":  # HS_missing with the weights of HS_weights and the R script's blocks
        d = pd.read_csv(REF / "data" / "HS_missing.csv")
        d["wt"] = pd.read_csv(REF / "data" / "HS_weights.csv")["wt"]
        d["cl"] = np.arange(len(d)) // 10 + 1
        return d
    if name == "PD":
        d = pd.read_csv(REF / "data" / "PoliticalDemocracy.csv")
        d["wt"] = 1 + (np.arange(1, len(d) + 1) % 4) / 2  # as the R script
        return d
    return pd.read_csv(REF / "data" / f"{name}.csv")


CASES = {
    "simple": (SIMPLE, "modmed", {}),
    "modmed": (MODMED, "modmed", {}),
    "modmed_mlr": (MODMED, "modmed", {"estimator": "MLR"}),
    "wt_hs": (HS_MODEL, "HS_weights", {"sampling_weights": "wt"}),
    "wt_hs_group": (HS_MODEL, "HS_weights", {"sampling_weights": "wt", "group": "school"}),
    "wt_pd": (PD_MODEL, "PD", {"sampling_weights": "wt"}),
    "wt_modmed": (MODMED, "modmed", {"sampling_weights": "wt"}),
    "wt_modmed_cluster": (MODMED, "modmed", {"sampling_weights": "wt", "cluster": "cl"}),
    "wt_hs_fiml": (HS_MODEL, "HS_missing_weights", {"sampling_weights": "wt", "missing": "fiml"}),
    "wt_hs_fiml_cluster": (HS_MODEL, "HS_missing_weights", {"sampling_weights": "wt", "missing": "fiml",
                                                            "cluster": "cl"}),
}


@pytest.fixture(scope="module")
def fits():
    cache = {}

    def get(case):
        if case not in cache:
            model, data, kw = CASES[case]
            cache[case] = sem(model, _data(data), **kw)
        return cache[case]

    return get


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_match_lavaan(fits, case):
    ref = read_estimates(LAV / f"mod_{case}_estimates.csv")
    assert_estimates_match(fits(case).estimates, ref, atol_est=EST_ATOL, atol_se=EST_ATOL,
                           atol_std=EST_ATOL)


@pytest.mark.parametrize("case", list(CASES))
def test_every_fit_measure_matches_lavaan(fits, case):
    ref = read_fit(LAV / f"mod_{case}_fit.csv")
    bad = measure_mismatches(fits(case).fit, ref, {**FIT_TOL, **CASE_FIT_TOL.get(case, {})})
    assert not bad, f"{case}:\n" + "\n".join(bad)


def test_weighted_fits_are_mlr_as_lavaan(fits):
    cases = pd.read_csv(LAV / "mod_cases.csv").set_index("case")
    for case in ("wt_hs", "wt_pd", "wt_modmed"):
        fit = fits(case)
        assert cases.loc[case, "se"] == "robust.huber.white" and fit.options["estimator"] == "MLR"
        assert fit.options["sampling_weights"] == "wt"
        assert bool(cases.loc[case, "meanstructure"]) == fit.options["meanstructure"]
        assert fit.fit["nobs"] == cases.loc[case, "nobs"]


def test_product_rows_keep_lavaan_names(fits):
    est = fits("modmed").estimates
    row = est[(est.lhs == "m") & (est.op == "~") & (est.rhs == "x:w")]
    assert len(row) == 1 and row.label.iloc[0] == "a3"
    # the product is exogenous: its variance is fixed at the sample variance of the raw product
    d = _data("modmed")
    var = est[(est.lhs == "x:w") & (est.op == "~~") & (est.rhs == "x:w")]
    assert var.se.iloc[0] == 0
    assert var.est.iloc[0] == pytest.approx(np.var(d.x * d.w), rel=1e-12)


def test_simple_slopes_and_johnson_neyman_match_lavaan_vcov(fits):
    ref = pd.read_csv(LAV / "mod_probe.csv")
    fit = fits("simple")
    ours = simple_slopes(fit, "y", "x", "w", at=ref["w"])
    for col in ("slope", "se", "z", "pvalue", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(ours[col], ref[col], rtol=1e-5, atol=1e-7, err_msg=col)
    jn = johnson_neyman(fit, "y", "x", "w")
    assert jn.lower == pytest.approx(ref.jn_lower.iloc[0], rel=1e-5)
    assert jn.upper == pytest.approx(ref.jn_upper.iloc[0], rel=1e-5)
    # the slopes lavaan calls significant are those inside the interval
    inside = (ref.w > jn.lower) & (ref.w < jn.upper)
    assert jn.inside and ((ref.pvalue < 0.05) == inside).all()


def test_conditional_indirect_effects_are_the_defined_parameters(fits):
    """(a1 + a3 w) b at w equals the := row, and the index of moderated mediation is their slope in w."""
    est = fits("modmed").estimates.set_index("lhs")
    a1 = est.loc["m"].query("rhs == 'x'").est.iloc[0]
    a3 = est.loc["m"].query("rhs == 'x:w'").est.iloc[0]
    b = est.loc["y"].query("rhs == 'm'").est.iloc[0]
    for name, w in (("ind_lo", 1.3), ("ind_mi", 2.0), ("ind_hi", 2.7)):
        assert est.loc[name, "est"] == pytest.approx((a1 + a3 * w) * b, rel=1e-12)
    assert (est.loc["ind_hi", "est"] - est.loc["ind_lo", "est"]) / 1.4 == pytest.approx(est.loc["imm", "est"])


def test_weights_scale_free_and_equal_weights_are_unweighted_mlr():
    d = _data("HS_weights")
    a = sem(HS_MODEL, d, sampling_weights="wt")
    d2 = d.assign(wt=d.wt * 7.5)  # normalised to sum to N: a constant factor changes nothing
    b = sem(HS_MODEL, d2, sampling_weights="wt")
    np.testing.assert_allclose(a.estimates.se, b.estimates.se, rtol=1e-8)
    np.testing.assert_allclose(a.fit["chisq_scaled"], b.fit["chisq_scaled"], rtol=1e-8)
    c = sem(HS_MODEL, d.assign(wt=3.0), sampling_weights="wt")
    u = sem(HS_MODEL, d, estimator="MLR")
    np.testing.assert_allclose(c.estimates.est, u.estimates.est, atol=1e-8)
    np.testing.assert_allclose(c.estimates.se, u.estimates.se, atol=1e-8)
    assert c.fit["chisq_scaled"] == pytest.approx(u.fit["chisq_scaled"], rel=1e-8)


def test_products_follow_lavaan_missing_rule():
    d = pd.DataFrame({"x": [1.0, np.nan, 3.0], "w": [2.0, 5.0, np.nan], "z": [1, 2, 3]})
    out = add_products(d, ["y", "x:w", "x:w:z"])
    assert list(out.columns) == ["x", "w", "z", "x:w", "x:w:z"]
    np.testing.assert_array_equal(out["x:w"], [2.0, np.nan, np.nan])
    assert out["x:w:z"].iloc[0] == 2.0
    assert add_products(d, ["x", "w"]) is d
    with pytest.raises(ValueError, match="'q', which is not a column"):
        add_products(d, ["x:q"])


def test_syntax_reads_products_only_where_lavaan_does():
    f = parse_syntax("y ~ x + w + b3*x:w\n x:w ~~ x:w")
    assert [(r.lhs, r.op, r.rhs) for r in f][2:] == [("y", "~", "x:w"), ("x:w", "~~", "x:w")]
    assert f[2].modifier.label == ["b3"]
    for bad in ("f =~ x:w", "y ~ x:", "x:w =~ y1"):
        with pytest.raises(ValueError, match="line 1"):
            parse_syntax(bad)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.drop(columns="wt"), "not in the data"),
    (lambda d: d.assign(wt=d.wt.where(d.index != 4)), "missing or infinite value.*data row 5"),
    (lambda d: d.assign(wt=-d.wt), "negative"),
    (lambda d: d.assign(wt="a"), "not numeric"),
])
def test_bad_weights_say_what_is_wrong(change, message):
    d = change(_data("HS_weights"))
    with pytest.raises(ValueError, match=message):
        sem(HS_MODEL, d, sampling_weights="wt")


@pytest.mark.parametrize("kw", [{"bootstrap": 10}, {"missing": "two.stage"}, {"estimator": "WLSMV"}])
def test_weights_with_unimplemented_options_refuse(kw):
    with pytest.raises(NotImplementedError, match="[Ss]ampling weights|bootstrap with sampling"):
        sem(HS_MODEL, _data("HS_weights"), sampling_weights="wt", **kw)
