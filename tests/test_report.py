"""The DOCX stage report on a miniature results folder: content read back with python-docx, determinism.

The layout checks (sections, cover, fonts, headings, header rows, the PDF) are in
``test_report_document.py``; the reported interval and estimator in ``test_one_truth.py``.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from docx import Document

from analysis.results import SYNTHETIC_NOTE_ZH
from analysis.study.glossary import code_labels
from analysis.study.report import COLUMN_LABELS as ZH
from analysis.study.report import PROJECT_NUMBER, PROJECT_TITLE, SECTIONS, report_tables, write_report

from report_fixtures import make_results


def _tables(docx_path):
    """Each DOCX table as (caption, DataFrame of strings), caption = the paragraph before it."""
    doc = Document(docx_path)
    body = doc.element.body
    out, last_par = [], ""
    tables = iter(doc.tables)
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            last_par = "".join(t.text or "" for t in child.iter() if t.tag.endswith("}t"))
        elif tag == "tbl":
            t = next(tables)
            rows = [[c.text for c in r.cells] for r in t.rows]
            out.append((last_par, pd.DataFrame(rows[1:], columns=rows[0])))
    return out


def _num(text):
    text = text.strip()
    if text in ("—", ""):
        return np.nan
    if text.startswith("<"):  # "<0.001"
        return 0.0
    return float(text)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("report")
    results = make_results(tmp_path)
    path = write_report(tmp_path / "reports", results_dir=results)
    return tmp_path, results, path


@pytest.fixture(scope="module")
def labels():
    return code_labels()


def test_title_page_names_project_and_synthetic(report):
    _, _, path = report
    doc = Document(path)
    text = "\n".join(p.text for p in doc.paragraphs[:15])
    assert PROJECT_TITLE in text and PROJECT_NUMBER in text
    assert "模拟数据" in text and SYNTHETIC_NOTE_ZH in text
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == list(SECTIONS)


def test_table_numbers_equal_results_files(report, labels):
    _, results, path = report
    tables = _tables(path)
    fit = pd.read_csv(results / "measurement" / "fit.csv")
    (cap, shown), = [(c, t) for c, t in tables if "测量模型拟合" in c]
    assert "synthetic" not in shown.columns
    assert list(shown[ZH["model"]]) == [labels[m] for m in fit["model"]]
    for col in ("cfi", "tli", "rmsea", "srmr"):
        got = shown[ZH[col]].map(_num).to_numpy()
        np.testing.assert_allclose(got, fit[col].to_numpy(), atol=5e-4, err_msg=col)
    np.testing.assert_allclose(shown[ZH["chisq"]].map(_num), fit["chisq"], atol=5e-3)
    screening = pd.read_csv(results / "data" / "screening_report.csv")
    (cap, scr), = [(c, t) for c, t in tables if "筛查" in c]
    assert scr[ZH["flagged"]].astype(int).tolist() == screening["flagged"].tolist()
    assert list(scr[ZH["rule"]]) == [labels[r] for r in screening["rule"]]
    est = pd.read_csv(results / "structural" / "estimates.csv")
    (cap, paths_t), = [(c, t) for c, t in tables if "结构路径" in c]
    reg = est[est.op == "~"].reset_index(drop=True)
    assert list(paths_t[ZH["path"]]) == [f"{labels[r]} → {labels[l]}" for l, r in zip(reg["lhs"], reg["rhs"])]
    for col in ("est", "se", "ci_lower", "ci_upper", "std_all"):
        np.testing.assert_allclose(paths_t[ZH[col]].map(_num), reg[col], atol=5e-4, err_msg=col)
    (cap, ind_t), = [(c, t) for c, t in tables if "间接效应" in c]
    indirect = pd.read_csv(results / "structural" / "indirect.csv")
    assert list(ind_t[ZH["effect"]]) == [labels[e] for e in indirect["lhs"]]
    # the reported interval, not the other intervals of the file
    np.testing.assert_allclose(ind_t[ZH["ci_lower"]].map(_num), indirect["ci_lower_boot"], atol=5e-4)
    np.testing.assert_allclose(ind_t[ZH["ci_upper"]].map(_num), indirect["ci_upper_boot"], atol=5e-4)
    np.testing.assert_allclose(ind_t[ZH["se"]].map(_num), indirect["boot_se"], atol=5e-4)
    excludes = [("是" if lo > 0 or hi < 0 else "否") for lo, hi in zip(indirect.ci_lower_boot, indirect.ci_upper_boot)]
    assert list(ind_t[ZH["excludes_zero"]]) == excludes
    curve = pd.read_csv(results / "power" / "curve.csv")
    (cap, pow_t), = [(c, t) for c, t in tables if "功效" in c]
    for (n, effect), power in curve.set_index(["n", "effect"])["power"].items():
        row = pow_t[pow_t[ZH["effect"]] == labels[effect]]
        assert _num(row[f"N = {n}"].item()) == pytest.approx(power, abs=5e-3)


def test_every_results_table_carries_the_synthetic_note(report):
    _, _, path = report
    doc = Document(path)
    notes = [p.text for p in doc.paragraphs if p.text.startswith("注：")]
    results_tables = len(doc.tables) - 1  # the instrument table is not synthetic data
    assert len([n for n in notes if SYNTHETIC_NOTE_ZH in n]) == results_tables
    assert not any("Synthetic data" in p.text for p in doc.paragraphs)  # the report is Chinese only


def test_source_notes_name_the_file_and_the_command(report):
    """Under every table a Chinese source note instead of the English "Produced by" line."""
    _, _, path = report
    doc = Document(path)
    text = [p.text for p in doc.paragraphs]
    assert not any("Produced by" in t for t in text)
    sources = [t for t in text if t.startswith("资料来源：")]
    assert len(sources) == len(doc.tables)
    for s in sources:
        assert "重新生成：resilience reproduce " in s, s


def test_numbers_keep_their_leading_zero(report):
    _, _, path = report
    for caption, frame in _tables(path):
        for cell in frame.to_numpy().ravel():
            assert not cell.startswith((".", "-.", "< .")), (caption, cell)
    tables = report_tables(report[1])
    assert any(t.formats.get(ZH["pvalue"]) == "p" for t in tables.values())
    shown = [c for _, f in _tables(path) if ZH["pvalue"] in f.columns for c in f[ZH["pvalue"]]]
    assert shown and all(c == "<0.001" or c.startswith("0.") or c.startswith("1.") for c in shown)


def test_prose_numbers_equal_headline(report):
    _, results, path = report
    head = json.loads((results / "structural" / "headline.json").read_text())
    text = "\n".join(p.text for p in Document(path).paragraphs)
    assert f"{head['total_indirect']:.3f}" in text and f"{head['direct']:.3f}" in text
    meas = json.loads((results / "measurement" / "headline.json").read_text())
    assert f"CFI = {meas['second_order_cfi']:.3f}" in text and f"RMSEA = {meas['second_order_rmsea']:.3f}" in text
    assert f"AVE = {meas['min_ave']:.2f}" in text
    data = json.loads((results / "data" / "headline.json").read_text())
    assert f"分析样本为 {data['n_analysed']} 份问卷（来自 {data['n_communities']} 个社区）" in text
    assert f"原始导出共 {data['n_rows']} 条记录" in text
    assert f"未同意知情同意书而排除 {data['n_consent_excluded']} 条" in text
    power = json.loads((results / "power" / "headline.json").read_text())
    assert f"建议实地调查的有效样本量不少于 {power['n_recommended']} 份" in text


def test_report_is_deterministic(report):
    tmp, results, path = report
    again = write_report(tmp / "again", results_dir=results)
    assert path.read_bytes() == again.read_bytes()


def test_report_without_results_says_what_is_missing(tmp_path):
    path = write_report(tmp_path / "out", results_dir=tmp_path / "results")
    doc = Document(path)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "结果尚未生成" in text and PROJECT_NUMBER in text
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == list(SECTIONS)


def test_project_metadata_comes_from_the_settings(tmp_path, report):
    _, results, _ = report
    project = {"number": "000000000001", "名称": "某项目", "承担单位": "某单位", "负责人": "某人", "date": "2030年1月",
               "schedule": [{"阶段": "调查", "时间": "2030年2月", "工作内容": "发放问卷"}]}
    from analysis.study.report import project_info

    path = write_report(tmp_path, results_dir=results, project=project_info({"project": project}))
    text = "\n".join(p.text for p in Document(path).paragraphs)
    for line in ("项目编号：000000000001", "项目名称：某项目", "承担单位：某单位", "项目负责人：某人", "报告日期：2030年1月"):
        assert line in text
    assert "调查，时间：2030年2月：发放问卷" in text
    blank = write_report(tmp_path / "blank", results_dir=results, project=project_info({}))
    text = "\n".join(p.text for p in Document(blank).paragraphs)
    assert "项目负责人：（待填）" in text and f"项目编号：{PROJECT_NUMBER}" in text


def test_report_from_the_study_results(tmp_path):
    """The report written from the study's own results folder shows its numbers."""
    from analysis import paths

    results = paths.DEFAULT.results
    data_head = results / "data" / "headline.json"
    if not data_head.exists():
        pytest.skip("no study results yet (run `resilience reproduce sample`)")
    path = write_report(tmp_path, results_dir=results)
    text = "\n".join(p.text for p in Document(path).paragraphs)
    head = json.loads(data_head.read_text(encoding="utf-8"))
    assert f"分析样本为 {head['n_analysed']} 份问卷" in text
    fit_file = results / "measurement" / "fit.csv"
    if fit_file.exists():
        fit = pd.read_csv(fit_file)
        (cap, shown), = [(c, t) for c, t in _tables(path) if "测量模型拟合" in c]
        for col in ("cfi", "rmsea", "srmr"):
            np.testing.assert_allclose(shown[ZH[col]].map(_num), fit[col], atol=5e-4, err_msg=col)
