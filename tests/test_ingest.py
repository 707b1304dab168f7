"""Ingestion of well-formed exports: every platform format gives the simulated answers back."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis.io import read_json, sha256
from analysis.study.exports import write_export
from analysis.study.readers import normalize_heading
from analysis.study.ingest import export_labelled, ingest
from analysis.study.instrument import load_instrument
from analysis.study.simulate import dont_know_as_missing, simulate_sample

INST = load_instrument()
ITEMS = INST.item_codes()


@pytest.fixture(scope="module")
def sample():
    return simulate_sample(120, 12, 77, instrument=INST)


@pytest.fixture(scope="module")
def exports(sample, tmp_path_factory):
    d = tmp_path_factory.mktemp("exports")
    return {
        "wjx_gb18030": write_export(sample.data, "wjx", d / "wjx.csv", INST),
        "wjx_codes_bom": write_export(sample.data, "wjx", d / "wjx_codes.csv", INST, encoding="utf-8-sig",
                                      answers="code"),
        "wjx_xlsx": write_export(sample.data, "wjx", d / "wjx.xlsx", INST),
        "kobo": write_export(sample.data, "kobo", d / "kobo.csv", INST),
        "codebook": write_export(sample.data, "csv", d / "codebook.csv", INST),
    }


@pytest.mark.parametrize("name,fmt", [("wjx_gb18030", "wjx"), ("wjx_codes_bom", "wjx"), ("wjx_xlsx", "wjx"),
                                      ("kobo", "kobo"), ("codebook", "csv")])
def test_every_format_returns_the_simulated_answers(name, fmt, sample, exports, tmp_path):
    raw = exports[name]
    before = raw.read_bytes()
    report = ingest(raw, tmp_path, instrument=INST)
    assert raw.read_bytes() == before
    assert report.format == fmt and report.n_rows == 120 and report.n_accepted == 120
    got = pd.read_parquet(tmp_path / "responses.parquet")
    want = dont_know_as_missing(sample.data, INST)       # don't know (8): missing by design
    text_codes = [cv.code for cv in INST.context if cv.kind == "text"]
    cols = ITEMS + [INST.attention_check.code] + [c for c in INST.context_codes if c not in text_codes]
    np.testing.assert_array_equal(got[cols].to_numpy(float), want[cols].to_numpy(float))
    assert got["community"].tolist() == want["community"].tolist()
    np.testing.assert_allclose(got["duration_s"], want["duration_s"], atol=1.0 if fmt == "kobo" else 0)
    assert got["submit_date"].tolist() == want["submitted"].dt.strftime("%Y-%m-%d").tolist()
    assert got["resp_id"].tolist() == sample.truth["resp_id"].tolist()
    assert list(got.columns) == (["resp_id"] + ITEMS + [INST.attention_check.code] + INST.context_codes
                                 + ["duration_s", "submit_date"])
    assert all(pd.api.types.is_float_dtype(got[c]) for c in ITEMS)
    rep = read_json(tmp_path / "ingest_report.json")
    assert rep["raw_sha256"] == sha256(raw)
    assert rep["counts"] == {"records": 120, "consent_excluded": 0, "duplicates_collapsed": 0, "quarantined": 0,
                             "accepted": 120}
    mapped = {v for v in rep["mapping"].values() if not v.startswith(("dropped", "meta"))}
    assert mapped == set(cols) | set(text_codes)
    # open answers arrive with the identifiers respondents typed replaced by tags
    open_text = got["suggestion"].dropna()
    assert open_text.str.contains(r"\[电话\]").sum() >= 3
    assert not open_text.str.contains(r"1[3-9]\d{9}").any()
    assert rep["redactions"].get("[电话]", 0) >= 3


def test_ingestion_is_deterministic(exports, tmp_path):
    for sub in ("a", "b"):
        ingest(exports["wjx_gb18030"], tmp_path / sub, instrument=INST)
    for f in ("responses.parquet", "responses.csv", "quarantine.csv", "ingest_report.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_missing_answers_are_nan(sample, exports, tmp_path):
    ingest(exports["wjx_gb18030"], tmp_path, instrument=INST)
    got = pd.read_parquet(tmp_path / "responses.parquet")
    assert got[ITEMS].isna().sum().sum() == dont_know_as_missing(sample.data, INST)[ITEMS].isna().sum().sum() > 0
    csv_text = (tmp_path / "responses.csv").read_text(encoding="utf-8")
    assert "(空)" not in csv_text and "nan" not in csv_text.lower().split(",")


def test_headings_normalize():
    assert normalize_heading("12、社区社会组织—社区有志愿服务队。") == "社区社会组织—社区有志愿服务队。"
    assert normalize_heading("Q3. 所在城市【单选题】") == "所在城市"


def test_export_labelled_round_trips(exports, tmp_path):
    ingest(exports["kobo"], tmp_path, instrument=INST)
    written = export_labelled(tmp_path, instrument=INST)
    assert [p.name for p in written] == ["responses.sav", "responses.dta"]
    src = pd.read_parquet(tmp_path / "responses.parquet")
    for path, reader in ((written[0], pyreadstat.read_sav), (written[1], pyreadstat.read_dta)):
        frame, meta = reader(str(path))
        np.testing.assert_array_equal(frame[ITEMS].to_numpy(float), src[ITEMS].to_numpy(float))
        labels = dict(zip(meta.column_names, meta.column_labels))
        assert labels["PL1"] == INST.item("PL1").text_zh[:80]
        vl = meta.variable_value_labels["PL1"]
        assert vl[5] == "非常同意" and vl[1] == "非常不同意"
        assert meta.variable_value_labels["city"][1] == "郑州"
    first = [p.read_bytes() for p in written]
    again = export_labelled(tmp_path, instrument=INST)
    assert [p.read_bytes() for p in again] == first
