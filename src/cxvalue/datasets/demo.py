"""The demo company: a seeded simulator of SkyWay Airlines (天途航空).

:func:`generate` returns the eight contract tables of :mod:`cxvalue.schema` (customers,
acquisition, referrals, transactions, subscriptions, responses, complaints,
churn_events) as pandas DataFrames with canonical column names and dtypes;
:func:`iter_generate` yields them in chunks so that millions of customers can be
written with bounded memory; :func:`write_demo` writes one Parquet (or CSV) file per
table. Known effects are planted in the data so that analyses can be tested for recovering
them; their sizes are read from the data file ``ground_truth.yaml`` beside this module
(:data:`GROUND_TRUTH` is that file plus what follows from it; docs/demo.md explains them).

How one customer is simulated (everything is vectorised with numpy):

* a latent satisfaction class (dissatisfied / neutral / satisfied) and score ``z``
  drive *both* behaviour (purchase rate, spend, dropout, renewals, complaints,
  referrals, share of wallet) and survey answers (experience ratings → NPS);
* purchases follow a buy-till-you-die story as in BG/NBD: a Poisson purchase rate
  λ ~ Gamma, and after each repeat purchase the customer drops out with a
  probability p ~ Beta; spend per ticket follows the Gamma-Gamma model;
* the relationship lifecycle (concepts.md G1/G2) is counted in purchases: exploration
  (first three purchases), formation (repeats 3-7), stability (8+) and decline (the
  last three purchases before the dropout, at a falling rate). The lifecycle pattern
  is therefore set by the dropout index J ~ Geometric(p): early abort (J ≤ 2),
  mid-way abort (3-7), early exit (8-20) and long-term retention (J > 20), in shares
  known in closed form (``GROUND_TRUTH["lifecycle"]["pattern_share"]``);
* unresolved complaints and departing salespeople add a churn hazard on top.

Determinism: customers are simulated in blocks of :data:`BLOCK_SIZE`, each with its own
random stream (``SeedSequence(seed, spawn_key=(block,))``); chunks are whole blocks,
so the output depends on ``seed``, ``n_customers`` and ``end_date`` only, never on
the chunk size. Referrals link customers of the same block.
"""
from __future__ import annotations

import copy
import functools
import math
from pathlib import Path
from types import SimpleNamespace
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from ..errors import CxValueError
from ..schema import EXPERIENCE_DIMENSIONS, TABLE_ORDER, TABLES
from ..timeutil import DAYS_PER, as_date
from ..holdout import in_holdout
from ._demo_bank import AIRPORTS, CASE_ACTION, CASE_TEXT, COMPENSATION, COMPLAINT_TEXT, NEG, NEUTRAL, POS

__all__ = ["generate", "iter_generate", "write_demo", "GROUND_TRUTH", "GROUND_TRUTH_FILE", "load_ground_truth", "BLOCK_SIZE",
           "TRUTH_COLUMNS"]

#: customers simulated with one random stream; chunks are whole blocks
BLOCK_SIZE = 25_000

CLASSES = ("dissatisfied", "neutral", "satisfied")
SEGMENTS = ("leisure", "business", "corporate", "student")
CHANNELS = ("app", "web", "phone", "counter", "agent")
STAGES = ("exploration", "formation", "stability", "decline")
PATTERNS = ("early_abort", "midway_abort", "early_exit", "long_term")
ADDONS = ("upgrade", "baggage", "lounge", "seat")
TIERS = ("blue", "silver", "gold", "platinum")
TOUCHPOINTS = ("app", "website", "call_centre", "reception", "agent", "sales_staff", "cabin_crew")
DIMS = EXPERIENCE_DIMENSIONS  # product, price, service, convenience, brand_image, relationship
COMPLAINT_CATEGORIES = ("delay", "baggage", "service", "refund", "booking", "points")
SEVERITIES = ("low", "medium", "high")
EXIT_CAUSES = ("dropout", "complaint", "salesperson", "unheard_detractor")  # the last: the closed loop's plant
VOLUNTARY_REASONS = ("death", "moved", "changed_preference", "friend_recommendation", "better_product_elsewhere",
                     "product_dissatisfaction", "staff_indifference")
INVOLUNTARY_REASONS = ("repositioning", "business_change", "bundling", "raised_threshold")
REASONS = VOLUNTARY_REASONS + INVOLUNTARY_REASONS + ("unresolved_complaint", "salesperson_left")


def _beta_geometric_survival(a: float, b: float, k: int) -> float:
    """P(J > k) for J ~ Geometric(p), p ~ Beta(a, b): B(a, b + k) / B(a, b)."""
    lb = math.lgamma(a) + math.lgamma(b + k) - math.lgamma(a + b + k)
    return math.exp(lb - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)))


def _pattern_shares(gt: dict) -> dict:
    """Closed-form lifecycle pattern shares per satisfaction class, VIP and overall."""
    class_share, seg_share = gt["satisfaction"]["share"], gt["segments"]["share"]
    vip_p, beta = gt["segments"]["vip_probability"], gt["dropout"]["beta"]
    b_mult, max_j = gt["dropout"]["vip_b_multiplier"], tuple(gt["lifecycle"]["pattern_max_dropout_index"].values())
    vip = sum(seg_share[s] * vip_p[s] for s in SEGMENTS)

    def bands(a, b):
        s = [1.0] + [_beta_geometric_survival(a, b, k) for k in max_j] + [0.0]
        return [s[i] - s[i + 1] for i in range(4)]

    by_class, by_vip, overall = {}, {False: [0.0] * 4, True: [0.0] * 4}, [0.0] * 4
    for c in CLASSES:
        a, b = beta[c]
        mix = [0.0] * 4
        for v, wv in ((False, 1 - vip), (True, vip)):
            sh = bands(a, b * (b_mult if v else 1.0))
            mix = [m + wv * x for m, x in zip(mix, sh)]
            by_vip[v] = [m + class_share[c] * x for m, x in zip(by_vip[v], sh)]
        by_class[c] = dict(zip(PATTERNS, (round(x, 4) for x in mix)))
        overall = [o + class_share[c] * x for o, x in zip(overall, mix)]
    return {"overall": dict(zip(PATTERNS, (round(x, 4) for x in overall))), "by_class": by_class,
            "vip": dict(zip(PATTERNS, (round(x, 4) for x in by_vip[True]))),
            "non_vip": dict(zip(PATTERNS, (round(x, 4) for x in by_vip[False])))}


def _switch_hazard(gt: dict) -> tuple[float, float]:
    """Switching hazard per day after an unresolved and after a resolved complaint: the unresolved
    one makes ``switch_probability.unresolved`` switch within the window (concepts.md F3)."""
    c = gt["complaints"]
    unresolved = -math.log(1 - c["switch_probability"]["unresolved"]) / c["switch_window_days"]
    return unresolved, unresolved / c["hazard_multiplier_unresolved_vs_resolved"]


def _add_derived(gt: dict) -> dict:
    """Add to the parameters read from the file the vocabularies and the values that follow from
    the parameters in closed form (listed at the top of ground_truth.yaml)."""
    gt["satisfaction"]["classes"] = CLASSES
    gt["experience"]["dimensions"] = DIMS
    gt["addons"]["stage_order"] = STAGES
    gt["churn"]["involuntary_reasons"] = INVOLUNTARY_REASONS
    sow = gt["customers"]["share_of_wallet"]
    sow["mean"] = {c: round(a / sow["concentration"], 4) for c, a in sow["a"].items()}
    gt["dropout"]["mean_p"] = {c: round(a / (a + b), 4) for c, (a, b) in gt["dropout"]["beta"].items()}
    gt["lifecycle"]["pattern_share"] = _pattern_shares(gt)
    inc = gt["incentive"]
    inc["expected_repeat_ticket_share"] = round(inc["deal_seeker_share"] * inc["p_repeat_ticket"]["deal_seeker"]
                                                + (1 - inc["deal_seeker_share"]) * inc["p_repeat_ticket"]["other"], 4)
    seg = gt["segments"]
    gt["vip"]["share_expected"] = round(sum(seg["share"][s] * seg["vip_probability"][s] for s in SEGMENTS), 4)
    gt["vip"]["dropout"] = f"Beta b x {gt['dropout']['vip_b_multiplier']} (mean dropout about 0.35x)"
    c = gt["complaints"]
    h_unresolved, h_resolved = _switch_hazard(gt)
    c["switch_hazard_per_day"] = {"unresolved": round(h_unresolved, 6), "resolved": round(h_resolved, 6)}
    c["switch_probability"]["resolved"] = round(1 - math.exp(-h_resolved * c["switch_window_days"]), 4)
    return gt


#: the file of the planted parameters, beside this module
GROUND_TRUTH_FILE = Path(__file__).with_name("ground_truth.yaml")


def load_ground_truth(path: str | Path = GROUND_TRUTH_FILE) -> dict:
    """The planted ground truth: the parameters in ``ground_truth.yaml`` plus the values that
    follow from them (pattern shares, mean dropout, switching hazards ...). A new dict each call."""
    import yaml
    with open(path, encoding="utf-8") as f:
        return _add_derived(yaml.safe_load(f))


#: Everything planted in the demo data (ground_truth.yaml and what follows from it). The
#: simulator reads its own copy, so editing this dict does not change the simulation.
GROUND_TRUTH: dict = load_ground_truth()
_G = copy.deepcopy(GROUND_TRUTH)

DEFAULT_END_DATE = _G["window"]["default_end_date"]
WINDOW_YEARS = _G["window"]["years"]

#: columns of the optional ``truth`` table (``generate(..., truth=True)``): the latent state per customer
TRUTH_COLUMNS = ("customer_id", "satisfaction_class", "latent_satisfaction", "language", "deal_seeker",
                 "high_maintenance", "purchase_rate", "mean_fare", "dropout_probability", "dropout_index",
                 "lifecycle_pattern", "exit_date", "exit_cause", "referred")


# ----------------------------------------------------------------------------------------------
# parameters as arrays (from the simulator's copy _G of GROUND_TRUTH)
def _arr(d: dict, keys) -> np.ndarray:
    return np.array([d[k] for k in keys], dtype=float)


_CLASS_P = _arr(_G["satisfaction"]["share"], CLASSES)
_Z_MEAN = _arr(_G["satisfaction"]["latent_mean"], CLASSES)
_Z_SD = _G["satisfaction"]["latent_sd"]
_SEG_P = _arr(_G["segments"]["share"], SEGMENTS)
_SEG_RATE = _arr(_G["segments"]["purchase_rate_multiplier"], SEGMENTS)
_SEG_SPEND = _arr(_G["segments"]["spend_multiplier"], SEGMENTS)
_SEG_VIP = _arr(_G["segments"]["vip_probability"], SEGMENTS)
_RATE_R = _G["purchase_rate"]["gamma_shape_r"]
_RATE_SCALE = _G["purchase_rate"]["base_mean_per_year"] / _RATE_R / DAYS_PER["year"]  # per day
_CLASS_RATE = _arr(_G["purchase_rate"]["class_multiplier"], CLASSES)
_GG_P, _GG_Q, _GG_GAMMA = _G["spend"]["p"], _G["spend"]["q"], _G["spend"]["gamma"]
_CLASS_SPEND = _arr(_G["spend"]["class_multiplier"], CLASSES)
_VIP_SPEND = _G["spend"]["vip_multiplier"]
_QTY_P = np.array(list(_G["spend"]["quantity_share"].values()))
_DROP_A = np.array([_G["dropout"]["beta"][c][0] for c in CLASSES])
_DROP_B = np.array([_G["dropout"]["beta"][c][1] for c in CLASSES])
_VIP_B_MULT = _G["dropout"]["vip_b_multiplier"]
_PATTERN_J = np.array(list(_G["lifecycle"]["pattern_max_dropout_index"].values()))  # by PATTERNS, long_term: above
_GAP = _G["lifecycle"]["rate_multiplier_by_gap"]
_GAP_MULT = np.array([1.0, _GAP["1-2"], _GAP["1-2"]] + [_GAP[str(k)] for k in range(3, 8)])  # by k (k >= 8: 1)
_DECLINE_MULT = _arr(_G["lifecycle"]["decline_rate_multiplier"], ("J", "J-1", "J-2"))  # by J - k = 0, 1, 2
_STAGE_SPEND = _arr(_G["lifecycle"]["spend_multiplier"], STAGES)
_STAGE_COST = _arr(_G["lifecycle"]["serve_cost_multiplier"], STAGES)
_ACQ_P = _arr(_G["channels"]["acquisition_share"], CHANNELS)
_ACQ_COST = _arr(_G["channels"]["acquisition_cost_mean_cny"], CHANNELS)
_BUY_P = _arr(_G["channels"]["purchase_share"], CHANNELS)
_SERVE = _arr(_G["channels"]["serve_cost_cny"], CHANNELS)
_ADDON_P = np.array([_G["addons"]["probability_by_stage"][a] for a in ADDONS])  # (addon, stage)
_SUB_PLANS = tuple(_G["subscription"]["plans"])
_SUB_P = np.array([v[0] for v in _G["subscription"]["plans"].values()])
_SUB_PRICE = np.array([v[1] for v in _G["subscription"]["plans"].values()])
_SUB_YEARLY = np.array([v[2] == "year" for v in _G["subscription"]["plans"].values()])
_RENEW_Y = _arr(_G["subscription"]["renewal_probability"]["year"], CLASSES)
_RENEW_M = _arr(_G["subscription"]["renewal_probability"]["month"], CLASSES)
_CMP_P = _arr(_G["complaints"]["probability_per_ticket"], CLASSES)
_CMP_CAT_P = _arr(_G["complaints"]["category_share"], COMPLAINT_CATEGORIES)
_CMP_RES = _arr(_G["complaints"]["resolve_probability"], COMPLAINT_CATEGORIES)
_SEV_P = _arr(_G["complaints"]["severity_share"], SEVERITIES)
_SEV_RES = _arr(_G["complaints"]["severity_resolve_factor"], SEVERITIES)
_CMP_CH_P = _arr(_G["complaints"]["channel_share"], CHANNELS)
_HAZARD_U, _HAZARD_R = _switch_hazard(_G)      # per day after an unresolved / a resolved complaint
_SWITCH_WINDOW = _G["complaints"]["switch_window_days"]
_REF_W = _arr(_G["referrals"]["referrer_weight"], CLASSES)
_SOW_A = _arr(_G["customers"]["share_of_wallet"]["a"], CLASSES)
_SOW_N = _G["customers"]["share_of_wallet"]["concentration"]
_TIER_MIN = _arr(_G["customers"]["member_tier_min_tickets_per_year"], TIERS[1:])  # silver, gold, platinum
_VOL_P = _arr(_G["churn"]["voluntary_reason_share"], VOLUNTARY_REASONS)
_EXP = _G["experience"]
_MU_X = _arr(_EXP["experience_mean"], DIMS)
_MU_E = _arr(_EXP["expectation_mean"], DIMS)
_MU_I = _arr(_EXP["importance_mean"], DIMS)
_MU_IDEAL = _arr(_EXP["ideal_mean"], DIMS)
_TP_OFF = np.array([[_EXP["touchpoint_offset"].get(tp, {}).get(d, 0.0) for d in DIMS] for tp in TOUCHPOINTS])
_DEAL_OFF = np.array([_G["incentive"]["deal_seeker_experience_offset"].get(d, 0.0) for d in DIMS])
_NPS_W = _arr(_G["nps"]["weights"], DIMS)
_CONV = DIMS.index("convenience")

_AP_CODE = np.array([a[0] for a in AIRPORTS])
_N_AP = len(AIRPORTS)
_HOME_P = np.array([a[5] for a in AIRPORTS])
_HOME_P = _HOME_P / _HOME_P.sum()
_DEST_W = np.array([a[6] for a in AIRPORTS])
_INTL = np.array([a[2] == "Overseas" for a in AIRPORTS])
_EN = _G["customers"]["english_share_by_home"]
_EN_P = np.where(np.isin(_AP_CODE, _EN["airports"]), _EN["share"], _EN["other"])  # by home airport


def _routes():
    lat, lon = np.radians([a[3] for a in AIRPORTS]), np.radians([a[4] for a in AIRPORTS])
    dlat, dlon = lat[:, None] - lat[None, :], lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    km = 2 * 6371 * np.arcsin(np.sqrt(h))
    rf = _G["spend"]["route_factor"]
    factor = (rf["base"] + km / rf["km_divisor"]) * np.where(_INTL[None, :] | _INTL[:, None],
                                                             rf["international_multiplier"], 1.0)
    dest = _DEST_W[None, :] * (1 - np.eye(_N_AP))
    dest = dest / dest.sum(axis=1, keepdims=True)          # destination choice per origin
    demand = _HOME_P[:, None] * dest
    factor = factor / (demand * factor).sum()               # demand-weighted mean fare factor 1
    names = np.array([f"{o}-{d}" for o in _AP_CODE for d in _AP_CODE], dtype=object)
    return factor.ravel(), np.cumsum(dest, axis=1), names


_ROUTE_FACTOR, _DEST_CUM, _ROUTE_NAMES = _routes()


def _bank():
    """Flat phrase bank: list of (zh, en); index arrays per (kind, dimension)."""
    flat, neg, pos = [], [], []
    for d in DIMS:
        neg.append(np.arange(len(flat), len(flat) + len(NEG[d])))
        flat.extend(NEG[d])
        pos.append(np.arange(len(flat), len(flat) + len(POS[d])))
        flat.extend(POS[d])
    neutral = np.arange(len(flat), len(flat) + len(NEUTRAL))
    flat.extend(NEUTRAL)
    return flat, neg, pos, neutral


_PHRASES, _NEG_IDX, _POS_IDX, _NEUTRAL_IDX = _bank()


# ----------------------------------------------------------------------------------------------
# helpers
def _choice(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """n draws from a categorical distribution (vectorised inverse CDF)."""
    cum = np.cumsum(p) / np.sum(p)
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(p) - 1)


def _pick(rng: np.random.Generator, options: list[np.ndarray], which: np.ndarray) -> np.ndarray:
    """For each row pick uniformly one element of ``options[which[row]]``."""
    sizes = np.array([len(o) for o in options])
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    flat = np.concatenate(options)
    u = rng.random(len(which))
    return flat[starts[which] + np.minimum((u * sizes[which]).astype(np.int64), sizes[which] - 1)]


def _str_dtype():
    """pandas' default string dtype of pandas 3 (Arrow-backed, NaN for missing), also on pandas 2."""
    try:
        return pd.StringDtype("pyarrow", na_value=np.nan)
    except TypeError:  # pandas 2.2
        return pd.StringDtype("pyarrow_numpy")


_STR = _str_dtype()


def _strings(codes: np.ndarray, labels) -> pd.api.extensions.ExtensionArray:
    """pandas ``str`` array from integer codes into ``labels`` (code < 0 → missing)."""
    import pyarrow as pa
    codes = np.asarray(codes)
    idx = pa.array(codes.astype(np.int32), mask=codes < 0)
    arr = pa.DictionaryArray.from_arrays(idx, pa.array(list(labels), pa.string())).cast(pa.string())
    return pd.array(arr, dtype=_STR)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pd.api.extensions.ExtensionArray:
    """Identifiers ``prefix`` + zero-padded number (vectorised in Arrow)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    s = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, padding="0")
    return pd.array(pc.binary_join_element_wise(pa.scalar(prefix), s, ""), dtype=_STR)


def _take(strings, idx: np.ndarray) -> pd.api.extensions.ExtensionArray:
    return strings.take(np.asarray(idx, dtype=np.int64))


def _group_min(keys: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.inf)
    np.minimum.at(out, keys, values)
    return out


@functools.lru_cache(maxsize=8)
def _calendar(end: str) -> dict:
    """Window, seasonal time warp and signup distribution for an end date (cached)."""
    end_day = np.datetime64(end, "D")
    stop = pd.Timestamp(end_day) + pd.Timedelta(days=1)
    start = np.datetime64((stop - pd.DateOffset(years=WINDOW_YEARS)).date(), "D")
    n_days = int((end_day + 1 - start).astype(int))
    days = start + np.arange(n_days)
    month = days.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(int) + 1
    sv = _G["window"]["seasonality"]
    season = np.ones(n_days)
    season[((month == 1) & (dom >= 20)) | ((month == 2) & (dom <= 20))] = sv["spring_festival_jan20_feb20"]
    season[(month == 7) | (month == 8)] = sv["summer_jul_aug"]
    season[(month == 10) & (dom <= 7)] = sv["golden_week_oct1_7"]
    season[(month == 3) | (month == 11)] = sv["march_november"]
    season /= season.mean()
    warp = np.concatenate(([0.0], np.cumsum(season)))  # operational time at each day boundary
    trend = 1 + _G["window"]["signup_trend"]["rise"] * np.arange(n_days) / n_days
    dens = trend * season
    signup_cdf = np.concatenate(([0.0], np.cumsum(dens) / dens.sum()))
    improve = stop - pd.DateOffset(months=_EXP["convenience_improvement"]["months_before_end"])
    return {"start": start, "n_days": n_days, "grid": np.arange(n_days + 1, dtype=float), "warp": warp,
            "signup_cdf": signup_cdf, "improve_day": float((np.datetime64(improve.date(), "D") - start).astype(int)),
            "start_year": int(str(start)[:4])}


@functools.lru_cache(maxsize=8)
def _owner_departures(seed: int, end: str) -> np.ndarray:
    """Departure day (inf when staying) of each of the 120 salespeople; one stream per seed."""
    cal = _calendar(end)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2 ** 31,)))
    n = _G["salespeople"]["owners"]
    leaves = rng.random(n) < _G["salespeople"]["departing_share"]
    day = rng.uniform(365.0, cal["n_days"] - 30.0, n)
    return np.where(leaves, day, np.inf)


def _to_time(cal: dict, t: np.ndarray) -> np.ndarray:
    """Days since window start (float) → datetime64[us], truncated to the second."""
    sec = np.floor(np.asarray(t, dtype=float) * 86_400.0)
    out = cal["start"].astype("datetime64[s]") + np.where(np.isfinite(sec), sec, 0).astype(np.int64)
    out = out.astype("datetime64[us]")
    out[~np.isfinite(sec)] = np.datetime64("NaT")
    return out


def _to_date(cal: dict, t: np.ndarray) -> np.ndarray:
    """Days since window start (float) → datetime64[us] at midnight (a contract ``date``)."""
    t = np.asarray(t, dtype=float)
    out = (cal["start"] + np.where(np.isfinite(t), np.floor(t), 0).astype(np.int64)).astype("datetime64[us]")
    out[~np.isfinite(t)] = np.datetime64("NaT")
    return out


# ----------------------------------------------------------------------------------------------
# one block of customers: each step reads and adds arrays on a namespace ``b``
def _simulate_block(seed: int, block: int, first: int, n: int, end: str, id_width: int,
                    truth: bool, closed_loop: bool = False, follow_up_effect: bool = True) -> dict[str, pd.DataFrame]:
    cal = _calendar(end)
    b = SimpleNamespace(rng=np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,))), cal=cal,
                        D=float(cal["n_days"]), n=n, block=block, seed=seed, end=end)
    _draw_customers(b)
    _draw_purchases(b)
    _draw_exits(b)
    b.cust_ids = _ids("C", first + np.arange(n) + 1, id_width)
    out = {"transactions": _transactions(b), "referrals": _referrals(b), "acquisition": _acquisition(b),
           "customers": _customers(b), "subscriptions": _subscriptions(b, first, id_width),
           "responses": _responses(b), "complaints": _complaints(b), "churn_events": _churn_events(b)}
    out.update(_closed_loop(b, out, follow_up_effect))
    out["campaigns"] = _campaigns(b)
    out["events"], failed = _events(b)
    out["responses"] = _after_outage(b, out["responses"], failed)
    if truth:
        out["truth"] = _truth(b)
    return {name: out[name] for name in _tables(truth, closed_loop)}


def _draw_customers(b) -> None:
    """Latent state and profile of each customer."""
    rng, n, G = b.rng, b.n, _G
    b.cls = _choice(rng, _CLASS_P, n)
    b.z = _Z_MEAN[b.cls] + _Z_SD * rng.standard_normal(n)
    b.seg = _choice(rng, _SEG_P, n)
    b.acq = _choice(rng, _ACQ_P, n)
    b.vip = rng.random(n) < _SEG_VIP[b.seg]
    b.deal = rng.random(n) < G["incentive"]["deal_seeker_share"]
    b.high_maint = rng.random(n) < G["transactions"]["high_maintenance_share"]
    b.home = _choice(rng, _HOME_P, n)
    b.english = rng.random(n) < _EN_P[b.home]
    b.female = rng.random(n) < np.where(b.seg == 0, G["customers"]["female_share"]["leisure"],
                                        G["customers"]["female_share"]["other"])
    by = G["customers"]["birth_year"]
    b.birth = np.where(b.seg == 3, rng.integers(by["student"][0], by["student"][1] + 1, n),
                       np.clip(np.round(rng.normal(by["other_mean"], by["other_sd"], n)), *by["other_range"])
                       ).astype(np.int64)
    b.t0 = np.interp(rng.random(n), b.cal["signup_cdf"], b.cal["grid"])       # signup = first purchase
    b.lam = rng.gamma(_RATE_R, _RATE_SCALE, n) * _SEG_RATE[b.seg] * _CLASS_RATE[b.cls]  # per operational day
    nu = rng.gamma(_GG_Q, 1.0 / _GG_GAMMA, n)
    b.mean_fare = _GG_P / nu * _CLASS_SPEND[b.cls] * _SEG_SPEND[b.seg] * np.where(b.vip, _VIP_SPEND, 1.0)
    b.p_drop = rng.beta(_DROP_A[b.cls], _DROP_B[b.cls] * np.where(b.vip, _VIP_B_MULT, 1.0))
    b.J = np.minimum(rng.geometric(np.maximum(b.p_drop, 1e-12)), 10 ** 9)       # repeat purchase of the dropout
    b.pattern = np.searchsorted(_PATTERN_J, b.J, side="left")
    b.fav = (_DEST_CUM[b.home] < rng.random(n)[:, None]).sum(axis=1)            # favourite destination
    b.pref = np.where(rng.random(n) < G["channels"]["preferred_is_acquisition_channel"], b.acq,
                      _choice(rng, _BUY_P, n))
    b.owner = np.full(n, -1)
    corp = b.seg == 2
    sp = G["salespeople"]
    b.owner[corp] = rng.integers(sp["corporate_owners"][0] - 1, sp["corporate_owners"][1], corp.sum())
    agent_owned = (b.acq == 4) & ~corp
    b.owner[agent_owned] = rng.integers(sp["agent_owners"][0] - 1, sp["agent_owners"][1], agent_owned.sum())


def _draw_purchases(b) -> None:
    """Ticket purchases: a time-changed Poisson process (seasonality) whose rate follows the
    lifecycle stage, stopped by the dropout after repeat purchase J (BG/NBD)."""
    rng, n, cal = b.rng, b.n, b.cal
    grid, warp = cal["grid"], cal["warp"]
    w0 = np.interp(b.t0, grid, warp)
    mu = b.lam * (warp[-1] - w0)                                # expected repeats at full rate
    K = np.minimum(b.J, np.ceil(mu + 4 * np.sqrt(mu) + 3)).astype(np.int64)
    cust = np.repeat(np.arange(n), K)
    ends = np.cumsum(K)
    k = np.arange(len(cust)) - np.repeat(ends - K, K) + 1       # repeat purchase index 1..K
    mult = np.where(k < len(_GAP_MULT), _GAP_MULT[np.minimum(k, len(_GAP_MULT) - 1)], 1.0)
    left = b.J[cust] - k
    mult = mult * np.where(left <= 2, _DECLINE_MULT[np.clip(left, 0, 2)], 1.0)
    cs = np.cumsum(rng.standard_exponential(len(cust)) / (b.lam[cust] * mult))
    w = w0[cust] + cs - np.repeat(np.concatenate(([0.0], cs))[ends - K], K)
    keep = w < warp[-1]
    cust, k, t = cust[keep], k[keep], np.interp(w[keep], warp, grid)
    b.t_drop = np.full(n, np.inf)
    hit = k == b.J[cust]
    b.t_drop[cust[hit]] = t[hit]
    b.tk_c = np.concatenate((np.arange(n), cust))
    b.tk_k = np.concatenate((np.zeros(n, np.int64), k))
    b.tk_t = np.concatenate((b.t0, t))
    decline = (b.tk_k >= 1) & (b.tk_k >= b.J[b.tk_c] - 2)
    b.stage = np.where(decline, 3, np.where(b.tk_k <= 2, 0, np.where(b.tk_k <= 7, 1, 2)))


def _draw_exits(b) -> None:
    """Complaints (some unresolved) and departing salespeople add churn on top of the dropout;
    purchases and complaints after a customer's exit are removed."""
    rng, n, D, G = b.rng, b.n, b.D, _G
    m = len(b.tk_c)
    ci = np.nonzero(rng.random(m) < _CMP_P[b.cls[b.tk_c]])[0]
    nc = len(ci)
    c_cust = b.tk_c[ci]
    gc = G["complaints"]
    c_open = b.tk_t[ci] + rng.exponential(gc["open_delay_days_mean"], nc)
    c_cat = _choice(rng, _CMP_CAT_P, nc)
    c_sev = _choice(rng, _SEV_P, nc)
    c_resolves = rng.random(nc) < np.minimum(_CMP_RES[c_cat] * _SEV_RES[c_sev], 1.0)
    c_resolved = c_open + rng.gamma(gc["resolution_days"]["gamma_shape"], gc["resolution_days"]["gamma_scale"], nc)
    wait = rng.exponential(1.0, nc) / np.where(c_resolves, _HAZARD_R, _HAZARD_U)
    c_switch = np.where(wait <= _SWITCH_WINDOW, c_open + wait, np.inf)
    t_complaint = _group_min(c_cust, c_switch, n)
    causing = np.isfinite(c_switch) & (c_switch == t_complaint[c_cust])
    b.cause_resolved = np.zeros(n, bool)
    b.cause_resolved[c_cust[causing]] = c_resolves[causing]
    # salespeople who leave take some of their customers with them (F6)
    dep = np.where(b.owner >= 0, _owner_departures(b.seed, b.end)[np.maximum(b.owner, 0)], np.inf)
    follows = rng.random(n) < G["salespeople"]["follow_probability"]
    follow_t = dep + rng.exponential(G["salespeople"]["follow_delay_days_mean"], n)
    t_sales = np.where(follows & (b.t0 < dep) & (b.t_drop > dep) & (t_complaint > dep), follow_t, np.inf)
    exits = np.vstack((b.t_drop, t_complaint, t_sales))
    t_exit = exits.min(axis=0)
    b.t_exit = np.where(t_exit < D, t_exit, np.inf)
    b.cause = np.where(np.isfinite(b.t_exit), np.argmin(exits, axis=0), -1)
    alive = b.tk_t <= b.t_exit[b.tk_c]
    b.tk_c, b.tk_k, b.tk_t, b.stage = b.tk_c[alive], b.tk_k[alive], b.tk_t[alive], b.stage[alive]
    keep = alive[ci] & (c_open < D)
    b.c_cust, b.c_open, b.c_cat, b.c_sev = c_cust[keep], c_open[keep], c_cat[keep], c_sev[keep]
    b.c_resolved = np.where(c_resolves[keep] & (c_resolved[keep] < D), c_resolved[keep], np.inf)


def _transactions(b) -> pd.DataFrame:
    """Tickets, add-ons bought with them (up-/cross-buying) and refunds."""
    rng, D, G, gt = b.rng, b.D, _G, _G["transactions"]
    tk_c, tk_k, tk_t, stage = b.tk_c, b.tk_k, b.tk_t, b.stage
    m = len(tk_c)
    chan = np.where(rng.random(m) < G["channels"]["stick_to_preferred"], b.pref[tk_c], _choice(rng, _BUY_P, m))
    orig = b.home[tk_c]
    dest = (_DEST_CUM[orig] < rng.random(m)[:, None]).sum(axis=1)
    dest = np.where(rng.random(m) < gt["favourite_route_probability"], b.fav[tk_c], dest)
    route = orig * _N_AP + dest
    qty = _choice(rng, _QTY_P, m) + 1
    fare = b.mean_fare[tk_c] * _ROUTE_FACTOR[route] * _STAGE_SPEND[stage] * rng.gamma(_GG_P, 1.0 / _GG_P, m) * qty
    fare = np.maximum(np.round(fare), 1.0)
    inc = G["incentive"]
    inc_p = np.where(tk_k == 0, inc["p_first_ticket"],
                     np.where(b.deal[tk_c], inc["p_repeat_ticket"]["deal_seeker"], inc["p_repeat_ticket"]["other"]))
    incentive = rng.random(m) < inc_p
    serve_mult = _STAGE_COST[stage] * np.where(b.high_maint[tk_c], gt["high_maintenance_serve_cost_multiplier"], 1.0)
    commission = G["channels"]["agent_commission"]
    direct = gt["direct_cost_share"]["ticket"] * fare
    cost = np.round(direct + (_SERVE[chan] + np.where(chan == 4, commission, 0.0) * fare) * serve_mult, 2)
    # add-ons in the same session: upgrade = up-buying; baggage, lounge, seat = cross-buying
    ap = _ADDON_P[:, stage].T.copy()
    ap[:, 0] *= np.where(b.vip[tk_c], G["vip"]["upgrade_multiplier"], 1.0)
    a_row, a_type = np.nonzero(rng.random((m, len(ADDONS))) < ap)
    na = len(a_row)
    a_amount = _addon_amounts(rng, a_type, b.mean_fare[tk_c[a_row]])
    a_t = tk_t[a_row] + rng.uniform(0.0, 0.04, na)
    a_inc = rng.random(na) < np.where(a_type == 0, inc["p_addon"]["upgrade"], inc["p_addon"]["other"])
    a_chan = chan[a_row]
    a_cost = np.round(gt["direct_cost_share"]["addon"] * a_amount
                      + (_SERVE[a_chan] + np.where(a_chan == 4, commission, 0.0) * a_amount) * serve_mult[a_row], 2)
    ok = a_t < D
    a_row, a_type, a_amount, a_t, a_inc, a_chan, a_cost = (x[ok] for x in (a_row, a_type, a_amount, a_t, a_inc,
                                                                            a_chan, a_cost))
    # refunds: negative amount and quantity, is_return=True; the direct cost is reversed
    r_row = np.nonzero(rng.random(m) < gt["return_probability"])[0]
    r_t = tk_t[r_row] + rng.uniform(*gt["return_lag_days"], len(r_row))
    r_frac = np.where(rng.random(len(r_row)) < gt["return_full_share"], 1.0, gt["partial_refund_fraction"])
    ok = r_t < D
    r_row, r_t, r_frac = r_row[ok], r_t[ok], r_frac[ok]
    r_amount = -np.round(fare[r_row] * r_frac)
    r_cost = np.round(-direct[r_row] * r_frac + gt["return_handling_cost_cny"], 2)

    tr_c = np.concatenate((tk_c, tk_c[a_row], tk_c[r_row]))
    tr_t = np.concatenate((tk_t, a_t, r_t))
    b.last_seen = np.full(b.n, -np.inf)
    np.maximum.at(b.last_seen, tr_c, tr_t)
    b.chan, b.route = chan, route                      # surveys follow the ticket's channel and route
    o = np.argsort(tr_t, kind="stable")
    n_a, n_r = len(a_row), len(r_row)
    return pd.DataFrame({
        "customer_id": _take(b.cust_ids, tr_c[o]),
        "date": _to_time(b.cal, tr_t[o]),
        "amount": np.concatenate((fare, a_amount, r_amount))[o],
        "order_id": _ids("T", b.block * 10 ** 7 + np.arange(len(o)) + 1, 11),
        "cost": np.concatenate((cost, a_cost, r_cost))[o],
        "channel": _strings(np.concatenate((chan, a_chan, chan[r_row]))[o], CHANNELS),
        "product": _strings(np.concatenate((route, route[a_row], route[r_row]))[o], _ROUTE_NAMES),
        "category": _strings(np.concatenate((np.zeros(m, np.int64), a_type + 1, np.zeros(n_r, np.int64)))[o],
                             ("ticket",) + ADDONS),
        "quantity": np.concatenate((qty, np.ones(n_a, np.int64), -qty[r_row]))[o].astype(np.int64),
        "is_return": np.concatenate((np.zeros(m + n_a, bool), np.ones(n_r, bool)))[o],
        "incentive": np.concatenate((incentive, a_inc, incentive[r_row]))[o],
    })


def _addon_amounts(rng: np.random.Generator, a_type: np.ndarray, mean_fare: np.ndarray) -> np.ndarray:
    """Amount of each add-on (type = index in ADDONS): Gamma with the planted mean and shape; an
    upgrade a fraction of the customer's mean fare (``mean_fare``). Whole CNY, at least 1."""
    am, n = _G["addons"]["amount"], len(a_type)

    def gamma(a):
        return rng.gamma(am[a]["gamma_shape"], am[a]["mean"] / am[a]["gamma_shape"], n)
    up = am["upgrade"]
    upgrade = up["fare_fraction"] * mean_fare * rng.gamma(up["gamma_shape"], 1.0 / up["gamma_shape"], n)
    amount = np.select([a_type == 0, a_type == 1, a_type == 2], [upgrade, gamma("baggage"), gamma("lounge")],
                       gamma("seat"))
    return np.maximum(np.round(amount), 1.0)


def _referrals(b) -> pd.DataFrame:
    """Referred customers get a referrer who signed up earlier in the same block and was still
    active; satisfied customers (and referred ones) refer more, which makes chains."""
    rng, n, gr = b.rng, b.n, _G["referrals"]
    referred = rng.random(n) < gr["referred_share"]
    by_t = np.argsort(b.t0, kind="stable")
    pos = np.empty(n, np.int64)
    pos[by_t] = np.arange(n)
    weight = _REF_W[b.cls] * np.where(referred, gr["referred_referrer_weight"], 1.0)
    cw = np.cumsum(weight[by_t])
    cand = np.nonzero(referred & (pos > 0))[0]
    referrer = np.full(len(cand), -1)
    for _ in range(3):                                   # a few tries to find an active referrer
        j = np.searchsorted(cw, rng.random(len(cand)) * cw[np.maximum(pos[cand] - 1, 0)], side="right")
        r = by_t[np.minimum(j, n - 1)]
        ok = (referrer < 0) & (b.t0[r] < b.t0[cand]) & (b.t_exit[r] > b.t0[cand])
        referrer = np.where(ok, r, referrer)
    got = referrer >= 0
    ref_from, ref_to = referrer[got], cand[got]
    b.referred = np.zeros(n, bool)
    b.referred[ref_to] = True
    return pd.DataFrame({"referrer_id": _take(b.cust_ids, ref_from), "referred_id": _take(b.cust_ids, ref_to),
                         "date": _to_date(b.cal, b.t0[ref_to])})


def _acquisition(b) -> pd.DataFrame:
    shape = _G["channels"]["acquisition_cost_shape"]
    cost = _ACQ_COST[b.acq] * b.rng.gamma(shape, 1.0 / shape, b.n)
    cost = np.round(cost * np.where(b.referred, _G["channels"]["referred_cost_factor"], 1.0), 2)
    return pd.DataFrame({"customer_id": b.cust_ids, "channel": _strings(b.acq, CHANNELS), "cost": cost,
                         "date": _to_date(b.cal, b.t0)})


def _customers(b) -> pd.DataFrame:
    n_tickets = np.bincount(b.tk_c, minlength=b.n)
    years = np.maximum((np.minimum(b.t_exit, b.D) - b.t0) / DAYS_PER["year"], 0.5)
    tier = np.searchsorted(_TIER_MIN, n_tickets / years, side="right")
    sow = b.rng.beta(_SOW_A[b.cls], _SOW_N - _SOW_A[b.cls])
    return pd.DataFrame({
        "customer_id": b.cust_ids,
        "signup_date": _to_date(b.cal, b.t0),
        "gender": _strings(b.female.astype(np.int64), ("M", "F")),
        "birth_year": b.birth,
        "city": _strings(b.home, [a[1] for a in AIRPORTS]),
        "region": _strings(b.home, [a[2] for a in AIRPORTS]),
        "segment": _strings(b.seg, SEGMENTS),
        "acquisition_channel": _strings(b.acq, CHANNELS),
        "owner": _strings(b.owner, [f"S{i + 1:03d}" for i in range(_G["salespeople"]["owners"])]),
        "vip": b.vip,
        "member_tier": _strings(tier, TIERS),
        "category_spend": np.round(b.lam * DAYS_PER["year"] * b.mean_fare / sow, 2),
    })


def _subscriptions(b, first: int, id_width: int) -> pd.DataFrame:
    """Membership plans renewed each period with a probability set by satisfaction; a customer
    who exits stops renewing at the next due date."""
    rng, n, gs = b.rng, b.n, _G["subscription"]
    takes = rng.random(n) < gs["take_up"]
    start = b.t0 + rng.exponential(gs["start_delay_days_mean"], n)
    plan = _choice(rng, _SUB_P, n)
    yearly = _SUB_YEARLY[plan]
    period = np.where(yearly, DAYS_PER["year"], DAYS_PER["month"])
    n_paid = rng.geometric(1.0 - np.where(yearly, _RENEW_Y[b.cls], _RENEW_M[b.cls]))
    n_until_exit = np.where(np.isfinite(b.t_exit), np.ceil(np.maximum(b.t_exit - start, 1e-9) / period), np.inf)
    stop = start + np.minimum(n_paid, n_until_exit) * period
    si = np.nonzero(takes & (start < np.minimum(b.t_exit, b.D)))[0]
    return pd.DataFrame({
        "subscription_id": _ids("SUB", first + si + 1, id_width),
        "customer_id": _take(b.cust_ids, si),
        "start_date": _to_date(b.cal, start[si]),
        "end_date": _to_date(b.cal, np.where(stop[si] < b.D, stop[si], np.inf)),
        "plan": _strings(plan[si], _SUB_PLANS),
        "amount": _SUB_PRICE[plan[si]],
        "period": _strings(yearly[si].astype(np.int64), ("month", "year")),
    })


def _responses(b) -> pd.DataFrame:
    """Post-flight surveys. Experience ratings load on the same latent satisfaction z that drives
    behaviour; NPS and overall satisfaction follow the dimension gaps with known weights."""
    rng, D, cal, gv = b.rng, b.D, b.cal, _G["survey"]
    rows = np.nonzero(rng.random(len(b.tk_c)) < gv["response_probability_per_ticket"])[0]
    t = b.tk_t[rows] + rng.uniform(*gv["delay_days"], len(rows))
    rows, t = rows[t < D], t[t < D]
    ns, nd = len(rows), len(DIMS)
    c = b.tk_c[rows]
    chan = b.chan[rows]
    # touchpoint: the purchase channel's (app, website, call_centre, reception, agent) or another
    other = np.where(b.owner[c] >= 0, np.array([5, 6, 3])[_choice(rng, np.array([.4, .4, .2]), ns)],
                     np.array([6, 3])[_choice(rng, np.array([.7, .3]), ns)])
    tp = np.where(rng.random(ns) < gv["touchpoint_from_channel"], chan, other)
    ex = _EXP
    cust_dev = rng.normal(0.0, ex["customer_sd"], (b.n, nd))
    x = (_MU_X + ex["latent_loading"] * b.z[c, None] + cust_dev[c] + _TP_OFF[tp] + _DEAL_OFF * b.deal[c, None]
         + rng.normal(0.0, ex["response_sd"], (ns, nd)))
    x[:, _CONV] += np.where(t >= cal["improve_day"], ex["convenience_improvement"]["delta"], 0.0)
    experience = np.clip(np.round(x), 0, 10)
    expectation = np.clip(np.round(_MU_E + rng.normal(0.0, ex["expectation_sd"], (ns, nd))), 0, 10)
    importance = np.clip(np.round(_MU_I + rng.normal(0.0, ex["importance_sd"], (ns, nd))), 0, 10)
    ideal = np.clip(np.round(_MU_IDEAL + rng.normal(0.0, ex["ideal_sd"], (ns, nd))), 0, 10)
    gap = experience - expectation
    driver = gap @ _NPS_W
    nps = np.clip(np.round(_G["nps"]["intercept"] + driver + rng.normal(0, _G["nps"]["noise_sd"], ns)), 0, 10)
    os_ = _G["overall_satisfaction"]
    sat = np.clip(np.round(os_["intercept"] + os_["scale"] * driver + rng.normal(0, os_["noise_sd"], ns)), 0, 10)
    # comment: a phrase for the worst gap (praise for the best when nothing is bad), sometimes two
    rank = np.argsort(gap + rng.uniform(0, 0.1, gap.shape), axis=1)
    g_worst, g_second, g_best = (np.take_along_axis(gap, rank[:, [i]], 1)[:, 0] for i in (0, 1, -1))
    p_neg, p_pos = _pick(rng, _NEG_IDX, rank[:, 0]), _pick(rng, _POS_IDX, rank[:, -1])
    p_neu, p_sec = _pick(rng, [_NEUTRAL_IDX], np.zeros(ns, np.int64)), _pick(rng, _NEG_IDX, rank[:, 1])
    # the tone follows the answer (detractors complain about their worst gap, promoters praise their
    # best, passives say what is bad if anything is), the content follows the gaps
    bad = g_worst <= -1
    tone = np.where(nps <= 6, -1, np.where(nps >= 9, 1, np.where(bad, -1, np.where(g_best >= 0, 1, 0))))
    # the planted score/text disagreement (a stream of its own: the other draws stay as they were):
    # a detractor who writes praise, a promoter who writes a complaint
    flip = (np.random.default_rng(np.random.SeedSequence(b.seed, spawn_key=(b.block, 2))).random(ns)
            < gv["comment_disagreement"]) & ((nps <= 6) | (nps >= 9))
    tone = np.where(flip, -tone, tone)
    first_p = np.select([tone < 0, tone > 0], [p_neg, p_pos], p_neu)
    add = rng.random(ns) < 0.35
    second_p = np.where(add & (tone < 0) & (g_second <= -1), p_sec,
                        np.where(add & (tone < 0) & (g_best >= 1) & ~flip, p_pos, -1))
    commenting = rng.random(ns) < np.where(nps <= 6, gv["comment_probability_detractor"], gv["comment_probability"])
    code = np.where(commenting, (first_p * (len(_PHRASES) + 1) + second_p + 1) * 2 + b.english[c], -1)
    day = _to_date(cal, t)
    wave = ((day.astype("datetime64[Y]").astype(int) + 1970 - cal["start_year"]) * 2
            + ((day.astype("datetime64[M]").astype(int) % 12) >= 6))
    resp = {
        "response_id": _ids("R", b.block * 10 ** 7 + np.arange(ns) + 1, 11),
        "customer_id": _take(b.cust_ids, c),
        "date": _to_time(cal, t),
        "nps": nps.astype(np.int64),
        "satisfaction": sat,
        "comment": _comment_strings(code),
        "touchpoint": _strings(tp, TOUCHPOINTS),
        "channel": _strings(chan, CHANNELS),
        "product": _strings(b.route[rows], _ROUTE_NAMES),
        "wave": _strings(wave, [f"{cal['start_year'] + i // 2}H{i % 2 + 1}" for i in range(2 * WINDOW_YEARS + 2)]),
    }
    for prefix, values in (("experience_", experience), ("expectation_", expectation),
                           ("importance_", importance), ("ideal_", ideal)):
        for j, d in enumerate(DIMS):
            resp[prefix + d] = values[:, j]
    resp.update(_kano_answers(np.random.default_rng(np.random.SeedSequence(b.seed, spawn_key=(b.block, 3))), ns))
    frame = pd.DataFrame(resp)
    o = np.argsort(frame["date"].to_numpy(), kind="stable")
    b.s_c, b.s_t, b.s_worst = c[o], t[o], rank[o, 0]        # in the frame's order (by date)
    return frame.iloc[o].reset_index(drop=True)


#: the answer pairs (functional, dysfunctional; 1 like … 5 dislike) of each Kano category
_KANO_CELLS = {"A": [(1, 2), (1, 3), (1, 4)], "O": [(1, 5)], "M": [(2, 5), (3, 5), (4, 5)],
               "I": [(f, d) for f in (2, 3, 4) for d in (2, 3, 4)]}


def _kano_answers(rng, ns: int) -> dict:
    """The Kano module (a stream of its own: the other draws stay as they were): answered by
    ``kano.share`` of the surveys; a feature's planted category with probability
    ``kano.planted``, else one of A/O/M/I evenly; the pair is a random cell of that category."""
    gk = _G["kano"]
    asked = rng.random(ns) < gk["share"]
    out = {}
    for feature, planted in gk["features"].items():
        cats = np.where(rng.random(ns) < gk["planted"], planted, np.array(list("AOMI"))[rng.integers(0, 4, ns)])
        f = np.full(ns, np.nan)
        d = np.full(ns, np.nan)
        for cat, cells in _KANO_CELLS.items():
            sel = np.nonzero(asked & (cats == cat))[0]
            pick = np.asarray(cells)[rng.integers(0, len(cells), len(sel))]
            f[sel], d[sel] = pick[:, 0], pick[:, 1]
        out[f"kano_{feature}_functional"] = pd.array(f, dtype="Float64").astype("Int64")
        out[f"kano_{feature}_dysfunctional"] = pd.array(d, dtype="Float64").astype("Int64")
    return out


def _complaints(b) -> pd.DataFrame:
    rng, nc = b.rng, len(b.c_cust)
    variant = rng.integers(0, 3, nc)
    code = ((b.c_cat * 3 + variant) * 2 + (b.c_sev == 2)) * 2 + b.english[b.c_cust]
    channel = _choice(rng, _CMP_CH_P, nc)
    o = np.argsort(b.c_open, kind="stable")
    return pd.DataFrame({
        "complaint_id": _ids("CP", b.block * 10 ** 7 + np.arange(nc) + 1, 11),
        "customer_id": _take(b.cust_ids, b.c_cust[o]),
        "opened": _to_time(b.cal, b.c_open[o]),
        "resolved": _to_time(b.cal, b.c_resolved[o]),
        "category": _strings(b.c_cat[o], COMPLAINT_CATEGORIES),
        "text": _strings(code[o], _complaint_texts()),
        "channel": _strings(channel[o], CHANNELS),
        "severity": _strings(b.c_sev[o], SEVERITIES),
    })


def _churn_events(b) -> pd.DataFrame:
    """Some exits are recorded (account closed, membership cancelled) after the last contact."""
    rng, gc = b.rng, _G["churn"]
    last = b.last_seen.copy()
    np.maximum.at(last, b.s_c, b.s_t)
    np.maximum.at(last, b.c_cust, b.c_open)
    ex = np.nonzero(np.isfinite(b.t_exit))[0]
    ne, cause = len(ex), b.cause[ex]
    rec_p = np.array([gc["record_probability"][c] for c in EXIT_CAUSES[:3]])
    lag = np.array([gc["record_lag_days"][c] for c in EXIT_CAUSES[:3]], dtype=float)
    recorded = rng.random(ne) < rec_p[cause]
    when = np.maximum(b.t_exit[ex] + rng.uniform(lag[cause, 0], lag[cause, 1]), last[ex])
    voluntary_reason = _choice(rng, _VOL_P, ne)
    involuntary = rng.random(ne) < gc["involuntary_share_of_dropouts"]
    involuntary_reason = len(VOLUNTARY_REASONS) + rng.integers(0, len(INVOLUNTARY_REASONS), ne)
    reason = np.select([cause == 1, cause == 2],
                       [np.where(b.cause_resolved[ex], REASONS.index("staff_indifference"),
                                 REASONS.index("unresolved_complaint")), REASONS.index("salesperson_left")],
                       np.where(involuntary, involuntary_reason, voluntary_reason))
    voluntary = ~np.isin(reason, [REASONS.index(r) for r in INVOLUNTARY_REASONS + ("unresolved_complaint",)])
    keep = recorded & (when < b.D)
    ex, when, reason, voluntary = ex[keep], when[keep], reason[keep], voluntary[keep]
    o = np.argsort(when, kind="stable")
    return pd.DataFrame({"customer_id": _take(b.cust_ids, ex[o]), "date": _to_date(b.cal, when[o]),
                         "reason": _strings(reason[o], REASONS), "voluntary": voluntary[o]})


def campaign_uplift(classes, segments) -> np.ndarray:
    """The planted effect of the demo's retention offer (``GROUND_TRUTH["campaign"]``) on the
    renewal probability of customers of satisfaction ``classes`` and ``segments`` (labels)."""
    g = _G["campaign"]
    tau = np.array([g["uplift"][c] for c in CLASSES])[pd.Index(CLASSES).get_indexer(np.asarray(classes))]
    return np.where(np.asarray(segments) == "student", g["student_uplift"], tau)


def _campaigns(b) -> pd.DataFrame:
    """The retention offer: active customers sampled on the send date, randomised into offer and
    control; whether each renewed (its own random stream: the other tables do not change)."""
    g = _G["campaign"]
    rng = np.random.default_rng(np.random.SeedSequence(b.seed, spawn_key=(b.block, 7)))
    send = b.D - g["days_before_end"]
    last = np.full(b.n, -np.inf)
    before = b.tk_t < send
    np.maximum.at(last, b.tk_c[before], b.tk_t[before])
    active = (b.t0 < send) & (b.t_exit > send) & (last >= send - g["active_days"])
    who = np.nonzero(active & (rng.random(b.n) < g["share_sent"]))[0]
    treated = rng.random(len(who)) < g["treated_share"]
    base = np.array([g["renewal"][c] for c in CLASSES])[b.cls[who]]
    tau = campaign_uplift(np.asarray(CLASSES)[b.cls[who]], np.asarray(SEGMENTS)[b.seg[who]])
    renewed = rng.random(len(who)) < np.clip(base + treated * tau, 0.0, 1.0)
    return pd.DataFrame({"customer_id": _take(b.cust_ids, who), "campaign": g["name"],
                         "date": _to_date(b.cal, np.full(len(who), send)), "treated": treated,
                         "outcome": renewed.astype(float), "offer_cost": np.where(treated, g["offer_cost"], 0.0)})


def _events(b) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The booking flow's events (``GROUND_TRUTH["journeys"]``) on its own random stream: one
    completed session per app/web ticket of the last ``days`` days, sessions given up before it,
    and in the planted outage sessions that fail at the broken step. Also returns the customers
    who failed there and when (their later answers are lowered, :func:`_after_outage`)."""
    g, br = _G["journeys"], _G["journeys"]["broken"]
    rng = np.random.default_rng(np.random.SeedSequence(b.seed, spawn_key=(b.block, 11)))
    steps, chans = list(g["steps"]), [CHANNELS.index(c) for c in g["channels"]]
    t_from, out_from = b.D - g["days"], b.D - br["days_before_end"]
    out_to = out_from + br["days"]
    buy = np.nonzero(np.isin(b.chan, chans) & (b.tk_t >= t_from) & (b.tk_t < b.D))[0]
    cust, when, chan = b.tk_c[buy], b.tk_t[buy], b.chan[buy]
    broken_ch = CHANNELS.index(br["channel"])
    in_outage = (chan == broken_ch) & (when >= out_from) & (when < out_to)
    n_ab = rng.poisson(g["abandoned_per_purchase"], len(buy))
    n_fail = np.where(in_outage, rng.poisson(br["failed_per_purchase"], len(buy)), 0)
    # sessions: (customer, start, channel, last step index, failed at the broken step)
    reps = n_ab + n_fail + 1
    s_c, s_ch = np.repeat(cust, reps), np.repeat(chan, reps)
    s_t = np.repeat(when, reps) - np.where(np.arange(reps.sum()) == np.repeat(np.cumsum(reps) - 1, reps), 0.0,
                                           rng.uniform(0.0, 3.0, reps.sum()))
    kind = np.zeros(reps.sum(), np.int8)        # 0 completed, 1 given up, 2 failed at the broken step
    pos = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    kind[pos < np.repeat(n_ab, reps)] = 1
    kind[(pos >= np.repeat(n_ab, reps)) & (pos < np.repeat(n_ab + n_fail, reps))] = 2
    ab_p = np.array([g["abandon_at"][s] for s in steps[:-1]])
    last = np.where(kind == 0, len(steps) - 1, np.where(kind == 2, steps.index(br["step"]),
                                                        _choice(rng, ab_p / ab_p.sum(), len(kind))))
    keep = (s_t >= t_from) & (s_t < b.D)
    s_c, s_ch, s_t, kind, last = s_c[keep], s_ch[keep], s_t[keep], kind[keep], last[keep]
    ns = len(s_c)
    # events: each step up to the last, a retry now and then, the failure's error event
    per = last + 1
    e_s = np.repeat(np.arange(ns), per)
    e_k = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    retry = rng.random(len(e_s)) < g["retry_probability"]
    e_s, e_k = np.repeat(e_s, 1 + retry), np.repeat(e_k, 1 + retry)
    mean = np.array([g["seconds_per_step"].get(CHANNELS[c], 30.0) for c in range(len(CHANNELS))])
    gap = rng.exponential(mean[s_ch[e_s]]) / 86_400.0
    first = np.r_[True, e_s[1:] != e_s[:-1]]
    gap[first] = 0.0
    t = s_t[e_s] + np.cumsum(gap) - np.repeat(np.cumsum(gap)[first], np.bincount(e_s, minlength=ns)[np.unique(e_s)])
    error = (kind[e_s] == 2) & (e_k == last[e_s])
    sid = _ids(f"J{b.block:04d}-", np.arange(ns) + 1, 7)
    ev = pd.DataFrame({"event_id": _ids(f"E{b.block:04d}-", np.arange(len(e_s)) + 1, 9), "session_id": _take(sid, e_s),
                       "customer_id": _take(b.cust_ids, s_c[e_s]), "channel": _strings(s_ch[e_s], CHANNELS),
                       "journey": g["journey"], "step": _strings(e_k, tuple(steps)), "step_order": e_k + 1,
                       "timestamp": _to_time(b.cal, t), "outcome": np.where(error, "error", "ok"),
                       "error_code": pd.array(np.where(error, br["error_code"], None), dtype=_STR)})
    ev = ev.iloc[np.argsort(t, kind="stable")].reset_index(drop=True)
    f = kind == 2
    failed = pd.DataFrame({"customer_id": _take(b.cust_ids, s_c[f]), "at": s_t[f]})
    return ev, failed


def _after_outage(b, resp: pd.DataFrame, failed: pd.DataFrame) -> pd.DataFrame:
    """Answers within ``nps_window_days`` after a customer's failure at the broken step, lowered
    by ``nps_drop`` (the planted NPS impact of the outage)."""
    br = _G["journeys"]["broken"]
    if failed.empty or resp.empty:
        return resp
    first = failed.groupby("customer_id").at.min()
    t_ans = (resp["date"].to_numpy().astype("datetime64[s]") - b.cal["start"].astype("datetime64[s]")).astype(float) / 86_400
    at = first.reindex(resp["customer_id"].astype(str)).to_numpy(dtype=float)
    hit = (t_ans > at) & (t_ans <= at + br["nps_window_days"]) & resp["nps"].notna().to_numpy()
    if hit.any():
        resp = resp.copy()
        resp.loc[hit, "nps"] = np.clip(resp.loc[hit, "nps"] - br["nps_drop"], 0, 10)
    return resp


def _truth(b) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": b.cust_ids,
        "satisfaction_class": _strings(b.cls, CLASSES),
        "latent_satisfaction": b.z,
        "language": _strings(b.english.astype(np.int64), ("zh", "en")),
        "deal_seeker": b.deal,
        "high_maintenance": b.high_maint,
        "purchase_rate": b.lam * DAYS_PER["year"],
        "mean_fare": b.mean_fare,
        "dropout_probability": b.p_drop,
        "dropout_index": b.J.astype(np.int64),
        "lifecycle_pattern": _strings(b.pattern, PATTERNS),
        "exit_date": _to_date(b.cal, b.t_exit),
        "exit_cause": _strings(b.cause, EXIT_CAUSES),
        "referred": b.referred,
    })


# ----------------------------------------------------------------------------------------------
# the closed loop (H1): cases on detractor answers, their handling, and the planted follow-up effect
_CL = _G["closed_loop"]
_OWNERS = tuple(_CL["owners"])
_OWNER_CUM = np.cumsum(np.array(list(_CL["owners"].values()), dtype=float), axis=1)
_OWNER_CUM /= _OWNER_CUM[:, -1:]
_ROOT = tuple(_CL["root_cause_by_worst_dimension"][d] for d in DIMS)     # root cause by worst dimension
WITHIN_SLA, LATE, NEVER, HELD_OUT = range(4)


def _closed_loop(b, out: dict, effect: bool) -> dict[str, pd.DataFrame]:
    """The closed loop worked over the last ``closed_loop.months``: a case on every detractor
    answer, handled by the team's owners (within the SLA, late or never) except for the hold-out;
    on each customer's first case of the era the planted effect (a follow-up lowers the chance of
    leaving and raises later NPS) is applied to the other tables in place. A random stream of its
    own, and draws whose number does not depend on ``effect``, keep everything else identical
    between ``effect=True`` and its counterfactual twin. Returns the ``cases`` and ``case_events``
    ledgers as frames."""
    cl, cal, D, n = _CL, b.cal, b.D, b.n
    rng = np.random.default_rng(np.random.SeedSequence(b.seed, spawn_key=(b.block, 1)))
    resp = out["responses"]
    m = len(resp)
    # per answer (each may become a case) and per customer, drawn whatever the effect
    r = SimpleNamespace(owner=rng.integers(0, len(_OWNERS), m), klass=rng.random(m), contact=rng.random(m),
                        open=rng.random(m), close=rng.uniform(*cl["close_days"], m), reopen=rng.random(m),
                        resolve=rng.gamma(cl["resolve_days"]["gamma_shape"], cl["resolve_days"]["gamma_scale"], m))
    r_uplift = rng.random(m)
    u_exit, d_exit = rng.random(n), rng.uniform(*cl["exit_days"], n)
    u_rec, d_rec = rng.random(n), rng.uniform(*cl["exit_record"]["lag_days"], n)
    cid = np.asarray(b.cust_ids, dtype=object)
    hold = np.array([in_holdout(cl["rule"], c, cl["holdout_share"]) for c in cid], dtype=bool) if n else np.zeros(0, bool)

    def handling(rows, cust, t_answer):
        """Per case (its answer's draws ``rows``): handling class and time of first contact."""
        k = (r.klass[rows, None] > _OWNER_CUM[r.owner[rows]]).sum(axis=1)
        k = np.where(hold[cust], HELD_OUT, k)
        delay = np.select([k == WITHIN_SLA, k == LATE],
                          [np.interp(r.contact[rows], [0, 1], cl["contact_hours_within_sla"]) / 24.0,
                           np.interp(r.contact[rows], [0, 1], cl["contact_days_late"])], np.inf)
        return k, t_answer + delay

    era0 = D - cl["months"] * DAYS_PER["month"]
    nps = resp["nps"].to_numpy().copy()
    det = np.nonzero((nps <= cl["nps_max"]) & (b.s_t >= era0))[0]
    first = np.full(n, -1)
    first[b.s_c[det[::-1]]] = det[::-1]          # the answers are in date order: the earliest wins
    fc = np.nonzero(first >= 0)[0]
    k1, contact1 = handling(first[fc], fc, b.s_t[first[fc]])
    # the planted effect: a follow-up cuts the chance that the detractor leaves, and lifts later NPS
    cut = np.array([cl["exit_cut"]["within_sla"], cl["exit_cut"]["late"], 0.0, 0.0]) if effect else np.zeros(4)
    leaves = u_exit[fc] < cl["unheard_exit_probability"] * (1.0 - cut[k1])
    t_leave = np.where(leaves, b.s_t[first[fc]] + d_exit[fc], np.inf)
    switch = (t_leave < b.t_exit[fc]) & (t_leave < D)
    sw, t_sw = fc[switch], t_leave[switch]
    lift = np.array([cl["nps_uplift"]["within_sla"], cl["nps_uplift"]["late"], 0.0, 0.0]) if effect else np.zeros(4)
    c_contact, c_lift = np.full(n, np.inf), np.zeros(n)
    c_contact[fc], c_lift[fc] = contact1, lift[k1]
    later = b.s_t > c_contact[b.s_c]
    step = c_lift[b.s_c]
    nps = np.where(later, np.clip(nps + np.floor(step) + (r_uplift < step - np.floor(step)), 0, 10), nps)
    resp["nps"] = nps.astype(np.int64)
    # the detractors who leave: nothing of theirs after the exit; a recorded exit replaces any later one
    cutoff = np.full(n, np.inf)
    cutoff[sw] = t_sw
    at = pd.Index(b.cust_ids)
    cut_time = _to_time(cal, cutoff)

    def before_exit(frame, col):
        limit = cut_time[at.get_indexer(frame["customer_id"])]
        return frame[np.isnat(limit) | (frame[col].to_numpy() <= limit)].reset_index(drop=True)
    out["transactions"] = before_exit(out["transactions"], "date")
    out["complaints"] = before_exit(out["complaints"], "opened")
    keep = b.s_t <= cutoff[b.s_c]
    out["responses"] = resp[keep].reset_index(drop=True)
    b.s_c, b.s_t, b.s_worst = b.s_c[keep], b.s_t[keep], b.s_worst[keep]
    r_idx = np.nonzero(keep)[0]                  # the kept answers' rows in the draws above
    subs = out["subscriptions"]
    s_cut = cutoff[at.get_indexer(subs["customer_id"])]
    subs = subs[~np.isfinite(s_cut) | (subs["start_date"].to_numpy() <= _to_date(cal, s_cut))].reset_index(drop=True)
    s_ix = at.get_indexer(subs["customer_id"])
    gone = np.isfinite(cutoff[s_ix])
    if gone.any():
        start = (subs["start_date"].to_numpy() - cal["start"].astype("datetime64[us]")) / np.timedelta64(1, "D")
        period = np.where(subs["period"].to_numpy() == "year", DAYS_PER["year"], DAYS_PER["month"])
        stop = start + np.ceil(np.maximum(cutoff[s_ix] - start, 1e-9) / period) * period
        old = subs["end_date"].to_numpy()
        new = _to_date(cal, np.where(stop < D, stop, np.inf))
        later_end = np.isnat(old) | (~np.isnat(new) & (new < old))
        subs.loc[gone & later_end, "end_date"] = new[gone & later_end]
    out["subscriptions"] = subs
    ce = out["churn_events"]
    ce = ce[~np.isfinite(cutoff[at.get_indexer(ce["customer_id"])])]
    rec = cl["exit_record"]
    when = t_sw + d_rec[sw]
    ok = (u_rec[sw] < rec["probability"]) & (when < D)
    new_ce = pd.DataFrame({"customer_id": _take(b.cust_ids, sw[ok]), "date": _to_date(cal, when[ok]),
                           "reason": pd.array([rec["reason"]] * int(ok.sum()), dtype=_STR),
                           "voluntary": np.ones(int(ok.sum()), bool)})
    ce = pd.concat([ce, new_ce], ignore_index=True) if len(new_ce) else ce
    out["churn_events"] = ce.sort_values("date", kind="stable", ignore_index=True)
    b.t_exit[sw], b.cause[sw] = t_sw, EXIT_CAUSES.index("unheard_detractor")
    return _case_ledgers(b, out["responses"], r_idx, handling, r, era0)


def _case_ledgers(b, resp, r_idx, handling, r, era0) -> dict[str, pd.DataFrame]:
    """The cases (one per detractor answer of the era) and their events, cut at the end of the data."""
    cl, cal, D = _CL, b.cal, b.D
    rows = np.nonzero((resp["nps"].to_numpy() <= cl["nps_max"]) & (b.s_t >= era0))[0]
    draw = r_idx[rows]                            # each answer keeps its own draws
    cust, t_a = b.s_c[rows], b.s_t[rows]
    k, contact = handling(draw, cust, t_a)
    nc = len(rows)
    case_id = _ids("KS", b.block * 10 ** 7 + np.arange(nc) + 1, 10)   # S: simulated (never hex)
    opened = t_a + r.open[draw] * 2.0 / 24.0      # the hourly run picks the answer up
    due = t_a + cl["sla_hours"] / 24.0
    owner = np.where(k == HELD_OUT, None, np.array(_OWNERS, dtype=object)[r.owner[draw]])
    en = b.english[cust].astype(np.int64)
    root = np.array(_ROOT, dtype=object)[b.s_worst[rows]]
    txt = {key: np.array(v, dtype=object)[en] for key, v in CASE_TEXT.items()}
    action_txt = np.array([CASE_ACTION[r][e] for r, e in zip(root, en)], dtype=object)
    worked = k <= LATE
    resolved = contact + r.resolve[draw]
    closed = resolved + r.close[draw]
    reopens = worked & (r.reopen[draw] < cl["reopen_probability"])
    ev = []

    def add(mask, seq, at, by, action, frm, to, **cols):
        i = np.nonzero(mask)[0]
        ev.append({"case": i, "seq": np.full(len(i), seq), "at": np.asarray(at, dtype=float)[i] if np.ndim(at) else
                   np.full(len(i), at), "by": np.asarray(by, dtype=object)[i] if np.ndim(by) else np.full(len(i), by, object),
                   "action": action, "from_status": frm, "to_status": to,
                   **{c: (np.asarray(v, dtype=object)[i] if np.ndim(v) else np.full(len(i), v, object))
                      for c, v in cols.items()}})
    add(np.ones(nc, bool), 1, opened, "rule:" + cl["rule"], "open", None, "open", owner=owner, team=cl["team"],
        comment=np.array([f"NPS {v}" for v in resp["nps"].to_numpy()[rows]], dtype=object))
    add(worked, 2, contact, owner, "start", "open", "in_progress", comment=txt["start"])
    add(worked, 3, resolved, owner, "resolve", "in_progress", "resolved", comment=txt["resolve"], root_cause=root,
        corrective_action=action_txt, outcome=txt["outcome"])
    add(worked, 4, closed, owner, "close", "resolved", "closed", comment=txt["close"])
    back = closed + 2.0 + 18.0 * r.reopen[draw] / max(cl["reopen_probability"], 1e-9)
    add(reopens, 5, back, owner, "reopen", "closed", "open", comment=txt["reopen"])
    add(reopens, 6, back + 2.0, owner, "resolve", "open", "resolved", comment=txt["resolve"], root_cause=root,
        corrective_action=action_txt, outcome=txt["outcome"])
    add(reopens, 7, back + 3.0, owner, "close", "resolved", "closed", comment=txt["close"])
    add(k == NEVER, 2, due, "rule:sla", "escalate", "open", "escalated", owner=cl["manager"],
        comment=np.array([f"SLA due {str(x)[:16].replace('T', ' ')} passed; escalated to {cl['manager']}"
                          for x in _to_time(cal, due)], dtype=object))
    cols = ("owner", "team", "comment", "root_cause", "corrective_action", "outcome")
    parts = [pd.DataFrame({"case": e["case"], "seq": e["seq"], "at": e["at"], "by": e["by"], "action": e["action"],
                           "from_status": e["from_status"], "to_status": e["to_status"],
                           **{c: e.get(c, np.full(len(e["case"]), None, object)) for c in cols}}) for e in ev]
    events = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    events = events[events["at"] < D].sort_values(["case", "seq"], kind="stable", ignore_index=True)
    cases = pd.DataFrame({
        "case_id": case_id, "customer_id": _take(b.cust_ids, cust), "source": "survey",
        "source_id": resp["response_id"].to_numpy()[rows], "rule": cl["rule"], "opened_at": _to_time(cal, opened),
        "opened_by": "rule:" + cl["rule"], "priority": "high", "team": cl["team"], "sla_due": _to_time(cal, due),
        "holdout": k == HELD_OUT})
    keep = np.isin(np.arange(nc), events["case"].to_numpy()) & (opened < D)
    cases = cases[keep].reset_index(drop=True)
    events.insert(0, "case_id", np.asarray(case_id, dtype=object)[events.pop("case").to_numpy()])
    events["at"] = _to_time(cal, events["at"].to_numpy())
    return {"cases": cases, "case_events": events}


@functools.lru_cache(maxsize=1)
def _complaint_texts() -> list[str]:
    """Complaint texts indexed by ((category * 3 + variant) * 2 + high severity) * 2 + english."""
    out = []
    for c in COMPLAINT_CATEGORIES:
        for zh, en in COMPLAINT_TEXT[c]:
            for high in (False, True):
                out.append(zh + (COMPENSATION[0] if high else ""))
                out.append(en + (" " + COMPENSATION[1] if high else ""))
    return out


def _comment_strings(code: np.ndarray):
    """Comments from codes ((first * (P + 1) + second + 1) * 2 + english), -1 = no comment."""
    uniq, inv = np.unique(code, return_inverse=True)
    labels = []
    for c in uniq.tolist():
        if c < 0:
            labels.append("")
            continue
        lang, pair = c % 2, c // 2
        first, second = divmod(pair, len(_PHRASES) + 1)
        text = _PHRASES[first][lang]
        if second > 0:
            text += (" " if lang else "") + _PHRASES[second - 1][lang]
        labels.append(text)
    codes = inv.reshape(-1)
    if len(uniq) and uniq[0] < 0:
        codes = codes - 1          # the "no comment" label becomes missing
        labels = labels[1:]
    return _strings(codes, labels)


# ----------------------------------------------------------------------------------------------
# public API
def _check(n_customers, seed, end_date) -> tuple[int, int, str]:
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)) or n_customers < 1:
        raise CxValueError(f"n_customers: expected a positive whole number, got {n_customers!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise CxValueError(f"seed: expected a whole number >= 0, got {seed!r}")
    return int(n_customers), int(seed), str(as_date(end_date, "end_date"))


#: the closed loop's ledgers the demo simulates (``generate(..., closed_loop=True)``)
LOOP_TABLES = ("cases", "case_events")


def _tables(truth: bool, closed_loop: bool = False) -> tuple[str, ...]:
    return TABLE_ORDER + (("truth",) if truth else ()) + (LOOP_TABLES if closed_loop else ())


def iter_generate(n_customers: int, *, seed: int = 0, end_date=DEFAULT_END_DATE, chunk_customers: int = 200_000,
                  truth: bool = False, closed_loop: bool = False,
                  follow_up_effect: bool = True) -> Iterator[tuple[str, pd.DataFrame]]:
    """Generate the demo company chunk by chunk, yielding ``(table_name, DataFrame)``.

    Each chunk holds about ``chunk_customers`` customers (rounded up to whole blocks of
    :data:`BLOCK_SIZE`) and yields every table once, in :data:`cxvalue.schema.TABLE_ORDER`
    (then ``truth`` when asked for). Memory stays bounded by the chunk size; the rows do not
    depend on it. ``truth=True`` adds a per-customer table of the latent state
    (:data:`TRUTH_COLUMNS`) for testing analyses; it is not a contract table. ``closed_loop=True``
    adds the closed loop's simulated ledgers ``cases`` and ``case_events`` (:data:`LOOP_TABLES`).
    ``follow_up_effect=False`` simulates the same company, with the same random draws, without the
    planted effect of following detractors up (``GROUND_TRUTH["closed_loop"]``): the counterfactual
    twin against which the realised effect is measured.
    """
    n, seed, end = _check(n_customers, seed, end_date)
    if not isinstance(chunk_customers, (int, np.integer)) or chunk_customers < 1:
        raise CxValueError(f"chunk_customers: expected a positive whole number, got {chunk_customers!r}")
    n_blocks = -(-n // BLOCK_SIZE)
    per_chunk = max(1, -(-int(chunk_customers) // BLOCK_SIZE))
    id_width = max(7, len(str(n)))
    for b0 in range(0, n_blocks, per_chunk):
        parts = [_simulate_block(seed, b, b * BLOCK_SIZE, min(BLOCK_SIZE, n - b * BLOCK_SIZE), end, id_width, truth,
                                 closed_loop, follow_up_effect)
                 for b in range(b0, min(b0 + per_chunk, n_blocks))]
        for name in _tables(truth, closed_loop):
            frames = [p.pop(name) for p in parts]
            yield name, frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        del parts


def generate(n_customers: int = 20_000, *, seed: int = 0, end_date=DEFAULT_END_DATE,
             truth: bool = False, closed_loop: bool = False, follow_up_effect: bool = True) -> dict[str, pd.DataFrame]:
    """Simulate SkyWay Airlines (天途航空): a dict of contract tables (see :mod:`cxvalue.schema`).

    Tables: customers, acquisition, referrals, transactions, subscriptions, responses,
    complaints, churn_events (plus ``truth`` with ``truth=True``, the closed loop's ``cases`` and
    ``case_events`` with ``closed_loop=True``; see :func:`iter_generate`). Customers sign up over
    the three years ending at ``end_date``; nothing is dated after it. The same ``seed``,
    ``n_customers`` and ``end_date`` always give the same data. Planted effects are listed
    in :data:`GROUND_TRUTH` and docs/demo.md.

    >>> tables = generate(2_000, seed=1)
    >>> sorted(tables)[:3]
    ['acquisition', 'churn_events', 'complaints']
    """
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in _tables(truth, closed_loop)}
    for name, frame in iter_generate(n_customers, seed=seed, end_date=end_date, chunk_customers=1_000_000, truth=truth,
                                     closed_loop=closed_loop, follow_up_effect=follow_up_effect):
        parts[name].append(frame)
    return {name: f[0] if len(f) == 1 else pd.concat(f, ignore_index=True) for name, f in parts.items()}


def _arrow_schema(name: str, frame: pd.DataFrame, fmt: str):
    """Arrow schema of a table file: contract ``date`` columns as date32, timestamps in
    microseconds (seconds in CSV), the rest from the frame's dtypes."""
    import pyarrow as pa
    table = TABLES.get(name)
    fields = []
    for col, dtype in frame.dtypes.items():
        spec = table.column(col).dtype if table is not None and table.has_column(col) else None
        if spec == "date" or (table is None and col.endswith("_date")):
            t = pa.date32()
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            t = pa.timestamp("s" if fmt == "csv" else "us")
        elif pd.api.types.is_bool_dtype(dtype):
            t = pa.bool_()
        elif pd.api.types.is_integer_dtype(dtype):
            t = pa.int64()
        elif pd.api.types.is_float_dtype(dtype):
            t = pa.float64()
        else:
            t = pa.string()
        fields.append(pa.field(col, t))
    return pa.schema(fields)


def write_demo(folder, n_customers: int = 20_000, *, seed: int = 0, fmt: str = "parquet",
               end_date=DEFAULT_END_DATE, chunk_customers: int = 100_000,
               progress: Callable[[int, int], None] | None = None, truth: bool = False,
               closed_loop: bool = True) -> dict[str, int]:
    """Write the demo company to ``folder``: one file per table (``customers.parquet`` ...), and
    the closed loop's simulated ledgers in ``folder/closed_loop/`` (``closed_loop=True``; read them
    back with :func:`read_demo_loop`).

    ``fmt`` is ``"parquet"`` (a ParquetWriter appends one row group per chunk) or ``"csv"``
    (UTF-8 with a header). Memory is bounded by ``chunk_customers``. ``progress``, when
    given, is called as ``progress(chunks_done, chunks_total)``. Returns the row count of
    contract table written.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if fmt not in ("parquet", "csv"):
        raise CxValueError(f"fmt: expected 'parquet' or 'csv', got {fmt!r}")
    n, seed, end = _check(n_customers, seed, end_date)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    per_chunk = max(1, -(-int(chunk_customers) // BLOCK_SIZE)) * BLOCK_SIZE
    total = -(-n // per_chunk)
    names = _tables(truth)
    loop_dir = folder / LOOP_FOLDER
    if closed_loop:
        loop_dir.mkdir(exist_ok=True)
    writers: dict = {}
    counts = {name: 0 for name in names}
    done = 0
    if progress:
        progress(0, total)
    try:
        for name, frame in iter_generate(n, seed=seed, end_date=end, chunk_customers=per_chunk, truth=truth,
                                         closed_loop=closed_loop):
            if name not in writers:
                schema = _arrow_schema(name, frame, "parquet" if name in LOOP_TABLES else fmt)
                path = loop_dir / f"{name}.parquet" if name in LOOP_TABLES else folder / f"{name}.{fmt}"
                options = pacsv.WriteOptions(quoting_style="needed")
                writers[name] = (pq.ParquetWriter(path, schema, compression="zstd")
                                 if fmt == "parquet" or name in LOOP_TABLES else
                                 pacsv.CSVWriter(path, schema, write_options=options), schema)
            writer, schema = writers[name]
            writer.write_table(pa.Table.from_pandas(frame, preserve_index=False).cast(schema))
            if name in counts:
                counts[name] += len(frame)
            if name == _tables(truth, closed_loop)[-1]:
                done += 1
                if progress:
                    progress(done, total)
    finally:
        for writer, _ in writers.values():
            writer.close()
    return counts


def demo_initiatives(end_date=DEFAULT_END_DATE, lang: str = "en") -> list[dict]:
    """The improvement initiatives the demo company ran (H2): the convenience initiative behind
    the planted improvement (``experience.convenience_improvement``), started on its date; each
    a dict of :func:`cxvalue.loop.initiatives.create_initiative` arguments plus ``started_at``."""
    cal = _calendar(str(as_date(end_date, "end_date")))
    spec = _CL["initiative"]
    start = pd.Timestamp(cal["start"]) + pd.Timedelta(days=cal["improve_day"])
    created = start - pd.Timedelta(days=spec["created_days_before"])
    return [{"title": spec["title"]["zh" if lang == "zh" else "en"], "origin": spec["origin"], "kpi": spec["kpi"],
             "owner": spec["owner"], "start_date": start.date(), "by": spec["owner"],
             "target_value": float(_MU_E[_CONV]), "at": created.to_pydatetime(), "started_at": start.to_pydatetime()}]


#: the subfolder of a demo folder that holds the closed loop's simulated ledgers
LOOP_FOLDER = "closed_loop"


def read_demo_loop(folder) -> dict[str, pd.DataFrame]:
    """The closed loop's simulated ledgers written by :func:`write_demo` ({} when there are none),
    with the rule registry entry that dates the detractor rule from the start of the simulated era
    (so that escalation applies to the simulated cases)."""
    loop_dir = Path(folder) / LOOP_FOLDER
    out = {name: pd.read_parquet(loop_dir / f"{name}.parquet") for name in LOOP_TABLES
           if (loop_dir / f"{name}.parquet").exists()}
    if len(out.get("cases", ())):
        first = pd.Timestamp(out["cases"]["opened_at"].min()).floor("D")
        out["case_rule_registry"] = pd.DataFrame({"rule": [_CL["rule"]], "first_seen": [first]})
    return out
