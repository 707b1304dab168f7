"""A corpus of broken exports: every fault gets a clear error or a quarantine entry.

For each case: no exception other than ``InputError`` escapes, the raw bytes
are unchanged, and the outcome is the one the case declares
(tests/fixtures/broken/corpus.py).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.io import read_json, sha256
from analysis.study.deidentify import scan_for_identifiers
from analysis.study.ingest import ingest
from analysis.study.instrument import load_instrument

_spec = importlib.util.spec_from_file_location(
    "broken_corpus", Path(__file__).parent / "fixtures" / "broken" / "corpus.py")
corpus = importlib.util.module_from_spec(_spec)
sys.modules["broken_corpus"] = corpus
_spec.loader.exec_module(corpus)

INSTRUMENT = load_instrument()


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("broken")
    return {c.name: c for c in corpus.build_corpus(folder, INSTRUMENT)}


def test_corpus_is_large_and_varied(cases):
    faults = [c for c in cases.values() if c.expect[0] != "ok" or c.expect[1]]
    assert len(faults) >= 15
    assert {c.expect[0] for c in cases.values()} == {"ok", "error", "quarantine", "excluded", "collapsed"}


CASE_NAMES = [
    "gbk.csv", "utf8_bom.csv", "utf8_plain.csv", "undecodable.csv", "header_shifted.csv", "merged_header.xlsx",
    "wrong_delimiter.csv", "one_column.txt", "semicolon_kobo.csv", "not_a_table.json", "empty.csv", "whitespace_only.csv",
    "binary.png", "old_excel.xls", "corrupt.xlsx", "header_only.csv", "missing_column.csv", "column_twice.csv",
    "unknown_option.csv", "out_of_range_code.csv", "systematic_out_of_range.csv", "duplicate_id.csv",
    "ragged_row.csv", "missing_required_context.csv", "community_pattern.csv", "phone_in_community.csv", "phone_in_item.csv",
    "consent_declined.csv",
    # fieldwork (issue 13)
    "identifiers_everywhere.csv", "phone_as_duration.csv", "email_as_duration.csv", "phone_in_heading.csv",
    "consent_heading_edited.csv", "consent_by_code_numeric.csv", "consent_missing_column.csv",
    "consent_enforced_at_entry.csv", "duration_mmss_zh.csv", "duration_hms.csv", "duration_ms.csv",
    "duration_plain.csv", "duration_heading_答题时间.csv", "duration_heading_用时.csv", "duration_heading_作答时长.csv",
    "duration_unreadable.csv", "special_codes.csv", "unmatched_quote.csv", "quote_within_row.csv", "stray_delimiter.csv",
    "multiline_answer.csv", "pasted_with_header.csv", "two_downloads_pasted.csv", "long_open_answer.csv",
    "mixed_encoding.csv", "web_page.csv", "kobo_dot_groups.csv", "item_heading_rewritten.csv",
]


def test_case_list_matches_corpus(cases):
    assert sorted(CASE_NAMES) == sorted(cases)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_broken_export(name, cases, tmp_path):
    case = cases[name]
    before = case.path.read_bytes()
    out = tmp_path / "processed"
    kind = case.expect[0]
    if kind == "error":
        with pytest.raises(InputError) as info:
            ingest(case.path, out, instrument=INSTRUMENT, **case.options)
        err = info.value
        assert case.expect[1] in err.message, err.message
        assert err.file is not None and Path(err.file).name == case.path.name
        assert "\n" not in str(err)
        for planted in corpus.PLANTED.values():
            assert planted not in str(err), planted
        if len(case.expect) > 2:
            assert err.row == case.expect[2], (err.row, case.expect[2])
        assert not (out / "responses.parquet").exists()
    else:
        report = ingest(case.path, out, instrument=INSTRUMENT, **case.options)
        quarantine = pd.read_csv(out / "quarantine.csv")
        responses = pd.read_parquet(out / "responses.parquet")
        excluded = pd.read_csv(out / "consent_excluded.csv")
        collapsed = pd.read_csv(out / "collapsed.csv")
        counts = read_json(out / "ingest_report.json")["counts"]
        # every record accounted for
        assert counts["records"] == (counts["consent_excluded"] + counts["duplicates_collapsed"]
                                     + counts["quarantined"] + counts["accepted"])
        assert (len(excluded), len(collapsed), len(quarantine), len(responses)) == (
            counts["consent_excluded"], counts["duplicates_collapsed"], counts["quarantined"], counts["accepted"])
        assert report.n_rows == case.records
        if kind == "ok":
            assert report.n_quarantined == 0 and len(responses) == case.records
            if case.expect[1]:
                assert any(case.expect[1] in n for n in report.notes), report.notes
        elif kind == "quarantine":
            k, text = case.expect[1], case.expect[2]
            assert report.n_quarantined == k and len(responses) == case.records - k - len(excluded) - len(collapsed)
            assert all(text in r for r in quarantine["reasons"]), quarantine["reasons"].tolist()
            assert not set(quarantine["resp_id"]) & set(responses["resp_id"])
        elif kind == "excluded":
            k, text = case.expect[1], case.expect[2]
            assert len(excluded) == k and all(text in r for r in excluded["reason"]), excluded["reason"].tolist()
            assert report.n_quarantined == 0
        else:  # collapsed
            k, text = case.expect[1], case.expect[2]
            assert len(collapsed) == k and any(text in n for n in report.notes), report.notes
        assert read_json(out / "ingest_report.json")["files"][0]["sha256"] == sha256(case.path)
        assert scan_for_identifiers([out]) == []
        text = "".join(p.read_text(encoding="utf-8") for p in out.glob("*.[cj]s*"))
        text += pd.read_parquet(out / "responses.parquet").to_csv()
        for planted in corpus.PLANTED.values():
            assert planted not in text, planted
    assert case.path.read_bytes() == before


def test_row_numbers_point_at_the_faulty_row(cases, tmp_path):
    # unknown_option.csv: the fault is in data record 3 -> spreadsheet row 4
    ingest(cases["unknown_option.csv"].path, tmp_path, instrument=INSTRUMENT)
    q = pd.read_csv(tmp_path / "quarantine.csv")
    assert q["source_row"].tolist() == [4]
    assert q["resp_id"].tolist() == ["R00003"]
    with pytest.raises(InputError) as info:
        ingest(cases["undecodable.csv"].path, tmp_path / "x", instrument=INSTRUMENT)
    assert info.value.row == 2


def test_encodings_give_identical_processed_data(cases, tmp_path):
    frames = []
    for name in ("gbk.csv", "utf8_bom.csv", "utf8_plain.csv", "header_shifted.csv", "merged_header.xlsx",
                 "semicolon_kobo.csv"):
        ingest(cases[name].path, tmp_path / name, instrument=INSTRUMENT)
        frames.append(pd.read_parquet(tmp_path / name / "responses.parquet"))
    for f in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], f)


def test_cli_prints_one_line_and_exits_nonzero(cases, tmp_path, capsys):
    from analysis.cli import main

    code = main(["ingest", str(cases["binary.png"].path), "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code != 0
    assert "Traceback" not in captured.err + captured.out
    assert "binary file" in captured.err + captured.out
