"""Options shared by the commands, and the session every command resolves once."""
from __future__ import annotations

from typing import Optional

import typer

StoreOpt = typer.Option(None, "--store", "-s", help="Store URL or DuckDB file (setting 'store'; default cxvalue.duckdb).")
JsonOpt = typer.Option(False, "--json", help="Print the view as machine-readable JSON instead of tables.")
LangOpt = typer.Option(None, "--lang", help="Language: en or zh (setting 'lang').")
AsOfOpt = typer.Option(None, "--as-of", help="Analysis date YYYY-MM-DD (setting 'as_of'; default: the last "
                                             "activity date in the store).")


def session(store: Optional[str] = None, lang: Optional[str] = None, as_of: Optional[str] = None, *,
            connect: bool = True, create: bool = False, **overrides):
    """The command's session: settings, store, language and analysis date, resolved once.
    ``create``: only the commands that build a store (load, demo) create a missing one."""
    from ..session import open_session
    return open_session(store=store, lang=lang, as_of=as_of, connect=connect, create=create, **overrides)


def split(value: Optional[str]) -> list[str]:
    """'a, b,c' → ['a', 'b', 'c']."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]
