"""Customer value in the full analysis run: fits the CLV models and writes the value tables."""
from __future__ import annotations

from ..pipeline import analysis
from ..store import has_table, write_result
from .customer_value import analyse_store


def run_value(con, settings: dict, progress=None) -> dict | None:
    """Run :func:`analyse_store` and write each result to its store table; return a summary."""
    if not has_table(con, "transactions"):
        return None
    results = analyse_store(con, settings, progress=progress)
    for name, frame in results.items():
        write_result(con, name, frame)
    cv = results["customer_value"]
    return {"customers": f"{len(cv):,}", "total_clv": f"{cv.clv.sum():,.0f}", "mean_p_alive": f"{cv.p_alive.mean():.2f}",
            "tables": ", ".join(results)}


@analysis(30, "customer value")
def _value(con, settings):
    return run_value(con, settings)
