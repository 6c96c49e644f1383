#!/usr/bin/python3
"""float32 GEMM peak of numpy's BLAS (OpenBLAS with bench/README.md's set-up) at 1 and 2 threads.

Each thread count runs in its own child process, with OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS and MKL_NUM_THREADS set in its environment before numpy loads. A
child times C = A @ B for square sizes (default 1024 and 2048), best of --repeats,
and prints one JSON line per size; the parent then prints one summary line per
thread count: {"threads": n, "peak_gflops": best over sizes, "blas": library}.
The `peers` bench divides its MVM GFLOP/s by these peaks.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def loaded_blas():
    """The BLAS library the process mapped (libopenblas… when present, else libblas…), or 'unknown'."""
    try:
        with open('/proc/self/maps') as f:
            libs = sorted({line.split()[-1] for line in f if 'blas' in line.lower() and '/' in line})
    except OSError:
        return 'unknown'
    real = sorted({os.path.realpath(p) for p in libs if 'lapack' not in p})
    openblas = [p for p in real if 'openblas' in os.path.basename(p)]
    return (openblas or real or ['unknown'])[0]


def child(args):
    import numpy as np

    rng = np.random.default_rng(1)
    for n in [int(s) for s in args.sizes.split(',')]:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        c = np.empty((n, n), dtype=np.float32)
        np.matmul(a, b, out=c)  # warm-up: thread pool start, page faults
        best = float('inf')
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            np.matmul(a, b, out=c)
            best = min(best, time.perf_counter() - t0)
        print(json.dumps({
            'threads': args.child, 'n': n, 'best_seconds': round(best, 5),
            'gflops': round(2 * n ** 3 / best / 1e9, 2), 'numpy': np.__version__, 'blas': loaded_blas(),
        }), flush=True)


def parent(args):
    for threads in [int(t) for t in args.threads.split(',')]:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        out = subprocess.run(
            [sys.executable, os.path.abspath(__file__), '--child', str(threads), '--sizes', args.sizes, '--repeats', str(args.repeats)],
            env=env, check=True, stdout=subprocess.PIPE, text=True,
        ).stdout
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        for r in rows:
            print(json.dumps(r), flush=True)
        best = max(rows, key=lambda r: r['gflops'])
        print(json.dumps({'threads': threads, 'peak_gflops': best['gflops'], 'at_n': best['n'], 'blas': best['blas']}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--threads', default='1,2', help='thread counts, one child process each')
    p.add_argument('--sizes', default='1024,2048', help='square GEMM sizes')
    p.add_argument('--repeats', type=int, default=5, help='timed products per size (best is kept)')
    p.add_argument('--child', type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        child(args)
    else:
        parent(args)


if __name__ == '__main__':
    main()
