"""APA three-line tables: HTML, Markdown and DOCX renderings show the frame's numbers."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn

from analysis.results import SYNTHETIC_NOTE_ZH
from analysis.study.tables import apa_table, format_cell


@pytest.fixture()
def frame():
    rng = np.random.default_rng(11)
    f = pd.DataFrame({"construct": ["PL", "GRID", "INT"], "alpha": rng.uniform(0.6, 0.95, 3),
                      "n": rng.integers(100, 999, 3), "pvalue": [0.0002, 0.012, 0.5]})
    f.loc[1, "alpha"] = np.nan
    return f


def test_format_cell_rules():
    assert format_cell(0.5) == "0.500"
    assert format_cell(np.int64(12)) == "12"
    assert format_cell(np.nan) == "—" and format_cell(None) == "—" and format_cell(pd.NA) == "—"
    assert format_cell(0.00049, "p") == "< .001" and format_cell(0.0449, "p") == ".045"
    assert format_cell(1.23456, ".2f") == "1.23" and format_cell(7.6, "d") == "8"


def test_html_is_three_line_and_shows_the_numbers(frame):
    t = apa_table(frame, "表 1 信度", note="说明。", source="analysis.psychometrics.reliability.cronbach_alpha",
                  formats={"pvalue": "p"})
    html = t.to_html()
    table_tag = re.search(r"<table[^>]*>", html).group(0)
    assert "border-top:2px solid" in table_tag and "border-bottom:2px solid" in table_tag
    assert "border-left:none" in table_tag and "border-right:none" in table_tag
    assert html.count("border-bottom:1px solid") == frame.shape[1]  # the rule under the header only
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    body = np.array(cells).reshape(len(frame), frame.shape[1])
    shown_alpha = [np.nan if c == "—" else float(c) for c in body[:, 1]]
    np.testing.assert_allclose(shown_alpha, frame["alpha"], atol=5e-4)
    assert [int(c) for c in body[:, 2]] == frame["n"].tolist()
    assert list(body[:, 3]) == ["&lt; .001", ".012", ".500"]
    assert "Produced by <code>analysis.psychometrics.reliability.cronbach_alpha</code>" in html
    assert np.isnan(t.frame.loc[1, "alpha"])  # the frame keeps NaN; only the display shows a dash


def test_markdown_rows_and_note(frame):
    md = apa_table(frame, "表 1", note="备注", synthetic=True).to_markdown()
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert len(rows) == len(frame) + 2
    assert rows[1] == "|:---|---:|---:|---:|"
    assert SYNTHETIC_NOTE_ZH in md and "备注" in md


def test_docx_three_line_borders_and_values(frame):
    doc = Document()
    t = apa_table(frame, "信度", note="n", source="x.y", synthetic=True).to_docx(doc, number=3)
    borders = t._tbl.tblPr.find(qn("w:tblBorders"))
    val = {el.tag.rsplit("}", 1)[-1]: (el.get(qn("w:val")), el.get(qn("w:sz"))) for el in borders}
    assert val["top"] == ("single", "12") and val["bottom"] == ("single", "12")
    assert val["insideV"][0] == "nil" and val["insideH"][0] == "nil" and val["left"][0] == "nil"
    for cell in t.rows[0].cells:
        b = cell._tc.tcPr.find(qn("w:tcBorders")).find(qn("w:bottom"))
        assert b.get(qn("w:val")) == "single"
    got = [c.text for c in t.columns[1].cells[1:]]
    np.testing.assert_allclose([np.nan if g == "—" else float(g) for g in got], frame["alpha"], atol=5e-4)
    paras = [p.text for p in doc.paragraphs]
    assert paras[0] == "表 3  信度"
    assert any(p.startswith("注：") and SYNTHETIC_NOTE_ZH in p for p in paras)
    assert "Produced by `x.y`" in paras


def test_bad_input_is_explained():
    with pytest.raises(TypeError, match="DataFrame"):
        apa_table([[1, 2]], "x")
    with pytest.raises(ValueError, match="caption"):
        apa_table(pd.DataFrame({"a": [1]}), "")
