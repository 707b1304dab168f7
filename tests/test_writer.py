"""The one writer of results (analysis/io.py): numbers at a stated precision, the same bytes on any machine.

Truths used: Python's decimal conversion of a double is correctly rounded
(half to even on the exact binary value) and platform-independent, so
``format(x, ".6g")`` is the analytic rounding of ``x`` to six significant
digits; ``json.dumps`` defines the JSON layout; and floating-point sums of
the same numbers in different orders differ in their last bits (the noise
that separates machines), which must not reach the written bytes.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.io import (MIN_DECIMALS, PRECISION, format_number, json_text, number_unit, round_number,
                         significant_digits, write_csv, write_json, write_parquet)


def _csv_bytes(tmp_path, frame, name="t.csv"):
    return write_csv(tmp_path / name, frame).read_bytes()


# ----------------------------------------------------------------------------------------------
# the canonical text
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("x, text", [
    (0.1 + 0.2, "0.3"),                    # 0.30000000000000004: its noise is not written
    (0.3, "0.3"),
    (-0.0, "0"),                           # no negative zero
    (-1e-300, "-1e-300"),                  # a small negative number keeps its sign
    (0.38852520280807223, "0.388525"),
    (4.259742564e-40, "4.25974e-40"),      # exponent: sign and at least two digits
    (0.0001, "0.0001"),
    (0.00001234567, "1.23457e-05"),
    (1125.0, "1125"),                      # a whole number has no ".0"
    (21396.51561, "21396.5156"),           # four decimals above 100 (MIN_DECIMALS)
    (141423.75481, "141423.7548"),
    (1.0000004, "1"),
    (12, "12"),                            # integers are exact
    (10**20, "100000000000000000000"),
    (np.float32(0.1), "0.1"),
    (float("inf"), "inf"), (float("-inf"), "-inf"), (float("nan"), "nan"),
])
def test_canonical_text(x, text):
    assert format_number(x) == text


def test_precision_constants_are_the_ones_documented():
    # README "Precision" and the docstrings state six significant digits and four decimals
    assert (PRECISION, MIN_DECIMALS) == (6, 4)
    assert significant_digits(0.5) == 6 and significant_digits(99.5) == 6
    assert significant_digits(100.0) == 7 and significant_digits(141423.7) == 10
    assert significant_digits(1e30) == 15


def test_rounding_is_within_half_a_unit_for_numbers_of_every_size():
    rng = np.random.default_rng(20260515)
    xs = rng.standard_normal(4000) * 10.0 ** rng.integers(-45, 12, 4000)
    for x in xs:
        r = round_number(x)
        assert abs(r - x) <= number_unit(x) / 2 + 2 * math.ulp(x), x
        # the text carries no more digits than the stated precision
        digits = format_number(x).lstrip("-").split("e")[0].replace(".", "").lstrip("0")
        assert len(digits) <= significant_digits(x), x
        # and rounding again changes nothing
        assert format_number(r) == format_number(x)


def test_number_unit_is_one_unit_in_the_last_written_digit():
    assert number_unit(0.388525) == 1e-6
    assert number_unit(4.25974e-40) == 1e-45
    assert number_unit(9.99999) == 1e-5 and number_unit(10.0) == 1e-4
    assert number_unit(141423.7548) == 1e-4
    assert number_unit(0.0) == 0.0


# ----------------------------------------------------------------------------------------------
# machine noise does not reach the bytes
# ----------------------------------------------------------------------------------------------
def test_sums_in_different_orders_write_the_same_bytes(tmp_path):
    """Means over the same numbers in three orders differ in their last bits, never in the file."""
    rng = np.random.default_rng(7)
    data = rng.gamma(2.0, 0.37, size=(300, 997))
    forward = np.array([sum(row.tolist()) / row.size for row in data])
    backward = np.array([sum(row[::-1].tolist()) / row.size for row in data])
    exact = np.array([math.fsum(row.tolist()) / row.size for row in data])
    assert (forward != exact).sum() > 50 and (backward != exact).sum() > 50  # the noise is there
    frames = [pd.DataFrame({"row": np.arange(300), "mean": m}) for m in (forward, backward, exact)]
    blobs = [_csv_bytes(tmp_path, f, f"{i}.csv") for i, f in enumerate(frames)]
    assert blobs[0] == blobs[1] == blobs[2]
    jsons = [write_json(tmp_path / f"{i}.json", {"mean": m}).read_bytes() for i, m in enumerate((forward, backward, exact))]
    assert jsons[0] == jsons[1] == jsons[2]


def test_perturbation_below_the_precision_keeps_the_bytes(tmp_path):
    rng = np.random.default_rng(11)
    x = rng.uniform(-3, 3, 2000)
    noisy = x * (1 + rng.uniform(-1e-12, 1e-12, x.size))
    assert (noisy != x).all()
    a = _csv_bytes(tmp_path, pd.DataFrame({"est": x}), "a.csv")
    b = _csv_bytes(tmp_path, pd.DataFrame({"est": noisy}), "b.csv")
    assert a == b
    pa = write_parquet(tmp_path / "a.parquet", pd.DataFrame({"est": x})).read_bytes()
    pb = write_parquet(tmp_path / "b.parquet", pd.DataFrame({"est": noisy})).read_bytes()
    assert pa == pb


def test_a_value_on_a_rounding_boundary_moves_one_unit_only():
    """What rounding cannot promise: noise across a boundary changes the last digit, by one unit."""
    below, above = 0.12345649999999, 0.12345650000001
    assert format_number(below) == "0.123456" and format_number(above) == "0.123457"
    assert abs(round_number(above) - round_number(below)) <= number_unit(above) * (1 + 1e-9)


# ----------------------------------------------------------------------------------------------
# CSV, JSON and Parquet agree
# ----------------------------------------------------------------------------------------------
def test_csv_conventions(tmp_path):
    frame = pd.DataFrame({
        "name": ["a", "b", None, "d"],
        "est": [0.1 + 0.2, -0.0, np.nan, np.inf],
        "n": [1125, 3, 4, 5],
        "mixed": ["x", 2.718281828459045, None, -np.inf],
        "flag": [True, False, True, False],
    })
    text = (tmp_path / "x.csv")
    write_csv(text, frame)
    assert text.read_text(encoding="utf-8") == (
        "name,est,n,mixed,flag\n"
        "a,0.3,1125,x,True\n"
        "b,0,3,2.71828,False\n"
        ",,4,,True\n"
        "d,inf,5,-inf,False\n"
    )
    back = pd.read_csv(text)
    assert np.isnan(back.loc[2, "est"]) and back.loc[3, "est"] == np.inf


def test_json_numbers_are_the_csv_numbers(tmp_path):
    values = [0.1 + 0.2, -0.0, 4.259742564e-40, 141423.75481, 1125.0, 0.38852520280807223]
    csv_cells = _csv_bytes(tmp_path, pd.DataFrame({"v": values})).decode().split("\n")[1:-1]
    doc = json.loads(write_json(tmp_path / "v.json", {"v": values}).read_text(encoding="utf-8"))
    assert [float(c) for c in csv_cells] == doc["v"] == [round_number(v) for v in values]
    # a float stays a float in JSON (".0" when it has no fraction); NaN and infinities are null
    assert json_text([1125.0, -0.0, 3, float("nan"), float("inf")]).split() == ["[", "1125.0,", "0.0,", "3,", "null,", "null", "]"]


def test_json_layout_is_json_dumps_layout():
    doc = {"b": [1, "二", {"z": None, "a": []}], "a": {}, "c": True, "中文": "城市基层党组织", "d": [[1, 2], {"k": "v"}]}
    assert json_text(doc) == json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True)


def test_numpy_values_and_unknown_types_in_json():
    assert json.loads(json_text({"a": np.float64(0.1) + np.float64(0.2), "b": np.int64(7), "c": np.bool_(True),
                                 "d": np.array([0.5, np.nan])})) == {"a": 0.3, "b": 7, "c": True, "d": [0.5, None]}
    with pytest.raises(TypeError, match="not JSON serializable"):
        json_text({"x": object()})


def test_parquet_stores_the_rounded_values(tmp_path):
    x = np.array([0.1 + 0.2, 0.38852520280807223, np.nan, 141423.75481, -0.0])
    frame = pd.DataFrame({"x": x, "k": [1, 2, 3, 4, 5], "s": list("abcde")})
    back = pd.read_parquet(write_parquet(tmp_path / "x.parquet", frame))
    np.testing.assert_array_equal(back["x"].to_numpy(), [round_number(v) if not np.isnan(v) else np.nan for v in x])
    assert back["k"].tolist() == [1, 2, 3, 4, 5] and back["s"].tolist() == list("abcde")
    assert frame["x"].iloc[0] == 0.1 + 0.2  # the caller's frame is not modified
