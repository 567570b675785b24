"""PLS path modelling for customer satisfaction index models (ACSI / ECSI, concepts D5).

A reimplementation of Lohmöller's PLS-PM algorithm as in R ``plspm`` (Sanchez, Trinchera
& Russolillo), validated against R's outputs on the ECSI bank data to 1e-4 (see
tests/perception/test_plspm.py and docs/perception.md).

Algorithm (R ``plspm`` 0.4.x, metric data):

1. Indicators are centred; with ``scaled=True`` also divided by their standard deviation
   computed with divisor **n** (R: ``sqrt((n-1)/n) * sd``). The divisor only rescales
   every indicator by the same factor, so loadings, paths and scores do not depend on it;
   only the reported outer weights (in standardised units) do.
2. Outer weights start at 1, normalised so each latent variable (LV) has variance 1
   (divisor n). Repeat: outer estimates Y = XW (standardised); inner weights E by the
   scheme (``centroid``: sign of the correlations of adjacent LVs; ``factorial``: the
   correlations; ``path``: for an LV's predecessors the coefficients of its regression
   on them, for its successors the correlations); inner estimates Z = YE; new weights
   — mode A (reflective): w_j = X_j'z_j / n; mode B (formative): least squares of z_j
   on X_j. Stop when Σ(|w_old| − |w_new|)² < ``tol`` (1e-6) or after ``max_iter``.
3. Final weights normalised to unit LV variance; scores = XW, each LV's sign chosen so
   that most of its indicators correlate positively with it (R ``get_scores``; the
   weights are flipped with it here). Scores therefore have mean 0 and variance 1
   (divisor n) whether or not the data were scaled.
4. Paths: OLS (with intercept) of each endogenous LV on its predecessors; R², standard
   errors, t and p as R's ``lm``. Loadings and crossloadings = correlations of
   indicators and LVs; communality = loading²; redundancy = communality × R²;
   AVE (mode A) = Σ loading² / (Σ loading² + Σ (1 − loading²)); GoF =
   sqrt(mean communality of multi-item blocks × mean R²). Unidimensionality on the raw
   indicators: standardised Cronbach alpha (floored at 0, as R), Dillon-Goldstein rho
   from the first principal component, first two eigenvalues of the correlation matrix.
5. Effects: direct = path coefficients P; total = Σ_k P^k; indirect = total − direct.
6. Bootstrap (``n_boot`` > 0, seeded): resample respondents, refit, report mean,
   standard error and percentile interval of weights, loadings, paths, R² and total
   effects (R reports perc.025 / perc.975 the same way; resamples differ).

0-100 index (ACSI style, Fornell et al. 1996): the raw-metric ("unstandardised") outer
weights u_i = w_i / s_i (s_i = the scaling SD, 1 if unscaled) are normalised to sum to 1
in each block; an LV's index is 100 × (Σ ũ_i x_i − Σ ũ_i min_i) / Σ ũ_i (max_i − min_i),
with [min_i, max_i] the answer scale (e.g. 1-10). It needs positive weights (R
``rescale`` has the same rule). See :meth:`PLSPM.indices` and :meth:`PLSPM.index_scores`.
"""
from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import CxValueError, CxValueWarning, ConvergenceWarning, one_of
from ..estimator import Estimator, summary_table

__all__ = ["SCHEMES", "MODES", "PLSPM", "ECSI_MODEL", "ACSI_MODEL", "CONTRACT_MODEL", "TEMPLATES", "model_template"]

SCHEMES = ("centroid", "factorial", "path")
MODES = ("A", "B")
MISSING = ("raise", "listwise")
HOC_METHODS = ("two_stage", "repeated")

#: ECSI model as in R plspm's ``satisfaction`` data (Tenenhaus et al. 2005): blocks name the
#: columns of that data set; replace them with your own columns.
ECSI_MODEL = {
    "blocks": {
        "IMAG": ["imag1", "imag2", "imag3", "imag4", "imag5"],
        "EXPE": ["expe1", "expe2", "expe3", "expe4", "expe5"],
        "QUAL": ["qual1", "qual2", "qual3", "qual4", "qual5"],
        "VAL": ["val1", "val2", "val3", "val4"],
        "SAT": ["sat1", "sat2", "sat3", "sat4"],
        "LOY": ["loy1", "loy2", "loy3", "loy4"],
    },
    "paths": {
        "EXPE": ["IMAG"],
        "QUAL": ["EXPE"],
        "VAL": ["EXPE", "QUAL"],
        "SAT": ["IMAG", "EXPE", "QUAL", "VAL"],
        "LOY": ["IMAG", "SAT"],
    },
    "modes": "A",
    "labels": None,  # filled from the message catalogue below (keys csi_lv_<LV>)
}

#: ACSI model (Fornell, Johnson, Anderson, Cha & Bryant 1996). Item names are placeholders
#: for the usual questions: expectations (overall, customisation, reliability), perceived
#: quality (same three), value (price given quality, quality given price), satisfaction
#: (overall, confirmation of expectations, comparison with ideal), complaints (complained
#: or not), loyalty (repurchase likelihood, price tolerance).
ACSI_MODEL = {
    "blocks": {
        "EXPE": ["expe_overall", "expe_customization", "expe_reliability"],
        "QUAL": ["qual_overall", "qual_customization", "qual_reliability"],
        "VAL": ["val_price_given_quality", "val_quality_given_price"],
        "SAT": ["sat_overall", "sat_confirmation", "sat_ideal"],
        "COMP": ["comp_complained"],
        "LOY": ["loy_repurchase", "loy_price_tolerance"],
    },
    "paths": {
        "QUAL": ["EXPE"],
        "VAL": ["EXPE", "QUAL"],
        "SAT": ["EXPE", "QUAL", "VAL"],
        "COMP": ["SAT"],
        "LOY": ["SAT", "COMP"],
    },
    "modes": "A",
    "labels": None,  # filled from the message catalogue below (keys csi_lv_<LV>)
}

#: Satisfaction index model of the responses data contract (cxvalue's own): perceived quality
#: measured by the ``experience_<dim>`` ratings drives overall satisfaction, and both drive
#: loyalty measured by the likelihood to recommend (``nps``). Used by the pipeline and
#: ``cxvalue csi`` when a survey has no ECSI/ACSI items.
CONTRACT_MODEL = {
    "blocks": {
        "QUAL": ["experience_product", "experience_price", "experience_service", "experience_convenience",
                 "experience_brand_image", "experience_relationship"],
        "SAT": ["satisfaction"],
        "LOY": ["nps"],
    },
    "paths": {"SAT": ["QUAL"], "LOY": ["QUAL", "SAT"]},
    "modes": "A",
    "labels": None,
}


def _labels(lvs, overrides=None) -> dict:
    from ..i18n import LANGS, t
    overrides = overrides or {}
    return {lv: {lang: t(overrides.get(lv, f"csi_lv_{lv}"), lang) for lang in LANGS} for lv in lvs}


ECSI_MODEL["labels"] = _labels(ECSI_MODEL["blocks"])
ACSI_MODEL["labels"] = _labels(ACSI_MODEL["blocks"], {"SAT": "csi_lv_SAT_acsi"})
CONTRACT_MODEL["labels"] = _labels(CONTRACT_MODEL["blocks"])

TEMPLATES = {"ecsi": ECSI_MODEL, "acsi": ACSI_MODEL, "contract": CONTRACT_MODEL}
_TEMPLATES = TEMPLATES


def model_template(name: str, *, blocks: dict | None = None) -> dict:
    """A copy of the ``"ecsi"``, ``"acsi"`` or ``"contract"`` model (blocks, paths, modes, labels), with
    ``blocks`` replaced by yours when given: ``PLSPM().fit(df, **{k: t[k] for k in
    ("blocks", "paths", "modes")})``."""
    one_of("name", name, _TEMPLATES)
    t = copy.deepcopy(_TEMPLATES[name])
    if blocks is not None:
        missing = [lv for lv in t["blocks"] if lv not in blocks]
        if missing:
            raise CxValueError(f"blocks for the {name} template lack latent variable(s) {missing}")
        t["blocks"] = {lv: list(blocks[lv]) for lv in t["blocks"]}
    return t


# --------------------------------------------------------------------------- numerics
def _popstd(a: np.ndarray) -> np.ndarray:
    return a.std(axis=0, ddof=0)


def _standardize(a: np.ndarray) -> np.ndarray:
    return (a - a.mean(axis=0)) / _popstd(a)


def _corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    az, bz = _standardize(a), _standardize(b)
    return az.T @ bz / len(a)


def _path_scheme(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    lvs = P.shape[0]
    E = np.zeros_like(P, dtype=float)
    C = Y.T @ Y / len(Y)            # Y standardised: correlations
    for k in range(lvs):
        pred = np.nonzero(P[k])[0]
        if len(pred):
            E[pred, k] = np.linalg.lstsq(Y[:, pred], Y[:, k], rcond=None)[0]
        succ = np.nonzero(P[:, k])[0]
        if len(succ):
            E[succ, k] = C[k, succ]
    return E


def _outer_weights(X: np.ndarray, P: np.ndarray, ODM: np.ndarray, blockinds: np.ndarray, modes, scheme: str,
                   tol: float, max_iter: int):
    """Lohmöller's iteration as R plspm::get_weights. Returns (W, iterations, converged)."""
    n = len(X)
    lvs = P.shape[0]
    adj = P + P.T
    W = ODM / _popstd(X @ ODM)
    w_old = W.sum(axis=1)
    it = 1
    while True:
        Y = _standardize(X @ W)
        if scheme == "centroid":
            E = np.sign((Y.T @ Y / n) * adj)
        elif scheme == "factorial":
            E = (Y.T @ Y / n) * adj
        else:
            E = _path_scheme(P, Y)
        Z = Y @ E
        for j in range(lvs):
            cols = blockinds == j
            if modes[j] == "A":
                W[cols, j] = Z[:, j] @ X[:, cols] / n
            else:
                W[cols, j] = np.linalg.lstsq(X[:, cols], Z[:, j], rcond=None)[0]
        w_new = W.sum(axis=1)
        if np.sum((np.abs(w_old) - np.abs(w_new)) ** 2) < tol or it == max_iter:
            break
        w_old = w_new
        it += 1
    converged = it < max_iter
    W = W / _popstd(X @ W)
    return W, it, converged


def _scores(X: np.ndarray, W: np.ndarray, ODM: np.ndarray):
    """Scores XW with R's sign rule (most indicators correlate positively); W flipped too."""
    LV = X @ W
    cxy = _corr(X, LV)
    s = np.sign(np.sum(np.sign(cxy * ODM), axis=0))
    s[s == 0] = -1
    return LV * s, W * s, cxy * s


def _ols(y: np.ndarray, Xp: np.ndarray):
    """OLS with intercept: (coef incl. intercept, se, t, p, r2, r2_adj)."""
    n, k = Xp.shape
    A = np.column_stack([np.ones(n), Xp])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    df = n - k - 1
    rss = resid @ resid
    tss = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - rss / tss
    sigma2 = rss / df if df > 0 else np.nan
    cov = sigma2 * np.linalg.inv(A.T @ A)
    se = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / se
    p = 2.0 * stats.t.sf(np.abs(t), df) if df > 0 else np.full_like(t, np.nan)
    r2_adj = 1.0 - (1.0 - r2) * (n - 1) / df if df > 0 else np.nan
    return coef, se, t, p, r2, r2_adj


def _paths(P: np.ndarray, LV: np.ndarray):
    lvs = P.shape[0]
    B = np.zeros((lvs, lvs))
    R2 = np.zeros(lvs)
    R2a = np.full(lvs, np.nan)
    fits = {}
    for k in range(lvs):
        pred = np.nonzero(P[k])[0]
        if len(pred):
            fit = _ols(LV[:, k], LV[:, pred])
            B[k, pred] = fit[0][1:]
            R2[k], R2a[k] = fit[4], fit[5]
            fits[k] = (pred, fit)
    return B, R2, R2a, fits


def _total_effects(B: np.ndarray) -> np.ndarray:
    lvs = B.shape[0]
    return np.linalg.solve(np.eye(lvs) - B, np.eye(lvs)) - np.eye(lvs)


def _core(X, P, ODM, blockinds, modes, scheme, tol, max_iter):
    """Weights, scores, paths, loadings of one fit (used by fit and bootstrap)."""
    W, it, conv = _outer_weights(X, P, ODM, blockinds, modes, scheme, tol, max_iter)
    LV, W, cxy = _scores(X, W, ODM)
    B, R2, R2a, fits = _paths(P, LV)
    loadings = np.sum(cxy * ODM, axis=1)
    return dict(W=W, it=it, converged=conv, LV=LV, cxy=cxy, B=B, R2=R2, R2a=R2a, fits=fits,
                weights=np.sum(W * ODM, axis=1), loadings=loadings)


def _unidim(MV: np.ndarray, blockinds: np.ndarray, modes, lv_names, sizes):
    rows = []
    for j, name in enumerate(lv_names):
        p = int(sizes[j])
        alpha = rho = 1.0
        eig1, eig2 = 1.0, 0.0
        if p > 1:
            R = np.corrcoef(MV[:, blockinds == j], rowvar=False)
            ev, evec = np.linalg.eigh(R)
            ev, evec = ev[::-1], evec[:, ::-1]
            eig1, eig2 = float(ev[0]), float(ev[1])
            if modes[j] == "A":
                a = (R.sum() - p) / R.sum() * p / (p - 1)
                alpha = max(float(a), 0.0)
                load = evec[:, 0] * np.sqrt(ev[0])        # correlations with the first PC
                num = load.sum() ** 2
                rho = float(num / (num + p - np.sum(load ** 2)))
            else:
                alpha = rho = np.nan
        rows.append({"lv": name, "mode": modes[j], "mvs": p, "cronbach_alpha": alpha,
                     "dillon_goldstein_rho": rho, "eig_1st": eig1, "eig_2nd": eig2})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- specification
def _block_lists(data: pd.DataFrame, blocks) -> dict[str, list[str]]:
    """``blocks`` as {LV name: [indicator columns]}, checked against the data."""
    if not isinstance(data, pd.DataFrame):
        raise CxValueError(f"expected a pandas DataFrame of indicators, got {type(data).__name__}")
    if not isinstance(blocks, dict) or not blocks:
        raise CxValueError("blocks must be a non-empty dict {latent variable: [indicator columns]}")
    if len(blocks) < 2:
        raise CxValueError("a path model needs at least 2 latent variables in blocks")
    out: dict[str, list[str]] = {}
    for lv, cols in blocks.items():
        cols = [cols] if isinstance(cols, str) else list(cols)
        if not cols:
            raise CxValueError(f"block {lv!r} has no indicators")
        missing = [c for c in cols if c not in data.columns]
        if missing:
            raise CxValueError(f"block {lv!r}: column(s) {missing} not in the data")
        out[str(lv)] = cols
    mvs = [c for cols in out.values() for c in cols]
    dup = sorted({c for c in mvs if mvs.count(c) > 1})
    if dup:
        raise CxValueError(f"indicator(s) {dup} are used in more than one block")
    return out


def _edges(paths, names: list[str]) -> list[tuple[str, str]]:
    """``paths`` ({to: [from, ...]} or (from, to) pairs) as a list of (from, to), checked."""
    if isinstance(paths, dict):
        edges = []
        for to, frm in paths.items():
            frm = [frm] if isinstance(frm, str) else list(frm)
            edges.extend((str(f), str(to)) for f in frm)
    else:
        try:
            edges = [(str(a), str(b)) for a, b in paths]
        except (TypeError, ValueError):
            raise CxValueError("paths must be a dict {to: [from, ...]} or a list of (from, to) pairs") from None
    if not edges:
        raise CxValueError("paths is empty: give the inner model, e.g. {'SAT': ['IMAG', 'VAL']}")
    for a, b in edges:
        for v in (a, b):
            if v not in names:
                raise CxValueError(f"path {a} -> {b}: {v!r} is not a latent variable in blocks "
                                   f"({', '.join(names)})")
        if a == b:
            raise CxValueError(f"path {a} -> {b}: a latent variable cannot affect itself")
    return edges


def _topological_order(names: list[str], edges) -> list[str]:
    """LVs ordered so that every predecessor comes first, stable with respect to ``names``."""
    order, remaining = [], list(names)
    while remaining:
        for v in remaining:
            if all(a in order for a, b in edges if b == v):
                order.append(v)
                remaining.remove(v)
                break
        else:
            raise CxValueError(f"the inner model has a cycle among {remaining}: PLS-PM needs a recursive "
                               "(acyclic) path model")
    return order


def _path_matrix(order: list[str], edges) -> np.ndarray:
    """Inner design matrix P (row = to, column = from); every LV must be connected."""
    pos = {v: i for i, v in enumerate(order)}
    P = np.zeros((len(order), len(order)))
    for a, b in edges:
        P[pos[b], pos[a]] = 1.0
    isolated = [v for v in order if P[pos[v]].sum() == 0 and P[:, pos[v]].sum() == 0]
    if isolated:
        raise CxValueError(f"latent variable(s) {isolated} have no path: connect them or drop them")
    return P


def _mode_list(modes, order: list[str]) -> list[str]:
    if isinstance(modes, str):
        mode_list = [modes] * len(order)
    elif isinstance(modes, dict):
        mode_list = [modes.get(v, "A") for v in order]
    else:
        raise CxValueError("modes must be 'A', 'B' or a dict {latent variable: 'A' | 'B'}")
    for m in mode_list:
        one_of("modes", m, MODES)
    return mode_list


def _inner_summary(order, endo, blockinds, modes_l, res, communality, redundancy) -> pd.DataFrame:
    rows = []
    for j, lv in enumerate(order):
        sel = blockinds == j
        com = communality[sel]
        ave = float(com.sum() / (com.sum() + np.sum(1 - com))) if modes_l[j] == "A" else np.nan
        rows.append({"lv": lv, "type": "Endogenous" if endo[j] else "Exogenous", "r_squared": res["R2"][j],
                     "r_squared_adj": res["R2a"][j], "block_communality": com.mean(),
                     "mean_redundancy": redundancy[sel].mean(), "ave": ave})
    return pd.DataFrame(rows)


def _effects_frame(order, B: np.ndarray, T: np.ndarray) -> pd.DataFrame:
    rows = []
    for j in range(len(order)):
        for i in range(j + 1, len(order)):
            rows.append({"relationship": f"{order[j]} -> {order[i]}", "from": order[j], "to": order[i],
                         "direct": B[i, j], "indirect": T[i, j] - B[i, j], "total": T[i, j]})
    return pd.DataFrame(rows)


JACKKNIFE_GROUPS = 200   # jackknife groups of the BCa acceleration (delete-one up to 200 respondents)


def _htmt(M: np.ndarray, blockinds: np.ndarray, pairs) -> np.ndarray:
    """HTMT of each pair of blocks (see :mod:`cxvalue.perception.pls_assess`) on the raw indicators ``M``."""
    R = np.abs(np.corrcoef(M, rowvar=False))
    within = {}
    for j in {x for p in pairs for x in p}:
        sel = np.nonzero(blockinds == j)[0]
        S = R[np.ix_(sel, sel)]
        within[j] = S[np.triu_indices(len(sel), 1)].mean()
    return np.array([R[np.ix_(blockinds == a, blockinds == b)].mean() / np.sqrt(within[a] * within[b])
                     for a, b in pairs])


def _bca(A: np.ndarray, original: np.ndarray, jack: np.ndarray, tail: float) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected and accelerated intervals (Efron 1987) of each column of the bootstrap
    estimates ``A``: bias z0 from the share of resamples below the estimate, acceleration from
    the jackknife estimates ``jack``. NaN where the resamples do not vary."""
    lo, hi = np.full(A.shape[1], np.nan), np.full(A.shape[1], np.nan)
    z = stats.norm.ppf([tail, 1 - tail])
    for k in range(A.shape[1]):
        x = A[:, k]
        if np.ptp(x) == 0 or not np.isfinite(original[k]):
            continue
        share = (np.mean(x < original[k]) + 0.5 * np.mean(x == original[k]))
        z0 = stats.norm.ppf(np.clip(share, 1 / (len(x) + 1), len(x) / (len(x) + 1)))
        acc = 0.0
        if len(jack) > 2:
            d = jack[:, k].mean() - jack[:, k]
            den = 6.0 * np.sum(d ** 2) ** 1.5
            acc = float(np.sum(d ** 3) / den) if den > 0 else 0.0
        q = stats.norm.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z)))
        lo[k], hi[k] = np.quantile(x, q)
    return lo, hi


# --------------------------------------------------------------------------- estimator
class PLSPM(Estimator):
    """Partial least squares path model (R ``plspm`` compatible; see the module doc).

    Parameters
    ----------
    scheme : inner weighting, ``"centroid"`` (default), ``"factorial"`` or ``"path"``.
    scaled : standardise indicators (divisor n) before estimation (R's default, True).
    tol, max_iter : convergence rule of R (Σ(|w_old| − |w_new|)² < tol).
    n_boot : bootstrap resamples (0 = none).
    confidence : level of the intervals: the t intervals of the paths in ``summary_`` and the
        bootstrap percentile intervals.
    random_state : seed of ``numpy.random.default_rng`` for the bootstrap.
    missing : ``"raise"`` (default) on missing indicator values, or ``"listwise"``.

    ``fit(data, blocks=..., paths=..., modes="A")``: ``blocks`` maps each LV to its
    indicator columns; ``paths`` maps each endogenous LV to its predecessors
    (``{"SAT": ["IMAG", "VAL"]}``) or is a list of ``(from, to)`` pairs; ``modes`` is
    ``"A"``/``"B"`` for all or a dict per LV. LVs are ordered as in ``blocks``
    (topologically sorted if needed); the inner model must be acyclic.

    Fitted attributes (tidy frames): ``summary_`` (one row per path: relationship, estimate,
    std_error, ci_low, ci_high (t interval of the OLS fit), p, from, to, t_value),
    ``outer_model_`` (name, block, weight, loading,
    communality, redundancy), ``crossloadings_``, ``paths_`` (from, to, estimate,
    std_error, t_value, p_value), ``inner_model_`` (to, term incl. Intercept, ...),
    ``path_coefs_`` (matrix, row = to, column = from), ``inner_summary_`` (lv, type,
    r_squared, r_squared_adj, block_communality, mean_redundancy, ave), ``effects_``
    (relationship, from, to, direct, indirect, total), ``unidimensionality_``, ``scores_``,
    ``gof_``, ``iterations_``, ``converged_``, ``bootstrap_`` (when ``n_boot`` > 0).
    """

    def __init__(self, *, scheme: str = "centroid", scaled: bool = True, tol: float = 1e-6,
                 max_iter: int = 100, n_boot: int = 0, confidence: float = 0.95, random_state=None,
                 missing: str = "raise"):
        self.scheme = scheme
        self.scaled = scaled
        self.tol = tol
        self.max_iter = max_iter
        self.n_boot = n_boot
        self.confidence = confidence
        self.random_state = random_state
        self.missing = missing

    # ----------------------------------------------------------------- specification
    @staticmethod
    def _spec(data, blocks, paths, modes):
        """(LV order, inner matrix P, indicator columns, block index per column, mode per LV)."""
        blk = _block_lists(data, blocks)
        edges = _edges(paths, list(blk))
        order = _topological_order(list(blk), edges)
        P = _path_matrix(order, edges)
        mode_list = _mode_list(modes, order)
        cols = [c for v in order for c in blk[v]]
        blockinds = np.concatenate([[i] * len(blk[v]) for i, v in enumerate(order)])
        return order, P, cols, blockinds, mode_list

    def _matrix(self, data: pd.DataFrame, cols):
        frame = data[cols]
        for c in cols:
            if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])):
                raise CxValueError(f"indicator column {c!r}: expected numbers, got dtype {frame[c].dtype}")
        MV = frame.astype(float)
        na = MV.isna().any(axis=1)
        if na.any():
            if self.missing == "raise":
                raise CxValueError(f"{int(na.sum())} row(s) have missing indicator values (first at index "
                                   f"{MV.index[na.to_numpy()][0]!r}): drop or impute them, or use missing='listwise'")
            MV = MV[~na]
        return MV

    def _treat(self, MV: np.ndarray):
        X = MV - MV.mean(axis=0)
        sd = _popstd(MV)
        if np.any(sd == 0):
            raise CxValueError("indicator(s) with no variation cannot enter a PLS model")
        if self.scaled:
            return X / sd, sd
        return X, np.ones(MV.shape[1])

    # ----------------------------------------------------------------- fit
    def _check_options(self) -> None:
        one_of("scheme", self.scheme, SCHEMES)
        one_of("missing", self.missing, MISSING)
        if not 0 < self.tol < 1:
            raise CxValueError(f"tol={self.tol!r} is not valid: expected a small positive number like 1e-6")
        if int(self.max_iter) < 1:
            raise CxValueError(f"max_iter={self.max_iter!r} is not valid: expected a positive integer")
        self._confidence()

    def fit(self, data: pd.DataFrame, *, blocks: dict, paths, modes="A", higher_order: dict | None = None,
            hoc_method: str = "two_stage") -> PLSPM:
        """Estimate the model on a frame of indicators; returns ``self`` (see the class doc).

        ``higher_order``: higher-order constructs ``{HOC: [dimension LV, ...]}`` whose
        dimensions are first-order LVs of ``blocks``; ``paths`` name the HOC, not its
        dimensions. ``hoc_method``:

        - ``"two_stage"`` (default; Becker, Klein & Wetzels 2012, as seminr): stage 1 estimates
          the first-order model with each HOC replaced by its dimensions (the HOC's antecedents
          point to every dimension, every dimension to the HOC's outcomes); stage 2 measures the
          HOC by the dimensions' scores (mode of ``modes[HOC]``, default A). ``first_stage_`` is
          the stage-1 model. A bootstrap resamples stage 2 with the dimension scores as estimated.
        - ``"repeated"`` (repeated indicators, Lohmöller 1989): the HOC is measured by all the
          items of its dimensions (copies named ``HOC:item``) and explains each dimension
          (paths HOC → dimension), one estimation.
        """
        if higher_order:
            return self._fit_higher_order(data, blocks, paths, modes, higher_order, hoc_method)
        self.higher_order_ = {}
        self._check_options()
        order, P, cols, blockinds, modes_l = self._spec(data, blocks, paths, modes)
        MVf = self._matrix(data, cols)
        n = len(MVf)
        if n < 3 + int(P.sum(axis=1).max()):
            raise CxValueError(f"only {n} complete rows: too few for this model")
        MV = MVf.to_numpy()
        sds = MV.std(axis=0, ddof=0)
        bad = [c for c, s in zip(cols, sds) if s == 0]
        if bad:
            raise CxValueError(f"indicator(s) {bad} have no variation: drop them from the blocks")
        X, scale = self._treat(MV)
        lvs = len(order)
        ODM = np.zeros((len(cols), lvs))
        ODM[np.arange(len(cols)), blockinds] = 1.0
        res = _core(X, P, ODM, blockinds, modes_l, self.scheme, self.tol, int(self.max_iter))
        if not res["converged"]:
            warnings.warn(f"PLS-PM did not converge in max_iter={self.max_iter} iterations (tol={self.tol}); "
                          "results are from the last iteration", ConvergenceWarning, stacklevel=2)
        communality, redundancy = self._store_outer(res, order, cols, blockinds)
        self._store_inner(res, order, n)
        endo = P.sum(axis=1) > 0
        self.inner_summary_ = _inner_summary(order, endo, blockinds, modes_l, res, communality, redundancy)
        T = _total_effects(res["B"])
        self.effects_ = _effects_frame(order, res["B"], T)
        self.unidimensionality_ = _unidim(MV, blockinds, modes_l, order, np.bincount(blockinds, minlength=lvs))
        multi = np.bincount(blockinds, minlength=lvs)[blockinds] > 1
        self.gof_ = (float(np.sqrt(communality[multi].mean() * res["R2"][endo].mean())) if multi.any()
                     else np.nan)
        self.scores_ = pd.DataFrame(res["LV"], index=MVf.index, columns=order)
        self.iterations_ = res["it"]
        self.converged_ = res["converged"]
        self.lvs_ = order
        self.modes_ = dict(zip(order, modes_l))
        self.manifests_ = MVf
        self.scale_ = pd.Series(scale, index=cols)
        self._P, self._ODM, self._blockinds = P, ODM, blockinds
        if int(self.n_boot) > 0:
            self.bootstrap_ = self._bootstrap(MV, P, ODM, blockinds, modes_l, order, cols, res, T)
        return self

    def _fit_higher_order(self, data, blocks, paths, modes, higher_order: dict, method: str) -> PLSPM:
        one_of("hoc_method", method, HOC_METHODS)
        if not isinstance(higher_order, dict):
            raise CxValueError("higher_order must be a dict {higher-order construct: [dimension, ...]}")
        hocs = {str(h): [str(d) for d in ([dims] if isinstance(dims, str) else dims)] for h, dims in higher_order.items()}
        for h, dims in hocs.items():
            if h in blocks:
                raise CxValueError(f"higher-order construct {h!r} is also in blocks: its indicators are its dimensions")
            if len(dims) < 2:
                raise CxValueError(f"higher-order construct {h!r} needs at least 2 dimensions, got {dims}")
            unknown = [d for d in dims if d not in blocks]
            if unknown:
                raise CxValueError(f"higher-order construct {h!r}: dimension(s) {unknown} are not latent variables "
                                   f"in blocks ({', '.join(blocks)})")
        edges = _edges(paths, list(blocks) + list(hocs))
        mode_of = (lambda v: modes) if isinstance(modes, str) else (lambda v: modes.get(v, "A"))
        if method == "repeated":
            blk = {lv: list(cols) for lv, cols in blocks.items()}
            extra = {}
            for h, dims in hocs.items():
                blk[h] = [f"{h}:{c}" for d in dims for c in blocks[d]]
                extra.update({f"{h}:{c}": data[c] for d in dims for c in blocks[d]})
                edges = edges + [(h, d) for d in dims]
            self.fit(data.assign(**extra), blocks=blk, paths=edges, modes={v: mode_of(v) for v in blk})
            self.higher_order_ = {"method": method, "constructs": hocs}
            return self
        stage1 = list(edges)
        for h, dims in hocs.items():
            new = []
            for a, b in stage1:
                if b == h:
                    new += [(a, d) for d in dims]
                elif a == h:
                    new += [(d, b) for d in dims]
                else:
                    new.append((a, b))
            stage1 = new
        used = {v for e in stage1 for v in e}
        first = copy.copy(self)
        first.n_boot = 0
        first.fit(data, blocks={lv: c for lv, c in blocks.items() if lv in used}, paths=stage1,
                  modes={v: mode_of(v) for v in blocks if v in used})
        dims_all = [d for dims in hocs.values() for d in dims]
        clash = [d for d in dims_all if d in data.columns]
        if clash:
            raise CxValueError(f"dimension(s) {clash} have the name of a data column: rename the latent variables")
        scores = first.scores_[dims_all].reindex(data.index)
        data2 = pd.concat([data, scores], axis=1)
        stage2_used = {v for e in edges for v in e}
        blk2 = {lv: c for lv, c in blocks.items() if lv in stage2_used}
        blk2.update({h: dims for h, dims in hocs.items()})
        self.fit(data2, blocks=blk2, paths=edges, modes={v: mode_of(v) for v in blk2})
        self.first_stage_ = first
        self.higher_order_ = {"method": method, "constructs": hocs}
        return self

    def _store_outer(self, res, order, cols, blockinds):
        """``outer_model_`` and ``crossloadings_``; returns (communality, redundancy) per indicator."""
        loadings = res["loadings"]
        communality = loadings ** 2
        redundancy = communality * res["R2"][blockinds]
        block_names = [order[i] for i in blockinds]
        self.outer_model_ = pd.DataFrame({"name": cols, "block": block_names, "weight": res["weights"],
                                          "loading": loadings, "communality": communality,
                                          "redundancy": redundancy})
        cl = pd.DataFrame(res["cxy"], columns=order)
        cl.insert(0, "block", block_names)
        cl.insert(0, "name", cols)
        self.crossloadings_ = cl
        return communality, redundancy

    def _store_inner(self, res, order, n: int) -> None:
        """``path_coefs_``, ``inner_model_``, ``paths_`` and ``summary_`` from the inner regressions."""
        self.path_coefs_ = pd.DataFrame(res["B"], index=pd.Index(order, name="to"),
                                        columns=pd.Index(order, name="from"))
        prow, irow = [], []
        for k, (pred, fit) in res["fits"].items():
            coef, se, t, p, *_ = fit
            terms = ["Intercept"] + [order[i] for i in pred]
            for term, c, s, tt, pp in zip(terms, coef, se, t, p):
                row = {"to": order[k], "term": term, "estimate": c, "std_error": s, "t_value": tt, "p_value": pp}
                irow.append(row)
                if term != "Intercept":
                    prow.append({"from": term, **row, "df": n - len(pred) - 1})
        self.inner_model_ = pd.DataFrame(irow)
        pos = {v: i for i, v in enumerate(order)}
        paths = (pd.DataFrame(prow).assign(_o=lambda d: [(pos[a], pos[b]) for a, b in zip(d["from"], d["to"])])
                 .sort_values("_o").drop(columns="_o").reset_index(drop=True))
        paths.insert(0, "relationship", paths["from"] + " -> " + paths["to"])
        half = stats.t.ppf(1 - self._tail(), paths["df"]) * paths["std_error"]
        self.summary_ = summary_table(paths["estimate"], paths["std_error"], paths["estimate"] - half,
                                      paths["estimate"] + half, p=paths["p_value"],
                                      leading={"relationship": paths["relationship"]},
                                      extra={"from": paths["from"], "to": paths["to"], "t_value": paths["t_value"]})
        self.paths_ = paths[["relationship", "from", "to", "estimate", "std_error", "t_value", "p_value"]]

    # ----------------------------------------------------------------- bootstrap
    def _bootstrap(self, MV, P, ODM, blockinds, modes_l, order, cols, res, T) -> pd.DataFrame:
        """Resample respondents ``n_boot`` times (seeded) and refit; per estimate its mean,
        bootstrap standard error, percentile and BCa intervals (acceleration from a jackknife
        over at most :data:`JACKKNIFE_GROUPS` groups of respondents), and the bootstrap t
        (estimate / SE) with its two-sided p on n_boot − 1 degrees of freedom, as SmartPLS
        reports them. Signs: every resample applies the rule of the fit (each LV oriented so
        that most of its indicators correlate positively with it); no further sign-change
        correction is made, so an interval reflects the sign flips a weak block really has."""
        rng = np.random.default_rng(self.random_state)
        n = len(MV)
        pidx = np.nonzero(P.T)          # column-major like R: for each from, each to
        pairs = [(j, i) for j in range(len(order)) for i in range(j + 1, len(order))
                 if T[i, j] != 0 or P[i, j] != 0]
        endo = np.nonzero(P.sum(axis=1) > 0)[0]
        sizes = np.bincount(blockinds, minlength=len(order))
        htmt_pairs = [(a, b) for a in range(len(order)) for b in range(a + 1, len(order))
                      if sizes[a] > 1 and sizes[b] > 1]

        def estimates(M):
            if np.any(M.std(axis=0) == 0):
                return None
            Xb, _ = self._treat(M)
            r = _core(Xb, P, ODM, blockinds, modes_l, self.scheme, self.tol, int(self.max_iter))
            if not r["converged"]:
                return None
            Tb = _total_effects(r["B"])
            return {"weight": r["weights"], "loading": r["loadings"], "path": r["B"].T[pidx],
                    "r_squared": r["R2"][endo], "total_effect": np.array([Tb[i, j] for j, i in pairs]),
                    "htmt": _htmt(M, blockinds, htmt_pairs)}

        rec: dict[str, list] = {k: [] for k in ("weight", "loading", "path", "r_squared", "total_effect", "htmt")}
        tries, target = 0, int(self.n_boot)
        while len(rec["weight"]) < target and tries < 3 * target:
            tries += 1
            e = estimates(MV[rng.integers(0, n, n)])
            if e is not None:
                for k in rec:
                    rec[k].append(e[k])
        if len(rec["weight"]) < target:
            warnings.warn(f"only {len(rec['weight'])} of {target} bootstrap resamples converged",
                          ConvergenceWarning, stacklevel=3)
        groups = np.arange(n) % min(n, JACKKNIFE_GROUPS)
        jack = [estimates(MV[groups != g]) for g in range(groups.max() + 1)]
        jack = [j for j in jack if j is not None]
        names = {
            "weight": cols, "loading": cols,
            "path": [f"{order[j]} -> {order[i]}" for j, i in zip(*pidx)],
            "r_squared": [order[k] for k in endo],
            "total_effect": [f"{order[j]} -> {order[i]}" for j, i in pairs],
            "htmt": [f"{order[a]} <-> {order[b]}" for a, b in htmt_pairs],
        }
        orig = {
            "weight": res["weights"], "loading": res["loadings"], "path": res["B"].T[pidx],
            "r_squared": res["R2"][endo], "total_effect": np.array([T[i, j] for j, i in pairs]),
            "htmt": _htmt(MV, blockinds, htmt_pairs),
        }
        a = self._tail()
        frames = []
        for kind in rec:
            if not len(names[kind]):
                continue
            A = np.asarray(rec[kind]).reshape(len(rec[kind]), len(names[kind]))
            se = A.std(axis=0, ddof=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = orig[kind] / se
            lo, hi = _bca(A, orig[kind], np.asarray([j[kind] for j in jack]), a)
            frames.append(pd.DataFrame({
                "kind": kind, "name": names[kind], "original": orig[kind],
                "mean": A.mean(axis=0), "std_error": se,
                "ci_low": np.quantile(A, a, axis=0), "ci_high": np.quantile(A, 1 - a, axis=0),
                "bca_low": lo, "bca_high": hi, "t_value": t,
                "p_value": 2.0 * stats.t.sf(np.abs(t), max(len(A) - 1, 1)),
            }))
        out = pd.concat(frames, ignore_index=True)
        out.attrs["n_boot"] = len(rec["weight"])
        return out

    # ----------------------------------------------------------------- 0-100 index
    def _ranges(self, item_range) -> tuple[np.ndarray, np.ndarray]:
        cols = list(self.manifests_.columns)
        if isinstance(item_range, dict):
            missing = [c for c in cols if c not in item_range]
            if missing:
                raise CxValueError(f"item_range lacks the scale of indicator(s) {missing}")
            lo = np.array([float(item_range[c][0]) for c in cols])
            hi = np.array([float(item_range[c][1]) for c in cols])
        else:
            try:
                a, b = item_range
            except (TypeError, ValueError):
                raise CxValueError(f"item_range={item_range!r} is not valid: expected (min, max) of the answer "
                                   "scale, e.g. (1, 10), or a dict {indicator: (min, max)}") from None
            lo, hi = np.full(len(cols), float(a)), np.full(len(cols), float(b))
        if np.any(hi <= lo):
            raise CxValueError(f"item_range={item_range!r}: the maximum must exceed the minimum")
        return lo, hi

    def _index_weights(self) -> np.ndarray:
        """Unstandardised weights normalised to sum 1 per block; NaN for blocks with a weight <= 0."""
        u = self.outer_model_["weight"].to_numpy() / self.scale_.to_numpy()
        out = np.full(len(u), np.nan)
        bad = []
        for j, lv in enumerate(self.lvs_):
            sel = self._blockinds == j
            if np.all(u[sel] > 0):
                out[sel] = u[sel] / u[sel].sum()
            else:
                bad.append(lv)
        if bad:
            warnings.warn(f"no 0-100 index for {bad}: some outer weights are not positive (the index needs "
                          "positive weights)", CxValueWarning, stacklevel=3)
        return out

    def _two_stage(self) -> dict:
        hoc = getattr(self, "higher_order_", None) or {}
        return hoc.get("constructs", {}) if hoc.get("method") == "two_stage" else {}

    def _first_order_range(self, item_range):
        """``item_range`` without the two-stage HOCs' indicators (the dimension scores)."""
        if not isinstance(item_range, dict):
            return item_range
        dims = {d for ds in self._two_stage().values() for d in ds}
        return {k: v for k, v in item_range.items() if k not in dims}

    def index_scores(self, item_range=(0, 10)) -> pd.DataFrame:
        """Each respondent's 0-100 index per LV (ACSI-style rescaling; see the module doc). A
        two-stage higher-order construct's index is the mean of its dimensions' indices
        weighted by its normalised outer weights."""
        self._check_fitted("outer_model_")
        hocs = self._two_stage()
        if hocs:
            first = self.first_stage_.index_scores(self._first_order_range(item_range))
            out = pd.DataFrame(index=self.manifests_.index)
            for lv in self.lvs_:
                if lv in hocs:
                    w = self._hoc_weights(lv)
                    out[lv] = first.loc[out.index, hocs[lv]].to_numpy() @ w
                else:
                    out[lv] = first.loc[out.index, lv] if lv in first.columns else np.nan
            return out
        lo, hi = self._ranges(item_range)
        w = self._index_weights()
        M = self.manifests_.to_numpy()
        out = {}
        for j, lv in enumerate(self.lvs_):
            sel = self._blockinds == j
            ww = w[sel]
            out[lv] = 100.0 * (M[:, sel] @ ww - ww @ lo[sel]) / (ww @ (hi[sel] - lo[sel]))
        return pd.DataFrame(out, index=self.manifests_.index)

    def _hoc_weights(self, hoc: str) -> np.ndarray:
        om = self.outer_model_[self.outer_model_["block"] == hoc]
        w = om["weight"].to_numpy()
        if np.any(w <= 0):
            warnings.warn(f"no 0-100 index for {hoc}: some outer weights are not positive", CxValueWarning, stacklevel=3)
            return np.full(len(w), np.nan)
        return w / w.sum()

    def indices(self, item_range=(0, 10)) -> pd.DataFrame:
        """The 0-100 index of each LV (index of the mean answers), with the raw-scale score."""
        self._check_fitted("outer_model_")
        hocs = self._two_stage()
        if hocs:
            first = self.first_stage_.indices(self._first_order_range(item_range)).set_index("lv")
            rows = []
            for lv in self.lvs_:
                if lv in hocs:
                    w = self._hoc_weights(lv)
                    rows.append({"lv": lv, "index": float(first.loc[hocs[lv], "index"].to_numpy() @ w),
                                 "score": np.nan, "n": len(self.manifests_)})
                else:
                    rows.append({"lv": lv, **first.loc[lv].to_dict(), "n": len(self.manifests_)})
            return pd.DataFrame(rows)
        lo, hi = self._ranges(item_range)
        w = self._index_weights()
        m = self.manifests_.to_numpy().mean(axis=0)
        rows = []
        for j, lv in enumerate(self.lvs_):
            sel = self._blockinds == j
            ww = w[sel]
            score = float(ww @ m[sel])
            rows.append({"lv": lv, "index": 100.0 * (score - ww @ lo[sel]) / (ww @ (hi[sel] - lo[sel])),
                         "score": score, "n": len(self.manifests_)})
        return pd.DataFrame(rows)
