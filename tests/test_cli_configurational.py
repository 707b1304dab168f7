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
