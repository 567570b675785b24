"""Churn definitions (concepts.md F1) and leakage-free labels at a cut-off date.

A label at cut-off ``c`` with horizon ``h`` (days) is built from two disjoint periods:
features from rows dated on or before ``c`` (:mod:`cxvalue.churn.features`), the outcome
from rows dated in ``(c, c + h]``. The outcome window must lie inside the data
(``c + h <= end of data``), otherwise a customer would look churned only because the
data stop — the cut-off is refused.

Definitions (``definition=``):

- ``"contractual"`` — explicit cancellation: the population are customers with a
  subscription active at ``c`` (start ≤ c, end empty or after c); churned when no
  subscription is active at ``c + h``, or a churn event is recorded in ``(c, c + h]``.
- ``"inactivity"`` — non-contractual: the population are customers with a purchase in
  the ``active_days`` before ``c``; churned when they buy nothing in ``(c, c + h]``
  (``h`` is the inactivity window), or a churn event is recorded in it.
- ``"p_alive"`` — non-contractual: same population; churned when the BG/NBD probability
  of being alive at ``c + h`` (fitted on the data up to ``c + h``) is below ``threshold``.
- ``"events"`` — churned when a churn event (``churn_events``) is recorded in ``(c, c + h]``.
- ``"auto"`` — ``"contractual"`` for subscription businesses (setting ``business_type``)
  with a subscriptions table, else ``"inactivity"``.

Customers with a churn event on or before ``c`` are already gone and never in the
population. Time-aware validation (:func:`temporal_validation`) trains on earlier
cut-offs whose outcome windows end by the test cut-off and tests on the later one.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from ..errors import CxValueError, DataQualityWarning, one_of
from ..store import has_table
from ..timeutil import as_date
from .data import data_end, days

DEFINITIONS = ("auto", "inactivity", "contractual", "p_alive", "events")


class LeakageWarning(DataQualityWarning):
    """A column carries the outcome (or the duration) into the model and was left out."""


def resolve_definition(con, definition: str = "auto", business_type: str | None = None) -> str:
    """The concrete definition for ``definition="auto"`` (see the module docstring).

    ``business_type`` is the caller's setting (``"subscription"`` or ``"transactional"``;
    None counts as transactional)."""
    one_of("definition", definition, DEFINITIONS)
    if definition != "auto":
        need = {"contractual": "subscriptions", "events": "churn_events"}.get(definition, "transactions")
        if not has_table(con, need):
            raise CxValueError(f"definition={definition!r} needs the {need} table: load it with `cxvalue load {need} FILE`")
        return definition
    if business_type == "subscription" and has_table(con, "subscriptions"):
        return "contractual"
    if has_table(con, "transactions"):
        return "inactivity"
    if has_table(con, "subscriptions"):
        return "contractual"
    raise CxValueError("no transactions or subscriptions in the store to define churn on")


def _lit(d: dt.date):
    return ibis.literal(d, type="date")


def _gone_before(con, cutoff: dt.date):
    """Customers with a churn event on or before ``cutoff`` (Ibis table of customer_id)."""
    if not has_table(con, "churn_events"):
        return None
    e = con.table("churn_events")
    e = e.filter(e.date.cast("date") <= _lit(cutoff))
    return e.select(e.customer_id.cast("string").name("customer_id")).distinct()


def population(con, cutoff, *, definition: str = "auto", active_days: int = 365, business_type: str | None = None):
    """Ibis table (``customer_id``) of the customers at risk of churning at ``cutoff``."""
    cutoff = as_date(cutoff, "cutoff")
    definition = resolve_definition(con, definition, business_type)
    c = _lit(cutoff)
    if definition == "contractual":
        s = con.table("subscriptions")
        ed = s.end_date.cast("date") if "end_date" in s.columns else ibis.null("date")
        s = s.filter((s.start_date.cast("date") <= c) & (ed.isnull() | (ed > c)))
        pop = s.select(s.customer_id.cast("string").name("customer_id")).distinct()
    elif definition == "events" and not has_table(con, "transactions"):
        cu = con.table("customers")
        pop = cu.select(cu.customer_id.cast("string").name("customer_id")).distinct()
    else:
        if active_days < 1:
            raise CxValueError(f"active_days={active_days!r}: expected a positive number of days")
        tx = con.table("transactions")
        d = tx.date.cast("date")
        tx = tx.filter((d <= c) & (d > _lit(days(cutoff, -active_days))))
        pop = tx.select(tx.customer_id.cast("string").name("customer_id")).distinct()
    gone = _gone_before(con, cutoff)
    if gone is not None:
        pop = pop.anti_join(gone, "customer_id")
    return pop


def check_window(con, cutoff: dt.date, horizon_days: int, end: dt.date | None = None) -> dt.date:
    """Refuse a cut-off whose outcome window runs past the end of the data; return the end."""
    if horizon_days < 1:
        raise CxValueError(f"horizon_days={horizon_days!r}: expected a positive number of days")
    end = end or data_end(con)
    if days(cutoff, horizon_days) > end:
        raise CxValueError(
            f"cutoff {cutoff} + horizon {horizon_days} days = {days(cutoff, horizon_days)} is after the end of the "
            f"data {end}: the outcome would be censored — pick a cutoff on or before {days(end, -horizon_days)}")
    return end


def churn_labels(con, cutoff, *, horizon_days: int = 180, definition: str = "auto", active_days: int = 365,
                 threshold: float = 0.5, business_type: str | None = None, end=None) -> pd.DataFrame:
    """Outcome per customer of the population at ``cutoff``: a DataFrame indexed by customer_id with
    ``churned`` (0/1), ``churn_date``, ``reason`` and ``voluntary`` (from churn events, when recorded).

    Only rows dated in ``(cutoff, cutoff + horizon_days]`` decide the outcome."""
    cutoff = as_date(cutoff, "cutoff")
    definition = resolve_definition(con, definition, business_type)
    end = check_window(con, cutoff, horizon_days, as_date(end, "end") if end is not None else None)
    stop = days(cutoff, horizon_days)
    c, s_ = _lit(cutoff), _lit(stop)
    pop = population(con, cutoff, definition=definition, active_days=active_days)
    out = pop
    if definition in ("inactivity", "p_alive"):
        tx = con.table("transactions")
        d = tx.date.cast("date")
        nxt = tx.filter((d > c) & (d <= s_))
        nxt = nxt.group_by(nxt.customer_id.cast("string").name("customer_id")).aggregate(__next=nxt.date.cast("date").min())
        out = out.left_join(nxt, out.customer_id == nxt.customer_id).drop("customer_id_right")
        out = out.mutate(__lost=out.__next.isnull())
    elif definition == "contractual":
        sub = con.table("subscriptions")
        ed = sub.end_date.cast("date") if "end_date" in sub.columns else ibis.null("date")
        alive = sub.filter((sub.start_date.cast("date") <= s_) & (ed.isnull() | (ed > s_)))
        alive = alive.select(alive.customer_id.cast("string").name("customer_id")).distinct().mutate(__alive=True)
        ended = sub.filter((ed > c) & (ed <= s_))
        ended = ended.group_by(ended.customer_id.cast("string").name("customer_id")).aggregate(__end=ended.end_date.cast("date").max())
        out = out.left_join(alive, out.customer_id == alive.customer_id).drop("customer_id_right")
        out = out.left_join(ended, out.customer_id == ended.customer_id).drop("customer_id_right")
        out = out.mutate(__lost=out.__alive.isnull())
    else:
        out = out.mutate(__lost=ibis.literal(False))
    if has_table(con, "churn_events"):
        e = con.table("churn_events")
        ed = e.date.cast("date")
        e = e.filter((ed > c) & (ed <= s_))
        cols = dict(__edate=e.date.cast("date").min())
        cols["__reason"] = (e.reason.argmin(e.date) if "reason" in e.columns else ibis.null("string"))
        cols["__vol"] = (e.voluntary.argmin(e.date) if "voluntary" in e.columns else ibis.null("boolean"))
        e = e.group_by(e.customer_id.cast("string").name("customer_id")).aggregate(**cols)
        out = out.left_join(e, out.customer_id == e.customer_id).drop("customer_id_right")
    df = out.to_pandas().set_index("customer_id").sort_index()
    if definition == "p_alive":
        df["__lost"] = _p_alive_lost(con, df.index, stop, threshold)
    event = df["__edate"].notna() if "__edate" in df.columns else pd.Series(False, index=df.index)
    churned = df["__lost"].astype(bool) | event
    res = pd.DataFrame({"churned": churned.astype(int)}, index=df.index)
    date = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    if "__end" in df.columns:
        date = date.fillna(pd.to_datetime(df["__end"]).where(churned))
    if "__edate" in df.columns:
        date = pd.to_datetime(df["__edate"]).astype("datetime64[ns]").fillna(date)
    res["churn_date"] = date.where(churned)
    res["reason"] = df["__reason"] if "__reason" in df.columns else None
    res["voluntary"] = df["__vol"] if "__vol" in df.columns else None
    res.index.name = "customer_id"
    res.attrs.update(cutoff=str(cutoff), horizon_days=horizon_days, definition=definition, end=str(end))
    return res


def _p_alive_lost(con, index: pd.Index, stop: dt.date, threshold: float) -> np.ndarray:
    from ..features.summary import summary_frame
    from ..value import BetaGeoModel
    if not 0 < threshold < 1:
        raise CxValueError(f"threshold={threshold!r}: expected a probability between 0 and 1")
    summ = summary_frame(con.table("transactions"), unit="week", calibration_end=stop)
    model = BetaGeoModel().fit(summ[["frequency", "recency", "T"]])
    p = model.predict_p_alive(summ.reindex(index).dropna(subset=["frequency"]))["p_alive"]
    return (p.reindex(index).fillna(1.0) < threshold).to_numpy()


@dataclass
class ChurnDataset:
    """Features and labels stacked over one or more cut-offs (rows are customer × cut-off)."""
    X: pd.DataFrame
    y: pd.Series
    cutoff: pd.Series
    labels: pd.DataFrame


def build_dataset(con, cutoffs, *, horizon_days: int = 180, definition: str = "auto", active_days: int = 365,
                  threshold: float = 0.5, business_type: str | None = None, feature_options: dict | None = None,
                  end=None) -> ChurnDataset:
    """Features at each cut-off joined to the outcome after it, stacked."""
    from .features import _channel_values, feature_frame
    cutoffs = [cutoffs] if isinstance(cutoffs, (str, dt.date, pd.Timestamp)) else list(cutoffs)
    cutoffs = sorted(as_date(c, "cutoff") for c in cutoffs)
    definition = resolve_definition(con, definition, business_type)
    opts = dict(feature_options or {})
    if "channels" not in opts and has_table(con, "transactions") and "channel" in con.table("transactions").columns:
        opts["channels"] = _channel_values(con.table("transactions"), cutoffs[-1])
    Xs, ys, cs, ls = [], [], [], []
    for c in cutoffs:
        lab = churn_labels(con, c, horizon_days=horizon_days, definition=definition, active_days=active_days,
                           threshold=threshold, end=end)
        X = feature_frame(con, c, **opts)
        X = X.loc[X.index.intersection(lab.index)]
        lab = lab.loc[X.index]
        Xs.append(X), ys.append(lab.churned), ls.append(lab)
        cs.append(pd.Series(pd.Timestamp(c), index=X.index, name="cutoff"))
    if not sum(len(x) for x in Xs):
        raise CxValueError(f"no customers at risk at the cut-offs {', '.join(map(str, cutoffs))} "
                           f"(definition {definition!r}): choose earlier cut-offs or a longer active_days")
    return ChurnDataset(pd.concat(Xs), pd.concat(ys).rename("churned"), pd.concat(cs), pd.concat(ls))


def default_cutoffs(end, horizon_days: int = 180, n: int = 3) -> list[dt.date]:
    """``n`` cut-offs spaced ``horizon_days`` apart, the last one ``horizon_days`` before ``end``."""
    end = as_date(end, "end")
    return [days(end, -k * horizon_days) for k in range(n, 0, -1)]


def temporal_validation(con, cutoffs, *, horizon_days: int = 180, model=None, definition: str = "auto",
                        active_days: int = 365, min_train: int = 1, feature_options: dict | None = None,
                        business_type: str | None = None, dataset: ChurnDataset | None = None) -> pd.DataFrame:
    """Time-aware validation: for each test cut-off (from the second on), train on every earlier
    cut-off whose outcome window ends on or before the test cut-off; test on the test cut-off.
    ``dataset`` reuses features and labels already built with :func:`build_dataset`.

    Returns one row per test cut-off: ``test_cutoff``, ``train_cutoffs``, ``n_train``, ``n_test``,
    ``churn_rate``, ``roc_auc``, ``pr_auc``, ``brier``."""
    from .evaluation import classification_metrics
    from .prediction import ChurnModel
    cutoffs = sorted(as_date(c, "cutoff") for c in cutoffs)
    if len(cutoffs) < 2:
        raise CxValueError("temporal validation needs at least two cut-offs (train on earlier, test on later)")
    data = dataset or build_dataset(con, cutoffs, horizon_days=horizon_days, definition=definition,
                                    active_days=active_days, feature_options=feature_options,
                                    business_type=business_type)
    rows = []
    for test in cutoffs[1:]:
        train = [c for c in cutoffs if days(c, horizon_days) <= test]
        if len(train) < min_train:
            continue
        tr = data.cutoff.isin([pd.Timestamp(c) for c in train]).to_numpy()
        te = (data.cutoff == pd.Timestamp(test)).to_numpy()
        m = model or ChurnModel(cv=None)
        m = type(m)(**{**m.get_params(), "cv": None}).fit(data.X[tr], data.y[tr])
        p = m.predict_proba(data.X[te])["p_churn"].to_numpy()
        met = classification_metrics(data.y[te].to_numpy(), p)
        rows.append({"test_cutoff": str(test), "train_cutoffs": ", ".join(map(str, train)), "n_train": int(tr.sum()),
                     "n_test": int(te.sum()), **met})
    if not rows:
        raise CxValueError(f"no test cut-off has a training cut-off at least {horizon_days} days before it: "
                           "space the cut-offs by the horizon or more")
    return pd.DataFrame(rows)
