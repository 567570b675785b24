"""churn view — being converted from _old_churn.py (placeholder until then)."""
from __future__ import annotations

from . import View, view


@view("churn", 60)
def build(session) -> View | None:
    return None
