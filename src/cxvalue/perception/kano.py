"""Kano classification of product / service features (Kano et al. 1984; Berger et al. 1993).

Each feature is asked twice: *functional* ("How do you feel if the app shows your seat
upgrade options?") and *dysfunctional* ("... if it does not?"), each answered on the Kano
scale 1 like, 2 expect it (must-be), 3 neutral, 4 can live with it, 5 dislike. The pair of
answers gives one category by the evaluation table (rows functional, columns dysfunctional)::

                 like  expect  neutral  live with  dislike
    like           Q      A       A         A         O
    expect         R      I       I         I         M
    neutral        R      I       I         I         M
    live with      R      I       I         I         M
    dislike        R      R       R         R         Q

A attractive (delights when present, no harm when absent), O one-dimensional (the more the
better), M must-be (expected: absence dissatisfies, presence does not delight), I
indifferent, R reverse (the respondent prefers its absence), Q questionable (contradictory
answers). Per feature: the count and share of each category, the category (the most
frequent one; ties broken in the order M, O, A, I, R, Q — the order of priority of Berger et
al.), whether it is significantly more frequent than the runner-up (Fong's 1996 test:
|a − b| > 1.65 √((a + b)(2n − a − b) / 2n)), and the satisfaction coefficients
Better = (A + O) / (A + O + M + I) and Worse = −(O + M) / (A + O + M + I).

Answers may be the codes 1-5 or the words in English or Chinese (like / expect / neutral /
live with / dislike; 喜欢 / 理所当然 / 无所谓 / 能忍受 / 不喜欢, and common variants).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import CxValueError

__all__ = ["CATEGORIES", "kano_category", "kano_table", "find_kano_pairs", "answer_code"]

CATEGORIES = ("M", "O", "A", "I", "R", "Q")      # priority order for ties (Berger et al. 1993)
NAMES = {"A": "attractive", "O": "one_dimensional", "M": "must_be", "I": "indifferent", "R": "reverse",
         "Q": "questionable"}
_TABLE = ("QAAAO", "RIIIM", "RIIIM", "RIIIM", "RRRRQ")   # functional row × dysfunctional column, answers 1..5
_WORDS = {
    1: ("like", "i like it", "i like it that way", "delighted", "喜欢", "很喜欢", "我喜欢"),
    2: ("expect", "expect it", "i expect it", "i expect it that way", "must be", "must-be", "it must be that way", "理所当然", "应该的", "必须的"),
    3: ("neutral", "i am neutral", "don't care", "indifferent", "无所谓", "中立", "没感觉"),
    4: ("live with", "i can live with it", "can live with it", "tolerate", "能忍受", "可以忍受", "勉强接受"),
    5: ("dislike", "i dislike it", "i dislike it that way", "不喜欢", "很不喜欢", "我不喜欢"),
}
_LOOKUP = {w: k for k, ws in _WORDS.items() for w in ws}
_PAIR = re.compile(r"^(?:kano_)?(?P<feature>.+?)[_ ](?P<kind>functional|dysfunctional|func|dysf|f|d)$", re.I)


def answer_code(value) -> float:
    """A Kano answer as its code 1-5 (NaN when missing or not a Kano answer)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return v if v in (1, 2, 3, 4, 5) else np.nan
    text = re.sub(r"\s+", " ", str(value).strip().lower())
    try:
        v = float(text)          # "3", "3.0"
        return v if v in (1, 2, 3, 4, 5) else np.nan
    except ValueError:
        pass
    return float(_LOOKUP[text]) if text in _LOOKUP else np.nan


def kano_category(functional, dysfunctional) -> pd.Series:
    """The category (A, O, M, I, R, Q) of each answer pair; missing when either is missing."""
    f = pd.Series(functional).map(answer_code).to_numpy(float)
    d = pd.Series(dysfunctional).map(answer_code).to_numpy(float)
    out = np.full(len(f), None, dtype=object)
    ok = ~(np.isnan(f) | np.isnan(d))
    out[ok] = [_TABLE[int(a) - 1][int(b) - 1] for a, b in zip(f[ok], d[ok])]
    return pd.Series(out, index=getattr(functional, "index", None), name="kano")


def find_kano_pairs(columns) -> dict[str, tuple[str, str]]:
    """Feature → (functional column, dysfunctional column) from names like
    ``kano_<feature>_functional`` / ``kano_<feature>_dysfunctional`` (also ``_func``/``_dysf``,
    ``_f``/``_d`` after a ``kano_`` prefix)."""
    found: dict[str, dict[str, str]] = {}
    for c in map(str, columns):
        m = _PAIR.match(c)
        if not m:
            continue
        kind = m.group("kind").lower()
        if kind in ("f", "d") and not c.lower().startswith("kano_"):
            continue
        side = "d" if kind.startswith("d") else "f"
        found.setdefault(m.group("feature").strip("_ ").lower(), {})[side] = c
    return {k: (v["f"], v["d"]) for k, v in sorted(found.items()) if set(v) == {"f", "d"}}


def _fong(a: int, b: int, n: int) -> bool:
    """Fong (1996): is the most frequent category (a answers) significantly above the next (b)?"""
    if n == 0:
        return False
    return abs(a - b) > 1.65 * np.sqrt((a + b) * (2 * n - a - b) / (2 * n))


def kano_table(data: pd.DataFrame, pairs: dict[str, tuple[str, str]] | None = None, *, min_n: int = 30) -> pd.DataFrame:
    """One row per feature: ``feature``, ``functional`` / ``dysfunctional`` columns, ``n``
    (pairs answered), ``A`` ``O`` ``M`` ``I`` ``R`` ``Q`` counts and ``share_<X>``, ``category``
    (code) and ``category_name``, ``runner_up``, ``significant`` (Fong's test), ``better``,
    ``worse`` and ``small_sample`` (n < ``min_n``). ``pairs``: feature → (functional,
    dysfunctional) columns (default: :func:`find_kano_pairs`)."""
    if not isinstance(data, pd.DataFrame):
        raise CxValueError(f"expected a DataFrame of survey answers, got {type(data).__name__}")
    pairs = pairs if pairs is not None else find_kano_pairs(data.columns)
    if not pairs:
        raise CxValueError("no Kano question pairs: name them kano_<feature>_functional and "
                           "kano_<feature>_dysfunctional, or give --pairs feature=functional_col,dysfunctional_col")
    rows = []
    for feature, (fc, dc) in pairs.items():
        for c in (fc, dc):
            if c not in data.columns:
                raise CxValueError(f"Kano feature {feature!r}: column {c!r} not in the data")
        raw = data[[fc, dc]]
        cat = kano_category(raw[fc], raw[dc])
        bad = raw.notna().all(axis=1) & cat.isna()
        if bad.any():
            i = bad.to_numpy().nonzero()[0][0]
            raise CxValueError(f"Kano feature {feature!r}: row {i + 1} has answers {raw.iloc[i, 0]!r} / {raw.iloc[i, 1]!r}; "
                               "expected 1-5 or like / expect / neutral / live with / dislike")
        counts = cat.value_counts().reindex(list(CATEGORIES), fill_value=0)
        n = int(counts.sum())
        ranked = sorted(CATEGORIES, key=lambda k: (-counts[k], CATEGORIES.index(k)))
        top, second = ranked[0], ranked[1]
        base = counts["A"] + counts["O"] + counts["M"] + counts["I"]
        row = {"feature": feature, "functional": fc, "dysfunctional": dc, "n": n,
               **{k: int(counts[k]) for k in CATEGORIES},
               **{f"share_{k}": (counts[k] / n if n else np.nan) for k in CATEGORIES},
               "category": top if n else None, "category_name": NAMES[top] if n else None,
               "runner_up": second if n else None,
               "significant": bool(_fong(int(counts[top]), int(counts[second]), n)),
               "better": (counts["A"] + counts["O"]) / base if base else np.nan,
               "worse": -(counts["O"] + counts["M"]) / base if base else np.nan,
               "small_sample": n < min_n}
        rows.append(row)
    return pd.DataFrame(rows)
