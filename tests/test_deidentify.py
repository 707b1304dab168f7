"""De-identification: identifier patterns, the scanner, and planted identifiers never reaching processed data."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.study.deidentify import (
    coarsen_to_day,
    find_identifiers,
    id_card_check_digit,
    is_identifier_column,
    pseudonym,
    scan_for_identifiers,
    valid_id_card,
)
from analysis.study.exports import write_export
from analysis.study.ingest import ingest
from analysis.study.instrument import load_instrument
from analysis.study.simulate import simulate_sample

INST = load_instrument()


@pytest.mark.parametrize("text,kinds", [
    ("联系电话13912345678", ["mobile"]),
    ("tel: 19912345678.", ["mobile"]),
    ("12912345678", []),                      # 1 then 2: not a mobile prefix
    ("139123456789", []),                     # 12 digits: part of a longer number
    ("0.13912345678", []),                    # a decimal
    ("13912345678.25", []),                   # a decimal
    ("sha256 a13912345678f0c9", []),          # inside a hex hash
    ("身份证11010519491231002X", ["id_card"]),
    ("11010519491231002x", ["id_card"]),
    ("110105194912310021", []),               # wrong checksum
    ("110105194913310029", []),               # month 13
])
def test_find_identifiers(text, kinds):
    assert [k for k, _ in find_identifiers(text)] == kinds


def test_id_card_checksum_known_value():
    # GB 11643-1999 example number
    assert id_card_check_digit("11010519491231002") == "X"
    body = "41019919800101123"
    full = body + id_card_check_digit(body)
    assert valid_id_card(full)
    wrong = body + ("0" if full[-1] != "0" else "1")
    assert not valid_id_card(wrong)


def test_identifier_columns():
    for h in ("来源IP", "来源详情", "微信昵称", "30、填写人手机号码", "填写人身份证号码", "phone", "respondent_name",
              "_uuid", "deviceid", "address"):
        assert is_identifier_column(h), h
    for h in ("PL1", "所在城市", "community_type", "duration_s", "社区类型", "description"):
        assert not is_identifier_column(h), h


def test_coarsen_and_pseudonym():
    got = coarsen_to_day(["2024/5/6 07:06:52", "2024-05-06T23:59:59.000+08:00", "", "not a date"]).tolist()
    assert got == ["2024-05-06", "2024-05-06", None, None]
    assert pseudonym(1) == "R00001" and pseudonym(12345) == "R12345"


def test_scanner_reads_every_file_kind(tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n1,13912345678\n", encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"id": "11010519491231002X"}), encoding="utf-8")
    (tmp_path / "c.html").write_text("<p>call 15012345678</p>", encoding="utf-8")
    (tmp_path / "gbk.txt").write_bytes("电话:13812345678".encode("gb18030"))
    pd.DataFrame({"phone": [13712345678, 1]}).to_parquet(tmp_path / "d.parquet")
    (tmp_path / "clean.csv").write_text("p\n0.13912345678\n", encoding="utf-8")
    (tmp_path / "img.png").write_bytes(b"\x89PNG\x00\x0013912345678")
    found = scan_for_identifiers([tmp_path])
    assert sorted((f.path.split("/")[-1], f.kind) for f in found) == [
        ("a.csv", "mobile"), ("b.json", "id_card"), ("c.html", "mobile"), ("d.parquet", "mobile"),
        ("gbk.txt", "mobile")]
    assert all("*" in f.masked and "13912345678" not in str(f) for f in found)
    assert found[0].location == "line 2"


@pytest.mark.parametrize("fmt,name", [("wjx", "w.csv"), ("kobo", "k.csv"), ("csv", "c.csv"), ("wjx", "w.xlsx")])
def test_planted_identifiers_never_reach_processed_data(fmt, name, tmp_path):
    sample = simulate_sample(80, 8, 123, instrument=INST)
    raw = write_export(sample.data, fmt, tmp_path / name, INST)
    assert scan_for_identifiers([raw]), "the raw export should carry planted identifiers"
    out = tmp_path / "processed"
    ingest(raw, out, instrument=INST)
    assert scan_for_identifiers([out]) == []
    text = "\n".join(p.read_text(encoding="utf-8") for p in out.glob("*.csv"))
    text += (out / "ingest_report.json").read_text(encoding="utf-8")
    text += pd.read_parquet(out / "responses.parquet").to_csv()
    for col in ("pii_name", "pii_phone", "pii_id_card", "pii_ip", "pii_address", "pii_wechat"):
        for value in sample.data[col].unique():
            assert value not in text, (col, value)
    # full timestamps are coarsened to the day
    for t in sample.data["submitted"].head(20):
        assert t.strftime("%H:%M:%S") not in text
