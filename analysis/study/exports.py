"""Survey-platform export formats: writers (for simulation) and readers (for ingestion).

Three formats are known:

``wjx`` (问卷星)
    CSV in GB18030 (or UTF-8 with BOM) or XLSX.  Platform columns ``序号,
    提交答卷时间, 所用时间 ("312秒"), 来源, 来源详情, 来源IP`` (plus
    ``微信昵称`` when respondents come through WeChat), then one column per
    question headed ``<n>、<question text>``; matrix questions give one
    column per row headed ``<n>、<matrix title>—<row text>``.  Answers are
    option text (``比较同意``) or option numbers; an unanswered question is
    ``(空)`` or ``(跳过)``.
``kobo`` (KoboToolbox / ODK)
    CSV with the XLSForm names as headers (optionally prefixed by group
    paths ``group/name``), choice names as values, ``start``, ``end``,
    ``_id``, ``_uuid``, ``_submission_time``, ``_index``.
``csv`` (codebook)
    CSV whose headers are the codebook codes (``PL1``, ``community``, ...)
    plus ``respondent_id``, ``submitted`` and ``duration_s``.

Readers return every cell as text; :mod:`analysis.study.ingest` maps headers
and values to codes.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import atomic_path

__all__ = [
    "FORMATS",
    "write_export",
    "RawTable",
    "read_raw",
    "normalize_heading",
    "ColumnRole",
    "map_columns",
    "locate_header",
    "MISSING_TOKENS",
]

FORMATS = ("wjx", "kobo", "csv")
#: Cell values that mean "no answer".
MISSING_TOKENS = frozenset({"", "(空)", "(跳过)", "（空）", "（跳过）", "NA", "N/A", "n/a", "NaN", "nan", "null", "None", "-9"})
_WJX_META = ("序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来源IP")
_KOBO_META = ("start", "end", "today", "deviceid", "_id", "_uuid", "_submission_time", "_validation_status",
              "_notes", "_status", "_submitted_by", "__version__", "_tags", "_index")
_PII_HEADINGS_WJX = {"pii_name": "填写人姓名", "pii_phone": "填写人手机号码", "pii_id_card": "填写人身份证号码",
                     "pii_address": "填写人家庭住址"}
_PII_NAMES_KOBO = {"pii_name": "respondent_name", "pii_phone": "phone", "pii_id_card": "id_number",
                   "pii_address": "address"}
_SUGGESTION_ZH = "您对本社区韧性治理还有什么意见和建议?"


# ----------------------------------------------------------------------
# writers
# ----------------------------------------------------------------------
def _scale_text(inst) -> dict[int, str]:
    return {lab.value: lab.zh for lab in inst.scale.labels}


def _choice_text(cv) -> dict[int, str]:
    return {ch.value: ch.zh for ch in cv.choices}


def _fmt_int(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(int(v))


def _suggestions(data: pd.DataFrame) -> list[str]:
    # a free-text comment; every 40th respondent leaves a phone number in it
    out = []
    for i, phone in enumerate(data["pii_phone"]):
        if i % 40 == 7:
            out.append(f"希望多组织应急演练,有事可联系我{phone}")
        elif i % 9 == 0:
            out.append("希望加强网格员队伍建设")
        else:
            out.append("(空)")
    return out


def _wjx_table(data: pd.DataFrame, inst, answers: str) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """Rows (header first) of a 问卷星 export, and the (title, row) parts of each heading."""
    scale = _scale_text(inst)
    heads: list[tuple[str, str]] = []   # (question heading, matrix row text or "")
    cols: list[list[str]] = []
    n = len(data)

    def ans_item(series):
        if answers == "code":
            return [_fmt_int(v) if _fmt_int(v) else "(空)" for v in series]
        return [scale[int(v)] if v == v else "(空)" for v in series]

    # platform columns
    heads += [(h, "") for h in (*_WJX_META, "微信昵称")]
    cols.append([str(i) for i in range(1, n + 1)])
    cols.append([f"{t.year}/{t.month}/{t.day} {t:%H:%M:%S}" for t in data["submitted"]])
    cols.append([f"{int(d)}秒" for d in data["duration_s"]])
    cols.append(["微信" if i % 3 else "手机提交" for i in range(n)])
    cols.append(["N/A"] * n)
    city_zh = {1: "河南-郑州", 2: "河南-洛阳", 3: "河南-开封", 4: "河南-新乡", 5: "河南-南阳"}
    cols.append([f"{ip}({city_zh.get(int(c), '河南')})" for ip, c in zip(data["pii_ip"], data["city"])])
    cols.append(list(data["pii_wechat"]))

    q = 0

    def add_question(text, values, row=""):
        heads.append((f"{q}、{text}", row))
        cols.append(values)

    q += 1
    add_question(inst.consent.title_zh, [inst.consent.agree_zh] * n)

    def add_context(cv):
        if cv.kind == "categorical":
            lab = _choice_text(cv)
            vals = [(_fmt_int(v) if answers == "code" else lab[int(v)]) for v in data[cv.code]]
        else:
            vals = [str(v) if not isinstance(v, (float, np.floating)) else _fmt_int(v) for v in data[cv.code]]
        add_question(cv.label_zh, vals)

    for cv in inst.context:
        if cv.part == "community":
            q += 1
            add_context(cv)
    attn = inst.attention_check
    for con in inst.constructs:
        q += 1
        for item in con.items:
            add_question(con.name_zh, ans_item(data[item.code]), row=item.text_zh)
        if attn.after in [it.code for it in con.items]:
            q += 1
            add_question(attn.text_zh, ans_item(data[attn.code]))
    for cv in inst.context:
        if cv.part != "community":
            q += 1
            add_context(cv)
    for key, heading in _PII_HEADINGS_WJX.items():
        q += 1
        add_question(heading, list(data[key]))
    q += 1
    add_question(_SUGGESTION_ZH, _suggestions(data))
    header = [h if not r else f"{h}—{r}" for h, r in heads]
    rows = [header] + [list(r) for r in zip(*cols)]
    return rows, heads


def _kobo_table(data: pd.DataFrame, inst) -> list[list[str]]:
    n = len(data)
    names: list[str] = []
    cols: list[list[str]] = []
    end = data["submitted"]
    start = end - pd.to_timedelta(data["duration_s"], unit="s")
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000+08:00")  # noqa: E731
    names += ["start", "end", "today", "deviceid"]
    cols += [[iso(t) for t in start], [iso(t) for t in end], [f"{t:%Y-%m-%d}" for t in start],
             [f"collect:demo{i:06d}" for i in range(n)]]
    # names and groups as in the rendered XLSForm (analysis.study.render): consent choice 1 = agree
    names.append(inst.consent.code)
    cols.append(["1"] * n)
    for cv in inst.context:
        if cv.part == "community":
            names.append(f"part_community/{cv.code}")
            cols.append([_fmt_int(v) if not isinstance(v, str) else v for v in data[cv.code]])
    for con in inst.constructs:
        for item in con.items:
            names.append(f"part_scales/{item.code}")
            cols.append([_fmt_int(v) for v in data[item.code]])
        if inst.attention_check.after in [it.code for it in con.items]:
            names.append(f"part_scales/{inst.attention_check.code}")
            cols.append([_fmt_int(v) for v in data[inst.attention_check.code]])
    for cv in inst.context:
        if cv.part != "community":
            names.append(f"part_respondent/{cv.code}")
            cols.append([_fmt_int(v) for v in data[cv.code]])
    for key, name in _PII_NAMES_KOBO.items():
        names.append(name)
        cols.append(list(data[key]))
    names += ["_id", "_uuid", "_submission_time", "_validation_status", "_index"]
    cols += [[str(100000 + i) for i in range(n)],
             [f"00000000-0000-4000-8000-{i:012d}" for i in range(1, n + 1)],
             [f"{t:%Y-%m-%dT%H:%M:%S}" for t in end + pd.Timedelta(seconds=2)],
             [""] * n,
             [str(i) for i in range(1, n + 1)]]
    return [names] + [list(r) for r in zip(*cols)]


def _codebook_table(data: pd.DataFrame, inst) -> list[list[str]]:
    n = len(data)
    names = ["respondent_id", "submitted", "duration_s"]
    cols = [[str(i) for i in range(1, n + 1)], [f"{t:%Y-%m-%d %H:%M:%S}" for t in data["submitted"]],
            [_fmt_int(v) for v in data["duration_s"]]]
    for item in inst.items:
        names.append(item.code)
        cols.append([_fmt_int(v) for v in data[item.code]])
    names.append(inst.attention_check.code)
    cols.append([_fmt_int(v) for v in data[inst.attention_check.code]])
    for cv in inst.context:
        names.append(cv.code)
        cols.append([v if isinstance(v, str) else _fmt_int(v) for v in data[cv.code]])
    names += ["contact_name", "contact_phone"]
    cols += [list(data["pii_name"]), list(data["pii_phone"])]
    return [names] + [list(r) for r in zip(*cols)]


def _write_csv_rows(path: Path, rows, encoding: str, delimiter: str = ",") -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerows(rows)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue().encode(encoding))


def _write_xlsx_rows(path: Path, rows, heads=None, merged_header: bool = False) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    if merged_header and heads is not None:
        top = [h for h, _ in heads]
        sub = [r for _, r in heads]
        ws.append(top)
        ws.append(sub)
        # merge identical neighbouring matrix titles on row 1; platform columns span both rows
        j = 0
        while j < len(heads):
            k = j
            while k + 1 < len(heads) and heads[k + 1][1] and heads[j][1] and top[k + 1] == top[j]:
                k += 1
            if k > j:
                ws.merge_cells(start_row=1, start_column=j + 1, end_row=1, end_column=k + 1)
            elif not sub[j]:
                ws.merge_cells(start_row=1, start_column=j + 1, end_row=2, end_column=j + 1)
            j = k + 1
        body = rows[1:]
    else:
        body = rows
    for r in body:
        ws.append(r)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    _fix_xlsx_timestamps(path)


def _fix_xlsx_timestamps(path: Path) -> None:
    """Rewrite an XLSX with fixed zip dates and document times (byte-identical reruns)."""
    with zipfile.ZipFile(path) as zin:
        items = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
            for name, payload in items:
                if name == "docProps/core.xml":
                    payload = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", payload)
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zout.writestr(info, payload)


def write_export(data: pd.DataFrame, fmt: str, out, instrument, *, encoding: str | None = None,
                 answers: str = "text", merged_header: bool = False) -> Path:
    """Write a simulated sample in a platform's export format.

    Parameters
    ----------
    data : DataFrame
        :attr:`analysis.study.simulate.SimulatedSample.data`.
    fmt : {"wjx", "kobo", "csv"}
        The platform format.
    out : path-like
        The file; for ``wjx`` a ``.xlsx`` suffix writes a workbook.
    instrument : Instrument
    encoding : str, optional
        Text encoding of CSV output: ``gb18030`` for 问卷星 (default),
        ``utf-8-sig`` otherwise.
    answers : {"text", "code"}
        问卷星 only: option text (default) or option numbers.
    merged_header : bool
        问卷星 XLSX only: two header rows with merged matrix titles.

    Returns
    -------
    Path
    """
    out = Path(out)
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "wjx":
        rows, heads = _wjx_table(data, instrument, answers)
        if out.suffix.lower() == ".xlsx":
            _write_xlsx_rows(out, rows, heads, merged_header)
        else:
            _write_csv_rows(out, rows, encoding or "gb18030")
    elif fmt == "kobo":
        _write_csv_rows(out, _kobo_table(data, instrument), encoding or "utf-8-sig")
    else:
        _write_csv_rows(out, _codebook_table(data, instrument), encoding or "utf-8-sig")
    return out


# ----------------------------------------------------------------------
# readers
# ----------------------------------------------------------------------
@dataclass
class RawTable:
    """The cells of a raw export, as text, with where each row came from.

    Attributes
    ----------
    rows : list of list of str
        Every non-blank record of the file, header rows included.
    row_numbers : list of int
        The 1-based line (CSV) or sheet row (XLSX) where each record starts.
    kind : str
        ``"csv"`` or ``"xlsx"``.
    encoding, delimiter : str or None
        How a CSV was decoded and split.
    notes : list of str
        Repairs made while reading (merged cells filled, ...).
    """

    rows: list
    row_numbers: list
    kind: str
    encoding: str | None = None
    delimiter: str | None = None
    notes: list = field(default_factory=list)


def _decode(data: bytes, path) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _decode_error(data[3:], exc, path, "UTF-8 (the file starts with a UTF-8 byte-order mark)") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise _decode_error(data, exc, path, "UTF-16") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise _decode_error(data, exc, path, "UTF-8, UTF-8 with BOM or GB18030 (GBK)") from None


def _decode_error(data: bytes, exc: UnicodeDecodeError, path, tried: str) -> InputError:
    line = data[: exc.start].count(b"\n") + 1
    return InputError(f"cannot decode the file as {tried}: invalid byte 0x{data[exc.start]:02x} "
                      f"at byte {exc.start}; save it again as UTF-8 or GB18030 CSV", file=path, row=line)


def _sniff_delimiter(text: str, path=None) -> str:
    """The delimiter (comma, tab, semicolon) that splits the first lines most consistently."""
    lines = [ln for ln in text.splitlines() if ln.strip()][:12]
    scores = {}
    for d in (",", "\t", ";", "|"):
        counts = [ln.count(d) for ln in lines]
        scores[d] = int(np.median(counts)) if counts else 0
    best = max((",", "\t", ";"), key=lambda d: scores[d])
    if scores["|"] > max(2, scores[best]):
        raise InputError("wrong delimiter: the rows are separated by '|'; expected comma-, tab- or "
                         "semicolon-separated values", file=path, row=1)
    return best if scores[best] > 0 else ","


def _read_csv_text(text: str, path) -> tuple[list, list, str]:
    delim = _sniff_delimiter(text, path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows, numbers = [], []
    start = 1
    try:
        for rec in reader:
            if any(c.strip() for c in rec):
                rows.append([c.strip() for c in rec])
                numbers.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"not a readable CSV table: {exc}", file=path, row=reader.line_num) from None
    return rows, numbers, delim


def _read_xlsx(path) -> tuple[list, list, list]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=False, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise InputError(f"not a readable XLSX workbook ({type(exc).__name__}: {exc})", file=path) from None
    ws = wb.worksheets[0]
    notes = []
    grid = [[("" if c.value is None else c.value) for c in row] for row in ws.iter_rows()]
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
    rows, numbers = [], []
    for i, row in enumerate(grid, 1):
        cells = [_cell_text(v) for v in row]
        if any(cells):
            rows.append(cells)
            numbers.append(i)
    return rows, numbers, notes


def _cell_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v).strip()


def read_raw(path) -> RawTable:
    """Read a raw export (CSV in UTF-8/UTF-8-BOM/GB18030/UTF-16, or XLSX) as text cells.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    RawTable

    Raises
    ------
    InputError
        The file is missing or empty, binary (not a table), an old ``.xls``
        workbook, undecodable, or has a single column (wrong delimiter).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except IsADirectoryError:
        raise InputError("expected a file, got a folder", file=path) from None
    if not data.strip():
        raise InputError("the file is empty", file=path)
    if data.startswith(b"PK\x03\x04"):
        rows, numbers, notes = _read_xlsx(path)
        table = RawTable(rows, numbers, "xlsx", notes=notes)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError("this is an old binary Excel (.xls) workbook; save it as .xlsx or CSV", file=path)
    else:
        probe = data[:8192]
        if b"\x00" in probe and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise InputError("binary file, not a table (expected a CSV or XLSX export)", file=path)
        text, enc = _decode(data, path)
        rows, numbers, delim = _read_csv_text(text, path)
        table = RawTable(rows, numbers, "csv", encoding=enc, delimiter=delim)
    if not table.rows:
        raise InputError("the file has no rows", file=path)
    width = max(len(r) for r in table.rows[:20])
    if width < 3:
        raise InputError("not a table: every row has a single column; expected comma-, tab- or "
                         "semicolon-separated values (wrong delimiter?)", file=path,
                         row=table.row_numbers[0])
    return table


# ----------------------------------------------------------------------
# header mapping
# ----------------------------------------------------------------------
def normalize_heading(text: str) -> str:
    """Normalize a question heading: NFKC, no spaces, no leading question number.

    Examples
    --------
    >>> normalize_heading("12、社区社会组织—社区 有志愿服务队。")
    '社区社会组织—社区有志愿服务队。'
    """
    t = unicodedata.normalize("NFKC", str(text))
    t = re.sub(r"\s+", "", t)
    t = re.sub(r"^(Q|第)?\d+(题)?[、.．:：)]", "", t)
    t = re.sub(r"[【\[(（](单选题|多选题|矩阵单选题|填空题|量表题|单选|填空)[】\])）]$", "", t)
    return t


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


def _lookup(inst) -> dict[str, str]:
    """Normalized heading/name -> code, for every instrument variable."""
    table: dict[str, str] = {}
    for con in inst.constructs:
        for item in con.items:
            t = normalize_heading(item.text_zh)
            table[t] = item.code
            table[normalize_heading(f"{con.name_zh}—{item.text_zh}")] = item.code
            table[item.code.lower()] = item.code
    attn = inst.attention_check
    table[normalize_heading(attn.text_zh)] = attn.code
    table[attn.code.lower()] = attn.code
    for cv in inst.context:
        table[normalize_heading(cv.label_zh)] = cv.code
        table[cv.code.lower()] = cv.code
    table[normalize_heading(inst.consent.title_zh)] = "consent"
    table[inst.consent.code.lower()] = "consent"
    return table


_META = {
    "序号": "source_id", "提交答卷时间": "submitted", "所用时间": "duration",
    "_index": "source_id", "_submission_time": "submitted", "start": "start", "end": "end", "_uuid": "uuid",
    "respondent_id": "source_id", "resp_id": "source_id", "id": "source_id", "submitted": "submitted",
    "submit_time": "submitted", "duration_s": "duration",
}


def map_columns(header: list[str], instrument) -> list[ColumnRole]:
    """Give every raw column its role.

    Parameters
    ----------
    header : list of str
        Column headings as the file spells them.
    instrument : Instrument

    Returns
    -------
    list of ColumnRole
        One per column.  A matrix heading ``<title>—<row>`` is matched on the
        whole heading, then on the row text alone; Kobo group prefixes
        (``group/``) are ignored.
    """
    from .deidentify import is_identifier_column

    table = _lookup(instrument)
    roles = []
    for raw in header:
        h = str(raw).strip()
        base = h.split("/")[-1] if "/" in h and not h.startswith("http") else h
        if base in _META or base.lower() in _META:
            roles.append(ColumnRole("meta", _META.get(base, _META.get(base.lower()))))
            continue
        norm = normalize_heading(base)
        code = table.get(norm) or table.get(base.lower())
        if code is None:
            for sep in ("—", "-", "–", ":", "_"):
                if sep in norm:
                    code = table.get(norm.rsplit(sep, 1)[-1])
                    if code:
                        break
        if code == "consent":
            roles.append(ColumnRole("meta", "consent"))
        elif code is not None:
            roles.append(ColumnRole("code", code))
        elif is_identifier_column(h) or base in _KOBO_META or h in _WJX_META:
            roles.append(ColumnRole("identifier" if (is_identifier_column(h) or base in ("deviceid", "_submitted_by"))
                                    else "other"))
        else:
            roles.append(ColumnRole("other"))
    return roles


def _score(roles: list[ColumnRole]) -> int:
    return sum(r.kind == "code" for r in roles)


def locate_header(table: RawTable, instrument, max_scan: int = 10) -> tuple[int, int, list[str], list[ColumnRole]]:
    """Find the header row(s) of a raw table.

    Scans the first ``max_scan`` records for the row whose cells map to the
    most instrument variables; if the record below it adds matrix row texts
    (a two-row header with merged matrix titles) the two are combined as
    ``<title>—<row>``.

    Returns
    -------
    (int, int, list of str, list of ColumnRole)
        Index of the first header record, number of header records, the
        combined headings and their roles.
    """
    best = (-1, 0, [], [])
    best_score = 0
    for i, row in enumerate(table.rows[:max_scan]):
        roles = map_columns(row, instrument)
        s = _score(roles)
        if s > best_score:
            best, best_score = (i, 1, row, roles), s
    i = best[0]
    if i >= 0 and i + 1 < len(table.rows):
        top, sub = table.rows[i], table.rows[i + 1]
        combined = [(t if (not s or s == t) else f"{t}—{s}") for t, s in zip(top, sub)]
        combined += top[len(sub):]
        roles2 = map_columns(combined, instrument)
        if _score(roles2) > _score(best[3]):
            best = (i, 2, combined, roles2)
    return best
