"""Model checking for the BTYD models: calibration vs holdout, cumulative tracking and a
model comparison table (Fader, Hardie & Lee 2005, figures 2-4).

- ``calibration_vs_holdout``: per calibration-frequency bucket (0, 1, …, 7+), the mean
  number of holdout transactions actually made vs the model's conditional expectation.
- ``cumulative_tracking``: expected vs actual cumulative repeat transactions per period
  for the whole cohort, using each customer's first-purchase time (the unconditional
  E[X(t)] summed over customers, t measured from each one's first purchase).
- ``compare_models``: log-likelihood, AIC, BIC and holdout error of several fitted models.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import CxValueError, DataContractError, check_is_fitted
from ..timeutil import DAYS_PER, as_date
from .base import check_horizon, group_rows

__all__ = ["calibration_vs_holdout", "cumulative_tracking", "compare_models"]


def _holdout_values(data, holdout_col: str) -> np.ndarray:
    if not isinstance(data, pd.DataFrame):
        raise CxValueError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if holdout_col not in data.columns:
        raise DataContractError(f"column {holdout_col!r} not found in data: expected the number of "
                                f"holdout transactions per customer, got {list(map(str, data.columns))}",
                                column=holdout_col)
    v = pd.to_numeric(data[holdout_col], errors="coerce").to_numpy(dtype=float)
    if np.any(~np.isfinite(v)) or np.any(v < 0):
        raise DataContractError(f"column {holdout_col!r}: expected holdout transaction counts >= 0",
                                column=holdout_col)
    return v


def calibration_vs_holdout(model, data: pd.DataFrame, *, holdout_col: str, holdout_length: float,
                           max_frequency: int = 7, customer_col: str | None = None) -> pd.DataFrame:
    """Actual vs predicted holdout transactions by calibration frequency (0, 1, …, ``max_frequency``+).

    ``data`` holds the calibration statistics (the columns the model was fitted on) and
    ``holdout_col``, the number of transactions each customer made in a holdout period of
    length ``holdout_length`` right after the calibration period. Returns one row per
    bucket plus a row ``all``: n_customers, actual_mean, predicted_mean, actual_total,
    predicted_total.
    """
    check_is_fitted(model, ("params_",))
    holdout_length = check_horizon("holdout_length", holdout_length, allow_zero=False)
    max_frequency = int(check_horizon("max_frequency", max_frequency, integer=True))
    actual = _holdout_values(data, holdout_col)
    pred = model.predict_purchases(holdout_length, data, customer_col=customer_col)["expected_purchases"].to_numpy()
    freq = pd.to_numeric(data[model.columns_["frequency"]]).to_numpy()
    bucket = np.minimum(freq, max_frequency).astype(int)
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    frame = pd.DataFrame({"bucket": bucket, "actual": actual, "predicted": pred})
    g = frame.groupby("bucket")
    out = pd.DataFrame({"n_customers": g.size(), "actual_total": g["actual"].sum(),
                        "predicted_total": g["predicted"].sum()}).reindex(range(max_frequency + 1), fill_value=0)
    out.loc[max_frequency + 1] = [len(frame), actual.sum(), pred.sum()]
    out.index = pd.Index(labels + ["all"], name="calibration_frequency")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["actual_mean"] = out["actual_total"] / out["n_customers"]
        out["predicted_mean"] = out["predicted_total"] / out["n_customers"]
    out["n_customers"] = out["n_customers"].astype(int)
    return out[["n_customers", "actual_mean", "predicted_mean", "actual_total", "predicted_total"]]


def cumulative_tracking(model, transactions: pd.DataFrame, *, customer_col: str, time_col: str,
                        periods, origin=None, time_unit: str = "W", merge_same_time: bool = True) -> pd.DataFrame:
    """Expected vs actual cumulative repeat transactions of a cohort, per period.

    ``transactions``: one row per transaction with ``customer_col`` and ``time_col``; the
    time is a number in the model's time unit or a date (then converted with ``origin``,
    default the first date, and ``time_unit``: "D" days or "W" weeks). Each customer's
    first transaction is her trial; the others are repeat transactions. With
    ``merge_same_time`` transactions of one customer at the same time count once (FHL
    2005 merge same-day purchases). ``periods``: the period end times (e.g. 1..78).

    Returns a frame indexed by ``period`` with expected_cumulative, actual_cumulative,
    expected_incremental, actual_incremental. The expectation is Σ_i E[X(τ − t0_i)] with
    the model's *unconditional* E[X(t)] and t0_i the customer's first-purchase time.
    """
    check_is_fitted(model, ("params_",))
    for col in (customer_col, time_col):
        if col not in transactions.columns:
            raise DataContractError(f"column {col!r} not found in transactions: expected columns "
                                    f"{customer_col!r}, {time_col!r}, got {list(map(str, transactions.columns))}",
                                    column=col)
    periods = np.asarray(periods, dtype=float)
    if periods.ndim != 1 or len(periods) == 0 or np.any(np.diff(periods) <= 0):
        raise CxValueError("periods must be a non-empty increasing sequence of period end times")
    t = transactions[time_col]
    if pd.api.types.is_datetime64_any_dtype(t):
        unit = {"D": DAYS_PER["day"], "W": DAYS_PER["week"]}
        if time_unit not in unit:
            raise CxValueError(f"time_unit={time_unit!r} is not valid: expected one of 'D', 'W'")
        origin = t.min() if origin is None else pd.Timestamp(as_date(origin, "origin"))
        t = (t - origin) / pd.Timedelta(days=unit[time_unit])
    times = pd.to_numeric(t).to_numpy(dtype=float)
    cust = transactions[customer_col].to_numpy()
    if merge_same_time:
        first, _ = group_rows([cust, times])
        cust, times = cust[first], times[first]
    order = np.lexsort((times, cust))
    cust, times = cust[order], times[order]
    is_first = np.r_[True, cust[1:] != cust[:-1]]
    t0 = times[is_first]
    repeat = np.sort(times[~is_first])
    u, counts = np.unique(t0, return_counts=True)
    age = np.clip(periods[None, :] - u[:, None], 0.0, None)
    expected = counts @ model.expected_purchases(age)
    actual = np.searchsorted(repeat, periods, side="right").astype(float)
    out = pd.DataFrame({"expected_cumulative": expected, "actual_cumulative": actual},
                       index=pd.Index(periods, name="period"))
    out["expected_incremental"] = np.diff(expected, prepend=0.0)
    out["actual_incremental"] = np.diff(actual, prepend=0.0)
    return out


def compare_models(models: Mapping[str, object], data: pd.DataFrame | None = None, *,
                   holdout_col: str | None = None, holdout_length: float | None = None,
                   customer_col: str | None = None) -> pd.DataFrame:
    """One row per fitted model: n_params, loglik, aic, bic and, with holdout data,
    holdout_actual, holdout_predicted, holdout_error_pct (total), holdout_mae and
    holdout_rmse (per customer). Models must be fitted on the same customers for the
    likelihoods to be comparable.
    """
    if not isinstance(models, Mapping) or not models:
        raise CxValueError("models must be a non-empty mapping of name -> fitted model")
    if (holdout_col is None) != (holdout_length is None) or (holdout_col is not None and data is None):
        raise CxValueError("give data, holdout_col and holdout_length together to score the holdout")
    rows = {}
    for name, model in models.items():
        check_is_fitted(model, ("params_",))
        k = int(np.size(model.params_.to_numpy()))
        row = {"model": type(model).__name__, "n_params": k, "loglik": model.loglik_,
               "aic": model.aic_, "bic": model.bic_}
        if holdout_col is not None:
            actual = _holdout_values(data, holdout_col)
            pred = model.predict_purchases(holdout_length, data, customer_col=customer_col)[
                "expected_purchases"].to_numpy()
            err = pred - actual
            row.update(holdout_actual=actual.sum(), holdout_predicted=pred.sum(),
                       holdout_error_pct=100.0 * (pred.sum() - actual.sum()) / actual.sum(),
                       holdout_mae=np.mean(np.abs(err)), holdout_rmse=np.sqrt(np.mean(err ** 2)))
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "name"
    return out
