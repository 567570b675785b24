"""Perception: key drivers (D3), the CEM seven steps (D4) and satisfaction index models by
PLS path modelling (D5). See docs/perception.md.
"""
from __future__ import annotations

_WHERE = {
    "KeyDriverAnalysis": "drivers", "relative_weights": "drivers", "shapley_values": "drivers",
    "importance_performance": "drivers", "QUADRANT_LABELS": "drivers",
    "cem_summary": "cem", "cem_compare": "cem",
    "PLSPM": "plspm", "ECSI_MODEL": "plspm", "ACSI_MODEL": "plspm", "model_template": "plspm",
}
__all__ = list(_WHERE)


def __getattr__(name):  # lazy: keep ``import cxvalue`` fast for the CLI
    if name in _WHERE:
        from importlib import import_module
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'cxvalue.perception' has no attribute {name!r}")
