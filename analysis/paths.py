"""Every path the project uses, in one place.

No side effects at import: nothing is created or read here. Functions take
paths as arguments with these constants as defaults, so that ``resilience
verify`` can recompute the study under another root.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROOT", "SHARED", "SEED_DIR", "Layout", "DEFAULT"]

#: The repository root (the folder holding ``pyproject.toml``).
ROOT = Path(__file__).resolve().parent.parent
#: The read-only shared folder beside the clone (seed article, style guide).
SHARED = ROOT.parent / "shared"
#: Where the seed article lives; code that quotes it says so when it is absent.
SEED_DIR = SHARED / "seed"


@dataclass(frozen=True)
class Layout:
    """The folders of one run of the study.

    Inputs (``survey``, ``data_model``) are always read from the repository;
    everything generated lives under ``root`` so that a second layout in a
    temporary folder can recompute the study beside the committed one.
    """

    root: Path = ROOT

    # --- inputs written by people -------------------------------------
    @property
    def survey(self) -> Path:
        return ROOT / "survey"

    @property
    def instrument(self) -> Path:
        return ROOT / "survey" / "instrument.yaml"

    @property
    def population_model(self) -> Path:
        return ROOT / "data" / "population_model.yaml"

    @property
    def config(self) -> Path:
        return ROOT / "study.yaml"

    # --- generated ------------------------------------------------------
    @property
    def generated_instrument(self) -> Path:
        return self.root / "survey" / "generated"

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def figures(self) -> Path:
        return self.root / "results" / "figures"

    @property
    def manifest(self) -> Path:
        return self.root / "results" / "manifest.json"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def book(self) -> Path:
        return ROOT / "book"

    @property
    def book_html(self) -> Path:
        return ROOT / "book" / "_build" / "html"


#: The layout of the committed study.
DEFAULT = Layout()
