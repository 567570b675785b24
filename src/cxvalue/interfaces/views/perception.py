"""perception view — being converted from _old_perception.py (placeholder until then)."""
from __future__ import annotations

from . import View, view


@view("perception", 42)
def build(session) -> View | None:
    return None
