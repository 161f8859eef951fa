"""The fixed cost of one recurrent step in the user's process: forward and backward per step of an nn.RNN / LSTM /
GRU layer on arrays so small (N=2, H=4) that the NumPy work is negligible beside the Python around it (the graph
node, the cell's bookkeeping, the engine), next to the same count of bare NumPy calls on those arrays, which any
NumPy implementation pays. What remains of the small-size gap to the hand-written NumPy step is this cost.

    python benchmarks/bench_overhead.py
"""

import statistics
import time

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import nn

T, N, IN, H = 35, 2, 4, 4
CALLS = {"rnn": (3, 5), "lstm": (16, 17), "gru": (15, 18)}  # NumPy calls per step (forward, backward), copies included


def per_step(cell, reps=300):
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](IN, H)
    x = tr.randn(T, N, IN)
    fwd, bwd = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        out, _ = layer(x)
        loss = out.sum()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        fwd.append((t1 - t0) / T)
        bwd.append((t2 - t1) / T)
    return statistics.median(fwd), statistics.median(bwd)


def numpy_call(reps=20000):
    a, b, c = (np.random.rand(H, N).astype(np.float32) for _ in range(3))
    ts = []
    for _ in range(reps // 100):
        t0 = time.perf_counter()
        for _ in range(100):
            np.multiply(a, b, out=c)
        ts.append((time.perf_counter() - t0) / 100)
    return statistics.median(ts)


def main():
    call = numpy_call()
    print(f"one NumPy call on ({H}, {N}) arrays: {call * 1e6:.2f} us")
    print(f"{'cell':5} | {'forward us/step':>15} {'of it NumPy calls':>17} | {'backward us/step':>16} "
          f"{'of it NumPy calls':>17}")
    for cell in ("rnn", "lstm", "gru"):
        f, b = per_step(cell)
        nf, nb = CALLS[cell]
        print(f"{cell:5} | {f * 1e6:15.1f} {nf * call * 1e6:17.1f} | {b * 1e6:16.1f} {nb * call * 1e6:17.1f}")


if __name__ == "__main__":
    main()
