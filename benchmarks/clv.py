"""CLV benchmark: cxvalue vs lifetimes 0.11.3 on the same customers, measured in the same run.

    .venv/bin/python benchmarks/clv.py [--customers 1000000] [--rows 20000000] [--dir .bench]
                                       [--skip-lifetimes] [--repeat N] [--quick] [--json FILE]

Part 1, fit + predict (BG/NBD + Gamma-Gamma). Simulates ``--customers`` customers from the
BG/NBD and Gamma-Gamma models with CDNOW-like parameters (cxvalue.value.simulate, seeded),
in weeks at daily resolution (T = 27..39 weeks, recency rounded to whole days, spend to
cents), written once to Parquet so that both libraries read exactly the same frame. Then,
each in a fresh subprocess so that peak memory (ru_maxrss) is its own:

  cxvalue    BetaGeoModel + GammaGammaModel fit; predict_p_alive, predict_purchases(52),
             customer_lifetime_value(horizon=12 months, discount 1%/month, margin 30%)
  lifetimes  0.11.3 in its own virtual environment (.bench/lifetimes-venv, created once with
             the pins in LIFETIMES_PINS): BetaGeoFitter + GammaGammaFitter fit;
             conditional_probability_alive, conditional_expected_number_of_purchases_up_to_time(52),
             GammaGammaFitter.customer_lifetime_value(time=12, discount_rate=0.01, freq="W")

The CLV definitions are made identical: lifetimes' months are 4.345 weeks (its freq="W"
factor) and its discount rate is per month, discounting month k by (1+d)^k, so cxvalue runs
with period_length=4.345 weeks and discount_rate=0.01 per period; lifetimes has no margin,
so its CLV (revenue) is multiplied by the same margin before comparing. Prints the time of
fit, predict and both, peak memory, the relative difference of each parameter (goal 1e-4)
and the largest differences between the predictions. If lifetimes errors, does not converge
or runs out of time at full size, that is reported and both are run again at
``--fallback-customers`` so that a ratio exists.

Part 2, transactions -> per-customer summary. Generates ``--rows`` transactions (about
rows/20 customers, DuckDB-generated Parquet) and times, each in its own subprocess:

  cxvalue    load the Parquet into a DuckDB store table (timed apart), then
             cxvalue.features.summary.summary_frame(con.table("transactions"))   (week unit,
             purchases on the same day merged)
  pandas     pandas.read_parquet (timed apart), then the same summary with groupby

and checks that frequency, recency and T are identical for every customer (monetary value to
1e-9 relative). The final table gives the ratios: fit + predict speed-up (goal >= 20x),
summary speed-up (goal > 1), parameter agreement and peak memory. Timings on a shared
machine are noisy: compare the ratios, which are measured in the same run.
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

LIFETIMES_PINS = ["lifetimes==0.11.3", "numpy==1.26.4", "pandas==2.0.3", "scipy==1.11.4",
                  "autograd==1.6.2", "dill==0.4.1", "pyarrow==17.0.0"]

# CDNOW estimates (Fader, Hardie & Lee 2005; lifetimes' CDNOW summary gives the same)
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMAGAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
WEEKS_PER_MONTH = 4.345          # lifetimes' factor for freq="W"
HORIZON_MONTHS = 12
DISCOUNT = 0.01                  # per month
MARGIN = 0.30
PURCHASE_WEEKS = 52.0
SEED = 20240601


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(result: dict) -> None:
    result["peak_mb"] = peak_mb()
    print("RESULT " + json.dumps(result))


# --------------------------------------------------------------------------- data
def simulate_customers(path: Path, n: int) -> None:
    """(frequency, recency, T, monetary_value) of n customers, weeks at daily resolution."""
    if path.exists():
        return
    import numpy as np
    import pandas as pd

    from cxvalue.value.simulate import simulate_bgnbd, simulate_spend
    rng = np.random.default_rng(SEED)
    T_days = rng.integers(27 * 7, 39 * 7 + 1, n)            # first purchases spread over 12 weeks
    sim = simulate_bgnbd(n, **BGNBD, T=T_days / 7.0, seed=rng)
    x = sim["frequency"].to_numpy().astype(np.int64)
    rec_days = np.where(x > 0, np.clip(np.floor(sim["recency"].to_numpy() * 7.0), 1, T_days), 0)
    spend = simulate_spend(x, **GAMMAGAMMA, seed=rng)
    spend = np.where(x > 0, np.maximum(np.round(spend, 2), 0.01), 0.0)
    df = pd.DataFrame({"customer_id": np.arange(n, dtype=np.int64), "frequency": x,
                       "recency": rec_days / 7.0, "T": T_days / 7.0, "monetary_value": spend})
    df.to_parquet(path, index=False)


def generate_transactions(path: Path, rows: int) -> None:
    """rows transactions over two years: customer_id, date (DATE), amount (DOUBLE).

    About rows/20 customers: half the rows go to all of them, the other half to a twentieth
    of them (heavy buyers); each customer starts on a day of their own, so T varies, and
    some buy twice on the same day (merged into one purchase by the summary).
    """
    if path.exists():
        return
    import duckdb
    n_cust = max(rows // 20, 1)
    heavy = max(n_cust // 20, 1)
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect()
    con.execute(f"""
        COPY (
          WITH g AS (
            SELECT i, CAST(hash(i) % (CASE WHEN i % 2 = 0 THEN {n_cust} ELSE {heavy} END) AS BIGINT) AS c
            FROM range({rows}) r(i)),
          s AS (SELECT i, c, CAST(hash(c, 7) % 600 AS INTEGER) AS start FROM g)
          SELECT 'C' || lpad(CAST(c AS VARCHAR), 8, '0') AS customer_id,
                 DATE '2022-01-01' + start + CAST(hash(i, 11) % (730 - start) AS INTEGER) AS date,
                 round(5 + (hash(i, 13) % 20000) / 100.0, 2) AS amount
          FROM s
        ) TO '{tmp}' (FORMAT parquet)""")
    con.close()
    tmp.rename(path)


# --------------------------------------------------------------------------- peer venv
def peer_python(bench: Path) -> Path:
    """Python of the lifetimes 0.11.3 environment, created once (and again if the pins change)."""
    venv = bench / "lifetimes-venv"
    py = venv / "bin" / "python"
    stamp = venv / "pins.txt"
    if py.exists() and stamp.exists() and stamp.read_text() == "\n".join(LIFETIMES_PINS):
        return py
    if venv.exists():
        shutil.rmtree(venv)
    base = shutil.which("python3.11") or sys.executable
    print(f"creating {venv} with {base} and {' '.join(LIFETIMES_PINS)} ...", flush=True)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *LIFETIMES_PINS],
                   check=True)
    subprocess.run([str(py), "-c", "import lifetimes, pyarrow; assert lifetimes.__version__ == '0.11.3'"],
                   check=True)
    stamp.write_text("\n".join(LIFETIMES_PINS))
    return py


# --------------------------------------------------------------------------- children
def child_cxvalue(data: str, out: str) -> None:
    import warnings

    import pandas as pd

    from cxvalue.value import BetaGeoModel, GammaGammaModel, customer_lifetime_value
    df = pd.read_parquet(data).set_index("customer_id")
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bg = BetaGeoModel().fit(df)
        gg = GammaGammaModel().fit(df)
    t1 = time.perf_counter()
    p_alive = bg.predict_p_alive()["p_alive"]
    purchases = bg.predict_purchases(PURCHASE_WEEKS)["expected_purchases"]
    clv = customer_lifetime_value(bg, gg, horizon=HORIZON_MONTHS, period_length=WEEKS_PER_MONTH,
                                  discount_rate=DISCOUNT, margin=MARGIN)["clv"]
    t2, c2 = time.perf_counter(), time.process_time()
    pd.DataFrame({"p_alive": p_alive.to_numpy(), "expected_purchases": purchases.to_numpy(),
                  "clv": clv.to_numpy()}, index=df.index).to_parquet(out)
    emit({"fit_s": t1 - t0, "predict_s": t2 - t1, "total_s": t2 - t0, "cpu_s": c2 - c0,
          "params": {**bg.params_.to_dict(), **{f"gg_{k}": v for k, v in gg.params_.items()}},
          "converged": bool(bg.converged_ and gg.converged_),
          "groups": {"bgnbd": bg.n_groups_, "gammagamma": gg.n_groups_},
          "warnings": sorted({str(w.message)[:200] for w in caught})})


def child_lifetimes(data: str, out: str) -> None:
    import warnings
    warnings.simplefilter("ignore")
    import numpy as np
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    df = pd.read_parquet(data).set_index("customer_id")
    f, r, T, m = df["frequency"], df["recency"], df["T"], df["monetary_value"]
    t0, c0 = time.perf_counter(), time.process_time()
    stage = "BetaGeoFitter.fit"
    try:
        bgf = BetaGeoFitter(penalizer_coef=0.0).fit(f, r, T)
        stage = "GammaGammaFitter.fit"
        rep = df[df["frequency"] > 0]
        ggf = GammaGammaFitter(penalizer_coef=0.0).fit(rep["frequency"], rep["monetary_value"])
        t1 = time.perf_counter()
        stage = "conditional_probability_alive"
        p_alive = np.asarray(bgf.conditional_probability_alive(f, r, T), dtype=float)
        stage = "conditional_expected_number_of_purchases_up_to_time"
        purchases = np.asarray(bgf.conditional_expected_number_of_purchases_up_to_time(PURCHASE_WEEKS, f, r, T),
                               dtype=float)
        stage = "customer_lifetime_value"
        clv = ggf.customer_lifetime_value(bgf, f, r, T, m, time=HORIZON_MONTHS, discount_rate=DISCOUNT,
                                          freq="W").to_numpy(dtype=float)
        t2, c2 = time.perf_counter(), time.process_time()
    except Exception as exc:  # the peer's failure is a result, not a crash of the benchmark
        emit({"error": f"{stage}: {type(exc).__name__}: {str(exc).strip()[:300]}",
              "seconds_until_error": time.perf_counter() - t0})
        return
    pd.DataFrame({"p_alive": p_alive, "expected_purchases": purchases, "clv": MARGIN * clv},
                 index=df.index).to_parquet(out)
    params = {**bgf.params_.to_dict(), **{f"gg_{'gamma' if k == 'v' else k}": v for k, v in ggf.params_.items()}}
    emit({"fit_s": t1 - t0, "predict_s": t2 - t1, "total_s": t2 - t0, "cpu_s": c2 - c0, "params": params,
          "nan": {k: int(np.isnan(v).sum()) for k, v in
                  (("p_alive", p_alive), ("expected_purchases", purchases), ("clv", clv))}})


def child_summary_cxvalue(data: str, out: str, store: str) -> None:
    from cxvalue.features.summary import summary_frame
    from cxvalue.store import connect, raw_duckdb
    for p in (Path(store), Path(store + ".wal")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    con = connect(store)
    raw_duckdb(con).execute(f"CREATE TABLE transactions AS SELECT * FROM read_parquet('{data}')")
    t1 = time.perf_counter()
    s = summary_frame(con.table("transactions"), unit="week", merge="day")
    t2 = time.perf_counter()
    s.to_parquet(out)
    con.disconnect()
    Path(store).unlink(missing_ok=True)
    emit({"load_s": t1 - t0, "summary_s": t2 - t1, "end_to_end_s": t2 - t0, "customers": len(s)})


def pandas_summary(tx, unit_days: float = 7.0):
    """The summary of cxvalue.features.summary (merge='day', unit='week') with pandas groupby."""
    import numpy as np
    import pandas as pd
    cal_end = tx["date"].max()
    days = tx.groupby(["customer_id", "date"], sort=True)["amount"].sum().reset_index()
    g = days.groupby("customer_id", sort=True)
    agg = g.agg(first=("date", "min"), last=("date", "max"), n=("amount", "size"),
                total=("amount", "sum"), first_amt=("amount", "first"))   # rows sorted by date
    n = agg["n"].to_numpy()
    out = pd.DataFrame({
        "frequency": (n - 1).astype(np.int64),
        "recency": (agg["last"] - agg["first"]).dt.days.to_numpy(dtype=float) / unit_days,
        "T": (cal_end - agg["first"]).dt.days.to_numpy(dtype=float) / unit_days,
        "monetary_value": np.where(n > 1, (agg["total"] - agg["first_amt"]).to_numpy() / np.maximum(n - 1, 1), 0.0),
    }, index=agg.index)
    return out


def child_summary_pandas(data: str, out: str) -> None:
    import pyarrow.parquet as pq
    t0 = time.perf_counter()
    # DATE column -> datetime64 (not Python date objects): the fast path of pandas' own read_parquet
    tx = pq.read_table(data, columns=["customer_id", "date", "amount"]).to_pandas(date_as_object=False)
    t1 = time.perf_counter()
    s = pandas_summary(tx)
    t2 = time.perf_counter()
    s.to_parquet(out)
    emit({"load_s": t1 - t0, "summary_s": t2 - t1, "end_to_end_s": t2 - t0, "customers": len(s)})


CHILDREN = {"cxvalue": child_cxvalue, "lifetimes": child_lifetimes,
            "summary-cxvalue": child_summary_cxvalue, "summary-pandas": child_summary_pandas}


def run_child(python, kind: str, *args, timeout=None) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    try:
        out = subprocess.run([str(python), __file__, "--child", kind, *map(str, args)],
                             capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f}s"}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    if out.returncode or not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-5:]
        return {"error": f"exit {out.returncode}: " + " | ".join(tail)}
    return json.loads(lines[-1][len("RESULT "):])


def run_interleaved(repeat: int, key: str, jobs: dict) -> dict:
    """Run each job (name -> (python, kind, args, timeout)) ``repeat`` times, alternating between
    them so that a busy spell on a shared machine hits both; keep each one's fastest run (by
    ``key``). A job that fails is not run again."""
    best = {}
    for _ in range(max(repeat, 1)):
        for name, (python, kind, args, timeout) in jobs.items():
            if "error" in best.get(name, {}):
                continue
            r = run_child(python, kind, *args, timeout=timeout)
            if "error" in r or name not in best or r[key] < best[name][key]:
                best[name] = r
    return best


# --------------------------------------------------------------------------- comparisons
def compare_params(a: dict, b: dict) -> dict:
    return {k: abs(a[k] - b[k]) / abs(b[k]) for k in a}


def compare_predictions(path_a: Path, path_b: Path) -> dict:
    import numpy as np
    import pandas as pd
    a, b = pd.read_parquet(path_a), pd.read_parquet(path_b)
    out = {}
    for col in ("p_alive", "expected_purchases", "clv"):
        x, y = a[col].to_numpy(), b[col].to_numpy()
        ok = np.isfinite(x) & np.isfinite(y)
        d = np.abs(x[ok] - y[ok])
        rel = d / np.maximum(np.abs(y[ok]), 1e-12)
        out[col] = {"max_abs": float(d.max()) if d.size else float("nan"),
                    "max_rel": float(rel.max()) if rel.size else float("nan"),
                    "nan_cxvalue": int((~np.isfinite(x)).sum()), "nan_lifetimes": int((~np.isfinite(y)).sum())}
    return out


def compare_summaries(path_a: Path, path_b: Path) -> dict:
    import numpy as np
    import pandas as pd
    a, b = pd.read_parquet(path_a), pd.read_parquet(path_b)
    same_ids = bool(len(a) == len(b) and (a.index.astype(str) == b.index.astype(str)).all())
    b.index = b.index.astype(str)
    b = b.reindex(a.index.astype(str))
    res = {"customers": len(a), "same_customers": same_ids}
    for col in ("frequency", "recency", "T"):
        res[f"{col}_identical"] = bool(np.array_equal(a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float)))
    m1, m2 = a["monetary_value"].to_numpy(), b["monetary_value"].to_numpy()
    res["monetary_max_rel"] = float(np.max(np.abs(m1 - m2) / np.maximum(np.abs(m2), 1e-12)))
    return res


# --------------------------------------------------------------------------- main
def fit_predict(bench: Path, n: int, peer, timeout, repeat: int = 1) -> dict:
    data = bench / f"clv_customers_{n}.parquet"
    t0 = time.perf_counter()
    simulate_customers(data, n)
    print(f"\n== fit + predict: {n:,} customers ({data}, ready in {time.perf_counter() - t0:.0f}s)", flush=True)
    res = {"customers": n}
    jobs = {"cxvalue": (sys.executable, "cxvalue", (data, bench / f"clv_pred_cxvalue_{n}.parquet"), None)}
    if peer is not None:
        jobs["lifetimes"] = (peer, "lifetimes", (data, bench / f"clv_pred_lifetimes_{n}.parquet"), timeout)
    runs = run_interleaved(repeat, "total_s", jobs)
    res["cxvalue"] = cx = runs["cxvalue"]
    if "error" in cx:
        sys.exit(f"cxvalue failed: {cx['error']}")
    print(f"cxvalue    fit {cx['fit_s']:8.2f}s  predict {cx['predict_s']:8.2f}s  total {cx['total_s']:8.2f}s  "
          f"peak {cx['peak_mb']:7.0f} MB  ({cx['groups']['bgnbd']:,} distinct (x, t_x, T), "
          f"converged={cx['converged']})", flush=True)
    if peer is None:
        return res
    res["lifetimes"] = lt = runs["lifetimes"]
    if "error" in lt:
        print(f"lifetimes  FAILED: {lt['error']}", flush=True)
        return res
    print(f"lifetimes  fit {lt['fit_s']:8.2f}s  predict {lt['predict_s']:8.2f}s  total {lt['total_s']:8.2f}s  "
          f"peak {lt['peak_mb']:7.0f} MB  (NaN predictions: {lt['nan']})", flush=True)
    res["param_rel_diff"] = compare_params(cx["params"], lt["params"])
    res["predictions"] = compare_predictions(bench / f"clv_pred_cxvalue_{n}.parquet",
                                             bench / f"clv_pred_lifetimes_{n}.parquet")
    print("parameter     true     cxvalue   lifetimes   rel.diff")
    true = {**BGNBD, **{f"gg_{k}": v for k, v in GAMMAGAMMA.items()}}
    for k, d in res["param_rel_diff"].items():
        print(f"  {k:9s} {true[k]:7.3f} {cx['params'][k]:11.6f} {lt['params'][k]:11.6f}   {d:.1e}")
    for k, v in res["predictions"].items():
        print(f"  {k:18s} max |diff| {v['max_abs']:.2e}  max rel {v['max_rel']:.2e}  "
              f"non-finite: cxvalue {v['nan_cxvalue']}, lifetimes {v['nan_lifetimes']}")
    print(f"speed-up fit {lt['fit_s'] / cx['fit_s']:.1f}x, predict {lt['predict_s'] / cx['predict_s']:.1f}x, "
          f"fit + predict {lt['total_s'] / cx['total_s']:.1f}x wall, {lt['cpu_s'] / cx['cpu_s']:.1f}x CPU time "
          f"(goal >= 20x; CPU time is the steadier figure on a shared machine)", flush=True)
    return res


def summary_bench(bench: Path, rows: int, repeat: int = 1) -> dict:
    data = bench / f"clv_tx_{rows}.parquet"
    t0 = time.perf_counter()
    generate_transactions(data, rows)
    print(f"\n== transactions -> summary: {rows:,} rows ({data}, {data.stat().st_size / 1e6:,.0f} MB, "
          f"ready in {time.perf_counter() - t0:.0f}s)", flush=True)
    res = {"rows": rows}
    jobs = {}
    for engine in ("cxvalue", "pandas"):
        args = (data, bench / f"clv_summary_{engine}_{rows}.parquet")
        if engine == "cxvalue":
            args += (bench / "clv_summary_store.duckdb",)
        jobs[engine] = (sys.executable, f"summary-{engine}", args, None)
    runs = run_interleaved(repeat, "summary_s", jobs)
    for engine, r in runs.items():
        if "error" in r:
            sys.exit(f"summary with {engine} failed: {r['error']}")
        res[engine] = r
        what = "load into DuckDB" if engine == "cxvalue" else "read_parquet   "
        print(f"{engine:8s} {what} {r['load_s']:6.1f}s  summary {r['summary_s']:6.1f}s  "
              f"end-to-end {r['end_to_end_s']:6.1f}s  peak {r['peak_mb']:7.0f} MB  ({r['customers']:,} customers)",
              flush=True)
    res["check"] = chk = compare_summaries(bench / f"clv_summary_cxvalue_{rows}.parquet",
                                           bench / f"clv_summary_pandas_{rows}.parquet")
    print(f"check: same customers {chk['same_customers']}, frequency identical {chk['frequency_identical']}, "
          f"recency identical {chk['recency_identical']}, T identical {chk['T_identical']}, "
          f"monetary value max rel diff {chk['monetary_max_rel']:.1e}")
    return res


def final_table(fp: dict, fallback: dict | None, sm: dict | None) -> None:
    print("\n== summary of ratios (same run; the machine's timings are noisy, the ratios less so)")
    rows = []
    for res in (fp or {}, fallback):
        if not res or "lifetimes" not in res:
            continue
        cx, lt = res["cxvalue"], res["lifetimes"]
        n = f"{res['customers']:,} customers"
        if "error" in lt:
            rows.append((f"fit+predict speed-up ({n})", f"lifetimes failed: {lt['error'][:90]}", ">= 20x"))
            continue
        rows.append((f"fit+predict speed-up ({n})", f"{lt['total_s'] / cx['total_s']:.1f}x "
                     f"({lt['total_s']:.1f}s / {cx['total_s']:.1f}s)", ">= 20x"))
        rows.append(("  same, CPU time", f"{lt['cpu_s'] / cx['cpu_s']:.1f}x ({lt['cpu_s']:.1f}s / {cx['cpu_s']:.1f}s)",
                     ">= 20x"))
        rows.append(("  fit only / predict only", f"{lt['fit_s'] / cx['fit_s']:.1f}x / "
                     f"{lt['predict_s'] / cx['predict_s']:.1f}x", ""))
        worst = max(res["param_rel_diff"].values())
        worst_k = max(res["param_rel_diff"], key=res["param_rel_diff"].get)
        rows.append(("  parameters, max rel. diff", f"{worst:.1e} ({worst_k})", "<= 1e-4"))
        rows.append(("  CLV max rel. diff", f"{res['predictions']['clv']['max_rel']:.1e}", ""))
        rows.append(("  peak memory cxvalue / lifetimes", f"{cx['peak_mb']:,.0f} / {lt['peak_mb']:,.0f} MB "
                     f"({cx['peak_mb'] / lt['peak_mb']:.2f}x)", ""))
    if fp and not fp.get("lifetimes"):
        cx = fp["cxvalue"]
        rows.append((f"cxvalue fit+predict ({fp['customers']:,})",
                     f"{cx['total_s']:.1f}s, peak {cx['peak_mb']:,.0f} MB", "(lifetimes skipped)"))
    if sm:
        cx, pdr = sm["cxvalue"], sm["pandas"]
        rows.append((f"summary speed-up ({sm['rows']:,} rows)", f"{pdr['summary_s'] / cx['summary_s']:.1f}x "
                     f"({pdr['summary_s']:.1f}s / {cx['summary_s']:.1f}s)", "> 1"))
        rows.append(("  end-to-end (load/read + summary)", f"{pdr['end_to_end_s'] / cx['end_to_end_s']:.1f}x "
                     f"({pdr['end_to_end_s']:.1f}s / {cx['end_to_end_s']:.1f}s)", ""))
        rows.append(("  peak memory cxvalue / pandas", f"{cx['peak_mb']:,.0f} / {pdr['peak_mb']:,.0f} MB "
                     f"({cx['peak_mb'] / pdr['peak_mb']:.2f}x)", ""))
        ok = all(sm["check"][f"{c}_identical"] for c in ("frequency", "recency", "T")) and sm["check"]["same_customers"]
        rows.append(("  frequency/recency/T identical", f"{ok} ({sm['check']['customers']:,} customers)", "True"))
    w = max(len(r[0]) for r in rows)
    for name, value, goal in rows:
        print(f"{name:{w}s}  {value:45s} {goal}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, help="customers for fit + predict (default 1,000,000; 0: skip)")
    ap.add_argument("--rows", type=int, help="transactions for the summary step (default 20,000,000; 0: skip)")
    ap.add_argument("--fallback-customers", type=int, default=100_000,
                    help="size to run both at when lifetimes fails at --customers")
    ap.add_argument("--lifetimes-timeout", type=float, default=3600.0, help="seconds")
    ap.add_argument("--skip-lifetimes", action="store_true")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each subprocess this many times (alternating), keep the fastest")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 20,000 customers, 400,000 rows (unless given), fallback 5,000")
    ap.add_argument("--dir", default=".bench")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        CHILDREN[a.child[0]](*a.child[1:])
        return
    if a.customers is None:
        a.customers = 20_000 if a.quick else 1_000_000
    if a.rows is None:
        a.rows = 400_000 if a.quick else 20_000_000
    if a.quick:
        a.fallback_customers = min(a.fallback_customers, 5_000)
    bench = Path(a.dir).resolve()
    bench.mkdir(exist_ok=True)
    peer = None if a.skip_lifetimes or a.customers <= 0 else peer_python(bench)
    fp = fit_predict(bench, a.customers, peer, a.lifetimes_timeout, a.repeat) if a.customers > 0 else None
    fallback = None
    if fp and peer is not None and "error" in fp["lifetimes"] and a.fallback_customers < a.customers:
        print(f"lifetimes failed at {a.customers:,} customers: running both at {a.fallback_customers:,}")
        fallback = fit_predict(bench, a.fallback_customers, peer, a.lifetimes_timeout, a.repeat)
    sm = summary_bench(bench, a.rows, a.repeat) if a.rows > 0 else None
    final_table(fp, fallback, sm)
    if a.json:
        Path(a.json).write_text(json.dumps({"fit_predict": fp, "fallback": fallback, "summary": sm}, indent=1))


if __name__ == "__main__":
    main()
