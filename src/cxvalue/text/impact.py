"""What the pain points cost in NPS (concepts.md D6+): per theme, how often it is mentioned, with
which sentiment, the NPS of those who mention it against the others, and the zenloop-style
impact; the themes' trend by period and touchpoint; themes as extra drivers of the key driver
analysis; and the verbatims behind each theme.

**Impact** of a theme = NPS(all answers) − NPS(all answers without the detractors who mention
the theme), in NPS points. It is ≤ 0: −4.2 means that NPS would be 4.2 points higher if the
detractors naming this theme were not detractors — roughly what fixing the pain is worth
(``gain`` = −impact). With n answers, P promoters, D detractors of whom D_t mention the theme:
impact = 100·(P − D)/n − 100·(P − D + D_t)/(n − D_t).

**Interval**: a bootstrap percentile interval at ``confidence``. Resampling the n respondents
with replacement only changes four counts — promoters, passives, detractors mentioning the
theme, other detractors — so each replicate is one multinomial draw of those counts
(exactly the respondent bootstrap, at no cost per answer); ``n_boot`` replicates, seeded by
``random_state``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import CxValueError, one_of
from ..voice.nps import FREQS, classify_nps, nps_from_counts
from .themes import negative_mask

__all__ = ["theme_impact", "impact_from_counts", "theme_trend", "theme_drivers", "theme_verbatims"]


def _check_frame(df, cols, what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise CxValueError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise CxValueError(f"{what}: column(s) {missing} not in the data; available: "
                           f"{', '.join(map(str, df.columns))}")


def _themes(df: pd.DataFrame, theme_columns, what: str) -> list[str]:
    if theme_columns is None:
        cols = [c for c in df.columns if c != "themes" and pd.api.types.is_bool_dtype(df[c])]
        if not cols:
            raise CxValueError(f"{what}: no bool theme columns in the data: pass theme_columns=[...]")
        return cols
    cols = [theme_columns] if isinstance(theme_columns, str) else list(theme_columns)
    _check_frame(df, cols, what)
    for c in cols:
        s = df[c]
        v = s.dropna()
        if not (pd.api.types.is_bool_dtype(s) or (pd.api.types.is_numeric_dtype(s) and v.isin([0, 1]).all())
                or (s.dtype == object and v.map(lambda x: isinstance(x, (bool, np.bool_))).all())):
            raise CxValueError(f"{what}: theme column {c!r} must be bool (or 0/1), got dtype {s.dtype}")
    return cols


def _bools(df: pd.DataFrame, cols) -> np.ndarray:
    return np.column_stack([df[c].fillna(False).to_numpy(dtype=bool) for c in cols]) if cols else \
        np.zeros((len(df), 0), bool)


def _commented(df: pd.DataFrame, text_col) -> np.ndarray:
    """Rows with a comment: ``text_col`` (default: ``comment``, else ``text``) non-empty, or true
    when it is a bool column; all rows when there is no such column."""
    col = text_col if text_col is not None else next((c for c in ("comment", "text") if c in df.columns), None)
    if col is None:
        return np.ones(len(df), bool)
    if col not in df.columns:
        raise CxValueError(f"text_col={col!r} is not a column of the data")
    s = df[col]
    if pd.api.types.is_bool_dtype(s):   # a "has a comment" column
        return s.to_numpy(dtype=bool)
    return (s.notna() & (s.astype(str).str.strip().str.len() > 0)).to_numpy(dtype=bool)


def _nps(p: int, a: int, d: int) -> float:
    return nps_from_counts(p, a, d).nps if p + a + d else float("nan")


def theme_impact(df: pd.DataFrame, *, theme_columns=None, nps_col: str = "nps", sentiment_col: str = "p_positive",
                 label_col: str = "sentiment", text_col=None, confidence: float = 0.95, n_boot: int = 2000,
                 random_state=0) -> pd.DataFrame:
    """Per theme: mentions, sentiment, NPS of mentioners vs the others, and the impact on NPS.

    ``df``: one row per survey answer with the 0-10 ``nps_col``, the bool ``theme_columns``
    (e.g. :func:`~cxvalue.text.themes.match_themes`' columns; default: every bool column),
    optionally ``sentiment_col`` (probability of positive) and ``label_col`` (negative /
    neutral / positive) from :mod:`cxvalue.text.sentiment`. Rows without an NPS answer are left
    out; answers without a comment count in NPS(all) and among the "others".

    Columns: ``theme``, ``mentions``, ``share`` (of the answers with a comment — ``text_col``,
    default ``comment`` or ``text`` when present, else of all answers), ``detractor_mentions``,
    ``mean_sentiment`` (mean ``sentiment_col`` of the mentioners), ``negative_share`` (of the
    mentioners whose comment is negative: ``label_col`` when present, else ``sentiment_col`` <
    0.5), ``nps_mentioners``, ``nps_others``, ``nps_all``, ``impact`` = NPS(all) − NPS(all
    without the theme's detractors) (≤ 0; see the module doc), ``ci_low`` / ``ci_high``
    (bootstrap percentile interval of the impact at ``confidence``, ``n_boot`` multinomial
    replicates), ``gain`` (= −impact: the points NPS would gain), ``n`` (answers). Sorted by
    impact, the most costly theme first.
    """
    cols = _themes(df, theme_columns, "theme_impact")
    _check_frame(df, [nps_col], "theme_impact")
    _check_interval(confidence, n_boot)
    cat = classify_nps(df[nps_col]).to_numpy()
    ok = pd.notna(cat)
    d = df[ok]
    cat = cat[ok].astype(str)
    n = len(d)
    if n == 0:
        raise CxValueError(f"theme_impact: no NPS answers in column {nps_col!r}")
    M = _bools(d, cols)
    prom, pas, det = cat == "promoter", cat == "passive", cat == "detractor"
    P, A, D = int(prom.sum()), int(pas.sum()), int(det.sum())
    commented = _commented(d, text_col)
    n_comm = int(commented.sum())
    sent = pd.to_numeric(d[sentiment_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan) \
        if sentiment_col in d.columns else None
    if label_col in d.columns:
        neg = negative_mask(d[label_col])
    elif sent is not None:
        neg = negative_mask(d[sentiment_col])
    else:
        neg = None
    counts = pd.DataFrame({
        "theme": cols, "mentions": M.sum(axis=0).astype(int),
        "promoters": (M & prom[:, None]).sum(axis=0).astype(int),
        "passives": (M & pas[:, None]).sum(axis=0).astype(int),
        "detractors": (M & det[:, None]).sum(axis=0).astype(int),
        "mean_sentiment": [float(np.nanmean(sent[M[:, j]])) if sent is not None and M[:, j].any()
                           and np.isfinite(sent[M[:, j]]).any() else float("nan") for j in range(len(cols))],
        "negative_share": [float(neg[M[:, j]].mean()) if neg is not None and M[:, j].any() else float("nan")
                           for j in range(len(cols))]})
    return impact_from_counts(counts, promoters=P, passives=A, detractors=D, commented=n_comm,
                              confidence=confidence, n_boot=n_boot, random_state=random_state)


def _check_interval(confidence, n_boot) -> None:
    if not 0 < confidence < 1:
        raise CxValueError(f"confidence={confidence!r} is not valid: expected a number between 0 and 1")
    if int(n_boot) < 1:
        raise CxValueError(f"n_boot={n_boot!r} is not valid: expected 1 or more bootstrap replicates")


def impact_from_counts(counts: pd.DataFrame, *, promoters: int, passives: int, detractors: int, commented: int,
                       confidence: float = 0.95, n_boot: int = 2000, random_state=0) -> pd.DataFrame:
    """:func:`theme_impact` from counts — what an engine computes in one aggregation over any
    number of answers. ``counts``: one row per theme with ``theme``, ``mentions`` and the
    mentioners' ``promoters``, ``passives``, ``detractors``, ``mean_sentiment`` and
    ``negative_share``; the totals: promoters, passives and detractors of every answer with an
    NPS and the answers with a comment. Same columns, order and bootstrap draws as
    :func:`theme_impact`."""
    _check_interval(confidence, n_boot)
    P, A, D, n_comm = int(promoters), int(passives), int(detractors), int(commented)
    n = P + A + D
    if n == 0:
        raise CxValueError("theme_impact: no NPS answers")
    nps_all = _nps(P, A, D)
    rng = np.random.default_rng(random_state)
    a = (1 - confidence) / 2
    rows = []
    for r in counts.itertuples(index=False):
        k, pm, am, dt = int(r.mentions), int(r.promoters), int(r.passives), int(r.detractors)
        impact = nps_all - _nps(P, A, D - dt) if dt < n else float("nan")
        if dt == 0:
            lo = hi = 0.0
        else:
            draws = rng.multinomial(n, np.array([P, A, dt, D - dt], dtype=float) / n, size=int(n_boot))
            bp, ba, bt, bo = draws.T.astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                b = 100.0 * (bp - bt - bo) / n - 100.0 * (bp - bo) / (n - bt)
            b = b[np.isfinite(b)]
            lo, hi = (float(v) for v in np.quantile(b, [a, 1 - a]))
        rows.append({
            "theme": r.theme, "mentions": k, "share": k / n_comm if n_comm else float("nan"), "detractor_mentions": dt,
            "mean_sentiment": float(r.mean_sentiment), "negative_share": float(r.negative_share),
            "nps_mentioners": _nps(pm, am, dt), "nps_others": _nps(P - pm, A - am, D - dt), "nps_all": nps_all,
            "impact": float(impact), "ci_low": lo, "ci_high": hi, "gain": -float(impact), "n": n,
        })
    out = pd.DataFrame(rows, columns=["theme", "mentions", "share", "detractor_mentions", "mean_sentiment",
                                      "negative_share", "nps_mentioners", "nps_others", "nps_all", "impact", "ci_low",
                                      "ci_high", "gain", "n"])
    out = out.sort_values(["impact", "theme"], kind="stable").reset_index(drop=True)
    out.attrs.update(confidence=confidence, n_boot=int(n_boot), interval="bootstrap percentile (multinomial)")
    return out


def _dates(df: pd.DataFrame, date_col: str) -> pd.Series:
    col = df[date_col]
    dates = col if pd.api.types.is_datetime64_any_dtype(col) else pd.to_datetime(col, errors="coerce", format="mixed")
    bad = col.notna() & dates.isna()
    if bad.any():
        raise CxValueError(f"column {date_col!r}: expected dates, got {col[bad].iloc[0]!r} "
                           f"({int(bad.sum())} unparseable value(s))")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    return dates


def theme_trend(df: pd.DataFrame, *, theme_columns=None, date_col: str = "date", freq: str = "Q", by=None,
                text_col=None) -> pd.DataFrame:
    """Mentions of each theme per period (``freq``: ``M``, ``Q``, ``Y``) and ``by`` segment
    (e.g. ``touchpoint``): columns ``period`` ("2024Q1", as :func:`~cxvalue.voice.nps.nps_trend`),
    ``by`` columns, ``theme``, ``mentions``, ``share`` (of the comments in that period and
    segment; comments as in :func:`theme_impact`), ``comments``. Rows without a date are left
    out; periods without comments are not listed."""
    one_of("freq", freq, FREQS)
    cols = _themes(df, theme_columns, "theme_trend")
    byl = [] if by is None else ([by] if isinstance(by, str) else list(by))
    _check_frame(df, [date_col, *byl], "theme_trend")
    period = _dates(df, date_col).dt.to_period(FREQS[freq])
    commented = _commented(df, text_col)
    M = _bools(df, cols) & commented[:, None]
    frame = pd.DataFrame(M.astype(np.int64), columns=cols, index=df.index)
    for b in byl:
        frame[b] = df[b].astype(object).where(df[b].notna(), None).to_numpy()
    frame["period"] = period.to_numpy()
    frame["comments"] = commented.astype(np.int64)
    frame = frame[period.notna().to_numpy()]
    keys = ["period", *byl]
    g = frame.groupby(keys, dropna=False, sort=True)[[*cols, "comments"]].sum()
    g = g[g["comments"] > 0]
    long = g[cols].stack().rename("mentions").reset_index().rename(columns={f"level_{len(keys)}": "theme"})
    long.columns = [*keys, "theme", "mentions"]
    long = long.merge(g["comments"].reset_index(), on=keys, how="left")
    long["share"] = long["mentions"] / long["comments"]
    long["period"] = long["period"].astype(str)
    return long[[*keys, "theme", "mentions", "share", "comments"]].reset_index(drop=True)


def theme_drivers(df: pd.DataFrame, *, theme_columns=None, drivers=None, outcome: str = "nps",
                  negative_only: bool = False, sentiment_col: str = "p_positive", label_col: str = "sentiment",
                  text_col=None, commented_only: bool = True, min_mentions: int = 30,
                  method: str = "relative_weights", n_boot: int = 0, confidence: float = 0.95,
                  random_state=0, **kda_params):
    """Themes as extra 0/1 drivers of the key driver analysis
    (:class:`~cxvalue.perception.drivers.KeyDriverAnalysis`: relative weights and Shapley
    values of R²).

    ``drivers``: the rating columns (default: :func:`~cxvalue.perception.drivers.detect_drivers`,
    e.g. the ``experience_*`` ratings); the themes enter beside them as 0/1 columns — their
    mention, or with ``negative_only`` their mention in a negative comment (a pain point;
    ``label_col`` / ``sentiment_col`` as in :func:`theme_impact`). ``commented_only`` (default)
    fits on the answers with a comment, where "not mentioned" means something; themes with
    fewer than ``min_mentions`` mentions (or mentioned by everyone) are left out.

    Returns ``(table, model)``: ``table`` is ``model.table(method)`` with a ``kind`` column
    (``rating`` / ``theme``) — for a theme, ``performance`` is its mention share; ``model`` the
    fitted :class:`KeyDriverAnalysis`.
    """
    from ..perception.drivers import KeyDriverAnalysis, detect_drivers
    cols = _themes(df, theme_columns, "theme_drivers")
    _check_frame(df, [outcome], "theme_drivers")
    d = df[_commented(df, text_col)] if commented_only else df
    M = _bools(d, cols)
    if negative_only:
        if label_col in d.columns:
            neg = negative_mask(d[label_col])
        elif sentiment_col in d.columns:
            neg = negative_mask(d[sentiment_col])
        else:
            raise CxValueError(f"theme_drivers: negative_only needs a {label_col!r} or {sentiment_col!r} column")
        M = M & neg[:, None]
    counts = M.sum(axis=0)
    keep = [c for c, k in zip(cols, counts) if min_mentions <= k < len(d)]
    if not keep:
        raise CxValueError(f"theme_drivers: no theme has at least {min_mentions} mentions "
                           f"(of {len(d)} answers): lower min_mentions")
    if drivers is None:
        drivers = detect_drivers(d, outcome, exclude=cols)
    drivers = [drivers] if isinstance(drivers, str) else list(drivers)
    names = {c: f"theme_{c}" for c in keep}
    data = d[[outcome, *drivers]].copy()
    for j, c in enumerate(cols):
        if c in names:
            data[names[c]] = M[:, j].astype(float)
    model = KeyDriverAnalysis(methods=(method,), n_boot=n_boot, confidence=confidence, random_state=random_state,
                              **kda_params)
    model.fit(data, outcome=outcome, drivers=[*drivers, *names.values()])
    table = model.table(method)
    back = {v: k for k, v in names.items()}
    table.insert(1, "kind", np.where(table["driver"].isin(list(back)), "theme", "rating"))
    table["driver"] = table["driver"].map(lambda x: back.get(x, x))
    return table, model


def theme_verbatims(df: pd.DataFrame, *, theme_columns=None, text_col: str = "comment", n: int = 5,
                    negative_first: bool = True, sentiment_col: str = "p_positive", label_col: str = "sentiment",
                    date_col: str | None = "date", columns=()) -> pd.DataFrame:
    """Up to ``n`` verbatims per theme: columns ``theme``, ``rank``, ``verbatim`` (the comment),
    then ``date_col``, ``sentiment_col`` and ``columns`` when present. Negative comments first
    (``negative_first``; most negative first), then the most recent.

    The text is the customer's own: a view shown to a role without the ``personal_data``
    permission masks it (``interfaces.views.customers.mask`` scrubs the ``verbatim`` column of
    e-mails, phone numbers and names) — this function leaves the data as it is.
    """
    cols = _themes(df, theme_columns, "theme_verbatims")
    _check_frame(df, [text_col], "theme_verbatims")
    if int(n) < 1:
        raise CxValueError(f"n={n!r} is not valid: expected 1 or more verbatims per theme")
    extra = [c for c in (date_col, sentiment_col, *columns) if c and c in df.columns]
    d = df[_commented(df, text_col)]
    keys, asc = [], []
    if negative_first:
        if label_col in d.columns:
            d = d.assign(_neg=negative_mask(d[label_col]))
            keys.append("_neg")
            asc.append(False)
        if sentiment_col in d.columns:
            keys.append(sentiment_col)
            asc.append(True)
    if date_col and date_col in d.columns:
        keys.append(date_col)
        asc.append(False)
    if keys:
        d = d.sort_values(keys, ascending=asc, kind="stable", na_position="last")
    parts = []
    for c in cols:
        hit = d[d[c].fillna(False).astype(bool)].head(int(n))
        if not len(hit):
            continue
        part = pd.DataFrame({"theme": c, "rank": np.arange(1, len(hit) + 1), "verbatim": hit[text_col].to_numpy()})
        for e in extra:
            part[e] = hit[e].to_numpy()
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["theme", "rank", "verbatim", *extra])
    return pd.concat(parts, ignore_index=True)
