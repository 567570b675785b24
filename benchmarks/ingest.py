"""Ingestion benchmark: validation + load vs DuckDB's own read_csv / read_parquet, same run.

    .venv/bin/python benchmarks/ingest.py [--rows 20000000] [--dir .bench] [--repeat N] [--memory-limit 2GB]

Generates a transactions file (customer_id, date, amount, order_id, channel, product; 0.2% bad
rows: unparseable or missing dates, negative amounts without a return flag) as CSV and as typed Parquet, then, each in a fresh subprocess so peak memory is its own:
  raw      CREATE TABLE t AS SELECT * FROM read_csv/read_parquet(file)   (DuckDB, types sniffed)
  cxvalue  cxvalue.io.load.load_file(...)                                (validate + quarantine + load)
and prints rows/s, peak RSS and the ratio cxvalue/raw throughput (goal >= 0.5). ``--repeat N``
alternates raw and cxvalue N times and keeps each one's fastest run (a busy machine adds noise).
cxvalue runs with its default ``load_memory_limit`` (2GB) unless ``--memory-limit`` says otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def generate(path_csv: Path, path_parquet: Path, rows: int) -> None:
    import duckdb
    if path_csv.exists() and path_parquet.exists():
        return
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"""
        CREATE TABLE g AS SELECT
          'C' || lpad(CAST((i * 7919) % {max(rows // 20, 1)} AS VARCHAR), 8, '0') AS customer_id,
          CASE WHEN i % 1000 = 17 THEN 'not-a-date'
               ELSE strftime(DATE '2021-01-01' + CAST((i * 31) % 1000 AS INTEGER), '%Y-%m-%d') END AS date,
          CASE WHEN i % 1000 = 523 THEN '-12.5' ELSE CAST(round(((i * 13) % 50000) / 100.0 + 1, 2) AS VARCHAR) END AS amount,
          'O' || CAST(i AS VARCHAR) AS order_id,
          (['app', 'web', 'phone', 'counter', 'agent'])[1 + i % 5] AS channel,
          'R' || CAST(i % 300 AS VARCHAR) AS product
        FROM range({rows}) r(i)""")
    con.execute(f"COPY g TO '{path_csv}' (HEADER, DELIMITER ',')")
    # Parquet exports are typed: dates as DATE (the bad ones missing), amounts as DOUBLE
    con.execute(f"COPY (SELECT customer_id, TRY_CAST(date AS DATE) AS date, CAST(amount AS DOUBLE) AS amount, "
                f"order_id, channel, product FROM g) TO '{path_parquet}' (FORMAT parquet)")


def child(kind: str, engine: str, path: str, store: str, memory_limit: str) -> None:
    t0 = time.perf_counter()
    if engine == "raw":
        import duckdb
        con = duckdb.connect(store)
        fn = "read_csv" if kind == "csv" else "read_parquet"
        con.execute(f"CREATE TABLE transactions AS SELECT * FROM {fn}('{path}')")
        n = con.execute("SELECT count(*) FROM transactions").fetchone()[0]
        loaded, rejected = n, 0
        con.close()
    else:
        from cxvalue.io.load import load_file
        from cxvalue.store import connect
        con = connect(store)
        rep = load_file(con, "transactions", path, unknown_customer="create", memory_limit=memory_limit or None)
        loaded, rejected, n = rep.rows_loaded, rep.rows_rejected, rep.rows_read
        con.disconnect()
    secs = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": secs, "rows": n, "loaded": loaded, "rejected": rejected, "peak_mb": peak_mb}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--dir", default=".bench")
    ap.add_argument("--repeat", type=int, default=1, help="alternating runs of each engine; the fastest is kept")
    ap.add_argument("--memory-limit", default="", help="cxvalue's load_memory_limit (default: the setting's)")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    ap.add_argument("--generate", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    if a.generate:
        generate(Path(a.generate[0]), Path(a.generate[1]), int(a.generate[2]))
        return
    d = Path(a.dir)
    d.mkdir(exist_ok=True)
    csv, pq = d / f"tx_{a.rows}.csv", d / f"tx_{a.rows}.parquet"
    t0 = time.perf_counter()
    # generated in a subprocess: Linux keeps a process's peak RSS across fork + exec, so a big
    # generation here would show up as the children's peak memory
    subprocess.run([sys.executable, __file__, "--generate", str(csv), str(pq), str(a.rows)], check=True)
    print(f"data: {a.rows:,} rows, CSV {csv.stat().st_size / 1e6:,.0f} MB, Parquet {pq.stat().st_size / 1e6:,.0f} MB "
          f"(generated in {time.perf_counter() - t0:.0f}s)")
    results = {}
    for kind, path in (("csv", csv), ("parquet", pq)):
        for _ in range(max(a.repeat, 1)):
            for engine in ("raw", "cxvalue"):
                store = d / f"store_{kind}_{engine}.duckdb"
                for p in (store, Path(str(store) + ".wal")):
                    p.unlink(missing_ok=True)
                out = subprocess.run([sys.executable, __file__, "--child", kind, engine, str(path), str(store),
                                      a.memory_limit], capture_output=True, text=True,
                                     env={**os.environ, "PYTHONWARNINGS": "ignore"})
                if out.returncode:
                    sys.exit(out.stderr)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                if (kind, engine) not in results or r["seconds"] < results[(kind, engine)]["seconds"]:
                    results[(kind, engine)] = r
                store.unlink(missing_ok=True)
                print(f"{kind:8s} {engine:8s} {r['seconds']:7.1f}s  {r['rows'] / r['seconds'] / 1e6:6.2f} M rows/s  "
                      f"peak {r['peak_mb']:7.0f} MB  loaded {r['loaded']:,} rejected {r['rejected']:,}", flush=True)
    for kind in ("csv", "parquet"):
        raw, cx = results[(kind, "raw")], results[(kind, "cxvalue")]
        print(f"{kind}: cxvalue throughput = {raw['seconds'] / cx['seconds']:.2f} x raw DuckDB "
              f"(goal >= 0.50); peak memory {cx['peak_mb'] / raw['peak_mb']:.2f} x raw")


if __name__ == "__main__":
    main()
