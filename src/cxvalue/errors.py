"""Exceptions and typed warnings.

Every error names what was wrong, what was expected, what arrived and, when known,
the fix. The CLI prints ``str(error)`` on one line and exits with code 1.
"""
from __future__ import annotations


class CxValueError(ValueError):
    """Base class for every error cxvalue raises on bad input or bad usage."""


class DataContractError(CxValueError):
    """A file or frame does not satisfy a table contract (missing column, bad type...)."""

    def __init__(self, message: str, *, source: str | None = None, row: int | None = None,
                 column: str | None = None, expected: str | None = None, got: object = None):
        self.source, self.row, self.column = source, row, column
        self.expected, self.got = expected, got
        super().__init__(message)


class ConfigError(CxValueError):
    """A setting has an invalid value or an unknown name."""


class StoreError(CxValueError):
    """The store URL is invalid or the store cannot be opened."""


class LoadAborted(CxValueError):
    """A load failed half-way; the store was rolled back to its state before the load."""


class NotFittedError(CxValueError, AttributeError):
    """An estimator was used before ``fit``."""


class CxValueWarning(UserWarning):
    """Base class of cxvalue's typed warnings (shown in the report, never swallowed)."""


class SmallSampleWarning(CxValueWarning):
    """An estimate rests on too few observations to be trusted."""


class ConvergenceWarning(CxValueWarning):
    """A model fit did not converge."""


class DataQualityWarning(CxValueWarning):
    """Rows were quarantined or values coerced during a load."""


def check_is_fitted(estimator, attributes: tuple[str, ...] | None = None) -> None:
    """Raise NotFittedError unless ``estimator`` has learned state (attributes ending in ``_``)."""
    if attributes is None:
        fitted = any(k.endswith("_") and not k.startswith("__") for k in vars(estimator))
    else:
        fitted = all(hasattr(estimator, a) for a in attributes)
    if not fitted:
        raise NotFittedError(
            f"this {type(estimator).__name__} is not fitted yet: call fit(...) before using it"
        )


def one_of(name: str, value: str, options) -> str:
    """Validate a strategy string, listing the valid options on error."""
    options = list(options)
    if value not in options:
        raise CxValueError(f"{name}={value!r} is not valid: expected one of {', '.join(map(repr, options))}")
    return value


class NotificationWarning(CxValueWarning):
    """A notification (webhook, e-mail) could not be delivered; the change it announced is kept."""


class StoreWarning(CxValueWarning):
    """The store opened, but something beside it was ignored (a write-ahead log DuckDB could not
    replay), or it may not be what it seems: see :func:`cxvalue.store.connect`."""

