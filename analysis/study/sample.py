"""The sample step: what came in, what screening kept, who the respondents are.

Writes under ``results/data/`` the tables the data chapter and the stage
report show: the ingestion counts, the screening report, the accuracy of each
screening rule against the synthetic truth (when there is one), and the
composition of the analysed sample by city, community type, role and the other
context variables.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import paths
from ..io import read_json, write_csv, write_json
from ..results import SYNTHETIC_NOTE_EN
from .instrument import load_instrument
from .screen import screening_accuracy

__all__ = ["sample_composition", "flow_table", "run_sample"]

#: Context variables described in the sample table, in this order.
DESCRIBED = ("city", "community_type", "role", "gender", "age_band", "education", "party_member")


def sample_composition(data: pd.DataFrame, instrument=None) -> pd.DataFrame:
    """Counts and shares of the analysed sample on each categorical context variable.

    Parameters
    ----------
    data : DataFrame
        The analysed sample (``analysis.parquet``).
    instrument : Instrument, optional

    Returns
    -------
    DataFrame
        Columns ``variable, value, label_zh, label_en, n, percent``; one row per
        category (categories with no respondent are kept with ``n = 0``).

    Examples
    --------
    >>> df = pd.DataFrame({"city": [1, 1, 2], "role": [1, 2, 2]})
    >>> t = sample_composition(df)
    >>> t.loc[(t.variable == "city") & (t.value == 1), "n"].item()
    2
    """
    ins = instrument or load_instrument()
    rows = []
    for var in ins.context:
        if var.code not in DESCRIBED or var.code not in data.columns or not var.choices:
            continue
        counts = data[var.code].value_counts(dropna=True)
        total = int(counts.sum())
        for ch in var.choices:
            n = int(counts.get(ch.value, 0))
            rows.append({"variable": var.code, "value": ch.value, "label_zh": ch.zh, "label_en": ch.en,
                         "n": n, "percent": 100.0 * n / total if total else float("nan")})
    return pd.DataFrame(rows, columns=["variable", "value", "label_zh", "label_en", "n", "percent"])


def flow_table(counts: dict, n_analysed: int) -> pd.DataFrame:
    """Every record from the raw exports to the analysis sample, one stage a row.

    Parameters
    ----------
    counts : dict
        ``counts`` of ``ingest_report.json`` (records, consent_excluded,
        duplicates_collapsed, quarantined, accepted).
    n_analysed : int
        Responses kept after screening.

    Returns
    -------
    DataFrame
        ``stage, stage_zh, n, remaining``: each stage removes ``n`` records
        from the ones remaining before it (the first row counts the records,
        the last the analysis sample); the rows reconcile:
        records - excluded - collapsed - quarantined - flagged = analysed.

    Examples
    --------
    >>> t = flow_table({"records": 10, "consent_excluded": 1, "duplicates_collapsed": 1, "quarantined": 2,
    ...                 "accepted": 6}, 5)
    >>> t["remaining"].tolist()
    [10, 9, 8, 6, 6, 5, 5]
    """
    records = int(counts["records"])
    steps = [("records in the raw export(s)", "原始导出记录", records, records)]
    left = records
    for key, en, zh in (("consent_excluded", "excluded: no affirmative consent", "排除：未同意知情同意书"),
                        ("duplicates_collapsed", "collapsed: repeated copy of a submission", "合并：重复下载的同一答卷"),
                        ("quarantined", "quarantined at ingestion", "隔离：导入校验不合格")):
        left -= int(counts[key])
        steps.append((en, zh, int(counts[key]), left))
    if left != int(counts["accepted"]):
        raise ValueError(f"the ingest report does not reconcile: {counts}")
    steps.append(("processed (de-identified, validated)", "导入后的有效记录", left, left))
    steps.append(("flagged by screening", "筛查标记", left - int(n_analysed), int(n_analysed)))
    steps.append(("analysis sample", "分析样本", int(n_analysed), int(n_analysed)))
    return pd.DataFrame(steps, columns=["stage", "stage_zh", "n", "remaining"])


def run_sample(processed_dir=None, out_dir=None, truth=None, instrument=None) -> list[Path]:
    """Write the sample tables and the data chapter's headline numbers.

    Parameters
    ----------
    processed_dir : path-like, optional
        Folder with ``analysis.parquet``, ``flags.csv``, ``screening_report.csv``
        and ``ingest_report.json``; defaults to ``paths.DEFAULT.processed``.
    out_dir : path-like, optional
        Defaults to ``results/data``.
    truth : path-like, optional
        The synthetic export's truth file; when given (and present), the
        sensitivity and specificity of each screening rule are written.

    Returns
    -------
    list of Path
        ``ingest.csv``, ``screening_report.csv``, ``screening_accuracy.csv``
        (synthetic data only), ``composition.csv``, ``headline.json``.
    """
    processed = Path(processed_dir) if processed_dir is not None else paths.DEFAULT.processed
    out = Path(out_dir) if out_dir is not None else paths.DEFAULT.results / "data"
    ins = instrument or load_instrument()
    report = read_json(processed / "ingest_report.json")
    data = pd.read_parquet(processed / "analysis.parquet")
    screening = pd.read_csv(processed / "screening_report.csv")
    counts = report["counts"]
    synthetic = truth is not None and Path(truth).exists()
    written = [
        write_csv(out / "ingest.csv", flow_table(counts, len(data))),
        write_csv(out / "screening_report.csv", screening),
        write_csv(out / "composition.csv", sample_composition(data, ins)),
    ]
    headline = {
        "synthetic": synthetic,
        "note": SYNTHETIC_NOTE_EN if synthetic else "",
        "n_rows": int(counts["records"]),
        "n_consent_excluded": int(counts["consent_excluded"]),
        "n_collapsed": int(counts["duplicates_collapsed"]),
        "n_accepted": int(counts["accepted"]),
        "n_quarantined": int(counts["quarantined"]),
        "n_analysed": int(len(data)),
        "n_flagged": int(counts["accepted"] - len(data)),
        "n_communities": int(data["community"].nunique()) if "community" in data else None,
        "flagged_by_rule": {r.rule: int(r.flagged) for r in screening.itertuples()},
        "encoding": report.get("encoding"),
        "format": report.get("format"),
    }
    if synthetic:
        accuracy = screening_accuracy(processed / "flags.csv", truth)
        written.append(write_csv(out / "screening_accuracy.csv", accuracy))
        anyrow = accuracy.loc[accuracy["rule"] == "any"].iloc[0]
        headline["screening_sensitivity_any"] = float(anyrow["sensitivity"])
        headline["screening_specificity_any"] = float(anyrow["specificity"])
    written.append(write_json(out / "headline.json", headline))
    return written
