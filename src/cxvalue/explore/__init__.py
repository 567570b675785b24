"""Exploring the store for the workplace: filters as engine expressions, filtered dashboard
numbers (:mod:`.slices`), and the customers behind a number (:mod:`.drill`: paged lists,
exports, the customer 360). Reads the data tables and the domains' result tables; computes
in the engine."""
from .filters import Filters

__all__ = ["Filters"]
