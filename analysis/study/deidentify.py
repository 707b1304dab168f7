"""De-identification of raw survey exports, and a scanner for identifiers.

Ingestion keeps only the columns the instrument defines (item codes, the
attention check, context variables), the completion time in seconds and the
submission *day*; everything a platform adds around them (name, phone, ID
card, IP address, free-text address, WeChat nickname, device and submission
ids, timestamps finer than a day) is dropped before anything is written.  The
functions here name those columns, coarsen timestamps, give rows a
pseudonymous id, and blank identifier-shaped text that a respondent typed
into a kept free-text field.

:func:`scan_for_identifiers` is the last line of defence: the pipeline runs it
over processed data, results and the built book and fails on any finding.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = [
    "Finding",
    "IDENTIFIER_HEADER_WORDS",
    "is_identifier_column",
    "coarsen_to_day",
    "pseudonym",
    "id_card_check_digit",
    "valid_id_card",
    "find_identifiers",
    "scrub_text",
    "mask_identifiers",
    "scan_for_identifiers",
]

#: Words that mark a column as an identifier when they appear in its header.
IDENTIFIER_HEADER_WORDS = (
    "姓名", "名字", "手机", "电话", "联系方式", "身份证", "证件", "住址", "地址", "门牌", "昵称", "微信", "QQ",
    "邮箱", "IP", "来源详情", "设备", "name", "phone", "mobile", "tel", "id_card", "idcard", "id_number",
    "address", "nickname", "wechat", "email", "deviceid", "imei", "simserial", "subscriberid",
    "_uuid", "instanceid", "_submitted_by", "username", "gps", "geopoint", "location",
)

# Mainland mobile numbers: 1[3-9] + 9 digits, not inside a longer alphanumeric
# token (hashes, other numbers) and not part of a decimal number.
_MOBILE = re.compile(r"(?<![0-9A-Za-z_])(?<!\d\.)1[3-9]\d{9}(?![0-9A-Za-z_])(?!\.\d)")
# 18-digit resident ID numbers (last character a digit or X).
_IDCARD = re.compile(r"(?<![0-9A-Za-z_])(?<!\d\.)\d{17}[\dXx](?![0-9A-Za-z_])(?!\.\d)")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".json", ".md", ".html", ".htm", ".xml", ".yaml", ".yml",
                  ".tex", ".bib", ".js", ".svg", ".log", ".ipynb", ".py", ".r", ".rout", ".sps", ".do"}


@dataclass(frozen=True)
class Finding:
    """An identifier-shaped value found in a file.

    Attributes
    ----------
    path : str
        The file.
    kind : str
        ``"mobile"`` or ``"id_card"``.
    location : str
        ``line N`` for text files, ``row N, column C`` for tables.
    masked : str
        The value with its middle digits masked (the finding itself must not
        leak the identifier into logs).
    """

    path: str
    kind: str
    location: str
    masked: str

    def __str__(self) -> str:
        return f"{self.path}: {self.location}: {self.kind} {self.masked}"


def is_identifier_column(name: str) -> bool:
    """True if a column header names an identifier a platform adds.

    Examples
    --------
    >>> is_identifier_column("来源IP"), is_identifier_column("45、您的手机号码"), is_identifier_column("PL1")
    (True, True, False)
    """
    low = str(name).lower()
    for word in IDENTIFIER_HEADER_WORDS:
        w = word.lower()
        if w in ("tel", "ip", "qq", "name"):
            # short words only as whole tokens, not inside other words
            if re.search(rf"(?<![a-z]){w}(?![a-z])", low):
                return True
        elif w in low:
            return True
    return False


def coarsen_to_day(values) -> pd.Series:
    """Reduce timestamps to the day (ISO ``YYYY-MM-DD`` strings, NaN if unparseable).

    Examples
    --------
    >>> coarsen_to_day(["2024/5/12 14:33:05", "2024-05-13T09:00:00.000+08:00"]).tolist()
    ['2024-05-12', '2024-05-13']
    """
    s = pd.Series(values, dtype="object").astype("str").str.strip()
    # keep the local date as written: drop a time zone suffix before parsing
    s = s.str.replace(r"([T ]\d{1,2}:\d{2}(:\d{2})?(\.\d+)?)([+-]\d{2}:?\d{2}|Z)$", r"\1", regex=True)
    parsed = pd.to_datetime(s, errors="coerce", format="mixed")
    out = parsed.dt.strftime("%Y-%m-%d")
    return out.astype("object").where(parsed.notna(), None)


def pseudonym(index: int) -> str:
    """The pseudonymous id of the ``index``-th data row of a raw export (1-based).

    A sequence, not a hash: it is deterministic, carries nothing about the
    respondent and cannot be reversed into a platform id.

    Examples
    --------
    >>> pseudonym(7)
    'R00007'
    """
    return f"R{int(index):05d}"


def id_card_check_digit(first17: str) -> str:
    """Check character of an 18-digit resident ID number (GB 11643-1999).

    Notes
    -----
    :math:`c = (12 - (\\sum_i w_i d_i \\bmod 11)) \\bmod 11` with weights
    :math:`w_i = 2^{17-i} \\bmod 11`; ``10`` is written ``X`` [1]_.

    References
    ----------
    .. [1] GB 11643-1999, *Citizen identification number*. Standardization
       Administration of China.

    Examples
    --------
    >>> id_card_check_digit("11010519491231002")
    'X'
    """
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("an ID number body has exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def valid_id_card(text: str) -> bool:
    """True if ``text`` is an 18-character ID number with a valid birth date and checksum.

    Examples
    --------
    >>> valid_id_card("11010519491231002X"), valid_id_card("110105194912310021")
    (True, False)
    """
    if len(text) != 18 or not text[:17].isdigit():
        return False
    y, m, d = int(text[6:10]), int(text[10:12]), int(text[12:14])
    if not (1900 <= y <= 2100 and 1 <= m <= 12 and 1 <= d <= 31):
        return False
    return id_card_check_digit(text[:17]) == text[17].upper()


def find_identifiers(text: str) -> list[tuple[str, str]]:
    """Identifier-shaped substrings of ``text`` as ``(kind, value)`` pairs.

    Examples
    --------
    >>> find_identifiers("电话13912345678,身份证11010519491231002X, p=0.13912345678")
    [('mobile', '13912345678'), ('id_card', '11010519491231002X')]
    """
    found = [("mobile", m.group()) for m in _MOBILE.finditer(text)]
    found += [("id_card", m.group()) for m in _IDCARD.finditer(text) if valid_id_card(m.group())]
    return found


def scrub_text(value):
    """Blank a free-text value that contains an identifier-shaped substring.

    Returns the value unchanged if it is clean, else ``None``.
    """
    if isinstance(value, str) and find_identifiers(value):
        return None
    return value


def mask_identifiers(text: str) -> str:
    """Replace every identifier-shaped substring of ``text`` with ``[removed]``.

    Examples
    --------
    >>> mask_identifiers("PL1: out of range ('13912345678')")
    "PL1: out of range ('[removed]')"
    """
    for _, value in find_identifiers(text):
        text = text.replace(value, "[removed]")
    return text


def _mask(value: str) -> str:
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def _iter_files(paths):
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from sorted(q for q in p.rglob("*") if q.is_file())
        elif p.exists():
            yield p


def _scan_frame(path, frame: pd.DataFrame) -> list[Finding]:
    out = []
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_bool_dtype(values):
            continue
        if pd.api.types.is_numeric_dtype(values):
            # only whole numbers of 11 or more digits can look like an identifier
            num = pd.to_numeric(values, errors="coerce")
            big = num.abs() >= 1e10
            if not big.any():
                continue
            candidates = [(i, str(int(v)) if float(v).is_integer() else repr(float(v)))
                          for i, v in zip(range(len(num)), num) if abs(v) >= 1e10]
        else:
            texts = values.astype("object").where(values.notna(), "").astype(str)
            if not find_identifiers("\n".join(texts)):
                continue
            candidates = list(enumerate(texts))
        for i, text in candidates:
            for kind, val in find_identifiers(text):
                out.append(Finding(str(path), kind, f"row {i + 1}, column {col!r}", _mask(val)))
    for kind, val in find_identifiers(" ".join(map(str, frame.columns))):
        out.append(Finding(str(path), kind, "header", _mask(val)))
    return out


def _read_text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        return None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def scan_for_identifiers(paths) -> list[Finding]:
    """Find mainland mobile numbers and 18-digit ID numbers in files.

    Parameters
    ----------
    paths : iterable of path-like
        Files or folders (searched recursively).  Text files (CSV, JSON,
        HTML, Markdown, ...) are searched line by line; Parquet, XLSX, SAV
        and DTA files cell by cell; other binary files (images, fonts) are
        skipped.

    Returns
    -------
    list of Finding
        Empty when nothing identifier-shaped was found.

    Notes
    -----
    A mobile number is ``1[3-9]`` followed by nine digits that is not part of
    a longer alphanumeric token (e.g. a hash) nor of a decimal number; an ID
    number is 17 digits and a check character with a valid birth date and
    the GB 11643-1999 checksum [1]_.

    References
    ----------
    .. [1] GB 11643-1999, *Citizen identification number*.
    """
    findings: list[Finding] = []
    for path in _iter_files(paths):
        suffix = path.suffix.lower()
        try:
            if suffix == ".parquet":
                findings += _scan_frame(path, pd.read_parquet(path))
            elif suffix in (".xlsx", ".xlsm"):
                for name, frame in pd.read_excel(path, sheet_name=None, header=None, dtype=object).items():
                    findings += _scan_frame(f"{path}[{name}]", frame)
            elif suffix in (".sav", ".dta"):
                import pyreadstat

                reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
                frame, _ = reader(str(path))
                findings += _scan_frame(path, frame)
            elif suffix in _TEXT_SUFFIXES or suffix == "":
                text = _read_text(path)
                if text is None:
                    continue
                for lineno, line in enumerate(text.splitlines(), 1):
                    for kind, val in find_identifiers(line):
                        findings.append(Finding(str(path), kind, f"line {lineno}", _mask(val)))
        except (OSError, ValueError) as exc:  # unreadable file: report, do not crash the scan
            findings.append(Finding(str(path), "unreadable", f"{type(exc).__name__}", str(exc)[:80]))
    return findings
