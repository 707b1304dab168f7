"""Path diagrams: drawn from an estimates table, every regression is an arrow with its label."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import FancyArrowPatch

from analysis.study.diagrams import conceptual_diagram, layered_layout, path_diagram, stars


def _estimates(seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for m in ("GRID", "RES", "ORG", "LIST"):
        rows.append(dict(lhs=m, op="~", rhs="PL", std_all=rng.uniform(0.3, 0.6), pvalue=rng.uniform(0, 0.002)))
        rows.append(dict(lhs="CR", op="~", rhs=m, std_all=rng.uniform(-0.1, 0.3), pvalue=rng.uniform(0, 0.3)))
    rows.append(dict(lhs="CR", op="~", rhs="PL", std_all=rng.uniform(0, 0.2), pvalue=rng.uniform(0, 0.1)))
    rows.append(dict(lhs="PL", op="=~", rhs="PL1", std_all=0.8, pvalue=0.0))  # not drawn
    return pd.DataFrame(rows)


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_stars_thresholds():
    assert [stars(p) for p in (0.0009, 0.001, 0.0099, 0.01, 0.049, 0.05, np.nan)] == \
        ["***", "**", "**", "*", "*", "", ""]


def test_layered_layout_columns_and_cycle():
    pos = layered_layout([("PL", "GRID"), ("GRID", "CR"), ("PL", "CR"), ("PL", "RES"), ("RES", "CR")])
    assert (pos["PL"][0], pos["GRID"][0], pos["RES"][0], pos["CR"][0]) == (0, 1, 1, 2)
    assert pos["GRID"][1] == -pos["RES"][1]  # a column is centred on 0
    with pytest.raises(ValueError, match="cycle"):
        layered_layout([("A", "B"), ("B", "A")])


def test_path_diagram_draws_every_regression_with_its_coefficient():
    est = _estimates()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing CJK glyph would warn
        fig = path_diagram(est, labels={"PL": "党组织引领\nPL", "CR": "社区韧性\nCR"})
        fig.canvas.draw()
    reg = est[est.op == "~"]
    arrows = [p for ax in fig.axes for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(reg)
    texts = _texts(fig)
    for _, r in reg.iterrows():
        label = f"{r.std_all:.2f}" + stars(r.pvalue)  # with the leading zero, as the book prints numbers
        assert label in texts, label
    dashed = sum(a.get_linestyle() != "solid" and a.get_linestyle() != "-" for a in arrows)
    assert dashed == int((reg.pvalue >= 0.05).sum())
    assert "党组织引领\nPL" in texts
    noted = path_diagram(est, note="模拟数据")
    assert "模拟数据" in [t.get_text() for t in noted.texts]


def test_path_diagram_rejects_tables_it_cannot_draw():
    with pytest.raises(ValueError, match="std_all"):
        path_diagram(pd.DataFrame({"lhs": ["CR"], "op": ["~"], "rhs": ["PL"]}))
    with pytest.raises(ValueError, match="no regressions"):
        path_diagram(_estimates().query("op == '=~'"))


def test_conceptual_diagram_uses_instrument_names():
    from analysis.study.instrument import load_instrument

    ins = load_instrument()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = conceptual_diagram(ins)
        fig.canvas.draw()
    texts = _texts(fig)
    names = {c.code: c.name_zh for c in ins.constructs} | {s.code: s.name_zh for s in ins.second_order}
    for code in ("PL", "GRID", "RES", "ORG", "LIST", "CR"):
        assert f"{names[code]}\n{code}" in texts
    arrows = [p for ax in fig.axes for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 9  # 4 a-paths, 4 b-paths, the direct path
    assert {"H1 (c)", "H2a", "H3d"} <= set(texts)


def test_bootstrap_t_figure_is_labelled_as_simulated_and_seeded():
    from analysis.study.diagrams import bootstrap_t_figure

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph (θ in the CJK font) would warn
        fig = bootstrap_t_figure(n_boot=199)
        fig.canvas.draw()
    assert len(fig.axes) == 3
    assert any("模拟示例" in t.get_text() and "199" in t.get_text() for t in fig.texts)
    c = [t.get_text() for t in fig.axes[1].texts][0]
    again = [t.get_text() for t in bootstrap_t_figure(n_boot=199).axes[1].texts][0]
    assert c == again and float(c.split("=")[1].split()[0]) > 1.96  # few clusters: a critical value above normal
