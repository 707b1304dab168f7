"""Modification indices of the HS CFA against lavaan's ``modindices()``.

Reference: ``tests/reference/lavaan/hs_cfa_modindices.csv`` (all 54 rows,
sorted by mi).  Tolerances: ``atol=1e-3`` for mi, epc, sepc.lv and
sepc.all; the top ten rows must come in lavaan's order.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem import cfa

from sem_ref import HS_MODEL, REF


@pytest.fixture(scope="module")
def mi(hs):
    return cfa(HS_MODEL, hs).modindices()


@pytest.fixture(scope="module")
def ref():
    return pd.read_csv(REF / "lavaan" / "hs_cfa_modindices.csv")


def test_same_candidates(mi, ref):
    ours = set(zip(mi["lhs"], mi["op"], mi["rhs"]))
    theirs = set(zip(ref["lhs"], ref["op"], ref["rhs"]))
    assert ours == theirs


def test_top_ten_in_order(mi, ref):
    top = mi.head(10)
    assert list(zip(top["lhs"], top["op"], top["rhs"])) == \
        list(zip(ref["lhs"], ref["op"], ref["rhs"]))[:10]


def test_values_match(mi, ref):
    m = ref.rename(columns={"mi": "mi_ref", "epc": "epc_ref", "sepc.lv": "sepc_lv_ref",
                            "sepc.all": "sepc_all_ref"}).merge(mi, on=["lhs", "op", "rhs"])
    for col in ("mi", "epc", "sepc_lv", "sepc_all"):
        bad = m[~np.isclose(m[col], m[col + "_ref"], rtol=0, atol=1e-3)]
        assert bad.empty, bad[["lhs", "op", "rhs", col, col + "_ref"]]


def test_minimum_value_filters(hs):
    out = cfa(HS_MODEL, hs).modindices(minimum_value=10)
    assert len(out) == 4 and (out["mi"] >= 10).all()
