"""How good is a churn score: ROC-AUC, PR-AUC, Brier score, lift by decile, calibration table.

All functions take the observed outcome ``y`` (0/1) and the predicted probability ``p``
and return plain dicts or tidy DataFrames, so the CLI, the report and the tests read
the same numbers.

- ROC-AUC: probability that a random churner scores above a random stayer.
- PR-AUC (average precision): area under precision-recall; compare with the base rate.
- Lift of decile k (k = 1 the highest scores): churn rate in the decile / overall
  churn rate; ``capture`` is the cumulative share of all churners in deciles 1..k.
- Calibration: customers binned by predicted probability (equal-count bins); mean
  prediction vs observed churn rate per bin, with a Wilson 95% interval.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import CxValueError


def _check(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape:
        raise CxValueError(f"outcome and prediction differ in length: {len(y)} vs {len(p)}")
    if len(y) == 0:
        raise CxValueError("no customers to evaluate")
    if not np.isin(y, (0.0, 1.0)).all():
        raise CxValueError("the outcome must be 0/1")
    return y, p


def classification_metrics(y, p) -> dict:
    """``n``, ``churn_rate``, ``roc_auc``, ``pr_auc``, ``brier``, ``log_loss``."""
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
    y, p = _check(y, p)
    both = 0 < y.sum() < len(y)
    pc = np.clip(p, 1e-12, 1 - 1e-12)
    return {"n": int(len(y)), "churn_rate": float(y.mean()),
            "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
            "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
            "brier": float(brier_score_loss(y, p)),
            "log_loss": float(log_loss(y, pc, labels=[0, 1]))}


def _bins(p: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-count bins by descending score (ties broken by position): 1 = highest scores."""
    order = np.argsort(-p, kind="stable")
    b = np.empty(len(p), dtype=int)
    b[order] = np.arange(len(p)) * n_bins // len(p) + 1
    return b


def lift_table(y, p, n_bins: int = 10) -> pd.DataFrame:
    """Lift by decile: ``decile`` (1 = highest risk), ``customers``, ``churners``, ``churn_rate``,
    ``mean_p_churn``, ``lift``, ``cumulative_lift``, ``capture`` (cumulative share of churners)."""
    y, p = _check(y, p)
    if n_bins < 2:
        raise CxValueError(f"n_bins={n_bins!r}: expected at least 2")
    b = _bins(p, min(n_bins, len(p)))
    df = pd.DataFrame({"decile": b, "y": y, "p": p}).groupby("decile").agg(
        customers=("y", "size"), churners=("y", "sum"), mean_p_churn=("p", "mean"))
    base = y.mean() if y.mean() > 0 else np.nan
    df["churn_rate"] = df.churners / df.customers
    df["lift"] = df.churn_rate / base
    cum_n, cum_c = df.customers.cumsum(), df.churners.cumsum()
    df["cumulative_lift"] = (cum_c / cum_n) / base
    df["capture"] = cum_c / y.sum() if y.sum() else np.nan
    df["churners"] = df.churners.astype(int)
    return df.reset_index()[["decile", "customers", "churners", "churn_rate", "mean_p_churn", "lift",
                             "cumulative_lift", "capture"]]


def calibration_table(y, p, n_bins: int = 10) -> pd.DataFrame:
    """Predicted vs observed by bin of predicted probability: ``bin``, ``customers``,
    ``mean_p_churn``, ``churn_rate``, ``ci_lower``, ``ci_upper`` (Wilson 95%), ``p_min``, ``p_max``."""
    y, p = _check(y, p)
    b = n_bins + 1 - _bins(p, min(n_bins, len(p)))  # 1 = lowest predictions
    df = pd.DataFrame({"bin": b, "y": y, "p": p}).groupby("bin").agg(
        customers=("y", "size"), churners=("y", "sum"), mean_p_churn=("p", "mean"), p_min=("p", "min"),
        p_max=("p", "max"))
    n, k, z = df.customers.to_numpy(float), df.churners.to_numpy(float), 1.959964
    rate = k / n
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    df["churn_rate"] = rate
    df["ci_lower"], df["ci_upper"] = centre - half, centre + half
    df = df.reset_index()
    df["bin"] = df["bin"].rank(method="dense").astype(int)
    return df[["bin", "customers", "mean_p_churn", "churn_rate", "ci_lower", "ci_upper", "p_min", "p_max"]]


def expected_calibration_error(y, p, n_bins: int = 10) -> float:
    """Customer-weighted mean |predicted − observed| over the calibration bins."""
    t = calibration_table(y, p, n_bins)
    return float(np.average((t.mean_p_churn - t.churn_rate).abs(), weights=t.customers))
