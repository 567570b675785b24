"""CLI: ``cxvalue clv`` (predictive CLV with BTYD models) and ``cxvalue value`` (B1–B8 on the store)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session
from ..render import console, print_frame, print_json
from .data import open_input
from ....errors import CxValueError

MODEL_CHOICES = ("bgnbd", "mbgnbd", "paretonbd")


@app.command()
def clv(file: Optional[Path] = typer.Argument(None, help="Transactions file (CSV/Excel/Parquet); default: the store."),
        model: str = typer.Option("bgnbd", "--model", help="Transaction model: bgnbd, mbgnbd or paretonbd."),
        unit: str = typer.Option("week", "--unit", help="Time unit of frequency/recency/T: day, week, month."),
        calibration_end: Optional[str] = typer.Option(None, "--calibration-end",
                                                      help="Fit on purchases up to this date (default: the last one)."),
        horizon: Optional[int] = typer.Option(None, "--horizon", help="CLV horizon in months (setting clv_horizon_months)."),
        discount_rate: Optional[float] = typer.Option(None, "--discount-rate", help="Yearly discount rate (setting)."),
        margin: Optional[float] = typer.Option(None, "--margin", help="Profit margin on spend (setting; 0 = from costs)."),
        customer_col: Optional[str] = typer.Option(None, "--customer-col", help="Customer id column of FILE."),
        date_col: Optional[str] = typer.Option(None, "--date-col", help="Date column of FILE."),
        amount_col: Optional[str] = typer.Option(None, "--amount-col", help="Amount column of FILE."),
        map: Optional[Path] = typer.Option(None, "--map", "-m", help="Mapping YAML for FILE."),
        format: Optional[str] = typer.Option(None, "--format", help="FILE format: csv, whitespace, fixed, excel, parquet."),
        delimiter: Optional[str] = typer.Option(None, "--delimiter", help="FILE field delimiter (default: detected)."),
        top: int = typer.Option(20, "--top", help="How many customers to list (table output)."),
        out: Optional[Path] = typer.Option(None, "--out", help="Write the per-customer predictions to this CSV."),
        store: Optional[str] = StoreOpt, as_json: bool = JsonOpt):
    """Fit a BTYD model (BG/NBD by default) and Gamma-Gamma; print parameters with 95% intervals and
    log-likelihood, and per-customer P(alive), expected purchases and CLV.

    Works on the store or directly on a transactions file: a CSV with customer_id,date,amount
    needs no options (other headers: --customer-col/--date-col/--amount-col or --map).
    """
    import pandas as pd

    from ....features.summary import summary_frame
    from ....io.mapping import Mapping, load_mapping
    from ....value.customer_value import _margin, fit_clv

    if model not in MODEL_CHOICES:
        raise CxValueError(f"--model {model!r} is not valid: expected one of {', '.join(MODEL_CHOICES)}")
    sess = session(store)
    s = sess.settings
    horizon = horizon or int(s["clv_horizon_months"])
    d = float(s["discount_rate"] if discount_rate is None else discount_rate)
    mp = None
    if file is not None and (customer_col or date_col or amount_col or map):
        mp = load_mapping(map) if map else Mapping()
        mp.columns.update({k: v for k, v in ((customer_col, "customer_id"), (date_col, "date"), (amount_col, "amount")) if k})
    con = open_input("transactions", file, sess, mapping=mp,
                     options={"format": format, "delimiter": delimiter})
    tx = con.table("transactions")
    summ = summary_frame(tx, unit=unit, calibration_end=calibration_end)
    if len(summ) < 50:
        raise CxValueError(f"only {len(summ)} customers with a purchase: a BTYD model needs at least 50 "
                           f"(a few hundred for stable estimates)")
    mg = _margin(tx, float(s["margin"] if margin is None else margin))
    val, models = fit_clv(summ, model=model, unit=unit, horizon_months=horizon, discount_rate=d, margin=mg)
    pred = summ.join(val)
    if out:
        pred.to_csv(out)
    params = {name: _params(m) for name, m in models.items() if m is not None}
    if as_json:
        print_json({"model": model, "unit": unit, "customers": len(summ), "horizon_months": horizon,
                    "discount_rate": d, "margin": mg, "parameters": params,
                    "total_clv": float(pred.clv.sum()), "mean_p_alive": float(pred.p_alive.mean())})
        return
    for name, p in params.items():
        rows = [{"parameter": k, **v} for k, v in p["parameters"].items()]
        print_frame(pd.DataFrame(rows), title=f"{name}: log-likelihood {p['loglik']:,.2f}, AIC {p['aic']:,.1f}"
                    + ("" if p["converged"] else " — NOT CONVERGED"))
    console.print(f"{len(summ):,} customers; total CLV ({horizon} months, d={d:.0%}, margin {mg:.0%}): "
                  f"{pred.clv.sum():,.0f}; mean P(alive) {pred.p_alive.mean():.2f}")
    print_frame(pred.sort_values("clv", ascending=False).head(top).reset_index(), title=f"top {top} customers by CLV")


def _params(m) -> dict:
    s = m.summary_
    return {"parameters": {k: {"estimate": float(r.estimate), "se": float(r.se), "lower_95": float(r.lower_95),
                               "upper_95": float(r.upper_95)} for k, r in s.iterrows()},
            "loglik": float(m.loglik_), "aic": float(m.aic_), "bic": float(m.bic_), "converged": bool(m.converged_),
            "n_customers": int(m.n_customers_)}


@app.command()
def value(store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt):
    """Compute customer value on the store (B1–B8): CLV, profitability, discounted and seed CLV,
    value matrix and RFM, value multiplication, share of wallet, delivered value; write the
    result tables (customer_value, value_matrix, value_multiplication_summary, …)."""
    from ....i18n import t
    from ....value.pipeline import run_value
    sess = session(store, lang)
    s = sess.settings
    con = open_input("transactions", None, sess)
    with console.status("customer value…") as st:
        summary = run_value(con, s, progress=lambda m: st.update(f"customer value: {m}…"))
    if summary is None:
        raise CxValueError("the store has no transactions: load them with `cxvalue load transactions FILE`")
    from ....store import read_result
    m = read_result(con, "value_matrix")
    if as_json:
        print_json({"summary": summary, "value_matrix": m.to_dict(orient="records")})
        return
    console.print(", ".join(f"{k}: {v}" for k, v in summary.items()))
    m = m.assign(value_tier=[t("tier_" + x, s["lang"]) for x in m.value_tier],
                 strategy=[t("strategy_" + x, s["lang"]) for x in m.strategy])
    print_frame(m, title=t("value_matrix", s["lang"]))
