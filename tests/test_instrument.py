"""The survey instrument: loader, contract, check rules, scoring and lavaan syntax.

References: the shared contract (codes), analytic truths (reverse scoring,
degrees of freedom) and lavaan 0.6.14's reading of the generated syntax
(tests/fixtures/instrument/lavaan/lavaan_syntax.R and its .Rout).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import paths
from analysis.errors import InputError
from analysis.study.instrument import RULES, Violation, check_instrument, halfwidth_punctuation, load_instrument
from analysis.study.seed import SeedText, normalize, read_seed, split_sections

LAVAAN = Path(__file__).parent / "fixtures" / "instrument" / "lavaan"
FIRST = ["PL", "GRID", "INT", "EXT", "SELF", "SOC", "RESP", "RISK", "INST", "CRS", "RCV", "DEV"]
SECOND = {"RES": ("INT", "EXT"), "ORG": ("SELF", "SOC"), "LIST": ("RESP", "RISK", "INST"), "CR": ("CRS", "RCV", "DEV")}
MEDIATORS = ["GRID", "RES", "ORG", "LIST"]
CONTEXT = ["community", "city", "community_type", "role", "age_band", "gender", "years", "party_member", "education",
           "suggestion"]
#: Items per construct: four each, plus the second halves of the five statements split in version 2.
N_ITEMS = {c: 4 for c in FIRST} | {"GRID": 6, "INT": 5, "SELF": 6}
#: The version-1 double-barrelled statements and the two items each became.
SPLITS = {"GRID3": ["GRID3", "GRID6"], "GRID4": ["GRID4", "GRID5"], "INT1": ["INT1", "INT5"],
          "SELF2": ["SELF2", "SELF5"], "SELF4": ["SELF4", "SELF6"]}

needs_seed = pytest.mark.skipif(read_seed() is None, reason=f"seed article absent from {paths.SEED_DIR}")


@pytest.fixture(scope="module")
def ins():
    return load_instrument()


# ---------------------------------------------------------------------------
# the shared contract
# ---------------------------------------------------------------------------
def test_constructs_and_items_follow_the_contract(ins):
    assert [c.code for c in ins.constructs] == FIRST
    for c in ins.constructs:
        assert ins.item_codes(c.code) == [f"{c.code}{n}" for n in range(1, N_ITEMS[c.code] + 1)]
    assert len(ins.items) == sum(N_ITEMS.values()) == 53
    assert {so.code: so.children for so in ins.second_order} == SECOND
    for so, children in SECOND.items():
        for ch in children:
            assert ins.construct(ch).parent == so
    assert ins.item_codes("CR") == [f"{c}{n}" for c in ("CRS", "RCV", "DEV") for n in range(1, 5)]


def test_scale_reverse_items_attention_check_and_context(ins):
    assert ins.scale.points == 5 and ins.scale.values == [1, 2, 3, 4, 5]
    assert all(lab.zh and lab.en for lab in ins.scale.labels)
    assert 3 <= len(ins.reverse_codes) <= 5
    assert all(ins.item(code).polarity == "negative" for code in ins.reverse_codes)
    assert ins.attention_check.code == "ATTN" and ins.attention_check.correct in ins.scale.values
    assert "ATTN" not in ins.item_codes()
    assert ins.context_codes == CONTEXT
    by = {v.code: v for v in ins.context}
    assert [ch.value for ch in by["city"].choices] == [1, 2, 3, 4, 5]
    assert [ch.zh for ch in by["city"].choices] == ["郑州", "洛阳", "开封", "新乡", "南阳"]
    assert [ch.value for ch in by["role"].choices] == [1, 2, 3, 4, 5]
    assert [ch.value for ch in by["age_band"].choices] == [1, 2, 3, 4, 5, 6]
    assert (by["years"].kind, by["years"].min, by["years"].max) == ("integer", 0, 80)
    assert re.fullmatch(by["community"].pattern, "ZZ03") and not re.fullmatch(by["community"].pattern, "zz3")


def test_no_direct_identifiers_are_asked_for(ins):
    asked = " ".join([v.label_zh + v.label_en for v in ins.context] + [v.code for v in ins.context]).lower()
    for word in ("姓名", "身份证", "电话", "手机", "住址", "name", "phone", "address", "id card"):
        assert word not in asked


def test_consent_covers_the_pipl_points(ins):
    zh = ins.consent.text_zh
    for point in ("自愿", "收集", "身份", "存储", "删除", "退出", "个人信息保护法", "联系"):
        assert point in zh, point
    assert "Personal Information Protection Law" in ins.consent.text_en


def test_split_items_stay_in_their_construct_and_each_quote_its_own_phrase(ins):
    """Each double-barrelled statement of version 1 became two items of the same construct."""
    got: dict[str, list[str]] = {}
    for it in ins.items:
        if it.split_from:
            got.setdefault(it.split_from, []).append(it.code)
    assert {k: sorted(v) for k, v in got.items()} == {k: sorted(v) for k, v in SPLITS.items()}
    for origin, (a, b) in SPLITS.items():
        ia, ib = ins.item(a), ins.item(b)
        assert ia.construct == ib.construct == ins.item(origin).construct
        assert ia.seed_section == ib.seed_section                  # the same seed passage ...
        assert ia.seed_quote != ib.seed_quote                      # ... each half its own phrase of it
        assert ia.text_zh != ib.text_zh and ia.text_en != ib.text_en


def test_dont_know_is_offered_where_residents_may_not_know(ins):
    dk = ins.scale.dont_know
    assert (dk.value, dk.zh, dk.en) == (8, "不清楚", "Don't know")
    assert dk.value not in ins.scale.values and dk.value not in (-2, -3)
    flagged = set(ins.dont_know_codes)
    # lists, ledgers, rules and support from outside: things a resident may not know
    assert {"SOC1", "RESP2", "RISK1", "RISK2", "INST1", "INST2", "INST3", "INST4", "EXT1", "EXT2"} <= flagged
    # what residents experience or see themselves: no don't-know option
    assert not flagged & {"PL3", "GRID4", "SELF1", "RISK3", "CRS1", "CRS2", "CRS3", "CRS4", "RCV1", "RCV2",
                          "RCV3", "RCV4", "DEV3", "DEV4"}
    assert ins.attention_check.code not in flagged
    assert ins.scale.label(8, "zh") == "不清楚"


def _yaml_strings(node):
    """Every string of the instrument file, read with PyYAML's safe loader (not through the loader under test)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _yaml_strings(k)
            yield from _yaml_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _yaml_strings(v)


def test_every_chinese_string_uses_full_width_punctuation():
    raw = yaml.safe_load(paths.DEFAULT.instrument.read_text(encoding="utf-8"))
    strings = list(_yaml_strings(raw))
    chinese = [s for s in strings if re.search(r"[\u4e00-\u9fff]", s)]
    assert len(chinese) > 200                                   # items, quotes, consent, labels, choices, ...
    bad = {s: halfwidth_punctuation(s) for s in chinese if halfwidth_punctuation(s)}
    assert bad == {}
    # the detector itself: every half-width mark beside a Chinese character, nothing else
    hits = halfwidth_punctuation("您好!我们(课题组):调查,请填写;可以吗?")
    assert [h.split(" (")[-1][0] for h in hits] == ["!", "(", ")", ":", ",", ";", "?"]
    assert halfwidth_punctuation("编码 ZZ03, 18-29 岁；Hello (en): ok!") == []   # Latin and digits keep theirs


# ---------------------------------------------------------------------------
# the check: passes on the real instrument, fails on each broken copy
# ---------------------------------------------------------------------------
@needs_seed
def test_real_instrument_passes_every_rule():
    assert check_instrument() == []


@needs_seed
def test_every_quote_is_verbatim_in_its_section_of_the_seed(ins):
    seed = read_seed()
    for it in ins.items:
        assert it.seed_section in seed.find_quote(it.seed_quote), (it.code, it.seed_quote)
        assert len(it.seed_quote) <= 40, f"{it.code}: a quote should be a phrase"
    for code in ins.item_codes("CR"):
        assert ins.item(code).seed_section == "opening"


def _broken(tmp_path, edit) -> Path:
    """A copy of the real instrument, edited by ``edit(dict)``, in ``tmp_path``."""
    data = yaml.safe_load(paths.DEFAULT.instrument.read_text(encoding="utf-8"))
    edit(data)
    out = tmp_path / "instrument.yaml"
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def _item(data, code):
    for c in data["constructs"]:
        for it in c["items"]:
            if it["code"] == code:
                return it
    raise KeyError(code)


def _construct(data, code):
    return next(c for c in data["constructs"] if c["code"] == code)


def _assert_violation(violations, path, item, rule):
    hits = [v for v in violations if v.item == item and v.rule == rule]
    assert hits, f"no {rule!r} violation for {item}: {[str(v) for v in violations]}"
    text = str(hits[0])
    assert str(path) in text and item in text and rule in text
    return hits[0]


def _set(code, key, value):
    def edit(data):
        _item(data, code)[key] = value
    return edit


BROKEN = {
    "quote not in seed": (_set("PL1", "seed", {"section": "二", "quote": "党组织全面领导一切社区事务"}), "PL1", "quote"),
    "quote in another section": (_set("GRID1", "seed", {"section": "四", "quote": "织密网格党组织体系"}), "GRID1", "quote"),
    "quote missing": (_set("EXT2", "seed", None), "EXT2", "quote"),
    "CR item quoting the body": (_set("DEV2", "seed", {"section": "四", "quote": "恢复重构"}), "DEV2", "quote"),
    "too few items": (lambda d: _construct(d, "GRID").update(items=_construct(d, "GRID")["items"][:2]), "GRID",
                      "min_items"),
    "English missing": (_set("PL2", "en", ""), "PL2", "translation"),
    "Chinese missing": (_set("RISK2", "zh", None), "RISK2", "translation"),
    "choice label missing": (lambda d: d["context"][1]["choices"][0].update(en=""), "city", "translation"),
    "item code repeats": (_set("GRID2", "code", "GRID1"), "GRID1", "unique_code"),
    "construct code repeats": (lambda d: _construct(d, "SOC").update(code="SELF"), "SELF", "unique_code"),
    "reverse flag missing": (_set("INT4", "reverse", False), "INT4", "reverse_flag"),
    "negative wording unmarked": (_set("PL3", "zh", "社区党员很少参与社区事务。"), "PL3", "reverse_flag"),
    "negative English unmarked": (_set("PL4", "en", "Party organizations do not cover most groups."), "PL4",
                                  "reverse_flag"),
    "negative polarity without marker": (lambda d: _item(d, "RISK3").update(zh="居民经常接受防灾避灾方面的培训。"),
                                         "RISK3", "reverse_flag"),
    "unknown parent": (lambda d: _construct(d, "INT").update(parent="NOPE"), "INT", "structure"),
    "half-width punctuation": (_set("RCV1", "zh", "突发事件过后,社区能够较快恢复正常秩序。"), "RCV1", "punctuation"),
    "half-width parentheses in a label": (lambda d: d["context"][0].update(label_zh="所在社区编码(由调查员提供)"),
                                          "community", "punctuation"),
    "don't-know code on the scale": (lambda d: d["scale"]["dont_know"].update(value=3), "scale", "structure"),
    "split from another construct": (_set("GRID5", "split_from", "INT1"), "GRID5", "structure"),
    "don't know without a scale option": (lambda d: d["scale"].pop("dont_know"), "INST1", "structure"),
}


@needs_seed
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_rule_fails_on_a_broken_copy(tmp_path, case):
    edit, item, rule = BROKEN[case]
    path = _broken(tmp_path, edit)
    violations = check_instrument(path)
    assert all(isinstance(v, Violation) and v.rule in RULES for v in violations)
    _assert_violation(violations, path, item, rule)


def test_absent_seed_is_said_plainly_and_other_rules_still_run(tmp_path):
    path = _broken(tmp_path, _set("PL2", "en", ""))
    violations = check_instrument(path, seed_dir=tmp_path / "no-seed-here")
    quote = [v for v in violations if v.rule == "quote"]
    assert len(quote) == 1 and "absent" in quote[0].message and "no-seed-here" in quote[0].message
    _assert_violation(violations, path, "PL2", "translation")


def test_violation_names_the_line_of_the_item(tmp_path):
    path = _broken(tmp_path, _set("INT4", "reverse", False))
    v = next(v for v in check_instrument(path, seed_dir=tmp_path) if v.item == "INT4")
    line = path.read_text(encoding="utf-8").splitlines()[v.line - 1]
    assert "INT4" in line


def test_a_quote_cut_by_a_yaml_flow_comma_is_refused(tmp_path):
    """A half-width comma inside {section: ..., quote: ...} ends the quote: the loader says so."""
    text = paths.DEFAULT.instrument.read_text(encoding="utf-8")
    cut = text.replace("quote: 对于内部闲置资源，可通过市场化方式进行激活}", "quote: 对于内部闲置资源,可通过市场化方式进行激活}")
    assert cut != text
    bad = tmp_path / "instrument.yaml"
    bad.write_text(cut, encoding="utf-8")
    with pytest.raises(InputError, match="INT4: 'seed' has unknown keys"):
        load_instrument(bad)
    assert [v.rule for v in check_instrument(bad, seed_dir=tmp_path)] == ["structure"]
    with pytest.raises(InputError, match="'dont_know' must be true or false"):
        load_instrument(_broken(tmp_path, _set("PL2", "dont_know", "yes")))


def test_unloadable_file_is_one_structure_violation_and_load_raises(tmp_path):
    bad = tmp_path / "instrument.yaml"
    bad.write_text("constructs: [\n  - code: PL\n", encoding="utf-8")
    violations = check_instrument(bad, seed_dir=tmp_path)
    assert [v.rule for v in violations] == ["structure"] and str(bad) in str(violations[0])
    with pytest.raises(InputError, match="not valid YAML"):
        load_instrument(bad)
    with pytest.raises(InputError, match="does not exist"):
        load_instrument(tmp_path / "missing.yaml")
    no_items = _broken(tmp_path, lambda d: _construct(d, "PL").pop("items"))
    with pytest.raises(InputError, match="'items' is missing"):
        load_instrument(no_items)


# ---------------------------------------------------------------------------
# seed text: whitespace-robust, punctuation-width-robust, otherwise exact
# ---------------------------------------------------------------------------
def test_quote_matching_ignores_whitespace_and_punctuation_width_only():
    text = "题目\n引言里有“危机应对”。\n一、用好\n网格 党组织,及时发现:上报\n二、统筹\n资源"
    s = split_sections(text)
    assert sorted(s) == sorted(["opening", "一", "二"])
    seed = SeedText(Path("x.txt"), text, s)
    assert seed.find_quote("网格党组织, 及时") == ["一"]            # whitespace ignored
    assert seed.find_quote("网格党组织，及时发现：上报") == ["一"]   # the web edition's half-width , : match ，：
    assert seed.find_quote("网格党组织、及时") == []                # any other mark is exact
    assert seed.find_quote("网格党组织及时") == []                  # and cannot be dropped
    assert seed.find_quote("“危机应对”") == ["opening"]
    assert normalize(" a\u3000b\n") == "ab" and normalize("(a,b)") == "（a，b）"


# ---------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------
def test_score_reverses_exactly_the_reverse_keyed_items(ins):
    rng = np.random.default_rng(20240534)
    df = pd.DataFrame(rng.integers(1, 6, size=(50, len(ins.items))), columns=ins.item_codes()).astype(float)
    df.iloc[0, :] = np.nan
    scored = ins.score(df)
    for code in ins.item_codes():
        expected = 6 - df[code] if code in ins.reverse_codes else df[code]
        pd.testing.assert_series_equal(scored[code], expected, check_names=False)
    assert ins.score(scored)[ins.reverse_codes].equals(df[ins.reverse_codes])  # an involution
    with pytest.raises(ValueError, match="INT4"):
        ins.score(pd.DataFrame({"INT4": [1, 7]}))


# ---------------------------------------------------------------------------
# lavaan syntax
# ---------------------------------------------------------------------------
VARIANTS = {
    "measurement": dict(kind="measurement"),
    "structural": dict(kind="structural"),
    "structural_nodirect": dict(kind="structural", direct=False),
    "structural_serial": dict(kind="structural", serial=True),
    "structural_controls": dict(kind="structural", controls=("age_band", "gender")),
}


def _indicators(syntax: str) -> dict[str, list[str]]:
    out = {}
    for line in syntax.splitlines():
        if "=~" in line and not line.lstrip().startswith("#"):
            lhs, rhs = line.split("=~")
            out[lhs.strip()] = [t.strip() for t in rhs.split("+")]
    return out


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_syntax_round_trips_each_item_once(ins, name):
    ind = _indicators(ins.model_syntax(**VARIANTS[name]))
    items = [t for lhs, terms in ind.items() if lhs in FIRST for t in terms]
    assert sorted(items) == sorted(ins.item_codes()) and len(items) == len(set(items)) == sum(N_ITEMS.values())
    assert {k: tuple(v) for k, v in ind.items() if k in SECOND} == SECOND
    assert "ATTN" not in ins.model_syntax(**VARIANTS[name])


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_recorded_lavaan_syntax_is_current(ins, name):
    """The syntax lavaan read in the reference run is what model_syntax writes now."""
    assert (LAVAAN / f"{name}.lav").read_text(encoding="utf-8") == ins.model_syntax(**VARIANTS[name])


def _expected_npar(name: str) -> int:
    """Free parameters by counting, with lavaan's sem() defaults (analytic truth)."""
    n_items = sum(N_ITEMS.values())
    loadings = n_items - len(FIRST) + sum(len(ch) - 1 for ch in SECOND.values())   # first indicator fixed to 1
    residuals = n_items + sum(len(ch) for ch in SECOND.values())       # items + first-order disturbances
    if name == "measurement":
        exo = ["PL", "GRID", "RES", "ORG", "LIST", "CR"]                # all covary
        return loadings + residuals + len(exo) * (len(exo) + 1) // 2
    paths_ = 4 + 4 + (0 if name == "structural_nodirect" else 1)       # a1..a4, b1..b4, c
    variances = 1 + 4 + 1                                              # PL, mediator and CR disturbances
    covs = 6
    if name == "structural_serial":
        paths_ += 3                                                    # d2..d4
        covs = 3                                                       # RES, ORG, LIST only
    if name == "structural_controls":
        paths_ += 2
    return loadings + residuals + paths_ + variances + covs


def test_lavaan_reads_the_syntax_as_intended():
    summary = pd.read_csv(LAVAAN / "fit_summary.csv").set_index("model")
    for name in VARIANTS:
        row = summary.loc[name]
        assert bool(row["converged"])
        assert row["npar"] == _expected_npar(name), name
        p, q = sum(N_ITEMS.values()), 2 if name == "structural_controls" else 0   # fixed.x: x moments not counted
        assert row["df"] == p * (p + 1) // 2 + p * q - _expected_npar(name), name


def _free(name, op):
    pt = pd.read_csv(LAVAAN / f"partable_{name}.csv", keep_default_na=False)
    pt = pt[(pt["op"] == op)]
    return pt


def test_lavaan_partable_structural_paths_and_defined_effects():
    for name in ("structural", "structural_nodirect", "structural_serial", "structural_controls"):
        reg = _free(name, "~")
        got = {(r.lhs, r.rhs, r.label) for r in reg.itertuples()}
        want = {(m, "PL", f"a{j}") for j, m in enumerate(MEDIATORS, 1)}
        want |= {("CR", m, f"b{j}") for j, m in enumerate(MEDIATORS, 1)}
        if name != "structural_nodirect":
            want.add(("CR", "PL", "c"))
        if name == "structural_serial":
            want |= {(m, "GRID", f"d{j}") for j, m in enumerate(MEDIATORS, 1) if m != "GRID"}
        if name == "structural_controls":
            want |= {("CR", "age_band", ""), ("CR", "gender", "")}
        assert got == want, name
        assert (reg["free"] == 1).all()
        cov = _free(name, "~~")
        lat_cov = {frozenset((r.lhs, r.rhs)) for r in cov.itertuples()
                   if r.lhs != r.rhs and r.lhs in MEDIATORS and r.rhs in MEDIATORS and r.free == 1}
        free = MEDIATORS[1:] if name == "structural_serial" else MEDIATORS
        assert lat_cov == {frozenset((x, y)) for i, x in enumerate(free) for y in free[i + 1:]}, name
        defined = set(_free(name, ":=")["lhs"])
        want_def = {f"ind_{m}" for m in MEDIATORS} | {"total_indirect", "total"}
        want_def |= {f"diff_{x}_{y}" for i, x in enumerate(MEDIATORS) for y in MEDIATORS[i + 1:]}
        if name == "structural_serial":
            want_def |= {f"ser_GRID_{m}" for m in MEDIATORS[1:]}
        assert defined == want_def, name


def test_defined_effects_use_labels_only(ins):
    s = ins.model_syntax("structural", serial=True)
    labels = set(re.findall(r"\b([abcd][0-9]?)\*", s)) | {"c"}
    for line in s.splitlines():
        if ":=" in line:
            rhs = line.split(":=")[1]
            assert set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", rhs)) <= labels, line
    assert "total := c + a1*b1" in s
    assert "total := a1*b1" in ins.model_syntax("structural", direct=False)


def test_model_syntax_rejects_bad_arguments(ins):
    with pytest.raises(ValueError, match="kind"):
        ins.model_syntax("path")
    with pytest.raises(ValueError, match="plain column name"):
        ins.model_syntax("structural", controls=("age band",))
