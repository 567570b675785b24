"""cxvalue — customer value and experience analytics.

Turn transactions, subscriptions, survey answers, complaints and churn events into
customer value (CLV, value tiers), loyalty, experience drivers and gaps, churn risk,
lifecycle stages and follow-up actions. See docs/ and ``cxvalue --help``.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "connect", "load_settings", "load_file", "load_dir", "status"]


def __getattr__(name):  # lazy: keep ``import cxvalue`` fast for the CLI
    if name == "connect":
        from .store import connect
        return connect
    if name == "load_settings":
        from .config import load_settings
        return load_settings
    if name in ("load_file", "load_dir"):
        from .io import load
        return getattr(load, name)
    if name == "status":
        from .store import status
        return status
    raise AttributeError(f"module 'cxvalue' has no attribute {name!r}")
