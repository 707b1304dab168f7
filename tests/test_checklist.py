"""The reviewer checklist and the traceability matrix extended to the estimates.

The verdicts are computed, so they are checked on results files written here
from seeded random values placed on either side of each threshold (the
verdict must follow the value), and on the committed results against values
recomputed here straight from the files.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.study.checklist import VERDICTS, Criterion, reviewer_checklist, traceability_estimates

BIB = (paths.DEFAULT.book / "references.bib").read_text(encoding="utf-8")
MET, NOT_MET = VERDICTS["met"], VERDICTS["not_met"]


def _write(root, name, obj):
    path = root / f"{name}.{'json' if isinstance(obj, dict) else 'csv'}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(obj, dict):
        path.write_text(json.dumps(obj), encoding="utf-8")
    else:
        obj.to_csv(path, index=False)


@pytest.fixture()
def results(tmp_path):
    """A results folder with the files the checklist reads; ``good`` values pass, ``bad`` fail."""
    rng = np.random.default_rng(2024)
    scales = ["A", "B", "C", "D"]
    ave = np.array([0.62, 0.55, 0.47, 0.44])  # two below .50
    cr = rng.uniform(0.75, 0.9, 4)
    corr = rng.uniform(0.2, 0.5, (4, 4))
    corr = (corr + corr.T) / 2
    np.fill_diagonal(corr, np.sqrt(ave))
    _write(tmp_path, "measurement/headline", {
        "harman_share": float(rng.uniform(0.51, 0.7)),  # above 50%: not met
        "clf_delta_cfi": float(rng.uniform(0, 0.009)), "min_std_loading": float(rng.uniform(0.5, 0.9)),
        "max_htmt": float(rng.uniform(0.86, 0.95))})  # above .85: not met
    _write(tmp_path, "measurement/reliability", pd.DataFrame({
        "scale": scales, "level": "first_order", "alpha": rng.uniform(0.72, 0.9, 4), "cr": cr, "ave": ave}))
    _write(tmp_path, "measurement/fornell_larcker", pd.DataFrame(corr, columns=scales).assign(factor=scales))
    _write(tmp_path, "measurement/fit", pd.DataFrame({
        "model": ["first_order"], "chisq": [900.0], "df": [250], "cfi": [0.96], "tli": [0.94], "rmsea": [0.05],
        "srmr": [0.09]}))
    _write(tmp_path, "measurement/invariance", pd.DataFrame({
        "group_var": ["g", "g", "g"], "model": ["configural", "metric", "scalar"],
        "delta_cfi": [np.nan, -0.004, -0.02], "delta_rmsea": [np.nan, 0.002, 0.004], "status": "ok"}))
    _write(tmp_path, "measurement/icc", pd.DataFrame({"score": scales, "icc1": [0.1, 0.05, 0.02, 0.12],
                                                       "design_effect": [2.8, 1.9, 1.4, 3.1]}))
    _write(tmp_path, "structural/headline", {"bootstrap_interval": "symmetric-t", "bootstrap": 500,
                                              "missing": "listwise", "bootstrap_unit": "respondent"})
    _write(tmp_path, "structural/fit", pd.DataFrame({
        "model": ["hypothesized"], "chisq": [500.0], "df": [200], "cfi": [0.97], "tli": [0.96], "rmsea": [0.04],
        "srmr": [0.05]}))
    _write(tmp_path, "structural/indirect", pd.DataFrame({
        "lhs": ["ind_A", "ind_B", "total_indirect", "diff_A_B"], "est": [0.1, 0.02, 0.12, 0.08],
        "ci_lower_boot": [0.03, -0.01, 0.05, -0.02], "ci_upper_boot": [0.17, 0.05, 0.19, 0.18]}))
    _write(tmp_path, "power/headline", {"study_n": 600, "replications": 200, "design_effect": 2.0,
                                         "n_recommended": 1200})
    _write(tmp_path, "power/curve", pd.DataFrame({"n": [300, 300, 600, 600], "effect": ["ind_A", "ind_B"] * 2,
                                                   "power": [0.6, 0.5, 0.9, 0.74]}))
    _write(tmp_path, "robustness/headline", {"mean_share_missing": 0.03, "n_complete": 100, "share_complete": 0.2})
    return tmp_path, ave, cr, corr


def test_verdicts_follow_the_values(results):
    root, ave, cr, corr = results
    c = reviewer_checklist(root).set_index("id")
    assert c.loc["harman", "verdict"] == NOT_MET and c.loc["htmt", "verdict"] == NOT_MET
    assert c.loc["clf", "verdict"] == MET and c.loc["alpha", "verdict"] == MET
    assert c.loc["ave", "value"] == f"{ave.min():.3f}"
    # AVE below .50 for two constructs: not met, the relaxed rule (CR > .60) met, and the text says so
    assert c.loc["ave", "verdict"].startswith(NOT_MET) and MET in c.loc["ave", "verdict"]
    assert "2/4" in c.loc["ave", "comment"] and "C 0.4700" in c.loc["ave", "comment"]
    # Fornell-Larcker: sqrt(AVE) minus the largest correlation of its row
    off = corr.copy()
    np.fill_diagonal(off, -np.inf)
    margin = np.min(np.sqrt(ave) - off.max(axis=1))
    assert c.loc["fornell_larcker", "value"] == f"{margin:.3f}"
    assert c.loc["fornell_larcker", "verdict"] == (MET if margin > 0 else NOT_MET)
    # fit: chi2/df = 3.6 fails, CFI .96 passes, TLI .94 fails, SRMR .09 fails
    assert c.loc["cfa_chisq_df", "value"] == "3.60" and c.loc["cfa_chisq_df", "verdict"] == NOT_MET
    assert c.loc["cfa_cfi", "verdict"] == MET and c.loc["cfa_tli", "verdict"] == NOT_MET
    assert c.loc["cfa_srmr", "verdict"] == NOT_MET and c.loc["sem_srmr", "verdict"] == MET
    # invariance: metric holds, scalar ΔCFI = -.02 does not
    assert c.loc["invariance_g_metric", "verdict"] == MET and c.loc["invariance_g_scalar", "verdict"] == NOT_MET
    # mediation: an interval that contains 0 is not met; contrasts are not mediation rows
    assert c.loc["mediation_ind_A", "verdict"] == MET and c.loc["mediation_ind_B", "verdict"] == NOT_MET
    assert "mediation_diff_A_B" not in c.index
    # power at the study's N: the weakest effect (ind_B, .74) decides
    assert c.loc["power", "value"] == "0.74" and c.loc["power", "verdict"] == NOT_MET
    # listwise deletion and a row bootstrap with design effects above 2: neither is met
    assert c.loc["missing", "verdict"] == NOT_MET and c.loc["clustering", "verdict"] == NOT_MET


def test_missing_files_leave_rows_out(tmp_path):
    assert reviewer_checklist(tmp_path).empty
    _write(tmp_path, "measurement/headline", {"harman_share": 0.2, "max_htmt": 0.5, "min_std_loading": 0.7})
    assert set(reviewer_checklist(tmp_path)["id"]) == {"harman", "htmt", "loading"}


def test_criterion():
    assert Criterion(">=", 0.5).holds(0.5) and not Criterion(">", 0.5).holds(0.5)
    assert Criterion("<", 3).holds(2.99) and Criterion("<=", 0.06).holds(0.06)
    assert Criterion("<", 3).holds(float("nan")) is None


@pytest.fixture(scope="module")
def committed():
    if not (paths.DEFAULT.results / "measurement" / "headline.json").exists():
        pytest.skip("no committed results yet")
    return reviewer_checklist()


def test_committed_checklist_covers_every_group_and_cites_the_bibliography(committed):
    assert {"共同方法偏差", "信度", "收敛效度", "区分效度", "模型拟合", "测量不变性", "中介效应", "统计功效", "缺失数据",
            "聚类（社区嵌套）"} <= set(committed["group"])
    assert committed["id"].is_unique
    for keys in committed["source"]:
        for key in filter(None, keys.split(",")):
            assert "{" + key + "," in BIB, f"{key} is not in book/references.bib"
    for file in committed["file"]:
        assert (paths.ROOT / file).exists(), file


def test_committed_values_equal_the_files(committed):
    rel = pd.read_csv(paths.DEFAULT.results / "measurement" / "reliability.csv")
    first = rel[rel["level"] == "first_order"]
    c = committed.set_index("id")
    assert c.loc["ave", "value"] == f"{first['ave'].min():.3f}"
    n_low = int((first["ave"] < 0.5).sum())
    assert f"低于 0.50 的个数：{n_low}" in c.loc["ave", "test"]
    assert c.loc["ave", "verdict"].startswith(NOT_MET) == (n_low > 0)
    head = json.loads((paths.DEFAULT.results / "measurement" / "headline.json").read_text(encoding="utf-8"))
    assert c.loc["harman", "value"] == f"{head['harman_share']:.1%}"
    sfit = pd.read_csv(paths.DEFAULT.results / "structural" / "fit.csv").iloc[0]
    assert c.loc["sem_chisq_df", "value"] == f"{sfit.chisq / sfit.df:.2f}"


def test_traceability_reaches_the_estimates():
    if not (paths.DEFAULT.results / "measurement" / "loadings.csv").exists():
        pytest.skip("no committed results yet")
    from analysis.study.instrument import load_instrument

    ins = load_instrument()
    t = traceability_estimates()
    assert list(t["item"]) == [it.code for it in ins.items]
    loadings = pd.read_csv(paths.DEFAULT.results / "measurement" / "loadings.csv")
    first = loadings[(loadings["model"] == "first_order") & (loadings["op"] == "=~")]
    for r in first.itertuples():
        row = t[(t["item"] == r.rhs) & (t["construct"] == r.lhs)]
        if len(row):
            assert row["loading"].item() == pytest.approx(r.std_all)
    indirect = pd.read_csv(paths.DEFAULT.results / "structural" / "indirect.csv").set_index("lhs")
    grid = t[t["pathway"] == "GRID"]
    assert (grid["indirect"] == indirect.loc["ind_GRID", "est"]).all()
    assert t.loc[t["pathway"].isin(["PL", "CR"]), "indirect"].isna().all()
    # every first-order construct under RES is on the RES pathway
    parents = {c.code: c.parent for c in ins.constructs}
    assert set(t.loc[t["pathway"] == "RES", "construct"]) == {k for k, v in parents.items() if v == "RES"}
