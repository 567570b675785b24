"""Customer lifetime value over a horizon from a transaction model and a spend model.

For customer i, with periods k = 1..K of length L (in the time unit of the data) and a
discount rate d per period::

    CLV_i = margin · E[M_i] · Σ_{k=1..K} ( E[X_i(k·L)] - E[X_i((k-1)·L)] ) / (1+d)^k

where E[X_i(t)] is the transaction model's *conditional* expected number of purchases
in (T_i, T_i + t] given the customer's history (frequency, recency, T), and E[M_i] the
spend model's conditional expected spend per transaction (Gamma-Gamma). Purchases made
in period k are discounted by the whole period (end-of-period convention, as in
concepts.md B3). ``margin`` is the fraction of spend kept as profit (1.0 for revenue).
This is the discrete form of the discounted expected transactions (DET) of Fader,
Hardie & Lee (2005, "RFM and CLV") times the expected margin per transaction; it
assumes spend is independent of the purchase process, as the Gamma-Gamma model does.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import CxValueError, check_is_fitted
from .base import check_horizon

__all__ = ["customer_lifetime_value"]


def customer_lifetime_value(transaction_model, spend_model=None, data=None, *, horizon: int = 12,
                            period_length: float = 1.0, discount_rate: float = 0.0,
                            margin: float = 1.0, spend: float | None = None,
                            customer_col: str | None = None) -> pd.DataFrame:
    """Discounted CLV per customer over ``horizon`` periods (see the module docstring).

    Parameters
    ----------
    transaction_model : a fitted BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel or
        BetaGeoBetaBinomModel.
    spend_model : a fitted GammaGammaModel, or None together with a constant ``spend``.
    data : frame with the columns both models were fitted on (frequency, recency, T and
        monetary value); None uses each model's training data, matched on the customer
        index (customers the spend model has not seen get its population mean spend).
    horizon : number of periods K; period_length : L, in the data's time unit (e.g.
        ``timeutil.periods_per_month("week")`` = 365.25/12/7 for months when the data are
        in weeks); discount_rate : d per period;
    margin : profit fraction of spend.

    Returns a frame indexed by customer with columns ``expected_purchases`` (undiscounted,
    over the horizon), ``expected_spend``, ``discounted_purchases`` and ``clv``.
    """
    check_is_fitted(transaction_model, ("params_",))
    if not hasattr(transaction_model, "_expected_at_grouped"):
        raise CxValueError(f"transaction_model must be a fitted transaction model (BG/NBD, MBG/NBD, "
                           f"Pareto/NBD or BG/BB), got {type(transaction_model).__name__}")
    horizon = int(check_horizon("horizon", horizon, integer=True, allow_zero=False))
    period_length = check_horizon("period_length", period_length, allow_zero=False)
    d = check_horizon("discount_rate", discount_rate)
    try:
        margin = float(margin)
    except (TypeError, ValueError):
        raise CxValueError(f"margin must be a number, got {margin!r}") from None
    if not np.isfinite(margin):
        raise CxValueError(f"margin must be a finite number, got {margin!r}")
    if getattr(transaction_model, "model_name", "") == "bgbb" and period_length != round(period_length):
        raise CxValueError(f"period_length must be a whole number of occasions for the BG/BB model, "
                           f"got {period_length!r}")

    times = period_length * np.arange(0, horizon + 1)
    # per group of identical statistics, expanded to customers only at the end
    index, cum, inv = transaction_model._expected_at_grouped(times, data, customer_col)
    per_period = np.maximum(np.diff(cum, axis=1), 0.0)  # guard rounding below zero
    disc = (1.0 + d) ** -np.arange(1, horizon + 1)
    discounted = (per_period @ disc)[inv]
    cum_last = cum[:, -1][inv]

    if spend_model is None:
        if spend is None:
            raise CxValueError("give a fitted spend_model (GammaGammaModel) or a constant spend=...")
        m = np.full(len(index), float(spend))
    else:
        if spend is not None:
            raise CxValueError("give either spend_model or spend, not both")
        check_is_fitted(spend_model, ("params_",))
        sp = spend_model.predict_spend(data, customer_col=customer_col)["expected_spend"]
        if data is None:
            sp = sp[~sp.index.duplicated()].reindex(index)
            sp = sp.fillna(spend_model.population_mean_spend())
        m = sp.to_numpy(dtype=float)
    return pd.DataFrame({
        "expected_purchases": cum_last,
        "expected_spend": m,
        "discounted_purchases": discounted,
        "clv": margin * m * discounted,
    }, index=index)
