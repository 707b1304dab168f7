"""`resilience nca` and `resilience qca`: the command line over the data-first engines (issue 17)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main


@pytest.fixture()
def cases(tmp_path):
    # a triangle: y never exceeds x, so x is necessary for y (CR-FDH is y = x, effect size 1/2 analytically
    # for the full triangle; here a grid of the lower triangle)
    k = 6
    pts = [(i / k, j / k) for i in range(k + 1) for j in range(i + 1)]
    frame = pd.DataFrame(pts, columns=["X", "Y"])
    frame["Z"] = np.linspace(0, 1, len(frame))[::-1]
    path = tmp_path / "cases.csv"
    frame.to_csv(path, index=False)
    return path


def test_nca_command_writes_the_interface(cases, tmp_path, capsys):
    out = tmp_path / "nca.json"
    code = main(["nca", str(cases), "--outcome", "Y", "--conditions", "X", "--ceilings", "ce_fdh,cr_fdh",
                 "--permutations", "99", "--seed", "7", "--json", str(out)])
    assert code == 0
    res = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert [(r["condition"], r["ceiling"]) for r in res] == [("X", "ce_fdh"), ("X", "cr_fdh")]
    assert set(res[0]) == {"condition", "ceiling", "effect_size", "accuracy", "ceiling_zone", "scope", "p_value"}
    cr = res[1]
    assert cr["effect_size"] == pytest.approx(0.5) and cr["accuracy"] == pytest.approx(100.0)
    assert cr["scope"] == pytest.approx(1.0) and cr["ceiling_zone"] == pytest.approx(0.5)
    assert 0 < cr["p_value"] <= 1
    again = tmp_path / "again.json"
    main(["nca", str(cases), "--outcome", "Y", "--conditions", "X", "--permutations", "99", "--seed", "7",
          "--json", str(again)])
    assert again.read_bytes() == out.read_bytes()
    main(["nca", str(cases), "--outcome", "Y", "--conditions", "X", "--json", str(again)])
    assert all(r["p_value"] is None for r in json.loads(again.read_text())["results"])


def test_nca_bad_column_is_one_line(cases, tmp_path, capsys):
    code = main(["nca", str(cases), "--outcome", "Y", "--conditions", "X,W", "--json", str(tmp_path / "x.json")])
    err = capsys.readouterr().err
    assert code == 2 and "'W'" in err and len(err.strip().splitlines()) == 1


@pytest.fixture()
def planted(tmp_path):
    # a planted sufficient structure Y = A*~B + C*D over the 16 corners of four crisp-ish conditions, 3 cases each
    rng = np.random.default_rng(5)
    rows = []
    for code in range(16):
        a, b, c, d = (code >> 3) & 1, (code >> 2) & 1, (code >> 1) & 1, code & 1
        y = int((a and not b) or (c and d))
        for _ in range(3):
            jitter = rng.uniform(0.05, 0.3, 5)
            rows.append([abs(v - j) if v else j for v, j in zip((a, b, c, d, y), jitter)])
    frame = pd.DataFrame(rows, columns=["A", "B", "C", "D", "Y"])
    frame["raw"] = frame["A"] * 10  # a raw score to calibrate: 0.5..3 -> low, 7..9.5 -> high
    path = tmp_path / "planted.csv"
    frame.to_csv(path, index=False)
    return path


def test_qca_command_recovers_a_planted_structure(planted, tmp_path):
    out = tmp_path / "qca.json"
    code = main(["qca", str(planted), "--outcome", "Y", "--conditions", "A,B,C,D", "--directional",
                 "A=1,B=0,C=1,D=1", "--json", str(out)])
    assert code == 0
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["incl_cut"] == 0.8
    assert [r["condition"] for r in res["necessity"]][:4] == ["A", "~A", "B", "~B"]
    assert len(res["truth_table"]) == 16 and {r["out"] for r in res["truth_table"]} == {0, 1}
    for kind in ("complex", "parsimonious", "intermediate"):
        assert [s["expression"] for s in res["solutions"][kind]] == ["A*~B + C*D"], kind
        sol = res["solutions"][kind][0]
        assert set(sol["terms"][0]) == {"term", "inclS", "pri", "covS", "covU"}


def test_qca_command_calibrates_and_refuses_a_half_membership(planted, tmp_path, capsys):
    out = tmp_path / "qca.json"
    code = main(["qca", str(planted), "--outcome", "Y", "--conditions", "raw,B", "--calibrate", "raw=2,5,8",
                 "--json", str(out)])
    assert code == 0
    half = pd.read_csv(planted)
    half.loc[7, "raw"] = 4.5                                 # exactly the crossover: membership 0.5
    half.to_csv(tmp_path / "half.csv", index=False)
    code = main(["qca", str(tmp_path / "half.csv"), "--outcome", "Y", "--conditions", "raw,B", "--calibrate",
                 "raw=1,4.5,9", "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "0.5" in err and "7" in err and len(err.strip().splitlines()) == 1
    code = main(["qca", str(planted), "--outcome", "Y", "--conditions", "raw", "--calibrate", "raw=1,2",
                 "--json", str(out)])
    assert code == 2 and "three numbers" in capsys.readouterr().err
