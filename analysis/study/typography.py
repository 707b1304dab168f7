"""Typography of the project's Word documents: the stage report and the printed questionnaire.

One place for what both documents share: 宋体 body and black 黑体 headings
through ``w:eastAsia`` (Times New Roman for Latin letters and digits), the
two Chinese faces declared in the font table with the installed Noto CJK
families as alternative names (``fonts-noto-cjk``; on a machine without
宋体/黑体 the text falls back to them), a Chinese language tag in the
document defaults and the theme (python-docx's template says ja-JP), an A4
page; and the byte-deterministic package (fixed zip timestamps, member order
and document dates), so that two renders give identical files.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

__all__ = ["BODY_FONT", "HEADING_FONT", "LATIN_FONT", "FALLBACK_FONTS", "set_fonts", "typeset",
           "deterministic_zip"]

#: East Asian text in 宋体 (body) and 黑体 (headings), Latin letters and digits in Times New Roman.
BODY_FONT = "宋体"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"
#: Alternative names declared in the font table: the installed Noto CJK families
#: (``fc-list :lang=zh``), used where 宋体/黑体 are missing.
FALLBACK_FONTS = {BODY_FONT: "Noto Serif CJK SC", HEADING_FONT: "Noto Sans CJK SC"}
_FONT_TABLE = {  # name -> (alternative name, panose, family): SimSun and SimHei
    BODY_FONT: (FALLBACK_FONTS[BODY_FONT], "02010600030101010101", "auto"),
    HEADING_FONT: (FALLBACK_FONTS[HEADING_FONT], "02010609060101010101", "modern"),
}

#: Timestamp of every member of a written zip container.
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def set_fonts(rpr, east_asia: str):
    """Explicit font names on an ``w:rPr`` (theme fonts removed, so they cannot override)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in list(rfonts.attrib):
        del rfonts.attrib[attr]
    for attr, value in (("w:ascii", LATIN_FONT), ("w:hAnsi", LATIN_FONT), ("w:eastAsia", east_asia),
                        ("w:cs", LATIN_FONT)):
        rfonts.set(qn(attr), value)
    rfonts.set(qn("w:hint"), "eastAsia")


def typeset(document):
    """宋体/黑体 through ``w:eastAsia``, black headings, A4 page, Chinese language tag."""
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    styles = document.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(rpr, BODY_FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    for st in styles:
        if st.type != 1:  # paragraph styles
            continue
        heading = st.name.startswith("Heading") or st.name in ("Title", "Subtitle")
        el_rpr = st.element.get_or_add_rPr()
        set_fonts(el_rpr, HEADING_FONT if heading else BODY_FONT)
        if heading or el_rpr.find(qn("w:color")) is not None:
            st.font.color.rgb = RGBColor(0, 0, 0)
            color = el_rpr.find(qn("w:color"))
            for attr in ("w:themeColor", "w:themeShade", "w:themeTint"):
                color.attrib.pop(qn(attr), None)
    normal = styles["Normal"]
    normal.font.size = Pt(12)
    pf = normal.paragraph_format
    pf.first_line_indent = Pt(24)
    pf.line_spacing_rule = WD_LINE_SPACING.ONE_POINT_FIVE
    pf.space_after = Pt(0)
    pf.space_before = Pt(0)
    for name, size, before, after in (("Heading 1", 16, 12, 6), ("Heading 2", 14, 6, 3)):
        st = styles[name]
        st.font.size = Pt(size)
        st.font.bold = False
        st.paragraph_format.first_line_indent = Pt(0)
        st.paragraph_format.space_before = Pt(before)
        st.paragraph_format.space_after = Pt(after)
        st.paragraph_format.line_spacing_rule = WD_LINE_SPACING.ONE_POINT_FIVE
    for section in document.sections:
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        section.top_margin = section.bottom_margin = Cm(2.54)
        section.left_margin = section.right_margin = Cm(2.5)
    theme_lang = document.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:  # python-docx's template says ja-JP: a Japanese face for Chinese text
        theme_lang.set(qn("w:eastAsia"), "zh-CN")
    _font_table(document)


def _font_table(document):
    """Declare 宋体 and 黑体 in the font table with the Noto CJK families as alternative names."""
    from lxml import etree

    W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    part = next(rel.target_part for rel in document.part.rels.values() if rel.reltype.endswith("/fontTable"))
    root = etree.fromstring(part.blob)
    for name, (alt, panose, family) in _FONT_TABLE.items():
        font = etree.SubElement(root, f"{{{W}}}font")
        font.set(f"{{{W}}}name", name)
        for tag, value in (("altName", alt), ("panose1", panose), ("charset", "86"), ("family", family),
                           ("pitch", "variable")):
            el = etree.SubElement(font, f"{{{W}}}{tag}")
            el.set(f"{{{W}}}val", value)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def deterministic_zip(path) -> None:
    """Rewrite a zip container (DOCX, XLSX) in place: fixed timestamps, member order and document dates.

    ``[Content_Types].xml`` first, then the members in their order; every
    member dated 1980-01-01 with mode 0644; the ``dcterms:created`` and
    ``dcterms:modified`` dates of ``docProps/core.xml`` set to 2000-01-01.
    """
    path = Path(path)
    with zipfile.ZipFile(path) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    entries.sort(key=lambda e: e[0] != "[Content_Types].xml")  # stable: the rest keep their order
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
