"""Net Promoter Score with margins of error, segment breakdowns, trends (concepts D1, D8).

NPS asks "how likely are you to recommend us?" on 0-10. Promoters answer 9-10, passives
7-8, detractors 0-6, and NPS = %promoters − %detractors, in points from −100 to 100.

Intervals (see docs/voice.md for the derivation and references):

* ``"wald"``: with p_P and p_D the promoter and detractor shares of n answers,
  Var(NPS) = [p_P + p_D − (p_P − p_D)²] / n  (the variance of the trinomial score
  +1/0/−1 divided by n); CI = NPS ± z·SE.
* ``"adjusted_wald"`` (Rocks 2016, after Agresti & Coull): add ¾ of a promoter, ¾ of a
  detractor (and so 1½ passives), i.e. 3 answers, then apply the Wald formula. Better
  coverage in small samples and never a zero-width interval.

Reference case (../shared/data/README.md): n = 500, 200 promoters, 150 detractors →
NPS 10.0, Wald CI [2.719, 17.281]; adjusted Wald 9.940, CI [2.687, 17.194].

Everything here works on in-memory pandas objects; missing answers are ignored (``n``
counts the answers given). A segment or period with fewer than ``min_n`` answers (30 by
default, where the Wald margin is about ±30 points) is flagged ``small_sample`` and a
:class:`~cxvalue.errors.SmallSampleWarning` names it.
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import CxValueError, CxValueWarning, SmallSampleWarning, one_of
from ..i18n import warn

__all__ = ["adjust_p", "nps_pairwise", "ADJUSTMENTS",
    "PROMOTER_MIN", "PASSIVE_MIN", "MIN_N", "METHODS", "CATEGORIES",
    "NpsEstimate", "NpsDifference",
    "classify_nps", "nps_score", "nps_from_counts", "nps_difference", "nps_by", "nps_trend", "nps_analysis",
    "segments_long", "summary_frame",
]

PROMOTER_MIN = 9      #: answers >= 9 are promoters
PASSIVE_MIN = 7       #: answers 7-8 are passives, 0-6 detractors
MIN_N = 30            #: fewer answers than this → small_sample flag and SmallSampleWarning
METHODS = ("wald", "adjusted_wald")
CATEGORIES = ("detractor", "passive", "promoter")
FREQS = {"M": "M", "Q": "Q", "Y": "Y"}


@dataclass(frozen=True)
class NpsEstimate:
    """NPS of one group of answers. Shares and scores are in points (percent)."""

    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float            # %promoters − %detractors (raw, unadjusted)
    center: float         # point the interval is built around (= nps for Wald, adjusted for adjusted Wald)
    std_error: float      # of ``center``, in points
    ci_low: float
    ci_high: float
    method: str
    confidence: float

    @property
    def promoters_pct(self) -> float:
        return 100.0 * self.promoters / self.n if self.n else float("nan")

    @property
    def passives_pct(self) -> float:
        return 100.0 * self.passives / self.n if self.n else float("nan")

    @property
    def detractors_pct(self) -> float:
        return 100.0 * self.detractors / self.n if self.n else float("nan")

    @property
    def variance(self) -> float:
        """Variance of ``center`` in points²."""
        return self.std_error ** 2

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(promoters_pct=self.promoters_pct, passives_pct=self.passives_pct,
                 detractors_pct=self.detractors_pct)
        return d


@dataclass(frozen=True)
class NpsDifference:
    """Two-sample z-test of NPS(a) − NPS(b) with the variances of the chosen method."""

    nps_a: float
    nps_b: float
    difference: float     # raw NPS(a) − NPS(b), points
    std_error: float      # sqrt(Var_a + Var_b), points
    z: float
    p_value: float        # two-sided
    ci_low: float         # interval for the difference (around the method's centres)
    ci_high: float
    method: str
    confidence: float

    @property
    def significant(self) -> bool:
        return bool(self.p_value < 1.0 - self.confidence)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["significant"] = self.significant
        return d


# --------------------------------------------------------------------------- helpers
def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise CxValueError(f"confidence={confidence!r} is not valid: expected a number between 0 and 1, e.g. 0.95")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def _scores(scores, name: str = "scores") -> np.ndarray:
    """Validate 0-10 answers; return a float array with NaN for missing answers."""
    s = pd.Series(scores) if not isinstance(scores, pd.Series) else scores
    if s.dtype == object or isinstance(s.dtype, pd.StringDtype) or isinstance(s.dtype, pd.CategoricalDtype):
        num = pd.to_numeric(s.astype(object), errors="coerce")
        bad = s.notna() & num.isna()
        if bad.any():
            raise CxValueError(f"{name}: expected numbers 0-10, got {s[bad].iloc[0]!r} "
                               f"({int(bad.sum())} non-numeric value(s)) — clean or map the answers first")
        s = num
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(x)
    out = ok & ((x < 0) | (x > 10))
    if out.any():
        raise CxValueError(f"{name}: expected answers on the 0-10 scale, got {x[out][0]:g} "
                           f"({int(out.sum())} value(s) outside 0-10)")
    frac = ok & (x != np.round(x))
    if frac.any():
        raise CxValueError(f"{name}: expected whole numbers 0-10, got {x[frac][0]:g} "
                           f"({int(frac.sum())} non-integer value(s)) — round or recode the answers")
    return x


def _counts(x: np.ndarray) -> tuple[int, int, int]:
    ok = ~np.isnan(x)
    p = int(np.sum(x[ok] >= PROMOTER_MIN))
    d = int(np.sum(x[ok] < PASSIVE_MIN))
    return p, int(ok.sum()) - p - d, d


def _estimate_arrays(P, A, D, method: str, z: float):
    """Vectorised core: counts → (n, nps, center, se, lo, hi) arrays, all in points."""
    P, A, D = (np.asarray(v, dtype=float) for v in (P, A, D))
    n = P + A + D
    with np.errstate(invalid="ignore", divide="ignore"):
        nps_raw = 100.0 * (P - D) / n
        if method == "adjusted_wald":
            Pa, Da, na = P + 0.75, D + 0.75, n + 3.0
        else:
            Pa, Da, na = P, D, n
        pp, pd_ = Pa / na, Da / na
        center = 100.0 * (pp - pd_)
        var = (pp + pd_ - (pp - pd_) ** 2) / na
        se = 100.0 * np.sqrt(np.maximum(var, 0.0))
    se = np.where(n > 0, se, np.nan)
    center = np.where(n > 0, center, np.nan)
    return n, nps_raw, center, se, center - z * se, center + z * se


# --------------------------------------------------------------------------- public API
def classify_nps(scores) -> pd.Series:
    """Promoter (9-10) / passive (7-8) / detractor (0-6) of each answer; missing stays missing.

    Returns an ordered categorical Series (detractor < passive < promoter) with the input's
    index when a Series is given.
    """
    x = _scores(scores)
    idx = scores.index if isinstance(scores, pd.Series) else None
    lab = np.full(x.shape, None, dtype=object)
    ok = ~np.isnan(x)
    lab[ok & (x >= PROMOTER_MIN)] = "promoter"
    lab[ok & (x >= PASSIVE_MIN) & (x < PROMOTER_MIN)] = "passive"
    lab[ok & (x < PASSIVE_MIN)] = "detractor"
    cat = pd.Categorical(lab, categories=list(CATEGORIES), ordered=True)
    return pd.Series(cat, index=idx, name="nps_category")


def nps_from_counts(promoters: int, passives: int, detractors: int, *, method: str = "wald",
                    confidence: float = 0.95) -> NpsEstimate:
    """NPS and its interval from counts of promoters, passives and detractors."""
    one_of("method", method, METHODS)
    for name, v in (("promoters", promoters), ("passives", passives), ("detractors", detractors)):
        if v is None or v < 0 or int(v) != v:
            raise CxValueError(f"{name}={v!r} is not valid: expected a whole number >= 0")
    if promoters + passives + detractors == 0:
        raise CxValueError("no answers: promoters + passives + detractors is 0, NPS is undefined")
    n, raw, center, se, lo, hi = _estimate_arrays(promoters, passives, detractors, method, _z(confidence))
    return NpsEstimate(int(n), int(promoters), int(passives), int(detractors), float(raw), float(center),
                       float(se), float(lo), float(hi), method, confidence)


def nps_score(scores, *, method: str = "wald", confidence: float = 0.95, min_n: int = MIN_N) -> NpsEstimate:
    """NPS of 0-10 answers (array or Series; missing answers ignored) with a ``confidence`` interval.

    Warns :class:`SmallSampleWarning` when fewer than ``min_n`` answers are given.
    """
    one_of("method", method, METHODS)
    p, a, d = _counts(_scores(scores))
    if p + a + d == 0:
        raise CxValueError("scores: no answers (all missing or empty), NPS is undefined")
    if p + a + d < min_n:
        warnings.warn(f"NPS rests on {p + a + d} answers (< min_n={min_n}): the margin of error is wide",
                      SmallSampleWarning, stacklevel=2)
    return nps_from_counts(p, a, d, method=method, confidence=confidence)


def nps_difference(a, b, *, method: str = "wald", confidence: float = 0.95) -> NpsDifference:
    """Is NPS(a) different from NPS(b)? Two independent groups (segments, periods).

    ``a`` and ``b`` are 0-10 answers or :class:`NpsEstimate` objects. The z statistic is
    (centre_a − centre_b) / sqrt(Var_a + Var_b) with the variances of ``method``; the
    p-value is two-sided.
    """
    one_of("method", method, METHODS)
    z = _z(confidence)
    ests = []
    for name, g in (("a", a), ("b", b)):
        if isinstance(g, NpsEstimate):
            if g.method != method:
                g = nps_from_counts(g.promoters, g.passives, g.detractors, method=method, confidence=confidence)
        else:
            p, ps, d = _counts(_scores(g, name))
            if p + ps + d == 0:
                raise CxValueError(f"{name}: no answers, NPS is undefined")
            g = nps_from_counts(p, ps, d, method=method, confidence=confidence)
        ests.append(g)
    ea, eb = ests
    se = float(np.hypot(ea.std_error, eb.std_error))
    diff_c = ea.center - eb.center
    zstat = diff_c / se if se > 0 else (0.0 if diff_c == 0 else np.inf * np.sign(diff_c))
    p = float(2.0 * stats.norm.sf(abs(zstat)))
    return NpsDifference(ea.nps, eb.nps, ea.nps - eb.nps, se, float(zstat), p,
                         diff_c - z * se, diff_c + z * se, method, confidence)


def _check_cols(df: pd.DataFrame, cols, what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise CxValueError(f"expected a pandas DataFrame of survey answers, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise CxValueError(f"{what}: column(s) {missing} not in the data; "
                           f"available: {', '.join(map(str, df.columns))}")


def _table(counts: pd.DataFrame, method: str, confidence: float, min_n: int,
           vs_rest: bool) -> pd.DataFrame:
    """counts: index = groups, columns promoter/passive/detractor → tidy NPS table."""
    z = _z(confidence)
    P, A, D = (counts[c].to_numpy(float) for c in ("promoter", "passive", "detractor"))
    n, raw, center, se, lo, hi = _estimate_arrays(P, A, D, method, z)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "n": n.astype("int64"),
            "promoters_pct": 100.0 * P / n,
            "passives_pct": 100.0 * A / n,
            "detractors_pct": 100.0 * D / n,
            "nps": raw,
            "std_error": se,
            "ci_low": lo,
            "ci_high": hi,
            "small_sample": n < min_n,
        }, index=counts.index)
    if vs_rest:
        rn, _, rc, rse, _, _ = _estimate_arrays(P.sum() - P, A.sum() - A, D.sum() - D, method, z)
        with np.errstate(invalid="ignore", divide="ignore"):
            zz = (center - rc) / np.hypot(se, rse)
        out["p_value_vs_rest"] = np.where(rn > 0, 2.0 * stats.norm.sf(np.abs(zz)), np.nan)
    return out


def _warn_small(tab: pd.DataFrame, label_cols, min_n: int, what: str) -> None:
    small = tab[tab["small_sample"]]
    if len(small):
        names = [", ".join(str(v) for v in row) for row in small[label_cols].itertuples(index=False)]
        shown = "; ".join(names[:10]) + (" ..." if len(names) > 10 else "")
        warn("warn_nps_small_periods" if what.startswith("period") else "warn_nps_small_segments",
             SmallSampleWarning, stacklevel=3, n=len(small), min_n=min_n, names=shown)


def nps_by(df: pd.DataFrame, by, *, score_col: str = "nps", method: str = "wald",
           confidence: float = 0.95, min_n: int = MIN_N, dropna: bool = True) -> pd.DataFrame:
    """NPS per segment (touchpoint, channel, value tier, ...): one tidy row per segment.

    Columns: the ``by`` column(s), ``n``, ``promoters_pct``, ``passives_pct``,
    ``detractors_pct``, ``nps``, ``std_error``, ``ci_low``, ``ci_high`` (points),
    ``small_sample`` (n < ``min_n``) and ``p_value_vs_rest`` (z-test of the segment
    against all other answers). Segments are sorted by ``by``.
    """
    one_of("method", method, METHODS)
    by = [by] if isinstance(by, str) or not isinstance(by, (list, tuple)) else list(by)
    _check_cols(df, [*by, score_col], "nps_by")
    cat = classify_nps(df[score_col]).to_numpy()
    frame = df[by].copy()
    frame["_cat"] = cat
    frame = frame[frame["_cat"].notna()]
    counts = (frame.groupby(by, dropna=dropna, observed=True)["_cat"]
              .value_counts().unstack(fill_value=0)
              .reindex(columns=list(CATEGORIES), fill_value=0))
    tab = _table(counts, method, confidence, min_n, vs_rest=True).reset_index()
    _warn_small(tab, by, min_n, "segment(s)")
    return tab


def nps_trend(df: pd.DataFrame, date_col: str = "date", freq: str = "M", *, score_col: str = "nps",
              by=None, method: str = "wald", confidence: float = 0.95,
              min_n: int = MIN_N) -> pd.DataFrame:
    """NPS per calendar month (``freq="M"``), quarter (``"Q"``) or year (``"Y"``).

    One tidy row per period (and per ``by`` segment when given), sorted by time, with the
    columns of :func:`nps_by` (without ``p_value_vs_rest``) plus ``period`` ("2024-01",
    "2024Q1", "2024"), ``period_start``, ``nps_change`` (points versus the previous period
    with answers, in the same segment) and ``p_value_change`` (z-test of that change).
    Periods without answers are not listed.
    """
    one_of("method", method, METHODS)
    one_of("freq", freq, FREQS)
    byl = [] if by is None else ([by] if isinstance(by, str) else list(by))
    _check_cols(df, [date_col, score_col, *byl], "nps_trend")
    col = df[date_col]
    if pd.api.types.is_datetime64_any_dtype(col):
        dates = col
    else:
        dates = pd.to_datetime(col, errors="coerce", format="mixed")
    bad = df[date_col].notna() & dates.isna()
    if bad.any():
        raise CxValueError(f"column {date_col!r}: expected dates, got {df.loc[bad, date_col].iloc[0]!r} "
                           f"({int(bad.sum())} unparseable value(s))")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    frame = df[byl].copy()
    frame["period"] = dates.dt.to_period(FREQS[freq])
    frame["_cat"] = classify_nps(df[score_col]).to_numpy()
    frame = frame[frame["_cat"].notna() & frame["period"].notna()]
    keys = [*byl, "period"]
    counts = (frame.groupby(keys, observed=True)["_cat"].value_counts().unstack(fill_value=0)
              .reindex(columns=list(CATEGORIES), fill_value=0).sort_index())
    tab = _table(counts, method, confidence, min_n, vs_rest=False).reset_index()
    # change versus the previous period of the same segment
    z = _z(confidence)
    n, raw, center, se, _, _ = _estimate_arrays(*(counts[c].to_numpy(float) for c in
                                                  ("promoter", "passive", "detractor")), method, z)
    tab["_center"], tab["_se"] = center, se
    grp = tab.groupby(byl, sort=False) if byl else None
    prev_c = grp["_center"].shift(1) if byl else tab["_center"].shift(1)
    prev_se = grp["_se"].shift(1) if byl else tab["_se"].shift(1)
    prev_nps = grp["nps"].shift(1) if byl else tab["nps"].shift(1)
    tab["nps_change"] = tab["nps"] - prev_nps
    with np.errstate(invalid="ignore", divide="ignore"):
        zz = (tab["_center"] - prev_c) / np.hypot(tab["_se"], prev_se)
    tab["p_value_change"] = 2.0 * stats.norm.sf(np.abs(zz))
    per = tab["period"]
    tab["period_start"] = per.dt.start_time
    tab["period"] = per.astype(str)
    tab = tab.drop(columns=["_center", "_se"])
    cols = [*byl, "period", "period_start"] + [c for c in tab.columns if c not in (*byl, "period", "period_start")]
    tab = tab[cols]
    _warn_small(tab, [*byl, "period"], min_n, "period(s)")
    return tab


ADJUSTMENTS = ("holm", "bh", "none")
MAX_PAIRS_SEGMENTS = 30       # segments beyond which all-pairs comparisons are not made (435 pairs)


def adjust_p(p, method: str = "holm") -> np.ndarray:
    """p-values adjusted for multiple comparisons: ``"holm"`` (Holm 1979: controls the
    family-wise error rate; the default), ``"bh"`` (Benjamini & Hochberg 1995: controls the
    false discovery rate) or ``"none"``. NaN stays NaN and is not counted."""
    one_of("adjust", method, ADJUSTMENTS)
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    m = len(q)
    if m == 0 or method == "none":
        out[ok] = q
        return out
    order = np.argsort(q)
    ranked = q[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:
        adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * ranked[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def nps_pairwise(df: pd.DataFrame, by: str, *, score_col: str = "nps", method: str = "wald",
                 confidence: float = 0.95, adjust: str = "holm", min_n: int = MIN_N) -> pd.DataFrame:
    """Every pair of segments of ``by`` compared (:func:`nps_difference`), with p-values
    adjusted over all the pairs (:func:`adjust_p`): one row per pair ``a``, ``b`` (segments in
    :func:`nps_by` order) with ``n_a``, ``n_b``, ``nps_a``, ``nps_b``, ``difference``,
    ``std_error``, ``z``, ``p_value``, ``p_adjusted``, ``adjust`` and ``significant``
    (``p_adjusted`` < 1 − ``confidence``). Segments with fewer than ``min_n`` answers are left
    out (their intervals are too wide to rank)."""
    one_of("adjust", adjust, ADJUSTMENTS)
    seg = nps_by(df, by, score_col=score_col, method=method, confidence=confidence, min_n=min_n)
    seg = seg[~seg["small_sample"].astype(bool)]
    if len(seg) > MAX_PAIRS_SEGMENTS:
        raise CxValueError(f"{by!r} has {len(seg)} segments with {min_n}+ answers: all-pairs comparisons are made "
                           f"for at most {MAX_PAIRS_SEGMENTS} (use --compare A,B for one pair)")
    frame = pd.DataFrame({"seg": df[by].to_numpy(), "_cat": classify_nps(df[score_col]).to_numpy()})
    counts = (frame[frame["_cat"].notna()].groupby("seg", observed=True)["_cat"].value_counts().unstack(fill_value=0)
              .reindex(columns=list(CATEGORIES), fill_value=0))
    ests = [(str(v), nps_from_counts(*(int(counts.loc[v, c]) for c in ("promoter", "passive", "detractor")), method=method,
                                     confidence=confidence)) for v in seg[by]]
    rows = []
    for i in range(len(ests)):
        for j in range(i + 1, len(ests)):
            (a, ea), (b, eb) = ests[i], ests[j]
            d = nps_difference(ea, eb, method=method, confidence=confidence)
            rows.append({"a": a, "b": b, "n_a": ea.n, "n_b": eb.n, "nps_a": d.nps_a, "nps_b": d.nps_b,
                         "difference": d.difference, "std_error": d.std_error, "z": d.z, "p_value": d.p_value,
                         "ci_low": d.ci_low, "ci_high": d.ci_high})
    out = pd.DataFrame(rows, columns=["a", "b", "n_a", "n_b", "nps_a", "nps_b", "difference", "std_error", "z",
                                      "p_value", "ci_low", "ci_high"])
    out["p_adjusted"] = adjust_p(out["p_value"], adjust) if len(out) else []
    out["adjust"] = adjust
    out["significant"] = out["p_adjusted"] < 1.0 - confidence
    return out


# --------------------------------------------------------------------------- tables of several breakdowns
def segments_long(df: pd.DataFrame, breakdowns, *, score_col: str = "nps", method: str = "wald",
                  confidence: float = 0.95, min_n: int = 30) -> pd.DataFrame:
    """:func:`cxvalue.voice.nps.nps_by` of each breakdown column in long form: ``by``,
    ``segment`` (its value, as text) and the NPS columns; breakdowns without values are left out."""
    segs = []
    for by in breakdowns:
        if by not in df.columns or df[by].notna().sum() == 0:
            continue
        tab = nps_by(df, by, score_col=score_col, method=method, confidence=confidence, min_n=min_n)
        tab = tab.rename(columns={by: "segment"})
        tab["segment"] = tab["segment"].astype(str)
        tab.insert(0, "by", by)
        segs.append(tab)
    return pd.concat(segs, ignore_index=True) if segs else pd.DataFrame()


def summary_frame(scores, *, confidence: float = 0.95, min_n: int = 30, first: str = "wald") -> pd.DataFrame:
    """One row per interval method (``first`` first) of :func:`cxvalue.voice.nps.nps_score`."""
    rows = [nps_score(scores, method=m, confidence=confidence, min_n=min_n).to_dict()
            for m in sorted(METHODS, key=lambda m: m != first)]
    summary = pd.DataFrame(rows)
    return summary[["method", "n", "promoters", "passives", "detractors", "promoters_pct", "passives_pct",
                    "detractors_pct", "nps", "center", "std_error", "ci_low", "ci_high", "confidence"]]


# --------------------------------------------------------------------------- one analysis, all options
def nps_analysis(data, *, score: str = "nps", by=None, trend: str | None = None, compare=None,
                 date_col: str = "date", since=None, until=None, method: str = "wald",
                 confidence: float = 0.95, min_n: int = MIN_N, adjust: str = "holm") -> dict[str, pd.DataFrame]:
    """NPS of survey answers with every breakdown the ``nps`` command and page offer.

    ``data`` is a frame of answers or a store (an Ibis backend: its responses, with the
    customers' attributes and value tier joined when ``by`` asks for them; see
    :func:`cxvalue.voice.inputs.nps_answers`). ``by``: breakdown columns (``"period"``
    = the ``trend`` period, default quarter, of ``date_col``); ``trend``: ``"M"``, ``"Q"``
    or ``"Y"``; ``compare``: two values ``(a, b)`` of the first ``by`` column whose NPS are
    tested against each other; ``since`` / ``until`` keep the answers dated in between.

    Returns frames named like the store's result tables: ``nps_summary`` (one row per
    interval method, ``method`` first), ``nps_segments`` (long: ``by``, ``segment``, the
    :func:`nps_by` columns), ``nps_trend`` (``freq`` and the :func:`nps_trend` columns) and
    ``nps_compare`` (one row: ``by``, ``a``, ``b`` and the :class:`NpsDifference` fields);
    the last three only when asked for. With ``by``: ``nps_pairwise`` (long: ``by`` and the
    :func:`nps_pairwise` columns, p-values adjusted by ``adjust`` over the pairs of each
    breakdown; a breakdown of more than :data:`MAX_PAIRS_SEGMENTS` segments is left out with a
    warning); with ``by`` and ``trend``: ``nps_segment_trend`` (``by``, ``segment``, ``freq``
    and the :func:`nps_trend` columns per segment of the first breakdown).
    """
    from .inputs import filter_period
    one_of("method", method, METHODS)
    if trend is not None:
        one_of("trend", trend, FREQS)
    byl = [by] if isinstance(by, str) else list(by or [])
    if isinstance(data, pd.DataFrame):
        df = data
    else:
        from .inputs import nps_answers
        df = nps_answers(data, score=score, date_col=date_col, columns=byl)
    from ..columns import match_column, match_value
    score = match_column(df.columns, score, "--score", "the survey data")
    df = filter_period(df, since, until, date_col)
    if "period" in byl:
        if date_col not in df.columns:
            raise CxValueError(f"--by period needs a {date_col!r} column (use --date-col)")
        per = pd.to_datetime(df[date_col], errors="coerce").dt.to_period(FREQS[trend or "Q"]).astype(str)
        df = df.assign(period=per)
    byl = [b if b == "period" else match_column(df.columns, b, "--by", "the survey data") for b in byl]
    if trend is not None and date_col not in df.columns:
        raise CxValueError(f"--trend needs a {date_col!r} column (use --date-col)")
    if compare is not None and not byl:
        raise CxValueError("--compare A,B needs --by COLUMN: the column whose two values are compared")
    if compare is not None:
        col = df[byl[0]].astype(str)
        a, b = (str(match_value(col.dropna().unique(), str(v), "--compare", byl[0])) for v in compare)
    out = {"nps_summary": summary_frame(df[score], confidence=confidence, min_n=min_n, first=method)}
    if byl:
        out["nps_segments"] = segments_long(df, byl, score_col=score, method=method, confidence=confidence,
                                            min_n=min_n)
    if trend is not None:
        tr = nps_trend(df, date_col, trend, score_col=score, method=method, confidence=confidence, min_n=min_n)
        tr.insert(0, "freq", trend)
        out["nps_trend"] = tr
    if byl:
        pairs = []
        for col_by in byl:
            try:
                pw = nps_pairwise(df, col_by, score_col=score, method=method, confidence=confidence, adjust=adjust,
                                  min_n=min_n)
            except CxValueError as exc:
                warnings.warn(str(exc), CxValueWarning, stacklevel=2)
                continue
            pw.insert(0, "by", col_by)
            pairs.append(pw)
        if pairs:
            out["nps_pairwise"] = pd.concat(pairs, ignore_index=True)
    if trend is not None and byl and byl[0] != "period":
        st = nps_trend(df, date_col, trend, score_col=score, by=byl[0], method=method, confidence=confidence,
                       min_n=min_n)
        st = st.rename(columns={byl[0]: "segment"})
        st["segment"] = st["segment"].astype(str)
        st.insert(0, "freq", trend)
        st.insert(0, "by", byl[0])
        out["nps_segment_trend"] = st
    if compare is not None:
        d = nps_difference(df.loc[(col == a).to_numpy(), score], df.loc[(col == b).to_numpy(), score],
                           method=method, confidence=confidence)
        out["nps_compare"] = pd.DataFrame([{"by": byl[0], "a": a, "b": b, **d.to_dict()}])
    return out
