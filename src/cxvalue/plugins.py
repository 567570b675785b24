"""Each capability (domain folder) plugs into the interfaces through optional modules:

- ``cxvalue.<domain>.commands`` — registers CLI commands on :data:`cxvalue.cli.app`;
- ``cxvalue.<domain>.pipeline`` — registers analyses with :func:`cxvalue.pipeline.analysis`;
- ``cxvalue.<domain>.sections`` — registers report sections with :func:`cxvalue.report.register`.

Interfaces call :func:`import_all` before use; a domain without such a module is skipped.
"""
from __future__ import annotations

import importlib

DOMAINS = ("value", "loyalty", "voice", "perception", "churn", "lifecycle", "actions")
KINDS = ("commands", "pipeline", "sections")


def import_all(kind: str) -> list[str]:
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} is not valid: expected one of {KINDS}")
    loaded = []
    for domain in DOMAINS:
        name = f"cxvalue.{domain}.{kind}"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        loaded.append(name)
    return loaded
