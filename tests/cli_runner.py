"""Shared helper of the CLI tests (imported as ``from cli_runner import cx``)."""
from __future__ import annotations

import subprocess
import sys


def cx(*args, cwd=None) -> subprocess.CompletedProcess:
    """Run ``python -m cxvalue ARGS`` in a clean environment (wide terminal, one thread); for CLI tests."""
    return subprocess.run([sys.executable, "-m", "cxvalue", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "OMP_NUM_THREADS": "1"})
