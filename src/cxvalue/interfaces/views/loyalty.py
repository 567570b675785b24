"""loyalty view — being converted from _old_loyalty.py (placeholder until then)."""
from __future__ import annotations

from . import View, view


@view("loyalty", 48)
def build(session) -> View | None:
    return None
