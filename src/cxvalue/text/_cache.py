"""The user's cache folder for models cxvalue builds on first use (the Chinese sentiment fallback).

Folder: the ``cache_dir`` argument, else the environment variable ``CXVALUE_CACHE_DIR``, else
``$XDG_CACHE_HOME/cxvalue``, else ``~/.cache/cxvalue``. :func:`cached` loads ``<name>.joblib``
from there when its stored key matches; a missing, corrupt or stale file is rebuilt. Writes go
to a temporary file in the same folder, then :func:`os.replace` — atomic, so concurrent threads
or processes building the same model never leave a half-written file (the last one wins; both
wrote the same model). A folder that cannot be written only costs the rebuild next time: the
model is returned all the same, with a :class:`~cxvalue.errors.CxValueWarning`.
"""
from __future__ import annotations

import os
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

from ..errors import CxValueWarning

__all__ = ["cache_dir", "cached", "forget"]

_MEMORY: dict[tuple[str, str], object] = {}
_LOCK = threading.Lock()


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The cache folder (see the module docstring); not created here."""
    if path:
        return Path(path).expanduser()
    env = os.environ.get("CXVALUE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "cxvalue"


_folder = cache_dir  # ``cached`` takes an argument of the same name


def _load(path: Path, key: dict):
    import joblib
    try:
        stored = joblib.load(path)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a corrupt or foreign file is rebuilt, whatever broke it
        return None
    if not isinstance(stored, dict) or stored.get("key") != key or "value" not in stored:
        return None
    return stored["value"]


def _save(path: Path, key: dict, value) -> None:
    import joblib
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        warnings.warn(f"cannot write the model cache in {path.parent} ({exc.strerror or exc}): the model is "
                      f"rebuilt next time; set CXVALUE_CACHE_DIR to a writable folder", CxValueWarning, stacklevel=4)
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            joblib.dump({"key": key, "value": value}, fh, compress=3)
        os.replace(tmp, path)
    except OSError as exc:
        warnings.warn(f"cannot write the model cache {path} ({exc.strerror or exc}): the model is rebuilt next "
                      f"time", CxValueWarning, stacklevel=4)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cached(name: str, key: dict, build: Callable[[], object], *, cache_dir: str | os.PathLike | None = None,
           memory: bool = True):
    """``build()``'s value, cached as ``<cache folder>/<name>.joblib`` under ``key`` (a dict of
    plain values: versions of what the value depends on). ``memory``: also keep it in this
    process, so later calls do not read the file again."""
    path = _folder(cache_dir) / f"{name}.joblib"
    mkey = (str(path), repr(sorted(key.items())))
    if memory and mkey in _MEMORY:
        return _MEMORY[mkey]
    with _LOCK:  # one build per process; other processes are covered by the atomic rename
        if memory and mkey in _MEMORY:
            return _MEMORY[mkey]
        value = _load(path, key)
        if value is None:
            value = build()
            _save(path, key, value)
        if memory:
            _MEMORY[mkey] = value
        return value


def forget() -> None:
    """Drop the models kept in this process (the files stay)."""
    _MEMORY.clear()
