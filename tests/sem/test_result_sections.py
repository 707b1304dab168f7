"""One result type for every fit: the optional parts are sections.

Every kind of fit (ML, WLSMV on ordinal indicators, two-level ML) returns an
:class:`analysis.sem.results.SEMResult`; what a kind adds (thresholds,
levels, bootstrap) is a read-only section of it.  The values checked here
are lavaan 0.6.14's (``tests/reference/lavaan/*_fit.csv`` via ``sem_ref``),
so a section that supplied the wrong fit measures would fail.
"""
from __future__ import annotations

import dataclasses
import pickle

import pandas as pd
import pytest

from analysis.sem import sem
from analysis.sem.dwls import Thresholds
from analysis.sem.results import SEMResult
from analysis.sem.twolevel import Levels

from sem_ref import REF

HS = REF / "data" / "HolzingerSwineford1939.csv"
DEMO = REF / "data" / "Demo_twolevel.csv"
ORDINAL = REF / "data" / "HS_ordinal.csv"
CFA = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"


@pytest.fixture(scope="module")
def fits():
    demo = pd.read_csv(DEMO)
    return {
        "ml": sem(CFA, pd.read_csv(HS)),
        "wlsmv": sem(CFA, pd.read_csv(ORDINAL), estimator="WLSMV", ordered=["x1", "x2", "x3", "x4", "x5", "x6"]),
        "twolevel": sem("level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n fb =~ y1 + y2 + y3", demo,
                        cluster="cluster"),
    }


def test_every_fit_is_one_type_with_its_sections(fits):
    assert all(type(f) is SEMResult for f in fits.values())
    assert fits["ml"].thresholds is None and fits["ml"].levels is None
    assert isinstance(fits["wlsmv"].thresholds, Thresholds) and fits["wlsmv"].levels is None
    assert fits["wlsmv"].thresholds.ordered == ("x1", "x2", "x3", "x4", "x5", "x6")
    assert isinstance(fits["twolevel"].levels, Levels) and fits["twolevel"].thresholds is None
    assert fits["twolevel"].levels.cluster == "cluster"


def test_sections_are_read_only(fits):
    with pytest.raises(dataclasses.FrozenInstanceError):
        fits["twolevel"].levels.cluster = "other"
    with pytest.raises(AttributeError, match="immutable"):
        fits["wlsmv"].thresholds = None


@pytest.mark.parametrize("kind", ["wlsmv", "twolevel"])
def test_with_theta_and_pickle_keep_the_section(fits, kind):
    fit = fits[kind]
    again = fit.with_theta(fit.theta)
    copy = pickle.loads(pickle.dumps(fit))
    for other in (again, copy):
        assert type(other) is SEMResult
        assert other.thresholds == fit.thresholds and other.levels == fit.levels
        pd.testing.assert_series_equal(other.fit, fit.fit)   # recomputed by the section
        pd.testing.assert_frame_equal(other.estimates, fit.estimates)


def test_sections_supply_their_fit_measures(fits):
    # lavaan 0.6.14 (tests/reference/lavaan_twolevel.Rout): logl -12513.702, 200 clusters
    tl = fits["twolevel"]
    assert tl.fit["loglik"] == pytest.approx(-12513.702, abs=1e-3)
    assert tl.fit["nclusters"] == 200 and {"srmr_within", "srmr_between"} <= set(tl.fit.index)
    assert list(tl.estimates.columns[3:5]) == ["block", "level"]
    # a least-squares fit has no likelihood; the scaled-shifted test is its section's
    wl = fits["wlsmv"]
    assert pd.isna(wl.fit["loglik"]) and wl.fit["shift_parameter"] > 0
    assert (wl.estimates["op"] == "|").sum() > 0
    assert "loglik" in fits["ml"].fit.index and "nclusters" not in fits["ml"].fit.index


def test_summary_and_dict_follow_the_sections(fits):
    text = fits["twolevel"].summary()
    assert "Number of clusters [cluster]" in text and "Level 2 [cluster]:" in text
    assert "SRMR within" in text and "Notes:" in text
    assert fits["twolevel"].to_dict()["notes"] == fits["twolevel"].notes
    assert "notes" not in fits["ml"].to_dict()
    text = fits["wlsmv"].summary()
    assert "Scaled test (WLSMV)" in text and "Thresholds:" in text and "Loglikelihood" not in text


def test_two_level_refuses_what_it_cannot_do(fits):
    with pytest.raises(NotImplementedError, match="two-level"):
        fits["twolevel"].modindices()
    with pytest.raises(NotImplementedError, match="two-level"):
        fits["twolevel"].refit([], [], [])
