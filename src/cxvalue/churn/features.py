"""Per-customer churn features at a cut-off date, computed in the engine (Ibis).

:func:`churn_features` returns one Ibis expression (one row per customer known at the
cut-off) that runs unchanged on DuckDB and PySpark. Every input row is filtered to
``date <= cutoff`` (dates compared as DATEs, the cut-off day included), so nothing
that happened after the cut-off can reach a feature — the leakage-free half of a
churn label (the outcome half is in :mod:`cxvalue.churn.definitions`). A complaint
resolved *after* the cut-off counts as unresolved at the cut-off; a subscription that
ends after it counts as active.

Feature families (prefixes are what :func:`cxvalue.churn.prediction.reason_family`
uses to name reasons):

- profile: columns of ``customers`` (``segment``, ``vip``, ``gender``, ``birth_year``,
  ``region``, ``acquisition_channel`` and any extra column kept at load), ``tenure_days``;
- behaviour (transactions): ``purchases``, ``recency_days``, ``mean_gap_days``,
  ``recency_ratio``, ``spend``, ``avg_amount``, ``margin``, ``returns_share``,
  ``incentive_share``; trend of frequency and spend: ``purchases_recent`` /
  ``purchases_before`` (last ``window_days`` vs the ``window_days`` before) and
  ``frequency_trend``, ``spend_recent``, ``spend_before``, ``spend_trend``;
- experience (responses): ``nps_last``, ``nps_mean``, ``satisfaction_last``,
  ``satisfaction_mean``, ``responses``;
- complaints: ``complaints``, ``complaints_unresolved`` (not resolved by the cut-off),
  ``complaints_recent_unresolved`` (of those, opened in the last ``2 × window_days``),
  ``complaints_resolved``, ``complaint_days_ago``;
- salesperson: ``owner_recent_churn_share`` (share of the owner's customers who left in the
  last ``window_days``; needs ``customers.owner`` and churn events);
- channel: ``channel_share_<channel>``, ``channels``;
- contract (subscriptions): ``subscriptions``, ``subscription_active``, ``subscription_amount``.

Date arithmetic uses DATE deltas in days only (no timestamp deltas), argmax for the
last value, no ``mode``/``first``: the rules that keep DuckDB and Spark equal.
"""
from __future__ import annotations

import datetime as dt

import ibis

from ..errors import CxValueError
from ..store import has_table
from ..timeutil import as_date
from .data import days

#: customers columns never used as features (identifiers, free text, snapshots of later behaviour)
EXCLUDED_PROFILE = ("customer_id", "name", "signup_date", "owner", "city", "member_tier", "category_spend")
MAX_CHANNELS = 8


def _lit(d: dt.date):
    return ibis.literal(d, type="date")


def _tx_features(tx, cutoff: dt.date, window_days: int):
    c = _lit(cutoff)
    recent_from = _lit(days(cutoff, -window_days))
    before_from = _lit(days(cutoff, -2 * window_days))
    d = tx.date.cast("date")
    t = tx.mutate(__d=d).filter(d <= c)
    ret = t.is_return.fill_null(False) if "is_return" in t.columns else ibis.literal(False)
    t = t.mutate(__ret=ret, __amt=t.amount.cast("float64"))
    buy = ~t.__ret
    aggs = dict(
        purchases=t.__d.nunique(where=buy),
        __first=t.__d.min(), __last=t.__d.max(where=buy),
        spend=t.__amt.sum(),
        transactions=t.count(),
        purchases_recent=t.__d.nunique(where=buy & (t.__d > recent_from)),
        purchases_before=t.__d.nunique(where=buy & (t.__d > before_from) & (t.__d <= recent_from)),
        spend_recent=t.__amt.sum(where=t.__d > recent_from),
        spend_before=t.__amt.sum(where=(t.__d > before_from) & (t.__d <= recent_from)),
    )
    if "is_return" in t.columns:
        aggs["returns_share"] = t.__ret.cast("float64").mean()
    if "incentive" in t.columns:
        aggs["incentive_share"] = t.incentive.fill_null(False).cast("float64").mean()
    if "cost" in t.columns:
        aggs["margin"] = (t.__amt - t.cost.cast("float64").fill_null(0.0)).sum()
    if "channel" in t.columns:
        aggs["channels"] = t.channel.nunique()
    return t, aggs


def _channel_values(tx, cutoff: dt.date) -> list[str]:
    t = tx.filter(tx.date.cast("date") <= _lit(cutoff))
    top = (t.group_by("channel").aggregate(__n=t.count()).filter(t.channel.notnull())
           .order_by([ibis.desc("__n"), "channel"]).limit(MAX_CHANNELS).to_pyarrow().to_pylist())
    return [r["channel"] for r in top]


def churn_features(con, cutoff, *, window_days: int = 90, profile_cols: list[str] | None = None,
                   channels: list[str] | None = None):
    """Ibis expression of the churn features of every customer known at ``cutoff``.

    A customer is known when they signed up, bought or subscribed on or before the cut-off.
    ``window_days`` sets the recent and previous windows of the trend features.
    ``profile_cols`` (default: every customers column except identifiers and snapshot
    columns listed in :data:`EXCLUDED_PROFILE`) picks the profile features. ``channels``
    fixes the channel-share columns (default: the most used channels before the cut-off),
    so that features at several cut-offs have the same columns.
    Execute with ``.to_pandas()``; see :func:`feature_frame`.
    """
    cutoff = as_date(cutoff, "cutoff")
    if window_days < 1:
        raise CxValueError(f"window_days={window_days!r}: expected a positive number of days")
    have = set(con.list_tables())
    if "transactions" not in have and "subscriptions" not in have:
        raise CxValueError("churn features need transactions or subscriptions in the store: "
                           "load them with `cxvalue load transactions FILE`")
    c = _lit(cutoff)
    parts = []  # (table, columns to keep)
    known = []
    if "transactions" in have:
        tx = con.table("transactions")
        t, aggs = _tx_features(tx, cutoff, window_days)
        if "channel" in t.columns:
            for ch in (_channel_values(tx, cutoff) if channels is None else channels):
                aggs[f"channel_share_{_safe(ch)}"] = (t.channel == ch).cast("float64").mean()
        a = t.group_by(t.customer_id.cast("string").name("customer_id")).aggregate(**aggs)
        a = a.mutate(
            recency_days=c.delta(a.__last, unit="day").cast("float64"),
            __span=a.__last.delta(a.__first, unit="day").cast("float64"),
            avg_amount=a.spend / a.transactions,
            frequency_trend=(a.purchases_recent - a.purchases_before).cast("float64"),
            spend_trend=a.spend_recent.fill_null(0.0) - a.spend_before.fill_null(0.0),
        )
        a = a.mutate(mean_gap_days=ibis.ifelse(a.purchases > 1, a.__span / (a.purchases - 1), ibis.null("float64")))
        a = a.mutate(recency_ratio=a.recency_days / a.mean_gap_days)
        known.append(a.select("customer_id", __since=a.__first))
        parts.append(a.drop("__span", "__last", "__first"))
    if "responses" in have:
        r = con.table("responses")
        r = r.filter(r.customer_id.notnull() & (r.date.cast("date") <= c))
        aggs = {"responses": r.count()}
        if "nps" in r.columns:
            aggs.update(nps_last=r.nps.cast("float64").argmax(r.date), nps_mean=r.nps.cast("float64").mean())
        if "satisfaction" in r.columns:
            aggs.update(satisfaction_last=r.satisfaction.cast("float64").argmax(r.date),
                        satisfaction_mean=r.satisfaction.cast("float64").mean())
        parts.append(r.group_by(r.customer_id.cast("string").name("customer_id")).aggregate(**aggs))
    if "complaints" in have:
        k = con.table("complaints")
        od = k.opened.cast("date")
        k = k.mutate(__o=od).filter(od <= c)
        rd = k.resolved.cast("date") if "resolved" in k.columns else ibis.null("date")
        open_ = rd.isnull() | (rd > c)
        recent = k.__o > _lit(days(cutoff, -2 * window_days))
        a = k.group_by(k.customer_id.cast("string").name("customer_id")).aggregate(
            complaints=k.count(), complaints_unresolved=k.count(where=open_),
            complaints_recent_unresolved=k.count(where=open_ & recent), __lastc=k.__o.max())
        a = a.mutate(complaints_resolved=a.complaints - a.complaints_unresolved,
                     complaint_days_ago=c.delta(a.__lastc, unit="day").cast("float64"))
        parts.append(a.drop("__lastc"))
    if "subscriptions" in have:
        s = con.table("subscriptions")
        s = s.filter(s.start_date.cast("date") <= c)
        ed = s.end_date.cast("date") if "end_date" in s.columns else ibis.null("date")
        active = ed.isnull() | (ed > c)
        aggs = dict(subscriptions=s.count(), subscription_active=s.count(where=active) > 0,
                    __sfirst=s.start_date.cast("date").min())
        if "amount" in s.columns:
            aggs["subscription_amount"] = s.amount.cast("float64").sum(where=active)
        a = s.group_by(s.customer_id.cast("string").name("customer_id")).aggregate(**aggs)
        parts.append(a.drop("__sfirst"))
        known.append(a.select("customer_id", __since=a.__sfirst))
    if "churn_events" in have and has_table(con, "customers") and "owner" in con.table("customers").columns:
        parts.append(_owner_churn(con, cutoff, window_days))
    spine, prof = _spine(con, cutoff, known, profile_cols)
    out = spine
    for p in parts:
        out = out.left_join(p, out.customer_id == p.customer_id).drop("customer_id_right")
    fills = {}
    for name, dtype in out.schema().items():
        if name.startswith(("purchases", "transactions", "responses", "complaints", "subscriptions", "channels")) \
                and dtype.is_integer():
            fills[name] = 0
        if name in ("spend", "spend_recent", "spend_before", "spend_trend", "frequency_trend", "margin"):
            fills[name] = 0.0
    if fills:
        out = out.mutate(**{k: out[k].fill_null(v) for k, v in fills.items()})
    if "subscription_active" in out.columns:
        out = out.mutate(subscription_active=out.subscription_active.fill_null(False))
    return out.order_by("customer_id")


def _owner_churn(con, cutoff: dt.date, window_days: int):
    """``owner_recent_churn_share``: share of the customer's owner's (salesperson's) customers with
    a churn event in the last ``window_days`` before the cut-off — customers follow a departing
    salesperson (concepts.md F6)."""
    cu = con.table("customers")
    cu = cu.filter(cu.owner.notnull()).select(cu.customer_id.cast("string").name("customer_id"), "owner")
    e = con.table("churn_events")
    ed = e.date.cast("date")
    e = e.filter((ed <= _lit(cutoff)) & (ed > _lit(days(cutoff, -window_days))))
    e = e.select(e.customer_id.cast("string").name("customer_id")).distinct().mutate(__left=1)
    j = cu.left_join(e, cu.customer_id == e.customer_id).drop("customer_id_right")
    own = j.group_by("owner").aggregate(__n=j.count(), __k=j.__left.sum().fill_null(0))
    own = own.mutate(owner_recent_churn_share=own.__k.cast("float64") / own.__n)
    out = cu.left_join(own, cu.owner == own.owner)
    return out.select("customer_id", "owner_recent_churn_share")


def _spine(con, cutoff: dt.date, known, profile_cols):
    """Customers known at the cut-off with their profile columns and tenure."""
    c = _lit(cutoff)
    since = None
    if known:
        u = known[0]
        for k in known[1:]:
            u = u.union(k)
        since = u.group_by("customer_id").aggregate(__since=u.__since.min())
    if has_table(con, "customers"):
        cu = con.table("customers")
        cols = profile_cols if profile_cols is not None else [
            c_ for c_ in cu.columns if c_ not in EXCLUDED_PROFILE and not c_.startswith("__")]
        missing = [c_ for c_ in cols if c_ not in cu.columns]
        if missing:
            raise CxValueError(f"profile column {missing[0]!r} not in customers: expected one of {', '.join(cu.columns)}")
        base = cu.select(cu.customer_id.cast("string").name("customer_id"),
                         (cu.signup_date.cast("date") if "signup_date" in cu.columns else ibis.null("date")).name("__signup"),
                         *[cu[c_] for c_ in cols])
        if since is not None:
            base = base.left_join(since, base.customer_id == since.customer_id).drop("customer_id_right")
            start = ibis.least(base.__signup.fill_null(base.__since), base.__since.fill_null(base.__signup))
        else:
            start = base.__signup
        base = base.mutate(__start=start).filter(start <= c)
        base = base.mutate(tenure_days=c.delta(base.__start, unit="day").cast("float64"))
        drop = [x for x in ("__signup", "__since", "__start") if x in base.columns]
        return base.drop(*drop), cols
    if since is None:
        raise CxValueError("no customers, transactions or subscriptions to build churn features from")
    base = since.filter(since.__since <= c)
    base = base.mutate(tenure_days=c.delta(base.__since, unit="day").cast("float64")).drop("__since")
    return base, []


def _safe(value: str) -> str:
    import re
    s = re.sub(r"\W+", "_", str(value).strip().lower(), flags=re.UNICODE).strip("_")
    return s or "unknown"


def feature_frame(con, cutoff, **kwargs):
    """:func:`churn_features` executed: a pandas DataFrame indexed by ``customer_id``."""
    return churn_features(con, cutoff, **kwargs).to_pandas().set_index("customer_id")
