"""The survey instrument: the one loader, typed objects, checks, scoring and SEM syntax.

``survey/instrument.yaml`` is read only here.  :func:`load_instrument` turns
it into an :class:`Instrument` (frozen dataclasses all the way down);
:func:`check_instrument` applies the rules documented in
``survey/README.md`` and returns a list of :class:`Violation`;
:meth:`Instrument.score` recodes reverse-keyed items and
:meth:`Instrument.model_syntax` writes the measurement and structural models
in lavaan's language.

Examples
--------
>>> ins = load_instrument()
>>> len(ins.constructs), len(ins.items), ins.item_codes("PL")
(12, 53, ['PL1', 'PL2', 'PL3', 'PL4'])
>>> [v.rule for v in check_instrument(seed_dir="/no/such/folder")]  # every rule but the quotes passes
['quote']
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis import paths
from analysis.errors import InputError
from analysis.study.seed import SECTIONS, read_seed

__all__ = [
    "ScaleLabel", "Scale", "Item", "Construct", "SecondOrder", "AttentionCheck", "Choice",
    "ContextVariable", "Consent", "Pathway", "Instrument", "Violation", "RULES",
    "load_instrument", "check_instrument", "halfwidth_punctuation",
]

#: The rules :func:`check_instrument` applies (name -> what it demands).
RULES = {
    "quote": "the seed quote occurs verbatim (whitespace and punctuation width aside) in the named section of the seed article",
    "min_items": "every first-order construct has at least 3 items",
    "translation": "every text has both a Chinese (zh) and an English (en) version",
    "unique_code": "every code (construct, item, attention check, context variable) is unique",
    "reverse_flag": "negative wording (a polarity marker in the text) <=> polarity: negative <=> reverse: true",
    "structure": "references resolve (parents, children, sections, codes) and values are well-formed",
    "punctuation": "Chinese text uses full-width punctuation (，：；！？（）), never , : ; ! ? ( ) next to a Chinese character",
}


# ---------------------------------------------------------------------------
# typed objects
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ScaleLabel:
    """One point of the response scale."""

    value: int
    zh: str
    en: str


@dataclass(frozen=True)
class Scale:
    """The agreement scale shared by all Likert items (``points`` = 5).

    ``dont_know`` is the answer offered beside the points on the items that
    flag it (:attr:`Item.dont_know`): its code lies outside ``1..points`` and
    is read as missing by design.
    """

    points: int
    labels: tuple
    dont_know: ScaleLabel | None = None

    @property
    def values(self) -> list[int]:
        """The admissible answers, ``[1, ..., points]``."""
        return list(range(1, self.points + 1))

    def label(self, value: int, lang: str = "zh") -> str:
        """The label of ``value`` in ``lang`` (``"zh"`` or ``"en"``); the don't-know code included."""
        for lab in self.labels + ((self.dont_know,) if self.dont_know is not None else ()):
            if lab.value == value:
                return getattr(lab, lang)
        raise ValueError(f"{value!r} is not a point of the {self.points}-point scale")


@dataclass(frozen=True)
class Item:
    """A Likert item: a statement rated on the agreement scale.

    ``polarity`` is the direction of the wording (``"positive"`` or
    ``"negative"``); ``reverse`` says the item is scored ``points + 1 - x``.
    The two must agree (rule ``reverse_flag``).  ``dont_know`` says the item
    offers the scale's don't-know answer (:attr:`Scale.dont_know`);
    ``split_from`` names the version-1 item whose double-barrelled statement
    this item is one half of.
    """

    code: str
    construct: str
    text_zh: str
    text_en: str
    reverse: bool
    seed_section: str
    seed_quote: str
    polarity: str = "positive"
    dont_know: bool = False
    split_from: str | None = None


@dataclass(frozen=True)
class Construct:
    """A first-order construct (factor) and its items, in questionnaire order."""

    code: str
    name_zh: str
    name_en: str
    pathway: str
    parent: str | None
    items: tuple = ()


@dataclass(frozen=True)
class SecondOrder:
    """A second-order factor measured by first-order constructs (``children``)."""

    code: str
    name_zh: str
    name_en: str
    children: tuple = ()


@dataclass(frozen=True)
class AttentionCheck:
    """An instructed-response item: the attentive answer is ``correct``."""

    code: str
    text_zh: str
    text_en: str
    correct: int
    after: str | None = None


@dataclass(frozen=True)
class Choice:
    """One answer option of a categorical context variable."""

    value: int
    zh: str
    en: str


@dataclass(frozen=True)
class ContextVariable:
    """A respondent or community variable (``kind``: text, categorical, integer)."""

    code: str
    label_zh: str
    label_en: str
    kind: str
    choices: tuple = ()
    min: int | None = None
    max: int | None = None
    required: bool = True
    pattern: str | None = None
    hint_zh: str | None = None
    hint_en: str | None = None
    part: str = "respondent"


@dataclass(frozen=True)
class Consent:
    """The informed-consent statement and the consent question."""

    code: str
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    agree_zh: str
    agree_en: str
    decline_zh: str
    decline_en: str


@dataclass(frozen=True)
class Pathway:
    """A section of the seed article (a path it proposes)."""

    section: str
    title_zh: str
    title_en: str


@dataclass(frozen=True)
class Violation:
    """A broken rule of the instrument: which file, which item, which rule."""

    file: str
    item: str
    rule: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.item}: rule '{self.rule}': {self.message}"


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Instrument:
    """The survey instrument as loaded from ``survey/instrument.yaml``.

    Attributes
    ----------
    path : pathlib.Path
    meta : dict
        Title, version, seed reference.
    scale : Scale
    constructs : list of Construct
        The 12 first-order constructs, questionnaire order.
    second_order : list of SecondOrder
    attention_check : AttentionCheck
    context : list of ContextVariable
    consent : Consent
    pathways : list of Pathway
    markers_zh, markers_en : tuple of str
        Wording markers of negative polarity.
    lines : dict
        ``code -> line`` in the YAML file (first occurrence), for messages.
    """

    path: Path
    meta: dict
    scale: Scale
    constructs: list
    second_order: list
    attention_check: AttentionCheck
    context: list
    consent: Consent
    pathways: list
    markers_zh: tuple = ()
    markers_en: tuple = ()
    lines: dict = field(default_factory=dict)

    # ----- look-ups ---------------------------------------------------------
    @property
    def items(self) -> list[Item]:
        """All Likert items in questionnaire order (the attention check excluded)."""
        return [it for c in self.constructs for it in c.items]

    @property
    def reverse_codes(self) -> list[str]:
        """Codes of the reverse-keyed items."""
        return [it.code for it in self.items if it.reverse]

    @property
    def dont_know_codes(self) -> list[str]:
        """Codes of the items that offer the don't-know answer, in questionnaire order."""
        return [it.code for it in self.items if it.dont_know]

    @property
    def context_codes(self) -> list[str]:
        """Codes of the context variables, in questionnaire order."""
        return [v.code for v in self.context]

    def construct(self, code: str) -> Construct:
        """The first-order construct ``code``."""
        for c in self.constructs:
            if c.code == code:
                return c
        raise ValueError(f"no first-order construct {code!r}; known: {[c.code for c in self.constructs]}")

    def item(self, code: str) -> Item:
        """The Likert item ``code``."""
        for it in self.items:
            if it.code == code:
                return it
        raise ValueError(f"no item {code!r} in the instrument")

    def item_codes(self, construct: str | None = None) -> list[str]:
        """Item codes, all or of one construct.

        Parameters
        ----------
        construct : str, optional
            A first-order construct (``"PL"``) or a second-order factor
            (``"CR"``: the items of its children).  ``None``: all Likert items
            (the attention check is not a Likert item of any construct).

        Returns
        -------
        list of str
        """
        if construct is None:
            return [it.code for it in self.items]
        for so in self.second_order:
            if so.code == construct:
                return [code for child in so.children for code in self.item_codes(child)]
        return [it.code for it in self.construct(construct).items]

    # ----- scoring ------------------------------------------------------------
    def score(self, df: pd.DataFrame) -> pd.DataFrame:
        """Recode reverse-keyed items so that high always means more of the construct.

        Parameters
        ----------
        df : pandas.DataFrame
            Responses with item columns coded 1..``points`` (NaN = missing).
            Reverse-keyed columns absent from ``df`` are skipped.

        Returns
        -------
        pandas.DataFrame
            A copy with each reverse-keyed item ``x`` replaced by
            ``points + 1 - x`` (as float, NaN kept); other columns unchanged.

        Raises
        ------
        ValueError
            When a reverse-keyed column holds a value outside 1..``points``.

        Notes
        -----
        For a k-point scale the reversed score is :math:`x^* = (k + 1) - x`,
        which maps 1 <-> k and keeps the midpoint ([1]_, p. 83).

        References
        ----------
        .. [1] DeVellis, R. F. (2017). *Scale development: Theory and
           applications* (4th ed.). Sage.

        Examples
        --------
        >>> ins = load_instrument()
        >>> ins.score(pd.DataFrame({"INT4": [1, 5, None], "INT1": [1, 5, 2]}))["INT4"].tolist()
        [5.0, 1.0, nan]
        """
        out = df.copy()
        k = self.scale.points
        for code in self.reverse_codes:
            if code not in out.columns:
                continue
            x = pd.to_numeric(out[code], errors="coerce").astype(float)
            bad = x.notna() & ~x.isin([float(v) for v in self.scale.values])
            bad |= out[code].notna() & x.isna()
            if bad.any():
                first = out.index[bad.to_numpy()][0]
                raise ValueError(
                    f"item {code}: value {out.loc[first, code]!r} (row index {first!r}) is not a point "
                    f"of the {k}-point scale 1..{k}; clean the data before scoring"
                )
            out[code] = (k + 1) - x
        return out

    # ----- SEM syntax -----------------------------------------------------------
    def model_syntax(self, kind: str = "measurement", direct: bool = True, serial: bool = False,
                     controls=()) -> str:
        """The measurement or structural model in lavaan's syntax.

        Parameters
        ----------
        kind : {"measurement", "structural"}
            ``measurement``: the 12 first-order factors and the 4 second-order
            factors as a CFA.  ``structural``: the same measurement part plus
            ``PL -> GRID, RES, ORG, LIST -> CR`` with labelled paths.
        direct : bool, default True
            Include the direct path ``CR ~ c*PL`` (structural only).
        serial : bool, default False
            Add ``RES/ORG/LIST ~ d2/d3/d4*GRID`` (grid governance as the
            foundation, seed section 一 总抓手) and the serial indirect
            effects ``ser_GRID_<M> := a1*d<j>*b<j>``.
        controls : sequence of str, default ()
            Observed covariates regressed into CR (``CR ~ ... + age_band``);
            each must be a plain column name.

        Returns
        -------
        str
            lavaan model syntax ending with a newline.

        Notes
        -----
        Paths: :math:`M_j = a_j PL + \\zeta_j` for :math:`M = (GRID, RES,
        ORG, LIST)`, :math:`CR = \\sum_j b_j M_j + c\\,PL + \\zeta_{CR}`.
        Defined effects: ``ind_M := a_j*b_j`` (the product-of-coefficients
        indirect effect [1]_), ``total_indirect`` their sum (plus serial
        terms), ``total := c + total_indirect`` and pairwise contrasts
        ``diff_M1_M2 := a_1*b_1 - a_2*b_2`` [2]_.  Every ``:=`` is written in
        labels only (no reference to other defined parameters).  Mediator
        residual covariances are freed with explicit ``~~`` lines (lavaan's
        ``sem()`` would fix covariances among endogenous latents to 0);
        with ``serial=True`` the GRID residual is not correlated with the
        residuals of the mediators it predicts (that would not be identified).

        References
        ----------
        .. [1] Preacher, K. J., & Hayes, A. F. (2008). Asymptotic and
           resampling strategies for assessing and comparing indirect effects
           in multiple mediator models. *Behavior Research Methods*, 40(3),
           879-891.
        .. [2] Rosseel, Y. (2012). lavaan: An R package for structural
           equation modeling. *Journal of Statistical Software*, 48(2), 1-36.

        Examples
        --------
        >>> s = load_instrument().model_syntax("structural")
        >>> "CR ~ b1*GRID + b2*RES + b3*ORG + b4*LIST + c*PL" in s
        True
        """
        if kind not in ("measurement", "structural"):
            raise ValueError(f"kind must be 'measurement' or 'structural', not {kind!r}")
        if isinstance(controls, str):
            controls = (controls,)
        controls = tuple(controls)
        for ctl in controls:
            if not isinstance(ctl, str) or not _IDENT.match(ctl):
                raise ValueError(f"control {ctl!r} is not a plain column name (letters, digits, _)")
        lines = ["# Measurement model: first-order factors (reverse-keyed items already recoded)"]
        for c in self.constructs:
            lines.append(f"{c.code} =~ " + " + ".join(it.code for it in c.items))
        lines.append("# Second-order factors")
        for so in self.second_order:
            lines.append(f"{so.code} =~ " + " + ".join(so.children))
        if kind == "measurement":
            return "\n".join(lines) + "\n"

        med = ["GRID", "RES", "ORG", "LIST"]
        a = {m: f"a{j}" for j, m in enumerate(med, 1)}
        b = {m: f"b{j}" for j, m in enumerate(med, 1)}
        d = {m: f"d{j}" for j, m in enumerate(med, 1) if m != "GRID"}
        lines.append("# Structural model: PL -> mediators -> CR")
        for m in med:
            rhs = f"{a[m]}*PL"
            if serial and m != "GRID":
                rhs += f" + {d[m]}*GRID"
            lines.append(f"{m} ~ {rhs}")
        rhs = " + ".join(f"{b[m]}*{m}" for m in med)
        if direct:
            rhs += " + c*PL"
        if controls:
            rhs += " + " + " + ".join(controls)
        lines.append(f"CR ~ {rhs}")
        lines.append("# Mediator residual covariances: freed on purpose (lavaan sem() fixes")
        lines.append("# covariances among endogenous latents to 0 by default).")
        free = med[1:] if serial else med
        if serial:
            lines.append("# serial model: GRID predicts RES, ORG, LIST, so its residual stays uncorrelated with theirs.")
        for i, m in enumerate(free[:-1]):
            lines.append(f"{m} ~~ " + " + ".join(free[i + 1:]))
        lines.append("# Defined effects (labels only)")
        terms = []
        for m in med:
            term = f"{a[m]}*{b[m]}"
            lines.append(f"ind_{m} := {term}")
            terms.append(term)
        if serial:
            for m in med[1:]:
                term = f"{a['GRID']}*{d[m]}*{b[m]}"
                lines.append(f"ser_GRID_{m} := {term}")
                terms.append(term)
        lines.append("total_indirect := " + " + ".join(terms))
        lines.append("total := " + " + ".join((["c"] if direct else []) + terms))
        for i, m1 in enumerate(med):
            for m2 in med[i + 1:]:
                lines.append(f"diff_{m1}_{m2} := {a[m1]}*{b[m1]} - {a[m2]}*{b[m2]}")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------
class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A safe YAML loader that records the line of every mapping as ``__line__``."""


def _construct_mapping(loader, node, deep=False):
    mapping = yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _need(d, key, where, path, kind=None):
    if not isinstance(d, dict) or key not in d:
        line = d.get("__line__") if isinstance(d, dict) else None
        raise InputError(f"{where}: the required key {key!r} is missing" + (f" (line {line})" if line else ""),
                         file=path)
    value = d[key]
    if kind is not None and not isinstance(value, kind):
        raise InputError(f"{where}: {key!r} must be a {kind.__name__}, got {type(value).__name__}"
                         + (f" (line {d.get('__line__')})" if d.get("__line__") else ""), file=path)
    return value


def _int(value, where, path):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{where}: {value!r} must be an integer", file=path)
    return value


def load_instrument(path=None) -> Instrument:
    """Read ``survey/instrument.yaml`` into an :class:`Instrument`.

    Parameters
    ----------
    path : path-like, optional
        The YAML file; default :attr:`analysis.paths.Layout.instrument`.

    Returns
    -------
    Instrument

    Raises
    ------
    InputError
        When the file is missing, is not YAML, or lacks the structure the
        loader needs (a required key, a list where a list belongs).  Content
        rules (quotes, translations, duplicates, reverse flags) are not
        enforced here: :func:`check_instrument` reports them all at once.
    """
    path = Path(paths.DEFAULT.instrument if path is None else path)
    if not path.is_file():
        raise InputError("the instrument file does not exist", file=path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 (safe loader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}", file=path) from None
    if not isinstance(raw, dict):
        raise InputError("the instrument must be a YAML mapping (key: value) at top level", file=path)
    lines: dict[str, int] = {}

    def remember(code, d):
        if isinstance(d, dict) and "__line__" in d:
            lines.setdefault(code, d["__line__"])

    sc = _need(raw, "scale", "top level", path, dict)
    labels = tuple(
        ScaleLabel(_int(_need(lab, "value", "scale label", path), "scale label value", path),
                   _text(lab.get("zh")), _text(lab.get("en")))
        for lab in _need(sc, "labels", "scale", path, list)
    )
    dk = sc.get("dont_know")
    if dk is not None and not isinstance(dk, dict):
        raise InputError("scale.dont_know must be a mapping {value, zh, en}", file=path)
    dont_know = None if dk is None else ScaleLabel(
        _int(_need(dk, "value", "scale.dont_know", path), "scale.dont_know value", path),
        _text(dk.get("zh")), _text(dk.get("en")))
    scale = Scale(points=_int(_need(sc, "points", "scale", path), "scale.points", path), labels=labels,
                  dont_know=dont_know)

    pol = raw.get("polarity") or {}
    markers_zh = tuple(str(m) for m in (pol.get("markers_zh") or ()))
    markers_en = tuple(str(m) for m in (pol.get("markers_en") or ()))

    pathways = [Pathway(_text(_need(p, "section", "pathway", path)), _text(p.get("title_zh")), _text(p.get("title_en")))
                for p in raw.get("pathways") or ()]

    constructs = []
    for c in _need(raw, "constructs", "top level", path, list):
        code = _text(_need(c, "code", "construct", path))
        remember(code, c)
        items = []
        for it in _need(c, "items", f"construct {code}", path, list):
            icode = _text(_need(it, "code", f"an item of construct {code}", path))
            remember(icode, it)
            seed = it.get("seed") or {}
            if not isinstance(seed, dict):
                raise InputError(f"item {icode}: 'seed' must be a mapping with 'section' and 'quote'", file=path)
            extra = sorted(str(k) for k in seed if k not in ("section", "quote", "__line__"))
            if extra:
                raise InputError(f"item {icode}: 'seed' has unknown keys {extra} (line {seed.get('__line__')}); "
                                 "a half-width comma inside {...} ends the quote in YAML: write ，", file=path)
            flags = {}
            for key in ("reverse", "dont_know"):
                flags[key] = it.get(key, False)
                if not isinstance(flags[key], bool):
                    raise InputError(f"item {icode}: {key!r} must be true or false, got {flags[key]!r}", file=path)
            items.append(Item(
                code=icode, construct=code, text_zh=_text(it.get("zh")), text_en=_text(it.get("en")),
                reverse=flags["reverse"], seed_section=_text(seed.get("section")),
                seed_quote=_text(seed.get("quote")), polarity=_text(it.get("polarity")) or "positive",
                dont_know=flags["dont_know"], split_from=_text(it.get("split_from")) or None,
            ))
        constructs.append(Construct(code=code, name_zh=_text(c.get("name_zh")), name_en=_text(c.get("name_en")),
                                    pathway=_text(c.get("pathway")), parent=_text(c.get("parent")) or None,
                                    items=tuple(items)))

    second = []
    for so in raw.get("second_order") or ():
        code = _text(_need(so, "code", "second-order factor", path))
        remember(code, so)
        children = _need(so, "children", f"second-order factor {code}", path, list)
        second.append(SecondOrder(code, _text(so.get("name_zh")), _text(so.get("name_en")),
                                  tuple(_text(ch) for ch in children)))

    at = _need(raw, "attention_check", "top level", path, dict)
    acode = _text(_need(at, "code", "attention_check", path))
    remember(acode, at)
    attention = AttentionCheck(acode, _text(at.get("zh")), _text(at.get("en")),
                               _int(_need(at, "correct", "attention_check", path), "attention_check.correct", path),
                               _text(at.get("after")) or None)

    context = []
    for v in _need(raw, "context", "top level", path, list):
        code = _text(_need(v, "code", "context variable", path))
        remember(code, v)
        choices = tuple(Choice(_int(_need(ch, "value", f"a choice of {code}", path), f"choice of {code}", path),
                               _text(ch.get("zh")), _text(ch.get("en")))
                        for ch in v.get("choices") or ())
        required = v.get("required", True)
        if not isinstance(required, bool):
            raise InputError(f"context variable {code}: 'required' must be true or false", file=path)
        context.append(ContextVariable(
            code=code, label_zh=_text(v.get("label_zh")), label_en=_text(v.get("label_en")),
            kind=_text(_need(v, "kind", f"context variable {code}", path)), choices=choices,
            min=v.get("min"), max=v.get("max"), required=required,
            pattern=v.get("pattern"), hint_zh=_text(v.get("hint_zh")) or None, hint_en=_text(v.get("hint_en")) or None,
            part=_text(v.get("part")) or "respondent",
        ))

    cs = _need(raw, "consent", "top level", path, dict)
    ccode = _text(cs.get("code")) or "consent"
    remember(ccode, cs)
    consent = Consent(ccode, *(_text(cs.get(k)) for k in (
        "title_zh", "title_en", "text_zh", "text_en", "agree_zh", "agree_en", "decline_zh", "decline_en")))

    meta = {k: v for k, v in (raw.get("meta") or {}).items() if k != "__line__"}
    return Instrument(path=path, meta=meta, scale=scale, constructs=constructs, second_order=second,
                      attention_check=attention, context=context, consent=consent, pathways=pathways,
                      markers_zh=markers_zh, markers_en=markers_en, lines=lines)


# ---------------------------------------------------------------------------
# checking
# ---------------------------------------------------------------------------
def check_instrument(path=None, seed_dir=None) -> list[Violation]:
    """Apply every rule of :data:`RULES` to the instrument.

    Parameters
    ----------
    path : path-like, optional
        The YAML file; default :attr:`analysis.paths.Layout.instrument`.
    seed_dir : path-like, optional
        Folder of the seed article; default :data:`analysis.paths.SEED_DIR`.
        When it (or the text in it) is absent, one ``quote`` violation says so
        and the other rules still run.

    Returns
    -------
    list of Violation
        Empty when the instrument is fine.  A file that cannot be loaded at
        all gives one ``structure`` violation.
    """
    path = Path(paths.DEFAULT.instrument if path is None else path)
    try:
        ins = load_instrument(path)
    except InputError as exc:
        return [Violation(str(path), "(file)", "structure", exc.message)]
    out: list[Violation] = []

    def add(item, rule, message):
        out.append(Violation(str(path), item, rule, message, ins.lines.get(item)))

    _check_unique(ins, add)
    _check_structure(ins, add)
    _check_min_items(ins, add)
    _check_translation(ins, add)
    _check_reverse(ins, add)
    _check_punctuation(ins, add)
    seed = read_seed(seed_dir)
    if seed is None:
        where = Path(paths.SEED_DIR if seed_dir is None else seed_dir)
        out.append(Violation(str(path), "(all items)", "quote",
                             f"the seed article is absent (no *.txt in {where}); quotes cannot be checked"))
    else:
        _check_quotes(ins, seed, add)
    return out


def _check_unique(ins, add):
    seen: dict[str, str] = {}
    entries = [(c.code, "construct") for c in ins.constructs]
    entries += [(so.code, "second-order factor") for so in ins.second_order]
    entries += [(it.code, "item") for it in ins.items]
    entries += [(ins.attention_check.code, "attention check")]
    entries += [(v.code, "context variable") for v in ins.context]
    entries += [(ins.consent.code, "consent question")]
    for code, what in entries:
        if code in seen:
            add(code, "unique_code", f"the code {code!r} ({what}) is already used by a {seen[code]}")
        else:
            seen[code] = what
    for v in ins.context:
        values = [ch.value for ch in v.choices]
        for dup in sorted({x for x in values if values.count(x) > 1}):
            add(v.code, "unique_code", f"choice value {dup} appears more than once")


def _check_structure(ins, add):
    first = {c.code for c in ins.constructs}
    second = {so.code: so for so in ins.second_order}
    sections = set(SECTIONS)
    for p in ins.pathways:
        if p.section not in sections:
            add(p.section, "structure", f"pathway section {p.section!r} is not one of {list(SECTIONS)}")
    for c in ins.constructs:
        if not _IDENT.match(c.code):
            add(c.code, "structure", "a construct code must be letters/digits (a lavaan name)")
        if c.pathway not in sections:
            add(c.code, "structure", f"pathway {c.pathway!r} is not a seed section {list(SECTIONS)}")
        if c.parent is not None and (c.parent not in second or c.code not in second[c.parent].children):
            add(c.code, "structure", f"parent {c.parent!r} is not a second-order factor listing {c.code} as a child")
        for it in c.items:
            if not re.fullmatch(re.escape(c.code) + r"[0-9]+", it.code):
                add(it.code, "structure", f"an item code of construct {c.code} must be {c.code}<n>")
    for so in ins.second_order:
        for ch in so.children:
            if ch not in first:
                add(so.code, "structure", f"child {ch!r} is not a first-order construct")
            elif ins.construct(ch).parent != so.code:
                add(so.code, "structure", f"child {ch} does not name {so.code} as its parent")
    if len(ins.scale.labels) != ins.scale.points or [lab.value for lab in ins.scale.labels] != ins.scale.values:
        add("scale", "structure", f"the scale needs labels for exactly the values 1..{ins.scale.points}")
    dk = ins.scale.dont_know
    if dk is not None and (dk.value in ins.scale.values or dk.value in (-2, -3)):
        add("scale", "structure", f"the don't-know code {dk.value} must lie outside the scale 1..{ins.scale.points} "
                                  "and differ from 问卷星's special codes -2 and -3")
    for it in ins.items:
        if it.dont_know and dk is None:
            add(it.code, "structure", "dont_know: true but the scale declares no dont_know answer")
        if it.split_from is not None and it.split_from not in ins.item_codes(it.construct):
            add(it.code, "structure", f"split_from {it.split_from!r} is not an item of construct {it.construct}")
    at = ins.attention_check
    if at.correct not in ins.scale.values:
        add(at.code, "structure", f"correct answer {at.correct} is not a point of the scale")
    if at.after is not None and at.after not in ins.item_codes():
        add(at.code, "structure", f"'after: {at.after}' does not name an item")
    for v in ins.context:
        if v.kind not in ("text", "categorical", "integer"):
            add(v.code, "structure", f"kind {v.kind!r} must be text, categorical or integer")
        if v.kind == "categorical" and not v.choices:
            add(v.code, "structure", "a categorical variable needs choices")
        if v.kind == "integer" and not (isinstance(v.min, int) and isinstance(v.max, int) and v.min < v.max):
            add(v.code, "structure", "an integer variable needs integer min < max")
        if v.pattern is not None:
            try:
                re.compile(v.pattern)
            except re.error as exc:
                add(v.code, "structure", f"pattern is not a regular expression: {exc}")
        if v.part not in ("community", "respondent"):
            add(v.code, "structure", f"part {v.part!r} must be community or respondent")


def _check_min_items(ins, add):
    for c in ins.constructs:
        if len(c.items) < 3:
            add(c.code, "min_items", f"construct {c.code} has {len(c.items)} item(s); at least 3 are needed")


def _check_translation(ins, add):
    def pair(code, what, zh, en):
        for lang, text in (("zh", zh), ("en", en)):
            if not text:
                add(code, "translation", f"{what}: the {lang} text is missing")

    for c in ins.constructs:
        pair(c.code, "construct name", c.name_zh, c.name_en)
        for it in c.items:
            pair(it.code, "item text", it.text_zh, it.text_en)
    for so in ins.second_order:
        pair(so.code, "second-order name", so.name_zh, so.name_en)
    at = ins.attention_check
    pair(at.code, "attention check text", at.text_zh, at.text_en)
    for lab in ins.scale.labels + ((ins.scale.dont_know,) if ins.scale.dont_know is not None else ()):
        pair(f"scale {lab.value}", "scale label", lab.zh, lab.en)
    for v in ins.context:
        pair(v.code, "label", v.label_zh, v.label_en)
        for ch in v.choices:
            pair(v.code, f"choice {ch.value}", ch.zh, ch.en)
        if (v.hint_zh is None) != (v.hint_en is None):
            pair(v.code, "hint", v.hint_zh, v.hint_en)
    cs = ins.consent
    pair(cs.code, "consent title", cs.title_zh, cs.title_en)
    pair(cs.code, "consent statement", cs.text_zh, cs.text_en)
    pair(cs.code, "consent 'agree' answer", cs.agree_zh, cs.agree_en)
    pair(cs.code, "consent 'decline' answer", cs.decline_zh, cs.decline_en)
    for p in ins.pathways:
        pair(p.section, "pathway title", p.title_zh, p.title_en)


def _markers(text, markers, lower=False):
    t = text.lower() if lower else text
    return [m for m in markers if (m.lower() if lower else m) in t]


def _check_reverse(ins, add):
    if not ins.markers_zh or not ins.markers_en:
        add("polarity", "reverse_flag", "the polarity markers (markers_zh, markers_en) must be listed")
    for it in ins.items:
        if it.polarity not in ("positive", "negative"):
            add(it.code, "reverse_flag", f"polarity {it.polarity!r} must be positive or negative")
            continue
        negative = it.polarity == "negative"
        if it.reverse != negative:
            add(it.code, "reverse_flag",
                f"polarity: {it.polarity} but reverse: {str(it.reverse).lower()}; "
                "a negatively worded item must be reverse-keyed and a positive one must not")
        for lang, text, markers in (("zh", it.text_zh, ins.markers_zh), ("en", it.text_en, ins.markers_en)):
            found = _markers(text, markers, lower=(lang == "en"))
            if found and not negative:
                add(it.code, "reverse_flag",
                    f"the {lang} wording is negative (contains {found[0]!r}) but the item is not "
                    "marked polarity: negative / reverse: true")
            if negative and text and not found:
                add(it.code, "reverse_flag",
                    f"polarity: negative but the {lang} wording has none of the negative markers {list(markers)}")


#: Half-width punctuation that Chinese text writes full-width, and its full-width form.
_FULL_WIDTH = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
#: A Chinese character or a CJK / full-width punctuation mark.
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def halfwidth_punctuation(text: str) -> list[str]:
    """Half-width punctuation next to a Chinese character, each shown in its context.

    Chinese text writes ``，：；！？（）``; a half-width ``, : ; ! ? ( )``
    with a Chinese character (or CJK punctuation) immediately before or after
    it is a typesetting slip.  Half-width marks between Latin letters or
    digits (``ZZ03``, ``18-29``, English text) are left alone.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str
        One entry per offending mark: up to three characters either side,
        the mark and its full-width form, e.g. ``'您好!我们 (! -> ！)'``.

    Examples
    --------
    >>> halfwidth_punctuation("您好!我们是课题组(联系人)。Hello, world!")
    ['您好!我们是 (! -> ！)', '课题组(联系人 (( -> （)', '联系人)。He () -> ）)']
    >>> halfwidth_punctuation("您好！编码 ZZ03, 18-29岁")
    []
    """
    out = []
    for i, ch in enumerate(text):
        if ch not in _FULL_WIDTH:
            continue
        prev = text[i - 1] if i else ""
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if (prev and _CJK.match(prev)) or (nxt and _CJK.match(nxt)):
            out.append(f"{text[max(0, i - 3):i + 4]} ({ch} -> {_FULL_WIDTH[ch]})")
    return out


def _strings(obj, owner):
    """Every string held by a loaded instrument object, with the code of the object that holds it."""
    if isinstance(obj, str):
        yield owner, obj
    elif isinstance(obj, (list, tuple)):
        for x in obj:
            yield from _strings(x, owner)
    elif isinstance(obj, dict):
        for k, x in obj.items():
            yield from _strings(x, owner if owner != "meta" else f"meta.{k}")
    elif hasattr(obj, "__dataclass_fields__"):
        code = getattr(obj, "code", None) or getattr(obj, "section", None) or owner
        for name in obj.__dataclass_fields__:
            if name not in ("path", "lines", "markers_en", "markers_zh"):
                yield from _strings(getattr(obj, name), code if name != "meta" else "meta")


def _check_punctuation(ins, add):
    for owner, text in _strings(ins, "(instrument)"):
        for hit in halfwidth_punctuation(text):
            add(owner, "punctuation", f"half-width punctuation in Chinese text: {hit}")


def _check_quotes(ins, seed, add):
    cr_children = {ch for so in ins.second_order if so.code == "CR" for ch in so.children}
    for it in ins.items:
        if not it.seed_quote:
            add(it.code, "quote", "no seed quote is given (seed: {section: ..., quote: ...})")
            continue
        if it.seed_section not in SECTIONS:
            add(it.code, "quote", f"seed section {it.seed_section!r} is not one of {list(SECTIONS)}")
            continue
        found = seed.find_quote(it.seed_quote)
        if not found:
            add(it.code, "quote", f"the quote {it.seed_quote!r} is not found in the seed article {seed.path.name}")
        elif it.seed_section not in found:
            add(it.code, "quote",
                f"the quote {it.seed_quote!r} is in section(s) {found} of the seed, not in {it.seed_section!r}")
        if it.construct in cr_children and it.seed_section != "opening":
            add(it.code, "quote", "a community-resilience (CR) item must quote the opening definition")
