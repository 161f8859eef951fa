"""The vocabulary end of a word-level LM, forward + backward, tinygrad_rnn against the same maths written by hand in
NumPy, in interleaved rounds (medians of wall time, plain process, float32):

  linear_ce   Linear(H, V) + F.cross_entropy       logits = x W^T + b; mean(-log softmax(logits)[y]); dx, dW, db
  lsm_nll     F.log_softmax + F.nll_loss            logp = log_softmax(logits); mean(-logp[y]); dlogits

    python benchmarks/bench_vocab.py                 # N=2048 rows, H=256, V=10000
    python benchmarks/bench_vocab.py --readme README.md   # also write the table into README.md between its markers
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
from tinygrad_rnn import nn


def numpy_linear_ce(x, w, b, y):
    n = x.shape[0]
    logits = x @ w.T
    logits += b
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = (np.log(s).sum() - z[rows, y].sum()) / n
    e /= s * n                           # softmax / n
    e[rows, y] -= 1.0 / n                # dlogits
    return loss, e @ w, e.T @ x, e.sum(axis=0)


def numpy_lsm_nll(logits, y):
    n = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -logp[rows, y].mean()
    dlogp = np.zeros_like(logp)
    dlogp[rows, y] = -1.0 / n            # the gradient nll_loss sends
    return loss, dlogp - np.exp(logp) * dlogp.sum(axis=1, keepdims=True)


_clock = time.perf_counter


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: this process's CPU time, steadier on a loaded machine (fair with one BLAS thread)")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--readme", default=None, metavar="PATH",
                    help="also write the table (with the command, date and load) into PATH between its markers")
    a = ap.parse_args()
    global _clock
    _clock = time.process_time if a.clock == "cpu" else time.perf_counter
    rng = np.random.default_rng(0)
    N, H, V = a.n, a.hidden, a.vocab
    x = rng.standard_normal((N, H)).astype(np.float32)
    y = rng.integers(0, V, N)
    logits0 = rng.standard_normal((N, V)).astype(np.float32)
    tr.manual_seed(0)
    fc = nn.Linear(H, V)
    w, b = fc.weight.numpy().copy(), fc.bias.numpy().copy()
    xt = tr.tensor(x, requires_grad=True)
    yt = tr.tensor(y)
    lt = tr.tensor(logits0, requires_grad=True)

    def ours_linear_ce():
        fc.zero_grad()
        xt.grad = None
        loss = F.cross_entropy(fc(xt), yt)
        loss.backward()
        return loss.item()

    def ours_lsm_nll():
        lt.grad = None
        loss = F.nll_loss(F.log_softmax(lt, dim=1), yt)
        loss.backward()
        return loss.item()

    # same numbers first (float32 tolerances), then the timing
    ref = numpy_linear_ce(x, w, b, y)
    ours_linear_ce()
    np.testing.assert_allclose(fc.weight.grad.numpy(), ref[2], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(xt.grad.numpy(), ref[1], rtol=1e-3, atol=1e-6)
    ref2 = numpy_lsm_nll(logits0, y)
    ours_lsm_nll()
    np.testing.assert_allclose(lt.grad.numpy(), ref2[1], rtol=1e-3, atol=1e-7)
    cases = {
        "linear_ce": (ours_linear_ce, lambda: numpy_linear_ce(x, w, b, y)),
        "lsm_nll": (ours_lsm_nll, lambda: numpy_lsm_nll(logits0, y)),
    }
    print(f"N={N} H={H} V={V} float32, plain process, clock={a.clock}, {a.rounds} interleaved rounds x {a.reps}; "
          "medians")
    print(f"{'case':10} {'tinygrad_rnn ms':>15} {'numpy ms':>9} {'ours/numpy':>10}")
    rows = []
    for name, (ours, mine) in cases.items():
        t = {"ours": [], "numpy": []}
        for fn in (ours, mine):
            fn()
        for _ in range(a.rounds):
            for key, fn in (("ours", ours), ("numpy", mine)):
                for _ in range(a.reps):
                    t0 = _clock()
                    fn()
                    t[key].append(_clock() - t0)
        mo, mn = statistics.median(t["ours"]), statistics.median(t["numpy"])
        print(f"{name:10} {mo * 1e3:15.2f} {mn * 1e3:9.2f} {mo / mn:10.2f}", flush=True)
        rows.append(f"| {CASES[name]} | {mo * 1e3:.2f} | {mn * 1e3:.2f} | {mo / mn:.2f} |")
    if a.readme:
        write_readme(a.readme, rows, f"N = {N:,} rows, H = {H}, V = {V:,}, float32, clock {a.clock}, "
                                     f"{a.rounds} interleaved rounds of {a.reps}")


CASES = {"linear_ce": "`Linear(H, V)` + `cross_entropy`", "lsm_nll": "`log_softmax` + `nll_loss`"}


def write_readme(path, rows, what):
    """The table, with the command, date and load, between PATH's bench_vocab markers (bench_charlm's writer)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_charlm import write_between
    begin = "<!-- bench_vocab table: written by benchmarks/bench_vocab.py --readme -->"
    end = "<!-- end of bench_vocab table -->"
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if begin not in text or end not in text:
        sys.exit(f"bench_vocab: {path} has no markers {begin} ... {end}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    cmd = "python benchmarks/bench_vocab.py " + " ".join(sys.argv[1:])
    note = (f"`{cmd}` on {time.strftime('%Y-%m-%d %H:%M')}, load average {load}, {what}; medians of forward + "
            "backward:")
    head = "| case | tinygrad_rnn ms | NumPy by hand ms | x the NumPy time |\n|---|---:|---:|---:|"
    write_between(path, text, begin, end, note + "\n\n" + head + "\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
