"""The stage report (阶段报告) as a Chinese DOCX, from the same results as the book.

:func:`write_report` writes ``stage_report.docx`` in the form a 阶段报告 of a
provincial soft-science project (河南省科技厅软科学研究计划) takes:

* a cover with the programme, the project number, 项目名称, 承担单位, 负责人
  and the date, all read from the ``project:`` section of ``study.yaml``
  (a value the project has not recorded prints as the placeholder
  :data:`PLACEHOLDER`);
* then, in this order (:data:`SECTIONS`): 摘要; 一、研究进展 (design and
  instrument, data and sample, methods); 二、阶段性成果 (the published
  article and what the study has built); 三、主要发现 (measurement,
  structural model and mediation, configurational analysis, power);
  四、存在问题与对策; 五、下一步计划与时间安排 (with the recommended sample
  size of ``results/power/headline.json`` and the schedule of
  ``study.yaml``); 参考文献 (GB/T 7714, from ``book/references.bib``).

Every number comes from a results file (``analysis.results.load`` names, the
same the book reads).  The reported estimator and bootstrap interval are read
from ``results/structural/headline.json`` (``estimator``, ``missing``,
``bootstrap_interval``: set once in ``study.yaml``,
``structural.bootstrap_interval``) and named in words through
:mod:`analysis.study.glossary`; the indirect effects' bounds are
``indirect.csv``'s ``ci_lower_boot``/``ci_upper_boot``.  Every code of a
results file (construct codes, ``ind_GRID``, ``role_2``, ``first_order``,
screening rules) is printed in Chinese through
:func:`analysis.study.glossary.code_labels`, the one mapping.

Typography (:mod:`analysis.study.typography`, shared with the printed
questionnaire): A4; 宋体 body and 黑体 headings through ``w:eastAsia`` (Times
New Roman for Latin letters and digits), declared in the font table with the
Noto CJK families as alternative names (on a machine without 宋体/黑体, as
Linux, the text falls back to the installed Noto CJK); headings in black;
three-line tables (:mod:`analysis.study.tables`, style ``"report"``) whose
column widths come from their contents, whose header rows repeat on every
page, and whose numbers all keep their leading zero (``0.010``, ``0.79``);
under every table a Chinese source note names the results file and the
``resilience`` command that recreates it.  When the data are synthetic the
cover says so plainly and every results table and figure carries
:data:`analysis.results.SYNTHETIC_NOTE_ZH`.

Whatever results do not exist yet are named in the report (``结果尚未生成``)
instead of failing, so the report can be written at every stage.

The file is byte-deterministic: the DOCX package is re-zipped with fixed
timestamps and fixed document properties.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from .. import paths
from ..io import atomic_path
from ..results import SYNTHETIC_NOTE_ZH, data_are_synthetic, load
from . import glossary as gl
from .tables import apa_table, format_cell
from .typography import HEADING_FONT, deterministic_zip, set_fonts, typeset

__all__ = ["PROJECT_TITLE", "PROJECT_NUMBER", "REPORT_NAME", "COLUMN_LABELS", "SECTIONS", "PLACEHOLDER",
           "project_info", "reported_interval",
           "write_report", "report_tables"]

#: The project's name and number (河南省科技厅软科学研究计划项目, 2024): the defaults when
#: ``study.yaml`` has no ``project:`` section.
PROJECT_TITLE = "河南城市基层党组织引领社区韧性治理问题研究"
PROJECT_NUMBER = "242400410534"
#: File name of the report inside ``out_dir``.
REPORT_NAME = "stage_report.docx"
#: What the cover prints for a value the project has not recorded.
PLACEHOLDER = "（待填）"
#: The report's first-level headings, in order.
SECTIONS = ("摘要", "一、研究进展", "二、阶段性成果", "三、主要发现", "四、存在问题与对策",
            "五、下一步计划与时间安排", "参考文献")

#: Chinese column headers of the report's tables: the one glossary's (:data:`analysis.study.glossary.COLUMNS`).
COLUMN_LABELS = gl.COLUMNS

_UNIT_NOTE = {"community": "整群重抽社区", "respondent": "逐个重抽受访者"}
_INTERVAL_HOW = {
    "symmetric-t": "每个 bootstrap 样本都用其自身的三明治标准误（整群重抽样时为聚类稳健标准误）把估计值的偏离标准化，"
                   "取 |t*| 的 95% 分位数 c，区间为“估计值 ± c × 标准误”",
    "t": "每个 bootstrap 样本都用其自身的三明治标准误把估计值的偏离标准化，取 t* 的 2.5% 与 97.5% 分位数构造区间",
    "percentile": "取 bootstrap 估计值的 2.5% 与 97.5% 分位数",
    "bc": "按 bootstrap 估计值低于样本估计值的比例校正百分位数",
    "bca": "按偏差与加速常数（刀切法）校正百分位数",
}
#: Bibliography keys the report cites (book/references.bib).
_BIB = paths.ROOT / "book" / "references.bib"


# ---- project metadata ---------------------------------------------------------

def project_info(settings: dict | None = None) -> dict:
    """The ``project:`` section of ``study.yaml`` with defaults and placeholders filled in.

    Parameters
    ----------
    settings : dict, optional
        The parsed ``study.yaml`` (default: :func:`analysis.study.settings.load_settings`).

    Returns
    -------
    dict
        ``programme``, ``year``, ``number``, ``名称``, ``承担单位``, ``负责人``, ``date`` (strings;
        :data:`PLACEHOLDER` where the project has not recorded one), ``outputs`` and ``schedule``
        (lists of dicts).

    Examples
    --------
    >>> info = project_info({"project": {"number": "242400410534", "名称": "X"}})
    >>> info["number"], info["负责人"] == PLACEHOLDER
    ('242400410534', True)
    """
    if settings is None:
        from .settings import load_settings

        settings = load_settings()
    raw = dict((settings or {}).get("project") or {})
    info = {"programme": "河南省科技厅软科学研究计划", "year": "", "number": PROJECT_NUMBER, "名称": PROJECT_TITLE,
            "承担单位": PLACEHOLDER, "负责人": PLACEHOLDER, "date": PLACEHOLDER}
    for key in info:
        value = raw.get(key)
        if value is not None and str(value).strip():
            info[key] = str(value).strip()
    info["outputs"] = [dict(o) for o in raw.get("outputs") or ()]
    info["schedule"] = [dict(s) for s in raw.get("schedule") or ()]
    return info


# ---- reading results ------------------------------------------------------------

def _optional(name, results_dir):
    try:
        return load(name, results_dir=results_dir)
    except FileNotFoundError:
        return None


def reported_interval(headline: dict | None) -> dict:
    """The reported interval and estimator of the structural model, in words.

    Parameters
    ----------
    headline : dict or None
        ``results/structural/headline.json``.

    Returns
    -------
    dict
        ``interval`` (the code, e.g. ``symmetric-t``, or None), ``interval_zh``, ``estimator_zh``
        (None when the headline does not say), ``unit_zh``, ``draws``.

    Examples
    --------
    >>> r = reported_interval({"bootstrap_interval": "symmetric-t", "estimator": "ML", "missing": "two.stage",
    ...                        "bootstrap_unit": "community", "bootstrap": 5000})
    >>> r["interval_zh"], r["estimator_zh"]
    ('对称 bootstrap-t 区间', '两阶段极大似然估计（two-stage ML）')
    """
    head = headline or {}
    code = head.get("bootstrap_interval")
    out = {"interval": code, "interval_zh": gl.interval_name(code) if code in gl.INTERVALS else None,
           "estimator_zh": None, "unit_zh": gl.BOOTSTRAP_UNITS.get(head.get("bootstrap_unit")),
           "draws": head.get("bootstrap")}
    if head.get("estimator") and head.get("missing"):
        try:
            out["estimator_zh"] = gl.estimator_name(head["estimator"], head["missing"])
        except ValueError:
            out["estimator_zh"] = None
    return out


def _fmt(value, spec: str | None = ".3f") -> str | None:
    """A number in the report's style (leading zeros), or None when absent."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return format_cell(value, spec, leading_zero=True)


def _get(data: dict | None, dotted: str, spec: str | None = None) -> str | None:
    """A nested headline value, formatted (``None`` when absent)."""
    value = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value or value[part] is None:
            return None
        value = value[part]
    return _fmt(value, spec) if spec is not None else str(value)


def _source(files, step: str) -> str:
    """The Chinese source note: the results file(s) and the command that recreates them."""
    files = [files] if isinstance(files, str) else list(files)
    return f"资料来源：{'、'.join(files)}；重新生成：resilience reproduce {step}。"


def _table(frame, caption, *, note="", files, step, formats=None, synthetic=False):
    return apa_table(frame, caption, note=note, formats=formats, synthetic=synthetic,
                     source_note=_source(files, step), style="report")


# ---- tables -----------------------------------------------------------------------

_NUMBER_NOTE = "表中数值均保留前导零（如 0.010）；p < 0.001 记为 <0.001。"


def report_tables(results_dir=None, *, instrument=None, processed_dir=None, synthetic=None) -> dict:
    """The tables of the stage report, keyed by name (absent results omitted).

    Every header and every code in a cell is in Chinese (:data:`COLUMN_LABELS`,
    :func:`analysis.study.glossary.code_labels`); every table is of style ``"report"``.

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
    labels = gl.code_labels(instrument)
    syn = data_are_synthetic(processed_dir, synthetic)
    L = COLUMN_LABELS
    tables = {}

    # -- instrument
    sections = {p.section: p.title_zh for p in instrument.pathways}

    def section_label(sec):
        if sec == "opening":
            return labels["opening"]
        title = sections.get(sec, "")
        return f"{sec}、{re.split(r'[,，]', title)[0]}" if title else str(sec)

    tables["instrument"] = _table(
        pd.DataFrame([{"构念": c.name_zh, "所属二阶构念": labels.get(c.parent, "") if c.parent else "",
                       "种子文章段落": section_label(c.pathway), "题项数": len(c.items)}
                      for c in instrument.constructs]),
        "问卷构念与题项",
        note="二阶构念：" + "；".join(f"{s.name_zh} = " + " + ".join(labels.get(ch, ch) for ch in s.children)
                                  for s in instrument.second_order) + "。",
        files="survey/instrument.yaml", step="instrument")

    # -- sample flow and screening
    flow = _optional("data/ingest", results_dir)
    if flow is not None and {"stage_zh", "n", "remaining"} <= set(flow.columns):
        tables["flow"] = _table(
            flow[["stage_zh", "n", "remaining"]].rename(columns={"stage_zh": "阶段", "n": "记录数", "remaining": "剩余"}),
            "样本流程：从原始导出到分析样本",
            note="每一行的“剩余”等于上一行的剩余减去本行记录数；未同意知情同意书的记录不进入任何分析。",
            files="results/data/ingest.csv", step="sample", synthetic=syn)
    screening = _optional("data/screening_report", results_dir)
    screening_file = "results/data/screening_report.csv"
    if screening is None and (processed_dir / "screening_report.csv").exists():
        screening = pd.read_csv(processed_dir / "screening_report.csv")
        screening_file = "data/processed/screening_report.csv"
    if screening is not None and "rule" in screening.columns:
        scr = screening.copy()
        scr["rule"] = scr["rule"].map(lambda r: labels.get(str(r), str(r)))
        cols = [c for c in ("rule", "active", "flagged", "n_before", "n_after", "not_evaluable") if c in scr.columns]
        if "active" in scr.columns:
            scr["active"] = scr["active"].map(lambda v: "是" if str(v).lower() in ("true", "1", "是") else "否")
        tables["screening"] = _table(
            scr[cols].rename(columns=L), "问卷筛查结果",
            note="各规则依次应用，“筛查前/筛查后”为应用该规则前后的问卷数；无法判断：缺少该规则所需信息的问卷数。",
            files=screening_file, step="sample", synthetic=syn,
            formats={L[c]: "d" for c in ("flagged", "n_before", "n_after", "not_evaluable")})

    # -- measurement
    meas_head = _optional("measurement/headline", results_dir) or {}
    fit = _optional("measurement/fit", results_dir)
    if fit is not None and "model" in fit.columns:
        cols = [c for c in ("model", "chisq", "df", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper",
                            "srmr") if c in fit.columns]
        f = fit[cols].copy()
        f["model"] = f["model"].map(lambda m: labels.get(str(m), str(m)))
        missing = meas_head.get("missing")
        est_words = ""
        if missing:
            try:
                est_words = "估计方法：" + gl.estimator_name("ML", missing) + "；"
            except ValueError:
                est_words = ""
        tables["fit"] = _table(
            f.rename(columns=L), "测量模型拟合指标",
            note=est_words + "RMSEA 下限、上限为 RMSEA 的 90% 置信区间；界值参考 Hu 与 Bentler（1999）。",
            files="results/measurement/fit.csv", step="measurement", synthetic=syn,
            formats={L["chisq"]: ".2f", L["df"]: "d"})
    rel = _optional("measurement/reliability", results_dir)
    if rel is not None and "scale" in rel.columns:
        r = pd.DataFrame({L["scale"]: rel["scale"].map(lambda c: labels.get(str(c), str(c)))})
        if "level" in rel.columns:
            r[L["level"]] = rel["level"].map({"first_order": "一阶", "second_order": "二阶"}).fillna("")
        for src, dst in (("n_items", "n_items"), ("alpha", "alpha"), ("ci_lower", "alpha_lower"),
                         ("ci_upper", "alpha_upper"), ("omega", "omega"), ("cr", "cr"), ("ave", "ave")):
            if src in rel.columns:
                r[L[dst]] = rel[src]
        tables["reliability"] = _table(
            r, "信度与收敛效度",
            note="α：Cronbach's α 系数（α 95% 下限、上限为其置信区间）；ω：McDonald's ω 系数；"
                 "AVE：平均方差抽取量；二阶构念的组合信度与 AVE 按其一阶构念计算，AVE 不适用时记为“—”。",
            files="results/measurement/reliability.csv", step="measurement", synthetic=syn,
            formats={L["n_items"]: "d", L["alpha"]: ".2f", L["alpha_lower"]: ".2f", L["alpha_upper"]: ".2f",
                     L["omega"]: ".2f", L["cr"]: ".2f", L["ave"]: ".2f"})

    # -- structural model
    s_head = _optional("structural/headline", results_dir)
    rep = reported_interval(s_head)
    interval_words = rep["interval_zh"] or "bootstrap 区间"
    boot_words = _boot_words(s_head, rep)
    est = _optional("structural/estimates", results_dir)
    if est is not None and {"lhs", "op", "rhs", "est"} <= set(est.columns):
        reg = est.loc[est["op"] == "~"].reset_index(drop=True)
        if len(reg):
            p = pd.DataFrame({L["path"]: [f"{labels.get(str(a), a)} → {labels.get(str(b), b)}"
                                          for a, b in zip(reg["rhs"], reg["lhs"])]})
            for c in ("est", "se", "pvalue", "ci_lower", "ci_upper", "std_all"):
                if c in reg.columns:
                    p[L[c]] = reg[c]
            tables["paths"] = _table(
                p, f"结构路径系数（95% {interval_words}）",
                note=f"“A → B”表示 A 指向 B 的路径；标准误为 bootstrap 标准差，p 值据此计算；区间为 95% {interval_words}"
                     f"{boot_words}。控制变量的类别均相对于第一类（参照组）。",
                files="results/structural/estimates.csv", step="structural", synthetic=syn,
                formats={L["pvalue"]: "p"})
        indirect = _optional("structural/indirect", results_dir)
        ind = _indirect_frame(indirect, est, labels)
        if ind is not None and len(ind):
            tables["indirect"] = _table(
                ind, f"间接效应、总效应及其对比（95% {interval_words}）",
                note=f"间接效应 = a × b；总效应 = 直接效应 + 总间接效应；间接效应之差为两条路径的间接效应相减。"
                     f"标准误为 bootstrap 标准差；区间为 95% {interval_words}{boot_words}；"
                     "区间不含 0 即认为效应在 0.05 水平上显著。",
                files="results/structural/indirect.csv" if indirect is not None else "results/structural/estimates.csv",
                step="structural", synthetic=syn)

    # -- moderated mediation and the design-weighted model
    tables.update(_moderation_tables(results_dir, syn, labels, interval_words))

    # -- configurational
    tables.update(_configurational_tables(results_dir, syn, labels))

    # -- power
    power = _optional("power/curve", results_dir)
    if power is not None and {"n", "effect", "power"} <= set(power.columns):
        order = sorted(dict.fromkeys(power["effect"]), key=_effect_key)
        wide = power.pivot(index="effect", columns="n", values="power").loc[order]
        wide.columns = [f"N = {int(n)}" for n in wide.columns]
        wide.insert(0, L["effect"], [labels.get(str(e), str(e)) for e in wide.index])
        tables["power"] = _table(
            wide.reset_index(drop=True), "各样本量下的统计功效（蒙特卡洛模拟）",
            note="功效 = 重复模拟中检验显著的比例（间接效应以蒙特卡洛置信区间不含 0 判断）；N 为模拟的样本量。",
            files="results/power/curve.csv", step="power", synthetic=syn,
            formats={c: ".2f" for c in wide.columns if c != L["effect"]})

    for t in tables.values():
        if any(pd.api.types.is_float_dtype(t.frame[c]) for c in t.frame.columns):
            t.note = (t.note + _NUMBER_NOTE) if t.note else _NUMBER_NOTE
    return tables


def _effect_key(code: str):
    """Sort key of effect codes: the specific indirect effects in the order of the paths, then the totals."""
    from .diagrams import STUDY_NODES

    code = str(code)
    if code.startswith("ind_"):
        node = code[4:]
        return (0, STUDY_NODES.index(node) if node in STUDY_NODES else len(STUDY_NODES), code)
    return (1, ["total_indirect", "direct", "total"].index(code) if code in ("total_indirect", "direct", "total")
            else 3, code)


def _boot_words(s_head: dict | None, rep: dict) -> str:
    """``（按社区整群重抽样（聚类 bootstrap），5000 次）`` or empty."""
    parts = []
    if rep.get("unit_zh"):
        parts.append(_UNIT_NOTE.get((s_head or {}).get("bootstrap_unit"), rep["unit_zh"]))
    if rep.get("draws"):
        parts.append(f"{int(rep['draws'])} 次")
    return f"（{'，'.join(parts)}）" if parts else ""


def _indirect_frame(indirect, est, labels) -> pd.DataFrame | None:
    """The indirect-effects table: the reported interval (``ci_lower_boot``/``ci_upper_boot``)."""
    L = COLUMN_LABELS
    if indirect is not None and {"lhs", "est", "ci_lower_boot", "ci_upper_boot"} <= set(indirect.columns):
        src = indirect
        lo, hi = "ci_lower_boot", "ci_upper_boot"
        se = "boot_se" if "boot_se" in src.columns else "se"
    elif est is not None and "ci_lower" in est.columns:
        src = est.loc[est["op"] == ":="].reset_index(drop=True)
        lo, hi, se = "ci_lower", "ci_upper", "se"
    else:
        return None
    out = pd.DataFrame({L["effect"]: src["lhs"].map(lambda c: labels.get(str(c), str(c)))})
    out[L["est"]] = src["est"]
    if "std_all" in src.columns:
        out[L["std_all"]] = src["std_all"]
    if se in src.columns:
        out[L["se"]] = src[se]
    out[L["ci_lower"]] = src[lo]
    out[L["ci_upper"]] = src[hi]
    out[L["excludes_zero"]] = [("是" if (a > 0 or b < 0) else "否") if pd.notna(a) and pd.notna(b) else "—"
                               for a, b in zip(src[lo], src[hi])]
    return out.reset_index(drop=True)


#: Chinese names of the moderated-mediation parameters (results/moderation/effects.csv ``param``).
def _moderation_tables(results_dir: Path, syn: bool, labels: dict, interval_words: str) -> dict:
    """The moderated-mediation table and the weighted-versus-unweighted table (absent results omitted)."""
    out = {}
    eff = _optional("moderation/effects", results_dir)
    if eff is not None and len(eff):
        from .moderation import param_labels_zh

        names = param_labels_zh(labels=labels)
        frame = pd.DataFrame({"参数": [names.get(p, p) for p in eff["param"]],
                              "估计值": eff["est"], "标准误": eff["se"],
                              "95% 区间下限": eff["ci_lower"], "95% 区间上限": eff["ci_upper"],
                              "标准化估计": eff["std_all"]})
        out["moderation"] = _table(
            frame, f"有调节的中介：居住年限对“党组织引领 → 网格化治理”的调节（95% {interval_words}）",
            note="潜变量交互项由党组织引领各题项与标准化居住年限的双重均值中心化乘积指标测量；"
                 "条件间接效应 = (a1 + a3 × w) × b，w 为标准化居住年限；区间为按社区整群重抽样的 bootstrap 区间。",
            files="results/moderation/effects.csv", step="moderation", synthetic=syn)
    wt = _optional("weighting/estimates", results_dir)
    if wt is not None and len(wt):
        paths_ = wt[wt["op"] == "~"]
        names = [f"{labels.get(r, r)} → {labels.get(l, l)}" for l, r in zip(paths_["lhs"], paths_["rhs"])]
        frame = pd.DataFrame({"路径": names, "不加权估计": paths_["est"].to_numpy(),
                              "不加权标准误": paths_["se"].to_numpy(), "加权估计": paths_["est_weighted"].to_numpy(),
                              "加权标准误": paths_["se_weighted"].to_numpy(),
                              "差异/标准误": paths_["diff_in_se"].to_numpy()})
        out["weighting"] = _table(
            frame, "设计权重前后的结构路径（MLR，FIML，按社区聚类稳健标准误）",
            note="设计权重 = 社区户数占抽样社区总户数的比例 ÷ 该社区受访者占样本的比例，归一化为样本量；"
                 "差异/标准误 = (加权估计 − 不加权估计) ÷ 不加权标准误。",
            files="results/weighting/estimates.csv", step="weighting", synthetic=syn)
    return out


def _configurational_tables(results_dir: Path, syn: bool, labels: dict) -> dict:
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
        rows.append({"数据": label, "中间解": gl.zh_expression(first["expression"], labels),
                     "一致性": float(first["consistency"]), "覆盖度": float(first["coverage"])})
    if rows:
        truth = (head or {}).get("planted", {}).get("solution")
        if truth:
            rows.append({"数据": "植入的真值", "中间解": gl.zh_expression(truth, labels), "一致性": float("nan"),
                         "覆盖度": float("nan")})
        conds = "、".join(labels.get(c, c) for c in (head or {}).get("conditions", []))
        outcome = (head or {}).get("outcome", "")
        roles = f"条件为{conds}，结果为{labels.get(outcome, outcome)}；" if conds and outcome else ""
        out["configurational_solutions"] = _table(
            pd.DataFrame(rows), "社区层面的 fsQCA 中间解",
            note=f"以社区为案例，{roles}“A*B”表示“A 且 B”，“+”表示“或”，“~”表示“非”。"
                 "植入组态的模拟社区仅用于检验方法能否找回已知的真值。",
            files=["results/configurational/solutions.csv", "planted_solutions.csv"], step="configurational",
            synthetic=True if len(rows) > 1 else syn)
    rates = _optional("configurational/planted_rates", results_dir)
    if rates is not None and {"communities", "pri_cut", "exact", "contains", "correct"} <= set(rates.columns):
        table = rates[["communities", "pri_cut", "replications", "exact", "contains", "correct"]].rename(columns={
            "communities": "社区数", "pri_cut": "PRI 阈值", "replications": "重复次数", "exact": "与真值完全一致",
            "contains": "包含真值各项", "correct": "不含错误项"})
        out["configurational_recovery"] = _table(
            table, "重复模拟中植入组态的恢复率",
            note="每种社区数与 PRI 阈值下重复模拟的比例（中间解的第一个模型）；其余设定与正文报告的相同。",
            files="results/configurational/planted_rates.csv", step="configurational", synthetic=True,
            formats={"社区数": "d", "PRI 阈值": ".2f", "重复次数": "d", "与真值完全一致": ".2f", "包含真值各项": ".2f",
                     "不含错误项": ".2f"})
    return out


# ---- references ---------------------------------------------------------------------

_ACCENTS = {r"\"o": "ö", r"\"u": "ü", r"\"a": "ä", r"\'e": "é", r"\'a": "á", r"\c{s}": "ş", r"\c{c}": "ç",
            r"\`e": "è", r"\&": "&"}


def _bib_entries(path: Path = _BIB) -> dict:
    """``key -> {"type": ..., field: value}`` of a BibTeX file (braces and accents resolved)."""
    text = Path(path).read_text(encoding="utf-8") if Path(path).exists() else ""
    entries = {}
    for m in re.finditer(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", text):
        kind, key = m.group(1).lower(), m.group(2)
        i, depth, body_start = m.end(), 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body = text[body_start:i - 1]
        fields = {"type": kind}
        for f in re.finditer(r"(\w+)\s*=\s*\{", body):
            j, d = f.end(), 1
            while j < len(body) and d:
                d += {"{": 1, "}": -1}.get(body[j], 0)
                j += 1
            value = body[f.end():j - 1]
            for tex, char in _ACCENTS.items():
                value = value.replace("{" + tex + "}", char).replace(tex, char)
            value = value.replace("``", "“").replace("''", "”").replace("--", "-")
            fields[f.group(1).lower()] = re.sub(r"\s+", " ", value.replace("{", "").replace("}", "")).strip()
        entries[key] = fields
    return entries


def _gbt_author(name: str) -> str:
    name = name.strip()
    if "," not in name:
        return name  # a Chinese name, or one written in order
    last, first = (p.strip() for p in name.split(",", 1))
    initials = " ".join(p[0].upper() for p in re.split(r"[\s.\-]+", first) if p)
    return f"{last} {initials}".strip()


def _gbt(entry: dict) -> str:
    """One reference in the style of GB/T 7714-2015."""
    authors = [_gbt_author(a) for a in entry.get("author", "").split(" and ") if a.strip()]
    who = ", ".join(authors[:3]) + (", et al" if len(authors) > 3 else "")
    title, year, kind = entry.get("title", ""), entry.get("year", ""), entry.get("type")
    if kind == "article":
        vol = entry.get("volume", "")
        num = f"({entry['number']})" if entry.get("number") else ""
        pages = f": {entry['pages']}" if entry.get("pages") else ""
        return f"{who}. {title}[J]. {entry.get('journal', '')}, {year}, {vol}{num}{pages}."
    if kind == "book":
        place = f"{entry['address']}: " if entry.get("address") else ""
        return f"{who}. {title}[M]. {place}{entry.get('publisher', '')}, {year}."
    if kind == "incollection":
        place = f"{entry['address']}: " if entry.get("address") else ""
        pages = f": {entry['pages']}" if entry.get("pages") else ""
        return f"{who}. {title}[M]//{entry.get('booktitle', '')}. {place}{entry.get('publisher', '')}, {year}{pages}."
    date = (entry.get("note", "").split(".")[0] or year).strip()
    return f"{who}. {title}[EB/OL]. {entry.get('howpublished', '')}, {date}."


class _Citations:
    """Numbered citations in order of first use: ``cite("a", "b") -> "[1,2]"``."""

    def __init__(self, entries: dict):
        self.entries, self.order = entries, []

    def __call__(self, *keys) -> str:
        nums = []
        for key in keys:
            if key not in self.entries:
                continue
            if key not in self.order:
                self.order.append(key)
            nums.append(self.order.index(key) + 1)
        return f"[{','.join(str(n) for n in nums)}]" if nums else ""

    def references(self) -> list[str]:
        return [_gbt(self.entries[k]) for k in self.order]


# ---- document helpers -----------------------------------------------------------------

def _fixed_properties(document, title: str):
    import datetime as dt

    props = document.core_properties
    fixed = dt.datetime(2024, 1, 1, 0, 0, 0)
    props.author = "课题组"
    props.last_modified_by = "analysis.study.report"
    props.title = f"{title} 阶段报告"
    props.created = fixed
    props.modified = fixed
    props.revision = 1


def _page_numbers(section):
    """A centred page number in the footer of ``section``, numbering restarted at 1."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    section.footer.is_linked_to_previous = False
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = 0
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), "PAGE")
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "1"
    r.append(t)
    fld.append(r)
    p._p.append(fld)
    sect_pr = section._sectPr
    pg = OxmlElement("w:pgNumType")
    pg.set(qn("w:start"), "1")
    cols = sect_pr.find(qn("w:cols"))
    if cols is not None:
        cols.addprevious(pg)
    else:
        sect_pr.append(pg)


def _para(document, text="", *, bold_lead: str = "", indent: bool = True, italic: bool = False):
    p = document.add_paragraph()
    if not indent:
        p.paragraph_format.first_line_indent = 0
    if bold_lead:
        p.add_run(bold_lead).bold = True
    if text:
        p.add_run(text).italic = italic
    return p


def _numbered(document, items, *, start: int = 1):
    """Numbered paragraphs ``（1）……`` (plain text numbers: no list numbering carried across lists)."""
    for k, item in enumerate(items, start=start):
        lead, text = item if isinstance(item, tuple) else ("", item)
        _para(document, text, bold_lead=f"（{k}）{lead}")


def _pending(document, names):
    _para(document, "结果尚未生成：" + "、".join(names) + "。运行 resilience reproduce 后重新生成本报告。", italic=True)


def _figure(document, fig, caption, synthetic):
    import matplotlib.pyplot as plt
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=150, metadata={"Software": None})
    plt.close(fig)
    buf.seek(0)
    document.add_picture(buf, width=Cm(15))
    pic = document.paragraphs[-1]
    pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pic.paragraph_format.first_line_indent = 0
    pic.paragraph_format.keep_with_next = True
    text = caption + (f"（{SYNTHETIC_NOTE_ZH}）" if synthetic else "")
    cap = _para(document, indent=False)
    cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    cap.add_run(text).bold = True


def _two_lines(name: str) -> str:
    """A long Chinese name on two lines (for the path diagram's ellipses)."""
    return name if len(name) <= 5 else name[: (len(name) + 1) // 2] + "\n" + name[(len(name) + 1) // 2:]


# ---- the report -------------------------------------------------------------------------

def write_report(out_dir=None, results_dir=None, *, instrument=None, processed_dir=None,
                 synthetic=None, project: dict | None = None) -> Path:
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
    project : dict, optional
        The project's metadata (default: :func:`project_info` of ``study.yaml``).

    Returns
    -------
    pathlib.Path
        The written DOCX.

    Notes
    -----
    Numbers are formatted with :func:`analysis.study.tables.format_cell` in the
    report's style: every number keeps its leading zero (``0.010``), three
    decimals unless a column says otherwise.
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
    project = project_info() if project is None else project
    labels = gl.code_labels(instrument)
    syn = data_are_synthetic(processed_dir, synthetic)
    tables = report_tables(results_dir, instrument=instrument, processed_dir=processed_dir, synthetic=syn)
    m_head = _optional("measurement/headline", results_dir)
    d_head = _optional("data/headline", results_dir)
    s_head = _optional("structural/headline", results_dir)
    p_head = _optional("power/headline", results_dir)
    c_head = _optional("configurational/headline", results_dir)
    r_head = _optional("robustness/headline", results_dir)
    rep = reported_interval(s_head)
    cite = _Citations(_bib_entries())
    outputs = project.get("outputs") or []
    title = project["名称"]

    doc = Document()
    typeset(doc)
    _fixed_properties(doc, title)

    # ---- cover ----------------------------------------------------------------------
    def centred(text, size, *, bold=False, heading_font=False, space_after=0):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.first_line_indent = 0
        p.paragraph_format.space_after = Pt(space_after)
        r = p.add_run(text)
        r.font.size = Pt(size)
        r.bold = bold
        if heading_font:
            set_fonts(r._r.get_or_add_rPr(), HEADING_FONT)
        return p

    for _ in range(3):
        centred("", 12)
    year = f"{project['year']}年" if project.get("year") else ""
    centred(f"{year}{project['programme']}项目", 16, heading_font=True, space_after=24)
    centred("阶 段 报 告", 26, heading_font=True, space_after=36)
    for label, value in (("项目编号", project["number"]), ("项目名称", title), ("承担单位", project["承担单位"]),
                         ("项目负责人", project["负责人"]), ("报告日期", project["date"])):
        centred(f"{label}：{value}", 14, space_after=6)
    centred("", 12)
    if syn:
        p = centred("重要说明：本报告中的样本、估计值、表格和图均来自模拟数据（" + SYNTHETIC_NOTE_ZH
                    + "），用于检验分析流程，不是实地调查结果，不能作为经验发现引用。", 12, bold=True)
    else:
        centred("本报告基于实地调查数据。", 12)
    body = doc.add_section(WD_SECTION.NEW_PAGE)
    _page_numbers(body)

    number = 0

    def table(key):
        nonlocal number
        if key in tables:
            number += 1
            tables[key].to_docx(doc, number=number)
            return True
        return False

    sim = "（模拟数据，仅用于检验方法）" if syn else ""
    n = _fmt((d_head or {}).get("n_analysed"), "d") or _fmt((m_head or {}).get("n"), "d")
    k = _fmt((d_head or {}).get("n_communities"), "d")
    ti, de = _fmt((s_head or {}).get("total_indirect")), _fmt((s_head or {}).get("direct"))
    ti_ci = ((s_head or {}).get("effects") or {}).get("total_indirect", {}).get("ci_boot")
    n_rec = _fmt((p_head or {}).get("n_recommended"), "d")
    interval_words = rep["interval_zh"] or "bootstrap 区间"
    article = next((o for o in outputs if o.get("题名")), None)

    # ---- 摘要 -------------------------------------------------------------------------
    doc.add_heading(SECTIONS[0], level=1)
    abstract = [f"本报告是{year}{project['programme']}项目《{title}》（项目编号 {project['number']}）的阶段报告。"]
    abstract.append(
        f"课题组以种子文章提出的“一个抓手、两种资源、两类组织、三张清单”四条路径为理论框架，编制了包含 "
        f"{len(instrument.items)} 个李克特题项的调查问卷，并建立了从问卷生成、数据导入与筛查到测量模型、结构方程模型、"
        "组态分析和统计功效分析的可重复分析流程。")
    if syn:
        abstract.append("实地调查尚未开展，本报告的全部结果来自由声明的总体模型生成的模拟数据，只用于检验分析流程能否找回设定的参数，"
                        "不是经验发现。")
    if n is not None:
        abstract.append(f"分析样本为 {n} 份问卷" + (f"（{k} 个社区）" if k else "") + "。")
    if ti is not None and de is not None:
        ci = f"（95% {interval_words} [{_fmt(ti_ci[0])}, {_fmt(ti_ci[1])}]）" if ti_ci else ""
        abstract.append(f"结构模型中，党组织引领经四条路径对社区韧性的总间接效应为 {ti}{ci}，直接效应为 {de}{sim}。")
    if n_rec is not None:
        abstract.append(f"统计功效分析建议实地调查的有效样本量不少于 {n_rec} 份。")
    if article:
        abstract.append(f"阶段性成果包括在{article.get('发表', '')}发表的理论文章《{article['题名']}》。")
    abstract.append("下一步将按建议的样本量开展实地调查，用实地数据重新运行全部分析，并形成政策建议。")
    _para(doc, "".join(abstract))
    _para(doc, "关键词：基层党组织；社区韧性；韧性治理；结构方程模型；组态分析", indent=False)

    # ---- 一、研究进展 ----------------------------------------------------------------
    doc.add_heading(SECTIONS[1], level=1)
    doc.add_heading("（一）研究设计与调查工具", level=2)
    _para(doc, f"课题组以种子文章《城市基层党组织引领社区韧性治理的路径探索》{cite('ji2025seed')}为理论框架：党组织引领"
               "通过党建引领网格化治理、资源统筹（内部资源整合与外部资源引入）、组织建设（群众自组织与社区社会组织）和"
               "三张清单（权责清单、风险清单、制度清单）四条路径提升社区韧性（危机应对、系统复原、发展演进）。")
    _para(doc, f"问卷采用 {instrument.scale.points} 点同意量表，包含 {len(instrument.items)} 个题项、"
               f"{len(instrument.constructs)} 个一阶构念和 {len(instrument.second_order)} 个二阶构念，其中 "
               f"{len(instrument.reverse_codes)} 个题项反向计分，另设 1 道注意力检测题；每个题项都可追溯到种子文章的原文。"
               "问卷不收集任何直接身份信息，知情同意书符合《个人信息保护法》的要求。")
    table("instrument")

    doc.add_heading("（二）数据与样本", level=2)
    if syn:
        _para(doc, "在实地调查开始之前，课题组用一个声明的总体模型生成模拟问卷（格式与问卷星导出文件相同），"
                   "完整运行了分析流程，以检验各步骤能否准确估计设定的参数。")
    keys = ("n_rows", "n_consent_excluded", "n_collapsed", "n_quarantined", "n_flagged")
    if d_head and all(_fmt(d_head.get(key), "d") for key in keys):
        f = {key: _fmt(d_head[key], "d") for key in keys}
        _para(doc, f"原始导出共 {f['n_rows']} 条记录：未同意知情同意书而排除 {f['n_consent_excluded']} 条，"
                   f"重复下载的同一答卷合并 {f['n_collapsed']} 条，导入校验不合格而隔离 {f['n_quarantined']} 条，"
                   f"筛查标记并排除 {f['n_flagged']} 份；每一条记录的去向见表 {number + 1}。")
    table("flow")
    if n is not None:
        _para(doc, f"经导入校验与筛查后，分析样本为 {n} 份问卷" + (f"（来自 {k} 个社区）" if k else "")
              + ("，均为模拟数据。" if syn else "。"))
    table("screening")
    if n is None and "screening" not in tables:
        _pending(doc, ["results/data/headline.json", "results/data/screening_report.csv"])

    doc.add_heading("（三）分析方法", level=2)
    if rep["estimator_zh"]:
        two_stage = str((s_head or {}).get("missing", "")).replace("-", ".") == "two.stage"
        same = False
        if (m_head or {}).get("missing"):
            try:
                same = gl.estimator_name("ML", m_head["missing"]) == rep["estimator_zh"]
            except ValueError:
                same = False
        _para(doc, f"本研究的主分析为{rep['estimator_zh']}：" + ("测量模型与结构模型均采用这一方法" if same else "结构模型采用这一方法")
              + ("。题项存在少量随机缺失，两阶段法先用 EM 算法估计饱和均值与协方差，再以极大似然法拟合模型"
                 f"{cite('savalei2009twostage')}" if two_stage else "")
              + "。全信息极大似然（FIML）、稳健极大似然（MLR）、列删与 WLSMV 估计只在稳健性检验中用于比较，不是主分析。")
    if rep["interval"]:
        draws = f"共 {int(rep['draws'])} 次" if rep.get("draws") else ""
        ok = _fmt((s_head or {}).get("n_boot_ok"), "d")
        used = f"（有效 {ok} 次）" if ok else ""
        unit = rep["unit_zh"] or ""
        how = _INTERVAL_HOW.get(rep["interval"], "")
        cites = cite("hall1988symmetric", "cameron2008bootstrap") if rep["interval"] in ("symmetric-t", "t") else ""
        _para(doc, f"间接效应与路径系数的 95% 置信区间为{interval_words}{cites}：bootstrap {unit}"
                   f"{cite('field2007bootstrapping') if (s_head or {}).get('bootstrap_unit') == 'community' else ''}，"
                   f"{draws}{used}，每次都重新估计 EM 矩并拟合模型；{how}。判断中介是否成立看间接效应的置信区间是否包含 0"
                   f"{cite('preacher2008asymptotic')}。结构模型的估计值与区间可由 results/structural/command.txt 中的一条 "
                   "resilience fit 命令重现。")
    elif s_head is None:
        _pending(doc, ["results/structural/headline.json"])

    # ---- 二、阶段性成果 --------------------------------------------------------------
    doc.add_heading(SECTIONS[2], level=1)
    items = []
    for o in outputs:
        if o.get("题名"):
            items.append((f"{o.get('类型', '文章')}：", f"{o.get('作者', '')}《{o['题名']}》，{o.get('发表', '')}，"
                                                     f"{o.get('日期', '')}。" + (o.get("说明") or "")))
    meta = instrument.meta or {}
    items.append(("调查问卷：", f"《{meta.get('title_zh', '调查问卷')}》（{meta.get('version', '')} 版），中英文对照（Word 与网页版），"
                               "附 KoboToolbox 导入表（XLSForm）、编码手册和题项溯源表（survey/generated/）。"))
    items.append(("可重复的分析流程：", "数据导入与去标识化、问卷筛查、测量模型、结构方程模型与中介效应、组态分析、稳健性检验和"
                                  "统计功效分析的全部代码，一条 resilience reproduce 命令即可从原始导出重新得到本报告的每一个数字。"))
    if syn:
        items.append(("方法检验：", "在模拟数据上检验了各步骤能否找回设定的参数，并据此选定了置信区间方法、组态分析的阈值和实地调查的样本量。"))
    _numbered(doc, items)

    # ---- 三、主要发现 ----------------------------------------------------------------
    doc.add_heading(SECTIONS[3], level=1)
    if syn:
        _para(doc, "以下结果全部来自模拟数据，只说明分析流程在已知答案的数据上的表现，不能作为经验发现引用。", italic=True)
    doc.add_heading("（一）测量质量", level=2)
    parts = [(key, _fmt((m_head or {}).get(f"second_order_{key}"))) for key in ("cfi", "tli", "rmsea", "srmr")]
    parts = [(key, v) for key, v in parts if v is not None]
    if parts:
        _para(doc, "二阶测量模型拟合：" + "，".join(f"{key.upper()} = {v}" for key, v in parts)
              + f"{cite('hu1999cutoff')}。")
    rel_parts = [(label, _fmt((m_head or {}).get(key), ".2f")) for label, key in
                 (("Cronbach's α", "min_alpha"), ("组合信度", "min_cr"), ("AVE", "min_ave"), ("HTMT", "max_htmt"))]
    rel_parts = [(lab, v) for lab, v in rel_parts if v is not None]
    if rel_parts:
        _para(doc, "信度与效度：" + "，".join(f"{'最大' if lab == 'HTMT' else '最小'}{'' if lab == '组合信度' else ' '}{lab} = {v}"
                                         for lab, v in rel_parts)
              + f"{cite('fornell1981evaluating', 'henseler2015new')}。")
    table("fit")
    table("reliability")
    if not parts and "fit" not in tables and "reliability" not in tables:
        _pending(doc, ["results/measurement/"])

    doc.add_heading("（二）结构模型与中介效应", level=2)
    if ti is not None and de is not None:
        text = f"党组织引领对社区韧性的总间接效应为 {ti}"
        if ti_ci:
            text += f"（95% {interval_words} [{_fmt(ti_ci[0])}, {_fmt(ti_ci[1])}]）"
        text += f"，直接效应为 {de}"
        effects = (s_head or {}).get("effects") or {}
        specific = [(c, effects[c]) for c in sorted(effects, key=_effect_key)
                    if c.startswith("ind_") and effects[c].get("ci_boot")]
        if specific:
            text += "。四条路径的特定间接效应分别为：" + "；".join(
                f"{labels.get(c, c)} {_fmt(e['est'])} [{_fmt(e['ci_boot'][0])}, {_fmt(e['ci_boot'][1])}]"
                for c, e in specific)
        _para(doc, text + f"{sim}。")
    est = _optional("structural/estimates", results_dir)
    if est is not None and "paths" in tables:
        from .diagrams import STUDY_NODES, path_diagram

        diagram_labels = {c: _two_lines(labels.get(c, c)) for c in STUDY_NODES}
        try:
            fig = path_diagram(est, labels=diagram_labels, note=SYNTHETIC_NOTE_ZH if syn else None)
        except ValueError:
            fig = None
        if fig is not None:
            _figure(doc, fig, "图 1  结构模型标准化路径系数（* p < 0.05，** p < 0.01，*** p < 0.001）", syn)
    table("paths")
    table("indirect")
    if not any(key in tables for key in ("paths", "indirect")) and ti is None:
        _pending(doc, ["results/structural/"])
    mo_head = _optional("moderation/headline", results_dir)
    if mo_head:
        jn = mo_head.get("johnson_neyman") or {}
        where = f"；Johnson–Neyman 法：{jn['sentence_zh']}" if jn.get("sentence_zh") else ""
        a3, imm = mo_head.get("a3") or {}, mo_head.get("imm") or {}
        _para(doc, f"有调节的中介{cite('hayes2015index')}：居住年限越长，党组织引领通过网格化治理作用于社区韧性的链条是否越强？"
                   f"交互项 a3 = {_fmt(a3.get('est'))}（95% 区间 [{_fmt(a3.get('ci_lower'))}, {_fmt(a3.get('ci_upper'))}]），"
                   f"有调节的中介指数为 {_fmt(imm.get('est'))}（[{_fmt(imm.get('ci_lower'))}, {_fmt(imm.get('ci_upper'))}]）"
                   f"{where}{sim}。")
        table("moderation")
    w_head = _optional("weighting/headline", results_dir)
    if w_head:
        ws = w_head.get("weights") or {}
        _para(doc, f"抽样权重：每个社区访问的居民人数大致相同，而社区规模相差很大，样本不是自加权的。按社区户数构造设计权重后"
                   f"（Kish 设计效应 {_fmt(ws.get('deff_kish'), '.2f')}，有效样本量约 {_fmt(ws.get('n_effective'), '.0f')}），"
                   f"{_fmt(w_head.get('n_same_decision'), 'd')} / {_fmt(w_head.get('n_parameters'), 'd')} 个关键参数的显著性判断不变，"
                   f"加权与不加权估计之差最大为不加权标准误的 {_fmt(w_head.get('max_abs_diff_in_se'), '.2f')} 倍{sim}。")
        table("weighting")

    doc.add_heading("（三）组态分析", level=2)
    _configurational_text(doc, c_head, labels, syn, cite)
    table("configurational_solutions")
    table("configurational_recovery")
    if c_head is None and not any(key in tables for key in ("configurational_solutions", "configurational_recovery")):
        _pending(doc, ["results/configurational/"])

    doc.add_heading("（四）统计功效", level=2)
    if p_head and p_head.get("n_for_80") is not None:
        _para(doc, f"蒙特卡洛功效分析{cite('muthen2002monte')}从总体模型中按不同样本量各抽取 "
                   f"{_fmt(p_head.get('replications'), 'd') or '若干'} 个样本：四个特定间接效应的功效都达到 0.80 的最小模拟样本量为 "
                   f"{_fmt(p_head['n_for_80'], 'd')}（表 {number + 1}）。")
    if not table("power"):
        _pending(doc, ["results/power/"])

    # ---- 四、存在问题与对策 ----------------------------------------------------------
    doc.add_heading(SECTIONS[4], level=1)
    _numbered(doc, _problems(syn, rep, p_head, c_head, m_head, r_head, k))

    # ---- 五、下一步计划与时间安排 ------------------------------------------------------
    doc.add_heading(SECTIONS[5], level=1)
    doc.add_heading("（一）下一步工作", level=2)
    if p_head and p_head.get("n_recommended") is not None:
        deff = _fmt(p_head.get("design_effect"), ".2f")
        _para(doc, "统计功效分析表明，四个特定间接效应的功效都达到 0.80 的最小模拟样本量为 "
                   f"{_fmt(p_head.get('n_for_80'), 'd')}；受访者按社区聚集，按平均设计效应 {deff} 放大后，"
                   f"建议实地调查的有效样本量不少于 {n_rec} 份（results/power/headline.json）。", bold_lead="样本量：")
    else:
        _pending(doc, ["results/power/headline.json"])
    _numbered(doc, [
        f"在郑州、洛阳、开封、新乡、南阳五市抽取社区，按建议的样本量（{n_rec + ' 份' if n_rec else '见统计功效分析'}）"
        "开展实地问卷调查；",
        "用实地数据替换模拟数据，重新运行全部分析，并与模拟检验的结果对照；",
        "针对社区层面的构念（网格、清单）开展两水平分析，增加社区数量以支持组态分析；",
        "结合访谈与典型案例，形成面向社区党组织的政策建议，完成研究报告。"])
    doc.add_heading("（二）时间安排", level=2)
    schedule = project.get("schedule") or []
    if schedule:
        def when(s):
            t = str(s.get("时间") or PLACEHOLDER)
            return f"时间{t}" if t == PLACEHOLDER else f"时间：{t}"

        _numbered(doc, [(f"{s.get('阶段', '')}，{when(s)}：", str(s.get("工作内容", ""))) for s in schedule])
        if any(not s.get("时间") or s.get("时间") == PLACEHOLDER for s in schedule):
            _para(doc, f"注：“{PLACEHOLDER}”为课题组尚未确定的时间（study.yaml 的 project.schedule）。", indent=False)
    else:
        _para(doc, f"时间安排{PLACEHOLDER}（study.yaml 的 project.schedule）。")

    # ---- 参考文献 ----------------------------------------------------------------------
    doc.add_heading(SECTIONS[6], level=1)
    for k_ref, ref in enumerate(cite.references(), start=1):
        p = _para(doc, f"[{k_ref}] {ref}", indent=False)
        p.paragraph_format.left_indent = Pt(24)
        p.paragraph_format.first_line_indent = Pt(-24)

    path = Path(out_dir) / REPORT_NAME
    with atomic_path(path) as tmp:
        doc.save(str(tmp))
        deterministic_zip(tmp)
    return path


def _configurational_text(doc, c_head, labels, syn, cite):
    """The prose of the configurational section (nothing when the headline is incomplete)."""
    g = {key: _get(c_head, key, spec) for key, spec in (
        ("study.n_communities", "d"), ("study.max_necessity_consistency", ".3f"),
        ("study.max_necessity_condition", None), ("study.nca.n_necessary", "d"), ("study.nca.necessary", None),
        ("study.solution.intermediate.expression", None),
        ("study.solution.intermediate.consistency", ".3f"), ("planted.solution", None), ("planted.intermediate", None),
        ("planted.contains_zh", None), ("planted.exact_zh", None), ("planted.small.communities", "d"),
        ("planted.small.contains", ".2f"), ("planted.small.exact", ".2f"), ("planted.large.communities", "d"),
        ("planted.large.exact", ".2f"), ("incl_cut", ".2f"), ("pri_cut", ".2f"), ("calibration", None))}
    if not all(v is not None for v in g.values()):
        return

    def codes(text):
        return "、".join(labels.get(c.strip(), c.strip()) for c in re.split(r"[,，、]", text) if c.strip())

    _para(doc, "种子文章认为四条路径“协同”提升社区韧性，这是一个组态命题。课题组以社区为案例，用模糊集定性比较分析（fsQCA）"
               f"{cite('ragin2008redesigning')}和必要条件分析（NCA）{cite('dul2016necessary')}检验它：社区得分为本社区受访者量表得分的均值，"
               + ("按样本百分位数" if (c_head or {}).get("calibration_kind") == "quantile" else "按量表上的锚点")
               + f"直接校准（{labels.get(g['calibration'], g['calibration'])}），真值表的一致性阈值为 {g['incl_cut']}、"
                 f"PRI 阈值为 {g['pri_cut']}。")
    _para(doc, f"在本研究的 {g['study.n_communities']} 个社区中，没有条件在种类上必要（QCA 必要性一致性最高为"
               f"{codes(g['study.max_necessity_condition'])}的 {g['study.max_necessity_consistency']}）；NCA 把 "
               f"{g['study.nca.n_necessary']} 个条件（{codes(g['study.nca.necessary'])}）记为程度上的必要，但生成数据的总体模型是线性的、"
               f"并无必要条件，这提示在 {g['study.n_communities']} 个社区上，相关本身就会产生 NCA 效应。fsQCA 的中间解为“"
               f"{gl.zh_expression(g['study.solution.intermediate.expression'], labels)}”，其一致性仅为 "
               f"{g['study.solution.intermediate.consistency']}：数据中没有一致的充分组态，高韧性随“高”的路径个数逐步增强，"
               "这正是可加模型在集合论中的样子。" + ("（模拟数据，仅用于检验方法。）" if syn else ""))
    reading = "，或".join("与".join(labels.get(c, c) for c in term.strip().split("*")) + "都强"
                         for term in g["planted.solution"].split("+"))
    _para(doc, "为检验方法能否找回已知的组态，课题组按以下流程做了植入真值的模拟：")
    _numbered(doc, [f"在总体模型中声明社区层面的组态真值 {g['planted.solution']}（即{reading}）；",
                    "按该真值模拟社区，社区中的受访者按声明的载荷与阈值回答全部题项；",
                    "与研究样本完全相同地聚合、校准、构建真值表并做布尔最小化；",
                    "把得到的解与真值比较，并在多次重复模拟中统计恢复率。"])
    _para(doc, f"在所展示的一组模拟社区中，中间解为“{gl.zh_expression(g['planted.intermediate'], labels)}”，"
               f"包含真值各项：{g['planted.contains_zh']}，与真值完全一致：{g['planted.exact_zh']}。在重复模拟中，"
               f"{g['planted.small.communities']} 个社区时包含真值各项的比例为 {g['planted.small.contains']}、完全一致的比例为 "
               f"{g['planted.small.exact']}；{g['planted.large.communities']} 个社区时完全一致的比例为 {g['planted.large.exact']}。"
               f"结论：在 {g['planted.small.communities']} 个左右的社区上，组态分析只能作为探索，"
               "实地调查若要检验“协同”命题，需要更多、组合更多样的社区。")


def _problems(syn, rep, p_head, c_head, m_head, r_head, k) -> list[tuple[str, str]]:
    """存在问题与对策: (lead, text) pairs, with numbers from the headlines where they exist."""
    out = []
    if syn:
        out.append(("问题：实地调查尚未开展，现有结果均来自模拟数据。",
                    "对策：分析流程已能直接读取问卷星与 KoboToolbox 的导出文件，实地数据到位后无需手工整理即可重新生成全部结果；"
                    "在此之前，报告中的数字只用于检验方法，不作为结论引用。"))
    deff = _fmt((p_head or {}).get("design_effect"), ".2f")
    kk = k or "约 60"
    out.append(("问题：同一社区的受访者彼此并不独立。",
                (f"对策：平均设计效应为 {deff}，" if deff else "对策：")
                + "置信区间按社区整群重抽样（聚类 bootstrap），并以两水平模型区分社区内与社区间的中介；"
                  "实地调查的样本量已按设计效应放大。"))
    small = _get(c_head, "planted.small.exact", ".2f")
    large = _get(c_head, "planted.large.exact", ".2f")
    large_n = _get(c_head, "planted.large.communities", "d")
    out.append((f"问题：{kk} 个社区不足以可靠地识别组态。",
                "对策：" + (f"模拟表明完全找回植入组态的比例在 {kk} 个社区时仅为 {small}，在 {large_n} 个社区时为 {large}；"
                           if small and large and large_n else "")
                + "实地调查应尽量增加社区数量并覆盖不同类型的社区，组态分析结论暂作探索性结论。"))
    harman = _fmt((m_head or {}).get("harman_share"), ".2f")
    out.append(("问题：全部构念由居民同一次自评测量，可能存在共同方法偏差。",
                "对策：" + (f"模拟数据中 Harman 单因子解释的方差比例为 {harman}；" if harman else "")
                + "实地调查将同时收集社区干部与居民两类来源的数据，并补充网格设置、清单制度等客观记录。"))
    estimator = re.sub(r"（.*?）", "", rep.get("estimator_zh") or "") or "主分析的估计方法"
    out.append((f"问题：{estimator}以随机缺失（MAR）为前提。",
                "对策：稳健性检验以 FIML、列删、MLR 与 WLSMV 重新估计并报告结论的变化"
                + (f"（间接效应标准化估计的最大差异为 {_fmt(r_head.get('max_abs_delta_std_indirect'))}）"
                   if r_head and r_head.get("max_abs_delta_std_indirect") is not None else "")
                + "；实地调查中减少漏答，并记录未作答的原因。"))
    return out
