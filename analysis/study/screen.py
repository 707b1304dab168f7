"""Screening: flag careless, speeding, outlying and duplicated responses.

``screen(processed_dir, config)`` reads ``responses.parquet`` and applies five
rules, each configurable in ``study.yaml`` → ``screening:``; every rule
*flags*, nothing is silently dropped:

========== ============================================ =========================
rule       flags a row when                             setting
========== ============================================ =========================
attention  the attention check is not the instructed    ``attention_check``
           answer (or is missing)                       (true/false)
longstring the longest run of identical consecutive     ``longstring_max``
           item answers exceeds the limit
speed      completion time is below the minimum         ``min_duration_seconds``
duplicate  answers and context repeat an earlier row    ``duplicates`` (true/false)
mahalanobis the chi-square p of the squared Mahalanobis ``mahalanobis_alpha``
           distance is below alpha (mean and covariance
           from the rows no other rule flags)
========== ============================================ =========================

It writes ``flags.csv`` (one row per response, every statistic and flag),
``screening_report.csv`` (``rule, flagged, n_before, n_after, active,
not_evaluable``: rules applied in the order above; ``not_evaluable`` counts
the responses a rule could not judge, e.g. the speeding rule without a
completion time, so that no rule is switched off in silence) and ``analysis.parquet`` (the unflagged rows with
reverse-keyed items recoded by ``Instrument.score``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..errors import InputError
from ..io import read_json, write_csv, write_parquet
from ..psychometrics.screening import (
    attention_failed,
    classification_accuracy,
    duplicated_responses,
    longstring,
    mahalanobis,
    too_fast,
)

__all__ = ["ScreeningReport", "screen", "RULES", "load_truth", "truth_targets", "screening_accuracy"]

#: Screening rules in the order they are applied.
RULES = ("attention", "longstring", "speed", "duplicate", "mahalanobis")
_DEFAULTS = {"attention_check": True, "longstring_max": 20, "min_duration_seconds": 120,
             "mahalanobis_alpha": 0.001, "duplicates": True}


@dataclass
class ScreeningReport:
    """What :func:`screen` did.

    Attributes
    ----------
    flags : DataFrame
        The content of ``flags.csv``.
    table : DataFrame
        The content of ``screening_report.csv``.
    outputs : list of Path
    """

    flags: pd.DataFrame
    table: pd.DataFrame
    outputs: list = field(default_factory=list)

    @property
    def n_kept(self) -> int:
        return int(self.flags["keep"].sum())

    def __str__(self) -> str:
        lines = [f"screened {len(self.flags)} responses: {self.n_kept} kept"]
        for r in self.table.itertuples():
            lines.append(f"  {r.rule:<12} flagged {r.flagged:>5}   {r.n_before} -> {r.n_after}")
            if getattr(r, "not_evaluable", 0):
                lines.append(f"  warning: the {r.rule} rule could not judge {r.not_evaluable} response(s): "
                             f"no completion time")
        lines += [f"  wrote {p}" for p in self.outputs]
        return "\n".join(lines)


def _config(config) -> dict:
    if config is None:
        from .settings import load_settings

        config = load_settings()["screening"]
    unknown = set(config) - set(_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown screening setting(s): {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(_DEFAULTS)}")
    cfg = {**_DEFAULTS, **config}
    alpha = cfg["mahalanobis_alpha"]
    if alpha not in (None, False) and not (0 < float(alpha) < 1):
        raise ValueError("mahalanobis_alpha must lie between 0 and 1 (or be false to switch the rule off)")
    return cfg


def screen(processed_dir=None, config=None, instrument=None) -> ScreeningReport:
    """Flag careless, speeding, outlying and duplicated responses.

    Parameters
    ----------
    processed_dir : path-like, optional
        Folder with ``responses.parquet``; outputs are written there.
        Defaults to ``paths.DEFAULT.processed``.
    config : dict, optional
        The ``screening:`` section of ``study.yaml`` (read from there when
        None): ``attention_check``, ``longstring_max``,
        ``min_duration_seconds``, ``mahalanobis_alpha``, ``duplicates``.
        A rule is off when its setting is false/None.
    instrument : Instrument, optional

    Returns
    -------
    ScreeningReport
        ``flags`` columns: ``resp_id, attention_failed, longstring,
        duration_s, duplicate_of, mahalanobis_d2, mahalanobis_df,
        mahalanobis_p, flag_attention, flag_longstring, flag_speed,
        flag_duplicate, flag_mahalanobis, flagged, rules, keep``.
    """
    processed_dir = Path(processed_dir) if processed_dir is not None else paths.DEFAULT.processed
    cfg = _config(config)
    if instrument is None:
        from .instrument import load_instrument

        instrument = load_instrument()
    src = processed_dir / "responses.parquet"
    if not src.exists():
        raise InputError("no processed responses; run `resilience ingest` first", file=src)
    data = pd.read_parquet(src)
    items = instrument.item_codes()
    attn = instrument.attention_check.code
    need = ["resp_id", *items, attn, "duration_s"]
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise InputError(f"column(s) missing: {', '.join(missing)}", file=src, column=missing[0])
    if len(data) == 0:
        raise InputError("no responses to screen", file=src)

    flags = pd.DataFrame({"resp_id": data["resp_id"].astype(str)})
    flags["attention_failed"] = attention_failed(data, attn, instrument.attention_check.correct)
    flags["longstring"] = longstring(data, items)
    flags["duration_s"] = data["duration_s"].astype(float)
    ctx = [c for c in instrument.context_codes if c in data.columns]
    dup = duplicated_responses(data, items + [attn] + ctx)
    flags["duplicate_of"] = [None if d is None else data["resp_id"].iloc[int(d)] for d in dup["duplicate_of"]]

    on = {
        "attention": bool(cfg["attention_check"]),
        "longstring": cfg["longstring_max"] not in (None, False),
        "speed": cfg["min_duration_seconds"] not in (None, False),
        "duplicate": bool(cfg["duplicates"]),
        "mahalanobis": cfg["mahalanobis_alpha"] not in (None, False),
    }
    flags["flag_attention"] = flags["attention_failed"] if on["attention"] else False
    flags["flag_longstring"] = (flags["longstring"] > int(cfg["longstring_max"])) if on["longstring"] else False
    flags["flag_speed"] = too_fast(flags["duration_s"], float(cfg["min_duration_seconds"])).to_numpy() if on["speed"] else False
    flags["flag_duplicate"] = dup["duplicate"].to_numpy() if on["duplicate"] else False
    others = flags[["flag_attention", "flag_longstring", "flag_speed", "flag_duplicate"]].any(axis=1).to_numpy()
    reference = ~others
    if reference.sum() <= len(items):
        reference = np.ones(len(data), bool)
    if on["mahalanobis"]:
        md = mahalanobis(data, items, reference=reference)
    else:  # switched off in study.yaml: nothing to estimate
        md = pd.DataFrame({"d2": np.nan, "df": np.nan, "pvalue": np.nan}, index=data.index)
    flags["mahalanobis_d2"] = md["d2"].to_numpy()
    flags["mahalanobis_df"] = md["df"].to_numpy()
    flags["mahalanobis_p"] = md["pvalue"].to_numpy()
    flags["flag_mahalanobis"] = ((md["pvalue"] < float(cfg["mahalanobis_alpha"])).to_numpy() if on["mahalanobis"]
                                 else False)
    fcols = [f"flag_{r}" for r in RULES]
    for c in fcols:
        flags[c] = flags[c].astype(bool)
    flags["flagged"] = flags[fcols].any(axis=1)
    flags["rules"] = [";".join(r for r in RULES if row[f"flag_{r}"]) for _, row in flags[fcols].iterrows()]
    flags["keep"] = ~flags["flagged"]

    # a rule that cannot judge a row says so: the speeding rule needs a completion time
    not_evaluable = {r: 0 for r in RULES}
    not_evaluable["speed"] = int(flags["duration_s"].isna().sum()) if on["speed"] else 0
    rows, remaining = [], np.ones(len(flags), bool)
    for r in RULES:
        f = flags[f"flag_{r}"].to_numpy()
        before = int(remaining.sum())
        remaining &= ~f
        rows.append((r, int(f.sum()) if on[r] else 0, before, int(remaining.sum()), on[r], not_evaluable[r]))
    table = pd.DataFrame(rows, columns=["rule", "flagged", "n_before", "n_after", "active", "not_evaluable"])

    kept = data.loc[flags["keep"].to_numpy()].reset_index(drop=True)
    analysis = instrument.score(kept)
    outputs = [write_csv(processed_dir / "flags.csv", flags),
               write_csv(processed_dir / "screening_report.csv", table),
               write_parquet(processed_dir / "analysis.parquet", analysis)]
    return ScreeningReport(flags=flags, table=table, outputs=outputs)


# ----------------------------------------------------------------------
def load_truth(truth) -> pd.DataFrame:
    """The per-row truth of a synthetic export.

    Parameters
    ----------
    truth : path-like, dict or DataFrame
        A ``<stem>.truth.json`` file, its parsed content, or its ``rows``.

    Returns
    -------
    DataFrame
        Columns ``row, resp_id, status, duplicate_of, n_missing,
        true_<LATENT>``.
    """
    if isinstance(truth, pd.DataFrame):
        return truth
    if not isinstance(truth, dict):
        truth = read_json(truth)
    return pd.DataFrame(truth["rows"])


#: Which truth statuses each rule should flag.
TARGETS = {
    "attention": ("careless_random", "careless_straight", "speeder"),
    "longstring": ("careless_straight",),
    "speed": ("speeder",),
    "duplicate": ("duplicate",),
    "mahalanobis": ("careless_random", "speeder"),
    "any": ("careless_random", "careless_straight", "speeder", "duplicate"),
}


def truth_targets(truth) -> pd.DataFrame:
    """Boolean targets per rule (indexed by ``resp_id``) from a truth file."""
    rows = load_truth(truth)
    status = rows["status"].to_numpy()
    return pd.DataFrame({rule: np.isin(status, st) for rule, st in TARGETS.items()},
                        index=pd.Index(rows["resp_id"].astype(str), name="resp_id"))


def screening_accuracy(flags, truth) -> pd.DataFrame:
    """Sensitivity and specificity of each screening rule against the truth file.

    Parameters
    ----------
    flags : DataFrame or path-like
        ``flags.csv`` (or its content).
    truth : path-like, dict or DataFrame
        The synthetic export's truth (see :func:`load_truth`).

    Returns
    -------
    DataFrame
        Columns ``rule, target, tp, fp, fn, tn, sensitivity, specificity``;
        one row per rule in :data:`RULES` plus ``any`` (the kept sample
        against every non-valid row).  Rows quarantined at ingestion are not
        counted.

    Notes
    -----
    Targets: attention → careless or speeding; longstring → straight-lining;
    speed → speeding; duplicate → repeated submission; mahalanobis → random
    answers (careless random or speeding).
    """
    if not isinstance(flags, pd.DataFrame):
        flags = pd.read_csv(flags)
    f = flags.set_index(flags["resp_id"].astype(str))
    rule_flags = pd.DataFrame({r: f[f"flag_{r}"].astype(bool) for r in RULES})
    rule_flags["any"] = f["flagged"].astype(bool)
    out = classification_accuracy(rule_flags, truth_targets(truth))
    out.insert(1, "target", [", ".join(TARGETS[r]) for r in out["rule"]])
    return out
