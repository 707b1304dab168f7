"""Fixtures: the reference data sets recorded by tests/reference/psych_reference.R."""
import pandas as pd
import pytest

from psych_ref import ref


@pytest.fixture(scope="session")
def hs() -> pd.DataFrame:
    return ref("hs.csv")


@pytest.fixture(scope="session")
def bfi10() -> pd.DataFrame:
    return ref("bfi10.csv")
