"""The estimator contract every model of cxvalue follows (docs: architecture.md, API conventions).

scikit-learn's convention: ``__init__`` only stores its keyword arguments; ``fit`` validates
them, learns attributes whose names end in ``_`` and returns ``self``. :class:`Estimator`
derives ``get_params`` / ``set_params`` and ``repr`` from the ``__init__`` signature (so
``sklearn.base.clone`` works), raises :class:`~cxvalue.errors.NotFittedError` when a learned
attribute is read before ``fit``, and validates the one ``confidence`` argument.

Every fitted model has a ``summary_`` in one layout: a tidy frame whose index or leading
columns name the parameter or term, then :data:`SUMMARY_COLUMNS` — ``estimate``,
``std_error``, ``ci_low``, ``ci_high`` (at ``confidence``) — then ``p`` where a test exists,
then model-specific columns. :func:`summary_table` builds it.
"""
from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from .errors import CxValueError, NotFittedError, check_is_fitted

__all__ = ["Estimator", "SUMMARY_COLUMNS", "summary_table"]

#: the common columns of every ``summary_``, in this order (``p`` follows where a test exists)
SUMMARY_COLUMNS = ("estimate", "std_error", "ci_low", "ci_high")


def summary_table(estimate, std_error, ci_low, ci_high, *, p=None, index=None, leading: dict | None = None,
                  extra: dict | None = None) -> pd.DataFrame:
    """A ``summary_`` frame: ``leading`` columns (naming the terms), the common columns, ``p`` when
    given, then ``extra`` columns; ``index`` names the rows when no leading column does."""
    cols: dict = dict(leading or {})
    cols.update(estimate=estimate, std_error=std_error, ci_low=ci_low, ci_high=ci_high)
    if p is not None:
        cols["p"] = p
    cols.update(extra or {})
    frame = pd.DataFrame(cols, index=index)
    for c in (*SUMMARY_COLUMNS, *(("p",) if p is not None else ())):
        frame[c] = frame[c].astype(float)
    return frame


class Estimator:
    """Base class of every estimator: parameters from ``__init__``, fitted-state checks, ``confidence``."""

    # ------------------------------------------------------------------ parameters
    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The keyword arguments of ``__init__``, in signature order."""
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for p in inspect.signature(init).parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must name its parameters: no *args or **kwargs")
            names.append(p.name)
        return names

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters as a dict (``deep``: also ``name__sub`` of nested estimators)."""
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params(deep=True).items())
            out[name] = value
        return out

    def set_params(self, **params) -> Estimator:
        """Set constructor parameters (``name=value`` or ``name__sub=value``); returns ``self``."""
        valid = self._get_param_names()
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, sub, rest = key.partition("__")
            if name not in valid:
                raise CxValueError(f"{type(self).__name__}.set_params: {name!r} is not a parameter: expected one of "
                                   f"{', '.join(valid) or '(none)'}")
            if sub:
                nested.setdefault(name, {})[rest] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__).parameters
        shown = []
        for name in self._get_param_names():
            value, default = getattr(self, name), sig[name].default
            if not _same(value, default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # ------------------------------------------------------------------ fitted state
    def _is_fitted(self) -> bool:
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def __getattr__(self, name: str):
        # only called when normal lookup fails: a learned attribute before fit -> NotFittedError
        if name.endswith("_") and not name.startswith("__") and not self._is_fitted():
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(...) before using it")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _check_fitted(self, *attributes: str) -> None:
        """Raise NotFittedError unless ``fit`` has run (has set ``attributes``, when named)."""
        check_is_fitted(self, attributes or None)

    # ------------------------------------------------------------------ confidence
    def _confidence(self) -> float:
        """The validated ``confidence`` level of the intervals (0 < confidence < 1)."""
        c = self.confidence
        if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, float, np.integer, np.floating)) \
                or not 0 < c < 1:
            raise CxValueError(f"confidence={c!r} is not valid: expected a number between 0 and 1")
        return float(c)

    def _tail(self) -> float:
        """Probability in each tail of a two-sided interval: (1 − confidence) / 2."""
        return (1 - self._confidence()) / 2

    def _z(self) -> float:
        """Two-sided standard normal quantile of ``confidence`` (1.96 for 0.95)."""
        from scipy.stats import norm
        return float(norm.ppf((1 + self._confidence()) / 2))


def _same(value, default) -> bool:
    if value is default:
        return True
    try:
        return bool(value == default)
    except (TypeError, ValueError):
        return False
