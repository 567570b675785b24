"""Why customers leave (concepts.md F2, F3): voluntary vs involuntary churn, the reason
distribution overall and by segment, and the impact of complaints on churn.

:func:`churn_reasons` reads ``churn_events`` (reason, voluntary) and returns the share of
each reason overall and per segment, with the voluntary share. :data:`SEED_REASON_SHARE`
is the distribution quoted in the seed (1% death, 3% moved, 4% changed preference, 5%
friend's recommendation, 9% better product elsewhere, 10% product dissatisfaction, 68%
staff indifference) for comparison.

:func:`complaint_impact` compares customers with no complaint, with complaints all
resolved, and with an unresolved complaint: churn rate, and the hazard ratio against
"no complaint" from a Cox model with **time-varying** complaint status (a customer is
"none" until the first complaint, "unresolved" while one is open, "resolved" after). Fixing
the status at the end instead would credit complainers with the time they survived
before complaining (immortal-time bias).
"""
from __future__ import annotations

import warnings

import ibis
import numpy as np
import pandas as pd

from ..errors import ConvergenceWarning, CxValueError
from ..store import has_table
from ..timeutil import as_date
from .data import data_end

#: the reason distribution among voluntary leavers quoted in the seed (concepts.md F2)
SEED_REASON_SHARE = {"death": .01, "moved": .03, "changed_preference": .04, "friend_recommendation": .05,
                     "better_product_elsewhere": .09, "product_dissatisfaction": .10, "staff_indifference": .68}
STATUSES = ("none", "resolved", "unresolved")


def churn_reasons(con, *, by: str | None = "segment", as_of=None) -> dict[str, pd.DataFrame]:
    """Reason distribution of recorded churn events.

    Returns ``{"reasons": …, "voluntary": …}``: ``reasons`` has one row per (group, reason)
    with ``churners``, ``share`` (of the group's events with a reason), ``voluntary``
    (share voluntary), ``share_voluntary`` (share of the group's voluntary leavers, for wholly
    voluntary reasons) and ``seed_share`` (:data:`SEED_REASON_SHARE`); group ``"all"`` is the whole base. ``voluntary`` has per group
    ``churners``, ``voluntary``, ``involuntary``, ``voluntary_share``."""
    if not has_table(con, "churn_events"):
        raise CxValueError("churn reasons need the churn_events table: load it with `cxvalue load churn_events FILE`")
    e = con.table("churn_events")
    if as_of is not None:
        e = e.filter(e.date.cast("date") <= as_date(as_of, "as_of"))
    cols = [e.customer_id.cast("string").name("customer_id"), e.date.cast("date").name("date")]
    cols.append((e.reason if "reason" in e.columns else ibis.null("string")).name("reason"))
    cols.append((e.voluntary if "voluntary" in e.columns else ibis.null("boolean")).name("voluntary"))
    ev = e.select(*cols)
    if by and has_table(con, "customers") and by in con.table("customers").columns:
        cu = con.table("customers")
        cu = cu.select(cu.customer_id.cast("string").name("customer_id"), cu[by].cast("string").name("group"))
        ev = ev.left_join(cu, ev.customer_id == cu.customer_id).drop("customer_id_right")
    df = ev.to_pandas()
    frames = [df.assign(group="all")]
    if "group" in df.columns:
        frames.append(df.assign(group=df["group"].fillna("(missing)")))
    df = pd.concat([f[["group", "reason", "voluntary"]] for f in frames], ignore_index=True)
    df["reason"] = df["reason"].fillna("(not recorded)")
    df["vol"] = df["voluntary"].map({True: 1.0, False: 0.0})
    r = df.groupby(["group", "reason"], sort=False).agg(churners=("reason", "size"), voluntary=("vol", "mean")).reset_index()
    r["share"] = r.churners / r.groupby("group").churners.transform("sum")
    vol = r.churners.where(r.voluntary == 1.0)
    r["share_voluntary"] = vol / vol.groupby(r.group).transform("sum").where(lambda x: x > 0)
    r["seed_share"] = r.reason.map(SEED_REASON_SHARE)
    r = r.sort_values(["group", "churners"], ascending=[True, False], key=lambda s: s.map(_group_key) if s.name == "group" else s)
    v = df.groupby("group", sort=False).agg(churners=("reason", "size"), voluntary=("vol", "sum"),
                                            known=("vol", "count")).reset_index()
    v["involuntary"] = v.known - v.voluntary
    v["voluntary_share"] = v.voluntary / v.known.where(v.known > 0)
    v[["voluntary", "involuntary"]] = v[["voluntary", "involuntary"]].astype(int)
    v = v.sort_values("group", key=lambda s: s.map(_group_key))
    return {"reasons": r[["group", "reason", "churners", "share", "voluntary", "share_voluntary",
                          "seed_share"]].reset_index(drop=True),
            "voluntary": v[["group", "churners", "voluntary", "involuntary", "voluntary_share"]].reset_index(drop=True)}


def _group_key(g):
    return (0, "") if g == "all" else (1, str(g))


def complaint_episodes(con, survival: pd.DataFrame) -> pd.DataFrame:
    """Counting-process rows (``customer_id``, ``start``, ``stop`` in days since the customer's start,
    ``event``, ``resolved``, ``unresolved``) with the complaint status in force on each interval."""
    k = con.table("complaints")
    cols = [k.customer_id.cast("string").name("customer_id"), k.opened.cast("date").name("opened")]
    cols.append((k.resolved.cast("date") if "resolved" in k.columns else ibis.null("date")).name("resolved"))
    comp = k.select(*cols).to_pandas()
    s = survival[["start", "end", "event"]].copy()
    s["start"], s["end"] = pd.to_datetime(s.start), pd.to_datetime(s.end)
    comp = comp.merge(s, left_on="customer_id", right_index=True, how="inner")
    comp["o"] = (pd.to_datetime(comp.opened) - comp.start).dt.days.clip(lower=0)
    comp["r"] = (pd.to_datetime(comp.resolved) - comp.start).dt.days
    dur = (s.end - s.start).dt.days.astype(float)
    comp["dur"] = comp.customer_id.map(dur)
    comp = comp[comp.o < comp.dur]  # complaints after the end change nothing
    # change points: +1 open at o, −1 open at r (when resolved before the end)
    ch = pd.concat([pd.DataFrame({"customer_id": comp.customer_id, "t": comp.o.astype(float), "d_open": 1, "d_ever": 1}),
                    pd.DataFrame({"customer_id": comp.customer_id, "t": comp.r.astype(float), "d_open": -1, "d_ever": 0})
                    [comp.r.notna().to_numpy() & (comp.r < comp.dur).to_numpy()]], ignore_index=True)
    ch = ch.groupby(["customer_id", "t"], as_index=False)[["d_open", "d_ever"]].sum().sort_values(["customer_id", "t"])
    ch["open"] = ch.groupby("customer_id").d_open.cumsum()
    ch["ever"] = ch.groupby("customer_id").d_ever.cumsum()
    base = pd.DataFrame({"customer_id": s.index, "t": 0.0, "open": 0, "ever": 0})
    ch = pd.concat([base, ch[["customer_id", "t", "open", "ever"]]], ignore_index=True)
    ch = ch.sort_values(["customer_id", "t"], kind="stable").drop_duplicates(["customer_id", "t"], keep="last")
    ch["stop"] = ch.groupby("customer_id").t.shift(-1)
    ch["stop"] = ch.stop.fillna(ch.customer_id.map(dur))
    last = ch.groupby("customer_id").t.transform("max") == ch.t
    ch["event"] = np.where(last, ch.customer_id.map(s.event).to_numpy(), 0)
    ch = ch[ch.stop > ch.t].copy()  # zero-length rows (a day-0 exit) carry no time at risk
    ch["unresolved"] = (ch.open > 0).astype(float)
    ch["resolved"] = ((ch.open <= 0) & (ch.ever > 0)).astype(float)
    return ch.rename(columns={"t": "start"})[["customer_id", "start", "stop", "event", "resolved", "unresolved"]]


def complaint_impact(con, *, as_of=None, survival: pd.DataFrame | None = None, inactivity_days: int = 365,
                     penalizer: float = 0.0, business_type: str | None = None) -> pd.DataFrame:
    """Churn by complaint status: one row per status (``none``, ``resolved``, ``unresolved``) with
    ``customers`` and ``churn_rate`` (status at ``as_of``), and ``hazard_ratio`` against ``none``
    with 95% ``ci_lower``/``ci_upper`` and ``p`` from a time-varying Cox model."""
    from .survival import survival_frame
    if not has_table(con, "complaints"):
        raise CxValueError("complaint impact needs the complaints table: load it with `cxvalue load complaints FILE`")
    as_of = as_date(as_of, "as_of") if as_of is not None else data_end(con)
    s = survival if survival is not None else survival_frame(con, as_of=as_of, inactivity_days=inactivity_days,
                                                             business_type=business_type)
    s = s[s.duration_days >= 0]
    ep = complaint_episodes(con, s)
    final = ep.sort_values("stop").groupby("customer_id").tail(1).set_index("customer_id")
    status = np.where(final.unresolved > 0, "unresolved", np.where(final.resolved > 0, "resolved", "none"))
    st = pd.DataFrame({"status": status, "event": s.event.reindex(final.index).to_numpy()}, index=final.index)
    rates = st.groupby("status").agg(customers=("event", "size"), churned=("event", "sum"), churn_rate=("event", "mean"))
    rates = rates.reindex(STATUSES)
    hr = _time_varying_cox(ep, penalizer)
    out = rates.join(hr).reset_index().rename(columns={"index": "status"})
    out.loc[out.status == "none", ["hazard_ratio", "ci_lower", "ci_upper"]] = 1.0
    out["customers"] = out.customers.fillna(0).astype(int)
    out["churned"] = out.churned.fillna(0).astype(int)
    out.attrs["as_of"] = str(as_of)
    return out[["status", "customers", "churned", "churn_rate", "hazard_ratio", "ci_lower", "ci_upper", "p"]]


def _time_varying_cox(ep: pd.DataFrame, penalizer: float = 0.0) -> pd.DataFrame:
    """Hazard ratios of the status indicators from the counting-process Cox partial likelihood."""
    cols = [c for c in ("resolved", "unresolved") if ep[c].sum() > 0]
    empty = pd.DataFrame(columns=["hazard_ratio", "ci_lower", "ci_upper", "p"], index=pd.Index([], name="status"))
    if not cols or ep.event.sum() == 0:
        return empty
    beta, se = cox_counting_process(ep.start.to_numpy(float), ep.stop.to_numpy(float), ep.event.to_numpy(int),
                                    ep[cols].to_numpy(float), penalizer=penalizer)
    from scipy.stats import norm
    z = beta / se
    return pd.DataFrame({"hazard_ratio": np.exp(beta), "ci_lower": np.exp(beta - 1.959964 * se),
                         "ci_upper": np.exp(beta + 1.959964 * se), "p": 2 * norm.sf(np.abs(z))},
                        index=pd.Index(cols, name="status"))


def cox_counting_process(start, stop, event, X, *, penalizer: float = 0.0, max_iter: int = 50,
                         tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Cox regression on counting-process rows (start, stop], Breslow ties, Newton–Raphson.

    A row is at risk at event time t when start < t ≤ stop. Risk-set sums are built with
    difference arrays over the sorted event times, so the cost is O(rows × covariates²)
    per iteration (lifelines' CoxTimeVaryingFitter gives the same estimates, much slower).
    Returns (β, standard errors)."""
    X = np.asarray(X, float)
    times = np.unique(stop[event == 1])
    m, p = len(times), X.shape[1]
    j0 = np.searchsorted(times, start, side="right")      # first event time after start
    j1 = np.searchsorted(times, stop, side="right")       # first event time after stop
    ev_idx = np.searchsorted(times, stop[event == 1])
    d = np.bincount(ev_idx, minlength=m).astype(float)     # deaths per event time
    sx = np.zeros((m, p))
    np.add.at(sx, ev_idx, X[event == 1])
    beta = np.zeros(p)
    ll_old = -np.inf

    def risk_sums(w):
        def acc(v):
            a = np.zeros((m + 1,) + v.shape[1:])
            np.add.at(a, j0, v)
            np.add.at(a, j1, -v)
            return np.cumsum(a, axis=0)[:m]
        return acc(w), acc(w[:, None] * X), acc(w[:, None, None] * X[:, :, None] * X[:, None, :])

    for _ in range(max_iter):
        eta = X @ beta
        w = np.exp(eta - eta.max())
        s0, s1, s2 = risk_sums(w)
        s0 = np.maximum(s0, 1e-300)
        ll = float((sx @ beta).sum() - (d * (np.log(s0) + eta.max())).sum() - penalizer / 2 * beta @ beta)
        mean = s1 / s0[:, None]
        grad = sx.sum(0) - (d[:, None] * mean).sum(0) - penalizer * beta
        hess = -(d[:, None, None] * (s2 / s0[:, None, None] - mean[:, :, None] * mean[:, None, :])).sum(0) \
            - penalizer * np.eye(p)
        step = np.linalg.solve(hess, -grad)
        beta = beta + step
        if abs(ll - ll_old) < tol and np.abs(step).max() < 1e-7:
            break
        ll_old = ll
    else:
        warnings.warn("the complaint-impact Cox model did not converge", ConvergenceWarning, stacklevel=3)
    eta = X @ beta
    w = np.exp(eta - eta.max())
    s0, s1, s2 = risk_sums(w)
    mean = s1 / s0[:, None]
    info = (d[:, None, None] * (s2 / s0[:, None, None] - mean[:, :, None] * mean[:, None, :])).sum(0) \
        + penalizer * np.eye(p)
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    return beta, se
