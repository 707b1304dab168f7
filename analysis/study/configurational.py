"""The configurational step: fsQCA and NCA on the communities (issue 17).

The seed article argues that Party organizations strengthen community
resilience (CR) through four pathways that *work together*: grid governance,
resources, organizations and lists.  "Work together" is a configurational
claim: it is about combinations of conditions, not about the net effect of
each.  This module takes the communities as cases and asks the two
set-theoretic questions of the claim:

* **necessity** (is a high level of a pathway needed for a high level of
  resilience?): QCA's consistency of necessity, and Necessary Condition
  Analysis (NCA) with its permutation test (Dul 2016; Dul, van der Laan &
  Kuik 2020);
* **sufficiency** (which combinations of pathways go with high
  resilience?): the fsQCA truth table and its complex, parsimonious and
  intermediate solutions (Ragin 2008; Duşa 2019).

The engines are :mod:`analysis.psychometrics.qca` and
:mod:`analysis.psychometrics.nca`; this module builds the cases, calibrates
them, runs the engines, sweeps the analytic choices and writes
``results/configurational/``.

A second, *planted* set of communities is simulated from the
``configurational:`` section of the population model
(:func:`analysis.study.population.load_configurational`): a world in which
resilience is high exactly where GRID and RES, or ORG and LIST, are both
high.  Respondents of those communities answer the instrument through the
declared loadings and thresholds, and the same aggregation, calibration and
minimization are applied, so the chapter can show that the method recovers a
planted solution, and how often (:func:`planted_replications`).

The roles are read from the instrument, never listed here: the conditions are
the constructs of the seed article's numbered sections (a second-order factor
where its first-order constructs share one), the leader and the outcome are
the constructs of its opening section (the first-order construct without a
parent, and the second-order factor) (:func:`configuration_roles`).

References
----------
.. [1] Ragin, C. C. (2008). *Redesigning Social Inquiry: Fuzzy Sets and
   Beyond*. University of Chicago Press.
.. [2] Duşa, A. (2019). *QCA with R. A Comprehensive Resource*. Springer.
.. [3] Dul, J. (2016). Necessary Condition Analysis (NCA). *Organizational
   Research Methods*, 19(1), 10-52.
.. [4] Dul, J., van der Laan, E., & Kuik, R. (2020). A statistical
   significance test for Necessary Condition Analysis. *Organizational
   Research Methods*, 23(2), 385-395.
.. [5] Schneider, C. Q., & Wagemann, C. (2012). *Set-Theoretic Methods for
   the Social Sciences*. Cambridge University Press.
.. [6] Fiss, P. C. (2011). Building better causal theories: A fuzzy set
   approach to typologies in organization research. *Academy of Management
   Journal*, 54(2), 393-420.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..io import write_csv, write_json
from ..results import SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_ZH, data_are_synthetic

__all__ = [
    "Roles",
    "configuration_roles",
    "community_cases",
    "calibration_anchors",
    "calibrate_cases",
    "parse_directional",
    "qca_tables",
    "nca_table",
    "simulate_planted",
    "planted_cases",
    "recovery",
    "net_effects",
    "planted_replications",
    "replication_rates",
    "sensitivity_sweep",
    "configuration_chart",
    "run_configurational",
    "NUDGE",
]

#: What QCA practice adds to a membership of exactly 0.5 (a case at the crossover), which
#: belongs to no truth-table corner and which the engine refuses (Fiss 2011 adds 0.001).
NUDGE = 0.001
#: Default settings (``study.yaml``, section ``configurational``).
DEFAULTS = {
    "min_respondents": 5,
    "calibration": "quantile_95_50_5",
    "anchors": {
        "quantile_95_50_5": {"kind": "quantile", "exclusion": 0.05, "crossover": 0.50, "inclusion": 0.95},
        "quantile_75_50_25": {"kind": "quantile", "exclusion": 0.25, "crossover": 0.50, "inclusion": 0.75},
        "scale_3_35_4": {"kind": "scale", "exclusion": 3.0, "crossover": 3.5, "inclusion": 4.0},
    },
    "incl_cut": 0.80, "pri_cut": 0.50, "n_cut": 1, "directional": 1,
    "sensitivity_incl_cuts": [0.75, 0.80, 0.85, 0.90], "sensitivity_pri_cuts": [0.50, 0.70],
    "nca_ceilings": ["ce_fdh", "cr_fdh"], "nca_permutations": 1000, "nca_min_effect": 0.10, "nca_alpha": 0.05,
    "qca_necessity_cut": 0.90, "seed": 1700, "planted_seed": 1701, "planted_replications": 50,
    "planted_sizes": [60, 240],
}
_KINDS = ("complex", "parsimonious", "intermediate")
_ANCHOR_BASIS = {
    "quantile": "sample percentiles {e:g}/{c:g}/{i:g} of the community scores (numpy linear, R type 7)",
    "scale": "points of the agreement scale: {e:g} full non-membership, {c:g} crossover, {i:g} full membership",
}


# ---------------------------------------------------------------------------
# roles and cases
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Roles:
    """Who is who in the configurational analysis (read from the instrument).

    Attributes
    ----------
    leader : str
        Party organization leadership (``PL``).
    conditions : tuple of str
        The four pathways, in the order of the seed article's sections.
    outcome : str
        Community resilience (``CR``).
    """

    leader: str
    conditions: tuple[str, ...]
    outcome: str

    @property
    def scores(self) -> list[str]:
        """Every score of a case: leader, conditions, outcome."""
        return [self.leader, *self.conditions, self.outcome]


def configuration_roles(instrument) -> Roles:
    """The leader, the conditions and the outcome, from the instrument.

    Each first-order construct belongs to a section of the seed article
    (``pathway``); a construct stands for its second-order factor when it has
    one.  The constructs of the numbered sections (一 ... 四) are the
    pathways, in section order; the opening section holds the first-order
    construct without a parent (Party leadership) and the second-order factor
    of resilience.

    Examples
    --------
    >>> from analysis.study.instrument import load_instrument
    >>> r = configuration_roles(load_instrument())
    >>> r.leader, r.conditions, r.outcome
    ('PL', ('GRID', 'RES', 'ORG', 'LIST'), 'CR')
    """
    second = {s.code for s in instrument.second_order}
    opening = instrument.pathways[0].section
    units: dict[str, list[str]] = {p.section: [] for p in instrument.pathways}
    for c in instrument.constructs:
        unit = c.parent or c.code
        if c.pathway not in units:
            raise ValueError(f"construct {c.code} names an unknown seed section {c.pathway!r}")
        if unit not in units[c.pathway]:
            units[c.pathway].append(unit)
    start = units[opening]
    leaders = [u for u in start if u not in second]
    outcomes = [u for u in start if u in second]
    if len(leaders) != 1 or len(outcomes) != 1:
        raise ValueError(f"the opening section should hold one leader and one second-order outcome, got {start}")
    conditions = tuple(u for p in instrument.pathways[1:] for u in units[p.section])
    return Roles(leader=leaders[0], conditions=conditions, outcome=outcomes[0])


def community_cases(analysis_data, instrument, *, community: str = "community",
                    min_respondents: int = 1) -> pd.DataFrame:
    """One row per community: mean scale scores of the leader, the conditions and the outcome.

    Parameters
    ----------
    analysis_data : pandas.DataFrame or path-like
        Respondents (``analysis.parquet``: item columns with reverse-keyed
        items already recoded, and the ``community`` column).
    instrument : Instrument
    community : str
        The column naming each respondent's community.
    min_respondents : int
        Communities with fewer respondents are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``community, n`` and one column per score of
        :func:`configuration_roles` (``PL, GRID, RES, ORG, LIST, CR``), sorted
        by community code.  ``n`` counts the community's respondents.

    Notes
    -----
    A respondent's score of a first-order construct is the mean of the items
    he or she answered; the score of a second-order construct (RES, ORG,
    LIST, CR) is the mean of its first-order scores, so each first-order
    construct weighs the same whatever its number of answered items.  A
    community's score is the mean over its respondents.

    Why means of scale scores and not factor scores: the community scores are
    transparent (anyone can recompute them from the processed data with a
    spreadsheet), they are on the 5-point agreement scale, so that anchors
    can be read as answers ("3 = 一般 neutral"), and they do not depend on a
    fitted measurement model, whose estimates would change with every
    respecification and whose factor scores shrink small communities
    differently by construct.  The price is that measurement error is not
    removed; averaging about 20 respondents and 4-12 items per score reduces
    it.  (Factor scores are left out, not hidden: a sensitivity analysis
    with them would need a CFA fitted inside this step.)

    Examples
    --------
    >>> from analysis.study.instrument import load_instrument
    >>> ins = load_instrument()
    >>> rows = pd.DataFrame({c: [4, 2, 5] for c in ins.item_codes()}).assign(community=["A", "A", "B"])
    >>> community_cases(rows, ins)[["community", "n", "PL", "CR"]].to_dict("list")
    {'community': ['A', 'B'], 'n': [2, 1], 'PL': [3.0, 5.0], 'CR': [3.0, 5.0]}
    """
    from .multilevel import scale_scores

    data = analysis_data if isinstance(analysis_data, pd.DataFrame) else pd.read_parquet(analysis_data)
    if community not in data.columns:
        raise ValueError(f"the data have no {community!r} column naming each respondent's community")
    roles = configuration_roles(instrument)
    first = scale_scores(data, instrument, [c.code for c in instrument.constructs])
    children = {s.code: list(s.children) for s in instrument.second_order}
    scores = pd.DataFrame({u: first[children[u]].mean(axis=1) if u in children else first[u]
                           for u in roles.scores}, index=data.index)
    scores[community] = data[community].astype("string")
    scores = scores[scores[community].notna()]
    grouped = scores.groupby(community, sort=True)
    cases = grouped[roles.scores].mean()
    cases.insert(0, "n", grouped.size().astype(int))
    cases = cases[cases["n"] >= int(min_respondents)]
    cases = cases.reset_index().rename(columns={community: "community"})
    cases["community"] = cases["community"].astype(str)
    return cases


# ---------------------------------------------------------------------------
# calibration
# ---------------------------------------------------------------------------
def calibration_anchors(cases: pd.DataFrame, columns, name: str, rule: dict) -> pd.DataFrame:
    """Anchors of the direct calibration of each column under one rule.

    Parameters
    ----------
    cases : pandas.DataFrame
        Community scores.
    columns : sequence of str
        Columns to calibrate (conditions and outcome).
    name : str
        The rule's name (a key of ``study.yaml``'s ``anchors``).
    rule : dict
        ``{"kind": "quantile", "exclusion": 0.05, "crossover": 0.5,
        "inclusion": 0.95}`` (sample percentiles) or ``{"kind": "scale",
        "exclusion": 3, "crossover": 3.5, "inclusion": 4}`` (scale points).

    Returns
    -------
    pandas.DataFrame
        ``set, rule, kind, exclusion, crossover, inclusion, basis``.

    Examples
    --------
    >>> df = pd.DataFrame({"X": np.arange(1.0, 102.0)})
    >>> a = calibration_anchors(df, ["X"], "q", {"kind": "quantile", "exclusion": .05, "crossover": .5,
    ...                                           "inclusion": .95})
    >>> a[["exclusion", "crossover", "inclusion"]].iloc[0].tolist()
    [6.0, 51.0, 96.0]
    """
    kind = rule.get("kind")
    if kind not in _ANCHOR_BASIS:
        raise ValueError(f"anchor rule {name!r}: kind must be 'quantile' or 'scale', not {kind!r}")
    e, c, i = (float(rule[k]) for k in ("exclusion", "crossover", "inclusion"))
    rows = []
    for col in columns:
        if kind == "quantile":
            values = pd.to_numeric(cases[col], errors="coerce").dropna().to_numpy(dtype=float)
            anchors = [float(np.quantile(values, q)) for q in (e, c, i)]
        else:
            anchors = [e, c, i]
        rows.append({"set": col, "rule": name, "kind": kind, "exclusion": anchors[0], "crossover": anchors[1],
                     "inclusion": anchors[2], "basis": _ANCHOR_BASIS[kind].format(e=e, c=c, i=i)})
    return pd.DataFrame(rows, columns=["set", "rule", "kind", "exclusion", "crossover", "inclusion", "basis"])


def calibrate_cases(cases: pd.DataFrame, anchors: pd.DataFrame, *, index: str = "community"):
    """Fuzzy memberships of every anchored column (Ragin's direct method).

    Parameters
    ----------
    cases : pandas.DataFrame
        Community scores, with the case label column ``index``.
    anchors : pandas.DataFrame
        From :func:`calibration_anchors` (one rule).

    Returns
    -------
    memberships : pandas.DataFrame
        Indexed by the case labels; one column per set.
    nudged : dict
        Set -> number of cases whose membership was exactly 0.5 and was
        raised to ``0.5 + NUDGE``.

    Notes
    -----
    :func:`analysis.psychometrics.qca.calibrate_direct` refuses a membership
    of exactly 0.5 (a score at the crossover belongs to no corner of the
    truth table).  QCA practice adds 0.001 to such a membership (Fiss 2011);
    this is done here and counted, so that the calibration table says how
    many cases it touched (with the quantile anchors it can only happen when
    the median is a tie).
    """
    from ..psychometrics.qca import calibrate_direct

    labels = cases[index].astype(str).to_numpy() if index in cases.columns else cases.index.astype(str).to_numpy()
    out = pd.DataFrame(index=pd.Index(labels, name=index))
    nudged = {}
    for a in anchors.itertuples(index=False):
        x = pd.to_numeric(cases[a.set], errors="coerce").to_numpy(dtype=float)
        at_cross = np.isfinite(x) & (np.abs(x - a.crossover) <= 1e-9 * max(1.0, abs(a.crossover)))
        values = np.full(x.shape, np.nan)
        if (~at_cross).any():
            values[~at_cross] = calibrate_direct(pd.Series(x[~at_cross], index=labels[~at_cross], name=a.set),
                                                 a.exclusion, a.crossover, a.inclusion)
        values[at_cross] = 0.5 + NUDGE
        out[a.set] = values
        nudged[a.set] = int(at_cross.sum())
    return out, nudged


def parse_directional(value, conditions) -> dict:
    """Directional expectations for every condition from the settings.

    ``1`` / ``0`` / ``"-"`` apply to every condition; a mapping names them
    one by one (omitted conditions: no expectation).

    Examples
    --------
    >>> parse_directional(1, ["A", "B"])
    {'A': 1, 'B': 1}
    >>> parse_directional({"A": 0}, ["A", "B"])
    {'A': 0, 'B': '-'}
    """
    if isinstance(value, dict):
        unknown = set(value) - set(conditions)
        if unknown:
            raise ValueError(f"directional expectations for unknown condition(s) {sorted(unknown)}")
        return {c: value.get(c, "-") for c in conditions}
    return {c: value for c in conditions}


# ---------------------------------------------------------------------------
# QCA and NCA tables
# ---------------------------------------------------------------------------
def _literals(term: str) -> frozenset:
    return frozenset(s.strip() for s in term.split("*") if s.strip())


def _core_literals(term: str, parsimonious_terms) -> list[str]:
    """Literals of an intermediate term that are in a parsimonious term it implies (Fiss 2011's core)."""
    lits = _literals(term)
    core = set()
    for p in parsimonious_terms:
        pl = _literals(p)
        if pl <= lits:
            core |= pl
    return [lit for lit in term.split("*") if lit in core]


def qca_tables(memberships: pd.DataFrame, outcome: str, conditions, *, incl_cut: float, pri_cut: float,
               n_cut: int, directional: dict, necessity_cut: float = 0.9) -> dict:
    """Necessity, truth table and the three solutions as tidy tables.

    Parameters
    ----------
    memberships : pandas.DataFrame
        Calibrated sets, indexed by case label.
    outcome : str
    conditions : sequence of str
    incl_cut, pri_cut, n_cut
        Truth-table cut-offs (:func:`analysis.psychometrics.qca.truth_table`).
    directional : dict
        Directional expectations of the intermediate solution.
    necessity_cut : float
        Consistency from which a condition is reported as necessary.

    Returns
    -------
    dict
        ``necessity`` (``condition, consistency, coverage, ron, necessary``),
        ``truth_table`` (``row``, one 0/1 column per condition, ``n, incl,
        pri, out, cases``), ``solutions`` (one row per term of every model:
        ``kind, model, expression, consistency, pri, coverage, n_models, term,
        term_consistency, term_pri, raw_coverage, unique_coverage, core,
        sources``; ``core`` lists the literals of an intermediate term that
        the parsimonious solution also needs) and ``status`` (kind -> "ok" or
        why there is no solution).
    """
    from ..psychometrics.qca import minimize, necessity, truth_table

    conds = list(conditions)
    nec = necessity(memberships, outcome, conds)
    nec["necessary"] = nec["consistency"] >= necessity_cut
    tt = truth_table(memberships, outcome, conds, incl_cut=incl_cut, n_cut=n_cut, pri_cut=pri_cut)
    row_cases = tt.attrs["qca"]["row_cases"]
    table = tt.reset_index()
    table["out"] = table["out"].astype(str)
    table["cases"] = [",".join(map(str, row_cases[int(r)])) for r in table["row"]]
    solutions, status = {}, {}
    for kind in _KINDS:
        try:
            solutions[kind] = minimize(tt, solution=kind, directional=directional if kind == "intermediate" else None)
            status[kind] = "ok"
        except ValueError as exc:
            solutions[kind] = []
            status[kind] = str(exc)
    pars_terms = {t.term for s in solutions["parsimonious"] for t in s.terms}
    rows = []
    for kind in _KINDS:
        for sol in solutions[kind]:
            for t in sol.terms:
                rows.append({
                    "kind": kind, "model": sol.label, "expression": sol.expression,
                    "consistency": sol.consistency, "pri": sol.pri, "coverage": sol.coverage,
                    "n_models": len(solutions[kind]), "term": t.term, "term_consistency": t.inclS,
                    "term_pri": t.pri, "raw_coverage": t.covS,
                    "unique_coverage": np.nan if t.covU is None else t.covU,
                    "core": "*".join(_core_literals(t.term, pars_terms)) if kind == "intermediate" else "",
                    "sources": ",".join(sol.sources),
                })
    cols = ["kind", "model", "expression", "consistency", "pri", "coverage", "n_models", "term", "term_consistency",
            "term_pri", "raw_coverage", "unique_coverage", "core", "sources"]
    return {"necessity": nec, "truth_table": table, "solutions": pd.DataFrame(rows, columns=cols), "status": status}


def nca_table(cases: pd.DataFrame, outcome: str, conditions, *, ceilings, permutations: int, seed,
              min_effect: float = 0.1, alpha: float = 0.05) -> pd.DataFrame:
    """NCA of the outcome on each condition (community scores), with permutation p-values.

    Returns
    -------
    pandas.DataFrame
        ``condition, ceiling, effect_size, size, accuracy, ceiling_zone,
        scope, p_value, permutations, necessary``: ``size`` is Dul's (2016)
        label (small d < .1, medium .1-.3, large .3-.5, very large >= .5);
        ``necessary`` is true for every row of a condition when each of its
        ceilings has ``d >= min_effect`` and ``p < alpha``.
    """
    from ..psychometrics.nca import nca

    res = pd.DataFrame(nca(cases, outcome, list(conditions), ceilings=tuple(ceilings),
                           permutations=int(permutations), seed=seed)["results"])
    res["size"] = pd.cut(res["effect_size"], [-np.inf, 0.1, 0.3, 0.5, np.inf], right=False,
                         labels=["small", "medium", "large", "very large"]).astype(str)
    res["permutations"] = int(permutations)
    ok = (res["effect_size"] >= min_effect) & (res["p_value"].astype(float) < alpha)
    res["necessary"] = ok.groupby(res["condition"]).transform("all")
    return res[["condition", "ceiling", "effect_size", "size", "accuracy", "ceiling_zone", "scope", "p_value",
                "permutations", "necessary"]]


# ---------------------------------------------------------------------------
# the planted world
# ---------------------------------------------------------------------------
def _term_value(z: dict, term) -> np.ndarray:
    return np.min(np.column_stack([-z[lit[1:]] if lit.startswith("~") else z[lit] for lit in term]), axis=1)


def simulate_planted(truth, seed, *, population=None, instrument=None) -> pd.DataFrame:
    """Respondents of communities drawn from the planted configurational truth.

    Parameters
    ----------
    truth : ConfigurationalTruth
        From :func:`analysis.study.population.load_configurational`.
    seed : int, sequence of int or numpy.random.Generator
    population : Population, optional
        Loadings, second-order loadings and thresholds (default: the declared
        population model; read, not changed).
    instrument : Instrument, optional

    Returns
    -------
    pandas.DataFrame
        One row per respondent: ``community`` (``P01``, ...) and every item
        code, answers 1-5 already scored (high = more of the construct, as
        ``analysis.parquet``); no missing answers, no careless respondents.

    Notes
    -----
    Community values: :math:`PL_j \\sim N(0,1)`; each condition
    :math:`z_{jX} = \\sqrt{s}\\,PL_j + \\sqrt{1-s}\\,e_{jX}` (``s`` =
    ``leadership_share``); the outcome
    :math:`\\max_t \\min_{X\\in t} z_{jX} + \\sigma e_j`, standardized over the
    simulated communities.  A respondent's latent value is
    :math:`\\sqrt{b}\\,z_j + \\sqrt{1-b}\\,u_{ij}` (``b`` = ``between_share``);
    a first-order construct under a second-order one is
    :math:`\\lambda_2 \\eta + \\sqrt{1-\\lambda_2^2}\\,\\delta`; an item is
    :math:`y^* = \\lambda f + \\sqrt{1-\\lambda^2}\\,\\varepsilon` cut at the
    declared thresholds (shifted per construct), as the main simulator does.
    """
    from .instrument import load_instrument
    from .population import load_population

    pop = population or load_population()
    ins = instrument or load_instrument()
    roles = configuration_roles(ins)
    unknown = [c for c in truth.conditions if c not in roles.conditions]
    if unknown:
        raise ValueError(f"the planted solution names {unknown}, which are not conditions {list(roles.conditions)}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    k = truth.communities
    share = truth.leadership_share
    z = {roles.leader: rng.standard_normal(k)}
    for c in roles.conditions:
        z[c] = math.sqrt(share) * z[roles.leader] + math.sqrt(1.0 - share) * rng.standard_normal(k)
    value = np.max(np.column_stack([_term_value(z, t) for t in truth.solution]), axis=1)
    value = value + truth.outcome_noise * rng.standard_normal(k)
    z[roles.outcome] = (value - value.mean()) / value.std()
    sizes = rng.integers(truth.respondents[0], truth.respondents[1] + 1, size=k)
    community = np.repeat(np.arange(k), sizes)
    n = int(sizes.sum())
    b = truth.between_share
    children = {s.code: list(s.children) for s in ins.second_order}
    tau0 = np.asarray(pop.response.thresholds, dtype=float)
    answers = {}
    for unit in roles.scores:
        eta = math.sqrt(b) * z[unit][community] + math.sqrt(1.0 - b) * rng.standard_normal(n)
        for first in children.get(unit, [unit]):
            lam2 = pop.second_order[unit][first] if unit in children else 1.0
            f = lam2 * eta + math.sqrt(1.0 - lam2 ** 2) * rng.standard_normal(n)
            codes = ins.item_codes(first)
            lams = pop.loadings[first]
            if len(lams) != len(codes):
                raise ValueError(f"the population model has {len(lams)} loadings for {first}, "
                                 f"the instrument {len(codes)} items")
            tau = tau0 + pop.response.threshold_shift.get(first, 0.0)
            for code, lam in zip(codes, lams):
                ystar = lam * f + math.sqrt(1.0 - lam ** 2) * rng.standard_normal(n)
                answers[code] = 1.0 + (ystar[:, None] > tau[None, :]).sum(axis=1)
    width = len(str(k))
    frame = pd.DataFrame({"community": [f"P{j + 1:0{width}d}" for j in community]})
    items = pd.DataFrame(answers)[ins.item_codes()]
    return pd.concat([frame, items], axis=1)


def planted_cases(truth, seed, *, population=None, instrument=None) -> pd.DataFrame:
    """The planted communities as cases (:func:`simulate_planted` + :func:`community_cases`)."""
    from .instrument import load_instrument

    ins = instrument or load_instrument()
    return community_cases(simulate_planted(truth, seed, population=population, instrument=ins), ins)


def recovery(solutions: pd.DataFrame, truth, kinds=_KINDS) -> pd.DataFrame:
    """How each solution compares with the planted one.

    Returns
    -------
    pandas.DataFrame
        One row per kind and model: ``kind, model, expression, exact`` (the
        same terms as the truth), ``contains`` (every planted term is a term
        of the model), ``correct`` (every term of the model implies a
        planted term: it makes no claim the truth does not), ``extra_terms``.
    """
    planted = [frozenset(t) for t in truth.solution]
    rows = []
    for kind in kinds:
        sub = solutions[solutions["kind"] == kind]
        if sub.empty:
            rows.append({"kind": kind, "model": "", "expression": "", "exact": False, "contains": False,
                         "correct": False, "extra_terms": ""})
            continue
        for model, g in sub.groupby("model", sort=True):
            terms = [_literals(t) for t in g["term"]]
            extra = [t for t, lit in zip(g["term"], terms) if not any(p <= lit for p in planted)]
            rows.append({"kind": kind, "model": model, "expression": g["expression"].iloc[0],
                         "exact": set(terms) == set(planted), "contains": all(p in terms for p in planted),
                         "correct": not extra, "extra_terms": " + ".join(extra)})
    return pd.DataFrame(rows, columns=["kind", "model", "expression", "exact", "contains", "correct", "extra_terms"])


def _analyse(cases: pd.DataFrame, roles: Roles, cfg: dict, rule_name: str, incl_cut: float | None = None,
             pri_cut: float | None = None) -> dict:
    """Calibrate ``cases`` with one rule and run the QCA tables."""
    anchors = calibration_anchors(cases, [*roles.conditions, roles.outcome], rule_name, cfg["anchors"][rule_name])
    memberships, nudged = calibrate_cases(cases, anchors)
    tables = qca_tables(memberships, roles.outcome, roles.conditions,
                        incl_cut=float(cfg["incl_cut"] if incl_cut is None else incl_cut),
                        pri_cut=float(cfg["pri_cut"] if pri_cut is None else pri_cut), n_cut=int(cfg["n_cut"]),
                        directional=parse_directional(cfg["directional"], roles.conditions),
                        necessity_cut=float(cfg["qca_necessity_cut"]))
    anchors["nudged"] = anchors["set"].map(nudged).astype(int)
    return {"anchors": anchors, "memberships": memberships, **tables}


def planted_replications(truth, cfg: dict, *, population=None, instrument=None) -> pd.DataFrame:
    """Recovery of the planted solution in further planted worlds of several sizes.

    For each size ``K`` of ``planted_sizes`` (communities per world),
    ``planted_replications`` worlds are drawn, replication ``r`` (1, 2, ...)
    with seed ``[planted_seed, K, r]``; each is aggregated, calibrated with
    the reported rule and minimized with the reported consistency cut-off
    and with every PRI cut-off of ``sensitivity_pri_cuts`` (the reported one
    first).

    Returns
    -------
    pandas.DataFrame
        ``communities, replication, pri_cut, kind, n_models, expression``
        (first model), ``exact_first, exact_any, contains_first,
        correct_first, consistency, coverage, status``.
    """
    import dataclasses

    from .instrument import load_instrument
    from .population import load_population

    ins = instrument or load_instrument()
    pop = population or load_population()
    roles = configuration_roles(ins)
    pris = list(dict.fromkeys([float(cfg["pri_cut"]), *map(float, cfg["sensitivity_pri_cuts"])]))
    rows = []
    for size in cfg["planted_sizes"]:
        world = dataclasses.replace(truth, communities=int(size))
        for r in range(1, int(cfg["planted_replications"]) + 1):
            cases = planted_cases(world, [int(cfg["planted_seed"]), int(size), r], population=pop, instrument=ins)
            for pri in pris:
                base = {"communities": int(size), "replication": r, "pri_cut": pri}
                try:
                    res = _analyse(cases, roles, cfg, cfg["calibration"], pri_cut=pri)
                except ValueError as exc:  # e.g. no truth-table row reaches n_cut
                    rows += [{**base, "kind": k, "n_models": 0, "expression": "", "exact_first": False,
                              "exact_any": False, "contains_first": False, "correct_first": False,
                              "consistency": np.nan, "coverage": np.nan, "status": str(exc)} for k in _KINDS]
                    continue
                rec = recovery(res["solutions"], truth)
                for kind in _KINDS:
                    sub = rec[rec["kind"] == kind]
                    sols = res["solutions"][res["solutions"]["kind"] == kind]
                    first = sub.iloc[0]
                    rows.append({**base, "kind": kind, "n_models": int(sols["model"].nunique()),
                                 "expression": first["expression"], "exact_first": bool(first["exact"]),
                                 "exact_any": bool(sub["exact"].any()), "contains_first": bool(first["contains"]),
                                 "correct_first": bool(first["correct"]),
                                 "consistency": float(sols["consistency"].iloc[0]) if len(sols) else np.nan,
                                 "coverage": float(sols["coverage"].iloc[0]) if len(sols) else np.nan,
                                 "status": res["status"][kind]})
    return pd.DataFrame(rows)


def replication_rates(replications: pd.DataFrame, kind: str = "intermediate") -> pd.DataFrame:
    """Recovery rates by world size and PRI cut-off, with Monte Carlo standard errors.

    Returns
    -------
    pandas.DataFrame
        ``communities, pri_cut, replications, exact, contains, correct,
        mc_se_max`` for the first model of ``kind``: the share of worlds
        whose solution equals the planted one, contains every planted term,
        and claims nothing the truth does not; ``mc_se_max`` is the largest
        binomial standard error of the three, :math:`\\sqrt{p(1-p)/R}`.
    """
    sub = replications[replications["kind"] == kind]
    rows = []
    for (size, pri), g in sub.groupby(["communities", "pri_cut"], sort=True):
        rates = {k: float(g[f"{k}_first"].mean()) for k in ("exact", "contains", "correct")}
        se = max(math.sqrt(v * (1.0 - v) / len(g)) for v in rates.values())
        rows.append({"communities": int(size), "pri_cut": float(pri), "replications": int(len(g)), **rates,
                     "mc_se_max": se})
    return pd.DataFrame(rows, columns=["communities", "pri_cut", "replications", "exact", "contains", "correct",
                                       "mc_se_max"])


# ---------------------------------------------------------------------------
# sensitivity and presentation
# ---------------------------------------------------------------------------
def sensitivity_sweep(cases: pd.DataFrame, roles: Roles, cfg: dict, *, data: str, truth=None) -> pd.DataFrame:
    """Solutions under every anchor rule, consistency cut-off and PRI cut-off.

    Returns
    -------
    pandas.DataFrame
        One row per setting, kind and model: ``data, anchors, incl_cut,
        pri_cut, n_cut, reported`` (the setting the chapter reports),
        ``n_positive`` (truth-table rows with out = 1), ``kind, model,
        expression, consistency, coverage, same_as_reported`` (the model's
        expression equals the reported first model of that kind),
        ``status`` and, when ``truth`` is given, ``recovered`` (the model
        equals the planted solution).
    """
    rows = []
    reported = {}
    settings = [(rule, float(cut), float(pri)) for rule in cfg["anchors"] for pri in cfg["sensitivity_pri_cuts"]
                for cut in cfg["sensitivity_incl_cuts"]]
    main = (cfg["calibration"], float(cfg["incl_cut"]), float(cfg["pri_cut"]))
    if main not in settings:
        settings.insert(0, main)
    results = {}
    for rule, cut, pri in settings:
        try:
            results[(rule, cut, pri)] = _analyse(cases, roles, cfg, rule, incl_cut=cut, pri_cut=pri)
        except ValueError as exc:
            results[(rule, cut, pri)] = exc
    main_res = results[main]
    if not isinstance(main_res, Exception):
        for kind in _KINDS:
            sols = main_res["solutions"][main_res["solutions"]["kind"] == kind]
            reported[kind] = sols["expression"].iloc[0] if len(sols) else ""
    planted = {frozenset(t) for t in truth.solution} if truth is not None else None
    for (rule, cut, pri), res in results.items():
        base = {"data": data, "anchors": rule, "incl_cut": cut, "pri_cut": pri,
                "n_cut": int(cfg["n_cut"]), "reported": (rule, cut, pri) == main}
        if isinstance(res, Exception):
            rows += [{**base, "n_positive": 0, "kind": k, "model": "", "expression": "", "consistency": np.nan,
                      "coverage": np.nan, "same_as_reported": False, "status": str(res)} for k in _KINDS]
            continue
        n_pos = int((res["truth_table"]["out"] == "1").sum())
        for kind in _KINDS:
            sols = res["solutions"][res["solutions"]["kind"] == kind].drop_duplicates("model")
            if sols.empty:
                rows.append({**base, "n_positive": n_pos, "kind": kind, "model": "", "expression": "",
                             "consistency": np.nan, "coverage": np.nan, "same_as_reported": False,
                             "status": res["status"][kind]})
                continue
            for s in sols.itertuples(index=False):
                rows.append({**base, "n_positive": n_pos, "kind": kind, "model": s.model, "expression": s.expression,
                             "consistency": s.consistency, "coverage": s.coverage,
                             "same_as_reported": s.expression == reported.get(kind), "status": "ok"})
    out = pd.DataFrame(rows)
    if planted is not None:
        out["recovered"] = [bool(e) and {_literals(t) for t in e.split(" + ")} == planted for e in out["expression"]]
    return out


def configuration_chart(solutions: pd.DataFrame, conditions, *, kind: str = "intermediate", model: str | None = None,
                        labels: dict | None = None) -> pd.DataFrame:
    """The configuration chart of one solution (Ragin & Fiss notation), for tables.

    Parameters
    ----------
    solutions : pandas.DataFrame
        ``solutions.csv`` (:func:`qca_tables`).
    conditions : sequence of str
    kind : str
        Which solution (default the intermediate one).
    model : str, optional
        Which model (default the first).
    labels : dict, optional
        Row labels for the conditions (default the codes).

    Returns
    -------
    pandas.DataFrame
        First column ``条件 Condition``; one column per term (``组态 1``, ...).
        Condition rows hold ``●`` (core presence: the literal is also in the
        parsimonious solution), ``•`` (peripheral presence), ``⊗`` (core
        absence), ``⊘`` (peripheral absence) or an empty cell (does not
        matter); the last rows hold the term's consistency, raw and unique
        coverage and the solution's consistency and coverage (as text, three
        decimals). Empty when the solution does not exist.
    """
    labels = labels or {}
    sub = solutions[solutions["kind"] == kind]
    if sub.empty:
        return pd.DataFrame()
    model = model or sorted(sub["model"].unique())[0]
    sub = sub[sub["model"] == model]
    cols = {}
    for j, t in enumerate(sub.itertuples(index=False), 1):
        lits = t.term.split("*")
        core = set(str(t.core).split("*")) if isinstance(t.core, str) and t.core else set()
        cell = []
        for c in conditions:
            if c in lits:
                cell.append("●" if c in core else "•")
            elif f"~{c}" in lits:
                cell.append("⊗" if f"~{c}" in core else "⊘")
            else:
                cell.append("")
        unique = "" if pd.isna(t.unique_coverage) else f"{t.unique_coverage:.3f}"
        cell += [f"{t.term_consistency:.3f}", f"{t.raw_coverage:.3f}", unique]
        cols[f"组态 {j}"] = cell
    first = sub.iloc[0]
    index = [labels.get(c, c) for c in conditions] + ["一致性 consistency", "原始覆盖度 raw coverage",
                                                      "唯一覆盖度 unique coverage"]
    chart = pd.DataFrame(cols)
    chart.insert(0, "条件 Condition", index)
    tail = pd.DataFrame([["解的一致性 solution consistency", f"{first.consistency:.3f}"],
                         ["解的覆盖度 solution coverage", f"{first.coverage:.3f}"]],
                        columns=["条件 Condition", "组态 1"])
    return pd.concat([chart, tail], ignore_index=True).fillna("")


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------
def _nca_figure(cases: pd.DataFrame, roles: Roles, nca_rows: pd.DataFrame, names: dict, path: Path, *,
                title: str, synthetic: bool, ceilings) -> Path:
    import matplotlib.pyplot as plt

    from ..psychometrics.nca import nca_plot
    from . import style

    style.use()
    n = len(roles.conditions)
    ncols = 2 if n > 2 else n
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.9 * nrows), squeeze=False)
    labels = {u: f"{names.get(u, u)} {u}" for u in roles.scores}
    for ax, cond in zip(axes.ravel(), roles.conditions):
        nca_plot(cases, roles.outcome, cond, ceilings=tuple(ceilings), ax=ax, labels=labels)
        rows = nca_rows[nca_rows["condition"] == cond].set_index("ceiling")
        parts = [f"{c.upper().replace('_', '-')}: d = {rows.loc[c, 'effect_size']:.2f}, "
                 f"p {_p(rows.loc[c, 'p_value'])}" for c in ceilings if c in rows.index]
        ax.set_title("\n".join(parts), fontsize=8)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    if synthetic:
        fig.text(0.5, -0.01, f"{SYNTHETIC_NOTE_ZH} {SYNTHETIC_NOTE_EN}", ha="center", va="top", fontsize=7,
                 color="#555")
    fig.tight_layout()
    style.save_figure(fig, path)
    plt.close(fig)
    return Path(path)


def _p(value) -> str:
    """``"< .001"`` or ``"= .034"`` (APA style, no leading zero)."""
    value = float(value)
    return "< .001" if value < 0.001 else "= " + f"{value:.3f}".lstrip("0")


# ---------------------------------------------------------------------------
# the step
# ---------------------------------------------------------------------------
def _settings(settings) -> dict:
    if settings is None:
        from .settings import load_settings

        settings = load_settings()
    if not isinstance(settings, dict):
        raise TypeError("settings must be the study.yaml mapping or its configurational section")
    # the whole study.yaml (it has the other sections) or the section itself
    section = settings.get("configurational") if "synthetic" in settings or "configurational" in settings else settings
    cfg = {**DEFAULTS, **(section or {})}
    if cfg["calibration"] not in cfg["anchors"]:
        raise ValueError(f"configurational.calibration {cfg['calibration']!r} is not one of the anchors "
                         f"{sorted(cfg['anchors'])}")
    return cfg


def _labelled(frame: pd.DataFrame, synthetic: bool) -> pd.DataFrame:
    out = frame.copy()
    out["synthetic"] = bool(synthetic)
    return out


def _rate(rate_table: pd.DataFrame, size, pri) -> dict:
    """One row of :func:`replication_rates` as a dict (``None`` values when absent)."""
    row = rate_table[(rate_table["communities"] == int(size)) & np.isclose(rate_table["pri_cut"], float(pri))]
    if row.empty:
        return {"communities": int(size), "pri_cut": float(pri), "exact": None, "contains": None, "correct": None}
    r = row.iloc[0]
    return {"communities": int(size), "pri_cut": float(pri), "exact": float(r["exact"]),
            "contains": float(r["contains"]), "correct": float(r["correct"])}


def _first(solutions: pd.DataFrame, kind: str) -> dict:
    sub = solutions[solutions["kind"] == kind]
    if sub.empty:
        return {"expression": None, "consistency": None, "coverage": None, "n_models": 0, "n_terms": 0}
    first = sub[sub["model"] == sorted(sub["model"].unique())[0]]
    return {"expression": first["expression"].iloc[0], "consistency": float(first["consistency"].iloc[0]),
            "coverage": float(first["coverage"].iloc[0]), "n_models": int(sub["model"].nunique()),
            "n_terms": int(len(first))}


def net_effects(cases: pd.DataFrame, roles: Roles) -> dict:
    """The linear view of the same cases: standardized OLS slopes of the outcome on the conditions.

    Returns
    -------
    dict
        ``{"r2": R squared, "min_beta", "max_beta", "beta": {condition: slope}}``: what a
        net-effects (regression/SEM) analysis of the community scores reports.
    """
    cols = list(roles.conditions)
    data = cases[cols + [roles.outcome]].dropna()
    z = (data - data.mean()) / data.std(ddof=1)
    x = z[cols].to_numpy()
    y = z[roles.outcome].to_numpy()
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    r2 = 1.0 - float(np.sum((y - x @ beta) ** 2) / np.sum(y ** 2))
    return {"r2": r2, "min_beta": float(beta.min()), "max_beta": float(beta.max()),
            "beta": {c: float(b) for c, b in zip(cols, beta)}}


def _summary(res: dict, nca_rows: pd.DataFrame, cases: pd.DataFrame, roles: Roles, cfg: dict) -> dict:
    """Headline numbers of one data set (study or planted)."""
    nec = res["necessity"]
    pos = nec[~nec["condition"].str.startswith("~")]
    top = pos.loc[pos["consistency"].idxmax()]
    tt = res["truth_table"]
    corr = cases[list(roles.conditions)].corr().to_numpy()
    upper = corr[np.triu_indices_from(corr, k=1)]
    members = res["memberships"][list(roles.conditions)] > 0.5
    agree = members.all(axis=1) | (~members).all(axis=1)
    out = {
        "n_communities": int(len(cases)),
        "n_respondents": int(cases["n"].sum()),
        "min_respondents": int(cases["n"].min()),
        "max_respondents": int(cases["n"].max()),
        "median_respondents": float(cases["n"].median()),
        "max_necessity_consistency": float(top["consistency"]),
        "max_necessity_condition": str(top["condition"]),
        "n_necessary_qca": int(nec["necessary"].sum()),
        "n_truth_rows": int(len(tt)),
        "n_remainders": int(2 ** len(roles.conditions) - len(tt)),
        "n_positive_rows": int((tt["out"] == "1").sum()),
        "n_cases_positive_rows": int(tt.loc[tt["out"] == "1", "n"].sum()),
        "mean_condition_correlation": float(upper.mean()),
        "share_all_or_none": float(agree.mean()),
        "nudged": int(res["anchors"]["nudged"].sum()),
        # mean consistency and PRI of the observed rows by their number of present conditions: rising
        # steadily with the count is the set-theoretic image of an additive (linear) outcome
        "incl_by_count": {str(k): float(g["incl"].mean())
                          for k, g in tt.groupby(tt[list(roles.conditions)].sum(axis=1), sort=True)},
        "pri_by_count": {str(k): float(g["pri"].mean())
                         for k, g in tt.groupby(tt[list(roles.conditions)].sum(axis=1), sort=True)},
        "solution": {k: _first(res["solutions"], k) for k in _KINDS},
        "status": res["status"],
    }
    out["ols"] = net_effects(cases, roles)
    main = cfg["nca_ceilings"][-1]
    rows = nca_rows[nca_rows["ceiling"] == main]
    best = rows.loc[rows["effect_size"].idxmax()]
    out["nca"] = {
        "ceiling": main,
        "max_d": float(best["effect_size"]), "max_d_condition": str(best["condition"]),
        "max_d_p": float(best["p_value"]),
        "n_necessary": int(nca_rows.drop_duplicates("condition")["necessary"].sum()),
        "necessary": ",".join(nca_rows.loc[nca_rows["necessary"], "condition"].drop_duplicates()) or "none",
        "by_condition": {r.condition: {"d": float(r.effect_size), "p": float(r.p_value)}
                         for r in rows.itertuples(index=False)},
    }
    return out


def run_configurational(processed_dir=None, out_dir=None, settings=None, instrument=None, *, figures_dir=None,
                        population_model=None, synthetic=None) -> list[Path]:
    """fsQCA and NCA on the study's communities and on planted communities; write the results.

    Parameters
    ----------
    processed_dir : path-like, optional
        Folder with ``analysis.parquet`` and ``ingest_report.json`` (default
        ``data/processed``).
    out_dir : path-like, optional
        Default ``results/configurational``.
    settings : dict, optional
        ``study.yaml`` (its ``configurational`` section) or the section
        itself; missing keys take :data:`DEFAULTS`.
    instrument : Instrument, optional
    figures_dir : path-like, optional
        Default ``figures`` beside ``out_dir`` (``results/figures``).
    population_model : path-like, optional
        The population model with the ``configurational:`` section (default
        ``data/population_model.yaml``).
    synthetic : bool, optional
        Override the ingest report's flag for the study's data (the planted
        communities are always synthetic).

    Returns
    -------
    list of Path
        Under ``out_dir``: ``cases.csv``, ``calibration.csv``,
        ``necessity.csv``, ``nca.csv``, ``truth_table.csv``,
        ``solutions.csv``, ``sensitivity.csv`` (both data sets),
        ``planted_cases.csv``, ``planted_calibration.csv``,
        ``planted_necessity.csv``, ``planted_nca.csv``,
        ``planted_truth_table.csv``, ``planted_solutions.csv``,
        ``planted_recovery.csv``, ``planted_replications.csv``, ``planted_rates.csv``,
        ``planted.json``, ``headline.json``; under ``figures_dir``:
        ``configurational_nca.png`` and ``configurational_nca_planted.png``.
        Every CSV has a ``synthetic`` column.  The caller writes
        ``index.json`` last.
    """
    from .instrument import load_instrument
    from .population import load_configurational, load_population

    processed = Path(processed_dir) if processed_dir is not None else paths.DEFAULT.processed
    out = Path(out_dir) if out_dir is not None else paths.DEFAULT.results / "configurational"
    figures = Path(figures_dir) if figures_dir is not None else out.parent / "figures"
    cfg = _settings(settings)
    ins = instrument or load_instrument()
    roles = configuration_roles(ins)
    syn = data_are_synthetic(processed, synthetic)
    names = {c.code: c.name_zh for c in ins.constructs} | {s.code: s.name_zh for s in ins.second_order}
    model_path = Path(population_model) if population_model is not None else paths.DEFAULT.population_model
    truth = load_configurational(model_path)
    pop = load_population(model_path)
    written: list[Path] = []

    def csv(name, frame, synthetic_flag):
        written.append(write_csv(out / name, _labelled(frame, synthetic_flag)))

    # --- the study's communities -----------------------------------------------------------
    cases = community_cases(processed / "analysis.parquet", ins, min_respondents=int(cfg["min_respondents"]))
    study = _analyse(cases, roles, cfg, cfg["calibration"])
    all_anchors = pd.concat([calibration_anchors(cases, [*roles.conditions, roles.outcome], rule, spec)
                             for rule, spec in cfg["anchors"].items()], ignore_index=True)
    all_anchors["reported"] = all_anchors["rule"] == cfg["calibration"]
    nca_kw = dict(ceilings=cfg["nca_ceilings"], permutations=int(cfg["nca_permutations"]),
                  min_effect=float(cfg["nca_min_effect"]), alpha=float(cfg["nca_alpha"]))
    study_nca = nca_table(cases, roles.outcome, roles.conditions, seed=int(cfg["seed"]), **nca_kw)
    members = study["memberships"].add_prefix("fs_").reset_index()
    csv("cases.csv", cases.merge(members, on="community", how="left"), syn)
    csv("calibration.csv", all_anchors.merge(study["anchors"][["set", "rule", "nudged"]], on=["set", "rule"],
                                             how="left").fillna({"nudged": 0}).astype({"nudged": int}), syn)
    csv("necessity.csv", study["necessity"], syn)
    csv("nca.csv", study_nca, syn)
    csv("truth_table.csv", study["truth_table"], syn)
    csv("solutions.csv", study["solutions"], syn)

    # --- the planted communities -----------------------------------------------------------
    pcases = planted_cases(truth, int(cfg["planted_seed"]), population=pop, instrument=ins)
    planted = _analyse(pcases, roles, cfg, cfg["calibration"])
    planted_nca = nca_table(pcases, roles.outcome, roles.conditions, seed=int(cfg["seed"]), **nca_kw)
    rec = recovery(planted["solutions"], truth)
    reps = planted_replications(truth, cfg, population=pop, instrument=ins)
    pmembers = planted["memberships"].add_prefix("fs_").reset_index()
    csv("planted_cases.csv", pcases.merge(pmembers, on="community", how="left"), True)
    csv("planted_calibration.csv", planted["anchors"], True)
    csv("planted_necessity.csv", planted["necessity"], True)
    csv("planted_nca.csv", planted_nca, True)
    csv("planted_truth_table.csv", planted["truth_table"], True)
    csv("planted_solutions.csv", planted["solutions"], True)
    csv("planted_recovery.csv", rec, True)
    csv("planted_replications.csv", reps, True)

    # --- sensitivity -----------------------------------------------------------------------
    study_sweep = sensitivity_sweep(cases, roles, cfg, data="study").assign(synthetic=syn)
    study_sweep["recovered"] = pd.Series([None] * len(study_sweep), dtype=object)  # no truth to recover
    planted_sweep = sensitivity_sweep(pcases, roles, cfg, data="planted", truth=truth).assign(synthetic=True)
    planted_sweep["recovered"] = planted_sweep["recovered"].astype(object)
    sweep = pd.concat([study_sweep, planted_sweep[study_sweep.columns]], ignore_index=True)
    written.append(write_csv(out / "sensitivity.csv", sweep))

    # --- figures ---------------------------------------------------------------------------
    written.append(_nca_figure(cases, roles, study_nca, names, figures / "configurational_nca.png",
                               title="社区层面的必要条件分析（NCA） "
                                     "Necessary Condition Analysis of the communities",
                               synthetic=syn, ceilings=cfg["nca_ceilings"]))
    written.append(_nca_figure(pcases, roles, planted_nca, names, figures / "configurational_nca_planted.png",
                               title="植入组态的模拟社区：NCA Planted communities: NCA",
                               synthetic=True, ceilings=cfg["nca_ceilings"]))

    # --- planted.json and the headline -----------------------------------------------------
    first_inter = rec[rec["kind"] == "intermediate"].iloc[0]
    rate_table = replication_rates(reps)
    csv("planted_rates.csv", rate_table, True)
    rates = {f"n{r.communities}_pri{int(round(100 * r.pri_cut))}": {"exact": r.exact, "contains": r.contains,
                                                                     "correct": r.correct, "mc_se_max": r.mc_se_max}
             for r in rate_table.itertuples(index=False)}
    others = [float(v) for v in cfg["sensitivity_pri_cuts"] if float(v) != float(cfg["pri_cut"])]
    pri_alt = others[0] if others else float(cfg["pri_cut"])
    sweep_p = sweep[(sweep["data"] == "planted") & (sweep["kind"] == "intermediate")]
    settings_p = sweep_p.groupby(["anchors", "incl_cut", "pri_cut"])["recovered"].any()
    planted_doc = {
        "synthetic": True, "note": SYNTHETIC_NOTE_EN,
        "truth": truth.to_dict(), "seed": int(cfg["planted_seed"]),
        "summary": _summary(planted, planted_nca, pcases, roles, cfg),
        "recovery": rec.to_dict(orient="records"),
        "replications": int(cfg["planted_replications"]),
        "replication_rates": rates,
        "sensitivity_settings_recovered": int(settings_p.sum()),
        "sensitivity_settings": int(len(settings_p)),
    }
    written.append(write_json(out / "planted.json", planted_doc))

    sweep_s = sweep[(sweep["data"] == "study") & (sweep["kind"] == "intermediate")]
    same = sweep_s.groupby(["anchors", "incl_cut", "pri_cut"])["same_as_reported"].any()
    rule = cfg["anchors"][cfg["calibration"]]
    headline = {
        "synthetic": syn, "note": SYNTHETIC_NOTE_EN if syn else "",
        "conditions": list(roles.conditions), "outcome": roles.outcome, "leader": roles.leader,
        "calibration": cfg["calibration"],
        "calibration_kind": rule["kind"],
        "anchor_exclusion": float(rule["exclusion"]), "anchor_crossover": float(rule["crossover"]),
        "anchor_inclusion": float(rule["inclusion"]),
        "incl_cut": float(cfg["incl_cut"]), "pri_cut": float(cfg["pri_cut"]), "n_cut": int(cfg["n_cut"]),
        "qca_necessity_cut": float(cfg["qca_necessity_cut"]),
        "nca_permutations": int(cfg["nca_permutations"]), "nca_seed": int(cfg["seed"]),
        "nca_min_effect": float(cfg["nca_min_effect"]), "nca_alpha": float(cfg["nca_alpha"]),
        "study": _summary(study, study_nca, cases, roles, cfg),
        "sensitivity_settings": int(len(same)),
        "sensitivity_same": int(same.sum()),
        "planted": {
            "solution": truth.expression,
            "n_communities": int(len(pcases)),
            "intermediate": _first(planted["solutions"], "intermediate")["expression"],
            "intermediate_consistency": _first(planted["solutions"], "intermediate")["consistency"],
            "intermediate_coverage": _first(planted["solutions"], "intermediate")["coverage"],
            "parsimonious": _first(planted["solutions"], "parsimonious")["expression"],
            "complex": _first(planted["solutions"], "complex")["expression"],
            "exact": bool(first_inter["exact"]),
            "contains": bool(first_inter["contains"]),
            "correct": bool(first_inter["correct"]),
            "exact_zh": "是" if first_inter["exact"] else "否",
            "contains_zh": "是" if first_inter["contains"] else "否",
            "extra_terms": first_inter["extra_terms"] or "无",
            "replications": int(cfg["planted_replications"]),
            "rates": rates,
            "mc_se_max": float(rate_table["mc_se_max"].max()),
            # the smallest and largest world of the replications, at the reported PRI cut-off and at the
            # first other one of the sensitivity sweep (for the chapter's prose)
            "pri_alt": pri_alt,
            "small": _rate(rate_table, min(cfg["planted_sizes"]), cfg["pri_cut"]),
            "large": _rate(rate_table, max(cfg["planted_sizes"]), cfg["pri_cut"]),
            "small_alt": _rate(rate_table, min(cfg["planted_sizes"]), pri_alt),
            "large_alt": _rate(rate_table, max(cfg["planted_sizes"]), pri_alt),
            "sensitivity_recovered": int(settings_p.sum()),
            "sensitivity_settings": int(len(settings_p)),
            "nca_max_d": planted_doc["summary"]["nca"]["max_d"],
            "nca_n_necessary": planted_doc["summary"]["nca"]["n_necessary"],
            "max_necessity_consistency": planted_doc["summary"]["max_necessity_consistency"],
            "ols_r2": planted_doc["summary"]["ols"]["r2"],
            "ols_min_beta": planted_doc["summary"]["ols"]["min_beta"],
            "ols_max_beta": planted_doc["summary"]["ols"]["max_beta"],
            "leadership_share": truth.leadership_share, "outcome_noise": truth.outcome_noise,
            "between_share": truth.between_share, "respondents_low": truth.respondents[0],
            "respondents_high": truth.respondents[1],
        },
    }
    written.append(write_json(out / "headline.json", headline))
    return written
