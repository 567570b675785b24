"""A file loaded on its own: validated (with quarantine) into an in-memory store, so that a
command works on a file (``cxvalue clv tx.csv``) exactly as on the store."""
from __future__ import annotations

import warnings
from pathlib import Path

from ..errors import DataQualityWarning


def load_into_memory(table: str, file: str | Path, *, mapping=None, options: dict | None = None,
                     memory_limit: str | None = None):
    """``file`` loaded into table ``table`` of a fresh in-memory DuckDB store (unknown customers
    become stubs). Rejected rows raise a :class:`DataQualityWarning` naming the count, the reasons
    and the first one. Returns ``(con, report)``."""
    from ..store import connect
    from .load import load_file
    con = connect("duckdb://")
    rep = load_file(con, table, file, mapping=mapping, options=options, unknown_customer="create",
                    memory_limit=memory_limit)
    if rep.rows_rejected:
        ex = rep.examples[0]
        reasons = ", ".join(f"{k}: {v}" for k, v in rep.rejected_by_reason.items())
        warnings.warn(f"{file}: {rep.rows_rejected:,} of {rep.rows_read:,} rows rejected ({reasons}); first: "
                      f"row {ex['row']} {ex['column']}: {ex['reason']}", DataQualityWarning, stacklevel=2)
    return con, rep
