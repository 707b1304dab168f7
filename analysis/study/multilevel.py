"""Two-level path model of the scale scores: mediation within and between communities.

Respondents are nested in communities, and the population model (and
probably the field) puts part of every construct's variance between
communities.  The single-level structural model answers "does a respondent
who sees stronger Party leadership also see stronger pathways and more
resilience?" with one coefficient for both sources of covariance.  The
two-level model splits it: the *within* paths compare respondents of the
same community, the *between* paths compare communities' means [1]_ [2]_.

The 12 constructs and 4 second-order factors are too many latent variables
for about 60 communities, so the model is a path model of the six scale
scores (mean of the available items, second-order scores over the items of
their first-order factors), fitted by two-level ML
(:func:`analysis.sem.sem` with ``cluster =``, which reproduces lavaan
0.6.14).  Measurement error is not modelled: the within paths are
attenuated compared with the latent model of the structural chapter.

References
----------
.. [1] Preacher, K. J., Zyphur, M. J., & Zhang, Z. (2010). A general
   multilevel SEM framework for assessing multilevel mediation.
   *Psychological Methods*, 15(3), 209-233.
.. [2] Muthén, B. O. (1994). Multilevel covariance structure analysis.
   *Sociological Methods & Research*, 22(3), 376-398.
"""
from __future__ import annotations

import pandas as pd

__all__ = ["MEDIATORS", "LEVELS", "scale_scores", "twolevel_syntax", "fit_twolevel", "twolevel_table"]

#: The four pathways of the seed article, in the order of its sections.
MEDIATORS = ("GRID", "RES", "ORG", "LIST")
#: Label suffix of each level: ``w`` within communities (level 1), ``b`` between (level 2).
LEVELS = {1: "w", 2: "b"}


def scale_scores(data: pd.DataFrame, instrument, codes=None) -> pd.DataFrame:
    """Scale score of each construct: the mean of the available items.

    Parameters
    ----------
    data : pandas.DataFrame
        Scored items (reverse-keyed items recoded).
    instrument : Instrument
    codes : sequence of str, optional
        First- or second-order construct codes; default all of them.  A
        second-order score is the mean over the items of its first-order
        factors.

    Returns
    -------
    pandas.DataFrame
        One column per code, the rows of ``data`` (NaN when every item of
        the construct is missing).
    """
    items = {c.code: instrument.item_codes(c.code) for c in instrument.constructs}
    for s in instrument.second_order:
        items[s.code] = [i for ch in s.children for i in items[ch]]
    codes = list(items) if codes is None else list(codes)
    unknown = [c for c in codes if c not in items]
    if unknown:
        raise ValueError(f"unknown construct codes: {unknown}")
    return pd.DataFrame({c: data[items[c]].mean(axis=1) for c in codes}, index=data.index)


def twolevel_syntax(mediators=MEDIATORS, between=()) -> str:
    """lavaan syntax of the parallel mediation model at both levels.

    Parameters
    ----------
    mediators : sequence of str
    between : sequence of str
        Community-level covariates (constant within a community, e.g. the
        log of its households): regressors of PL, every mediator and CR in
        the ``level: 2`` block only (lavaan's between-only variables).

    Returns
    -------
    str
        ``level: 1`` and ``level: 2`` blocks with ``M ~ a<j><s>*PL``,
        ``CR ~ b<j><s>*M + c<s>*PL`` and free mediator residual covariances
        (``s`` = ``w`` or ``b``, :data:`LEVELS`), then per level
        ``ind_<M>_<s> := a<j><s>*b<j><s>``, ``total_indirect_<s>`` and
        ``total_<s>``.

    Examples
    --------
    >>> "ind_GRID_b := a1b*b1b" in twolevel_syntax()
    True
    """
    med = list(mediators)
    lines, defined = [], []
    for level, s in LEVELS.items():
        lines.append(f"level: {level}")
        extra = "".join(f" + {v}" for v in between) if level == 2 else ""
        if extra:
            lines.append("  PL ~ " + extra[3:])
        for j, m in enumerate(med, 1):
            lines.append(f"  {m} ~ a{j}{s}*PL{extra}")
        lines.append("  CR ~ " + " + ".join(f"b{j}{s}*{m}" for j, m in enumerate(med, 1)) + f" + c{s}*PL{extra}")
        for i, m in enumerate(med[:-1]):
            lines.append(f"  {m} ~~ " + " + ".join(med[i + 1:]))
        terms = [f"a{j}{s}*b{j}{s}" for j in range(1, len(med) + 1)]
        defined += [f"ind_{m}_{s} := {t}" for m, t in zip(med, terms)]
        defined.append(f"total_indirect_{s} := " + " + ".join(terms))
        defined.append(f"total_{s} := c{s} + " + " + ".join(terms))
    return "\n".join(lines + defined) + "\n"


def fit_twolevel(data: pd.DataFrame, instrument, cluster: str = "community", between=()):
    """Fit :func:`twolevel_syntax` to the scale scores by two-level ML.

    Parameters
    ----------
    data : pandas.DataFrame
        Scored items and the ``cluster`` column.
    instrument : Instrument
    cluster : str
    between : sequence of str
        Community-level covariate columns of ``data`` (:func:`twolevel_syntax`).

    Returns
    -------
    analysis.sem.results.SEMResult
        Rows with a missing scale score are dropped listwise and counted in
        ``.fit["n_dropped"]``.
    """
    from ..errors import InputError
    from ..sem import sem

    if cluster not in data.columns:
        raise InputError(f"column {cluster!r} (the cluster of the two-level model) is missing from the data")
    scores = scale_scores(data, instrument, ("PL",) + MEDIATORS + ("CR",))
    scores[cluster] = data[cluster].to_numpy()
    for v in between:
        scores[v] = data[v].to_numpy()
    return sem(twolevel_syntax(between=tuple(between)), scores, cluster=cluster, fixed_x=False)


def twolevel_table(fit) -> tuple[pd.DataFrame, dict]:
    """Paths and effects of :func:`fit_twolevel` as a tidy table, and its summary.

    Parameters
    ----------
    fit : analysis.sem.results.SEMResult

    Returns
    -------
    table : pandas.DataFrame
        ``level, lhs, op, rhs, label, est, se, z, pvalue, ci_lower,
        ci_upper, std_all``: every ``~`` path and ``:=`` effect, ``level``
        ``within``/``between``; standard errors from the observed
        information and the delta method (lavaan's defaults for two-level
        ML), Wald intervals.
    summary : dict
        ``converged, nobs, nclusters, n_dropped, chisq, df, srmr_within,
        srmr_between, loglik, aic, bic`` and the within and between total
        indirect effects with their intervals.
    """
    est = fit.estimates
    keep = est[est["op"].isin(["~", ":="])].copy()
    name = {1: "within", 2: "between"}
    suffix_level = {f"_{s}": name[lv] for lv, s in LEVELS.items()}

    def level_of(row):
        if row["op"] == ":=":
            return next(v for k, v in suffix_level.items() if row["lhs"].endswith(k))
        return name[int(row["level"])]

    keep["level"] = keep.apply(level_of, axis=1)
    cols = ["level", "lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all"]
    table = keep[cols].reset_index(drop=True)
    f = fit.fit
    summary = {"converged": bool(fit.converged), "issues": list(fit.issues)}
    for k in ("nobs", "nclusters", "n_dropped", "df"):
        summary[k] = int(f[k])
    for k in ("chisq", "srmr_within", "srmr_between", "loglik", "aic", "bic"):
        summary[k] = float(f[k])
    d = table.set_index("lhs")
    for s, lv in (("w", "within"), ("b", "between")):
        for eff in ("total_indirect", "total"):
            r = d.loc[f"{eff}_{s}"]
            summary[f"{eff}_{lv}"] = {k: float(r[k]) for k in ("est", "se", "ci_lower", "ci_upper", "pvalue")}
    return table, summary
