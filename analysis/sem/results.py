"""The fitted-model object: estimates, fit measures, summary.

Statistics are computed once, on first access (statsmodels' results
pattern).

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36
   (``parameterEstimates()``, ``fitMeasures()``, ``summary()``).
"""
from __future__ import annotations

import html
import math
from functools import cached_property
from types import MappingProxyType

import numpy as np
import pandas as pd

from . import fit_indices as _fi
from .defined import DefinedParameters
from .distributions import critical_value, two_sided_p
from .standardized import standardize as _standardize

__all__ = ["SEMResult", "Section", "ESTIMATE_COLUMNS", "FIT_KEYS"]

#: Columns of :attr:`SEMResult.estimates`.
ESTIMATE_COLUMNS = ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue",
                    "ci_lower", "ci_upper", "std_all", "std_lv", "std_nox"]
#: Keys always present in :attr:`SEMResult.fit`.
FIT_KEYS = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
            "rmsea_ci_upper", "srmr", "aic", "bic", "loglik", "npar", "nobs"]



_SECTION_TITLES = {"=~": "Latent Variables", "~": "Regressions", "~~": "Covariances / Variances",
                   "~1": "Intercepts", "|": "Thresholds", ":=": "Defined Parameters"}


def estimate_sections(est: pd.DataFrame) -> list:
    """Lines of the estimate sections of a lavaan-style ``summary()``.

    Parameters
    ----------
    est : pandas.DataFrame
        Rows of ``.estimates`` (one group or level).

    Returns
    -------
    list of str
        One section per operator present (latent variables, regressions,
        covariances, intercepts, defined parameters), each a header, a
        column line and one line per parameter; fixed parameters show no SE.
    """
    fmt = lambda v: f"{v:>10.3f}" if math.isfinite(v) else f"{'':>10}"  # noqa: E731
    rows = list(zip(*(est[c].tolist() for c in ("lhs", "op", "rhs", "label", "est", "se", "z", "pvalue",
                                                 "std_all"))))  # plain values: no pandas per row
    lines = []
    for op, title in _SECTION_TITLES.items():
        sub = [r for r in rows if r[1] == op]
        if not sub:
            continue
        lines.append(f"{title}:")
        lines.append(f"  {'':<24}{'Estimate':>10}{'Std.Err':>10}{'z-value':>10}{'P(>|z|)':>10}{'Std.all':>10}")
        for lhs, _, rhs, label, value, se, z, pvalue, std_all in sub:
            name = f"{lhs}|{rhs}" if op == "|" else f"{lhs} {op} {rhs}".strip()
            if label:
                name += f" ({label})"
            se = se if (se > 0 or op == ":=") else math.nan
            lines.append(f"  {name:<24}{fmt(value)}{fmt(se)}{fmt(z)}{fmt(pvalue)}{fmt(std_all)}")
        lines.append("")
    return lines


class Section:
    """An optional part of a result: what one kind of data adds to the common statistics.

    A :class:`SEMResult` holds at most one section of each kind next to its
    bootstrap section: ``thresholds`` (ordinal indicators,
    :class:`analysis.sem.dwls.Thresholds`) and ``levels`` (a two-level model,
    :class:`analysis.sem.twolevel.Levels`).  A section holds read-only facts
    of the fit; its methods are given the result and return values, never
    change it.  The defaults add nothing.
    """

    def fit(self, result) -> pd.Series | None:
        """The fit measures, when this section's data define them (None: the single-level ones)."""
        return None

    def estimates(self, result, est: pd.DataFrame) -> pd.DataFrame:
        """The estimate table with this section's rows or columns adjusted."""
        return est

    def block_names(self, result) -> dict | None:
        """Names of the blocks of the estimate table (None: groups)."""
        return None

    def issues(self, result) -> list:
        """Problems this section adds (after the core's)."""
        return []

    def notes(self, result) -> list:
        """Facts about the data used (never problems)."""
        return []


class SEMResult:
    """A fitted structural equation model.

    Parameters
    ----------
    partable : pandas.DataFrame
        The parameter table (see :func:`analysis.sem.partable.build_partable`).
    variables : analysis.sem.partable.VariableSets
    model : analysis.sem.model.SEMModel
    objective : analysis.sem.objective.Objective
    estimator : analysis.sem.estimators.Estimator
    theta : ndarray
        Estimated free parameters.
    converged : bool
    n_iter : int
    options : mapping
        The call's options (``estimator``, ``group``, ``group_equal``, ...;
        :meth:`analysis.sem.options.Options.record`), kept read-only.
    bootstrap : BootstrapResult, optional
        The bootstrap section (:func:`analysis.sem.bootstrap.bootstrap`);
        usually attached by :meth:`with_bootstrap`.
    thresholds : Section, optional
        The ordinal section of a DWLS/WLSMV fit
        (:class:`analysis.sem.dwls.Thresholds`): threshold and scale rows,
        the scaled-shifted test, warnings about the data.
    levels : Section, optional
        The section of a two-level model
        (:class:`analysis.sem.twolevel.Levels`): the variables of each level,
        the saturated EM model, SRMR per level, facts about the clusters.
    incomplete_rows : tuple of ndarray, optional
        Two-stage ML: the raw rows (per group) whose EM moments were fitted,
        which the bootstrap resamples.
    cluster_labels : list of ndarray, optional
        With ``cluster=``: the cluster of each row used, per group.

    One result type serves every kind of fit; what a kind adds is a
    section.  A result is immutable: its attributes cannot be reassigned,
    and the methods ``with_bootstrap()`` and ``with_theta()`` return new
    results.  Statistics are computed once, on first access.

    Attributes
    ----------
    fit : pandas.Series
        Fit measures: ``chisq, df, pvalue, cfi, tli, rmsea, rmsea_ci_lower,
        rmsea_ci_upper, srmr, aic, bic, loglik, npar, nobs`` plus
        ``fmin, baseline_chisq, baseline_df, baseline_pvalue, rmsea_pvalue,
        unrestricted_loglik, bic2, ntotal, rmsea_notclose_pvalue``; robust
        estimators add ``chisq_scaled`` and the other scaled entries
        (``cfi_scaled, tli_scaled, rmsea_scaled, rmsea_ci_lower_scaled``, ...)
        and the robust indices (``cfi_robust, tli_robust, rmsea_robust,
        rmsea_ci_lower_robust, rmsea_ci_upper_robust``, ...), which FIML fits
        report without a scaled test too (as lavaan); the formulas are in
        :mod:`analysis.sem.fit_indices`.
    estimates : pandas.DataFrame
        ``lhs, op, rhs, group, label, est, se, z, pvalue, ci_lower,
        ci_upper, std_all, std_lv, std_nox`` (95% Wald intervals; fixed rows
        have ``se`` 0 and NaN ``z``/``pvalue`` as lavaan prints them; the
        ``std_*`` columns are lavaan's ``std.all``, ``std.lv``, ``std.nox``
        of ``parameterEstimates(standardized = TRUE)``, ``:=`` rows
        included; their standard errors: :meth:`standardized_solution`).
        A two-level fit adds ``block`` and ``level`` (1 within, 2 between,
        0 for ``:=`` rows) and has ``group`` 1; a DWLS/WLSMV fit adds the
        thresholds (op ``|``) and scales (``~*~``).
    converged : bool
    issues : list of str
        Non-convergence, negative variances, non-positive-definite
        covariance matrices of the latent variables or residuals (per group
        or level), then the sections' warnings.
    notes : list of str
        Facts about the data used (a two-level fit: rows and clusters),
        never problems.
    vcov : ndarray (q, q)
        Covariance matrix of the free parameters.
    """

    def __init__(self, partable, variables, model, objective, estimator, theta,
                 converged, n_iter, options, *, bootstrap=None, thresholds=None, levels=None,
                 incomplete_rows=None, cluster_labels=None):
        self.partable = partable
        self.variables = variables
        self.model = model
        self.objective = objective
        self.estimator = estimator
        theta = np.array(theta, dtype=float)
        theta.flags.writeable = False
        self.theta = theta
        self.converged = bool(converged)
        self.n_iter = int(n_iter)
        self.options = MappingProxyType(dict(options))
        self.bootstrap = bootstrap
        self.thresholds = thresholds
        self.levels = levels
        self.incomplete_rows = None if incomplete_rows is None else tuple(incomplete_rows)
        self.cluster_labels = cluster_labels
        self.__dict__["_sealed"] = True

    def __setattr__(self, name, value):
        if self.__dict__.get("_sealed"):
            raise AttributeError(f"{type(self).__name__} is immutable ({name!r} cannot be set); "
                                 "with_bootstrap() and with_theta() return new results.")
        object.__setattr__(self, name, value)

    def __getstate__(self) -> dict:  # pickle and copy: the read-only mapping as a plain dict
        return {**self.__dict__, "options": dict(self.options)}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update({**state, "options": MappingProxyType(dict(state["options"])), "_sealed": True})

    def _rebuilt(self, **changes) -> "SEMResult":
        """A new result of the same class from this one's parts, with ``changes`` (no cached statistics)."""
        new = object.__new__(type(self))
        parts = {k: v for k, v in self.__dict__.items()
                 if k != "_sealed" and not isinstance(getattr(type(self), k, None), cached_property)}
        parts.update(changes)
        new.__dict__.update(parts)
        new.__dict__["_sealed"] = True
        return new

    def with_bootstrap(self, boot, ci_type: str = "percentile") -> "SEMResult":
        """This fit with a bootstrap section (``.bootstrap``), as ``sem(..., bootstrap=B)`` returns it.

        The estimates then carry the bootstrap SEs and intervals
        (:func:`analysis.sem.bootstrap.bootstrap_estimates`), ``.options``
        records the draws, seed, interval and ``exclude_improper``, and with
        ``se="bootstrap"`` the covariance of the used draws is ``.vcov``.

        Parameters
        ----------
        boot : analysis.sem.bootstrap.BootstrapResult
        ci_type : str
            The interval placed in ``ci_lower/ci_upper`` (a key of
            :data:`analysis.sem.bootstrap.INTERVAL_COLUMNS`; lavaan's default
            ``boot.ci.type = "perc"``).
        """
        options = dict(self.options, bootstrap=int(boot.n_boot), seed=boot.seed,
                       ci_type=ci_type, exclude_improper=bool(boot.exclude_improper))
        return self._rebuilt(bootstrap=boot, options=MappingProxyType(options))

    def with_theta(self, theta) -> "SEMResult":
        """The same model evaluated at other parameter values (lavaan's ``start =`` with ``do.fit = FALSE``).

        For statistics at given values (modification indices at a reference
        solution, for instance); ``converged`` and ``n_iter`` are kept.
        """
        theta = np.array(theta, dtype=float)
        if theta.shape != self.theta.shape:
            raise ValueError(f"theta must have {self.theta.size} free parameters, not {theta.size}.")
        theta.flags.writeable = False
        return self._rebuilt(theta=theta)

    @property
    def boot(self):
        """The (B, q) bootstrap draws that make ``.vcov`` under ``se="bootstrap"`` (NaN rows left out)."""
        if self.bootstrap is None or self.options.get("se") != "bootstrap":
            return None
        theta = self.bootstrap.theta.copy()
        theta[~self.bootstrap.used] = np.nan
        return theta

    @property
    def _sections(self) -> tuple:
        return tuple(s for s in (self.thresholds, self.levels) if s is not None)

    # ---------------------------------------------------------------
    @property
    def stats(self):
        """The sample statistics (:class:`~analysis.sem.samplestats.SampleStats`)."""
        return self.objective.stats

    @cached_property
    def defined(self) -> DefinedParameters:
        """Compiled ``:=`` definitions."""
        return DefinedParameters(self.partable)

    @cached_property
    def vcov(self) -> np.ndarray:
        """Covariance matrix of the free parameters (q, q)."""
        if self.options.get("se") == "none":
            q = self.model.n_free
            return np.full((q, q), np.nan)
        if self.boot is not None:
            draws = np.asarray(self.boot, float)
            draws = draws[np.all(np.isfinite(draws), axis=1)]
            return np.cov(draws, rowvar=False, ddof=1)
        return self.estimator.vcov(self.objective, self.theta)

    @cached_property
    def scaled_test(self) -> dict | None:
        """Scaled test statistic of a robust estimator (None otherwise)."""
        if self.estimator.scaled_test is None:
            return None
        return self.estimator.scaled_test(self.objective, self.theta)

    @cached_property
    def implied(self):
        """Implied ``(sigma, mu)`` per group (per level of a two-level model)."""
        return self.model.implied(self.theta)

    @property
    def h1(self):
        """The saturated model the test compares with, when estimated (FIML: per group; two-level: EM)."""
        return getattr(self.objective, "h1", None)

    # ---------------------------------------------------------------
    def _est_column(self) -> np.ndarray:
        free = self.partable["free"].to_numpy()
        return np.where(free > 0, self.theta[np.maximum(free - 1, 0)],
                        self.partable["ustart"].to_numpy(dtype=float))

    @cached_property
    def estimates(self) -> pd.DataFrame:
        """Parameter estimates as lavaan's ``parameterEstimates()`` + ``std.all``."""
        pt = self.partable
        free = pt["free"].to_numpy()
        est = self._est_column()
        se_free = np.sqrt(np.clip(np.diag(self.vcov), 0, None))
        se = np.where(free > 0, se_free[np.maximum(free - 1, 0)], 0.0)
        is_def = (pt["op"] == ":=").to_numpy()
        if is_def.any():
            dvals = self.defined.values(self.theta)
            dvcov = self.defined.vcov(self.theta, self.vcov)
            dse = np.sqrt(np.clip(np.diag(dvcov), 0, None))
            est = est.copy()
            se = se.copy()
            est[is_def] = dvals
            se[is_def] = dse
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where((free > 0) | is_def, est / se, np.nan)
        z = np.where(np.isfinite(z), z, np.nan)
        p = two_sided_p(z)
        z975 = critical_value(0.95)
        df = pd.DataFrame({
            "lhs": pt["lhs"].astype(str).to_numpy(),
            "op": pt["op"].astype(str).to_numpy(),
            "rhs": pt["rhs"].astype(str).to_numpy(),
            "group": pt["group"].to_numpy(dtype=int),
            "label": pt["label"].astype(str).to_numpy(),
            "est": est,
            "se": se,
            "z": z,
            "pvalue": p,
            "ci_lower": est - z975 * se,
            "ci_upper": est + z975 * se,
            "std_all": _standardize(self.model, self.theta, pt, "std.all", self.defined,
                                    self.variables.ov_x),
            "std_lv": _standardize(self.model, self.theta, pt, "std.lv", self.defined,
                                   self.variables.ov_x),
            "std_nox": _standardize(self.model, self.theta, pt, "std.nox", self.defined,
                                    self.variables.ov_x),
        })
        if self.bootstrap is not None:
            from .bootstrap import bootstrap_estimates  # percentile SEs/intervals, as lavaan's se="bootstrap"

            df = bootstrap_estimates(self, estimates=df)
        for section in self._sections:
            df = section.estimates(self, df)
        return df

    # ---------------------------------------------------------------
    def _ndat(self) -> int:
        ms = self.model.meanstructure
        px = len(self.variables.ov_x)
        tot = 0
        for g in range(self.model.n_groups):
            p = self.model.p
            tot += p * (p + 1) // 2 + (p if ms else 0)
            tot -= px * (px + 1) // 2 + (px if ms else 0)
        return tot

    @cached_property
    def fit(self) -> pd.Series:
        """Fit measures (see the class docstring)."""
        for section in self._sections:
            out = section.fit(self)
            if out is not None:
                return out
        obj = self.objective
        st = self.stats
        q = self.model.n_free
        df = self._ndat() - q
        chisq = obj.test_statistic(self.theta)
        pos = {v: i for i, v in enumerate(st.ov_names)}
        x_idx = [pos[v] for v in self.variables.ov_x]
        if hasattr(obj, "baseline_test"):
            chisq_b, df_b = obj.baseline_test()
        else:
            chisq_b, df_b = _fi.baseline_chisq(st.cov, st.nobs, x_idx)
        if hasattr(obj, "h1_moments"):
            cov_h1, mean_h1 = obj.h1_moments()
        else:
            cov_h1, mean_h1 = st.cov, st.mean
        sig = [s for s, _ in self.implied]
        mus = [m for _, m in self.implied]
        srmr = _fi.srmr(cov_h1, mean_h1, sig, mus, st.nobs)
        # fixed.x: lavaan reports the log-likelihood conditional on x
        ll_x = 0.0
        if x_idx:
            px = len(x_idx)
            for g in range(st.ngroups):
                sxx = st.cov[g][np.ix_(x_idx, x_idx)]
                ll_x += -0.5 * st.nobs[g] * (px * np.log(2 * np.pi)
                                             + np.linalg.slogdet(sxx)[1] + px)
        out = _fi.fit_measures(
            chisq=chisq, df=df, npar=q, ntotal=st.ntotal, ngroups=st.ngroups,
            loglik=obj.loglik(self.theta) - ll_x, loglik_h1=obj.loglik_h1() - ll_x,
            chisq_b=chisq_b, df_b=df_b, srmr_value=srmr, fmin=obj.value(self.theta))
        scaled = self.scaled_test
        if not scaled and self.options.get("missing") == "fiml":
            # lavaan reports the robust indices after FIML without a scaled test too (FIML-C V6)
            from .robust import robust_fit_measures

            scaled = robust_fit_measures(obj, self.theta, test={})
        if scaled:
            extra = pd.Series({k: float(v) for k, v in scaled.items()}, dtype=float)
            out = pd.concat([out, extra[~extra.index.isin(out.index)]])
        return out

    def _blocks(self) -> tuple:
        """The estimate table's block column and the blocks' names ({block: name})."""
        for section in self._sections:
            names = section.block_names(self)
            if names:
                return "level", names
        return "group", {g + 1: f"group {g + 1}" for g in range(self.model.n_groups)}

    @cached_property
    def issues(self) -> list:
        """Problems with the solution, in words (per group or level), then the sections' warnings."""
        msgs = []
        if not self.converged:
            msgs.append(f"The optimizer did not converge after {self.n_iter} iterations.")
        _, names = self._blocks()
        where = {b: (f" in {n}" if len(names) > 1 else "") for b, n in names.items()}
        pt = self.partable
        est = self._est_column()
        for k, r in enumerate(pt.itertuples(index=False)):
            if r.op == "~~" and r.lhs == r.rhs and est[k] < 0:
                msgs.append(f"Negative variance estimate{where[r.group]}: {r.lhs} ~~ {r.rhs} = {est[k]:.4f}.")
        p = self.model.p
        used = pt[pt["op"] != ":="]
        for b in names:
            rows = used[used["group"] == b]
            present = set(rows["lhs"]) | set(rows["rhs"])
            lv_idx = [self.model.names.index(v) for v in self.model.lv_names if v in present]
            c, _ = self.model.total_moments(self.theta, b - 1)
            if lv_idx:
                ev = np.linalg.eigvalsh(c[np.ix_(lv_idx, lv_idx)])
                if ev.min() <= 0:
                    msgs.append("The covariance matrix of the latent variables is not positive "
                                f"definite{where[b]} (smallest eigenvalue {ev.min():.3g}).")
            _, s, _ = self.model.matrices(self.theta, b - 1)
            ev = np.linalg.eigvalsh(s[:p, :p])
            if ev.min() < 0:
                msgs.append("The covariance matrix of the residuals is not positive "
                            f"definite{where[b]} (smallest eigenvalue {ev.min():.3g}).")
        if self.converged:
            ev = np.linalg.eigvalsh(self.objective.information(self.theta))
            if ev.min() <= 1e-10 * max(1.0, ev.max()):
                msgs.append("The information matrix is singular: the model may not be identified.")
        for section in self._sections:
            msgs += section.issues(self)
        return msgs

    @cached_property
    def notes(self) -> list:
        """Facts about the data used (never problems)."""
        return [n for section in self._sections for n in section.notes(self)]

    # ---------------------------------------------------------------
    def refit(self, sample_cov_list, sample_mean_list, n_list, start=None, info=None):
        """Re-estimate the same model from new sample moments (the warm refit of :mod:`analysis.sem.refit`).

        Parameters
        ----------
        sample_cov_list, sample_mean_list : list of ndarray
            Per-group covariance (divisor N) and mean, in the order of
            ``self.stats.ov_names``.
        n_list : list of int
        start : ndarray, optional
            Warm start (default: this fit's estimate).
        info : ndarray, optional
            The information matrix the quasi-Newton iterations start from
            (default: the expected information at this fit's estimate).

        Returns
        -------
        theta : ndarray
        converged : bool
        n_iter : int

        Notes
        -----
        ML with complete data only.  With fixed-x covariates their fixed
        moments are reset from the new sample moments (on a copy of the
        model), as lavaan does for each bootstrap sample.
        """
        from .objective import MLObjective
        from .refit import Refitter

        if self.levels is not None:
            raise NotImplementedError("Fast refits (bootstrap) are not available for two-level models.")
        if type(self.objective) is not MLObjective:
            raise NotImplementedError(
                f"Fast refits are available for ML with complete data, not {self.estimator.name}."
            )
        info = self.objective.information(self.theta) if info is None else np.asarray(info, float)
        refitter = Refitter(self.model, self.theta, np.linalg.inv(info), gtol=1e-7)
        _, theta, converged, n_iter = refitter.fit(sample_cov_list, sample_mean_list, n_list, start=start)
        return theta, converged, n_iter

    def standardized_solution(self, type: str = "std.all", *, level: float = 0.95) -> pd.DataFrame:
        """Standardized estimates with delta-method SEs, ``:=`` rows included (lavaan's
        ``standardizedSolution()``; see :func:`analysis.sem.standardized.standardized_solution`)."""
        from .standardized import standardized_solution

        return standardized_solution(self, type, level=level)

    def modindices(self, *, sort: bool = True, minimum_value: float = 0.0) -> pd.DataFrame:
        """Modification indices (see :func:`analysis.sem.modindices.modindices`)."""
        from .modindices import modindices

        if self.levels is not None:
            raise NotImplementedError("Modification indices are not available for two-level models.")
        return modindices(self, sort=sort, minimum_value=minimum_value)

    # ---------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready dict with keys ``fit``, ``estimates``, ``converged``, ``issues`` (and ``notes`` when there are any)."""
        def clean(v):
            if isinstance(v, (float, np.floating)):
                return None if not np.isfinite(v) else float(v)
            if isinstance(v, (np.integer,)):
                return int(v)
            return v
        est = [{k: clean(v) for k, v in row.items()}
               for row in self.estimates.to_dict(orient="records")]
        fit = {k: clean(v) for k, v in self.fit.items()}
        if self.bootstrap is not None:
            fit.update({k: clean(v) for k, v in self.bootstrap.counts().items()})
        out = {"fit": fit, "estimates": est, "converged": self.converged, "issues": list(self.issues)}
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def summary(self) -> str:
        """A text summary in the manner of lavaan's ``summary()``."""
        f = self.fit
        st = self.stats
        num = lambda v: f"{v:>10.3f}" if math.isfinite(v) else f"{'':>10}"  # noqa: E731
        kind = "two-level model " if self.levels is not None else ""
        lines = [f"SEM core (lavaan-compatible) {kind}{'ended normally' if self.converged else 'did NOT converge'} "
                 f"after {self.n_iter} iterations", ""]
        lines.append(f"  Estimator                                  {self.estimator.name:>10}")
        lines.append(f"  Number of model parameters                 {int(f['npar']):>10}")
        if self.levels is None and st.ngroups > 1:
            lines.append(f"  Number of groups                           {st.ngroups:>10}")
        lines.append(f"  Number of observations                     {st.ntotal:>10}")
        if "nclusters" in f.index:
            lines.append(f"  Number of clusters [{self.options.get('cluster')}]".ljust(45)
                         + f"{int(f['nclusters']):>10}")
        if st.n_dropped:
            lines.append(f"  Rows dropped (missing)                     {st.n_dropped:>10}")
        srmr = (f"SRMR within {f['srmr_within']:.3f} between {f['srmr_between']:.3f}"
                if "srmr_within" in f.index else f"SRMR {f['srmr']:.3f}")
        lines += ["", "Model Test User Model:", "",
                  f"  Test statistic                             {num(f['chisq'])}",
                  f"  Degrees of freedom                         {int(f['df']):>10}",
                  f"  P-value (Chi-square)                       {num(f['pvalue'])}", ""]
        if "chisq_scaled" in f.index:
            shift = (f", shift {f['shift_parameter']:.3f}" if math.isfinite(f.get("shift_parameter", math.nan))
                     else "")
            lines += [f"  Scaled test ({self.estimator.name}): {f['chisq_scaled']:.3f}, df "
                      f"{f['df_scaled']:.4g}, p {f['pvalue_scaled']:.3f}; scaling factor "
                      f"{f['scaling_factor']:.3f}{shift}",
                      f"  Scaled: CFI {f['cfi_scaled']:.3f}  TLI {f['tli_scaled']:.3f}  RMSEA "
                      f"{f['rmsea_scaled']:.3f} [{f['rmsea_ci_lower_scaled']:.3f}, "
                      f"{f['rmsea_ci_upper_scaled']:.3f}]", ""]
        lines += [f"  CFI {f['cfi']:.3f}  TLI {f['tli']:.3f}  RMSEA {f['rmsea']:.3f} "
                  f"[{f['rmsea_ci_lower']:.3f}, {f['rmsea_ci_upper']:.3f}]  {srmr}"]
        if math.isfinite(f["loglik"]):  # not defined for least squares
            lines.append(f"  Loglikelihood {f['loglik']:.3f}  AIC {f['aic']:.3f}  BIC {f['bic']:.3f}")
        lines.append("")
        if self.issues:
            lines += ["Warnings:"] + [f"  - {m}" for m in self.issues] + [""]
        if self.notes:
            lines += ["Notes:"] + [f"  - {m}" for m in self.notes] + [""]
        est = self.estimates
        column, names = self._blocks()
        if column == "group":
            names = {g: f"Group {g} [{lab}]" for g, lab in zip(names, st.group_labels)}
        else:
            names = {b: n[0].upper() + n[1:] for b, n in names.items()}
        blocks = sorted(est[column].unique(), key=lambda v: (v == 0, v))  # ':=' (block 0) last
        for b in blocks:
            if len(blocks) > 1 and (b > 0 or column == "group"):
                lines += [f"{names[b]}:" if b > 0 else "Across groups:", ""]
            lines += estimate_sections(est[est[column] == b])
        return "\n".join(lines)

    def __repr__(self) -> str:
        f = self.fit
        clusters = f", clusters={int(f['nclusters'])}" if "nclusters" in f.index else ""
        return (f"<SEMResult {self.estimator.name}: chisq={f['chisq']:.3f}, df={int(f['df'])}, "
                f"cfi={f['cfi']:.3f}, rmsea={f['rmsea']:.3f}{clusters}, converged={self.converged}>")

    def _repr_html_(self) -> str:
        fit = self.fit[FIT_KEYS].to_frame("value").to_html(float_format=lambda v: f"{v:.3f}")
        est = self.estimates.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="")
        warn = "".join(f"<li>{m}</li>" for m in self.issues)
        warn = f"<p><b>Warnings</b></p><ul>{warn}</ul>" if warn else ""
        return f"<div><p><b>{html.escape(repr(self))}</b></p>{warn}{fit}{est}</div>"
