"""The results manifest and its verification.

``results/manifest.json`` lists every produced table (CSV, Parquet), figure (PNG) and
headline number (the ``headline.json`` of each step) with its sha256, the
hashes of the inputs, the seeds, and the package versions.  It carries no
timestamp, so two clean runs give byte-identical manifests.

:func:`verify` first checks the committed results against the manifest's
hashes, then recomputes the study in a temporary folder and compares every
table and number with the committed ones at the precision they are written
with (:data:`analysis.io.PRECISION` significant digits, at least
:data:`analysis.io.MIN_DECIMALS` decimals): two numbers agree when they differ
by at most one unit in the last written digit of the larger
(:func:`analysis.io.number_unit`), which is how far apart two values on either
side of a rounding boundary are written.  Equal bytes settle a file at once;
otherwise the numbers decide, and a file whose bytes differ while every number
agrees is reported as a note, not a difference.  Every
difference is listed with its file, row, column (or key), both values and the
precision it exceeds.
"""
from __future__ import annotations

import json
import math
import platform
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd

from . import paths
from .io import MIN_DECIMALS, PRECISION, number_unit, read_json, sha256, write_json

__all__ = ["PACKAGES", "build_manifest", "write_manifest", "verify", "VerifyReport", "compare_results"]

#: Packages whose versions the manifest records.
PACKAGES = (
    "numpy", "scipy", "pandas", "pyarrow", "statsmodels", "semopy", "pingouin", "matplotlib",
    "joblib", "doit", "jupyter-book", "python-docx", "pyxform", "frictionless", "pyreadstat",
)
_TABLE = {".csv", ".parquet"}
_NUMBERS = {".json"}
_FIGURE = {".png"}
_SKIP = {"manifest.json", "index.json"}


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _flatten(prefix: str, obj, out: dict) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _flatten(f"{prefix}[{i}]", v, out)
    else:
        out[prefix] = obj


def _results_files(results_dir: Path) -> list[Path]:
    files = [p for p in results_dir.rglob("*") if p.is_file() and p.name not in _SKIP
             and p.suffix in _TABLE | _NUMBERS | _FIGURE]
    return sorted(files, key=lambda p: p.relative_to(results_dir).as_posix())


def build_manifest(layout: paths.Layout = paths.DEFAULT, settings: dict | None = None) -> dict:
    """Describe the results under ``layout.results`` (see module docstring).

    Returns
    -------
    dict
        Keys ``tables``, ``figures``, ``numbers_files`` (path -> sha256),
        ``numbers`` (flattened headline numbers, ``"step.key" -> value``),
        ``inputs`` (path -> sha256), ``seeds``, ``packages``, ``synthetic``.
    """
    from .study.settings import load_settings

    settings = settings if settings is not None else load_settings(layout.config)
    res = layout.results
    tables, figures, number_files, numbers = {}, {}, {}, {}
    for p in _results_files(res):
        rel = p.relative_to(res).as_posix()
        if p.suffix in _TABLE:
            tables[rel] = sha256(p)
        elif p.suffix in _FIGURE:
            figures[rel] = sha256(p)
        else:
            number_files[rel] = sha256(p)
            if p.name == "headline.json":
                _flatten(p.parent.relative_to(res).as_posix(), read_json(p), numbers)
    inputs = {}
    for p in [layout.instrument, layout.population_model, layout.config, *sorted(layout.raw.rglob("*"))]:
        if Path(p).is_file() and Path(p).name != "README.md":
            try:
                rel = Path(p).relative_to(layout.root).as_posix()
            except ValueError:
                rel = Path(p).relative_to(paths.ROOT).as_posix()
            inputs[rel] = sha256(p)
    seeds = {
        "synthetic": settings["synthetic"]["seed"],
        "structural": settings["structural"]["seed"],
        "moderation": (settings.get("moderation") or {}).get("seed"),
        "power": settings["power"]["seed"],
    }
    return {
        "description": "Results of the community-resilience study; see README 'Reproducing'.",
        "synthetic": True,
        "tables": tables,
        "figures": figures,
        "numbers_files": number_files,
        "numbers": numbers,
        "inputs": inputs,
        "seeds": seeds,
        "packages": _versions(),
        "precision": {"significant_digits": PRECISION, "min_decimals": MIN_DECIMALS,
                      "rule": "numbers are written rounded to max(significant_digits, min_decimals) digits; "
                              "verify: |a - b| <= one unit in the last written digit of the larger"},
    }


def write_manifest(layout: paths.Layout = paths.DEFAULT) -> Path:
    """Write ``results/manifest.json`` for ``layout`` and return its path."""
    return write_json(layout.manifest, build_manifest(layout))


# --------------------------------------------------------------------------
@dataclass
class VerifyReport:
    """What :func:`verify` found: a list of differences, empty when all agree."""

    differences: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def lines(self) -> list[str]:
        out = [f"note: {n}" for n in self.notes]
        out += [f"DIFF {d}" for d in self.differences]
        out.append("verify: OK, results agree with the manifest" if self.ok
                   else f"verify: FAILED, {len(self.differences)} difference(s)")
        return out


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _close(a, b, exact: bool = False) -> bool:
    """Whether committed ``a`` and recomputed ``b`` agree at the written precision (or exactly)."""
    if not _number(a) or not _number(b):
        return a == b
    if a == b or (math.isnan(a) and math.isnan(b)):
        return True
    if exact or not (math.isfinite(a) and math.isfinite(b)):
        return False
    larger = max(abs(a), abs(b))
    # the slack (4 ulp of the larger) absorbs the binary error of two decimals' difference; a unit is >= 1e-15 of it
    return abs(a - b) <= number_unit(larger) + 4 * math.ulp(larger)


def _why(a, b) -> str:
    if not _number(a) or not _number(b) or not (math.isfinite(a) and math.isfinite(b)):
        return ""
    return f" (differ by {abs(a - b):.3g}, more than the written precision {number_unit(max(abs(a), abs(b))):g})"


def _cell(x, numeric: bool):
    """A CSV cell as compared: a missing cell of a text column is None, not NaN."""
    return None if (isinstance(x, float) and math.isnan(x) and not numeric) else x


def _read_table(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def _compare_table(name: str, committed: Path, fresh: Path, exact: bool = False) -> list[str]:
    a = _read_table(committed)
    b = _read_table(fresh)
    if list(a.columns) != list(b.columns):
        return [f"{name}: columns differ: committed {list(a.columns)} vs recomputed {list(b.columns)}"]
    if len(a) != len(b):
        return [f"{name}: {len(a)} rows committed vs {len(b)} recomputed"]
    diffs = []
    for col in a.columns:
        na, nb = pd.api.types.is_numeric_dtype(a[col]), pd.api.types.is_numeric_dtype(b[col])
        for i, (x, y) in enumerate(zip(a[col].tolist(), b[col].tolist())):
            x, y = _cell(x, na), _cell(y, nb)
            if not _close(x, y, exact):
                row = f"row {i + 2}" if committed.suffix == ".csv" else f"record {i + 1}"  # CSV: as a spreadsheet shows it
                diffs.append(f"{name}: {row}, column {col!r}: committed {x!r}, recomputed {y!r}"
                             + ("" if exact else _why(x, y)))
    return diffs


def _compare_json(name: str, committed: Path, fresh: Path, exact: bool = False) -> list[str]:
    fa, fb = {}, {}
    _flatten("", read_json(committed), fa)
    _flatten("", read_json(fresh), fb)
    diffs = []
    for key in sorted(set(fa) | set(fb)):
        if key not in fa or key not in fb:
            diffs.append(f"{name}: key {key!r} only in {'recomputed' if key in fb else 'committed'} results")
        elif not _close(fa[key], fb[key], exact):
            diffs.append(f"{name}: {key}: committed {fa[key]!r}, recomputed {fb[key]!r}"
                         + ("" if exact else _why(fa[key], fb[key])))
    return diffs


def compare_results(committed_dir: Path, fresh_dir: Path):
    """Compare two results folders file by file; return (differences, notes).

    Tables and numbers are compared value by value at the written precision
    (see the module docstring); a file whose bytes differ while all its
    numbers agree gives a note, not a difference (a value that fell on the
    other side of a rounding boundary).  Figures are compared by hash,
    reported as notes (pixels may differ across font builds).
    """
    diffs, notes = [], []
    a_files = {p.relative_to(committed_dir).as_posix() for p in _results_files(committed_dir)}
    b_files = {p.relative_to(fresh_dir).as_posix() for p in _results_files(fresh_dir)}
    for rel in sorted(a_files - b_files):
        diffs.append(f"{rel}: committed but not produced by the recomputation")
    for rel in sorted(b_files - a_files):
        diffs.append(f"{rel}: produced by the recomputation but not committed")
    for rel in sorted(a_files & b_files):
        a, b = committed_dir / rel, fresh_dir / rel
        if sha256(a) == sha256(b):
            continue
        if a.suffix in _TABLE | _NUMBERS:
            found = (_compare_table if a.suffix in _TABLE else _compare_json)(rel, a, b)
            diffs.extend(found)
            if not found:
                notes.append(f"{rel}: bytes differ from the recomputation, every number agrees at the written precision")
        else:
            notes.append(f"{rel}: figure bytes differ from the recomputation (not compared numerically)")
    return diffs, notes


def _diff_against_git(layout: paths.Layout, rel: str, digest: str) -> list[str]:
    """Cell-level differences between ``results/rel`` and its committed copy, if that copy is the
    one the manifest describes (so a hand edit is named down to the number without recomputing)."""
    import hashlib
    import subprocess

    path = layout.results / rel
    if path.suffix not in _TABLE | _NUMBERS:
        return []
    try:
        git_path = path.resolve().relative_to(paths.ROOT).as_posix()
        blob = subprocess.run(["git", "-C", str(paths.ROOT), "show", f"HEAD:{git_path}"],
                              capture_output=True, check=True).stdout
    except (ValueError, OSError, subprocess.CalledProcessError):
        return []
    if hashlib.sha256(blob).hexdigest() != digest:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        original = Path(tmp) / path.name
        original.write_bytes(blob)
        compare = _compare_table if path.suffix in _TABLE else _compare_json
        return [d.replace(": committed ", ": found ").replace("recomputed", "manifest's")
                for d in compare(rel, path, original, exact=True)]


def verify(layout: paths.Layout = paths.DEFAULT, recompute: bool = True, keep: bool = False,
           run=None) -> VerifyReport:
    """Check the committed results against the manifest and a fresh recomputation.

    Parameters
    ----------
    layout : analysis.paths.Layout
        The committed study.
    recompute : bool
        Also rerun the study (instrument to power) in a temporary folder and
        compare every number at the written precision (module docstring).
    keep : bool
        Keep the temporary folder (its path is printed as a note).
    run : callable, optional
        The pipeline runner, ``run(layout=, skip=, verbose=) -> status``
        (:func:`analysis.pipeline.run`; needed with ``recompute``).  Passed in
        by the caller so that this module, which the pipeline's manifest step
        imports, does not import the pipeline back.
    """
    report = VerifyReport()
    if not layout.manifest.exists():
        report.differences.append(f"{layout.manifest}: no manifest; run `resilience reproduce` first")
        return report
    manifest = json.loads(layout.manifest.read_text(encoding="utf-8"))
    for section in ("tables", "figures", "numbers_files"):
        for rel, digest in manifest.get(section, {}).items():
            p = layout.results / rel
            if not p.exists():
                report.differences.append(f"results/{rel}: listed in the manifest but missing")
            elif sha256(p) != digest:
                cells = _diff_against_git(layout, rel, digest)
                if cells:
                    report.differences.extend(f"results/{d} (edited after the run?)" for d in cells)
                else:
                    report.differences.append(f"results/{rel}: sha256 differs from the manifest (edited after the run?)")
    current = build_manifest(layout)
    for rel, digest in manifest.get("inputs", {}).items():
        if current["inputs"].get(rel) != digest:
            report.differences.append(f"{rel}: input differs from the one the results were produced from")
    if not recompute:
        return report

    if run is None:
        raise ValueError("verify(recompute=True) needs run=analysis.pipeline.run (the runner of the study)")
    tmp = Path(tempfile.mkdtemp(prefix="resilience-verify-"))
    try:
        fresh = paths.Layout(root=tmp)
        status = run(layout=fresh, skip=("report", "book", "privacy"), verbose=False)
        if status != 0:
            report.differences.append(f"the recomputation failed (doit exit status {status}); see the output above")
            return report
        diffs, notes = compare_results(layout.results, fresh.results)
        report.differences.extend(f"results/{d}" for d in diffs)
        report.notes.extend(notes)
        fresh_manifest = build_manifest(fresh)
        for key, value in manifest.get("numbers", {}).items():
            if key in fresh_manifest["numbers"] and not _close(value, fresh_manifest["numbers"][key]):
                report.differences.append(
                    f"results/manifest.json: number {key}: manifest {value!r}, recomputed {fresh_manifest['numbers'][key]!r}"
                    + _why(value, fresh_manifest["numbers"][key]))
    finally:
        if keep:
            report.notes.append(f"recomputation kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return report
