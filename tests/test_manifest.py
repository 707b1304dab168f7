"""The manifest and `resilience verify`: hand edits are caught and named."""
import json

import pandas as pd
import pytest

from analysis import paths
from analysis.io import write_csv, write_json
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
    assert diffs == ["measurement/fit.csv: row 2, column 'cfi': committed 0.96, recomputed 0.9512345"]


def test_difference_within_tolerance_passes_and_outside_fails(tmp_path):
    a, b = _results(tmp_path / "a"), _results(tmp_path / "b")
    write_json(a / "structural" / "headline.json", {"n": 1150, "ind": {"GRID": 0.0812 * (1 + 1e-8)}})
    assert compare_results(a, b, rtol=1e-6)[0] == []
    write_json(a / "structural" / "headline.json", {"n": 1150, "ind": {"GRID": 0.0813}})
    (d,) = compare_results(a, b, rtol=1e-6)[0]
    assert d == "structural/headline.json: ind.GRID: committed 0.0813, recomputed 0.0812"


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
