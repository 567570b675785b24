"""Root causes of the closed loop: a bilingual taxonomy (code, English, Chinese) with a default
drawn from the seeds (staff attitude, product, price, convenience and availability, process,
billing, delay, information, other), replaceable by a YAML list of ``{code, en, zh}``
entries (see docs/closed-loop.md).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import CxValueError

#: the default codes; their English and Chinese labels are the catalogue's ``rc_<code>``
DEFAULT = ("staff_attitude", "product", "price", "convenience", "process", "billing", "delay", "information",
           "other")


def load_taxonomy(path: str | Path | None = None) -> list[dict]:
    """[{code, en, zh}] from ``path`` (YAML list) or the default."""
    if path is None:
        from ..i18n import t
        return [{"code": c, "en": t(f"rc_{c}", "en"), "zh": t(f"rc_{c}", "zh")} for c in DEFAULT]
    import yaml
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CxValueError(f"root-cause taxonomy {p}: cannot read it: {exc}") from None
    if not isinstance(data, list) or not data:
        raise CxValueError(f"root-cause taxonomy {p}: expected a list of {{code, en, zh}}, got {type(data).__name__}")
    out, seen = [], set()
    for i, item in enumerate(data, 1):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) and item[k].strip()
                                                 for k in ("code", "en", "zh")):
            raise CxValueError(f"root-cause taxonomy {p}, entry {i}: expected code, en and zh, got {item!r}")
        if item["code"] in seen:
            raise CxValueError(f"root-cause taxonomy {p}, entry {i}: code {item['code']!r} appears twice")
        seen.add(item["code"])
        out.append({k: item[k].strip() for k in ("code", "en", "zh")})
    return out


def root_cause_codes(taxonomy=None) -> list[str]:
    """The codes of ``taxonomy`` (a list from :func:`load_taxonomy`, a path, or None = default)."""
    if taxonomy is None or isinstance(taxonomy, (str, Path)):
        taxonomy = load_taxonomy(taxonomy)
    return [t["code"] for t in taxonomy]
