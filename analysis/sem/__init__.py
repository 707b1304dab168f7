"""The SEM core: lavaan model syntax in, a fitted model out.

Study-independent; depends only on numpy, scipy and pandas.  Numbers match
lavaan 0.6.14 (see ``tests/reference/``).

Public API
----------
:func:`sem`, :func:`cfa`
    Fit a model (lavaan's defaults), returning :class:`SEMResult`.
:func:`parse_syntax`, :func:`build_partable`
    The model syntax and lavaan's parameter table.
:class:`Objective`, :class:`MLObjective`, :data:`ESTIMATORS`
    The estimator interface other estimators plug into.
:func:`indprod`
    Product indicators of a latent interaction (semTools' ``indProd``).

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from .api import cfa, sem
from .estimators import ESTIMATORS, Estimator, get_estimator
from .indprod import indprod
from .model import SEMModel
from .modindices import modindices
from .objective import MLObjective, Objective
from .partable import build_partable
from .results import SEMResult
from .samplestats import SampleStats, sample_stats
from .syntax import parse_syntax

__all__ = ["sem", "cfa", "SEMResult", "parse_syntax", "build_partable", "SEMModel",
           "Objective", "MLObjective", "ESTIMATORS", "Estimator", "get_estimator",
           "SampleStats", "sample_stats", "modindices", "indprod"]
