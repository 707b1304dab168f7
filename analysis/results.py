"""One reader for the study's results files, shared by the book and the report.

Every results file has a stable name relative to ``results/``, e.g.
``"measurement/fit"`` for ``results/measurement/fit.csv`` or
``"structural/headline"`` for ``results/structural/headline.json``.  Numbers
in prose are glued from what :func:`load` returns, never typed by hand.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import paths
from .io import read_json

__all__ = ["load", "path_of", "data_are_synthetic", "SYNTHETIC_NOTE_ZH", "SYNTHETIC_NOTE_EN"]

#: The label every table, figure and chapter made from synthetic data carries.
SYNTHETIC_NOTE_EN = "Synthetic data: simulated from the declared population model, not fieldwork."
SYNTHETIC_NOTE_ZH = "模拟数据：由声明的总体模型生成，并非实地调查数据。"


def data_are_synthetic(processed_dir, synthetic: bool | None = None, *, unknown: bool | str = True) -> bool:
    """Whether the processed data in ``processed_dir`` are synthetic: the one rule every step labels by.

    ``synthetic`` given wins.  Otherwise the ingest report beside the data
    (``ingest_report.json``) decides: its true/false ``synthetic`` flag, else
    a raw file named ``*synthetic*`` (the simulator's exports under
    ``data/raw/synthetic/``) counts as synthetic.  What cannot be decided
    that way (no report, or a report that says neither) is ``unknown``:
    True (label as synthetic: this edition has no fieldwork data), False, or
    ``"error"`` (an :class:`~analysis.errors.InputError` naming the report).

    Parameters
    ----------
    processed_dir : path or None
        The folder of the processed data (None: nothing to read, ``unknown``).
    synthetic : bool, optional
    unknown : bool or "error"
    """
    if synthetic is not None:
        return bool(synthetic)
    report = None if processed_dir is None else Path(processed_dir) / "ingest_report.json"
    if report is not None and report.exists():
        content = read_json(report)
        flag = content.get("synthetic")
        if isinstance(flag, bool):
            return flag
        if "synthetic" in str(content.get("raw_file", "")).lower():
            return True
    if unknown == "error":
        from .errors import InputError

        if report is None or not report.exists():
            raise InputError("no ingest report beside the analysis data, so it is unknown whether the "
                             "data are synthetic; run `resilience ingest` and `resilience screen` first",
                             file=report)
        raise InputError("the ingest report has no true/false 'synthetic' flag", file=report)
    return bool(unknown)


def path_of(name: str, results_dir=None) -> Path:
    """Return the file behind results name ``name`` (``.csv`` or ``.json``).

    Raises
    ------
    FileNotFoundError
        If neither ``<name>.csv`` nor ``<name>.json`` exists, with a hint to
        run ``resilience reproduce``.
    """
    base = Path(results_dir) if results_dir is not None else paths.DEFAULT.results
    for suffix in (".csv", ".json"):
        candidate = base / f"{name}{suffix}"
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"no results file {name!r} under {base} (looked for .csv and .json); "
        "run `resilience reproduce` first"
    )


def load(name: str, results_dir=None):
    """Load results ``name``: a DataFrame for ``.csv``, a dict for ``.json``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "demo.json").write_text('{"n": 3}')
    >>> load("demo", results_dir=d)["n"]
    3
    """
    path = path_of(name, results_dir)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    return read_json(path)
