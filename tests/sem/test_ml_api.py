"""The public API: input errors a researcher can act on, outputs' shape."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.sem import ESTIMATORS, cfa, sem
from analysis.sem.results import ESTIMATE_COLUMNS, FIT_KEYS

from sem_ref import HS_MODEL


def test_unknown_variable(hs):
    with pytest.raises(ValueError, match=r"not columns of the data: \['x10'\]"):
        cfa("f =~ x1 + x2 + x10", hs)


def test_non_numeric_column(hs):
    with pytest.raises(ValueError, match="'school' is not numeric"):
        cfa("f =~ x1 + x2 + school", hs)


def test_unknown_group_and_estimator(hs):
    with pytest.raises(ValueError, match="group column"):
        cfa(HS_MODEL, hs, group="district")
    with pytest.raises(ValueError, match="Unknown estimator"):
        cfa(HS_MODEL, hs, estimator="GLS2")
    with pytest.raises(ValueError, match="se must be"):
        cfa(HS_MODEL, hs, se="jackknife")


def test_listwise_deletion_reports_dropped_rows(hs):
    d = hs.copy()
    d.loc[[0, 5, 9], "x2"] = np.nan
    res = cfa(HS_MODEL, d)
    assert res.stats.n_dropped == 3 and res.fit["nobs"] == 298
    assert "Rows dropped (missing)" in res.summary()


def test_output_shapes_and_json(hs):
    res = cfa(HS_MODEL, hs)
    assert list(res.estimates.columns) == ESTIMATE_COLUMNS
    assert set(FIT_KEYS) <= set(res.fit.index)
    for col in ESTIMATE_COLUMNS[5:]:
        assert pd.api.types.is_float_dtype(res.estimates[col])
    d = res.to_dict()
    assert set(d) == {"fit", "estimates", "converged", "issues"}
    json.dumps(d)  # serialisable: NaN became None
    assert res.vcov.shape == (21, 21)
    assert "<table" in res._repr_html_()


def test_se_none(hs):
    res = cfa(HS_MODEL, hs, se="none")
    assert res.estimates["se"][res.partable["free"].to_numpy() > 0].isna().all()


def test_estimator_table():
    assert {"ML", "MLR", "DWLS", "WLSMV"} <= set(ESTIMATORS)


def test_warm_start_gives_same_solution(hs):
    a = cfa(HS_MODEL, hs)
    b = cfa(HS_MODEL, hs, start=a.theta)
    assert b.n_iter <= 1
    np.testing.assert_allclose(a.theta, b.theta, atol=1e-9)
