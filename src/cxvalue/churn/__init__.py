"""Churn and retention (concepts.md F1–F6).

- :mod:`~cxvalue.churn.definitions` — churn definitions, leakage-free labels at a cut-off,
  time-aware validation (:func:`churn_labels`, :func:`build_dataset`, :func:`temporal_validation`);
- :mod:`~cxvalue.churn.features` — per-customer features at a cut-off, in the engine (:func:`churn_features`);
- :mod:`~cxvalue.churn.prediction` — :class:`ChurnModel` (LightGBM, calibrated, SHAP reasons);
- :mod:`~cxvalue.churn.evaluation` — ROC-AUC, PR-AUC, lift by decile, calibration table;
- :mod:`~cxvalue.churn.survival` — :class:`SurvivalAnalysis` (Kaplan–Meier, log-rank), :class:`CoxModel`;
- :mod:`~cxvalue.churn.reasons` — reason distribution, voluntary share, complaint impact;
- :mod:`~cxvalue.churn.retention` — value at risk, playbook, ranked retention list, CSV/Excel export;
- :mod:`~cxvalue.churn.owners` — value at risk per salesperson (F6).

Customer values and value tiers come from :mod:`cxvalue.value` (``customer_value.customer_values``,
``segments.value_tiers``).

See docs/churn.md.
"""
from __future__ import annotations

from .definitions import (DEFINITIONS, ChurnDataset, LeakageWarning, build_dataset, churn_labels, default_cutoffs,
                          population, temporal_validation)
from .evaluation import calibration_table, classification_metrics, lift_table
from .features import churn_features, feature_frame
from .owners import estimate_follow_probability, owner_concentration
from .prediction import ChurnModel, leaky_columns, reason_family
from .reasons import SEED_REASON_SHARE, churn_reasons, complaint_impact
from .retention import DEFAULT_PLAYBOOK, export_retention, load_playbook, retention_list
from .survival import CoxModel, SurvivalAnalysis, survival_frame

__all__ = [
    "DEFINITIONS", "ChurnDataset", "LeakageWarning", "build_dataset", "churn_labels", "default_cutoffs", "population",
    "temporal_validation", "churn_features", "feature_frame", "ChurnModel", "leaky_columns", "reason_family",
    "classification_metrics", "lift_table", "calibration_table", "SurvivalAnalysis", "CoxModel", "survival_frame",
    "SEED_REASON_SHARE", "churn_reasons", "complaint_impact", "DEFAULT_PLAYBOOK", "load_playbook",
    "retention_list", "export_retention", "owner_concentration", "estimate_follow_probability",
]
