"""Loyalty (concepts C1-C5): repeat purchase by channel and product, service loyalty,
behavioural × attitudinal segments, incentive-driven repeat buying. Engine-side (Ibis).

See :mod:`cxvalue.loyalty.metrics`, :mod:`cxvalue.loyalty.segments` and docs/loyalty.md.
"""
from __future__ import annotations

_WHERE = {
    "repeat_purchase_rate": "metrics", "service_loyalty": "metrics", "incentive_share": "metrics",
    "wilson_interval": "metrics", "purchases": "metrics", "as_of_date": "metrics",
    "LoyaltyCutoffs": "segments", "loyalty_segments": "segments", "segment_summary": "segments",
    "SEGMENTS": "segments",
}
__all__ = list(_WHERE)


def __getattr__(name):  # lazy: keep ``import cxvalue`` fast for the CLI
    if name in _WHERE:
        from importlib import import_module
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'cxvalue.loyalty' has no attribute {name!r}")
