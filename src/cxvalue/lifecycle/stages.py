"""Relationship lifecycle stages per customer and period (concepts.md G1).

Stages: exploration 考察 → formation 形成 → stability 稳定 → decline 退化. They are read
from the trajectory of each customer's transactions — volume (purchase days) and value —
with documented rules whose thresholds are the fields of :class:`LifecycleRules`.

Per customer and period (month or quarter) the engine (Ibis, DuckDB or Spark) counts
purchases, amount and cost; the rules then run on that compact frame. At the end of
period t, using only data up to t:

- ``n_t`` cumulative purchase days; ``gap_t`` days since the last purchase;
  ``typical_gap_t`` = (last − first purchase) / (n_t − 1); ``v_t`` purchases in the
  trailing ``window_periods`` periods and ``peak_t`` = max v up to t.
- **decline** when the customer is overdue — ``gap_t > max(min_decline_days,
  decline_gap × typical_gap_t)`` (with one purchase only: ``gap_t > single_purchase_days``) —
  or the trailing volume has fallen to ``v_t ≤ decline_ratio × peak_t`` from a peak of at
  least ``min_peak`` purchases;
- else **exploration** while ``n_t < formation_purchases`` (small volume, trying out);
- else **stability** once ``n_t ≥ stability_purchases`` (volume at its maximum, sustained);
- else **formation** (volume rising).

The relationship **ends** (customer-level, at ``as_of``) when a churn event is recorded, or
when the customer is judged gone: ``end_rule="p_alive"`` — BG/NBD P(alive) below
``p_alive_threshold`` (from the ``customer_value`` table when the value analysis has run,
else fitted here), or no purchase for ``inactive_days`` (the only test with
``end_rule="inactivity"``). An ended relationship's periods run to the period in which it
became overdue (or of the churn event), so it finishes in decline; the period after is the
exit (``ended`` in the transition matrix).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields

import ibis
import numpy as np
import pandas as pd

from ..errors import CxValueError, one_of
from ..store import has_table
from ..timeutil import as_date

STAGES = ("exploration", "formation", "stability", "decline")
PERIODS = ("month", "quarter")
END_RULES = ("p_alive", "inactivity")


@dataclass(frozen=True)
class LifecycleRules:
    """Thresholds of the stage rules (see the module docstring)."""
    period: str = "month"
    formation_purchases: int = 4
    stability_purchases: int = 9
    window_periods: int = 6
    decline_ratio: float = 0.34
    min_peak: int = 3
    decline_gap: float = 2.5
    min_decline_days: int = 90
    single_purchase_days: int = 365
    end_rule: str = "p_alive"
    p_alive_threshold: float = 0.5
    inactive_days: int = 365

    def __post_init__(self):
        one_of("period", self.period, PERIODS)
        one_of("end_rule", self.end_rule, END_RULES)
        if not 1 <= self.formation_purchases < self.stability_purchases:
            raise CxValueError(f"formation_purchases={self.formation_purchases} and stability_purchases="
                               f"{self.stability_purchases}: expected 1 <= formation < stability")
        if not 0 < self.decline_ratio < 1:
            raise CxValueError(f"decline_ratio={self.decline_ratio!r}: expected a number between 0 and 1")
        if not 0 < self.p_alive_threshold < 1:
            raise CxValueError(f"p_alive_threshold={self.p_alive_threshold!r}: expected a probability between 0 and 1")
        for name in ("window_periods", "min_decline_days", "single_purchase_days", "inactive_days"):
            if getattr(self, name) < 1:
                raise CxValueError(f"{name}={getattr(self, name)!r}: expected a positive number")

    @classmethod
    def from_dict(cls, d: dict | None) -> LifecycleRules:
        d = dict(d or {})
        names = {f.name for f in fields(cls)}
        bad = set(d) - names
        if bad:
            raise CxValueError(f"lifecycle rule {sorted(bad)[0]!r} is not valid: expected one of {', '.join(sorted(names))}")
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)


def _period_index(d, period: str):
    """Integer period number of DATE expression ``d`` (months or quarters since year 0)."""
    if period == "month":
        return d.year().cast("int64") * 12 + d.month().cast("int64") - 1
    return d.year().cast("int64") * 4 + d.quarter().cast("int64") - 1


def period_activity(con, *, period: str = "month", as_of: dt.date | None = None):
    """Ibis expression: purchases (distinct days), transactions, amount and cost per customer and
    period (``period_no``), plus ``last_day`` (days since 1970-01-01 of the period's last purchase)."""
    one_of("period", period, PERIODS)
    if not has_table(con, "transactions"):
        raise CxValueError("the lifecycle needs transactions: load them with `cxvalue load transactions FILE`")
    t = con.table("transactions")
    d = t.date.cast("date")
    if as_of is not None:
        t = t.filter(d <= ibis.literal(as_of, type="date"))
        d = t.date.cast("date")
    ret = t.is_return.fill_null(False) if "is_return" in t.columns else ibis.literal(False)
    t = t.mutate(__d=d, __p=_period_index(d, period), __buy=~ret,
                 __cost=(t.cost.cast("float64").fill_null(0.0) if "cost" in t.columns else ibis.literal(0.0)))
    epoch = ibis.literal(dt.date(1970, 1, 1), type="date")
    agg = t.group_by([t.customer_id.cast("string").name("customer_id"), t.__p.name("period_no")]).aggregate(
        purchases=t.__d.nunique(where=t.__buy), transactions=t.count(), amount=t.amount.cast("float64").sum(),
        cost=t.__cost.sum(), __last=t.__d.max(where=t.__buy))
    return agg.mutate(last_day=agg.__last.delta(epoch, unit="day").cast("int64")).drop("__last")


def _period_bounds(no: np.ndarray, period: str) -> tuple[np.ndarray, np.ndarray]:
    """First day and last day (days since 1970-01-01) of period numbers ``no``."""
    if period == "month":
        y, m = no // 12, no % 12
    else:
        y, m = no // 4, (no % 4) * 3
    start = (pd.to_datetime(pd.DataFrame({"year": y, "month": m + 1, "day": 1})) - pd.Timestamp("1970-01-01")).dt.days
    nxt = no + 1
    y2, m2 = (nxt // 12, nxt % 12) if period == "month" else (nxt // 4, (nxt % 4) * 3)
    end = (pd.to_datetime(pd.DataFrame({"year": y2, "month": m2 + 1, "day": 1})) - pd.Timestamp("1970-01-01")).dt.days - 1
    return start.to_numpy(np.int64), end.to_numpy(np.int64)


def period_label(no: np.ndarray, period: str) -> np.ndarray:
    """"YYYY-MM" or "YYYYQn" labels of period numbers (formatted once per distinct period)."""
    uniq, inv = np.unique(np.asarray(no, np.int64), return_inverse=True)
    if period == "month":
        labels = [f"{n // 12}-{n % 12 + 1:02d}" for n in uniq]
    else:
        labels = [f"{n // 4}Q{n % 4 + 1}" for n in uniq]
    return np.array(labels, dtype=object)[inv.reshape(-1)]


def _p_alive(con, customers: pd.Index, as_of: dt.date, at_end: bool) -> pd.Series:
    """P(alive) at ``as_of``: from customer_value when present and ``as_of`` is the end of the data
    (``at_end``), else a BG/NBD fitted here on the data up to ``as_of``."""
    if at_end and has_table(con, "customer_value") and "p_alive" in con.table("customer_value").columns:
        cv = con.table("customer_value")
        s = cv.select(cv.customer_id.cast("string").name("customer_id"), "p_alive").to_pandas()
        return s.set_index("customer_id").p_alive.reindex(customers)
    from ..features.summary import summary_frame
    from ..value import BetaGeoModel
    summ = summary_frame(con.table("transactions"), unit="week", calibration_end=as_of)
    model = BetaGeoModel().fit(summ[["frequency", "recency", "T"]])
    return model.predict_p_alive(summ[["frequency", "recency", "T"]]).p_alive.reindex(customers)


def _churn_dates(con, as_of: dt.date) -> pd.Series:
    if not has_table(con, "churn_events"):
        return pd.Series(dtype="float64")
    e = con.table("churn_events")
    e = e.filter(e.date.cast("date") <= ibis.literal(as_of, type="date"))
    epoch = ibis.literal(dt.date(1970, 1, 1), type="date")
    e = e.group_by(e.customer_id.cast("string").name("customer_id")).aggregate(
        day=e.date.cast("date").min().delta(epoch, unit="day").cast("int64")).to_pandas()
    return e.set_index("customer_id").day


def lifecycle_stages(con, *, rules: LifecycleRules | dict | None = None, as_of=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage per customer and period, and the relationship facts per customer.

    Returns ``(periods, relationships)``: ``periods`` has one row per customer and period from
    the first purchase to the end (``customer_id``, ``period``, ``period_no``, ``stage``,
    ``purchases``, ``transactions``, ``amount``, ``cost``, ``profit``, ``cumulative_purchases``,
    ``trailing_purchases``, ``days_since_purchase``); ``relationships`` is indexed by customer
    (``first_purchase``, ``last_purchase``, ``purchases``, ``ended``, ``end_date``, ``end_reason``,
    ``p_alive``, ``current_stage``, ``highest_stage``)."""
    from ..churn.data import data_end
    rules = rules if isinstance(rules, LifecycleRules) else LifecycleRules.from_dict(rules)
    if not has_table(con, "transactions"):
        raise CxValueError("the lifecycle needs transactions: load them with `cxvalue load transactions FILE`")
    end = data_end(con)
    as_of = as_date(as_of, "as_of") if as_of is not None else end
    act = period_activity(con, period=rules.period, as_of=as_of).to_pandas()
    if act.empty:
        raise CxValueError(f"no transactions on or before {as_of} to build lifecycle stages from")
    buyers = act.loc[act.purchases > 0, "customer_id"].unique()
    act = act[act.customer_id.isin(buyers)]
    asof_day = (pd.Timestamp(as_of) - pd.Timestamp("1970-01-01")).days
    codes, cust = pd.factorize(act.customer_id, sort=True)
    act = act.assign(c=codes)
    fb = act[act.purchases > 0].groupby("c")
    n_total = fb.purchases.sum().reindex(range(len(cust))).fillna(0).to_numpy()
    last_day = fb.last_day.max().reindex(range(len(cust))).to_numpy(float)
    first_day = _first_purchase_day(con, as_of).reindex(cust).to_numpy(float)
    # end of each relationship
    typical = np.where(n_total > 1, (last_day - first_day) / np.maximum(n_total - 1, 1), np.nan)
    overdue = np.where(n_total > 1, np.maximum(rules.min_decline_days, rules.decline_gap * np.nan_to_num(typical)),
                       rules.single_purchase_days)
    gap_now = asof_day - last_day
    churn_day = _churn_dates(con, as_of).reindex(cust).to_numpy(float)
    p_alive = np.full(len(cust), np.nan)
    ended = ~np.isnan(churn_day) | (gap_now > rules.inactive_days)
    reason = np.where(~np.isnan(churn_day), "churn_event", np.where(gap_now > rules.inactive_days, "inactive", ""))
    if rules.end_rule == "p_alive":
        p_alive = _p_alive(con, pd.Index(cust), as_of, as_of >= end).to_numpy(float)
        gone = (p_alive < rules.p_alive_threshold) & ~ended
        ended |= gone
        reason = np.where(gone, "p_alive", reason)
    end_day = np.where(~np.isnan(churn_day), np.maximum(churn_day, last_day), last_day + overdue + 1)
    end_day = np.floor(np.where(ended, np.minimum(end_day, asof_day), asof_day))
    # the grid of periods per customer
    p_first = act.groupby("c").period_no.min().to_numpy()
    p_last = _day_to_period(end_day.astype(np.int64), rules.period)
    p_last = np.maximum(p_last, p_first)
    lens = (p_last - p_first + 1).astype(np.int64)
    c = np.repeat(np.arange(len(cust)), lens)
    start = np.cumsum(lens) - lens
    pno = p_first[c] + (np.arange(lens.sum()) - start[c])
    grid = pd.DataFrame({"c": c, "period_no": pno})
    grid = grid.merge(act[["c", "period_no", "purchases", "transactions", "amount", "cost", "last_day"]],
                      on=["c", "period_no"], how="left", sort=False)
    grid = grid.sort_values(["c", "period_no"], kind="stable", ignore_index=True)
    for col in ("purchases", "transactions", "amount", "cost"):
        grid[col] = grid[col].fillna(0)
    grid["purchases"] = grid.purchases.astype(np.int64)
    grid["transactions"] = grid.transactions.astype(np.int64)
    stage, extra = _stage_rules(grid, rules, first_day, asof_day)
    grid = grid.assign(stage=stage, **extra)
    grid["profit"] = grid.amount - grid.cost
    grid.insert(0, "customer_id", np.asarray(cust)[grid.c.to_numpy()])
    grid.insert(1, "period", period_label(grid.period_no.to_numpy(), rules.period))
    periods = grid.drop(columns=["c", "last_day"])
    last_rows = periods.groupby("customer_id", sort=False).tail(1).set_index("customer_id")
    rank = {s: i for i, s in enumerate(STAGES[:3])}
    reached = periods[periods.stage != "decline"]
    highest = (reached.stage.map(rank).groupby(reached.customer_id).max()
               .map(dict(enumerate(STAGES[:3]))))
    day0 = pd.Timestamp("1970-01-01")
    rel = pd.DataFrame({
        "first_purchase": day0 + pd.to_timedelta(first_day, unit="D"),
        "last_purchase": day0 + pd.to_timedelta(last_day, unit="D"),
        "purchases": n_total.astype(np.int64), "ended": ended,
        "end_date": (day0 + pd.to_timedelta(np.where(ended, end_day, np.nan), unit="D")).to_numpy(),
        "end_reason": np.where(ended, reason, ""), "p_alive": p_alive}, index=pd.Index(cust, name="customer_id"))
    rel["current_stage"] = last_rows.stage.reindex(rel.index)
    rel["highest_stage"] = highest.reindex(rel.index).fillna("exploration")
    periods.attrs.update(as_of=str(as_of), rules=rules.to_dict())
    return periods.reset_index(drop=True), rel


def _first_purchase_day(con, as_of: dt.date) -> pd.Series:
    t = con.table("transactions")
    d = t.date.cast("date")
    t = t.filter(d <= ibis.literal(as_of, type="date"))
    if "is_return" in t.columns:
        t = t.filter(~t.is_return.fill_null(False))
    epoch = ibis.literal(dt.date(1970, 1, 1), type="date")
    f = t.group_by(t.customer_id.cast("string").name("customer_id")).aggregate(
        day=t.date.cast("date").min().delta(epoch, unit="day").cast("int64")).to_pandas()
    return f.set_index("customer_id").day.astype(float)


def _day_to_period(day: np.ndarray, period: str) -> np.ndarray:
    d = pd.to_datetime(day, unit="D")
    y, m = d.year.to_numpy(np.int64), d.month.to_numpy(np.int64)
    return y * 12 + m - 1 if period == "month" else y * 4 + (m - 1) // 3


def _stage_rules(grid: pd.DataFrame, r: LifecycleRules, first_day: np.ndarray, asof_day: int):
    """Vectorised stage rules over the sorted customer × period grid."""
    c = grid.c.to_numpy()
    new = np.r_[True, c[1:] != c[:-1]]
    n_cum = grid.groupby("c", sort=False).purchases.cumsum().to_numpy()
    last = grid.last_day.groupby(grid.c, sort=False).ffill().to_numpy(float)
    _, p_end = _period_bounds(grid.period_no.to_numpy(), r.period)
    p_end = np.minimum(p_end, asof_day)
    gap = p_end - last
    typical = np.where(n_cum > 1, (last - first_day[c]) / np.maximum(n_cum - 1, 1), np.nan)
    overdue = np.where(n_cum > 1, gap > np.maximum(r.min_decline_days, r.decline_gap * np.nan_to_num(typical)),
                       gap > r.single_purchase_days)
    # trailing volume over window_periods (rows are consecutive periods per customer)
    cs = np.cumsum(grid.purchases.to_numpy())
    first_row = np.flatnonzero(new)[np.cumsum(new) - 1]
    idx = np.arange(len(c))
    back = idx - r.window_periods
    before = np.where(back >= first_row, cs[np.maximum(back, 0)], np.where(first_row > 0, cs[first_row - 1], 0))
    vol = cs - before
    peak = pd.Series(vol).groupby(c, sort=False).cummax().to_numpy()
    falling = (peak >= r.min_peak) & (vol <= r.decline_ratio * peak)
    decline = (n_cum >= 1) & (overdue | falling)
    stage = np.where(decline, "decline", np.where(n_cum < r.formation_purchases, "exploration",
                                                  np.where(n_cum >= r.stability_purchases, "stability", "formation")))
    return stage, {"cumulative_purchases": n_cum, "trailing_purchases": vol,
                   "days_since_purchase": np.where(np.isnan(gap), np.nan, gap)}
