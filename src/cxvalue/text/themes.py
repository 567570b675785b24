"""Themes and pain points of comments and complaints, in Chinese and English (concepts.md D6).

Three ways to say what a comment is about, all offline:

* **The lexicon** (:func:`load_lexicon`, :func:`match_themes`): a bilingual theme lexicon,
  ``themes.yaml`` in this package, keyed to the six experience dimensions and the seeds' pain
  points (delay, baggage, refunds, seats, food, the app, staff attitude, ...), each theme with
  the closed loop's root-cause code. Users extend or replace it with their own YAML. English
  terms match on word boundaries with their inflections ("delay" → delays, delayed), Chinese
  terms as substrings of the raw text; every theme is one compiled RE2 alternation per
  language run by Arrow over the whole column (about 100,000 texts/s on one core), so a
  million comments take seconds. Matching ignores negation: "not delayed"
  mentions the delay theme — the comment's sentiment says which way.
* **Pain points** (:func:`pain_points`): the themes of negative comments; a complaint's
  suggested root cause (:func:`suggest_root_cause`) is the root-cause code of its *first*
  matched theme in lexicon order, so the lexicon lists the specific causes (baggage, delay,
  cancellation, booking, miles, refunds) before the general ones (staff, price, ease, brand).
* **From the data** (:func:`discover_themes`): NMF topics over TF-IDF of jieba / word tokens,
  per language, labelled with their top keywords — the themes the lexicon does not know yet
  (:meth:`DiscoveredThemes.to_lexicon` turns them into lexicon entries to edit); and
  :class:`ThemeClassifier`, a supervised TF-IDF + logistic-regression classifier of labelled
  reasons (the complaint categories of a contact centre, say).

The NPS impact of each theme (NPS(all) − NPS(all without the theme's detractors)), its trend
and themes as key drivers are in :mod:`cxvalue.text.impact`.
"""
from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CxValueError
from ..estimator import Estimator, summary_table
from .language import LANGS, detect_languages

__all__ = [
    "DIMENSIONS", "load_lexicon", "lexicon_table", "match_themes", "theme_dimensions", "pain_points",
    "suggest_root_cause", "suggest_root_causes", "discover_themes", "DiscoveredThemes", "ThemeClassifier",
    "topic_purity",
]

#: the six experience dimensions a theme may belong to (the responses' ``experience_*`` columns)
DIMENSIONS = ("product", "price", "service", "convenience", "brand_image", "relationship")
_FIELDS = ("dimension", "root_cause", "en", "zh", "terms")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


# --------------------------------------------------------------------------- the lexicon
def _lex_error(src, key: str, msg: str) -> CxValueError:
    return CxValueError(f"theme lexicon {src}: {key}: {msg}")


@functools.lru_cache(maxsize=1)
def _default_raw() -> dict:
    import yaml
    text = resources.files("cxvalue").joinpath("text/themes.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _read_yaml(path: Path) -> dict:
    import yaml
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CxValueError(f"theme lexicon {path}: cannot read it: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise CxValueError(f"theme lexicon {path}: not valid YAML{where}: "
                           f"{getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise CxValueError(f"theme lexicon {path}: expected a mapping with a 'themes:' key, "
                           f"got {type(data).__name__}")
    return data


def _check_terms(src, code: str, terms, *, partial: bool) -> dict[str, list[str]]:
    key = f"themes.{code}.terms"
    if not isinstance(terms, dict):
        raise _lex_error(src, key, f"expected a mapping {{en: [...], zh: [...]}}, got {type(terms).__name__}")
    unknown = [k for k in terms if k not in LANGS]
    if unknown:
        raise _lex_error(src, f"{key}.{unknown[0]}", f"unknown language: expected {' or '.join(LANGS)}")
    out = {}
    for lang in LANGS:
        items = terms.get(lang, [] if partial else None)
        if items is None:
            items = []
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list):
            raise _lex_error(src, f"{key}.{lang}", f"expected a list of terms, got {type(items).__name__}")
        clean = []
        for i, term in enumerate(items):
            if isinstance(term, (int, float)) and not isinstance(term, bool):
                term = str(term)
            if not isinstance(term, str) or not term.strip() or not term.strip(" *=-"):
                raise _lex_error(src, f"{key}.{lang}[{i}]", f"expected a non-empty term, got {term!r}")
            clean.append(term.strip().lower())
        out[lang] = list(dict.fromkeys(clean))
    return out


def _check_theme(src, code, entry, root_causes, *, partial: bool) -> dict:
    if not isinstance(code, str) or not _CODE.match(code):
        raise _lex_error(src, f"themes.{code}", "a theme code must be lower-case letters, digits and _ "
                                                "(starting with a letter)")
    key = f"themes.{code}"
    if not isinstance(entry, dict):
        raise _lex_error(src, key, f"expected a mapping of {', '.join(_FIELDS)}, got {type(entry).__name__}")
    unknown = [k for k in entry if k not in (*_FIELDS, "replace_terms")]
    if unknown:
        raise _lex_error(src, f"{key}.{unknown[0]}", f"unknown field: expected {', '.join(_FIELDS)}")
    missing = [] if partial else [k for k in _FIELDS if k not in entry]
    if missing:
        raise _lex_error(src, f"{key}.{missing[0]}", "missing")
    out = {}
    if "dimension" in entry:
        d = entry["dimension"]
        if d is not None and d not in DIMENSIONS:
            raise _lex_error(src, f"{key}.dimension", f"{d!r} is not a dimension: expected one of "
                                                      f"{', '.join(DIMENSIONS)} or null")
        out["dimension"] = d
    if "root_cause" in entry:
        rc = entry["root_cause"]
        if rc not in root_causes:
            raise _lex_error(src, f"{key}.root_cause", f"{rc!r} is not a root-cause code: expected one of "
                                                       f"{', '.join(root_causes)}")
        out["root_cause"] = rc
    for lang in LANGS:
        if lang in entry:
            v = entry[lang]
            if not isinstance(v, str) or not v.strip():
                raise _lex_error(src, f"{key}.{lang}", f"expected a label, got {v!r}")
            out[lang] = v.strip()
    if "terms" in entry:
        out["terms"] = _check_terms(src, code, entry["terms"], partial=partial)
        if not partial and not any(out["terms"].values()):
            raise _lex_error(src, f"{key}.terms", "no terms in either language")
    return out


def _parse(data: dict, src, root_causes, *, partial: bool) -> tuple[dict, dict]:
    unknown = [k for k in data if k not in ("themes", "replace", "drop", "order")]
    if unknown:
        raise _lex_error(src, unknown[0], "unknown key: expected themes, replace, drop, order")
    themes = data.get("themes") or {}
    if not isinstance(themes, dict):
        raise _lex_error(src, "themes", f"expected a mapping of theme code to entry, got {type(themes).__name__}")
    out = {code: _check_theme(src, code, entry, root_causes, partial=partial) for code, entry in themes.items()}
    return out, data


def load_lexicon(path: str | Path | None = None, *, root_causes=None) -> dict[str, dict]:
    """The theme lexicon: ``{code: {dimension, root_cause, en, zh, terms: {zh: [...], en: [...]}}}``
    in lexicon order.

    ``path=None`` gives the default (``themes.yaml`` in this package). A user YAML file has a
    ``themes:`` mapping in the same layout and
    * extends the default: a new code is appended (complete: dimension, root_cause, en, zh,
      terms); an existing code's given fields replace the default's, and its ``terms`` are
      added to the default terms (``replace_terms: true`` replaces them);
    * or replaces it (``replace: true``: the file is the whole lexicon).
    ``drop: [codes]`` removes themes, ``order: [codes]`` moves the named themes to the front
    (in that order; the order decides the suggested root cause). ``root_causes`` is the list of
    valid root-cause codes (default: the closed loop's taxonomy). A mistake raises a
    :class:`CxValueError` naming the file and the key.
    """
    from ..loop.taxonomy import root_cause_codes
    if isinstance(root_causes, (list, tuple)) and all(isinstance(c, str) for c in root_causes):
        codes = list(root_causes)
    else:
        codes = root_cause_codes(root_causes)
    default, _ = _parse(_default_raw(), "themes.yaml (default)", codes, partial=False)
    if path is None:
        return copy.deepcopy(default)
    p = Path(path)
    data = _read_yaml(p)
    replace = data.get("replace", False)
    if not isinstance(replace, bool):
        raise _lex_error(p, "replace", f"expected true or false, got {replace!r}")
    user, _ = _parse(data, p, codes, partial=not replace)
    if replace:
        lex = user
        if not lex:
            raise _lex_error(p, "themes", "replace: true needs at least one theme")
    else:
        lex = copy.deepcopy(default)
        raw_themes = data.get("themes") or {}
        for code, entry in user.items():
            if code not in lex:
                missing = [k for k in _FIELDS if k not in entry]
                if missing:
                    raise _lex_error(p, f"themes.{code}.{missing[0]}", "missing (a new theme needs "
                                                                       f"{', '.join(_FIELDS)})")
                if not any(entry["terms"].values()):
                    raise _lex_error(p, f"themes.{code}.terms", "no terms in either language")
                lex[code] = entry
                continue
            base = lex[code]
            for k in ("dimension", "root_cause", "en", "zh"):
                if k in entry:
                    base[k] = entry[k]
            if "terms" in entry:
                replace_terms = raw_themes[code].get("replace_terms", False)
                if not isinstance(replace_terms, bool):
                    raise _lex_error(p, f"themes.{code}.replace_terms", f"expected true or false, got {replace_terms!r}")
                for lang in LANGS:
                    new = entry["terms"].get(lang, [])
                    if replace_terms:
                        base["terms"][lang] = list(new) if lang in raw_themes[code]["terms"] else base["terms"][lang]
                    else:
                        base["terms"][lang] = list(dict.fromkeys([*base["terms"][lang], *new]))
    for key in ("drop", "order"):
        items = data.get(key) or []
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list):
            raise _lex_error(p, key, f"expected a list of theme codes, got {type(items).__name__}")
        bad = [c for c in items if c not in lex]
        if bad:
            raise _lex_error(p, f"{key}[{items.index(bad[0])}]", f"{bad[0]!r} is not a theme of the lexicon")
        if key == "drop":
            for c in items:
                del lex[c]
        else:
            lex = {**{c: lex[c] for c in items}, **{c: v for c, v in lex.items() if c not in items}}
    if not lex:
        raise _lex_error(p, "drop", "no theme left")
    return lex


def lexicon_table(lexicon=None) -> pd.DataFrame:
    """One row per theme: ``theme``, ``en``, ``zh``, ``dimension``, ``root_cause``, ``terms_en``,
    ``terms_zh`` (term counts) — what the lexicon holds, for a report or a review."""
    lex = _lexicon(lexicon)
    return pd.DataFrame([{"theme": c, "en": e["en"], "zh": e["zh"], "dimension": e["dimension"],
                          "root_cause": e["root_cause"], "terms_en": len(e["terms"]["en"]),
                          "terms_zh": len(e["terms"]["zh"])} for c, e in lex.items()])


def _lexicon(lexicon) -> dict:
    if lexicon is None:
        return _default_lexicon()
    if isinstance(lexicon, (str, Path)):
        return load_lexicon(lexicon)
    if not isinstance(lexicon, dict) or not lexicon:
        raise CxValueError(f"lexicon: expected a dict from load_lexicon() or a YAML path, got {type(lexicon).__name__}")
    return lexicon


@functools.lru_cache(maxsize=1)
def _default_lexicon() -> dict:
    return load_lexicon()


# --------------------------------------------------------------------------- matching
_INFLECT = "(?:s|es|ed|d|ing)?"


def _en_regex(term: str) -> str:
    """RE2 pattern of one English term (see themes.yaml for the syntax)."""
    exact = term.endswith("=")
    term = term.rstrip("=").strip()
    words = [w for w in re.split(r"[\s\-]+", term) if w]
    parts = []
    for i, w in enumerate(words):
        last = i == len(words) - 1
        pieces = [re.escape(ch) if ch != "*" else r"\w*" for ch in w]
        body = "".join(pieces).replace("'", "['\u2019]")
        if last and not exact and not w.endswith("*"):
            alts = [body + _INFLECT]
            if len(w) > 2 and w.endswith("y") and w[-2] not in "aeiou":
                alts.append(re.escape(w[:-1]) + "(?:ies|ied)")
            if len(w) > 2 and w.endswith("e"):
                alts.append(re.escape(w[:-1]) + "ing")
            body = "(?:" + "|".join(alts) + ")" if len(alts) > 1 else alts[0]
        parts.append(body)
    return r"[\s\-]*".join(parts)


def _zh_regex(term: str) -> str:
    return "".join(re.escape(ch) if ch != "*" else r".{0,4}" for ch in term)


@functools.lru_cache(maxsize=32)
def _compiled(key: tuple) -> tuple[tuple[str, dict[str, str | None]], ...]:
    out = []
    for code, en, zh in key:
        pats: dict[str, str | None] = {}
        en_alts = sorted({_en_regex(t) for t in en}, key=len, reverse=True)
        pats["en"] = r"\b(?:" + "|".join(en_alts) + r")\b" if en_alts else None
        zh_alts = sorted({_zh_regex(t) for t in zh}, key=len, reverse=True)
        pats["zh"] = "(?:" + "|".join(zh_alts) + ")" if zh_alts else None
        out.append((code, pats))
    return tuple(out)


def _patterns(lex: dict):
    key = tuple((c, tuple(e["terms"]["en"]), tuple(e["terms"]["zh"])) for c, e in lex.items())
    return _compiled(key)


def _languages(languages, n: int, s: pd.Series) -> np.ndarray:
    if languages is None:
        return detect_languages(s)
    if isinstance(languages, str):
        return np.full(n, languages, dtype=object)
    lang = np.asarray(pd.Series(languages, dtype=object).to_numpy(), dtype=object)
    if len(lang) != n:
        raise CxValueError(f"languages: expected one language per text ({n}), got {len(lang)}")
    return lang


def _text_series(texts, name: str = "texts") -> pd.Series:
    if isinstance(texts, str):
        raise CxValueError(f"{name}: expected a list or column of texts, got one string — wrap it in a list")
    s = texts if isinstance(texts, pd.Series) else pd.Series(list(texts) if not isinstance(texts, np.ndarray)
                                                            else texts, dtype=object)
    return s


def _theme_lists(M: np.ndarray, codes: list[str]) -> list[list[str]]:
    """The codes of the True columns of each row of ``M`` (via the distinct row patterns)."""
    n, k = M.shape
    if n == 0:
        return []
    if k <= 62:
        key = M.astype(np.int64) @ (np.int64(1) << np.arange(k, dtype=np.int64))
        uniq, inv = np.unique(key, return_inverse=True)
        lists = [[codes[j] for j in range(k) if (int(u) >> j) & 1] for u in uniq]
    else:
        uniq, inv = np.unique(M, axis=0, return_inverse=True)
        lists = [[codes[j] for j in np.flatnonzero(u)] for u in uniq]
    inv = np.asarray(inv).reshape(-1)
    return [list(lists[i]) for i in inv]


def match_themes(texts, languages=None, lexicon=None) -> pd.DataFrame:
    """Which lexicon themes each text mentions.

    ``texts``: a list, array or Series of strings (missing values mention nothing);
    ``languages``: ``zh`` / ``en`` / ``none`` per text, one language for all, or None to detect
    them by script (:func:`~cxvalue.text.language.detect_language`); ``lexicon``: a dict from
    :func:`load_lexicon`, a YAML path, or None for the default.

    Returns one row per text (the Series' index when a Series is given) with one bool column
    per theme, in lexicon order, and ``themes``: the list of matched codes in lexicon order.
    English texts are matched with the English terms, Chinese texts with the Chinese terms.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    lex = _lexicon(lexicon)
    s = _text_series(texts)
    n = len(s)
    lang = _languages(languages, n, s)
    vals = s.to_numpy(dtype=object, na_value=None)
    vals = np.where([isinstance(v, str) for v in vals], vals, None) if n else vals
    arr = pa.array(vals.tolist() if n else [], type=pa.large_string())
    pats = _patterns(lex)
    codes = [c for c, _ in pats]
    M = np.zeros((n, len(codes)), dtype=bool)
    for lg in LANGS:
        idx = np.flatnonzero(lang == lg)
        if not len(idx):
            continue
        sub = arr.take(pa.array(idx))
        for j, (_, p) in enumerate(pats):
            if p[lg] is None:
                continue
            hit = pc.match_substring_regex(sub, p[lg], ignore_case=True).fill_null(False)
            M[idx, j] = hit.to_numpy(zero_copy_only=False)
    out = pd.DataFrame(M, columns=codes, index=s.index)
    out["themes"] = _theme_lists(M, codes)
    return out


def _theme_cols(frame: pd.DataFrame, lexicon=None) -> list[str]:
    if not isinstance(frame, pd.DataFrame):
        raise CxValueError(f"expected the frame of match_themes(), got {type(frame).__name__}")
    lex = _lexicon(lexicon)
    cols = [c for c in lex if c in frame.columns]
    if not cols:
        cols = [c for c in frame.columns if c != "themes" and pd.api.types.is_bool_dtype(frame[c])]
    if not cols:
        raise CxValueError("no theme columns: expected the bool theme columns of match_themes()")
    return cols


def theme_dimensions(themes_frame: pd.DataFrame, lexicon=None) -> pd.DataFrame:
    """The themes rolled up to the six experience dimensions: one bool column per dimension
    (True when any theme of that dimension is mentioned), in :data:`DIMENSIONS` order."""
    lex = _lexicon(lexicon)
    cols = _theme_cols(themes_frame, lex)
    out = {}
    for d in DIMENSIONS:
        members = [c for c in cols if c in lex and lex[c]["dimension"] == d]
        out[d] = themes_frame[members].any(axis=1).to_numpy() if members else np.zeros(len(themes_frame), bool)
    return pd.DataFrame(out, index=themes_frame.index)


def negative_mask(sentiment, n: int | None = None, *, threshold: float = 0.5) -> np.ndarray:
    """Which comments are negative, from ``sentiment``: labels (``negative`` / ``neutral`` /
    ``positive``), booleans (True = negative), probabilities of positive (negative below
    ``threshold``), or the frame of :mod:`cxvalue.text.sentiment` (its ``sentiment`` column,
    else ``p_positive``). Missing values are not negative."""
    if isinstance(sentiment, pd.DataFrame):
        if "sentiment" in sentiment.columns:
            sentiment = sentiment["sentiment"]
        elif "p_positive" in sentiment.columns:
            sentiment = sentiment["p_positive"]
        else:
            raise CxValueError("sentiment: expected a 'sentiment' or 'p_positive' column, got "
                               f"{', '.join(map(str, sentiment.columns))}")
    s = pd.Series(sentiment) if not isinstance(sentiment, pd.Series) else sentiment
    if n is not None and len(s) != n:
        raise CxValueError(f"sentiment: expected one value per comment ({n}), got {len(s)}")
    if pd.api.types.is_bool_dtype(s):
        return s.fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(s):
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if np.nanmin(x, initial=0.0) < 0 or np.nanmax(x, initial=0.0) > 1:
            raise CxValueError("sentiment: numbers must be probabilities of positive (0-1)")
        return np.nan_to_num(x, nan=1.0) < threshold
    labels = s.astype(object).to_numpy()
    known = {"negative", "neutral", "positive", None}
    bad = [v for v in labels if not (v is None or (isinstance(v, float) and np.isnan(v))) and v not in known]
    if bad:
        raise CxValueError(f"sentiment: expected negative / neutral / positive, got {bad[0]!r}")
    return np.array([v == "negative" for v in labels], dtype=bool)


def pain_points(themes_frame: pd.DataFrame, sentiment, *, lexicon=None, threshold: float = 0.5) -> pd.Series:
    """The pain points of each comment: its themes when the comment is negative, else ``[]``.

    ``themes_frame`` is :func:`match_themes`' result; ``sentiment`` one value per comment (see
    :func:`negative_mask`). Returns a Series of lists of codes (lexicon order) named
    ``pain_points`` with the frame's index; ``themes_frame[cols] & negative`` gives the bool
    version.
    """
    cols = _theme_cols(themes_frame, lexicon)
    neg = negative_mask(sentiment, len(themes_frame), threshold=threshold)
    M = themes_frame[cols].to_numpy(dtype=bool) & neg[:, None]
    return pd.Series(_theme_lists(M, cols), index=themes_frame.index, name="pain_points", dtype=object)


def suggest_root_cause(themes, lexicon=None) -> str | None:
    """The root-cause code suggested for one complaint: that of its first matched theme in
    LEXICON order (not the order given), or None when no theme matched.

    ``themes``: a list of theme codes, a row of :func:`match_themes` (a Series or dict of bools,
    or with a ``themes`` list), or a text (matched first, language detected).
    """
    lex = _lexicon(lexicon)
    if isinstance(themes, str):
        themes = match_themes([themes], lexicon=lex)["themes"].iloc[0]
    elif isinstance(themes, (pd.Series, dict)):
        row = dict(themes)
        if isinstance(row.get("themes"), (list, tuple, np.ndarray)):
            themes = list(row["themes"])
        else:
            themes = [c for c, v in row.items() if c in lex and isinstance(v, (bool, np.bool_)) and v]
    elif themes is None or (isinstance(themes, float) and np.isnan(themes)):
        return None
    found = set(themes)
    for code, entry in lex.items():
        if code in found:
            return entry["root_cause"]
    return None


def suggest_root_causes(themes_frame: pd.DataFrame, lexicon=None) -> pd.Series:
    """:func:`suggest_root_cause` of every row of :func:`match_themes` (None where no theme)."""
    lex = _lexicon(lexicon)
    cols = _theme_cols(themes_frame, lex)
    M = themes_frame[cols].to_numpy(dtype=bool)
    first = np.where(M.any(axis=1), M.argmax(axis=1), -1)
    rc = np.array([lex[c]["root_cause"] for c in cols] + [None], dtype=object)
    return pd.Series(rc[first], index=themes_frame.index, name="root_cause", dtype=object)


# --------------------------------------------------------------------------- tokens for the models
_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#\d+);")


def _clean_social(text: str) -> str:
    """A comment without URLs, @handles and HTML entities (social-media noise)."""
    return _ENTITY.sub(" ", _HANDLE.sub(" ", _URL.sub(" ", text)))


#: words that carry no topic in comments and social posts (beyond the tokenizer's stop words):
#: negations, contractions, fillers and courtesy words — left out of the topic models only
TOPIC_STOP = frozenset("""no not nor never cannot without against just get got getting like thanks thank please pls
plz today tomorrow yesterday tonight u ur im ive dont cant wont didnt doesnt isnt amp really know need want going
make one yes ok okay lol oh hey hi guys way did does let lot said say tell time day week got ve ll""".split())


def _docs(texts: pd.Series, lang: np.ndarray, *, stop: bool, clean: bool, ngram: int = 1,
          topic_stop: bool = False) -> list[list[str]]:
    from .tokenize import tokens
    out = []
    for t, lg in zip(texts.to_numpy(dtype=object, na_value=None), lang):
        if not isinstance(t, str) or lg not in LANGS:
            out.append([])
            continue
        toks = tokens(_clean_social(t) if clean else t, lg, stop=stop)
        if topic_stop:
            toks = [w for w in toks if w not in TOPIC_STOP and "'" not in w and len(w) > 1]
        if ngram > 1:
            toks = toks + [f"{a} {b}" for a, b in zip(toks, toks[1:])]
        out.append(toks)
    return out


def _identity(doc):
    return doc


# --------------------------------------------------------------------------- themes from the data
@dataclass
class DiscoveredThemes:
    """Topics found by :func:`discover_themes`.

    ``topics``: one row per language and topic — ``language``, ``topic`` (0-based), ``label``
    (its top 3 keywords), ``keywords`` (top 10), ``size`` (texts whose strongest topic it is),
    ``share``, ``coherence`` (NPMI of the top 10 keywords). ``assignments``: one row per text
    (the input's index) — ``language``, ``topic`` (-1 without usable tokens), ``label``,
    ``weight`` (the topic's share of the text's NMF weights). ``selection``: the k scanned per
    language with ``coherence`` and ``reconstruction_error`` and the ``chosen`` one; ``k``:
    the chosen k per language; ``criterion``: how k was chosen.
    """

    topics: pd.DataFrame
    assignments: pd.DataFrame
    selection: pd.DataFrame
    k: dict
    criterion: str
    random_state: int
    _models: dict = field(default_factory=dict, repr=False)

    def assign(self, texts, languages=None) -> pd.DataFrame:
        """The strongest topic of new texts (same columns as ``assignments``)."""
        s = _text_series(texts)
        lang = _languages(languages, len(s), s)
        out = pd.DataFrame({"language": lang, "topic": -1, "label": None, "weight": np.nan}, index=s.index)
        out["label"] = out["label"].astype(object)
        for lg, (vec, nmf, labels, clean) in self._models.items():
            idx = np.flatnonzero(lang == lg)
            if not len(idx):
                continue
            docs = _docs(s.iloc[idx], lang[idx], stop=True, clean=clean, topic_stop=True)
            W = nmf.transform(vec.transform(docs))
            _fill(out, idx, W, labels)
        return out

    def to_lexicon(self, n_terms: int = 8, *, prefix: str = "topic", root_cause: str = "other") -> dict:
        """The topics as lexicon entries (``{prefix}_{language}_{topic}``: dimension None, the
        given root cause, labels = top keywords, terms = top ``n_terms`` keywords in their
        language) — to review, rename and add to a user lexicon YAML."""
        out = {}
        for r in self.topics.itertuples(index=False):
            terms = {lg: [] for lg in LANGS}
            terms[r.language] = list(r.keywords[:n_terms])
            out[f"{prefix}_{r.language}_{r.topic}"] = {"dimension": None, "root_cause": root_cause,
                                                       "en": r.label, "zh": r.label, "terms": terms}
        return out


def _fill(out: pd.DataFrame, idx: np.ndarray, W: np.ndarray, labels: list[str]) -> None:
    tot = W.sum(axis=1)
    top = W.argmax(axis=1)
    ok = tot > 0
    topic = np.where(ok, top, -1)
    out.iloc[idx, out.columns.get_loc("topic")] = topic
    lab = np.array(labels + [None], dtype=object)
    out.iloc[idx, out.columns.get_loc("label")] = lab[topic]
    with np.errstate(invalid="ignore", divide="ignore"):
        out.iloc[idx, out.columns.get_loc("weight")] = np.where(ok, W[np.arange(len(W)), top] / tot, np.nan)


def _npmi(B, top: np.ndarray) -> float:
    """Mean NPMI of the keyword pairs of each topic (rows of ``top``) on the binary doc-term ``B``."""
    n = B.shape[0]
    vals = []
    for words in top:
        sub = B[:, words]
        co = (sub.T @ sub).toarray().astype(float)
        p = np.diag(co) / n
        pij = co / n
        iu = np.triu_indices(len(words), 1)
        pj, pi_, pij_ = p[iu[1]], p[iu[0]], pij[iu]
        with np.errstate(divide="ignore", invalid="ignore"):
            pmi = np.log(pij_ / (pi_ * pj))
            npmi = np.where(pij_ > 0, pmi / -np.log(np.where(pij_ > 0, pij_, 1.0)), -1.0)
            npmi = np.where(pij_ >= 1.0, 1.0, npmi)
        vals.append(float(np.mean(npmi)))
    return float(np.mean(vals))


def _nmf(X, k: int, random_state: int, max_iter: int):
    from sklearn.decomposition import NMF
    model = NMF(n_components=k, init="nndsvda", random_state=random_state, max_iter=max_iter, tol=1e-3,
                beta_loss="frobenius")
    W = model.fit_transform(X)
    return model, W


def discover_themes(texts, *, k=None, languages=None, random_state: int = 0, k_range=(4, 12),
                    n_keywords: int = 10, min_df=3, max_df: float = 0.5, max_features: int = 5000,
                    max_select_docs: int = 4000, clean: bool = True, min_docs: int = 50,
                    max_iter: int = 300) -> DiscoveredThemes:
    """Themes found in the texts: NMF over TF-IDF, one model per language.

    Tokens are jieba words for Chinese and lower-case words for English, stop words dropped
    (:func:`~cxvalue.text.tokenize.tokens`), after removing URLs, @handles and HTML entities
    (``clean``); terms in fewer than ``min_df`` texts or more than ``max_df`` of them are
    left out, at most ``max_features`` terms are kept. TF-IDF is sublinear and L2-normed;
    NMF (Frobenius loss, NNDSVDa start) is seeded by ``random_state``, so the result is
    deterministic.

    ``k``: the number of topics (an int for every language, or ``{lang: k}``); None chooses k
    per language within ``k_range`` (inclusive) by the **mean NPMI coherence** of each
    topic's top 10 keywords, measured on the texts themselves (Bouma 2009; Lau et al. 2014):
    the k whose topics' keywords co-occur most, ties (within 0.005) going to the smaller k.
    The scan fits on a seeded sample of at most ``max_select_docs`` texts per language, the
    final model on all of them. A language with fewer than ``min_docs`` texts gets no topics.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    s = _text_series(texts)
    lang = _languages(languages, len(s), s)
    lo, hi = (int(k_range[0]), int(k_range[1]))
    if not 2 <= lo <= hi:
        raise CxValueError(f"k_range={k_range!r} is not valid: expected (low, high) with 2 <= low <= high")
    topics, sel, ks, models = [], [], {}, {}
    assign = pd.DataFrame({"language": lang, "topic": -1, "label": None, "weight": np.nan}, index=s.index)
    assign["label"] = assign["label"].astype(object)
    for lg in LANGS:
        idx = np.flatnonzero(lang == lg)
        if len(idx) < min_docs:
            continue
        docs = _docs(s.iloc[idx], lang[idx], stop=True, clean=clean, topic_stop=True)
        md = min_df if isinstance(min_df, float) else min(int(min_df), max(1, len(idx) // 20))
        vec = TfidfVectorizer(analyzer=_identity, min_df=md, max_df=max_df, max_features=max_features,
                              sublinear_tf=True)
        try:
            X = vec.fit_transform(docs)
        except ValueError:              # no term left
            continue
        vocab = vec.get_feature_names_out()
        B = (X > 0).astype(np.float64).tocsc()
        kk = k.get(lg) if isinstance(k, dict) else k
        if kk is None:
            rng = np.random.default_rng(random_state)
            pick = np.sort(rng.choice(X.shape[0], min(X.shape[0], max_select_docs), replace=False))
            Xs, Bs = X[pick], B[pick]
            scores = []
            for kc in range(lo, min(hi, X.shape[1] - 1, Xs.shape[0] - 1) + 1):
                m, _ = _nmf(Xs, kc, random_state, max_iter)
                top = np.argsort(-m.components_, axis=1)[:, :10]
                scores.append((kc, _npmi(Bs, top), float(m.reconstruction_err_)))
            if not scores:
                continue
            best = max(c for _, c, _ in scores)
            kk = min(kc for kc, c, _ in scores if c >= best - 0.005)
            sel += [{"language": lg, "k": kc, "coherence": c, "reconstruction_error": e, "chosen": kc == kk}
                    for kc, c, e in scores]
        else:
            kk = int(kk)
            if kk < 1:
                raise CxValueError(f"k={kk!r} is not valid: expected a number of topics >= 1")
        kk = min(kk, X.shape[1])
        model, W = _nmf(X, kk, random_state, max_iter)
        ks[lg] = kk
        top = np.argsort(-model.components_, axis=1)[:, :n_keywords]
        labels = [" / ".join(vocab[top[j, :3]]) for j in range(kk)]
        _fill(assign, idx, W, labels)
        sizes = np.bincount(assign["topic"].to_numpy()[idx][assign["topic"].to_numpy()[idx] >= 0], minlength=kk)
        coh = [_npmi(B, top[[j], :10]) for j in range(kk)]
        for j in range(kk):
            topics.append({"language": lg, "topic": j, "label": labels[j], "keywords": list(vocab[top[j]]),
                           "size": int(sizes[j]), "share": float(sizes[j] / len(idx)), "coherence": coh[j]})
        models[lg] = (vec, model, labels, clean)
    crit = ("k given" if k is not None else
            f"k in {lo}-{hi} maximising the mean NPMI coherence of the topics' top 10 keywords "
            f"(ties within 0.005 to the smaller k), scanned on <= {max_select_docs} texts per language")
    topics_df = pd.DataFrame(topics, columns=["language", "topic", "label", "keywords", "size", "share",
                                              "coherence"])
    sel_df = pd.DataFrame(sel, columns=["language", "k", "coherence", "reconstruction_error", "chosen"])
    assign["topic"] = assign["topic"].astype("int64")
    return DiscoveredThemes(topics_df, assign, sel_df, ks, crit, random_state, models)


def topic_purity(topics, labels) -> dict:
    """Agreement of unsupervised topics with known labels: ``purity`` (each topic counted as its
    majority label), ``adjusted_rand``, ``majority_share`` (purity of a single topic) and ``n``;
    rows with topic -1 or no label are left out."""
    from sklearn.metrics import adjusted_rand_score
    t = pd.Series(np.asarray(topics)).reset_index(drop=True)
    y = pd.Series(np.asarray(labels, dtype=object)).reset_index(drop=True)
    ok = (t >= 0) & y.notna()
    t, y = t[ok], y[ok]
    if not len(t):
        raise CxValueError("topic_purity: no text has both a topic and a label")
    ct = pd.crosstab(t, y)
    return {"purity": float(ct.max(axis=1).sum() / len(t)), "adjusted_rand": float(adjusted_rand_score(y, t)),
            "majority_share": float(y.value_counts(normalize=True).iloc[0]), "n": int(len(t))}


# --------------------------------------------------------------------------- supervised
class ThemeClassifier(Estimator):
    """Supervised theme / reason classifier: TF-IDF of word uni- and bigrams (jieba words for
    Chinese, words for English; stop words kept, they carry "on hold", "not working") plus the
    lexicon's theme indicators, then a multinomial logistic regression.

    Parameters
    ----------
    C : inverse regularisation strength of the logistic regression.
    ngram : 1 = words, 2 = words and bigrams of adjacent words.
    min_df : terms in fewer training texts are left out.
    char_ngrams : also character n-grams of this range (e.g. ``(2, 5)``) — about half a point
        more accuracy on tweets, several times slower; None (default) = off.
    lexicon_weight : weight of the lexicon theme indicators (0 = not used).
    lexicon : the theme lexicon (dict, YAML path or None = default).
    clean : drop URLs, @handles and HTML entities first.
    solver : the logistic regression's solver (``saga`` is seeded by ``random_state``).
    max_iter : iterations of the solver.
    confidence : level of the intervals in ``summary_`` and :meth:`cross_validate`.
    random_state : seed of the solver and of the folds of :meth:`cross_validate`.

    After ``fit(texts, labels)``: ``classes_``, ``n_``, ``vectorizer_``, ``model_`` and
    ``summary_`` (one row per class: the class's share of the training labels as
    ``estimate`` with a normal-approximation interval, and ``n``).
    """

    def __init__(self, *, C: float = 3.0, ngram: int = 2, min_df: int = 2, char_ngrams=None,
                 lexicon_weight: float = 1.0, lexicon=None, clean: bool = True, solver: str = "saga",
                 max_iter: int = 300, confidence: float = 0.95, random_state=0):
        self.C = C
        self.ngram = ngram
        self.min_df = min_df
        self.char_ngrams = char_ngrams
        self.lexicon_weight = lexicon_weight
        self.lexicon = lexicon
        self.clean = clean
        self.solver = solver
        self.max_iter = max_iter
        self.confidence = confidence
        self.random_state = random_state

    # -- features
    def _check(self):
        if not isinstance(self.ngram, (int, np.integer)) or self.ngram not in (1, 2):
            raise CxValueError(f"ngram={self.ngram!r} is not valid: expected 1 or 2")
        if not (isinstance(self.C, (int, float)) and self.C > 0):
            raise CxValueError(f"C={self.C!r} is not valid: expected a number > 0")
        if self.char_ngrams is not None:
            c = self.char_ngrams
            if not (isinstance(c, (tuple, list)) and len(c) == 2 and 1 <= c[0] <= c[1]):
                raise CxValueError(f"char_ngrams={c!r} is not valid: expected None or (low, high)")
        if not (isinstance(self.lexicon_weight, (int, float)) and self.lexicon_weight >= 0):
            raise CxValueError(f"lexicon_weight={self.lexicon_weight!r} is not valid: expected a number >= 0")
        self._confidence()

    def _prepare(self, texts):
        """Per text: word tokens (and bigrams), the cleaned text, the lexicon matrix."""
        s = _text_series(texts).reset_index(drop=True)
        lang = detect_languages(s)
        docs = _docs(s, lang, stop=False, clean=self.clean, ngram=int(self.ngram))
        raw = [(_clean_social(t) if self.clean else t).lower() if isinstance(t, str) else ""
               for t in s.to_numpy(dtype=object, na_value=None)]
        lexm = None
        if self.lexicon_weight > 0:
            m = match_themes(s, lang, _lexicon(self.lexicon))
            lexm = m.drop(columns="themes").to_numpy(dtype=float) * float(self.lexicon_weight)
        return docs, raw, lexm

    @staticmethod
    def _subset(prep, idx):
        docs, raw, lexm = prep
        return ([docs[i] for i in idx], [raw[i] for i in idx], None if lexm is None else lexm[idx])

    def _features(self, prep, fit: bool, vecs=None):
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer
        docs, raw, lexm = prep
        if fit:
            vecs = [TfidfVectorizer(analyzer=_identity, min_df=self.min_df, sublinear_tf=True)]
            if self.char_ngrams is not None:
                vecs.append(TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngrams),
                                            min_df=max(2, self.min_df), sublinear_tf=True))
        parts = []
        for v, data in zip(vecs, (docs, raw)):
            parts.append(v.fit_transform(data) if fit else v.transform(data))
        if lexm is not None:
            parts.append(sparse.csr_matrix(lexm))
        return sparse.hstack(parts, format="csr"), vecs

    def _fit_prepared(self, prep, y):
        from sklearn.linear_model import LogisticRegression
        X, vecs = self._features(prep, fit=True)
        model = LogisticRegression(C=float(self.C), solver=self.solver, max_iter=int(self.max_iter), tol=1e-3,
                                   random_state=self.random_state)
        model.fit(X, y)
        return vecs, model

    def _labels(self, labels, n):
        y = pd.Series(labels, dtype=object).reset_index(drop=True)
        if len(y) != n:
            raise CxValueError(f"labels: expected one label per text ({n}), got {len(y)}")
        if y.isna().any():
            raise CxValueError(f"labels: {int(y.isna().sum())} missing label(s): drop the unlabelled texts first")
        y = y.astype(str).to_numpy()
        if len(np.unique(y)) < 2:
            raise CxValueError("labels: need at least 2 different labels to learn from")
        return y

    # -- estimator API
    def fit(self, texts, labels) -> ThemeClassifier:
        """Learn the labels (reasons, categories) of ``texts``."""
        self._check()
        s = _text_series(texts)
        y = self._labels(labels, len(s))
        prep = self._prepare(s)
        vecs, model = self._fit_prepared(prep, y)
        self.vectorizer_ = vecs
        self.model_ = model
        self.classes_ = model.classes_
        self.n_ = len(y)
        cls, cnt = np.unique(y, return_counts=True)
        p = cnt / len(y)
        se = np.sqrt(p * (1 - p) / len(y))
        z = self._z()
        self.summary_ = summary_table(p, se, np.clip(p - z * se, 0, 1), np.clip(p + z * se, 0, 1),
                                      leading={"class": cls}, extra={"n": cnt.astype("int64")})
        return self

    def _proba_prepared(self, prep, vecs, model):
        X, _ = self._features(prep, fit=False, vecs=vecs)
        return model.predict_proba(X)

    def predict_proba(self, texts) -> np.ndarray:
        """Probability of each class (columns in ``classes_`` order) for each text."""
        self._check_fitted("model_")
        return self._proba_prepared(self._prepare(texts), self.vectorizer_, self.model_)

    def predict(self, texts) -> np.ndarray:
        """The most probable class of each text."""
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    def top_k(self, texts, k: int = 2) -> pd.DataFrame:
        """The ``k`` most probable classes of each text: columns ``label_1``, ``p_1``, ...,
        ``label_k``, ``p_k`` (one row per text)."""
        return _top_k(self.predict_proba(texts), self.classes_, k)

    def score(self, texts, labels) -> float:
        """Accuracy on labelled texts."""
        y = self._labels(labels, len(_text_series(texts)))
        return float(np.mean(self.predict(texts) == y))

    def cross_validate(self, texts, labels, *, cv: int = 5, k: int = 2) -> dict:
        """Stratified ``cv``-fold cross-validated accuracy and top-``k`` accuracy (seeded folds,
        everything — vocabulary, IDF, model — learnt within each fold; the tokens are cut once).
        Returns ``accuracy``, ``top_k`` with Wilson intervals at ``confidence``
        (``accuracy_ci``, ``top_k_ci``), ``n``, ``classes``, ``proba`` (out-of-fold
        probabilities) and ``labels``."""
        from sklearn.model_selection import StratifiedKFold
        self._check()
        s = _text_series(texts)
        y = self._labels(labels, len(s))
        prep = self._prepare(s)
        classes = np.unique(y)
        P = np.zeros((len(y), len(classes)))
        folds = StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=self.random_state)
        for tr, te in folds.split(np.zeros(len(y)), y):
            vecs, model = self._fit_prepared(self._subset(prep, tr), y[tr])
            cols = np.searchsorted(classes, model.classes_)
            P[np.ix_(te, cols)] = self._proba_prepared(self._subset(prep, te), vecs, model)
        order = np.argsort(-P, axis=1)
        hit1 = classes[order[:, 0]] == y
        hitk = (classes[order[:, :k]] == y[:, None]).any(axis=1)
        return {"accuracy": float(hit1.mean()), "accuracy_ci": _wilson(hit1.sum(), len(y), self.confidence),
                "top_k": float(hitk.mean()), "top_k_ci": _wilson(hitk.sum(), len(y), self.confidence), "k": k,
                "n": len(y), "classes": classes, "proba": P, "labels": y}


def _wilson(x, n, confidence) -> tuple[float, float]:
    from ..loyalty.metrics import wilson_interval
    lo, hi = wilson_interval(x, n, confidence)
    return float(lo), float(hi)


def _top_k(P: np.ndarray, classes: np.ndarray, k: int) -> pd.DataFrame:
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise CxValueError(f"k={k!r} is not valid: expected a whole number >= 1")
    k = min(int(k), P.shape[1])
    order = np.argsort(-P, axis=1)[:, :k]
    out = {}
    for j in range(k):
        out[f"label_{j + 1}"] = classes[order[:, j]]
        out[f"p_{j + 1}"] = P[np.arange(len(P)), order[:, j]]
    return pd.DataFrame(out)

