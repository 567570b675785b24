"""lifecycle view — being converted from _old_lifecycle.py (placeholder until then)."""
from __future__ import annotations

from . import View, view


@view("lifecycle", 70)
def build(session) -> View | None:
    return None
