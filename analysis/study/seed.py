"""Locate and read the seed article, and find quotes in it.

The seed article (a Chinese newspaper essay) is a read-only input that lives
*beside* the repository (:data:`analysis.paths.SEED_DIR`).  Nothing here
copies it; the instrument only quotes short phrases of it, and
:func:`find_quote` says in which section a phrase occurs.

Sections are the article's own: ``opening`` (title, source line and the
introduction, up to the first numbered heading) and the four numbered parts
``一``, ``二``, ``三``, ``四`` (each from its heading ``一、…`` to the next).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from analysis import paths

__all__ = ["SECTIONS", "SeedText", "seed_file", "read_seed", "normalize", "split_sections"]

#: The section codes, in the article's order.
SECTIONS = ("opening", "一", "二", "三", "四")

_HEADING = re.compile(r"^\s*([一二三四])、", re.MULTILINE)
_SPACE = re.compile(r"\s+")
#: Punctuation whose width is folded before matching: half-width -> full-width.
_WIDTH = str.maketrans({",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"})


def normalize(text: str) -> str:
    """Remove all whitespace (ASCII and full-width) and fold the width of ``, : ; ! ? ( )``.

    Quote matching is robust to whitespace and to the width of these six
    marks only: the seed's web edition writes half-width ``,`` ``:`` ``;``
    in Chinese text, the instrument writes the full-width ``，：；`` of
    Chinese typesetting.  Every other character, ``、“”。`` included, must
    match exactly.

    Examples
    --------
    >>> normalize("韧性 治理,\\n能力\\u3000")
    '韧性治理，能力'
    """
    return _SPACE.sub("", text).translate(_WIDTH)


def split_sections(text: str) -> dict[str, str]:
    """Split the article into its sections.

    Parameters
    ----------
    text : str
        The article as read from disk.

    Returns
    -------
    dict of str to str
        Keys from :data:`SECTIONS` (only those present), values the section
        text (heading included).

    Examples
    --------
    >>> s = split_sections("题目\\n引言。\\n一、甲\\n内容一\\n二、乙\\n内容二")
    >>> sorted(s), s["一"]
    (['opening', '一', '二'], '一、甲\\n内容一\\n')
    """
    marks = [(m.group(1), m.start()) for m in _HEADING.finditer(text)]
    out = {"opening": text[: marks[0][1]] if marks else text}
    for i, (code, start) in enumerate(marks):
        end = marks[i + 1][1] if i + 1 < len(marks) else len(text)
        if code not in out:  # the first heading of each number wins
            out[code] = text[start:end]
    return out


def seed_file(seed_dir=None) -> Path | None:
    """The seed article's path: the first ``*.txt`` (sorted by name) in ``seed_dir``.

    Parameters
    ----------
    seed_dir : path-like, optional
        Folder of the seed text; default :data:`analysis.paths.SEED_DIR`.

    Returns
    -------
    pathlib.Path or None
        ``None`` when the folder or the file is absent.
    """
    seed_dir = Path(paths.SEED_DIR if seed_dir is None else seed_dir)
    if not seed_dir.is_dir():
        return None
    files = sorted(p for p in seed_dir.glob("*.txt") if p.is_file())
    return files[0] if files else None


@dataclass(frozen=True)
class SeedText:
    """The seed article, split into sections, with whitespace-robust search.

    Attributes
    ----------
    path : pathlib.Path
        Where it was read from.
    text : str
        The article as read.
    sections : dict of str to str
        See :func:`split_sections`.
    """

    path: Path
    text: str
    sections: dict

    def find_quote(self, quote: str) -> list[str]:
        """Sections (in article order) whose text contains ``quote``.

        Matching ignores whitespace and the width of ``, : ; ! ? ( )`` on
        both sides (:func:`normalize`), nothing else.

        Examples
        --------
        >>> s = SeedText(Path("x"), "", split_sections("引言 韧性\\n一、甲 网格"))
        >>> s.find_quote("网 格"), s.find_quote("韧性"), s.find_quote("无")
        (['一'], ['opening'], [])
        """
        q = normalize(quote)
        if not q:
            return []
        return [code for code in SECTIONS if code in self.sections and q in normalize(self.sections[code])]


def read_seed(seed_dir=None) -> SeedText | None:
    """Read the seed article, or return ``None`` when it is absent.

    Parameters
    ----------
    seed_dir : path-like, optional
        Folder of the seed text; default :data:`analysis.paths.SEED_DIR`.

    Returns
    -------
    SeedText or None
    """
    path = seed_file(seed_dir)
    if path is None:
        return None
    text = path.read_text(encoding="utf-8")
    return SeedText(path=path, text=text, sections=split_sections(text))
