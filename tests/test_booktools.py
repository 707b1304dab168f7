"""The book's glue helpers: reading declared numbers from results files, placeholders when absent."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.results import SYNTHETIC_NOTE_ZH
from analysis.study import booktools as bt
from analysis.study.glossary import column_label
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
    missing = bt.missing_sources("06_structural", lay)  # the fixture writes neither of the chapter's headlines
    assert sorted(missing) == ["results/moderation/headline.json", "results/structural/headline.json"]
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
    np.testing.assert_allclose(t.frame[column_label("cfi")], frame["cfi"])
    assert t.frame.columns[1] == "CFI (cfi)"  # Chinese header with the results-file name, from the glossary
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


def test_producing_step_reads_the_dag():
    """The step that writes a file comes from analysis.pipeline's targets and index.json files."""
    from analysis.pipeline import STEPS, task_definitions

    tasks = task_definitions()
    for step in STEPS:
        for target in tasks[step]["targets"]:
            rel = Path(target).relative_to(paths.ROOT).as_posix()
            assert bt.producing_step(rel) == step, rel
            assert bt.recreate_command(rel) == f"resilience reproduce {step}"
    index = paths.DEFAULT.results / "power" / "index.json"
    if index.exists():  # a figure lives in results/figures/ but is listed by the step that drew it
        for rel in json.loads(index.read_text(encoding="utf-8"))["files"]:
            path = (index.parent / rel).resolve().relative_to(paths.ROOT)
            assert bt.producing_step(path.as_posix()) == "power", rel
    assert bt.producing_step("survey/instrument.yaml") == "instrument"  # an input: the first step that reads it
    with pytest.raises(KeyError, match="no pipeline step"):
        bt.producing_step("nowhere/file.csv")


def test_pipeline_table_is_the_dag():
    from analysis.pipeline import STEPS

    steps = bt.pipeline_table()
    assert list(steps["step"]) == list(STEPS)
    assert (steps["command"] == [f"resilience reproduce {s}" for s in STEPS]).all()
    row = steps.set_index("step").loc["structural"]
    assert "data/processed/analysis.parquet" in row["inputs"] and row["outputs"] == ["results/structural/"]
    assert row["modules"] > 0 and not any(i.startswith("analysis/") for i in row["inputs"])


def test_book_table_names_files_scrolls_and_anchors(layout):
    lay, _, frame = layout
    t = bt.results_table("measurement/fit", "表 5.2 测量模型拟合 · Fit", codes=["model"], layout=lay)
    html = t.to_html()
    assert 'id="table-5-2"' in html
    assert '<div class="table-scroll" style="overflow-x:auto' in html and html.count("<table") == 1
    assert "<code>results/measurement/fit.csv</code>" in html and "<code>resilience reproduce measurement</code>" in html
    assert html.index("apa-provenance") < html.index("<table")  # under the caption, above the table
    with pytest.raises(ValueError, match="name the file"):
        bt.book_table(frame, "表 1.1 x", files=[], layout=lay)


def test_glued_text_carries_its_source():
    from IPython.core.formatters import format_display_data

    data, _ = format_display_data(bt.Text("0.95", source="results/x/headline.json", field="cfi", listed=True))
    assert data["text/plain"] == "'0.95'"
    assert data[bt.SOURCE_MIME] == {"file": "results/x/headline.json", "field": "cfi", "listed": True}
    assert bt.SOURCE_MIME not in format_display_data(bt.Text("1"))[0]


def test_codes_glued_in_chinese():
    from analysis.study.glossary import interval_name

    assert bt.format_number("symmetric-t", "zh") == interval_name("symmetric-t")
    assert bt.format_number("community", "zh") == "社区"
    assert bt.format_number("two.stage", "zh").startswith("两阶段极大似然")


def test_manifest_counts(tmp_path):
    lay = paths.Layout(root=tmp_path)
    assert bt.manifest_counts(lay) == {}
    lay.manifest.parent.mkdir(parents=True)
    lay.manifest.write_text(json.dumps({"tables": {"a.csv": 1, "b.csv": 2}, "figures": {"f.png": 3},
                                        "numbers_files": {"h.json": 4}, "inputs": {}, "numbers": {"x": 1}}))
    assert bt.manifest_counts(lay) == {"tables": 2, "figures": 1, "numbers_files": 1, "inputs": 0}
