#!/usr/bin/env python3
"""Measuring stick, not a dependency: float64 GEMM GFLOP/s of the machine's tuned BLAS (numpy on OpenBLAS).

Debian: apt-get install python3-numpy libopenblas0-pthread. Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset
(the workplace sets them for old OpenBLAS builds; they slow a current one):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 python3 tools/blas_reference.py
"""
import json
import os
import time

import numpy as np


def median_seconds(f, repeats):
    for _ in range(3):
        f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    rng = np.random.default_rng(1)
    results = []
    for m, n, k, repeats in [(4096, 4096, 4096, 7), (1024, 1024, 1024, 21), (21504, 64, 64, 51), (64, 64, 21504, 51)]:
        if (m, k) == (64, 21504):
            a = rng.standard_normal((k, m))          # the weight-gradient shape: a^T b over B*L rows
            b = rng.standard_normal((k, n))
            f = lambda: a.T @ b
        else:
            a = rng.standard_normal((m, k))
            b = rng.standard_normal((k, n))
            f = lambda: a @ b
        s = median_seconds(f, repeats)
        results.append({"m": m, "n": n, "k": k, "ms_median": s * 1e3, "gflops": 2.0 * m * n * k / s / 1e9})
    print(json.dumps({"numpy": np.__version__, "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
                      "results": results}, indent=1))


if __name__ == "__main__":
    main()
