"""Voice of the customer: NPS with margins of error, segments and trends (concepts D1, D8).

See :mod:`cxvalue.voice.nps` and docs/voice.md.
"""
from __future__ import annotations

__all__ = ["classify_nps", "nps_score", "nps_from_counts", "nps_difference", "nps_by", "nps_trend", "nps_analysis",
           "NpsEstimate", "NpsDifference"]


def __getattr__(name):  # lazy: keep ``import cxvalue`` fast for the CLI
    if name in __all__:
        from importlib import import_module
        return getattr(import_module(".nps", __name__), name)
    raise AttributeError(f"module 'cxvalue.voice' has no attribute {name!r}")
