"""Path diagrams drawn with matplotlib only (no graphviz binary).

Two diagrams:

* :func:`conceptual_diagram`: the study's framework, Party organization
  leadership (PL) → four pathways (GRID, RES, ORG, LIST) → community
  resilience (CR), with the direct path and the hypothesis labels.
* :func:`path_diagram`: a diagram drawn FROM a fitted model's estimates table
  (lavaan columns ``lhs, op, rhs, std_all, pvalue``): every regression
  (``~``) between the drawn variables is an arrow labelled with its
  standardized coefficient and significance stars.

Chinese labels need :func:`analysis.study.style.use` (called here).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import style

__all__ = ["stars", "layered_layout", "conceptual_diagram", "path_diagram", "bootstrap_t_figure", "STUDY_NODES"]

#: The structural variables of the study, in drawing order.
STUDY_NODES = ("PL", "GRID", "RES", "ORG", "LIST", "CR")


def stars(p) -> str:
    """Significance stars: ``***`` p < .001, ``**`` < .01, ``*`` < .05.

    Examples
    --------
    >>> stars(0.0004), stars(0.004), stars(0.04), stars(0.2), stars(float("nan"))
    ('***', '**', '*', '', '')
    """
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def _coef(x) -> str:
    """A standardized coefficient with its leading zero, as the book and the report print numbers.

    Examples
    --------
    >>> _coef(0.4512), _coef(-0.07), _coef(0.0)
    ('0.45', '-0.07', '0.00')
    """
    s = f"{x:.2f}"
    return s[1:] if s == "-0.00" else s


def layered_layout(edges, nodes=None) -> dict:
    """Place nodes of a directed acyclic graph in columns by longest path.

    Parameters
    ----------
    edges : iterable of (str, str)
        ``(from, to)`` pairs.
    nodes : sequence of str, optional
        All nodes in the order they stack within a column (default: order of
        first appearance in ``edges``).

    Returns
    -------
    dict
        ``node -> (x, y)`` with x the column (0, 1, ...) and y centred on 0.

    Raises
    ------
    ValueError
        If the edges contain a cycle.

    Examples
    --------
    >>> pos = layered_layout([("X", "M"), ("M", "Y"), ("X", "Y")])
    >>> [pos[n][0] for n in "XMY"]
    [0, 1, 2]
    """
    edges = list(edges)
    if nodes is None:
        nodes = []
        for a, b in edges:
            for n in (a, b):
                if n not in nodes:
                    nodes.append(n)
    level = {n: 0 for n in nodes}
    for _ in range(len(nodes) + 1):
        changed = False
        for a, b in edges:
            if level[b] < level[a] + 1:
                level[b] = level[a] + 1
                changed = True
        if not changed:
            break
    else:
        raise ValueError("the regressions form a cycle; a path diagram needs a recursive model")
    pos = {}
    for lv in sorted(set(level.values())):
        column = [n for n in nodes if level[n] == lv]
        k = len(column)
        for i, n in enumerate(column):
            pos[n] = (lv, (k - 1) / 2 - i)
    return pos


def _draw(ax, pos, labels, arrows, *, width=0.62, height=0.5, bottom=0.8, xscale=2.6, yscale=1.4,
          node_size=9, label_size=8):
    """Draw ellipse nodes and labelled arrows on ``ax``."""
    from matplotlib.patches import Ellipse, FancyArrowPatch

    patches = {}
    for node, (x, y) in pos.items():
        cx, cy = x * xscale, y * yscale
        longest = max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in line) for line in
                       labels.get(node, node).split("\n")), default=1)
        e = Ellipse((cx, cy), max(width * 2.3, 0.11 * longest + 0.4), height * 1.6,
                    facecolor="#f4f4f4", edgecolor="#222", lw=1.2)
        ax.add_patch(e)
        patches[node] = e
        ax.text(cx, cy, labels.get(node, node), ha="center", va="center", fontsize=node_size)
    for a, b, text, style_kw in arrows:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        pa, pb = (xa * xscale, ya * yscale), (xb * xscale, yb * yscale)
        rad = style_kw.get("rad", 0.0)
        arrow = FancyArrowPatch(pa, pb, patchA=patches[a], patchB=patches[b],
                                arrowstyle="-|>", mutation_scale=12, lw=style_kw.get("lw", 1.1),
                                linestyle=style_kw.get("ls", "-"), color=style_kw.get("color", "#222"),
                                connectionstyle=f"arc3,rad={rad}")
        ax.add_patch(arrow)
        if text:
            mx, my = (pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2
            frac = style_kw.get("at", 0.5)
            mx, my = pa[0] + frac * (pb[0] - pa[0]), pa[1] + frac * (pb[1] - pa[1])
            if rad:
                # the arc's apex lies off the chord by rad/2 times its length
                dx, dy = pb[0] - pa[0], pb[1] - pa[1]
                mx, my = mx + rad / 2 * dy, my - rad / 2 * dx
            ax.text(mx, my, text, ha="center", va="center", fontsize=label_size,
                    color=style_kw.get("color", "#222"),
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.95})
    xs = [p[0] * xscale for p in pos.values()]
    ys = [p[1] * yscale for p in pos.values()]
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - bottom, max(ys) + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")


def _study_labels(instrument=None) -> dict:
    """Two-line labels ``名称\\nCODE`` for the structural variables."""
    if instrument is None:
        from .instrument import load_instrument

        instrument = load_instrument()
    names = {c.code: c.name_zh for c in instrument.constructs}
    names.update({s.code: s.name_zh for s in instrument.second_order})
    return {code: f"{names.get(code, code)}\n{code}" for code in STUDY_NODES}


def conceptual_diagram(instrument=None, *, labels=None):
    """The conceptual model: PL → GRID, RES, ORG, LIST → CR, and PL → CR.

    Parameters
    ----------
    instrument : Instrument, optional
        Source of the construct names (default: the study's instrument).
    labels : dict, optional
        ``code -> label`` overriding the instrument's names.

    Returns
    -------
    matplotlib.figure.Figure
        Arrows carry the hypothesis labels: H2a-d for a-paths, H3a-d for
        b-paths, H1 for the direct path; indirect effects (H4a-d) are the
        products along each pathway.
    """
    import matplotlib.pyplot as plt

    style.use()
    labels = dict(labels) if labels is not None else _study_labels(instrument)
    mediators = ["GRID", "RES", "ORG", "LIST"]
    pos = {"PL": (0, 0.0), "CR": (2, 0.0)}
    for i, m in enumerate(mediators):
        pos[m] = (1, 1.5 - i)
    arrows = []
    for i, m in enumerate(mediators):
        sub = "abcd"[i]
        arrows.append(("PL", m, f"H2{sub}", {"at": 0.55}))
        arrows.append((m, "CR", f"H3{sub}", {"at": 0.45}))
    arrows.append(("PL", "CR", "H1 (c)", {"ls": "--", "at": 0.5}))
    fig, ax = plt.subplots(figsize=(8, 5))
    _draw(ax, pos, labels, arrows, bottom=1.5)
    ax.text(2.6, -3.1, "H4a–d：间接效应 a·b（中介）  indirect effects a·b", ha="center", fontsize=8)
    return fig


def path_diagram(estimates: pd.DataFrame, *, nodes=STUDY_NODES, labels=None,
                 coef="std_all", title=None, note=None):
    """Draw the structural part of a fitted model from its estimates table.

    Parameters
    ----------
    estimates : pandas.DataFrame
        lavaan-style estimates with columns ``lhs, op, rhs`` and ``coef``
        (default ``std_all``) and ``pvalue``.  Rows with ``op == "~"`` whose
        ``lhs`` and ``rhs`` are both in ``nodes`` are drawn (``lhs`` is the
        outcome, as in lavaan).
    nodes : sequence of str
        Variables to draw; default the study's six structural factors.
    labels : dict, optional
        ``code -> label`` for the ellipses (default: the codes).
    coef : str, default "std_all"
        Column holding the coefficient printed on each arrow.
    title : str, optional
        Figure title.
    note : str, optional
        A footnote printed under the diagram (e.g.
        :data:`analysis.results.SYNTHETIC_NOTE_ZH` for synthetic data).

    Returns
    -------
    matplotlib.figure.Figure
        Arrows labelled ``β`` with stars (``*`` p < .05, ``**`` p < .01,
        ``***`` p < .001); non-significant paths are dashed and grey.

    Raises
    ------
    ValueError
        If the table lacks the needed columns or holds no regressions among
        ``nodes``.
    """
    import matplotlib.pyplot as plt

    need = {"lhs", "op", "rhs", coef, "pvalue"}
    missing = need - set(estimates.columns)
    if missing:
        raise ValueError(f"estimates table lacks column(s) {sorted(missing)}; expected lavaan-style "
                         "columns lhs, op, rhs, std_all, pvalue")
    nodes = list(nodes)
    reg = estimates[(estimates["op"] == "~") & estimates["lhs"].isin(nodes) & estimates["rhs"].isin(nodes)]
    if reg.empty:
        raise ValueError(f"no regressions ('~') among {nodes} in the estimates table")
    if "group" in reg.columns and reg["group"].nunique() > 1:
        raise ValueError("estimates hold several groups; select one group before drawing")
    style.use()
    edges = list(zip(reg["rhs"], reg["lhs"]))
    drawn = [n for n in nodes if any(n in e for e in edges)]
    pos = layered_layout(edges, drawn)
    arrows = []
    last = max(x for x, _ in pos.values())
    for _, r in reg.iterrows():
        b, p = float(r[coef]), float(r["pvalue"]) if pd.notna(r["pvalue"]) else math.nan
        sig = bool(np.isfinite(p) and p < 0.05)
        # labels of the arrows that fan out of (or into) one node sit near the other end, apart
        x_from, x_to = pos[r["rhs"]][0], pos[r["lhs"]][0]
        at = 0.5 if x_to - x_from > 1 else 0.62 if x_from == 0 else 0.38 if x_to == last else 0.5
        kw = {"at": at, "color": "#222" if sig else "#777", "ls": "-" if sig else "--", "lw": 1.4 if sig else 1.1}
        arrows.append((r["rhs"], r["lhs"], f"{_coef(b)}{stars(p)}", kw))
    fig, ax = plt.subplots(figsize=(10, 6.4))
    _draw(ax, pos, dict(labels or {}), arrows, xscale=3.0, yscale=1.75, height=0.55, node_size=11, label_size=10.5)
    if title:
        ax.set_title(title, fontsize=10)
    if note:
        fig.text(0.5, 0.02, note, ha="center", va="bottom", fontsize=9, color="#444")
    return fig


def bootstrap_t_figure(*, n_clusters: int = 30, cluster_size: int = 15, icc: float = 0.2, n_boot: int = 999,
                       seed: int = 20250721):
    """Step by step, the symmetric bootstrap-t interval of a cluster bootstrap, on a small simulated example.

    A sample of ``n_clusters`` communities of ``cluster_size`` respondents
    (a score with intraclass correlation ``icc``) is drawn with ``seed``;
    its mean is the estimate.  Each of ``n_boot`` draws resamples whole
    communities, re-estimates the mean and its cluster-robust standard error
    (the sandwich with scores summed within the drawn communities), and
    studentizes: ``t*_b = (mean*_b - mean) / se*_b``.  The interval is
    ``mean ± c·se`` with ``c`` the 95% quantile of ``|t*_b|``.

    Returns
    -------
    matplotlib.figure.Figure
        Left: the bootstrap means (their 2.5% and 97.5% quantiles: the
        percentile interval).  Middle: the ``t*_b`` with ``±c`` and ``±1.96``.
        Right: the symmetric bootstrap-t, percentile and normal (Wald)
        intervals.  The simulated data are labelled as such.
    """
    import matplotlib.pyplot as plt

    style.use()
    rng = np.random.default_rng(seed)
    u = rng.normal(0, np.sqrt(icc), n_clusters)
    y = (u[:, None] + rng.normal(0, np.sqrt(1 - icc), (n_clusters, cluster_size))).ravel()
    g = np.repeat(np.arange(n_clusters), cluster_size)

    def mean_se(values, groups):
        m = values.mean()
        sums = np.bincount(groups, weights=values - m)
        k = len(np.unique(groups))
        return m, np.sqrt(k / (k - 1) * np.sum(sums ** 2)) / len(values)

    est, se = mean_se(y, g)
    boot_m, boot_t = np.empty(n_boot), np.empty(n_boot)
    for b in range(n_boot):
        pick = rng.integers(0, n_clusters, n_clusters)
        yb = np.concatenate([y[g == c] for c in pick])
        gb = np.repeat(np.arange(n_clusters), cluster_size)  # a drawn community counts once per draw
        mb, sb = mean_se(yb, gb)
        boot_m[b], boot_t[b] = mb, (mb - est) / sb
    c = float(np.quantile(np.abs(boot_t), 0.95))
    lo_p, hi_p = np.quantile(boot_m, [0.025, 0.975])
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), gridspec_kw={"width_ratios": [1, 1, 1.1]})
    ax = axes[0]
    ax.hist(boot_m, bins=40, color="#bbb")
    for v in (lo_p, hi_p):
        ax.axvline(v, color="#555", ls=":")
    ax.axvline(est, color="#000")
    ax.set_title(r"① 整群重抽社区，重估均值 $\theta^*_b$", fontsize=10)
    ax = axes[1]
    ax.hist(boot_t, bins=40, color="#bbb")
    for v in (-c, c):
        ax.axvline(v, color="#000")
    for v in (-1.96, 1.96):
        ax.axvline(v, color="#888", ls="--")
    ax.set_title(r"② $t^*_b = (\theta^*_b - \hat\theta)\,/\,se^*_b$；$|t^*_b|$ 的 95% 分位 $c$", fontsize=10)
    ax.text(0.98, 0.95, f"c = {c:.2f}\n（正态：1.96）", transform=ax.transAxes, ha="right", va="top", fontsize=9)
    ax = axes[2]
    rows = [(r"对称 bootstrap-t  $\hat\theta \pm c\cdot se$", est - c * se, est + c * se, "#000"),
            (r"百分位  $\theta^*_b$ 的 2.5%–97.5% 分位", lo_p, hi_p, "#555"),
            (r"正态（Wald）  $\hat\theta \pm 1.96\cdot se$", est - 1.96 * se, est + 1.96 * se, "#888")]
    for i, (name, lo, hi, color) in enumerate(rows):
        y_row = len(rows) - 1 - i
        ax.plot([lo, hi], [y_row, y_row], color=color, lw=2.5)
        ax.plot([est], [y_row], "o", color=color)
        ax.text(lo, y_row + 0.12, name, fontsize=9, va="bottom")
    ax.set_ylim(-0.4, len(rows) - 0.2)
    ax.set_yticks([])
    ax.set_title("③ 区间", fontsize=10)
    for ax in axes:
        ax.tick_params(labelsize=8)
    fig.text(0.5, -0.02, f"模拟示例（非研究数据）：{n_clusters} 个社区 × {cluster_size} 人，ICC = {icc:.2f}，"
             f"{n_boot} 次聚类 bootstrap，种子 {seed}。Simulated example, not the study's data.",
             ha="center", va="top", fontsize=8, color="#444")
    fig.tight_layout()
    return fig


def conditional_effect_axes(ax, frame: pd.DataFrame, *, y: str = "slope", lower: str = "ci_lower",
                            upper: str = "ci_upper", bounds=(), xlabel: str = "", ylabel: str = "",
                            title: str = "", line_label: str = "", band_label: str = "95% 置信带",
                            color: str = "#08519c", fill: str = "#9ecae1") -> None:
    """Draw a conditional effect over the moderator with its confidence band on ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    frame : pandas.DataFrame
        Column ``w`` (moderator values) and the columns named by ``y``,
        ``lower``, ``upper`` (e.g. :func:`analysis.sem.interactions.simple_slopes`).
    bounds : sequence of float
        Johnson-Neyman bounds, drawn as dashed lines where they fall inside
        the plotted range (NaN ones are skipped).
    """
    ax.fill_between(frame["w"], frame[lower], frame[upper], color=fill, alpha=0.6, label=band_label)
    ax.plot(frame["w"], frame[y], color=color, label=line_label or None)
    ax.axhline(0, color="grey", lw=0.8)
    lo, hi = float(frame["w"].min()), float(frame["w"].max())
    for b in bounds:
        if b is not None and math.isfinite(b) and lo <= b <= hi:
            ax.axvline(b, color="#de2d26", ls="--", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")


def conditional_effect_figure(frame: pd.DataFrame, *, bounds=(), xlabel: str = "w", ylabel: str = "",
                              title: str = "", note: str | None = None):
    """One-panel figure of a conditional effect (simple slopes over the moderator, Johnson-Neyman bounds).

    Returns
    -------
    matplotlib.figure.Figure
        CJK-capable (the study's style); ``note`` (e.g. the synthetic-data
        label) is printed above the panel.
    """
    import matplotlib.pyplot as plt

    style.use()
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    conditional_effect_axes(ax, frame, bounds=bounds, xlabel=xlabel, ylabel=ylabel, title=title,
                            line_label="条件效应 conditional effect")
    if note:
        fig.suptitle(note, fontsize=9, color="#7f2704")
    fig.tight_layout()
    return fig
