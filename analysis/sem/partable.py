"""Build lavaan's parameter table from parsed syntax, with its defaults.

The defaults are those of lavaan's ``cfa()`` and ``sem()`` (which share
them): ``auto.fix.first`` (first loading fixed to 1 unless ``std_lv``),
``auto.var`` (free residual variances of every observed and latent
variable), ``auto.cov.lv.x`` (free covariances among exogenous latent
variables), ``auto.cov.y`` (free residual covariances among purely dependent
variables), ``int.ov.free`` / ``int.lv.free = FALSE`` (free observed
intercepts, latent means fixed at 0) and ``fixed.x = TRUE`` (variances,
covariances and means of exogenous observed covariates fixed at their
sample values, see :func:`fill_fixed_x`).

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .syntax import Formula, parse_parameter, parse_syntax

__all__ = ["VariableSets", "build_partable", "build_partable_levels", "fill_fixed_x",
           "GROUP_EQUAL_TYPES", "parse_group_partial"]

#: Parameter types accepted by ``group_equal``.
GROUP_EQUAL_TYPES = ("loadings", "intercepts", "means", "residuals",
                     "residual.covariances", "lv.variances", "lv.covariances",
                     "regressions", "thresholds")


@dataclass(frozen=True)
class VariableSets:
    """Names of the variables of a model (same in every group).

    Attributes
    ----------
    ov : list of str
        Observed variables, in lavaan's order (indicators, then other
        dependent variables, then exogenous covariates).
    lv : list of str
        Latent variables in order of definition.
    ov_x : list of str
        Exogenous observed covariates (only predictors in ``~``), whose
        moments are fixed at sample values (``fixed.x = TRUE``).
    lv_x : list of str
        Exogenous latent variables.
    """

    ov: list
    lv: list
    ov_x: list
    lv_x: list


def _variable_sets(formulas: list[Formula], fixed_x: bool) -> VariableSets:
    lv: list[str] = []
    for f in formulas:
        if f.op == "=~" and f.lhs not in lv:
            lv.append(f.lhs)
    ind, other = [], []
    for f in formulas:
        if f.op == "=~":
            if f.rhs not in lv and f.rhs not in ind:
                ind.append(f.rhs)
    y_names, x_names = set(), set()
    for f in formulas:
        if f.op == "~":
            y_names.add(f.lhs)
            x_names.add(f.rhs)
    appear = []
    for f in formulas:
        if f.op in ("~", "~~"):
            appear += [f.lhs, f.rhs]
        elif f.op in ("~1", "|"):
            appear.append(f.lhs)
    for name in appear:
        if name not in lv and name not in ind and name not in other:
            other.append(name)
    ov_x = [v for v in other if v in x_names and v not in y_names] if fixed_x else []
    ov = ind + [v for v in other if v not in ov_x] + ov_x
    indicators_lv = {f.rhs for f in formulas if f.op == "=~" and f.rhs in lv}
    lv_x = [v for v in lv if v not in y_names and v not in indicators_lv]
    return VariableSets(ov=ov, lv=lv, ov_x=ov_x, lv_x=lv_x)


def _per_group(values: list, g: int, ngroups: int, what: str, line: int):
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    if len(values) != ngroups:
        raise ValueError(
            f"Model syntax, line {line}: {what} c(...) has {len(values)} elements "
            f"but the data have {ngroups} groups."
        )
    return values[g]


def _param_type(op: str, lhs: str, rhs: str, lv: set) -> str:
    if op == "=~":
        return "loadings"
    if op == "~":
        return "regressions"
    if op == "~1":
        return "means" if lhs in lv else "intercepts"
    if op == "|":
        return "thresholds"
    if op == "~~":
        if lhs in lv:
            return "lv.variances" if lhs == rhs else "lv.covariances"
        return "residuals" if lhs == rhs else "residual.covariances"
    return ""


def parse_group_partial(group_partial) -> list:
    """The parameters of a ``group_partial`` argument as ``(lhs, op, rhs)`` tuples.

    Parameters
    ----------
    group_partial : str or sequence of str
        lavaan's ``group.partial``: parameters written as in the syntax,
        ``"visual =~ x2"``, ``"x3 ~ 1"``, ``"x1 ~~ x1"`` (white space
        optional).  A single string may hold several, separated by commas.

    Returns
    -------
    list of tuple
        ``(lhs, op, rhs)`` in the order given, duplicates dropped.

    Raises
    ------
    ValueError
        For an entry that is not one parameter
        (:func:`analysis.sem.syntax.parse_parameter`).

    Examples
    --------
    >>> parse_group_partial("visual=~x2, x3~1")
    [('visual', '=~', 'x2'), ('x3', '~1', '')]
    """
    if group_partial is None:
        return []
    items = [group_partial] if isinstance(group_partial, str) else list(group_partial)
    out = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"group_partial: {item!r} is not a parameter written as text "
                             "(e.g. 'visual =~ x2').")
        for part in item.split(","):
            if part.strip():
                try:
                    par = parse_parameter(part)
                except ValueError as exc:
                    raise ValueError(f"group_partial: {exc}") from None
                if par not in out:
                    out.append(par)
    return out


def _partial_keys(partial, rows):
    """``(lhs, op, rhs)`` keys of the group-1 rows freed by ``group_partial``."""
    have = {(r["lhs"], r["op"], r["rhs"]) for r in rows if r["group"] == 1 and r["op"] != ":="}
    keys = set()
    for lhs, op, rhs in partial:
        if (lhs, op, rhs) in have:
            keys.add((lhs, op, rhs))
        elif op == "~~" and (rhs, op, lhs) in have:  # lavaan needs the table's order; either is read
            keys.add((rhs, op, lhs))
        else:
            name = f"{lhs} {op} {rhs}".strip() if op != "~1" else f"{lhs} ~ 1"
            raise ValueError(f"group_partial: {name!r} is not a parameter of the model "
                             "(write it as the model has it, e.g. 'visual =~ x2', 'x3 ~ 1', "
                             "'x1 ~~ x1').")
    return keys


def build_partable(model: str | list, *, ngroups: int = 1, std_lv: bool = False,
                   meanstructure: bool = False, group_equal=(), group_partial=(),
                   fixed_x: bool = True, auto_cov_y: bool = True):
    """Parameter table of a model, as lavaan's ``lavaanify()``.

    Parameters
    ----------
    model : str or list of Formula
        lavaan model syntax (or its parsed form).
    ngroups : int
        Number of groups.
    std_lv : bool
        Identify latent variables by fixing their (residual) variances to 1
        instead of fixing the first loading.
    meanstructure : bool
        Add intercepts (free for observed variables) and latent means
        (fixed at 0; free in groups 2.. when ``group_equal`` holds
        ``"intercepts"`` but not ``"means"``).
    group_equal : sequence of str
        Parameter types held equal across groups, from
        :data:`GROUP_EQUAL_TYPES`.
    group_partial : str or sequence of str
        lavaan's ``group.partial``: parameters exempt from the
        ``group_equal`` constraints, written as in the syntax
        (``"visual =~ x2"``, ``"x3 ~ 1"``, ``"x1 ~~ x1"``; white space
        optional; see :func:`parse_group_partial`).  Each is estimated
        freely in every group (no ``.pN.`` label), exactly as lavaan; the
        other parameters of its type stay equal.  A covariance may be
        written in either order.  Naming a parameter the model does not have
        is an error (lavaan ignores it silently); naming one whose type is
        not in ``group_equal`` changes nothing, as in lavaan.
    fixed_x : bool
        Treat exogenous observed covariates as fixed (lavaan's default);
        with False their variances and covariances are free parameters.
    auto_cov_y : bool
        Free residual covariances among purely dependent variables.

    Returns
    -------
    partable : pandas.DataFrame
        Columns ``id, lhs, op, rhs, user, group, free, ustart, start, exo,
        label, plabel, eq_key``: ``free`` is 0 for fixed rows and the
        1-based index of the free parameter otherwise (rows sharing a label
        or a ``group_equal`` constraint share the index); ``ustart`` the
        fixed value (NaN when free); ``start`` a user starting value (NaN
        when none); ``exo`` 1 for fixed-x rows; ``user`` 1 for rows written
        in the syntax, 0 for defaults, 2 for ``:=`` rows.
    variables : VariableSets
    """
    formulas = parse_syntax(model) if isinstance(model, str) else list(model)
    if any(getattr(f, "level", 0) for f in formulas):
        raise ValueError("The model syntax has 'level:' blocks: build its table with "
                         "build_partable_levels() (sem() does this when given cluster=).")
    bad = [t for t in group_equal if t not in GROUP_EQUAL_TYPES]
    if bad:
        raise ValueError(
            f"group_equal: unknown parameter type(s) {bad}; choose from {list(GROUP_EQUAL_TYPES)}."
        )
    if any(f.op == "~1" for f in formulas):
        meanstructure = True
    vs = _variable_sets(formulas, fixed_x)
    lvset = set(vs.lv)
    ovx = set(vs.ov_x)
    y_names = {f.lhs for f in formulas if f.op == "~"}
    x_names = {f.rhs for f in formulas if f.op == "~"}
    indicators = {f.rhs for f in formulas if f.op == "=~"}
    first_ind = {}
    for f in formulas:
        if f.op == "=~" and f.lhs not in first_ind:
            first_ind[f.lhs] = f.rhs

    rows = []
    eq_pairs = []

    def add(lhs, op, rhs, user, g, free, ustart, start=np.nan, label="", exo=0):
        rows.append(dict(lhs=lhs, op=op, rhs=rhs, user=user, group=g + 1, free=free,
                         ustart=ustart, start=start, exo=exo, label=label))

    def have(lhs, op, rhs, g):
        for r in rows:
            if r["group"] != g + 1 or r["op"] != op:
                continue
            if r["lhs"] == lhs and r["rhs"] == rhs:
                return True
            if op == "~~" and r["lhs"] == rhs and r["rhs"] == lhs:
                return True
        return False

    for g in range(ngroups):
        # 1. user formulas
        for f in formulas:
            if f.op in (":=", "=="):
                continue
            m = f.modifier
            fixed = _per_group(m.fixed, g, ngroups, "value", f.line)
            freeflag = _per_group(m.free, g, ngroups, "value", f.line)
            label = _per_group(m.label, g, ngroups, "label", f.line) or ""
            start = _per_group(m.start, g, ngroups, "start", f.line)
            start = np.nan if start is None else float(start)
            if have(f.lhs, f.op, f.rhs, g):
                raise ValueError(
                    f"Model syntax, line {f.line}: parameter '{f.lhs} {f.op} {f.rhs}' is specified twice."
                )
            is_free = True
            ustart = np.nan
            if fixed is not None:
                is_free, ustart = False, float(fixed)
            elif freeflag:
                is_free = True
            elif f.op == "=~" and not std_lv and first_ind[f.lhs] == f.rhs:
                is_free, ustart = False, 1.0
            if f.op == "~~" and std_lv and f.lhs == f.rhs and f.lhs in lvset and fixed is None and not freeflag:
                is_free, ustart = False, 1.0
            add(f.lhs, f.op, f.rhs, 1, g, int(is_free), ustart, start, label)
        # 2. variances
        for v in vs.ov:
            if not have(v, "~~", v, g):
                if v in ovx:
                    add(v, "~~", v, 0, g, 0, np.nan, exo=1)
                else:
                    add(v, "~~", v, 0, g, 1, np.nan)
        for v in vs.lv:
            if not have(v, "~~", v, g):
                if std_lv:
                    add(v, "~~", v, 0, g, 0, 1.0)
                else:
                    add(v, "~~", v, 0, g, 1, np.nan)
        # 3. covariances among exogenous latents
        for i, a in enumerate(vs.lv_x):
            for b in vs.lv_x[i + 1:]:
                if not have(a, "~~", b, g):
                    add(a, "~~", b, 0, g, 1, np.nan)
        # 4. residual covariances among purely dependent variables
        if auto_cov_y:
            pure_y = [v for v in vs.ov + vs.lv
                      if v in y_names and v not in x_names and v not in indicators]
            for i, a in enumerate(pure_y):
                for b in pure_y[i + 1:]:
                    if not have(a, "~~", b, g):
                        add(a, "~~", b, 0, g, 1, np.nan)
        # 5. covariances among fixed x (free covariances among the exogenous
        #    observed variables when fixed_x is False, as lavaan's fixed.x = FALSE)
        for i, a in enumerate(vs.ov_x):
            for b in vs.ov_x[i + 1:]:
                if not have(a, "~~", b, g):
                    add(a, "~~", b, 0, g, 0, np.nan, exo=1)
        if not fixed_x:
            exo_ov = [v for v in vs.ov if v in x_names and v not in y_names
                      and v not in indicators]
            for i, a in enumerate(exo_ov):
                for b in exo_ov[i + 1:]:
                    if not have(a, "~~", b, g):
                        add(a, "~~", b, 0, g, 1, np.nan)
        # 6. mean structure
        if meanstructure:
            for v in vs.ov:
                if not have(v, "~1", "", g):
                    if v in ovx:
                        add(v, "~1", "", 0, g, 0, np.nan, exo=1)
                    else:
                        add(v, "~1", "", 0, g, 1, np.nan)
            for v in vs.lv:
                if not have(v, "~1", "", g):
                    free_mean = (g > 0 and "intercepts" in group_equal
                                 and "means" not in group_equal)
                    add(v, "~1", "", 0, g, int(free_mean), np.nan if free_mean else 0.0)
    # defined parameters and equality constraints
    for f in formulas:
        if f.op == ":=":
            rows.append(dict(lhs=f.lhs, op=":=", rhs=f.rhs, user=2,
                             group=0 if ngroups > 1 else 1, free=0,
                             ustart=np.nan, start=np.nan, exo=0, label=f.lhs))
        elif f.op == "==":
            eq_pairs.append((f.lhs.strip(), f.rhs.strip(), f.line))

    partial = _partial_keys(parse_group_partial(group_partial), rows)
    pt = pd.DataFrame(rows)
    pt.insert(0, "id", np.arange(1, len(pt) + 1))
    pt["plabel"] = [f".p{i}." for i in pt["id"]]
    pt = _assign_free(pt, vs, group_equal, eq_pairs, partial)
    return pt, vs


def build_partable_levels(model: str | list, *, std_lv: bool = False, fixed_x: bool = True):
    """Parameter table of a two-level model (``level: 1`` / ``level: 2`` blocks).

    Each level is built as a one-group model with a mean structure by
    :func:`build_partable` (same defaults) and becomes one block, as in
    lavaan: block 1 = level 1 (within), block 2 = level 2 (between).  The
    within-level intercepts of the observed variables are fixed at 0 (the
    means live at level 2, where they are free); latent means are fixed at 0
    at both levels.  Labels shared across levels are one parameter;
    ``:=`` and ``==`` apply to the whole model.

    Parameters
    ----------
    model : str or list of Formula
        lavaan syntax with ``level:`` headers (or its parsed form).
    std_lv : bool
        As :func:`build_partable`, at both levels.
    fixed_x : bool
        Exogenous observed covariates of a level have fixed moments there
        (``exo`` rows, filled later from the saturated two-level model); with
        False their variances, covariances and level-2 means are free
        (lavaan's ``fixed.x = FALSE``).

    Returns
    -------
    partable : pandas.DataFrame
        The columns of :func:`build_partable` plus ``level`` (1, 2; 0 for
        ``:=`` rows); ``group`` holds the block (1 within, 2 between; 0 for
        ``:=`` rows).
    levels : list of VariableSets
        The variables of level 1 and of level 2.

    Raises
    ------
    ValueError
        When a level block is missing or empty, or a within-level intercept
        of an observed variable is set free.

    References
    ----------
    .. [1] Rosseel, Y. (2021). Evaluating the observed log-likelihood
       function in two-level structural equation modeling with missing data:
       from formulas to R code. *Psych*, 3(2), 197-232.
    """
    formulas = parse_syntax(model) if isinstance(model, str) else list(model)
    body = [f for f in formulas if f.op not in (":=", "==")]
    parts, levels = [], []
    for lev in (1, 2):
        sub = [f for f in body if f.level == lev]
        if not sub:
            raise ValueError(f"The two-level model has no formulas under 'level: {lev}'; "
                             "write both a 'level: 1' (within) and a 'level: 2' (between) block.")
        plain = [Formula(f.lhs, f.op, f.rhs, f.modifier, f.line) for f in sub]
        pt_l, vs_l = build_partable(plain, ngroups=1, std_lv=std_lv, meanstructure=True,
                                    fixed_x=fixed_x)
        pt_l = pt_l.copy()
        pt_l["group"] = lev
        pt_l["level"] = lev
        if lev == 1:
            ov = set(vs_l.ov)
            wint = (pt_l["op"] == "~1") & pt_l["lhs"].isin(ov)
            bad = pt_l[wint & (pt_l["free"] > 0) & (pt_l["user"] == 1)]
            if len(bad):
                raise ValueError(
                    f"Model syntax: the intercepts of {sorted(bad['lhs'])} are written under "
                    "'level: 1'; in a two-level model the means are estimated at level 2.")
            pt_l.loc[wint, "free"] = 0
            pt_l.loc[wint, "ustart"] = 0.0
        parts.append(pt_l)
        levels.append(vs_l)
    pt = pd.concat(parts, ignore_index=True)
    eq_pairs = []
    extra = []
    for f in formulas:
        if f.op == ":=":
            extra.append(dict(lhs=f.lhs, op=":=", rhs=f.rhs, user=2, group=0, free=0,
                              ustart=np.nan, start=np.nan, exo=0, label=f.lhs, level=0))
        elif f.op == "==":
            eq_pairs.append((f.lhs.strip(), f.rhs.strip(), f.line))
    if extra:
        pt = pd.concat([pt, pd.DataFrame(extra)], ignore_index=True)
    pt["id"] = np.arange(1, len(pt) + 1)
    pt["plabel"] = [f".p{i}." for i in pt["id"]]
    pt["label"] = pt["label"].fillna("").astype(str)
    pt["free"] = np.where(pt["free"].to_numpy() > 0, 1, 0)
    lv = list(dict.fromkeys(levels[0].lv + levels[1].lv))
    both = VariableSets(ov=list(dict.fromkeys(levels[0].ov + levels[1].ov)), lv=lv,
                        ov_x=[], lv_x=[])
    pt = _assign_free(pt.drop(columns=["eq_key"]), both, (), eq_pairs)
    cols = ["id", "lhs", "op", "rhs", "user", "group", "level", "free", "ustart", "start",
            "exo", "label", "plabel", "eq_key"]
    return pt[cols], levels


def _assign_free(pt, vs, group_equal, eq_pairs, partial=frozenset()):
    """Give every free row its parameter index, merging equal parameters.

    ``partial`` holds the ``(lhs, op, rhs)`` of parameters exempt from
    ``group_equal`` (lavaan's ``group.partial``).
    """
    lvset = set(vs.lv)
    keys = []
    g1_key = {}
    g1_row = {}
    labels = pt["label"].tolist()
    for n, r in enumerate(pt.itertuples(index=False)):
        if r.op == ":=" or r.free == 0:
            keys.append("")
            continue
        if r.label:
            key = "label:" + r.label
        else:
            ptype = _param_type(r.op, r.lhs, r.rhs, lvset)
            ident = (r.lhs, r.op, r.rhs)
            if r.group > 1 and ptype in group_equal and ident in g1_key and ident not in partial:
                key = g1_key[ident]
                # lavaan labels both rows with the plabel of the group-1 row
                first = g1_row[ident]
                if not labels[first]:
                    labels[first] = pt["plabel"].iloc[first]
                labels[n] = labels[first]
            else:
                key = "row:" + str(r.id)
        if r.group == 1:
            g1_key[(r.lhs, r.op, r.rhs)] = key
            g1_row[(r.lhs, r.op, r.rhs)] = n
        keys.append(key)
    # union-find over '==' constraints between labels
    parent = {}

    def find(k):
        while parent.get(k, k) != k:
            k = parent[k]
        return k

    known = {k for k in keys if k}
    for a, b, line in eq_pairs:
        ka, kb = "label:" + a, "label:" + b
        for k, name in ((ka, a), (kb, b)):
            if k not in known:
                raise ValueError(
                    f"Model syntax, line {line}: '{name}' in an '==' constraint is not a label of a free parameter."
                )
        parent[find(kb)] = find(ka)
    keys = [find(k) if k else "" for k in keys]
    index = {}
    free = []
    for k in keys:
        if not k:
            free.append(0)
            continue
        if k not in index:
            index[k] = len(index) + 1
        free.append(index[k])
    pt = pt.copy()
    pt["label"] = labels
    pt["free"] = np.asarray(free, dtype=int)
    pt["eq_key"] = keys
    # labels used for fixed rows and also free rows: a label on a fixed row
    # is kept (lavaan allows it) but does not create a parameter.
    return pt


def fill_fixed_x(pt: pd.DataFrame, ov_names: list, cov: list, mean: list) -> pd.DataFrame:
    """Set the fixed-x rows to their sample values (``fixed.x = TRUE``).

    Parameters
    ----------
    pt : pandas.DataFrame
        Parameter table from :func:`build_partable`.
    ov_names : list of str
        Order of the rows/columns of ``cov``.
    cov, mean : list of ndarray
        Per-group sample covariance (divisor N) and mean.

    Returns
    -------
    pandas.DataFrame
        A copy with ``ustart`` filled for rows with ``exo == 1``.
    """
    pt = pt.copy()
    pos = {v: i for i, v in enumerate(ov_names)}
    ustart = pt["ustart"].to_numpy(dtype=float).copy()
    for k, r in enumerate(pt.itertuples(index=False)):
        if r.exo != 1:
            continue
        g = r.group - 1
        if r.op == "~~":
            ustart[k] = cov[g][pos[r.lhs], pos[r.rhs]]
        elif r.op == "~1":
            ustart[k] = mean[g][pos[r.lhs]]
    pt["ustart"] = ustart
    return pt
