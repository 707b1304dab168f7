"""Parse lavaan model syntax into a list of formula rows.

Only the *reading* of the text happens here; defaults (fixed first
loadings, residual variances, ...) are added by
:func:`analysis.sem.partable.build_partable`.

Supported: operators ``=~ ~ ~~ ~1 := |`` (and ``==`` between labels),
``+`` lists, comments (``#`` or ``!``), statements separated by newlines or
``;``, formulas continued over several lines, and modifiers before a
variable joined by ``*``: a label (``a*x``), a fixed value (``1*x``,
``0*x``), ``NA*x`` (free), per-group vectors ``c(a, b)*x`` /
``c(1, NA)*x``, ``start(0.5)*x``, ``label("a")*x`` and ``equal("a")*x``.
Two-level models: the block headers ``level: 1`` (or ``level: within``) and
``level: 2`` (``level: between``) set the level of the formulas that follow
(:attr:`Formula.level`; 0 when the syntax has no level blocks).

References
----------
.. [1] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36 (section 4, the
   model syntax).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Formula", "Modifier", "parse_syntax", "parse_parameter", "OPERATORS", "LEVEL_NAMES"]

#: Operators recognised, longest first (the order in which they are tried).
OPERATORS = ("=~", "~~", ":=", "==", "<~", "~", "|", "<", ">")

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
#: lavaan's observed product term ``x:w`` (the product of the columns, computed from the data).
PRODUCT = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*(:[A-Za-z_.][A-Za-z0-9_.]*)+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_HEADER = re.compile(r"^(level|group|class)\s*:\s*(.*)$", flags=re.I)
#: Accepted labels of ``level:`` headers and the level they mean.
LEVEL_NAMES = {"1": 1, "within": 1, "2": 2, "between": 2}


@dataclass
class Modifier:
    """What precedes a variable in a formula term.

    Attributes
    ----------
    fixed : list of (float or None)
        Per-group fixed values (None = free); a single element applies to
        every group. Empty when no value was given.
    label : list of str
        Per-group labels ("" = none); one element applies to every group.
    start : list of (float or None)
        Per-group starting values.
    free : list of bool
        Per-group flags "explicitly freed with NA".
    """

    fixed: list = field(default_factory=list)
    label: list = field(default_factory=list)
    start: list = field(default_factory=list)
    free: list = field(default_factory=list)


@dataclass
class Formula:
    """One ``lhs op rhs`` element of the syntax.

    Attributes
    ----------
    lhs, op, rhs : str
        As lavaan's parameter table spells them (``y ~ 1`` becomes
        ``lhs="y", op="~1", rhs=""``).
    modifier : Modifier
    line : int
        1-based line of the model text where the formula starts.
    level : int
        1 (within) or 2 (between) under a ``level:`` header; 0 when the
        syntax has no level blocks.  ``:=`` and ``==`` rows keep the level
        they were written under but apply to the whole model (as lavaan).
    """

    lhs: str
    op: str
    rhs: str
    modifier: Modifier
    line: int
    level: int = 0


def _strip_comment(line: str) -> str:
    out = []
    quote = None
    for ch in line:
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "#!":
            break
        out.append(ch)
    return "".join(out)


def _split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` outside parentheses and quotes."""
    parts, depth, quote, cur = [], 0, None, []
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur.append(ch)
        elif ch == "(":
            depth += 1
            cur.append(ch)
        elif ch == ")":
            depth -= 1
            cur.append(ch)
        elif depth == 0 and text.startswith(sep, i):
            parts.append("".join(cur))
            cur = []
            i += len(sep)
            continue
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def _find_operator(stmt: str):
    """Return (op, position) of the first top-level operator, or None."""
    depth = 0
    quote = None
    i = 0
    while i < len(stmt):
        ch = stmt[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            for op in OPERATORS:
                if stmt.startswith(op, i):
                    return op, i
        i += 1
    return None


def _statements(model: str):
    """Yield (statement, first line number) with continuation lines joined."""
    pieces = []
    for lineno, raw in enumerate(model.splitlines(), start=1):
        for part in _split_top(_strip_comment(raw), ";"):
            part = part.strip()
            if part:
                pieces.append((part, lineno))
    merged: list[list] = []
    for text, lineno in pieces:
        if merged:
            prev = merged[-1][0]
            prev_open = prev.endswith(("+", "*", ",", "(")) or any(
                prev.endswith(op) for op in OPERATORS)
            starts_cont = text.startswith(("+", "*", ")", ","))
            if prev_open or starts_cont:
                merged[-1][0] = prev + " " + text
                continue
        merged.append([text, lineno])
    return merged


def _parse_value(tok: str, line: int, what: str):
    tok = tok.strip()
    if tok in ("NA", "NaN"):
        return ("free", None)
    if _NUMBER.match(tok):
        return ("fixed", float(tok))
    if len(tok) >= 2 and tok[0] == tok[-1] and tok[0] in "\"'":
        return ("label", tok[1:-1])
    if _NAME.match(tok):
        return ("label", tok)
    raise ValueError(f"Model syntax, line {line}: cannot read {what} {tok!r}.")


def _parse_modifier(mods: list[str], line: int) -> Modifier:
    m = Modifier()
    for raw in mods:
        tok = raw.strip()
        if not tok:
            raise ValueError(f"Model syntax, line {line}: empty modifier before '*'.")
        call = re.match(r"^([A-Za-z_.]+)\s*\((.*)\)$", tok, flags=re.S)
        if call:
            fname, inner = call.group(1), call.group(2)
            args = [a.strip() for a in _split_top(inner, ",")] if inner.strip() else []
            if fname == "c":
                vals = [_parse_value(a, line, "modifier") for a in args]
                kinds = {k for k, _ in vals}
                if kinds <= {"label"}:
                    m.label = [v for _, v in vals]
                else:
                    if "label" in kinds:
                        raise ValueError(
                            f"Model syntax, line {line}: c(...) mixes labels and values.")
                    m.fixed = [v for _, v in vals]
                    m.free = [k == "free" for k, _ in vals]
                continue
            if fname in ("start",):
                m.start = [_parse_value(a, line, "start value")[1] for a in args]
                continue
            if fname in ("label", "equal"):
                m.label = [_parse_value(a, line, "label")[1] for a in args]
                continue
            raise ValueError(
                f"Model syntax, line {line}: unknown modifier function {fname}()."
            )
        kind, val = _parse_value(tok, line, "modifier")
        if kind == "label":
            m.label = [val]
        else:
            m.fixed = [val]
            m.free = [kind == "free"]
    return m


def _check_name(name: str, line: int, side: str, product: bool = False) -> str:
    if product and PRODUCT.match(name):
        return name
    if not _NAME.match(name):
        raise ValueError(
            f"Model syntax, line {line}: {name!r} is not a valid variable name ({side})."
        )
    return name


def parse_syntax(model: str) -> list[Formula]:
    """Read lavaan model syntax.

    Parameters
    ----------
    model : str
        The model text.

    Returns
    -------
    list of Formula
        One element per ``lhs op rhs`` pair, in the order written.

    Raises
    ------
    ValueError
        For text that is not lavaan syntax; the message names the line.

    Examples
    --------
    >>> [(f.lhs, f.op, f.rhs) for f in parse_syntax("f =~ x1 + a*x2; x1 ~~ x2")]
    [('f', '=~', 'x1'), ('f', '=~', 'x2'), ('x1', '~~', 'x2')]
    >>> [(f.lhs, f.level) for f in parse_syntax("level: 1\\n fw =~ y1 + y2\\nlevel: 2\\n fb =~ y1 + y2")]
    [('fw', 1), ('fw', 1), ('fb', 2), ('fb', 2)]
    """
    if not isinstance(model, str) or not model.strip():
        raise ValueError("The model syntax is empty.")
    out: list[Formula] = []
    statements = _statements(model)
    if not statements:
        raise ValueError("The model syntax is empty (only comments or blank lines).")
    level = 0
    seen_levels: list[int] = []
    for stmt, line in statements:
        header = _HEADER.match(stmt)
        if header and _find_operator(stmt) is None:
            kind, value = header.group(1).lower(), header.group(2).strip()
            if kind != "level":
                raise ValueError(
                    f"Model syntax, line {line}: '{kind}:' blocks are not supported "
                    "(use the group= argument for multigroup models).")
            if value.lower() not in LEVEL_NAMES:
                raise ValueError(
                    f"Model syntax, line {line}: unknown level {value!r}; write 'level: 1' "
                    "(within) or 'level: 2' (between).")
            level = LEVEL_NAMES[value.lower()]
            if level in seen_levels:
                raise ValueError(f"Model syntax, line {line}: 'level: {value}' appears twice.")
            if not seen_levels and out:
                raise ValueError(f"Model syntax, line {line}: with level blocks, every formula "
                                 "must follow a 'level:' line (the first is above it).")
            seen_levels.append(level)
            continue
        found = _find_operator(stmt)
        if found is None:
            raise ValueError(
                f"Model syntax, line {line}: no operator (=~, ~, ~~, :=) in {stmt!r}."
            )
        op, pos = found
        lhs_text = stmt[:pos].strip()
        rhs_text = stmt[pos + len(op):].strip()
        if not lhs_text or not rhs_text:
            raise ValueError(
                f"Model syntax, line {line}: {stmt!r} needs something on both sides of {op!r}."
            )
        if op == ":=":
            out.append(Formula(_check_name(lhs_text, line, "left of :="), ":=",
                               re.sub(r"\s+", "", rhs_text), Modifier(), line, level))
            continue
        if op in ("==", "<", ">"):
            if op != "==":
                raise ValueError(
                    f"Model syntax, line {line}: inequality constraints are not supported.")
            out.append(Formula(lhs_text, "==", rhs_text, Modifier(), line, level))
            continue
        if op == "<~":
            raise ValueError(f"Model syntax, line {line}: formative '<~' is not supported.")
        lhs_names = [s.strip() for s in _split_top(lhs_text, "+")]
        terms = [t.strip() for t in _split_top(rhs_text, "+")]
        if any(not t for t in terms):
            raise ValueError(f"Model syntax, line {line}: empty term in {stmt!r}.")
        for lhs in lhs_names:
            _check_name(lhs, line, "left-hand side", product=op == "~~")
            for term in terms:
                pieces = [p.strip() for p in _split_top(term, "*")]
                var = pieces[-1]
                mod = _parse_modifier(pieces[:-1], line)
                if op == "~" and var == "1":
                    out.append(Formula(lhs, "~1", "", mod, line, level))
                    continue
                if op == "|":
                    if not re.match(r"^t\d+$", var):
                        raise ValueError(
                            f"Model syntax, line {line}: thresholds are written t1, t2, ... (got {var!r}).")
                    out.append(Formula(lhs, "|", var, mod, line, level))
                    continue
                _check_name(var, line, "right-hand side", product=op in ("~", "~~"))
                out.append(Formula(lhs, op, var, mod, line, level))
    return out


def parse_parameter(text: str) -> tuple:
    """Read one parameter written as lavaan names it, e.g. in ``group.partial``.

    Parameters
    ----------
    text : str
        ``"visual =~ x2"``, ``"x3 ~ 1"`` (or ``"x3~1"``), ``"x1 ~~ x1"``,
        ``"textual ~ visual"``, ``"x1 | t1"``.  White space is ignored, as
        lavaan strips it from ``group.partial``.

    Returns
    -------
    tuple of str
        ``(lhs, op, rhs)`` as the parameter table spells them (an intercept
        or mean is ``(name, "~1", "")``).

    Raises
    ------
    ValueError
        When ``text`` is not a single parameter (no operator, ``:=``, ``==``,
        a ``+`` list or a modifier such as ``a*x2``).

    Examples
    --------
    >>> parse_parameter("visual =~ x2"), parse_parameter("x3 ~ 1")
    (('visual', '=~', 'x2'), ('x3', '~1', ''))
    """
    if not isinstance(text, str):
        raise ValueError(f"A parameter must be written as text such as 'visual =~ x2', not {text!r}.")
    stmt = re.sub(r"\s+", "", text)
    found = _find_operator(stmt) if stmt else None
    hint = "write one parameter such as 'visual =~ x2', 'x3 ~ 1' or 'x1 ~~ x1'"
    if found is None:
        raise ValueError(f"Cannot read the parameter {text!r}: no operator (=~, ~, ~~, |); {hint}.")
    op, pos = found
    lhs, rhs = stmt[:pos], stmt[pos + len(op):]
    if op not in ("=~", "~~", "~", "|"):
        raise ValueError(f"Cannot read the parameter {text!r}: {op!r} does not name a parameter; {hint}.")
    if op == "~" and rhs == "1":
        op, rhs = "~1", ""
    if op == "|":
        ok = bool(_NAME.match(lhs)) and bool(re.match(r"^t\d+$", rhs))
    else:
        ok = bool(_NAME.match(lhs)) and (op == "~1" or bool(_NAME.match(rhs)))
    if not ok:
        raise ValueError(f"Cannot read the parameter {text!r}: {hint} (one variable on each side, "
                         "no labels, values or '+').")
    return lhs, op, rhs
