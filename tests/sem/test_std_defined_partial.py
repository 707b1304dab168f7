"""Standardized ``:=`` parameters (with delta-method SEs) and ``group_partial``
against lavaan 0.6.14 (project issue 14, point 3).

References recorded by ``tests/reference/lavaan_std_partial.R`` (printed
output: ``tests/reference/lavaan_std_partial.Rout``) in
``tests/reference/lavaan/stdpartial_<case>_{estimates,stdsol,fit}.csv``:
``parameterEstimates(fit, standardized = TRUE)`` (std.lv, std.all, std.nox),
``standardizedSolution(fit, type = t)`` for the three types, ``fitMeasures``.

Every comparison matches rows on ``lhs, op, rhs, group`` and fails on any
row missing on either side or outside its tolerance (listed in ``TOL``;
``|ours - lavaan| <= atol + rtol * |lavaan|``, NaN only against NaN).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.sem import cfa, sem
from analysis.sem.partable import build_partable, parse_group_partial
from analysis.sem.syntax import parse_parameter

from sem_ref import REF, read_fit

LAV = REF / "lavaan"
KEY = ["lhs", "op", "rhs", "group"]

#: (atol, rtol) per quantity.  Estimates agree to about 1e-5 (optimizer
#: tolerance), SEs to about 1e-6, p-values to about 1e-5 (a latent mean with
#: z near 0.5 is the most sensitive); z is large for intercepts (up to ~100),
#: hence its relative part.
TOL = {
    "est": (1e-4, 0), "se": (1e-5, 0), "z": (1e-4, 1e-5), "pvalue": (5e-5, 0),
    "ci_lower": (1e-4, 0), "ci_upper": (1e-4, 0),
    "std_lv": (1e-4, 0), "std_all": (1e-4, 0), "std_nox": (1e-4, 0), "est_std": (1e-4, 0),
}
#: lavaan fitMeasures name -> ours, with (atol, rtol).
FIT = {
    "npar": ("npar", 0, 0), "df": ("df", 0, 0), "chisq": ("chisq", 1e-5, 1e-8),
    "pvalue": ("pvalue", 1e-8, 0), "cfi": ("cfi", 1e-7, 0), "tli": ("tli", 1e-7, 0),
    "rmsea": ("rmsea", 1e-7, 0), "rmsea.ci.lower": ("rmsea_ci_lower", 1e-6, 0),
    "rmsea.ci.upper": ("rmsea_ci_upper", 1e-6, 0), "rmsea.pvalue": ("rmsea_pvalue", 1e-7, 0),
    "srmr": ("srmr", 1e-6, 0), "logl": ("loglik", 1e-5, 1e-9),
    "unrestricted.logl": ("unrestricted_loglik", 1e-5, 1e-9), "aic": ("aic", 1e-5, 1e-9),
    "bic": ("bic", 1e-5, 1e-9), "baseline.chisq": ("baseline_chisq", 1e-5, 1e-9),
    "baseline.df": ("baseline_df", 0, 0), "ntotal": ("nobs", 0, 0),
}

HS_CFA = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""
PATH_MED = """
x4 ~ a*x1
x7 ~ b*x4 + c*x1
ind := a*b
total := c + a*b
"""
PD_MED = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ a*ind60
dem65 ~ c*ind60 + b*dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
ind := a*b
total := c + a*b
"""
GROUPS_MED = HS_CFA + """
textual ~ c(a1, a2)*visual
speed   ~ c(b1, b2)*textual + c(c1, c2)*visual
ind1 := a1*b1
ind2 := a2*b2
total1 := c1 + a1*b1
total2 := c2 + a2*b2
diff := ind1 - ind2
"""
PARTIAL_SCALAR = dict(group="school", group_equal=["loadings", "intercepts"],
                      group_partial=["visual =~ x2", "x3 ~ 1"])
PARTIAL_STRICT = dict(group="school", group_equal=["loadings", "intercepts", "residuals"],
                      group_partial=["visual=~x2", "textual =~ x5", "x3 ~1", "x1 ~~ x1"])

CASES = {
    "path_med": ("hs", PATH_MED, dict(meanstructure=True)),
    "pd_med": ("poldem", PD_MED, {}),
    "groups_med": ("hs", GROUPS_MED, dict(group="school", group_equal=["loadings"])),
    "partial_scalar": ("hs", HS_CFA, PARTIAL_SCALAR),
    "partial_strict": ("hs", HS_CFA, PARTIAL_STRICT),
}


@pytest.fixture(scope="module")
def fits(hs, poldem):
    cache = {}

    def get(case):
        if case not in cache:
            dname, model, kw = CASES[case]
            cache[case] = sem(model, {"hs": hs, "poldem": poldem}[dname], **kw)
        return cache[case]
    return get


def _read(path, numeric):
    df = pd.read_csv(path, dtype={"lhs": str, "op": str, "rhs": str, "label": str, "type": str},
                     keep_default_na=False, na_values={c: [""] for c in numeric})
    return df


def assert_rows_match(ours: pd.DataFrame, ref: pd.DataFrame, columns, what: str):
    """Row-by-row comparison on lhs/op/rhs/group; every row of both tables must pair up."""
    assert not ours.duplicated(KEY).any(), f"{what}: duplicated rows in ours"
    assert not ref.duplicated(KEY).any(), f"{what}: duplicated rows in lavaan's"
    m = ref.merge(ours, on=KEY, how="outer", suffixes=("_ref", ""), indicator=True)
    unpaired = m[m["_merge"] != "both"]
    assert unpaired.empty, (f"{what}: rows without a partner (left_only = lavaan only, "
                            f"right_only = ours only):\n{unpaired[KEY + ['_merge']]}")
    bad = []
    for col in columns:
        atol, rtol = TOL[col]
        a, b = m[col].to_numpy(float), m[col + "_ref"].to_numpy(float)
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        with np.errstate(invalid="ignore"):
            ok = (nan_a & nan_b) | (~nan_a & ~nan_b & (np.abs(a - b) <= atol + rtol * np.abs(b)))
        for i in np.flatnonzero(~ok):
            bad.append(f"{m.loc[i, 'lhs']} {m.loc[i, 'op']} {m.loc[i, 'rhs']} (group "
                       f"{m.loc[i, 'group']}) {col}: ours {a[i]!r}, lavaan {b[i]!r}")
    assert not bad, f"{what}: mismatches:\n" + "\n".join(bad)
    lab = m["label_ref"].fillna("") != m["label"].fillna("")
    assert not lab.any(), f"{what}: labels differ:\n{m.loc[lab, KEY + ['label_ref', 'label']]}"


EST_COLS = ["est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_lv", "std_all", "std_nox"]
SS_COLS = ["est_std", "se", "z", "pvalue", "ci_lower", "ci_upper"]


@pytest.mark.parametrize("case", list(CASES))
def test_parameter_estimates_standardized_match_lavaan(case, fits):
    res = fits(case)
    assert res.converged and not res.issues
    ref = _read(LAV / f"stdpartial_{case}_estimates.csv", EST_COLS)
    assert_rows_match(res.estimates, ref, EST_COLS, f"{case} estimates")


@pytest.mark.parametrize("type", ["std.lv", "std.all", "std.nox"])
@pytest.mark.parametrize("case", list(CASES))
def test_standardized_solution_matches_lavaan(case, type, fits):
    ref = _read(LAV / f"stdpartial_{case}_stdsol.csv", SS_COLS)
    ref = ref[ref["type"] == type].drop(columns="type")
    assert len(ref) > 0
    assert_rows_match(fits(case).standardized_solution(type), ref, SS_COLS,
                      f"{case} standardizedSolution({type})")


@pytest.mark.parametrize("case", list(CASES))
def test_fit_measures_match_lavaan(case, fits):
    res = fits(case)
    ref = read_fit(LAV / f"stdpartial_{case}_fit.csv")
    bad = []
    for lav, (ours, atol, rtol) in FIT.items():
        a, b = float(res.fit[ours]), float(ref[lav])
        if not ((np.isnan(a) and np.isnan(b)) or abs(a - b) <= atol + rtol * abs(b)):
            bad.append(f"{lav}: ours {a!r}, lavaan {b!r}")
    assert not bad, "\n".join(bad)


def test_defined_rows_carry_every_standardization(fits):
    """The ':=' rows have std_lv/std_all/std_nox and standardized SEs (the gap of issue 14)."""
    for case in ("path_med", "pd_med", "groups_med"):
        res = fits(case)
        d = res.estimates[res.estimates["op"] == ":="]
        assert len(d) >= 2
        assert np.isfinite(d[["std_lv", "std_all", "std_nox"]].to_numpy(float)).all()
        for type in ("std.lv", "std.all", "std.nox"):
            s = res.standardized_solution(type)
            s = s[s["op"] == ":="]
            assert (s["se"] > 0).all() and np.isfinite(s["pvalue"]).all()
    # with an observed covariate, std.nox leaves x1 in raw units: the three differ
    d = fits("path_med").estimates.set_index("lhs").loc["ind"]
    assert d["std_lv"] == pytest.approx(d["est"], abs=1e-12)   # no latent variable
    assert abs(d["std_all"] - d["std_nox"]) > 5e-3
    # in a multigroup fit the ':=' rows are group 0, as lavaan
    assert (fits("groups_med").estimates.query("op == ':='")["group"] == 0).all()


def test_standardized_defined_equals_expression_of_standardized_parameters(fits):
    res = fits("groups_med")
    e = res.estimates
    lab = e[e["label"] != ""].drop_duplicates("label").set_index("label")
    for col in ("std_lv", "std_all", "std_nox"):
        s = lab[col]
        d = e[e["op"] == ":="].set_index("lhs")[col]
        assert d["ind1"] == pytest.approx(s["a1"] * s["b1"], rel=1e-12)
        assert d["total2"] == pytest.approx(s["c2"] + s["a2"] * s["b2"], rel=1e-12)
        assert d["diff"] == pytest.approx(d["ind1"] - d["ind2"], rel=1e-12)


def test_standardized_solution_without_standard_errors(hs):
    res = sem(PATH_MED, hs, se="none")
    s = res.standardized_solution()
    assert s["se"].isna().all() and s["z"].isna().all()
    assert np.allclose(s["est_std"].to_numpy(float), res.estimates["std_all"].to_numpy(float),
                       equal_nan=True)
    with pytest.raises(ValueError, match="type must be"):
        res.standardized_solution("std.ov")


# ---------------------------------------------------------------- group_partial
def test_group_partial_frees_exactly_the_named_parameters():
    pt, _ = build_partable(HS_CFA, ngroups=2, meanstructure=True,
                           group_equal=("loadings", "intercepts"),
                           group_partial=["visual =~ x2", "x3 ~ 1"])

    def free(lhs, op, rhs):
        rows = pt[(pt["lhs"] == lhs) & (pt["op"] == op) & (pt["rhs"] == rhs)]
        return rows.sort_values("group")["free"].tolist(), rows["label"].tolist()

    f, lab = free("visual", "=~", "x2")
    assert f[0] != f[1] and lab == ["", ""]
    f, lab = free("x3", "~1", "")
    assert f[0] != f[1] and lab == ["", ""]
    f, lab = free("visual", "=~", "x3")
    assert f[0] == f[1] and lab == [".p3.", ".p3."]
    assert pt["free"].max() == 50  # lavaan's npar


def test_group_partial_spellings_agree():
    kw = dict(ngroups=2, meanstructure=True, group_equal=("loadings", "intercepts", "residuals",
                                                          "residual.covariances"))
    model = HS_CFA + "x1 ~~ x4"
    a, _ = build_partable(model, group_partial=["visual =~ x2", "x3 ~ 1", "x1 ~~ x4"], **kw)
    b, _ = build_partable(model, group_partial="visual=~x2,x3~1, x4 ~~ x1", **kw)  # reversed covariance
    c, _ = build_partable(model, group_partial=("visual =~x2", " x3 ~1 ", "x1~~x4"), **kw)
    for other in (b, c):
        assert other["free"].tolist() == a["free"].tolist()
        assert other["label"].tolist() == a["label"].tolist()
    assert parse_group_partial(" visual =~ x2 , x3~1,, ") == [("visual", "=~", "x2"), ("x3", "~1", "")]


def test_group_partial_of_an_unconstrained_type_changes_nothing(hs):
    """As lavaan: naming a parameter whose type is not in group_equal is a no-op."""
    a = cfa(HS_CFA, hs, group="school", group_equal=["loadings"])
    b = cfa(HS_CFA, hs, group="school", group_equal=["loadings"], group_partial=["x1 ~~ x1"])
    assert a.partable["free"].tolist() == b.partable["free"].tolist()
    assert float(a.fit["chisq"]) == pytest.approx(float(b.fit["chisq"]), abs=1e-9)
    assert b.options["group_partial"] == ("x1~~x1",)


@pytest.mark.parametrize("bad, match", [
    (["visual =~ x10"], "not a parameter of the model"),
    (["speed =~ x1"], "not a parameter of the model"),
    (["a*x2"], "Cannot read the parameter"),
    (["visual =~ x2 + x3"], "Cannot read the parameter"),
    (["ind := a*b"], "Cannot read the parameter"),
    ([3], "not a parameter written as text"),
])
def test_group_partial_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        build_partable(HS_CFA, ngroups=2, group_equal=("loadings",), group_partial=bad)


def test_group_partial_not_for_ordinal_fits(hs):
    with pytest.raises(NotImplementedError, match="group_partial"):
        cfa(HS_CFA, hs, group="school", ordered=True, group_equal=["loadings"],
            group_partial=["visual =~ x2"])


def test_parse_parameter():
    assert parse_parameter("visual =~ x2") == ("visual", "=~", "x2")
    assert parse_parameter("x3 ~ 1") == parse_parameter("x3~1") == ("x3", "~1", "")
    assert parse_parameter("x1 ~~ x1") == ("x1", "~~", "x1")
    assert parse_parameter("textual ~ visual") == ("textual", "~", "visual")
    assert parse_parameter("x1 | t2") == ("x1", "|", "t2")
    for bad in ("x1", "", "a == b", "f =~ 1*x1", "y ~ x1 + x2"):
        with pytest.raises(ValueError):
            parse_parameter(bad)


def test_cli_group_partial_matches_lavaan(tmp_path, capsys):
    from analysis.cli import main
    from analysis.io import number_unit

    model = tmp_path / "hs.lav"
    model.write_text(HS_CFA, encoding="utf-8")
    out = tmp_path / "fit.json"
    code = main(["fit", str(model), str(REF / "data" / "HolzingerSwineford1939.csv"),
                 "--group", "school", "--group-equal", "loadings,intercepts",
                 "--group-partial", "visual=~x2, x3 ~ 1", "--json", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    payload = json.loads(out.read_text())
    ref = read_fit(LAV / "stdpartial_partial_scalar_fit.csv")
    for lav, ours in (("chisq", "chisq"), ("df", "df"), ("cfi", "cfi"), ("rmsea", "rmsea"),
                      ("npar", "npar")):
        # the JSON holds numbers at the written precision (analysis.io: 6 significant digits, >= 4 decimals)
        assert payload["fit"][ours] == pytest.approx(float(ref[lav]), abs=number_unit(float(ref[lav]))), lav
    est = pd.DataFrame(payload["estimates"])
    x2 = est[(est["lhs"] == "visual") & (est["op"] == "=~") & (est["rhs"] == "x2")]
    assert x2["est"].round(6).nunique() == 2  # free in each group
    assert {"std_lv", "std_all", "std_nox"} <= set(est.columns)
    # a parameter the model does not have is one line on stderr, exit status 2
    code = main(["fit", str(model), str(REF / "data" / "HolzingerSwineford1939.csv"),
                 "--group", "school", "--group-equal", "loadings",
                 "--group-partial", "visual=~x9", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "visual =~ x9" in err and "Traceback" not in err
