"""The stage report (阶段报告) as a Chinese DOCX, from the same results as the book.

:func:`write_report` reads the results files (``analysis.results.load``
names shared with the book), the instrument and the processed-data reports,
and writes ``stage_report.docx``: a title page with the project's name and
number, then 研究进展, 调查工具, 样本, 测量质量, 主要发现 (tables and a path
diagram), 组态分析 (fsQCA/NCA on the communities and the recovery of a planted
configuration) and 下一步工作.  Tables are three-line tables
(:mod:`analysis.study.tables`).  When the data are synthetic the title page
says so plainly and every table note and figure caption carries
:data:`analysis.results.SYNTHETIC_NOTE_ZH`.

Whatever results do not exist yet are named in the report (``结果尚未生成``)
instead of failing, so the report can be written at every stage.

The file is byte-deterministic: the DOCX package is re-zipped with fixed
timestamps and fixed document properties.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd

from .. import paths
from ..io import atomic_path
from ..results import SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_ZH, load
from .tables import apa_table, format_cell

__all__ = ["PROJECT_TITLE", "PROJECT_NUMBER", "REPORT_NAME", "COLUMN_LABELS", "write_report", "report_tables"]

#: The project's name and number (河南省科技厅软科学研究计划项目, 2024).
PROJECT_TITLE = "河南城市基层党组织引领社区韧性治理问题研究"
PROJECT_NUMBER = "242400410534"
#: File name of the report inside ``out_dir``.
REPORT_NAME = "stage_report.docx"

_FONT = "Noto Sans CJK SC"

#: Chinese column headers of the report's tables (results columns -> header).
COLUMN_LABELS = {
    "model": "模型", "chisq": "χ²", "df": "df", "cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA",
    "rmsea_ci_lower": "RMSEA 下限", "rmsea_ci_upper": "RMSEA 上限", "srmr": "SRMR", "aic": "AIC", "bic": "BIC",
    "scale": "构念", "name_zh": "名称", "n_items": "题项数", "alpha": "α", "omega": "ω", "cr": "CR", "ave": "AVE",
    "lhs": "因变量/效应", "op": "关系", "rhs": "自变量", "est": "估计值", "se": "标准误", "pvalue": "p",
    "ci_lower": "95% CI 下限", "ci_upper": "95% CI 上限", "std_all": "标准化估计",
    "ci_lower_bc": "BC 95% CI 下限", "ci_upper_bc": "BC 95% CI 上限",
    "rule": "规则", "flagged": "标记数", "n_before": "筛查前", "n_after": "筛查后", "active": "启用",
    "n": "样本量",
}


def _zh(table):
    """Give a Table Chinese column headers (formats follow the renamed columns)."""
    table.frame = table.frame.rename(columns=COLUMN_LABELS)
    table.formats = {COLUMN_LABELS.get(k, k): v for k, v in table.formats.items()}
    return table


def _optional(name, results_dir):
    try:
        return load(name, results_dir=results_dir)
    except FileNotFoundError:
        return None


def _columns(frame: pd.DataFrame, wanted) -> pd.DataFrame:
    """The ``wanted`` columns present in ``frame`` (all but bookkeeping ones if none is)."""
    cols = [c for c in wanted if c in frame.columns]
    if not cols:
        cols = [c for c in frame.columns if c not in ("synthetic", "issues", "converged")]
    return frame[cols]


def _is_synthetic(processed_dir: Path) -> bool:
    report = Path(processed_dir) / "ingest_report.json"
    if not report.exists():
        return True
    return bool(json.loads(report.read_text(encoding="utf-8")).get("synthetic", True))


def report_tables(results_dir=None, *, instrument=None, processed_dir=None, synthetic=None) -> dict:
    """The tables of the stage report, keyed by name (absent results omitted).

    Parameters
    ----------
    results_dir : path-like, optional
        Folder of the results files (default ``paths.DEFAULT.results``).
    instrument : Instrument, optional
        Default: the study's instrument.
    processed_dir : path-like, optional
        Folder with ``ingest_report.json`` and ``screening_report.csv``
        (default: ``data/processed`` beside ``results_dir``).
    synthetic : bool, optional
        Label the tables as synthetic; default: the ingest report's flag
        (true when there is no report).

    Returns
    -------
    dict of str to analysis.study.tables.Table
        Keys among ``instrument``, ``flow``, ``screening``, ``fit``, ``reliability``,
        ``paths``, ``indirect``, ``configurational_solutions``, ``configurational_recovery``,
        ``power`` in report order.
    """
    results_dir = Path(results_dir) if results_dir is not None else paths.DEFAULT.results
    processed_dir = (Path(processed_dir) if processed_dir is not None
                     else paths.Layout(root=results_dir.parent).processed)
    if instrument is None:
        from .instrument import load_instrument

        instrument = load_instrument()
    syn = _is_synthetic(processed_dir) if synthetic is None else bool(synthetic)
    tables = {}
    tables["instrument"] = apa_table(
        pd.DataFrame([{"代码": c.code, "构念": c.name_zh, "二阶因子": c.parent or "",
                       "种子文章段落": c.pathway, "题项数": len(c.items)} for c in instrument.constructs]),
        "问卷构念与题项", note="二阶因子：RES = INT + EXT，ORG = SELF + SOC，LIST = RESP + RISK + INST，CR = CRS + RCV + DEV。",
        source="analysis.study.instrument.load_instrument")
    flow = _optional("data/ingest", results_dir)
    if flow is not None and {"stage_zh", "n", "remaining"} <= set(flow.columns):
        tables["flow"] = apa_table(
            flow[["stage_zh", "n", "remaining"]].rename(columns={"stage_zh": "阶段", "n": "记录数", "remaining": "剩余"}),
            "样本流程：从原始导出到分析样本",
            note="每一行的“剩余”等于上一行的剩余减去本行记录数；未同意知情同意书的记录不进入任何分析。",
            source="analysis.study.sample.flow_table", synthetic=syn)
    screening = _optional("data/screening_report", results_dir)
    if screening is None and (processed_dir / "screening_report.csv").exists():
        screening = pd.read_csv(processed_dir / "screening_report.csv")
    if screening is not None:
        tables["screening"] = apa_table(screening, "问卷筛查结果",
                                        source="analysis.study.screen.screen", synthetic=syn)
    fit = _optional("measurement/fit", results_dir)
    if fit is not None:
        fit = _columns(fit, ["model", "chisq", "df", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper",
                             "srmr", "aic", "bic"])
        tables["fit"] = apa_table(fit, "测量模型拟合指标", note="ML 估计；界值参考 Hu 与 Bentler（1999）。",
                                  source="analysis.study.measurement.run_measurement", synthetic=syn,
                                  formats={"chisq": ".2f", "df": "d", "npar": "d", "nobs": "d"})
    rel = _optional("measurement/reliability", results_dir)
    if rel is not None:
        rel = _columns(rel, ["scale", "name_zh", "n_items", "alpha", "ci_lower", "ci_upper", "omega", "cr", "ave"])
        tables["reliability"] = apa_table(rel, "信度与收敛效度",
                                          note="α：Cronbach's alpha；ω：McDonald's omega；CR：组合信度；AVE：平均方差抽取量。",
                                          source="analysis.study.measurement.run_measurement", synthetic=syn,
                                          formats={"n_items": "d"})
    est = _optional("structural/estimates", results_dir)
    if est is not None:
        cols = ["lhs", "op", "rhs", "est", "se", "pvalue", "ci_lower", "ci_upper", "std_all"]
        reg = est.loc[est["op"] == "~", [c for c in cols if c in est.columns]].reset_index(drop=True)
        if len(reg):
            tables["paths"] = apa_table(reg, "结构路径系数", note="lhs ~ rhs 表示 rhs 指向 lhs 的路径。",
                                        source="analysis.study.structural.run_structural", synthetic=syn,
                                        formats={"pvalue": "p"})
        indirect = _optional("structural/indirect", results_dir)
        if indirect is not None and {"lhs", "est"} <= set(indirect.columns):
            ind = _columns(indirect, ["lhs", "est", "std_all", "se", "pvalue", "ci_lower_bc", "ci_upper_bc"])
            ci_note = "置信区间为偏差校正（BC）bootstrap 区间。"
        else:
            dcols = ["lhs", "est", "se", "pvalue", "ci_lower", "ci_upper", "std_all"]
            ind = est.loc[est["op"] == ":=", [c for c in dcols if c in est.columns]].reset_index(drop=True)
            ci_note = "置信区间为 bootstrap 区间。"
        if len(ind):
            tables["indirect"] = apa_table(ind, "间接效应、总效应与对比",
                                           note="ind_X = a·b；total = c + total_indirect；" + ci_note,
                                           source="analysis.study.structural.run_structural", synthetic=syn,
                                           formats={"pvalue": "p"})
    conf = _configurational_tables(results_dir, syn, instrument)
    tables.update(conf)
    power = _optional("power/curve", results_dir)
    if power is not None:
        power = power.drop(columns=[c for c in ("synthetic",) if c in power.columns])
        if {"n", "effect", "power"} <= set(power.columns):  # long (run_power) -> one column per effect
            order = list(dict.fromkeys(power["effect"]))
            power = power.pivot(index="n", columns="effect", values="power")[order].reset_index()
            power.columns.name = None
        tables["power"] = apa_table(power, "各样本量下的统计功效（蒙特卡洛模拟）",
                                    source="analysis.study.power.run_power", synthetic=syn, formats={"n": "d"})
    return {key: _zh(t) for key, t in tables.items()}


def _names(instrument) -> dict:
    """Construct code -> Chinese name (first- and second-order), from the instrument."""
    return {c.code: c.name_zh for c in instrument.constructs} | {so.code: so.name_zh for so in instrument.second_order}


def _configurational_tables(results_dir: Path, syn: bool, instrument) -> dict:
    """The two tables of the configurational section (absent results: no table).

    ``configurational_solutions``: the planted truth and the first intermediate model of the
    study's and of the planted communities, with consistency and coverage;
    ``configurational_recovery``: the recovery rates over replicated planted worlds. The planted
    communities are synthetic whatever the study's data are.
    """
    out = {}
    head = _optional("configurational/headline", results_dir)
    rows = []
    for label, name, synthetic in (("本研究的社区", "configurational/solutions", syn),
                                   ("植入组态的模拟社区", "configurational/planted_solutions", True)):
        sol = _optional(name, results_dir)
        if sol is None or not {"kind", "model", "expression", "consistency", "coverage"} <= set(sol.columns):
            continue
        inter = sol[sol["kind"] == "intermediate"]
        if inter.empty:
            rows.append({"数据": label, "中间解": "（无充分组态）", "一致性": float("nan"), "覆盖度": float("nan")})
            continue
        first = inter[inter["model"] == sorted(inter["model"].unique())[0]].iloc[0]
        rows.append({"数据": label, "中间解": first["expression"], "一致性": float(first["consistency"]),
                     "覆盖度": float(first["coverage"])})
    if rows:
        truth = (head or {}).get("planted", {}).get("solution")
        if truth:
            rows.append({"数据": "植入的真值", "中间解": truth, "一致性": float("nan"), "覆盖度": float("nan")})
        names = _names(instrument)
        conds = "、".join(f"{names.get(c, c)}（{c}）" for c in (head or {}).get("conditions", []))
        outcome = (head or {}).get("outcome", "")
        roles = f"条件为{conds}，结果为{names.get(outcome, outcome)}（{outcome}）；" if conds and outcome else ""
        out["configurational_solutions"] = apa_table(
            pd.DataFrame(rows), "社区层面的 fsQCA 中间解",
            note=f"以社区为案例，{roles}A*B 表示“A 且 B”，+ 表示“或”。植入组态的模拟社区仅用于检验方法能否找回已知的真值。",
            source="analysis.study.configurational.run_configurational", synthetic=True if len(rows) > 1 else syn)
    rates = _optional("configurational/planted_rates", results_dir)
    if rates is not None and {"communities", "pri_cut", "exact", "contains", "correct"} <= set(rates.columns):
        table = rates[["communities", "pri_cut", "replications", "exact", "contains", "correct"]].rename(columns={
            "communities": "社区数", "pri_cut": "PRI 阈值", "replications": "重复次数", "exact": "与真值完全一致",
            "contains": "包含真值各项", "correct": "不含错误项"})
        out["configurational_recovery"] = apa_table(
            table, "重复模拟中植入组态的恢复率",
            note="每种社区数与 PRI 阈值下重复模拟的比例（中间解的第一个模型）；其余设定与正文报告的相同。",
            source="analysis.study.configurational.planted_replications", synthetic=True,
            formats={"社区数": "d", "PRI 阈值": ".2f", "重复次数": "d", "与真值完全一致": ".2f", "包含真值各项": ".2f",
                     "不含错误项": ".2f"})
    return out


def _get(data: dict | None, dotted: str, spec: str) -> str | None:
    """A nested headline value, formatted (``None`` when absent)."""
    value = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value or value[part] is None:
            return None
        value = value[part]
    return format_cell(value, spec)


# ---- document helpers ---------------------------------------------------------

def _style(document):
    from docx.oxml.ns import qn
    from docx.shared import Pt

    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        st = document.styles[name]
        st.font.name = _FONT
        rpr = st.element.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(rfonts)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            rfonts.set(qn(attr), _FONT)
    document.styles["Normal"].font.size = Pt(10.5)


def _fixed_properties(document):
    import datetime as dt

    props = document.core_properties
    fixed = dt.datetime(2024, 1, 1, 0, 0, 0)
    props.author = "课题组"
    props.last_modified_by = "analysis.study.report"
    props.title = f"{PROJECT_TITLE} 阶段报告"
    props.created = fixed
    props.modified = fixed
    props.revision = 1


def _pending(document, names):
    p = document.add_paragraph()
    p.add_run("结果尚未生成：" + "、".join(names) + "。运行 `resilience reproduce` 后重新生成本报告。").italic = True


def _figure(document, fig, caption, synthetic):
    from docx.shared import Cm

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=150, metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    buf.seek(0)
    document.add_picture(buf, width=Cm(15))
    text = caption + (f"（{SYNTHETIC_NOTE_ZH}）" if synthetic else "")
    document.add_paragraph().add_run(text).italic = True


def _deterministic_zip(blob: bytes) -> bytes:
    """Re-zip a DOCX with fixed timestamps and member order."""
    src = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        ordered = [n for n in names if n == "[Content_Types].xml"] + [n for n in names if n != "[Content_Types].xml"]
        for name in ordered:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()


def _fmt_headline(headline: dict | None, key: str, spec: str) -> str | None:
    if not headline or key not in headline or headline[key] is None:
        return None
    return format_cell(headline[key], spec)


def write_report(out_dir=None, results_dir=None, *, instrument=None, processed_dir=None,
                 synthetic=None) -> Path:
    """Write the Chinese stage report ``stage_report.docx``.

    Parameters
    ----------
    out_dir : path-like, optional
        Output folder (default ``paths.DEFAULT.reports``); created if needed.
    results_dir : path-like, optional
        Folder of the results files (default ``paths.DEFAULT.results``).
    instrument : Instrument, optional
        Default: the study's instrument.
    processed_dir : path-like, optional
        Folder of the processed-data reports (default: ``data/processed``
        beside ``results_dir``).
    synthetic : bool, optional
        Override the synthetic-data flag (default: from the ingest report;
        true when there is none).

    Returns
    -------
    pathlib.Path
        The written DOCX.

    Notes
    -----
    Numbers are formatted with :func:`analysis.study.tables.format_cell`
    (three decimals unless a column says otherwise), the same as the book.
    """
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    out_dir = Path(out_dir) if out_dir is not None else paths.DEFAULT.reports
    results_dir = Path(results_dir) if results_dir is not None else paths.DEFAULT.results
    processed_dir = (Path(processed_dir) if processed_dir is not None
                     else paths.Layout(root=results_dir.parent).processed)
    if instrument is None:
        from .instrument import load_instrument

        instrument = load_instrument()
    syn = _is_synthetic(processed_dir) if synthetic is None else bool(synthetic)
    tables = report_tables(results_dir, instrument=instrument, processed_dir=processed_dir, synthetic=syn)
    m_head = _optional("measurement/headline", results_dir)
    d_head = _optional("data/headline", results_dir)
    s_head = _optional("structural/headline", results_dir)

    doc = Document()
    _style(doc)
    _fixed_properties(doc)

    # ---- title page --------------------------------------------------------------
    for text, size, bold in (("2024年河南省科技厅软科学研究计划项目", 14, False),
                             (PROJECT_TITLE, 22, True),
                             ("阶段报告", 18, True),
                             (f"项目编号：{PROJECT_NUMBER}", 14, False)):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        r = p.add_run(text)
        r.font.size = Pt(size)
        r.bold = bold
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if syn:
        r = p.add_run("重要说明：本报告中的样本、估计值、表格和图均来自模拟数据（" + SYNTHETIC_NOTE_ZH
                      + "），用于检验分析流程，不是实地调查结果，不能作为经验发现引用。")
        r.bold = True
        r.font.size = Pt(12)
        p2 = doc.add_paragraph()
        p2.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p2.add_run(SYNTHETIC_NOTE_EN).italic = True
    else:
        p.add_run("本报告基于实地调查数据。")
    doc.add_section(WD_SECTION.NEW_PAGE)

    number = 0

    def table(key):
        nonlocal number
        number += 1
        tables[key].to_docx(doc, number=number)

    # ---- 1 研究进展 ----------------------------------------------------------------
    doc.add_heading("一、研究进展", level=1)
    doc.add_paragraph(
        f"课题组以种子文章《城市基层党组织引领社区韧性治理的路径探索》（吉军辉，2025，大河网）提出的四条路径为理论框架，"
        f"编制了包含 {len(instrument.items)} 个李克特题项、{len(instrument.constructs)} 个一阶构念和 "
        f"{len(instrument.second_order)} 个二阶构念的调查问卷，并完成了从问卷生成、数据导入与筛查、测量模型、"
        "结构方程模型与中介效应到统计功效分析的全部分析代码。")
    doc.add_paragraph(
        "在实地调查开始之前，课题组用一个声明的总体模型生成模拟问卷，完整运行了分析流程，以检验各步骤能否准确估计"
        "设定的参数。" if syn else "实地调查已完成，分析流程已在实地数据上运行。")

    # ---- 2 调查工具 ----------------------------------------------------------------
    doc.add_heading("二、调查工具", level=1)
    doc.add_paragraph(
        f"问卷采用 {instrument.scale.points} 点同意量表，其中 {len(instrument.reverse_codes)} 个题项反向计分，"
        "另设 1 道注意力检测题；问卷不收集任何直接身份信息，知情同意书符合《个人信息保护法》的要求。")
    table("instrument")

    # ---- 3 样本 --------------------------------------------------------------------
    doc.add_heading("三、样本", level=1)
    n = _fmt_headline(d_head, "n_analysed", "d") or _fmt_headline(m_head, "n", "d")
    keys = ("n_rows", "n_consent_excluded", "n_collapsed", "n_quarantined", "n_flagged")
    if d_head and all(_fmt_headline(d_head, k, "d") for k in keys):
        f = {k: _fmt_headline(d_head, k, "d") for k in keys}
        doc.add_paragraph(
            f"原始导出共 {f['n_rows']} 条记录：未同意知情同意书而排除 {f['n_consent_excluded']} 条，"
            f"重复下载的同一答卷合并 {f['n_collapsed']} 条，导入校验不合格而隔离 {f['n_quarantined']} 条，"
            f"筛查标记并排除 {f['n_flagged']} 份；每一条记录的去向见下表。")
    if "flow" in tables:
        table("flow")
    if n is not None:
        k = _fmt_headline(d_head, "n_communities", "d")
        doc.add_paragraph(f"经导入校验与筛查后，分析样本为 {n} 份问卷" + (f"（来自 {k} 个社区）" if k else "")
                          + ("，均为模拟数据。" if syn else "。"))
    if "screening" in tables:
        table("screening")
    if n is None and "screening" not in tables:
        _pending(doc, ["results/measurement/headline.json", "data/processed/screening_report.csv"])

    # ---- 4 测量质量 ------------------------------------------------------------------
    doc.add_heading("四、测量质量", level=1)
    parts = [(k, _fmt_headline(m_head, f"second_order_{k}", ".3f")) for k in ("cfi", "tli", "rmsea", "srmr")]
    parts = [(k, v) for k, v in parts if v is not None]
    if parts:
        doc.add_paragraph("二阶测量模型拟合：" + "，".join(f"{k.upper()} = {v}" for k, v in parts) + "。")
    rel_parts = [(label, _fmt_headline(m_head, key, ".2f")) for label, key in
                 (("Cronbach's α", "min_alpha"), ("组合信度 CR", "min_cr"), ("AVE", "min_ave"), ("HTMT", "max_htmt"))]
    rel_parts = [(k, v) for k, v in rel_parts if v is not None]
    if rel_parts:
        doc.add_paragraph("信度与效度：" + "，".join(f"{'最大' if k == 'HTMT' else '最小'} {k} = {v}"
                                               for k, v in rel_parts) + "。")
    for key in ("fit", "reliability"):
        if key in tables:
            table(key)
    if not parts and "fit" not in tables and "reliability" not in tables:
        _pending(doc, ["results/measurement/"])

    # ---- 5 主要发现 ------------------------------------------------------------------
    doc.add_heading("五、主要发现", level=1)
    ti = _fmt_headline(s_head, "total_indirect", ".3f")
    de = _fmt_headline(s_head, "direct", ".3f")
    if ti is not None and de is not None:
        doc.add_paragraph(f"党组织引领对社区韧性的总间接效应为 {ti}，直接效应为 {de}"
                          + ("（模拟数据，仅用于检验方法）。" if syn else "。"))
    est = _optional("structural/estimates", results_dir)
    if est is not None and "paths" in tables:
        from .diagrams import STUDY_NODES, path_diagram

        names = {c.code: c.name_zh for c in instrument.constructs}
        names.update({s.code: s.name_zh for s in instrument.second_order})
        labels = {c: f"{names.get(c, c)}\n{c}" for c in STUDY_NODES}
        try:
            fig = path_diagram(est, labels=labels, note=SYNTHETIC_NOTE_ZH if syn else None)
        except ValueError:
            fig = None
        if fig is not None:
            _figure(doc, fig, "图 1  结构模型标准化路径系数（* p < .05，** p < .01，*** p < .001）", syn)
    for key in ("paths", "indirect", "power"):
        if key in tables:
            table(key)
    if not any(k in tables for k in ("paths", "indirect", "power")) and ti is None:
        _pending(doc, ["results/structural/", "results/power/"])

    # ---- 6 组态分析 ------------------------------------------------------------------
    doc.add_heading("六、组态分析", level=1)
    c_head = _optional("configurational/headline", results_dir)
    g = {key: _get(c_head, key, spec) for key, spec in (
        ("study.n_communities", "d"), ("study.max_necessity_consistency", ".3f"), ("study.max_necessity_condition", None),
        ("study.nca.n_necessary", "d"), ("study.nca.necessary", None), ("study.solution.intermediate.expression", None),
        ("study.solution.intermediate.consistency", ".3f"), ("planted.solution", None), ("planted.intermediate", None),
        ("planted.contains_zh", None), ("planted.exact_zh", None), ("planted.small.communities", "d"),
        ("planted.small.contains", ".2f"), ("planted.small.exact", ".2f"), ("planted.large.communities", "d"),
        ("planted.large.exact", ".2f"), ("incl_cut", ".2f"), ("pri_cut", ".2f"), ("calibration", None))}
    if all(v is not None for v in g.values()):
        doc.add_paragraph(
            "种子文章认为四条路径“协同”提升社区韧性，这是一个组态命题。课题组以社区为案例，用模糊集定性比较分析（fsQCA）"
            "和必要条件分析（NCA）检验它：社区得分为本社区受访者量表得分的均值，"
            + ("按样本百分位数" if (c_head or {}).get("calibration_kind") == "quantile" else "按量表上的锚点")
            + f"直接校准（规则 {g['calibration']}），真值表的一致性阈值为 {g['incl_cut']}、PRI 阈值为 {g['pri_cut']}。")
        doc.add_paragraph(
            f"在本研究的 {g['study.n_communities']} 个社区中，没有条件在种类上必要（QCA 必要性一致性最高为 "
            f"{g['study.max_necessity_condition']} 的 {g['study.max_necessity_consistency']}）；NCA 把 "
            f"{g['study.nca.n_necessary']} 个条件（{g['study.nca.necessary']}）记为程度上的必要，但生成数据的总体模型是线性的、"
            f"并无必要条件，这提示在 {g['study.n_communities']} 个社区上，相关本身就会产生 NCA 效应。fsQCA 的中间解为 "
            f"{g['study.solution.intermediate.expression']}，其一致性仅为 {g['study.solution.intermediate.consistency']}："
            "数据中没有一致的充分组态，高韧性随“高”的路径个数逐步增强，这正是可加模型在集合论中的样子。"
            + ("（模拟数据，仅用于检验方法。）" if syn else ""))
        doc.add_paragraph("为检验方法能否找回已知的组态，课题组按以下流程做了植入真值的模拟：")
        names = _names(instrument)
        reading = "，或".join("与".join(names.get(c, c) for c in term.strip().split("*")) + "都强"
                             for term in g["planted.solution"].split("+"))
        for text in (f"在总体模型中声明社区层面的组态真值 {g['planted.solution']}（{reading}）；",
                     "按该真值模拟社区，社区中的受访者按声明的载荷与阈值回答全部题项；",
                     "与研究样本完全相同地聚合、校准、构建真值表并做布尔最小化；",
                     "把得到的解与真值比较，并在多次重复模拟中统计恢复率。"):
            doc.add_paragraph(text, style="List Number")
        doc.add_paragraph(
            f"在所展示的一组模拟社区中，中间解为 {g['planted.intermediate']}，包含真值各项：{g['planted.contains_zh']}，"
            f"与真值完全一致：{g['planted.exact_zh']}。在重复模拟中，{g['planted.small.communities']} 个社区时包含真值各项的比例为 "
            f"{g['planted.small.contains']}、完全一致的比例为 {g['planted.small.exact']}；{g['planted.large.communities']} "
            f"个社区时完全一致的比例为 {g['planted.large.exact']}。结论：在 {g['planted.small.communities']} 个左右的社区上，"
            "组态分析只能作为探索，"
            "实地调查若要检验“协同”命题，需要更多、组合更多样的社区。")
    for key in ("configurational_solutions", "configurational_recovery"):
        if key in tables:
            table(key)
    if c_head is None and not any(k in tables for k in ("configurational_solutions", "configurational_recovery")):
        _pending(doc, ["results/configurational/"])

    # ---- 7 下一步工作 ----------------------------------------------------------------
    doc.add_heading("七、下一步工作", level=1)
    for text in ("在郑州、洛阳、开封、新乡、南阳五市抽取社区，按统计功效分析确定的样本量开展实地问卷调查；",
                 "用实地数据替换模拟数据，重新运行全部分析，并与模拟检验的结果对照；",
                 "针对社区层面的构念（网格、清单）开展多层次分析；",
                 "结合访谈与案例，形成面向社区党组织的政策建议。"):
        doc.add_paragraph(text, style="List Number")

    buf = io.BytesIO()
    doc.save(buf)
    path = Path(out_dir) / REPORT_NAME
    with atomic_path(path) as tmp:
        tmp.write_bytes(_deterministic_zip(buf.getvalue()))
    return path
