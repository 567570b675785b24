"""Shared helper of the CLI tests (imported as ``from cli_runner import cx``).

``cx(*args)`` runs the CLI in-process (``cxvalue.interfaces.cli.main.main``) with stdout and
stderr captured, a wide terminal and a clean settings environment; ``cx_subprocess`` is the
true subprocess for the few smoke tests of the installed entry point.
"""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass


@dataclass
class Result:
    args: list
    returncode: int
    stdout: str
    stderr: str


def cx(*args, cwd=None) -> Result:
    """Run ``cxvalue ARGS`` in this process; returns returncode/stdout/stderr like subprocess.run."""
    from cxvalue.interfaces.cli.main import main
    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    saved_env = {k: v for k, v in os.environ.items() if k.startswith("CXVALUE_") or k == "COLUMNS"}
    for k in saved_env:
        os.environ.pop(k)
    os.environ["COLUMNS"] = "200"
    old_cwd = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # pragma: no cover - main returns codes
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(old_cwd)
        os.environ.pop("COLUMNS", None)
        os.environ.update(saved_env)
    return Result(argv, code, out.getvalue(), err.getvalue())


def cx_subprocess(*args, cwd=None) -> subprocess.CompletedProcess:
    """Run ``python -m cxvalue ARGS`` in a clean environment (wide terminal, one thread)."""
    return subprocess.run([sys.executable, "-m", "cxvalue", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "OMP_NUM_THREADS": "1"})
