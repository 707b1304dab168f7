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

__all__ = ["load", "path_of", "SYNTHETIC_NOTE_ZH", "SYNTHETIC_NOTE_EN"]

#: The label every table, figure and chapter made from synthetic data carries.
SYNTHETIC_NOTE_EN = "Synthetic data: simulated from the declared population model, not fieldwork."
SYNTHETIC_NOTE_ZH = "模拟数据：由声明的总体模型生成，并非实地调查数据。"


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
