"""The CEM seven-step method of customer experience management (concepts D4).

Per experience dimension (product, price, service, convenience, brand image,
relationship, or any others):

1. brand value — qualitative, outside the data;
2. measure experience and expectation: **satisfaction = experience − expectation**
   (the "triangle law": negative means expectations are not met), with an
   **importance** weight per dimension;
3. **key experience = importance × satisfaction**: the most negative is the key
   experience to act on (``key_rank`` 1);
4. gap analysis: **gap = experience − ideal** (ideal experience: resources are limited,
   exceed expectations only where it matters most);
5. requirements: the dimensions with a negative gap, ranked by gap (largest first,
   ties by importance) — ``requirement_rank``;
6. align with strategy and capability (people, process, technology) — qualitative;
7. feedback loop: re-measure and compare waves (:func:`cem_compare`), with a Welch
   t-test and an interval of the change per dimension when per-respondent answers are
   given. The test works on the moments (n, mean, variance) of any groups
   (:func:`mean_contrast`), so the same statistics re-measure an improvement initiative
   before vs after its start date, and its difference-in-differences against untouched
   segments (:mod:`cxvalue.loop.initiatives`); :data:`RESPONDENT_MEASURES` is the one
   definition of each per-respondent measure.

Two input layouts, detected automatically (or ``layout=``):

* ``"respondent"``: one row per respondent, columns ``experience_<dim>``,
  ``expectation_<dim>``, ``importance_<dim>``, ``ideal_<dim>`` (any may be absent or
  missing for a dimension); each measure is the mean over the answers given, and
  satisfaction, key experience and gap are computed from those means.
* ``"aggregated"``: one row per dimension, columns ``experience``, ``expectation``,
  ``importance``, ``ideal`` (some may be absent) and the dimension in a ``dimension``
  column or the index.

Worked example of the seed (004, a retailer): experience convenience 5, expectation 7
→ satisfaction −2; importance 9 → key experience −18, the key one; ideal 10 → gap −5,
the top requirement (open more stores on the same street). See docs/perception.md.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import CxValueError, one_of

__all__ = ["MEASURES", "RESPONDENT_MEASURES", "cem_summary", "cem_compare", "mean_contrast"]

MEASURES = ("experience", "expectation", "importance", "ideal")
LAYOUTS = ("auto", "respondent", "aggregated")
_EPS = 1e-9
COMPARED = ("experience", "expectation", "satisfaction", "importance", "key_experience", "ideal", "gap")
#: each measure one respondent has, as (answer, answer subtracted from it): satisfaction is
#: experience − expectation, gap is experience − ideal (key_experience, a product of means, has none)
RESPONDENT_MEASURES: dict[str, tuple[str, str | None]] = {
    "experience": ("experience", None), "expectation": ("expectation", None), "importance": ("importance", None),
    "ideal": ("ideal", None), "satisfaction": ("experience", "expectation"), "gap": ("experience", "ideal")}


def mean_contrast(cells, confidence: float = 0.95) -> dict:
    """A linear contrast Σ cᵢ·meanᵢ of independent group means, from each group's moments.

    ``cells``: ``(coefficient, n, mean, variance)`` per group (variance with ddof=1). With
    coefficients (−1, +1) it is Welch's unequal-variance t-test of after − before; with
    (+1, −1, −1, +1) over treated-after, treated-before, untouched-after, untouched-before a
    difference-in-differences. Returns ``estimate``, ``std_error`` (√Σ cᵢ²·varᵢ/nᵢ), ``df``
    (Welch–Satterthwaite), ``t_stat``, ``p_value`` (two-sided) and ``ci_low`` / ``ci_high`` (t
    interval at ``confidence``); the statistics are NaN when a group has fewer than two values
    or every variance is zero (the estimate is still given when every n ≥ 1).
    """
    if not 0 < confidence < 1:
        raise CxValueError(f"confidence={confidence!r} is not valid: expected a number between 0 and 1")
    cells = [(float(c), float(n), float(m), float(v)) for c, n, m, v in cells]
    nan = float("nan")
    out = {"estimate": nan, "std_error": nan, "df": nan, "t_stat": nan, "p_value": nan, "ci_low": nan,
           "ci_high": nan}
    if not cells or any(not n >= 1 or not np.isfinite(m) for _, n, m, _ in cells):
        return out
    out["estimate"] = float(sum(c * m for c, _, m, _ in cells))
    if any(n < 2 or not np.isfinite(v) for _, n, _, v in cells):
        return out
    s2 = [c * c * v / n for c, n, _, v in cells]
    var = sum(s2)
    if not var > 0:
        return out
    df = var ** 2 / sum(x * x / (n - 1) for x, (_, n, _, _) in zip(s2, cells))
    se = float(np.sqrt(var))
    t = out["estimate"] / se
    q = float(stats.t.ppf(0.5 + confidence / 2, df))
    out.update(std_error=se, df=float(df), t_stat=float(t), p_value=float(2 * stats.t.sf(abs(t), df)),
               ci_low=out["estimate"] - q * se, ci_high=out["estimate"] + q * se)
    return out


def _detect(data: pd.DataFrame, layout: str) -> str:
    one_of("layout", layout, LAYOUTS)
    if layout != "auto":
        return layout
    if any(m in data.columns for m in MEASURES):
        return "aggregated"
    if any(str(c).startswith(f"{m}_") for c in data.columns for m in MEASURES):
        return "respondent"
    raise CxValueError(
        "cannot tell the layout of the CEM data: expected per-respondent columns like "
        "'experience_price', 'expectation_price', 'importance_price', 'ideal_price', or an "
        "aggregated table with columns 'dimension', 'experience', 'expectation', 'importance', 'ideal'; "
        f"got columns {', '.join(map(str, data.columns[:12]))}")


def _numeric(col: pd.Series, name: str) -> pd.Series:
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        conv = pd.to_numeric(col, errors="coerce")
        bad = col.notna() & conv.isna()
        if bad.any():
            raise CxValueError(f"column {name!r}: expected numbers, got {col[bad].iloc[0]!r}")
        col = conv
    return col.astype(float)


def _respondent_values(data: pd.DataFrame, dimensions=None) -> dict[str, dict[str, pd.Series]]:
    """{dimension: {measure: Series of answers}} from experience_<dim>... columns."""
    out: dict[str, dict[str, pd.Series]] = {}
    for c in data.columns:
        for m in MEASURES:
            if str(c).startswith(f"{m}_") and len(str(c)) > len(m) + 1:
                dim = str(c)[len(m) + 1:]
                out.setdefault(dim, {})[m] = _numeric(data[c], str(c))
    if dimensions is not None:
        unknown = [d for d in dimensions if d not in out]
        if unknown:
            raise CxValueError(f"dimensions {unknown} have no experience_/expectation_/importance_/ideal_ "
                               f"columns; found dimensions: {', '.join(out) or 'none'}")
        out = {d: out[d] for d in dimensions}
    if not out:
        raise CxValueError("no experience_<dim>/expectation_<dim>/importance_<dim>/ideal_<dim> columns found")
    return out


def _aggregated_frame(data: pd.DataFrame, dimensions=None) -> pd.DataFrame:
    t = data.copy()
    if "dimension" in t.columns:
        t = t.set_index("dimension")
    t.index = t.index.map(str)
    if t.index.has_duplicates:
        dup = t.index[t.index.duplicated()].unique().tolist()
        raise CxValueError(f"aggregated CEM table: dimension(s) {dup} appear more than once")
    if "experience" not in t.columns:
        raise CxValueError("aggregated CEM table needs an 'experience' column (mean experience per dimension)")
    out = pd.DataFrame(index=t.index)
    for m in MEASURES:
        out[m] = _numeric(t[m], m) if m in t.columns else np.nan
    out["n"] = pd.to_numeric(t["n"], errors="coerce").astype("Int64") if "n" in t.columns else pd.NA
    if dimensions is not None:
        unknown = [d for d in dimensions if d not in out.index]
        if unknown:
            raise CxValueError(f"dimensions {unknown} are not in the table; found: {', '.join(out.index)}")
        out = out.loc[list(dimensions)]
    return out


def _rank(values: np.ndarray, tiebreak: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """1-based rank of ``values`` ascending among ``eligible`` rows, ties by ``tiebreak`` descending."""
    rank = np.full(len(values), np.nan)
    idx = np.nonzero(eligible)[0]
    if len(idx):
        tb = np.where(np.isnan(tiebreak[idx]), -np.inf, tiebreak[idx])
        order = idx[np.lexsort((-tb, values[idx]))]
        rank[order] = np.arange(1, len(order) + 1)
    return rank


def _finish(t: pd.DataFrame) -> pd.DataFrame:
    t = t.copy()
    t["satisfaction"] = t["experience"] - t["expectation"]
    t["key_experience"] = t["importance"] * t["satisfaction"]
    t["gap"] = t["experience"] - t["ideal"]
    ke = t["key_experience"].to_numpy(float)
    imp = t["importance"].to_numpy(float)
    gap = t["gap"].to_numpy(float)
    t["key_rank"] = pd.array(_rank(ke, imp, ~np.isnan(ke)), dtype="Int64")
    t["is_key"] = (t["key_rank"] == 1).fillna(False).astype(bool)
    # a gap counts when below −1e-9 (means of answers carry rounding noise)
    t["requirement_rank"] = pd.array(_rank(gap, imp, ~np.isnan(gap) & (gap < -_EPS)), dtype="Int64")
    t = t.rename_axis("dimension").reset_index()
    return t[["dimension", "experience", "expectation", "satisfaction", "importance", "key_experience",
              "key_rank", "is_key", "ideal", "gap", "requirement_rank", "n"]]


def cem_summary(data: pd.DataFrame, *, dimensions=None, layout: str = "auto") -> pd.DataFrame:
    """Steps 2-5 of the CEM method: one tidy row per experience dimension.

    Columns: ``dimension``, ``experience``, ``expectation``, ``satisfaction``
    (experience − expectation), ``importance``, ``key_experience`` (importance ×
    satisfaction), ``key_rank`` (1 = most negative key experience), ``is_key``,
    ``ideal``, ``gap`` (experience − ideal), ``requirement_rank`` (dimensions with a
    negative gap, largest gap first; ties by importance), ``n`` (experience answers).
    Rows keep the order of the input's dimensions.
    """
    if not isinstance(data, pd.DataFrame):
        raise CxValueError(f"expected a pandas DataFrame, got {type(data).__name__}")
    layout = _detect(data, layout)
    if layout == "aggregated":
        return _finish(_aggregated_frame(data, dimensions))
    vals = _respondent_values(data, dimensions)
    rows = {}
    for dim, ms in vals.items():
        row = {m: (float(ms[m].mean()) if m in ms else np.nan) for m in MEASURES}
        row["n"] = int(ms["experience"].notna().sum()) if "experience" in ms else 0
        rows[dim] = row
    t = pd.DataFrame.from_dict(rows, orient="index")
    t["n"] = t["n"].astype("Int64")
    return _finish(t)


def _per_respondent(ms: dict[str, pd.Series], measure: str) -> np.ndarray | None:
    a, b = RESPONDENT_MEASURES.get(measure, (None, None))   # key_experience: a product of means, no test
    if a not in ms or (b is not None and b not in ms):
        return None
    s = ms[a] if b is None else ms[a] - ms[b]
    x = s.to_numpy(float)
    return x[~np.isnan(x)]


def cem_compare(before: pd.DataFrame, after: pd.DataFrame, *, dimensions=None, layout: str = "auto",
                confidence: float = 0.95) -> pd.DataFrame:
    """Step 7: re-measure and compare two waves, per dimension and measure.

    Tidy rows (``dimension``, ``measure``) for experience, expectation, satisfaction,
    importance, key_experience, ideal and gap with ``before``, ``after`` and ``change``
    (after − before) from :func:`cem_summary` of each wave. When both waves are
    per-respondent answers, ``t_stat``, ``df``, ``p_value`` and ``significant`` come from
    Welch's unequal-variance t-test of the respondents' values (satisfaction and gap
    per respondent; none for key_experience, a product of means; :func:`mean_contrast`),
    with ``n_before`` and ``n_after`` answers and the change's ``std_error`` and t interval
    ``ci_low`` / ``ci_high`` at ``confidence``. For aggregated tables those are missing.
    """
    if not 0 < confidence < 1:
        raise CxValueError(f"confidence={confidence!r} is not valid: expected a number between 0 and 1")
    la, lb = _detect(before, layout), _detect(after, layout)
    sa = cem_summary(before, dimensions=dimensions, layout=la).set_index("dimension")
    sb = cem_summary(after, dimensions=dimensions, layout=lb).set_index("dimension")
    dims = [d for d in sa.index if d in sb.index]
    if not dims:
        raise CxValueError("the two waves share no dimension: compare waves measured on the same dimensions")
    raw = la == "respondent" and lb == "respondent"
    va = _respondent_values(before, dims) if raw else None
    vb = _respondent_values(after, dims) if raw else None
    rows = []
    for d in dims:
        for m in COMPARED:
            b0, a1 = float(sa.at[d, m]), float(sb.at[d, m])
            row = {"dimension": d, "measure": m, "before": b0, "after": a1, "change": a1 - b0,
                   "t_stat": np.nan, "df": np.nan, "p_value": np.nan, "n_before": pd.NA, "n_after": pd.NA,
                   "std_error": np.nan, "ci_low": np.nan, "ci_high": np.nan}
            if raw:
                xa, xb = _per_respondent(va[d], m), _per_respondent(vb[d], m)
                if xa is not None and xb is not None:
                    row["n_before"], row["n_after"] = len(xa), len(xb)
                    if len(xa) >= 2 and len(xb) >= 2:
                        res = mean_contrast([(-1, len(xa), xa.mean(), xa.var(ddof=1)),
                                             (1, len(xb), xb.mean(), xb.var(ddof=1))], confidence)
                        row.update({k: res[k] for k in ("t_stat", "df", "p_value", "std_error", "ci_low", "ci_high")})
            rows.append(row)
    out = pd.DataFrame(rows)
    out["n_before"] = out["n_before"].astype("Int64")
    out["n_after"] = out["n_after"].astype("Int64")
    sig = pd.array(out["p_value"].to_numpy() < 1 - confidence, dtype="boolean")
    sig[out["p_value"].isna().to_numpy()] = pd.NA
    out["significant"] = sig
    return out
