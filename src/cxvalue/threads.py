"""Thread limits for small numeric work.

A BTYD fit evaluates its likelihood hundreds of times on vectors of a few thousand grouped
customers: with the default BLAS threading each call pays for waking (and, on a busy machine,
fighting over) a thread pool. Measured on 2 cores, a BG/NBD fit on CDNOW took 273–387 ms with the
default and 11–26 ms with one BLAS thread (issue 13). :func:`one_blas_thread` limits BLAS to one
thread around such work; large matrix work elsewhere keeps the default.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import wraps

_CONTROLLER = None


@contextmanager
def one_blas_thread():
    """BLAS (OpenBLAS, MKL, BLIS) limited to one thread inside the block (threadpoolctl)."""
    global _CONTROLLER
    from threadpoolctl import ThreadpoolController
    if _CONTROLLER is None:      # inspecting the loaded libraries costs ~10 ms: once per process
        _CONTROLLER = ThreadpoolController()
    with _CONTROLLER.limit(limits=1, user_api="blas"):
        yield


def small_numeric_work(fn):
    """Decorator: run ``fn`` under :func:`one_blas_thread`."""
    @wraps(fn)
    def run(*args, **kwargs):
        with one_blas_thread():
            return fn(*args, **kwargs)
    return run
