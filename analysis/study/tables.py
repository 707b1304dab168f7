"""APA three-line tables (三线表) for the book and the stage report.

A :class:`Table` holds a tidy DataFrame and the words around it: a caption,
a note line (注) and a source line naming the function that produced the
numbers.  It renders as HTML (the book: a notebook shows it through
``_repr_html_``), as Markdown, and into a python-docx document (the stage
report), always in the three-line style: a heavy rule above the header, a
light rule below it, a heavy rule below the last row, no vertical rules.

The DataFrame keeps its numbers (NaN, never a dash); formatting happens only
when rendering.

Two styles.  ``style="book"`` (the default, the book's tables): APA numbers
(p-values without the leading zero, ``.040``), a bilingual synthetic-data
label and an English "Produced by" line.  ``style="report"`` (the Chinese
stage report): every number with its leading zero (``0.040``, ``<0.001``),
the synthetic-data label in Chinese only, and instead of the English line the
Chinese ``source_note`` (the results file and the ``resilience`` command that
recreates it).

In DOCX (:func:`add_docx_table`) column widths are set from the length of
their contents so that no number is broken across lines (numeric cells are
right-aligned and do not wrap; only text and header cells may), the header
row repeats on every page and no row is split across pages.
"""
from __future__ import annotations

import html
import math
import unicodedata
from dataclasses import dataclass, field

import pandas as pd

from ..results import SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_ZH

__all__ = ["Table", "apa_table", "format_cell", "add_docx_table", "docx_column_widths", "STYLES"]

#: What an empty numeric cell shows (the frame itself keeps NaN).
EMPTY_CELL = "—"

#: The table styles (see the module docstring).
STYLES = ("book", "report")


def format_cell(value, spec: str | None = None, *, leading_zero: bool = False) -> str:
    """Format one cell for display.

    Parameters
    ----------
    value : object
        The cell value.
    spec : str, optional
        A format spec (``".3f"``, ``"d"``, ``".1%"``) or ``"p"`` for a
        p-value (``< .001`` or three decimals without the leading zero).
        Default: integers as integers, other floats with three decimals.
    leading_zero : bool, default False
        The stage report's style: p-values keep their leading zero
        (``0.040``) and a small one reads ``<0.001`` (no space, so it is
        never broken across lines).  A value that rounds to zero never shows
        a minus sign.

    Returns
    -------
    str

    Examples
    --------
    >>> format_cell(0.12345), format_cell(3), format_cell(float("nan"))
    ('0.123', '3', '—')
    >>> format_cell(0.0001, "p"), format_cell(0.04, "p")
    ('< .001', '.040')
    >>> format_cell(0.0001, "p", leading_zero=True), format_cell(0.04, "p", leading_zero=True)
    ('<0.001', '0.040')
    """
    if value is None:
        return EMPTY_CELL
    if isinstance(value, float) and math.isnan(value):
        return EMPTY_CELL
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return EMPTY_CELL
    if isinstance(value, bool):
        return "是" if value else "否"
    if spec == "p":
        value = float(value)
        if leading_zero:
            return "<0.001" if value < 0.001 else f"{value:.3f}"
        return "< .001" if value < 0.001 else f"{value:.3f}".lstrip("0")
    if spec == "d":
        return str(int(round(float(value))))
    if spec is not None and isinstance(value, (int, float)):
        return _no_negative_zero(format(value, spec))
    if isinstance(value, int) or (hasattr(value, "dtype") and pd.api.types.is_integer_dtype(value.dtype)):
        return str(int(value))
    if isinstance(value, float) or (hasattr(value, "dtype") and pd.api.types.is_float_dtype(value.dtype)):
        return _no_negative_zero(f"{float(value):.3f}")
    return str(value)


def _no_negative_zero(text: str) -> str:
    """``-0.000`` -> ``0.000`` (a rounded zero has no sign)."""
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        return text[1:]
    return text


@dataclass
class Table:
    """A table with caption, note and source, in the three-line style.

    Attributes
    ----------
    frame : pandas.DataFrame
        The numbers (unformatted; NaN where nothing applies).
    caption : str
        The title, printed above the table (``表 n  caption`` in DOCX).
    note : str
        The note line printed below (``注：...``); the synthetic-data label is
        prepended when ``synthetic`` is true.
    source : str
        Dotted name of the function that produced the numbers; printed as
        "Produced by `...`" (style ``"book"``).
    formats : dict
        Column name -> format spec for :func:`format_cell`.
    synthetic : bool
        Whether the numbers come from synthetic data.
    source_note : str
        The Chinese source line of the stage report (style ``"report"``):
        the results file and the ``resilience`` command that recreates it.
    style : str
        ``"book"`` (default) or ``"report"``; see the module docstring.
    """

    frame: pd.DataFrame
    caption: str
    note: str = ""
    source: str = ""
    formats: dict = field(default_factory=dict)
    synthetic: bool = False
    source_note: str = ""
    style: str = "book"

    def __post_init__(self):
        if self.style not in STYLES:
            raise ValueError(f"table style must be one of {STYLES}, not {self.style!r}")

    # ---- text pieces ------------------------------------------------------
    def note_text(self) -> str:
        """The full note line (synthetic label first, then the note)."""
        parts = []
        if self.synthetic:
            parts.append(SYNTHETIC_NOTE_ZH if self.style == "report" else f"{SYNTHETIC_NOTE_ZH} {SYNTHETIC_NOTE_EN}")
        if self.note:
            parts.append(self.note)
        return ("" if self.style == "report" else " ").join(parts)

    def source_text(self) -> str:
        """The source line, or an empty string.

        Style ``"book"``: "Produced by `<source>`"; style ``"report"``: the Chinese ``source_note``.
        """
        if self.style == "report":
            return self.source_note
        return f"Produced by `{self.source}`" if self.source else ""

    def cells(self) -> list[list[str]]:
        """The body as formatted strings, row by row."""
        zero = self.style == "report"
        out = []
        for _, row in self.frame.iterrows():
            out.append([format_cell(row[c], self.formats.get(c), leading_zero=zero) for c in self.frame.columns])
        return out

    def _numeric(self) -> list[bool]:
        return [pd.api.types.is_numeric_dtype(self.frame[c]) for c in self.frame.columns]

    # ---- renderers -----------------------------------------------------------
    def to_html(self) -> str:
        """HTML in the three-line style (inline CSS, no external stylesheet)."""
        heavy, light = "2px solid #000", "1px solid #000"
        numeric = self._numeric()
        head = "".join(
            f'<th style="border-bottom:{light};padding:3px 10px;text-align:{"right" if n else "left"}">'
            f"{html.escape(str(c))}</th>"
            for c, n in zip(self.frame.columns, numeric)
        )
        rows = []
        body = self.cells()
        for i, r in enumerate(body):
            last = i == len(body) - 1
            cells = "".join(
                f'<td style="padding:3px 10px;text-align:{"right" if n else "left"};'
                f'{"border-bottom:" + heavy if last else ""}">{html.escape(v)}</td>'
                for v, n in zip(r, numeric)
            )
            rows.append(f"<tr>{cells}</tr>")
        note = self.note_text()
        foot = ""
        if note:
            foot += f'<p class="apa-note" style="font-size:90%;margin:4px 0"><em>注 Note.</em> {html.escape(note)}</p>'
        if self.source:
            foot += (
                '<p class="apa-source" style="font-size:85%;color:#555;margin:2px 0">'
                f"Produced by <code>{html.escape(self.source)}</code></p>"
            )
        return (
            '<div class="apa-table">'
            f'<p class="apa-caption" style="font-weight:bold;margin-bottom:4px">{html.escape(self.caption)}</p>'
            f'<table style="border-collapse:collapse;border-top:{heavy};border-bottom:{heavy};'
            'border-left:none;border-right:none">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{foot}</div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_markdown(self) -> str:
        """A pipe table with the caption above and note/source lines below."""
        numeric = self._numeric()
        esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
        lines = [f"**{self.caption}**", ""]
        lines.append("| " + " | ".join(esc(c) for c in self.frame.columns) + " |")
        lines.append("|" + "|".join("---:" if n else ":---" for n in numeric) + "|")
        for r in self.cells():
            lines.append("| " + " | ".join(esc(v) for v in r) + " |")
        if self.note_text():
            lines += ["", f"*注 Note.* {self.note_text()}"]
        if self.source:
            lines += ["", self.source_text()]
        return "\n".join(lines) + "\n"

    def to_docx(self, document, *, number: int | None = None):
        """Append caption, table, note and source to a python-docx document.

        Returns the python-docx table.
        """
        return add_docx_table(document, self, number=number)


def apa_table(frame, caption, *, note="", source="", formats=None, synthetic=False, source_note="",
              style="book") -> Table:
    """Make a :class:`Table` (the usual way to call it).

    Parameters
    ----------
    frame : pandas.DataFrame
        Tidy numbers with the columns to show, in order.
    caption : str
        Table title.
    note : str, optional
        Note line.
    source : str, optional
        Dotted name of the producing function, e.g.
        ``"analysis.study.measurement.run_measurement"``.
    formats : dict, optional
        Column -> format spec (see :func:`format_cell`).
    synthetic : bool, default False
        Prepend :data:`analysis.results.SYNTHETIC_NOTE_ZH`/``_EN`` to the note.
    source_note : str, optional
        The Chinese source line printed by style ``"report"``.
    style : {"book", "report"}, default "book"
        See the module docstring.

    Returns
    -------
    Table

    Examples
    --------
    >>> t = apa_table(pd.DataFrame({"构念": ["PL"], "alpha": [0.8512]}), "表 1 信度",
    ...               source="analysis.psychometrics.reliability.cronbach_alpha")
    >>> "0.851" in t.to_markdown() and "border-top:2px" in t.to_html()
    True
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"apa_table needs a pandas DataFrame, got {type(frame).__name__}")
    if not caption:
        raise ValueError("an APA table needs a caption")
    return Table(frame=frame, caption=caption, note=note, source=source,
                 formats=dict(formats or {}), synthetic=synthetic, source_note=source_note, style=style)


# ---- python-docx -------------------------------------------------------------

def _border(cell_or_tbl_pr, edges: dict):
    """Set borders (``{"top": ("single", 12), ...}``) on a tblPr or tcPr element."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tag = "w:tblBorders" if cell_or_tbl_pr.tag.endswith("tblPr") else "w:tcBorders"
    borders = cell_or_tbl_pr.find(qn(tag))
    if borders is None:
        borders = OxmlElement(tag)
        cell_or_tbl_pr.append(borders)
    for edge, (val, size) in edges.items():
        el = borders.find(qn(f"w:{edge}"))
        if el is None:
            el = OxmlElement(f"w:{edge}")
            borders.append(el)
        el.set(qn("w:val"), val)
        el.set(qn("w:sz"), str(size))
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")


#: Widths of characters in em, on the wide side for the fonts a DOCX may be shown
#: with (Times New Roman, or DejaVu Serif where it is missing; CJK characters are 1 em).
_EM = {**{c: 0.64 for c in "0123456789"}, ".": 0.32, ",": 0.32, ":": 0.34, ";": 0.34, " ": 0.32, "-": 0.36,
       "−": 0.84, "+": 0.84, "<": 0.84, ">": 0.84, "=": 0.84, "±": 0.84, "×": 0.84, "%": 0.95, "(": 0.40,
       ")": 0.40, "[": 0.40, "]": 0.40, "/": 0.34, "*": 0.50, "~": 0.84, "'": 0.28, "’": 0.32}
#: Table cell margins (left and right, each), in points.
_CELL_MARGIN_PT = 4.0
#: Font sizes tried, largest first, until the numbers of every column fit the text width.
_FONT_SIZES = (9.0, 8.5, 8.0, 7.5, 7.0)


def _em(ch: str) -> float:
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1.0
    if ch in _EM:
        return _EM[ch]
    if ch.isupper():
        return 0.78
    if ch.islower():
        return 0.62
    return 0.75


def _width_pt(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` on one line at ``size`` points (a deliberately generous estimate)."""
    return sum(_em(ch) for ch in text) * size * (1.08 if bold else 1.04)


def _tokens(text: str) -> list[str]:
    """The pieces a line may not be broken inside: runs of non-CJK characters, single CJK characters."""
    out, run = [], ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            if run.strip():
                out.append(run.strip())
            run = ""
            if ch in "，。、；：）」』》" and out:  # no line starts with closing punctuation
                out[-1] += ch
            else:
                out.append(ch)
        elif ch == " ":
            if run.strip():
                out.append(run.strip())
            run = ""
        else:
            run += ch
    if run.strip():
        out.append(run.strip())
    return out or [""]


def docx_column_widths(header: list[str], body: list[list[str]], numeric: list[bool], available_pt: float,
                       sizes=_FONT_SIZES, *, overflow: bool = False) -> tuple[float, list[float]]:
    """Font size and column widths (points) of a DOCX table, from the length of its contents.

    A numeric column is at least as wide as its widest cell (those cells
    never wrap).  A text column is at least as wide as its longest
    unbreakable piece (a word or a number) and, where the page allows, keeps
    a short cell (up to eight CJK characters) on one line and a longer one
    on two; a header takes at most two lines.  Where that does not fit, text
    columns may narrow to four CJK characters and headers to three lines.
    When everything fits on one line the table spans the text width with
    the slack shared in proportion; otherwise the
    columns shrink from their one-line widths towards their minima in
    proportion to what each can give.  The first size of ``sizes`` at which
    the minima fit is used.

    Parameters
    ----------
    header : list of str
    body : list of list of str
        The formatted cells.
    numeric : list of bool
        Which columns hold numbers.
    available_pt : float
        The text width of the page, in points.
    sizes : sequence of float
        Font sizes to try, largest first.
    overflow : bool, default False
        When the numbers do not fit even at the smallest size, return that
        size and the minimum widths (wider than the text width) instead of
        raising: the table runs into the margin, its numbers stay whole.

    Returns
    -------
    size : float
        Font size of the table, points.
    widths : list of float
        Width of every column, points, summing to ``available_pt`` or less.

    Raises
    ------
    ValueError
        If the numbers do not fit even at the smallest size (unless ``overflow``).

    Examples
    --------
    >>> size, w = docx_column_widths(["构念", "α"], [["党组织引领", "0.798"]], [False, True], 400)
    >>> size, round(sum(w)), w[1] > 0
    (9.0, 400, True)
    """
    pad = 2 * _CELL_MARGIN_PT + 1.0
    ncol = len(header)

    def layout(size: float, strict: bool):
        want, need = [], []
        for j in range(ncol):
            cells = [row[j] for row in body]
            head_w = _width_pt(str(header[j]), size, bold=True)
            head_min = max([_width_pt(t, size, bold=True) for t in _tokens(str(header[j]))]
                           + [head_w / (2 if strict else 3)])
            body_w = max([_width_pt(c, size) for c in cells] or [0.0])
            if numeric[j]:
                body_min = body_w
            else:
                longest = max([_width_pt(t, size) for c in cells for t in _tokens(c)] or [0.0])
                # strict: short labels on one line, long ones on two; relaxed: four CJK characters
                body_min = max(longest, min(body_w, max(8 * size, body_w / 2) if strict else 4 * size))
            want.append(max(head_w, body_w) + pad)
            need.append(max(head_min, body_min) + pad)
        return want, need

    for size in sizes:
        want, need = layout(size, strict=True)
        if sum(need) > available_pt:
            want, need = layout(size, strict=False)
        if sum(need) <= available_pt:
            break
    else:
        if overflow:
            return size, need
        raise ValueError(f"the table's numbers do not fit the text width ({available_pt:.0f} pt) even at "
                         f"{sizes[-1]} pt; split the table or drop columns")
    if sum(want) <= available_pt:
        total = sum(want)
        widths = [w * available_pt / total for w in want]
    else:
        give = sum(w - n for w, n in zip(want, need))
        f = (available_pt - sum(need)) / give if give > 0 else 0.0
        widths = [n + (w - n) * f for w, n in zip(want, need)]
    return size, widths


def _text_width_pt(document) -> float:
    section = document.sections[-1]
    return (section.page_width - section.left_margin - section.right_margin) / 12700.0


def _set_cell_width(cell, twips: int, *, nowrap: bool = False):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    tc_w = tc_pr.find(qn("w:tcW"))
    if tc_w is None:
        tc_w = OxmlElement("w:tcW")
        tc_pr.insert(0, tc_w)
    tc_w.set(qn("w:w"), str(twips))
    tc_w.set(qn("w:type"), "dxa")
    if nowrap and tc_pr.find(qn("w:noWrap")) is None:
        tc_pr.append(OxmlElement("w:noWrap"))


def _row_properties(row, *, header: bool):
    """No row split across pages; the header row repeats at the top of every page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    if tr_pr.find(qn("w:cantSplit")) is None:
        tr_pr.append(OxmlElement("w:cantSplit"))
    if header and tr_pr.find(qn("w:tblHeader")) is None:
        tr_pr.append(OxmlElement("w:tblHeader"))


def _table_layout(t, widths_twips: list[int]):
    """Fixed layout, total width, grid and cell margins of a python-docx table."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = t._tbl.tblPr
    t.autofit = False  # w:tblLayout type="fixed"
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        tbl_pr.append(tbl_w)
    tbl_w.set(qn("w:w"), str(sum(widths_twips)))
    tbl_w.set(qn("w:type"), "dxa")
    mar = tbl_pr.find(qn("w:tblCellMar"))
    if mar is None:
        mar = OxmlElement("w:tblCellMar")
        tbl_pr.append(mar)
    for edge in ("left", "right"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), str(int(round(_CELL_MARGIN_PT * 20))))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    for col, w in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths_twips):
        col.set(qn("w:w"), str(w))


def add_docx_table(document, table: Table, *, number: int | None = None):
    """Write ``table`` into a python-docx ``document`` in the three-line style.

    The caption paragraph comes first (``表 <number>  <caption>`` when a
    number is given), then the table (heavy top and bottom rules, a light
    rule under the header, no other lines), then the note and source lines
    (the source line as :meth:`Table.source_text` gives it).

    Column widths come from :func:`docx_column_widths` and the text width
    of the document's last section (fixed layout, so Word and LibreOffice
    keep them); numeric cells and their headers are right-aligned and
    numeric cells do not wrap; the header row repeats on every page
    (``w:tblHeader``) and no row breaks across pages (``w:cantSplit``).

    Returns
    -------
    docx.table.Table
    """
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    title = f"表 {number}  {table.caption}" if number is not None else table.caption
    cap = document.add_paragraph()
    run = cap.add_run(title)
    run.bold = True
    cap.paragraph_format.keep_with_next = True
    cap.paragraph_format.first_line_indent = Pt(0)
    cap.paragraph_format.space_before = Pt(6)
    if table.style == "report":  # Chinese tables: the title centred above the table
        cap.alignment = WD_ALIGN_PARAGRAPH.CENTER

    columns = list(table.frame.columns)
    body = table.cells()
    numeric = table._numeric()
    size, widths = docx_column_widths([str(c) for c in columns], body, numeric, _text_width_pt(document),
                                      overflow=True)
    twips = [int(w * 20) for w in widths]
    t = document.add_table(rows=1 + len(body), cols=len(columns))
    _table_layout(t, twips)
    tbl_pr = t._tbl.tblPr
    _border(tbl_pr, {"top": ("single", 12), "bottom": ("single", 12), "left": ("nil", 0),
                     "right": ("nil", 0), "insideH": ("nil", 0), "insideV": ("nil", 0)})
    for j, name in enumerate(columns):
        cell = t.rows[0].cells[j]
        cell.text = str(name)
        _set_cell_width(cell, twips[j])
        _border(cell._tc.get_or_add_tcPr(), {"bottom": ("single", 6)})
        for p in cell.paragraphs:
            if numeric[j]:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            for r in p.runs:
                r.bold = True
    _row_properties(t.rows[0], header=True)
    for i, row in enumerate(body, start=1):
        _row_properties(t.rows[i], header=False)
        for j, value in enumerate(row):
            cell = t.rows[i].cells[j]
            cell.text = value
            _set_cell_width(cell, twips[j], nowrap=numeric[j])
            if numeric[j]:
                for p in cell.paragraphs:
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in t.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                p.paragraph_format.space_before = Pt(1)
                p.paragraph_format.space_after = Pt(1)
                p.paragraph_format.first_line_indent = Pt(0)
                p.paragraph_format.line_spacing = 1.0
                for r in p.runs:
                    r.font.size = Pt(size)
    if table.note_text():
        p = document.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(0)
        p.paragraph_format.line_spacing = 1.0
        p.paragraph_format.space_before = Pt(3)
        lead = p.add_run("注：")
        lead.italic = table.style != "report"
        lead.font.size = Pt(9)
        p.add_run(table.note_text()).font.size = Pt(9)
    if table.source_text():
        p = document.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(0)
        p.paragraph_format.line_spacing = 1.0
        p.paragraph_format.space_after = Pt(6)
        p.add_run(table.source_text()).font.size = Pt(8)
    return t
