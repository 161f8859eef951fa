# Times one char-LM training step (fwd + bwd + Adam) of the hand-written NumPy reference vs PyTorch.
# Usage: python benchmarks/bench_reference.py [--cells lstm,gru,rnn] [--reps 5] [--warmup 2] [--clock wall|cpu]
# Embedding size == hidden size H, vocab 96, float32; reports median tokens/s and numpy/torch ratio.
# Threads: library defaults (OpenBLAS and torch use all cores). On a busy machine use --clock cpu with
# OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 (CPU time is only comparable for single-threaded runs).
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_numpy import NumpyCharLM  # noqa: E402

VOCAB = 96
CONFIGS = [(32, 35, 128), (64, 64, 256), (64, 128, 512)]  # (B, T, H); embed = H


def make_numpy(cell, V, H, seed, **kw):
    return NumpyCharLM(cell, V, H, H, seed=seed, **kw).step


def make_numpy_fused(cell, V, H, seed):
    return make_numpy(cell, V, H, seed, fuse_embedding=True)


def make_torch(cell, V, H, seed):
    from reference_torch import TorchCharLM
    tm = TorchCharLM(cell, NumpyCharLM(cell, V, H, H, seed=seed).params)
    cache = {}

    def step(tok, tgt):  # numpy -> tensor conversion done once, outside the timed region
        key = (id(tok), id(tgt))
        if key not in cache:
            cache[key] = (tm.as_tensor(tok), tm.as_tensor(tgt))
        return tm.step(*cache[key])
    return step


# name -> factory(cell, vocab, hidden, seed) -> step(tokens, targets) -> loss. Every runner starts from
# the weights of NumpyCharLM(cell, vocab, hidden, hidden, seed). Add a framework here (e.g.
# "tinygrad_rnn") to get another column. numpy_fused: same math, vocab-sized embedding/W_ih products.
RUNNERS = {"numpy": make_numpy, "numpy_fused": make_numpy_fused, "torch": make_torch}


def time_steps(steps, tok, tgt, warmup, reps, stat, clock=time.perf_counter):
    """Warm up every runner, then time them interleaved (one step each per round), so that load from
    other processes on a shared machine hits all runners alike. Returns {name: seconds per step}."""
    for step in steps.values():
        for _ in range(warmup):
            step(tok, tgt)
    times = {name: [] for name in steps}
    for _ in range(reps):
        for name, step in steps.items():
            t0 = clock()
            step(tok, tgt)
            times[name].append(clock() - t0)
    agg = statistics.median if stat == "median" else min
    return {name: agg(ts) for name, ts in times.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description="NumPy reference vs PyTorch char-LM training-step throughput")
    ap.add_argument("--cells", default="lstm,gru,rnn")
    ap.add_argument("--runners", default=",".join(RUNNERS))
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stat", choices=("median", "min"), default="median")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu = process CPU time: steadier on a shared machine, fair only single-threaded")
    args = ap.parse_args(argv)
    runners = args.runners.split(",")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    info = f"numpy {np.__version__}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}"
    if "torch" in runners:
        import torch
        info += f", torch {torch.__version__} (threads={torch.get_num_threads()})"
    print(f"# {info}, cpu count {os.cpu_count()}, float32, vocab {VOCAB}, embed=H, "
          f"{args.stat} of {args.reps} interleaved steps after {args.warmup} warm-up steps, clock={args.clock}")
    head = f"{'cell':5} {'B':>3} {'T':>4} {'H':>4} " + " ".join(f"{r + ' tok/s':>14}" for r in runners)
    both = "numpy" in runners and "torch" in runners
    print(head + ("  numpy/torch" if both else ""))
    rng = np.random.default_rng(args.seed)
    for cell in args.cells.split(","):
        for B, T, H in CONFIGS:
            tok = rng.integers(0, VOCAB, (T, B)).astype(np.int64)
            tgt = rng.integers(0, VOCAB, (T, B)).astype(np.int64)
            # each runner gets its own copy of the same initial weights
            steps = {r: RUNNERS[r](cell, VOCAB, H, args.seed) for r in runners}
            secs = time_steps(steps, tok, tgt, args.warmup, args.reps, args.stat, clock)
            tps = {r: T * B / secs[r] for r in runners}
            line = f"{cell:5} {B:3d} {T:4d} {H:4d} " + " ".join(f"{tps[r]:14,.0f}" for r in runners)
            if both:
                line += f"  {tps['numpy'] / tps['torch']:11.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
