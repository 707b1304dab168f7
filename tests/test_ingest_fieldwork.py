"""Fieldwork-grade ingestion: several downloads, consent, completion times, special codes, SPSS files,
filesystem faults and the command line (issue 13).  The file-by-file corpus is in test_ingest_broken.py."""
from __future__ import annotations

import errno
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis.errors import InputError
from analysis.io import read_json
from analysis.study.deidentify import scan_for_identifiers
from analysis.study.exports import write_export
from analysis.study.ingest import OUTPUTS, consent_status, ingest, parse_duration
from analysis.study.instrument import load_instrument
from analysis.study.screen import screen
from analysis.study.simulate import dont_know_as_missing, simulate_sample

INST = load_instrument()
ITEMS = INST.item_codes()

_spec = importlib.util.spec_from_file_location(
    "broken_corpus", Path(__file__).parent / "fixtures" / "broken" / "corpus.py")
corpus = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("broken_corpus", corpus)
_spec.loader.exec_module(corpus)


@pytest.fixture(scope="module")
def sample():
    return simulate_sample(60, 6, 2024, instrument=INST)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return {c.name: c for c in corpus.build_corpus(tmp_path_factory.mktemp("corpus"), INST)}


@pytest.fixture()
def wjx(sample, tmp_path):
    return write_export(sample.data, "wjx", tmp_path / "wjx.csv", INST, encoding="utf-8-sig")


def _counts(out):
    return read_json(out / "ingest_report.json")["counts"]


# --- several downloads ------------------------------------------------------
def test_same_download_twice_collapses_every_copy(wjx, tmp_path):
    copy = tmp_path / "again" / "wjx.csv"
    copy.parent.mkdir()
    copy.write_bytes(wjx.read_bytes())
    report = ingest([wjx, copy], tmp_path / "out", instrument=INST)
    assert report.counts == {"records": 120, "consent_excluded": 0, "duplicates_collapsed": 60, "quarantined": 0,
                             "accepted": 60}
    collapsed = pd.read_csv(tmp_path / "out" / "collapsed.csv")
    assert collapsed["source_row"].tolist() == list(range(2, 62))
    assert collapsed["same_as_row"].tolist() == list(range(2, 62))


def test_two_batches_and_a_folder(sample, tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    a = write_export(sample.data.iloc[:25], "wjx", folder / "batch1.csv", INST)
    b = write_export(sample.data.iloc[25:].reset_index(drop=True), "wjx", folder / "batch2.xlsx", INST)
    (folder / "notes.md").write_text("not an export", encoding="utf-8")
    report = ingest(folder, tmp_path / "out", instrument=INST)
    assert [f["file"] for f in report.files] == [a.name, b.name]
    assert report.counts["accepted"] == 60 and report.counts["duplicates_collapsed"] == 0
    got = pd.read_parquet(tmp_path / "out" / "responses.parquet")
    want = dont_know_as_missing(sample.data, INST)[ITEMS]          # don't know (8): missing by design
    np.testing.assert_array_equal(got[ITEMS].to_numpy(float), want.to_numpy(float))
    # 序号 restarted at 1 in the second batch: no record is lost for it
    q = pd.read_csv(tmp_path / "out" / "quarantine.csv")
    assert q.empty


def test_empty_folder_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no export"):
        ingest(tmp_path / "empty", tmp_path / "out", instrument=INST)


# --- consent ------------------------------------------------------------------
@pytest.mark.parametrize("text,want", [
    ("同意,开始答题", None), ("同意，开始答题", None), ("同意", None), ("1", None), ("I agree and start the survey", None),
    ("不同意,结束", "consent declined"), ("2", "consent declined"), ("否", "consent declined"),
    ("", "consent missing"), ("(空)", "consent missing"), ("-3", "consent missing"), ("(跳过)", "consent missing"),
    ("3", "consent answer not recognised"), ("看情况", "consent answer not recognised"),
])
def test_consent_answers(text, want):
    assert consent_status(text, INST.consent) == want


def test_declined_consent_is_never_analysed(cases, tmp_path):
    out = tmp_path / "out"
    ingest(cases["consent_heading_edited.csv"].path, out, instrument=INST)
    rep = read_json(out / "ingest_report.json")
    assert rep["consent"]["excluded"] == {"consent answer not recognised": 1, "consent declined": 1,
                                          "consent missing": 2}
    excluded = pd.read_csv(out / "consent_excluded.csv")
    assert excluded["source_row"].tolist() == [3, 4, 5, 6]
    assert list(excluded.columns) == ["source_file", "source_row", "reason"]
    processed = pd.read_parquet(out / "responses.parquet")
    assert len(processed) == corpus.N_ROWS - 4
    assert pd.read_csv(out / "quarantine.csv").empty


def test_consent_enforced_at_entry_is_recorded(cases, tmp_path):
    ingest(cases["consent_enforced_at_entry.csv"].path, tmp_path, instrument=INST, consent_enforced_at_entry=True)
    rep = read_json(tmp_path / "ingest_report.json")
    assert rep["consent"]["enforced_at_entry_stated"] is True
    assert rep["consent"]["rule"].startswith("enforced at entry")


# --- completion times -----------------------------------------------------
@pytest.mark.parametrize("text,seconds", [
    ("150", 150), ("150秒", 150), ("150 秒", 150), ("2分30秒", 150), ("2分钟30秒", 150), ("00:02:30", 150),
    ("2:30", 150), ("1:02:30", 3750), ("1小时2分3秒", 3723), ("１５０秒", 150), ("150s", 150), ("2m30s", 150),
    ("PT2M30S", 150), ("312.5", 312.5),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["两分钟", "2:3:4:5", "abc", "1分钟多"])
def test_unreadable_duration_raises(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_speeders_are_flagged_whatever_the_duration_format(cases, tmp_path):
    cfg = {"attention_check": True, "longstring_max": 20, "min_duration_seconds": 120, "mahalanobis_alpha": None,
           "duplicates": True}
    flags = {}
    for name in ("gbk.csv", "duration_mmss_zh.csv", "duration_hms.csv", "duration_ms.csv", "duration_plain.csv",
                 "duration_heading_用时.csv", "semicolon_kobo.csv"):
        out = tmp_path / name
        ingest(cases[name].path, out, instrument=INST)
        rep = screen(out, cfg, instrument=INST)
        flags[name] = rep.flags["flag_speed"].tolist()
        assert rep.table.set_index("rule").loc["speed", "not_evaluable"] == 0
    base = flags.pop("gbk.csv")
    assert any(base)
    for name, f in flags.items():
        assert f == base, name


def test_no_completion_time_is_said_loudly(cases, tmp_path):
    import csv
    import io

    rows = list(csv.reader(io.StringIO(cases["gbk.csv"].path.read_bytes().decode("gb18030"), newline="")))
    j = rows[0].index("所用时间")
    rows = [r[:j] + r[j + 1:] for r in rows]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    raw = tmp_path / "no_time.csv"
    raw.write_bytes(buf.getvalue().encode("utf-8"))
    report = ingest(raw, tmp_path / "out", instrument=INST)
    assert any("speeding rule" in n for n in report.notes)
    rep = screen(tmp_path / "out", {"attention_check": True, "longstring_max": 20, "min_duration_seconds": 120,
                                    "mahalanobis_alpha": None, "duplicates": True}, instrument=INST)
    assert rep.table.set_index("rule").loc["speed", "not_evaluable"] == corpus.N_ROWS
    assert "could not judge" in str(rep)


# --- special codes ---------------------------------------------------------
def test_wjx_special_codes_are_missing_by_design(cases, tmp_path):
    report = ingest(cases["special_codes.csv"].path, tmp_path, instrument=INST)
    assert report.special_codes["PL1"] == {"not shown by display logic (-2)": 4, "skipped by jump logic (-3)": 7}
    got = pd.read_parquet(tmp_path / "responses.parquet")
    assert got["PL1"].iloc[:11].isna().all()
    assert report.n_quarantined == 0


# --- identifiers ----------------------------------------------------------------
def test_identifiers_in_every_column_type(cases, tmp_path):
    report = ingest(cases["identifiers_everywhere.csv"].path, tmp_path, instrument=INST)
    q = pd.read_csv(tmp_path / "quarantine.csv", dtype=str)
    assert sorted(q["source_row"].astype(int)) == [21, 22, 23, 24]
    reasons = " ".join(q["reasons"])
    for code in ("community", "PL1", "city", "years"):
        assert code in reasons
    got = pd.read_parquet(tmp_path / "responses.parquet")
    tagged = " ".join(got["suggestion"].dropna())
    for tag in ("[电话]", "[身份证]", "[邮箱]", "[微信]", "[姓名]", "[地址]", "[IP]", "[坐标]"):
        assert tag in tagged, tag
    assert sum(report.redactions.values()) >= len(corpus.PLANTED)
    everything = "".join(p.read_text(encoding="utf-8", errors="replace") for p in tmp_path.glob("*.[cj]s*"))
    everything += got.to_csv()
    for value in corpus.PLANTED.values():
        assert value not in everything
    assert scan_for_identifiers([tmp_path]) == []


# --- SPSS -------------------------------------------------------------------------
def test_spss_file_with_value_labels(sample, tmp_path):
    data = sample.data
    frame = pd.DataFrame({"respondent_id": np.arange(1, len(data) + 1), "consent": 1})
    scale = {lab.value: lab.zh for lab in INST.scale.labels}
    # entered from paper with reversed codes: 1 = 非常同意 ... 5 = 非常不同意; labels carry the meaning
    reversed_labels = {float(6 - v): t for v, t in scale.items()}
    dk = INST.scale.dont_know
    reversed_labels[float(dk.value)] = dk.zh                  # 不清楚 keeps its code 8 on paper
    for c in ITEMS + [INST.attention_check.code]:
        frame[c] = (6 - data[c]).where(data[c] != dk.value, dk.value)
    for cv in INST.context:
        if cv.kind == "text":
            frame[cv.code] = data[cv.code].fillna("").astype(str)
        else:
            frame[cv.code] = data[cv.code]
    labels = {c: reversed_labels for c in ITEMS + [INST.attention_check.code]}
    labels.update({cv.code: {float(ch.value): ch.zh for ch in cv.choices} for cv in INST.context if cv.choices})
    path = tmp_path / "paper.sav"
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels)
    report = ingest(path, tmp_path / "out", instrument=INST)
    assert report.format == "sav" and report.n_accepted == len(data)
    got = pd.read_parquet(tmp_path / "out" / "responses.parquet")
    want = dont_know_as_missing(data, INST)[ITEMS]            # don't know: missing by design
    np.testing.assert_array_equal(got[ITEMS].to_numpy(float), want.to_numpy(float))
    assert got["community"].tolist() == data["community"].tolist()
    assert any("no completion-time column" in n for n in report.notes)


# --- filesystem faults -------------------------------------------------------------
def test_out_pointing_at_a_file(wjx, tmp_path):
    target = tmp_path / "afile"
    target.write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder") as info:
        ingest(wjx, target, instrument=INST)
    assert info.value.file == str(target)


def test_a_failed_ingest_leaves_no_earlier_output(wjx, cases, tmp_path):
    out = tmp_path / "processed"
    ingest(wjx, out, instrument=INST)
    screen(out, None, instrument=INST)
    assert (out / "analysis.parquet").exists()
    with pytest.raises(InputError):
        ingest(cases["unmatched_quote.csv"].path, out, instrument=INST)
    left = {p.name for p in out.iterdir()}
    assert not left & set(OUTPUTS + ("flags.csv", "analysis.parquet", "screening_report.csv"))


def test_full_disk_gives_one_line_and_cleans_up(wjx, tmp_path, monkeypatch):
    import analysis.study.ingest as mod

    calls = {"n": 0}
    real = mod.write_csv

    def full(path, frame, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, frame, **kw)

    monkeypatch.setattr(mod, "write_csv", full)
    with pytest.raises(InputError, match="no space left") as info:
        ingest(wjx, tmp_path / "out", instrument=INST)
    assert "quarantine.csv" in str(info.value)
    assert not any((tmp_path / "out" / n).exists() for n in OUTPUTS)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes regardless of permissions")
def test_unreadable_input_and_read_only_folder(wjx, tmp_path):
    os.chmod(wjx, 0)
    try:
        with pytest.raises(InputError, match="permission denied"):
            ingest(wjx, tmp_path / "out", instrument=INST)
    finally:
        os.chmod(wjx, 0o644)
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        with pytest.raises(InputError, match="permission denied"):
            ingest(wjx, ro, instrument=INST)
    finally:
        os.chmod(ro, 0o755)


def _resilience(*args, **kw):
    exe = Path(sys.executable).with_name("resilience")
    cmd = [str(exe), *args] if exe.exists() else [sys.executable, "-m", "analysis.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def test_cli_errors_are_one_line_without_traceback(wjx, cases, tmp_path):
    target = tmp_path / "afile"
    target.write_text("x")
    for args in (["ingest", str(wjx), "--out", str(target)],
                 ["ingest", str(cases["mixed_encoding.csv"].path), "--out", str(tmp_path / "o1")],
                 ["ingest", str(cases["web_page.csv"].path), "--out", str(tmp_path / "o2")],
                 ["ingest", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o3")],
                 ["ingest", str(cases["email_as_duration.csv"].path), "--out", str(tmp_path / "o4")]):
        res = _resilience(*args)
        assert res.returncode == 2, (args, res.stderr)
        assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
        for value in corpus.PLANTED.values():
            assert value not in res.stderr


def test_cli_output_piped_into_head(wjx, tmp_path):
    exe = Path(sys.executable).with_name("resilience")
    cmd = f"'{exe}' ingest '{wjx}' --out '{tmp_path / 'out'}' | head -c 1"
    res = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True)
    assert "Traceback" not in res.stderr
    assert res.returncode in (0, 2), res.stderr
    assert _counts(tmp_path / "out")["accepted"] == 60


def test_cli_takes_several_files_and_the_consent_flag(cases, wjx, tmp_path):
    res = _resilience("ingest", str(wjx), str(cases["gbk.csv"].path), "--out", str(tmp_path / "a"))
    assert res.returncode == 0, res.stderr
    assert _counts(tmp_path / "a")["records"] == 60 + corpus.N_ROWS
    res = _resilience("ingest", str(cases["consent_missing_column.csv"].path), "--out", str(tmp_path / "b"))
    assert res.returncode == 2 and "--consent-enforced-at-entry" in res.stderr
    res = _resilience("ingest", str(cases["consent_missing_column.csv"].path), "--out", str(tmp_path / "c"),
                      "--consent-enforced-at-entry")
    assert res.returncode == 0, res.stderr


def test_identifier_in_a_file_name_never_reaches_outputs_or_messages(wjx, cases, tmp_path):
    named = tmp_path / f"张三_{corpus.PLANTED['mobile']}.csv"
    named.write_bytes(wjx.read_bytes())
    out = tmp_path / "out"
    ingest(named, out, instrument=INST)
    text = "".join(p.read_text(encoding="utf-8") for p in out.glob("*.[cj]s*"))
    assert corpus.PLANTED["mobile"] not in text and "[电话]" in text
    bad = tmp_path / f"{corpus.PLANTED['mobile']}.csv"
    bad.write_bytes(cases["duration_unreadable.csv"].path.read_bytes())
    res = _resilience("ingest", str(bad), "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and corpus.PLANTED["mobile"] not in res.stderr
    assert "两分钟左右" in res.stderr and "row 8" in res.stderr
