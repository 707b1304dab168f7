"""Dispatch from an estimator name to its objective, SEs and test.

:data:`ESTIMATORS` maps lavaan's estimator names to an :class:`Estimator`
with three hooks.  Modules written by other engineers are imported lazily
*inside* the hooks, so they can land without editing this file.  They must
provide exactly these names and signatures:

``analysis.sem.fiml``
    ``FIMLObjective(model, stats)`` -- an :class:`~analysis.sem.objective.Objective`
    for ML with incomplete data; ``stats.data[g]`` holds the rows of group g
    (float ndarray, columns in ``model.ov_names[g]`` order, NaN = missing).
    ``value`` is lavaan's fmin for FIML (``-loglik / N`` up to a constant:
    whatever makes ``test_statistic`` equal lavaan's ``chisq``),
    ``loglik``/``loglik_h1`` must be implemented (H1 by EM in
    ``saturated.py``).
``analysis.sem.robust``
    ``robust_vcov(objective, theta) -> ndarray (q, q)`` (Huber--White
    sandwich as lavaan's ``se = "robust.huber.white"``) and
    ``scaled_test(objective, theta) -> dict`` with keys ``chisq_scaled``,
    ``df``, ``pvalue_scaled``, ``scaling_factor`` (lavaan's
    ``test = "yuan.bentler.mplus"``), and optionally the same keys for the
    baseline model under ``baseline_*`` names.
``analysis.sem.dwls``
    ``DWLSObjective(model, stats, ordered, weights="diagonal")`` -- an
    Objective fitted to polychoric correlations and thresholds (it computes
    them itself with :mod:`analysis.sem.polychoric`);
    ``robust_vcov(objective, theta)`` and ``scaled_test(objective, theta,
    kind="scaled.shifted")`` as lavaan's WLSMV.

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .objective import MLObjective, Objective

__all__ = ["Estimator", "ESTIMATORS", "get_estimator"]


@dataclass(frozen=True)
class Estimator:
    """How one estimator builds its objective and post-processes a fit.

    Attributes
    ----------
    name : str
        lavaan's name (``"ML"``, ``"MLR"``, ...).
    build : callable
        ``build(model, stats, missing, ordered) -> Objective``.
    vcov : callable
        ``vcov(objective, theta) -> ndarray``.
    scaled_test : callable or None
        ``scaled_test(objective, theta) -> dict`` or None for a plain test.
    """

    name: str
    build: Callable[..., Objective]
    vcov: Callable
    scaled_test: Callable | None = None


def _build_ml(model, stats, missing="listwise", ordered=None):
    if missing == "fiml":
        from . import fiml  # lazy: written by the FIML/MLR engineer

        return fiml.FIMLObjective(model, stats)
    return MLObjective(model, stats)


def _vcov_standard(objective, theta):
    return objective.vcov(theta)


def _vcov_robust(objective, theta):
    from . import robust

    return robust.robust_vcov(objective, theta)


def _test_robust(objective, theta):
    from . import robust

    return robust.scaled_test(objective, theta)


def _build_dwls(model, stats, missing="listwise", ordered=None):
    from . import dwls

    return dwls.DWLSObjective(model, stats, ordered, weights="diagonal")


def _vcov_dwls(objective, theta):
    from . import dwls

    return dwls.robust_vcov(objective, theta)


def _test_dwls(objective, theta):
    from . import dwls

    return dwls.scaled_test(objective, theta, kind="scaled.shifted")


ESTIMATORS: dict[str, Estimator] = {
    "ML": Estimator("ML", _build_ml, _vcov_standard),
    "MLR": Estimator("MLR", _build_ml, _vcov_robust, _test_robust),
    "DWLS": Estimator("DWLS", _build_dwls, _vcov_standard),
    "WLSMV": Estimator("WLSMV", _build_dwls, _vcov_dwls, _test_dwls),
}


def get_estimator(name: str) -> Estimator:
    """Look up an estimator by lavaan's name (case-insensitive).

    Parameters
    ----------
    name : str
        ``"ML"``, ``"MLR"``, ``"DWLS"`` or ``"WLSMV"``.

    Returns
    -------
    Estimator
    """
    key = str(name).upper()
    if key not in ESTIMATORS:
        raise ValueError(
            f"Unknown estimator {name!r}; choose one of {sorted(ESTIMATORS)}."
        )
    return ESTIMATORS[key]
