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
from importlib import import_module

# ``indprod`` and ``modindices`` are names of both a function and its module:
# they are bound here, so that the function, not the submodule, is what
# ``analysis.sem.modindices`` means whenever the submodule is first imported.
from .indprod import indprod
from .modindices import modindices

__all__ = ["sem", "cfa", "SEMResult", "parse_syntax", "build_partable", "SEMModel",
           "Objective", "MLObjective", "ESTIMATORS", "Estimator", "get_estimator",
           "SampleStats", "sample_stats", "modindices", "indprod"]

# The other public names are imported on first use (PEP 562), so that a
# command loads only the modules it needs: name -> submodule.
_LAZY = {
    "sem": "api", "cfa": "api",
    "ESTIMATORS": "estimators", "Estimator": "estimators", "get_estimator": "estimators",
    "SEMModel": "model",
    "MLObjective": "objective", "Objective": "objective",
    "build_partable": "partable",
    "SEMResult": "results",
    "SampleStats": "samplestats", "sample_stats": "samplestats",
    "parse_syntax": "syntax",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
