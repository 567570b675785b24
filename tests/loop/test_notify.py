"""Notifications of assignment and escalation: a JSON webhook and e-mail through a local SMTP
server started by the test (aiosmtpd, loopback only); a target that is down warns and loses
nothing; the CLI and the cases step send them."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import ibis
import pandas as pd
import pytest

from cli_runner import cx

from cxvalue.errors import NotificationWarning
from cxvalue.loop.cases import open_case
from cxvalue.loop.notify import notice, send


@pytest.fixture()
def webhook():
    got = []

    class H(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass
    srv = HTTPServer(("127.0.0.1", 0), H)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_port}/hook", got
    srv.shutdown()


@pytest.fixture()
def smtp():
    from aiosmtpd.controller import Controller
    got = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            got.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    yield f"127.0.0.1:{port}", got
    ctl.stop()


def test_webhook_and_email(webhook, smtp):
    con = ibis.duckdb.connect()
    case = open_case(con, "C7", source="survey", by="rule:detractor", priority="urgent", team="vip")
    settings = {"notify_webhook": webhook[0], "notify_smtp": smtp[0], "notify_to": "vip-team@example.com",
                "notify_from": "cx@example.com"}
    n = send(settings, [notice("escalated", case, by="rule:sla", comment="SLA passed")])
    assert n == 2
    assert webhook[1][0]["event"] == "case_escalated" and webhook[1][0]["case_id"] == case.case_id
    rcpt, body = smtp[1][0]
    assert rcpt == ["vip-team@example.com"] and f"case {case.case_id} escalated" in body and "urgent" in body


def test_a_target_that_is_down_warns_and_raises_nothing():
    con = ibis.duckdb.connect()
    case = open_case(con, "C7", source="manual", by="ann")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]          # closed again: nothing listens there
    with pytest.warns(NotificationWarning, match="not delivered"):
        assert send({"notify_webhook": f"http://127.0.0.1:{dead}/x", "notify_smtp": f"127.0.0.1:{dead}",
                     "notify_to": "a@example.com"}, [notice("assigned", case, by="ann")], timeout=2) == 0
    assert con.table("case_events").count().execute() == 1


def test_cli_assignment_notifies(tmp_path, webhook):
    store = tmp_path / "s.duckdb"
    con = ibis.duckdb.connect(str(store))
    con.create_table("transactions", pd.DataFrame({"customer_id": ["a"], "date": pd.to_datetime(["2025-06-01"]),
                                                   "amount": [1.0]}))
    case = open_case(con, "a", source="manual", by="ann")
    con.disconnect()
    (tmp_path / "cxvalue.toml").write_text(f'notify_webhook = "{webhook[0]}"\n', encoding="utf-8")
    r = cx("cases", "assign", case.case_id, "--owner", "li", "-m", "yours", "--store", store, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert webhook[1] and webhook[1][0]["event"] == "case_assigned" and webhook[1][0]["owner"] == "li"


def test_the_owner_gets_the_mail_at_their_own_address_with_the_team_in_copy(tmp_path, smtp):
    """`cxvalue user add/set --email`: the assigned owner is mailed directly (the team mailbox in
    copy); an owner without an address falls back to the team mailbox; a bad address is refused."""
    from cxvalue.accounts import AccountError, Accounts
    store = tmp_path / "s.duckdb"
    con = ibis.duckdb.connect(str(store))
    con.create_table("transactions", pd.DataFrame({"customer_id": ["a"], "date": pd.to_datetime(["2025-06-01"]),
                                                   "amount": [1.0]}))
    first, second = open_case(con, "a", source="manual", by="ann"), open_case(con, "a", source="manual", by="ann")
    con.disconnect()
    r = cx("user", "add", "li", "--role", "case_owner", "--email", "not-an-address", "--password-stdin", "--store", store)
    assert r.returncode != 0 and "not valid" in r.stderr + r.stdout
    import subprocess
    import sys
    for args in (["user", "add", "li", "--role", "case_owner", "--email", "li@example.com"],
                 ["user", "add", "wu", "--role", "case_owner"]):
        p = subprocess.run([sys.executable, "-m", "cxvalue", *args, "--password-stdin", "--store", str(store)],
                           input="a long enough password\n", capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
    (tmp_path / "cxvalue.toml").write_text(f'notify_smtp = "{smtp[0]}"\nnotify_to = "cx-team@example.com"\n',
                                           encoding="utf-8")
    assert cx("cases", "assign", first.case_id, "--owner", "li", "-m", "yours", "--store", store,
              cwd=tmp_path).returncode == 0
    assert cx("cases", "assign", second.case_id, "--owner", "wu", "-m", "yours", "--store", store,
              cwd=tmp_path).returncode == 0
    (to_li, body_li), (to_wu, _) = smtp[1]
    assert sorted(to_li) == ["cx-team@example.com", "li@example.com"] and "Cc: cx-team@example.com" in body_li
    assert to_wu == ["cx-team@example.com"]
    con = ibis.duckdb.connect(str(store))
    acc = Accounts(con)
    assert acc.user("li").email == "li@example.com" and acc.emails() == {"li": "li@example.com"}
    acc.update_user("li", by="test", email="")
    assert acc.user("li").email is None
    with pytest.raises(AccountError, match="not valid"):
        acc.update_user("li", by="test", email="li at example")
    con.disconnect()
