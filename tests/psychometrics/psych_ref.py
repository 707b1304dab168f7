"""Paths and constants of the reference data sets recorded by tests/reference/psych_reference.R."""
from pathlib import Path

import pandas as pd

REF = Path(__file__).resolve().parents[1] / "reference" / "psych"
HS_ITEMS = [f"x{i}" for i in range(1, 10)]
HS_SCALES = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
HS_MODEL = """
visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
"""


def ref(name: str) -> pd.DataFrame:
    """A reference CSV written by psych_reference.R."""
    return pd.read_csv(REF / name)
