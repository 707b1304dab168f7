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
import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.io import atomic_path, write_csv, write_json, write_text
from analysis.study.instrument import Instrument, load_instrument

__all__ = [
    "render", "questionnaire_markdown", "questionnaire_html", "write_questionnaire_docx",
    "codebook", "codebook_markdown", "datapackage", "xlsform_sheets", "write_xlsform",
    "traceability", "traceability_markdown", "LANGS", "XLSFORM_LANG",
]

#: Languages of the printable questionnaire.
LANGS = ("zh", "en")
#: XLSForm language names (``label::<name>`` columns).
XLSFORM_LANG = {"zh": "Chinese (zh)", "en": "English (en)"}

_UI = {
    "zh": {
        "part_community": "第一部分 社区基本情况",
        "part_scales": "第二部分 社区治理评价",
        "part_respondent": "第三部分 个人基本情况",
        "scale_intro": "请根据您所在社区的实际情况,对下列每一项陈述选择最符合您看法的一项(每行只选一项):",
        "no": "题号", "statement": "陈述",
        "blank": "填写:______",
        "integer_blank": "填写:______ 年",
        "thanks": "问卷到此结束,衷心感谢您的参与!",
        "instruction_consent": "请选择:",
        "synthetic": "",
        "code": "编码",
    },
    "en": {
        "part_community": "Part 1. Your community",
        "part_scales": "Part 2. How your community is governed",
        "part_respondent": "Part 3. About you",
        "scale_intro": "Thinking of your own community, choose for each statement the answer closest to your view (one per row):",
        "no": "No.", "statement": "Statement",
        "blank": "Write here: ______",
        "integer_blank": "Write here: ______ years",
        "thanks": "This is the end of the questionnaire. Thank you very much for taking part!",
        "instruction_consent": "Please choose:",
        "synthetic": "",
        "code": "Code",
    },
}
_BOX = "□"
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


# ---------------------------------------------------------------------------
# the questionnaire as blocks (shared by Markdown, HTML and DOCX)
# ---------------------------------------------------------------------------
def _title(ins: Instrument, lang: str) -> str:
    return str(ins.meta.get(f"title_{lang}", "")) or ("调查问卷" if lang == "zh" else "Questionnaire")


def _likert_rows(ins: Instrument, lang: str, start: int):
    """Rows (number, code, text) of the scales in questionnaire order, ATTN placed after ``after``."""
    rows, n = [], start
    at = ins.attention_check
    after = at.after or ins.item_codes()[-1]
    for it in ins.items:
        rows.append((n, it.code, getattr(it, f"text_{lang}")))
        n += 1
        if it.code == after:
            rows.append((n, at.code, getattr(at, f"text_{lang}")))
            n += 1
    return rows, n


def _blocks(ins: Instrument, lang: str) -> list[tuple]:
    ui = _UI[lang]
    cs = ins.consent
    blocks: list[tuple] = [("h1", _title(ins, lang)), ("h2", getattr(cs, f"title_{lang}"))]
    for para in getattr(cs, f"text_{lang}").splitlines():
        if para.strip():
            blocks.append(("p", para.strip()))
    blocks.append(("choices", [getattr(cs, f"agree_{lang}"), getattr(cs, f"decline_{lang}")]))
    n = 1

    def context_part(part, heading):
        nonlocal n
        blocks.append(("h2", ui[heading]))
        for v in ins.context:
            if v.part != part:
                continue
            hint = getattr(v, f"hint_{lang}")
            blocks.append(("question", f"{n}. {getattr(v, f'label_{lang}')} [{v.code}]", hint))
            if v.kind == "categorical":
                blocks.append(("choices", [f"{ch.value} {getattr(ch, lang)}" for ch in v.choices]))
            elif v.kind == "integer":
                blocks.append(("p", ui["integer_blank"]))
            else:
                blocks.append(("p", ui["blank"]))
            n += 1

    context_part("community", "part_community")
    blocks.append(("h2", ui["part_scales"]))
    labels = "; ".join(f"{lab.value} = {getattr(lab, lang)}" for lab in ins.scale.labels)
    blocks.append(("p", f"{ui['scale_intro']} {labels}"))
    rows, n = _likert_rows(ins, lang, n)
    header = [ui["no"], ui["code"], ui["statement"]] + [str(v) for v in ins.scale.values]
    body = [[str(num), code, text] + [_BOX] * ins.scale.points for num, code, text in rows]
    blocks.append(("table", header, body))
    context_part("respondent", "part_respondent")
    blocks.append(("p", ui["thanks"]))
    return blocks


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
        elif kind == "question":
            text = f"**{block[1]}**"
            if block[2]:
                text += f"  \n*{block[2]}*"
            out.append(text + "\n")
        elif kind == "choices":
            out.append("\u3000".join(f"{_BOX} {c}" for c in block[1]) + "\n")
        elif kind == "table":
            header, body = block[1], block[2]
            lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
            lines += ["| " + " | ".join(_md_escape_cell(c) for c in row) + " |" for row in body]
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
td:nth-child(n+4), th:nth-child(n+4) {{ text-align: center; width: 2.5em; }}
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


def _normalize_zip(path: Path) -> None:
    """Rewrite a zip container with fixed timestamps and fixed document dates (determinism)."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                              rb"\g<1>2000-01-01T00:00:00Z\g<3>", data)
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)
    path.write_bytes(buf.getvalue())


def write_questionnaire_docx(ins: Instrument, lang: str, path) -> Path:
    """Write the printable questionnaire as DOCX (python-docx) for field printing.

    Parameters
    ----------
    ins : Instrument
    lang : {"zh", "en"}
    path : path-like
        Target ``.docx`` file (written atomically, with fixed timestamps).

    Returns
    -------
    pathlib.Path
    """
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    doc = Document()
    doc.core_properties.title = _title(ins, lang)
    doc.core_properties.author = "resilience compendium"
    doc.core_properties.revision = 1
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid"):
        try:
            style = doc.styles[style_name]
        except KeyError:
            continue
        style.font.name = "Times New Roman"
        rpr = style.element.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(rfonts)
        rfonts.set(qn("w:eastAsia"), "SimSun")
    doc.styles["Normal"].font.size = Pt(10.5)
    for block in _blocks(ins, lang):
        kind = block[0]
        if kind == "h1":
            doc.add_heading(block[1], level=0)
        elif kind == "h2":
            doc.add_heading(block[1], level=1)
        elif kind == "p":
            doc.add_paragraph(block[1])
        elif kind == "question":
            par = doc.add_paragraph()
            par.add_run(block[1]).bold = True
            if block[2]:
                par.add_run("\n" + block[2]).italic = True
        elif kind == "choices":
            doc.add_paragraph("\u3000".join(f"{_BOX} {c}" for c in block[1]))
        elif kind == "table":
            header, body = block[1], block[2]
            table = doc.add_table(rows=1, cols=len(header))
            table.style = doc.styles["Table Grid"]
            for cell, h in zip(table.rows[0].cells, header):
                cell.text = h
            for row in body:  # row by row: python-docx's table.cell(i, j) is slow on long tables
                for cell, c in zip(table.add_row().cells, row):
                    cell.text = c
    path = Path(path)
    with atomic_path(path) as tmp:
        doc.save(str(tmp))
        _normalize_zip(tmp)
    return path


# ---------------------------------------------------------------------------
# codebook and data package
# ---------------------------------------------------------------------------
_CODEBOOK_COLUMNS = [
    "variable", "role", "type", "label_zh", "label_en", "construct", "construct_zh", "construct_en",
    "second_order", "reverse", "polarity", "min", "max", "values_zh", "values_en", "pattern", "required",
    "seed_section", "seed_quote",
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
        construct_zh, construct_en, second_order, reverse, polarity, min, max,
        values_zh, values_en, pattern, required, seed_section, seed_quote``.
        ``role`` is one of ``id, item, attention, context, paradata``;
        ``type`` is a Table Schema type (``string, integer, number, date``);
        ``values_*`` list ``value=label`` pairs separated by ``"; "``; empty
        cells where a column does not apply.  Items are coded as answered
        (reverse-keyed items are recoded only in ``analysis.parquet``).
    """
    second = {ch: so for so in ins.second_order for ch in so.children}
    scale_zh = "; ".join(f"{lab.value}={lab.zh}" for lab in ins.scale.labels)
    scale_en = "; ".join(f"{lab.value}={lab.en}" for lab in ins.scale.labels)
    k = ins.scale.points
    rows = [dict(variable="resp_id", role="id", type="string", label_zh="答卷编号(随机,不可识别个人)",
                 label_en="Response id (random, not identifying)", required=True)]
    for c in ins.constructs:
        so = second.get(c.code)
        for it in c.items:
            rows.append(dict(
                variable=it.code, role="item", type="integer", label_zh=it.text_zh, label_en=it.text_en,
                construct=c.code, construct_zh=c.name_zh, construct_en=c.name_en,
                second_order=so.code if so else "", reverse=it.reverse, polarity=it.polarity,
                min=1, max=k, values_zh=scale_zh, values_en=scale_en, required=False,
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
                       values_zh="; ".join(f"{ch.value}={ch.zh}" for ch in v.choices),
                       values_en="; ".join(f"{ch.value}={ch.en}" for ch in v.choices))
        elif v.kind == "integer":
            row.update(type="integer", min=v.min, max=v.max)
        else:
            row.update(type="string")
        rows.append(row)
    rows.append(dict(variable="duration_s", role="paradata", type="number", label_zh="作答用时(秒)",
                     label_en="Time taken to answer (seconds)", min=0, required=False))
    rows.append(dict(variable="submit_date", role="paradata", type="date", label_zh="提交日期(仅日期)",
                     label_en="Date of submission (day only)", required=False))
    df = pd.DataFrame(rows, columns=_CODEBOOK_COLUMNS)
    for col in ("min", "max"):
        df[col] = pd.array(df[col], dtype="Int64")
    for col in ("reverse", "required"):
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
    cols = ["variable", "role", "type", "label_zh", "label_en", "construct", "second_order", "reverse", "min", "max",
            "required"]
    out = head + _md_table(cb[cols])
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
        label::...``; ``settings`` one row (``form_title, form_id, version,
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
                    **({czh: f"格式不正确:{v.hint_zh or ''}", cen: f"Wrong format: {v.hint_en or ''}"} if cons else {}),
                    **base)
        row(type="end group", name=f"part_{part}")

    context("community", "part_community")
    row(type="begin group", name="part_scales", relevant=agreed, appearance="field-list",
        **{zh: _UI["zh"]["part_scales"], en: _UI["en"]["part_scales"]})
    row(type="note", name="scale_intro", **{zh: _UI["zh"]["scale_intro"], en: _UI["en"]["scale_intro"]})
    at = ins.attention_check
    texts = {it.code: it for it in ins.items}
    for _, code, _ in _likert_rows(ins, "zh", 1)[0]:
        src = texts.get(code)
        lzh, len_ = (src.text_zh, src.text_en) if src else (at.text_zh, at.text_en)
        row(type="select_one agree", name=code, required="yes", appearance="likert", **{zh: lzh, en: len_})
    for lab in ins.scale.labels:
        choice("agree", lab.value, lab.zh, lab.en)
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
        _normalize_zip(tmp)
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
        text_zh, text_en, seed_section, seed_quote``; ``pathway`` is the
        construct's seed section, ``seed_section`` the section the item's
        quote comes from.
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
                text_zh=it.text_zh, text_en=it.text_en, seed_section=it.seed_section, seed_quote=it.seed_quote,
            ))
    return pd.DataFrame(rows)


def traceability_markdown(ins: Instrument) -> str:
    """The traceability matrix as Markdown, one section per seed pathway."""
    tm = traceability(ins)
    out = ["# 溯源矩阵 Traceability matrix\n",
           "Each indicator names the passage of the seed article it operationalizes "
           "(section and a short verbatim quote; checked by `resilience instrument check`).\n"]
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
            view = grp[["item", "reverse", "text_zh", "seed_section", "seed_quote"]].copy()
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
