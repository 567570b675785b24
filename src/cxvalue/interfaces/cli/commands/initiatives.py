"""Improvement initiatives (H2): ``cxvalue initiatives add|list|show|update|measure|suggest``."""
from __future__ import annotations

from typing import Optional

import typer

from ..main import app
from ..options import JsonOpt, LangOpt, StoreOpt, session
from ..render import show

initiatives_app = typer.Typer(no_args_is_help=True, help="Improvement initiatives (H2) from a driver gap or a root "
                                                         "cause: add, list, show, update, measure (before vs after "
                                                         "the start, difference-in-differences), suggest.")
app.add_typer(initiatives_app, name="initiatives")

CommentOpt = typer.Option(..., "--comment", "-m", help="What was done and why (required for every change).")
ByOpt = typer.Option(None, "--by", help="Who makes the change (default: $USER).")
VersionOpt = typer.Option(None, "--version", help="The version you based the change on (from `initiatives show`); a "
                                                  "newer change by someone else is then a conflict. Default: as it "
                                                  "is now.")
BeforeDaysOpt = typer.Option(90, "--before-days", help="Days of the window before the start date.")
AfterDaysOpt = typer.Option(90, "--after-days", help="Days of the window from the start date (cut at the analysis "
                                                     "date).")
BeforeWaveOpt = typer.Option(None, "--before-wave", help="Compare survey waves instead of dates: the wave before.")
AfterWaveOpt = typer.Option(None, "--after-wave", help="The wave after (with --before-wave).")
MethodOpt = typer.Option("welch", "--method", help="welch (analytic t intervals) or bootstrap.")
BootOpt = typer.Option(1000, "--boot", help="Bootstrap resamples (with --method bootstrap).")
SeedOpt = typer.Option(0, "--seed", help="Random seed of the bootstrap.")
ConfidenceOpt = typer.Option(0.95, "--confidence", help="Confidence level of the intervals.")


def _by(by):
    import getpass
    return by or getpass.getuser()


def _measure_kw(before_days, after_days, before_wave, after_wave, method, boot, seed, confidence) -> dict:
    return dict(before_days=before_days, after_days=after_days, before_wave=before_wave, after_wave=after_wave,
                method=method, n_boot=boot, random_state=seed, confidence=confidence)


@initiatives_app.command("add")
def initiatives_add(title: str = typer.Argument(..., help="What will be done, e.g. \"Open more stores on the same "
                                                "street\"."),
                    origin: str = typer.Option(..., "--origin", help="Where it comes from: driver_gap:<dimension>, "
                                               "experience_roi:<item> or root_cause:<code> (short: gap:, roi:, rc:)."),
                    owner: str = typer.Option(..., "--owner", help="Who carries it out."),
                    start: str = typer.Option(..., "--start", help="Start date YYYY-MM-DD: the re-measurement compares "
                                              "before and after it."),
                    kpi: Optional[str] = typer.Option(None, "--kpi", help="Target KPI: nps, satisfaction, "
                                                      "experience_<dim>, satisfaction_<dim>, gap_<dim>, "
                                                      "case_rate:<root cause>, complaint_rate[:<category>] (default: "
                                                      "from the origin)."),
                    target: Optional[float] = typer.Option(None, "--target", help="Target value of the KPI."),
                    scope: Optional[str] = typer.Option(None, "--scope", help="The treated group, e.g. "
                                                        "touchpoint=app or channel=web,segment=business (default: "
                                                        "everyone; the rest are the untouched comparison)."),
                    comment: Optional[str] = typer.Option(None, "--comment", "-m"), by: Optional[str] = ByOpt,
                    store: Optional[str] = StoreOpt, lang: Optional[str] = LangOpt, as_json: bool = JsonOpt):
    """Create an initiative (status planned)."""
    from ....loop.initiatives import create_initiative
    from ...views.initiatives import initiative_view
    sess = session(store, lang)
    ini = create_initiative(sess.con, title=title, origin=origin, owner=owner, start_date=start, kpi=kpi,
                            target_value=target, scope=scope, comment=comment, by=_by(by),
                            taxonomy=sess.settings.get("root_causes"))
    show(initiative_view(sess, ini.initiative_id), sess, as_json)


@initiatives_app.command("list")
def initiatives_list(status: Optional[str] = typer.Option(None, "--status", help="planned, active, done or cancelled."),
                     owner: Optional[str] = typer.Option(None, "--owner"), store: Optional[str] = StoreOpt,
                     lang: Optional[str] = LangOpt, as_json: bool = JsonOpt):
    """The initiatives, open ones first, with their status, owner, KPI and target."""
    from ...views.initiatives import initiatives_view
    sess = session(store, lang)
    show(initiatives_view(sess, status=status, owner=owner), sess, as_json)


@initiatives_app.command("show")
def initiatives_show(initiative_id: str = typer.Argument(...), before_days: int = BeforeDaysOpt,
                     after_days: int = AfterDaysOpt, before_wave: Optional[str] = BeforeWaveOpt,
                     after_wave: Optional[str] = AfterWaveOpt, method: str = MethodOpt, boot: int = BootOpt,
                     seed: int = SeedOpt, confidence: float = ConfidenceOpt, store: Optional[str] = StoreOpt,
                     lang: Optional[str] = LangOpt, as_json: bool = JsonOpt):
    """One initiative: its state, the KPI before vs after the start, and every event."""
    from ...views.initiatives import initiative_view
    sess = session(store, lang)
    show(initiative_view(sess, initiative_id, **_measure_kw(before_days, after_days, before_wave, after_wave, method,
                                                            boot, seed, confidence)), sess, as_json)


@initiatives_app.command("update")
def initiatives_update(initiative_id: str = typer.Argument(...),
                       action: str = typer.Argument(..., help="start, complete, cancel, assign, edit or note."),
                       comment: str = CommentOpt,
                       owner: Optional[str] = typer.Option(None, "--owner", help="The new owner (assign)."),
                       target: Optional[float] = typer.Option(None, "--target", help="A new target value (edit)."),
                       start: Optional[str] = typer.Option(None, "--start", help="A new start date (edit), or the "
                                                           "actual one (start)."),
                       record: bool = typer.Option(True, "--record/--no-record", help="On complete, record the "
                                                   "re-measurement (default windows) with the event."),
                       version: Optional[int] = VersionOpt, by: Optional[str] = ByOpt,
                       store: Optional[str] = StoreOpt, lang: Optional[str] = LangOpt, as_json: bool = JsonOpt):
    """Move an initiative through its life: start, complete (recording the measured result), cancel,
    assign an owner, edit the target or start date, or add a note."""
    from ....loop.initiatives import change, get_initiative
    from ...views.initiatives import completion_result, initiative_view
    from ..render import warn
    sess = session(store, lang)
    if version is None:
        version = get_initiative(sess.con, initiative_id).version
    result = None
    if action == "complete" and record:
        result, why = completion_result(sess, initiative_id)
        if result is None:
            warn("remeasure", sess.t("ini_not_recorded", reason=why))
    change(sess.con, initiative_id, action, by=_by(by), version=version, comment=comment, owner=owner,
           target_value=target, start_date=start, result=result)
    show(initiative_view(sess, initiative_id), sess, as_json)


@initiatives_app.command("measure")
def initiatives_measure(initiative_id: str = typer.Argument(...),
                        kpi: Optional[str] = typer.Option(None, "--kpi", help="Measure another KPI than the "
                                                          "initiative's (e.g. nps as a knock-on effect)."),
                        before_days: int = BeforeDaysOpt, after_days: int = AfterDaysOpt,
                        before_wave: Optional[str] = BeforeWaveOpt, after_wave: Optional[str] = AfterWaveOpt,
                        method: str = MethodOpt, boot: int = BootOpt, seed: int = SeedOpt,
                        confidence: float = ConfidenceOpt, store: Optional[str] = StoreOpt,
                        lang: Optional[str] = LangOpt, as_json: bool = JsonOpt):
    """Re-measure (CEM step 7): the KPI before vs after the start date with an interval, and with a
    scope the difference-in-differences against the untouched segments; states n and the method."""
    from ...views.initiatives import remeasure_view
    sess = session(store, lang)
    kw = _measure_kw(before_days, after_days, before_wave, after_wave, method, boot, seed, confidence)
    show(remeasure_view(sess, initiative_id, kpi=kpi, **kw), sess, as_json)


@initiatives_app.command("suggest")
def initiatives_suggest(top: int = typer.Option(3, "--top", help="At most this many from each source."),
                        store: Optional[str] = StoreOpt, lang: Optional[str] = LangOpt, as_json: bool = JsonOpt):
    """Initiatives worth starting: where closing the gap pays most (experience value ranking, CEM
    requirements) and the root causes of the case Pareto, with the KPI now and a proposed target."""
    from ...views.initiatives import suggestions_view
    sess = session(store, lang)
    show(suggestions_view(sess, top=top), sess, as_json)
