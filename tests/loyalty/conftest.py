"""Fixtures of the loyalty tests: the hand-made store of tiny_data.py."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("cx_tiny_data", Path(__file__).with_name("tiny_data.py"))
tiny_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_data)


@pytest.fixture()
def tiny():
    return tiny_data.make_store()
