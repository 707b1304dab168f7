"""The study model in semopy's syntax: the baseline of the benchmarks."""
from __future__ import annotations

import re


def semopy_syntax(syntax: str) -> str:
    """Drop what semopy 2.3 cannot read from lavaan syntax.

    ``:=`` lines and comments go, and parameter labels (``a1*PL``,
    ``c*PL``) are removed, leaving the same free parameters.
    """
    desc = "\n".join(l for l in syntax.splitlines() if ":=" not in l and not l.strip().startswith("#"))
    return re.sub(r"\b[a-z]\d\*", "", desc).replace("c*PL", "PL")
