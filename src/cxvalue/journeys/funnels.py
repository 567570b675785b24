"""Journeys on instrumented channels (concepts.md D9, seed 000 埋点): funnels, the macro
composite index per channel, the daily series that the process-control charts watch, and the
NPS and churn of customers whose journey had friction.

A **journey instance** is one go through a journey: the events of one ``session_id`` in that
journey, or — without sessions — of one customer in that journey on one day. Its **steps** are
ordered by ``step_order`` when the events carry it, else by the median position at which
instances first reach each step. Per journey × channel × step:

* ``reached`` — instances that reached the step; ``conversion`` — reached ÷ reached of the
  step before (the first step: 1); ``drop_off`` = 1 − conversion; ``overall`` — reached ÷
  instances that started the journey;
* ``repeat_share`` — instances with more than one event on the step (retries);
  ``error_share`` — instances with an error on it (``error_code`` given, or an ``outcome`` of
  error / fail / failed / 失败).

Per journey × channel: ``instances``, ``completion`` (reached the last step), time to complete
(``median_seconds``, ``p90_seconds`` from the first to the last event of completed instances),
``first_time_right`` (no error and no repeat on any step), ``error_free`` and the **composite
index** (0-100) = 100 × (0.4·completion + 0.2·first_time_right + 0.2·error_free + 0.2·speed),
with ``speed`` = the journey's fastest channel's median time ÷ this channel's (1 for the
fastest). The weights are :data:`INDEX_WEIGHTS`.

All counting runs in the engine (Ibis); what comes back is one row per journey × channel ×
step (× day for the daily series).
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from ..errors import CxValueError

INDEX_WEIGHTS = {"completion": 0.4, "first_time_right": 0.2, "error_free": 0.2, "speed": 0.2}
ERROR_OUTCOMES = ("error", "fail", "failed", "failure", "失败", "错误")


def instances(events: ibis.Table) -> ibis.Table:
    """The events with ``instance`` (the journey instance id), ``day`` and ``error`` (bool)."""
    cols = set(events.columns)
    if "session_id" not in cols and "customer_id" not in cols:
        raise CxValueError("events: expected a session_id or a customer_id column (which journey instance an event "
                           "belongs to)")
    by_day = (events.customer_id.cast("string") + "|" + events.journey + "|" + events.timestamp.date().cast("string")
              if "customer_id" in cols else None)
    inst = (events.session_id.cast("string") if "session_id" in cols else None)
    inst = by_day if inst is None else (inst if by_day is None else inst.coalesce(by_day))
    err = ibis.literal(False)
    if "error_code" in cols:
        err = err | (events.error_code.notnull() & (events.error_code.strip() != ""))
    if "outcome" in cols:
        err = err | events.outcome.lower().strip().isin(ERROR_OUTCOMES).fill_null(False)
    return events.mutate(instance=inst, day=events.timestamp.date(), error=err).filter(lambda t: t.instance.notnull())


def step_order(ev: ibis.Table) -> pd.DataFrame:
    """``journey``, ``step``, ``rank`` (1 = first): ``step_order`` when given, else the median
    position at which instances first reach the step."""
    if "step_order" in ev.columns:
        o = ev.filter(ev.step_order.notnull()).group_by(["journey", "step"]).aggregate(key=ev.step_order.min())
        o = o.to_pandas()
        known = ev.select("journey", "step").distinct().to_pandas()
        if len(o) == len(known):
            return _ranked(o)
    first = ev.group_by(["instance", "journey", "step"]).aggregate(t=ev.timestamp.min())
    pos = first.mutate(pos=ibis.row_number().over(group_by=[first.instance, first.journey], order_by=first.t))
    o = pos.group_by(["journey", "step"]).aggregate(key=pos.pos.median(), n=pos.count()).to_pandas()
    return _ranked(o.sort_values(["journey", "key", "n"], ascending=[True, True, False]))


def _ranked(o: pd.DataFrame) -> pd.DataFrame:
    o = o.sort_values(["journey", "key"], kind="stable").copy()
    o["rank"] = o.groupby("journey").cumcount() + 1
    return o[["journey", "step", "rank"]].reset_index(drop=True)


def _with_rank(ev: ibis.Table, order: pd.DataFrame) -> ibis.Table:
    o = ibis.memtable(order)
    return ev.join(o, [ev.journey == o.journey, ev.step == o.step]).select(ev, o["rank"])


def funnel_tables(events: ibis.Table) -> dict[str, pd.DataFrame]:
    """``journey_funnel`` (per journey × channel × step), ``journey_channels`` (per journey ×
    channel: completion, times, index), ``journey_daily`` (per journey × channel × day × step:
    ``n`` instances that reached the step before, ``from_step``, ``x`` of them that reached this one) and
    ``journey_daily_time`` (per journey × channel × day: completed instances and their median
    time). See the module docstring."""
    ev = instances(events)
    order = step_order(ev)
    ev = _with_rank(ev, order)
    # per instance and step: events, errors
    per = _per_step(ev)
    steps = per.group_by(["journey", "channel", "step", "rank"]).aggregate(
        reached=per.count(), repeats=(per.events > 1).cast("int64").sum(), with_error=(per.errors > 0).cast("int64").sum()
    ).to_pandas()
    inst = _taken(ev, per, order)
    done = inst.filter(inst.completed)
    chan = inst.group_by(["journey", "channel"]).aggregate(
        instances=inst.count(), completed=inst.completed.cast("int64").sum(),
        first_time_right=((inst.errors == 0) & (inst.repeated == 0)).cast("int64").sum(),
        error_free=(inst.errors == 0).cast("int64").sum()).to_pandas()
    times = done.group_by(["journey", "channel"]).aggregate(
        median_seconds=done.seconds.quantile(0.5), p90_seconds=done.seconds.quantile(0.9)).to_pandas()
    # daily: instances that reached step k-1 (n) and, of them, step k (x), by the instance's first day
    pairs = per.select("instance", "journey", "channel", "rank", "day").distinct()
    nxt = pairs.select(instance2=pairs.instance, rank2=pairs["rank"])
    j = pairs.left_join(nxt, [pairs.instance == nxt.instance2, nxt.rank2 == pairs["rank"] + 1])
    daily = j.group_by([j.journey, j.channel, j.day, j["rank"]]).aggregate(
        n=j.count(), x=j.rank2.notnull().cast("int64").sum()).to_pandas()
    daily_time = done.group_by(["journey", "channel", "day"]).aggregate(
        completed=done.count(), median_seconds=done.seconds.quantile(0.5)).to_pandas()
    return {"journey_funnel": _funnel(steps, chan), "journey_channels": _channels(chan, times),
            "journey_daily": _daily(daily, order), "journey_daily_time": daily_time.sort_values(
                ["journey", "channel", "day"], ignore_index=True)}


def _per_step(ev: ibis.Table) -> ibis.Table:
    """Per journey taken and step: ``events``, ``errors``, ``day`` (of its first event)."""
    return ev.group_by(["instance", "journey", "channel", "step", "rank"]).aggregate(
        events=ev.count(), errors=ev.error.cast("int64").sum(), day=ev.day.min())


def _taken(ev: ibis.Table, per: ibis.Table, order: pd.DataFrame) -> ibis.Table:
    """One row per journey taken: ``start``, ``end``, ``day``, ``top`` (the furthest step),
    ``errors``, ``repeated`` (a step tried twice), ``completed``, ``seconds``, ``friction``
    (not completed, an error or a retry) and ``customer_id`` when the events have one."""
    lr = ibis.memtable(order.groupby("journey")["rank"].max().rename("last_rank").reset_index())
    who = {"customer_id": ev.customer_id.cast("string").min()} if "customer_id" in ev.columns else {}
    inst = ev.group_by(["instance", "journey", "channel"]).aggregate(
        start=ev.timestamp.min(), end=ev.timestamp.max(), top=ev["rank"].max(), errors=ev.error.cast("int64").sum(),
        day=ev.day.min(), **who)
    reps = per.group_by("instance").aggregate(repeated=(per.events > 1).cast("int64").max())
    inst = inst.join(lr, inst.journey == lr.journey).select(inst, lr.last_rank)
    inst = inst.join(reps, inst.instance == reps.instance).select(inst, reps.repeated)
    completed = inst.top >= inst.last_rank
    return inst.mutate(completed=completed, friction=~completed | (inst.errors > 0) | (inst.repeated > 0),
                       seconds=(inst.end.epoch_seconds() - inst.start.epoch_seconds()).cast("float64"))


def _funnel(steps: pd.DataFrame, chan: pd.DataFrame) -> pd.DataFrame:
    f = steps.sort_values(["journey", "channel", "rank"], ignore_index=True)
    prev = f.groupby(["journey", "channel"])["reached"].shift(1)
    f["conversion"] = np.where(prev.isna(), 1.0, f.reached / prev)
    f["drop_off"] = 1 - f.conversion
    started = f.merge(chan[["journey", "channel", "instances"]], on=["journey", "channel"], how="left")["instances"]
    f["overall"] = f.reached / started.to_numpy()
    f["repeat_share"] = f.repeats / f.reached
    f["error_share"] = f.with_error / f.reached
    return f[["journey", "channel", "rank", "step", "reached", "conversion", "drop_off", "overall", "repeat_share",
              "error_share"]]


def _channels(chan: pd.DataFrame, times: pd.DataFrame, weights: dict | None = None) -> pd.DataFrame:
    w = weights or INDEX_WEIGHTS
    c = chan.merge(times, on=["journey", "channel"], how="left")
    c["completion"] = c.completed / c.instances
    c["first_time_right"] = c.first_time_right / c.instances
    c["error_free"] = c.error_free / c.instances
    best = c.groupby("journey")["median_seconds"].transform("min")
    c["speed"] = (best / c.median_seconds).where(c.median_seconds > 0, 1.0).fillna(0.0).clip(upper=1.0)
    c["index"] = 100 * sum(w[k] * c[k] for k in w)
    return c[["journey", "channel", "instances", "completion", "first_time_right", "error_free", "median_seconds",
              "p90_seconds", "speed", "index"]].sort_values(["journey", "index"], ascending=[True, False],
                                                            ignore_index=True)


def _daily(daily: pd.DataFrame, order: pd.DataFrame) -> pd.DataFrame:
    """Day × step-k rows (k ≥ 2): ``n`` instances at step k−1 that day, ``x`` reaching step k."""
    d = daily.rename(columns={"rank": "from_rank"})
    d["rank"] = d.from_rank + 1
    d = d.merge(order, on=["journey", "rank"])          # the last step has no next one: dropped
    d = d.merge(order.rename(columns={"step": "from_step", "rank": "from_rank"}), on=["journey", "from_rank"])
    return d[["journey", "channel", "from_step", "step", "rank", "day", "n", "x"]].sort_values(
        ["journey", "channel", "rank", "day"], ignore_index=True)


# --------------------------------------------------------------------------- process control
MIN_PER_POINT = 30   # journeys a chart point needs (median over the series): fewer → weekly points


def process_control(daily: pd.DataFrame, daily_time: pd.DataFrame, *, revise: bool = True,
                    min_days: int = 8, min_per_point: int = MIN_PER_POINT) -> dict[str, pd.DataFrame]:
    """The p-chart of every journey × channel × step's daily conversion and the individuals chart
    of every journey × channel's daily median time (:mod:`cxvalue.journeys.spc`), each over every
    day from its first to its last (a day without journeys has no point), and ``journey_alerts``:
    the runs of consecutive out-of-control days (``from_step`` → ``step`` for a conversion,
    none for the time; ``first_day``, ``last_day``, ``days``, ``direction`` below/above the centre,
    ``value`` the mean over the run, ``center``, ``max_abs_z``, ``rules``), most severe first
    (largest |z|). A series whose median day has fewer than ``min_per_point`` journeys is charted
    by week instead (``period`` = week, ``day`` its Monday; a p-chart of a handful of journeys a
    day flags noise, and its normal approximation fails): the week's ``n`` and ``x`` are summed,
    its time is the mean of its days' medians.
    Series of fewer than ``min_days`` days are not charted."""
    from .spc import RULES, individuals_chart, p_chart
    charts, times, alerts = [], [], []
    for (jn, ch, frm, step), g in daily.groupby(["journey", "channel", "from_step", "step"], sort=True):
        g = _periods(_every_day(g, {"n": 0, "x": 0}), {"n": "sum", "x": "sum"}, g.n.median() < min_per_point)
        if len(g) < min_days:
            continue
        c = pd.concat([g[["day", "period", "n", "x"]].reset_index(drop=True),
                       p_chart(g.x, g.n, revise=revise).drop(columns=["n", "x"])], axis=1)
        c.insert(0, "journey", jn), c.insert(1, "channel", ch), c.insert(2, "from_step", frm), c.insert(3, "step", step)
        charts.append(c)
        alerts += _runs(c, "p", "conversion", RULES)
    for (jn, ch), g in daily_time.groupby(["journey", "channel"], sort=True):
        g = _periods(_every_day(g, {"completed": 0}), {"completed": "sum", "median_seconds": "mean"},
                     g.completed.median() < min_per_point)
        if g.median_seconds.notna().sum() < min_days:
            continue
        c = pd.concat([g[["day", "period", "completed"]].reset_index(drop=True),
                       individuals_chart(g.median_seconds, revise=revise)], axis=1)
        c.insert(0, "journey", jn), c.insert(1, "channel", ch)
        times.append(c)
        alerts += _runs(c.assign(step=None, from_step=None), "value", "median_seconds", RULES)
    cols = ["journey", "channel", "from_step", "step", "measure", "first_day", "last_day", "days", "direction", "value",
            "center", "max_abs_z", "rules"]
    alerts = sorted(alerts, key=lambda a: (-a["max_abs_z"], -a["days"]))
    return {"journey_spc": pd.concat(charts, ignore_index=True) if charts else pd.DataFrame(),
            "journey_spc_time": pd.concat(times, ignore_index=True) if times else pd.DataFrame(),
            "journey_alerts": pd.DataFrame(alerts, columns=cols)}


def _periods(g: pd.DataFrame, how: dict, weekly: bool) -> pd.DataFrame:
    """``g`` (one row per day) as it is, or summed/averaged by week (starting Monday)."""
    if not weekly:
        return g.assign(period="day")
    w = g.assign(day=g.day - pd.to_timedelta(g.day.dt.weekday, unit="D")).groupby("day", as_index=False).agg(how)
    return w.assign(period="week")


def _every_day(g: pd.DataFrame, fill: dict) -> pd.DataFrame:
    days = pd.date_range(pd.Timestamp(g.day.min()), pd.Timestamp(g.day.max()), freq="D")
    g = g.assign(day=pd.to_datetime(g.day)).set_index("day").reindex(days)
    for k, v in fill.items():
        g[k] = g[k].fillna(v)
    return g.rename_axis("day").reset_index()


def _runs(c: pd.DataFrame, value: str, measure: str, rules) -> list[dict]:
    """Consecutive out-of-control days on one side of the centre, as alert rows."""
    out, run = [], []
    flags = c.out_of_control.to_numpy()
    side = np.sign(c.z.fillna(0).to_numpy())

    def close():
        if run:
            r = c.iloc[run]
            hit = [k for k in rules if r[k].any()]
            end = r.day.iloc[-1] + pd.Timedelta(days=6 if r.period.iloc[-1] == "week" else 0)
            out.append({"journey": r.journey.iloc[0], "channel": r.channel.iloc[0], "from_step": r.from_step.iloc[0],
                        "step": r.step.iloc[0], "measure": measure, "first_day": r.day.iloc[0], "last_day": end,
                        "days": len(run), "direction": "below" if side[run[0]] < 0 else "above",
                        "value": float(r[value].mean()), "center": float(r.center.iloc[0]),
                        "max_abs_z": float(r.z.abs().max()), "rules": ",".join(hit)})
    for i in range(len(c)):
        if flags[i] and (not run or (side[i] == side[run[-1]] and i == run[-1] + 1)):
            run.append(i)
            continue
        close()
        run = [i] if flags[i] else []
    close()
    return out


# --------------------------------------------------------------------------- friction → NPS, churn
def friction_customers(events: ibis.Table, order: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per customer × journey × channel: the first journey with friction (not completed, an
    error or a retried step) — ``friction_at`` — and the first smooth one — ``smooth_at``.
    ``order``: the steps' order (:func:`step_order`; default: inferred from ``events``)."""
    if "customer_id" not in events.columns:
        return pd.DataFrame(columns=["customer_id", "journey", "channel", "friction_at", "smooth_at"])
    ev = instances(events)
    order = step_order(ev) if order is None else order
    ev = _with_rank(ev, order)
    inst = _taken(ev, _per_step(ev), order)
    inst = inst.filter(inst.customer_id.notnull())
    return inst.group_by(["customer_id", "journey", "channel"]).aggregate(
        friction_at=inst.start.min(where=inst.friction), smooth_at=inst.start.min(where=~inst.friction)).to_pandas()


class _Outcomes:
    """The answers and churn of the customers in ``ids`` (read once for every comparison)."""

    def __init__(self, con, ids: pd.Series):
        from ..store import has_table, read_result
        self.answers = pd.DataFrame(columns=["customer_id", "date", "nps"])
        if has_table(con, "responses") and {"customer_id", "nps"} <= set(con.table("responses").columns):
            r = con.table("responses")
            m = ibis.memtable(pd.DataFrame({"customer_id": ids.astype(str).drop_duplicates()}))
            r = r.filter(r.nps.notnull() & r.customer_id.notnull())
            a = r.join(m, r.customer_id.cast("string") == m.customer_id).select(r.customer_id, r.date, r.nps).to_pandas()
            a["customer_id"], a["date"] = a.customer_id.astype(str), pd.to_datetime(a.date)
            self.answers = a
        self.left = None
        if has_table(con, "churn_events"):
            ce = con.table("churn_events").group_by("customer_id").aggregate(left=lambda t: t.date.min()).to_pandas()
            self.left = pd.Series(pd.to_datetime(ce.left).to_numpy(), index=ce.customer_id.astype(str))
        scores = read_result(con, "churn_scores")
        self.p_churn = (scores.set_index(scores.customer_id.astype(str)).p_churn
                        if scores is not None and len(scores) else None)

    def compare(self, g: pd.DataFrame, *, window_days: int, churn_days: int, confidence: float) -> dict:
        """One row: customers, answers within ``window_days`` after ``at``, NPS of each ``group``
        (friction / smooth) and their difference, churn within ``churn_days``, mean churn score."""
        from ..voice.nps import nps_difference
        fr, sm = (g.group == "friction").to_numpy(), (g.group == "smooth").to_numpy()
        row = {"customers_friction": int(fr.sum()), "customers_smooth": int(sm.sum())}
        a = self.answers.merge(g[["customer_id", "group", "at"]], on="customer_id")
        a = a[(a.date > a["at"].dt.normalize()) & (a.date <= a["at"] + pd.Timedelta(days=window_days))]
        fa, sa = a[a.group == "friction"].nps, a[a.group == "smooth"].nps
        row.update(answers_friction=int(len(fa)), answers_smooth=int(len(sa)))
        if len(fa) and len(sa):
            d = nps_difference(fa, sa, confidence=confidence)
            row.update(nps_friction=d.nps_a, nps_smooth=d.nps_b, nps_difference=d.difference, nps_ci_low=d.ci_low,
                       nps_ci_high=d.ci_high, nps_p=d.p_value)
        mean = lambda v, m: float(np.nanmean(v[m])) if m.any() and np.isfinite(v[m]).any() else np.nan  # noqa: E731
        if self.left is not None:
            left = self.left.reindex(g.customer_id).to_numpy(dtype="datetime64[ns]")
            at = g["at"].to_numpy(dtype="datetime64[ns]")
            gone = ((left > at) & (left <= at + np.timedelta64(churn_days, "D"))).astype(float)
            row.update(churned_friction=mean(gone, fr), churned_smooth=mean(gone, sm))
        if self.p_churn is not None:
            pc = self.p_churn.reindex(g.customer_id).to_numpy(dtype=float)
            row.update(p_churn_friction=mean(pc, fr), p_churn_smooth=mean(pc, sm))
        return row


def _groups(fc: pd.DataFrame) -> pd.DataFrame:
    fc = fc.copy()
    fc["group"] = np.where(fc.friction_at.notna(), "friction", "smooth")
    fc["at"] = pd.to_datetime(fc.friction_at.fillna(fc.smooth_at))
    fc["customer_id"] = fc.customer_id.astype(str)
    return fc


def friction_impact(con, events: ibis.Table, *, alerts: pd.DataFrame | None = None, window_days: int = 30,
                    churn_days: int = 180, confidence: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """NPS and churn of customers after a journey with friction vs after a smooth one, per
    journey × channel: a customer with friction counts in the friction group (answers and churn
    after their first such journey), one without in the smooth group (after their first journey).
    Columns: ``customers_friction``, ``customers_smooth``, ``answers_friction``, ``answers_smooth``
    (responses within ``window_days`` after), ``nps_friction``, ``nps_smooth``, ``nps_difference``
    with its interval and p (two-sample z-test), ``churned_friction`` / ``churned_smooth`` (share
    with a churn event within ``churn_days``; needs churn_events) and ``p_churn_friction`` /
    ``p_churn_smooth`` (mean churn score; needs churn_scores).

    With ``alerts`` (:func:`process_control`'s) the second frame is the alerts with the same
    columns for each run of out-of-control days of a step: customers with friction in that journey
    and channel during the run against those whose journeys there were all smooth."""
    order = step_order(instances(events)) if "customer_id" in events.columns else None
    fc = friction_customers(events, order)
    if fc.empty:
        return pd.DataFrame(), alerts
    fc = _groups(fc)
    out = _Outcomes(con, fc.customer_id)
    kw = dict(window_days=window_days, churn_days=churn_days, confidence=confidence)
    rows = [{"journey": jn, "channel": ch, **out.compare(g, **kw)}
            for (jn, ch), g in fc.groupby(["journey", "channel"], sort=True)]
    if alerts is None or alerts.empty:
        return pd.DataFrame(rows), alerts
    extra = []
    for a in alerts.itertuples():
        if a.measure != "conversion":
            extra.append({})
            continue
        ev = events.filter((events.journey == a.journey) & (events.channel == a.channel))
        start, end = pd.Timestamp(a.first_day), pd.Timestamp(a.last_day) + pd.Timedelta(days=1)
        during = friction_customers(ev.filter((ev.timestamp >= start) & (ev.timestamp < end)), order)
        during = during[during.friction_at.notna()]
        smooth = fc[(fc.journey == a.journey) & (fc.channel == a.channel) & (fc.group == "smooth")]
        keep = ["customer_id", "group", "at"]
        g = pd.concat([_groups(during)[keep], smooth[keep]], ignore_index=True)
        extra.append(out.compare(g, **kw))
    return pd.DataFrame(rows), pd.concat([alerts.reset_index(drop=True), pd.DataFrame(extra)], axis=1)
