"""Reading raw exports: bytes on disk in, records of text cells out, and headings mapped to codes.

A raw export is read, never written.  :func:`read_raw` recognises the kind of
file by its bytes, not its name:

- CSV (also ``.txt``/``.tsv``) in UTF-8, UTF-8 with BOM, GB18030 (GBK) or
  UTF-16, comma-, tab- or semicolon-separated;
- XLSX workbooks (the first sheet; merged cells filled with their value);
- SPSS ``.sav``/``.zsav`` files (:mod:`pyreadstat`): variable names as
  headings (the variable label where the name is not an instrument code),
  value labels in place of the numbers, so that the instrument's answer
  labels map them.

Row numbers
    Every row number this package reports is the row **as a spreadsheet
    shows the file**: the first line of a CSV is row 1 (usually the header),
    each record is one row even when an open answer holds line breaks, and
    blank lines count as rows.  For XLSX it is the sheet's row number; for
    SPSS files the case number plus one (as if a header row preceded the
    cases, so that the first case is row 2, as in the CSV export).

Records are streamed (:meth:`RawTable.records`) so that a 200,000-record
export is never held as a list of Python strings.
"""
from __future__ import annotations

import csv
import datetime
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..errors import InputError

__all__ = [
    "RawTable",
    "read_raw",
    "normalize_heading",
    "ColumnRole",
    "map_columns",
    "locate_header",
    "closest_heading",
    "MISSING_TOKENS",
    "META_HEADINGS",
]

#: Cell values that mean "no answer" (问卷星 writes ``(空)`` for an unanswered question).
MISSING_TOKENS = frozenset({"", "(空)", "（空）", "NA", "N/A", "n/a", "NaN", "nan", "null", "None", "-9"})

#: Platform columns that are not questions: heading (as the platform writes it, or a common
#: variant) -> role.  ``duration`` covers 问卷星's 所用时间 and its variants.
META_HEADINGS = {
    "序号": "source_id", "_index": "source_id", "respondent_id": "source_id", "resp_id": "source_id", "id": "source_id",
    "提交答卷时间": "submitted", "提交时间": "submitted", "_submission_time": "submitted", "submitted": "submitted",
    "submit_time": "submitted", "submissiontime": "submitted",
    "所用时间": "duration", "答题时间": "duration", "用时": "duration", "作答时长": "duration", "答题时长": "duration",
    "作答用时": "duration", "填写用时": "duration", "答题用时": "duration", "填答时长": "duration", "所用时长": "duration",
    "duration": "duration", "duration_s": "duration", "time_taken": "duration",
    "start": "start", "starttime": "start", "开始时间": "start", "开始答题时间": "start",
    "end": "end", "endtime": "end", "结束时间": "end",
    "_uuid": "uuid", "instanceid": "uuid", "meta/instanceid": "uuid",
}
_KOBO_META = ("today", "deviceid", "_id", "_validation_status", "_notes", "_status", "_submitted_by", "__version__",
              "_tags", "_attachments", "_geolocation", "formhub/uuid", "_xform_id_string")
_WJX_META = ("来源", "来源详情", "来源IP")
_FIELD_LIMIT = 2 ** 31 - 1


# ----------------------------------------------------------------------
# the table
# ----------------------------------------------------------------------
@dataclass
class RawTable:
    """A raw export as text cells, read lazily.

    Attributes
    ----------
    path : Path
    kind : str
        ``"csv"``, ``"xlsx"`` or ``"sav"``.
    encoding, delimiter : str or None
        How a CSV was decoded and split.
    notes : list of str
        Repairs made while reading (merged cells filled, ...).
    value_labels : dict
        SPSS only: variable -> {value: label}, as the file declares them.
    """

    path: Path
    kind: str
    encoding: str | None = None
    delimiter: str | None = None
    notes: list = field(default_factory=list)
    value_labels: dict = field(default_factory=dict)
    _text: str | None = None
    _rows: list | None = None

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """Yield ``(row, cells)`` for every non-blank record, ``row`` as a spreadsheet numbers it."""
        if self._rows is not None:
            yield from self._rows
            return
        yield from _csv_records(self._text, self.delimiter, self.path)


def _csv_records(text: str, delim: str, path) -> Iterator[tuple[int, list[str]]]:
    old = csv.field_size_limit()
    csv.field_size_limit(_FIELD_LIMIT)  # long open answers never reject an export
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        row, last_line, width = 0, 0, None
        while True:
            try:
                rec = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(f"not a readable CSV table: {exc}", file=path, row=row + 1) from None
            row += 1
            first_line, last_line = last_line + 1, reader.line_num
            if not rec or not any(c.strip() for c in rec):
                continue
            if width is None:
                width = len(rec)
            elif last_line > first_line:
                _check_merged(rec, delim, width, path, row, first_line, last_line)
            yield row, [c.strip() for c in rec]
    finally:
        csv.field_size_limit(old)


def _check_merged(rec, delim, width, path, row, first_line, last_line) -> None:
    """A record spanning several lines whose embedded lines look like records: an unmatched quote."""
    need = max(2, (width - 1) // 2)
    for cell in rec:
        if "\n" not in cell:
            continue
        merged = sum(1 for seg in cell.split("\n")[1:] if seg.count(delim) >= need)
        if merged:
            raise InputError(
                f"an unmatched quote (\") merges lines {first_line}-{last_line} of the file into one record "
                f"({merged} of them look like records of their own); no record is merged silently: "
                f"correct the quote or download the export again", file=path, row=row)


# ----------------------------------------------------------------------
# decoding
# ----------------------------------------------------------------------
def _row_of_offset(text_before: str, delim: str) -> int:
    """Spreadsheet row of the record that starts right after ``text_before`` (which ends a line)."""
    old = csv.field_size_limit()
    csv.field_size_limit(_FIELD_LIMIT)
    try:
        n = sum(1 for _ in csv.reader(io.StringIO(text_before, newline=""), delimiter=delim))
    except csv.Error:
        n = text_before.count("\n")
    finally:
        csv.field_size_limit(old)
    return n + 1


def _fault_row(data: bytes, offset: int, encoding: str) -> int:
    prefix = data[:offset]
    cut = prefix.rfind(b"\n") + 1  # the start of the line holding the fault
    text = prefix[:cut].decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return _row_of_offset(text, _sniff_delimiter(text or "a,b", None, strict=False))


def _decode(data: bytes, path) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _mixed(data, exc.start + 3, path, "UTF-8 (the file starts with a UTF-8 byte-order mark)",
                         "utf-8") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError(f"cannot decode the file as UTF-16: invalid bytes at byte {exc.start}; "
                             f"save it again as UTF-8 CSV", file=path) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_fault = exc.start
    if any(b >= 0x80 for b in data[:utf8_fault]):
        # UTF-8 text before the fault: a file whose rows were saved in two encodings
        raise _mixed(data, utf8_fault, path, "UTF-8 (earlier rows are UTF-8)", "utf-8")
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise _mixed(data, exc.start, path, "UTF-8, UTF-8 with BOM or GB18030 (GBK)", "gb18030") from None
    # GB18030 decodes nearly anything: a later row that is valid UTF-8 (and not ASCII) was saved in UTF-8
    offset = 0
    for line in data.split(b"\n"):
        if any(b >= 0x80 for b in line):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                raise _mixed(data, offset, path, "GB18030 (earlier rows are GB18030/GBK, this row is UTF-8)",
                             "gb18030")
        offset += len(line) + 1
    return text, "gb18030"


def _mixed(data: bytes, offset: int, path, tried: str, encoding: str) -> InputError:
    row = _fault_row(data, offset, encoding)
    return InputError(f"cannot decode this row as {tried}: invalid byte 0x{data[offset]:02x} at byte {offset}; "
                      f"the rows of a file must share one encoding: save the whole file again as UTF-8 or "
                      f"GB18030 CSV", file=path, row=row)


def _sniff_delimiter(text: str, path=None, strict: bool = True) -> str:
    """The delimiter (comma, tab, semicolon) that splits the first lines most consistently."""
    lines = [ln for ln in text[:200_000].splitlines() if ln.strip()][:12]
    scores = {}
    for d in (",", "\t", ";", "|"):
        counts = sorted(ln.count(d) for ln in lines)
        scores[d] = counts[len(counts) // 2] if counts else 0
    best = max((",", "\t", ";"), key=lambda d: scores[d])
    if strict and scores["|"] > max(2, scores[best]):
        raise InputError("wrong delimiter: the rows are separated by '|'; expected comma-, tab- or "
                         "semicolon-separated values", file=path, row=1)
    return best if scores[best] > 0 else ","


_HTML = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|table|div|script)\b", re.I | re.S)


# ----------------------------------------------------------------------
# XLSX and SPSS
# ----------------------------------------------------------------------
def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if v != v:
            return ""
        if v.is_integer():
            return str(int(v))
    if isinstance(v, datetime.time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, datetime.timedelta):
        return str(int(v.total_seconds()))
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v).strip()


def _read_xlsx(path: Path) -> RawTable:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=False, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise InputError(f"not a readable XLSX workbook ({type(exc).__name__})", file=path) from None
    ws = wb.worksheets[0]
    notes = []
    grid = [list(row) for row in ws.iter_rows(values_only=True)]
    merged = list(ws.merged_cells.ranges)
    for rng in merged:
        value = grid[rng.min_row - 1][rng.min_col - 1]
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                grid[r - 1][c - 1] = value
    if merged:
        notes.append(f"{len(merged)} merged cell range(s) in sheet {ws.title!r} filled with their value")
    if len(wb.worksheets) > 1:
        notes.append(f"only the first sheet ({ws.title!r}) was read")
    rows = []
    for i, row in enumerate(grid, 1):
        cells = [_cell_text(v) for v in row]
        if any(cells):
            rows.append((i, cells))
    return RawTable(path, "xlsx", notes=notes, _rows=rows)


def _read_sav(path: Path) -> RawTable:
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=False)
    except Exception as exc:  # pyreadstat raises its own error types
        raise InputError(f"not a readable SPSS .sav file ({type(exc).__name__})", file=path) from None
    names = list(meta.column_names)
    labels = list(meta.column_labels or [None] * len(names))
    header = [n if not lab else f"{n}\x1f{lab}" for n, lab in zip(names, labels)]
    vlabels = {k: dict(v) for k, v in (meta.variable_value_labels or {}).items()}
    cols = []
    for name in names:
        values = frame[name].tolist()
        lab = vlabels.get(name, {})
        col = []
        for v in values:
            key = v
            if isinstance(v, float) and v == v and v.is_integer():
                key = int(v)
            text = lab.get(key, lab.get(float(key), None)) if isinstance(key, (int, float)) and key == key else None
            col.append(str(text).strip() if text is not None else _cell_text(v))
        cols.append(col)
    rows = [(1, header)] + [(i + 2, [c[i] for c in cols]) for i in range(len(frame))]
    notes = [f"SPSS file: {len(frame)} cases; value labels mapped through the instrument's answer labels"]
    return RawTable(path, "sav", notes=notes, value_labels=vlabels, _rows=rows)


# ----------------------------------------------------------------------
def read_raw(path) -> RawTable:
    """Open a raw export (CSV, XLSX or SPSS ``.sav``) for reading as text cells.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    RawTable

    Raises
    ------
    InputError
        The file is missing, unreadable or empty; a web page, a binary file
        (not a table) or an old ``.xls`` workbook; undecodable, or saved in
        two encodings (the row of the first fault is named); or has a single
        column (wrong delimiter).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except IsADirectoryError:
        raise InputError("expected a file, got a folder", file=path) from None
    except PermissionError:
        raise InputError("cannot read the file: permission denied", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or type(exc).__name__})", file=path) from None
    if not data.strip():
        raise InputError("the file is empty", file=path)
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(path)
    if data.startswith((b"$FL2", b"$FL3")):
        return _read_sav(path)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError("this is an old binary Excel (.xls) workbook; save it as .xlsx or CSV", file=path)
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    if _HTML.match(head):
        raise InputError("this is a web page (HTML), not an export: download the answers again from the "
                         "platform as CSV or Excel (问卷星: 下载答卷数据)", file=path)
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("binary file, not a table (expected a CSV, XLSX or SPSS .sav export)", file=path)
    text, enc = _decode(data, path)
    del data
    delim = _sniff_delimiter(text, path)
    table = RawTable(path, "csv", encoding=enc, delimiter=delim, _text=text)
    first = []
    for _, cells in table.records():
        first.append(cells)
        if len(first) >= 20:
            break
    if not first:
        raise InputError("the file is empty", file=path)
    if max(len(r) for r in first) < 3:
        raise InputError("not a table: every row has a single column; expected comma-, tab- or "
                         "semicolon-separated values (wrong delimiter?)", file=path, row=1)
    return table


# ----------------------------------------------------------------------
# header mapping
# ----------------------------------------------------------------------
_PUNCT = re.compile(r"[\s\u3000。，、；：？！…·“”‘’\"'`（）()【】\[\]《》<>〈〉.,;:?!~\-—–_/\\|*#]+")


def normalize_heading(text: str) -> str:
    """Normalize a question heading: NFKC, no spaces, no leading question number or type tag.

    Examples
    --------
    >>> normalize_heading("12、社区社会组织—社区 有志愿服务队。")
    '社区社会组织—社区有志愿服务队。'
    >>> normalize_heading("Q3. 所在城市【单选题】")
    '所在城市'
    """
    t = unicodedata.normalize("NFKC", str(text))
    t = re.sub(r"\s+", "", t)
    t = re.sub(r"^(Q|第)?\d+(题)?[、.．:：)]", "", t)
    t = re.sub(r"[【\[(（](单选题|多选题|矩阵单选题|矩阵量表题|填空题|量表题|单选|多选|填空|必答|选填)[】\])）]$", "", t)
    return t


_REMARK = re.compile(r"[（(【\[][^（()）【】\[\]]*[）)】\]]")


def _loose(text: str) -> str:
    """A heading without remarks in brackets and without punctuation: tolerates edited punctuation,
    spacing and an added remark such as ``（请仔细阅读）``."""
    return _PUNCT.sub("", _REMARK.sub("", normalize_heading(text))).lower()


@dataclass(frozen=True)
class ColumnRole:
    """What one raw column is.

    ``kind`` is ``"code"`` (an instrument variable; ``target`` is its code),
    ``"meta"`` (``target`` is ``source_id``, ``submitted``, ``duration``,
    ``start``, ``end``, ``uuid`` or ``consent``), ``"identifier"`` (dropped)
    or ``"other"`` (dropped: not in the instrument).
    """

    kind: str
    target: str | None = None


class _Lookup:
    """Heading -> code look-up for one instrument, exact then tolerant."""

    def __init__(self, inst):
        texts: list[tuple[str, str]] = []
        for con in inst.constructs:
            for item in con.items:
                texts += [(item.text_zh, item.code), (f"{con.name_zh}—{item.text_zh}", item.code),
                          (item.text_en, item.code)]
        attn = inst.attention_check
        texts += [(attn.text_zh, attn.code), (attn.text_en, attn.code)]
        for cv in inst.context:
            texts += [(cv.label_zh, cv.code), (cv.label_en, cv.code)]
        texts += [(inst.consent.title_zh, "consent"), (inst.consent.title_en, "consent"), ("知情同意", "consent"),
                  ("是否同意参加本调查", "consent"), ("您是否同意参加本次调查", "consent")]
        codes = [it.code for it in inst.items] + [attn.code] + [cv.code for cv in inst.context]
        self.exact = {normalize_heading(t): c for t, c in texts}
        self.loose = {_loose(t): c for t, c in texts if _loose(t)}
        self.codes = {c.lower(): c for c in codes}
        self.codes[inst.consent.code.lower()] = "consent"
        self.texts = texts

    def __call__(self, heading: str) -> str | None:
        norm = normalize_heading(heading)
        code = self.exact.get(norm) or self.codes.get(norm.lower()) or self.loose.get(_loose(heading))
        if code is None:
            for sep in ("—", "-", "–", ":", "_"):
                if sep in norm:
                    tail = norm.rsplit(sep, 1)[-1]
                    code = self.exact.get(tail) or self.loose.get(_loose(tail))
                    if code:
                        break
        if code is None and len(_loose(heading)) >= 6:
            # a heading edited by a character or two (typo, a word added or dropped)
            key = _loose(heading)
            best = difflib.get_close_matches(key, list(self.loose), n=2, cutoff=0.85)
            if best and (len(best) == 1 or self.loose[best[0]] == self.loose[best[1]]
                         or difflib.SequenceMatcher(None, key, best[0]).ratio()
                         - difflib.SequenceMatcher(None, key, best[1]).ratio() > 0.05):
                code = self.loose[best[0]]
        return code


def _lookup(inst) -> _Lookup:
    cached = getattr(inst, "_heading_lookup", None)
    if cached is None:
        cached = _Lookup(inst)
        try:
            object.__setattr__(inst, "_heading_lookup", cached)
        except (AttributeError, TypeError):  # pragma: no cover - slots
            pass
    return cached


_KOBO_PATH = re.compile(r"^[A-Za-z_][\w-]*(?:[/.:][A-Za-z_][\w-]*)+$")


def _base(h: str) -> str:
    """A KoboToolbox column without its group path (``group/name`` or ``group.name``)."""
    return re.split(r"[/.:]", h)[-1] if _KOBO_PATH.match(h) else h


def map_columns(header: list[str], instrument) -> list[ColumnRole]:
    """Give every raw column its role.

    Parameters
    ----------
    header : list of str
        Column headings as the file spells them.  SPSS columns arrive as
        ``name<US>label``: the name is tried first, then the label.
    instrument : Instrument

    Returns
    -------
    list of ColumnRole
        One per column.  A heading is matched exactly after normalization
        (:func:`normalize_heading`), then without punctuation, then, for a
        matrix heading ``<title>—<row>``, on the row text alone, then as a
        close match (difflib ratio >= 0.85, unambiguous) of the whole
        heading; KoboToolbox group prefixes (``group/`` or ``group.``) are
        ignored.
    """
    from .deidentify import is_identifier_column

    table = _lookup(instrument)
    roles = []
    for raw in header:
        names = str(raw).split("\x1f")
        role = None
        for h in names:
            h = h.strip()
            base = _base(h)
            low = base.lower()
            meta = META_HEADINGS.get(h.lower()) or META_HEADINGS.get(low) or META_HEADINGS.get(normalize_heading(base))
            if meta:
                role = ColumnRole("meta", meta)
                break
            code = table(base) if base else None
            if code == "consent":
                role = ColumnRole("meta", "consent")
                break
            if code is not None:
                role = ColumnRole("code", code)
                break
        if role is None:
            h = names[0].strip()
            if any(is_identifier_column(n) for n in names) or _base(h) in ("deviceid", "_submitted_by"):
                role = ColumnRole("identifier")
            else:
                role = ColumnRole("other")
        roles.append(role)
    return roles


def _score(roles: list[ColumnRole]) -> int:
    return sum(r.kind == "code" for r in roles)


def header_score(row: list[str], instrument) -> int:
    """How many cells of ``row`` map to instrument variables."""
    return _score(map_columns(row, instrument))


def locate_header(first: list[tuple[int, list[str]]], instrument) -> tuple[int, int, list[str], list[ColumnRole]]:
    """Find the header row(s) among the first records of a raw table.

    Takes the record whose cells map to the most instrument variables; if
    the record below it adds matrix row texts (a two-row header with merged
    matrix titles) the two are combined as ``<title>—<row>``.

    Parameters
    ----------
    first : list of (row, cells)
        The first records (:meth:`RawTable.records`).

    Returns
    -------
    (int, int, list of str, list of ColumnRole)
        Index (in ``first``) of the first header record, number of header
        records, the combined headings and their roles; index -1 when no
        record maps to the instrument.
    """
    best = (-1, 0, [], [])
    best_score = 0
    for i, (_, row) in enumerate(first):
        roles = map_columns(row, instrument)
        s = _score(roles)
        if s > best_score:
            best, best_score = (i, 1, row, roles), s
    i = best[0]
    if i >= 0 and i + 1 < len(first):
        top, sub = first[i][1], first[i + 1][1]
        combined = [(t if (not s or s == t) else f"{t}—{s}") for t, s in zip(top, sub)]
        combined += top[len(sub):]
        roles2 = map_columns(combined, instrument)
        if _score(roles2) > _score(best[3]):
            best = (i, 2, combined, roles2)
    return best


def closest_heading(code: str, header: list[str], instrument) -> str | None:
    """The heading of ``header`` that comes closest to the wording of variable ``code``.

    Used in the message for a missing column, so that a researcher sees which
    heading was probably edited.
    """
    table = _lookup(instrument)
    wanted = [_loose(t) for t, c in table.texts if c == code] + [code.lower()]
    best, score = None, 0.0
    for h in header:
        key = _loose(_base(str(h).split("\x1f")[-1]))
        if not key:
            continue
        for w in wanted:
            r = difflib.SequenceMatcher(None, key, w).ratio()
            if r > score:
                best, score = str(h).split("\x1f")[-1], r
    return best if score >= 0.4 else None
