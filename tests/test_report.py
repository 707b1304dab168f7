"""The DOCX stage report: content read back with python-docx, PDF conversion, determinism."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from docx import Document

from analysis.results import SYNTHETIC_NOTE_ZH
from analysis.study.report import COLUMN_LABELS as ZH
from analysis.study.report import PROJECT_NUMBER, PROJECT_TITLE, write_report

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
    if text.startswith("<"):  # "< .001"
        return 0.0
    return float(text)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("report")
    results = make_results(tmp_path)
    path = write_report(tmp_path / "reports", results_dir=results)
    return tmp_path, results, path


def test_title_page_names_project_and_synthetic(report):
    _, _, path = report
    doc = Document(path)
    text = "\n".join(p.text for p in doc.paragraphs[:10])
    assert PROJECT_TITLE in text and PROJECT_NUMBER in text
    assert "模拟数据" in text and SYNTHETIC_NOTE_ZH in text
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    for h in ("研究进展", "调查工具", "样本", "测量质量", "主要发现", "下一步工作"):
        assert any(h in x for x in headings), h


def test_table_numbers_equal_results_files(report):
    _, results, path = report
    tables = _tables(path)
    fit = pd.read_csv(results / "measurement" / "fit.csv")
    (cap, shown), = [(c, t) for c, t in tables if "测量模型拟合" in c]
    assert "synthetic" not in shown.columns
    for col in ("cfi", "tli", "rmsea", "srmr"):
        got = shown[ZH[col]].map(_num).to_numpy()
        np.testing.assert_allclose(got, fit[col].to_numpy(), atol=5e-4, err_msg=col)
    np.testing.assert_allclose(shown[ZH["chisq"]].map(_num), fit["chisq"], atol=5e-3)
    est = pd.read_csv(results / "structural" / "estimates.csv")
    screening = pd.read_csv(results / "data" / "screening_report.csv")
    (cap, scr), = [(c, t) for c, t in tables if "筛查" in c]
    assert scr[ZH["flagged"]].astype(int).tolist() == screening["flagged"].tolist()
    (cap, paths_t), = [(c, t) for c, t in tables if "结构路径" in c]
    reg = est[est.op == "~"].reset_index(drop=True)
    assert list(paths_t[ZH["lhs"]]) == list(reg["lhs"]) and list(paths_t[ZH["rhs"]]) == list(reg["rhs"])
    np.testing.assert_allclose(paths_t[ZH["est"]].map(_num), reg["est"], atol=5e-4)
    np.testing.assert_allclose(paths_t[ZH["std_all"]].map(_num), reg["std_all"], atol=5e-4)
    (cap, ind_t), = [(c, t) for c, t in tables if "间接效应" in c]
    indirect = pd.read_csv(results / "structural" / "indirect.csv")
    assert list(ind_t[ZH["lhs"]]) == list(indirect["lhs"])
    np.testing.assert_allclose(ind_t[ZH["ci_lower_bc"]].map(_num), indirect["ci_lower_bc"], atol=5e-4)
    np.testing.assert_allclose(ind_t[ZH["ci_upper_bc"]].map(_num), indirect["ci_upper_bc"], atol=5e-4)
    curve = pd.read_csv(results / "power" / "curve.csv")
    (cap, pow_t), = [(c, t) for c, t in tables if "功效" in c]
    for (n, effect), power in curve.set_index(["n", "effect"])["power"].items():
        row = pow_t[pow_t[ZH["n"]].astype(int) == n]
        assert _num(row[effect].item()) == pytest.approx(power, abs=5e-4)


def test_every_results_table_carries_the_synthetic_note(report):
    _, _, path = report
    doc = Document(path)
    notes = [p.text for p in doc.paragraphs if p.text.startswith("注：")]
    results_tables = len(doc.tables) - 1  # the instrument table is not synthetic data
    assert len([n for n in notes if SYNTHETIC_NOTE_ZH in n]) == results_tables


def test_prose_numbers_equal_headline(report):
    _, results, path = report
    import json

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


def test_report_is_deterministic(report):
    tmp, results, path = report
    again = write_report(tmp / "again", results_dir=results)
    assert path.read_bytes() == again.read_bytes()


def test_report_without_results_says_what_is_missing(tmp_path):
    path = write_report(tmp_path / "out", results_dir=tmp_path / "results")
    text = "\n".join(p.text for p in Document(path).paragraphs)
    assert "结果尚未生成" in text and PROJECT_NUMBER in text


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed: "
                    "apt-get install -y libreoffice-writer-nogui")
def test_docx_converts_to_pdf(report, tmp_path_factory):
    _, _, path = report
    out = tmp_path_factory.mktemp("pdf")
    profile = tmp_path_factory.mktemp("lo_profile")
    proc = subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                           "--convert-to", "pdf", "--outdir", str(out), str(path)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "Error" not in proc.stderr
    pdf = out / (path.stem + ".pdf")
    assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000


def test_report_from_the_study_results(tmp_path):
    """The report written from the study's own results folder shows its numbers."""
    import json

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
