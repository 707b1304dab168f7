"""Render every generated file of the instrument from ``survey/instrument.yaml``.

One source, many faces: the printable questionnaire (Chinese and English;
Markdown, HTML and DOCX), the codebook (CSV, Markdown), the Frictionless Data
Package descriptor of ``responses.csv``, the XLSForm for ODK/KoboToolbox,
the lavaan syntax files and the traceability matrix (seed section ->
construct -> item -> quote).  Every file is written atomically and
deterministically (zip containers get fixed timestamps), so two renders are
byte-identical.

Examples
--------
>>> import tempfile, pathlib
>>> files = render(pathlib.Path(tempfile.mkdtemp()))
>>> sorted(p.name for p in files)[:4]
['codebook.csv', 'codebook.md', 'datapackage.json', 'measurement.lav']
"""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.io import atomic_path, write_csv, write_json, write_text
from analysis.study.instrument import Instrument, load_instrument
from analysis.study.typography import HEADING_FONT, deterministic_zip, set_fonts, typeset

__all__ = [
    "render", "questionnaire_markdown", "questionnaire_html", "write_questionnaire_docx",
    "codebook", "codebook_markdown", "datapackage", "xlsform_sheets", "write_xlsform",
    "traceability", "traceability_markdown", "LANGS", "XLSFORM_LANG", "DOCX_LAYOUT", "grid_column_widths",
]

#: Languages of the printable questionnaire.
LANGS = ("zh", "en")
#: XLSForm language names (``label::<name>`` columns).
XLSFORM_LANG = {"zh": "Chinese (zh)", "en": "English (en)"}

_UI = {
    "zh": {
        "how_to": "填答说明：请在符合您情况的“□”内打“√”，或在横线上填写；除特别说明外，每题只选一项。",
        "part_community": "第一部分 社区基本情况",
        "part_scales": "第二部分 社区治理评价",
        "part_respondent": "第三部分 个人基本情况",
        "scale_intro": "请根据您所在社区的实际情况，在每一行最符合您看法的方框内打“√”（每行只选一项）。"
                       "如果您不了解某一项所说的情况，请选“{dk}”。",
        "no": "题号", "statement": "陈述",
        "blank": "填写：____________",
        "integer_blank": "填写：______ 年",
        "thanks": "问卷到此结束，衷心感谢您的参与！",
        "page": ("第 ", " 页，共 ", " 页"),
        "grid_header": "labels",        # the answer columns are headed by the scale labels
    },
    "en": {
        "how_to": "How to answer: tick (√) the box that fits you, or write on the line; choose one answer per "
                  "question unless told otherwise.",
        "part_community": "Part 1. Your community",
        "part_scales": "Part 2. How your community is governed",
        "part_respondent": "Part 3. About you",
        "scale_intro": "Thinking of your own community, tick in each row the box closest to your view (one per row): "
                       "{legend}. If you do not know about what a statement describes, tick “{dk}”.",
        "no": "No.", "statement": "Statement",
        "blank": "Write here: ____________",
        "integer_blank": "Write here: ______ years",
        "thanks": "This is the end of the questionnaire. Thank you very much for taking part!",
        "page": ("Page ", " of ", ""),
        "grid_header": "values",        # headed 1..5 (English labels do not fit a narrow column)
    },
}
_BOX = "□"

#: Print layout of the DOCX questionnaire (A4), in twentieths of a point (twips; 567 twips = 1 cm).
#: The Likert grid's columns are fixed: number, statement, the five points and "don't know"; the
#: statement column takes what the others leave of the text width, so the widths sum to it exactly.
DOCX_LAYOUT = {
    "page_width": 11906, "page_height": 16838,             # A4: 210 x 297 mm
    "margin": 1134,                                         # 2.0 cm on every side
    "zh": {"no": 510, "answer": 680, "font_pt": 10.0, "header_pt": 9.0},    # 0.9 cm, 1.2 cm
    "en": {"no": 454, "answer": 624, "font_pt": 9.5, "header_pt": 8.0},     # 0.8 cm, 1.1 cm
}


def grid_column_widths(lang: str, points: int = 5) -> list[int]:
    """Widths (twips) of the Likert grid's columns in the DOCX questionnaire.

    Parameters
    ----------
    lang : {"zh", "en"}
    points : int, default 5
        Points of the agreement scale; one more column holds "don't know".

    Returns
    -------
    list of int
        ``[number, statement, point 1, ..., point k, don't know]``; they sum
        to the text width of an A4 page with the layout's margins.

    Examples
    --------
    >>> w = grid_column_widths("zh")
    >>> w, sum(w) == DOCX_LAYOUT["page_width"] - 2 * DOCX_LAYOUT["margin"]  # twips: 567 = 1 cm
    ([510, 5048, 680, 680, 680, 680, 680, 680], True)
    """
    lay = DOCX_LAYOUT[lang]
    text = DOCX_LAYOUT["page_width"] - 2 * DOCX_LAYOUT["margin"]
    answers = [lay["answer"]] * (points + 1)
    return [lay["no"], text - lay["no"] - sum(answers)] + answers


# ---------------------------------------------------------------------------
# the questionnaire as blocks (shared by Markdown, HTML and DOCX)
# ---------------------------------------------------------------------------
def _title(ins: Instrument, lang: str) -> str:
    return str(ins.meta.get(f"title_{lang}", "")) or ("调查问卷" if lang == "zh" else "Questionnaire")


def _likert_rows(ins: Instrument, lang: str, start: int):
    """Rows ``(number, code, text, dont_know)`` of the scales in questionnaire order, ATTN after ``after``."""
    rows, n = [], start
    at = ins.attention_check
    after = at.after or ins.item_codes()[-1]
    for it in ins.items:
        rows.append((n, it.code, getattr(it, f"text_{lang}"), it.dont_know))
        n += 1
        if it.code == after:
            rows.append((n, at.code, getattr(at, f"text_{lang}"), False))
            n += 1
    return rows, n


def _dk_label(ins: Instrument, lang: str) -> str:
    dk = ins.scale.dont_know
    return getattr(dk, lang) if dk is not None else ""


def _blocks(ins: Instrument, lang: str) -> list[tuple]:
    """The questionnaire as the respondent sees it: numbered questions, no item codes or variable names."""
    ui = _UI[lang]
    cs = ins.consent
    blocks: list[tuple] = [("h1", _title(ins, lang)), ("h2", getattr(cs, f"title_{lang}"))]
    for para in getattr(cs, f"text_{lang}").splitlines():
        if para.strip():
            blocks.append(("p", para.strip()))
    blocks.append(("choices", [getattr(cs, f"agree_{lang}"), getattr(cs, f"decline_{lang}")]))
    blocks.append(("note", ui["how_to"]))
    n = 1

    def context_part(part, heading):
        nonlocal n
        blocks.append(("h2", ui[heading]))
        for v in ins.context:
            if v.part != part:
                continue
            hint = getattr(v, f"hint_{lang}")
            blocks.append(("question", f"{n}. {getattr(v, f'label_{lang}')}", hint))
            if v.kind == "categorical":
                blocks.append(("choices", [f"{ch.value} {getattr(ch, lang)}" for ch in v.choices]))
            elif v.kind == "integer":
                blocks.append(("p", ui["integer_blank"]))
            else:
                blocks.append(("p", ui["blank"]))
            n += 1

    context_part("community", "part_community")
    blocks.append(("h2", ui["part_scales"], "new page"))    # the grid starts on a page of its own
    dk = _dk_label(ins, lang)
    legend = ", ".join(f"{lab.value} = {getattr(lab, lang)}" for lab in ins.scale.labels)
    blocks.append(("p", ui["scale_intro"].format(dk=dk, legend=legend)))
    rows, n = _likert_rows(ins, lang, n)
    points = [getattr(lab, lang) if ui["grid_header"] == "labels" else str(lab.value) for lab in ins.scale.labels]
    header = [ui["no"], ui["statement"]] + points + [dk]
    body = [(str(num), text, offer) for num, _, text, offer in rows]
    blocks.append(("grid", header, body))
    context_part("respondent", "part_respondent")
    blocks.append(("p", ui["thanks"]))
    return blocks


def _grid_cells(row, points: int) -> list[str]:
    """Cells of one grid row: number, statement, a box per point, a box under 不清楚 where offered."""
    num, text, offer = row
    return [num, text] + [_BOX] * points + [_BOX if offer else ""]


def _md_escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def questionnaire_markdown(ins: Instrument, lang: str = "zh") -> str:
    """The printable questionnaire as Markdown (CommonMark with pipe tables).

    Parameters
    ----------
    ins : Instrument
    lang : {"zh", "en"}

    Returns
    -------
    str
        Questions numbered consecutively; no item code or variable name
        appears.  The Likert grid has a "don't know" column, with a box on
        the items that offer it.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    out = []
    for block in _blocks(ins, lang):
        kind = block[0]
        if kind == "h1":
            out.append(f"# {block[1]}\n")
        elif kind == "h2":
            out.append(f"## {block[1]}\n")
        elif kind == "p":
            out.append(f"{block[1]}\n")
        elif kind == "note":
            out.append(f"*{block[1]}*\n")
        elif kind == "question":
            text = f"**{block[1]}**"
            if block[2]:
                text += f"  \n*{block[2]}*"
            out.append(text + "\n")
        elif kind == "choices":
            out.append("\u3000".join(f"{_BOX} {c}" for c in block[1]) + "\n")
        elif kind == "grid":
            header, body = block[1], block[2]
            lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
            lines += ["| " + " | ".join(_md_escape_cell(c) for c in _grid_cells(row, ins.scale.points)) + " |"
                      for row in body]
            out.append("\n".join(lines) + "\n")
    return "\n".join(out)


_HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Source Han Sans SC", "SimSun", sans-serif; max-width: 60em; margin: 2em auto; line-height: 1.5; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #888; padding: 0.3em 0.5em; vertical-align: top; }}
td:nth-child(n+3), th:nth-child(n+3) {{ text-align: center; width: 3.2em; }}
@page {{ size: A4; margin: 2cm; }}
@media print {{ thead {{ display: table-header-group; }} tr {{ break-inside: avoid; }} }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def questionnaire_html(ins: Instrument, lang: str = "zh") -> str:
    """The printable questionnaire as a standalone HTML page (from the Markdown)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    body = md.render(questionnaire_markdown(ins, lang))
    lang_attr = "zh-CN" if lang == "zh" else "en"
    return _HTML_TEMPLATE.format(lang=lang_attr, title=html.escape(_title(ins, lang)), body=body.rstrip("\n"))


# ----- DOCX helpers (python-docx has no API for these table properties) ------------
def _xml(tag: str, **attrs):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    el = OxmlElement(tag)
    for k, v in attrs.items():
        el.set(qn(f"w:{k}"), str(v))
    return el


def _typeset(doc) -> None:
    """The stage report's typography (:func:`analysis.study.typography.typeset`), set for a questionnaire.

    宋体 body and black 黑体 headings, declared in the font table with the
    installed Noto CJK families as alternative names; then a smaller body
    (10.5 pt, no first-line indent, tight spacing) and bold 12 pt headings,
    so that the Likert grid stays compact.  The page itself is set by the
    caller (:data:`DOCX_LAYOUT`).
    """
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Pt

    typeset(doc)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    pf = normal.paragraph_format
    pf.first_line_indent = Pt(0)
    pf.space_before, pf.space_after, pf.line_spacing = Pt(0), Pt(3), 1.15
    heading = doc.styles["Heading 1"]
    heading.font.size, heading.font.bold = Pt(12), True
    hf = heading.paragraph_format
    hf.space_before, hf.space_after, hf.keep_with_next = Pt(9), Pt(3), True
    hf.line_spacing_rule = WD_LINE_SPACING.SINGLE


def _tight(paragraph, align=None, size_pt: float | None = None) -> None:
    """No space around a paragraph, single line spacing (the grid's cells)."""
    from docx.shared import Pt

    pf = paragraph.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.line_spacing = 1.0
    if align is not None:
        paragraph.alignment = align
    if size_pt is not None:
        for run in paragraph.runs:
            run.font.size = Pt(size_pt)


def _page_field(paragraph, instr: str) -> None:
    fld = _xml("w:fldSimple", instr=instr)
    run = _xml("w:r")
    t = _xml("w:t")
    t.text = "1"
    run.append(t)
    fld.append(run)
    paragraph._p.append(fld)


def _grid_table(doc, header, body, lang: str, points: int):
    """The Likert grid: fixed column widths, header repeated on every page, rows never split."""
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Twips

    lay = DOCX_LAYOUT[lang]
    widths = grid_column_widths(lang, points)
    table = doc.add_table(rows=1, cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.autofit = False                                   # w:tblLayout w:type="fixed"
    tblpr = table._tbl.tblPr
    tblw = tblpr.find(qn("w:tblW"))
    tblw.set(qn("w:w"), str(sum(widths)))
    tblw.set(qn("w:type"), "dxa")
    mar = _xml("w:tblCellMar")
    for side, w in (("top", 14), ("left", 57), ("bottom", 14), ("right", 57)):
        mar.append(_xml(f"w:{side}", w=w, type="dxa"))
    tblpr.append(mar)
    for col, w in zip(table.columns, widths):
        col.width = Twips(w)

    def fill(row, cells, is_header, offer=True):
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(_xml("w:cantSplit"))
        if is_header:
            tr_pr.append(_xml("w:tblHeader"))
        for j, (cell, text, w) in enumerate(zip(row.cells, cells, widths)):
            cell.width = Twips(w)
            cell.text = text
            par = cell.paragraphs[0]
            left = j == 1 and not is_header
            _tight(par, WD_ALIGN_PARAGRAPH.LEFT if left else WD_ALIGN_PARAGRAPH.CENTER,
                   lay["header_pt"] if is_header else lay["font_pt"])
            if is_header:
                for run in par.runs:
                    run.bold = True
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            if j == len(cells) - 1 and not is_header and not offer:
                cell._tc.get_or_add_tcPr().append(_xml("w:shd", val="clear", color="auto", fill="EDEDED"))

    fill(table.rows[0], header, True)
    for row in body:  # row by row: python-docx's table.cell(i, j) is slow on long tables
        fill(table.add_row(), _grid_cells(row, points), False, offer=row[2])
    return table


def write_questionnaire_docx(ins: Instrument, lang: str, path) -> Path:
    """Write the printable questionnaire as DOCX (python-docx), laid out for field printing.

    Parameters
    ----------
    ins : Instrument
    lang : {"zh", "en"}
    path : path-like
        Target ``.docx`` file (written atomically, with fixed timestamps).

    Returns
    -------
    pathlib.Path

    Notes
    -----
    A4 with 2 cm margins (:data:`DOCX_LAYOUT`); the stage report's fonts
    (black 黑体 headings, 宋体 body, Times New Roman for Latin letters and
    digits, Noto CJK where 宋体/黑体 are missing); "page X of Y" in the
    footer.  The Likert
    grid is one table of fixed column widths that sum to the text width
    (:func:`grid_column_widths`): a wide statement column and narrow answer
    columns headed by the scale labels and "don't know", whose box appears
    only on the items that offer it (a shaded cell elsewhere).  Its header
    row repeats on every page (``w:tblHeader``) and no row breaks across a
    page (``w:cantSplit``).  Questions are numbered 1, 2, 3, ... through the
    whole questionnaire; no item code or variable name is printed.
    """
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, Twips

    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    doc = Document()
    doc.core_properties.title = _title(ins, lang)
    doc.core_properties.author = "resilience compendium"
    doc.core_properties.revision = 1
    _typeset(doc)
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Twips(DOCX_LAYOUT["page_width"]), Twips(DOCX_LAYOUT["page_height"])
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Twips(DOCX_LAYOUT["margin"]))
    sec.header_distance = sec.footer_distance = Twips(567)

    foot = sec.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    before, middle, after = _UI[lang]["page"]
    foot.add_run(before)
    _page_field(foot, "PAGE")
    foot.add_run(middle)
    _page_field(foot, "NUMPAGES")
    if after:
        foot.add_run(after)

    for block in _blocks(ins, lang):
        kind = block[0]
        if kind == "h1":
            par = doc.add_paragraph()
            par.alignment = WD_ALIGN_PARAGRAPH.CENTER
            par.paragraph_format.space_after = Pt(9)
            run = par.add_run(block[1])
            run.bold = True
            run.font.size = Pt(15)
            set_fonts(run._r.get_or_add_rPr(), HEADING_FONT)
        elif kind == "h2":
            heading = doc.add_heading(block[1], level=1)
            heading.paragraph_format.page_break_before = block[2:] == ("new page",)
        elif kind == "p":
            doc.add_paragraph(block[1])
        elif kind == "note":
            par = doc.add_paragraph()
            par.paragraph_format.space_before = Pt(6)
            run = par.add_run(block[1])
            run.bold = True
        elif kind == "question":
            par = doc.add_paragraph()
            par.paragraph_format.keep_with_next = True
            par.paragraph_format.space_before = Pt(3)
            par.add_run(block[1]).bold = True
            if block[2]:
                hint = par.add_run(("（" + block[2] + "）") if lang == "zh" else (" (" + block[2] + ")"))
                hint.font.size = Pt(9)
                hint.italic = lang == "en"
        elif kind == "choices":
            doc.add_paragraph("\u3000".join(f"{_BOX} {c}" for c in block[1]))
        elif kind == "grid":
            doc.paragraphs[-1].paragraph_format.keep_with_next = True
            _grid_table(doc, block[1], block[2], lang, ins.scale.points)
    path = Path(path)
    with atomic_path(path) as tmp:
        doc.save(str(tmp))
        deterministic_zip(tmp)
    return path


# ---------------------------------------------------------------------------
# codebook and data package
# ---------------------------------------------------------------------------
_CODEBOOK_COLUMNS = [
    "variable", "role", "type", "label_zh", "label_en", "construct", "construct_zh", "construct_en",
    "second_order", "reverse", "polarity", "dont_know", "min", "max", "values_zh", "values_en", "pattern",
    "required", "seed_section", "seed_quote",
]


def codebook(ins: Instrument) -> pd.DataFrame:
    """The codebook of ``data/processed/responses.csv``: one row per column, in file order.

    Parameters
    ----------
    ins : Instrument

    Returns
    -------
    pandas.DataFrame
        Columns ``variable, role, type, label_zh, label_en, construct,
        construct_zh, construct_en, second_order, reverse, polarity,
        dont_know, min, max, values_zh, values_en, pattern, required,
        seed_section, seed_quote``.
        ``role`` is one of ``id, item, attention, context, paradata``;
        ``type`` is a Table Schema type (``string, integer, number, date``);
        ``values_*`` list ``value=label`` pairs separated by ``"；"`` (zh) or ``"; "`` (en); empty
        cells where a column does not apply.  Items are coded as answered
        (reverse-keyed items are recoded only in ``analysis.parquet``).
        ``dont_know`` is ``true`` for the items that offer the don't-know
        answer (code :attr:`Scale.dont_know` ``.value`` in the raw export,
        read as missing by design: an empty cell here).
    """
    second = {ch: so for so in ins.second_order for ch in so.children}
    scale_zh = "；".join(f"{lab.value}={lab.zh}" for lab in ins.scale.labels)
    scale_en = "; ".join(f"{lab.value}={lab.en}" for lab in ins.scale.labels)
    k = ins.scale.points
    rows = [dict(variable="resp_id", role="id", type="string", label_zh="答卷编号（随机，不可识别个人）",
                 label_en="Response id (random, not identifying)", required=True)]
    for c in ins.constructs:
        so = second.get(c.code)
        for it in c.items:
            rows.append(dict(
                variable=it.code, role="item", type="integer", label_zh=it.text_zh, label_en=it.text_en,
                construct=c.code, construct_zh=c.name_zh, construct_en=c.name_en,
                second_order=so.code if so else "", reverse=it.reverse, polarity=it.polarity,
                dont_know=it.dont_know, min=1, max=k, values_zh=scale_zh, values_en=scale_en, required=False,
                seed_section=it.seed_section, seed_quote=it.seed_quote,
            ))
    at = ins.attention_check
    rows.append(dict(variable=at.code, role="attention", type="integer", label_zh=at.text_zh, label_en=at.text_en,
                     min=1, max=k, values_zh=scale_zh, values_en=scale_en, required=False))
    for v in ins.context:
        row = dict(variable=v.code, role="context", label_zh=v.label_zh, label_en=v.label_en, required=v.required,
                   pattern=v.pattern or "")
        if v.kind == "categorical":
            row.update(type="integer", min=min(ch.value for ch in v.choices), max=max(ch.value for ch in v.choices),
                       values_zh="；".join(f"{ch.value}={ch.zh}" for ch in v.choices),
                       values_en="; ".join(f"{ch.value}={ch.en}" for ch in v.choices))
        elif v.kind == "integer":
            row.update(type="integer", min=v.min, max=v.max)
        else:
            row.update(type="string")
        rows.append(row)
    rows.append(dict(variable="duration_s", role="paradata", type="number", label_zh="作答用时（秒）",
                     label_en="Time taken to answer (seconds)", min=0, required=False))
    rows.append(dict(variable="submit_date", role="paradata", type="date", label_zh="提交日期（仅日期）",
                     label_en="Date of submission (day only)", required=False))
    df = pd.DataFrame(rows, columns=_CODEBOOK_COLUMNS)
    for col in ("min", "max"):
        df[col] = pd.array(df[col], dtype="Int64")
    for col in ("reverse", "dont_know", "required"):
        df[col] = df[col].map(lambda x: "" if pd.isna(x) else ("true" if x else "false"))
    text_cols = [c for c in _CODEBOOK_COLUMNS if c not in ("min", "max")]
    df[text_cols] = df[text_cols].fillna("")
    return df


def _md_table(df: pd.DataFrame) -> str:
    def cell(x):
        return "" if pd.isna(x) else _md_escape_cell(str(x)).replace("\n", " ")

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "|".join(["---"] * df.shape[1]) + "|"]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def codebook_markdown(ins: Instrument) -> str:
    """The codebook as a Markdown page (variables, then the value labels)."""
    cb = codebook(ins)
    title = ins.meta.get("title_zh", "")
    head = (f"# 编码手册 Codebook\n\n{title}\n\n"
            "One row per column of `data/processed/responses.csv`; items are coded as answered "
            "(reverse-keyed items, `reverse = true`, are recoded 6 − x only in `analysis.parquet`). "
            "Missing answers are empty cells (NaN).\n\n")
    cols = ["variable", "role", "type", "label_zh", "label_en", "construct", "second_order", "reverse", "dont_know",
            "min", "max", "required"]
    out = head + _md_table(cb[cols])
    dk = ins.scale.dont_know
    if dk is not None:
        flagged = cb.loc[cb["dont_know"] == "true", "variable"].tolist()
        out += (f"\n## 不清楚 Don't know\n\n"
                f"The {len(flagged)} items with `dont_know = true` offer a sixth answer, "
                f"**{dk.value} = {dk.zh} / {dk.en}**, beside the five points ({', '.join(flagged)}). "
                f"In a raw export (问卷星 text or score download, KoboToolbox, the codebook CSV, SPSS) it is "
                f"`{dk.value}` or the text `{dk.zh}`; ingestion reads it as **missing by design**: an empty cell "
                f"(NaN) in `responses.csv`, counted per item in `ingest_report.json` (`special_codes`), as "
                f"问卷星's `-3` (skipped by jump logic) and `-2` (not shown) are. On any other item it is an "
                f"out-of-range answer.\n\n"
                f"Why {dk.value}: a single digit outside the scale that no scale point, no reverse-scored value "
                f"(6 − x) and no 问卷星 special code can take, declared as a user-missing value in SPSS. It is not "
                f"6, the option's position on 问卷星, which a data-entry clerk would take for a sixth point: on "
                f"问卷星 give the option the score {dk.value} (or download the answers as text); on paper, enter "
                f"a ticked “{dk.zh}” as {dk.value}.\n")
    out += "\n## 取值标签 Value labels\n\n"
    seen = set()
    for row in cb.itertuples(index=False):
        if row.values_zh and (row.values_zh, row.values_en) not in seen:
            seen.add((row.values_zh, row.values_en))
            users = cb.loc[cb["values_zh"] == row.values_zh, "variable"].tolist()
            name = "Likert items, ATTN" if row.role in ("item", "attention") else ", ".join(users)
            out += f"**{name}**: {row.values_zh} / {row.values_en}\n\n"
    return out


def datapackage(ins: Instrument, *, resource_path: str = "responses.csv") -> dict:
    """The Frictionless Data Package descriptor of ``responses.csv``.

    Parameters
    ----------
    ins : Instrument
    resource_path : str, default "responses.csv"
        Path of the data file relative to the descriptor.

    Returns
    -------
    dict
        A Data Package (v1) with one tabular resource whose Table Schema gives
        every column's type, constraints (``required``, ``minimum``,
        ``maximum``, ``enum``, ``pattern``, ``unique``) and, for coded
        columns, value labels as Table Schema v2 ``categories``
        (``[{"value": 1, "label": "非常不同意 / Strongly disagree"}, ...]``).
        Empty cells are missing values.

    References
    ----------
    .. [1] Frictionless Standards: Table Schema,
       https://specs.frictionlessdata.io/table-schema/
    """
    cb = codebook(ins)
    likert = [{"value": lab.value, "label": f"{lab.zh} / {lab.en}"} for lab in ins.scale.labels]
    by_code = {v.code: v for v in ins.context}
    fields = []
    for row in cb.itertuples(index=False):
        f = {"name": row.variable, "type": row.type, "title": row.label_en, "description": row.label_zh}
        cons = {}
        if row.required == "true":
            cons["required"] = True
        if row.variable == "resp_id":
            cons["unique"] = True
        if not pd.isna(row.min):
            cons["minimum"] = int(row.min)
        if not pd.isna(row.max):
            cons["maximum"] = int(row.max)
        if row.role in ("item", "attention"):
            cons["enum"] = list(ins.scale.values)
            f["categories"] = likert
            f["categoriesOrdered"] = True
        v = by_code.get(row.variable)
        if v is not None and v.kind == "categorical":
            cons["enum"] = [ch.value for ch in v.choices]
            f["categories"] = [{"value": ch.value, "label": f"{ch.zh} / {ch.en}"} for ch in v.choices]
        if row.pattern:
            cons["pattern"] = row.pattern.lstrip("^").rstrip("$")
        if cons:
            f["constraints"] = cons
        fields.append(f)
    return {
        "profile": "tabular-data-package",
        "name": str(ins.meta.get("id", "resilience-survey")),
        "title": f"{ins.meta.get('title_zh', '')} / {ins.meta.get('title_en', '')}",
        "version": str(ins.meta.get("version", "")),
        "licenses": [{"name": "CC0-1.0", "title": "CC0 1.0 (synthetic data)",
                      "path": "https://creativecommons.org/publicdomain/zero/1.0/"}],
        "resources": [{
            "name": "responses",
            "path": resource_path,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": {"fields": fields, "primaryKey": ["resp_id"], "missingValues": [""]},
        }],
    }


# ---------------------------------------------------------------------------
# XLSForm
# ---------------------------------------------------------------------------
def xlsform_sheets(ins: Instrument) -> dict[str, pd.DataFrame]:
    """The XLSForm as three sheets: ``survey``, ``choices``, ``settings``.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``survey`` columns ``type, name, label::Chinese (zh), label::English
        (en), hint::..., required, constraint, constraint_message::...,
        relevant, appearance``; ``choices`` columns ``list_name, name,
        label::...`` (list ``agree``: the scale; ``agree_dk``: the scale and
        the don't-know answer, for the items that offer it); ``settings`` one row (``form_title, form_id, version,
        default_language``).  Everything after the consent question is
        relevant only when consent is ``1``.

    References
    ----------
    .. [1] XLSForm specification, https://xlsform.org/en/
    """
    zh, en = (f"label::{XLSFORM_LANG[x]}" for x in LANGS)
    hzh, hen = (f"hint::{XLSFORM_LANG[x]}" for x in LANGS)
    czh, cen = (f"constraint_message::{XLSFORM_LANG[x]}" for x in LANGS)
    cols = ["type", "name", zh, en, hzh, hen, "required", "constraint", czh, cen, "relevant", "appearance"]
    survey, choices = [], []
    cs = ins.consent
    agreed = f"${{{cs.code}}} = '1'"

    def row(**kw):
        survey.append({c: kw.get(c, "") for c in cols})

    def choice(list_name, name, lzh, len_):
        choices.append({"list_name": list_name, "name": str(name), zh: lzh, en: len_})

    row(type="start", name="start")
    row(type="end", name="end")
    row(type="note", name="consent_text", **{zh: cs.text_zh, en: cs.text_en})
    row(type=f"select_one {cs.code}", name=cs.code, required="yes", **{zh: cs.title_zh, en: cs.title_en})
    choice(cs.code, 1, cs.agree_zh, cs.agree_en)
    choice(cs.code, 2, cs.decline_zh, cs.decline_en)

    def context(part, heading):
        row(type="begin group", name=f"part_{part}", relevant=agreed,
            **{zh: _UI["zh"][heading], en: _UI["en"][heading]})
        for v in ins.context:
            if v.part != part:
                continue
            base = dict(name=v.code, required="yes" if v.required else "",
                        **{zh: v.label_zh, en: v.label_en, hzh: v.hint_zh or "", hen: v.hint_en or ""})
            if v.kind == "categorical":
                row(type=f"select_one {v.code}", **base)
                for ch in v.choices:
                    choice(v.code, ch.value, ch.zh, ch.en)
            elif v.kind == "integer":
                row(type="integer", constraint=f". >= {v.min} and . <= {v.max}",
                    **{czh: f"请填写 {v.min} 到 {v.max} 之间的整数", cen: f"Enter a whole number from {v.min} to {v.max}"},
                    **base)
            else:
                cons = f"regex(., '{v.pattern}')" if v.pattern else ""
                row(type="text", constraint=cons,
                    **({czh: f"格式不正确：{v.hint_zh or ''}", cen: f"Wrong format: {v.hint_en or ''}"} if cons else {}),
                    **base)
        row(type="end group", name=f"part_{part}")

    context("community", "part_community")
    row(type="begin group", name="part_scales", relevant=agreed, appearance="field-list",
        **{zh: _UI["zh"]["part_scales"], en: _UI["en"]["part_scales"]})
    intro = {lang: _UI[lang]["scale_intro"].format(
        dk=_dk_label(ins, lang), legend=", ".join(f"{lab.value} = {getattr(lab, lang)}" for lab in ins.scale.labels))
        for lang in LANGS}
    row(type="note", name="scale_intro", **{zh: intro["zh"], en: intro["en"]})
    at = ins.attention_check
    texts = {it.code: it for it in ins.items}
    for _, code, _, offer in _likert_rows(ins, "zh", 1)[0]:
        src = texts.get(code)
        lzh, len_ = (src.text_zh, src.text_en) if src else (at.text_zh, at.text_en)
        row(type="select_one agree_dk" if offer else "select_one agree", name=code, required="yes",
            appearance="likert", **{zh: lzh, en: len_})
    for lab in ins.scale.labels:
        choice("agree", lab.value, lab.zh, lab.en)
    if ins.dont_know_codes:
        for lab in ins.scale.labels + (ins.scale.dont_know,):
            choice("agree_dk", lab.value, lab.zh, lab.en)
    row(type="end group", name="part_scales")
    context("respondent", "part_respondent")
    row(type="note", name="thanks", relevant=agreed, **{zh: _UI["zh"]["thanks"], en: _UI["en"]["thanks"]})
    settings = pd.DataFrame([{
        "form_title": str(ins.meta.get("title_zh", "")),
        "form_id": str(ins.meta.get("id", "resilience-survey")).replace("-", "_"),
        "version": str(ins.meta.get("version", "1")),
        "default_language": XLSFORM_LANG["zh"],
    }])
    return {"survey": pd.DataFrame(survey, columns=cols),
            "choices": pd.DataFrame(choices, columns=["list_name", "name", zh, en]),
            "settings": settings}


def write_xlsform(ins: Instrument, path) -> Path:
    """Write the XLSForm ``.xlsx`` (openpyxl; fixed timestamps for determinism)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, df in xlsform_sheets(ins).items():
        ws = wb.create_sheet(name)
        ws.append(list(df.columns))
        for rec in df.itertuples(index=False):
            ws.append([None if (isinstance(x, str) and x == "") else x for x in rec])
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(str(tmp))
        deterministic_zip(tmp)
    return path


# ---------------------------------------------------------------------------
# traceability
# ---------------------------------------------------------------------------
def traceability(ins: Instrument) -> pd.DataFrame:
    """The traceability matrix: seed pathway -> construct -> item -> quote.

    Returns
    -------
    pandas.DataFrame
        One row per Likert item, columns ``pathway, pathway_zh, pathway_en,
        construct, construct_zh, construct_en, second_order, item, reverse,
        split_from, text_zh, text_en, seed_section, seed_quote``; ``pathway``
        is the construct's seed section, ``seed_section`` the section the
        item's quote comes from, ``split_from`` the version-1 item whose
        double-barrelled statement the item is half of (empty otherwise).
    """
    titles = {p.section: p for p in ins.pathways}
    second = {ch: so.code for so in ins.second_order for ch in so.children}
    rows = []
    for c in ins.constructs:
        p = titles.get(c.pathway)
        for it in c.items:
            rows.append(dict(
                pathway=c.pathway, pathway_zh=p.title_zh if p else "", pathway_en=p.title_en if p else "",
                construct=c.code, construct_zh=c.name_zh, construct_en=c.name_en,
                second_order=second.get(c.code, ""), item=it.code, reverse="true" if it.reverse else "false",
                split_from=it.split_from or "", text_zh=it.text_zh, text_en=it.text_en,
                seed_section=it.seed_section, seed_quote=it.seed_quote,
            ))
    return pd.DataFrame(rows)


def traceability_markdown(ins: Instrument) -> str:
    """The traceability matrix as Markdown, one section per seed pathway."""
    tm = traceability(ins)
    out = ["# 溯源矩阵 Traceability matrix\n",
           "Each indicator names the passage of the seed article it operationalizes "
           "(section and a short verbatim quote; checked by `resilience instrument check`). "
           "`split_from` names the version-1 item whose double-barrelled statement was split in two; "
           "each half quotes its own phrase of the same passage.\n"]
    order = [p.section for p in ins.pathways] + sorted(set(tm["pathway"]) - {p.section for p in ins.pathways})
    for sec in order:
        part = tm[tm["pathway"] == sec]
        if part.empty:
            continue
        out.append(f"## {part['pathway_zh'].iloc[0]}\n\n*{part['pathway_en'].iloc[0]}*\n")
        for code, grp in part.groupby("construct", sort=False):
            head = f"### {code} {grp['construct_zh'].iloc[0]} ({grp['construct_en'].iloc[0]})"
            if grp["second_order"].iloc[0]:
                head += f" → {grp['second_order'].iloc[0]}"
            out.append(head + "\n")
            view = grp[["item", "reverse", "split_from", "text_zh", "seed_section", "seed_quote"]].copy()
            view["seed_quote"] = "“" + view["seed_quote"] + "”"
            out.append(_md_table(view))
    return "\n".join(out)


# ---------------------------------------------------------------------------
# everything
# ---------------------------------------------------------------------------
def render(out_dir=None, path=None) -> list[Path]:
    """Write every generated file of the instrument into ``out_dir``.

    Parameters
    ----------
    out_dir : path-like, optional
        Target folder; default :attr:`analysis.paths.Layout.generated_instrument`.
    path : path-like, optional
        The instrument YAML; default :attr:`analysis.paths.Layout.instrument`.

    Returns
    -------
    list of pathlib.Path
        The files written, in a fixed order: ``questionnaire_{zh,en}.{md,html,docx}``,
        ``codebook.csv``, ``codebook.md``, ``datapackage.json``,
        ``xlsform.xlsx``, ``measurement.lav``, ``structural.lav``,
        ``traceability.csv``, ``traceability.md``.
    """
    out_dir = Path(paths.DEFAULT.generated_instrument if out_dir is None else out_dir)
    ins = load_instrument(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for lang in LANGS:
        written.append(write_text(out_dir / f"questionnaire_{lang}.md", questionnaire_markdown(ins, lang)))
        written.append(write_text(out_dir / f"questionnaire_{lang}.html", questionnaire_html(ins, lang)))
        written.append(write_questionnaire_docx(ins, lang, out_dir / f"questionnaire_{lang}.docx"))
    written.append(write_csv(out_dir / "codebook.csv", codebook(ins)))
    written.append(write_text(out_dir / "codebook.md", codebook_markdown(ins)))
    written.append(write_json(out_dir / "datapackage.json", datapackage(ins)))
    written.append(write_xlsform(ins, out_dir / "xlsform.xlsx"))
    header = f"# Generated from {ins.path.name} by analysis.study.render; do not edit.\n"
    written.append(write_text(out_dir / "measurement.lav", header + ins.model_syntax("measurement")))
    written.append(write_text(out_dir / "structural.lav", header + ins.model_syntax("structural")))
    written.append(write_csv(out_dir / "traceability.csv", traceability(ins)))
    written.append(write_text(out_dir / "traceability.md", traceability_markdown(ins)))
    return written
