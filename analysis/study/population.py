"""The declared population model (``data/population_model.yaml``).

The population model is the truth behind every synthetic sample: standardized
item loadings, second-order loadings, the structural paths of the hypothesized
parallel-mediation model, small control effects, community clustering and the
response process.  :func:`load_population` reads it into a typed
:class:`Population`, which also computes the implied true values the tests and
the recovery study aim at (latent covariances, indirect effects, ICCs).

The structural model (standardized metric, every latent has variance 1)::

    M_i = a_i * PL + zeta_i                 M in (GRID, RES, ORG, LIST)
    CR  = c * PL + sum_i b_i * M_i + zeta_CR

with uncorrelated disturbances.  Each disturbance is split into a community
part and an individual part so that the latent ICCs match ``icc``.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .. import paths
from ..errors import InputError

__all__ = [
    "City",
    "ResponseProcess",
    "Population",
    "load_population",
    "ConfigurationalTruth",
    "load_configurational",
    "STRUCTURAL",
    "MEDIATORS",
    "CONTROLS",
]

#: The structural latent variables, in topological order.
STRUCTURAL = ("PL", "GRID", "RES", "ORG", "LIST", "CR")
#: The parallel mediators.
MEDIATORS = ("GRID", "RES", "ORG", "LIST")
#: The control variables the population model may use (standardized).
CONTROLS = ("party_member", "years")


@dataclass(frozen=True)
class City:
    """One city of the sampling frame."""

    code: int
    name_zh: str
    prefix: str
    weight: float


@dataclass(frozen=True)
class ResponseProcess:
    """How latent answers become the five-category answers a platform records."""

    thresholds: tuple[float, ...]
    threshold_shift: dict[str, float]
    careless_rate: float
    careless_straight_share: float
    speeder_rate: float
    duplicate_rate: float
    missing_rate: float
    missing_odds_per_age_band: float
    duration_median_s: float
    duration_sdlog: float
    speeder_duration_s: tuple[float, float]
    #: Role code -> probability that an attentive respondent answers "don't know" (code
    #: ``scale.dont_know`` of the instrument) to an item that offers it (empty: never).
    dont_know_prob_by_role: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Population:
    """The population model, typed.

    Attributes
    ----------
    loadings : dict[str, tuple[float, ...]]
        Standardized loadings of the items of each first-order construct, in
        item order (``PL`` -> loadings of PL1..PL4).
    second_order : dict[str, dict[str, float]]
        Standardized loadings of first-order factors on second-order factors.
    a, b : dict[str, float]
        Paths PL -> mediator and mediator -> CR.
    c : float
        The direct path PL -> CR.
    controls : dict[str, dict[str, float]]
        Effects of standardized controls on structural latents.
    icc : dict[str, float]
        Intraclass correlations of the structural latents.
    """

    loadings: dict[str, tuple[float, ...]]
    second_order: dict[str, dict[str, float]]
    a: dict[str, float]
    b: dict[str, float]
    c: float
    controls: dict[str, dict[str, float]]
    icc: dict[str, float]
    cities: tuple[City, ...]
    community_type_probs: dict[int, float]
    community_size_concentration: float
    role_probs: dict[int, float]
    age_band_probs: dict[int, float]
    gender_probs: dict[int, float]
    education_probs: dict[int, float]
    party_member_prob_by_role: dict[int, float]
    years: dict[str, float]
    response: ResponseProcess
    fieldwork: tuple[_dt.date, _dt.date]
    source: str = field(default="", compare=False)
    #: ``moderation:`` section: ``{"moderator": control, "path": (from, to), "interaction": g}``, the change of
    #: the standardized path per SD of the moderator (empty: no moderation).
    moderation: dict = field(default_factory=dict)
    #: ``community_households:`` section: lognormal ``meanlog``/``sdlog`` of the households of a community
    #: (the sampling frame's community sizes, from which the design weights follow).
    community_households: dict = field(default_factory=dict)

    # ------------------------------------------------------------------
    @property
    def first_order(self) -> list[str]:
        """First-order constructs in declaration order."""
        return list(self.loadings)

    @property
    def parent_of(self) -> dict[str, str]:
        """First-order construct -> its second-order factor (if any)."""
        return {child: parent for parent, kids in self.second_order.items() for child in kids}

    def item_codes(self) -> list[str]:
        """Item codes ``<CONSTRUCT><n>`` implied by :attr:`loadings`."""
        return [f"{c}{i + 1}" for c, lam in self.loadings.items() for i in range(len(lam))]

    def item_loadings(self) -> pd.Series:
        """Standardized loading of every item on its first-order factor."""
        return pd.Series({f"{c}{i + 1}": v for c, lam in self.loadings.items() for i, v in enumerate(lam)},
                         name="std_all")

    # ------------------------------------------------------------------
    def structural_matrix(self) -> np.ndarray:
        """Coefficient matrix ``B`` of the structural latents (row = outcome)."""
        idx = {v: i for i, v in enumerate(STRUCTURAL)}
        B = np.zeros((len(STRUCTURAL), len(STRUCTURAL)))
        for m in MEDIATORS:
            B[idx[m], idx["PL"]] = self.a[m]
            B[idx["CR"], idx[m]] = self.b[m]
        B[idx["CR"], idx["PL"]] = self.c
        return B

    def control_matrix(self) -> np.ndarray:
        """Effects ``Gamma`` of the standardized controls (rows: STRUCTURAL)."""
        G = np.zeros((len(STRUCTURAL), len(CONTROLS)))
        for lv, effects in self.controls.items():
            for z, g in effects.items():
                G[STRUCTURAL.index(lv), CONTROLS.index(z)] = g
        return G

    @property
    def _interaction_variance(self) -> np.ndarray:
        """Variance the moderation's product term adds to its outcome's equation (within communities).

        ``interaction * PL * z``: PL and the standardized moderator are independent with unit variance
        and mean zero, so the term has variance ``interaction**2`` and is uncorrelated with both.
        """
        extra = np.zeros(len(STRUCTURAL))
        if self.moderation:
            extra[STRUCTURAL.index(self.moderation["path"][1])] = self.moderation["interaction"] ** 2
        return extra

    @cached_property
    def _disturbances(self) -> tuple[np.ndarray, np.ndarray]:
        """Between- and within-community disturbance variances (diagonal)."""
        B = self.structural_matrix()
        G = self.control_matrix()
        k = len(STRUCTURAL)
        inv = np.linalg.inv(np.eye(k) - B)
        psi_b = np.zeros(k)
        psi_w = np.zeros(k)
        extra = self._interaction_variance
        for j, name in enumerate(STRUCTURAL):  # topological order: solve one at a time
            between = (inv @ np.diag(psi_b) @ inv.T)[j, j]
            within = (inv @ (np.diag(psi_w + extra) + G @ G.T) @ inv.T)[j, j]
            need_b = self.icc[name] - between
            need_w = (1.0 - self.icc[name]) - within
            if need_b < -1e-12 or need_w <= 0:
                raise InputError(
                    f"the population model is not admissible: latent {name} would need a negative "
                    f"disturbance variance (between {need_b:.3f}, within {need_w:.3f}); "
                    "lower its paths, control effects or ICC", file=self.source or None)
            psi_b[j] = max(need_b, 0.0)
            psi_w[j] = need_w
        return psi_b, psi_w

    @property
    def disturbance_between(self) -> np.ndarray:
        """Community-level disturbance variances of :data:`STRUCTURAL`."""
        return self._disturbances[0]

    @property
    def disturbance_within(self) -> np.ndarray:
        """Individual-level disturbance variances (control effects excluded)."""
        return self._disturbances[1]

    def structural_covariance(self, level: str = "total") -> pd.DataFrame:
        """Implied covariance of the structural latents.

        Parameters
        ----------
        level : {"total", "between", "within"}

        Returns
        -------
        DataFrame
            Square, indexed and columned by :data:`STRUCTURAL`.

        Notes
        -----
        :math:`\\Sigma = (I-B)^{-1}\\,(\\Psi + \\Gamma\\Gamma^\\top)\\,(I-B)^{-\\top}`
        with :math:`\\Psi = \\Psi_B + \\Psi_W`; the controls (and the moderation's product term,
        whose variance is added to its outcome's row) act within communities only.  The total has unit
        diagonal by construction.
        """
        B = self.structural_matrix()
        G = self.control_matrix()
        inv = np.linalg.inv(np.eye(len(STRUCTURAL)) - B)
        psi_b, psi_w = self._disturbances
        if level == "between":
            core = np.diag(psi_b)
        elif level == "within":
            core = np.diag(psi_w + self._interaction_variance) + G @ G.T
        elif level == "total":
            core = np.diag(psi_b + psi_w + self._interaction_variance) + G @ G.T
        else:
            raise ValueError(f"level must be 'total', 'between' or 'within', not {level!r}")
        return pd.DataFrame(inv @ core @ inv.T, index=list(STRUCTURAL), columns=list(STRUCTURAL))

    def latent_covariance(self) -> pd.DataFrame:
        """Implied correlation matrix of every latent (first- and second-order).

        Returns
        -------
        DataFrame
            Indexed and columned by the structural latents followed by the
            first-order constructs that load on second-order factors.

        Notes
        -----
        A first-order factor :math:`F_k = \\lambda_k S + \\delta_k` with
        :math:`\\operatorname{Var}\\delta_k = 1-\\lambda_k^2`, so
        :math:`\\operatorname{Cov}(F_k, X) = \\lambda_k \\operatorname{Cov}(S, X)`.
        """
        S = self.structural_covariance("total")
        names = list(STRUCTURAL) + [c for c in self.first_order if c in self.parent_of]
        # loading matrix from structural latents to all names
        L = np.zeros((len(names), len(STRUCTURAL)))
        for i, n in enumerate(names):
            if n in STRUCTURAL:
                L[i, STRUCTURAL.index(n)] = 1.0
            else:
                parent = self.parent_of[n]
                L[i, STRUCTURAL.index(parent)] = self.second_order[parent][n]
        cov = L @ S.to_numpy() @ L.T
        np.fill_diagonal(cov, 1.0)
        return pd.DataFrame(cov, index=names, columns=names)

    def true_effects(self) -> pd.DataFrame:
        """True standardized paths and effects, labelled as in the model syntax.

        Returns
        -------
        DataFrame
            Columns ``label, est``: ``a_<M>`` is exported as ``a1..a4`` (in
            the order GRID, RES, ORG, LIST), likewise ``b1..b4``, ``c``,
            ``ind_<M>`` (= a_i b_i), ``total_indirect`` (= sum a_i b_i) and
            ``total`` (= c + total_indirect).

        Notes
        -----
        In the standardized metric the indirect effect through mediator *i*
        is :math:`a_i b_i` [1]_.

        References
        ----------
        .. [1] Hayes, A. F. (2018). *Introduction to Mediation, Moderation,
           and Conditional Process Analysis* (2nd ed.). Guilford.
        """
        rows = []
        for i, m in enumerate(MEDIATORS, 1):
            rows.append((f"a{i}", self.a[m]))
        for i, m in enumerate(MEDIATORS, 1):
            rows.append((f"b{i}", self.b[m]))
        rows.append(("c", self.c))
        for m in MEDIATORS:
            rows.append((f"ind_{m}", self.a[m] * self.b[m]))
        tot = sum(self.a[m] * self.b[m] for m in MEDIATORS)
        rows.append(("total_indirect", tot))
        rows.append(("total", self.c + tot))
        return pd.DataFrame(rows, columns=["label", "est"])

    def r_squared(self) -> pd.Series:
        """Share of each structural latent's variance explained by its predictors."""
        psi = self.disturbance_between + self.disturbance_within
        return pd.Series(1.0 - psi, index=list(STRUCTURAL), name="r2")

    def category_probabilities(self, construct: str) -> np.ndarray:
        """Population probability of answers 1..5 for a non-reversed item of ``construct``."""
        from scipy.stats import norm

        tau = np.asarray(self.response.thresholds) + self.response.threshold_shift.get(construct, 0.0)
        cdf = np.concatenate([[0.0], norm.cdf(tau), [1.0]])
        return np.diff(cdf)

    def to_dict(self) -> dict:
        """The true parameters as plain data (for the truth file)."""
        return {
            "loadings": {k: list(v) for k, v in self.loadings.items()},
            "second_order": self.second_order,
            "structural": {"a": self.a, "b": self.b, "c": self.c},
            "controls": self.controls,
            "icc": self.icc,
            "effects": dict(zip(self.true_effects()["label"], self.true_effects()["est"])),
            "r_squared": self.r_squared().to_dict(),
            "thresholds": list(self.response.thresholds),
            "threshold_shift": self.response.threshold_shift,
            "moderation": {**self.moderation, "path": list(self.moderation.get("path", ()))},
        }


# ----------------------------------------------------------------------
def _probs(d, name, file):
    out = {int(k): float(v) for k, v in dict(d).items()}
    if any(v < 0 for v in out.values()) or abs(sum(out.values()) - 1.0) > 1e-6:
        raise InputError(f"{name} must be non-negative probabilities summing to 1", file=file)
    return out


def load_population(path=None) -> Population:
    """Read the population model.

    Parameters
    ----------
    path : path-like, optional
        Defaults to ``paths.DEFAULT.population_model``.

    Returns
    -------
    Population

    Raises
    ------
    InputError
        If the file is missing, not YAML, or a value is inadmissible
        (a loading outside (0, 1), probabilities not summing to 1, a
        negative implied disturbance variance).

    Examples
    --------
    >>> pop = load_population()
    >>> float(round(pop.structural_covariance().loc["CR", "CR"], 6))
    1.0
    """
    path = Path(path) if path is not None else paths.DEFAULT.population_model
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("population model not found", file=path) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=path) from None
    if not isinstance(raw, dict):
        raise InputError("expected a mapping", file=path)
    try:
        loadings = {k: tuple(float(x) for x in v) for k, v in raw["loadings"].items()}
        for k, lam in loadings.items():
            if not all(0 < x < 1 for x in lam):
                raise InputError(f"loadings of {k} must lie strictly between 0 and 1", file=path)
        second = {p: {c: float(x) for c, x in kids.items()} for p, kids in raw["second_order"].items()}
        st = raw["structural"]
        a = {m: float(st["a"][m]) for m in MEDIATORS}
        b = {m: float(st["b"][m]) for m in MEDIATORS}
        controls = {lv: {z: float(g) for z, g in eff.items()} for lv, eff in (raw.get("controls") or {}).items()}
        for lv, eff in controls.items():
            if lv not in STRUCTURAL or any(z not in CONTROLS for z in eff):
                raise InputError(f"controls: unknown latent or control in {lv}: {sorted(eff)}", file=path)
        icc = {lv: float(raw["icc"].get(lv, 0.0)) for lv in STRUCTURAL}
        cities = tuple(City(int(c["code"]), str(c["name_zh"]), str(c["prefix"]), float(c["weight"]))
                       for c in raw["cities"])
        r = raw["response"]
        response = ResponseProcess(
            thresholds=tuple(float(x) for x in r["thresholds"]),
            threshold_shift={k: float(v) for k, v in (r.get("threshold_shift") or {}).items()},
            careless_rate=float(r["careless_rate"]),
            careless_straight_share=float(r["careless_straight_share"]),
            speeder_rate=float(r["speeder_rate"]),
            duplicate_rate=float(r["duplicate_rate"]),
            missing_rate=float(r["missing_rate"]),
            missing_odds_per_age_band=float(r["missing_odds_per_age_band"]),
            duration_median_s=float(r["duration_median_s"]),
            duration_sdlog=float(r["duration_sdlog"]),
            speeder_duration_s=tuple(float(x) for x in r["speeder_duration_s"]),
            dont_know_prob_by_role={int(k): float(v) for k, v in (r.get("dont_know_prob_by_role") or {}).items()},
        )
        if not all(0.0 <= p < 1.0 for p in response.dont_know_prob_by_role.values()):
            raise InputError("response.dont_know_prob_by_role must be probabilities in [0, 1)", file=path)
        if list(response.thresholds) != sorted(response.thresholds) or len(response.thresholds) != 4:
            raise InputError("response.thresholds must be four increasing numbers", file=path)
        fw = raw["fieldwork"]
        moderation = {}
        if raw.get("moderation"):
            m = raw["moderation"]
            moderation = {"moderator": str(m["moderator"]), "path": tuple(str(v) for v in m["path"]),
                          "interaction": float(m["interaction"])}
            if moderation["moderator"] not in CONTROLS:
                raise InputError(f"moderation.moderator must be one of {list(CONTROLS)}", file=path)
            if moderation["path"][0] != "PL" or moderation["path"][1] not in a:
                raise InputError("moderation.path must be [PL, <mediator>] (a first-stage path)", file=path)
        pop = Population(
            loadings=loadings,
            second_order=second,
            a=a, b=b, c=float(st["c"]),
            controls=controls,
            icc=icc,
            cities=cities,
            community_type_probs=_probs(raw["community_type_probs"], "community_type_probs", path),
            community_size_concentration=float(raw["community_size_concentration"]),
            role_probs=_probs(raw["role_probs"], "role_probs", path),
            age_band_probs=_probs(raw["age_band_probs"], "age_band_probs", path),
            gender_probs=_probs(raw["gender_probs"], "gender_probs", path),
            education_probs=_probs(raw["education_probs"], "education_probs", path),
            party_member_prob_by_role={int(k): float(v) for k, v in raw["party_member_prob_by_role"].items()},
            years={k: float(v) for k, v in raw["years"].items()},
            response=response,
            fieldwork=(_dt.date.fromisoformat(str(fw["start"])), _dt.date.fromisoformat(str(fw["end"]))),
            source=str(path),
            moderation=moderation,
            community_households={k: float(v) for k, v in (raw.get("community_households") or {}).items()},
        )
    except KeyError as exc:
        raise InputError(f"required key {exc.args[0]!r} is missing", file=path) from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"a value has the wrong type: {exc}", file=path) from None
    pop._disturbances  # noqa: B018  (check admissibility now)
    return pop


# ----------------------------------------------------------------------
# The planted configurational truth (section ``configurational:``)
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class ConfigurationalTruth:
    """A community-level world in which resilience follows a configuration.

    Read from the ``configurational:`` section of the population model by
    :func:`load_configurational`.  It is a separate world, used only by the
    configurational chapter to show that fsQCA recovers a planted solution;
    the individual-level model (:class:`Population`) and the main synthetic
    sample never read it.

    Attributes
    ----------
    communities : int
        Communities simulated.
    respondents : tuple of int
        ``(low, high)``: respondents per community, uniform integers.
    solution : tuple of tuple of str
        The planted sufficient terms; a term is a tuple of literals
        (condition codes, ``"~X"`` for the absence of X).
    leadership_share : float
        Share of the variance of each condition's community value due to
        Party leadership (PL); the rest is independent across conditions.
    outcome_noise : float
        Standard deviation of the community noise added to the outcome.
    between_share : float
        Share of every latent variable's variance that lies between
        communities in this world.

    Notes
    -----
    With standardized community values :math:`z_{jX}` of the conditions,
    the community value of the outcome is the fuzzy-set value of the planted
    expression plus noise,

    .. math::
        z_{j,CR} = \\max_{t}\\; \\min_{X \\in t} \\pm z_{jX} + \\sigma\\,e_j,

    (``max`` = OR over terms, ``min`` = AND within a term, ``-z`` for a
    negated literal), the rule of fuzzy-set membership in a sum of products
    (Ragin 2008, ch. 2).
    """

    communities: int
    respondents: tuple[int, int]
    solution: tuple[tuple[str, ...], ...]
    leadership_share: float
    outcome_noise: float
    between_share: float
    source: str = field(default="", compare=False)

    @property
    def expression(self) -> str:
        """The planted solution in QCA's notation (``"GRID*RES + ORG*LIST"``)."""
        return " + ".join("*".join(term) for term in self.solution)

    @property
    def conditions(self) -> list[str]:
        """Condition codes the planted solution names (negation dropped), in order of appearance."""
        return list(dict.fromkeys(lit.lstrip("~") for term in self.solution for lit in term))

    def to_dict(self) -> dict:
        """The truth as plain data (for ``planted.json``)."""
        return {"communities": self.communities, "respondents_low": self.respondents[0],
                "respondents_high": self.respondents[1],
                "solution": self.expression, "terms": ["*".join(t) for t in self.solution],
                "leadership_share": self.leadership_share, "outcome_noise": self.outcome_noise,
                "between_share": self.between_share}


def _parse_term(text: str, path) -> tuple[str, ...]:
    lits = tuple(s.strip() for s in str(text).split("*"))
    if not lits or any(not lit or not lit.lstrip("~") for lit in lits):
        raise InputError(f"configurational.solution: term {text!r} is not a conjunction like 'GRID*RES'", file=path)
    names = [lit.lstrip("~") for lit in lits]
    if len(set(names)) != len(names):
        raise InputError(f"configurational.solution: term {text!r} names a condition twice", file=path)
    return lits


def load_configurational(path=None) -> ConfigurationalTruth:
    """Read the planted configurational truth (the ``configurational:`` section).

    Parameters
    ----------
    path : path-like, optional
        Defaults to ``paths.DEFAULT.population_model``.

    Returns
    -------
    ConfigurationalTruth

    Raises
    ------
    InputError
        If the section is missing or a value is inadmissible (a share
        outside [0, 1), fewer than 2 respondents per community, a malformed
        term).

    Examples
    --------
    >>> truth = load_configurational()
    >>> truth.expression
    'GRID*RES + ORG*LIST'
    """
    path = Path(path) if path is not None else paths.DEFAULT.population_model
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("population model not found", file=path) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=path) from None
    section = raw.get("configurational") if isinstance(raw, dict) else None
    if not isinstance(section, dict):
        raise InputError("section 'configurational' is missing", file=path)
    try:
        terms = section["solution"]
        if isinstance(terms, str):
            terms = terms.split("+")
        solution = tuple(_parse_term(t, path) for t in terms)
        low, high = (int(v) for v in section["respondents"])
        truth = ConfigurationalTruth(
            communities=int(section["communities"]),
            respondents=(low, high),
            solution=solution,
            leadership_share=float(section["leadership_share"]),
            outcome_noise=float(section["outcome_noise"]),
            between_share=float(section["between_share"]),
            source=str(path),
        )
    except KeyError as exc:
        raise InputError(f"configurational: required key {exc.args[0]!r} is missing", file=path) from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"configurational: a value has the wrong type: {exc}", file=path) from None
    if not solution:
        raise InputError("configurational.solution names no term", file=path)
    if truth.communities < 4 or not 2 <= low <= high:
        raise InputError("configurational: need at least 4 communities and 2 <= respondents low <= high", file=path)
    for name in ("leadership_share", "between_share"):
        if not 0.0 <= getattr(truth, name) < 1.0:
            raise InputError(f"configurational.{name} must lie in [0, 1)", file=path)
    if truth.between_share == 0.0 or truth.outcome_noise < 0.0:
        raise InputError("configurational: between_share must be positive and outcome_noise non-negative", file=path)
    return truth
