"""Defined parameters (``:=``): safe evaluation and delta-method SEs.

The right-hand side of ``name := expression`` is parsed with :mod:`ast`
and evaluated from a whitelist only: numbers, parameter labels (and
lavaan's plabels such as ``.p3.``), earlier defined names, ``+ - * / **``,
unary minus and the functions ``sqrt, exp, log, abs``.  Nothing is passed
to ``eval``.

References
----------
.. [1] Sobel, M. E. (1982). Asymptotic confidence intervals for indirect
   effects in structural equation models. Sociological Methodology, 13,
   290-312 (the delta method for indirect effects).
.. [2] Rosseel, Y. (2012). lavaan: An R package for structural equation
   modeling. Journal of Statistical Software, 48(2), 1-36.
"""
from __future__ import annotations

import ast
import math
import re

import numpy as np

__all__ = ["DefinedParameters"]

_FUNCS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "abs": abs}
_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
           ast.Pow: lambda a, b: a ** b}


def _to_python(expr: str) -> str:
    # lavaan plabels (.p3.) and names with dots are not Python identifiers
    expr = expr.replace("^", "**")
    return re.sub(r"(?<![A-Za-z0-9_])(\.?[A-Za-z_][A-Za-z0-9_.]*)",
                  lambda m: "_N_" + m.group(1).replace(".", "_D_"), expr)


def _from_python(name: str) -> str:
    return name[3:].replace("_D_", ".")


class DefinedParameters:
    """Compiled ``:=`` definitions of a parameter table.

    Parameters
    ----------
    partable : pandas.DataFrame
        Needs ``op, lhs, rhs, free, ustart, label, plabel``.

    Notes
    -----
    For a defined parameter :math:`d = h(\\theta)` the delta method gives
    :math:`\\operatorname{Var}(\\hat d) = J V J^\\top` with :math:`J =
    \\partial h/\\partial\\theta^\\top` (central differences) and
    :math:`V` the covariance of :math:`\\hat\\theta` [1]_.
    """

    def __init__(self, partable):
        self.defs = []  # (name, compiled ast, line text)
        self.refs = {}  # name -> ("free", k) or ("fixed", value)
        for r in partable.itertuples(index=False):
            if r.op == ":=":
                continue
            ref = ("free", int(r.free) - 1) if r.free > 0 else ("fixed", float(r.ustart))
            if r.label and r.label not in self.refs:
                self.refs[r.label] = ref
            self.refs[r.plabel] = ref
        for r in partable.itertuples(index=False):
            if r.op != ":=":
                continue
            try:
                tree = ast.parse(_to_python(r.rhs), mode="eval")
            except SyntaxError as exc:
                raise ValueError(f"Defined parameter {r.lhs!r}: cannot read {r.rhs!r}.") from exc
            known = set(self.refs) | {d[0] for d in self.defs}
            self._check(tree.body, r.lhs, r.rhs, known)
            self.defs.append((r.lhs, tree.body, r.rhs))

    def _check(self, node, name, text, known):
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            self._check(node.left, name, text, known)
            self._check(node.right, name, text, known)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            self._check(node.operand, name, text, known)
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            pass
        elif isinstance(node, ast.Name):
            ref = _from_python(node.id)
            if ref not in known and ref not in _FUNCS:
                raise ValueError(
                    f"Defined parameter {name!r} := {text}: {ref!r} is not a parameter label."
                )
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and _from_python(node.func.id) in _FUNCS and len(node.args) == 1):
            self._check(node.args[0], name, text, known)
        else:
            raise ValueError(
                f"Defined parameter {name!r} := {text}: only numbers, labels, + - * / ^ "
                "and sqrt/exp/log/abs are allowed."
            )

    @property
    def names(self) -> list:
        """Names of the defined parameters, in order."""
        return [d[0] for d in self.defs]

    def _eval(self, node, env):
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](self._eval(node.left, env), self._eval(node.right, env))
        if isinstance(node, ast.UnaryOp):
            v = self._eval(node.operand, env)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return env[_from_python(node.id)]
        return _FUNCS[_from_python(node.func.id)](self._eval(node.args[0], env))

    def values(self, theta, overrides=None) -> np.ndarray:
        """Defined parameters at ``theta``.

        Parameters
        ----------
        theta : ndarray (q,)
        overrides : dict, optional
            Values used instead of the references' values (label -> value),
            e.g. standardized parameters.
        """
        env = {}
        for name, (kind, v) in self.refs.items():
            env[name] = float(theta[v]) if kind == "free" else v
        if overrides:
            env.update(overrides)
        out = []
        for name, node, _ in self.defs:
            try:
                val = float(self._eval(node, env))
            except (ZeroDivisionError, ValueError, OverflowError):
                val = float("nan")
            env[name] = val
            out.append(val)
        return np.asarray(out)

    def jacobian(self, theta) -> np.ndarray:
        """``d values / d theta`` (n_defined, q) by central differences, all columns at once."""
        from .montecarlo import defined_matrix

        theta = np.asarray(theta, float)
        q = len(theta)
        h = 1e-6 * np.maximum(1.0, np.abs(theta))
        vals = defined_matrix(self, np.vstack([theta + np.diag(h), theta - np.diag(h)]))
        return ((vals[:q] - vals[q:]) / (2 * h)[:, None]).T

    def vcov(self, theta, vcov) -> np.ndarray:
        """Delta-method covariance of the defined parameters."""
        j = self.jacobian(theta)
        return j @ vcov @ j.T
