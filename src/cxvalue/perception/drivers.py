"""Key driver analysis of an outcome on follow-up ratings (concepts D3).

"A single NPS does not tell you what to improve": the follow-up ratings (seat comfort,
check-in, ...) are correlated with each other, so regression coefficients do not say
how much each one matters. Two R² decompositions do:

* **Relative weights** (Johnson 2000): replace the drivers X by their closest
  orthogonal counterparts Z (R_xx = QΛQ', Λ_* = QΛ^½Q' is the matrix of correlations
  between X and Z), regress y on Z (β = Λ_*⁻¹ r_xy) and share each β_k² back to the
  drivers by their squared correlations with Z_k: ε_j = Σ_k Λ_*,jk² β_k².
* **Shapley value regression** (LMG; Lindeman, Merenda & Gold 1980; Grömping 2006):
  the average increase of R² when driver j joins a subset of the others, averaged over
  all orders. Exact from the 2^p subset regressions (each R²(S) = r_S' R_SS⁻¹ r_S from
  the correlation matrix) up to ``max_exact`` = 15 drivers; above, an average over
  ``n_permutations`` random orders, each order computed in one Cholesky factorisation
  (the R² gain of the k-th driver of an order is z_k², z = L⁻¹ r in that order).

Both sum exactly to the model R² (ordinary least squares of the outcome on all drivers,
with intercept) and are reported as ``importance`` (R² units) and ``share`` (of R²).
A binary outcome (satisfied = 1) is analysed as a linear probability model.

Missing data: ``na_values`` (e.g. ``0`` where 0 means "not applicable") are set
missing in the driver columns first. ``missing="listwise"`` (default) uses the answers
complete on the outcome and every driver, so R² is that of an OLS fit on those rows;
``"pairwise"`` builds each correlation from the rows complete on that pair (uses more
data; R² then has no single-sample OLS counterpart and the matrix must be positive
definite). Performance (mean rating) always uses every valid answer of the driver.

Bootstrap percentile intervals (``n_boot`` > 0, seeded by ``random_state``) resample
respondents and recompute the correlations and both decompositions.

Significance (``significant``, ``p_vs_random``; needs ``n_boot``): the random-variable test of
Tonidandel, LeBreton & Johnson (2009). Each bootstrap sample gains a variable of pure noise
(independent normal draws) as an extra driver and is decomposed again; a driver is significant
when the percentile interval of (its importance − the noise variable's) lies above 0 — an
importance share can never be below 0, so its own interval cannot "cover zero"; the noise
variable is the zero it is compared with. ``p_vs_random`` is the share of samples where the
driver does not beat the noise.

Importance–performance quadrants (Martilla & James 1977): importance = share of R²,
performance = mean rating, split at the mean over drivers (or given cuts).
"""
from __future__ import annotations

from math import factorial

import numpy as np
import pandas as pd

from ..errors import CxValueError, one_of
from ..estimator import Estimator, summary_table

__all__ = [
    "METHODS", "QUADRANTS", "QUADRANT_LABELS",
    "KeyDriverAnalysis", "relative_weights", "shapley_values", "r_squared", "pairwise_corr",
    "importance_performance", "detect_drivers",
]

METHODS = ("relative_weights", "shapley")
MISSING = ("listwise", "pairwise")
QUADRANTS = ("keep_up", "concentrate_here", "low_priority", "possible_overkill")


def _quadrant_labels() -> dict[str, dict[str, str]]:
    from ..i18n import LANGS, t
    return {q: {lang: t(f"quadrant_{q}", lang) for lang in LANGS} for q in QUADRANTS}


#: Labels of the importance-performance quadrants (Martilla & James 1977), en and zh, from the
#: message catalogue (keys ``quadrant_<name>`` in locale/messages.yaml).
QUADRANT_LABELS = _quadrant_labels()


# --------------------------------------------------------------------------- numerics
def _check_pd(R: np.ndarray, names=None) -> None:
    ev = np.linalg.eigvalsh(R)
    if not np.all(np.isfinite(ev)) or ev.min() <= 1e-10 * max(1.0, ev.max()):
        hint = ""
        if names is not None:
            hint = f" among {', '.join(map(str, names))}"
        raise CxValueError(
            "the drivers' correlation matrix is singular or not positive definite"
            f"{hint} (smallest eigenvalue {ev.min():.3g}): drop a redundant or constant driver, "
            "or use missing='listwise' instead of 'pairwise'")


def r_squared(R: np.ndarray, r: np.ndarray) -> float:
    """R² of the outcome on all drivers from the driver correlations R and r = cor(X, y)."""
    return float(r @ np.linalg.solve(R, r))


def relative_weights(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights: ε_j, summing to R²."""
    evals, evecs = np.linalg.eigh(R)
    lam = (evecs * np.sqrt(np.clip(evals, 0.0, None))) @ evecs.T      # R^½ = corr(X, Z)
    beta = (evecs / np.sqrt(evals)) @ (evecs.T @ r)                    # Λ_*⁻¹ r_xy
    return (lam ** 2) @ (beta ** 2)


def _subset_r2(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """R² of every subset of drivers, indexed by bit mask (bit j = driver j)."""
    p = len(r)
    masks = np.arange(1 << p)
    bits = ((masks[:, None] >> np.arange(p)) & 1).astype(bool)
    size = bits.sum(1)
    out = np.zeros(1 << p)
    for k in range(1, p + 1):
        ms = masks[size == k]
        idx = np.nonzero(bits[ms])[1].reshape(len(ms), k)
        rs = r[idx]
        # batched Cholesky solves: R²(S) = ||L_S⁻¹ r_S||²
        L = np.linalg.cholesky(R[idx[:, :, None], idx[:, None, :]])
        z = np.linalg.solve(L, rs[..., None])[..., 0]
        out[ms] = np.einsum("mk,mk->m", z, z)
    return out


def _shapley_exact(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    p = len(r)
    r2 = _subset_r2(R, r)
    masks = np.arange(1 << p)
    size = np.zeros(1 << p, dtype=int)
    for j in range(p):
        size += (masks >> j) & 1
    wt = np.array([factorial(k) * factorial(p - k - 1) / factorial(p) for k in range(p)])
    phi = np.empty(p)
    for j in range(p):
        ms = masks[((masks >> j) & 1) == 0]
        phi[j] = np.sum(wt[size[ms]] * (r2[ms | (1 << j)] - r2[ms]))
    return phi


def _shapley_sampled(R: np.ndarray, r: np.ndarray, n_permutations: int, rng) -> np.ndarray:
    p = len(r)
    phi = np.zeros(p)
    done, chunk = 0, max(1, min(n_permutations, 200_000 // max(p * p, 1)))
    while done < n_permutations:
        b = min(chunk, n_permutations - done)
        perms = np.argsort(rng.random((b, p)), axis=1)
        L = np.linalg.cholesky(R[perms[:, :, None], perms[:, None, :]])
        z = np.linalg.solve(L, r[perms][..., None])[..., 0]
        np.add.at(phi, perms, z * z)
        done += b
    return phi / n_permutations


def shapley_values(R: np.ndarray, r: np.ndarray, *, max_exact: int = 15, n_permutations: int = 2000,
                   random_state=None) -> np.ndarray:
    """Shapley (LMG) decomposition of R²: exact up to ``max_exact`` drivers, else sampled orders.

    The sampled version still sums exactly to R² (every order's gains add up to R²).
    """
    R, r = np.asarray(R, float), np.asarray(r, float)
    if len(r) <= max_exact:
        return _shapley_exact(R, r)
    return _shapley_sampled(R, r, n_permutations, np.random.default_rng(random_state))


def pairwise_corr(X: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Pearson correlations of the columns of X (NaN = missing), each pair on the rows
    where both are present (pairwise deletion), with optional row frequency weights."""
    V = ~np.isnan(X)
    if V.all():
        # complete data (the listwise case): one centred cross-product instead of four
        if weights is None:
            Xc = X - X.mean(axis=0)
            C = Xc.T @ Xc
        else:
            w = np.asarray(weights, float)
            Xc = X - (w @ X) / w.sum()
            C = (Xc * w[:, None]).T @ Xc
        d = np.sqrt(np.diag(C))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = C / np.outer(d, d)
        np.fill_diagonal(corr, 1.0)
        return corr
    Xz = np.where(V, X, 0.0)
    Vf = V.astype(float)
    w = np.ones(len(X)) if weights is None else np.asarray(weights, float)
    Xw = Xz * w[:, None]
    N = (Vf * w[:, None]).T @ Vf                 # n_ij
    A = Xw.T @ Vf                                # Σ x_i over rows with j present
    B = (Xw * Xz).T @ Vf                         # Σ x_i² over rows with j present
    C = Xw.T @ Xz                                # Σ x_i x_j
    with np.errstate(invalid="ignore", divide="ignore"):
        mi = A / N
        cov = C / N - mi * mi.T
        vi = B / N - mi ** 2
        corr = cov / np.sqrt(vi * vi.T)
    np.fill_diagonal(corr, 1.0)
    return corr


def _decompose(corr: np.ndarray, methods, max_exact, n_permutations, rng) -> dict[str, np.ndarray]:
    R, r = corr[1:, 1:], corr[1:, 0]
    out = {}
    if "relative_weights" in methods:
        out["relative_weights"] = relative_weights(R, r)
    if "shapley" in methods:
        if len(r) <= max_exact:
            out["shapley"] = _shapley_exact(R, r)
        else:
            out["shapley"] = _shapley_sampled(R, r, n_permutations, rng)
    return out


# --------------------------------------------------------------------------- estimator
class KeyDriverAnalysis(Estimator):
    """Relative weights and Shapley value regression of an outcome on driver ratings.

    Parameters
    ----------
    methods : which decompositions to compute, among ``"relative_weights"``, ``"shapley"``.
    missing : ``"listwise"`` (default) or ``"pairwise"`` deletion (see the module doc).
    na_values : value or list of values meaning "not applicable" in the driver columns
        (e.g. ``0`` for the Invistico ratings); they are treated as missing.
    n_boot : bootstrap replicates for percentile intervals (0 = no intervals).
    confidence : level of the intervals.
    random_state : seed of ``numpy.random.default_rng`` (bootstrap and sampled Shapley).
    max_exact : exact Shapley up to this many drivers (2^p subset regressions).
    n_permutations : random orders for the sampled Shapley values above ``max_exact``.

    After ``fit``: ``importance_`` (one row per method and driver: ``method``,
    ``driver``, ``importance`` (R² units), ``share`` (of R²), ``ci_low``/``ci_high``
    (of importance), ``share_ci_low``/``share_ci_high``, ``rank`` (1 = most
    important), ``performance`` (mean rating), ``n`` (valid ratings)), ``summary_``
    (column ``parameter`` = r_squared, n_used, n_drivers, n_boot, n_rows (answers given),
    n_not_applicable (driver answers set missing by ``na_values``), then estimate, std_error,
    ci_low, ci_high; the interval of R² needs ``n_boot`` > 0), ``r2_``, ``n_``, ``corr_`` (outcome first), ``drivers_``.
    """

    def __init__(self, *, methods=METHODS, missing: str = "listwise", na_values=None, n_boot: int = 0,
                 confidence: float = 0.95, random_state=None, max_exact: int = 15,
                 n_permutations: int = 2000):
        self.methods = methods
        self.missing = missing
        self.na_values = na_values
        self.n_boot = n_boot
        self.confidence = confidence
        self.random_state = random_state
        self.max_exact = max_exact
        self.n_permutations = n_permutations

    # -- input handling
    def _prepare(self, data, outcome, drivers, positive):
        if not isinstance(data, pd.DataFrame):
            raise CxValueError(f"expected a pandas DataFrame of survey answers, got {type(data).__name__}")
        if outcome not in data.columns:
            raise CxValueError(f"outcome={outcome!r} is not a column of the data; "
                               f"available: {', '.join(map(str, data.columns))}")
        if drivers is None:
            drivers = [c for c in data.columns if str(c).startswith("rating_")]
            if not drivers:
                raise CxValueError("no drivers given and no 'rating_*' columns in the data: "
                                   "pass drivers=[...] with the follow-up rating columns")
        drivers = list(drivers)
        missing_cols = [c for c in drivers if c not in data.columns]
        if missing_cols:
            raise CxValueError(f"drivers {missing_cols} are not columns of the data")
        if outcome in drivers:
            raise CxValueError(f"outcome {outcome!r} is also listed among the drivers")
        if len(drivers) < 2:
            raise CxValueError(f"key driver analysis needs at least 2 drivers, got {len(drivers)}")
        if len(set(drivers)) != len(drivers):
            raise CxValueError("drivers contains duplicate column names")

        yraw = data[outcome]
        if positive is not None:
            y = np.where(yraw.isna(), np.nan, (yraw == positive).astype(float))
            if not (yraw == positive).any():
                raise CxValueError(f"positive={positive!r} does not occur in column {outcome!r}; "
                                   f"values: {list(pd.unique(yraw.dropna()))[:10]}")
        elif pd.api.types.is_bool_dtype(yraw) or pd.api.types.is_numeric_dtype(yraw):
            y = pd.to_numeric(yraw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        else:
            levels = list(pd.unique(yraw.dropna()))
            raise CxValueError(f"outcome column {outcome!r} is not numeric (values {levels[:10]}): "
                               f"pass positive=<the value that counts as 1>, e.g. positive={levels[0]!r}")
        M = np.empty((len(data), len(drivers) + 1))      # outcome first, then the drivers
        M[:, 0] = y
        X = M[:, 1:]
        na = self.na_values
        na = [] if na is None else (list(na) if isinstance(na, (list, tuple, set)) else [na])
        for j, c in enumerate(drivers):
            col = data[c]
            if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
                raise CxValueError(f"driver column {c!r}: expected numeric ratings, got dtype {col.dtype}")
            x = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if na:
                hit = np.isin(x, na)
                self._na_cells += int(hit.sum())
                x[hit] = np.nan
            X[:, j] = x
        return M, drivers

    def fit(self, data: pd.DataFrame, *, outcome: str, drivers=None, positive=None) -> KeyDriverAnalysis:
        """Fit on a frame of answers: ``outcome`` column (numeric, or any values with
        ``positive`` = the value counted as 1) and the ``drivers`` rating columns
        (default: every ``rating_*`` column)."""
        methods = [self.methods] if isinstance(self.methods, str) else list(self.methods)
        if not methods:
            raise CxValueError(f"methods is empty: expected some of {', '.join(map(repr, METHODS))}")
        for m in methods:
            one_of("methods", m, METHODS)
        one_of("missing", self.missing, MISSING)
        a = self._tail()
        if int(self.n_boot) < 0:
            raise CxValueError(f"n_boot={self.n_boot!r} is not valid: expected 0 or more replicates")
        self._na_cells = 0
        M, drivers = self._prepare(data, outcome, drivers, positive)
        n_rows = len(M)
        X = M[:, 1:]
        keep = ~np.isnan(M).any(axis=1) if self.missing == "listwise" else ~np.isnan(M[:, 0])
        if not keep.all():
            M = M[keep]
        n_used = len(M)
        if n_used < len(drivers) + 2:
            raise CxValueError(f"only {n_used} usable answers for {len(drivers)} drivers: need at least "
                               f"{len(drivers) + 2} rows complete on {outcome!r} and the drivers")
        names = [outcome] + drivers
        cnt = (~np.isnan(M)).sum(axis=0)
        lo, hi = np.fmin.reduce(M, axis=0), np.fmax.reduce(M, axis=0)   # NaN only where a column is all missing
        const = [names[i] for i in range(M.shape[1]) if cnt[i] < 2 or not lo[i] < hi[i]]
        if const:
            raise CxValueError(f"column(s) {const} have no variation in the {n_used} rows used: "
                               "drop them (a constant outcome or driver explains nothing)")
        corr = pairwise_corr(M)
        if not np.all(np.isfinite(corr)):
            i, j = np.argwhere(~np.isfinite(corr))[0]
            raise CxValueError(f"columns {names[i]!r} and {names[j]!r} have too few answers in common to "
                               "correlate them: use missing='listwise' or drop one of them")
        _check_pd(corr[1:, 1:], drivers)
        rng = np.random.default_rng(self.random_state)
        est = _decompose(corr, methods, self.max_exact, self.n_permutations, rng)
        r2 = r_squared(corr[1:, 1:], corr[1:, 0])

        # bootstrap: resample respondents (frequency weights) and recompute everything
        boots = {m: [] for m in methods}
        beats = {m: [] for m in methods}      # importance − that of a noise variable, per sample
        r2_boot = []
        if int(self.n_boot) > 0:
            n = len(M)
            for _ in range(int(self.n_boot)):
                w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
                keep = w > 0
                cb = pairwise_corr(M[keep], w[keep])
                if not np.all(np.isfinite(cb)):
                    continue
                noise = rng.standard_normal(int(keep.sum()))
                Ma = np.column_stack([M[keep], noise])
                ca = pairwise_corr(Ma, w[keep])
                try:
                    eb = _decompose(cb, methods, self.max_exact, self.n_permutations, rng)
                    ea = _decompose(ca, methods, self.max_exact, self.n_permutations, rng)
                    r2b = r_squared(cb[1:, 1:], cb[1:, 0])
                except np.linalg.LinAlgError:
                    continue
                for m in methods:
                    boots[m].append(eb[m])
                    beats[m].append(ea[m][:-1] - ea[m][-1])
                r2_boot.append(r2b)

        n_valid = (~np.isnan(X)).sum(axis=0)
        perf = np.where(n_valid > 0, np.nansum(X, axis=0) / np.maximum(n_valid, 1), np.nan)
        rows = []
        for m in methods:
            imp = est[m]
            share = imp / r2
            rank = pd.Series(-imp).rank(method="min").astype("int64").to_numpy()
            if boots[m]:
                B = np.asarray(boots[m])
                Bs = B / np.asarray(r2_boot)[:, None]
                lo, hi = np.quantile(B, [a, 1 - a], axis=0)
                slo, shi = np.quantile(Bs, [a, 1 - a], axis=0)
                D = np.asarray(beats[m])
                sig = np.quantile(D, a, axis=0) > 0
                p_rand = np.mean(D <= 0, axis=0)
            else:
                lo = hi = slo = shi = p_rand = np.full(len(drivers), np.nan)
                sig = np.full(len(drivers), None, dtype=object)
            rows.append(pd.DataFrame({
                "method": m, "driver": drivers, "importance": imp, "share": share,
                "ci_low": lo, "ci_high": hi, "share_ci_low": slo, "share_ci_high": shi,
                "significant": pd.array(list(sig), dtype="boolean"), "p_vs_random": p_rand,
                "rank": rank, "performance": perf, "n": n_valid.astype("int64"),
            }))
        self.importance_ = pd.concat(rows, ignore_index=True)
        if r2_boot:
            r2lo, r2hi = np.quantile(r2_boot, [a, 1 - a])
            r2se = float(np.std(r2_boot, ddof=1)) if len(r2_boot) > 1 else np.nan
        else:
            r2lo = r2hi = r2se = np.nan
        nan4 = [np.nan] * 5
        self.summary_ = summary_table([r2, n_used, len(drivers), len(r2_boot), n_rows, self._na_cells],
                                      [r2se, *nan4], [r2lo, *nan4], [r2hi, *nan4],
                                      leading={"parameter": ["r_squared", "n_used", "n_drivers", "n_boot", "n_rows",
                                                             "n_not_applicable"]})
        self.summary_.attrs["na_values"] = list(self.na_values) if isinstance(self.na_values, (list, tuple, set)) \
            else ([] if self.na_values is None else [self.na_values])
        self.r2_ = r2
        self.n_ = n_used
        self.outcome_ = outcome
        self.drivers_ = drivers
        self.methods_ = methods
        self.corr_ = pd.DataFrame(corr, index=names, columns=names)
        return self

    def table(self, method: str = "relative_weights") -> pd.DataFrame:
        """The rows of ``importance_`` for one method, most important first."""
        self._check_fitted("importance_")
        one_of("method", method, self.methods_)
        t = self.importance_[self.importance_["method"] == method]
        return t.sort_values(["rank", "driver"]).reset_index(drop=True)

    def quadrants(self, method: str = "relative_weights", *, importance_cut="mean",
                  performance_cut="mean", lang: str = "en") -> pd.DataFrame:
        """Importance–performance quadrants of the drivers (see :func:`importance_performance`)."""
        return importance_performance(self.table(method), importance_cut=importance_cut,
                                      performance_cut=performance_cut, lang=lang)


def _cut(values: pd.Series, cut, name: str) -> float:
    if isinstance(cut, str):
        one_of(name, cut, ("mean", "median"))
        return float(values.mean() if cut == "mean" else values.median())
    try:
        return float(cut)
    except (TypeError, ValueError):
        raise CxValueError(f"{name}={cut!r} is not valid: expected 'mean', 'median' or a number") from None


def importance_performance(table: pd.DataFrame, *, importance_cut="mean", performance_cut="mean",
                           lang: str = "en") -> pd.DataFrame:
    """Importance–performance analysis (Martilla & James 1977).

    ``table`` has one row per driver with ``driver``, ``share`` (importance) and
    ``performance`` (mean rating), e.g. :meth:`KeyDriverAnalysis.table`. A driver is
    high on an axis when at or above the cut (``"mean"`` or ``"median"`` over drivers,
    or a number). Quadrants: high importance & high performance = ``keep_up``; high
    importance & low performance = ``concentrate_here`` (the weak points to fix first);
    low & low = ``low_priority``; low importance & high performance = ``possible_overkill``.
    ``quadrant_label`` is in ``lang`` ("en" or "zh", from :data:`QUADRANT_LABELS`).
    """
    one_of("lang", lang, ("en", "zh"))
    missing = [c for c in ("driver", "share", "performance") if c not in table.columns]
    if missing:
        raise CxValueError(f"importance_performance: table lacks column(s) {missing}; "
                           "pass KeyDriverAnalysis.table(method) or a frame with driver, share, performance")
    t = table[["driver", "share", "performance"]].copy().reset_index(drop=True)
    ic = _cut(t["share"], importance_cut, "importance_cut")
    pc = _cut(t["performance"], performance_cut, "performance_cut")
    hi_i = t["share"].to_numpy() >= ic
    hi_p = t["performance"].to_numpy() >= pc
    quad = np.select([hi_i & hi_p, hi_i & ~hi_p, ~hi_i & ~hi_p], list(QUADRANTS[:3]), QUADRANTS[3])
    t["importance_high"] = hi_i
    t["performance_high"] = hi_p
    t["quadrant"] = quad
    t["quadrant_label"] = [QUADRANT_LABELS[q][lang] for q in quad]
    t.attrs.update(importance_cut=ic, performance_cut=pc)
    return t


def detect_drivers(data: pd.DataFrame, outcome: str, *, exclude=()) -> list[str]:
    """The driver rating columns of a survey frame: ``rating_*`` columns, else the
    ``experience_*`` columns of the responses contract, else every numeric column other
    than ``outcome`` whose values are whole numbers on a rating scale (0-10) with at least
    three distinct values — e.g. the 14 service ratings of an airline satisfaction export
    (age, distance and delay columns fall outside the scale)."""
    cols = [c for c in data.columns if c != outcome and c not in exclude]
    for prefix in ("rating_", "experience_"):
        found = [c for c in cols if str(c).startswith(prefix)]
        if len(found) >= 2:
            return found
    out = []
    for c in cols:
        s = data[c]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            continue
        x = s.dropna().to_numpy(dtype=float)
        if len(x) == 0 or x.min() < 0 or x.max() > 10 or np.any(x != np.round(x)):
            continue
        if len(np.unique(x[: 100_000])) >= 3:
            out.append(c)
    if len(out) < 2:
        raise CxValueError(f"cannot tell which columns are the driver ratings (found {out}): pass them with "
                           "--drivers / drivers=[...]")
    return out
