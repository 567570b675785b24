"""CLI: ``cxvalue clv`` (predictive CLV with BTYD models) and ``cxvalue value`` (B1–B8 on the store)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import AsOfOpt, JsonOpt, LangOpt, StoreOpt, session
from ..render import console, print_json, print_view
from .data import open_input

@app.command()
def clv(file: Optional[Path] = typer.Argument(None, help="Transactions file (CSV/Excel/Parquet); default: the store."),
        model: str = typer.Option("bgnbd", "--model", help="Transaction model: bgnbd, mbgnbd, paretonbd, or auto (the "
                                  "lowest BIC among the fits that are not degenerate)."),
        penalizer: float = typer.Option(0.0, "--penalizer", help="Ridge penalty on the log-parameters (e.g. 0.01) "
                                        "that keeps a fit off the edge of the parameter space; 0 = maximum likelihood."),
        holdout_end: Optional[str] = typer.Option(None, "--holdout-end", help="With --calibration-end: check the model on "
                                                  "the purchases up to this date (predicted vs actual, by frequency, "
                                                  "cumulative tracking)."),
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
        top: int = typer.Option(20, "--top", help="How many customers to list."),
        out: Optional[Path] = typer.Option(None, "--out", help="Write the per-customer predictions to this .csv or .xlsx file."),
        store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt):
    """Fit a BTYD model (BG/NBD by default) and Gamma-Gamma; print parameters with 95% intervals and
    log-likelihood, and per-customer P(alive), expected purchases and CLV.

    Works on the store or directly on a transactions file: a CSV with customer_id,date,amount
    needs no options (other headers: --customer-col/--date-col/--amount-col or --map).
    """
    from ....errors import one_of
    from ....io.mapping import Mapping, load_mapping
    from ....value.customer_value import TRANSACTION_MODELS, clv_analysis
    from ...views import capture
    from ...views.value import clv_view
    one_of("--model", model, TRANSACTION_MODELS + ("auto",))
    sess = session(store, lang)
    s = sess.settings
    mp = None
    if file is not None and (customer_col or date_col or amount_col or map):
        mp = load_mapping(map) if map else Mapping()
        mp.columns.update({k: v for k, v in ((customer_col, "customer_id"), (date_col, "date"), (amount_col, "amount")) if k})
    with capture() as notes:
        con = open_input("transactions", file, sess, mapping=mp, options={"format": format, "delimiter": delimiter})
        from ....store import table
        res = clv_analysis(table(con, "transactions"), model=model, unit=unit, calibration_end=calibration_end,
                           horizon_months=horizon or int(s["clv_horizon_months"]),
                           discount_rate=float(s["discount_rate"] if discount_rate is None else discount_rate),
                           margin=float(s["margin"] if margin is None else margin), penalizer=penalizer,
                           holdout_end=holdout_end)
    if out:
        from ....io.export import write_table
        per = res["customers"]
        write_table(per.reset_index() if per.index.name else per, out, sheet="customers")
    v = clv_view(sess, res, top=top, notes=notes)
    print_json(v.to_dict()) if as_json else print_view(v, sess.lang)


@app.command()
def value(store: Optional[str] = StoreOpt, as_of: Optional[str] = AsOfOpt, as_json: bool = JsonOpt,
          lang: Optional[str] = LangOpt):
    """Compute customer value on the store (B1–B8): CLV, profitability, discounted and seed CLV,
    value matrix and RFM, value multiplication, share of wallet, delivered value; write the
    result tables (customer_value, value_matrix, value_multiplication_summary, …)."""
    from ...views import build_view
    from .run import run_step
    sess = session(store, lang, as_of)
    outcome = run_step(sess, "customer value", quiet=as_json)
    v = build_view("value", sess)
    print_json(v.to_dict()) if as_json else print_view(v, sess.lang)
    if not as_json:
        console.print(", ".join(f"{k} ({n:,})" for k, n in outcome.tables.items()), style="dim")
