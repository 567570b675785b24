"""Language routing by Unicode script: exact for Chinese vs English and free.

A text whose letters are mostly CJK ideographs is ``zh``; mostly Latin letters, ``en``; no
letters at all (emoji, digits, punctuation) or an empty text, ``none``. Mixed texts go by the
majority of their letters — a Chinese comment that names "APP" or "VIP" stays Chinese, because
one ideograph counts as one letter while a Latin word counts as one letter per word.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

LANGS = ("zh", "en")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


def detect_language(text) -> str:
    """``zh``, ``en`` or ``none`` for one text (see the module docstring)."""
    if not isinstance(text, str) or not text.strip():
        return "none"
    zh = len(_CJK.findall(text))
    en = len(_LATIN_WORD.findall(text))
    if zh == 0 and en == 0:
        return "none"
    return "zh" if zh >= en else "en"


def detect_languages(texts) -> np.ndarray:
    """:func:`detect_language` of every text (an array of ``zh`` / ``en`` / ``none``)."""
    s = pd.Series(texts, dtype=object)
    return np.array([detect_language(x) for x in s], dtype=object)
