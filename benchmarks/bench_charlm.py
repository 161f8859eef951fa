"""Char-level LM training step, tokens/s: Embedding -> LSTM/GRU/RNN -> Linear -> cross-entropy -> backward -> Adam,
for tinygrad_rnn beside the hand-written NumPy reference (reference_numpy.py) and PyTorch CPU (reference_torch.py,
when torch is installed), all measured in the same run and started from the same weights.

    python benchmarks/bench_charlm.py                      # the three sizes, three cells
    python benchmarks/bench_charlm.py --cells lstm --sizes 32,35,128 --profile
"""

import argparse
import ctypes
import os
import sys
import time

import numpy as np

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
from tinygrad_rnn import nn, optim

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_numpy import NumpyCharLM  # noqa: E402

VOCAB = 65
SIZES = ((32, 35, 128), (64, 64, 256), (64, 128, 512))


class CharLM(nn.Module):
    """The benchmark model in tinygrad_rnn (parameter names as the references': embedding., rnn., fc.)."""

    def __init__(self, cell, vocab, embed, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](embed, hidden)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        out, _ = self.rnn(self.embedding(tokens))
        return self.fc(out.reshape(-1, out.shape[-1]))  # (T*N, H): one matrix product, as the references do


class TinyStep:
    def __init__(self, cell, params):
        V, E = params["embedding.weight"].shape
        H = params["rnn.weight_hh_l0"].shape[1]
        self.model = CharLM(cell, V, E, H)
        self.model.load_state_dict({k: np.array(v) for k, v in params.items()})
        self.opt = optim.Adam(self.model.parameters(), lr=1e-3)

    def step(self, tokens, targets):
        self.opt.zero_grad()
        logits = self.model(tokens)
        loss = F.cross_entropy(logits, targets.reshape(-1))
        loss.backward()
        self.opt.step()
        return loss.item()


_clock = time.perf_counter


def tune_malloc():
    """glibc only: keep freed memory in the heap instead of returning it to the OS, so the arrays a training step
    allocates afresh are not page-faulted in again every step (the NumPy reference preallocates its buffers and
    never pays this). Applies to the whole process, i.e. to all three runners. Returns True if applied."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 32 << 20) and libc.mallopt(m_trim_threshold, 1 << 30))


def _time(step, args, reps):
    t0 = _clock()
    for _ in range(reps):
        step(*args)
    return (_clock() - t0) / reps


def bench(cell, B, T, H, rounds=3, budget=1.5):
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, VOCAB, (T, B))
    targets = rng.integers(0, VOCAB, (T, B))
    ref = NumpyCharLM(cell, VOCAB, H, H, seed=0)
    ours = TinyStep(cell, ref.params)
    runners = {"numpy": (ref.step, (tokens, targets)),
               "tinygrad_rnn": (ours.step, (tr.Tensor(tokens), tr.Tensor(targets)))}
    try:
        from reference_torch import TorchCharLM
        tm = TorchCharLM(cell, ref.params)
        runners["torch"] = (tm.step, (tm.as_tensor(tokens), tm.as_tensor(targets)))
    except ImportError:
        pass
    l_ref, l_ours = ref.step(tokens, targets), ours.step(*runners["tinygrad_rnn"][1])
    assert abs(l_ref - l_ours) < 1e-4 * max(1.0, abs(l_ref)), (l_ref, l_ours)  # same model, same numbers
    reps = {}
    for name, (fn, args) in runners.items():  # warm up and size the repetitions to ~budget/rounds seconds
        dt = _time(fn, args, 1)
        reps[name] = max(1, int(budget / rounds / max(dt, 1e-4)))
    best = dict.fromkeys(runners, float("inf"))
    for _ in range(rounds):  # interleaved rounds, best of each: fair on a shared, noisy machine
        for name, (fn, args) in runners.items():
            best[name] = min(best[name], _time(fn, args, reps[name]))
    return {name: B * T / dt for name, dt in best.items()}


def _torch_threads():
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", default="lstm,gru,rnn")
    ap.add_argument("--sizes", nargs="*", default=None, help="B,T,H triples (default: the three standard sizes)")
    ap.add_argument("--rounds", type=int, default=10, help="interleaved rounds; each runner's best round counts")
    ap.add_argument("--budget", type=float, default=3.0, help="seconds per runner per size, over all rounds")
    ap.add_argument("--profile", action="store_true", help="cProfile tinygrad_rnn's step instead of timing")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: process CPU time, steadier on a busy machine (fair only with single-threaded BLAS: "
                         "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1)")
    ap.add_argument("--no-malloc-tune", action="store_true", help="leave glibc malloc at its defaults")
    a = ap.parse_args()
    tuned = False if a.no_malloc_tune else tune_malloc()
    global _clock
    _clock = time.process_time if a.clock == "cpu" else time.perf_counter
    sizes = [tuple(int(v) for v in s.split(",")) for s in a.sizes] if a.sizes else SIZES
    cells = a.cells.split(",")
    if a.profile:
        import cProfile
        import pstats
        for cell in cells:
            for B, T, H in sizes:
                ref = NumpyCharLM(cell, VOCAB, H, H, seed=0)
                ours = TinyStep(cell, ref.params)
                rng = np.random.default_rng(0)
                args = (tr.Tensor(rng.integers(0, VOCAB, (T, B))), tr.Tensor(rng.integers(0, VOCAB, (T, B))))
                ours.step(*args)
                pr = cProfile.Profile(_clock)
                pr.enable()
                for _ in range(20):
                    ours.step(*args)
                pr.disable()
                print(f"== {cell} B={B} T={T} H={H}")
                pstats.Stats(pr).sort_stats("tottime").print_stats(18)
        return
    print(f"clock={a.clock} malloc_tuned={tuned} OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} "
          f"torch threads={_torch_threads()}")
    print(f"{'cell':5} {'B':>3} {'T':>4} {'H':>4} | {'tinygrad_rnn':>12} {'numpy ref':>10} {'torch':>10} | "
          f"{'x numpy':>7} {'x torch':>7}   (tokens/s)")
    for cell in cells:
        for B, T, H in sizes:
            r = bench(cell, B, T, H, a.rounds, a.budget)
            ours, ref, tor = r["tinygrad_rnn"], r["numpy"], r.get("torch")
            tor_s = f"{tor:10.0f}" if tor else f"{'-':>10}"
            ratio_t = f"{ours / tor:7.2f}" if tor else f"{'-':>7}"
            print(f"{cell:5} {B:3d} {T:4d} {H:4d} | {ours:12.0f} {ref:10.0f} {tor_s} | {ours / ref:7.2f} {ratio_t}",
                  flush=True)


if __name__ == "__main__":
    main()
