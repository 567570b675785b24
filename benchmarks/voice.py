"""Benchmark of the voice-of-the-customer models (issue 4), run on demand:

    python benchmarks/voice.py [--responses 1000000] [--respondents 100000] [--boot 0]

1. Key driver analysis with 14 drivers on ``--responses`` simulated answers (0-10 ratings
   driven by two correlated factors, outcome 0-10): time and peak memory of
   ``KeyDriverAnalysis`` (relative weights + exact Shapley over 16,384 subsets), and of
   relative weights alone, against a reference implementation of the textbook formula
   measured in the same run — Johnson (2000) on the data matrix: standardise X, take its
   SVD X = PΔQ', the orthogonal counterparts Z = PQ', Λ = QΔQ'/sqrt(n) (correlations of X
   and Z), β = Z'y/n, ε_j = Σ_k Λ_jk² β_k². Prints the largest difference of the weights
   and the time ratio.
2. PLS path modelling (ECSI model, 27 indicators, 6 latent variables) on ``--respondents``
   simulated respondents: time and peak memory of ``PLSPM.fit`` (and of ``--boot``
   bootstrap resamples when asked).

Peak memory is the tracemalloc peak of Python/numpy allocations during the step (numpy
reports its buffers to tracemalloc), plus the process's maximum resident set size.
Timings are the best of ``--repeat`` runs. Threads are pinned to 1 (OMP_NUM_THREADS=1)
unless already set, so numbers are per core.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ["OMP_NUM_THREADS"])

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from cxvalue.perception.drivers import KeyDriverAnalysis  # noqa: E402
from cxvalue.perception.plspm import ECSI_MODEL, PLSPM  # noqa: E402


def measure(fn, repeat: int = 1):
    """(result, best seconds, peak MiB of traced allocations) of ``fn()``."""
    best, peak, out = np.inf, 0.0, None
    for _ in range(repeat):
        tracemalloc.start()
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        peak = max(peak, tracemalloc.get_traced_memory()[1] / 2 ** 20)
        tracemalloc.stop()
        best = min(best, dt)
    return out, best, peak


def driver_data(n: int, p: int = 14, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 2)) @ np.array([[1.0, 0.0], [0.5, 0.85]])
    load = np.column_stack([np.linspace(0.9, 0.3, p), np.linspace(0.2, 0.7, p)])
    X = np.clip(np.round(6 + 1.3 * (f @ load.T + 0.8 * rng.standard_normal((n, p)))), 0, 10)
    w = np.linspace(0.35, 0.02, p)
    y = np.clip(np.round(7 + (X - 6) @ w + 1.5 * rng.standard_normal(n)), 0, 10)
    df = pd.DataFrame(X, columns=[f"rating_{j + 1:02d}" for j in range(p)])
    df.insert(0, "nps", y)
    return df


def textbook_relative_weights(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Johnson (2000), computed on the data matrix as the paper describes it."""
    n = len(y)
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    ys = (y - y.mean()) / y.std()
    P, d, Qt = np.linalg.svd(Xs, full_matrices=False)
    Z = np.sqrt(n) * (P @ Qt)                    # orthogonal counterparts of the drivers, Z'Z = n I
    lam = Qt.T @ np.diag(d) @ Qt / np.sqrt(n)    # correlations of X with Z
    beta = Z.T @ ys / n                          # regression of y on Z (standardised)
    return (lam ** 2) @ (beta ** 2)


def pls_data(n: int, seed: int = 0) -> pd.DataFrame:
    """Answers 0-10 to the ECSI items from a known inner model (paths as in the bank data)."""
    rng = np.random.default_rng(seed)
    lv = {}
    e = lambda s: rng.standard_normal(n) * s  # noqa: E731
    lv["IMAG"] = rng.standard_normal(n)
    lv["EXPE"] = 0.58 * lv["IMAG"] + e(0.81)
    lv["QUAL"] = 0.85 * lv["EXPE"] + e(0.53)
    lv["VAL"] = 0.1 * lv["EXPE"] + 0.68 * lv["QUAL"] + e(0.64)
    lv["SAT"] = 0.2 * lv["IMAG"] + 0.12 * lv["QUAL"] + 0.59 * lv["VAL"] + e(0.54)
    lv["LOY"] = 0.28 * lv["IMAG"] + 0.5 * lv["SAT"] + e(0.7)
    cols = {}
    for name, items in ECSI_MODEL["blocks"].items():
        z = lv[name] / lv[name].std()
        for it in items:
            cols[it] = np.clip(np.round(7 + 1.5 * (0.8 * z + 0.6 * rng.standard_normal(n))), 0, 10)
    return pd.DataFrame(cols)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--responses", type=int, default=1_000_000)
    ap.add_argument("--respondents", type=int, default=100_000)
    ap.add_argument("--boot", type=int, default=0, help="bootstrap resamples in the PLS-PM step")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    print(f"cxvalue voice benchmark — numpy {np.__version__}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, "
          f"{os.cpu_count()} CPUs")

    df = driver_data(a.responses)
    drivers = [c for c in df.columns if c.startswith("rating_")]
    print(f"\n1) key driver analysis: {len(df):,} responses x {len(drivers)} drivers")
    kda, t_both, m_both = measure(lambda: KeyDriverAnalysis().fit(df, outcome="nps", drivers=drivers), a.repeat)
    rw, t_rw, m_rw = measure(lambda: KeyDriverAnalysis(methods="relative_weights").fit(df, outcome="nps",
                                                                                         drivers=drivers), a.repeat)
    X, y = df[drivers].to_numpy(float), df["nps"].to_numpy(float)
    ref, t_ref, m_ref = measure(lambda: textbook_relative_weights(X, y), a.repeat)
    ours = rw.table("relative_weights").set_index("driver").loc[drivers, "importance"].to_numpy()
    print(f"   relative weights + exact Shapley : {t_both:7.3f} s   peak {m_both:8.1f} MiB   R² = {kda.r2_:.4f}")
    print(f"   relative weights (cxvalue)       : {t_rw:7.3f} s   peak {m_rw:8.1f} MiB")
    print(f"   relative weights (textbook SVD)  : {t_ref:7.3f} s   peak {m_ref:8.1f} MiB")
    print(f"   ratio cxvalue / textbook: time {t_rw / t_ref:.2f}x, memory {m_rw / m_ref:.2f}x; "
          f"max |difference| of the weights {np.max(np.abs(ours - ref)):.2e} (sum {ours.sum():.6f} vs {ref.sum():.6f})")
    df = X = y = None  # free the driver data before the PLS-PM part

    pdf = pls_data(a.respondents)
    print(f"\n2) PLS-PM (ECSI model, {pdf.shape[1]} indicators, 6 latent variables): {len(pdf):,} respondents")
    spec = {k: ECSI_MODEL[k] for k in ("blocks", "paths", "modes")}
    pls, t_pls, m_pls = measure(lambda: PLSPM(scaled=False).fit(pdf, **spec), a.repeat)
    paths = pls.paths_.set_index("relationship")["estimate"]
    print(f"   fit: {t_pls:7.3f} s   peak {m_pls:8.1f} MiB   {pls.iterations_} iterations, GoF {pls.gof_:.3f}, "
          f"SAT R² {pls.inner_summary_.set_index('lv').loc['SAT', 'r_squared']:.3f}, "
          f"VAL -> SAT {paths['VAL -> SAT']:.3f}")
    if a.boot:
        _, t_b, m_b = measure(lambda: PLSPM(scaled=False, n_boot=a.boot, random_state=0).fit(pdf, **spec), 1)
        print(f"   fit + {a.boot} bootstrap resamples: {t_b:7.3f} s   peak {m_b:8.1f} MiB")
    print(f"\nmax resident set size of the run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
