"""The book's glue helpers: reading declared numbers from results files, placeholders when absent."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.results import SYNTHETIC_NOTE_ZH
from analysis.study import booktools as bt
from analysis.study.tables import Table


@pytest.fixture()
def layout(tmp_path):
    lay = paths.Layout(root=tmp_path)
    rng = np.random.default_rng(5)
    (lay.results / "measurement").mkdir(parents=True)
    head = {"n": int(rng.integers(500, 900)), "fit": {"cfi": float(rng.uniform(0.9, 1))}}
    (lay.results / "measurement" / "headline.json").write_text(json.dumps(head))
    frame = pd.DataFrame({"model": ["a", "b", "c"], "cfi": rng.uniform(0.9, 1, 3), "synthetic": False})
    frame.to_csv(lay.results / "measurement" / "fit.csv", index=False)
    return lay, head, frame


def test_read_number_json_and_csv_selectors(layout):
    lay, head, frame = layout
    n = bt.Number("k", "x", "results:measurement/headline", "fit.cfi")
    assert bt.read_number(n, lay) == head["fit"]["cfi"]
    row = bt.Number("k", "x", "results:measurement/fit", "cfi@model=b")
    assert bt.read_number(row, lay) == pytest.approx(frame.loc[1, "cfi"])
    assert bt.read_number(bt.Number("k", "x", "results:measurement/fit", "@nrows"), lay) == 3
    assert bt.read_number(bt.Number("k", "x", "results:measurement/fit", "cfi@max"), lay) == pytest.approx(frame.cfi.max())
    with pytest.raises(KeyError, match="no field"):
        bt.read_number(bt.Number("k", "x", "results:measurement/headline", "fit.tli"), lay)
    with pytest.raises(FileNotFoundError):
        bt.read_number(bt.Number("k", "x", "results:structural/headline", "n"), lay)
    with pytest.raises(ValueError, match="unknown number source"):
        bt.source_path("elsewhere:x", lay)


def test_format_number():
    assert bt.format_number(1199.6, "d") == "1200"
    assert bt.format_number(0.12345, ".2f") == "0.12"
    assert bt.format_number(0.257, ".1%") == "25.7%"
    assert bt.format_number(0.0002, "p") == "< .001" and bt.format_number(float("nan"), ".3f") == "NA"


def test_missing_sources_name_the_files(layout):
    lay, _, _ = layout
    missing = bt.missing_sources("06_structural", lay)
    assert missing == ["results/structural/headline.json"]
    assert bt.missing_sources("05_measurement", lay) == []


def test_every_declared_number_has_a_known_chapter():
    chapters = {p.stem for p in (paths.DEFAULT.book / "chapters").glob("*.md")}
    keys = [n.key for n in bt.BOOK_NUMBERS]
    assert len(keys) == len(set(keys))
    for n in bt.BOOK_NUMBERS:
        assert n.chapter in chapters, n
        text = (paths.DEFAULT.book / "chapters" / f"{n.chapter}.md").read_text(encoding="utf-8")
        assert f"{{glue:text}}`{n.key}`" in text, f"{n.key} is declared but not shown in {n.chapter}"


def test_results_table_label_and_pending(layout):
    lay, _, frame = layout
    t = bt.results_table("measurement/fit", "cap", layout=lay)
    assert isinstance(t, Table) and "synthetic" not in t.frame.columns
    assert not t.synthetic  # the file's own synthetic column decides
    np.testing.assert_allclose(t.frame["cfi"], frame["cfi"])
    pending = bt.results_table("structural/fit", "cap", layout=lay)
    assert "results/structural/fit.csv" in pending.data and "Results not produced yet" in pending.data
    frame.assign(synthetic=True).to_csv(lay.results / "measurement" / "fit.csv", index=False)
    t2 = bt.results_table("measurement/fit", "cap", layout=lay)
    assert t2.synthetic and SYNTHETIC_NOTE_ZH in t2.to_html()


def test_glued_text_survives_myst_nb_formatting():
    from IPython.lib.pretty import pretty
    from myst_nb.core.variables import format_plain_text

    for shown in ("1.00", "0.950", "1200", "< .001", "25.7%", bt.PLACEHOLDER):
        assert format_plain_text(pretty(bt.Text(shown)), "s") == shown


def test_text_format_and_boolean_column_count(tmp_path):
    lay = paths.Layout(root=tmp_path)
    (lay.results / "robustness").mkdir(parents=True)
    rng = np.random.default_rng(11)
    flags = rng.random(40) < 0.3
    pd.DataFrame({"label": [f"p{i}" for i in range(40)], "significance_changed": flags}).to_csv(
        lay.results / "robustness" / "estimators.csv", index=False)
    n = bt.Number("k", "x", "results:robustness/estimators", "significance_changed@sum", "d")
    assert bt.format_number(bt.read_number(n, lay), "d") == str(int(flags.sum()))
    assert bt.format_number("ml_listwise", "s") == "ml_listwise"
    assert bt.format_number(None, "s") == "NA"


def test_robustness_chapter_without_results_shows_pending(tmp_path):
    lay = paths.Layout(root=tmp_path)
    missing = bt.missing_sources("07_robustness", lay)
    assert "results/robustness/headline.json" in missing and "results/robustness/estimators.csv" in missing
    for note in (bt.results_table("robustness/missing_strategies", "cap", layout=lay),
                 bt.wide_table("robustness/estimators", "cap", index="label", columns="specification",
                               values="std_all", layout=lay)):
        assert "Results not produced yet" in note.data


def _table_calls(chapter: str):
    """(function, results name, keyword constants) of every results_table/wide_table call in a chapter."""
    import ast
    import re

    text = (paths.DEFAULT.book / "chapters" / f"{chapter}.md").read_text(encoding="utf-8")
    for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, flags=re.S):
        code = "\n".join(line for line in cell.splitlines() if not line.startswith(":") and line != "---")
        code = re.sub(r"\A.*?^---\n", "", code, flags=re.S | re.M) if "mystnb:" in code else code
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("results_table", "wide_table")):
                kw = {k.arg: ast.literal_eval(k.value) for k in node.keywords
                      if k.arg in ("columns", "index", "values", "query")}
                yield node.func.attr, node.args[0].value, kw


@pytest.mark.parametrize("chapter", ["05_measurement", "06_structural", "07_robustness", "08_power"])
def test_chapter_tables_name_real_columns(chapter):
    """Every column a chapter's table asks for exists in the results file (when it has been produced)."""
    calls = list(_table_calls(chapter))
    assert calls, f"no results tables found in {chapter}"
    checked = 0
    for func, name, kw in calls:
        path = paths.DEFAULT.results / f"{name}.csv"
        if not path.exists():
            continue
        have = set(pd.read_csv(path, nrows=5).columns)
        if func == "wide_table":
            want = {kw["index"], kw["columns"], kw["values"]}
        else:
            want = set(kw.get("columns", []))
        assert want <= have, f"{chapter}: {name}.csv lacks {sorted(want - have)}"
        if "query" in kw:
            pd.read_csv(path).query(kw["query"])  # the filter runs on the real file
        checked += 1
    if not checked:
        pytest.skip(f"no results of {chapter} produced yet")
