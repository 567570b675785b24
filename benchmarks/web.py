"""Web workplace under load: N simulated users (threads, loopback only) walk dashboards,
filtered dashboards, customer lists and customer 360 pages of a `cxvalue serve` on a large demo
store for a fixed time; prints p50/p95/p99 per route and the error count, with a static file
served by the same process as the peer (the floor of the server itself).

    .venv/bin/python benchmarks/web.py                        # 1,000,000 customers, 20 users, 120 s
    .venv/bin/python benchmarks/web.py --customers 20000 --seconds 20   # smoke run

The demo store is built once into .bench/web-<N>/ (cxvalue demo: minutes at 1M) and reused.
Goal: p95 < 300 ms on every route, 0 errors.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "benchmark password 1"


def build_store(customers: int) -> Path:
    folder = ROOT / ".bench" / f"web-{customers}"
    store = folder / "demo.duckdb"
    if store.exists():
        return store
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cxvalue", "demo", "--customers", str(customers), "--data",
                    str(folder / "data"), "--store", str(store), "--report", str(folder / "report.html")],
                   check=True)
    shutil.rmtree(folder / "data", ignore_errors=True)
    print(f"built the {customers:,}-customer demo store in {time.perf_counter() - t0:.0f} s")
    return store


def start_server(store: Path) -> tuple[subprocess.Popen, str]:
    for name, role in (("bench-admin", "admin"), ("bench", "analyst")):  # may exist on a reused store: fine
        subprocess.run([sys.executable, "-m", "cxvalue", "user", "add", name, "--role", role, "--password-stdin",
                        "--store", str(store)], input=PASSWORD + "\n", text=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "cxvalue", "serve", "--store", str(store), "--port", str(port)],
                            stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(base + "/login", timeout=2)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def sign_in(base: str, user: str = "bench") -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=30)
    r = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
    r = c.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token, "next": "/"})
    if r.status_code not in (200, 303):
        raise SystemExit(f"sign-in failed: {r.status_code}")
    return c


def routes(c: httpx.Client) -> tuple[list[tuple[str, str]], list[str]]:
    ids = [r["customer_id"] for r in c.get("/customers.json?size=250").json()["blocks"][0]["rows"]]
    choices = {"value_tier": ["platinum", "gold", "iron", "lead"], "channel": ["app", "web", "agent", "phone"],
               "touchpoint": ["app", "website", "call_centre"]}
    walk = [("dashboard", f"/dashboards/{v}") for v in ("overview", "value", "voice", "perception", "loyalty",
                                                        "churn", "lifecycle")]
    for k, vals in choices.items():
        for v in vals:
            for d in ("value", "voice", "churn", "lifecycle"):
                walk.append(("filtered dashboard", f"/dashboards/{d}?{k}={v}"))
    for stage in ("exploration", "formation", "stability", "decline"):
        walk.append(("customer list", f"/customers?stage={stage}"))
        walk.append(("customer list", f"/customers?stage={stage}&sort=p_churn&page=2"))
    walk.append(("static (peer)", "/static/app.css"))
    return walk, ids


def wait_warm(base: str) -> float:
    """Wait for the server's cache warm-up (dashboards prebuilt at start); its duration."""
    admin = sign_in(base, "bench-admin")
    t0 = time.perf_counter()
    while True:
        w = admin.get("/admin/jobs.json").json()["warming"]
        if not w.get("running"):
            return time.perf_counter() - t0
        time.sleep(1)


def run(base: str, users: int, seconds: float, think: float) -> dict:
    stats: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    lock = threading.Lock()
    clients = [sign_in(base) for _ in range(users)]
    walk, ids = routes(clients[0])
    stop = time.monotonic() + seconds

    def user(c: httpx.Client, seed: int):
        rnd = random.Random(seed)
        while time.monotonic() < stop:
            if rnd.random() < 0.25:
                name, path = "customer 360", f"/customers/{rnd.choice(ids)}"
            else:
                name, path = rnd.choice(walk)
            t0 = time.perf_counter()
            try:
                r = c.get(path)
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            dt = time.perf_counter() - t0
            with lock:
                stats.setdefault(name, []).append(dt)
                if not ok:
                    errors[name] = errors.get(name, 0) + 1
            if think:
                time.sleep(rnd.uniform(0.5 * think, 1.5 * think))
    threads = [threading.Thread(target=user, args=(c, i)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = {}
    for name, xs in sorted(stats.items()):
        xs.sort()
        q = statistics.quantiles(xs, n=100) if len(xs) >= 2 else xs * 99
        out[name] = {"requests": len(xs), "p50_ms": 1000 * q[49], "p95_ms": 1000 * q[94], "p99_ms": 1000 * q[98],
                     "errors": errors.get(name, 0)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--think", type=float, default=1.0, help="Mean seconds a user waits between two clicks "
                    "(uniform 0.5-1.5 x); 0 = a closed loop with no pause (a stress test).")
    ap.add_argument("--store", type=Path, help="Use this store (a copy is served) instead of building a demo one.")
    ap.add_argument("--json", type=Path, help="Also write the figures here.")
    args = ap.parse_args()
    src = args.store or build_store(args.customers)
    store = src.with_name("served.duckdb")
    shutil.copy(src, store)
    proc, base = start_server(store)
    try:
        warm = wait_warm(base)
        print(f"cache warm-up took {warm:.0f} s after the server answered")
        res = run(base, args.users, args.seconds, args.think)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    peer = res.get("static (peer)", {}).get("p95_ms") or float("nan")
    print(f"\n{args.users} users, think time {args.think:g} s, for {args.seconds:.0f} s on {src} "
          f"({os.cpu_count()} cores)")
    print(f"{'route':22} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'p95/peer':>9}")
    for name, r in res.items():
        print(f"{name:22} {r['requests']:>9} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} "
              f"{r['errors']:>7} {r['p95_ms'] / peer:>9.1f}")
    worst = max(r["p95_ms"] for r in res.values())
    errs = sum(r["errors"] for r in res.values())
    print(f"\nworst p95 {worst:.0f} ms (goal < 300), errors {errs} (goal 0): "
          f"{'MET' if worst < 300 and errs == 0 else 'NOT MET'}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
