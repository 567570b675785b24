"""Uplift modelling of retention campaigns (beyond concepts.md F5): whom an offer changes.

A retention list ranked by value at risk contacts customers who would have stayed anyway
("sure things") and customers whom no offer saves ("lost causes"), and can annoy some into
leaving ("do not disturb"). From a campaign with a randomised control group — customers,
a treated flag and the outcome the campaign aims to raise (renewed, stayed, bought: 1/0, or
an amount) — :class:`UpliftModel` estimates each customer's **uplift**, the change in the
expected outcome that the treatment causes, ``τ(x) = E[Y | x, treated] − E[Y | x, control]``.

Learners (Künzel, Sekhon, Bickel & Yu 2019, "Metalearners for estimating heterogeneous
treatment effects", PNAS 116(10)), each over LightGBM:

* **T-learner**: one outcome model per arm, ``μ1`` on the treated and ``μ0`` on the controls;
  ``τ = μ1 − μ0``.
* **X-learner** (default): the same two models, then the imputed effects
  ``D1 = Y − μ0(x)`` of the treated and ``D0 = μ1(x) − Y`` of the controls, each regressed on
  the features (``τ1``, ``τ0``), combined as ``τ = g·τ0 + (1 − g)·τ1`` with ``g`` the share
  treated (the propensity of a randomised campaign; the model assumes randomisation — with
  targeted sends the estimate is biased, which the ATE below does not correct either).

Validation is out of sample: the customers are split into ``folds`` (stratified by arm and
outcome), and each fold is scored by learners fitted on the others. On these held-out scores:

* the **Qini curve** (Radcliffe 2007): customers ranked by predicted uplift, the incremental
  outcomes of targeting the top share ``φ``, ``Y_t(φ) − Y_c(φ)·N_t(φ)/N_c(φ)`` (as scikit-uplift
  computes it), per customer of the population;
* the **Qini coefficient**: the area between that curve and the random-targeting line (the
  straight line to the whole campaign's incremental outcome), also normalised by the perfect
  ranking's area (scikit-uplift's ``qini_auc_score``), and its p-value against random rankings
  (``permutations`` random orders of the same customers);
* **uplift deciles**: observed uplift (treated minus control mean, Welch interval) per decile of
  predicted uplift next to the mean prediction — the calibration against the data;
* the **average treatment effect** (difference in means, Welch standard error, normal
  interval) next to the mean predicted uplift.

Each customer falls into one of four groups (:data:`SEGMENTS`) by the predictions:
``persuadable`` (uplift ≥ ``threshold``), ``do_not_disturb`` (uplift ≤ −``threshold``), else
``sure_thing`` when the outcome is likely without the treatment (``μ0`` ≥ 0.5 for a 1/0
outcome, ≥ the control group's mean for an amount) and ``lost_cause`` otherwise.
``threshold`` defaults to 0.05 (five percentage points) for a 1/0 outcome and to 5% of the
outcome's standard deviation otherwise: individual predictions carry noise of that order at a
few thousand customers per arm (a customer with no planted effect is predicted within ±0.05 in
about three cases of four on the simulated campaigns of the tests), so a smaller cut would call
noise persuadable.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import CxValueError, one_of
from ..estimator import Estimator, summary_table
from .prediction import encode_features, feature_encoding

LEARNERS = ("t", "x")
SEGMENTS = ("persuadable", "sure_thing", "lost_cause", "do_not_disturb")


class UpliftModel(Estimator):
    """Per-customer treatment effect of a campaign (see the module docstring).

    Parameters: ``learner`` (``"x"`` or ``"t"``), ``folds`` (held-out validation), LightGBM's
    ``num_boost_round``, ``learning_rate``, ``num_leaves``, ``min_child_samples``,
    ``exclude`` (columns never used), ``permutations`` (random rankings for the Qini p-value),
    ``threshold`` (the uplift that makes a customer persuadable; None: the default above),
    ``n_jobs``, ``random_state``, ``confidence``.

    Learned: ``binary_`` (1/0 outcome), ``propensity_`` (share treated), ``threshold_``,
    ``oof_`` (held-out ``uplift``, ``p_treated``, ``p_control``, ``segment``, ``treated``,
    ``outcome``, ``fold`` per customer), ``ate_`` (dict), ``qini_`` (dict), ``qini_curve_``,
    ``deciles_``, ``summary_`` (ate, mean_predicted_uplift, qini_coefficient with intervals), and
    the learners fitted on every customer for :meth:`predict`.
    """

    def __init__(self, *, learner: str = "x", folds: int = 5, num_boost_round: int = 100, learning_rate: float = 0.05,
                 num_leaves: int = 7, min_child_samples: int = 100, exclude: tuple[str, ...] | list[str] = (),
                 permutations: int = 200, threshold: float | None = None, n_jobs: int = 1, random_state: int = 0,
                 confidence: float = 0.95):
        self.learner = learner
        self.folds = folds
        self.num_boost_round = num_boost_round
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.exclude = exclude
        self.permutations = permutations
        self.threshold = threshold
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.confidence = confidence

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, treated, y) -> UpliftModel:
        """Fit on features ``X`` (one row per customer of the campaign), ``treated`` (1/0 or
        booleans) and outcome ``y`` (1/0, booleans or numbers). Returns ``self``."""
        from threadpoolctl import threadpool_limits
        one_of("learner", self.learner, LEARNERS)
        level = self._confidence()
        t, y = _arms(treated, len(X)), _outcome(y, len(X))
        k = int(self.folds)
        if k < 2 or min(t.sum(), (1 - t).sum()) < 5 * k:
            raise CxValueError(f"folds={self.folds!r}: expected 2 or more folds and at least {5 * max(k, 2)} customers "
                               f"in each arm (treated {int(t.sum())}, control {int((1 - t).sum())})")
        self.binary_ = bool(np.isin(y, (0.0, 1.0)).all())
        self.propensity_ = float(t.mean())
        self.threshold_ = float(self.threshold if self.threshold is not None
                                else 0.05 if self.binary_ else 0.05 * float(np.std(y)))
        self.feature_names_in_, self.categories_ = feature_encoding(X, self.exclude)
        Z = encode_features(X, self.feature_names_in_, self.categories_)
        with threadpool_limits(1):
            mu0, mu1, tau, fold = (np.zeros(len(y)) for _ in range(4))
            for f, (tr, te) in enumerate(self._split(t, y, k)):
                models = self._learn(Z.iloc[tr], t[tr], y[tr], self.random_state + f)
                mu0[te], mu1[te], tau[te] = self._apply(models, Z.iloc[te])
                fold[te] = f + 1
            self.models_ = self._learn(Z, t, y, self.random_state)
        self.control_cut_ = 0.5 if self.binary_ else float(y[t == 0].mean())
        self.oof_ = pd.DataFrame({"uplift": tau, "p_treated": mu1, "p_control": mu0,
                                  "segment": self._segments(tau, mu0), "treated": t.astype(int), "outcome": y,
                                  "fold": fold.astype(int)}, index=X.index)
        self.ate_ = average_treatment_effect(t, y, confidence=level)
        self.qini_curve_ = qini_curve(tau, t, y)
        self.qini_ = qini_summary(tau, t, y, permutations=self.permutations, seed=self.random_state)
        self.deciles_ = uplift_deciles(tau, t, y, confidence=level)
        z = stats.norm.ppf(0.5 + level / 2)
        se_pred = float(np.std(tau, ddof=1) / np.sqrt(len(tau)))
        a = self.ate_
        self.summary_ = summary_table(
            [a["estimate"], float(tau.mean()), self.qini_["coefficient"]],
            [a["std_error"], se_pred, np.nan],
            [a["ci_low"], float(tau.mean()) - z * se_pred, np.nan],
            [a["ci_high"], float(tau.mean()) + z * se_pred, np.nan],
            p=[a["p"], np.nan, self.qini_["p_random"]],
            leading={"parameter": ["ate", "mean_predicted_uplift", "qini_coefficient"]})
        return self

    def predict(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per customer of ``X``: ``uplift``, ``p_treated``, ``p_control`` (expected outcome with
        and without the treatment) and ``segment``, from the learners fitted on every customer."""
        self._check_fitted("models_")
        Z = encode_features(X, self.feature_names_in_, self.categories_)
        mu0, mu1, tau = self._apply(self.models_, Z)
        return pd.DataFrame({"uplift": tau, "p_treated": mu1, "p_control": mu0,
                             "segment": self._segments(tau, mu0)}, index=X.index)

    def segments(self, uplift, p_control) -> np.ndarray:
        """:data:`SEGMENTS` label of each customer from its predicted uplift and outcome without treatment."""
        self._check_fitted("threshold_")
        return self._segments(np.asarray(uplift, float), np.asarray(p_control, float))

    # -- internals ---------------------------------------------------------------------------
    def _segments(self, tau: np.ndarray, mu0: np.ndarray) -> np.ndarray:
        thr = self.threshold_
        return np.select([tau >= thr, tau <= -thr, mu0 >= self.control_cut_],
                         ["persuadable", "do_not_disturb", "sure_thing"], "lost_cause")

    def _split(self, t: np.ndarray, y: np.ndarray, k: int):
        from sklearn.model_selection import StratifiedKFold
        strata = t * 2 + (y > np.median(y) if not self.binary_ else y).astype(int)
        return StratifiedKFold(k, shuffle=True, random_state=self.random_state).split(np.zeros(len(t)), strata)

    def _gbm(self, Z: pd.DataFrame, target: np.ndarray, binary: bool, seed: int):
        import lightgbm as lgb
        params = {"objective": "binary" if binary else "regression", "learning_rate": self.learning_rate,
                  "num_leaves": self.num_leaves, "min_child_samples": self.min_child_samples, "lambda_l2": 1.0,
                  "num_threads": self.n_jobs, "seed": seed, "deterministic": True, "force_col_wise": True,
                  "verbose": -1}
        return lgb.train(params, lgb.Dataset(Z, target), self.num_boost_round)

    def _learn(self, Z: pd.DataFrame, t: np.ndarray, y: np.ndarray, seed: int) -> dict:
        on, off = t == 1, t == 0
        models = {"mu1": self._gbm(Z[on], y[on], self.binary_, seed), "mu0": self._gbm(Z[off], y[off], self.binary_, seed)}
        if self.learner == "x":
            d1 = y[on] - models["mu0"].predict(Z[on])
            d0 = models["mu1"].predict(Z[off]) - y[off]
            models["tau1"] = self._gbm(Z[on], d1, False, seed)
            models["tau0"] = self._gbm(Z[off], d0, False, seed)
        return models

    def _apply(self, models: dict, Z: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mu0, mu1 = models["mu0"].predict(Z), models["mu1"].predict(Z)
        if self.learner == "t":
            return mu0, mu1, mu1 - mu0
        g = self.propensity_
        return mu0, mu1, g * models["tau0"].predict(Z) + (1 - g) * models["tau1"].predict(Z)


def _arms(treated, n: int) -> np.ndarray:
    t = pd.Series(np.asarray(treated)).map(lambda v: 1.0 if v in (1, True, "1", "true", "True") else
                                           0.0 if v in (0, False, "0", "false", "False") else np.nan)
    if len(t) != n:
        raise CxValueError(f"treated has {len(t)} values for {n} customers")
    if t.isna().any():
        raise CxValueError("treated: expected 1/0 or true/false for every customer")
    if t.min() == t.max():
        raise CxValueError("treated: the campaign needs a treated and a control group")
    return t.to_numpy(dtype=float)


def _outcome(y, n: int) -> np.ndarray:
    s = pd.Series(np.asarray(y))
    s = s.astype(float) if pd.api.types.is_bool_dtype(s) else pd.to_numeric(s, errors="coerce")
    if len(s) != n:
        raise CxValueError(f"the outcome has {len(s)} values for {n} customers")
    if s.isna().any() or not np.isfinite(s).all():
        raise CxValueError(f"outcome: expected a number (1/0 or an amount) for every customer; "
                           f"{int(s.isna().sum())} missing or not a number")
    if s.min() == s.max():
        raise CxValueError("outcome: every customer has the same outcome; there is no effect to measure")
    return s.to_numpy(dtype=float)


def average_treatment_effect(treated, y, *, confidence: float = 0.95) -> dict:
    """Difference in mean outcome, treated minus control, with the Welch standard error, a
    normal interval at ``confidence`` and the two-sided p-value; ``n_treated``, ``n_control``."""
    t, y = np.asarray(treated, float), np.asarray(y, float)
    a, b = y[t == 1], y[t == 0]
    est = a.mean() - b.mean()
    se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = float(2 * stats.norm.sf(abs(est) / se)) if se > 0 else float("nan")
    return {"estimate": float(est), "std_error": se, "ci_low": float(est - z * se), "ci_high": float(est + z * se),
            "p": p, "n_treated": int(len(a)), "n_control": int(len(b)), "mean_treated": float(a.mean()),
            "mean_control": float(b.mean())}


def _qini_values(order: np.ndarray, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Incremental outcomes of targeting the first 0, 1, … n customers of ``order``, per customer."""
    tt, yy = t[order], y[order]
    nt, nc = np.cumsum(tt), np.cumsum(1 - tt)
    yt, yc = np.cumsum(yy * tt), np.cumsum(yy * (1 - tt))
    inc = yt - np.divide(yc * nt, nc, out=np.zeros_like(yc), where=nc > 0)
    return np.concatenate([[0.0], inc]) / len(t)


def _area_over_random(q: np.ndarray) -> float:
    x = np.linspace(0, 1, len(q))
    return float(np.trapezoid(q - x * q[-1], x))


def qini_curve(uplift, treated, y, points: int = 101) -> pd.DataFrame:
    """The Qini curve of the ranking by ``uplift`` (highest first) at ``points`` shares of the
    customers: ``share_targeted``, ``incremental`` (outcomes gained per customer of the
    population by targeting that share), ``random`` (the same for random targeting) and
    ``perfect`` (the best possible ranking of these outcomes)."""
    t, y, u = np.asarray(treated, float), np.asarray(y, float), np.asarray(uplift, float)
    q = _qini_values(np.argsort(-u, kind="stable"), t, y)
    best = _qini_values(np.argsort(-(y * t - y * (1 - t)), kind="stable"), t, y)
    at = np.unique(np.round(np.linspace(0, len(t), points)).astype(int))
    share = at / len(t)
    return pd.DataFrame({"share_targeted": share, "incremental": q[at], "random": share * q[-1], "perfect": best[at]})


def qini_summary(uplift, treated, y, *, permutations: int = 200, seed: int = 0) -> dict:
    """The Qini coefficient (area between the curve and random targeting, per customer), the
    same normalised by the perfect ranking's area, and its p-value against ``permutations``
    random rankings of the same customers (with their 95th percentile)."""
    t, y, u = np.asarray(treated, float), np.asarray(y, float), np.asarray(uplift, float)
    coef = _area_over_random(_qini_values(np.argsort(-u, kind="stable"), t, y))
    best = _area_over_random(_qini_values(np.argsort(-(y * t - y * (1 - t)), kind="stable"), t, y))
    rng = np.random.default_rng(seed)
    null = np.array([_area_over_random(_qini_values(rng.permutation(len(t)), t, y)) for _ in range(int(permutations))])
    p = float((1 + (null >= coef).sum()) / (len(null) + 1)) if len(null) else float("nan")
    return {"coefficient": coef, "normalised": coef / best if best > 0 else float("nan"), "p_random": p,
            "random_p95": float(np.quantile(null, 0.95)) if len(null) else float("nan"), "permutations": int(len(null))}


def uplift_deciles(uplift, treated, y, *, groups: int = 10, confidence: float = 0.95) -> pd.DataFrame:
    """Customers in ``groups`` equal groups by predicted ``uplift`` (1 = highest): ``n``,
    ``n_treated``, ``n_control``, ``predicted`` (mean predicted uplift), ``observed`` (treated
    minus control mean outcome) with its Welch interval, ``mean_treated``, ``mean_control``."""
    u, t, y = np.asarray(uplift, float), np.asarray(treated, float), np.asarray(y, float)
    order = np.argsort(-u, kind="stable")
    rows = []
    for g, idx in enumerate(np.array_split(order, groups), 1):
        tt, yy = t[idx], y[idx]
        a, b = yy[tt == 1], yy[tt == 0]
        row = {"decile": g, "n": int(len(idx)), "n_treated": int(len(a)), "n_control": int(len(b)),
               "predicted": float(u[idx].mean())}
        if len(a) >= 2 and len(b) >= 2:
            e = average_treatment_effect(tt, yy, confidence=confidence)
            row.update(observed=e["estimate"], ci_low=e["ci_low"], ci_high=e["ci_high"], mean_treated=e["mean_treated"],
                       mean_control=e["mean_control"])
        else:
            row.update(observed=np.nan, ci_low=np.nan, ci_high=np.nan, mean_treated=np.nan, mean_control=np.nan)
        rows.append(row)
    return pd.DataFrame(rows)
