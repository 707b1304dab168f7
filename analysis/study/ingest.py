"""Ingestion: raw platform exports in, de-identified processed responses out.

``ingest(raw, out_dir)`` reads one or several 问卷星, KoboToolbox, codebook
or SPSS exports of this questionnaire (files, or a folder of them), maps
their columns and answers to the instrument's codes, validates every answer
against the table schema derived from the instrument, and accounts for every
record:

``records = consent-excluded + duplicates collapsed + quarantined + processed``

It writes, into ``out_dir``:

- ``responses.parquet`` / ``responses.csv``: one row per processed record:
  ``resp_id`` (a pseudonym), the item codes (1-5, NaN when unanswered or
  missing by design), ``ATTN``, the context columns (open answers with
  identifiers replaced by tags such as ``[电话]``), ``duration_s`` and
  ``submit_date`` (the day only);
- ``quarantine.csv``: records with consent but a fault: ``source_file``,
  ``source_row``, ``resp_id``, ``reasons`` and, per column, the coded value
  when it is a valid answer code, else a masked shape (``9`` per digit,
  ``字`` per Han character, ``x`` per letter) -- never the raw text;
- ``consent_excluded.csv``: ``source_file, source_row, reason`` of every
  record without affirmative consent (nothing else of them is kept);
- ``collapsed.csv``: ``source_file, source_row, same_as_file, same_as_row``
  of every repeated copy of a submission (same submission time, completion
  time and answers: the same download ingested twice);
- ``ingest_report.json``: files (name, sha256, format, encoding, header
  row, records), the reconciliation, reasons, special codes per item,
  identifiers replaced in open answers, the consent rule, the column
  mapping, notes.

Conventions (README, "Data")
----------------------------
Rows
    A row number is the row as a spreadsheet shows the file (header = row 1;
    :mod:`analysis.study.readers`).
Consent
    The consent question (``consent`` in the instrument) is found by its code
    or its heading, with the heading edits tolerated for any question.  Only
    an affirmative answer (the agree option's text or its code 1, 同意, 是,
    yes) lets a record in; declined, empty or unrecognised answers exclude the
    record, counted by reason.  Without a consent column ingestion stops,
    unless ``consent_enforced_at_entry=True`` states that the platform did not
    let anyone answer without agreeing (recorded in the report).
Special codes
    问卷星's numeric download writes ``-3`` for a question skipped by jump
    logic (``(跳过)`` in the text download) and ``-2`` for a question not
    shown by display logic; both are read as missing by design and counted
    per item.  So is the don't-know answer (code ``8`` or its text
    ``不清楚``, ``scale.dont_know`` of the instrument) on the items that offer
    it (``dont_know: true``); on any other item it is out of range.
Completion time
    ``所用时间`` and its variants (答题时间, 用时, 作答时长, ...) in any of
    ``150``, ``150秒``, ``2分30秒``, ``1小时2分3秒``, ``00:02:30``, ``2:30``
    (minutes:seconds), ``150s``, ``2m30s``, ``PT2M30S``; or Kobo's
    ``start``/``end``.  A value that cannot be read stops ingestion with its
    row: the speeding rule is never switched off in silence.
Duplicates
    问卷星's 序号 restarts at 1 in every download and identifies nothing
    across downloads.  A record whose submission time, completion time and
    answers repeat an earlier one is the same submission and collapses into
    it (counted); every other record is kept.

Fatal faults raise :class:`~analysis.errors.InputError` (one line: file,
row, column) and leave no output behind that a later step could take as
current.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from array import array
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..errors import InputError
from ..io import sha256, write_csv, write_json, write_parquet
from .deidentify import coarsen_to_day, mask_identifiers, pseudonym, redact
from .readers import (
    META_HEADINGS,
    MISSING_TOKENS,
    closest_heading,
    header_score,
    locate_header,
    map_columns,
    read_raw,
)

__all__ = ["IngestReport", "ingest", "instrument_schema", "export_labelled", "parse_duration", "consent_status",
           "SPECIAL_CODES", "FATAL_SHARE", "OUTPUTS"]

#: A column whose non-missing answers are invalid in more than this share is a
#: coding mismatch (fatal), not a few bad rows (quarantine).
FATAL_SHARE = 0.5

#: 问卷星's codes for answers missing by design (numeric and text downloads).
SPECIAL_CODES = {
    "-3": "skipped by jump logic (-3)",
    "-2": "not shown by display logic (-2)",
    "(跳过)": "skipped by jump logic (-3)",
    "（跳过）": "skipped by jump logic (-3)",
}

#: Files ingestion writes, and the files of later steps that read them: all are
#: removed before ingestion starts, so that a failed run leaves none behind.
OUTPUTS = ("responses.parquet", "responses.csv", "quarantine.csv", "consent_excluded.csv", "collapsed.csv",
           "ingest_report.json", "responses.sav", "responses.dta")
DOWNSTREAM = ("flags.csv", "screening_report.csv", "analysis.parquet", "analysis.sav", "analysis.dta")
_EXPORT_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".sav", ".zsav"}


@dataclass
class IngestReport:
    """What :func:`ingest` did.

    Attributes
    ----------
    files : list of dict
        One per raw file: ``file`` (name), ``sha256``, ``format`` (``wjx``,
        ``kobo``, ``csv`` or ``sav``), ``encoding``, ``delimiter``,
        ``header_row``, ``header_rows``, ``records``, ``repeated_headers``.
    counts : dict
        ``records``, ``consent_excluded``, ``duplicates_collapsed``,
        ``quarantined``, ``accepted`` (processed); the first is the sum of
        the others.
    consent : dict
        ``rule`` (``column`` or ``enforced at entry``), ``columns`` (file ->
        heading), ``excluded`` (reason -> count).
    reasons : dict
        Quarantine reasons (kind -> records).
    special_codes : dict
        Item -> {meaning -> count} of answers missing by design.
    redactions : dict
        Tag -> count of identifiers replaced in open answers.
    mapping : dict
        Raw heading -> code, ``meta: ...`` or ``dropped: ...`` (headings
        holding an identifier are redacted).
    """

    files: list
    counts: dict
    consent: dict
    reasons: dict
    special_codes: dict
    redactions: dict
    mapping: dict
    synthetic: bool = False
    notes: list = field(default_factory=list)
    outputs: list = field(default_factory=list)

    # single-number views used across the package
    @property
    def n_rows(self) -> int:
        return int(self.counts["records"])

    @property
    def n_accepted(self) -> int:
        return int(self.counts["accepted"])

    @property
    def n_quarantined(self) -> int:
        return int(self.counts["quarantined"])

    @property
    def n_consent_excluded(self) -> int:
        return int(self.counts["consent_excluded"])

    @property
    def n_collapsed(self) -> int:
        return int(self.counts["duplicates_collapsed"])

    @property
    def format(self) -> str:
        fmts = sorted({f["format"] for f in self.files})
        return fmts[0] if len(fmts) == 1 else "+".join(fmts)

    @property
    def raw_file(self) -> str:
        return ", ".join(f["file"] for f in self.files)

    def to_dict(self) -> dict:
        single = self.files[0] if len(self.files) == 1 else {}
        return {
            "raw_file": self.raw_file, "raw_sha256": single.get("sha256"), "format": self.format,
            "encoding": single.get("encoding"), "files": self.files, "counts": self.counts,
            "reconciliation": "records = consent_excluded + duplicates_collapsed + quarantined + accepted",
            "consent": self.consent, "quarantine_reasons": self.reasons, "special_codes": self.special_codes,
            "redactions": self.redactions, "mapping": self.mapping, "synthetic": self.synthetic,
            "row_numbers": "rows as a spreadsheet shows each file (header = row 1)",
            "notes": self.notes, "outputs": [Path(p).name for p in self.outputs],
        }

    def __str__(self) -> str:
        c = self.counts
        lines = [f"ingested {self.raw_file} ({self.format}): {c['records']} records = "
                 f"{c['consent_excluded']} without consent + {c['duplicates_collapsed']} repeated copies + "
                 f"{c['quarantined']} quarantined + {c['accepted']} processed"]
        lines += [f"  consent: {k}: {v}" for k, v in sorted(self.consent["excluded"].items())]
        lines += [f"  quarantine: {k}: {v}" for k, v in sorted(self.reasons.items())]
        n_special = sum(sum(v.values()) for v in self.special_codes.values())
        if n_special:
            lines.append(f"  missing by design (问卷星 -3/-2, don't know): {n_special} answers")
        lines += [f"  open answers: {v} {k} replaced" for k, v in sorted(self.redactions.items())]
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  wrote {p}" for p in self.outputs]
        return "\n".join(lines)


# ----------------------------------------------------------------------
def instrument_schema(instrument):
    """A ``frictionless`` table schema of coded responses, derived from the instrument.

    Returns
    -------
    frictionless.Schema
        Fields: every item code and the attention check (integer, 1..points),
        every context variable (categorical: integer in its codes; integer:
        its min/max; text: its pattern), ``required`` as the instrument says.
        :func:`ingest` applies exactly these constraints to every answer.
    """
    import frictionless as fl

    pts = instrument.scale.points
    fields = [{"name": it.code, "type": "integer", "constraints": {"minimum": 1, "maximum": pts}}
              for it in instrument.items]
    fields.append({"name": instrument.attention_check.code, "type": "integer",
                   "constraints": {"minimum": 1, "maximum": pts}})
    for cv in instrument.context:
        cons: dict = {"required": True} if cv.required else {}
        if cv.kind == "categorical":
            fields.append({"name": cv.code, "type": "integer", "constraints": {**cons, "enum": [c.value for c in cv.choices]}})
        elif cv.kind == "integer":
            if cv.min is not None:
                cons["minimum"] = int(cv.min)
            if cv.max is not None:
                cons["maximum"] = int(cv.max)
            fields.append({"name": cv.code, "type": "integer", "constraints": cons})
        else:
            if cv.pattern:
                cons["pattern"] = cv.pattern.lstrip("^").rstrip("$")
            fields.append({"name": cv.code, "type": "string", "constraints": cons})
    return fl.Schema.from_descriptor({"fields": fields})


def _instrument(instrument):
    if instrument is not None:
        return instrument
    from .instrument import load_instrument

    return load_instrument()


# ----------------------------------------------------------------------
# cells
# ----------------------------------------------------------------------
_NUM = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _shape(text: str) -> str:
    """A masked form of a raw value: its shape, not its content.

    Examples
    --------
    >>> _shape("13912345678"), _shape("张三"), _shape("abc-7")
    ('99999999999', '字字', 'xxx-9')
    """
    t = unicodedata.normalize("NFKC", str(text))
    out = re.sub(r"\d", "9", t)
    out = re.sub(r"[A-Za-z]", "x", out)
    out = re.sub(r"[\u3400-\u9fff\uf900-\ufaff]", "字", out)
    out = re.sub(r"[^9x字\-.,:/ ()]", "?", out)
    return out if len(out) <= 24 else out[:20] + f"…({len(t)})"


def _shown(text: str) -> str:
    """A value quoted in a message: with every identifier replaced by its tag, at most 40 characters;
    its shape only when it holds a run of 7 or more digits that no detector claimed (a number glued
    to other digits may still be a phone or an ID number)."""
    t = mask_identifiers(str(text).strip())
    if re.search(r"\d{7,}", unicodedata.normalize("NFKC", t)):
        t = _shape(t)
    return t if len(t) <= 40 else t[:37] + "..."


class _Column:
    """How the answers of one instrument variable are read and checked (from the table schema)."""

    def __init__(self, code: str, kind: str, constraints: dict, labels: dict, redact_text: bool,
                 dont_know: int | None = None):
        self.code, self.kind = code, kind
        self.dont_know = dont_know          # the don't-know code this item offers (missing by design)
        self.minimum = constraints.get("minimum")
        self.maximum = constraints.get("maximum")
        self.enum = set(constraints["enum"]) if "enum" in constraints else None
        self.required = bool(constraints.get("required"))
        self.pattern = re.compile(f"^{constraints['pattern']}$") if "pattern" in constraints else None
        self.labels = labels
        self.redact_text = redact_text
        self.memo: dict[str, tuple] = {}

    def describe_range(self) -> str:
        if self.enum is not None:
            return f"one of {', '.join(map(str, sorted(self.enum)))}"
        return f"{self.minimum}-{self.maximum}"

    def code_cell(self, text: str) -> tuple:
        """``(value, problem, special, redactions)`` of one raw cell (memoised: answers repeat)."""
        hit = self.memo.get(text)
        if hit is None:
            hit = self._code(text)
            if len(self.memo) < 50_000:
                self.memo[text] = hit
        return hit

    def _code(self, text: str) -> tuple:
        t = text.strip()
        if t in MISSING_TOKENS:
            return None, None, None, None
        if t in SPECIAL_CODES:
            return None, None, SPECIAL_CODES[t], None
        if self.kind == "text":
            if self.pattern is not None:
                if self.pattern.match(t):
                    return t, None, None, None
                return None, f"{self.code}: invalid (does not match the pattern {self.pattern.pattern})", None, None
            clean, counts = redact(t)
            return clean, None, None, (dict(counts) or None)
        u = unicodedata.normalize("NFKC", t)
        if self.kind == "integer":
            u = re.sub(r"\s*(年|years?)$", "", u)
        if _NUM.match(u):
            x = float(u)
            if not x.is_integer():
                return None, f"{self.code}: out of range (not a whole number)", None, None
            v = int(x)
        else:
            v = self.labels.get(u, self.labels.get(u.lower()))
            if v is None:
                return None, f"{self.code}: unknown answer (text of {len(t)} characters)", None, None
        if self.dont_know is not None and v == self.dont_know:
            return None, None, f"don't know ({v})", None
        if (self.enum is not None and v not in self.enum) or (self.minimum is not None and v < self.minimum) \
                or (self.maximum is not None and v > self.maximum):
            return None, f"{self.code}: out of range (a number outside {self.describe_range()})", None, None
        return v, None, None, None


def _columns(inst) -> dict[str, _Column]:
    schema = instrument_schema(inst)
    ctx = {cv.code: cv for cv in inst.context}
    dont_know = set(inst.dont_know_codes)
    cols = {}
    for f in schema.fields:
        cons = dict(f.constraints or {})
        code = f.name
        dk = None
        if code in ctx:
            cv = ctx[code]
            kind = "text" if cv.kind == "text" else cv.kind
            labels = {}
            for c in cv.choices:
                labels[unicodedata.normalize("NFKC", str(c.zh)).strip()] = c.value
                labels[str(c.en).strip().lower()] = c.value
        else:
            kind = "likert"
            labels = {}
            dk = inst.scale.dont_know if code in dont_know else None
            for lab in inst.scale.labels + ((dk,) if dk is not None else ()):
                labels[unicodedata.normalize("NFKC", str(lab.zh)).strip()] = lab.value
                labels[str(lab.en).strip().lower()] = lab.value
        cols[code] = _Column(code, kind, cons, labels, redact_text=(kind == "text"),
                             dont_know=None if dk is None else dk.value)
    return cols


# ----------------------------------------------------------------------
# completion time and consent
# ----------------------------------------------------------------------
_DUR_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")
_DUR_UNITS = re.compile(
    r"^(?:(\d+(?:\.\d+)?)\s*(?:小时|时|h|hr|hrs|hours?))?\s*"
    r"(?:(\d+(?:\.\d+)?)\s*(?:分钟|分|m|min|mins|minutes?))?\s*"
    r"(?:(\d+(?:\.\d+)?)\s*(?:秒钟|秒|s|sec|secs|seconds?))?$", re.I)
_DUR_ISO = re.compile(r"^P(?:T)?(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$", re.I)


def parse_duration(text) -> float:
    """Seconds of a completion time as 问卷星, KoboToolbox or a colleague writes it.

    Returns NaN for an empty cell and raises ``ValueError`` for a value that
    cannot be read.

    Examples
    --------
    >>> [parse_duration(t) for t in ("150", "150秒", "2分30秒", "00:02:30", "2:30", "1小时2分3秒", "2m30s", "PT2M30S")]
    [150.0, 150.0, 150.0, 150.0, 150.0, 3723.0, 150.0, 150.0]
    """
    t = unicodedata.normalize("NFKC", str(text)).strip()
    if t in MISSING_TOKENS:
        return float("nan")
    t = t.replace(" ", "")
    if _NUM.match(t):
        return float(t)
    m = _DUR_CLOCK.match(t)
    if m:
        h, mi, s = m.groups()
        return float(int(h or 0) * 3600 + int(mi) * 60 + float(s))
    for rx in (_DUR_UNITS, _DUR_ISO):
        m = rx.match(t)
        if m and any(m.groups()):
            h, mi, s = (float(g) if g else 0.0 for g in m.groups())
            return h * 3600 + mi * 60 + s
    raise ValueError("not a completion time")


_AGREE = {"1", "yes", "y", "是", "同意", "agree", "iagree", "true", "是的", "愿意"}
_DECLINE = {"0", "2", "no", "n", "否", "不同意", "disagree", "false", "不愿意", "拒绝"}


def consent_status(text: str, consent) -> str | None:
    """``None`` when a consent answer is affirmative, else the reason the record is excluded.

    Examples
    --------
    >>> from analysis.study.instrument import load_instrument
    >>> c = load_instrument().consent
    >>> [consent_status(t, c) for t in ("同意,开始答题", "1", "不同意,结束", "", "-3", "也许")]
    [None, None, 'consent declined', 'consent missing', 'consent missing', 'consent answer not recognised']
    """
    t = unicodedata.normalize("NFKC", str(text)).strip()
    if t in MISSING_TOKENS or t in SPECIAL_CODES or t in ("(跳过)",):
        return "consent missing"
    key = re.sub(r"[\s,，。.;；:：!！、]+", "", t).lower()
    agree = {re.sub(r"[\s,，。.;；:：!！、]+", "", unicodedata.normalize("NFKC", s)).lower()
             for s in (consent.agree_zh, consent.agree_en)}
    decline = {re.sub(r"[\s,，。.;；:：!！、]+", "", unicodedata.normalize("NFKC", s)).lower()
               for s in (consent.decline_zh, consent.decline_en)}
    if key in decline or key in _DECLINE or key.startswith(("不同意", "拒绝", "不愿意", "idonot", "idont")):
        return "consent declined"
    if key in agree or key in _AGREE or key.startswith(("同意", "iagree")):
        return None
    return "consent answer not recognised"


# ----------------------------------------------------------------------
# files and folders
# ----------------------------------------------------------------------
def _why(exc: OSError) -> str:
    import errno

    return {errno.ENOSPC: "no space left on the device", errno.EACCES: "permission denied",
            errno.EPERM: "permission denied", errno.EROFS: "read-only file system",
            errno.ENOTDIR: "a part of the path is a file, not a folder",
            errno.EISDIR: "it is a folder"}.get(exc.errno, exc.strerror or type(exc).__name__)


def _input_files(raw) -> list[Path]:
    items = [raw] if isinstance(raw, (str, os.PathLike)) else list(raw)
    if not items:
        raise InputError("no raw export given")
    files: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and not q.name.startswith(".")
                           and q.suffix.lower() in _EXPORT_SUFFIXES)
            if not found:
                raise InputError("the folder holds no export (.csv, .txt, .xlsx or .sav file)", file=p)
            files += found
        else:
            files.append(p)
    return files


def _clear(out_dir: Path, files: list[Path]) -> None:
    """Make ``out_dir`` a writable folder without earlier outputs (so a failed run leaves none)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("the output path is a file, not a folder; give a folder with --out", file=out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder ({_why(exc)})", file=out_dir) from None
    raw = {f.resolve() for f in files if f.exists()}
    for name in OUTPUTS + DOWNSTREAM:
        if (out_dir / name).resolve() in raw:
            raise InputError("the output folder holds the raw export itself; choose another folder with --out",
                             file=out_dir / name)
    for name in OUTPUTS + DOWNSTREAM:
        p = out_dir / name
        try:
            p.unlink(missing_ok=True)
        except OSError as exc:
            raise InputError(f"cannot remove the earlier output ({_why(exc)}); it would look current after "
                             f"a failed run", file=p) from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise InputError("cannot write to the output folder (permission denied)", file=out_dir)


def _detect_format(header: list[str], kind: str) -> str:
    if kind == "sav":
        return "sav"
    h = {x.split("\x1f")[0].strip() for x in header}
    if {"序号", "提交答卷时间", "来源IP", "所用时间"} & h:
        return "wjx"
    base = {re.split(r"[/.:]", x)[-1] for x in h}
    if {"_uuid", "_submission_time", "_index"} & base:
        return "kobo"
    return "csv"


def _is_synthetic(files: list[Path]) -> bool:
    from .simulate import truth_path_for

    return all(truth_path_for(f).exists() for f in files)


# ----------------------------------------------------------------------
# one header: which column holds what
# ----------------------------------------------------------------------
@dataclass
class _Segment:
    header: list
    roles: list
    header_row: int
    width: int
    score: int
    code_cols: dict
    meta: dict

    def j(self, key):
        return self.code_cols.get(key, self.meta.get(key))


def _segment(header, roles, header_row, path, inst, required, consent_enforced) -> _Segment:
    code_cols: dict[str, int] = {}
    meta: dict[str, int] = {}
    for j, role in enumerate(roles):
        if role.kind == "code":
            if role.target in code_cols:
                raise InputError(f"two columns map to {role.target} (columns {code_cols[role.target] + 1} and {j + 1})",
                                 file=path, row=header_row, column=mask_identifiers(str(header[j])))
            code_cols[role.target] = j
        elif role.kind == "meta":
            meta.setdefault(role.target, j)
    missing = [c for c in required if c not in code_cols]
    if missing:
        free = [h for h, r in zip(header, roles) if r.kind != "code"]
        near = closest_heading(missing[0], free, inst)
        hint = f"; the closest heading in the file is {mask_identifiers(near)!r}" if near else ""
        raise InputError(f"required column(s) missing: {', '.join(missing)}{hint}", file=path, row=header_row,
                         column=missing[0])
    if "consent" not in meta and not consent_enforced:
        raise InputError(
            f"no consent column: neither the code {inst.consent.code!r} nor the heading "
            f"{inst.consent.title_zh!r} (or a variant of it) was found, and records without recorded consent "
            f"are never analysed; if the platform let nobody answer without agreeing, say so with "
            f"--consent-enforced-at-entry", file=path, row=header_row)
    return _Segment(list(header), list(roles), header_row, len(header), sum(r.kind == "code" for r in roles),
                    code_cols, meta)


def _take(rec: list, j) -> str:
    return rec[j] if j is not None and j < len(rec) else ""


def _looks_like_header(rec: list, seg: _Segment, inst) -> bool:
    first = rec[0] if rec else ""
    if first != seg.header[0] and first.lower() not in META_HEADINGS and not first.startswith(("1、", "Q1", "q1")):
        return False
    return header_score(rec, inst) >= max(3, seg.score // 2)


# ----------------------------------------------------------------------
class _State:
    """Everything accumulated over the records of every file."""

    def __init__(self, order, cols):
        self.order = order
        self.cols = cols
        self.num = {c: array("d") for c in order if cols[c].kind != "text"}
        self.text = {c: [] for c in order if cols[c].kind == "text"}
        self.file = array("l")
        self.row = array("l")
        self.duration = array("d")
        self.start: list = []
        self.end: list = []
        self.submitted: list = []
        self.problems: dict[int, list] = {}
        self.display: dict[int, dict] = {}
        self.excluded: list = []
        self.collapsed: list = []
        self.seen: dict[bytes, tuple] = {}
        self.uuids: dict[str, tuple] = {}
        self.ids: dict[str, tuple] = {}
        self.special: dict[str, Counter] = {c: Counter() for c in order}
        self.redactions: Counter = Counter()
        self.bad: dict[str, list] = {c: [] for c in order}
        self.nonmissing: Counter = Counter()
        self.records = 0
        self.dur_memo: dict[str, float] = {}
        self.consent_memo: dict[str, str | None] = {}


def _display(col: _Column, text: str, value) -> str:
    if value is not None:
        return str(value)
    t = text.strip()
    if t in MISSING_TOKENS:
        return ""
    if t in SPECIAL_CODES or col.code_cell(text)[2]:
        return t                                    # a missing-by-design code, not a respondent's text
    return _shape(t)


def _duration_of(st: _State, text: str, path, row, heading) -> float:
    hit = st.dur_memo.get(text)
    if hit is None:
        try:
            hit = parse_duration(text)
        except ValueError:
            raise InputError(
                f"the completion time {_shown(text)!r} cannot be read; expected seconds "
                f"such as 150, 150秒, 2分30秒, 00:02:30 or 2:30 -- the speeding rule needs every completion time",
                file=path, row=row, column=mask_identifiers(str(heading).split(chr(31))[-1])) from None
        if len(st.dur_memo) < 100_000:
            st.dur_memo[text] = hit
    return hit


_MAX_DURATION = 7 * 24 * 3600.0


def _read_file(fi: int, path: Path, st: _State, inst, fmt_out: list, notes: list, mapping: dict,
               consent_cols: dict, required, consent_enforced: bool, files_info: list) -> None:
    table = read_raw(path)
    digest = sha256(path)
    it = table.records()
    first = list(islice(it, 12))
    h0, nh, header, roles = locate_header(first, inst)
    if h0 < 0:
        raise InputError("no column heading matches the instrument (expected a 问卷星, KoboToolbox, codebook or "
                         "SPSS export of this questionnaire)", file=path, row=first[0][0] if first else None)
    header_row = first[h0][0]
    if h0 > 0:
        notes.append(f"{path.name}: header found on row {header_row}; {h0} row(s) above it are not records")
    if nh == 2:
        notes.append(f"{path.name}: two header rows ({header_row}-{first[h0 + 1][0]}) combined as <title>—<row>")
    notes += [f"{path.name}: {n}" for n in table.notes]
    fmt = _detect_format(header, table.kind)
    seg = _segment(header, roles, header_row, path, inst, required, consent_enforced)
    _note_mapping(mapping, header, roles)
    if "consent" in seg.meta:
        consent_cols[mask_identifiers(path.name)] = mask_identifiers(str(header[seg.meta["consent"]]).split("\x1f")[-1])
    order = st.order
    cols = st.cols
    items = [it.code for it in inst.items]
    n_before = st.records
    repeated = 0
    sids: Counter = Counter()

    def body():
        yield from first[h0 + nh:]
        yield from it

    for row, rec in body():
        if _looks_like_header(rec, seg, inst):
            roles2 = map_columns(rec, inst)
            seg = _segment(rec, roles2, row, path, inst, required, consent_enforced)
            _note_mapping(mapping, rec, roles2)
            repeated += 1
            notes.append(f"{path.name}: row {row} repeats the header (another download pasted below?); "
                         f"it is not a record")
            continue
        st.records += 1
        problems: list[str] = []
        width = seg.width
        shifted = False
        if len(rec) > width and any(x.strip() for x in rec[width:]):
            problems.append(f"row has {len(rec)} cells but the header has {width} (a stray delimiter?)")
            shifted = True
        elif len(rec) < width:
            problems.append(f"row has {len(rec)} cells but the header has {width} (a stray quote or a lost "
                            f"delimiter?)")
            shifted = True
        if shifted:
            # the cells do not line up with the header: neither its consent nor its answers can be read;
            # it is quarantined with no value shown
            _commit(st, fi, row, [None] * len(order), problems, {c: "" for c in order}, float("nan"), "", "", "")
            continue
        # consent first: nothing of a record without consent is kept
        if "consent" in seg.meta:
            text = _take(rec, seg.meta["consent"])
            reason = st.consent_memo.get(text, False)
            if reason is False:
                reason = consent_status(text, inst.consent)
                if len(st.consent_memo) < 10_000:
                    st.consent_memo[text] = reason
            if reason:
                st.excluded.append((fi, row, reason))
                continue
        # code every answer
        vals = []
        special = []
        red = None
        bad = []
        for c in order:
            text = _take(rec, seg.code_cols.get(c))
            value, problem, spec, counts = cols[c].code_cell(text)
            vals.append(value)
            if spec:
                special.append((c, spec))
            if counts:
                red = (red or Counter())
                red.update(counts)
            if problem:
                problems.append(problem)
                bad.append(c)
            elif value is None and cols[c].required:
                problems.append(f"{c}: required value missing" + (f" ({spec})" if spec else ""))
        # completion time
        if "duration" in seg.meta and not shifted:
            dur = _duration_of(st, _take(rec, seg.meta["duration"]), path, row, seg.header[seg.meta["duration"]])
        else:
            dur = float("nan")
        start = _take(rec, seg.meta.get("start"))
        end = _take(rec, seg.meta.get("end"))
        sub_j = seg.meta.get("submitted", seg.meta.get("end"))
        submitted = _take(rec, sub_j)
        # the same submission twice (a download ingested twice): collapse
        if sub_j is not None and submitted:
            key = "\x1f".join([submitted, repr(dur), start, end] + ["" if v is None else str(v) for v in vals])
            digest_k = hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()
            prev = st.seen.get(digest_k)
            if prev is not None:
                st.collapsed.append((fi, row) + prev)
                continue
            st.seen[digest_k] = (fi, row)
        else:
            digest_k = None
        uuid = _take(rec, seg.meta.get("uuid")).strip()
        if uuid:
            prev = st.uuids.get(uuid)
            if prev is not None:
                problems.append(f"same submission id (_uuid) as {_file_name(files_info, path, prev[0])} "
                                f"row {prev[1]} but different answers")
            else:
                st.uuids[uuid] = (fi, row)
        sid = _take(rec, seg.meta.get("source_id")).strip()
        if sid:
            if fmt == "csv":
                prev = st.ids.get(sid)
                if prev is not None:
                    problems.append(f"duplicate respondent id (first on {_file_name(files_info, path, prev[0])} "
                                    f"row {prev[1]}) with different answers")
                else:
                    st.ids[sid] = (fi, row)
            else:
                sids[sid] += 1
        if dur == dur and dur < 0:
            problems.append("completion time is negative")
            dur = float("nan")
        elif dur == dur and dur > _MAX_DURATION:
            problems.append("completion time over 7 days (not a completion time)")
            dur = float("nan")
        if all(v is None for v in vals[:len(items)]) and not any(p.startswith(tuple(items)) for p in problems):
            problems.append("no item answered")
        display = ({c: _display(cols[c], _take(rec, seg.code_cols.get(c)), v) for c, v in zip(order, vals)}
                   if problems else None)
        idx = _commit(st, fi, row, vals, problems, display, dur, start, end, submitted)
        for c in bad:
            st.nonmissing[c] += 1
            st.bad[c].append(idx)
        for c, spec in special:
            st.special[c][spec] += 1
        if red:
            st.redactions.update(red)
    n = st.records - n_before
    if n == 0:
        raise InputError("the file has a header but no data rows", file=path, row=header_row)
    repeats = sum(1 for v in sids.values() if v > 1)
    if repeats:
        notes.append(f"{path.name}: {repeats} value(s) of the platform's row number repeat (two downloads in one "
                     f"file?); it identifies nothing, every distinct submission is kept")
    fmt_out.append(fmt)
    files_info.append({"file": mask_identifiers(path.name), "sha256": digest, "format": fmt, "encoding": table.encoding,
                       "delimiter": table.delimiter, "header_row": header_row, "header_rows": nh,
                       "records": n, "repeated_headers": repeated})
    if sha256(path) != digest:  # pragma: no cover - reading never writes
        raise InputError("the file changed while it was read", file=path)


def _commit(st: _State, fi, row, vals, problems, display, dur, start, end, submitted) -> int:
    """Store one record that reaches coding; returns its index."""
    idx = len(st.row)
    st.file.append(fi)
    st.row.append(row)
    for c, v in zip(st.order, vals):
        if c in st.num:
            st.num[c].append(np.nan if v is None else float(v))
        else:
            st.text[c].append(v)
        if v is not None:
            st.nonmissing[c] += 1
    st.duration.append(dur)
    st.start.append(start)
    st.end.append(end)
    st.submitted.append(submitted)
    if problems:
        st.problems[idx] = problems
        st.display[idx] = display
    return idx


def _file_name(files_info: list, path: Path, fi: int) -> str:
    return files_info[fi]["file"] if fi < len(files_info) else path.name


def _note_mapping(mapping: dict, header, roles) -> None:
    for j, (h, role) in enumerate(zip(header, roles)):
        name = mask_identifiers(str(h).replace("\x1f", " | "))
        key = name if name not in mapping else f"{name} [{j + 1}]"
        if role.kind == "code":
            value = role.target
        elif role.kind == "meta":
            value = f"meta: {role.target}"
        elif role.kind == "identifier":
            value = "dropped: identifier"
        else:
            value = "dropped: not in the instrument"
        if mapping.get(name) == value:
            continue
        mapping[key] = value


# ----------------------------------------------------------------------
def ingest(raw_path, out_dir=None, instrument=None, *, consent_enforced_at_entry: bool = False) -> IngestReport:
    """Ingest raw exports into de-identified processed responses.

    Parameters
    ----------
    raw_path : path-like or list of path-like
        A 问卷星 (CSV or XLSX), KoboToolbox (CSV), codebook CSV or SPSS
        ``.sav`` export; several of them; or a folder (every ``.csv``,
        ``.txt``, ``.xlsx``, ``.sav`` file in it, by name).  Several
        downloads of one survey are read as one sample.
    out_dir : path-like, optional
        Defaults to ``paths.DEFAULT.processed``.  Earlier outputs there (and
        the screening outputs built on them) are removed first.
    instrument : Instrument, optional
        Defaults to :func:`analysis.study.instrument.load_instrument`.
    consent_enforced_at_entry : bool
        The export has no consent column because the platform did not let
        anyone answer without agreeing; recorded in the report.  Without it,
        an export with no consent column is refused.

    Returns
    -------
    IngestReport

    Raises
    ------
    InputError
        For a fatal fault, naming the file, the row and the column.
    """
    files = _input_files(raw_path)
    out_dir = Path(out_dir) if out_dir is not None else paths.DEFAULT.processed
    _clear(out_dir, files)
    inst = _instrument(instrument)
    cols = _columns(inst)
    items = [it.code for it in inst.items]
    attn = inst.attention_check.code
    ctx = [cv.code for cv in inst.context]
    order = items + [attn] + ctx
    required = items + [attn] + [cv.code for cv in inst.context if cv.required]
    st = _State(order, cols)
    notes: list[str] = []
    mapping: dict = {}
    consent_cols: dict = {}
    fmts: list[str] = []
    files_info: list[dict] = []
    seen_paths = set()
    for fi, path in enumerate(files):
        if path.resolve() in seen_paths:
            notes.append(f"{path.name} was given twice")
        seen_paths.add(path.resolve())
        _read_file(fi, path, st, inst, fmts, notes, mapping, consent_cols, required, consent_enforced_at_entry,
                   files_info)
    names = [f["file"] for f in files_info]
    n = len(st.row)

    # a column that is mostly invalid is a coding mismatch: fatal
    for c in order:
        bad = st.bad[c]
        if len(bad) >= 2 and len(bad) > FATAL_SHARE * st.nonmissing[c]:
            i = bad[0]
            raise InputError(
                f"{len(bad)} of {st.nonmissing[c]} answers are out of range or unknown (first: "
                f"{st.display[i][c]!r}, shape of the value); the column does not use the instrument's coding",
                file=files[st.file[i]], row=st.row[i], column=c)

    # completion time from Kobo's start and end
    frame = pd.DataFrame({"resp_id": [pseudonym(i + 1) for i in range(n)]})
    for c in items + [attn]:
        frame[c] = np.frombuffer(st.num[c], dtype="float64") if n else np.array([], dtype="float64")
    for cv in inst.context:
        if cv.code in st.text:
            frame[cv.code] = pd.Series(st.text[cv.code], dtype="object")
        else:
            frame[cv.code] = np.frombuffer(st.num[cv.code], dtype="float64") if n else np.array([], dtype="float64")
    duration = np.frombuffer(st.duration, dtype="float64").copy() if n else np.array([], dtype="float64")
    has_dur = any(f == f for f in duration)
    if not has_dur and any(st.start) and any(st.end):
        duration = _kobo_durations(st, files)
        for i in np.flatnonzero(duration < 0):
            st.problems.setdefault(int(i), []).append("completion time is negative (end before start)")
            st.display.setdefault(int(i), {c: "" for c in order})
        duration = np.where(duration < 0, np.nan, duration)
        has_dur = True
    if not has_dur:
        notes.append("no completion-time column: duration_s is missing for every record, and the speeding rule "
                     "cannot be applied (the screening report says so)")
    frame["duration_s"] = duration
    if any(st.submitted):
        frame["submit_date"] = coarsen_to_day(st.submitted).astype("object").to_numpy()
        unread = int(sum(1 for s, d in zip(st.submitted, frame["submit_date"]) if s and d is None))
        if unread:
            notes.append(f"{unread} submission time(s) could not be read: submit_date is missing for them")
    else:
        frame["submit_date"] = pd.Series([None] * n, dtype="object")
        notes.append("no submission-time column: submit_date is missing for every record, and repeated "
                     "downloads cannot be recognised")
    frame["submit_date"] = frame["submit_date"].astype("object")

    bad_rows = np.array(sorted(st.problems), dtype=int)
    keep = np.ones(n, dtype=bool)
    keep[bad_rows] = False
    accepted = frame.loc[keep].reset_index(drop=True)
    quarantine = pd.DataFrame({
        "source_file": [names[st.file[i]] for i in bad_rows],
        "source_row": [st.row[i] for i in bad_rows],
        "resp_id": frame["resp_id"].to_numpy()[bad_rows] if n else [],
        "reasons": ["; ".join(st.problems[i]) for i in bad_rows],
    })
    for c in order:
        quarantine[c] = pd.Series([st.display[i].get(c, "") for i in bad_rows], dtype="object")
    quarantine["duration_s"] = duration[bad_rows] if n else []
    quarantine["submit_date"] = frame["submit_date"].to_numpy()[bad_rows] if n else []
    reasons = Counter()
    for i in bad_rows:
        for p in st.problems[i]:
            reasons[re.sub(r"\s*\(.*$", "", p).strip()] += 1
    excluded = pd.DataFrame(st.excluded, columns=["file", "source_row", "reason"])
    excluded.insert(0, "source_file", [names[f] for f in excluded.pop("file")])
    collapsed = pd.DataFrame(st.collapsed, columns=["file", "source_row", "same_file", "same_as_row"])
    collapsed.insert(0, "source_file", [names[f] for f in collapsed.pop("file")])
    collapsed.insert(2, "same_as_file", [names[f] for f in collapsed.pop("same_file")])

    counts = {"records": st.records, "consent_excluded": len(st.excluded), "duplicates_collapsed": len(st.collapsed),
              "quarantined": int(len(bad_rows)), "accepted": int(keep.sum())}
    if counts["records"] != counts["consent_excluded"] + counts["duplicates_collapsed"] + counts["quarantined"] \
            + counts["accepted"]:  # pragma: no cover - a bug, never a data fault
        raise InputError(f"records do not reconcile: {counts}", file=files[0])
    if st.collapsed:
        notes.append(f"{len(st.collapsed)} repeated cop(ies) of a submission (same submission time, completion "
                     f"time and answers) collapsed into the first; listed in collapsed.csv")
    consent = {
        "rule": "column" if consent_cols and len(consent_cols) == len(files_info) else (
            "enforced at entry (stated by the user: --consent-enforced-at-entry)" if consent_enforced_at_entry
            and not consent_cols else "column where present; enforced at entry (stated by the user) elsewhere"),
        "columns": consent_cols,
        "enforced_at_entry_stated": bool(consent_enforced_at_entry),
        "excluded": dict(sorted(Counter(r for _, _, r in st.excluded).items())),
    }
    special = {c: dict(sorted(v.items())) for c, v in st.special.items() if v}
    rep = IngestReport(files=files_info, counts=counts, consent=consent, reasons=dict(sorted(reasons.items())),
                       special_codes=special, redactions=dict(sorted(st.redactions.items())), mapping=mapping,
                       synthetic=_is_synthetic(files), notes=[mask_identifiers(x) for x in notes])
    targets = [(write_parquet, out_dir / "responses.parquet", accepted),
               (write_csv, out_dir / "responses.csv", _whole_numbers(accepted, items + [attn] + ctx)),
               (write_csv, out_dir / "quarantine.csv", quarantine),
               (write_csv, out_dir / "consent_excluded.csv", excluded), (write_csv, out_dir / "collapsed.csv", collapsed)]
    written = []
    try:
        for writer, target, data in targets:
            written.append(writer(target, data))
        rep.outputs = written + [out_dir / "ingest_report.json"]
        write_json(out_dir / "ingest_report.json", rep.to_dict())
    except OSError as exc:
        for p in written:
            Path(p).unlink(missing_ok=True)
        raise InputError(f"cannot write the output ({_why(exc)})", file=getattr(exc, "filename", None) or out_dir) from None
    return rep


def _whole_numbers(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """The answer columns as nullable integers for the CSV copy: the same text as ``%.10g`` of a whole
    number, written without formatting every cell in Python (a 200,000-record export)."""
    out = frame.copy()
    for c in columns:
        if c in out and pd.api.types.is_float_dtype(out[c]):
            v = out[c].to_numpy()
            ok = np.isnan(v) | (v == np.round(v))
            if ok.all():
                out[c] = out[c].astype("Int64")
    return out


def _kobo_durations(st: _State, files) -> np.ndarray:
    def parse(values, label):
        s = pd.Series(values, dtype="object")
        t = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
        bad = np.flatnonzero(t.isna().to_numpy() & s.map(lambda v: bool(str(v).strip())).to_numpy())
        if len(bad):
            i = int(bad[0])
            raise InputError(f"the {label} time {_shown(values[i])!r} cannot be read, so the "
                             f"completion time is unknown; the speeding rule needs it", file=files[st.file[i]],
                             row=st.row[i], column=label)
        return t

    start, end = parse(st.start, "start"), parse(st.end, "end")
    return (end - start).dt.total_seconds().to_numpy(dtype="float64")

# ----------------------------------------------------------------------
def _fix_sav_dta_timestamp(path: Path) -> None:
    """Overwrite the creation time SPSS/Stata writers embed (byte-identical reruns)."""
    data = bytearray(path.read_bytes())
    if path.suffix == ".sav" and data[:4] == b"$FL2":
        data[92:109] = b"01 Jan 24" + b"00:00:00"  # creation date (9) and time (8)
    elif path.suffix == ".dta":
        m = re.search(rb"<timestamp>(.)", bytes(data))
        if m:
            n = data[m.end(1) - 1]
            start = m.end(1)
            stamp = b"01 Jan 2024 00:00"[:n].ljust(n)
            data[start:start + n] = stamp
    path.write_bytes(bytes(data))


def export_labelled(processed_dir=None, instrument=None) -> list[Path]:
    """Write SPSS (``.sav``) and Stata (``.dta``) copies with variable and value labels.

    Parameters
    ----------
    processed_dir : path-like, optional
        Defaults to ``paths.DEFAULT.processed``; ``responses.parquet`` (and
        ``analysis.parquet`` when screening has run) are converted.
    instrument : Instrument, optional

    Returns
    -------
    list of Path
        ``responses.sav, responses.dta`` (and ``analysis.sav, analysis.dta``).

    Notes
    -----
    Variable labels are the Chinese item texts (Stata: truncated to 80
    characters); value labels are the scale and choice labels.  In
    ``analysis.*`` reverse-keyed items are already recoded.
    """
    import pyreadstat

    from ..io import atomic_path

    processed_dir = Path(processed_dir) if processed_dir is not None else paths.DEFAULT.processed
    inst = _instrument(instrument)
    scale = {float(lab.value): lab.zh for lab in inst.scale.labels}
    var_labels = {it.code: it.text_zh for it in inst.items}
    var_labels[inst.attention_check.code] = inst.attention_check.text_zh
    var_labels.update({cv.code: cv.label_zh for cv in inst.context})
    var_labels.update({"resp_id": "答卷编号(假名)", "duration_s": "作答用时(秒)", "submit_date": "提交日期"})
    value_labels = {c: scale for c in [it.code for it in inst.items] + [inst.attention_check.code]}
    value_labels.update({cv.code: {float(ch.value): ch.zh for ch in cv.choices}
                         for cv in inst.context if cv.kind == "categorical"})
    written = []
    for stem in ("responses", "analysis"):
        src = processed_dir / f"{stem}.parquet"
        if not src.exists():
            continue
        frame = pd.read_parquet(src)
        for c in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[c]):
                frame[c] = frame[c].astype("object").where(frame[c].notna(), "").astype(str)
        cols = list(frame.columns)
        labels = [var_labels.get(c, c) for c in cols]
        vl = {c: v for c, v in value_labels.items() if c in cols}
        for suffix in (".sav", ".dta"):
            target = processed_dir / f"{stem}{suffix}"
            with tempfile.TemporaryDirectory() as tdir:
                tmp = Path(tdir) / f"{stem}{suffix}"
                if suffix == ".sav":
                    pyreadstat.write_sav(frame, str(tmp), column_labels=labels, variable_value_labels=vl)
                else:
                    pyreadstat.write_dta(frame, str(tmp), column_labels=[lab[:80] for lab in labels],
                                         variable_value_labels={c: {int(k): v for k, v in d.items()} for c, d in vl.items()},
                                         version=15)
                _fix_sav_dta_timestamp(tmp)
                with atomic_path(target) as part:
                    part.write_bytes(tmp.read_bytes())
            written.append(target)
    return written
