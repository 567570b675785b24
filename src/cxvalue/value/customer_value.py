"""The customer value analysis over the store (concepts.md B1–B8) — what ``cxvalue value`` and
the pipeline run. One function per result; :func:`analyse_store` runs them all and returns
the frames that become store tables:

- ``customer_value`` — one row per customer: the BTYD summary (frequency, recency, T,
  monetary_value in weeks), p_alive, expected purchases and spend, predictive CLV over the
  horizon (B4), historical revenue/cost/profit (B1), revenue of the last 12 months, RFM
  scores, discounted CLV (B3), the seed CLV and its terms (B2), value tier and strategy (B6),
  share of wallet (B8, when category spend is given);
- ``clv_parameters`` — the fitted models' parameters with standard errors and intervals;
- ``clv_holdout`` / ``clv_tracking`` — model checking on a calibration/holdout split;
- ``value_matrix`` — customers and value per tier; ``value_multiplication`` (per customer and
  relationship year) and ``value_multiplication_summary`` (the seed-001 five-year table);
- ``delivered_value`` (B7) when the survey has value_*/cost_* items.

:func:`customer_values` is what the other domains read: per customer the current value, CLV,
the value used for money and the value tier, from ``customer_value`` when it exists.
"""
from __future__ import annotations

import warnings

import ibis
import numpy as np
import pandas as pd

from ..errors import CxValueError, SmallSampleWarning
from ..features.summary import summary_frame
from ..store import has_table
from ..timeutil import DAYS_PER, as_date, periods_per_month, periods_per_year
from .bgnbd import BetaGeoModel
from .checking import calibration_vs_holdout, cumulative_tracking
from .clv import customer_lifetime_value
from .delivered import compare_delivered_value, share_of_wallet
from .economics import discounted_clv, relationship_profitability, seed_clv
from .gammagamma import GammaGammaModel
from .multiplication import multiplication_table, value_multiplication
from .segments import matrix_summary, rfm_scores, rfm_table, value_matrix, value_tiers

MIN_REPEAT_BUYERS = 30


def _margin(tx, margin: float) -> float:
    return margin_source(tx, margin)[0]


def margin_source(tx, margin: float) -> tuple[float, str]:
    """The margin applied to spend and where it comes from: ``given`` (the setting or option),
    ``costs`` (1 − cost / revenue of the transactions) or ``assumed`` (100%: neither was there —
    CLV is then revenue, not profit, and the outputs say so)."""
    if margin and margin > 0:
        return float(margin), "given"
    if "cost" in tx.columns:
        agg = tx.aggregate(rev=tx.amount.sum(), cost=tx.cost.fill_null(0).sum()).to_pandas().iloc[0]
        if agg.rev and agg.cost:
            return float(min(max(1 - agg.cost / agg.rev, 0.0), 1.0)), "costs"
    return 1.0, "assumed"


def fit_clv(summary: pd.DataFrame, *, model="bgnbd", unit: str = "week", horizon_months: int = 12,
            discount_rate: float = 0.10, margin: float = 1.0):
    """Fit a transaction model (``model``: bgnbd, mbgnbd, paretonbd, or a model already fitted on
    ``summary``) and Gamma-Gamma on a summary
    in ``unit`` and predict per customer: p_alive, expected purchases over the horizon, expected
    spend per purchase and CLV (monthly periods, yearly ``discount_rate``).

    Customers whose repeat purchases have no positive spend get the population mean spend.
    Returns (predictions frame, {model: fitted model, "gammagamma": fitted model or None})."""
    from . import MODELS
    if len(summary) == 0:
        raise CxValueError("no customers with a purchase before the calibration end: nothing to fit")
    tm = model if not isinstance(model, str) else MODELS[model]().fit(summary)
    model = model if isinstance(model, str) else next(k for k, v in MODELS.items() if isinstance(tm, v))
    spend_ok = (summary.frequency > 0) & (summary.monetary_value > 0)
    gg = None
    if spend_ok.sum() >= MIN_REPEAT_BUYERS:
        gg = GammaGammaModel().fit(summary[spend_ok])
        spend_data = summary.assign(frequency=summary.frequency.where(spend_ok, 0),
                                    monetary_value=summary.monetary_value.where(spend_ok, 0.0))
        spend = gg.predict_spend(spend_data)["expected_spend"]
    else:
        warnings.warn(f"only {int(spend_ok.sum())} repeat buyers with spend: spend per purchase taken as the mean, "
                      f"no Gamma-Gamma fit", SmallSampleWarning, stacklevel=2)
        pos = summary.monetary_value[summary.monetary_value > 0]
        spend = pd.Series(float(pos.mean()) if len(pos) else 0.0, index=summary.index)
    monthly_d = (1 + discount_rate) ** (1 / 12) - 1
    per_purchase = customer_lifetime_value(tm, data=summary, horizon=horizon_months,
                                           period_length=periods_per_month(unit), discount_rate=monthly_d,
                                           margin=margin, spend=1.0)
    out = pd.DataFrame(index=summary.index)
    out["p_alive"] = tm.predict_p_alive(summary).iloc[:, 0].to_numpy()
    out[f"expected_purchases_{horizon_months}m"] = per_purchase.expected_purchases.to_numpy()
    out["expected_spend"] = spend.reindex(summary.index).to_numpy()
    out["clv"] = per_purchase.clv.to_numpy() * out.expected_spend.to_numpy()
    return out, {model: tm, "gammagamma": gg}


def parameters_frame(models: dict) -> pd.DataFrame:
    rows = []
    for name, m in models.items():
        if m is None:
            continue
        s = m.summary_.reset_index().rename(columns={"index": "parameter"})
        s.insert(0, "model", name)
        s["loglik"] = m.loglik_
        s["aic"], s["bic"] = m.aic_, m.bic_
        s["converged"] = bool(m.converged_)
        s["degenerate"] = getattr(m, "degenerate_", "")
        rows.append(s)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


#: the transaction models of :func:`fit_clv` / :func:`clv_analysis`
TRANSACTION_MODELS = ("bgnbd", "mbgnbd", "paretonbd")


def clv_analysis(tx, *, model: str = "bgnbd", unit: str = "week", calibration_end=None, horizon_months: int = 12,
                 discount_rate: float = 0.10, margin: float = 0.0, min_customers: int = 50, penalizer: float = 0.0,
                 holdout_end=None) -> dict:
    """Predictive CLV on a transactions table (what ``cxvalue clv`` shows): the summary in
    ``unit`` up to ``calibration_end``, a transaction model (``model``; ``auto``: the comparison
    below picks it) and Gamma-Gamma, and per customer P(alive), expected purchases and spend and
    CLV. ``margin`` 0 = from costs. ``penalizer``: see :class:`cxvalue.value.base.BaseBTYDModel`.

    ``holdout_end`` (with ``calibration_end``): the model is checked on the purchases between
    the two dates — predicted vs actual repeat purchases in total and by calibration frequency
    (0 … 7+), and the cumulative tracking error.

    Every transaction model is fitted for the comparison (log-likelihood, AIC, BIC, degenerate,
    and with a holdout its error); ``auto`` takes the lowest BIC among the fits that are neither
    degenerate nor unconverged.

    Returns ``{"customers": frame indexed by customer_id, "parameters": parameters_frame,
    "models": {name: fitted}, "comparison": frame, "holdout": frame or None, "tracking": frame or
    None, "info": {model, unit, customers, horizon_months, discount_rate, margin,
    margin_source, total_clv, mean_p_alive, calibration_end, holdout_end, penalizer}}``."""
    from ..errors import one_of
    from . import MODELS
    one_of("model", model, TRANSACTION_MODELS + ("auto",))
    if holdout_end is not None and calibration_end is None:
        raise CxValueError("--holdout-end needs --calibration-end (the cut-off between calibration and holdout)")
    summ = summary_frame(tx, unit=unit, calibration_end=calibration_end,
                         observation_end=as_date(holdout_end, "holdout_end") if holdout_end is not None else None)
    if len(summ) < min_customers:
        raise CxValueError(f"only {len(summ)} customers with a purchase: a BTYD model needs at least {min_customers} "
                           f"(a few hundred for stable estimates)")
    stats = summ[["frequency", "recency", "T"]]
    fits, notes = {}, {}
    for name in TRANSACTION_MODELS:
        if model in (name, "auto"):
            fits[name] = MODELS[name](penalizer=penalizer).fit(stats)
        else:   # the others only for the comparison: their warnings go to its "note" column
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fits[name] = MODELS[name](penalizer=penalizer).fit(stats)
            notes[name] = "; ".join(str(w.message) for w in caught)
    holdouts = {}
    if holdout_end is not None:
        length = float(summ.duration_holdout.iloc[0])
        holdouts = {name: calibration_vs_holdout(m, summ, holdout_col="frequency_holdout", holdout_length=length)
                    for name, m in fits.items()}
    comparison = _model_comparison(fits, holdouts)
    comparison["note"] = comparison.model.map(notes).fillna("")
    chosen = model if model != "auto" else str(comparison.loc[comparison.chosen, "model"].iloc[0])
    mg, margin_from = margin_source(tx, float(margin))
    val, models = fit_clv(summ, model=fits[chosen], unit=unit, horizon_months=horizon_months,
                          discount_rate=discount_rate, margin=mg)
    pred = summ.join(val)
    pred.index.name = "customer_id"
    undefined = int(pred.clv.isna().sum())
    if undefined:
        warnings.warn(f"{fits[chosen].__class__.__name__} gives no prediction for {undefined:,} of {len(pred):,} "
                      f"customers (its parameters overflow): totals are not shown — try --penalizer 0.01",
                      SmallSampleWarning, stacklevel=2)
    holdout = tracking = None
    if holdouts:
        holdout = holdouts[chosen].reset_index()
        cal_end = as_date(calibration_end, "calibration_end")
        tracking = _cumulative_track(tx, fits[chosen], as_date(holdout_end, "holdout_end"), unit,
                                     ids=set(summ.index.astype(str)))
        tracking["holdout"] = [d > cal_end for d in tracking.date]
        with np.errstate(invalid="ignore", divide="ignore"):
            tracking["error"] = (tracking.expected_cumulative - tracking.actual_cumulative) / tracking.actual_cumulative
    info = {"model": chosen, "model_requested": model, "unit": unit, "customers": int(len(summ)),
            "horizon_months": int(horizon_months), "discount_rate": float(discount_rate), "margin": float(mg),
            "margin_source": margin_from, "penalizer": float(penalizer),
            "total_clv": float(pred.clv.sum()) if not undefined else float("nan"),
            "mean_p_alive": float(pred.p_alive.mean()) if pred.p_alive.notna().all() else float("nan"),
            "calibration_end": str(calibration_end) if calibration_end is not None else None,
            "holdout_end": str(holdout_end) if holdout_end is not None else None,
            "as_of": str(calibration_end) if calibration_end is not None else
            str(pd.Timestamp(tx.date.max().execute()).date())}
    if holdouts:
        row = comparison.set_index("model").loc[chosen]
        info["holdout_actual"], info["holdout_predicted"] = float(row.holdout_actual), float(row.holdout_predicted)
        info["holdout_error"] = None if pd.isna(row.holdout_error) else float(row.holdout_error)
    return {"customers": pred, "parameters": parameters_frame(models), "models": models, "comparison": comparison,
            "holdout": holdout, "tracking": tracking, "info": info}


def _model_comparison(fits: dict, holdouts: dict | None = None) -> pd.DataFrame:
    """One row per transaction model: log-likelihood, AIC, BIC, converged, degenerate (why), with
    ``holdouts`` (the models' :func:`calibration_vs_holdout` tables) the predicted and actual
    repeat purchases and the error; ``chosen``: the lowest BIC among the sound fits (all unsound:
    the lowest BIC, and a warning)."""
    rows = []
    for name, m in fits.items():
        r = {"model": name, "loglik": m.loglik_, "aic": m.aic_, "bic": m.bic_, "converged": bool(m.converged_),
             "degenerate": m.degenerate_}
        h = (holdouts or {}).get(name)
        if h is not None:
            r["holdout_actual"], r["holdout_predicted"] = float(h.loc["all", "actual_total"]), float(h.loc["all", "predicted_total"])
            r["holdout_error"] = (r["holdout_predicted"] - r["holdout_actual"]) / r["holdout_actual"] \
                if r["holdout_actual"] else np.nan
        rows.append(r)
    out = pd.DataFrame(rows)
    sound = out.converged & (out.degenerate == "")
    pool = out[sound] if sound.any() else out
    if not sound.any():
        warnings.warn("every transaction model's fit is degenerate or did not converge: the comparison takes the "
                      "lowest BIC anyway — try a penalizer (--penalizer 0.01)", SmallSampleWarning, stacklevel=3)
    out["chosen"] = out.index == pool.bic.idxmin()
    return out


def _cumulative_track(rows, model, end, unit: str, ids: set | None = None) -> pd.DataFrame:
    """Expected vs actual cumulative repeat purchases per ``unit`` (:func:`cumulative_tracking`)
    of the customers of ``rows`` (an Ibis transactions table; ``ids``: only these), on their
    distinct purchase days up to ``end``, with each period's end ``date``."""
    rows = rows.filter(rows.date.cast("date") <= end)
    days = rows.select(customer_id=rows.customer_id.cast("string"), day=rows.date.cast("date")).distinct().to_pandas()
    if ids is not None:
        days = days[days.customer_id.isin(ids)]
    days["day"] = pd.to_datetime(days.day)
    origin, per = days.day.min(), DAYS_PER[unit]
    t = (days.day - origin).dt.days / per
    periods = np.arange(1, int(np.floor((pd.Timestamp(end) - origin).days / per)) + 1)
    track = cumulative_tracking(model, pd.DataFrame({"customer_id": days.customer_id, "t": t}),
                                customer_col="customer_id", time_col="t", periods=periods).reset_index()
    track["date"] = [(origin + pd.Timedelta(days=float(p) * per)).date() for p in track.period]
    return track


def model_check(tx, as_of, *, holdout_weeks: int = 26, max_customers: int = 100_000):
    """Fit BG/NBD on data up to ``as_of − holdout_weeks`` and compare with the holdout:
    (by-frequency table, cumulative tracking per week). Tracking uses at most ``max_customers``
    customers (a deterministic sample) to keep the pulled frame compact."""
    cal_end = (pd.Timestamp(as_of) - pd.Timedelta(weeks=holdout_weeks)).date()
    s = summary_frame(tx, unit="week", calibration_end=cal_end, observation_end=pd.Timestamp(as_of).date())
    if len(s) < 100 or (s.frequency > 0).sum() < MIN_REPEAT_BUYERS:
        return None, None
    m = BetaGeoModel().fit(s)
    table = calibration_vs_holdout(m, s, holdout_col="frequency_holdout", holdout_length=float(s.duration_holdout.iloc[0]))
    ids = s.index.to_series()
    if len(ids) > max_customers:
        ids = ids.sample(max_customers, random_state=0)
    rows = tx
    if len(ids) < len(s):  # the sample as a table joined in the engine (a literal IN list would be huge)
        sample = ibis.memtable({"customer_id": ids.index.astype(str).to_numpy()})
        rows = tx.semi_join(sample, "customer_id")
    track = _cumulative_track(rows, m, pd.Timestamp(as_of).date(), "week")
    scale = len(s) / len(ids)
    for c in ("expected_cumulative", "actual_cumulative", "expected_incremental", "actual_incremental"):
        track[c] = track[c] * scale
    track["calibration_end"] = cal_end
    return table.reset_index(), track


def analyse_store(con, settings: dict | None = None, *, as_of=None, progress=None) -> dict[str, pd.DataFrame]:
    """Run every customer-value analysis on the store (see the module docstring) as of
    ``as_of`` (default: the last transaction date; later transactions are left out)."""
    from ..config import defaults
    settings = {**defaults(), **{k: v for k, v in (settings or {}).items() if v is not None}}
    step = progress or (lambda msg: None)
    if not has_table(con, "transactions"):
        raise CxValueError("the store has no transactions: load them with `cxvalue load transactions FILE`")
    tx = con.table("transactions")
    if as_of is not None:
        as_of = as_date(as_of, "as_of")
        tx = tx.filter(tx.date.cast("date") <= ibis.literal(as_of, type="date"))
    horizon = int(settings["clv_horizon_months"])
    d = float(settings["discount_rate"])
    acquisition = con.table("acquisition") if has_table(con, "acquisition") else None
    referrals = con.table("referrals") if has_table(con, "referrals") else None
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(tx.date.max().execute())
    step("summary")
    summary = summary_frame(tx, unit="week", calibration_end=as_of.date())
    margin = _margin(tx, float(settings["margin"]))
    step("CLV models")
    pred, models = fit_clv(summary, horizon_months=horizon, discount_rate=d, margin=margin)
    cv = summary.join(pred)
    step("profitability")
    prof = relationship_profitability(tx, acquisition).to_pandas()
    totals = prof.groupby("customer_id")[["revenue", "serve_cost", "cost", "profit"]].sum().add_prefix("historical_")
    cv = cv.join(totals)
    rfm = rfm_scores(rfm_table(tx).to_pandas().set_index("customer_id"))
    last12 = tx.filter(tx.date.cast("date") > (as_of - pd.Timedelta(days=365)).date())
    r12 = last12.group_by("customer_id").aggregate(revenue_12m=last12.amount.sum()).to_pandas().set_index("customer_id")
    cv = cv.join(rfm[["recency_days", "r_score", "f_score", "m_score", "rfm_score"]]).join(r12)
    cv["revenue_12m"] = cv.revenue_12m.fillna(0.0)
    observed = np.minimum(prof.groupby("customer_id").period.max(), 5)
    disc = discounted_clv(prof, discount_rate=d, horizon=5, observed_years=observed)
    cv["clv_discounted_5y"] = disc.clv_discounted
    step("seed CLV")
    lifetime = cv.frequency + 1 + models["bgnbd"].predict_purchases(5 * periods_per_year("week"), summary).iloc[:, 0]  # 5-year lifetime
    acq = acquisition.group_by("customer_id").aggregate(c=acquisition.cost.sum()).to_pandas().set_index("customer_id").c if acquisition is not None else None
    refs = referrals.to_pandas() if referrals is not None else None
    net_revenue = cv.historical_revenue - cv.historical_serve_cost  # what a referred customer brought in
    seed = seed_clv(lifetime, cv.expected_spend, acq, refs, net_revenue)
    cv = cv.join(seed[["expected_transactions", "acquisition_cost", "referral_direct", "referral_indirect", "clv_seed"]]
                 .rename(columns={"expected_transactions": "lifetime_transactions"}))
    step("value matrix")
    # current value: revenue of the last 12 months; potential value: predictive CLV over the horizon
    mat = value_matrix(cv.revenue_12m, cv.clv)
    cv = cv.join(mat[["current_value", "potential_value", "value_tier", "strategy"]])
    if has_table(con, "customers") and "category_spend" in con.table("customers").columns:
        sow = share_of_wallet(tx, con.table("customers")).to_pandas().set_index("customer_id")
        if len(sow):
            cv = cv.join(sow[["share_of_wallet"]])
    params = parameters_frame(models)
    params["as_of"], params["margin"] = str(as_of.date()), margin
    params["horizon_months"], params["discount_rate"] = horizon, d
    results = {"customer_value": cv.rename_axis("customer_id"), "clv_parameters": params,
               "value_matrix": matrix_summary(mat)}
    step("value multiplication")
    vm = value_multiplication(tx, referrals, acquisition).to_pandas()
    starts = tx.group_by("customer_id").aggregate(f=tx.date.min()).to_pandas()
    age_years = (as_of - pd.to_datetime(starts.f)).dt.days / DAYS_PER["year"]
    vm.attrs["eligible_by_year"] = pd.Series({y: int((age_years > y - 1).sum()) for y in range(1, 6)})
    results["value_multiplication"] = vm
    results["value_multiplication_summary"] = multiplication_table(vm)
    step("model check")
    table, track = model_check(tx, as_of)
    if table is not None:
        results["clv_holdout"], results["clv_tracking"] = table, track
    if has_table(con, "responses"):
        rcols = con.table("responses").columns
        if any(c.startswith("value_") for c in rcols) and any(c.startswith("cost_") for c in rcols):
            r = con.table("responses").to_pandas()
            by = "product" if "product" in r.columns and r["product"].notna().any() else "channel"
            results["delivered_value"] = compare_delivered_value(r, by)
    return results


# --------------------------------------------------------------------------- value for the other domains
def customer_values(con, *, as_of=None, months: int = 12) -> pd.DataFrame:
    """The value of every customer, as the other domains use it (retention, experience ROI,
    NPS by value tier): the one definition of customer value and value tier.

    Indexed by ``customer_id`` (sorted), columns:

    - ``current_value`` — spend (net of returns) in the last ``months`` months up to
      ``as_of``, or the ``current_value`` column of the ``customer_value`` table;
    - ``clv`` — predictive CLV from the ``customer_value`` table (NaN when the value
      analysis has not run);
    - ``value`` — ``clv`` when known, else ``current_value``;
    - ``value_source`` — ``"clv"`` or ``"spend_12m"`` (``"spend_<months>m"``), also in
      ``attrs["source"]``;
    - ``value_tier`` — the table's customer pyramid (platinum / gold / iron / lead) when it
      has one, else :func:`~cxvalue.value.segments.value_tiers` of ``value`` (high / medium / low).

    Without the table every customer of ``customers`` and ``transactions`` is listed (value 0
    without a purchase in the window). ``as_of`` defaults to the store's last activity date.
    """
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or months < 1:
        raise CxValueError(f"months={months!r} is not valid: expected a whole number of months >= 1")
    if has_table(con, "customer_value") and "clv" in con.table("customer_value").columns:
        out = _values_from_table(con, as_of, months)
        source = "clv"
    else:
        if not has_table(con, "transactions"):
            raise CxValueError("no customer value: run the value analysis (customer_value) or load transactions")
        out = _recent_spend(con, as_of, months, every_customer=True).to_frame("current_value")
        out["clv"] = np.nan
        source = "spend_12m" if months == 12 else f"spend_{months}m"
    out["value"] = out["clv"] if source == "clv" else out["current_value"]
    out["value_source"] = source
    if "value_tier" not in out.columns or out["value_tier"].isna().all():
        out["value_tier"] = value_tiers(out["value"])
    out = out[["current_value", "clv", "value", "value_source", "value_tier"]]
    out.attrs["source"] = source
    return out


def customer_tiers(con, *, as_of=None, months: int = 12) -> pd.Series:
    """The ``value_tier`` of every customer (see :func:`customer_values`)."""
    return customer_values(con, as_of=as_of, months=months)["value_tier"]


def _values_from_table(con, as_of, months: int) -> pd.DataFrame:
    cv = con.table("customer_value")
    cols = {"customer_id": cv.customer_id.cast("string"), "clv": cv.clv.cast("float64")}
    if "current_value" in cv.columns:
        cols["current_value"] = cv.current_value.cast("float64")
    if "value_tier" in cv.columns:
        cols["value_tier"] = cv.value_tier.cast("string")
    df = cv.select(**cols).to_pandas()
    df = df[df["customer_id"].notna() & df["clv"].notna()].drop_duplicates("customer_id")
    df = df.set_index("customer_id").sort_index()
    if "current_value" not in df.columns:
        df["current_value"] = (_recent_spend(con, as_of, months).reindex(df.index).fillna(0.0)
                               if has_table(con, "transactions") else np.nan)
    return df


def _recent_spend(con, as_of, months: int, *, every_customer: bool = False) -> pd.Series:
    """Spend per customer in the ``months`` months up to ``as_of`` (computed in the engine);
    with ``every_customer`` also 0 for the customers of ``customers`` and ``transactions``
    without a purchase in that window."""
    import datetime as dt

    from ..store import last_activity_date
    end = as_date(as_of, "as_of") if as_of is not None else last_activity_date(con)
    start = end - dt.timedelta(days=round(months * DAYS_PER["month"]))
    tx = con.table("transactions")
    day = tx.date.cast("date")
    recent = tx.filter((day <= ibis.literal(end, type="date")) & (day > ibis.literal(start, type="date")))
    spend = recent.group_by(customer_id=recent.customer_id.cast("string")).aggregate(
        value=recent.amount.cast("float64").sum()).to_pandas().set_index("customer_id")["value"]
    if every_customer:
        ids = tx.select(customer_id=tx.customer_id.cast("string"))
        if has_table(con, "customers"):
            cu = con.table("customers")
            ids = ids.union(cu.select(customer_id=cu.customer_id.cast("string")))
        everyone = ids.distinct().to_pandas()["customer_id"].dropna()
        spend = spend.reindex(spend.index.union(pd.Index(everyone))).fillna(0.0)
    spend = spend.astype(float).sort_index()
    spend.index.name = "customer_id"
    return spend
