"""APA three-line tables (三线表) for the book and the stage report.

A :class:`Table` holds a tidy DataFrame and the words around it: a caption,
a note line (注) and a source line naming the function that produced the
numbers.  It renders as HTML (the book: a notebook shows it through
``_repr_html_``), as Markdown, and into a python-docx document (the stage
report), always in the three-line style: a heavy rule above the header, a
light rule below it, a heavy rule below the last row, no vertical rules.

The DataFrame keeps its numbers (NaN, never a dash); formatting happens only
when rendering.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import pandas as pd

from ..results import SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_ZH

__all__ = ["Table", "apa_table", "format_cell", "add_docx_table"]

#: What an empty numeric cell shows (the frame itself keeps NaN).
EMPTY_CELL = "—"


def format_cell(value, spec: str | None = None) -> str:
    """Format one cell for display.

    Parameters
    ----------
    value : object
        The cell value.
    spec : str, optional
        A format spec (``".3f"``, ``"d"``, ``".1%"``) or ``"p"`` for a
        p-value (``< .001`` or three decimals without the leading zero).
        Default: integers as integers, other floats with three decimals.

    Returns
    -------
    str

    Examples
    --------
    >>> format_cell(0.12345), format_cell(3), format_cell(float("nan"))
    ('0.123', '3', '—')
    >>> format_cell(0.0001, "p"), format_cell(0.04, "p")
    ('< .001', '.040')
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
        return "< .001" if value < 0.001 else f"{value:.3f}".lstrip("0")
    if spec == "d":
        return str(int(round(float(value))))
    if spec is not None and isinstance(value, (int, float)):
        return format(value, spec)
    if isinstance(value, int) or (hasattr(value, "dtype") and pd.api.types.is_integer_dtype(value.dtype)):
        return str(int(value))
    if isinstance(value, float) or (hasattr(value, "dtype") and pd.api.types.is_float_dtype(value.dtype)):
        return f"{float(value):.3f}"
    return str(value)


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
        "Produced by `...`".
    formats : dict
        Column name -> format spec for :func:`format_cell`.
    synthetic : bool
        Whether the numbers come from synthetic data.
    """

    frame: pd.DataFrame
    caption: str
    note: str = ""
    source: str = ""
    formats: dict = field(default_factory=dict)
    synthetic: bool = False

    # ---- text pieces ------------------------------------------------------
    def note_text(self) -> str:
        """The full note line (synthetic label first, then the note)."""
        parts = []
        if self.synthetic:
            parts.append(f"{SYNTHETIC_NOTE_ZH} {SYNTHETIC_NOTE_EN}")
        if self.note:
            parts.append(self.note)
        return " ".join(parts)

    def source_text(self) -> str:
        """The source line, or an empty string."""
        return f"Produced by `{self.source}`" if self.source else ""

    def cells(self) -> list[list[str]]:
        """The body as formatted strings, row by row."""
        out = []
        for _, row in self.frame.iterrows():
            out.append([format_cell(row[c], self.formats.get(c)) for c in self.frame.columns])
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


def apa_table(frame, caption, *, note="", source="", formats=None, synthetic=False) -> Table:
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
                 formats=dict(formats or {}), synthetic=synthetic)


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


def add_docx_table(document, table: Table, *, number: int | None = None):
    """Write ``table`` into a python-docx ``document`` in the three-line style.

    The caption paragraph comes first (``表 <number>  <caption>`` when a
    number is given), then the table (heavy top and bottom rules, a light
    rule under the header, no other lines), then the note and source lines.

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

    columns = list(table.frame.columns)
    body = table.cells()
    numeric = table._numeric()
    t = document.add_table(rows=1 + len(body), cols=len(columns))
    tbl_pr = t._tbl.tblPr
    _border(tbl_pr, {"top": ("single", 12), "bottom": ("single", 12), "left": ("nil", 0),
                     "right": ("nil", 0), "insideH": ("nil", 0), "insideV": ("nil", 0)})
    for j, name in enumerate(columns):
        cell = t.rows[0].cells[j]
        cell.text = str(name)
        _border(cell._tc.get_or_add_tcPr(), {"bottom": ("single", 6)})
        for p in cell.paragraphs:
            for r in p.runs:
                r.bold = True
    for i, row in enumerate(body, start=1):
        for j, value in enumerate(row):
            cell = t.rows[i].cells[j]
            cell.text = value
            if numeric[j]:
                for p in cell.paragraphs:
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in t.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for r in p.runs:
                    r.font.size = Pt(9)
    if table.note_text():
        p = document.add_paragraph()
        p.add_run("注：").italic = True
        p.add_run(table.note_text()).font.size = Pt(9)
    if table.source:
        p = document.add_paragraph()
        p.add_run(table.source_text()).font.size = Pt(8)
    return t
