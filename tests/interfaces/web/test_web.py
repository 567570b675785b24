"""The web workplace in-process: every route × role (allowed, forbidden, masked), sign-in and
its rate limit, CSRF on every state change, escaping of customer text, JSON twins, OpenAPI,
API tokens, filters and drill-down against the store's own numbers, jobs, audit."""
from __future__ import annotations

import csv
import io
import re
import time

import ibis
import pytest
from fastapi.testclient import TestClient

from conftest import NAME, PASSWORD, ROLES, csrf_of, login, make_app

from cxvalue.accounts import PERMISSIONS

# every GET route with the permission it needs (a new route must be added here)
GET_ROUTES = {
    "/": "dashboards", "/dashboards/overview": "dashboards", "/dashboards/value": "dashboards",
    "/dashboards/voice": "dashboards", "/dashboards/perception": "dashboards", "/dashboards/loyalty": "dashboards",
    "/dashboards/churn": "dashboards", "/dashboards/lifecycle": "dashboards", "/dashboards/value.json": "dashboards",
    "/customers": "customers", "/customers.json": "customers", "/customers.csv": "export",
    "/customers.xlsx": "export", "/customers/{cid}": "customers", "/customers/{cid}.json": "customers",
    "/account": "dashboards", "/admin/users": "users", "/admin/audit": "users", "/admin/audit.json": "users",
    "/admin/jobs": "jobs", "/admin/jobs.json": "jobs", "/openapi.json": "dashboards", "/docs": "dashboards",
    "/cases": "cases", "/cases.json": "cases", "/cases/{case}": "cases", "/cases/{case}.json": "cases",
    "/cases/kpis": "cases", "/cases/kpis.json": "cases", "/cases/outcomes": "dashboards",
    "/cases/outcomes.json": "dashboards", "/dashboards/loop": "dashboards", "/dashboards/text": "dashboards",
    "/initiatives": "dashboards", "/initiatives.json": "dashboards",
}
POST_ROUTES = ("/logout", "/account/lang", "/account/password", "/account/tokens", "/account/tokens/x/revoke",
               "/admin/users", "/admin/users/viewer", "/admin/jobs", "/cases/x/note", "/cases/assign",
               "/initiatives", "/initiatives/{initiative_id}")  # the page is GET there (test_initiatives_web.py)


def _url(path, demo_store):
    return path.replace("{cid}", demo_store["customer"]).replace("{case}", demo_store["case"])


def test_every_documented_route_is_in_the_role_table(app):
    spec = app.openapi()
    documented = {p for p, ops in spec["paths"].items()}
    covered = {p.replace("{cid}", "{customer_id}").replace("{case}", "{case_id}") for p in GET_ROUTES} | set(POST_ROUTES)
    covered = {p.replace("/account/tokens/x/", "/account/tokens/{token_id}/").replace("/cases/x/note", "/cases/{case_id}/{action}")
               .replace("/admin/users/viewer", "/admin/users/{username}")
               for p in covered} | {"/dashboards/{view_id}", "/dashboards/{view_id}.json", "/admin/jobs/{job_id}"}
    assert documented <= covered, documented - covered


@pytest.mark.parametrize("role", ROLES)
def test_every_get_route_for_every_role(clients, demo_store, role):
    c = clients[role]
    for path, permission in GET_ROUTES.items():
        r = c.get(_url(path, demo_store), follow_redirects=False)
        allowed = permission in PERMISSIONS[role]
        expected = (200, 303) if allowed else (403,)
        assert r.status_code in expected, (role, path, r.status_code, r.text[:200])


def test_signed_out_html_redirects_to_sign_in_and_api_gets_401(clients, demo_store):
    c = clients["anon"]
    for path in GET_ROUTES:
        r = c.get(_url(path, demo_store), follow_redirects=False)
        if path.endswith((".json",)):
            assert r.status_code == 401, path
        else:
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    assert c.get("/dashboards/value", headers={"accept": "application/json"}).status_code == 401
    assert c.get("/login").status_code == 200
    assert "登录" in c.get("/login?lang=zh").text and "Sign in" in c.get("/login?lang=xx").text
    assert c.get("/static/app.css").status_code == 200


def test_csrf_is_required_on_every_state_change(clients):
    c = clients["admin"]
    for path in POST_ROUTES:
        r = c.post(path, data={"lang": "en"}, follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text, (path, r.status_code)
        r = c.post(path, data={"lang": "en", "csrf_token": "wrong"}, follow_redirects=False)
        assert r.status_code == 403, path
    token = csrf_of(c)
    r = c.post("/account/tokens", data={"label": "ok", "csrf_token": token})
    assert r.status_code == 200 and "cxv_" in r.text
    r = c.post("/account/lang", data={"lang": "en"}, headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert r.status_code == 303


def test_sign_in_cookie_flags_security_headers_and_no_open_redirect(app):
    c = TestClient(app)
    r = c.get("/login?next=https://evil.example/")
    assert 'value="/"' in r.text  # an off-site next is dropped
    h = r.headers
    assert "script-src 'self'" in h["content-security-policy"] and "frame-ancestors 'none'" in h["content-security-policy"]
    assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
    r = login(c, "viewer")
    cookie = r.headers["set-cookie"]
    assert "cxv_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # plain http on loopback
    r = TestClient(app, base_url="https://testserver")
    cookie = login(r, "viewer").headers["set-cookie"]
    assert "Secure" in cookie


def test_wrong_password_and_rate_limit(store_copy):
    app = make_app(store_copy)
    try:
        c = TestClient(app)
        assert login(c, "analyst", "wrong password!").status_code == 401
        for _ in range(4):
            login(c, "analyst", "wrong password!")
        r = login(c, "analyst")          # even the right password is refused while limited
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert login(c, "nobody-at-all", "x" * 12).status_code == 429  # same client address
        audit = app.state.web.accounts.audit_log()
        assert (audit.action == "login_failed").sum() == 5 and (audit.action == "login_refused").sum() >= 1
    finally:
        app.state.web.close()


def test_customer_text_is_escaped_and_masked_for_viewers(clients, demo_store, app):
    cid = demo_store["customer"]
    html = clients["analyst"].get(f"/customers/{cid}").text
    assert "<script>alert(" not in html and "&lt;script&gt;alert(" in html
    assert NAME in html and "13812345678" in html          # analysts see personal data
    data = clients["analyst"].get(f"/customers/{cid}.json").json()
    assert data["id"] == "customer" and any(b["id"] == "customer-responses" for b in data["blocks"])
    # a viewer gets no customer pages at all, and masked views everywhere
    assert clients["viewer"].get(f"/customers/{cid}").status_code == 403
    for vid in ("overview", "churn", "voice"):
        v = clients["viewer"].get(f"/dashboards/{vid}.json").json()
        assert v["meta"].get("masked") is True
    from cxvalue.interfaces.views.customers import customer_view, mask
    sess = app.state.web.session("en")
    masked = mask(customer_view(sess, cid))
    text = str(masked.to_dict())
    assert NAME not in text and "13812345678" not in text and "zhang.wei@example.com" not in text
    assert "<script>" in text  # markup is not personal data: it stays, escaped by the renderer


def test_json_twins_equal_the_pages_view(clients):
    c = clients["analyst"]
    for vid in ("overview", "value", "voice", "perception", "loyalty", "churn", "lifecycle"):
        a = c.get(f"/dashboards/{vid}.json").json()
        b = c.get(f"/dashboards/{vid}", headers={"accept": "application/json"}).json()
        assert a == b and a["id"] == vid and a["blocks"], vid
        html = c.get(f"/dashboards/{vid}").text
        for blk in a["blocks"]:
            assert f'id="{blk["id"]}"' in html, (vid, blk["id"])


def test_openapi_is_valid(clients):
    from openapi_spec_validator import validate
    spec = clients["viewer"].get("/openapi.json").json()
    validate(spec)
    assert "/dashboards/{view_id}.json" in spec["paths"] and "/customers.csv" in spec["paths"]
    assert "/customers/{customer_id}" in clients["viewer"].get("/docs").text


def test_api_token_create_use_revoke(clients, app):
    c = clients["analyst"]
    html = c.post("/account/tokens", data={"label": "script", "csrf_token": csrf_of(c)}).text
    token = re.search(r'id="new-token">(cxv_[^<]+)<', html).group(1)
    api = TestClient(app)
    r = api.get("/dashboards/value", headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["id"] == "value"   # a token asks for JSON
    assert api.get("/customers.json", headers={"authorization": f"Bearer {token}"}).status_code == 200
    assert api.get("/admin/users", headers={"authorization": f"Bearer {token}"}).status_code == 403
    tid = next(t["token_id"] for t in app.state.web.accounts.tokens("analyst") if t["label"] == "script")
    admin = clients["admin"]
    assert "script" in admin.get("/admin/users").text
    r = admin.post(f"/account/tokens/{tid}/revoke", data={"csrf_token": csrf_of(admin)}, follow_redirects=False)
    assert r.status_code == 303
    assert api.get("/dashboards/value", headers={"authorization": f"Bearer {token}"}).status_code == 401
    # a viewer may not revoke another user's token
    other = app.state.web.accounts.create_token(app.state.web.accounts.user("manager"), "m")
    tid2 = next(t["token_id"] for t in app.state.web.accounts.tokens("manager") if t["label"] == "m")
    v = clients["viewer"]
    assert v.post(f"/account/tokens/{tid2}/revoke", data={"csrf_token": csrf_of(v)}).status_code == 400
    assert api.get("/dashboards/value.json", headers={"authorization": f"Bearer {other}"}).status_code == 200


def test_filters_are_computed_on_the_slice(clients, app):
    con = app.state.web.con()
    cv = con.table("customer_value")
    gold = int(cv.filter(cv.value_tier == "gold").count().execute())
    v = clients["analyst"].get("/dashboards/value.json?value_tier=gold").json()
    kpis = {k["key"]: k["value"] for k in v["blocks"][0]["items"]}
    assert kpis["customers"] == gold and v["meta"]["filters"] == {"value_tier": "gold"}
    assert any(w["category"] == "FilterNotice" for w in v["warnings"])
    # NPS of one touchpoint equals the NPS of those answers computed from the raw scores
    from cxvalue.voice.nps import nps_score
    r = con.table("responses")
    scores = r.filter((r.touchpoint == "app") & r.nps.notnull()).nps.to_pandas()
    v = clients["analyst"].get("/dashboards/voice.json?touchpoint=app").json()
    kpis = {k["key"]: k["value"] for k in v["blocks"][0]["items"]}
    assert kpis["n"] == len(scores) and kpis["nps"] == pytest.approx(nps_score(scores).nps)
    # a page that cannot honour filters says so
    v = clients["analyst"].get("/dashboards/perception.json?channel=app").json()
    assert v["warnings"][0]["category"] == "FilterNotApplied"
    # a bad filter value is a clear 400
    r = clients["analyst"].get("/dashboards/value.json?date_from=yesterday")
    assert r.status_code == 400 and "YYYY-MM-DD" in r.json()["detail"]


def test_drill_down_list_sort_page_and_export(clients, app):
    con = app.state.web.con()
    lc = con.table("lifecycle")
    n = int(lc.filter(lc.current_stage == "stability").count().execute())
    c = clients["analyst"]
    v = c.get("/customers.json?stage=stability&sort=p_churn&desc=true&size=25").json()
    assert v["meta"]["total"] == n and len(v["blocks"][0]["rows"]) == min(25, n)
    risks = [r["p_churn"] for r in v["blocks"][0]["rows"] if r["p_churn"] is not None]
    assert risks == sorted(risks, reverse=True)
    page2 = c.get("/customers.json?stage=stability&sort=p_churn&desc=true&size=25&page=2").json()
    ids1 = {r["customer_id"] for r in v["blocks"][0]["rows"]}
    assert not ids1 & {r["customer_id"] for r in page2["blocks"][0]["rows"]}
    # the dashboard's bar links to this very list
    dash = c.get("/dashboards/lifecycle").text
    assert "/customers?stage=stability" in dash
    r = c.get("/customers.csv?stage=stability")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == n and rows[0]["customer_id"]
    r = c.get("/customers.xlsx?stage=stability")
    import openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.active.max_row == n + 1
    assert c.get("/customers.json?sort=nonsense").status_code == 400
    audit = app.state.web.accounts.audit_log()
    assert ((audit.action == "export") & (audit.username == "analyst")).sum() >= 2


def test_language_is_a_user_preference(clients):
    c = clients["manager"]
    r = c.post("/account/lang", data={"lang": "zh", "csrf_token": csrf_of(c)}, headers={"referer": "http://testserver/dashboards/value"},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboards/value"
    html = c.get("/dashboards/value").text
    assert '<html lang="zh-CN">' in html and "客户价值" in html
    c.post("/account/lang", data={"lang": "en", "csrf_token": csrf_of(c)})
    assert "Customer value" in c.get("/dashboards/value").text


def test_admin_manages_users_and_cannot_remove_the_last_admin(store_copy):
    app = make_app(store_copy)
    try:
        c = TestClient(app)
        login(c, "admin")
        tok = csrf_of(c)
        r = c.post("/admin/users", data={"username": "li", "role": "analyst", "password": "short", "csrf_token": tok})
        assert r.status_code == 400 and "at least 10" in r.text
        r = c.post("/admin/users", data={"username": "li", "role": "analyst", "password": PASSWORD, "csrf_token": tok},
                   follow_redirects=False)
        assert r.status_code == 303 and app.state.web.accounts.user("li").role == "analyst"
        r = c.post("/admin/users/li", data={"email": "li@", "csrf_token": tok})
        assert r.status_code == 400 and "not valid" in r.text
        c.post("/admin/users/li", data={"email": "li@example.com", "csrf_token": tok})
        assert app.state.web.accounts.user("li").email == "li@example.com" and 'value="li@example.com"' in \
            c.get("/admin/users").text
        li = TestClient(app)
        assert login(li, "li").status_code == 303 and li.get("/customers").status_code == 200
        c.post("/admin/users/li", data={"active": "false", "csrf_token": tok})
        assert li.get("/customers", follow_redirects=False).status_code == 303   # sessions ended
        r = c.post("/admin/users/admin", data={"role": "viewer", "csrf_token": tok})
        assert r.status_code == 400 and "no active admin" in r.text
        audit = app.state.web.accounts.audit_log()
        assert {"user_add", "user_update", "login"} <= set(audit.action)
    finally:
        app.state.web.close()


def test_a_job_runs_the_analyses_and_refreshes_the_views(store_copy):
    app = make_app(store_copy)
    try:
        c = TestClient(app)
        login(c, "admin")
        before = app.state.web.generation
        r = c.post("/admin/jobs", data={"only": "lifecycle", "csrf_token": csrf_of(c)},
                   headers={"accept": "application/json"})
        assert r.status_code == 202
        jid = r.json()["id"]
        deadline = time.time() + 120
        while time.time() < deadline:
            j = c.get(f"/admin/jobs/{jid}", headers={"accept": "application/json"}).json()
            if j["status"] in ("done", "failed"):
                break
            assert c.get("/dashboards/overview").status_code == 200   # the app serves while a job runs
            time.sleep(0.2)
        assert j["status"] == "done", j
        assert [o["step"] for o in j["outcomes"]] == ["lifecycle"] and app.state.web.generation > before
        assert c.post("/admin/jobs", data={"only": "nope", "csrf_token": csrf_of(c)}).status_code == 400
        # a long step's own progress shows in its row
        from cxvalue.interfaces.web.state import Job
        app.state.web.jobs.append(Job("j1", "run", "admin", ["text"], status="running", step="text", done=3, total=20,
                                      detail={"done": 300000, "total": 1000000, "unit": "comments"}))
        assert "text (3/20) · 300,000/1,000,000 comments" in c.get("/admin/jobs/j1").text
    finally:
        app.state.web.close()


def test_user_cli_and_serve_without_admin(tmp_path, monkeypatch):
    from cli_runner import cx
    store = tmp_path / "s.duckdb"
    ibis.duckdb.connect(str(store)).disconnect()
    r = cx("serve", "--store", store)
    assert r.returncode == 1 and "no admin account" in r.stderr
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    r = cx("user", "add", "ann", "--role", "admin", "--password-stdin", "--store", store)
    assert r.returncode == 0, r.stderr
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    r = cx("user", "add", "bob", "--password-stdin", "--store", store)
    assert r.returncode == 1 and "too short" in r.stderr
    r = cx("user", "list", "--store", store)
    assert "ann" in r.stdout and "admin" in r.stdout
    con = ibis.duckdb.connect(str(store))
    assert PASSWORD not in str(con.table("users").to_pandas().to_dict())  # only the argon2 hash
    assert con.table("users").password_hash.execute()[0].startswith("$argon2")


def test_work_a_case_in_the_workplace(clients, app, demo_store):
    from cxvalue.loop.cases import get_case
    owner, manager = clients["case_owner"], clients["manager"]
    con = app.state.web.con()
    cid = demo_store["case"]
    case = get_case(con, cid)
    html = owner.get(f"/cases/{cid}").text
    assert 'id="do-start"' in html and "customer-kpis" in html          # the customer 360 beside the case
    q = owner.get("/cases.json?status=open").json()
    assert q["meta"]["total"] >= 1 and "sla_hours_left" in q["blocks"][-1]["rows"][0]
    tok = csrf_of(owner)
    # a case owner may take a case, not give it to someone else
    r = owner.post(f"/cases/{cid}/assign", data={"version": case.version, "owner": "wang", "comment": "x", "csrf_token": tok})
    assert r.status_code == 403
    r = owner.post(f"/cases/{cid}/assign", data={"version": case.version, "owner": "case_owner", "comment": "mine",
                                                 "csrf_token": tok}, follow_redirects=False)
    assert r.status_code == 303
    v = case.version + 1
    r = owner.post(f"/cases/{cid}/resolve", data={"version": v, "comment": "called", "csrf_token": tok})
    assert r.status_code == 400 and "root cause is required" in r.text
    r = owner.post(f"/cases/{cid}/start", data={"version": v - 1, "comment": "stale form", "csrf_token": tok})
    assert r.status_code == 409 and "changed since you opened it" in r.text
    r = owner.post(f"/cases/{cid}/resolve", data={"version": v, "comment": "called back", "root_cause": "delay",
                                                  "corrective_action": "rebooked", "csrf_token": tok},
                   headers={"accept": "application/json"})
    assert r.status_code == 200 and r.json()["status"] == "resolved" and r.json()["root_cause"] == "delay"
    assert clients["analyst"].post(f"/cases/{cid}/close", data={"version": v + 1, "comment": "x",
                                                                "csrf_token": csrf_of(clients["analyst"])}).status_code == 403
    # a manager assigns several cases at once
    others = [r["case_id"] for r in manager.get("/cases.json?status=open").json()["blocks"][-1]["rows"][:3]]
    r = manager.post("/cases/assign", data={"case_id": others, "owner": "li", "comment": "for li", "csrf_token": csrf_of(manager)},
                     headers={"accept": "application/json"})
    assert r.status_code == 200 and r.json()["assigned"] == others
    assert all(get_case(con, c).owner == "li" for c in others)
    audit = app.state.web.accounts.audit_log()
    assert {"case_assign", "case_resolve", "case_bulk_assign"} <= set(audit.action)
