"""What the book's chapters call to glue numbers and to say what is missing.

Every number in the book's prose is glued (myst-nb ``glue``) from a results
file, never typed.  The numbers each chapter shows are declared once, in
:data:`BOOK_NUMBERS` (chapter, source file, field, format); a chapter calls
:func:`glue_chapter` and the book test (``tests/test_book.py``) reads the
same declaration, reads the results files itself and checks that the built
pages show exactly those strings.

When a results file has not been produced yet, :func:`glue_chapter` glues a
visible placeholder (so the build stays free of warnings) and
:func:`pending_note` shows an admonition naming the missing files and the
command that makes them.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import paths

__all__ = [
    "Number",
    "BOOK_NUMBERS",
    "PLACEHOLDER",
    "Text",
    "source_path",
    "read_number",
    "format_number",
    "chapter_numbers",
    "glue_chapter",
    "missing_sources",
    "pending_note",
    "synthetic_banner",
    "show_figure",
    "is_synthetic",
    "results_table",
    "load_optional",
    "wide_table",
    "notes_list",
]

#: What a glued number shows while its results file does not exist yet.
PLACEHOLDER = "〔待生成 pending〕"


@dataclass(frozen=True)
class Number:
    """One number shown in the book.

    Attributes
    ----------
    key : str
        The glue key used in the chapter (``{glue:text}`key```).
    chapter : str
        The chapter file stem (``"05_measurement"``) whose page shows it.
    source : str
        ``"results:<name>"`` for :func:`analysis.results.load` names
        (``results/<name>.csv|json``) or ``"processed:<file>"`` for a file
        under ``data/processed/``.
    field : str
        For JSON, a dotted key path (``"fit.cfi"``).  For CSV,
        ``"<column>@<keycolumn>=<value>"`` (the value of ``column`` in the one
        row where ``keycolumn == value``), or ``"<column>@sum"``,
        ``"<column>@max"``, ``"<column>@min"``, or ``"@nrows"``.
    fmt : str
        A format spec: ``".3f"``, ``"d"`` (integer), ``".1%"``, ``"p"`` (a
        p-value: ``< .001`` or three decimals without the leading zero),
        ``"s"`` (text, shown as it is in the file).
    """

    key: str
    chapter: str
    source: str
    field: str
    fmt: str = ".3f"


def _n(key, chapter, source, field, fmt=".3f"):
    return Number(key, chapter, source, field, fmt)


#: Every number glued in chapters 4-10 (chapters 1-3 glue from the instrument); ``chapter`` is the
#: file stem, so the configurational chapter (the 7th in the table of contents) is ``07_configurational``
#: beside ``07_robustness``.
BOOK_NUMBERS: tuple[Number, ...] = (
    # chapter 4: data (keys of analysis.study.sample.run_sample's headline.json)
    _n("data_n_in", "04_data", "results:data/headline", "n_rows", "d"),
    _n("data_n_consent_excluded", "04_data", "results:data/headline", "n_consent_excluded", "d"),
    _n("data_n_collapsed", "04_data", "results:data/headline", "n_collapsed", "d"),
    _n("data_n_accepted", "04_data", "results:data/headline", "n_accepted", "d"),
    _n("data_n_quarantined", "04_data", "results:data/headline", "n_quarantined", "d"),
    _n("data_n_flagged", "04_data", "results:data/headline", "n_flagged", "d"),
    _n("data_n_analysis", "04_data", "results:data/headline", "n_analysed", "d"),
    _n("data_n_communities", "04_data", "results:data/headline", "n_communities", "d"),
    _n("data_sensitivity", "04_data", "results:data/headline", "screening_sensitivity_any", ".2f"),
    _n("data_specificity", "04_data", "results:data/headline", "screening_specificity_any", ".2f"),
    # chapter 5: measurement (keys of analysis.study.measurement.run_measurement's headline.json)
    _n("meas_n", "05_measurement", "results:measurement/headline", "n", "d"),
    _n("meas_n_items", "05_measurement", "results:measurement/headline", "n_items", "d"),
    _n("meas_kmo", "05_measurement", "results:measurement/headline", "kmo", ".3f"),
    _n("meas_parallel", "05_measurement", "results:measurement/headline", "parallel_n_factors", "d"),
    _n("meas_missing", "05_measurement", "results:measurement/headline", "missing", "s"),
    _n("meas_n_cfa", "05_measurement", "results:measurement/headline", "n_cfa", "d"),
    _n("meas_n_complete", "05_measurement", "results:measurement/headline", "n_complete", "d"),
    _n("meas_cfi", "05_measurement", "results:measurement/headline", "second_order_cfi", ".3f"),
    _n("meas_tli", "05_measurement", "results:measurement/headline", "second_order_tli", ".3f"),
    _n("meas_rmsea", "05_measurement", "results:measurement/headline", "second_order_rmsea", ".3f"),
    _n("meas_srmr", "05_measurement", "results:measurement/headline", "second_order_srmr", ".3f"),
    _n("meas_cfi1", "05_measurement", "results:measurement/headline", "first_order_cfi", ".3f"),
    _n("meas_rmsea1", "05_measurement", "results:measurement/headline", "first_order_rmsea", ".3f"),
    _n("meas_loading_min", "05_measurement", "results:measurement/headline", "min_std_loading", ".2f"),
    _n("meas_alpha_min", "05_measurement", "results:measurement/headline", "min_alpha", ".2f"),
    _n("meas_cr_min", "05_measurement", "results:measurement/headline", "min_cr", ".2f"),
    _n("meas_ave_min", "05_measurement", "results:measurement/headline", "min_ave", ".2f"),
    _n("meas_htmt_max", "05_measurement", "results:measurement/headline", "max_htmt", ".2f"),
    _n("meas_harman", "05_measurement", "results:measurement/headline", "harman_share", ".1%"),
    # chapter 6: structural model and mediation (analysis.study.structural.run_structural's headline.json)
    _n("str_n", "06_structural", "results:structural/headline", "n", "d"),
    _n("str_missing", "06_structural", "results:structural/headline", "missing", "s"),
    _n("str_boot_method", "06_structural", "results:structural/headline", "bootstrap_method", "s"),
    _n("str_boot_unit", "06_structural", "results:structural/headline", "bootstrap_unit", "s"),
    _n("str_boot_interval", "06_structural", "results:structural/headline", "bootstrap_interval", "s"),
    _n("str_cfi", "06_structural", "results:structural/headline", "cfi", ".3f"),
    _n("str_tli", "06_structural", "results:structural/headline", "tli", ".3f"),
    _n("str_rmsea", "06_structural", "results:structural/headline", "rmsea", ".3f"),
    _n("str_srmr", "06_structural", "results:structural/headline", "srmr", ".3f"),
    _n("str_total_indirect", "06_structural", "results:structural/headline", "total_indirect", ".3f"),
    _n("str_direct", "06_structural", "results:structural/headline", "direct", ".3f"),
    _n("str_total", "06_structural", "results:structural/headline", "total", ".3f"),
    _n("str_bootstrap", "06_structural", "results:structural/headline", "bootstrap", "d"),
    _n("str_boot_ok", "06_structural", "results:structural/headline", "n_boot_ok", "d"),
    _n("str_boot_failed", "06_structural", "results:structural/headline", "n_boot_failed", "d"),
    # chapter 7: configurational analysis (analysis.study.configurational.run_configurational's headline.json)
    *(_n(k, "07_configurational", "results:configurational/headline", f, fmt) for k, f, fmt in (
        ("cfg_n_communities", "study.n_communities", "d"),
        ("cfg_n_respondents", "study.n_respondents", "d"),
        ("cfg_min_n", "study.min_respondents", "d"),
        ("cfg_max_n", "study.max_respondents", "d"),
        ("cfg_median_n", "study.median_respondents", "d"),
        ("cfg_calibration", "calibration", "s"),
        ("cfg_incl_cut", "incl_cut", ".2f"),
        ("cfg_pri_cut", "pri_cut", ".2f"),
        ("cfg_n_cut", "n_cut", "d"),
        ("cfg_nudged", "study.nudged", "d"),
        ("cfg_nec_cut", "qca_necessity_cut", ".2f"),
        ("cfg_nec_max", "study.max_necessity_consistency", ".3f"),
        ("cfg_nec_cond", "study.max_necessity_condition", "s"),
        ("cfg_nca_perm", "nca_permutations", "d"),
        ("cfg_nca_min_effect", "nca_min_effect", ".2f"),
        ("cfg_nca_alpha", "nca_alpha", ".2f"),
        ("cfg_nca_max_d", "study.nca.max_d", ".2f"),
        ("cfg_nca_max_cond", "study.nca.max_d_condition", "s"),
        ("cfg_nca_max_p", "study.nca.max_d_p", "p"),
        ("cfg_nca_n_nec", "study.nca.n_necessary", "d"),
        ("cfg_nca_nec", "study.nca.necessary", "s"),
        ("cfg_mean_r", "study.mean_condition_correlation", ".2f"),
        ("cfg_n_rows", "study.n_truth_rows", "d"),
        ("cfg_n_remainders", "study.n_remainders", "d"),
        ("cfg_n_positive", "study.n_positive_rows", "d"),
        ("cfg_incl_0", "study.incl_by_count.0", ".3f"),
        ("cfg_incl_1", "study.incl_by_count.1", ".3f"),
        ("cfg_incl_2", "study.incl_by_count.2", ".3f"),
        ("cfg_incl_3", "study.incl_by_count.3", ".3f"),
        ("cfg_incl_4", "study.incl_by_count.4", ".3f"),
        ("cfg_pri_0", "study.pri_by_count.0", ".3f"),
        ("cfg_pri_4", "study.pri_by_count.4", ".3f"),
        ("cfg_solution", "study.solution.intermediate.expression", "s"),
        ("cfg_sol_cons", "study.solution.intermediate.consistency", ".3f"),
        ("cfg_sol_cov", "study.solution.intermediate.coverage", ".3f"),
        ("cfg_sens_same", "sensitivity_same", "d"),
        ("cfg_sens_settings", "sensitivity_settings", "d"),
        ("cfg_ols_r2", "study.ols.r2", ".2f"),
        ("cfg_ols_min", "study.ols.min_beta", ".2f"),
        ("cfg_ols_max", "study.ols.max_beta", ".2f"),
        ("cfg_pl_solution", "planted.solution", "s"),
        ("cfg_pl_n", "planted.n_communities", "d"),
        ("cfg_pl_low", "planted.respondents_low", "d"),
        ("cfg_pl_high", "planted.respondents_high", "d"),
        ("cfg_pl_share", "planted.leadership_share", ".2f"),
        ("cfg_pl_noise", "planted.outcome_noise", ".2f"),
        ("cfg_pl_between", "planted.between_share", ".2f"),
        ("cfg_pl_intermediate", "planted.intermediate", "s"),
        ("cfg_pl_parsimonious", "planted.parsimonious", "s"),
        ("cfg_pl_cons", "planted.intermediate_consistency", ".3f"),
        ("cfg_pl_cov", "planted.intermediate_coverage", ".3f"),
        ("cfg_pl_contains", "planted.contains_zh", "s"),
        ("cfg_pl_exact", "planted.exact_zh", "s"),
        ("cfg_pl_extra", "planted.extra_terms", "s"),
        ("cfg_pl_nec_max", "planted.max_necessity_consistency", ".3f"),
        ("cfg_pl_nca_n_nec", "planted.nca_n_necessary", "d"),
        ("cfg_pl_reps", "planted.replications", "d"),
        ("cfg_pl_mcse", "planted.mc_se_max", ".2f"),
        ("cfg_pl_small", "planted.small.communities", "d"),
        ("cfg_pl_large", "planted.large.communities", "d"),
        ("cfg_pl_pri_alt", "planted.pri_alt", ".2f"),
        ("cfg_pl_small_exact", "planted.small.exact", ".0%"),
        ("cfg_pl_small_contains", "planted.small.contains", ".0%"),
        ("cfg_pl_small_correct", "planted.small.correct", ".0%"),
        ("cfg_pl_small_alt_contains", "planted.small_alt.contains", ".0%"),
        ("cfg_pl_small_alt_correct", "planted.small_alt.correct", ".0%"),
        ("cfg_pl_large_exact", "planted.large.exact", ".0%"),
        ("cfg_pl_large_contains", "planted.large.contains", ".0%"),
        ("cfg_pl_large_alt_contains", "planted.large_alt.contains", ".0%"),
        ("cfg_pl_sens_rec", "planted.sensitivity_recovered", "d"),
        ("cfg_pl_sens_settings", "planted.sensitivity_settings", "d"),
        ("cfg_pl_ols_r2", "planted.ols_r2", ".2f"),
        ("cfg_pl_ols_min", "planted.ols_min_beta", ".2f"),
    )),
    # chapter 7 (configurational), compared with the structural model of chapter 6
    _n("cfg_sem_ind_grid", "07_configurational", "results:structural/headline", "effects.ind_GRID.std_all", ".3f"),
    _n("cfg_sem_ind_res", "07_configurational", "results:structural/headline", "effects.ind_RES.std_all", ".3f"),
    _n("cfg_sem_ind_org", "07_configurational", "results:structural/headline", "effects.ind_ORG.std_all", ".3f"),
    _n("cfg_sem_ind_list", "07_configurational", "results:structural/headline", "effects.ind_LIST.std_all", ".3f"),
    _n("cfg_sem_total_ind", "07_configurational", "results:structural/headline", "total_indirect", ".3f"),
    # chapter 8 (file 07_robustness): robustness
    _n("rob_n_models", "07_robustness", "results:structural/headline", "rival_models", "d"),
    _n("rob_max_deff_str", "07_robustness", "results:structural/headline", "max_design_effect", ".2f"),
    _n("rob_max_icc", "07_robustness", "results:measurement/headline", "max_icc1", ".3f"),
    _n("rob_mean_deff", "07_robustness", "results:measurement/headline", "mean_design_effect", ".2f"),
    _n("rob_n_clusters", "07_robustness", "results:measurement/headline", "n_clusters", "d"),
    _n("rob_tl_n", "07_robustness", "results:structural/headline", "twolevel.nobs", "d"),
    _n("rob_tl_clusters", "07_robustness", "results:structural/headline", "twolevel.nclusters", "d"),
    _n("rob_tl_dropped", "07_robustness", "results:structural/headline", "twolevel.n_dropped", "d"),
    _n("rob_tl_ind_w", "07_robustness", "results:structural/headline", "twolevel.total_indirect_within.est", ".3f"),
    _n("rob_tl_ind_w_lo", "07_robustness", "results:structural/headline", "twolevel.total_indirect_within.ci_lower", ".3f"),
    _n("rob_tl_ind_w_hi", "07_robustness", "results:structural/headline", "twolevel.total_indirect_within.ci_upper", ".3f"),
    _n("rob_tl_ind_b", "07_robustness", "results:structural/headline", "twolevel.total_indirect_between.est", ".3f"),
    _n("rob_tl_ind_b_lo", "07_robustness", "results:structural/headline", "twolevel.total_indirect_between.ci_lower", ".3f"),
    _n("rob_tl_ind_b_hi", "07_robustness", "results:structural/headline", "twolevel.total_indirect_between.ci_upper", ".3f"),
    # chapter 8 (file 07_robustness): missing data and estimators (analysis.study.robustness.run_robustness outputs)
    _n("rob_n_specs", "07_robustness", "results:robustness/headline", "n_specifications", "d"),
    _n("rob_n_rows", "07_robustness", "results:robustness/headline", "n_rows", "d"),
    _n("rob_n_complete", "07_robustness", "results:robustness/headline", "n_complete", "d"),
    _n("rob_share_complete", "07_robustness", "results:robustness/headline", "share_complete", ".1%"),
    _n("rob_mean_missing", "07_robustness", "results:robustness/headline", "mean_share_missing", ".1%"),
    _n("rob_n_patterns", "07_robustness", "results:robustness/headline", "n_patterns", "d"),
    _n("rob_max_items_missing", "07_robustness", "results:robustness/missing", "value@statistic=max_items_missing", "d"),
    _n("rob_se_ratio_mlr", "07_robustness", "results:robustness/headline", "se_ratio_mlr", ".2f"),
    _n("rob_se_ratio_cluster", "07_robustness", "results:robustness/headline", "se_ratio_cluster", ".2f"),
    _n("rob_max_delta", "07_robustness", "results:robustness/headline", "max_abs_delta_std_indirect", ".3f"),
    _n("rob_max_delta_param", "07_robustness", "results:robustness/headline", "max_delta_parameter", "s"),
    _n("rob_max_delta_spec", "07_robustness", "results:robustness/headline", "max_delta_specification", "s"),
    _n("rob_harman", "07_robustness", "results:measurement/headline", "harman_share", ".1%"),
    _n("rob_clf_p", "07_robustness", "results:measurement/headline", "clf_pvalue", "p"),
    _n("rob_clf_dcfi", "07_robustness", "results:measurement/headline", "clf_delta_cfi", ".4f"),
    _n("rob_clf_var", "07_robustness", "results:measurement/headline", "clf_method_variance", ".3f"),
    _n("rob_clf_dload", "07_robustness", "results:measurement/headline", "clf_max_abs_loading_change", ".3f"),
    _n("rob_n_sig_changes", "07_robustness", "results:robustness/estimators", "significance_changed@sum", "d"),
    # chapter 9 (file 08_power): power (analysis.study.power.run_power headline.json)
    _n("pow_alpha", "08_power", "results:power/headline", "alpha", ".2f"),
    _n("pow_replications", "08_power", "results:power/headline", "replications", "d"),
    _n("pow_n80", "08_power", "results:power/headline", "n_for_80", "d"),
    _n("pow_deff", "08_power", "results:power/headline", "design_effect", ".2f"),
    _n("pow_n_rec", "08_power", "results:power/headline", "n_recommended", "d"),
    _n("pow_study_n", "08_power", "results:power/headline", "study_n", "d"),
    _n("pow_bias", "08_power", "results:power/headline", "max_abs_rel_bias_std", ".1%"),
    _n("pow_failed", "08_power", "results:power/headline", "n_failed", "d"),
    _n("pow_improper", "08_power", "results:power/headline", "n_improper", "d"),
)


class Text:
    """Text glued exactly as written (for ``{glue:text}``).

    myst-nb's ``{glue:text}`` passes the glued ``text/plain`` through
    :func:`ast.literal_eval`, so an unquoted ``1.00`` would print as ``1.0``;
    this class shows its text as a quoted Python literal, which evaluates
    back to exactly the same string.

    Examples
    --------
    >>> Text("1.00")
    '1.00'
    >>> import ast; ast.literal_eval(repr(Text(1200)))
    '1200'
    """

    def __init__(self, text):
        self.text = str(text)

    def __repr__(self) -> str:
        return repr(self.text)

    def __str__(self) -> str:
        return self.text

    def _repr_pretty_(self, p, cycle):  # IPython's text/plain
        p.text(repr(self.text))


def source_path(source: str, layout=paths.DEFAULT) -> Path:
    """Return the file behind a :class:`Number` source string.

    ``results:<name>`` resolves to ``results/<name>.json`` when it exists,
    else ``results/<name>.csv``; ``processed:<file>`` to
    ``data/processed/<file>``.
    """
    kind, _, name = source.partition(":")
    if kind == "results":
        base = layout.results / name
        for suffix in (".json", ".csv"):
            if base.with_suffix(suffix).exists():
                return base.with_suffix(suffix)
        return base.with_suffix(".json")
    if kind == "processed":
        return layout.processed / name
    raise ValueError(f"unknown number source {source!r}: use 'results:<name>' or 'processed:<file>'")


def read_number(number: Number, layout=paths.DEFAULT):
    """Read the raw value of ``number`` from its file.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    KeyError
        When the file has no such field or row.
    """
    path = source_path(number.source, layout)
    if not path.exists():
        raise FileNotFoundError(path)
    if path.suffix == ".json":
        value = json.loads(path.read_text(encoding="utf-8"))
        for part in number.field.split("."):
            if not isinstance(value, dict) or part not in value:
                raise KeyError(f"{path.name} has no field {number.field!r}")
            value = value[part]
        return value
    frame = pd.read_csv(path)
    column, _, selector = number.field.partition("@")
    if selector == "nrows":
        return len(frame)
    if column not in frame.columns:
        raise KeyError(f"{path.name} has no column {column!r}")
    if selector in ("sum", "max", "min"):
        return getattr(frame[column], selector)()
    keycol, _, keyval = selector.partition("=")
    if keycol not in frame.columns:
        raise KeyError(f"{path.name} has no column {keycol!r}")
    rows = frame.loc[frame[keycol].astype(str) == keyval, column]
    if len(rows) != 1:
        raise KeyError(f"{path.name}: {len(rows)} rows with {keycol} == {keyval!r}, expected 1")
    return rows.iloc[0]


def format_number(value, fmt: str) -> str:
    """Format a number the way the book prints it.

    Examples
    --------
    >>> format_number(0.95312, ".3f"), format_number(1200.0, "d")
    ('0.953', '1200')
    >>> format_number(0.0004, "p"), format_number(0.0312, "p")
    ('< .001', '.031')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    if fmt == "d":
        return str(int(round(float(value))))
    if fmt == "p":
        value = float(value)
        return "< .001" if value < 0.001 else f"{value:.3f}".lstrip("0")
    if fmt == "s" or isinstance(value, str):
        return str(value)
    return format(float(value), fmt)


def chapter_numbers(chapter: str) -> list[Number]:
    """The :class:`Number` declarations of one chapter."""
    return [n for n in BOOK_NUMBERS if n.chapter == chapter]


def missing_sources(chapter: str, layout=paths.DEFAULT) -> list[str]:
    """Files (relative to the repository root) a chapter needs but cannot find."""
    missing = []
    for number in chapter_numbers(chapter):
        path = source_path(number.source, layout)
        if not path.exists():
            if number.source.startswith("results:") and "@" in number.field:
                path = path.with_suffix(".csv")  # a CSV selector: name the CSV, not a JSON
            rel = path.relative_to(layout.root) if path.is_relative_to(layout.root) else path
            if str(rel) not in missing:
                missing.append(str(rel))
    return missing


def glue_chapter(chapter: str, layout=paths.DEFAULT) -> dict[str, str]:
    """Glue every number a chapter declares; placeholders for missing ones.

    Returns
    -------
    dict
        ``key -> shown text`` (:data:`PLACEHOLDER` where the file or field is
        missing).
    """
    from myst_nb import glue

    shown = {}
    for number in chapter_numbers(chapter):
        try:
            text = format_number(read_number(number, layout), number.fmt)
        except (FileNotFoundError, KeyError):
            text = PLACEHOLDER
        shown[number.key] = text
        glue(number.key, Text(text), display=False)
    return shown


def pending_note(names, *, command: str = "make reproduce"):
    """An admonition (IPython Markdown) listing results not produced yet.

    Returns ``None`` (nothing shown) when ``names`` is empty.
    """
    from IPython.display import Markdown

    names = list(names)
    if not names:
        return None
    items = "\n".join(f"- `{n}`" for n in names)
    return Markdown(
        ":::{warning}\n"
        "**结果尚未生成 · Results not produced yet.** 本章需要以下文件 · This chapter needs:\n\n"
        f"{items}\n\n"
        f"运行 · Run `{command}` 后重新构建本书 · then rebuild the book.\n"
        ":::\n"
    )


def synthetic_banner():
    """The synthetic-data admonition shown at the top of a chapter (Markdown)."""
    from IPython.display import Markdown

    from ..results import SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_ZH

    return Markdown(f":::{{important}}\n{SYNTHETIC_NOTE_ZH}\n\n{SYNTHETIC_NOTE_EN}\n:::\n")


def show_figure(fig):
    """Return a matplotlib figure as an IPython PNG image (and close it).

    The study's style selects the Agg backend, so chapters show figures
    explicitly; the PNG is written without varying metadata.
    """
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=150, metadata={"Software": None})
    plt.close(fig)
    return Image(data=buf.getvalue(), format="png")


def is_synthetic(layout=paths.DEFAULT) -> bool:
    """Whether the processed data are synthetic (``ingest_report.json``).

    True when the report says so or when there is no report yet (this
    edition has no fieldwork data).
    """
    report = layout.processed / "ingest_report.json"
    if not report.exists():
        return True
    data = json.loads(report.read_text(encoding="utf-8"))
    return bool(data.get("synthetic", True))


def load_optional(name: str, layout=paths.DEFAULT):
    """:func:`analysis.results.load` that returns ``None`` when the file is absent."""
    from ..results import load

    try:
        return load(name, results_dir=layout.results)
    except FileNotFoundError:
        return None


def results_table(name: str, caption: str, *, columns=None, rename=None, query=None, note: str = "",
                  source: str = "", formats=None, drop=("synthetic", "issues"), layout=paths.DEFAULT):
    """A results CSV as an APA table, or a pending note when it is absent.

    Parameters
    ----------
    name : str
        Results name (``"measurement/fit"`` for ``results/measurement/fit.csv``).
    caption, note, source, formats
        As in :func:`analysis.study.tables.apa_table`; the synthetic-data
        label is added when :func:`is_synthetic`.
    columns : list of str, optional
        Columns to show, in order (those absent from the file are skipped).
    rename : dict, optional
        Column headers to print.
    query : str, optional
        A :meth:`pandas.DataFrame.query` filter on the rows.
    drop : sequence of str
        Bookkeeping columns not shown; a ``synthetic`` column, when present,
        decides the synthetic label (else :func:`is_synthetic`).

    Returns
    -------
    analysis.study.tables.Table or IPython.display.Markdown
    """
    from .tables import apa_table

    frame = load_optional(name, layout)
    if frame is None:
        return pending_note([f"results/{name}.csv"])
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    synthetic = bool(frame["synthetic"].astype(bool).any()) if "synthetic" in frame.columns else is_synthetic(layout)
    if query:
        frame = frame.query(query)
    frame = frame.drop(columns=[c for c in drop if c in frame.columns])
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    if rename:
        frame = frame.rename(columns=rename)
        formats = {rename.get(k, k): v for k, v in (formats or {}).items()}
    return apa_table(frame.reset_index(drop=True), caption, note=note, source=source, formats=formats,
                     synthetic=synthetic)


def wide_table(name: str, caption: str, *, index: str, columns: str, values: str, note: str = "",
               source: str = "", fmt: str = ".3f", layout=paths.DEFAULT):
    """A long results CSV pivoted wide (``index`` rows x ``columns``), as an APA table.

    Returns a pending note when the file (or one of the three columns) is absent.
    """
    from .tables import apa_table

    frame = load_optional(name, layout)
    if frame is None or not {index, columns, values} <= set(frame.columns):
        return pending_note([f"results/{name}.csv"])
    synthetic = bool(frame["synthetic"].astype(bool).any()) if "synthetic" in frame.columns else is_synthetic(layout)
    order = list(dict.fromkeys(frame[columns]))
    wide = frame.pivot(index=index, columns=columns, values=values)[order].reset_index()
    wide.columns.name = None
    formats = {c: fmt for c in order}
    formats[index] = "d" if pd.api.types.is_integer_dtype(wide[index]) else None
    return apa_table(wide, caption, note=note, source=source, formats=formats, synthetic=synthetic)


def notes_list(name: str, key: str = "notes", layout=paths.DEFAULT):
    """The list ``key`` of a results JSON as a Markdown bullet list (nothing when absent)."""
    from IPython.display import Markdown

    data = load_optional(name, layout)
    if not isinstance(data, dict) or not data.get(key):
        return None
    return Markdown("\n".join(f"- {item}" for item in data[key]))
