"""The don't-know answer (不清楚, code 8): missing by design in ingestion, counted per item.

The truth is the simulated sample itself: every cell the simulation answered
"don't know" must arrive as NaN and be counted under its item, in every
export format; the same code on an item that does not offer it is a fault.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.io import read_json
from analysis.study.exports import write_export
from analysis.study.ingest import ingest
from analysis.study.instrument import load_instrument
from analysis.study.simulate import dont_know_as_missing, simulate_sample

INST = load_instrument()
ITEMS = INST.item_codes()
DK = INST.scale.dont_know
MEANING = f"don't know ({DK.value})"


@pytest.fixture(scope="module")
def sample():
    return simulate_sample(150, 10, 20240815, instrument=INST)


def test_the_simulation_answers_dont_know_only_where_it_is_offered(sample):
    answers = sample.data[ITEMS]
    is_dk = answers == DK.value
    offered = [c for c in ITEMS if c in INST.dont_know_codes]
    assert is_dk[offered].to_numpy().sum() > 20                       # the path is exercised
    assert not is_dk.drop(columns=offered).to_numpy().any()
    attentive = sample.truth["status"].isin(["valid", "duplicate"])
    assert not is_dk[~attentive].to_numpy().any()                     # careless rows and speeders never do
    np.testing.assert_array_equal(sample.truth["n_dont_know"], is_dk.sum(axis=1))


@pytest.mark.parametrize("fmt,name,kw", [("wjx", "wjx.csv", {}), ("wjx", "wjx_codes.csv", {"answers": "code"}),
                                         ("kobo", "kobo.csv", {}), ("csv", "codebook.csv", {})])
def test_dont_know_is_missing_by_design_and_counted_per_item(sample, tmp_path, fmt, name, kw):
    raw = write_export(sample.data, fmt, tmp_path / name, INST, **kw)
    if "answers" in kw:
        assert f",{DK.value}," in raw.read_text(encoding="gb18030")    # the numeric download writes 8
    elif fmt == "wjx":
        assert DK.zh in raw.read_text(encoding="gb18030")             # the text download writes 不清楚
    report = ingest(raw, tmp_path / "out", instrument=INST)
    assert report.n_accepted == len(sample.data) and report.n_quarantined == 0
    got = pd.read_parquet(tmp_path / "out" / "responses.parquet")
    is_dk = sample.data[ITEMS] == DK.value
    want = dont_know_as_missing(sample.data, INST)[ITEMS]
    assert want.isna().sum().sum() == sample.data[ITEMS].isna().sum().sum() + is_dk.sum().sum()
    np.testing.assert_array_equal(got[ITEMS].to_numpy(float), want.to_numpy(float))
    counts = {c: int(n) for c, n in is_dk.sum().items() if n}
    rep = read_json(tmp_path / "out" / "ingest_report.json")
    assert {c: v[MEANING] for c, v in rep["special_codes"].items() if MEANING in v} == counts
    assert f"don't know): {sum(counts.values())} answers" in str(report)


def test_dont_know_on_an_item_that_does_not_offer_it_is_quarantined(sample, tmp_path):
    data = sample.data.copy()
    plain = next(c for c in ITEMS if c not in INST.dont_know_codes)  # PL1
    row = int(np.flatnonzero(sample.truth["status"] == "valid")[0])
    data.loc[row, plain] = DK.value
    raw = write_export(data, "wjx", tmp_path / "wjx.csv", INST, answers="code")
    report = ingest(raw, tmp_path / "out", instrument=INST)
    assert report.n_quarantined == 1
    q = pd.read_csv(tmp_path / "out" / "quarantine.csv", dtype=str, keep_default_na=False)
    assert q["source_row"].tolist() == [str(row + 2)]                  # header = row 1
    assert f"{plain}: out of range" in q.loc[0, "reasons"]
    assert q.loc[0, plain] == "9"                  # not an answer of this item: only its shape is shown
