"""The demo company simulator: determinism, the data contract, chunking, and the planted ground truth.

The planted values are read from the simulator's data file (datasets/ground_truth.yaml, loaded as
``demo.GROUND_TRUTH``), never repeated here."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from cxvalue.datasets import demo
from cxvalue.errors import CxValueError
from cxvalue.schema import TABLE_ORDER, TABLES

GT = demo.GROUND_TRUTH
END = pd.Timestamp(GT["window"]["default_end_date"])
IMPROVED = END + pd.Timedelta(days=1) - pd.DateOffset(months=GT["experience"]["convenience_improvement"]["months_before_end"])


@pytest.fixture(scope="module")
def data():
    return demo.generate(20_000, seed=0, truth=True)


@pytest.fixture(scope="module")
def cls(data):
    return data["truth"].set_index("customer_id")["satisfaction_class"]


def tickets(data):
    tr = data["transactions"]
    return tr[(tr["category"] == "ticket") & ~tr["is_return"]]


# ---------------------------------------------------------------------------------------------
# API, determinism, chunking
def test_tables_and_determinism():
    a = demo.generate(2_000, seed=5)
    b = demo.generate(2_000, seed=5)
    assert list(a) == list(TABLE_ORDER)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    c = demo.generate(2_000, seed=6)
    assert not a["transactions"]["amount"].equals(c["transactions"]["amount"])
    truth = demo.generate(500, seed=5, truth=True)["truth"]
    assert tuple(truth.columns) == demo.TRUTH_COLUMNS and len(truth) == 500


def test_bad_arguments():
    with pytest.raises(CxValueError, match="n_customers: expected a positive whole number, got 0"):
        demo.generate(0)
    with pytest.raises(CxValueError, match="end_date='not a date' is not a date: expected YYYY-MM-DD"):
        demo.generate(10, end_date="not a date")
    with pytest.raises(CxValueError, match="fmt: expected 'parquet' or 'csv', got 'xlsx'"):
        demo.write_demo("unused", 10, fmt="xlsx")


def test_chunks_do_not_change_the_data(monkeypatch):
    monkeypatch.setattr(demo, "BLOCK_SIZE", 1_000)
    whole = demo.generate(3_500, seed=3)
    parts: dict[str, list] = {}
    n_chunks = 0
    for name, frame in demo.iter_generate(3_500, seed=3, chunk_customers=2_000):
        parts.setdefault(name, []).append(frame)
        n_chunks += name == "customers"
    assert n_chunks == 2
    for name, frames in parts.items():
        pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), whole[name])


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_write_demo(tmp_path, monkeypatch, fmt):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    monkeypatch.setattr(demo, "BLOCK_SIZE", 1_000)
    calls = []
    counts = demo.write_demo(tmp_path, 2_500, seed=1, fmt=fmt, chunk_customers=1_000,
                             progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    whole = demo.generate(2_500, seed=1)
    assert counts == {name: len(frame) for name, frame in whole.items()}
    for name in TABLE_ORDER:
        path = tmp_path / f"{name}.{fmt}"
        table = pq.read_table(path) if fmt == "parquet" else pacsv.read_csv(path)
        assert table.num_rows == counts[name]
        assert table.column_names == list(whole[name].columns)
    assert not (tmp_path / f"truth.{fmt}").exists()
    schema = pq.read_schema(tmp_path / "customers.parquet") if fmt == "parquet" else None
    if schema is not None:
        assert str(schema.field("signup_date").type) == "date32[day]"
        assert str(schema.field("owner").type) == "string"


def test_end_date_bounds_every_date():
    d = demo.generate(1_500, seed=2, end_date="2024-06-30")
    stop = pd.Timestamp("2024-07-01")
    for name, frame in d.items():
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]) and name != "subscriptions":
                assert frame[col].max() < stop, (name, col)
    assert d["customers"]["signup_date"].min() >= pd.Timestamp("2021-07-01")


def _contains(whole, part, path=""):
    """Every value of ``part`` (the file) is in ``whole`` (GROUND_TRUTH), lists equal to tuples."""
    if isinstance(part, dict):
        for k, v in part.items():
            assert k in whole, f"{path}/{k} missing"
            _contains(whole[k], v, f"{path}/{k}")
    elif isinstance(part, list):
        assert list(whole) == part, path
    else:
        assert whole == part and type(whole) is type(part), path


def test_ground_truth_is_the_data_file_plus_what_follows_from_it():
    with open(demo.GROUND_TRUTH_FILE, encoding="utf-8") as f:
        planted = yaml.safe_load(f)
    _contains(GT, planted)
    assert demo.DEFAULT_END_DATE == planted["window"]["default_end_date"]
    # derived in closed form: the pattern shares are a distribution, the resolved-complaint
    # switching probability follows from the unresolved one and the hazard multiplier
    for shares in [GT["lifecycle"]["pattern_share"][k] for k in ("overall", "vip", "non_vip")] + list(
            GT["lifecycle"]["pattern_share"]["by_class"].values()):
        assert sum(shares.values()) == pytest.approx(1.0, abs=2e-4) and tuple(shares) == demo.PATTERNS
    c = GT["complaints"]
    q_u, m = c["switch_probability"]["unresolved"], c["hazard_multiplier_unresolved_vs_resolved"]
    assert c["switch_probability"]["resolved"] == pytest.approx(1 - (1 - q_u) ** (1 / m), abs=1e-4)
    assert c["switch_hazard_per_day"]["unresolved"] == pytest.approx(-math.log(1 - q_u) / c["switch_window_days"],
                                                                      abs=1e-6)
    inc = GT["incentive"]
    assert inc["expected_repeat_ticket_share"] == pytest.approx(
        inc["deal_seeker_share"] * inc["p_repeat_ticket"]["deal_seeker"]
        + (1 - inc["deal_seeker_share"]) * inc["p_repeat_ticket"]["other"], abs=1e-4)


def test_editing_ground_truth_does_not_change_the_simulation(monkeypatch):
    before = demo.generate(300, seed=4)
    monkeypatch.setitem(GT["spend"], "class_multiplier", {k: 10.0 for k in GT["spend"]["class_multiplier"]})
    monkeypatch.setitem(GT["incentive"], "deal_seeker_share", 1.0)
    after = demo.generate(300, seed=4)
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name])


# ---------------------------------------------------------------------------------------------
# the data contract
def _castable(series: pd.Series, dtype: str) -> bool:
    s = series.dropna()
    if dtype == "string":
        return pd.api.types.is_string_dtype(series)
    if dtype == "int":
        return pd.api.types.is_integer_dtype(series)
    if dtype == "float":
        return pd.api.types.is_float_dtype(series)
    if dtype == "bool":
        return pd.api.types.is_bool_dtype(series)
    if dtype == "timestamp":
        return pd.api.types.is_datetime64_any_dtype(series)
    if dtype == "date":
        return pd.api.types.is_datetime64_any_dtype(series) and bool((s == s.dt.normalize()).all())
    raise AssertionError(dtype)


@pytest.mark.parametrize("name", TABLE_ORDER)
def test_contract(data, name):
    table, frame = TABLES[name], data[name]
    assert len(frame) > 0
    assert set(table.required) <= set(frame.columns)
    for col in frame.columns:
        assert table.has_column(col), f"{name}.{col} is not in the contract"
        spec = table.column(col)
        assert _castable(frame[col], spec.dtype), (name, col, frame[col].dtype)
        s = frame[col].dropna()
        lo, hi = spec.scale or (spec.min, spec.max)
        if lo is not None:
            assert s.min() >= lo, (name, col)
        if hi is not None:
            assert s.max() <= hi, (name, col)
        if spec.allowed:
            assert set(s.unique()) <= set(spec.allowed), (name, col)
        if spec.not_future:
            assert s.max() < END + pd.Timedelta(days=1), (name, col)
        if spec.required:
            assert frame[col].notna().all(), (name, col)
        if spec.customer_ref:
            assert s.isin(data["customers"]["customer_id"]).all(), (name, col)
    from cxvalue.io.validate import file_key
    key = file_key(table, list(frame.columns))
    if key:
        assert not frame.duplicated(list(key)).any(), f"{name}: duplicate key {key}"
    for col in table.nonnegative:
        if col in frame:
            negative = frame[col] < 0
            flagged = frame[table.return_flag] if table.return_flag else False
            assert not (negative & ~flagged).any(), (name, col)


def test_value_details(data):
    tr, r = data["transactions"], data["responses"]
    assert set(tr["category"].unique()) == {"ticket", "upgrade", "baggage", "lounge", "seat"}
    assert set(tr["channel"].unique()) == set(demo.CHANNELS)
    assert tr["product"].str.fullmatch(r"[A-Z]{3}-[A-Z]{3}").all()
    returns = tr[tr["is_return"]]
    assert 0.01 < len(returns) / len(tr) < 0.03 and (returns["amount"] < 0).all()
    ratings = [c for c in r.columns if c.startswith(("experience_", "expectation_", "importance_", "ideal_"))]
    assert len(ratings) == 24
    assert ((r[ratings] % 1) == 0).all().all() and (r["nps"].between(0, 10)).all()
    assert set(r["touchpoint"].unique()) == set(demo.TOUCHPOINTS)
    assert r["wave"].str.fullmatch(r"20\d\dH[12]").all()
    comments = r["comment"].dropna()
    english = comments.str.contains("[A-Za-z]")
    assert 0.05 < english.mean() < 0.25 and comments[~english].str.contains("[\u4e00-\u9fff]").all()
    sub = data["subscriptions"]
    assert (sub["end_date"].dropna() >= sub.loc[sub["end_date"].notna(), "start_date"]).all()
    c = data["customers"]
    assert c["owner"].notna().any() and c["owner"].isna().any()
    assert set(c["member_tier"].unique()) == set(demo.TIERS)
    assert (data["acquisition"]["channel"] == c["acquisition_channel"]).all()


def test_churn_follows_the_last_transaction(data):
    tr, ch = data["transactions"], data["churn_events"]
    last = tr.groupby("customer_id")["date"].max()
    assert (ch["date"] >= last.reindex(ch["customer_id"]).dt.normalize().to_numpy()).all()
    assert not ch["customer_id"].duplicated().any()
    first = tr.groupby("customer_id")["date"].min().dt.normalize()
    c = data["customers"].set_index("customer_id")
    assert (first == c["signup_date"].reindex(first.index)).all()


def test_referrals(data):
    ref, c = data["referrals"], data["customers"].set_index("customer_id")
    assert (ref["referrer_id"] != ref["referred_id"]).all()
    signup = c["signup_date"]
    assert (signup[ref["referrer_id"]].to_numpy() <= signup[ref["referred_id"]].to_numpy()).all()
    assert ref["referrer_id"].isin(ref["referred_id"]).mean() > 0.05      # indirect chains
    assert len(ref) / len(c) == pytest.approx(GT["referrals"]["referred_share"], abs=0.02)


# ---------------------------------------------------------------------------------------------
# the planted ground truth is visible in the data
def test_satisfied_customers_spend_more_and_buy_more(data, cls):
    tk = tickets(data)
    per = tk.groupby("customer_id")["amount"].mean().groupby(cls).mean()
    planted = GT["spend"]["class_multiplier"]
    ratio = planted["satisfied"] / planted["dissatisfied"]                       # 1.3
    assert per["satisfied"] / per["dissatisfied"] == pytest.approx(ratio, abs=0.1)
    planted = GT["purchase_rate"]["class_multiplier"]
    rate_ratio = planted["satisfied"] / planted["dissatisfied"]                  # 1.6
    rate = data["truth"].groupby("satisfaction_class")["purchase_rate"].mean()
    assert rate["satisfied"] / rate["dissatisfied"] == pytest.approx(rate_ratio, abs=0.12)
    n = tk.groupby("customer_id").size().reindex(cls.index, fill_value=0).groupby(cls).mean()
    assert n["satisfied"] / n["dissatisfied"] > rate_ratio                    # the lower dropout adds to it
    # the same effect seen through the survey (what an analysis can use)
    sat = data["responses"].groupby("customer_id")["satisfaction"].mean()
    spend = tk.groupby("customer_id")["amount"].mean()
    count = tk.groupby("customer_id").size()
    hi, lo = sat[sat >= 8].index, sat[sat <= 5].index
    assert spend[hi].mean() > 1.1 * spend[lo].mean() and count[hi].mean() > 1.5 * count[lo].mean()


def test_satisfied_customers_renew_more(data, cls):
    s = data["subscriptions"]
    y = s[(s["period"] == "year") & (s["start_date"] < END - pd.Timedelta(days=366))]
    renewed = (y["end_date"].isna() | (y["end_date"] > y["start_date"] + pd.Timedelta(days=370)))
    rate = renewed.groupby(y["customer_id"].map(cls)).mean()
    planted = GT["subscription"]["renewal_probability"]["year"]
    # customers who leave stop renewing, so the observed rate lies below the planted one
    for c, p in planted.items():
        assert p - 0.2 < rate[c] < p + 0.05, c
    assert rate["satisfied"] - rate["dissatisfied"] > planted["satisfied"] - planted["dissatisfied"] - 0.1


def test_unresolved_complaints_raise_churn(data):
    cp, ch, c = data["complaints"], data["churn_events"], data["customers"]
    unresolved = cp.assign(u=cp["resolved"].isna()).groupby("customer_id")["u"].any()
    group = c["customer_id"].map(unresolved).map({True: "unresolved", False: "resolved"}).fillna("none")
    churned = c["customer_id"].isin(ch["customer_id"]).groupby(group).mean()
    assert churned["unresolved"] > 1.4 * churned["resolved"]
    assert churned["resolved"] > 1.4 * churned["none"]
    reasons = ch.set_index("reason")["voluntary"]
    assert not reasons.loc[["unresolved_complaint"]].any() and reasons.loc[["staff_indifference"]].all()
    assert ch["reason"].value_counts().index[0] == "staff_indifference"


def test_convenience_is_the_key_experience_gap(data):
    r = data["responses"]
    r = r[r["date"] < IMPROVED]                           # before the planted improvement
    dims, ex = demo.DIMS, GT["experience"]
    key_dim, observed = ex["key_dimension"], ex["observed_mean"]              # measured on 200,000 customers
    gap = pd.Series({d: (r[f"experience_{d}"] - r[f"expectation_{d}"]).mean() for d in dims})
    imp = pd.Series({d: r[f"importance_{d}"].mean() for d in dims})
    key = pd.Series({d: (r[f"importance_{d}"] * (r[f"experience_{d}"] - r[f"expectation_{d}"])).mean() for d in dims})
    ideal = pd.Series({d: (r[f"ideal_{d}"] - r[f"experience_{d}"]).mean() for d in dims})
    assert gap.idxmin() == imp.idxmax() == key.idxmin() == ideal.idxmax() == key_dim
    assert gap[key_dim] == pytest.approx(observed["gap"][key_dim], abs=0.15)
    assert key[key_dim] == pytest.approx(observed["importance_x_gap"][key_dim], abs=1.5)
    assert ideal[key_dim] == pytest.approx(observed["ideal_minus_experience"][key_dim], abs=0.3)
    for d in dims:
        assert r[f"experience_{d}"].mean() == pytest.approx(observed["experience"][d], abs=0.2), d
    # after the improvement the convenience gap narrows by about the planted step
    late = data["responses"][data["responses"]["date"] >= IMPROVED]
    late_gap = (late["experience_convenience"] - late["expectation_convenience"]).mean()
    assert late_gap - gap["convenience"] == pytest.approx(ex["convenience_improvement"]["delta"], abs=0.2)


def test_nps_is_driven_by_the_dimension_gaps(data, cls):
    r = data["responses"]
    X = np.column_stack([np.ones(len(r))] + [r[f"experience_{d}"] - r[f"expectation_{d}"] for d in demo.DIMS])
    coef = np.linalg.lstsq(X, r["nps"].to_numpy(float), rcond=None)[0][1:]
    planted = np.array([GT["nps"]["weights"][d] for d in demo.DIMS])
    assert np.argmax(coef) == demo.DIMS.index("convenience")
    np.testing.assert_allclose(coef, planted, rtol=0.25)   # rounding and the 0-10 bounds attenuate a little
    # satisfied customers mostly answer 9-10, dissatisfied ones almost never (GROUND_TRUTH satisfaction note)
    promoters = (r["nps"] >= 9).groupby(r["customer_id"].map(cls)).mean()
    assert promoters["satisfied"] > 0.5
    assert promoters["dissatisfied"] < 0.05
    assert promoters["satisfied"] > promoters["neutral"] > promoters["dissatisfied"]


def test_comments_name_the_drivers(data):
    r = data["responses"].dropna(subset=["comment"])
    conv_gap = r["experience_convenience"] - r["expectation_convenience"]
    mentions = r["comment"].str.contains("航班时刻太少|too few flight times", case=False)
    assert mentions[conv_gap <= -3].mean() > 3 * mentions[conv_gap >= 0].mean()
    service = r["comment"].str.contains("冷漠|indifferent", case=False)
    service_gap = r["experience_service"] - r["expectation_service"]
    assert service[service_gap <= -3].mean() > 3 * service[service_gap >= 0].mean()


def test_vip_customers_retain_better(data):
    t = data["truth"].merge(data["customers"][["customer_id", "vip", "signup_date"]])
    early = t[t["signup_date"] < pd.Timestamp("2024-01-01")]
    exit_share = early.groupby("vip")["exit_date"].apply(lambda s: s.notna().mean())
    assert exit_share[True] < 0.8 * exit_share[False]


def test_incentive_share_of_repeat_purchases(data):
    tk = tickets(data).sort_values(["customer_id", "date"])
    repeat = tk["customer_id"].duplicated()
    planted = GT["incentive"]["expected_repeat_ticket_share"]                   # 0.315
    assert tk.loc[repeat, "incentive"].mean() == pytest.approx(planted, abs=0.02)
    assert tk.loc[~repeat, "incentive"].mean() == pytest.approx(GT["incentive"]["p_first_ticket"], abs=0.02)


def test_lifecycle_patterns(data):
    shares = GT["lifecycle"]["pattern_share"]["overall"]
    assert sum(shares.values()) == pytest.approx(1.0)
    got = data["truth"]["lifecycle_pattern"].value_counts(normalize=True)
    for pattern, share in shares.items():
        assert got[pattern] == pytest.approx(share, abs=0.015), pattern
    # pattern follows the dropout index; purchase frequency declines before a dropout
    t = data["truth"]
    lo = 1
    for pattern, hi in GT["lifecycle"]["pattern_max_dropout_index"].items():
        assert t.loc[t["lifecycle_pattern"] == pattern, "dropout_index"].between(lo, hi).all(), pattern
        lo = hi + 1
    assert (t.loc[t["lifecycle_pattern"] == "long_term", "dropout_index"] >= lo).all()
    dropped = t.loc[t["exit_cause"] == "dropout", "customer_id"]
    tk = tickets(data)
    tk = tk[tk["customer_id"].isin(dropped)].sort_values(["customer_id", "date"])
    gaps = tk.groupby("customer_id")["date"].diff().dt.total_seconds().div(86_400)
    pos = tk.groupby("customer_id").cumcount(ascending=False)    # 0 = last purchase
    n = tk.groupby("customer_id")["date"].transform("size")
    long = n >= 8
    assert gaps[long & (pos == 0)].mean() > 1.5 * gaps[long & (pos >= 4)].mean()


def test_churn_drivers(data, cls):
    t = data["truth"].set_index("customer_id")
    exited = t["exit_date"].notna().groupby(cls).mean()
    assert exited["dissatisfied"] > exited["neutral"] > exited["satisfied"]
    ch = data["churn_events"]
    departed = ch.loc[ch["reason"] == "salesperson_left", "customer_id"]
    assert data["customers"].set_index("customer_id").loc[departed, "owner"].notna().all()
