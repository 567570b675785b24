"""Bilingual messages (zh-CN / en) from one catalogue: ``locale/messages.yaml``.

Every label shown to a person (report headings, CLI tables, column labels) comes from
here, so the Chinese and English wording live side by side in one file.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

LANGS = ("en", "zh")


class _UniqueKeys(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (PyYAML keeps the last one silently: a
    second ``col_significant`` once relabelled another table's column)."""


def _mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise RuntimeError(f"message {key!r} is defined twice in locale/messages.yaml "
                               f"(line {key_node.start_mark.line + 1})")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    text = resources.files("cxvalue").joinpath("locale/messages.yaml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=_UniqueKeys)  # noqa: S506 - a SafeLoader subclass
    for key, entry in data.items():
        missing = [lang for lang in LANGS if lang not in entry]
        if missing:
            raise RuntimeError(f"message {key!r} lacks {missing} in locale/messages.yaml")
    return data


def t(key: str, lang: str = "en", **fmt) -> str:
    """Translate ``key`` into ``lang``; unknown keys fall back to the key itself."""
    if lang not in LANGS:
        raise ValueError(f"lang={lang!r} is not valid: expected one of {LANGS}")
    entry = catalogue().get(key)
    text = entry[lang] if entry else key
    return text.format(**fmt) if fmt else text


def warn(key: str, category: type | None = None, *, stacklevel: int = 2, **params) -> None:
    """Raise a typed warning whose text is the message catalogue's ``key`` (English in the
    warning; the key and its parameters travel with it, so that every interface shows it in
    the user's language). ``params`` must be text or numbers (they are stored with a run)."""
    import warnings
    from .errors import CxValueWarning
    w = (category or CxValueWarning)(t(key, "en", **params))
    w.key, w.params = key, dict(params)
    warnings.warn(w, stacklevel=stacklevel + 1)


def warning_key(message) -> tuple[str | None, dict | None]:
    """(key, params) of a caught warning's message raised by :func:`warn`, else (None, None)."""
    key = getattr(message, "key", None)
    return (key, dict(getattr(message, "params", {}) or {})) if key else (None, None)
