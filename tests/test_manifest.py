"""The manifest and `resilience verify`: hand edits are caught and named; numbers agree at the written precision."""
import json

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.io import MIN_DECIMALS, PRECISION, write_csv, write_json, write_parquet
from analysis.manifest import build_manifest, compare_results, verify


def _results(root):
    res = root / "results"
    write_csv(res / "measurement" / "fit.csv", pd.DataFrame({"model": ["cfa"], "cfi": [0.9512345], "df": [24]}))
    write_json(res / "structural" / "headline.json", {"n": 1150, "ind": {"GRID": 0.0812}})
    return res


def test_identical_results_have_no_differences(tmp_path):
    a, b = _results(tmp_path / "a"), _results(tmp_path / "b")
    diffs, notes = compare_results(a, b)
    assert diffs == [] and notes == []


def test_altered_table_cell_is_named_with_file_row_column(tmp_path):
    a, b = _results(tmp_path / "a"), _results(tmp_path / "b")
    write_csv(a / "measurement" / "fit.csv", pd.DataFrame({"model": ["cfa"], "cfi": [0.96], "df": [24]}))
    diffs, _ = compare_results(a, b)
    assert diffs == ["measurement/fit.csv: row 2, column 'cfi': committed 0.96, recomputed 0.951234 "
                     "(differ by 0.00877, more than the written precision 1e-06)"]


def _fit(root, cfi, aic=141423.7548):
    write_csv(root / "measurement" / "fit.csv", pd.DataFrame({"model": ["cfa", "clf"], "cfi": [0.93, cfi],
                                                              "aic": [aic, 141388.1808], "df": [24, 23]}))


def test_noise_below_the_precision_writes_the_same_file(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _fit(a, 0.9512345678)
    _fit(b, 0.9512345678 * (1 + 1e-11), aic=141423.7548 * (1 + 1e-13))
    assert (a / "measurement" / "fit.csv").read_bytes() == (b / "measurement" / "fit.csv").read_bytes()
    assert compare_results(a, b) == ([], [])


def test_a_value_across_a_rounding_boundary_agrees_with_a_note(tmp_path):
    """Noise across a rounding boundary moves the last written digit by one unit: verify accepts it."""
    a, b = tmp_path / "a", tmp_path / "b"
    _fit(a, 0.95123449999999)  # written 0.951234
    _fit(b, 0.95123450000001)  # written 0.951235
    assert (a / "measurement" / "fit.csv").read_bytes() != (b / "measurement" / "fit.csv").read_bytes()
    diffs, notes = compare_results(a, b)
    assert diffs == []
    assert notes == ["measurement/fit.csv: bytes differ from the recomputation, every number agrees at the written precision"]


def test_two_units_in_the_last_digit_fail_naming_file_row_and_column(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _fit(a, 0.951234)
    _fit(b, 0.951236)
    assert compare_results(a, b)[0] == [
        "measurement/fit.csv: row 3, column 'cfi': committed 0.951234, recomputed 0.951236 "
        "(differ by 2e-06, more than the written precision 1e-06)"]
    # large numbers are compared at four decimals, not six significant digits
    _fit(b, 0.951234, aic=141423.7549)
    assert compare_results(a, b)[0] == []
    _fit(b, 0.951234, aic=141423.7551)
    assert compare_results(a, b)[0] == [
        "measurement/fit.csv: row 2, column 'aic': committed 141423.7548, recomputed 141423.7551 "
        "(differ by 0.0003, more than the written precision 0.0001)"]


def test_json_number_within_precision_passes_and_outside_fails(tmp_path):
    a, b = _results(tmp_path / "a"), _results(tmp_path / "b")
    write_json(a / "structural" / "headline.json", {"n": 1150, "ind": {"GRID": 0.0812 * (1 + 1e-8)}})
    assert compare_results(a, b)[0] == []
    write_json(a / "structural" / "headline.json", {"n": 1150, "ind": {"GRID": 0.0813}})
    (d,) = compare_results(a, b)[0]
    assert d == ("structural/headline.json: ind.GRID: committed 0.0813, recomputed 0.0812 "
                 "(differ by 0.0001, more than the written precision 1e-07)")
    write_json(a / "structural" / "headline.json", {"n": 1151, "ind": {"GRID": 0.0812}})
    (d,) = compare_results(a, b)[0]
    assert d.startswith("structural/headline.json: n: committed 1151, recomputed 1150 (differ by 1,")


def test_parquet_tables_are_in_the_manifest_and_compared(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    rng = np.random.default_rng(3)
    draws = pd.DataFrame({"rep": np.arange(5), "est": rng.standard_normal(5)})
    write_parquet(a / "power" / "replications.parquet", draws)
    write_parquet(b / "power" / "replications.parquet", draws.assign(est=draws["est"] * (1 + 1e-12)))
    assert compare_results(a, b) == ([], [])
    changed = draws.copy()
    changed.loc[3, "est"] += 0.01
    write_parquet(b / "power" / "replications.parquet", changed)
    (d,) = compare_results(a, b)[0]
    assert d.startswith("power/replications.parquet: record 4, column 'est': committed ")
    layout = paths.Layout(root=tmp_path / "repo")
    write_parquet(layout.results / "power" / "replications.parquet", draws)
    assert set(build_manifest(layout)["tables"]) == {"power/replications.parquet"}


def test_manifest_states_the_precision(tmp_path):
    layout = paths.Layout(root=tmp_path)
    _results(tmp_path)
    precision = build_manifest(layout)["precision"]
    assert (precision["significant_digits"], precision["min_decimals"]) == (PRECISION, MIN_DECIMALS)


def test_manifest_is_deterministic_and_hash_check_names_edited_file(tmp_path):
    layout = paths.Layout(root=tmp_path)
    _results(tmp_path)
    m1 = json.dumps(build_manifest(layout), sort_keys=True)
    m2 = json.dumps(build_manifest(layout), sort_keys=True)
    assert m1 == m2
    write_json(layout.manifest, build_manifest(layout))
    assert verify(layout, recompute=False).ok
    write_csv(layout.results / "measurement" / "fit.csv", pd.DataFrame({"model": ["cfa"], "cfi": [0.5], "df": [24]}))
    report = verify(layout, recompute=False)
    assert not report.ok
    assert any("results/measurement/fit.csv" in d and "sha256" in d for d in report.differences)
    assert "FAILED" in report.lines()[-1]


def test_manifest_lists_numbers_flattened(tmp_path):
    layout = paths.Layout(root=tmp_path)
    _results(tmp_path)
    m = build_manifest(layout)
    assert m["numbers"]["structural.ind.GRID"] == pytest.approx(0.0812)
    assert set(m["tables"]) == {"measurement/fit.csv"}
