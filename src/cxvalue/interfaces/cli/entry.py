"""The console script ``cxvalue``: Ctrl+C at any moment — also while the CLI's modules are still
loading — prints "interrupted" and exits with 130 (the shell's code for SIGINT), no traceback."""
from __future__ import annotations

import sys


def entry() -> None:
    try:
        from .main import main
        code = main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)
