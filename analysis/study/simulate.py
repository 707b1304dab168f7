"""Synthetic samples drawn from the declared population model.

Two entry points:

- :func:`simulate_responses` -- a clean, codebook-named sample (no careless
  respondents, no missing answers, no platform quirks), fast enough for the
  Monte Carlo power study (N = 1,500 in about 30 ms);
- :func:`simulate_to_file` -- a sample in a survey platform's raw export
  format (问卷星, KoboToolbox, codebook CSV), with careless respondents,
  speeders, duplicate submissions, item nonresponse and planted (fake)
  identifiers, and beside it a truth file ``<stem>.truth.json``.

Every identifier planted here is fake: names are drawn from short lists of
common characters, phone numbers are random digits after a mobile prefix, ID
numbers use the non-existent county code ``99`` of a Henan city and a random
sequence (with a valid checksum so that the scanner must catch them), IP
addresses come from the documentation ranges of RFC 5737, addresses are on
"示例路" (Example Road).  They exist only so that de-identification is tested.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..io import write_json
from .deidentify import id_card_check_digit, pseudonym
from .population import CONTROLS, STRUCTURAL, Population, load_population

__all__ = [
    "SimulatedSample",
    "simulate_sample",
    "simulate_responses",
    "simulate_to_file",
    "truth_path_for",
    "dont_know_as_missing",
    "STATUS",
]

#: Truth status of a raw row.
STATUS = ("valid", "careless_random", "careless_straight", "speeder", "duplicate")


@dataclass(frozen=True)
class SimulatedSample:
    """A simulated raw sample before it is written in a platform format.

    Attributes
    ----------
    data : DataFrame
        One row per submission in submission order: item codes as answered
        (reverse-keyed items answered reversed; the don't-know code, 8, where
        a respondent chose 不清楚 on an item that offers it), ``ATTN``, the context
        columns, ``duration_s`` (float seconds), ``submitted`` (timestamp to
        the second) and the fake identifiers ``pii_name, pii_phone,
        pii_id_card, pii_ip, pii_address, pii_wechat``.
    truth : DataFrame
        Columns ``row`` (1-based data row of the export), ``resp_id`` (the
        pseudonym ingestion will give the row), ``status`` (one of
        :data:`STATUS`), ``duplicate_of`` (row of the original submission or
        NaN), ``n_missing``, ``n_dont_know`` and the true latent scores
        ``true_<LATENT>``.
    """

    data: pd.DataFrame
    truth: pd.DataFrame


def _instrument(instrument):
    if instrument is not None:
        return instrument
    from .instrument import load_instrument

    return load_instrument()


def _population(population):
    if population is None:
        return load_population()
    if isinstance(population, Population):
        return population
    return load_population(population)


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder allocation of ``total`` units by ``weights``."""
    w = np.asarray(weights, float) / np.sum(weights)
    raw = w * total
    base = np.floor(raw).astype(int)
    rest = total - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return base


def _lookup_array(table: dict, keys: np.ndarray) -> np.ndarray:
    """``table[k]`` for every element of an integer array ``keys``."""
    lut = np.zeros(max(table) + 1)
    for key, value in table.items():
        lut[key] = value
    return lut[keys]


def _communities(pop: Population, k: int, rng) -> dict:
    counts = _allocate(k, np.array([c.weight for c in pop.cities]))
    rows = []
    for city, cnt in zip(pop.cities, counts):
        for j in range(cnt):
            rows.append((f"{city.prefix}{j + 1:02d}", city.code))
    types = np.array(sorted(pop.community_type_probs))
    probs = np.array([pop.community_type_probs[t] for t in types])
    return {"community": np.array([r[0] for r in rows], dtype=object),
            "city": np.array([r[1] for r in rows]),
            "community_type": rng.choice(types, size=len(rows), p=probs)}


def _draw(rng, probs: dict, n: int) -> np.ndarray:
    keys = np.array(sorted(probs))
    return rng.choice(keys, size=n, p=np.array([probs[k] for k in keys]))


def _control_moments(pop: Population) -> dict[str, tuple[float, float]]:
    """Population mean and SD of the raw controls (for standardizing them)."""
    p_party = sum(pop.role_probs[r] * pop.party_member_prob_by_role[r] for r in pop.role_probs)
    shape, scale = pop.years["shape"], pop.years["scale_per_age_band"]
    ages = np.array(sorted(pop.age_band_probs))
    pa = np.array([pop.age_band_probs[a] for a in ages])
    mean = np.sum(pa * shape * scale * ages)
    second = np.sum(pa * (shape * (scale * ages) ** 2 + (shape * scale * ages) ** 2))
    return {"party_member": (p_party, np.sqrt(p_party * (1 - p_party))),
            "years": (mean, np.sqrt(second - mean ** 2))}


def _core(n: int, communities: int, rng, pop: Population, inst,
          scored: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """Context, latent scores and model-based answers of ``n`` attentive respondents."""
    comm = _communities(pop, communities, rng)
    k = len(comm["community"])
    weights = rng.dirichlet(np.full(k, pop.community_size_concentration))
    member = rng.choice(k, size=n, p=weights)

    ctx = {
        "community": comm["community"][member],
        "city": comm["city"][member],
        "community_type": comm["community_type"][member],
    }
    role = _draw(rng, pop.role_probs, n)
    age = _draw(rng, pop.age_band_probs, n)
    ctx["role"] = role
    ctx["age_band"] = age
    ctx["gender"] = _draw(rng, pop.gender_probs, n)
    p_party = _lookup_array(pop.party_member_prob_by_role, role)
    is_member = rng.random(n) < p_party
    years_cont = rng.gamma(pop.years["shape"], pop.years["scale_per_age_band"] * age)
    ctx["years"] = np.minimum(np.floor(years_cont), pop.years["max"]).astype(int)
    ctx["party_member"] = np.where(is_member, 1, 2)
    ctx["education"] = _draw(rng, pop.education_probs, n)

    # standardized controls (population moments), then the latent variables
    mom = _control_moments(pop)
    z = np.column_stack([(is_member - mom["party_member"][0]) / mom["party_member"][1],
                         (years_cont - mom["years"][0]) / mom["years"][1]])
    B = pop.structural_matrix()
    inv_t = np.linalg.inv(np.eye(len(STRUCTURAL)) - B).T
    zeta_b = rng.standard_normal((k, len(STRUCTURAL))) * np.sqrt(pop.disturbance_between)
    zeta_w = rng.standard_normal((n, len(STRUCTURAL))) * np.sqrt(pop.disturbance_within)
    u = zeta_b[member] + zeta_w + z @ pop.control_matrix().T
    mod = pop.moderation
    if mod:  # the moderated first-stage path: PL is exogenous, so eta_PL = u_PL
        lhs, rhs = STRUCTURAL.index(mod["path"][0]), STRUCTURAL.index(mod["path"][1])
        u[:, rhs] += mod["interaction"] * u[:, lhs] * z[:, CONTROLS.index(mod["moderator"])]
    eta = u @ inv_t

    # first-order factors and items
    parent = pop.parent_of
    factors = {}
    for c in pop.first_order:
        if c in STRUCTURAL:
            factors[c] = eta[:, STRUCTURAL.index(c)]
        else:
            lam = pop.second_order[parent[c]][c]
            factors[c] = lam * eta[:, STRUCTURAL.index(parent[c])] + np.sqrt(1 - lam ** 2) * rng.standard_normal(n)
    items = inst.items
    reverse = set(inst.reverse_codes)
    tau = np.asarray(pop.response.thresholds)
    answers = np.empty((n, len(items)), dtype=float)
    noise = rng.standard_normal((n, len(items)))
    loading = {f"{c}{i + 1}": v for c, lam in pop.loadings.items() for i, v in enumerate(lam)}
    for j, item in enumerate(items):
        lam = loading[item.code]
        ystar = lam * factors[item.construct] + np.sqrt(1 - lam ** 2) * noise[:, j]
        cat = 1 + np.searchsorted(tau + pop.response.threshold_shift.get(item.construct, 0.0), ystar)
        answers[:, j] = 6 - cat if (item.code in reverse and not scored) else cat
    columns = {it.code: answers[:, j] for j, it in enumerate(items)}
    columns[inst.attention_check.code] = np.full(n, float(inst.attention_check.correct))
    columns.update(ctx)
    return pd.DataFrame(columns), eta


def simulate_responses(n: int, communities: int = 60, seed=None, population=None, instrument=None,
                       *, scored: bool = True) -> pd.DataFrame:
    """Draw a clean synthetic sample from the population model.

    Parameters
    ----------
    n : int
        Number of respondents.
    communities : int
        Number of communities (spread over the five cities by weight).
    seed : int or None
        Seed of ``np.random.default_rng``.
    population : Population or path-like, optional
        Defaults to ``data/population_model.yaml`` (pass the loaded object in
        loops: loading takes longer than simulating).
    instrument : Instrument, optional
        Defaults to :func:`analysis.study.instrument.load_instrument`.
    scored : bool
        If True (default) reverse-keyed items are recoded (6 - x) as in
        ``analysis.parquet``; if False they are as answered.

    Returns
    -------
    DataFrame
        ``n`` rows; columns: the item codes in questionnaire order (float,
        1-5, no missing), ``ATTN``, ``community, city, community_type, role,
        age_band, gender, years, party_member, education``.

    Notes
    -----
    Latent variables follow :math:`\\eta = (I-B)^{-1}(\\zeta_B + \\zeta_W + \\Gamma z)`
    with community-level disturbances :math:`\\zeta_B` (the ICCs of the
    population model) and standardized controls :math:`z`.  An item's
    answer is the category of :math:`y^* = \\lambda F + \\sqrt{1-\\lambda^2}\\,\\varepsilon`
    cut at the thresholds [1]_.

    References
    ----------
    .. [1] Muthén, B. (1984). A general structural equation model with
       dichotomous, ordered categorical, and continuous latent variable
       indicators. *Psychometrika*, 49(1), 115-132.
    """
    if int(n) < 1 or int(communities) < 1:
        raise ValueError(f"n and communities must be positive (got n={n}, communities={communities})")
    pop = _population(population)
    inst = _instrument(instrument)
    rng = np.random.default_rng(seed)
    data, _ = _core(int(n), int(communities), rng, pop, inst, scored=scored)
    return data


def open_answers(data: pd.DataFrame) -> list:
    """The open answer (``suggestion``) of each simulated respondent, some with identifiers typed in.

    Deterministic (no random draw): most respondents leave it empty; some
    write a suggestion; a few leave a phone number, a name or an address in
    it, as real respondents do, so that ingestion has identifiers to replace.
    """
    out = []
    for i, (name, phone, address) in enumerate(zip(data["pii_name"], data["pii_phone"], data["pii_address"])):
        if i % 40 == 7:
            out.append(f"希望多组织应急演练,有事可联系我{phone}")
        elif i % 55 == 11:
            out.append(f"联系人{name},电话{phone[:3]}-{phone[3:7]}-{phone[7:]}")
        elif i % 70 == 3:
            out.append(f"我家住{address},楼道灭火器过期了")
        elif i % 9 == 0:
            out.append("希望加强网格员队伍建设")
        else:
            out.append(None)
    return out


def _fake_identifiers(rng, n: int, ctx: pd.DataFrame, submitted: pd.Series) -> pd.DataFrame:
    surnames = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
    given = np.array(list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"))
    g1, g2 = rng.choice(given, size=n), rng.choice(given, size=n)
    two = rng.random(n) < 0.6
    name = [s + a + (b if t else "") for s, a, b, t in zip(rng.choice(surnames, size=n), g1, g2, two)]
    prefix = rng.choice(["135", "137", "138", "139", "150", "151", "158", "176", "186", "188", "199"], size=n)
    phone = [p + f"{x:08d}" for p, x in zip(prefix, rng.integers(0, 10 ** 8, size=n))]
    # ID-card-shaped: 41 (Henan) + city + county 99 (does not exist) + birth date + sequence + check digit
    city_codes = {1: "01", 2: "03", 3: "02", 4: "07", 5: "13"}
    age = ctx["age_band"].to_numpy().astype(int)
    year = submitted.dt.year.to_numpy() - (18 + 10 * (age - 1) + rng.integers(0, 10, size=n))
    birth = pd.to_datetime(pd.DataFrame({"year": year, "month": 1, "day": 1})) + pd.to_timedelta(
        rng.integers(0, 365, size=n), unit="D")
    seq = rng.integers(0, 1000, size=n)
    ids = []
    for c, b, q in zip(ctx["city"].to_numpy(), birth, seq):
        body = f"41{city_codes.get(int(c), '01')}99{b:%Y%m%d}{q:03d}"
        ids.append(body + id_card_check_digit(body))
    nets = np.array(["192.0.2", "198.51.100", "203.0.113"])
    ip = [f"{a}.{b}" for a, b in zip(rng.choice(nets, size=n), rng.integers(1, 255, size=n))]
    city_zh = {1: "郑州市", 2: "洛阳市", 3: "开封市", 4: "新乡市", 5: "南阳市"}
    road, bldg, unit = rng.integers(1, 300, size=n), rng.integers(1, 30, size=n), rng.integers(1, 6, size=n)
    address = [f"{city_zh.get(int(c), '郑州市')}示例路{a}号{b}栋{u}单元"
               for c, a, b, u in zip(ctx["city"].to_numpy(), road, bldg, unit)]
    wechat = [f"测试用户{x:06d}" for x in rng.integers(0, 10 ** 6, size=n)]
    return pd.DataFrame({"pii_name": name, "pii_phone": phone, "pii_id_card": ids, "pii_ip": ip,
                         "pii_address": address, "pii_wechat": wechat})


def simulate_sample(n: int, communities: int, seed, population=None, instrument=None) -> SimulatedSample:
    """Draw a raw sample with the response process of the population model.

    Parameters
    ----------
    n : int
        Number of submissions (rows of the export), duplicates included.
    communities : int
        Number of communities.
    seed : int
        Seed of ``np.random.default_rng``.
    population, instrument : optional
        As in :func:`simulate_responses`.

    Returns
    -------
    SimulatedSample

    Notes
    -----
    Of the ``n - round(duplicate_rate * n)`` distinct respondents, exactly
    ``round(careless_rate * .)`` answer carelessly (a share
    ``careless_straight_share`` straight-line one answer through every item
    and the attention check, the rest answer uniformly at random) and
    ``round(speeder_rate * .)`` are speeders who answer at random in far too
    little time.  Attentive respondents skip items missing at random with a
    probability rising with age band, and answer "don't know" to an item that
    offers it, instead of the answer their latent score gives, with the
    probability ``dont_know_prob_by_role`` of their role (drawn independently
    across items; never on an item they skipped).  ``round(duplicate_rate * n)``
    attentive respondents submit their answers a second time a few minutes
    later.
    """
    n = int(n)
    if n < 2 or int(communities) < 1:
        raise ValueError(f"n must be at least 2 and communities positive (got n={n}, communities={communities})")
    pop = _population(population)
    inst = _instrument(instrument)
    rp = pop.response
    rng = np.random.default_rng(seed)
    n_dup = int(round(rp.duplicate_rate * n))
    n_u = n - n_dup
    data, eta = _core(n_u, int(communities), rng, pop, inst)
    item_codes = [it.code for it in inst.items]
    attn = inst.attention_check.code
    answer_cols = item_codes + [attn]

    status = np.array(["valid"] * n_u, dtype=object)
    n_care = int(round(rp.careless_rate * n_u))
    n_speed = int(round(rp.speeder_rate * n_u))
    chosen = rng.choice(n_u, size=n_care + n_speed, replace=False)
    care, speed = chosen[:n_care], chosen[n_care:]
    n_straight = int(round(rp.careless_straight_share * n_care))
    straight, random_ = care[:n_straight], care[n_straight:]
    status[straight] = "careless_straight"
    status[random_] = "careless_random"
    status[speed] = "speeder"
    vals = data[answer_cols].to_numpy(dtype=float, copy=True)
    vals[straight, :] = rng.choice([1, 3, 4, 5], size=n_straight, p=[0.1, 0.3, 0.3, 0.3])[:, None]
    rnd = np.concatenate([random_, speed])
    vals[rnd, :] = rng.integers(1, 6, size=(len(rnd), len(answer_cols)))
    # item nonresponse (attentive respondents only), missing at random given age band
    valid = status == "valid"
    ages = np.array(sorted(pop.age_band_probs))
    pa = np.array([pop.age_band_probs[a] for a in ages])
    odds = rp.missing_odds_per_age_band ** (ages - ages.mean())
    scale = rp.missing_rate / np.sum(pa * odds)
    p_row = scale * rp.missing_odds_per_age_band ** (data["age_band"].to_numpy() - ages.mean())
    miss = (rng.random((n_u, len(item_codes))) < p_row[:, None]) & valid[:, None]
    vals[:, : len(item_codes)] = np.where(miss, np.nan, vals[:, : len(item_codes)])
    # don't know (missing by design) on the items that offer it: attentive respondents, by role
    dk_cols = [j for j, it in enumerate(inst.items) if it.dont_know]
    p_dk = (_lookup_array(rp.dont_know_prob_by_role, data["role"].to_numpy().astype(int))
            if rp.dont_know_prob_by_role else np.zeros(n_u))
    dk = (rng.random((n_u, len(dk_cols))) < p_dk[:, None]) & valid[:, None] & ~miss[:, dk_cols]
    if dk.any():
        vals[:, dk_cols] = np.where(dk, float(inst.scale.dont_know.value), vals[:, dk_cols])
    data[answer_cols] = vals

    # completion times and submission times
    duration = rp.duration_median_s * np.exp(rp.duration_sdlog * rng.standard_normal(n_u))
    lo, hi = rp.speeder_duration_s
    duration[speed] = rng.uniform(lo, hi, size=len(speed))
    data["duration_s"] = np.round(duration)
    start, end = pop.fieldwork
    days = (end - start).days + 1
    offs = rng.integers(0, days, size=n_u) * 86400 + rng.integers(7 * 3600, 22 * 3600, size=n_u)
    data["submitted"] = pd.Timestamp(start) + pd.to_timedelta(offs, unit="s")
    pii = _fake_identifiers(rng, n_u, data, data["submitted"])
    data = pd.concat([data, pii], axis=1)
    data["suggestion"] = open_answers(data)

    truth = pd.DataFrame({"status": status, "n_missing": miss.sum(axis=1), "n_dont_know": dk.sum(axis=1)})
    for j, lv in enumerate(STRUCTURAL):
        truth[f"true_{lv}"] = eta[:, j]
    truth["person"] = np.arange(n_u)

    # duplicate submissions of attentive respondents
    if n_dup:
        orig = np.sort(rng.choice(np.flatnonzero(valid), size=n_dup, replace=False))
        dup = data.iloc[orig].copy()
        dup["submitted"] = dup["submitted"] + pd.to_timedelta(rng.integers(60, 1800, size=n_dup), unit="s")
        dup["duration_s"] = np.round(rp.duration_median_s * np.exp(rp.duration_sdlog * rng.standard_normal(n_dup)))
        tdup = truth.iloc[orig].copy()
        tdup["status"] = "duplicate"
        data = pd.concat([data, dup], ignore_index=True)
        truth = pd.concat([truth, tdup], ignore_index=True)

    order = np.lexsort((np.arange(len(data)), data["submitted"].to_numpy()))
    data = data.iloc[order].reset_index(drop=True)
    truth = truth.iloc[order].reset_index(drop=True)
    truth.insert(0, "row", np.arange(1, n + 1))
    truth.insert(1, "resp_id", [pseudonym(i) for i in range(1, n + 1)])
    first_row = {}
    dup_of = []
    for r, (person, st) in enumerate(zip(truth["person"], truth["status"]), 1):
        if st == "duplicate":
            dup_of.append(float(first_row[person]))
        else:
            first_row[person] = r
            dup_of.append(np.nan)
    truth.insert(3, "duplicate_of", dup_of)
    truth = truth.drop(columns="person")
    return SimulatedSample(data=data, truth=truth)


def community_frame(pop: Population, communities: int, seed) -> pd.DataFrame:
    """The synthetic sampling frame: each community's code, city and households.

    Parameters
    ----------
    pop : Population
        Its ``community_households`` (lognormal ``meanlog``, ``sdlog``).
    communities : int
    seed : int
        The sample's seed; the frame draws from its own stream
        (``default_rng([seed, 7])``), so it leaves the sample unchanged.

    Returns
    -------
    pandas.DataFrame
        ``community, city, households`` (the codes the sample uses).
    """
    hh = pop.community_households
    if not hh:
        raise ValueError("the population model has no community_households section")
    counts = _allocate(int(communities), np.array([c.weight for c in pop.cities]))
    codes = [(f"{city.prefix}{j + 1:02d}", city.code) for city, cnt in zip(pop.cities, counts) for j in range(cnt)]
    rng = np.random.default_rng([int(seed), 7])
    households = np.round(np.exp(hh["meanlog"] + hh["sdlog"] * rng.standard_normal(len(codes)))).astype(int)
    return pd.DataFrame({"community": [c for c, _ in codes], "city": [k for _, k in codes],
                         "households": households})


def frame_path_for(export_path) -> Path:
    """The sampling frame written beside a synthetic export: ``community_frame.csv``."""
    return Path(export_path).with_name("community_frame.csv")


def dont_know_as_missing(data: pd.DataFrame, instrument=None) -> pd.DataFrame:
    """Simulated answers with the don't-know code read as missing, as ingestion reads it.

    :attr:`SimulatedSample.data` holds the items as answered, the
    don't-know code (8) included; code that takes a simulated sample for
    processed data (NaN for every missing answer, never a sentinel) passes it
    through here first.

    Parameters
    ----------
    data : pandas.DataFrame
        Item columns as answered (other columns are copied unchanged).
    instrument : Instrument, optional

    Returns
    -------
    pandas.DataFrame
        A copy in which the don't-know code of every item that offers it is NaN.

    Examples
    --------
    >>> dont_know_as_missing(pd.DataFrame({"PL2": [8.0, 3.0], "PL1": [8.0, 3.0]})).to_dict("list")
    {'PL2': [nan, 3.0], 'PL1': [8.0, 3.0]}
    """
    inst = _instrument(instrument)
    out = data.copy()
    dk = inst.scale.dont_know
    cols = [c for c in inst.dont_know_codes if c in out.columns]
    if dk is not None and cols:
        out[cols] = out[cols].mask(out[cols] == dk.value)
    return out


def truth_path_for(export_path) -> Path:
    """The truth file written beside an export: ``<stem>.truth.json``."""
    p = Path(export_path)
    return p.with_name(p.stem + ".truth.json")


def simulate_to_file(n: int, communities: int, seed: int, fmt: str = "wjx", out=None,
                     population_path=None, instrument=None) -> tuple[Path, Path]:
    """Simulate a raw platform export and write it with its truth file.

    Parameters
    ----------
    n, communities, seed
        As in :func:`simulate_sample`.
    fmt : {"wjx", "kobo", "csv"}
        问卷星 (CSV in GB18030, or XLSX when ``out`` ends in ``.xlsx``),
        KoboToolbox CSV, or a codebook-named CSV.
    out : path-like
        The export file to write (default
        ``data/raw/synthetic/wjx_synthetic.csv``).
    population_path : path-like, optional
        Defaults to ``paths.DEFAULT.population_model``.

    Returns
    -------
    (Path, Path)
        The export and its truth file ``<stem>.truth.json``; the truth holds
        the settings, the true parameters, counts per status and one record
        per export row (``row, resp_id, status, duplicate_of, n_missing,
        n_dont_know, true_<LATENT>``).
    """
    from .exports import FORMATS, write_export

    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out) if out is not None else paths.DEFAULT.raw / "synthetic" / "wjx_synthetic.csv"
    pop = _population(population_path)
    per_city = _allocate(int(communities), np.array([c.weight for c in pop.cities]))
    if per_city.max() > 99:
        raise ValueError(f"{communities} communities would give a city {per_city.max()} communities; community "
                         "codes (two letters and two digits) allow at most 99 per city")
    inst = _instrument(instrument)
    sample = simulate_sample(n, communities, seed, pop, inst)
    write_export(sample.data, fmt, out, inst)
    truth = {
        "note": "Synthetic data: simulated from the declared population model, not fieldwork. "
                "Identifiers in the export are fake.",
        "settings": {"n": int(n), "communities": int(communities), "seed": seed, "format": fmt,
                     "export": out.name},
        "parameters": pop.to_dict(),
        "counts": {s: int((sample.truth["status"] == s).sum()) for s in STATUS},
        "rows": sample.truth.round(6),
    }
    tpath = truth_path_for(out)
    write_json(tpath, truth)
    if pop.community_households:
        from ..io import write_csv

        write_csv(frame_path_for(out), community_frame(pop, communities, seed))
    return out, tpath
