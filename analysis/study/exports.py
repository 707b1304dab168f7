"""Survey-platform export formats: writers (for simulation; the readers are in :mod:`analysis.study.readers`).

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
    plus ``respondent_id``, ``submitted``, ``duration_s`` and ``consent``.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import atomic_path

__all__ = ["FORMATS", "write_export"]

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


# ----------------------------------------------------------------------
# writers
# ----------------------------------------------------------------------
def _scale_text(inst) -> dict[int, str]:
    dk = inst.scale.dont_know
    return {lab.value: lab.zh for lab in inst.scale.labels + ((dk,) if dk is not None else ())}


def _choice_text(cv) -> dict[int, str]:
    return {ch.value: ch.zh for ch in cv.choices}


def _fmt_int(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(int(v))


def _context_cells(cv, values, answers: str = "code") -> list[str]:
    """Cells of one context variable: choice text or code, a number, or text as written."""
    if cv.kind == "categorical" and answers == "text":
        lab = _choice_text(cv)
        return [lab[int(v)] if v == v and v is not None else "(空)" for v in values]
    if cv.kind == "text":
        return ["(空)" if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]
    return [_fmt_int(v) for v in values]


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
        add_question(cv.label_zh, _context_cells(cv, data[cv.code], answers))

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
            cols.append(_context_cells(cv, data[cv.code]))
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
            cols.append([c if c != "(空)" else "" for c in _context_cells(cv, data[cv.code])])
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
    names = ["respondent_id", "submitted", "duration_s", inst.consent.code]
    cols = [[str(i) for i in range(1, n + 1)], [f"{t:%Y-%m-%d %H:%M:%S}" for t in data["submitted"]],
            [_fmt_int(v) for v in data["duration_s"]], ["1"] * n]
    for item in inst.items:
        names.append(item.code)
        cols.append([_fmt_int(v) for v in data[item.code]])
    names.append(inst.attention_check.code)
    cols.append([_fmt_int(v) for v in data[inst.attention_check.code]])
    for cv in inst.context:
        names.append(cv.code)
        cols.append([c if c != "(空)" else "" for c in _context_cells(cv, data[cv.code])])
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
