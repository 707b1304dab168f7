"""Generated files of the instrument: complete, deterministic, and accepted by
the tools that read them (pyxform -> ODK XForm, frictionless, python-docx,
LibreOffice for the printed questionnaire)."""
from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.study.instrument import halfwidth_punctuation, load_instrument
from analysis.study.render import (DOCX_LAYOUT, XLSFORM_LANG, codebook, datapackage, grid_column_widths,
                                   questionnaire_markdown, render, traceability, xlsform_sheets)
from analysis.study.seed import read_seed

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

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


def _codes_shown(text: str, ins) -> list[str]:
    """Item codes, the attention check's code and variable names that a respondent would see in ``text``."""
    item = re.findall(r"\b(?:" + "|".join(c.code for c in ins.constructs) + r")\d+\b", text)
    names = [v.code for v in ins.context if "_" in v.code and v.code in text]
    return item + re.findall(r"\bATTN\b", text) + names + re.findall(r"\[[a-z_]+\]", text)


def test_questionnaires_hold_every_statement_once_and_no_code(out, ins):
    for lang in ("zh", "en"):
        md = (out / f"questionnaire_{lang}.md").read_text(encoding="utf-8")
        html = (out / f"questionnaire_{lang}.html").read_text(encoding="utf-8")
        for it in ins.items:
            text = getattr(it, f"text_{lang}")
            assert md.count(text) == 1, it.code
        at = getattr(ins.attention_check, f"text_{lang}")
        assert md.count(at) == 1
        assert md.index(getattr(ins.item(ins.attention_check.after), f"text_{lang}")) < md.index(at)
        for v in ins.context:
            assert getattr(v, f"label_{lang}") in md
        assert getattr(ins.consent, f"title_{lang}") in md
        assert "<table>" in html and html.count("<tr>") == 1 + len(ins.items) + 1
        assert _codes_shown(md, ins) == [] and _codes_shown(html.split("<body>")[1], ins) == []
    zh = (out / "questionnaire_zh.md").read_text(encoding="utf-8")
    assert not [v.code for v in ins.context if re.search(rf"\b{v.code}\b", zh)]   # no variable name at all


def _docx_rows(table):
    """Cell texts of every row of a python-docx table."""
    return [[c.text for c in row.cells] for row in table.rows]


def test_docx_questionnaire_is_laid_out_for_printing(out, ins):
    """A4, fixed grid columns summing to the text width, header repeated, no code, 不清楚 where offered."""
    import docx

    text_width = DOCX_LAYOUT["page_width"] - 2 * DOCX_LAYOUT["margin"]
    for lang in ("zh", "en"):
        doc = docx.Document(str(out / f"questionnaire_{lang}.docx"))
        sec = doc.sections[0]
        assert (sec.page_width.twips, sec.page_height.twips) == (11906, 16838)     # A4
        assert sec.left_margin.twips == sec.right_margin.twips == 1134             # 2 cm
        assert len(doc.tables) == 1
        table = doc.tables[0]
        tbl = table._tbl
        # fixed layout; the grid columns and every cell carry the declared widths, summing to the text width
        widths = grid_column_widths(lang, ins.scale.points)
        assert sum(widths) == text_width and widths[1] > 6 * widths[2]
        assert tbl.tblPr.find(f"{W}tblLayout").get(f"{W}type") == "fixed"
        assert [int(g.get(f"{W}w")) for g in tbl.tblGrid.findall(f"{W}gridCol")] == widths
        assert int(tbl.tblPr.find(f"{W}tblW").get(f"{W}w")) == text_width
        for row in table.rows:
            assert [c.width.twips for c in row.cells] == widths
        # the header row repeats on every page; no row breaks across a page
        trs = tbl.findall(f"{W}tr")
        assert trs[0].find(f"{W}trPr/{W}tblHeader") is not None
        assert all(tr.find(f"{W}trPr/{W}tblHeader") is None for tr in trs[1:])
        assert all(tr.find(f"{W}trPr/{W}cantSplit") is not None for tr in trs)
        rows = _docx_rows(table)
        header, body = rows[0], rows[1:]
        dk = getattr(ins.scale.dont_know, lang)
        assert header[-1] == dk and len(header) == 2 + ins.scale.points + 1
        if lang == "zh":
            assert header[2:-1] == [lab.zh for lab in ins.scale.labels]
        # the statements in questionnaire order, numbered consecutively; 不清楚 only where offered
        expect = [(it.code, getattr(it, f"text_{lang}"), it.dont_know) for it in ins.items]
        after = expect.index(next(e for e in expect if e[0] == ins.attention_check.after))
        expect.insert(after + 1, ("ATTN", getattr(ins.attention_check, f"text_{lang}"), False))
        assert [r[1] for r in body] == [e[1] for e in expect]
        numbers = [int(r[0]) for r in body]
        assert numbers == list(range(numbers[0], numbers[0] + len(body)))
        assert all(r[2:-1] == ["□"] * ins.scale.points for r in body)
        assert [r[-1] == "□" for r in body] == [e[2] for e in expect]
        assert sum(r[-1] == "□" for r in body) == len(ins.dont_know_codes) > 0
        # nothing a respondent reads names an item code or a variable
        everything = "\n".join([p.text for p in doc.paragraphs] + ["\t".join(r) for r in rows])
        assert _codes_shown(everything, ins) == []
        assert ins.consent.text_zh.splitlines()[0] in everything if lang == "zh" else "Informed consent" in everything


_SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
_POPPLER = shutil.which("pdfinfo") and shutil.which("pdftotext")


@pytest.mark.skipif(not (_SOFFICE and _POPPLER), reason="LibreOffice (soffice) or poppler-utils not installed")
def test_printed_questionnaire_fits_the_grid_on_at_most_three_a4_pages(out, ins, tmp_path):
    """The DOCX rendered to PDF by LibreOffice: A4, the Likert grid on <= 3 pages, its header on each.

    Expected (LibreOffice 7.4, Noto CJK): the Chinese questionnaire prints on
    4 pages (consent and part 1 on page 1, the grid on pages 2-3, part 3
    after it), the English one on 4 pages (the grid on pages 2-4).  The test
    holds the grid to at most 3 pages and the whole questionnaire to at most 5.
    """
    profile = tmp_path / "lo-profile"                       # a private profile: parallel runs do not collide
    for lang in ("zh", "en"):
        src = out / f"questionnaire_{lang}.docx"
        subprocess.run([_SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(tmp_path), str(src)], check=True, capture_output=True, timeout=180)
        pdf = tmp_path / f"questionnaire_{lang}.pdf"
        info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
        n_pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
        size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
        assert abs(float(size.group(1)) - 595.3) < 1 and abs(float(size.group(2)) - 841.9) < 1   # A4
        pages = [re.sub(r"\s+", "", subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"],
                                                   check=True, capture_output=True, text=True).stdout)
                 for i in range(1, n_pages + 1)]

        def page_of(text):
            key = re.sub(r"\s+", "", text)              # a statement wraps inside its cell: compare unspaced
            hits = [i for i, p in enumerate(pages, 1) if key in p]
            assert len(hits) == 1, (lang, text, hits)
            return hits[0]

        items = [getattr(it, f"text_{lang}") for it in ins.items]
        first, last = page_of(items[0]), page_of(items[-1])
        grid_pages = last - first + 1
        assert grid_pages <= 3, (lang, grid_pages)
        assert n_pages <= 5, (lang, n_pages)
        head = re.sub(r"\s+", "", getattr(ins.scale.dont_know, lang))
        assert all(head in pages[i - 1] for i in range(first, last + 1))   # the header row on every grid page
        assert all(page_of(t) in range(first, last + 1) for t in items)


def test_every_chinese_string_rendered_uses_full_width_punctuation(out, ins):
    """The Chinese questionnaire, codebook labels and XLSForm: no half-width , : ; ! ? ( ) beside Chinese."""
    texts = [questionnaire_markdown(ins, "zh")]
    cb = codebook(ins)
    texts += cb["label_zh"].tolist() + cb["values_zh"].tolist() + cb["seed_quote"].tolist()
    sheets = xlsform_sheets(ins)
    zh_cols = [c for c in sheets["survey"].columns if c.endswith(f"::{XLSFORM_LANG['zh']}")]
    texts += [x for c in zh_cols for x in sheets["survey"][c].tolist() if isinstance(x, str)]
    texts += sheets["choices"][f"label::{XLSFORM_LANG['zh']}"].tolist()
    bad = [hit for s in texts for hit in halfwidth_punctuation(s)]
    assert bad == []


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
    likert = survey[survey["type"].isin(["select_one agree", "select_one agree_dk"])]
    assert likert["name"].tolist().count("ATTN") == 1
    assert sorted(likert["name"]) == sorted(ins.item_codes() + ["ATTN"])
    assert (likert["required"] == "yes").all()
    offered = likert.loc[likert["type"] == "select_one agree_dk", "name"].tolist()
    assert offered == ins.dont_know_codes                  # the extra choice exactly where the instrument offers it
    years = survey.set_index("name").loc["years"]
    assert years["type"] == "integer" and years["constraint"] == ". >= 0 and . <= 80"
    assert survey.set_index("name").loc["consent_text", "type"] == "note"
    agree = choices[choices["list_name"] == "agree"]
    assert agree["name"].tolist() == ["1", "2", "3", "4", "5"]
    agree_dk = choices[choices["list_name"] == "agree_dk"]
    assert agree_dk["name"].tolist() == ["1", "2", "3", "4", "5", "8"]
    assert agree_dk[zh].tolist()[-1] == "不清楚" and agree_dk[en].tolist()[-1] == "Don't know"
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
    assert len(cb) == 1 + len(ins.items) + 1 + len(ins.context) + 2
    items = cb[cb["role"] == "item"]
    assert items["variable"].tolist() == ins.item_codes()
    assert sorted(items.loc[items["reverse"] == "true", "variable"]) == sorted(ins.reverse_codes)
    assert cb.set_index("variable").loc["INT1", "second_order"] == "RES"
    assert items.loc[items["dont_know"] == "true", "variable"].tolist() == ins.dont_know_codes
    assert set(items["dont_know"]) == {"true", "false"} and (cb.loc[cb["role"] != "item", "dont_know"] == "").all()
    md = (out / "codebook.md").read_text(encoding="utf-8")
    assert "**8 = 不清楚 / Don't know**" in md and "missing by design" in md


def test_syntax_files_equal_model_syntax(out, ins):
    for kind in ("measurement", "structural"):
        text = (out / f"{kind}.lav").read_text(encoding="utf-8")
        assert text.endswith(ins.model_syntax(kind)) and text.startswith("# Generated")


@pytest.mark.skipif(read_seed() is None, reason="seed article absent")
def test_traceability_matrix_quotes_are_in_the_seed(out, ins):
    tm = pd.read_csv(out / "traceability.csv", keep_default_na=False, dtype=str)
    pd.testing.assert_frame_equal(tm, traceability(ins), check_dtype=False)
    seed = read_seed()
    assert len(tm) == len(ins.items) and tm["item"].tolist() == ins.item_codes()
    split = tm[tm["split_from"] != ""]
    assert sorted(split["item"]) == sorted(it.code for it in ins.items if it.split_from)
    for origin, grp in split.groupby("split_from"):
        assert len(grp) == 2 and grp["construct"].nunique() == 1 and grp["seed_section"].nunique() == 1, origin
    for row in tm.itertuples(index=False):
        assert row.seed_section in seed.find_quote(row.seed_quote), row.item
    md = (out / "traceability.md").read_text(encoding="utf-8")
    assert all(f"“{q}”" in md for q in tm["seed_quote"])
