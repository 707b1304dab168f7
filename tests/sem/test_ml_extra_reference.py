"""Further lavaan 0.6.14 references: fixed.x covariates, observed mediators,
auto.cov.y, std.lv in a structural model, multigroup equal regressions,
per-group labels with a ``:=`` contrast, the ``==`` operator.

Recorded by ``tests/sem/lavaan_ml_extra.R`` (output:
``tests/sem/lavaan_ml_extra.Rout``).  Tolerance ``atol=1e-3`` for est, se,
std_all and every fit measure compared.
"""
from __future__ import annotations

import numpy as np
import pytest

from analysis.sem import sem

from sem_ref import EXTRA, assert_estimates_match, read_estimates, read_fit

M1 = "dem60 =~ y1 + y2 + y3 + y4\ndem60 ~ x1 + x2"
M2 = "x4 ~ a*x1\nx7 ~ b*x4 + c*x1\nind := a*b\ntotal := c + a*b"
M3 = """visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
textual ~ visual
speed ~ visual"""

M5 = """visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
textual ~ c(b1, b2)*visual
diff := b1 - b2"""
M6 = """visual  =~ x1 + a*x2 + b*x3
textual =~ x4 + x5 + x6
a == b"""

CASES = {
    "pd_fixedx": ("poldem", M1, {}),
    "pd_fixedx_meanstructure": ("poldem", M1, {"meanstructure": True}),
    "hs_path_mediation": ("hs", M2, {}),
    "hs_two_outcomes": ("hs", M3, {}),
    "hs_two_outcomes_stdlv": ("hs", M3, {"std_lv": True}),
    "hs_two_outcomes_groups": ("hs", M3, {"group": "school",
                                          "group_equal": ["loadings", "regressions",
                                                          "lv.variances"]}),
    "hs_groups_defined": ("hs", M5, {"group": "school", "group_equal": ["loadings"]}),
    "hs_equality_operator": ("hs", M6, {}),
}
FIT_MAP = {"npar": "npar", "chisq": "chisq", "df": "df", "pvalue": "pvalue", "cfi": "cfi",
           "tli": "tli", "rmsea": "rmsea", "rmsea.ci.lower": "rmsea_ci_lower",
           "rmsea.ci.upper": "rmsea_ci_upper", "srmr": "srmr", "logl": "loglik",
           "unrestricted.logl": "unrestricted_loglik", "aic": "aic", "bic": "bic",
           "baseline.chisq": "baseline_chisq", "baseline.df": "baseline_df"}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_lavaan(case, hs, poldem):
    dname, model, kw = CASES[case]
    res = sem(model, {"hs": hs, "poldem": poldem}[dname], **kw)
    assert res.converged
    assert_estimates_match(res.estimates, read_estimates(EXTRA / f"{case}_estimates.csv"))
    ref = read_fit(EXTRA / f"{case}_fit.csv")
    bad = []
    for lav, ours in FIT_MAP.items():
        a, b = float(res.fit[ours]), float(ref[lav])
        if not (np.isclose(a, b, rtol=0, atol=1e-3) or (np.isnan(a) and np.isnan(b))):
            bad.append(f"{lav}: ours {a:.6f}, lavaan {b:.6f}")
    assert not bad, "\n".join(bad)
