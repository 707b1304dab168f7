"""The screen step on a simulated export: flags match the truth file."""
from __future__ import annotations

import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.study.ingest import ingest
from analysis.study.instrument import load_instrument
from analysis.study.screen import RULES, load_truth, screen, screening_accuracy
from analysis.study.simulate import simulate_to_file

INST = load_instrument()
CONFIG = {"attention_check": True, "longstring_max": 20, "min_duration_seconds": 120,
          "mahalanobis_alpha": 0.001, "duplicates": True}


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    d = tmp_path_factory.mktemp("screen")
    export, truth = simulate_to_file(800, 30, 31, "wjx", d / "raw" / "wjx.csv", instrument=INST)
    ingest(export, d / "processed", instrument=INST)
    report = screen(d / "processed", CONFIG, instrument=INST)
    return d / "processed", report, truth


def test_flags_match_the_truth(processed):
    _, report, truth = processed
    acc = screening_accuracy(report.flags, truth).set_index("rule")
    for rule in ("longstring", "speed", "duplicate"):
        assert acc.loc[rule, "sensitivity"] == 1.0, acc
        assert acc.loc[rule, "specificity"] == 1.0, acc
    assert acc.loc["attention", "specificity"] == 1.0
    # random responders fail the check with probability 4/5; straight-liners unless they chose 4
    assert acc.loc["attention", "sensitivity"] > 0.6
    assert acc.loc["mahalanobis", "sensitivity"] >= 0.95
    assert acc.loc["mahalanobis", "specificity"] >= 0.97
    assert acc.loc["any", "sensitivity"] == 1.0
    assert acc.loc["any", "specificity"] >= 0.98
    assert list(acc.index) == [*RULES, "any"]


def test_kept_sample_is_the_valid_rows(processed):
    out, report, truth = processed
    rows = load_truth(truth).set_index("resp_id")
    kept = pd.read_parquet(out / "analysis.parquet")
    status = rows.loc[kept["resp_id"], "status"]
    assert (status == "valid").all()
    valid = (rows["status"] == "valid").sum()
    assert len(kept) >= 0.98 * valid
    assert len(kept) == report.n_kept == int((~report.flags["flagged"]).sum())


def test_analysis_file_recodes_reverse_items(processed):
    out, _, _ = processed
    answered = pd.read_parquet(out / "responses.parquet").set_index("resp_id")
    scored = pd.read_parquet(out / "analysis.parquet").set_index("resp_id")
    rev = INST.reverse_codes
    pd.testing.assert_frame_equal(scored[rev], 6 - answered.loc[scored.index, rev])
    other = [c for c in INST.item_codes() if c not in rev]
    pd.testing.assert_frame_equal(scored[other], answered.loc[scored.index, other])


def test_report_counts_are_sequential(processed):
    out, report, _ = processed
    table = pd.read_csv(out / "screening_report.csv")
    assert list(table["rule"]) == list(RULES)
    assert (table["n_before"].iloc[1:].to_numpy() == table["n_after"].iloc[:-1].to_numpy()).all()
    assert table["n_before"].iloc[0] == len(report.flags)
    assert table["n_after"].iloc[-1] == report.n_kept
    flags = pd.read_csv(out / "flags.csv")
    assert len(flags) == len(report.flags)
    assert {"resp_id", "longstring", "mahalanobis_p", "flag_speed", "keep"} <= set(flags.columns)


def test_rules_can_be_switched_off_and_rerun_is_identical(processed, tmp_path):
    out, report, _ = processed
    first = (out / "flags.csv").read_bytes()
    screen(out, CONFIG, instrument=INST)
    assert (out / "flags.csv").read_bytes() == first
    target = tmp_path / "p"
    target.mkdir()
    (target / "responses.parquet").write_bytes((out / "responses.parquet").read_bytes())
    off = screen(target, {**CONFIG, "min_duration_seconds": None, "duplicates": False}, instrument=INST)
    assert not off.flags["flag_speed"].any() and not off.flags["flag_duplicate"].any()
    assert off.n_kept >= report.n_kept
    strict = screen(target, {**CONFIG, "longstring_max": 5}, instrument=INST)
    assert strict.flags["flag_longstring"].sum() > report.flags["flag_longstring"].sum()


def test_bad_config_and_missing_input(tmp_path):
    with pytest.raises(ValueError, match="unknown screening setting"):
        screen(tmp_path, {"longstring": 3}, instrument=INST)
    with pytest.raises(InputError, match="run `resilience ingest`"):
        screen(tmp_path, CONFIG, instrument=INST)
