"""Generic Monte Carlo power and parameter-recovery helpers.

A study supplies one function that simulates a sample and analyses it
(``replicate``); :func:`monte_carlo` runs it over conditions and
replications with seeds spawned up front from one ``SeedSequence`` (so the
results do not depend on the number of workers, the backend or the
chunking: chunks run through :func:`analysis._parallel.chunked_map`, locally
or on a Dask cluster), and :func:`power_table`,
:func:`recovery_table` and :func:`smallest_n` summarise the replications.

References
----------
.. [1] Muthén, L. K., & Muthén, B. O. (2002). How to use a Monte Carlo study
   to decide on sample size and determine power. *Structural Equation
   Modeling*, 9(4), 599-620.
.. [2] Morris, T. P., White, I. R., & Crowther, M. J. (2019). Using
   simulation studies to evaluate statistical methods. *Statistics in
   Medicine*, 38(11), 2074-2102.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._parallel import chunked_map

__all__ = ["monte_carlo", "power_table", "recovery_table", "smallest_n"]


def _run_chunk(replicate, tasks):
    """The replications of one chunk (in a worker, one BLAS thread: :func:`analysis._parallel.chunked_map`)."""
    rows = []
    for cond, rep, seed in tasks:
        out = replicate(dict(cond), rep, seed)
        for r in (out if isinstance(out, list) else [out]):
            rows.append({**cond, "rep": rep, **r})
    return rows


def monte_carlo(replicate, conditions, n_reps: int, seed, *, n_jobs: int | None = None, backend=None,
                chunk_size: int = 10, progress: bool = False) -> pd.DataFrame:
    """Run ``replicate`` for every condition and replication.

    Parameters
    ----------
    replicate : callable
        ``replicate(condition: dict, rep: int, seed: int) -> dict or list of
        dict`` (must be picklable: a module-level function or a
        ``functools.partial`` of one).
    conditions : list of dict
        E.g. ``[{"n": 300}, {"n": 600}]``.
    n_reps : int
    seed : int
        Root of ``np.random.SeedSequence``; replication r of condition k
        gets the integer seed of child ``k * n_reps + r``.
    n_jobs, backend
        Local worker processes and backend (``"local"`` or ``"dask"``); by
        default those of the active :func:`analysis._parallel.session`, else
        2 local workers.  They never change the result.
    chunk_size : int
        Replications per task.
    progress : bool
        tqdm progress bar (either backend).

    Returns
    -------
    pandas.DataFrame
        One row per returned dict, with the condition's keys and ``rep``
        first.

    Notes
    -----
    Independent streams from ``SeedSequence.spawn`` [1]_.

    References
    ----------
    .. [1] O'Neill, M. E. (2014). PCG: A family of simple fast
       space-efficient statistically good algorithms for random number
       generation. HMC-CS-2014-0905 (numpy's seed sequences).

    Examples
    --------
    >>> def rep(cond, r, seed):
    ...     x = np.random.default_rng(seed).normal(size=cond["n"])
    ...     return {"mean": x.mean()}
    >>> out = monte_carlo(rep, [{"n": 10}], 3, seed=1, n_jobs=1)
    >>> list(out.columns), len(out)
    (['n', 'rep', 'mean'], 3)
    """
    conditions = [dict(c) for c in conditions]
    n_reps = int(n_reps)
    if n_reps < 1 or not conditions:
        raise ValueError("need at least one condition and one replication")
    children = np.random.SeedSequence(seed).spawn(len(conditions) * n_reps)
    tasks = []
    for k, cond in enumerate(conditions):
        for r in range(n_reps):
            tasks.append((cond, r, int(children[k * n_reps + r].generate_state(1)[0])))
    spans = [tasks[i:i + chunk_size] for i in range(0, len(tasks), chunk_size)]
    parts = chunked_map(_run_chunk, replicate, spans, sizes=[len(s) for s in spans], n_jobs=n_jobs,
                        backend=backend, progress=progress, desc="replications", unit="rep")
    return pd.DataFrame([row for part in parts for row in part])


def power_table(reps: pd.DataFrame, by, effect: str = "effect", reject: str = "reject",
                valid: str | None = "valid") -> pd.DataFrame:
    """Rejection rates (power) with Monte Carlo standard errors.

    Parameters
    ----------
    reps : pandas.DataFrame
        One row per replication and effect.
    by : str or list of str
        Condition columns (e.g. ``"n"``).
    effect : str
        Column naming the effect.
    reject : str
        Boolean column: the null hypothesis was rejected.
    valid : str or None
        Boolean column: the replication is usable (converged, proper);
        invalid ones are excluded and counted.

    Returns
    -------
    pandas.DataFrame
        ``<by>, effect, power, mc_se, n_valid, n_invalid``.

    Notes
    -----
    :math:`\\hat\\pi = R^{-1}\\sum_r 1[\\text{reject}_r]`, Monte Carlo SE
    :math:`\\sqrt{\\hat\\pi(1-\\hat\\pi)/R}` [1]_.

    References
    ----------
    .. [1] Morris, T. P., White, I. R., & Crowther, M. J. (2019). *Statistics
       in Medicine*, 38(11), 2074-2102.
    """
    by = [by] if isinstance(by, str) else list(by)
    keys = by + [effect]
    rows = []
    for key, g in reps.groupby(keys, sort=True):
        ok = g[valid].astype(bool) if valid and valid in g.columns else pd.Series(True, index=g.index)
        x = g.loc[ok, reject].astype(float)
        p = float(x.mean()) if len(x) else np.nan
        rows.append({**dict(zip(keys, key)), "power": p,
                     "mc_se": float(np.sqrt(p * (1 - p) / len(x))) if len(x) else np.nan,
                     "n_valid": int(ok.sum()), "n_invalid": int((~ok).sum())})
    return pd.DataFrame(rows)


def recovery_table(reps: pd.DataFrame, truth: dict, *, by=(), param: str = "param",
                   est: str = "est", lower: str | None = "ci_lower", upper: str | None = "ci_upper",
                   valid: str | None = "valid") -> pd.DataFrame:
    """Bias, relative bias, RMSE and interval coverage per parameter.

    Parameters
    ----------
    reps : pandas.DataFrame
        One row per replication and parameter.
    truth : dict
        ``parameter -> true value``.
    by : sequence of str
        Extra grouping columns (e.g. ``"n"``).
    param, est, lower, upper, valid : str
        Column names (``lower``/``upper`` None: no coverage).

    Returns
    -------
    pandas.DataFrame
        ``<by>, param, truth, mean, bias, rel_bias, rmse, emp_se, coverage,
        coverage_mc_se, n_valid, n_invalid``.

    Notes
    -----
    :math:`\\text{bias} = \\bar{\\hat\\theta} - \\theta`, relative bias
    :math:`\\text{bias}/\\theta`, :math:`\\text{RMSE} =
    \\sqrt{R^{-1}\\sum(\\hat\\theta_r-\\theta)^2}`, coverage = share of
    intervals containing :math:`\\theta` [1]_.

    References
    ----------
    .. [1] Morris, T. P., White, I. R., & Crowther, M. J. (2019). *Statistics
       in Medicine*, 38(11), 2074-2102.
    """
    by = list(by)
    rows = []
    for key, g in reps.groupby(by + [param], sort=True):
        key = key if isinstance(key, tuple) else (key,)
        name = key[-1]
        if name not in truth:
            continue
        t = float(truth[name])
        ok = g[valid].astype(bool) if valid and valid in g.columns else pd.Series(True, index=g.index)
        x = g.loc[ok, est].astype(float).to_numpy()
        row = {**dict(zip(by, key[:-1])), param: name, "truth": t, "mean": float(np.mean(x)),
               "bias": float(np.mean(x) - t),
               "rel_bias": float((np.mean(x) - t) / t) if t != 0 else np.nan,
               "rmse": float(np.sqrt(np.mean((x - t) ** 2))), "emp_se": float(np.std(x, ddof=1))}
        if lower and upper:
            lo = g.loc[ok, lower].astype(float).to_numpy()
            hi = g.loc[ok, upper].astype(float).to_numpy()
            cov = float(np.mean((lo <= t) & (t <= hi)))
            row["coverage"] = cov
            row["coverage_mc_se"] = float(np.sqrt(cov * (1 - cov) / len(x)))
        row["n_valid"] = int(ok.sum())
        row["n_invalid"] = int((~ok).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def smallest_n(power: pd.DataFrame, *, n: str = "n", target: float = 0.80,
               effects=None, effect: str = "effect") -> float:
    """Smallest sample size at which every listed effect reaches the target power.

    Parameters
    ----------
    power : pandas.DataFrame
        From :func:`power_table`.
    n : str
        Sample-size column.
    target : float
    effects : list of str, optional
        Effects that must all reach ``target`` (default: all).
    effect : str

    Returns
    -------
    float
        The smallest simulated N, or NaN when none reaches the target.
    """
    sub = power if effects is None else power[power[effect].isin(list(effects))]
    worst = sub.groupby(n)["power"].min().sort_index()
    ok = worst[worst >= target]
    return float(ok.index[0]) if len(ok) else float("nan")
