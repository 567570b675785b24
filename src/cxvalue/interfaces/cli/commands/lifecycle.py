"""CLI command ``cxvalue lifecycle``: stages, patterns, transitions and stage characteristics, on
the store or directly on a transactions file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session
from ..render import console, print_frame
from .data import open_input


def _records(df) -> list:
    return json.loads(df.to_json(orient="records", force_ascii=False, date_format="iso"))


@app.command()
def lifecycle(file: Optional[Path] = typer.Argument(None, help="Transactions file (CSV, Excel, Parquet); without it the store."),
              period: Optional[str] = typer.Option(None, "--period", help="month (default) or quarter."),
              end_rule: Optional[str] = typer.Option(None, "--end-rule", help="p_alive (default) or inactivity."),
              inactive_days: Optional[int] = typer.Option(None, "--inactive-days", help="Days without a purchase after "
                                                          "which a relationship has ended (365)."),
              rules: Optional[Path] = typer.Option(None, "--rules", help="YAML file of lifecycle rule thresholds."),
              as_of: Optional[str] = typer.Option(None, "--as-of", help="Date of the analysis (default: end of the data)."),
              store: Optional[str] = StoreOpt, as_json: bool = JsonOpt, lang: Optional[str] = LangOpt):
    """Relationship lifecycle: stage per customer and period (exploration, formation, stability, decline),
    stage transitions, stage characteristics and patterns (early abort, mid-way abort, early exit,
    long-term retention). On the store it writes the lifecycle tables."""
    from ....i18n import t
    from ....store import write_result
    from ....lifecycle.pipeline import analyse_lifecycle
    from ....lifecycle.transitions import matrix_wide
    sess = session(store, lang)
    s = sess.settings
    r = {}
    if rules is not None:
        from ....io.mapping import read_yaml_file
        r = read_yaml_file(rules, "rules file", "rule names and values")
    r.update({k: v for k, v in (("period", period), ("end_rule", end_rule), ("inactive_days", inactive_days))
              if v is not None})
    con = open_input("transactions", file, sess)
    res = analyse_lifecycle(con, s, rules=r or None, as_of=as_of)
    if file is None:
        for name, frame in res.items():
            write_result(con, name, frame)
    rel = res["lifecycle"]
    pats = res["lifecycle_patterns"]
    if "group" in pats.columns:
        pats = pats[pats.group == "all"].drop(columns="group")
    matrix = matrix_wide(res["lifecycle_transitions"])
    if as_json:
        print(json.dumps({
            "source": str(file) if file else "store", "as_of": res["lifecycle_periods"].attrs.get("as_of"),
            "customers": int(len(rel)), "rules": res["lifecycle_periods"].attrs.get("rules"),
            "current_stage": {k: int(v) for k, v in rel.current_stage.value_counts().items()},
            "patterns": _records(pats), "characteristics": _records(res["lifecycle_characteristics"]),
            "transitions": {i: {c: float(v) for c, v in row.items()} for i, row in matrix.iterrows()},
        }, ensure_ascii=False, default=str, indent=2))
        return
    L = s["lang"]
    console.print(f"[bold]{t('lifecycle_title', L)}[/] — {len(rel):,} {t('customers_n', L)}")
    print_frame(res["lifecycle_characteristics"], t("lifecycle_characteristics", L))
    print_frame(matrix.reset_index(), t("lifecycle_transitions", L), floatfmt="{:.3f}")
    print_frame(pats, t("lifecycle_patterns", L), floatfmt="{:.3f}")
