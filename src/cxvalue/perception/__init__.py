"""Perception: key drivers (D3), the CEM seven steps (D4), satisfaction index models by
PLS path modelling (D5) and the value of experience (E1 in ``experience_value``, E2 in ``roi``).
Customer values and value tiers come from :mod:`cxvalue.value`. See docs/perception.md.
"""
from __future__ import annotations

_WHERE = {
    "KeyDriverAnalysis": "drivers", "relative_weights": "drivers", "shapley_values": "drivers",
    "importance_performance": "drivers", "QUADRANT_LABELS": "drivers", "detect_drivers": "drivers",
    "resolve_model": "csi", "fit_csi": "csi", "csi_tables": "csi",
    "cem_summary": "cem", "cem_compare": "cem",
    "PLSPM": "plspm", "ECSI_MODEL": "plspm", "ACSI_MODEL": "plspm", "CONTRACT_MODEL": "plspm",
    "model_template": "plspm",
    "ExperienceValue": "experience_value", "followup_frame": "experience_value",
    "assign_groups": "experience_value", "value_sentence": "experience_value",
    "experience_roi": "roi", "latest_answers": "roi",
}
__all__ = list(_WHERE)


def __getattr__(name):  # lazy: keep ``import cxvalue`` fast for the CLI
    if name in _WHERE:
        from importlib import import_module
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'cxvalue.perception' has no attribute {name!r}")
