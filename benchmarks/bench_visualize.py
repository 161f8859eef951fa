"""Time visualize/ on a 100-step LSTM: graph walk + DOT text, and DOT -> SVG with each installed renderer.
Run: python benchmarks/bench_visualize.py [--steps 100]. Imports: tinygrad_rnn, visualize."""

import argparse
import os
import tempfile
import time

import tinygrad_rnn as tr
import visualize
from tinygrad_rnn import nn
from visualize import engine


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--max-nodes", type=int, default=400)
    args = ap.parse_args()
    tr.manual_seed(0)
    lstm = nn.LSTM(16, 32)
    out, _ = lstm(tr.randn(args.steps, 4, 16))
    loss = (out * out).mean()
    with tr.record_grad_norms():
        loss.backward()
    t0 = time.perf_counter()
    text = visualize.to_dot(loss, lstm, max_nodes=args.max_nodes)
    t1 = time.perf_counter()
    print(f"LSTM, {args.steps} steps: walk + DOT {t1 - t0:.3f} s ({len(text) // 1024} KiB of DOT)")
    full = visualize.to_dot(loss, lstm, max_nodes=10 ** 6)
    for name in engine.available():
        for label, dot_text in (("elided (default budget)", text), ("every step drawn", full)):
            t0 = time.perf_counter()
            svg = engine.render_svg(dot_text, engine=name)
            dt = time.perf_counter() - t0
            print(f"  {name:4s} {label:24s}: {dt:.2f} s -> {len(svg) // 1024} KiB SVG")
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        visualize.render(loss, os.path.join(d, "lstm.svg"), params=lstm)
        print(f"visualize.render end to end: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
