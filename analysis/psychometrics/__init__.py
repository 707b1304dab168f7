"""Data-first psychometric statistics (pingouin style): ``func(data, items=...)``.

One module per family: :mod:`descriptives`, :mod:`factorability`, :mod:`efa`,
:mod:`reliability`, :mod:`validity`, :mod:`method_bias`, :mod:`clustering`, and the
configurational methods :mod:`qca` (fuzzy-set QCA, definitions of R's ``QCA``) and
:mod:`nca` (Necessary Condition Analysis, definitions of R's ``NCA``).
Functions that need a fitted CFA take an ``analysis.sem`` result; none of
them knows about the study.
"""
from .clustering import cluster_summary, design_effect, icc1
from .descriptives import item_descriptives, kurtosis, plot_item_distributions, skewness
from .efa import EFAResult, ParallelResult, efa, oblimin, parallel_analysis
from .factorability import bartlett_sphericity, correlation_matrix, kmo
from . import nca, qca  # the modules; their one-call functions are nca.nca and qca.qca
from .nca import ceiling_line, nca_plot
from .qca import Solution, Term, calibrate_direct, minimize, necessity, sufficiency, truth_table
from .method_bias import CLFResult, chisq_difference, common_latent_factor, harman_single_factor
from .reliability import (
    cfa_reliability,
    cronbach_alpha,
    higher_order_reliability,
    model_matrices,
    reliability_table,
)
from .validity import fornell_larcker, htmt, standardized_solution

__all__ = [
    "item_descriptives", "skewness", "kurtosis", "plot_item_distributions",
    "correlation_matrix", "kmo", "bartlett_sphericity",
    "efa", "EFAResult", "oblimin", "parallel_analysis", "ParallelResult",
    "cronbach_alpha", "model_matrices", "cfa_reliability", "higher_order_reliability",
    "reliability_table",
    "htmt", "fornell_larcker", "standardized_solution",
    "harman_single_factor", "chisq_difference", "common_latent_factor", "CLFResult",
    "icc1", "design_effect", "cluster_summary",
    "calibrate_direct", "necessity", "sufficiency", "truth_table", "minimize", "Solution", "Term",
    "ceiling_line", "nca_plot", "qca", "nca",
]
