"""Wide survey files: validation + load of a responses CSV with many rating columns vs DuckDB's own
read_csv, same run.

    .venv/bin/python benchmarks/wide.py [--rows 100000] [--columns 2000] [--memory-limit 2GB]
                                        [--threads N] [--repeat N] [--dir .bench] [--json PATH]

Generates (once, in chunks: memory stays bounded) a responses CSV ``customer_id,date,nps,q0..q{N-1}``
with integer ratings 1-10 and ~1% blank cells, then, each in a fresh subprocess with a fresh store
file so that peak memory (ru_maxrss) is its own:
  raw      CREATE TABLE t AS SELECT * FROM read_csv(file)            (DuckDB alone, types sniffed)
  cxvalue  cxvalue.io.load.load_file(con, "responses", file, ...)    (validate + quarantine + load)
Both run with the same DuckDB ``memory_limit`` (``--memory-limit``, default ``auto``: cxvalue's default
``load_memory_limit``, 2 MB per column for a file of more than 1,000 columns) and, with ``--threads N``, the same DuckDB ``threads`` (default: DuckDB's).
Prints wall time, rows/s, cells/s, peak RSS and the result per contender, cxvalue's stage times
(progress "read", "validate", "write") and the ratios cxvalue/raw (throughput goal >= 0.5).
A contender that fails (out of memory, any error, killed, past ``--timeout``) does not stop the
script: its first error line, time until failure and peak RSS are printed and the ratio is n/a.
``--repeat N`` alternates raw and cxvalue N times and keeps each one's fastest successful run.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ENGINES = ("raw", "cxvalue")


def generate(path: Path, rows: int, columns: int, seed: int = 0) -> None:
    """Write the responses CSV in chunks of rows (about 4M cells each), via a temporary file
    renamed at the end (a half-written file is never reused)."""
    import numpy as np
    if path.exists():
        return
    rng = np.random.default_rng(seed)
    customers = max(rows // 4, 1)
    chunk = max(1, min(rows, 4_000_000 // max(columns, 1)))
    tmp = path.with_suffix(".partial")
    header = ",".join(["customer_id", "date", "nps"] + [f"q{j}" for j in range(columns)]) + "\n"
    with open(tmp, "wb") as f:
        f.write(header.encode())
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            i = np.arange(start, start + n)
            days = (i * 31) % 365
            nps = rng.integers(0, 11, n)
            end = "," if columns else "\n"
            prefix = [f"C{(k * 7919) % customers:08d},{np.datetime64('2025-01-01') + int(d)},{p}{end}"
                      for k, d, p in zip(i.tolist(), days.tolist(), nps.tolist())]
            pre = np.array(prefix, dtype=f"S{max(map(len, prefix))}").view(np.uint8).reshape(n, -1)
            vals = rng.integers(1, 11, (n, columns), dtype=np.uint8)
            blank = rng.random((n, columns), dtype=np.float32) < 0.01
            # each cell is up to 3 bytes (digit, second digit of 10, separator); ``keep`` says which are written
            cells = np.empty((n, columns, 3), dtype=np.uint8)
            cells[:, :, 0] = np.where(vals == 10, ord("1"), ord("0") + vals)
            cells[:, :, 1] = ord("0")
            cells[:, :, 2] = ord(",")
            cells[:, -1:, 2] = ord("\n")
            keep = np.empty((n, columns, 3), dtype=bool)
            keep[:, :, 0] = ~blank
            keep[:, :, 1] = (vals == 10) & ~blank
            keep[:, :, 2] = True
            line = np.concatenate([pre, cells.reshape(n, -1)], axis=1)
            mask = np.concatenate([pre != 0, keep.reshape(n, -1)], axis=1)
            f.write(line[mask].tobytes())
    tmp.rename(path)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(engine: str, path: str, store: str, memory_limit: str, threads: str, out: str) -> None:
    """One contender; writes its figures (or its error) as JSON to ``out`` as it goes, so that a
    failure (even one that kills the process) leaves what was measured until then."""
    t0 = time.perf_counter()
    res = {"engine": engine, "ok": False, "stages": {}}

    marks: list[tuple[str, float]] = [("setup", t0)]  # imports, store, options

    def save():
        now = time.perf_counter()
        points = marks + [("", now)]  # the last stage: until now
        res["stages"] = {name: round(b - a, 3) for (name, a), (_, b) in zip(points, points[1:])}
        res["seconds"] = now - t0
        res["peak_mb"] = _peak_mb()
        Path(out).write_text(json.dumps(res))

    def progress(msg: str) -> None:
        marks.append((msg, time.perf_counter()))
        res["stage"] = msg
        save()

    try:
        if engine == "raw":
            import duckdb
            con = duckdb.connect(store)
            con.execute("SET enable_progress_bar = false")
            if memory_limit == "auto":   # the cap cxvalue's default gives a file this wide
                from cxvalue.io.load import auto_memory_limit
                with open(path) as f:
                    memory_limit = auto_memory_limit(f.readline().count(",") + 1)
            con.execute(f"SET memory_limit = '{memory_limit}'")
            res["memory_limit"] = memory_limit
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            res["threads"] = con.execute("SELECT current_setting('threads')").fetchone()[0]
            progress("load")
            con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}')")
            n = con.execute("SELECT count(*) FROM t").fetchone()[0]
            res.update(rows=n, loaded=n, rejected=0)
            con.close()
        else:
            import cxvalue.store
            from cxvalue.io.load import load_file
            con = cxvalue.store.connect(store)
            duck = cxvalue.store.raw_duckdb(con)
            if threads:
                duck.execute(f"SET threads = {int(threads)}")
            res["threads"] = duck.execute("SELECT current_setting('threads')").fetchone()[0]
            rep = load_file(con, "responses", path, memory_limit=memory_limit, progress=progress)
            res.update(rows=rep.rows_read, loaded=rep.rows_loaded, rejected=rep.rows_rejected)
            con.disconnect()
        res["ok"] = True
    except BaseException as exc:  # noqa: BLE001 - a benchmark reports every failure
        text = str(exc).strip()
        res["error"] = f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
    finally:
        save()


def run_one(engine: str, csv: Path, d: Path, a, timeout: float | None) -> dict:
    store = d / f"store_wide_{engine}.duckdb"
    clean(store)
    out = d / f"wide_{engine}.json"
    out.unlink(missing_ok=True)
    err = d / f"wide_{engine}.stderr"
    t0 = time.perf_counter()
    with open(err, "w") as ferr:
        p = subprocess.Popen([sys.executable, __file__, "--child", engine, str(csv), str(store), a.memory_limit,
                              str(a.threads or ""), str(out)], stdout=subprocess.DEVNULL, stderr=ferr,
                             env={**os.environ, "PYTHONWARNINGS": "ignore"})
        timed_out = False
        while True:  # os.wait4: the child's own rusage, even when it was killed
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if timeout and not timed_out and time.perf_counter() - t0 > timeout:
                p.kill()
                timed_out = True
            time.sleep(0.1)
        p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    r = json.loads(out.read_text()) if out.exists() else {"engine": engine, "ok": False, "stages": {}}
    if p.returncode and r.get("ok"):
        r["ok"] = False  # died after its figures were written (e.g. while closing)
    if not r.get("ok") and not r.get("error"):
        last = [ln for ln in err.read_text(errors="replace").splitlines() if ln.strip()]
        why = (f"timed out after {timeout:g}s" if timed_out else
               f"killed by signal {-p.returncode}" if p.returncode < 0 else f"exit code {p.returncode}")
        r["error"] = why + (f" ({last[-1].strip()})" if last and not timed_out else "")
        r["seconds"] = wall
        if r.get("stage") in r.get("stages", {}):  # the stage it was in lasted until it died (approx.)
            r["stages"][r["stage"]] = round(wall - sum(v for k, v in r["stages"].items() if k != r["stage"]), 3)
    r["peak_mb"] = max(r.get("peak_mb", 0.0), usage.ru_maxrss / 1024)
    r["process_seconds"] = wall
    clean(store)
    return r


def clean(store: Path) -> None:
    for p in (store, Path(str(store) + ".wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(Path(str(store) + ".tmp"), ignore_errors=True)


def line(r: dict, rows: int, cells: int) -> str:
    s = r["seconds"]
    if r.get("ok"):
        result = f"loaded {r['loaded']:,} rejected {r['rejected']:,}"
        speed = f"{r['rows'] / s:9,.0f} rows/s  {r['rows'] * cells / rows / s / 1e6:7.2f} M cells/s"
    else:
        where = f" during {r['stage']}" if r.get("stage") else ""
        result = f"FAILED after {s:.1f}s{where}: {r['error']}"
        speed = f"{'n/a':>9s} rows/s  {'n/a':>7s} M cells/s"
    return f"{r['engine']:8s} {s:7.1f}s  {speed}  peak {r['peak_mb']:7,.0f} MB  {result}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--columns", type=int, default=2000, help="rating columns q0..q{N-1}")
    ap.add_argument("--memory-limit", default="auto",
                    help="DuckDB memory_limit of both (cxvalue: load_file's; auto: cxvalue's default for the width)")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads of both (default: DuckDB's)")
    ap.add_argument("--repeat", type=int, default=1, help="alternating runs of each engine; the fastest is kept")
    ap.add_argument("--timeout", type=float, default=None, help="kill a contender after this many seconds")
    ap.add_argument("--dir", default=".bench")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    ap.add_argument("--generate", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    if a.generate:
        generate(Path(a.generate[0]), int(a.generate[1]), int(a.generate[2]))
        return
    d = Path(a.dir)
    d.mkdir(exist_ok=True)
    csv = d / f"wide_{a.rows}x{a.columns}.csv"
    t0 = time.perf_counter()
    # generated in a subprocess: Linux keeps a process's peak RSS across fork + exec, so a big
    # generation here would show up as the children's peak memory
    existed = csv.exists()
    subprocess.run([sys.executable, __file__, "--generate", str(csv), str(a.rows), str(a.columns)], check=True)
    cells = a.columns + 3
    print(f"data: {a.rows:,} rows x {cells:,} columns ({a.columns:,} ratings) = {a.rows * cells / 1e6:,.1f} M cells, "
          f"CSV {csv.stat().st_size / 1e6:,.0f} MB ({'reused' if existed else f'generated in {time.perf_counter() - t0:.0f}s'}); "
          f"memory_limit {a.memory_limit}, threads {a.threads or 'DuckDB default'}", flush=True)
    results: dict[str, dict] = {}
    runs: list[dict] = []
    for _ in range(max(a.repeat, 1)):
        for engine in ENGINES:
            r = run_one(engine, csv, d, a, a.timeout)
            runs.append(r)
            best = results.get(engine)
            if best is None or (r["ok"] and (not best["ok"] or r["seconds"] < best["seconds"])):
                results[engine] = r
            print(line(r, a.rows, cells * a.rows), flush=True)
    raw, cx = results["raw"], results["cxvalue"]
    if a.repeat > 1:
        print("fastest:")
        for r in (raw, cx):
            print("  " + line(r, a.rows, cells * a.rows))
    st = cx.get("stages", {})
    print("cxvalue stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in st.items())
          + ("" if cx["ok"] else "  (failed)"))
    if raw["ok"] and cx["ok"]:
        ratio, mem = raw["seconds"] / cx["seconds"], cx["peak_mb"] / raw["peak_mb"]
        print(f"cxvalue/raw throughput = {ratio:.2f} (goal >= 0.50); peak memory {mem:.2f} x raw")
    else:
        ratio = mem = None
        print("cxvalue/raw throughput = n/a; peak memory n/a x raw  ("
              + " and ".join(e for e in ENGINES if not results[e]["ok"]) + " failed)")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps({
            "rows": a.rows, "columns": a.columns, "cells": a.rows * cells, "csv_mb": csv.stat().st_size / 1e6,
            "memory_limit": a.memory_limit, "threads": a.threads, "repeat": a.repeat,
            "results": results, "runs": runs, "throughput_ratio": ratio, "peak_memory_ratio": mem}, indent=2))


if __name__ == "__main__":
    main()
