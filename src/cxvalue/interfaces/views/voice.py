"""voice view — being converted from _old_voice.py (placeholder until then)."""
from __future__ import annotations

from . import View, view


@view("voice", 40)
def build(session) -> View | None:
    return None
