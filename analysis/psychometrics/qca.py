"""Fuzzy-set Qualitative Comparative Analysis (fsQCA), definitions of R's ``QCA``.

Data-first functions (``func(data, outcome, conditions)``) reproducing the
definitions of Adrian Duşa's R package **QCA** (version 3.23): direct
calibration (``calibrate``), parameters of fit (``pof``), the truth table
(``truthTable``) and the Boolean minimization (``minimize``) with its
complex, parsimonious (``include = "?"``) and intermediate (``dir.exp``)
solutions. Only numpy and pandas are used.

Conventions: conjunction ``*``, negation ``~``, disjunction ``+``; literals
within a term follow the order of ``conditions``; prime implicants (PIs) and
models are ordered as QCA prints them (see :func:`minimize`).

References
----------
.. [1] Duşa, A. (2019). *QCA with R. A Comprehensive Resource*. Springer.
.. [2] Duşa, A. (2018). Consistency Cubes: a fast, efficient method for exact
   Boolean minimization. *The R Journal*, 10(2), 357-370.
.. [3] Ragin, C. C. (2008). *Redesigning Social Inquiry: Fuzzy Sets and
   Beyond*. University of Chicago Press.
.. [4] Ragin, C. C., & Sonnett, J. (2005). Between complexity and parsimony:
   limited diversity, counterfactual cases, and comparative analysis. In
   S. Kropp & M. Minkenberg (Eds.), *Vergleichen in der Politikwissenschaft*
   (pp. 180-197). VS Verlag.
.. [5] Schneider, C. Q., & Wagemann, C. (2012). *Set-Theoretic Methods for the
   Social Sciences*. Cambridge University Press.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "calibrate_direct",
    "necessity",
    "sufficiency",
    "truth_table",
    "minimize",
    "qca",
    "Solution",
    "Term",
]

#: Tolerance of QCA's comparisons (``admisc.tol = .Machine$double.eps^0.5``).
TOL = float(np.sqrt(np.finfo(float).eps))
_IDM = 0.95  # membership at the inclusion anchor (QCA's ``idm``)
_SOLUTION_KINDS = ("complex", "parsimonious", "intermediate")
_FORBIDDEN = set("*~+()[]{},; ")

# An implicant is a tuple of codes, one per condition, as in QCA's C code:
# 0 = condition absent from the term, 1 = negated literal (~A), 2 = literal A.
# A truth-table row (minterm) is a tuple of 0/1 values; as an implicant, v + 1.
Implicant = tuple[int, ...]


# --------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------
def _as_list(names: Sequence[str] | str) -> list[str]:
    if isinstance(names, str):
        names = [s.strip() for s in names.split(",") if s.strip()]
    out = list(names)
    if not out:
        raise ValueError("at least one condition is needed")
    if len(set(out)) != len(out):
        raise ValueError(f"duplicated condition names in {out}")
    for name in out:
        if not isinstance(name, str) or not name or _FORBIDDEN & set(name):
            raise ValueError(
                f"condition name {name!r} must be a non-empty string without "
                "'*', '~', '+', brackets, commas or spaces"
            )
    return out


def _reject_half(values: np.ndarray, labels: Sequence[Any], column: str | None) -> None:
    """Raise if a membership equals 0.5 (within :data:`TOL`, as ``admisc::aeqb``)."""
    hit = np.flatnonzero(np.abs(values - 0.5) < TOL)
    if hit.size:
        cases = ", ".join(repr(labels[i]) for i in hit)
        where = f" in {column!r}" if column else ""
        raise ValueError(
            f"membership of exactly 0.5{where} for case(s) {cases}: such a case "
            "belongs to no truth-table corner (maximal ambiguity); move the "
            "crossover or recode the case"
        )


def _memberships(data: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Validated membership matrix (cases x columns) of fuzzy/crisp set scores."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not found in the data")
    if len(data) == 0:
        raise ValueError("data has no cases")
    labels = list(data.index)
    out = np.empty((len(data), len(columns)))
    for j, col in enumerate(columns):
        if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
            raise ValueError(f"column {col!r} must hold numeric set memberships in [0, 1]")
        v = data[col].to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(v))
        if bad.size:
            raise ValueError(f"missing membership in {col!r} for case(s) "
                             + ", ".join(repr(labels[i]) for i in bad))
        bad = np.flatnonzero((v < 0) | (v > 1))
        if bad.size:
            raise ValueError(f"memberships in {col!r} must lie in [0, 1]; case(s) "
                             + ", ".join(repr(labels[i]) for i in bad))
        _reject_half(v, labels, col)
        out[:, j] = v
    return out


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b != 0 else math.nan


def _trunc(v: float, cut: float) -> float:
    """QCA's ``pof`` sets parameters below ``cut`` (incl. tiny negatives) to 0."""
    return 0.0 if (not math.isnan(v) and v < cut) else float(v)


# --------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------
def calibrate_direct(x, exclusion: float, crossover: float, inclusion: float) -> np.ndarray:
    """Ragin's direct method of calibration (logistic), as QCA's ``calibrate``.

    Parameters
    ----------
    x : array-like or pandas.Series
        Raw (interval/ratio) scores. A Series' index labels name the cases in
        error messages; missing values stay ``nan``.
    exclusion, crossover, inclusion : float
        Qualitative anchors of full non-membership (0.05), the crossover (0.5)
        and full membership (0.95). ``exclusion < crossover < inclusion`` gives
        an increasing set, ``exclusion > crossover > inclusion`` a decreasing
        one.

    Returns
    -------
    numpy.ndarray
        Fuzzy memberships in [0, 1].

    Raises
    ------
    ValueError
        If the anchors are not strictly monotone, or if a case gets a
        membership of exactly 0.5 (a raw score at the crossover); the message
        names the case (index label, or position for non-Series input).

    Notes
    -----
    For an increasing set with anchors :math:`e < c < i` and
    :math:`L = \\ln\\frac{0.95}{0.05} = \\ln 19` (QCA's ``idm = 0.95``), the
    log-odds of membership are scaled separately on each side of the
    crossover,

    .. math::
        \\lambda(x) = \\begin{cases}
            L\\,\\dfrac{x - c}{i - c}, & x \\ge c\\\\[4pt]
            L\\,\\dfrac{x - c}{c - e}, & x < c
        \\end{cases}\\qquad
        \\mu(x) = \\frac{1}{1 + e^{-\\lambda(x)}},

    so that :math:`\\mu(e)=0.05`, :math:`\\mu(c)=0.5`, :math:`\\mu(i)=0.95`.
    For a decreasing set (:math:`e > c > i`) QCA computes the increasing
    curve with the anchors swapped and returns :math:`1-\\mu`. Finally, as in
    QCA's ``calibrate``, memberships below ``1e-4`` are set to 0 and those
    above ``0.9999`` to 1. (Ragin 2008 uses log-odds of :math:`\\pm 3`;
    QCA, and this function, use exactly :math:`\\pm\\ln 19`.)

    References
    ----------
    .. [1] Ragin, C. C. (2008). *Redesigning Social Inquiry*, ch. 5.
    .. [2] Duşa, A. (2019). *QCA with R*, ch. 4 (``calibrate``).

    Examples
    --------
    >>> calibrate_direct([2500, 10000, 20000, 1e6], 2500, 5000, 20000).round(4).tolist()
    [0.05, 0.7274, 0.95, 1.0]
    >>> calibrate_direct([0, 10, 100], 100, 50, 0).round(4).tolist()  # decreasing set
    [0.95, 0.9134, 0.05]
    """
    e, c, i = (float(v) for v in (exclusion, crossover, inclusion))
    if not all(math.isfinite(v) for v in (e, c, i)):
        raise ValueError("calibration anchors must be finite numbers")
    if not (e < c < i or e > c > i):
        raise ValueError(
            "anchors must be strictly monotone: exclusion < crossover < inclusion "
            "(increasing set) or exclusion > crossover > inclusion (decreasing set); "
            f"got ({e}, {c}, {i})"
        )
    if isinstance(x, pd.Series):
        labels = list(x.index)
        arr = pd.to_numeric(x, errors="raise").to_numpy(dtype=float)
    else:
        arr = np.asarray(x, dtype=float)
        labels = list(range(arr.size))
    if arr.ndim != 1:
        raise ValueError("x must be one-dimensional")
    decreasing = e > i
    low, high = (i, e) if decreasing else (e, i)
    scale = math.log(_IDM / (1.0 - _IDM))
    with np.errstate(over="ignore", invalid="ignore"):
        logodds = np.where(arr >= c, (arr - c) * scale / (high - c), (arr - c) * scale / (c - low))
        fs = 1.0 / (1.0 + np.exp(-logodds))
    if decreasing:
        fs = 1.0 - fs
    fs[fs < 1e-4] = 0.0
    fs[fs > 0.9999] = 1.0
    _reject_half(fs, labels, x.name if isinstance(x, pd.Series) and x.name is not None else None)
    return fs


# --------------------------------------------------------------------------
# parameters of fit
# --------------------------------------------------------------------------
def necessity(data: pd.DataFrame, outcome: str, conditions: Sequence[str]) -> pd.DataFrame:
    """Parameters of fit for necessity of each condition and its negation.

    Parameters
    ----------
    data : pandas.DataFrame
        Calibrated memberships (fuzzy or crisp 0/1), one row per case.
    outcome : str
        Outcome column.
    conditions : sequence of str
        Condition columns.

    Returns
    -------
    pandas.DataFrame
        Columns ``condition, consistency, coverage, ron``; rows ``A, ~A, B,
        ~B, ...`` in the order of ``conditions``.

    Notes
    -----
    For a condition :math:`X` (or its negation :math:`1-X`) and outcome
    :math:`Y`, as QCA's ``pof(..., relation = "necessity")``:

    .. math::
        \\mathrm{inclN} = \\frac{\\sum \\min(X, Y)}{\\sum Y},\\quad
        \\mathrm{covN} = \\frac{\\sum \\min(X, Y)}{\\sum X},\\quad
        \\mathrm{RoN} = \\frac{\\sum (1 - X)}{\\sum (1 - \\min(X, Y))}.

    RoN, the relevance of necessity (Schneider & Wagemann 2012),
    is low for a trivially necessary condition (one close to a constant
    1). Values below ``1e-5`` are reported as 0, as in ``pof``. (QCA's
    ``pofind`` prints ``~A`` before ``A``; here ``A`` comes first.)

    Examples
    --------
    >>> df = pd.DataFrame({"A": [0.9, 0.8, 0.2], "Y": [0.7, 0.9, 0.1]})
    >>> necessity(df, "Y", ["A"]).round(4).to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'condition': ['A', '~A'], 'consistency': [0.9412, 0.2353],
     'coverage': [0.8421, 0.3636], 'ron': [0.7857, 0.7308]}
    """
    conds = _as_list(conditions)
    if outcome in conds:
        raise ValueError("the outcome cannot also be a condition")
    m = _memberships(data, conds + [outcome])
    y = m[:, -1]
    rows = []
    for j, name in enumerate(conds):
        for label, x in ((name, m[:, j]), ("~" + name, 1.0 - m[:, j])):
            pmin = np.minimum(x, y)
            rows.append({
                "condition": label,
                "consistency": _trunc(_ratio(pmin.sum(), y.sum()), 1e-5),
                "coverage": _trunc(_ratio(pmin.sum(), x.sum()), 1e-5),
                "ron": _trunc(_ratio((1.0 - x).sum(), (1.0 - pmin).sum()), 1e-5),
            })
    return pd.DataFrame(rows, columns=["condition", "consistency", "coverage", "ron"])


def _fit(memb: np.ndarray, y: np.ndarray, cut: float) -> tuple[list[dict], dict]:
    """Sufficiency fit of terms (columns of ``memb``) and of their union (QCA's C_pof)."""
    t = memb.shape[1]
    cols = np.column_stack([memb, memb.max(axis=1)])
    pmin = np.minimum(cols, y[:, None])
    s_x, s_pmin, s_y = cols.sum(axis=0), pmin.sum(axis=0), float(y.sum())
    s_pmin_negy = np.minimum(pmin, (1.0 - y)[:, None]).sum(axis=0)
    incl = [_ratio(a, b) for a, b in zip(s_pmin, s_x)]
    pri = [_ratio(a - n, b - n) for a, b, n in zip(s_pmin, s_x, s_pmin_negy)]
    cov = [_ratio(a, s_y) for a in s_pmin]
    terms = []
    for c in range(t):
        if t == 1:
            cov_u = None  # QCA prints "-" (NA) for a single term
        else:
            others = np.delete(pmin[:, :t], c, axis=1).max(axis=1)
            cov_u = _trunc(cov[c] - _ratio(np.minimum(pmin[:, c], others).sum(), s_y), cut)
        terms.append({"inclS": _trunc(incl[c], cut), "pri": _trunc(pri[c], cut),
                      "covS": _trunc(cov[c], cut), "covU": cov_u})
    union = {"inclS": _trunc(incl[t], cut), "pri": _trunc(pri[t], cut), "covS": _trunc(cov[t], cut)}
    return terms, union


def _term_membership(m: np.ndarray, imp: Implicant) -> np.ndarray:
    """Membership in a conjunction: min over its literals of X or 1 - X."""
    out = np.ones(m.shape[0])
    for j, code in enumerate(imp):
        if code == 2:
            out = np.minimum(out, m[:, j])
        elif code == 1:
            out = np.minimum(out, 1.0 - m[:, j])
    return out


def _parse_expression(expression: str, conds: list[str]) -> list[Implicant]:
    terms = []
    for raw in expression.split("+"):
        raw = raw.strip()
        if not raw:
            raise ValueError(f"empty term in expression {expression!r}")
        code = [0] * len(conds)
        for lit in raw.split("*"):
            lit = lit.strip()
            neg = lit.startswith("~")
            name = lit[1:].strip() if neg else lit
            if name not in conds:
                raise ValueError(f"unknown condition {name!r} in expression {expression!r}")
            j = conds.index(name)
            want = 1 if neg else 2
            if code[j] not in (0, want):
                raise ValueError(f"term {raw!r} contains both {name} and ~{name}")
            code[j] = want
        terms.append(tuple(code))
    return terms


def _term_label(imp: Implicant, conds: Sequence[str]) -> str:
    lits = [("~" if code == 1 else "") + conds[j] for j, code in enumerate(imp) if code]
    return "*".join(lits)


def sufficiency(data: pd.DataFrame, outcome: str, expression: str) -> pd.DataFrame:
    """Parameters of fit for sufficiency of a sum-of-products expression.

    Parameters
    ----------
    data : pandas.DataFrame
        Calibrated memberships.
    outcome : str
        Outcome column.
    expression : str
        Disjunction of conjunctions, e.g. ``"A*~B + C"``.

    Returns
    -------
    pandas.DataFrame
        Index: the terms, then ``"expression"`` (their union) when there is
        more than one term; columns ``inclS, pri, covS, covU``.

    Notes
    -----
    As QCA's ``pof(..., relation = "sufficiency")``, for a term :math:`X`
    (membership: the minimum over its literals, :math:`1-x` for a negated
    one) and outcome :math:`Y`:

    .. math::
        \\mathrm{inclS} = \\frac{\\sum\\min(X,Y)}{\\sum X},\\quad
        \\mathrm{PRI} = \\frac{\\sum\\min(X,Y) - \\sum\\min(X,Y,1-Y)}
                             {\\sum X - \\sum\\min(X,Y,1-Y)},\\quad
        \\mathrm{covS} = \\frac{\\sum\\min(X,Y)}{\\sum Y},

    and the unique coverage of term :math:`X_t` within the expression is
    :math:`\\mathrm{covU}_t = \\mathrm{covS}(\\max_s X_s) -
    \\mathrm{covS}(\\max_{s\\ne t} X_s)` (``nan`` for a single term and for
    the expression row). Values below ``1e-5`` are reported as 0.

    Examples
    --------
    >>> df = pd.DataFrame({"A": [1, 1, 0, 0], "B": [0, 1, 1, 0], "Y": [1, 1, 1, 0]})
    >>> sufficiency(df, "Y", "A + B")["covU"].tolist()
    [0.3333333333333333, 0.3333333333333333, nan]
    """
    conds = [c for c in data.columns if c != outcome]
    terms = _parse_expression(expression, [str(c) for c in conds])
    used = sorted({j for imp in terms for j, code in enumerate(imp) if code})
    m_all = np.zeros((len(data), len(conds)))
    m_used = _memberships(data, [conds[j] for j in used] + [outcome])
    for k, j in enumerate(used):
        m_all[:, j] = m_used[:, k]
    y = m_used[:, -1]
    memb = np.column_stack([_term_membership(m_all, imp) for imp in terms])
    fit, union = _fit(memb, y, 1e-5)
    labels = [_term_label(imp, [str(c) for c in conds]) for imp in terms]
    out = pd.DataFrame(fit, index=labels).astype(float)
    if len(terms) > 1:
        out.loc["expression"] = [union["inclS"], union["pri"], union["covS"], math.nan]
    return out[["inclS", "pri", "covS", "covU"]]


# --------------------------------------------------------------------------
# truth table
# --------------------------------------------------------------------------
def _row_number(bits: Sequence[int]) -> int:
    """QCA's truth-table row number: binary, first condition most significant, 1-based."""
    num = 0
    for b in bits:
        num = 2 * num + int(b)
    return num + 1


def _agteb(a: float, b: float) -> bool:
    """``a >= b`` with QCA's tolerance (``admisc::agteb``: ``a + tol > b``)."""
    return bool(a + TOL > b)


def truth_table(data: pd.DataFrame, outcome: str, conditions: Sequence[str],
                incl_cut: float = 0.8, n_cut: int = 1, pri_cut: float = 0.0) -> pd.DataFrame:
    """Truth table of the observed configurations, as QCA's ``truthTable``.

    Parameters
    ----------
    data : pandas.DataFrame
        Calibrated memberships (fuzzy or crisp 0/1), one row per case; no
        membership may be exactly 0.5.
    outcome : str
        Outcome column.
    conditions : sequence of str
        Condition columns, in the order used for row numbers and terms.
    incl_cut : float, default 0.8
        Sufficiency inclusion cut-off for a positive row.
    n_cut : int, default 1
        Minimum number of cases for a row to be coded (fewer: ``"?"``).
    pri_cut : float, default 0.0
        Minimum PRI for a positive row.

    Returns
    -------
    pandas.DataFrame
        One row per observed configuration (``n >= 1``), indexed by QCA's row
        number (binary code + 1, first condition most significant) and in
        that order; columns: one per condition (0/1), ``n``, ``incl``,
        ``pri``, ``out`` (``1``, ``0`` or ``"?"``). ``attrs["qca"]`` keeps the
        settings, memberships and case names so that :func:`minimize` can
        take the table (possibly with ``out`` edited by hand).

    Raises
    ------
    ValueError
        On a membership of exactly 0.5 (naming the case), memberships
        outside [0, 1] or missing, or when no row reaches ``n_cut``.

    Notes
    -----
    A case belongs to the corner where all its memberships are above 0.5.
    For a row with bits :math:`b_j`, each case's membership in the corner is
    :math:`X = \\min_j x_j^{b_j}(1-x_j)^{1-b_j}` (i.e. :math:`x_j` or
    :math:`1-x_j`), and over **all** cases

    .. math::
        \\mathrm{incl} = \\frac{\\sum\\min(X,Y)}{\\sum X},\\qquad
        \\mathrm{PRI} = \\frac{\\sum\\min(X,Y) - \\sum\\min(X,Y,1-Y)}
                             {\\sum X - \\sum\\min(X,Y,1-Y)}.

    ``n`` counts the cases with :math:`X > 0.5`. ``out`` is ``"?"`` when
    ``n < n_cut``; otherwise 1 if ``incl >= incl_cut`` and ``pri >=
    pri_cut``, both with QCA's tolerance :math:`\\sqrt{\\epsilon_{mach}}`
    (:data:`TOL`), else 0. Unobserved rows and ``"?"`` rows are the logical
    remainders.

    Examples
    --------
    >>> df = pd.DataFrame({"A": [0.9, 0.8, 0.2, 0.1], "B": [0.7, 0.3, 0.6, 0.2],
    ...                    "Y": [0.8, 0.9, 0.3, 0.1]})
    >>> tt = truth_table(df, "Y", ["A", "B"])
    >>> tt[["A", "B", "n", "out"]].to_dict("index")  # doctest: +NORMALIZE_WHITESPACE
    {1: {'A': 0, 'B': 0, 'n': 1, 'out': 0}, 2: {'A': 0, 'B': 1, 'n': 1, 'out': 0},
     3: {'A': 1, 'B': 0, 'n': 1, 'out': 1}, 4: {'A': 1, 'B': 1, 'n': 1, 'out': 1}}
    """
    conds = _as_list(conditions)
    if outcome in conds:
        raise ValueError("the outcome cannot also be a condition")
    clash = [c for c in conds if c in ("n", "incl", "pri", "out")]
    if clash:
        raise ValueError(f"condition name(s) {clash} clash with the truth-table columns")
    if not (0.0 < float(incl_cut) <= 1.0):
        raise ValueError("incl_cut must lie in (0, 1]")
    if not (0.0 <= float(pri_cut) <= 1.0):
        raise ValueError("pri_cut must lie in [0, 1]")
    if int(n_cut) != n_cut or n_cut < 1:
        raise ValueError("n_cut must be a positive integer")
    m = _memberships(data, conds + [outcome])
    x, y = m[:, :-1], m[:, -1]
    labels = list(data.index)
    bits = (x > 0.5).astype(int)
    rownum = np.array([_row_number(b) for b in bits])
    records, cases = [], {}
    for num in sorted(set(rownum.tolist())):
        b = bits[np.flatnonzero(rownum == num)[0]]
        corner = np.where(b == 1, x, 1.0 - x).min(axis=1)
        pmin = np.minimum(corner, y)
        prisum = np.minimum(pmin, 1.0 - y).sum()
        incl = _ratio(pmin.sum(), corner.sum())
        pri = _ratio(pmin.sum() - prisum, corner.sum() - prisum)
        n = int((corner > 0.5).sum())
        if n < n_cut:
            out: Any = "?"
        else:
            out = int(_agteb(incl, float(incl_cut)) and _agteb(pri, float(pri_cut)))
        records.append({**{c: int(v) for c, v in zip(conds, b)},
                        "n": n, "incl": incl, "pri": pri, "out": out})
        cases[num] = [labels[i] for i in np.flatnonzero(rownum == num)]
    if all(r["out"] == "?" for r in records):
        raise ValueError("there are no configurations with at least n_cut cases")
    tt = pd.DataFrame(records, index=pd.Index(sorted(cases), name="row"),
                      columns=conds + ["n", "incl", "pri", "out"])
    tt["out"] = tt["out"].astype(object)
    tt.attrs["qca"] = {
        "outcome": outcome,
        "conditions": tuple(conds),
        "incl_cut": float(incl_cut),
        "n_cut": int(n_cut),
        "pri_cut": float(pri_cut),
        "cases": tuple(labels),
        "memberships": {c: tuple(float(v) for v in m[:, j])
                        for j, c in enumerate(conds + [outcome])},
        "row_cases": {int(k): tuple(v) for k, v in cases.items()},
    }
    return tt


# --------------------------------------------------------------------------
# Boolean minimization
# --------------------------------------------------------------------------
def _covers(imp: Implicant, row: Sequence[int]) -> bool:
    return all(code == 0 or code == v + 1 for code, v in zip(imp, row))


def _subsumes(small: Implicant, big: Implicant) -> bool:
    """Every literal of ``small`` is in ``big`` (``small`` covers ``big``)."""
    return all(s == 0 or s == b for s, b in zip(small, big))


def _complexity(imp: Implicant) -> int:
    return sum(1 for code in imp if code)


def _qmc_primes(rows: set[tuple[int, ...]]) -> list[Implicant]:
    """All prime implicants of the ON-set ``rows`` (Quine-McCluskey, no don't cares)."""
    current = {tuple(v + 1 for v in r) for r in rows}
    primes: set[Implicant] = set()
    while current:
        merged, used = set(), set()
        items = sorted(current)
        for a, b in itertools.combinations(items, 2):
            diff = [j for j in range(len(a)) if a[j] != b[j]]
            if len(diff) == 1 and a[diff[0]] and b[diff[0]]:
                j = diff[0]
                merged.add(a[:j] + (0,) + a[j + 1:])
                used.update((a, b))
        primes |= current - used
        current = merged
    return list(primes)


def _ccubes_primes(pos: list[tuple[int, ...]], neg: list[tuple[int, ...]]) -> list[Implicant]:
    """Prime implicants with remainders as don't cares (QCA's Consistency Cubes).

    At complexity ``k = 1, 2, ...`` every conjunction of ``k`` literals whose
    values occur in a positive row and in no negative row, and that contains
    no PI of lower complexity, is a PI. As QCA, the search stops once the
    positive rows are covered and two successive levels add no new PI.
    """
    nconds = len(pos[0])
    primes: list[Implicant] = []
    counter = 0
    for k in range(1, nconds + 1):
        before = len(primes)
        earlier = primes[:before]
        for combo in itertools.combinations(range(nconds), k):
            negproj = {tuple(r[j] for j in combo) for r in neg}
            for proj in sorted({tuple(r[j] for j in combo) for r in pos}):
                if proj in negproj:
                    continue
                code = [0] * nconds
                for j, v in zip(combo, proj):
                    code[j] = v + 1
                cand = tuple(code)
                if not any(_subsumes(p, cand) for p in earlier):
                    primes.append(cand)
        if primes and all(any(_covers(p, r) for p in primes) for r in pos):
            counter = 0 if len(primes) > before else counter + 1
        if counter > 1:
            break
    return primes


def _qca_sort(pis: list[Implicant]) -> list[Implicant]:
    """Order prime implicants exactly as QCA's C routine ``sort_matrix`` does.

    For each condition from the last to the first: a stable sort by code in
    decreasing order (present, negated, absent), then a stable increasing sort
    of the block before the first term lacking the condition, so ``~A``
    precedes ``A`` precedes terms without A. When every term has the
    condition, QCA leaves the last term out of that second sort (its loop
    bound), which is kept here because it shows in printed solutions, e.g.
    ``DEV*URB*LIT*IND*STB + DEV*~URB*LIT*~IND*STB`` for QCA's LF data.
    Finally a stable sort by the number of literals.
    """
    if not pis:
        return []
    order = list(range(len(pis)))
    for col in reversed(range(len(pis[0]))):
        order.sort(key=lambda j: -pis[j][col])
        first_zero = next((p for p, j in enumerate(order) if pis[j][col] == 0), len(order) - 1)
        order[:first_zero] = sorted(order[:first_zero], key=lambda j: pis[j][col])
    order.sort(key=lambda j: _complexity(pis[j]))
    return [pis[j] for j in order]


def _minimal_covers(pis: list[Implicant], pos: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Every cover of the positive rows by the minimum number of PIs.

    Exact search (iterative deepening on the number of PIs, branching on the
    uncovered row with fewest covering PIs); covers are returned as sorted
    PI-index tuples in lexicographic order, the order in which QCA's
    ``find_models`` enumerates the k-combinations of the sorted PIs.
    """
    masks = []
    for p in pis:
        mask = 0
        for r, row in enumerate(pos):
            if _covers(p, row):
                mask |= 1 << r
        masks.append(mask)
    full = (1 << len(pos)) - 1
    if full == 0:
        return []
    rows_by = [[i for i, mk in enumerate(masks) if mk >> r & 1] for r in range(len(pos))]
    if any(not opts for opts in rows_by):
        raise ValueError("the prime implicant chart cannot be solved")
    for k in range(1, len(pis) + 1):
        found: set[tuple[int, ...]] = set()

        def search(covered: int, chosen: tuple[int, ...]) -> None:
            if covered == full:
                found.add(tuple(sorted(chosen)))
                return
            if len(chosen) == k:
                return
            open_rows = [r for r in range(len(pos)) if not covered >> r & 1]
            r = min(open_rows, key=lambda q: len(rows_by[q]))
            for i in rows_by[r]:
                if i not in chosen:
                    search(covered | masks[i], chosen + (i,))

        search(0, ())
        if found:
            return sorted(found)
    return []  # pragma: no cover - a full chart always has a cover


def _chart(pis: list[Implicant], pos: list[tuple[int, ...]]) -> tuple[list[Implicant], list[tuple[int, ...]]]:
    """Sorted PIs covering at least one positive row, and the minimal models."""
    pis = _qca_sort([p for p in pis if any(_covers(p, r) for r in pos)])
    return pis, _minimal_covers(pis, pos)


def _expand(imp: Implicant) -> list[tuple[int, ...]]:
    choices = [(0, 1) if code == 0 else (code - 1,) for code in imp]
    return [tuple(r) for r in itertools.product(*choices)]


@dataclass(frozen=True)
class Term:
    """A prime implicant of a solution and its parameters of fit (QCA's ``pof``)."""

    term: str
    inclS: float
    pri: float
    covS: float
    covU: float | None

    def to_dict(self) -> dict:
        return {"term": self.term, "inclS": _json_float(self.inclS), "pri": _json_float(self.pri),
                "covS": _json_float(self.covS), "covU": _json_float(self.covU)}


@dataclass(frozen=True)
class Solution:
    """One minimal model (M1, M2, ...) of a QCA solution.

    Attributes
    ----------
    kind : str
        ``"complex"``, ``"parsimonious"`` or ``"intermediate"``.
    label : str
        QCA's model label (``"M1"``, ...; within its C/P pair for intermediate).
    terms : tuple of Term
        Terms in QCA's printed order: essential PIs first, then the others,
        each group in QCA's PI order.
    essential : tuple of str
        PIs present in every model of the same list.
    consistency, pri, coverage : float
        inclS, PRI and covS of the union (maximum) of the terms.
    sources : tuple of str
        For intermediate models, the (complex, parsimonious) model pairs
        ``"C1P1"``, ... that produce it.
    """

    kind: str
    label: str
    terms: tuple[Term, ...]
    essential: tuple[str, ...]
    consistency: float
    pri: float
    coverage: float
    sources: tuple[str, ...] = ()

    @property
    def expression(self) -> str:
        return " + ".join(t.term for t in self.terms)

    def to_dict(self) -> dict:
        """The JSON-able form used by :func:`qca`."""
        return {"expression": self.expression,
                "consistency": _json_float(self.consistency),
                "coverage": _json_float(self.coverage),
                "terms": [t.to_dict() for t in self.terms]}


def _json_float(v: Any) -> Any:
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def _models_to_solutions(kind: str, pis: list[Implicant], models: list[tuple[int, ...]],
                         m: np.ndarray, y: np.ndarray, conds: list[str],
                         source: str | None = None) -> list[Solution]:
    if not models:
        return []
    essential = set(models[0]).intersection(*map(set, models[1:]))
    cut = 1e-5 if len(models) == 1 else 1e-4  # QCA: overall vs individual pof tables
    width = len(str(len(models)))
    out = []
    for i, model in enumerate(models):
        ordered = [p for p in model if p in essential] + [p for p in model if p not in essential]
        memb = np.column_stack([_term_membership(m, pis[p]) for p in ordered])
        fit, union = _fit(memb, y, cut)
        terms = tuple(Term(_term_label(pis[p], conds), **f) for p, f in zip(ordered, fit))
        out.append(Solution(
            kind=kind, label=f"M{i + 1:0{width}d}", terms=terms,
            essential=tuple(_term_label(pis[p], conds) for p in sorted(essential)),
            consistency=union["inclS"], pri=union["pri"], coverage=union["covS"],
            sources=(source,) if source else (),
        ))
    return out


def _normalize_directional(directional: Mapping[str, Any], conds: list[str]) -> list[int | None]:
    unknown = set(directional) - set(conds)
    if unknown:
        raise ValueError(f"directional expectations for unknown condition(s) {sorted(unknown)}")
    out: list[int | None] = []
    for c in conds:
        v = directional.get(c, "-")
        if isinstance(v, str):
            v = v.strip()
            if v in ("-", ""):
                out.append(None)
                continue
            if v in ("0", "1"):
                v = int(v)
        if isinstance(v, (bool, np.bool_)) or v not in (0, 1):
            raise ValueError(f"directional expectation for {c!r} must be 1, 0 or '-', got {v!r}")
        out.append(int(v))
    return out


def _intermediate(pos: list[tuple[int, ...]],
                  c_pis: list[Implicant], c_models: list[tuple[int, ...]],
                  p_pis: list[Implicant], p_models: list[tuple[int, ...]],
                  dirs: list[int | None]):
    """Intermediate models for every (complex, parsimonious) model pair.

    Easy counterfactuals (Ragin & Sonnett 2005; QCA's ``C_getEC``): for a
    complex term ``comp`` and a parsimonious term ``pars`` that subsumes it,
    drop from ``comp`` each literal absent from ``pars`` whose value
    contradicts the directional expectation (no expectation: keep it). The
    simplifying assumptions of the parsimonious model (remainders it covers)
    that fall in such a reduced term are the easy counterfactuals; the
    positive rows plus these are minimized (Quine-McCluskey) and the chart
    on the positive rows solved for all minimal models.
    """
    posset = set(pos)
    out = []
    for ci, cm in enumerate(c_models):
        for pj, pm in enumerate(p_models):
            sa = {r for p in pm for r in _expand(p_pis[p])} - posset
            ec: set[tuple[int, ...]] = set()
            for comp in (c_pis[i] for i in cm):
                for pars in (p_pis[i] for i in pm):
                    if not _subsumes(pars, comp):
                        continue
                    res = tuple(
                        0 if (code and not pars[j] and dirs[j] is not None and dirs[j] + 1 != code)
                        else code
                        for j, code in enumerate(comp)
                    )
                    ec |= {r for r in sa if _covers(res, r)}
            pis, models = _chart(_qmc_primes(posset | ec), pos)
            out.append((f"C{ci + 1}P{pj + 1}", pis, models))
    return out


def _is_tt(obj: Any) -> bool:
    return isinstance(obj, pd.DataFrame) and "qca" in obj.attrs and "out" in obj.columns


def _tt_parts(tt: pd.DataFrame):
    spec = tt.attrs["qca"]
    conds = list(spec["conditions"])
    mem = spec["memberships"]
    m = np.column_stack([np.asarray(mem[c], dtype=float) for c in conds])
    y = np.asarray(mem[spec["outcome"]], dtype=float)
    pos, neg = [], []
    for _, row in tt.iterrows():
        key = tuple(int(row[c]) for c in conds)
        out = str(row["out"]).strip()
        if out == "1":
            pos.append(key)
        elif out == "0":
            neg.append(key)
        elif out != "?":
            raise ValueError(f"out must be 1, 0 or '?', got {row['out']!r}")
    return conds, m, y, sorted(pos), sorted(neg)


def minimize(tt_or_data: pd.DataFrame, outcome: str | None = None,
             conditions: Sequence[str] | None = None, *, solution: str = "complex",
             directional: Mapping[str, Any] | None = None, incl_cut: float = 0.8,
             n_cut: int = 1, pri_cut: float = 0.0) -> list[Solution]:
    """Boolean minimization of a truth table, as QCA's ``minimize``.

    Parameters
    ----------
    tt_or_data : pandas.DataFrame
        A table from :func:`truth_table`, or calibrated data (then ``outcome``,
        ``conditions`` and the cut-offs build the truth table first).
    outcome, conditions : optional
        Needed only when ``tt_or_data`` is data.
    solution : {"complex", "parsimonious", "intermediate"}
        Complex (conservative): the positive rows alone; parsimonious
        (``include = "?"``): logical remainders (unobserved rows and rows
        with ``n < n_cut``) may be used; intermediate (``dir.exp``): only the
        easy counterfactuals.
    directional : mapping, optional
        Condition -> ``1`` (presence expected to contribute), ``0``
        (absence) or ``"-"`` (no expectation; also for omitted conditions).
        Required for the intermediate solution.
    incl_cut, n_cut, pri_cut
        Truth-table cut-offs when ``tt_or_data`` is data.

    Returns
    -------
    list of Solution
        Every model with the minimum number of PIs covering the positive
        rows (QCA's M1, M2, ...), in QCA's order. Intermediate: the distinct
        models over all (complex, parsimonious) model pairs, in pair order
        (C1P1, C1P2, ..., C2P1, ...), each pair's models in order.

    Raises
    ------
    ValueError
        No positive row ("nothing to explain"); parsimonious or intermediate
        with no negative row (all conditions would be minimized away);
        intermediate without ``directional``.

    Notes
    -----
    * Complex: all prime implicants of the positive rows
      (Quine-McCluskey). Parsimonious: all PIs of the positive rows with the
      remainders as don't cares that cover a positive row (Consistency Cubes,
      Duşa 2018, with its stopping rule).
    * The PI chart (PIs x positive rows) is solved exactly: the minimum
      number :math:`k` of PIs covering every positive row, then every
      :math:`k`-subset that does (Petrick's problem; QCA's default
      ``all.sol = FALSE``, ``row.dom = FALSE``).
    * PIs are ordered as QCA's ``sort_matrix`` (see ``_qca_sort``): by number
      of literals, then condition by condition with ``~A`` before ``A``
      before terms without A; models are ordered lexicographically by PI
      rank. Within a model, essential PIs (in every model) come first.
    * Fit: term inclS, PRI, covS, covU and solution consistency/coverage as
      :func:`sufficiency`; covU is ``None`` for a one-term model. Values below
      1e-5 (one model) or 1e-4 (several models) are reported as 0, as QCA.

    Examples
    --------
    >>> df = pd.DataFrame({"A": [1, 1, 0, 0], "B": [1, 0, 1, 0], "Y": [1, 1, 0, 0]})
    >>> [s.expression for s in minimize(df, "Y", ["A", "B"])]
    ['A']
    >>> df = pd.DataFrame({"A": [1, 1, 0], "B": [1, 0, 0], "Y": [1, 0, 0]})
    >>> [s.expression for s in minimize(df, "Y", ["A", "B"], solution="parsimonious")]
    ['B']
    """
    if solution not in _SOLUTION_KINDS:
        raise ValueError(f"solution must be one of {_SOLUTION_KINDS}")
    if _is_tt(tt_or_data):
        tt = tt_or_data
    else:
        if outcome is None or conditions is None:
            raise ValueError("give a truth table, or data with outcome and conditions")
        tt = truth_table(tt_or_data, outcome, conditions, incl_cut, n_cut, pri_cut)
    conds, m, y, pos, neg = _tt_parts(tt)
    if not pos:
        raise ValueError("nothing to explain: no truth-table row has out = 1")
    if solution == "intermediate" and directional is None:
        raise ValueError("the intermediate solution needs directional expectations")
    if solution != "complex" and not neg:
        raise ValueError("all truth-table configurations are used, all conditions "
                         "are minimized: no row has out = 0")
    c_pis, c_models = _chart(_qmc_primes(set(pos)), pos)
    if solution == "complex":
        return _models_to_solutions("complex", c_pis, c_models, m, y, conds)
    p_pis, p_models = _chart(_ccubes_primes(pos, neg), pos)
    if solution == "parsimonious":
        return _models_to_solutions("parsimonious", p_pis, p_models, m, y, conds)
    dirs = _normalize_directional(directional or {}, conds)
    seen: dict[frozenset, int] = {}
    out: list[Solution] = []
    for source, pis, models in _intermediate(pos, c_pis, c_models, p_pis, p_models, dirs):
        for sol in _models_to_solutions("intermediate", pis, models, m, y, conds, source):
            key = frozenset(t.term for t in sol.terms)
            if key in seen:
                old = out[seen[key]]
                out[seen[key]] = dataclasses.replace(old, sources=old.sources + (source,))
            else:
                seen[key] = len(out)
                out.append(sol)
    return out


# --------------------------------------------------------------------------
# one-call entry
# --------------------------------------------------------------------------
def qca(data: pd.DataFrame, outcome: str, conditions: Sequence[str], *,
        calibrate: Mapping[str, Sequence[float]] | None = None, incl_cut: float = 0.8,
        n_cut: int = 1, pri_cut: float = 0.0,
        directional: Mapping[str, Any] | None = None) -> dict:
    """Complete fsQCA: calibration, necessity, truth table and the three solutions.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per case (the index names the cases).
    outcome : str
        Outcome column.
    conditions : sequence of str
        Condition columns.
    calibrate : mapping, optional
        Column -> ``(exclusion, crossover, inclusion)`` for
        :func:`calibrate_direct` (may include the outcome); other columns must
        already hold memberships.
    incl_cut, n_cut, pri_cut
        Truth-table cut-offs (:func:`truth_table`).
    directional : mapping, optional
        Directional expectations (:func:`minimize`); without them the
        intermediate solution is an empty list.

    Returns
    -------
    dict
        JSON-able: ``{"incl_cut", "n_cut", "pri_cut", "necessity": [{"condition",
        "consistency", "coverage", "ron"}], "truth_table": [{"configuration":
        {cond: 0/1}, "n", "incl", "pri", "out"}], "solutions": {"complex": [...],
        "parsimonious": [...], "intermediate": [...]}}``, each solution
        ``{"expression", "consistency", "coverage", "terms": [{"term", "inclS",
        "pri", "covS", "covU"}]}``. ``nan`` becomes ``None``; ``covU`` is
        ``None`` for a one-term solution (QCA prints "-"). When no row has
        ``out = 1`` all solution lists are empty; when no row has ``out = 0``
        the parsimonious and intermediate lists are empty (QCA stops with an
        error in both cases).

    Raises
    ------
    ValueError
        A membership of exactly 0.5 (after calibration or as given), naming
        the case; other invalid input as in the functions used.

    Examples
    --------
    >>> df = pd.DataFrame({"A": [0.9, 0.8, 0.2, 0.1], "B": [0.7, 0.3, 0.6, 0.2],
    ...                    "Y": [0.8, 0.9, 0.3, 0.1]})
    >>> res = qca(df, "Y", ["A", "B"])
    >>> res["solutions"]["complex"][0]["expression"], res["solutions"]["intermediate"]
    ('A', [])
    """
    conds = _as_list(conditions)
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame")
    work = data.copy()
    for col, anchors in (calibrate or {}).items():
        if col not in work.columns:
            raise ValueError(f"calibration column {col!r} not found in the data")
        if len(anchors) != 3:
            raise ValueError(f"calibration of {col!r} needs (exclusion, crossover, inclusion)")
        work[col] = calibrate_direct(work[col].rename(col), *anchors)
    nec = necessity(work, outcome, conds)
    tt = truth_table(work, outcome, conds, incl_cut, n_cut, pri_cut)
    table = [{"configuration": {c: int(row[c]) for c in conds}, "n": int(row["n"]),
              "incl": _json_float(row["incl"]), "pri": _json_float(row["pri"]),
              "out": row["out"] if row["out"] == "?" else int(row["out"])}
             for _, row in tt.iterrows()]
    outs = set(str(v) for v in tt["out"])
    sols: dict[str, list] = {k: [] for k in _SOLUTION_KINDS}
    if "1" in outs:
        kinds = ["complex"]
        if "0" in outs:
            kinds.append("parsimonious")
            if directional is not None:
                kinds.append("intermediate")
        for kind in kinds:
            sols[kind] = [s.to_dict() for s in
                          minimize(tt, solution=kind, directional=directional)]
    return {
        "incl_cut": float(incl_cut),
        "n_cut": int(n_cut),
        "pri_cut": float(pri_cut),
        "necessity": [{"condition": r.condition, "consistency": _json_float(r.consistency),
                       "coverage": _json_float(r.coverage), "ron": _json_float(r.ron)}
                      for r in nec.itertuples(index=False)],
        "truth_table": table,
        "solutions": sols,
    }
