"""Atomic, deterministic writing of generated files: the one writer of results.

A step killed halfway must leave nothing half-written that a later run would
trust: every writer here writes to a temporary file in the target folder and
renames it into place (``os.replace`` is atomic on POSIX).  Output is
deterministic (sorted keys, no timestamps) so that two clean runs give
byte-identical files.

Every number is written at a stated precision (:data:`PRECISION` significant
digits, at least :data:`MIN_DECIMALS` decimal places), in one canonical text
(:func:`format_number`) shared by CSV, JSON and (as the rounded value)
Parquet, so that the bytes do not depend on the machine's last bits of
floating-point noise: a fresh clone's ``make reproduce`` on another machine
writes the same files, and ``resilience verify`` compares numbers at that
precision (:func:`number_unit`).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

_UMASK = os.umask(0)
os.umask(_UMASK)

__all__ = ["PRECISION", "MIN_DECIMALS", "format_number", "round_number", "number_unit", "significant_digits",
           "json_text", "canonical_frame", "atomic_path", "write_text", "write_json", "write_csv", "write_parquet",
           "sha256", "read_json"]

PRECISION = 6
"""Significant digits of every number written to a results or processed-data file.

Why six.  The report and the book print at most three decimals (two or three
significant digits; p-values as ``< .001``), so six digits leave three guard
digits beyond anything shown, and no statistic of the study is known to six
digits anyway (a standard error is 5-10% of its estimate; the Monte Carlo
error of a power is about 0.01).  Yet six digits sit far above the
floating-point noise that separates two machines: refitting the WLSMV model
with another BLAS kernel (OpenBLAS ``Haswell``, ``Sandybridge``, ``Prescott``
against ``SkylakeX``), two BLAS threads instead of one, or numpy without its
AVX-512 loops moved estimates by at most 2e-12 (relative), standard errors by
4e-11 and the smallest p-values (below 1e-30, where ``-log p`` grows like
``z**2 / 2``) by 1.2e-8.  Of the 1,183 estimates, standard errors and
p-values of that fit, none changed at six significant digits under any of
those changes, one at eight, up to 14 at ten (the committed files had ten: the
"tenth digit" differences of issue 15).  ``tests/test_determinism.py`` repeats
the experiment on a synthetic sample and checks that the written file is the
same under every set-up.

What it guarantees.  Rounding to a stated precision is not a promise of
identical bytes: a value whose noise straddles a rounding boundary still
flips in its last written digit (with the noise above, a chance of at most
1 in 25,000 for a standard error and 1 in 100 for the smallest p-values).  The
machine-dependent noise is therefore removed at its source first (one BLAS
thread, one BLAS kernel and one set of numpy SIMD loops on every x86-64
machine with AVX2: :mod:`analysis._determinism`), and
``resilience verify`` compares numbers at this precision -- one unit in the
last written digit (:func:`number_unit`) -- not bytes.
"""

MIN_DECIMALS = 4
"""Decimal places a number keeps however large it is (chi-squares, AIC, BIC).

Six significant digits would write an AIC of 141423.7548 as 141424 and a
chi-square of 21396.5156 as 21396.5, while the book prints them with one and
two decimals; a number of 100 or more therefore keeps four decimals (in the
experiment above, an ML fit's chi-square, log-likelihood and AIC moved by less
than 1e-10).  Numbers of 1e11 or more are capped at 15
significant digits (no such number exists in the study).
"""

#: Most significant digits written (a double carries 15-17).
_MAX_DIGITS = 15


def _exponent(x: float) -> int:
    """Decimal exponent of a finite nonzero ``x`` (``floor(log10(|x|))``, exact, from its decimal expansion)."""
    return int(format(abs(x), ".16e").partition("e")[2])


def significant_digits(x: float) -> int:
    """Significant digits :func:`format_number` writes for ``x``.

    ``max(PRECISION, e + 1 + MIN_DECIMALS)`` capped at 15, where ``e`` is the
    decimal exponent of ``x`` (``floor(log10(|x|))``).

    Examples
    --------
    >>> significant_digits(0.0123), significant_digits(21396.5156), significant_digits(1e-40)
    (6, 9, 6)
    """
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return PRECISION
    return min(max(PRECISION, _exponent(x) + 1 + MIN_DECIMALS), _MAX_DIGITS)


def format_number(x) -> str:
    """The canonical text of a number: rounded to the stated precision, machine-independent.

    Rounds ``x`` to :func:`significant_digits` digits (Python's correctly
    rounded decimal conversion, half to even on the exact binary value) and
    writes it in ``%g`` style: no trailing zeros, no ``.0``, an exponent
    (``e-05``, ``e+16``, at least two digits) below 1e-4, and ``0`` for
    ``-0.0``.  Integers are written exactly.  NaN and infinities give ``nan``,
    ``inf`` and ``-inf`` (CSV writes NaN as an empty cell, JSON both as
    ``null``).

    Examples
    --------
    >>> format_number(0.1 + 0.2), format_number(0.3), format_number(-0.0)
    ('0.3', '0.3', '0')
    >>> format_number(0.38852520280807223), format_number(4.259742564e-40), format_number(141423.75481)
    ('0.388525', '4.25974e-40', '141423.7548')
    >>> format_number(1125.0), format_number(12), format_number(float("-inf"))
    ('1125', '12', '-inf')
    """
    if isinstance(x, (bool, np.bool_)):
        raise TypeError("format_number takes a number, not a bool")
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    text = format(x, f".{significant_digits(x)}g")
    return "0" if text == "-0" else text


def round_number(x: float) -> float:
    """``x`` rounded to the stated precision: the value :func:`format_number` writes.

    Examples
    --------
    >>> round_number(0.30000000000000004) == 0.3, round_number(2.0000000000001)
    (True, 2.0)
    """
    return float(format_number(float(x)))


def number_unit(x: float) -> float:
    """One unit in the last digit :func:`format_number` writes for ``x`` (the precision of ``x``).

    ``resilience verify`` accepts a recomputed number when it differs from the
    committed one by at most this unit of the larger of the two in magnitude:
    two values on either side of a rounding boundary are written one unit
    apart.

    Examples
    --------
    >>> number_unit(0.388525), number_unit(4.25974e-40), number_unit(141423.7548)
    (1e-06, 1e-45, 0.0001)
    """
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return 0.0
    return float(f"1e{_exponent(x) - significant_digits(x) + 1}")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it into place on success.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "x.txt").read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)


def _jsonable(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (np.floating,)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, np.ndarray):
        return [_jsonable(x) for x in obj.tolist()]
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(x) for x in obj]
    if isinstance(obj, Path):
        return obj.as_posix()
    if isinstance(obj, pd.DataFrame):
        return [_jsonable(r) for r in obj.to_dict(orient="records")]
    return obj


def _json_number(x: float) -> str:
    """A float in JSON: :func:`format_number`'s text, with ``.0`` if it has no fraction (it reads back as a float)."""
    text = format_number(x)
    return text if any(c in text for c in ".e") else text + ".0"


def _emit(obj, level: int) -> str:
    pad = "  " * (level + 1)
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, int):
        return str(int(obj))
    if isinstance(obj, float):
        return _json_number(obj)
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_emit(obj[k], level + 1)}" for k in sorted(obj)]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    if isinstance(obj, list):
        if not obj:
            return "[]"
        return "[\n" + ",\n".join(pad + _emit(v, level + 1) for v in obj) + "\n" + "  " * level + "]"
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def json_text(obj) -> str:
    """``obj`` as the canonical JSON text :func:`write_json` writes.

    The layout of ``json.dumps(obj, indent=2, sort_keys=True,
    ensure_ascii=False)``; every float written by :func:`format_number` at the
    stated precision (with ``.0`` when it has no fraction, so that it reads
    back as a float); NaN and infinities as ``null``; numpy scalars and arrays,
    paths and DataFrames (as a list of records) converted.

    Examples
    --------
    >>> print(json_text({"b": [0.1 + 0.2, -0.0, float("nan")], "a": 1125.0, "n": 3}))
    {
      "a": 1125.0,
      "b": [
        0.3,
        0.0,
        null
      ],
      "n": 3
    }
    """
    return _emit(_jsonable(obj), 0)


def write_json(path, obj) -> Path:
    """Write ``obj`` as canonical, key-sorted JSON (:func:`json_text`); NaN/inf become ``null``."""
    return write_text(path, json_text(obj) + "\n")


def read_json(path):
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _is_float(v) -> bool:
    return isinstance(v, (float, np.floating))


def _canonical_cell(v):
    """An object-column cell as written: floats as :func:`format_number` text, missing as missing."""
    if _is_float(v):
        return None if math.isnan(v) else format_number(v)
    return v


def canonical_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose floats are the text :func:`write_csv` writes (missing stays missing).

    Float columns (numpy or pandas' nullable ``Float64``) become text at the
    stated precision; floats inside object columns likewise; every other
    column is left as it is.
    """
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_float_dtype(series.dtype):
            values = series.astype("float64").to_numpy()
            out[col] = pd.Series([None if math.isnan(v) else format_number(v) for v in values],
                                 index=series.index, dtype=object)
        elif series.dtype == object and any(_is_float(v) for v in series):
            out[col] = series.map(_canonical_cell).astype(object)
    return out


def write_csv(path, frame: pd.DataFrame) -> Path:
    """Write a DataFrame as UTF-8 CSV without the index, numbers at the stated precision.

    Every float is written as :func:`format_number` writes it; NaN as an
    empty cell, infinities as ``inf``/``-inf``.
    """
    with atomic_path(path) as tmp:
        canonical_frame(frame).to_csv(tmp, index=False, lineterminator="\n")
    return Path(path)


def write_parquet(path, frame: pd.DataFrame) -> Path:
    """Write a DataFrame as Parquet (no index) atomically, floats rounded to the stated precision.

    The stored doubles are :func:`round_number` of the values, the numbers the
    CSV and JSON writers would write.
    """
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, np.dtype) and out[col].dtype.kind == "f":
            out[col] = np.array([v if not math.isfinite(v) else round_number(v)
                                 for v in out[col].to_numpy()], dtype=out[col].dtype)
    with atomic_path(path) as tmp:
        out.to_parquet(tmp, index=False)
    return Path(path)


def sha256(path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
