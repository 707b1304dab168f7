"""The options of one fit, resolved and checked once (lavaan's ``lavOptions()``).

:func:`analysis.sem.sem` turns its keyword arguments into one frozen
:class:`Options` before any data are touched: aliases are resolved
(``missing="ml"`` is FIML, ``se="robust.huber.white"`` is ``"robust"``), the
defaults that depend on other options are filled in (lavaan's: bootstrap
standard errors when draws are requested, cluster-robust ones with
``cluster``, MLR with sampling weights), and every combination that does not
go together is refused with one message that says which.  Every later stage
of the fit reads this object; nothing changes it (a variant for an inner stage
is a new object, :meth:`Options.but`).  A fit's ``.options`` is its
:meth:`Options.record`, a read-only mapping.

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. *Journal of Statistical Software*, 48(2), 1-36.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

__all__ = ["Options", "SE_TYPES", "MISSING"]

#: Standard errors (lavaan's ``se =``).
SE_TYPES = ("standard", "robust", "robust.huber.white", "robust.cluster", "bootstrap", "none")
#: Missing-data options (lavaan's ``missing =``) and the name each is stored under.
MISSING = {"listwise": "listwise", "fiml": "fiml", "ml": "fiml", "two.stage": "two.stage",
           "two-stage": "two.stage", "pairwise": "pairwise"}


@dataclass(frozen=True)
class Options:
    """The resolved options of one fit (see :func:`analysis.sem.sem` for each).

    Build it with :meth:`resolve`, which checks the combination; ``se`` is
    never None here (the default is resolved) and ``missing`` is one of
    ``listwise, fiml, two.stage, pairwise``.
    """

    estimator: str = "ML"
    ordered: object = None
    missing: str = "listwise"
    group: str | None = None
    group_equal: tuple = ()
    group_partial: object = ()
    std_lv: bool = False
    meanstructure: bool | None = None
    se: str = "standard"
    bootstrap: int = 0
    seed: int | None = None
    ci_type: str | None = None
    exclude_improper: bool = False
    max_iter: int = 500
    cluster: str | None = None
    fixed_x: bool = True
    test: str | None = None
    sampling_weights: str | None = None
    two_level: bool = False

    def but(self, **changes) -> "Options":
        """A copy with ``changes`` (for an inner stage of a fit, e.g. the ML fit of two-stage ML)."""
        return dataclasses.replace(self, **changes)

    @property
    def interval(self) -> str | None:
        """The bootstrap interval placed in ``ci_lower/ci_upper`` (None without draws)."""
        return (self.ci_type or "percentile") if self.bootstrap else None

    def record(self, **resolved) -> MappingProxyType:
        """What a result reports as ``.options``: these options, with what the fit resolved.

        ``resolved`` holds what only the fit knows (the estimator it switched
        to, the mean structure it found in the syntax, the stored form of the
        ``group.partial`` constraints); the mapping is read-only.
        """
        out = dict(estimator=self.estimator, missing=self.missing, group=self.group,
                   group_equal=tuple(self.group_equal), std_lv=self.std_lv, meanstructure=self.meanstructure,
                   se=self.se, bootstrap=self.bootstrap, seed=self.seed, ci_type=self.interval,
                   exclude_improper=bool(self.exclude_improper), ordered=self.ordered,
                   sampling_weights=self.sampling_weights, cluster=self.cluster)
        if self.test is not None:
            out["test"] = self.test
        out.update(resolved)
        return MappingProxyType(out)

    # ------------------------------------------------------------------
    @classmethod
    def resolve(cls, *, two_level: bool = False, estimator="ML", ordered=None, missing="listwise",
                group=None, group_equal=(), group_partial=(), std_lv=False, meanstructure=None, se=None,
                bootstrap=0, seed=None, ci_type=None, exclude_improper=False, max_iter=500, cluster=None,
                fixed_x=True, test=None, sampling_weights=None) -> "Options":
        """Check the options of :func:`analysis.sem.sem` and fill in the defaults that depend on others.

        Parameters
        ----------
        two_level : bool
            The syntax has ``level:`` blocks.
        **options
            The keyword arguments of :func:`analysis.sem.sem`.

        Raises
        ------
        TypeError, ValueError
            An unknown value, or options that do not go together.
        NotImplementedError
            A combination lavaan offers that this package does not.
        """
        if cluster is not None and not isinstance(cluster, str):
            raise TypeError(f"cluster must be a column name, not {type(cluster).__name__}.")
        if se is not None and se not in SE_TYPES:
            raise ValueError(f"se must be one of {list(SE_TYPES)}, not {se!r}.")
        key = missing.lower() if isinstance(missing, str) else missing
        if key not in MISSING:
            raise ValueError(f"missing must be one of {sorted(MISSING)}, not {missing!r}.")
        missing = MISSING[key]
        n_boot = _bootstrap_draws(bootstrap, se, ci_type, exclude_improper)
        if isinstance(group_equal, str):
            group_equal = (group_equal,)
        if sampling_weights is not None:
            _check_weights(sampling_weights, n_boot=n_boot, missing=missing, estimator=estimator,
                           ordered=ordered, two_level=two_level)
            if se is None and cluster is None:
                se = "robust"  # lavaan: sampling weights turn ML into MLR
        common = dict(estimator=estimator, ordered=ordered, missing=missing, group=group,
                      group_equal=tuple(group_equal), group_partial=group_partial, std_lv=std_lv,
                      meanstructure=meanstructure, bootstrap=n_boot, seed=seed, ci_type=ci_type,
                      exclude_improper=bool(exclude_improper), max_iter=max_iter, cluster=cluster,
                      fixed_x=fixed_x, sampling_weights=sampling_weights)
        if two_level:
            return cls(**common, se=_check_two_level(se or "standard", **common), two_level=True)
        if not fixed_x:
            raise NotImplementedError("fixed_x=False is implemented for two-level models only.")
        if se is None:  # lavaan's default
            se = "bootstrap" if n_boot else ("robust.cluster" if cluster is not None else "standard")
        if se == "robust.cluster" and cluster is None:
            raise ValueError("se='robust.cluster' needs cluster=, the column naming each row's cluster "
                             "(e.g. sem(model, data, se='robust.cluster', cluster='community')).")
        if test is not None and (cluster is None or se not in ("robust", "robust.huber.white",
                                                                 "robust.cluster", "none")):
            raise (NotImplementedError if cluster is None else ValueError)(
                f"test={test!r} is available with cluster= and se='robust.cluster' (lavaan's se = "
                "'robust.cluster'); without it MLR gives the Yuan-Bentler test.")
        if missing == "two.stage":
            _check_two_stage(estimator, ordered, se, cluster)
        elif cluster is not None:
            _check_cluster(estimator, ordered, se, test)
            if se not in ("standard", "bootstrap"):  # MLR with the casewise scores summed by cluster
                test = test or "yuan.bentler.mplus"
                se = "none" if se == "none" else "robust.cluster"
        return cls(**common, se=se, test=test)


def _bootstrap_draws(bootstrap, se, ci_type, exclude_improper) -> int:
    """The number of draws, after checking the options that go with it."""
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a number of draws >= 0, not {bootstrap!r}.")
    n_boot = int(bootstrap)
    if se == "bootstrap" and n_boot == 0:
        raise ValueError("se='bootstrap' needs bootstrap > 0 draws.")
    if se == "none" and n_boot:
        raise ValueError("se='none' asks for no standard errors, but bootstrap draws were requested; "
                         "drop one of them.")
    if ci_type is not None:
        from .bootstrap import INTERVAL_COLUMNS  # here: a fit without draws does not load the bootstrap

        if ci_type not in INTERVAL_COLUMNS:
            raise ValueError(f"ci_type must be one of {list(INTERVAL_COLUMNS)}, not {ci_type!r}.")
        if n_boot == 0:
            raise ValueError(f"ci_type={ci_type!r} chooses a bootstrap interval: give bootstrap > 0 draws.")
    if exclude_improper and n_boot == 0:
        raise ValueError("exclude_improper applies to bootstrap draws: give bootstrap > 0 draws.")
    return n_boot


def _check_weights(weights, *, n_boot, missing, estimator, ordered, two_level) -> None:
    """Refuse, with a message, the combinations with sampling weights that are not implemented."""
    if not isinstance(weights, str):
        raise TypeError(f"sampling_weights must be a column name, not {type(weights).__name__}.")
    if n_boot:
        raise NotImplementedError("The bootstrap with sampling weights is not implemented; use the "
                                  "robust (sandwich) standard errors that the weighted fit reports.")
    if missing not in ("listwise", "fiml"):
        raise NotImplementedError(f"Sampling weights are implemented with missing='listwise' or 'fiml', "
                                  f"not missing={missing!r} (lavaan: two.stage + sampling.weights is not "
                                  "supported either).")
    if str(estimator).upper() not in ("ML", "MLR") or ordered not in (None, False):
        raise NotImplementedError("Sampling weights are implemented for ML/MLR with continuous "
                                  f"indicators, not estimator={estimator!r}"
                                  + (" with ordered variables" if ordered not in (None, False) else "")
                                  + ".")
    if two_level:
        raise NotImplementedError("Sampling weights are not implemented for two-level models.")


def _check_two_level(se, *, cluster, estimator, ordered, missing, group, group_equal, group_partial,
                     bootstrap, **_) -> str:
    """The checks of a model with ``level:`` blocks; returns its ``se``."""
    if group_partial:
        raise NotImplementedError("group_partial needs groups; multigroup two-level models are not supported.")
    if cluster is None:
        raise ValueError("The model has 'level:' blocks: give the cluster column, "
                         "e.g. sem(model, data, cluster='community').")
    if str(estimator).upper() != "ML":
        raise NotImplementedError(f"Two-level models are estimated by ML only, not {estimator!r}.")
    if ordered not in (None, False):
        raise NotImplementedError("Two-level models with ordered variables are not supported.")
    if missing != "listwise":
        raise NotImplementedError("Two-level models use complete data (listwise deletion); "
                                  f"missing={missing!r} is not supported.")
    if group is not None or group_equal:
        raise NotImplementedError("Multigroup two-level models are not supported.")
    if se not in ("standard", "none"):
        raise NotImplementedError(f"se={se!r} is not available for two-level models "
                                  "(standard errors: observed information, as lavaan).")
    if bootstrap:
        raise NotImplementedError("The bootstrap is not available for two-level models.")
    return se


def _check_two_stage(estimator, ordered, se, cluster) -> None:
    if str(estimator).upper() != "ML":
        raise ValueError(f"missing='two.stage' fits ML to the EM moments; estimator={estimator!r} is not "
                         "available with it (use estimator='ML' and se='bootstrap' or se='standard').")
    if ordered not in (None, False):
        raise ValueError("missing='two.stage' is for continuous indicators; ordered variables are fitted "
                         "by estimator='WLSMV' (pairwise).")
    if se not in ("standard", "bootstrap", "none"):
        raise ValueError(f"se={se!r} is not available with missing='two.stage': its robust (sandwich) "
                         "corrections need the two-stage asymptotic covariance, which is not implemented. "
                         "Use se='standard' (the EM moments treated as complete data) and bootstrap draws, "
                         "which resample the incomplete rows"
                         + (" and whole clusters" if cluster is not None else "") + ".")


def _check_cluster(estimator, ordered, se, test) -> None:
    from .robust import SCALED_TESTS

    if str(estimator).upper() not in ("ML", "MLR") or ordered not in (None, False):
        raise NotImplementedError("cluster= with a single-level model is available for ML/MLR "
                                  f"(cluster-robust SEs), not estimator={estimator!r}"
                                  + (" with ordered variables" if ordered not in (None, False) else "")
                                  + ".")
    if se not in ("standard", "bootstrap") and test is not None and test not in SCALED_TESTS:
        raise ValueError(f"test must be one of {list(SCALED_TESTS)} with cluster=, not {test!r}.")
