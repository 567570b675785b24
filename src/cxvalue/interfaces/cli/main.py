"""Command line: ``cxvalue COMMAND``. Thin: parse options → resolve the session → call one
library function → render its view (Rich, or ``--json``).

Bad input ends with exit code 1 and a one-line error on stderr (no traceback); usage errors
with exit code 2.
"""
from __future__ import annotations

import sys


import typer

from ... import __version__
from ...errors import CxValueError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="rich",
                  help="cxvalue — customer value & experience analytics. Reports and tables speak English or "
                       "Chinese (--lang zh).")


def _print_settings(value: bool):
    if not value:
        return
    from rich.table import Table as RichTable

    from ...config import SETTINGS
    from .render import console
    t = RichTable(title="cxvalue settings (cxvalue.toml, CXVALUE_<NAME> env vars, CLI options)")
    for col in ("name", "default", "env", "help"):
        t.add_column(col)
    from rich.markup import escape
    for s in SETTINGS:
        t.add_row(s.name, "" if s.default is None else str(s.default), f"CXVALUE_{s.name.upper()}",
                  escape(s.help + (f" One of: {', '.join(s.choices)}." if s.choices else "")))
    console.print(t)
    raise typer.Exit()


def _version(value: bool):
    if value:
        from .render import console
        console.print(f"cxvalue {__version__}")
        raise typer.Exit()


@app.callback()
def _main(help_settings: bool = typer.Option(False, "--help-settings", callback=_print_settings, is_eager=True,
                                             help="List every setting with its default and exit."),
          version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version.")):
    """Customer value and experience analytics. Start with `cxvalue demo`, or `cxvalue load` then `cxvalue run`."""


# the commands register themselves on ``app`` (each module imports only typer at the top)
from . import commands  # noqa: E402,F401
from .commands import initiatives  # noqa: E402,F401  (improvement initiatives, H2)
from .commands import strategy  # noqa: E402,F401  (cxvalue strategy: the H3 playbook)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default: sys.argv[1:]); return the exit code (also on error)."""
    import warnings

    from .render import err_console, reset_consoles, show_warning
    from ...errors import CxValueWarning
    reset_consoles()
    code = 0
    with warnings.catch_warnings():
        warnings.simplefilter("always", CxValueWarning)
        warnings.showwarning = show_warning
        try:
            rv = app(args=argv, standalone_mode=False, prog_name="cxvalue")
            code = rv if isinstance(rv, int) else 0
            if code == 130:   # typer turns Ctrl+C into the exit code 130, silently: say so, in one line
                print("interrupted", file=sys.stderr)
        except CxValueError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            code = 1
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            code = 1
        except typer.Exit as exc:
            code = exc.exit_code
        except typer.Abort:
            err_console.print("aborted")
            code = 1
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            code = 130
        except Exception as exc:
            # usage errors (click's, or typer's vendored copy) come through here with standalone_mode=False
            from ...store import engine_fault
            if hasattr(exc, "show") and hasattr(exc, "exit_code"):
                exc.show()
                code = exc.exit_code or 2
            elif (fault := engine_fault(exc)) is not None:
                # the store's file is damaged, unreadable or its disk full: one line, not the engine's traceback
                from rich.markup import escape
                err_console.print(f"[bold red]error:[/] {escape(fault)}", highlight=False, soft_wrap=True)
                code = 1
            else:
                raise
    return code


def entry() -> None:
    """Console-script entry point (:func:`cxvalue.interfaces.cli.entry.entry`)."""
    from .entry import entry as run
    run()


if __name__ == "__main__":
    entry()
