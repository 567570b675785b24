"""Web workplace commands: ``cxvalue serve`` and ``cxvalue user add|list|set``."""
from __future__ import annotations

import sys
from typing import Optional

import typer

from ....errors import CxValueError
from ..main import app
from ..options import StoreOpt, session
from ..render import console

user_app = typer.Typer(no_args_is_help=True, help="Accounts of the web workplace (stored in the store).")
app.add_typer(user_app, name="user")


def _accounts(store):
    from ....accounts import Accounts
    sess = session(store)
    return Accounts(sess.con, session_hours=int(sess.settings["web_session_hours"]))


def _password(given_stdin: bool, confirm: bool = True) -> str:
    if given_stdin:
        pw = sys.stdin.readline().rstrip("\n")
        if not pw:
            raise CxValueError("--password-stdin: expected the password on standard input, got an empty line")
        return pw
    if not sys.stdin.isatty():
        raise CxValueError("no terminal to ask for the password: pass it on standard input with --password-stdin")
    return typer.prompt("Password (at least 10 characters)", hide_input=True, confirmation_prompt=confirm)


@user_app.command("add")
def user_add(name: str = typer.Argument(..., help="User name."),
             role: str = typer.Option("viewer", "--role", help="viewer, analyst, case_owner, manager or admin."),
             lang: str = typer.Option("en", "--lang", help="The user's language: en or zh."),
             email: Optional[str] = typer.Option(None, "--email", help="E-mail address for notifications of the "
                                                 "cases assigned or escalated to the user."),
             password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard "
                                                 "input instead of asking (scripts)."),
             store: Optional[str] = StoreOpt):
    """Create a web account (the password is asked for and stored as an argon2 hash)."""
    from ....accounts import check_email
    check_email(email)                  # before asking for the password
    accounts = _accounts(store)
    pw = _password(password_stdin)
    u = accounts.add_user(name, role, pw, lang=lang, by="cli", email=email)
    console.print(f"user [bold]{u.username}[/] created with role {u.role}")


@user_app.command("list")
def user_list(store: Optional[str] = StoreOpt):
    """List the web accounts."""
    from rich.table import Table
    accounts = _accounts(store)
    t = Table("user", "role", "lang", "active", "e-mail")
    for u in accounts.users():
        t.add_row(u.username, u.role, u.lang, "yes" if u.active else "no", u.email or "")
    console.print(t)


@user_app.command("set")
def user_set(name: str = typer.Argument(..., help="User name."),
             role: Optional[str] = typer.Option(None, "--role", help="New role."),
             active: Optional[bool] = typer.Option(None, "--active/--disabled", help="Enable or disable the account."),
             password: bool = typer.Option(False, "--password", help="Set a new password (asked for)."),
             password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the new password from stdin."),
             email: Optional[str] = typer.Option(None, "--email", help="New e-mail address (\"\" removes it)."),
             store: Optional[str] = StoreOpt):
    """Change a user's role, password, e-mail address or active flag (a disabled user's sessions end)."""
    accounts = _accounts(store)
    pw = _password(password_stdin) if password or password_stdin else None
    u = accounts.update_user(name, by="cli", role=role, active=active, password=pw, email=email)
    console.print(f"user [bold]{u.username}[/]: role {u.role}, {'active' if u.active else 'disabled'}")


@app.command()
def serve(store: Optional[str] = StoreOpt,
          host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface; "
                                   "put it behind an HTTPS proxy then)."),
          port: int = typer.Option(8000, "--port", help="Port to listen on."),
          lang: Optional[str] = typer.Option(None, "--lang", help="Language of the sign-in page (users choose "
                                             "their own).")):
    """Start the web workplace on the store: dashboards, customer 360, exports, JSON API (/docs).

    The app owns the store while it runs: analyses run from its Jobs page; a `cxvalue run` or
    `load` from another shell is refused until the server stops. The first start asks for an admin
    account when there is none (or create one with `cxvalue user add NAME --role admin`)."""
    import uvicorn

    from ...web.app import create_app, start_warming
    sess = session(store, lang)
    app_ = create_app(sess.settings, con=sess.con)
    accounts = app_.state.web.accounts
    if not accounts.has_admin():
        if not sys.stdin.isatty():
            raise CxValueError("the store has no admin account: create one with `cxvalue user add NAME --role admin` "
                               "(or start `cxvalue serve` in a terminal to be asked)")
        console.print("No admin account yet: create one now.")
        name = typer.prompt("Admin user name")
        accounts.add_user(name, "admin", _password(False), lang=sess.lang, by="cli")
    start_warming(app_)
    console.print(f"cxvalue workplace on [bold]http://{host}:{port}/[/] (store {sess.settings['store']}); "
                  "Ctrl+C stops it")
    uvicorn.run(app_, host=host, port=port, log_level="warning", access_log=False)
