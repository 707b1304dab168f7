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
