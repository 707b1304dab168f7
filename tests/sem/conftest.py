"""Fixtures of the SEM-core tests (data sets of the lavaan references)."""
from __future__ import annotations

import pandas as pd
import pytest

from sem_ref import REF


@pytest.fixture(scope="session")
def hs() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "HolzingerSwineford1939.csv")


@pytest.fixture(scope="session")
def poldem() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "PoliticalDemocracy.csv")
