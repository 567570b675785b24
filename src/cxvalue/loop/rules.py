"""Rules that open cases on every run (step "cases"): detractor answers, low satisfaction,
complaints still unresolved after N days, the customers with the most value at risk.

A rule file (setting ``case_rules``; default :data:`DEFAULT_RULES`, documented in
docs/closed-loop.md) lists rules; each has a ``name``, a ``source``, a condition, a
``priority``, a ``team``, ``sla_hours`` and an optional ``route`` list (the first entry whose
value tier / touchpoint / region matches overrides team, priority and SLA). Rules are
idempotent: an event (answer, complaint, or customer at risk as of a date) opens at most one
case per rule, however often the run is repeated. Only events in the ``lookback_days`` before
the analysis date are considered, so a first run does not open cases for years of history.

A share of the eligible customers (``holdout_share``, default 10%) is drawn into a **hold-out**
at case creation: their case is recorded with ``holdout = true`` and is not worked, so that the
value of following up can be measured against them. The draw is a hash of (rule, customer):
random across customers, stable across runs.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from ..errors import CxValueError
from ..holdout import in_holdout
from ..store import declare, has_table, write_state

DEFAULT_RULES = {
    "holdout_share": 0.10,
    "lookback_days": 30,
    "rules": [
        {"name": "detractor", "source": "survey", "when": {"nps_max": 6}, "priority": "high", "team": "cx",
         "sla_hours": 48, "route": [{"value_tier": "platinum", "priority": "urgent", "team": "vip", "sla_hours": 24}]},
        {"name": "low_satisfaction", "source": "survey", "when": {"satisfaction_max": 4}, "priority": "normal",
         "team": "cx", "sla_hours": 72},
        {"name": "unresolved_complaint", "source": "complaint", "when": {"unresolved_days": 7}, "priority": "high",
         "team": "service", "sla_hours": 24},
        {"name": "value_at_risk", "source": "churn_risk", "when": {"top": 50}, "priority": "high",
         "team": "retention", "sla_hours": 72},
    ],
}
CONDITIONS = {"survey": ("nps_max", "satisfaction_max"), "complaint": ("unresolved_days",), "churn_risk": ("top",)}
ROUTE_KEYS = ("value_tier", "touchpoint", "region", "theme")   # theme: of the answer's comment (step "text")


def load_rules(path: str | Path | None = None) -> dict:
    """The rule set of ``path`` (YAML) or the default, checked: a clear error names the rule and key."""
    if path is None:
        data = DEFAULT_RULES
    else:
        import yaml
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CxValueError(f"case rules {path}: cannot read them: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise CxValueError(f"case rules {path}: expected a mapping with a list 'rules'")
    share = data.get("holdout_share", 0.10)
    if not isinstance(share, (int, float)) or not 0 <= share < 1:
        raise CxValueError(f"case rules {path}: holdout_share must be in [0, 1), got {share!r}")
    names = set()
    for i, r in enumerate(data["rules"], 1):
        where = f"case rules {path or '(default)'}, rule {i}"
        if not isinstance(r, dict) or not r.get("name"):
            raise CxValueError(f"{where}: expected a mapping with a name")
        if r["name"] in names:
            raise CxValueError(f"{where}: the name {r['name']!r} is used twice")
        names.add(r["name"])
        if r.get("source") not in CONDITIONS:
            raise CxValueError(f"{where} ({r['name']}): source must be one of {', '.join(CONDITIONS)}, "
                               f"got {r.get('source')!r}")
        when = r.get("when") or {}
        bad = [k for k in when if k not in CONDITIONS[r["source"]]]
        if bad or not when:
            raise CxValueError(f"{where} ({r['name']}): 'when' takes {', '.join(CONDITIONS[r['source']])}, "
                               f"got {', '.join(bad) or 'nothing'}")
        for route in r.get("route") or []:
            if not any(k in route for k in ROUTE_KEYS):
                raise CxValueError(f"{where} ({r['name']}): each route entry needs one of {', '.join(ROUTE_KEYS)}")
    teams = data.get("teams") or {}
    if not isinstance(teams, dict) or not all(isinstance(v, dict) for v in teams.values()):
        raise CxValueError(f"case rules {path}: teams must map a team to {{manager: name}}")
    return {"holdout_share": float(share), "lookback_days": int(data.get("lookback_days", 30)), "rules": data["rules"],
            "teams": teams}


def _candidates(con, rule: dict, as_of: dt.date, lookback: int) -> pd.DataFrame:
    """Events the rule applies to: customer_id, source_id, at (+ touchpoint where known)."""
    src, when = rule["source"], rule["when"]
    start = dt.datetime.combine(as_of - dt.timedelta(days=lookback), dt.time())
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    if src == "survey":
        if not has_table(con, "responses"):
            return pd.DataFrame()
        r = con.table("responses")
        r = r.filter(r.customer_id.notnull() & (r.date >= start) & (r.date < end))
        conds = []
        if "nps_max" in when and "nps" in r.columns:
            conds.append(r.nps <= int(when["nps_max"]))
        if "satisfaction_max" in when and "satisfaction" in r.columns:
            conds.append(r.satisfaction <= float(when["satisfaction_max"]))
        if not conds:
            return pd.DataFrame()
        cond = conds[0]
        for c in conds[1:]:
            cond = cond | c
        cols = {"customer_id": r.customer_id, "source_id": r.response_id.cast("string") if "response_id" in r.columns
                else (r.customer_id + "@" + r.date.cast("string")), "at": r.date}
        if "touchpoint" in r.columns:
            cols["touchpoint"] = r.touchpoint
        out = r.filter(cond).select(**cols)
        if has_table(con, "comment_analysis") and "response_id" in r.columns:   # the comment's themes (step "text")
            ca = con.table("comment_analysis")
            ca = ca.filter(ca.source == "response").select(_sid=ca.source_id.cast("string"), themes=ca.themes)
            out = out.left_join(ca, out.source_id == ca._sid).drop("_sid")
        return out.to_pandas()
    if src == "complaint":
        if not has_table(con, "complaints"):
            return pd.DataFrame()
        c = con.table("complaints")
        late = dt.datetime.combine(as_of - dt.timedelta(days=int(when["unresolved_days"])), dt.time())
        c = c.filter(c.resolved.isnull() & (c.opened < late) & (c.opened >= start - dt.timedelta(days=365)))
        sid = c.complaint_id.cast("string") if "complaint_id" in c.columns else c.customer_id + "@" + c.opened.cast("string")
        return c.select(customer_id=c.customer_id, source_id=sid, at=c.opened).to_pandas()
    if not has_table(con, "retention_list"):
        return pd.DataFrame()
    import ibis
    rl = con.table("retention_list")
    top = rl.order_by([ibis.desc("value_at_risk"), "customer_id"]).limit(int(when["top"])).to_pandas()
    return pd.DataFrame({"customer_id": top.customer_id.astype(str),
                         "source_id": top.customer_id.astype(str) + "@" + str(as_of),
                         "at": pd.Timestamp(as_of)})


def _attributes(con, ids) -> pd.DataFrame:
    """value_tier and region of the customers (for routing)."""
    out = pd.DataFrame({"customer_id": pd.Series(list(ids), dtype=object)})
    for table, col in (("customer_value", "value_tier"), ("customers", "region")):
        if has_table(con, table) and col in con.table(table).columns:
            t = con.table(table)
            df = t.filter(t.customer_id.isin(list(ids))).select("customer_id", col).to_pandas()
            out = out.merge(df.astype({"customer_id": object}), on="customer_id", how="left")
    return out


def _matches(key: str, wanted, row: dict) -> bool:
    if key == "theme":        # one of the comment's themes (a comma-separated list)
        themes = row.get("themes")
        return isinstance(themes, str) and str(wanted) in themes.split(",")
    return row.get(key) == wanted


def _route(rule: dict, row: dict) -> dict:
    out = {"team": rule.get("team"), "priority": rule.get("priority", "normal"), "sla_hours": rule.get("sla_hours")}
    for route in rule.get("route") or []:
        if all(_matches(k, v, row) for k, v in route.items() if k in ROUTE_KEYS):
            out.update({k: route[k] for k in ("team", "priority", "sla_hours") if k in route})
            break
    return out


declare("case_rule_registry", kind="state", key=("rule",), columns=("first_seen",),
        doc="When each case rule was first applied: escalation never reaches cases opened before their rule existed.")


def _register(con, rules: dict, now: dt.datetime) -> dict[str, pd.Timestamp]:
    """{rule: first seen}, recording the rules seen for the first time."""
    import ibis
    seen = con.table("case_rule_registry").to_pandas() if has_table(con, "case_rule_registry") else \
        pd.DataFrame({"rule": pd.Series(dtype=object), "first_seen": pd.Series(dtype="datetime64[us]")})
    new = [r["name"] for r in rules["rules"] if r["name"] not in set(seen.rule)]
    if new:
        seen = pd.concat([seen, pd.DataFrame({"rule": new, "first_seen": pd.Timestamp(now)})], ignore_index=True) \
            if len(seen) else pd.DataFrame({"rule": new, "first_seen": pd.Timestamp(now)})
        seen["first_seen"] = pd.to_datetime(seen.first_seen).astype("datetime64[us]")
        write_state(con, "case_rule_registry", ibis.memtable(seen, schema={"rule": "string", "first_seen": "timestamp"}))
    return dict(zip(seen.rule, pd.to_datetime(seen.first_seen)))


def run_clock(as_of: dt.date) -> dt.datetime:
    """The time a run works at: the end of the analysis date, or now when that is later (a store
    whose data end in the past is judged as of its last day, so SLAs and escalation agree with it)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return min(now, dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()))


def escalate_overdue(con, clock: dt.datetime, rules: dict, first_seen: dict) -> list[str]:
    """Escalate the worked (not hold-out) open or in-progress cases past their SLA at ``clock``
    (:func:`run_clock`), to the team's manager (``teams: {team: {manager: name}}`` in the rule
    file), for rules that escalate (``escalate: false`` turns it off) and only for cases opened
    after their rule was first applied. Returns the ids of the cases escalated."""
    from .cases import append_events, current_cases
    cur = current_cases(con)
    if cur is None:
        return []
    names = [r["name"] for r in rules["rules"] if r.get("escalate", True)]
    if not names:
        return []
    due = cur.filter(cur.status.isin(["open", "in_progress"]) & ~cur.holdout & cur.sla_due.notnull()
                     & (cur.sla_due < clock) & cur.rule.isin(names)).to_pandas()
    teams = rules.get("teams") or {}
    events = []
    for r in due.to_dict("records"):
        if pd.Timestamp(r["opened_at"]) < first_seen.get(r["rule"], pd.Timestamp.max):
            continue
        team = r.get("team_now") or r.get("team")
        manager = (teams.get(team) or {}).get("manager") if team else None
        events.append({"case_id": r["case_id"], "version": r["version"], "by": "rule:sla", "action": "escalate",
                       "owner": manager, "comment": f"SLA due {str(r['sla_due'])[:16]} passed"
                                                    + (f"; escalated to {manager}" if manager else "")})
    return append_events(con, events)


def apply_rules(con, as_of: dt.date, rules: dict | None = None, *, by_prefix: str = "rule:",
                escalated: list | None = None) -> dict[str, int]:
    """Open the cases the rules call for (idempotent) and escalate the overdue ones;
    {rule: cases opened, "escalated": n}; ``escalated``: a list that receives their case ids."""
    from .cases import open_cases
    rules = rules or load_rules()
    existing = set()
    if has_table(con, "cases"):
        c = con.table("cases")
        existing = {(r, s) for r, s in c.filter(c.rule.notnull()).select("rule", "source_id").to_pandas()
                    .itertuples(index=False)}
    opened: dict[str, int] = {}
    batch = []
    clock = run_clock(as_of)
    for rule in rules["rules"]:
        cand = _candidates(con, rule, as_of, rules["lookback_days"])
        if cand.empty:
            opened[rule["name"]] = 0
            continue
        cand = cand.drop_duplicates("source_id")
        cand = cand[[(rule["name"], s) not in existing for s in cand.source_id]]
        if cand.empty:  # every event already has its case: a repeated run opens nothing
            opened[rule["name"]] = 0
            continue
        cand = cand.assign(customer_id=cand.customer_id.astype(str))
        attrs = _attributes(con, cand.customer_id.unique())
        cand = cand.merge(attrs, on="customer_id", how="left")
        for row in cand.to_dict("records"):
            r = _route(rule, row)
            # a survey case is due N hours after the answer; a complaint or risk case after the run found it
            at = pd.Timestamp(row["at"]).to_pydatetime() if rule["source"] == "survey" else clock
            due = at + dt.timedelta(hours=float(r["sla_hours"])) if r.get("sla_hours") else None
            batch.append({"customer_id": str(row["customer_id"]), "source": rule["source"],
                          "source_id": str(row["source_id"]), "rule": rule["name"], "by": by_prefix + rule["name"],
                          "priority": r["priority"], "team": r["team"], "sla_due": due,
                          "holdout": in_holdout(rule["name"], str(row["customer_id"]), rules["holdout_share"]),
                          "at": clock})
        opened[rule["name"]] = len(cand)
    if batch:
        open_cases(con, batch)
    first_seen = _register(con, rules, clock - dt.timedelta(seconds=5))
    ids = escalate_overdue(con, clock, rules, first_seen)
    if escalated is not None:
        escalated.extend(ids)
    opened["escalated"] = len(ids)
    return opened
