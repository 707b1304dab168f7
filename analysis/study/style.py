"""Matplotlib style for every figure of the study: a CJK font, deterministic PNGs.

Chinese labels need Debian's ``fonts-noto-cjk`` (installed by ``make``);
:func:`use` fails with that instruction when the font is missing, rather than
drawing empty boxes.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from ..io import atomic_path  # noqa: E402

__all__ = ["CJK_FONT", "use", "save_figure"]

#: The font family used for Chinese and English text in figures.
CJK_FONT = "Noto Sans CJK SC"


def use() -> None:
    """Apply the study's figure style (fonts, sizes, minus sign).

    Raises
    ------
    RuntimeError
        If the CJK font is not installed, naming the Debian package.
    """
    names = {f.name for f in font_manager.fontManager.ttflist}
    if CJK_FONT not in names:
        font_manager._load_fontmanager(try_read_cache=False)
        names = {f.name for f in font_manager.fontManager.ttflist}
    if CJK_FONT not in names:
        raise RuntimeError(
            f"font {CJK_FONT!r} not found: install Debian's fonts-noto-cjk "
            "(`sudo apt-get install fonts-noto-cjk`) and rerun"
        )
    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [CJK_FONT, "DejaVu Sans"],
            "axes.unicode_minus": False,
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def save_figure(fig, path) -> None:
    """Save ``fig`` as PNG atomically, without metadata that varies by run."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
