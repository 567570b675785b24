"""Datasets: the demo company simulator (SkyWay Airlines / 天途航空), see :mod:`cxvalue.datasets.demo`."""
from __future__ import annotations

__all__ = ["generate", "iter_generate", "write_demo", "GROUND_TRUTH"]


def __getattr__(name):  # lazy: keep ``import cxvalue.datasets`` cheap
    if name in __all__:
        from . import demo
        return getattr(demo, name)
    raise AttributeError(f"module 'cxvalue.datasets' has no attribute {name!r}")
