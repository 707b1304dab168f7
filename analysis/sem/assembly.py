"""The assembly line: every fit of :func:`analysis.sem.sem` goes through :func:`assemble`.

lavaan fits every model through one sequence of steps (``lav_lavaan_step00_init.R``
... ``step17``); this package does the same with five stages:

1. **prepare**: the parameter table and the sample statistics (what the data
   give the estimator: moments, missing-data patterns, polychoric
   correlations and thresholds, or cluster summaries);
2. **model**: :class:`~analysis.sem.model.SEMModel`, the implied moments and
   their Jacobians (one class for every estimator);
3. **objective**: the estimator's discrepancy function, an
   :class:`~analysis.sem.objective.Objective` built by the estimator's
   plug-in (:data:`analysis.sem.estimators.ESTIMATORS`);
4. **start and optimize**: starting values, then
   :func:`analysis.sem.optimize.minimize` (one optimizer for every estimator);
5. **result**: an immutable :class:`~analysis.sem.results.SEMResult`, whose
   standard errors, test and fit measures are computed from the objective
   when first asked for (one set of fit-index formulas,
   :mod:`analysis.sem.fit_indices`).

What differs between single-level moments (ML, MLR, FIML, two-stage ML),
weighted least squares (DWLS/WLSMV on polychoric correlations or moments)
and two-level ML is only *how* stages 1, 3 and 5 are done: a
:class:`Stages` object of each kind (:class:`analysis.sem.api.SingleLevel`,
:data:`analysis.sem.dwls.WLS_STAGES`, :data:`analysis.sem.twolevel.TWO_LEVEL_STAGES`).
Every stage reads the frozen :class:`~analysis.sem.options.Options`; none
changes it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .model import SEMModel
from .optimize import minimize

__all__ = ["Prepared", "Stages", "assemble"]


@dataclass(frozen=True)
class Prepared:
    """What the *prepare* stage hands on: the model's tables and the data's statistics.

    Attributes
    ----------
    partable : pandas.DataFrame
        The parameter table (fixed-x moments filled in).
    variables : analysis.sem.partable.VariableSets
        Observed and latent variable names.
    stats : object
        The sample statistics the objective reads.
    estimator : analysis.sem.objective.Estimator
        The estimator plug-in that builds the objective, SEs and test.
    ngroups : int
        Groups (blocks: 2 for a two-level model).
    meanstructure : bool
    extra : mapping
        What a kind of fit needs in its later stages (read-only).
    """

    partable: object
    variables: object
    stats: object
    estimator: object
    ngroups: int
    meanstructure: bool
    extra: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self):
        if not isinstance(self.extra, MappingProxyType):
            object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))


class Stages:
    """How one kind of fit does the stages (subclasses override :meth:`prepare` and :meth:`result`)."""

    def prepare(self, formulas, data, opts, **context) -> Prepared:  # pragma: no cover - interface
        raise NotImplementedError

    def objective(self, model: SEMModel, prepared: Prepared, opts):
        """The estimator's objective (its plug-in's ``build``)."""
        return prepared.estimator.build(model, prepared.stats, missing=opts.missing, ordered=opts.ordered)

    def start(self, model: SEMModel, objective, prepared: Prepared, opts) -> np.ndarray:
        """Starting values (lavaan's ``start = "default"``)."""
        from .start import start_values

        return start_values(prepared.partable, prepared.variables, prepared.stats, std_lv=opts.std_lv)

    def result(self, model, objective, optim, prepared: Prepared, opts, **context):  # pragma: no cover
        raise NotImplementedError


def assemble(stages: Stages, formulas, data, opts, *, start=None, **context):
    """Fit one model: prepare -> model -> objective -> start -> optimize -> result.

    Parameters
    ----------
    stages : Stages
        The kind of fit.
    formulas : list of analysis.sem.syntax.Formula
        The parsed model syntax.
    data : pandas.DataFrame
    opts : analysis.sem.options.Options
        Resolved options.
    start : array-like, optional
        Warm start for the free parameters (replaces stage 4's start values).
    **context
        Passed to ``prepare`` and ``result`` (e.g. the incomplete rows of a
        two-stage fit).

    Returns
    -------
    analysis.sem.results.SEMResult
    """
    prepared = stages.prepare(formulas, data, opts, **context)
    model = SEMModel(prepared.partable, prepared.variables.ov, prepared.variables.lv, prepared.ngroups,
                     bool(prepared.meanstructure))
    objective = stages.objective(model, prepared, opts)
    theta0 = (stages.start(model, objective, prepared, opts) if start is None
              else np.asarray(start, float))
    optim = minimize(objective, theta0, max_iter=opts.max_iter)
    return stages.result(model, objective, optim, prepared, opts, **context)
