"""One truth: the report, the README and ``results/`` state the same reported interval and estimator.

The reported bootstrap interval is set once, in ``study.yaml`` (``structural.bootstrap_interval``);
the structural step writes it into ``results/structural/headline.json`` together with the
estimator (``estimator``, ``missing``: two-stage ML) and the bounds of every effect (``ci_boot``,
also ``indirect.csv``'s ``ci_lower_boot``/``ci_upper_boot``). The stage report, built here in a
temporary folder, must name that interval and that estimator in words and print those bounds;
README.md must name the same interval type and estimator.
"""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from docx import Document

from analysis import paths
from analysis.study.glossary import INTERVALS, code_labels, estimator_name, interval_name
from analysis.study.report import COLUMN_LABELS, write_report
from analysis.study.settings import load_settings
from analysis.study.tables import format_cell


@pytest.fixture(scope="module")
def headline():
    path = paths.DEFAULT.results / "structural" / "headline.json"
    if not path.exists():
        pytest.skip("no structural results yet (run `resilience reproduce structural`)")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report(headline, tmp_path_factory):
    out = tmp_path_factory.mktemp("one_truth")
    doc = Document(write_report(out, results_dir=paths.DEFAULT.results))
    paragraphs = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    return doc, paragraphs + "\n" + cells


def _zero(x) -> str:
    return format_cell(float(x), ".3f", leading_zero=True)


def test_the_interval_is_set_in_one_place(headline):
    assert headline["bootstrap_interval"] == load_settings()["structural"]["bootstrap_interval"]
    indirect = pd.read_csv(paths.DEFAULT.results / "structural" / "indirect.csv").set_index("lhs")
    for effect, e in headline["effects"].items():
        lo, hi = e["ci_boot"]
        assert indirect.loc[effect, "ci_lower_boot"] == pytest.approx(lo, abs=1e-9), effect
        assert indirect.loc[effect, "ci_upper_boot"] == pytest.approx(hi, abs=1e-9), effect


def test_report_names_the_reported_interval_and_no_other(headline, report):
    _, text = report
    reported = headline["bootstrap_interval"]
    assert interval_name(reported) in text
    for other, (zh, _) in INTERVALS.items():
        if other != reported and zh not in interval_name(reported):
            assert zh not in text, f"the report names {zh!r} but the reported interval is {reported!r}"
    assert "偏差校正" not in text or reported in ("bc", "bca")


def test_report_names_the_estimator_as_the_main_analysis(headline, report):
    _, text = report
    name = estimator_name(headline["estimator"], headline["missing"])
    assert f"本研究的主分析为{name}" in text
    main = [s for s in re.split(r"[。\n]", text) if "主分析" in s]
    assert main and all(name in s or "不是主分析" in s for s in main), main


def test_report_bounds_equal_the_headline(headline, report):
    doc, _ = report
    labels = code_labels()
    L = COLUMN_LABELS
    (table,) = [t for t in doc.tables if t.rows[0].cells[0].text == L["effect"] and L["ci_lower"] in
                [c.text for c in t.rows[0].cells] and "N = " not in t.rows[0].cells[1].text]
    header = [c.text for c in table.rows[0].cells]
    rows = {r.cells[0].text: [c.text for c in r.cells] for r in table.rows[1:]}
    lo_col, hi_col = header.index(L["ci_lower"]), header.index(L["ci_upper"])
    assert len(rows) == len(headline["effects"])
    for effect, e in headline["effects"].items():
        row = rows[labels[effect]]
        assert row[lo_col] == _zero(e["ci_boot"][0]), effect
        assert row[hi_col] == _zero(e["ci_boot"][1]), effect
    # the prose quotes the same bounds for the total indirect effect
    lo, hi = headline["effects"]["total_indirect"]["ci_boot"]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"95% {interval_name(headline['bootstrap_interval'])} [{_zero(lo)}, {_zero(hi)}]" in text


def test_readme_names_the_same_interval_and_estimator(headline):
    readme = re.sub(r"\s+", " ", (paths.ROOT / "README.md").read_text(encoding="utf-8"))  # lines wrapped anywhere
    interval = interval_name(headline["bootstrap_interval"], "en")
    estimator = estimator_name(headline["estimator"], headline["missing"], "en")
    assert re.search(r"reported interval[^.]*" + re.escape(interval), readme), interval
    assert re.search(r"fitted by " + re.escape(estimator), readme), estimator
