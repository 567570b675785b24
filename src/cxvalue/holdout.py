"""The closed loop's random hold-out draw, shared by the case rules (:mod:`cxvalue.loop.rules`)
and the demo company that simulates the loop (:mod:`cxvalue.datasets.demo`).

A customer is in the hold-out of a rule when a hash of ``rule|customer_id`` (SHA-256, first 32
bits as a fraction of 2**32 - 1) falls below the share: random across customers, the same on
every run and on every machine, and independent between rules.
"""
from __future__ import annotations

import hashlib


def in_holdout(rule: str, customer_id: str, share: float) -> bool:
    """Whether ``customer_id`` is in ``rule``'s hold-out of size ``share`` (0 ≤ share < 1)."""
    h = int(hashlib.sha256(f"{rule}|{customer_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return h < share
