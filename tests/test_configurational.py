"""The configurational step (issue 17): community cases, fsQCA/NCA results, the planted truth, the book's numbers."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import paths
from analysis.study import booktools as bt
from analysis.study import configurational as cf
from analysis.study.instrument import load_instrument
from analysis.study.population import load_configurational, load_population
from analysis.study.simulate import dont_know_as_missing, simulate_sample

INS = load_instrument()
ROLES = cf.configuration_roles(INS)

#: Small, fast settings for a whole run (the real ones are in study.yaml).
FAST = {
    "nca_permutations": 99, "planted_replications": 2, "planted_sizes": [30, 60],
    "sensitivity_incl_cuts": [0.8, 0.9], "sensitivity_pri_cuts": [0.5, 0.7], "min_respondents": 5,
}


@pytest.fixture(scope="module")
def sample():
    """A simulated sample scored as analysis.parquet is (reverse-keyed items recoded)."""
    raw = simulate_sample(600, 20, seed=20260217).data
    return INS.score(dont_know_as_missing(raw, INS))        # don't know (8) is missing, as ingestion reads it


@pytest.fixture(scope="module")
def processed(sample, tmp_path_factory):
    folder = tmp_path_factory.mktemp("processed")
    sample.to_parquet(folder / "analysis.parquet", index=False)
    (folder / "ingest_report.json").write_text(json.dumps({"synthetic": True}), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def runs(processed, tmp_path_factory):
    """Two complete runs of the step on the same inputs, in two folders."""
    out = []
    for name in ("a", "b"):
        root = tmp_path_factory.mktemp(f"run_{name}")
        files = cf.run_configurational(processed, root / "results" / "configurational", {"configurational": FAST},
                                       INS, figures_dir=root / "results" / "figures")
        out.append((root, files))
    return out


# ---------------------------------------------------------------------------
def test_roles_come_from_the_instrument():
    assert ROLES.leader == "PL" and ROLES.outcome == "CR"
    # every condition is a pathway of a numbered seed section, in section order; the outcome is a second-order factor
    sections = {c.parent or c.code: c.pathway for c in INS.constructs}
    order = [p.section for p in INS.pathways]
    opening = order[0]
    assert all(sections[c] != opening for c in ROLES.conditions)
    assert [order.index(sections[c]) for c in ROLES.conditions] == sorted(order.index(sections[c]) for c in ROLES.conditions)
    assert len(ROLES.conditions) == len(order) - 1
    assert sections[ROLES.leader] == opening and sections[ROLES.outcome] == opening
    assert ROLES.outcome in {s.code for s in INS.second_order}


def test_community_cases_are_means_of_scale_scores(sample):
    cases = cf.community_cases(sample, INS)
    assert list(cases.columns) == ["community", "n", *ROLES.scores]
    assert cases["community"].is_unique and cases["n"].sum() == sample["community"].notna().sum()
    children = {s.code: list(s.children) for s in INS.second_order}
    # recompute two communities by hand: item means per respondent, second order = mean of first-order scores
    for code in cases["community"].iloc[[0, -1]]:
        rows = sample[sample["community"] == code]
        got = cases.set_index("community").loc[code]
        assert got["n"] == len(rows)
        for unit in ROLES.scores:
            firsts = children.get(unit, [unit])
            per_person = pd.concat([rows[INS.item_codes(f)].mean(axis=1) for f in firsts], axis=1).mean(axis=1)
            assert got[unit] == pytest.approx(per_person.mean(), abs=1e-12), (code, unit)


def test_community_cases_drops_small_communities(sample):
    cases = cf.community_cases(sample, INS)
    small = int(cases["n"].min())
    kept = cf.community_cases(sample, INS, min_respondents=small + 1)
    assert len(kept) == int((cases["n"] > small).sum())
    with pytest.raises(ValueError, match="community"):
        cf.community_cases(sample.drop(columns="community"), INS)


def test_calibration_nudges_a_case_at_the_crossover():
    cases = pd.DataFrame({"community": list("abcde"), "X": [1.0, 2.0, 3.0, 4.0, 5.0]})
    anchors = cf.calibration_anchors(cases, ["X"], "q", {"kind": "quantile", "exclusion": 0.05, "crossover": 0.5,
                                                          "inclusion": 0.95})
    assert anchors["crossover"].item() == 3.0  # the median is a case: its membership would be exactly 0.5
    members, nudged = cf.calibrate_cases(cases, anchors)
    assert nudged == {"X": 1} and members.loc["c", "X"] == pytest.approx(0.5 + cf.NUDGE)
    assert members.loc["a", "X"] < 0.1 < 0.9 < members.loc["e", "X"]
    scale = cf.calibration_anchors(cases, ["X"], "s", {"kind": "scale", "exclusion": 3, "crossover": 3.5, "inclusion": 4})
    assert scale[["exclusion", "crossover", "inclusion"]].iloc[0].tolist() == [3.0, 3.5, 4.0]
    with pytest.raises(ValueError, match="kind"):
        cf.calibration_anchors(cases, ["X"], "z", {"kind": "zscore", "exclusion": 0, "crossover": 1, "inclusion": 2})


def test_recovery_distinguishes_exact_contains_and_correct():
    truth = load_configurational()
    sols = pd.DataFrame({"kind": ["intermediate"] * 3 + ["parsimonious"] * 2,
                         "model": ["M1"] * 3 + ["M1"] * 2,
                         "expression": ["GRID*RES + RES*LIST + ORG*LIST"] * 3 + ["GRID*RES*LIST + ORG*LIST"] * 2,
                         "term": ["GRID*RES", "RES*LIST", "ORG*LIST", "GRID*RES*LIST", "ORG*LIST"]})
    rec = cf.recovery(sols, truth, kinds=("intermediate", "parsimonious"))
    inter, pars = rec.iloc[0], rec.iloc[1]
    assert inter["contains"] and not inter["exact"] and not inter["correct"] and inter["extra_terms"] == "RES*LIST"
    # a longer term implies a planted one: correct (no false claim) but not containing GRID*RES itself
    assert pars["correct"] and not pars["contains"] and not pars["exact"]


# ---------------------------------------------------------------------------
def test_the_planted_section_leaves_the_population_model_alone(tmp_path):
    """The individual-level model is the same with or without the configurational section."""
    raw = yaml.safe_load(paths.DEFAULT.population_model.read_text(encoding="utf-8"))
    assert "configurational" in raw
    without = {k: v for k, v in raw.items() if k != "configurational"}
    path = tmp_path / "population_model.yaml"
    path.write_text(yaml.safe_dump(without, allow_unicode=True), encoding="utf-8")
    assert load_population(path) == load_population()


def test_simulate_planted_is_seeded_and_scored():
    truth = dataclasses.replace(load_configurational(), communities=8)
    a = cf.simulate_planted(truth, 5, instrument=INS)
    b = cf.simulate_planted(truth, 5, instrument=INS)
    pd.testing.assert_frame_equal(a, b)
    assert a["community"].nunique() == 8
    assert set(np.unique(a[INS.item_codes()].to_numpy())) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    low, high = truth.respondents
    assert a.groupby("community").size().between(low, high).all()
    assert not a.equals(cf.simulate_planted(truth, 6, instrument=INS))


def test_planted_truth_is_recovered_with_enough_communities():
    """With 240 planted communities the intermediate and parsimonious solutions contain both planted terms."""
    truth = load_configurational()
    cfg = cf._settings(None)
    world = dataclasses.replace(truth, communities=240)
    cases = cf.planted_cases(world, [cfg["planted_seed"], 240, 1], instrument=INS)
    res = cf._analyse(cases, ROLES, cfg, cfg["calibration"])
    rec = cf.recovery(res["solutions"], truth).set_index("kind")
    for kind in ("intermediate", "parsimonious"):
        terms = set(res["solutions"].query("kind == @kind and model == 'M1'")["term"])
        assert {"*".join(t) for t in truth.solution} <= terms, (kind, terms)
        assert rec.loc[kind, "contains"]
    # no single condition is necessary in the planted world (the two paths substitute for each other)
    assert not res["necessity"]["necessary"].any()


# ---------------------------------------------------------------------------
EXPECTED = {
    "cases.csv", "calibration.csv", "necessity.csv", "nca.csv", "truth_table.csv", "solutions.csv", "sensitivity.csv",
    "planted_cases.csv", "planted_calibration.csv", "planted_necessity.csv", "planted_nca.csv",
    "planted_truth_table.csv", "planted_solutions.csv", "planted_recovery.csv", "planted_replications.csv",
    "planted_rates.csv", "planted.json", "headline.json",
}


def test_run_writes_every_file(runs):
    root, files = runs[0]
    out = root / "results" / "configurational"
    assert {p.name for p in files if p.parent == out} == EXPECTED
    figures = {p.name for p in files if p.parent != out}
    assert figures == {"configurational_nca.png", "configurational_nca_planted.png"}
    for name in EXPECTED:
        assert (out / name).exists(), name
        if name.endswith(".csv"):
            frame = pd.read_csv(out / name)
            assert "synthetic" in frame.columns and frame["synthetic"].astype(bool).all(), name
    for fig in figures:
        assert (root / "results" / "figures" / fig).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    head = json.loads((out / "headline.json").read_text(encoding="utf-8"))
    assert head["synthetic"] and head["conditions"] == list(ROLES.conditions) and head["outcome"] == ROLES.outcome
    nca = pd.read_csv(out / "nca.csv")
    assert set(nca["condition"]) == set(ROLES.conditions) and (nca["permutations"] == FAST["nca_permutations"]).all()
    assert nca["p_value"].between(0, 1).all()
    tt = pd.read_csv(out / "truth_table.csv")
    assert list(tt.columns[:5]) == ["row", *ROLES.conditions]
    cases = pd.read_csv(out / "cases.csv")
    assert {f"fs_{c}" for c in (*ROLES.conditions, ROLES.outcome)} <= set(cases.columns)
    assert tt["n"].sum() == len(cases)
    rates = pd.read_csv(out / "planted_rates.csv")
    assert sorted(set(rates["communities"])) == FAST["planted_sizes"] and (rates["replications"] == 2).all()


def test_run_is_deterministic(runs):
    (a, files_a), (b, files_b) = runs
    rel_a = {p.relative_to(a).as_posix(): p for p in files_a}
    rel_b = {p.relative_to(b).as_posix(): p for p in files_b}
    assert rel_a.keys() == rel_b.keys()
    for rel in rel_a:
        assert rel_a[rel].read_bytes() == rel_b[rel].read_bytes(), rel


def test_headline_has_every_number_the_chapter_glues(runs):
    """Every configurational number of the chapter can be read from a fresh run's files."""
    root, _ = runs[0]
    layout = paths.Layout(root=root)
    numbers = bt.chapter_numbers("07_configurational")
    assert numbers
    own = [n for n in numbers if n.source.startswith("results:configurational/")]
    assert len(own) >= 50
    for n in own:
        value = bt.read_number(n, layout)
        assert bt.format_number(value, n.fmt) not in ("", "NA"), n.key
    text = (paths.DEFAULT.book / "chapters" / "07_configurational.md").read_text(encoding="utf-8")
    for n in numbers:
        assert f"{{glue:text}}`{n.key}`" in text, n.key


def test_committed_results_have_the_chapters_numbers():
    if not (paths.DEFAULT.results / "configurational" / "headline.json").exists():
        pytest.skip("no committed configurational results yet (run `resilience reproduce configurational`)")
    for n in bt.chapter_numbers("07_configurational"):
        if bt.source_path(n.source).exists():
            bt.read_number(n)  # raises KeyError when a field is missing


def test_chapter_tables_name_real_columns():
    from test_booktools import _table_calls

    calls = list(_table_calls("07_configurational"))
    assert len(calls) >= 10
    for func, name, kw in calls:
        path = paths.DEFAULT.results / f"{name}.csv"
        if not path.exists():
            continue
        frame = pd.read_csv(path)
        assert set(kw.get("columns", [])) <= set(frame.columns), (name, set(kw.get("columns", [])) - set(frame.columns))
        if "query" in kw:
            assert len(frame.query(kw["query"])), (name, kw["query"])


def test_configuration_chart_marks_core_and_peripheral():
    sols = pd.DataFrame({
        "kind": ["intermediate", "intermediate"], "model": ["M1", "M1"], "term": ["GRID*RES*~ORG", "ORG*LIST"],
        "core": ["GRID", "ORG*LIST"], "term_consistency": [0.9, 0.85], "raw_coverage": [0.4, 0.5],
        "unique_coverage": [0.1, 0.2], "consistency": [0.88, 0.88], "coverage": [0.6, 0.6]})
    chart = cf.configuration_chart(sols, ROLES.conditions)
    col1 = dict(zip(chart["条件 Condition"], chart["组态 1"]))
    col2 = dict(zip(chart["条件 Condition"], chart["组态 2"]))
    assert (col1["GRID"], col1["RES"], col1["ORG"], col1["LIST"]) == ("●", "•", "⊘", "")
    assert (col2["ORG"], col2["LIST"], col2["GRID"]) == ("●", "●", "")
    assert col1["解的一致性 solution consistency"] == "0.880"
    assert cf.configuration_chart(sols.iloc[:0], ROLES.conditions).empty


# ---------------------------------------------------------------------------
def test_pipeline_step_and_its_inputs():
    from analysis import pipeline

    steps = list(pipeline.STEPS)
    assert steps.index("configurational") == steps.index("sample") + 1
    assert "configurational" not in pipeline.HEAVY
    tasks = pipeline.task_definitions()
    deps = set(tasks["configurational"]["file_dep"])
    layout = paths.DEFAULT
    for need in (layout.processed / "analysis.parquet", layout.instrument, layout.population_model,
                 paths.ROOT / "analysis" / "study" / "configurational.py",
                 paths.ROOT / "analysis" / "psychometrics" / "qca.py", paths.ROOT / "analysis" / "psychometrics" / "nca.py"):
        assert str(need) in deps, need
    index = str(layout.results / "configurational" / "index.json")
    assert tasks["configurational"]["targets"] == [index]
    for downstream in ("manifest", "report", "book"):
        assert index in tasks[downstream]["file_dep"], downstream
    assert tasks["configurational"]["uptodate"], "the study.yaml section must be tracked"


def test_report_has_the_configurational_section(runs, tmp_path):
    import shutil

    from docx import Document

    from analysis.results import SYNTHETIC_NOTE_ZH
    from analysis.study.report import write_report
    from report_fixtures import make_results

    results = make_results(tmp_path)
    root, _ = runs[0]
    shutil.copytree(root / "results" / "configurational", results / "configurational")
    doc = Document(write_report(tmp_path / "reports", results_dir=results))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert any("组态分析" in h for h in headings) and any("下一步工作" in h for h in headings)
    text = "\n".join(p.text for p in doc.paragraphs)
    head = json.loads((results / "configurational" / "headline.json").read_text(encoding="utf-8"))
    assert head["planted"]["solution"] in text
    assert f"{head['study']['max_necessity_consistency']:.3f}" in text
    notes = [p.text for p in doc.paragraphs if p.text.startswith("注：")]
    assert len([n for n in notes if SYNTHETIC_NOTE_ZH in n]) == len(doc.tables) - 1
    captions = "\n".join(p.text for p in doc.paragraphs)
    assert "社区层面的 fsQCA 中间解" in captions and "重复模拟中植入组态的恢复率" in captions
