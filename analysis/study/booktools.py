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

One hop for a reviewer: every glued number carries its file and key (a
custom MIME part of the glue, :data:`SOURCE_MIME`, that the book's Sphinx
extension ``book/_ext/glue_sources.py`` turns into a link to the numbers
appendix with the file and key as its tooltip); every table and figure names
its results file and the ``resilience reproduce`` step that recreates it,
read from the pipeline's DAG (:func:`producing_step`), never typed.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .. import paths
from .tables import Table

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
    "SOURCE_MIME",
    "producing_step",
    "recreate_command",
    "provenance_html",
    "BookTable",
    "book_table",
    "figure_source",
    "table_index",
    "numbers_table",
    "pipeline_table",
    "manifest_counts",
]

#: What a glued number shows while its results file does not exist yet.
PLACEHOLDER = "〔待生成 pending〕"

#: The MIME type of the provenance part of a glued :class:`Text` (file, field, whether the numbers
#: appendix lists it); read by ``book/_ext/glue_sources.py``.
SOURCE_MIME = "application/vnd.resilience.source+json"

#: The page of the book that lists every declared number (anchors ``num-<key>``).
NUMBERS_PAGE = "appendices/numbers"


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
        ``"s"`` (text, shown as it is in the file), ``"zh"`` (a code, shown
        in Chinese through :func:`analysis.study.glossary.zh`).
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
    _n("meas_missing", "05_measurement", "results:measurement/headline", "missing", "zh"),
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
    _n("str_missing", "06_structural", "results:structural/headline", "missing", "zh"),
    _n("str_boot_method", "06_structural", "results:structural/headline", "bootstrap_method", "zh"),
    _n("str_boot_unit", "06_structural", "results:structural/headline", "bootstrap_unit", "zh"),
    _n("str_boot_interval", "06_structural", "results:structural/headline", "bootstrap_interval", "zh"),
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
    # chapter 6: moderated mediation (analysis.study.moderation's headline.json)
    _n("mod_n", "06_structural", "results:moderation/headline", "n", "d"),
    _n("mod_declared", "06_structural", "results:moderation/headline", "declared_interaction", ".2f"),
    _n("mod_a3", "06_structural", "results:moderation/headline", "a3.est"),
    _n("mod_a3_lo", "06_structural", "results:moderation/headline", "a3.ci_lower"),
    _n("mod_a3_hi", "06_structural", "results:moderation/headline", "a3.ci_upper"),
    _n("mod_a3_std", "06_structural", "results:moderation/headline", "a3.std_all"),
    _n("mod_imm", "06_structural", "results:moderation/headline", "imm.est"),
    _n("mod_imm_lo", "06_structural", "results:moderation/headline", "imm.ci_lower"),
    _n("mod_imm_hi", "06_structural", "results:moderation/headline", "imm.ci_upper"),
    _n("mod_ind_lo", "06_structural", "results:moderation/headline", "ind_lo.est"),
    _n("mod_ind_hi", "06_structural", "results:moderation/headline", "ind_hi.est"),
    _n("mod_jn", "06_structural", "results:moderation/headline", "johnson_neyman.sentence_zh", "s"),
    _n("mod_boot", "06_structural", "results:moderation/headline", "bootstrap.n_boot", "d"),
    _n("mod_boot_failed", "06_structural", "results:moderation/headline", "bootstrap.n_boot_failed", "d"),
    _n("mod_reps", "06_structural", "results:moderation/headline", "recovery.replications", "d"),
    _n("mod_rec_a3_mean", "06_structural", "results:moderation/headline", "recovery.a3_mean"),
    _n("mod_rec_a3_cov", "06_structural", "results:moderation/headline", "recovery.a3_coverage", ".2f"),
    _n("mod_rec_imm_mean", "06_structural", "results:moderation/headline", "recovery.imm_mean"),
    _n("mod_rec_imm_truth", "06_structural", "results:moderation/headline", "recovery.imm_truth"),
    _n("mod_rec_imm_cov", "06_structural", "results:moderation/headline", "recovery.imm_coverage", ".2f"),
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
    # chapter 8: design weights (analysis.study.weighting's headline.json)
    _n("wt_deff", "07_robustness", "results:weighting/headline", "weights.deff_kish", ".2f"),
    _n("wt_neff", "07_robustness", "results:weighting/headline", "weights.n_effective", ".0f"),
    _n("wt_min", "07_robustness", "results:weighting/headline", "weights.min", ".2f"),
    _n("wt_max", "07_robustness", "results:weighting/headline", "weights.max", ".2f"),
    _n("wt_same", "07_robustness", "results:weighting/headline", "n_same_decision", "d"),
    _n("wt_npar", "07_robustness", "results:weighting/headline", "n_parameters", "d"),
    _n("wt_max_diff", "07_robustness", "results:weighting/headline", "max_abs_diff_in_se", ".2f"),
    _n("wt_se_ratio", "07_robustness", "results:weighting/headline", "median_se_ratio_paths", ".2f"),
    _n("wt_tl_npaths", "07_robustness", "results:weighting/headline", "twolevel_size.n_paths", "d"),
    _n("wt_tl_nsig", "07_robustness", "results:weighting/headline", "twolevel_size.n_significant", "d"),
    _n("wt_tl_cr", "07_robustness", "results:weighting/headline", "twolevel_size.cr_est"),
    _n("wt_tl_cr_p", "07_robustness", "results:weighting/headline", "twolevel_size.cr_pvalue", "p"),
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

    def __init__(self, text, *, source: str = "", field: str = "", listed: bool = False):
        self.text = str(text)
        #: The file the text comes from (relative to the repository root), its key, and whether the
        #: numbers appendix lists it: the tooltip and link of the glued number.
        self.source, self.field, self.listed = str(source), str(field), bool(listed)

    def __repr__(self) -> str:
        return repr(self.text)

    def _repr_mimebundle_(self, include=None, exclude=None):
        if not self.source:
            return {}
        return {SOURCE_MIME: {"file": self.source, "field": self.field, "listed": self.listed}}

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
    if fmt == "zh":
        from .glossary import INTERVALS, zh

        return INTERVALS[value][0] if value in INTERVALS else zh(value)
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
        path = _number_file(number, layout)  # a CSV selector names the CSV, not a JSON
        if not path.exists():
            rel = _relative(path, layout)
            if rel not in missing:
                missing.append(rel)
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
        glue(number.key, Text(text, source=_relative(_number_file(number, layout), layout), field=number.field,
                              listed=True), display=False)
    return shown


def _relative(path: Path, layout=paths.DEFAULT) -> str:
    path = Path(path)
    return path.relative_to(layout.root).as_posix() if path.is_relative_to(layout.root) else path.as_posix()


def _number_file(number: Number, layout=paths.DEFAULT) -> Path:
    """The file of a declared number (the CSV of a CSV selector even before it exists)."""
    path = source_path(number.source, layout)
    if not path.exists() and number.source.startswith("results:") and "@" in number.field:
        path = path.with_suffix(".csv")
    return path


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
    """Whether the processed data are synthetic (:func:`analysis.results.data_are_synthetic`).

    True when the ingest report says so or when there is no report yet (this
    edition has no fieldwork data).
    """
    from ..results import data_are_synthetic

    return data_are_synthetic(layout.processed)


def load_optional(name: str, layout=paths.DEFAULT):
    """:func:`analysis.results.load` that returns ``None`` when the file is absent."""
    from ..results import load

    try:
        return load(name, results_dir=layout.results)
    except FileNotFoundError:
        return None


def results_table(name: str, caption: str, *, columns=None, rename=None, query=None, note: str = "",
                  source: str = "", formats=None, drop=("synthetic", "issues"), codes=(), layout=paths.DEFAULT):
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
        Column headers to print; the other columns get their Chinese header
        from :func:`analysis.study.glossary.column_label` (``估计值 (est)``).
    query : str, optional
        A :meth:`pandas.DataFrame.query` filter on the rows.
    drop : sequence of str
        Bookkeeping columns not shown; a ``synthetic`` column, when present,
        decides the synthetic label (else :func:`is_synthetic`).
    codes : sequence of str
        Columns holding codes (``ind_GRID``, ``first_order``) shown in
        Chinese with the code after them (:func:`analysis.study.glossary.zh`).

    Returns
    -------
    BookTable or IPython.display.Markdown
        The table names its results file and the ``resilience reproduce``
        step that recreates it (:func:`provenance_html`) and scrolls
        sideways when it is wider than the page.
    """
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
    frame = _codes_in_chinese(frame, codes)
    return book_table(frame.reset_index(drop=True), caption, files=[f"results/{name}.csv"], note=note, source=source,
                      formats=formats, rename=rename, synthetic=synthetic, layout=layout)


def _codes_in_chinese(frame: pd.DataFrame, codes) -> pd.DataFrame:
    from .glossary import code_labels

    if not codes:
        return frame
    labels = code_labels()
    frame = frame.copy()
    for col in codes:
        if col in frame.columns:
            frame[col] = [f"{labels[v]} ({v})" if v in labels else v for v in frame[col].astype(str)]
    return frame


def wide_table(name: str, caption: str, *, index: str, columns: str, values: str, note: str = "",
               source: str = "", fmt: str = ".3f", layout=paths.DEFAULT):
    """A long results CSV pivoted wide (``index`` rows x ``columns``), as an APA table.

    Returns a pending note when the file (or one of the three columns) is absent.
    """
    frame = load_optional(name, layout)
    if frame is None or not {index, columns, values} <= set(frame.columns):
        return pending_note([f"results/{name}.csv"])
    synthetic = bool(frame["synthetic"].astype(bool).any()) if "synthetic" in frame.columns else is_synthetic(layout)
    order = list(dict.fromkeys(frame[columns]))
    wide = frame.pivot(index=index, columns=columns, values=values)[order].reset_index()
    wide.columns.name = None
    formats = {c: fmt for c in order}
    formats[index] = "d" if pd.api.types.is_integer_dtype(wide[index]) else None
    return book_table(wide, caption, files=[f"results/{name}.csv"], note=note, source=source, formats=formats,
                      synthetic=synthetic, layout=layout)


# ---- one hop: the file and the command behind every table, figure and number ----------------

@dataclass
class BookTable(Table):
    """A :class:`analysis.study.tables.Table` as the book shows it.

    Under the caption, a line names the file(s) the numbers come from and
    the ``resilience reproduce`` step that recreates them (and the function
    that computes them); the table sits in a container that scrolls sideways
    when the table is wider than the text column; ``anchor`` is the HTML id
    other pages link to (``table-5-3`` for 表 5.3).
    """

    files: tuple = ()
    commands: tuple = ()
    anchor: str = ""

    def provenance(self) -> str:
        return provenance_html(self.files, self.commands, self.source)

    def to_html(self) -> str:
        base = Table.to_html(replace(self, source=""))
        head, _, rest = base.partition("</p>")  # the caption paragraph ends first
        rest = rest.replace("<table", '<div class="table-scroll" style="overflow-x:auto;max-width:100%"><table', 1)
        rest = rest.replace("</table>", "</table></div>", 1)
        html = f"{head}</p>{self.provenance()}{rest}"
        if self.anchor:
            html = html.replace('<div class="apa-table">', f'<div class="apa-table" id="{self.anchor}">', 1)
        return html

    def to_markdown(self) -> str:
        text = Table.to_markdown(replace(self, source=""))
        files = "、".join(f"`{f}`" for f in self.files)
        commands = "、".join(f"`{c}`" for c in self.commands)
        return text + f"\n结果文件 Results: {files} · 重新生成 Recreate: {commands}\n"


def _anchor(caption: str) -> str:
    m = re.match(r"\s*表\s*([0-9A-Z]+)\.(\d+)", caption)
    return f"table-{m.group(1).lower()}-{m.group(2)}" if m else ""


def book_table(frame: pd.DataFrame, caption: str, *, files, note: str = "", source: str = "", formats=None,
               rename=None, synthetic: bool | None = None, layout=paths.DEFAULT) -> BookTable:
    """An APA table for the book that names the files behind it and the command that recreates them.

    Parameters
    ----------
    frame : pandas.DataFrame
        The numbers (columns get Chinese headers through
        :func:`analysis.study.glossary.column_label` unless ``rename`` names them).
    caption : str
        ``表 n.m 中文 · English``; ``n.m`` gives the anchor ``table-n-m``.
    files : sequence of str
        Files (relative to the repository root) the numbers come from.
    note, source, formats
        As in :func:`analysis.study.tables.apa_table`.
    rename : dict, optional
        Headers to print for some columns.
    synthetic : bool, optional
        Default :func:`is_synthetic`.

    Returns
    -------
    BookTable
    """
    from .glossary import column_label

    files = tuple(str(f) for f in files)
    if not files:
        raise ValueError(f"table {caption!r}: name the file(s) its numbers come from")
    headers = {c: (rename or {}).get(c, column_label(c)) for c in frame.columns}
    frame = frame.rename(columns=headers)
    formats = {headers.get(k, k): v for k, v in (formats or {}).items()}
    synthetic = is_synthetic(layout) if synthetic is None else bool(synthetic)
    commands = tuple(dict.fromkeys(recreate_command(f, layout) for f in files))
    return BookTable(frame=frame, caption=caption, note=note, source=source, formats=formats, synthetic=synthetic,
                     files=files, commands=commands, anchor=_anchor(caption))


def provenance_html(files, commands, function: str = "") -> str:
    """The line under a table or figure caption: results file(s), the command, the function."""
    from html import escape

    code = lambda xs: "、".join(f"<code>{escape(str(x))}</code>" for x in xs)  # noqa: E731
    parts = [f"结果文件 Results: {code(files)}", f"重新生成 Recreate: {code(commands)}"]
    if function:
        parts.append(f"计算 Computed by: {code([function])}")
    return ('<p class="apa-provenance" style="font-size:85%;color:#555;margin:0 0 4px">'
            + " · ".join(parts) + "</p>")


def figure_source(files, *, function: str = "", layout=paths.DEFAULT):
    """The provenance line shown under a figure (IPython HTML): files, command, function."""
    from IPython.display import HTML

    files = [str(f) for f in ([files] if isinstance(files, (str, Path)) else files)]
    commands = list(dict.fromkeys(recreate_command(f, layout) for f in files))
    return HTML(provenance_html(files, commands, function).replace("apa-provenance", "apa-provenance figure-provenance"))


@lru_cache(maxsize=4)
def _dag(root: str):
    """(step, targets, file dependencies) of every pipeline step, in execution order."""
    from .dag import STEPS, step_files
    from .settings import load_settings

    layout = paths.Layout(root=Path(root))
    config = layout.config if layout.config.exists() else paths.DEFAULT.config
    files = step_files(layout, load_settings(config))
    return tuple((step, tuple(files[step]["targets"]), tuple(files[step]["file_dep"])) for step in STEPS)


def producing_step(path, layout=paths.DEFAULT) -> str:
    """The pipeline step (``analysis.study.dag.STEPS``) that writes ``path``.

    Read from the DAG of :func:`analysis.study.dag.step_files`: the
    step whose target is the file, or whose ``index.json`` lists it (a step
    writes its outputs' index last), or, for a file no index lists, the
    first step with a target in the same folder.  A file that is only ever
    read (``survey/instrument.yaml``) is the input of the first step that
    reads it.

    Raises
    ------
    KeyError
        When no step writes or reads the file.

    Examples
    --------
    >>> producing_step("results/structural/estimates.csv"), producing_step("results/figures/power_curve.png")
    ('structural', 'power')
    """
    root = Path(layout.root)
    target_path = (root / path).resolve() if not Path(path).is_absolute() else Path(path).resolve()
    dag = _dag(str(root))
    for step, targets, _ in dag:
        for t in map(Path, targets):
            if t.resolve() == target_path:
                return step
            if t.name == "index.json" and t.exists():
                listed = json.loads(t.read_text(encoding="utf-8")).get("files", {})
                if any((t.parent / rel).resolve() == target_path for rel in listed):
                    return step
    for step, targets, _ in dag:
        if any(Path(t).resolve().parent == target_path.parent for t in targets):
            return step
    for step, _, deps in dag:
        if any(Path(d).resolve() == target_path for d in deps):
            return step
    raise KeyError(f"no pipeline step writes or reads {path}")


def recreate_command(path, layout=paths.DEFAULT) -> str:
    """``resilience reproduce STEP``: the command that recreates ``path`` (:func:`producing_step`)."""
    return f"resilience reproduce {producing_step(path, layout)}"


def table_index(book_dir=None) -> dict:
    """Where the book shows each results table: ``name -> (page, "表 n.m", anchor)``.

    Read from the chapters' ``results_table``/``wide_table`` calls (the first
    table that shows a results file wins).
    """
    book_dir = Path(book_dir) if book_dir is not None else paths.DEFAULT.book
    out = {}
    for md in sorted((book_dir / "chapters").glob("*.md")):
        text = md.read_text(encoding="utf-8")
        for name, caption in re.findall(r'(?:results_table|wide_table)\(\s*"([^"]+)",\s*"([^"]+)"', text):
            label = re.match(r"\s*(表\s*[0-9A-Z]+\.\d+)", caption)
            out.setdefault(name, (f"chapters/{md.stem}", label.group(1) if label else caption, _anchor(caption)))
    return out


def numbers_table(layout=paths.DEFAULT) -> pd.DataFrame:
    """Every declared number (:data:`BOOK_NUMBERS`) with its page, file, key and shown value.

    Returns
    -------
    pandas.DataFrame
        Columns ``key``, ``chapter``, ``file`` (relative to the repository
        root), ``field``, ``value`` (as the book shows it; :data:`PLACEHOLDER`
        when the file is missing) and ``command`` (:func:`recreate_command`).
    """
    rows = []
    for number in BOOK_NUMBERS:
        path = _number_file(number, layout)
        try:
            value = format_number(read_number(number, layout), number.fmt)
        except (FileNotFoundError, KeyError):
            value = PLACEHOLDER
        rel = _relative(path, layout)
        rows.append({"key": number.key, "chapter": number.chapter, "file": rel, "field": number.field,
                     "value": value, "command": recreate_command(rel, layout)})
    return pd.DataFrame(rows)


def pipeline_table(layout=paths.DEFAULT) -> pd.DataFrame:
    """The pipeline's steps as the DAG declares them (:func:`analysis.study.dag.step_files`).

    Returns
    -------
    pandas.DataFrame
        One row per step in execution order: ``step``, ``command``
        (``resilience reproduce STEP``), ``inputs`` (data and settings files
        it reads, relative to the repository root, without the package's
        source modules), ``modules`` (how many source modules it depends on),
        ``outputs`` (its declared targets).
    """
    root = Path(layout.root).resolve()
    rel = lambda p: _relative(Path(p).resolve(), paths.Layout(root=root))  # noqa: E731
    package = (root / "analysis").resolve()
    rows = []
    for step, targets, deps in _dag(str(layout.root)):
        data = [d for d in deps if not Path(d).resolve().is_relative_to(package)]
        modules = [d for d in deps if Path(d).resolve().is_relative_to(package)]
        book = [d for d in data if Path(d).resolve().is_relative_to(root / "book")]
        shown = [rel(d) for d in data if d not in book] + ([f"book/（{len(book)} 个源文件 source files）"] if book else [])
        rows.append({"step": step, "command": f"resilience reproduce {step}", "inputs": shown,
                     "modules": len(modules),
                     "outputs": [rel(Path(t).parent) + "/" if Path(t).name == "index.json" else rel(t) for t in targets]})
    return pd.DataFrame(rows)


def manifest_counts(layout=paths.DEFAULT) -> dict:
    """How many files ``results/manifest.json`` records, by kind (``tables``, ``figures``, ``numbers_files``, ``inputs``).

    Returns an empty dict when there is no manifest.
    """
    if not layout.manifest.exists():
        return {}
    data = json.loads(layout.manifest.read_text(encoding="utf-8"))
    return {kind: len(data.get(kind, {})) for kind in ("tables", "figures", "numbers_files", "inputs")}


def notes_list(name: str, key: str = "notes", layout=paths.DEFAULT):
    """The list ``key`` of a results JSON as a Markdown bullet list (nothing when absent)."""
    from IPython.display import Markdown

    data = load_optional(name, layout)
    if not isinstance(data, dict) or not data.get(key):
        return None
    return Markdown("\n".join(f"- {item}" for item in data[key]))
