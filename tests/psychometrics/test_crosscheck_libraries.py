"""Independent cross-checks of our data-first statistics against the libraries a reader would reach for.

pingouin's ``cronbach_alpha`` (pairwise and listwise, with its Feldt interval) and statsmodels' OLS are
independent implementations; agreement with them is a second reference beside psych (tests/reference/psych).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm

from analysis.psychometrics import cronbach_alpha
from analysis.study.instrument import load_instrument
from analysis.study.simulate import dont_know_as_missing, simulate_sample

INST = load_instrument()


@pytest.fixture(scope="module")
def items():
    data = dont_know_as_missing(simulate_sample(400, 20, 31, instrument=INST).data, INST)   # 8 = don't know: NaN
    return INST.score(data)[INST.item_codes("GRID")]


@pytest.mark.parametrize("policy", ["pairwise", "listwise"])
def test_alpha_agrees_with_pingouin(items, policy):
    ours = cronbach_alpha(items, nan_policy=policy)
    alpha, (lo, hi) = pg.cronbach_alpha(items, nan_policy=policy, ci=0.95)
    assert ours["alpha"] == pytest.approx(alpha, abs=1e-12)
    if policy == "pairwise":
        # pingouin rounds its interval to three decimals
        assert ours["ci_lower"] == pytest.approx(lo, abs=5e-4) and ours["ci_upper"] == pytest.approx(hi, abs=5e-4)
    else:
        # pingouin 0.5-0.7 keeps n = all rows in Feldt's interval after dropping incomplete ones; ours (as
        # psych with use = "complete.obs") uses the rows that were used, so its interval is a little wider
        assert ours["n"] < len(items)
        assert ours["ci_lower"] < lo + 5e-4 and ours["ci_upper"] > hi - 5e-4


def test_structural_path_of_observed_scores_agrees_with_statsmodels_ols(items):
    from analysis.sem import sem

    rng = np.random.default_rng(3)
    x = rng.normal(size=300)
    m = 0.5 * x + rng.normal(size=300)
    y = 0.3 * m + 0.2 * x + rng.normal(size=300)
    frame = pd.DataFrame({"x": x, "m": m, "y": y})
    fit = sem("m ~ x\ny ~ m + x", frame)
    est = fit.estimates.set_index(["lhs", "op", "rhs"])["est"]
    ols = sm.OLS(frame["y"], sm.add_constant(frame[["m", "x"]])).fit()
    # ML and OLS give the same regression slopes for an observed-variable path model
    assert est[("y", "~", "m")] == pytest.approx(ols.params["m"], rel=1e-6)
    assert est[("y", "~", "x")] == pytest.approx(ols.params["x"], rel=1e-6)
