"""Generated files of the instrument: complete, deterministic, and accepted by
the tools that read them (pyxform -> ODK XForm, frictionless, python-docx)."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.study.instrument import load_instrument
from analysis.study.render import XLSFORM_LANG, codebook, datapackage, render, traceability, xlsform_sheets
from analysis.study.seed import read_seed

EXPECTED = [
    "questionnaire_zh.md", "questionnaire_zh.html", "questionnaire_zh.docx",
    "questionnaire_en.md", "questionnaire_en.html", "questionnaire_en.docx",
    "codebook.csv", "codebook.md", "datapackage.json", "xlsform.xlsx",
    "measurement.lav", "structural.lav", "traceability.csv", "traceability.md",
]


@pytest.fixture(scope="module")
def ins():
    return load_instrument()


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    d = tmp_path_factory.mktemp("generated")
    files = render(d)
    assert [p.name for p in files] == EXPECTED
    return d


def test_render_writes_every_file_byte_identically_twice(out, tmp_path):
    again = render(tmp_path)
    for p in again:
        assert p.read_bytes() == (out / p.name).read_bytes(), p.name
    assert not list(out.glob(".*.part"))                    # nothing half-written left behind


def test_zip_containers_carry_fixed_timestamps(out):
    for name in ("questionnaire_zh.docx", "questionnaire_en.docx", "xlsform.xlsx"):
        with zipfile.ZipFile(out / name) as z:
            assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
            core = z.read("docProps/core.xml").decode()
            assert "2000-01-01T00:00:00Z" in core


def test_questionnaires_hold_every_statement_once(out, ins):
    for lang in ("zh", "en"):
        md = (out / f"questionnaire_{lang}.md").read_text(encoding="utf-8")
        html = (out / f"questionnaire_{lang}.html").read_text(encoding="utf-8")
        for it in ins.items:
            text = getattr(it, f"text_{lang}")
            assert md.count(text) == 1, it.code
        at = getattr(ins.attention_check, f"text_{lang}")
        assert md.count(at) == 1
        assert md.index(ins.item(ins.attention_check.after).code) < md.index(at)
        for v in ins.context:
            assert getattr(v, f"label_{lang}") in md
        assert getattr(ins.consent, f"title_{lang}") in md
        assert "<table>" in html and html.count("<tr>") == 1 + len(ins.items) + 1


def test_docx_is_readable_and_complete(out, ins):
    import docx

    for lang in ("zh", "en"):
        doc = docx.Document(str(out / f"questionnaire_{lang}.docx"))
        table = doc.tables[0]
        codes = [row.cells[1].text for row in table.rows[1:]]
        assert [c for c in codes if c != "ATTN"] == ins.item_codes() and codes.count("ATTN") == 1
        texts = {row.cells[1].text: row.cells[2].text for row in table.rows[1:]}
        assert all(texts[it.code] == getattr(it, f"text_{lang}") for it in ins.items)


def test_xlsform_converts_to_an_odk_xform(out, ins):
    from pyxform import xls2xform

    warnings: list = []
    result = xls2xform.convert(xlsform=str(out / "xlsform.xlsx"), warnings=warnings)
    xml = result.xform
    for code in ins.item_codes() + [ins.attention_check.code] + ins.context_codes + [ins.consent.code]:
        assert re.search(rf'nodeset="/data/(part_[a-z]+/)?{code}"', xml), code
    assert 'lang="Chinese (zh)"' in xml and 'lang="English (en)"' in xml
    assert "regex(., '^[A-Z]{2}[0-9]{2}$')" in xml
    assert ". &gt;= 0 and . &lt;= 80" in xml
    assert 'required="true()"' in xml


def test_xlsform_sheets_follow_the_xlsform_spec(ins):
    sheets = xlsform_sheets(ins)
    survey, choices, settings = sheets["survey"], sheets["choices"], sheets["settings"]
    zh, en = (f"label::{XLSFORM_LANG[x]}" for x in ("zh", "en"))
    assert {zh, en} <= set(survey.columns) and {zh, en} <= set(choices.columns)
    likert = survey[survey["type"] == "select_one agree"]
    assert likert["name"].tolist().count("ATTN") == 1
    assert sorted(likert["name"]) == sorted(ins.item_codes() + ["ATTN"])
    assert (likert["required"] == "yes").all()
    years = survey.set_index("name").loc["years"]
    assert years["type"] == "integer" and years["constraint"] == ". >= 0 and . <= 80"
    assert survey.set_index("name").loc["consent_text", "type"] == "note"
    agree = choices[choices["list_name"] == "agree"]
    assert agree["name"].tolist() == ["1", "2", "3", "4", "5"]
    assert settings.loc[0, "default_language"] == XLSFORM_LANG["zh"]
    body = survey[~survey["name"].isin(["start", "end", "consent_text", "consent"])]
    groups = body[body["type"] == "begin group"]
    assert (groups["relevant"] == "${consent} = '1'").all()


def _valid_sample(ins, n=30, seed=20240534):
    """A small responses table drawn from codebook-valid values."""
    rng = np.random.default_rng(seed)
    cb = codebook(ins)
    data = {}
    for row in cb.itertuples(index=False):
        if row.variable == "resp_id":
            data[row.variable] = [f"r{i:04d}" for i in range(n)]
        elif row.variable == "community":
            data[row.variable] = [f"ZZ{k:02d}" for k in rng.integers(1, 13, n)]
        elif row.type == "string":
            data[row.variable] = ["希望多组织应急演练" if k else None for k in rng.integers(0, 2, n)]
        elif row.variable == "submit_date":
            data[row.variable] = ["2025-09-01"] * n
        elif row.variable == "duration_s":
            data[row.variable] = rng.uniform(100, 900, n).round(1)
        else:
            vals = rng.integers(int(row.min), int(row.max) + 1, n).astype(float)
            if row.required != "true":
                vals[rng.random(n) < 0.05] = np.nan                 # missing is allowed where not required
            data[row.variable] = vals
    return pd.DataFrame(data)


def _validate(tmp_path, ins, frame):
    import frictionless

    from analysis.io import write_csv, write_json

    write_json(tmp_path / "datapackage.json", datapackage(ins))
    write_csv(tmp_path / "responses.csv", frame)
    return frictionless.validate(str(tmp_path / "datapackage.json"))


def test_datapackage_validates_codebook_valid_data(tmp_path, ins):
    report = _validate(tmp_path, ins, _valid_sample(ins))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_datapackage_rejects_values_outside_the_codebook(tmp_path, ins):
    bad = _valid_sample(ins)
    bad.loc[3, "PL1"] = 6
    bad.loc[5, "community"] = "Z3"
    bad.loc[7, "city"] = 9
    bad.loc[8, "years"] = 81
    report = _validate(tmp_path, ins, bad)
    errors = {(e[0], e[1]) for e in report.flatten(["fieldName", "type"])}
    assert {("PL1", "constraint-error"), ("community", "constraint-error"), ("city", "constraint-error"),
            ("years", "constraint-error")} <= errors


def test_datapackage_carries_value_labels(ins):
    fields = {f["name"]: f for f in datapackage(ins)["resources"][0]["schema"]["fields"]}
    assert [c["value"] for c in fields["PL1"]["categories"]] == [1, 2, 3, 4, 5]
    assert fields["PL1"]["categories"][0]["label"] == "非常不同意 / Strongly disagree"
    assert fields["city"]["categories"][0]["label"] == "郑州 / Zhengzhou"
    assert fields["years"]["constraints"] == {"required": True, "minimum": 0, "maximum": 80}
    assert list(fields)[:2] == ["resp_id", "PL1"] and list(fields)[-2:] == ["duration_s", "submit_date"]


def test_codebook_rows_and_reverse_flags(out, ins):
    cb = pd.read_csv(out / "codebook.csv", keep_default_na=False)
    assert len(cb) == 1 + 48 + 1 + len(ins.context) + 2
    items = cb[cb["role"] == "item"]
    assert items["variable"].tolist() == ins.item_codes()
    assert sorted(items.loc[items["reverse"] == "true", "variable"]) == sorted(ins.reverse_codes)
    assert cb.set_index("variable").loc["INT1", "second_order"] == "RES"


def test_syntax_files_equal_model_syntax(out, ins):
    for kind in ("measurement", "structural"):
        text = (out / f"{kind}.lav").read_text(encoding="utf-8")
        assert text.endswith(ins.model_syntax(kind)) and text.startswith("# Generated")


@pytest.mark.skipif(read_seed() is None, reason="seed article absent")
def test_traceability_matrix_quotes_are_in_the_seed(out, ins):
    tm = pd.read_csv(out / "traceability.csv", keep_default_na=False, dtype=str)
    pd.testing.assert_frame_equal(tm, traceability(ins), check_dtype=False)
    seed = read_seed()
    assert len(tm) == 48 and tm["item"].tolist() == ins.item_codes()
    for row in tm.itertuples(index=False):
        assert row.seed_section in seed.find_quote(row.seed_quote), row.item
    md = (out / "traceability.md").read_text(encoding="utf-8")
    assert all(f"“{q}”" in md for q in tm["seed_quote"])
