"""The Chinese-English glossary of the book and the stage report.

Two sources: the instrument (construct names in both languages, read through
:func:`analysis.study.instrument.load_instrument`) and the fixed list
:data:`TERMS` of governance and statistical terms below.
"""
from __future__ import annotations

import pandas as pd

__all__ = ["TERMS", "glossary"]

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
