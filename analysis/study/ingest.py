"""Ingestion: a raw platform export in, de-identified processed responses out.

``ingest(raw, out_dir)`` reads a 问卷星, KoboToolbox or codebook CSV/XLSX
export, maps its columns and answers to the instrument's codes, validates the
coded table against a schema derived from the instrument (``frictionless``),
and writes

- ``responses.parquet`` and ``responses.csv``: one row per accepted
  submission -- ``resp_id`` (pseudonym), the item codes as answered (1-5,
  NaN when unanswered), ``ATTN``, the context columns, ``duration_s`` and
  ``submit_date`` (the day only);
- ``quarantine.csv``: every rejected row with ``source_row`` (its row in the
  file as a spreadsheet shows it), ``resp_id``, ``reasons`` and its coded
  values;
- ``ingest_report.json``: raw file name and sha256, format, encoding, header
  row, counts (in / accepted / quarantined), reasons, the column mapping.

The raw file is only read, never written.

Fatal faults (:class:`~analysis.errors.InputError`, nothing is written):
missing, empty, binary or non-table files; undecodable bytes; a single
column (wrong delimiter); no heading that maps to the instrument; a required
column missing; two columns mapping to one code; no data rows; a column in
which most answers are out of range or unknown (a coding mismatch, e.g. a
seven-point export).

Row faults (the row goes to quarantine with its reasons; the rest is kept):
an out-of-range or unknown answer, a missing required context value, a
community code not matching its pattern, a row with more cells than the
header, a repeated respondent id (``序号``, ``_index``, ``_uuid``,
``respondent_id``: later copies), declined consent, a submission without any
item answered.
"""
from __future__ import annotations

import re
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..errors import InputError
from ..io import sha256, write_csv, write_json, write_parquet
from .deidentify import coarsen_to_day, mask_identifiers, pseudonym, scrub_text
from .exports import MISSING_TOKENS, locate_header, read_raw

__all__ = ["IngestReport", "ingest", "instrument_schema", "export_labelled", "FATAL_SHARE"]

#: A column whose non-missing answers are invalid in more than this share is a
#: coding mismatch (fatal), not a few bad rows (quarantine).
FATAL_SHARE = 0.5


@dataclass
class IngestReport:
    """What :func:`ingest` did.

    Attributes
    ----------
    raw_file, raw_sha256 : str
        The raw export (file name) and the sha256 of its bytes.
    format : str
        ``wjx``, ``kobo`` or ``csv``.
    n_rows, n_accepted, n_quarantined : int
        Data rows read, accepted and quarantined.
    reasons : dict
        Quarantine reasons (kind -> count).
    mapping : dict
        Raw heading -> code, or ``dropped: identifier`` / ``dropped: not in
        the instrument``.
    outputs : list of Path
        Files written.
    """

    raw_file: str
    raw_sha256: str
    format: str
    encoding: str | None
    delimiter: str | None
    header_row: int
    header_rows: int
    n_rows: int
    n_accepted: int
    n_quarantined: int
    reasons: dict
    mapping: dict
    notes: list = field(default_factory=list)
    outputs: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "raw_file": self.raw_file, "raw_sha256": self.raw_sha256, "format": self.format,
            "encoding": self.encoding, "delimiter": self.delimiter, "header_row": self.header_row,
            "header_rows": self.header_rows,
            "counts": {"rows": self.n_rows, "accepted": self.n_accepted, "quarantined": self.n_quarantined},
            "quarantine_reasons": self.reasons, "mapping": self.mapping, "notes": self.notes,
            "outputs": [Path(p).name for p in self.outputs],
        }

    def __str__(self) -> str:
        lines = [f"ingested {self.raw_file} ({self.format}, {self.encoding or 'xlsx'}): "
                 f"{self.n_rows} rows, {self.n_accepted} accepted, {self.n_quarantined} quarantined"]
        lines += [f"  quarantine: {k}: {v}" for k, v in sorted(self.reasons.items())]
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


_NUM = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _value_lookup(inst, code: str) -> dict[str, int]:
    """Accepted spellings of each answer of variable ``code``."""
    table: dict[str, int] = {}
    ctx = {cv.code: cv for cv in inst.context}
    if code in ctx:
        labels = [(c.value, c.zh, c.en) for c in ctx[code].choices]
    else:
        labels = [(lab.value, lab.zh, lab.en) for lab in inst.scale.labels]
    for value, zh, en in labels:
        table[str(zh).strip()] = value
        table[str(en).strip().lower()] = value
    return table


def _code_cell(text: str, lookup: dict, kind: str):
    """Return (value, problem) for one raw cell; value None when missing."""
    t = text.strip()
    if t in MISSING_TOKENS:
        return None, None
    if kind == "text":
        return t, None
    if kind == "integer":
        t = re.sub(r"\s*(年|years?)$", "", t)
    if _NUM.match(t):
        x = float(t)
        return (int(x) if x.is_integer() else x), None
    key = t if t in lookup else t.lower()
    if key in lookup:
        return lookup[key], None
    return None, f"unknown answer {t[:20]!r}"


def _duration(text: str):
    t = str(text).strip()
    if t in MISSING_TOKENS:
        return np.nan
    if _NUM.match(t):
        return float(t)
    m = re.fullmatch(r"(?:(\d+)\s*小时)?\s*(?:(\d+)\s*分(?:钟)?)?\s*(?:(\d+)\s*秒)?", t)
    if m and any(m.groups()):
        h, mi, s = (int(g) if g else 0 for g in m.groups())
        return float(h * 3600 + mi * 60 + s)
    return np.nan


def _detect_format(header: list[str]) -> str:
    h = set(header)
    if {"序号", "提交答卷时间"} & h or "所用时间" in h:
        return "wjx"
    base = {x.split("/")[-1] for x in header}
    if {"_uuid", "_submission_time", "_index"} & base:
        return "kobo"
    return "csv"


def ingest(raw_path, out_dir=None, instrument=None) -> IngestReport:
    """Ingest a raw export into de-identified processed responses.

    Parameters
    ----------
    raw_path : path-like
        A 问卷星 (CSV or XLSX), KoboToolbox (CSV) or codebook CSV export.
    out_dir : path-like, optional
        Defaults to ``paths.DEFAULT.processed``.
    instrument : Instrument, optional
        Defaults to :func:`analysis.study.instrument.load_instrument`.

    Returns
    -------
    IngestReport

    Raises
    ------
    InputError
        For the fatal faults listed in the module docstring, naming the file,
        the row and the column.
    """
    raw_path = Path(raw_path)
    out_dir = Path(out_dir) if out_dir is not None else paths.DEFAULT.processed
    inst = _instrument(instrument)
    table = read_raw(raw_path)
    digest = sha256(raw_path)

    h0, nh, header, roles = locate_header(table, inst)
    if h0 < 0:
        raise InputError("no column heading matches the instrument (expected a 问卷星, KoboToolbox or codebook "
                         "export of this questionnaire)", file=raw_path, row=table.row_numbers[0])
    header_row = table.row_numbers[h0]
    notes = list(table.notes)
    if h0 > 0:
        notes.append(f"header found on row {header_row}; {h0} record(s) above it ignored")
    if nh == 2:
        notes.append(f"two header rows ({header_row}-{table.row_numbers[h0 + 1]}) combined as <title>—<row>")
    fmt = _detect_format(header)

    # --- columns ------------------------------------------------------------
    code_cols: dict[str, int] = {}
    meta_cols: dict[str, int] = {}
    mapping = {}
    for j, (h, role) in enumerate(zip(header, roles)):
        key = h if h not in mapping else f"{h} [{j + 1}]"
        if role.kind == "code":
            if role.target in code_cols:
                raise InputError(f"two columns map to {role.target} (columns {code_cols[role.target] + 1} and {j + 1})",
                                 file=raw_path, row=header_row, column=h)
            code_cols[role.target] = j
            mapping[key] = role.target
        elif role.kind == "meta":
            meta_cols.setdefault(role.target, j)
            mapping[key] = f"meta: {role.target}"
        elif role.kind == "identifier":
            mapping[key] = "dropped: identifier"
        else:
            mapping[key] = "dropped: not in the instrument"
    items = [it.code for it in inst.items]
    attn = inst.attention_check.code
    ctx = [cv.code for cv in inst.context]
    required = items + [attn] + [cv.code for cv in inst.context if cv.required]
    missing = [c for c in required if c not in code_cols]
    if missing:
        raise InputError(f"required column(s) missing: {', '.join(missing)}", file=raw_path, row=header_row,
                         column=missing[0])

    body = table.rows[h0 + nh:]
    body_rows = table.row_numbers[h0 + nh:]
    if not body:
        raise InputError("the file has a header but no data rows", file=raw_path, row=header_row)
    n = len(body)
    width = len(header)

    # --- code every cell -----------------------------------------------------
    kinds = {it: "likert" for it in items + [attn]}
    kinds.update({cv.code: ("text" if cv.kind == "text" else cv.kind) for cv in inst.context})
    order = items + [attn] + ctx
    raw_text = {c: [] for c in order}
    coded = {c: [] for c in order}
    problems: list[list[str]] = [[] for _ in range(n)]
    bad_cells: dict[str, list[int]] = {c: [] for c in order}
    lookups = {c: _value_lookup(inst, c) for c in order}
    for i, rec in enumerate(body):
        if len(rec) > width and any(x.strip() for x in rec[width:]):
            problems[i].append(f"row has {len(rec)} cells but the header has {width}")
        for c in order:
            j = code_cols.get(c)
            text = rec[j] if j is not None and j < len(rec) else ""
            raw_text[c].append(text)
            value, problem = _code_cell(text, lookups[c], kinds[c])
            if kinds[c] == "text" and value is not None:
                clean = scrub_text(value)
                if clean is None:
                    problem, value = "identifier-shaped text removed", None
            if problem:
                problems[i].append(f"{c}: {problem}")
                bad_cells[c].append(i)
            coded[c].append(value)

    # --- validate against the instrument's schema (frictionless) ------------
    import frictionless as fl

    schema = instrument_schema(inst)
    rows = [order] + [[coded[c][i] for c in order] for i in range(n)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = fl.Resource(data=rows, schema=schema).validate(limit_errors=10 ** 7)
    for err in report.tasks[0].errors if report.tasks else []:
        rn = getattr(err, "row_number", None)
        fname = getattr(err, "field_name", None)
        if rn is None:
            continue
        i = rn - 2
        if fname is not None:
            value = coded[fname][i]
            if err.type == "constraint-error" and "required" in err.note:
                problems[i].append(f"{fname}: required value missing")
            else:
                what = "out of range" if kinds.get(fname) in ("likert", "categorical", "integer") else "invalid"
                problems[i].append(f"{fname}: {what} ({str(value)[:20]!r})")
                bad_cells[fname].append(i)
            coded[fname][i] = None
        else:
            problems[i].append(f"row: {err.type}")

    # --- a column that is mostly invalid is a coding mismatch: fatal --------
    for c in order:
        nonmissing = sum(1 for t in raw_text[c] if t.strip() not in MISSING_TOKENS)
        bad = sorted(set(bad_cells[c]))
        if nonmissing and len(bad) > FATAL_SHARE * nonmissing and len(bad) >= 2:
            first = bad[0]
            raise InputError(
                f"{len(bad)} of {nonmissing} answers are out of range or unknown "
                f"(first: {mask_identifiers(raw_text[c][first][:20])!r}); "
                f"the column does not use the instrument's coding", file=raw_path, row=body_rows[first],
                column=header[code_cols[c]])

    # --- row-level rules ------------------------------------------------------
    for key in ("source_id", "uuid"):
        if key in meta_cols:
            seen: dict[str, int] = {}
            j = meta_cols[key]
            for i, rec in enumerate(body):
                sid = rec[j].strip() if j < len(rec) else ""
                if not sid:
                    continue
                if sid in seen:
                    problems[i].append(f"duplicate respondent id {header[j]}={mask_identifiers(sid[:40])} "
                                       f"(first on row {body_rows[seen[sid]]})")
                else:
                    seen[sid] = i
    if "consent" in meta_cols:
        j = meta_cols["consent"]
        declined = {inst.consent.decline_zh.strip(), inst.consent.decline_en.strip().lower(), "no", "0", "2", "否", "不同意"}
        for i, rec in enumerate(body):
            v = rec[j].strip() if j < len(rec) else ""
            if v in declined or v.lower() in declined:
                problems[i].append("consent declined")
    for i in range(n):
        if all(coded[c][i] is None for c in items) and not any(p.startswith(tuple(items)) for p in problems[i]):
            problems[i].append("no item answered")

    # --- assemble -------------------------------------------------------------
    frame = pd.DataFrame({"resp_id": [pseudonym(i + 1) for i in range(n)]})
    for c in items + [attn]:
        frame[c] = pd.to_numeric(pd.Series(coded[c], dtype="object"), errors="coerce").astype("float64")
    for cv in inst.context:
        if cv.kind == "text":
            frame[cv.code] = pd.Series([None if v is None else str(v) for v in coded[cv.code]], dtype="object")
        else:
            frame[cv.code] = pd.to_numeric(pd.Series(coded[cv.code], dtype="object"), errors="coerce").astype("float64")
    if "duration" in meta_cols:
        j = meta_cols["duration"]
        frame["duration_s"] = [_duration(rec[j]) if j < len(rec) else np.nan for rec in body]
    elif "start" in meta_cols and "end" in meta_cols:
        st = pd.to_datetime(pd.Series([r[meta_cols["start"]] for r in body]), errors="coerce", utc=True, format="mixed")
        en = pd.to_datetime(pd.Series([r[meta_cols["end"]] for r in body]), errors="coerce", utc=True, format="mixed")
        frame["duration_s"] = (en - st).dt.total_seconds().astype("float64")
    else:
        frame["duration_s"] = np.nan
        notes.append("no completion-time column: duration_s is missing for every row")
    sub_col = meta_cols.get("submitted", meta_cols.get("end"))
    if sub_col is not None:
        frame["submit_date"] = coarsen_to_day([r[sub_col] if sub_col < len(r) else "" for r in body])
    else:
        frame["submit_date"] = None
        notes.append("no submission-time column: submit_date is missing for every row")
    frame["submit_date"] = frame["submit_date"].astype("object")

    bad = np.array([bool(p) for p in problems])
    accepted = frame.loc[~bad].reset_index(drop=True)
    quarantine = pd.DataFrame({"source_row": [body_rows[i] for i in np.flatnonzero(bad)],
                               "resp_id": frame.loc[bad, "resp_id"].tolist(),
                               "reasons": [mask_identifiers("; ".join(problems[i])) for i in np.flatnonzero(bad)]})
    for c in order:
        vals = [raw_text[c][i] for i in np.flatnonzero(bad)]
        quarantine[c] = pd.Series([scrub_text(v) if isinstance(v, str) else v for v in vals], dtype="object")
    quarantine["duration_s"] = frame.loc[bad, "duration_s"].to_numpy()
    quarantine["submit_date"] = frame.loc[bad, "submit_date"].to_numpy()
    reasons = Counter()
    for i in np.flatnonzero(bad):
        for p in problems[i]:
            reasons[re.sub(r"\s*\(.*$|'.*$|=.*$", "", p).strip()] += 1

    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = [write_parquet(out_dir / "responses.parquet", accepted),
               write_csv(out_dir / "responses.csv", accepted),
               write_csv(out_dir / "quarantine.csv", quarantine)]
    rep = IngestReport(
        raw_file=raw_path.name, raw_sha256=digest, format=fmt, encoding=table.encoding, delimiter=table.delimiter,
        header_row=header_row, header_rows=nh, n_rows=n, n_accepted=int((~bad).sum()),
        n_quarantined=int(bad.sum()), reasons=dict(sorted(reasons.items())), mapping=mapping, notes=notes,
        outputs=outputs + [out_dir / "ingest_report.json"],
    )
    if sha256(raw_path) != digest:  # pragma: no cover - reading never writes
        raise RuntimeError(f"{raw_path} changed while it was ingested")
    write_json(out_dir / "ingest_report.json", rep.to_dict())
    return rep


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
