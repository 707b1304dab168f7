"""The stage report as a document: structure, cover, fonts, headings, tables, and its PDF rendering.

The report is built from the study's own ``results/`` (realistic table contents: long Chinese
labels, control variables, many columns) in a temporary folder with
:func:`analysis.study.report.write_report`, read back with python-docx, and rendered to PDF with
LibreOffice (``soffice --headless --convert-to pdf``) and ``pdftotext -layout`` (poppler-utils).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter

import pytest
from docx import Document
from docx.oxml.ns import qn

from analysis import paths
from analysis.study.glossary import code_labels
from analysis.study.report import PLACEHOLDER, SECTIONS, project_info, write_report
from analysis.study.typography import BODY_FONT, FALLBACK_FONTS, HEADING_FONT

#: The rendered report of the study's results must have between these many pages (it has 13 when
#: written: cover, 11 sections with 10 tables and a figure, references); far more means tables or
#: text spilling, far fewer means sections or tables missing.
PAGES = (8, 30)

_NUMBER = re.compile(r"^(<0\.\d+|-?\d+(\.\d+)?)$")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    results = paths.DEFAULT.results
    if not (results / "structural" / "headline.json").exists():
        pytest.skip("no study results yet (run `resilience reproduce`)")
    out = tmp_path_factory.mktemp("report_document")
    path = write_report(out, results_dir=results)
    return path, Document(path)


def _cells(doc):
    """(table index, row index, text) of every cell."""
    return [(i, r, cell.text) for i, t in enumerate(doc.tables) for r, row in enumerate(t.rows) for cell in row.cells]


def test_sections_exist_in_order(built):
    _, doc = built
    level1 = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert level1 == list(SECTIONS)
    level2 = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    for sub in ("研究设计与调查工具", "数据与样本", "分析方法", "测量质量", "结构模型与中介效应", "组态分析", "统计功效",
                "下一步工作", "时间安排"):
        assert any(sub in h for h in level2), sub
    text = "\n".join(p.text for p in doc.paragraphs)
    # 阶段性成果 names the published article; 参考文献 lists it
    outputs = text[text.index("二、阶段性成果"):text.index("三、主要发现")]
    assert "吉军辉《城市基层党组织引领社区韧性治理的路径探索》，大河网，2025-07-21" in outputs
    refs = text[text.index("\n参考文献"):]
    assert "[1] 吉军辉. 城市基层党组织引领社区韧性治理的路径探索[EB/OL]. 大河网, 2025-07-21." in refs
    # every citation number in the text has its reference
    cited = {int(n) for group in re.findall(r"\[(\d+(?:,\d+)*)\]", text[:text.index("\n参考文献")])
             for n in group.split(",")}
    listed = {int(n) for n in re.findall(r"^\[(\d+)\] ", refs, flags=re.M)}
    assert cited and cited == listed


def test_plan_gives_the_recommended_sample_size(built):
    import json

    _, doc = built
    power = json.loads((paths.DEFAULT.results / "power" / "headline.json").read_text(encoding="utf-8"))
    text = "\n".join(p.text for p in doc.paragraphs)
    plan = text[text.index("五、下一步计划与时间安排"):text.index("\n参考文献")]
    assert f"建议实地调查的有效样本量不少于 {power['n_recommended']} 份" in plan
    assert f"平均设计效应 {power['design_effect']:.2f}" in plan


def test_column_widths_follow_the_contents():
    from analysis.study.tables import docx_column_widths

    header, numeric = ["效应", "估计值", "区间下限"], [False, True, True]
    body = [["经党建引领网格化治理的间接效应", "0.110", "-0.064"], ["总效应", "1299.642", "0.481"]]
    size, widths = docx_column_widths(header, body, numeric, 453.5)
    assert size == 9.0 and sum(widths) == pytest.approx(453.5)
    assert widths[1] >= 8 * 0.64 * size  # "1299.642" on one line
    # too many numbers for the page: a smaller font, then an error rather than broken numbers
    wide = [["1299.642"] * 10]
    size, widths = docx_column_widths([f"c{j}" for j in range(10)], wide, [True] * 10, 453.5)
    assert size < 9.0 and sum(widths) == pytest.approx(453.5)
    assert min(widths) >= 8 * 0.64 * size
    with pytest.raises(ValueError, match="do not fit"):
        docx_column_widths([f"c{j}" for j in range(30)], [["1299.642"] * 30], [True] * 30, 453.5)
    size, widths = docx_column_widths([f"c{j}" for j in range(30)], [["1299.642"] * 30], [True] * 30, 453.5,
                                      overflow=True)  # what add_docx_table does: into the margin, numbers whole
    assert size == 7.0 and min(widths) >= 8 * 0.64 * size


def test_cover_has_the_project_metadata(built):
    _, doc = built
    first_heading = next(i for i, p in enumerate(doc.paragraphs) if p.style.name.startswith("Heading"))
    cover = "\n".join(p.text for p in doc.paragraphs[:first_heading])
    info = project_info()
    assert "阶 段 报 告" in cover and f"{info['programme']}项目" in cover
    for label, key in (("项目编号", "number"), ("项目名称", "名称"), ("承担单位", "承担单位"), ("项目负责人", "负责人"),
                       ("报告日期", "date")):
        assert f"{label}：{info[key]}" in cover, label
        assert info[key]  # a value or the marked placeholder, never empty
    assert info["number"] == "242400410534"
    assert all(v == PLACEHOLDER or PLACEHOLDER not in v for v in (info["负责人"], info["承担单位"], info["date"]))
    # the cover is its own section, without a page number; the body's pages are numbered from 1
    assert len(doc.sections) == 2
    footer = doc.sections[1].footer._element.xml
    assert 'w:instr="PAGE"' in footer and "pgNumType" in doc.sections[1]._sectPr.xml


def test_no_table_cell_shows_a_code(built):
    """Every code of the glossary (construct codes, ind_GRID, role_2, first_order, ...) is shown in Chinese."""
    _, doc = built
    codes = sorted(code_labels(), key=len, reverse=True)
    pattern = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, codes)) + r")(?![A-Za-z0-9_])")
    found = [(i, r, text) for i, r, text in _cells(doc) if pattern.search(text)]
    assert not found, found[:10]


def test_no_english_lines_and_chinese_source_notes(built):
    _, doc = built
    text = [p.text for p in doc.paragraphs]
    assert not any("Produced by" in t or "Synthetic data" in t for t in text)
    sources = [t for t in text if t.startswith("资料来源：")]
    assert len(sources) == len(doc.tables)
    for s in sources:
        first = re.search(r"资料来源：(\S+?)[；、]", s).group(1)
        assert (paths.ROOT / first).exists(), s
        assert re.search(r"重新生成：resilience reproduce [a-z]+。$", s), s


def test_every_table_repeats_its_header_row_and_keeps_rows_whole(built):
    _, doc = built
    assert len(doc.tables) >= 8
    for i, t in enumerate(doc.tables):
        rows = t._tbl.tr_lst
        assert rows[0].trPr is not None and rows[0].trPr.find(qn("w:tblHeader")) is not None, i
        assert all(r.trPr is not None and r.trPr.find(qn("w:cantSplit")) is not None for r in rows), i
        assert all(r.trPr.find(qn("w:tblHeader")) is None for r in rows[1:]), i
        layout = t._tbl.tblPr.find(qn("w:tblLayout"))
        assert layout is not None and layout.get(qn("w:type")) == "fixed", i


def test_numbers_right_aligned_unbroken_and_with_leading_zeros(built):
    _, doc = built
    for i, t in enumerate(doc.tables):
        for row in t.rows[1:]:
            for cell in row.cells:
                text = cell.text
                assert not text.startswith((".", "-.", "< .")), (i, text)
                if _NUMBER.match(text):
                    assert cell.paragraphs[0].alignment == 2, (i, text)  # WD_ALIGN_PARAGRAPH.RIGHT
                    assert cell._tc.tcPr.find(qn("w:noWrap")) is not None, (i, text)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "表中数值均保留前导零（如 0.010）" in text


def test_headings_are_black(built):
    _, doc = built
    headings = [p for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings
    for p in headings:
        color = p.style.element.rPr.find(qn("w:color"))
        assert color is not None and color.get(qn("w:val")) == "000000", p.style.name
        assert color.get(qn("w:themeColor")) is None, p.style.name
        for r in p.runs:
            assert r.font.color.rgb is None or str(r.font.color.rgb) == "000000", p.text


def test_east_asian_fonts_are_set(built):
    path, doc = built

    def fonts(rpr):
        el = rpr.find(qn("w:rFonts"))
        assert el is not None
        assert not [a for a in el.attrib if a.endswith("Theme") or a.endswith("theme")], el.attrib
        return el.get(qn("w:eastAsia"))

    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert fonts(defaults) == BODY_FONT
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    assert fonts(doc.styles["Normal"].element.rPr) == BODY_FONT
    for name in ("Heading 1", "Heading 2"):
        assert fonts(doc.styles[name].element.rPr) == HEADING_FONT
    import zipfile

    font_table = zipfile.ZipFile(path).read("word/fontTable.xml").decode("utf-8")
    for name, alt in FALLBACK_FONTS.items():
        assert re.search(rf'w:name="{name}"><w:altName w:val="{alt}"/>', font_table), name
    if shutil.which("fc-list"):
        installed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
        for alt in FALLBACK_FONTS.values():
            assert alt in installed, f"{alt} is not installed (Debian: fonts-noto-cjk)"


# ---- the PDF ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pdf(built, tmp_path_factory):
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install -y libreoffice-writer-nogui")
    path, _ = built
    out = tmp_path_factory.mktemp("report_pdf")
    profile = tmp_path_factory.mktemp("lo_profile")
    proc = subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                           "--convert-to", "pdf", "--outdir", str(out), str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    pdf = out / (path.stem + ".pdf")
    assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-"
    return pdf


def _poppler(tool):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed: apt-get install -y poppler-utils")
    return tool


def test_pdf_page_count_is_reasonable(pdf):
    info = subprocess.run([_poppler("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, flags=re.M).group(1))
    assert PAGES[0] <= pages <= PAGES[1], pages


def test_pdf_breaks_no_number_across_lines(built, pdf):
    """Every number of every table cell appears whole in the rendered text, as often as the tables hold it.

    A number broken across two lines of its cell ("1299.6" / "4") would be missing as a whole token.
    """
    _, doc = built
    text = subprocess.run([_poppler("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    wanted = Counter(t for _, r, t in _cells(doc) if r > 0 and _NUMBER.match(t))
    assert len(wanted) > 50
    missing = {}
    for value, count in wanted.items():
        found = len(re.findall(r"(?<![0-9A-Za-z.\-])" + re.escape(value) + r"(?![0-9A-Za-z]|\.[0-9])", text))
        if found < count:
            missing[value] = (count, found)
    assert not missing, missing
    assert "表 1" in text and "参考文献" in text  # the text layer is readable, Chinese included


def test_pdf_draws_chinese_with_a_cjk_font(pdf):
    """Without 宋体/黑体 on the machine the Chinese text falls back to the installed Noto CJK."""
    fonts = subprocess.run([_poppler("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"CJK", fonts), fonts
