"""Closed-loop commands: ``cxvalue cases list|show|open|assign|update|close|kpis|outcomes``."""
from __future__ import annotations

from typing import Optional

import typer

from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session
from ..render import show

cases_app = typer.Typer(no_args_is_help=True, help="Cases of the closed loop (follow up, find the root cause, fix it): list, show, open, "
                                                   "assign, update, close. Every change is an event in case_events.")
app.add_typer(cases_app, name="cases")

VersionOpt = typer.Option(None, "--version", help="The case version you based the change on (from `cases show`); "
                                                  "a newer change by someone else is then a conflict. Default: as "
                                                  "the case is now.")
CommentOpt = typer.Option(..., "--comment", "-m", help="What was done and why (required for every change).")
ByOpt = typer.Option(None, "--by", help="Who makes the change (default: $USER).")


def _by(by):
    import getpass
    return by or getpass.getuser()


def _version(sess, case_id, version):
    from ....loop.cases import get_case
    return version if version is not None else get_case(sess.con, case_id).version


@cases_app.command("list")
def cases_list(status: Optional[str] = typer.Option(None, "--status", help="all, open, in_progress, escalated, resolved "
                                                                           "or closed."),
               owner: Optional[str] = typer.Option(None, "--owner"), team: Optional[str] = typer.Option(None, "--team"),
               holdout: bool = typer.Option(False, "--holdout", help="List the hold-out's cases (recorded, not "
                                            "worked) instead of the cases to work."),
               limit: int = typer.Option(200, "--limit"), store: Optional[str] = StoreOpt,
               lang: Optional[str] = LangOpt, as_json: bool = JsonOpt):
    """The cases to work (open, in progress, escalated; `--status all` for every case), the soonest
    due first, with their current status, owner and team."""
    from ...views.cases import cases_view
    sess = session(store, lang)
    show(cases_view(sess, status=status, owner=owner, team=team, holdout=holdout, limit=limit), sess, as_json)


@cases_app.command("kpis")
def cases_kpis(store: Optional[str] = StoreOpt, lang: Optional[str] = LangOpt, as_json: bool = JsonOpt):
    """Closed-loop KPIs: per team and owner the cases, hours to first response and resolution, SLA
    attainment, reopen rate; the root-cause Pareto; cases per 1,000 customers by touchpoint."""
    from ...views.cases import kpis_view
    sess = session(store, lang)
    show(kpis_view(sess), sess, as_json)


@cases_app.command("outcomes")
def cases_outcomes(store: Optional[str] = StoreOpt, lang: Optional[str] = LangOpt, as_json: bool = JsonOpt):
    """Did following up work? Per rule, the worked cases against the random hold-out on retention at
    90/180 days, the NPS change at the next answer and spend, with 95% intervals (recomputed now:
    the step "case outcomes"; matched and marked observational for a rule without a hold-out)."""
    from ....steps import run_steps
    from ...views.loop import outcomes_view
    sess = session(store, lang)
    run_steps(sess, only=["case outcomes"])
    show(outcomes_view(sess), sess, as_json)


@cases_app.command("show")
def cases_show(case_id: str = typer.Argument(...), store: Optional[str] = StoreOpt, lang: Optional[str] = LangOpt,
               as_json: bool = JsonOpt):
    """One case: its current state, the actions it allows, and every event."""
    from ...views.cases import case_view
    sess = session(store, lang)
    show(case_view(sess, case_id), sess, as_json)


@cases_app.command("open")
def cases_open(customer_id: str = typer.Argument(...),
               source: str = typer.Option("manual", "--source", help="survey, complaint, churn_risk or manual."),
               source_id: Optional[str] = typer.Option(None, "--source-id", help="The answer or complaint id."),
               priority: str = typer.Option("normal", "--priority", help="urgent, high, normal or low."),
               owner: Optional[str] = typer.Option(None, "--owner"), team: Optional[str] = typer.Option(None, "--team"),
               comment: Optional[str] = typer.Option(None, "--comment", "-m"), by: Optional[str] = ByOpt,
               store: Optional[str] = StoreOpt, lang: Optional[str] = LangOpt, as_json: bool = JsonOpt):
    """Open a case by hand."""
    from ....loop.cases import open_case
    from ...views.cases import case_view
    sess = session(store, lang)
    c = open_case(sess.con, customer_id, source=source, source_id=source_id, priority=priority, owner=owner,
                  team=team, comment=comment, by=_by(by))
    show(case_view(sess, c.case_id), sess, as_json)


def _change(case_id, action, version, comment, by, store, lang, as_json, **kw):
    from ....loop.cases import change
    from ...views.cases import case_view
    sess = session(store, lang)
    c = change(sess.con, case_id, action, by=_by(by), version=_version(sess, case_id, version), comment=comment,
               root_causes=sess.settings.get("root_causes"), **kw)
    if action in ("assign", "escalate"):
        from ....loop.notify import notice, owner_emails, send
        send(sess.settings, [notice("assigned" if action == "assign" else "escalated", c, by=_by(by), comment=comment)],
             emails=owner_emails(sess.con))
    show(case_view(sess, case_id), sess, as_json)


@cases_app.command("assign")
def cases_assign(case_id: str = typer.Argument(...), owner: Optional[str] = typer.Option(None, "--owner"),
                 team: Optional[str] = typer.Option(None, "--team"), comment: str = CommentOpt,
                 version: Optional[int] = VersionOpt, by: Optional[str] = ByOpt, store: Optional[str] = StoreOpt,
                 lang: Optional[str] = LangOpt, as_json: bool = JsonOpt):
    """Give a case to an owner and/or a team."""
    _change(case_id, "assign", version, comment, by, store, lang, as_json, owner=owner, team=team)


@cases_app.command("update")
def cases_update(case_id: str = typer.Argument(...),
                 action: str = typer.Argument(..., help="start, escalate, resolve, close, reopen or note."),
                 comment: str = CommentOpt,
                 root_cause: Optional[str] = typer.Option(None, "--root-cause", help="Required to resolve: a code of "
                                                          "the taxonomy (setting root_causes)."),
                 corrective_action: Optional[str] = typer.Option(None, "--action-taken", help="The corrective action."),
                 outcome: Optional[str] = typer.Option(None, "--outcome"), version: Optional[int] = VersionOpt,
                 by: Optional[str] = ByOpt, store: Optional[str] = StoreOpt, lang: Optional[str] = LangOpt,
                 as_json: bool = JsonOpt):
    """Move a case through its life: start, escalate, resolve (with a root cause), close, reopen, or add a note."""
    _change(case_id, action, version, comment, by, store, lang, as_json, root_cause=root_cause,
            corrective_action=corrective_action, outcome=outcome)


@cases_app.command("close")
def cases_close(case_id: str = typer.Argument(...), comment: str = CommentOpt, version: Optional[int] = VersionOpt,
                by: Optional[str] = ByOpt, store: Optional[str] = StoreOpt, lang: Optional[str] = LangOpt,
                as_json: bool = JsonOpt):
    """Close a resolved case."""
    _change(case_id, "close", version, comment, by, store, lang, as_json)
