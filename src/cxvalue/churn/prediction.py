"""Churn prediction (concepts.md F4): gradient boosting with calibrated probabilities and
per-customer reasons from exact tree SHAP values.

:class:`ChurnModel` fits LightGBM on a compact feature frame (one row per customer, or
customer × cut-off). With ``cv=k`` it first cross-fits ``k`` models: their out-of-fold
scores give honest metrics (``cv_results_``) and fit the calibrator (Platt ``"sigmoid"``
or ``"isotonic"``) that maps the final model's score to a probability. Reasons are
LightGBM's exact TreeSHAP contributions (``predict(pred_contrib=True)``, in log-odds):
for each customer the features pushing the churn risk up most.

String and category columns become categorical features (categories fixed at fit),
booleans 0/1, dates are refused. Columns named in ``exclude`` are dropped (e.g. a
``TotalCharges`` that restates tenure).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import CxValueError, one_of
from ..estimator import Estimator, summary_table
from .evaluation import classification_metrics

CALIBRATIONS = ("sigmoid", "isotonic", "none")
#: the cross-validated metrics in ``ChurnModel.summary_``
SUMMARY_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss")

#: feature name pattern → reason family (first match wins); the playbook keys actions by family
REASON_FAMILIES = (
    (r"complain", "complaint"),
    (r"nps|satisf|respons|experience_|rating_", "experience"),
    (r"owner|salesperson|account_manager", "salesperson"),
    (r"subscri|contract|plan|renew", "contract"),
    (r"channel|payment|paperless", "channel"),
    (r"recen|frequen|purchase|gap|trend|_before|transactions|returns", "engagement"),
    (r"charge|price|amount|spend|margin|monetary|fee|revenue|incentive|discount", "price"),
    (r"tenure|signup", "tenure"),
    (r"service|product|security|support|backup|protection|streaming|internet|phone|lines", "product"),
)


def reason_family(feature: str) -> str:
    """The family of a feature name (``complaint``, ``experience``, ``engagement``, ``price``,
    ``contract``, ``channel``, ``tenure``, ``product``, ``salesperson``; ``other`` when none matches)."""
    f = str(feature).lower()
    for pattern, family in REASON_FAMILIES:
        if re.search(pattern, f):
            return family
    return "other"


def feature_encoding(X: pd.DataFrame, exclude=()) -> tuple[np.ndarray, dict[str, list[str]]]:
    """The feature columns of ``X`` (all but ``exclude``) and the categories of each text or
    category column (fixed at fit, so that later frames encode the same way); dates are refused."""
    if not isinstance(X, pd.DataFrame):
        raise CxValueError(f"X: expected a pandas DataFrame of features, got {type(X).__name__}")
    cols = [c for c in X.columns if c not in set(exclude)]
    dates = [c for c in cols if pd.api.types.is_datetime64_any_dtype(X[c])]
    if dates:
        raise CxValueError(f"feature {dates[0]!r} is a date: convert it to a number (e.g. days since) or exclude it")
    if not cols:
        raise CxValueError("no feature columns left to fit on")
    categories = {c: sorted(pd.Series(X[c].dropna().astype(str).unique()).tolist()) for c in cols
                  if not (pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]))}
    return np.array(cols, dtype=object), categories


def encode_features(X: pd.DataFrame, names, categories: dict) -> pd.DataFrame:
    """``X`` as LightGBM reads it: columns ``f0``, ``f1``… in the order of ``names``, text as
    categoricals of the fitted ``categories``, booleans 0/1, everything else float."""
    if not isinstance(X, pd.DataFrame):
        raise CxValueError(f"X: expected a pandas DataFrame of features, got {type(X).__name__}")
    missing = [c for c in names if c not in X.columns]
    if missing:
        raise CxValueError(f"feature {missing[0]!r} is missing: the model was fitted on {', '.join(map(str, names))}")
    out = {}
    for i, c in enumerate(names):
        s = X[c]
        if c in categories:
            out[f"f{i}"] = pd.Categorical(s.astype("string").to_numpy(dtype=object, na_value=None),
                                          categories=categories[c])
        elif pd.api.types.is_bool_dtype(s):
            out[f"f{i}"] = s.astype(float).to_numpy()
        else:
            out[f"f{i}"] = pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
    return pd.DataFrame(out, index=X.index)


class ChurnModel(Estimator):
    """LightGBM churn classifier with calibrated probabilities and SHAP reasons.

    Parameters are LightGBM's (``num_boost_round``, ``learning_rate``, ``num_leaves``,
    ``min_child_samples``, ``feature_fraction``, ``lambda_l2``), ``calibration``
    ("sigmoid", "isotonic" or "none"), ``cv`` (folds for the out-of-fold scores; None
    skips them and the calibration), ``early_stopping_rounds`` (an inner 10% split of each
    training set picks the number of rounds), ``exclude`` (columns never used),
    ``n_jobs`` (threads), ``random_state`` and ``confidence`` (level of the intervals).

    Learned: ``booster_``, ``feature_names_in_``, ``categories_``, ``calibrator_``,
    ``cv_results_`` (per fold), ``oof_`` (out-of-fold probabilities), ``importance_``,
    ``summary_`` (parameter = roc_auc, pr_auc, brier, log_loss: the mean over the ``cv``
    folds as estimate, std_error = fold SD / √folds, ci_low / ci_high a t interval; no
    rows when ``cv`` is None).
    """

    def __init__(self, *, num_boost_round: int = 100, learning_rate: float = 0.1, num_leaves: int = 7,
                 min_child_samples: int = 50, feature_fraction: float = 0.8, lambda_l2: float = 1.0,
                 calibration: str = "sigmoid", cv: int | None = 5, early_stopping_rounds: int | None = None,
                 exclude: tuple[str, ...] | list[str] = (), n_jobs: int = 1, random_state: int = 0,
                 confidence: float = 0.95):
        self.num_boost_round = num_boost_round
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.lambda_l2 = lambda_l2
        self.calibration = calibration
        self.cv = cv
        self.early_stopping_rounds = early_stopping_rounds
        self.exclude = exclude
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.confidence = confidence

    # -- data preparation ------------------------------------------------------------------
    def _params(self) -> dict:
        return {"objective": "binary", "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                "min_child_samples": self.min_child_samples, "feature_fraction": self.feature_fraction,
                "lambda_l2": self.lambda_l2, "num_threads": self.n_jobs, "seed": self.random_state,
                "deterministic": True, "force_col_wise": True, "verbose": -1}

    def _prepare(self, X: pd.DataFrame, fitting: bool) -> pd.DataFrame:
        if fitting:
            self.feature_names_in_, self.categories_ = feature_encoding(X, self.exclude)
        return encode_features(X, self.feature_names_in_, self.categories_)

    @staticmethod
    def _target(y, n: int) -> np.ndarray:
        from .data import parse_event
        y = parse_event(pd.Series(np.asarray(y)), "y") if not isinstance(y, np.ndarray) or y.dtype.kind not in "biuf" \
            else np.asarray(y)
        if len(y) != n:
            raise CxValueError(f"y has {len(y)} values for {n} rows of X")
        if not np.isin(y, (0, 1)).all():
            raise CxValueError("y: expected 0/1 (churned or not)")
        if y.min() == y.max():
            raise CxValueError("y: every customer has the same outcome; a churn model needs churners and stayers")
        return y.astype(int)

    def _train(self, Z: pd.DataFrame, y: np.ndarray, rng_seed: int):
        import lightgbm as lgb
        params = self._params()
        if self.early_stopping_rounds:
            from sklearn.model_selection import train_test_split
            tr, va = train_test_split(np.arange(len(y)), test_size=0.1, stratify=y, random_state=rng_seed)
            booster = lgb.train(params, lgb.Dataset(Z.iloc[tr], y[tr]), self.num_boost_round,
                                valid_sets=[lgb.Dataset(Z.iloc[va], y[va])],
                                callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)])
            return booster, booster.best_iteration or self.num_boost_round
        return lgb.train(params, lgb.Dataset(Z, y), self.num_boost_round), self.num_boost_round

    # -- fit / predict ---------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y, *, groups=None) -> ChurnModel:
        """Fit on features ``X`` (rows = customers) and outcome ``y`` (0/1, or Yes/No...).

        ``groups`` (e.g. customer ids when a customer appears at several cut-offs) keeps all
        rows of a group in the same cross-validation fold. Returns ``self``."""
        import lightgbm as lgb
        one_of("calibration", self.calibration, CALIBRATIONS)
        self._confidence()
        Z = self._prepare(X, fitting=True)
        y = self._target(y, len(Z))
        rounds = []
        if self.cv:
            k = int(self.cv)
            if k < 2 or np.bincount(y).min() < k:
                raise CxValueError(f"cv={self.cv!r}: expected 2 or more folds, each with churners and stayers")
            split = self._folds(y, groups, k)
            raw = np.zeros(len(y))
            folds = []
            for f, (tr, te) in enumerate(split):
                b, r = self._train(Z.iloc[tr], y[tr], self.random_state + f)
                rounds.append(r)
                raw[te] = b.predict(Z.iloc[te], raw_score=True, num_iteration=r)
                met = classification_metrics(y[te], 1 / (1 + np.exp(-raw[te])))
                folds.append({"fold": f + 1, **met})
            self.cv_results_ = pd.DataFrame(folds)
            self.calibrator_ = self._fit_calibrator(raw, y)
            self.oof_ = pd.DataFrame({"p_churn": self._calibrate(raw), "churned": y}, index=X.index)
        else:
            self.calibrator_ = None
        n_rounds = int(np.mean(rounds)) if (self.early_stopping_rounds and rounds) else None
        if n_rounds:
            self.booster_ = lgb.train(self._params(), lgb.Dataset(Z, y), n_rounds)
        else:
            self.booster_, _ = self._train(Z, y, self.random_state)
        self.n_rounds_ = self.booster_.current_iteration()
        sample = Z.sample(5_000, random_state=self.random_state) if len(Z) > 5_000 else Z
        contrib = self.booster_.predict(sample, pred_contrib=True)[:, :-1]
        self.importance_ = pd.DataFrame({
            "feature": self.feature_names_in_, "family": [reason_family(f) for f in self.feature_names_in_],
            "mean_abs_shap": np.abs(contrib).mean(axis=0), "mean_shap": contrib.mean(axis=0),
            "gain": self.booster_.feature_importance("gain")}).sort_values("mean_abs_shap", ascending=False,
                                                                          ignore_index=True)
        self.summary_ = self._cv_summary()
        return self

    def _cv_summary(self):
        """Mean of each metric over the folds with a t interval (empty without cross-validation)."""
        from scipy import stats
        if not self.cv:
            empty = np.array([], dtype=float)
            return summary_table(empty, empty, empty, empty, leading={"parameter": np.array([], dtype=object)})
        folds = self.cv_results_[list(SUMMARY_METRICS)]
        k = len(folds)
        est = folds.mean().to_numpy()
        se = folds.std(ddof=1).to_numpy() / np.sqrt(k)
        half = stats.t.ppf(1 - self._tail(), k - 1) * se
        return summary_table(est, se, est - half, est + half, leading={"parameter": list(SUMMARY_METRICS)},
                             extra={"folds": k})

    def _folds(self, y: np.ndarray, groups, k: int):
        """Stratified folds; with ``groups`` every group lands in one fold (groups shuffled, then
        dealt round-robin within churn / no-churn strata by their majority outcome)."""
        from sklearn.model_selection import StratifiedKFold
        if groups is None:
            return list(StratifiedKFold(k, shuffle=True, random_state=self.random_state).split(np.zeros(len(y)), y))
        codes, uniq = pd.factorize(pd.Series(np.asarray(groups)))
        g_y = np.bincount(codes, weights=y, minlength=len(uniq)) / np.bincount(codes, minlength=len(uniq))
        rng = np.random.default_rng(self.random_state)
        fold_of = np.empty(len(uniq), dtype=int)
        for stratum in (g_y >= 0.5, g_y < 0.5):
            idx = rng.permutation(np.flatnonzero(stratum))
            fold_of[idx] = np.arange(len(idx)) % k
        f = fold_of[codes]
        return [(np.flatnonzero(f != j), np.flatnonzero(f == j)) for j in range(k)]

    def _fit_calibrator(self, raw: np.ndarray, y: np.ndarray):
        if self.calibration == "none":
            return None
        if self.calibration == "sigmoid":
            from sklearn.linear_model import LogisticRegression
            return LogisticRegression(C=1e6).fit(raw.reshape(-1, 1), y)
        from sklearn.isotonic import IsotonicRegression
        return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        cal = self.calibrator_
        if cal is None:
            return 1 / (1 + np.exp(-raw))
        if self.calibration == "sigmoid":
            return cal.predict_proba(raw.reshape(-1, 1))[:, 1]
        return cal.predict(raw)

    def predict_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        """Calibrated churn probability per customer: DataFrame with column ``p_churn``."""
        self._check_fitted("booster_")
        Z = self._prepare(X, fitting=False)
        raw = self.booster_.predict(Z, raw_score=True)
        return pd.DataFrame({"p_churn": self._calibrate(raw)}, index=X.index)

    def predict_contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Exact TreeSHAP contributions (log-odds of the uncalibrated score) per customer and feature,
        plus ``bias``; each row sums to the raw score."""
        self._check_fitted("booster_")
        Z = self._prepare(X, fitting=False)
        c = self.booster_.predict(Z, pred_contrib=True)
        return pd.DataFrame(c, index=X.index, columns=list(self.feature_names_in_) + ["bias"])

    def explain(self, X: pd.DataFrame, top: int = 3) -> pd.DataFrame:
        """Top reasons per customer: ``reason_k`` (feature), ``reason_k_value``, ``reason_k_shap`` for
        k = 1..top (largest positive contributions), ``main_reason`` (family of reason 1) and
        ``top_reasons`` (text)."""
        contrib = self.predict_contributions(X).drop(columns="bias")
        vals = contrib.to_numpy()
        k = max(1, min(int(top), vals.shape[1]))
        order = np.argsort(-vals, axis=1, kind="stable")[:, :k]
        names = np.asarray(self.feature_names_in_)
        out = {}
        rows = np.arange(len(vals))
        parts = []
        for j in range(k):
            idx = order[:, j]
            shap = vals[rows, idx]
            pos = shap > 0
            fv = np.empty(len(vals), dtype=object)
            for c in np.unique(idx):
                m = idx == c
                col = X[names[c]]
                if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                    x = col.to_numpy(dtype=float, na_value=np.nan)[m]  # only the rows that need it
                    v = np.array([f"{f:.4g}" if f == f else None for f in x.tolist()], dtype=object)
                else:
                    v = np.array([None if x is None or (isinstance(x, float) and x != x) else str(x)
                                  for x in col.to_numpy()[m].tolist()], dtype=object)
                fv[m] = v
            feat = pd.Series(np.where(pos, names[idx], None), index=X.index, dtype=object)
            out[f"reason_{j + 1}"] = feat
            out[f"reason_{j + 1}_value"] = pd.Series(np.where(pos, fv, None), index=X.index, dtype=object)
            out[f"reason_{j + 1}_shap"] = np.where(pos, shap, np.nan)
            txt = feat + "=" + pd.Series(fv, index=X.index).astype(str) + " (+" + \
                pd.Series(np.round(shap, 2), index=X.index).astype(str) + ")"
            parts.append(txt.where(pos))
        df = pd.DataFrame(out, index=X.index)
        text = parts[0].fillna("")
        for part in parts[1:]:
            text = text + np.where((text != "") & part.notna(), "; ", "") + part.fillna("")
        families = {f: reason_family(f) for f in names}
        df["main_reason"] = df["reason_1"].map(families).fillna("other")
        df["top_reasons"] = text
        return df

    def summary(self) -> dict:
        """Cross-validated metrics (mean over folds) and model size."""
        self._check_fitted("booster_")
        out = {"features": int(len(self.feature_names_in_)), "rounds": int(self.n_rounds_)}
        if getattr(self, "cv_results_", None) is not None:
            m = self.cv_results_.drop(columns="fold").mean()
            out.update({f"cv_{k}": float(v) for k, v in m.items() if k != "n"})
            out.update({f"oof_{k}": v for k, v in classification_metrics(self.oof_.churned, self.oof_.p_churn).items()
                        if k in ("roc_auc", "pr_auc", "brier")})
        return out


def leaky_columns(df: pd.DataFrame, duration: str, *, threshold: float = 0.98) -> list[str]:
    """Numeric columns that restate ``duration`` (|corr| above ``threshold`` with the duration or with
    the duration × another numeric column, e.g. TotalCharges ≈ tenure × MonthlyCharges)."""
    num = [c for c in df.columns if c != duration and pd.api.types.is_numeric_dtype(df[c])
           and not pd.api.types.is_bool_dtype(df[c])]
    d = pd.to_numeric(df[duration], errors="coerce").astype(float)
    out = []
    with np.errstate(all="ignore"):              # a constant product has no correlation (NaN)
        for c in num:
            x = df[c].astype(float)
            if x.nunique() < 3:
                continue
            cands = [d] + [d * df[o].astype(float) for o in num if o != c and df[o].nunique() > 2]
            if any(abs(x.corr(v)) > threshold for v in cands):
                out.append(c)
    return out
