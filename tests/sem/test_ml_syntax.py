"""lavaan model syntax: parsing, defaults of the parameter table, errors."""
from __future__ import annotations

import numpy as np
import pytest

from analysis.sem import build_partable, parse_syntax


def rows(model):
    return [(f.lhs, f.op, f.rhs) for f in parse_syntax(model)]


def test_operators_lists_comments_and_continuation():
    model = """
    # a comment
    f =~ x1 + x2 +
         x3          ! lavaan also allows '!'
    f ~ z1; y ~~ z2
    y ~ 1
    d := a*b
    """
    assert rows(model) == [("f", "=~", "x1"), ("f", "=~", "x2"), ("f", "=~", "x3"),
                           ("f", "~", "z1"), ("y", "~~", "z2"), ("y", "~1", ""),
                           ("d", ":=", "a*b")]


def test_modifiers():
    fs = parse_syntax("f =~ NA*x1 + 1*x2 + a*x3 + c(b1, b2)*x4 + c(1, NA)*x5 + start(0.5)*x6")
    m = {f.rhs: f.modifier for f in fs}
    assert m["x1"].free == [True] and m["x1"].fixed == [None]
    assert m["x2"].fixed == [1.0]
    assert m["x3"].label == ["a"]
    assert m["x4"].label == ["b1", "b2"]
    assert m["x5"].fixed == [1.0, None] and m["x5"].free == [False, True]
    assert m["x6"].start == [0.5]


@pytest.mark.parametrize("bad, where", [
    ("f =~ x1 + x2\nf =~ + \n", "line 2"),
    ("f =~ x1 + x2\n\ny x1\n", "line 3"),
    ("f =~ x1 +* x2", "line 1"),
    ("f =~ x1\nf =~ 2x", "line 2"),
])
def test_syntax_errors_name_the_line(bad, where):
    with pytest.raises(ValueError, match=where):
        parse_syntax(bad)


def test_empty_model():
    with pytest.raises(ValueError, match="empty"):
        parse_syntax("  # nothing\n")


def test_cfa_defaults_match_lavaan():
    """cfa('f =~ x1 + x2 + x3; g =~ x4 + x5 + x6') has lavaan's 13 free parameters."""
    pt, vs = build_partable("f =~ x1 + x2 + x3; g =~ x4 + x5 + x6")
    assert vs.ov == ["x1", "x2", "x3", "x4", "x5", "x6"] and vs.lv == ["f", "g"]
    assert pt["free"].max() == 13
    first = pt[(pt["op"] == "=~") & pt["rhs"].isin(["x1", "x4"])]
    assert (first["free"] == 0).all() and (first["ustart"] == 1).all()
    assert ((pt["lhs"] == "f") & (pt["op"] == "~~") & (pt["rhs"] == "g")).sum() == 1
    pt2, _ = build_partable("f =~ x1 + x2 + x3; g =~ x4 + x5 + x6", std_lv=True)
    assert pt2["free"].max() == 13
    lvvar = pt2[(pt2["op"] == "~~") & (pt2["lhs"] == pt2["rhs"]) & pt2["lhs"].isin(["f", "g"])]
    assert (lvvar["free"] == 0).all() and (lvvar["ustart"] == 1).all()


def test_fixed_x_and_auto_cov_y():
    pt, vs = build_partable("y1 ~ x1 + x2\ny2 ~ x1")
    assert vs.ov_x == ["x1", "x2"]
    exo = pt[pt["exo"] == 1]
    assert set(zip(exo["lhs"], exo["rhs"])) == {("x1", "x1"), ("x2", "x2"), ("x1", "x2")}
    assert (exo["free"] == 0).all()
    # the two pure outcomes get a free residual covariance
    assert ((pt["lhs"] == "y1") & (pt["op"] == "~~") & (pt["rhs"] == "y2")).sum() == 1


def test_multigroup_labels_and_group_equal():
    pt, _ = build_partable("f =~ x1 + c(a, b)*x2 + x3", ngroups=2, group_equal=["loadings"])
    x2 = pt[(pt["op"] == "=~") & (pt["rhs"] == "x2")]
    assert list(x2["label"]) == ["a", "b"] and x2["free"].nunique() == 2
    x3 = pt[(pt["op"] == "=~") & (pt["rhs"] == "x3")]
    assert x3["free"].nunique() == 1 and list(x3["label"]) == [".p3.", ".p3."]
    with pytest.raises(ValueError, match="3 elements"):
        build_partable("f =~ x1 + c(a, b, c)*x2 + x3", ngroups=2)
    with pytest.raises(ValueError, match="group_equal"):
        build_partable("f =~ x1 + x2 + x3", ngroups=2, group_equal=["slopes"])


def test_equality_constraint_operator():
    pt, _ = build_partable("f =~ x1 + a*x2 + b*x3\na == b")
    free = pt.set_index("label").loc[["a", "b"], "free"].to_numpy()
    assert free[0] == free[1]
    assert np.isnan(pt["ustart"][pt["free"] > 0]).all()


def test_duplicate_parameter_is_an_error():
    with pytest.raises(ValueError, match="twice"):
        build_partable("f =~ x1 + x2 + x3\nx1 ~~ x2\nx2 ~~ x1")
