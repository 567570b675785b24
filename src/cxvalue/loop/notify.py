"""Notifications of the closed loop: a case was assigned or escalated. Sent to a webhook (JSON
POST, setting ``notify_webhook``) and/or by e-mail (setting ``notify_smtp`` = host:port, from
``notify_from``) to the case's owner — the e-mail address of their workplace account
(``cxvalue user set NAME --email ADDRESS``) — with the team mailbox ``notify_to`` in copy, or to
``notify_to`` alone when the owner has no address. Delivery never undoes or blocks the change
it announces: a failure is a :class:`~cxvalue.errors.NotificationWarning` naming the target and
the reason.
"""
from __future__ import annotations

import json
import smtplib
import urllib.request
import warnings
from email.message import EmailMessage

from ..errors import NotificationWarning

KINDS = ("assigned", "escalated")


def notice(kind: str, case, *, by: str, comment: str | None = None) -> dict:
    """The message about ``case`` (a :class:`~cxvalue.loop.cases.Case`)."""
    return {"event": f"case_{kind}", "case_id": case.case_id, "customer_id": case.customer_id,
            "status": case.status, "priority": case.priority, "owner": case.owner, "team": case.team,
            "sla_due": case.sla_due.isoformat() if getattr(case, "sla_due", None) is not None else None,
            "by": by, "comment": comment}


def owner_emails(con) -> dict[str, str]:
    """{username: e-mail} of the store's active workplace accounts that have an address."""
    from ..accounts import Accounts
    from ..store import has_table
    return Accounts(con).emails() if con is not None and has_table(con, "users") else {}


def send(settings: dict, notices: list[dict], *, timeout: float = 5.0, emails: dict[str, str] | None = None) -> int:
    """Deliver ``notices`` to every configured target; the number delivered (per target).
    ``emails``: {owner: address} (:func:`owner_emails`), the owners' own addresses."""
    emails = emails or {}
    sent = 0
    if not notices:
        return 0
    hook = settings.get("notify_webhook")
    if hook:
        for n in notices:
            req = urllib.request.Request(hook, data=json.dumps(n, ensure_ascii=False).encode("utf-8"),
                                         headers={"Content-Type": "application/json"}, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    if r.status >= 300:
                        raise OSError(f"HTTP {r.status}")
                sent += 1
            except OSError as exc:
                warnings.warn(f"webhook {hook}: case {n['case_id']} {n['event']} not delivered: {exc}",
                              NotificationWarning, stacklevel=2)
    smtp, team = settings.get("notify_smtp"), settings.get("notify_to")
    mails = [(n, emails.get(n.get("owner") or "")) for n in notices]
    mails = [(n, own or team, team if own and team and team != own else None) for n, own in mails if own or team]
    if smtp and mails:
        host, _, port = str(smtp).partition(":")
        try:
            with smtplib.SMTP(host, int(port or 25), timeout=timeout) as s:
                for n, to, cc in mails:
                    msg = EmailMessage()
                    msg["Subject"] = f"[cxvalue] case {n['case_id']} {n['event'].split('_', 1)[1]} " \
                                     f"({n['priority']}, customer {n['customer_id']})"
                    msg["From"] = settings.get("notify_from") or "cxvalue@localhost"
                    msg["To"] = to
                    if cc:
                        msg["Cc"] = cc
                    msg.set_content("\n".join(f"{k}: {v}" for k, v in n.items() if v is not None))
                    s.send_message(msg)
                    sent += 1
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            targets = ", ".join(sorted({to for _, to, _ in mails}))
            warnings.warn(f"e-mail via {smtp} to {targets}: {len(mails)} notice(s) not delivered: {exc}",
                          NotificationWarning, stacklevel=2)
    return sent
