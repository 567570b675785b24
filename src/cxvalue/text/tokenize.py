"""Tokens of a comment: jieba words for Chinese (its bundled dictionary, no download), lower-case
words for English; stop words and punctuation dropped. :func:`analyzer` gives scikit-learn's
vectorisers the same tokens.

jieba loads its dictionary on the first cut (about a second) and keeps a cache file in the
system's temporary folder; :func:`tokens` silences its start-up log.
"""
from __future__ import annotations

import functools
import re

from .language import detect_language

_WORD = re.compile(r"[a-z][a-z'\-]*[a-z]|[a-z]")
_SPACE_PUNCT = re.compile(r"^[\s\W_]+$", re.UNICODE)

#: English stop words (scikit-learn's list) and Chinese function words and particles
ZH_STOP = frozenset("""的 了 和 是 就 都 而 及 与 着 或 一个 没有 我们 你们 他们 她们 它们 这 那 这个 那个 这些 那些
在 也 很 还 又 把 被 让 给 对 从 向 到 以 于 为 之 其 啊 吧 呢 吗 嘛 哦 呀 啦 哈 嗯 我 你 他 她 它 有 要 会 能
上 下 中 里 个 次 等 就是 但是 可是 不过 因为 所以 如果 而且 然后 已经 一下 一点 一些 比较 非常 真的 还是 以及""".split())


@functools.lru_cache(maxsize=1)
def _en_stop() -> frozenset:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    return frozenset(ENGLISH_STOP_WORDS) - {"not", "no", "nor", "never", "cannot", "without", "against"}


@functools.lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokens(text: str, lang: str | None = None, *, stop: bool = True) -> list[str]:
    """The tokens of ``text`` (``lang``: ``zh`` / ``en``, default: detected)."""
    if not isinstance(text, str) or not text:
        return []
    lang = lang or detect_language(text)
    if lang == "zh":
        out = [w.strip().lower() for w in _jieba().lcut(text)]
        out = [w for w in out if w and not _SPACE_PUNCT.match(w)]
        return [w for w in out if w not in ZH_STOP] if stop else out
    out = _WORD.findall(text.lower())
    return [w for w in out if w not in _en_stop()] if stop else out


def analyzer(lang: str | None = None, *, stop: bool = True):
    """A callable for ``TfidfVectorizer(analyzer=...)`` cutting each text with :func:`tokens`."""
    return functools.partial(tokens, lang=lang, stop=stop)
