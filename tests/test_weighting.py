"""Design weights from the sampling frame (analysis.study.weighting)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.study.population import load_population
from analysis.study.simulate import community_frame
from analysis.study.weighting import design_weights, read_frame, weight_summary


def _sample():
    # community A: 2 respondents, B: 1, C: 3 (n = 6); households 100, 300, 600
    data = pd.DataFrame({"community": ["A", "A", "B", "C", "C", "C"]})
    frame = pd.DataFrame({"community": ["A", "B", "C", "D"], "households": [100.0, 300.0, 600.0, 50.0]})
    return data, frame


def test_design_weight_is_population_share_over_sample_share():
    data, frame = _sample()
    w = design_weights(data, frame)
    # D is not sampled: the population is the sampled communities' 1,000 households
    expected = {"A": (100 / 1000) / (2 / 6), "B": (300 / 1000) / (1 / 6), "C": (600 / 1000) / (3 / 6)}
    np.testing.assert_allclose(w.to_numpy(), data["community"].map(expected).to_numpy(), rtol=1e-15)
    # weighted community shares reproduce the household shares, and the weights average 1
    shares = w.groupby(data["community"]).sum() / w.sum()
    np.testing.assert_allclose(shares.to_numpy(), [0.1, 0.3, 0.6], rtol=1e-15)
    assert w.mean() == pytest.approx(1.0)


def test_self_weighting_design_gives_unit_weights():
    data = pd.DataFrame({"community": list("AABBCC")})
    frame = pd.DataFrame({"community": list("ABC"), "households": [500, 500, 500]})
    np.testing.assert_allclose(design_weights(data, frame), 1.0)


def test_kish_design_effect_and_effective_n():
    w = pd.Series([1.0, 1.0, 2.0, 4.0])
    s = weight_summary(w)
    assert s["deff_kish"] == pytest.approx(1 + np.var(w) / np.mean(w) ** 2)
    assert s["n_effective"] == pytest.approx(8.0 ** 2 / 22.0)
    assert s["n_effective"] == pytest.approx(len(w) / s["deff_kish"])


def test_community_missing_from_frame_is_named():
    data, frame = _sample()
    with pytest.raises(InputError, match="not in the sampling frame.*'C'"):
        design_weights(data, frame[frame.community != "C"])


def test_bad_frames_name_file_row_and_column(tmp_path):
    p = tmp_path / "frame.csv"
    p.write_text("community,households\nA,100\nB,-5\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_frame(p)
    assert "frame.csv" in str(err.value) and "row 3" in str(err.value) and "households" in str(err.value)
    p.write_text("community,households\nA,100\nA,200\n", encoding="utf-8")
    with pytest.raises(InputError, match="appears twice"):
        read_frame(p)


def test_synthetic_frame_covers_the_sample_codes_and_is_seeded():
    pop = load_population()
    a, b = community_frame(pop, 60, 5), community_frame(pop, 60, 5)
    pd.testing.assert_frame_equal(a, b)
    assert a["community"].is_unique and len(a) == 60 and (a["households"] > 0).all()
    # lognormal with the declared meanlog: the median is near exp(meanlog)
    big = community_frame(pop, 99 * 5, 1)
    assert np.log(big["households"]).mean() == pytest.approx(pop.community_households["meanlog"], abs=0.1)
