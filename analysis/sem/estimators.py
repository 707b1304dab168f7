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
    ``WLS_ESTIMATORS``: the DWLS and WLSMV plug-ins (their objective is
    fitted to polychoric correlations and thresholds, or to the moments of
    continuous indicators), registered here under their names.

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

from collections.abc import Mapping

from .objective import Estimator, MLObjective

__all__ = ["Estimator", "ESTIMATORS", "get_estimator"]


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


_ML_FAMILY: dict[str, Estimator] = {
    "ML": Estimator("ML", _build_ml, _vcov_standard),
    "MLR": Estimator("MLR", _build_ml, _vcov_robust, _test_robust),
}


class _Registry(Mapping):
    """lavaan's estimator names -> :class:`Estimator`; DWLS and WLSMV come from :mod:`analysis.sem.dwls`
    (imported on first use, so that importing this module stays light and no module imports back)."""

    _NAMES = ("ML", "MLR", "DWLS", "WLSMV")

    def __getitem__(self, key: str) -> Estimator:
        if key in ("DWLS", "WLSMV"):
            from .dwls import WLS_ESTIMATORS

            return WLS_ESTIMATORS[key]
        return _ML_FAMILY[key]

    def __iter__(self):
        return iter(self._NAMES)

    def __len__(self) -> int:
        return len(self._NAMES)


ESTIMATORS: Mapping[str, Estimator] = _Registry()


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
    if key not in ESTIMATORS._NAMES:
        raise ValueError(
            f"Unknown estimator {name!r}; choose one of {sorted(ESTIMATORS)}."
        )
    return ESTIMATORS[key]
