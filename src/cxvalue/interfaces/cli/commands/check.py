"""CLI command ``cxvalue check``: read every table of the store in full and say which ones are
damaged (:func:`cxvalue.store.check_integrity`); exit code 1 when any is."""
from __future__ import annotations

import time
from typing import Optional

from ....errors import StoreError
from ..main import app
from ..options import JsonOpt, StoreOpt, session
from ..render import console, print_json


@app.command()
def check(store: Optional[str] = StoreOpt, as_json: bool = JsonOpt):
    """Check the store's integrity: read every column of every table (DuckDB verifies each block's
    checksum as it reads it). One line per table; exit code 1 naming the damaged tables.

    The store is opened read-only. `cxvalue status` reads only counts and date ranges (answered
    from metadata), so it does not see a damaged block: this command does."""
    from rich.markup import escape
    from rich.table import Table

    from ....store import check_integrity, connect
    sess = session(store)
    url = sess.settings["store"]
    t0 = time.perf_counter()
    con = connect(url, read_only=True, create=False)
    try:
        tables = check_integrity(con)
    finally:
        con.disconnect()
    seconds = time.perf_counter() - t0
    damaged = [t["table"] for t in tables if not t["ok"]]
    if as_json:
        print_json({"store": str(url), "ok": not damaged, "seconds": round(seconds, 3), "tables": tables,
                    "damaged": damaged})
    else:
        tb = Table(title=f"store {escape(str(url))}: {len(tables)} tables read in full ({seconds:.1f}s)")
        for c, j in (("table", "left"), ("rows", "right"), ("columns", "right"), ("state", "left")):
            tb.add_column(c, justify=j)
        for t in tables:
            state = "[green]ok[/]" if t["ok"] else f"[bold red]damaged[/]: {escape(t['error'] or '')}"
            tb.add_row(t["table"], "" if t["rows"] is None else f"{t['rows']:,}",
                       "" if t["columns"] is None else str(t["columns"]), state)
        console.print(tb)
    if damaged:
        raise StoreError(f"the store {str(url)!r} is damaged: {len(damaged)} table(s) cannot be read in full "
                         f"({', '.join(damaged)}): restore the store from a backup, or rebuild it from the source "
                         f"files (`cxvalue load --dir FOLDER --store NEW.duckdb`, then `cxvalue run`); results, "
                         "cases and accounts exist only in the store and its backups")
