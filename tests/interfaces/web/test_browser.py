"""The web workplace in a real browser: `cxvalue serve` in a subprocess, driven by headless
Chromium (the Debian package, through Playwright — never a downloaded browser). Every request
that leaves 127.0.0.1 is blocked and recorded: the app must work offline. Screenshots of every
dashboard are written to build/test-artifacts/screenshots/."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import NAME, PASSWORD

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[3] / "build" / "test-artifacts" / "screenshots"
DASHBOARDS = ("overview", "value", "voice", "perception", "loyalty", "churn", "journeys", "lifecycle", "text", "loop")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_store, tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs the Debian package chromium")
    store = tmp_path_factory.mktemp("served") / "demo.duckdb"
    shutil.copy(demo_store["store"], store)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXVALUE_")}
    proc = subprocess.Popen([sys.executable, "-m", "cxvalue", "serve", "--store", str(store), "--port", str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            cwd=store.parent)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/login", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("cxvalue serve exited: " + proc.stdout.read().decode())
            time.sleep(0.3)
    yield {"base": base, "store": store, "proc": proc, "customer": demo_store["customer"]}
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture()
def page(server, browser):
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    pg = ctx.new_page()
    pg.off_site = []
    pg.errors = []

    def route(r):
        host = urlsplit(r.request.url).hostname
        if host not in ("127.0.0.1", "localhost"):
            pg.off_site.append(r.request.url)
            return r.abort()
        return r.continue_()
    ctx.route("**/*", route)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    yield pg
    assert not pg.off_site, f"the app tried to reach the network: {pg.off_site}"
    ctx.close()


def _login(pg, base, user):
    pg.goto(base + "/login")
    pg.fill("input[name=username]", user)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(base + "/dashboards/overview")


def test_analyst_journey(page, server):
    base, pg = server["base"], page
    SHOTS.mkdir(parents=True, exist_ok=True)
    _login(pg, base, "analyst")
    # every dashboard renders its charts (ECharts) — screenshot each
    for vid in DASHBOARDS:
        pg.goto(f"{base}/dashboards/{vid}")
        if pg.locator("div.chart").count():
            pg.wait_for_selector('div.chart[data-ready="1"]', timeout=15000)
        pg.screenshot(path=str(SHOTS / f"dashboard-{vid}.png"), full_page=True)
    assert not [e for e in pg.errors if "favicon" not in e], pg.errors
    # filter a dashboard: choosing a value tier reloads the page with the filter applied
    pg.goto(base + "/dashboards/value")
    pg.evaluate("window.__still_this_page = true")
    pg.select_option("form.filters select[name=value_tier]", "gold")
    pg.wait_for_url("**value_tier=gold**")
    pg.wait_for_selector(".warn[data-category=FilterNotice]")
    pg.wait_for_selector('#slice-tiers div.chart[data-ready="1"]')
    assert pg.evaluate("window.__still_this_page === true")  # htmx swapped the page: no reload
    assert "value_tier=gold" in pg.get_attribute("nav.nav a[href^='/dashboards/churn']", "href")
    # switch language
    with pg.expect_navigation():
        pg.select_option("header select[name=lang]", "zh")
    assert "客户价值" in pg.inner_text("h1") and "value_tier=gold" in pg.url
    with pg.expect_navigation():
        pg.select_option("header select[name=lang]", "en")
    assert "Customer value" in pg.inner_text("h1")
    # click a bar of the lifecycle chart through to the customers behind it, then to one customer
    pg.goto(base + "/dashboards/lifecycle")
    pg.wait_for_selector('#slice-stages div.chart[data-ready="1"]')
    box = pg.evaluate("""() => {
        const el = document.querySelector('#slice-stages .chart-canvas');
        const chart = echarts.getInstanceByDom(el);
        const opt = chart.getOption();
        const v = opt.series[0].data[0];
        const value = typeof v === 'object' ? v.value : v;
        const [x, y] = chart.convertToPixel({seriesIndex: 0}, [value / 2, 0]);
        const r = el.getBoundingClientRect();
        return {x: r.left + x, y: r.top + y};
    }""")
    pg.mouse.click(box["x"], box["y"])
    pg.wait_for_url("**/customers?stage=**")
    assert "stage" in pg.inner_text("#list-summary").lower() or pg.locator("#list-summary .badge").count() == 1
    pg.screenshot(path=str(SHOTS / "customers.png"), full_page=True)
    with pg.expect_download() as dl:
        pg.click("#export-csv")
    path = dl.value.path()
    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("customer_id") and len(lines) > 1
    pg.click("#customer-list tbody tr:first-child a")
    pg.wait_for_url("**/customers/C*")
    assert pg.locator("#customer-profile").count() == 1 and pg.locator("#customer-transactions").count() == 1
    pg.screenshot(path=str(SHOTS / "customer-360.png"), full_page=True)
    # the planted customer: the comment's markup renders as text, not as a script
    pg.goto(f"{base}/customers/{server['customer']}")
    assert "<script>alert('x')</script>" in pg.inner_text("#customer-responses")
    assert NAME in pg.inner_text("#customer-profile")
    # sign out: the session is gone
    pg.click("#logout")
    pg.wait_for_url("**/login")
    pg.goto(base + "/dashboards/value")
    assert "/login" in pg.url


def test_viewer_sees_masked_data_and_no_customer_pages(page, server):
    base, pg = server["base"], page
    _login(pg, base, "viewer")
    pg.goto(base + "/dashboards/churn")
    assert pg.locator("nav.nav a[href='/customers']").count() == 0
    r = pg.goto(f"{base}/customers/{server['customer']}")
    assert r.status == 403
    data = pg.request.get(base + "/dashboards/churn.json").json()
    assert data["meta"]["masked"] is True


def test_a_cli_run_or_load_while_serving_is_refused_and_the_app_keeps_serving(server, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXVALUE_")}
    for args in (["run", "--only", "lifecycle"], ["load", "customers", str(tmp_path / "x.csv")]):
        (tmp_path / "x.csv").write_text("customer_id\nZ1\n", encoding="utf-8")
        r = subprocess.run([sys.executable, "-m", "cxvalue", *args, "--store", str(server["store"])],
                           capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "in use by another process" in r.stderr and "Jobs" in r.stderr
        assert "Traceback" not in r.stderr
    assert urllib.request.urlopen(server["base"] + "/login", timeout=5).status == 200
    assert server["proc"].poll() is None
