"""The Chinese-English glossary of the book and the stage report.

Two sources: the instrument (construct names in both languages, read through
:func:`analysis.study.instrument.load_instrument`) and the fixed lists below:
:data:`TERMS` (governance and statistical terms, the book's glossary),
:data:`CODES` (the codes of results files that are not construct codes:
models, screening rules, effects, calibration rules), :data:`INTERVALS` and
:data:`ESTIMATORS` (the names of bootstrap intervals and estimators).

:func:`code_labels` is the one mapping from a code in a results file to the
Chinese words the stage report prints; :func:`zh` and :func:`zh_expression`
apply it to one code or to a fsQCA expression.  :func:`interval_name` and
:func:`estimator_name` name the reported interval and estimator in words,
in Chinese or in English, for the report, the README check and the tests.
"""
from __future__ import annotations

import re

import pandas as pd

__all__ = ["TERMS", "CODES", "INTERVALS", "ESTIMATORS", "BOOTSTRAP_UNITS", "glossary", "code_labels", "zh",
           "zh_expression", "interval_name", "estimator_name", "COLUMNS", "column_label"]

#: Governance and method terms: (中文, English, short explanation in Chinese).
TERMS: tuple[tuple[str, str, str], ...] = (
    ("韧性治理", "resilience governance", "治理体系承受重大突发事件压力后恢复常态并推动变革的能力"),
    ("基层党组织", "grassroots Party organization", "城市社区党组织，社区治理的领导核心"),
    ("网格化治理", "grid-based governance", "把社区划分为网格，由网格党组织和网格员联系服务群众"),
    ("网格员", "grid worker", "负责一个网格的信息收集、隐患上报和服务的人员"),
    ("业委会", "owners' committee", "业主委员会"),
    ("驻区单位", "resident work unit", "位于社区内的机关、企事业单位"),
    ("群众自组织", "residents' self-organization", "居民自发组建的互助、志愿和议事组织"),
    ("社区社会组织", "community social organization", "在社区开展服务的社会组织"),
    ("权责清单", "list of powers and responsibilities", "划分各方在风险应对中的单独责任和共同责任"),
    ("风险清单", "risk list", "社区主要潜在风险及重点人群的清单"),
    ("制度清单", "list of institutions", "调查、检视、演练、应急响应、风险处置等制度"),
    ("结构方程模型", "structural equation model (SEM)", "同时估计测量模型与潜变量之间回归关系的模型"),
    ("验证性因子分析", "confirmatory factor analysis (CFA)", "检验题项是否按预设结构测量潜变量"),
    ("二阶因子", "second-order factor", "由若干一阶因子共同反映的更高层潜变量"),
    ("中介效应", "mediation / indirect effect", "自变量经由中介变量影响因变量的部分，a·b"),
    ("直接效应", "direct effect", "控制中介后自变量对因变量的影响 c′"),
    ("自助法", "bootstrap", "有放回地重抽样以估计统计量的抽样分布"),
    ("组合信度", "composite reliability (CR)", "基于因子载荷计算的信度"),
    ("平均方差抽取量", "average variance extracted (AVE)", "因子解释的题项方差的平均比例"),
    ("异质-单质比", "heterotrait-monotrait ratio (HTMT)", "区分效度指标"),
    ("测量不变性", "measurement invariance", "不同群体对题项的理解与计分方式相同"),
    ("共同方法偏差", "common-method variance", "同一来源、同一方法测量造成的虚假相关"),
    ("组内相关系数", "intraclass correlation (ICC)", "同一社区内受访者之间的相似程度"),
    ("设计效应", "design effect", "整群抽样使方差放大的倍数"),
    ("统计功效", "statistical power", "效应确实存在时检验能够检出它的概率"),
    ("蒙特卡洛模拟", "Monte Carlo simulation", "从已知总体反复抽样以研究统计方法的表现"),
    ("模拟数据", "synthetic data", "由声明的总体模型生成、并非实地调查的数据"),
    ("反向计分", "reverse keying", "负向措辞题项计分为 6 − x"),
    ("注意力检测题", "attention check", "要求选择指定答案以识别粗心作答"),
    ("直线作答", "straight-lining", "连续多题选择相同答案"),
)


def glossary(instrument=None) -> pd.DataFrame:
    """The glossary as a table sorted by the English term.

    Parameters
    ----------
    instrument : Instrument, optional
        Source of the construct names (default: the study's instrument).

    Returns
    -------
    pandas.DataFrame
        Columns ``zh`` (中文), ``en`` (English), ``code`` (the construct code,
        empty for general terms) and ``note`` (a short explanation).

    Examples
    --------
    >>> g = glossary()
    >>> {"zh", "en", "code", "note"} <= set(g.columns) and int((g["code"] == "PL").sum())
    1
    """
    if instrument is None:
        from .instrument import load_instrument

        instrument = load_instrument()
    rows = [{"zh": c.name_zh, "en": c.name_en, "code": c.code, "note": "一阶构念 first-order construct"}
            for c in instrument.constructs]
    rows += [{"zh": s.name_zh, "en": s.name_en, "code": s.code,
              "note": "二阶构念：" + " + ".join(s.children)} for s in instrument.second_order]
    rows += [{"zh": zh, "en": en, "code": "", "note": note} for zh, en, note in TERMS]
    frame = pd.DataFrame(rows, columns=["zh", "en", "code", "note"])
    return frame.sort_values("en", key=lambda s: s.str.lower(), kind="stable").reset_index(drop=True)


#: Codes in results files that are not construct codes (code -> 中文).
CODES: dict[str, str] = {
    # measurement models (results/measurement/fit.csv)
    "first_order": "一阶测量模型", "second_order": "二阶测量模型", "hypothesized": "假设模型",
    # screening rules (results/data/screening_report.csv)
    "attention": "注意力检测题未通过", "longstring": "连续相同作答过长", "speed": "作答时间过短",
    "duplicate": "重复提交", "mahalanobis": "多元离群值（马氏距离）",
    # effects of the structural model (results/structural/indirect.csv, power/curve.csv)
    "total_indirect": "总间接效应", "total": "总效应", "direct": "直接效应",
    # controls (analysis.study.structural.control_columns)
    "years10": "居住年限（每 10 年）", "years": "居住年限",
    # sections of the seed article (instrument pathways)
    "opening": "引言",
    # resampling units and calibration rules (study.yaml)
    "community": "社区", "respondent": "受访者",
    "quantile_95_50_5": "样本第 95、50、5 百分位数锚点",
    "quantile_75_50_25": "样本第 75、50、25 百分位数锚点",
    "scale_3_35_4": "量表点 4、3.5、3 锚点",
    # treatments of missing items and bootstrap methods (study.yaml, results/*/headline.json)
    "two.stage": "两阶段极大似然（先以 EM 估计饱和均值与协方差，再以 ML 拟合）",
    "two-stage": "两阶段极大似然（先以 EM 估计饱和均值与协方差，再以 ML 拟合）",
    "listwise": "列删（只用全部题项都作答的问卷）", "fiml": "全信息极大似然（FIML）",
    "two-stage-em": "每个 bootstrap 样本重新做 EM 再以 ML 拟合",
}

#: Bootstrap interval types (``study.yaml`` ``structural.bootstrap_interval``, the keys of
#: :data:`analysis.sem.bootstrap.INTERVAL_COLUMNS`) -> (中文, English).
INTERVALS: dict[str, tuple[str, str]] = {
    "symmetric-t": ("对称 bootstrap-t 区间", "symmetric bootstrap-t"),
    "t": ("等尾 bootstrap-t 区间", "equal-tailed bootstrap-t"),
    "percentile": ("百分位 bootstrap 区间", "percentile bootstrap"),
    "bc": ("偏差校正（BC）bootstrap 区间", "bias-corrected bootstrap"),
    "bca": ("偏差校正加速（BCa）bootstrap 区间", "BCa bootstrap"),
}

#: (estimator, missing) of a fit (``results/structural/headline.json``) -> (中文, English).
ESTIMATORS: dict[tuple[str, str], tuple[str, str]] = {
    ("ML", "two.stage"): ("两阶段极大似然估计（two-stage ML）", "two-stage ML"),
    ("ML", "fiml"): ("全信息极大似然估计（FIML）", "ML-FIML"),
    ("ML", "listwise"): ("极大似然估计（列删）", "listwise ML"),
    ("MLR", "fiml"): ("稳健极大似然估计（MLR，FIML）", "MLR-FIML"),
    ("MLR", "listwise"): ("稳健极大似然估计（MLR，列删）", "listwise MLR"),
    ("WLSMV", "pairwise"): ("均值方差校正的加权最小二乘估计（WLSMV，成对删除）", "pairwise WLSMV"),
    ("WLSMV", "listwise"): ("均值方差校正的加权最小二乘估计（WLSMV，列删）", "listwise WLSMV"),
}

#: Resampling units of the bootstrap (``structural.bootstrap_unit``) -> how the report says it.
BOOTSTRAP_UNITS: dict[str, str] = {
    "community": "按社区整群重抽样（聚类 bootstrap）",
    "respondent": "逐个重抽受访者",
}

#: Column headers of the book's tables: results column -> Chinese header.  :func:`column_label`
#: prints ``中文 (column)`` so that a reader still finds the lavaan / results-file name.
COLUMNS: dict[str, str] = {
    # lavaan parameter tables
    "lhs": "左侧变量", "op": "关系", "rhs": "右侧变量", "label": "标签", "level": "层次", "group": "组",
    "est": "估计值", "se": "标准误", "z": "z 值", "pvalue": "p 值", "ci_lower": "区间下限", "ci_upper": "区间上限",
    "std_all": "标准化估计值", "std_se": "标准化标准误", "std_ci_lower": "标准化区间下限",
    "std_ci_upper": "标准化区间上限", "boot_se": "bootstrap 标准误", "mc_se": "蒙特卡洛标准误",
    "ci_lower_delta": "delta 法下限", "ci_upper_delta": "delta 法上限",
    "ci_lower_boot": "报告区间下限", "ci_upper_boot": "报告区间上限",
    "ci_lower_perc": "百分位下限", "ci_upper_perc": "百分位上限", "ci_lower_bc": "偏差校正下限",
    "ci_upper_bc": "偏差校正上限", "ci_lower_mc": "蒙特卡洛下限", "ci_upper_mc": "蒙特卡洛上限",
    # fit
    "model": "模型", "chisq": "χ²", "df": "自由度", "npar": "参数个数", "nobs": "样本量", "cfi": "CFI", "tli": "TLI",
    "rmsea": "RMSEA", "rmsea_ci_lower": "RMSEA 下限", "rmsea_ci_upper": "RMSEA 上限", "srmr": "SRMR", "aic": "AIC",
    "bic": "BIC", "converged": "收敛", "n_issues": "问题数", "compared_with": "比较对象", "delta_chisq": "Δχ²",
    "delta_df": "Δ自由度", "delta_pvalue": "Δχ² 的 p 值", "delta_cfi": "ΔCFI", "delta_rmsea": "ΔRMSEA",
    "chisq_scaled": "校正 χ²", "cfi_robust": "稳健 CFI", "tli_robust": "稳健 TLI", "rmsea_robust": "稳健 RMSEA",
    "lrt_delta_chisq": "Δχ²", "lrt_delta_df": "Δ自由度", "lrt_pvalue": "Δχ² 的 p 值", "lrt_delta_cfi": "ΔCFI",
    "lrt_delta_rmsea": "ΔRMSEA", "method_variance": "方法方差",
    # reliability, validity, factor analysis
    "scale": "构念", "name_zh": "名称", "n_items": "题项数", "alpha": "α", "omega": "ω", "cr": "组合信度",
    "alpha_lower": "α 95% 下限", "alpha_upper": "α 95% 上限",
    # effects (the stage report's path and effect tables)
    "path": "路径", "effect": "效应", "excludes_zero": "区间不含 0",
    "ave": "AVE", "factor": "因子", "component": "成分", "pc_observed": "主成分特征值（观测）",
    "pc_simulated": "主成分特征值（模拟均值）", "pc_quantile": "主成分特征值（模拟 95% 分位）",
    "pc_sd": "主成分特征值（模拟标准差）", "fa_observed": "因子特征值（观测）", "fa_simulated": "因子特征值（模拟均值）",
    "fa_quantile": "因子特征值（模拟 95% 分位）", "fa_sd": "因子特征值（模拟标准差）",
    "group_var": "分组变量", "n_groups": "组数", "invariant": "不变性成立", "status": "状态",
    "method": "方法", "share": "方差比例", "eigenvalue": "特征值", "threshold": "界值", "dominant": "占主导",
    # clustering, power
    "score": "得分", "icc1": "ICC(1)", "n_clusters": "社区数", "mean_size": "平均每社区人数",
    "design_effect": "设计效应", "n_effective": "有效样本量", "n": "样本量", "param": "参数",
    "truth_kind": "真值类型", "truth": "真值", "mean": "均值", "bias": "偏差", "rel_bias": "相对偏差",
    "rmse": "均方根误差", "emp_se": "经验标准误", "n_valid": "有效重复数", "n_invalid": "无效重复数",
    "interval": "区间", "coverage_mc_se": "覆盖率的蒙特卡洛标准误",
    # data and screening
    "rule": "筛查规则", "flagged": "标记数", "n_before": "筛查前", "n_after": "筛查后", "active": "启用",
    "not_evaluable": "无法判断", "target": "针对的问题问卷", "tp": "真阳性", "fp": "假阳性", "fn": "假阴性",
    "tn": "真阴性", "sensitivity": "灵敏度", "specificity": "特异度", "variable": "变量", "label_zh": "类别",
    "label_en": "Category", "percent": "百分比",
    # robustness
    "strategy": "缺失数据处理", "specification": "设定", "description": "说明", "delta_std_all": "与参照之差",
    "significance_changed": "显著性改变", "reference": "参照设定", "group_equal": "跨组相等的参数",
    # configurational
    "condition": "条件", "ceiling": "上限线", "effect_size": "效应量 d", "size": "样本量", "accuracy": "准确度",
    "ceiling_zone": "上限区", "scope": "范围", "p_value": "p 值", "necessary": "必要", "row": "行",
    "incl": "一致性", "pri": "PRI", "out": "结果", "cases": "案例", "kind": "解的类型", "term": "组态",
    "term_consistency": "组态一致性", "term_pri": "组态 PRI", "raw_coverage": "原始覆盖度",
    "unique_coverage": "唯一覆盖度", "core": "核心条件", "consistency": "一致性", "coverage": "覆盖度",
    "expression": "表达式", "exact": "完全恢复", "contains": "包含真值", "correct": "正确", "extra_terms": "多余组态",
    "communities": "社区数", "pri_cut": "PRI 阈值", "replications": "重复次数", "mc_se_max": "最大蒙特卡洛标准误",
    "anchors": "锚点", "incl_cut": "一致性阈值", "reported": "报告设定", "n_positive": "结果为 1 的行数",
    "same_as_reported": "与报告解相同", "recovered": "恢复真值",
}


def column_label(column: str) -> str:
    """The header of a results column in the book: ``中文 (column)``, or the column when unknown.

    A header that already holds Chinese is returned as it is.

    Examples
    --------
    >>> column_label("est"), column_label("ci_lower_boot"), column_label("效应 Effect")
    ('估计值 (est)', '报告区间下限 (ci_lower_boot)', '效应 Effect')
    """
    column = str(column)
    if column not in COLUMNS or re.search(r"[\u4e00-\u9fff]", column):
        return column
    return f"{COLUMNS[column]} ({column})"

_PREFIX_ZH = {"role": "身份", "community_type": "社区类型"}
_DUMMY_PREFIX = {"role": "role", "community_type": "ctype"}


def code_labels(instrument=None) -> dict[str, str]:
    """Every code the report may meet in a results file -> its Chinese label.

    Construct codes (first- and second-order) come from the instrument; the
    dummies of the control variables (``role_2``, ``ctype_3``: category k
    against category 1, as :func:`analysis.study.structural.control_columns`
    makes them) from the instrument's context variables; ``ind_X`` and
    ``diff_X_Y`` for every pair of construct codes; the rest from
    :data:`CODES`.

    Parameters
    ----------
    instrument : Instrument, optional
        Default: the study's instrument.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> labels = code_labels()
    >>> labels["PL"], labels["ind_GRID"], labels["role_2"], labels["first_order"]
    ('党组织引领', '经党建引领网格化治理的间接效应', '身份：网格员（相对于居民）', '一阶测量模型')
    """
    if instrument is None:
        from .instrument import load_instrument

        instrument = load_instrument()
    names = {c.code: c.name_zh for c in instrument.constructs}
    names.update({s.code: s.name_zh for s in instrument.second_order})
    labels = dict(names)
    for code, name in names.items():
        labels[f"ind_{code}"] = f"经{name}的间接效应"
        for other, other_name in names.items():
            if other != code:
                labels[f"diff_{code}_{other}"] = f"间接效应之差：{name} − {other_name}"
    for var in instrument.context:
        if var.code in _DUMMY_PREFIX and var.choices:
            base = var.choices[0]
            for choice in var.choices[1:]:
                labels[f"{_DUMMY_PREFIX[var.code]}_{choice.value}"] = (
                    f"{_PREFIX_ZH[var.code]}：{choice.zh}（相对于{base.zh}）")
    labels.update(CODES)
    return labels


def zh(code, labels: dict | None = None) -> str:
    """The Chinese label of one code (the code itself when it has none).

    Examples
    --------
    >>> zh("total_indirect"), zh("ctype_3"), zh("某个中文词")
    ('总间接效应', '社区类型：安置小区（相对于老旧小区）', '某个中文词')
    """
    labels = code_labels() if labels is None else labels
    return labels.get(str(code), str(code))


def zh_expression(expression: str, labels: dict | None = None) -> str:
    """A fsQCA expression (``GRID*RES + ~ORG``) with every condition code in Chinese.

    ``*`` (and), ``+`` (or) and ``~`` (not) stay; the report's table notes say what they mean.

    Examples
    --------
    >>> zh_expression("GRID*RES + ~ORG*LIST")
    '党建引领网格化治理*资源统筹 + ~组织建设*三张清单'
    """
    labels = code_labels() if labels is None else labels
    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: labels.get(m.group(0), m.group(0)), str(expression))


def interval_name(interval: str, lang: str = "zh") -> str:
    """The name of a bootstrap interval type in words.

    Examples
    --------
    >>> interval_name("symmetric-t"), interval_name("symmetric-t", "en")
    ('对称 bootstrap-t 区间', 'symmetric bootstrap-t')
    """
    if interval not in INTERVALS:
        raise ValueError(f"unknown bootstrap interval {interval!r}; one of {list(INTERVALS)}")
    return INTERVALS[interval][0 if lang == "zh" else 1]


def estimator_name(estimator: str, missing: str, lang: str = "zh") -> str:
    """The name of an estimator with its treatment of missing data, in words.

    ``missing`` is spelt as in the fit options (``two.stage``; ``two-stage`` is read too).

    Examples
    --------
    >>> estimator_name("ML", "two.stage", "en"), estimator_name("ML", "two-stage")
    ('two-stage ML', '两阶段极大似然估计（two-stage ML）')
    """
    key = (str(estimator).upper(), str(missing).replace("-", "."))
    if key not in ESTIMATORS:
        raise ValueError(f"no name for estimator {estimator!r} with missing={missing!r}; one of {list(ESTIMATORS)}")
    return ESTIMATORS[key][0 if lang == "zh" else 1]
