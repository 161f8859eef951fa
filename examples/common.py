"""Shared plumbing for the example scripts: argument parsing, progress (bars on a terminal, log lines otherwise),
mini-batches, plots, and the final metrics and claims table. Users of the public API only (tinygrad_rnn, numpy,
matplotlib, tqdm)."""

import argparse
import contextlib
import math
import os
import sys
import time

import numpy as np

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
PROGRESS_ENV = "TINYGRAD_RNN_PROGRESS"  # bar | log | off (unset: bars on a terminal, log lines otherwise)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose --help shows every option's default, also for options added without a help text
    (argparse's ArgumentDefaultsHelpFormatter shows it only next to a help text)."""

    def add_argument(self, *args, **kwargs):
        if kwargs.get("action") != "help" and not kwargs.get("help"):
            kwargs["help"] = args[-1].lstrip("-").replace("-", " ")  # argparse skips a blank help
        return super().add_argument(*args, **kwargs)


def make_parser(description, **defaults):
    """A Parser (every default shown in --help) with the options every example shares."""
    p = Parser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a tiny run (seconds) used by the test suite")
    p.add_argument("--seed", type=int, default=defaults.pop("seed", 0), help="random seed for data and weights")
    p.add_argument("--out", default=OUT_DIR, help="folder for every file the script writes (plots, SVGs)")
    p.add_argument("--no-plot", action="store_true", help="skip the matplotlib plots (the demo still writes its SVG)")
    p.add_argument("--no-progress", action="store_true", help="neither progress bars nor log lines")
    p.add_argument("--json", default=None, help="also write the metrics and the claims as JSON to this path "
                   "(examples/run_all.py reads it)")
    p.add_argument("--log-every", type=int, default=0,
                   help="print a log line every N iterations instead of a bar (0: a bar on a terminal, else about "
                        f"ten lines per loop; {PROGRESS_ENV}=bar|log|off overrides)")
    return p


class Progress:
    """Iterate `iterable` showing progress: tqdm's bar on a terminal, one plain line every `every` iterations
    (and at the end) when the output is a log file, CI or a notebook. `set(loss=...)` attaches the latest
    numbers to the bar or to the next line."""

    def __init__(self, iterable, desc, total, mode, every):
        self.iterable, self.desc, self.mode, self.every = iterable, desc, mode, every
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        self.values, self.bar = {}, None

    def set(self, **values):
        self.values.update(values)
        if self.bar is not None:
            self.bar.set_postfix({k: _short(v) for k, v in self.values.items()}, refresh=False)

    def __iter__(self):
        if self.mode == "bar":
            from tqdm import tqdm

            self.bar = tqdm(self.iterable, desc=self.desc, total=self.total, leave=False, dynamic_ncols=True)
            yield from self.bar
            self.bar.close()
            return
        start, i = time.perf_counter(), 0
        for i, item in enumerate(self.iterable, 1):
            yield item
            if self.mode == "log" and (i % self.every == 0 or i == self.total):
                self._line(i, start)
        if self.mode == "log" and i and i != self.total and i % self.every:
            self._line(i, start)

    def _line(self, i, start):
        vals = "  ".join(f"{k} {_short(v)}" for k, v in self.values.items())
        total = f"/{self.total}" if self.total else ""
        print(f"[{self.desc}] {i}{total}  {vals}  ({time.perf_counter() - start:.0f} s)".replace("   (", "  ("),
              flush=True)


def _short(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def progress_mode(args):
    """'bar', 'log' or 'off' for these arguments and this output stream."""
    env = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if getattr(args, "no_progress", False) or env in ("off", "0"):
        return "off"
    if env in ("bar", "1") or (not env and not getattr(args, "log_every", 0) and sys.stderr.isatty()):
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return "log"
        return "bar"
    return "log"


def progress(iterable, args, desc="", total=None, per_epoch=False, every=None):
    """Progress over `iterable` (see Progress). Without --log-every a log line comes every epoch (per_epoch), every
    `every` iterations (a loop that evaluates that often), or every tenth of the loop."""
    mode = progress_mode(args)
    n = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else 0)
    every = getattr(args, "log_every", 0) or (1 if per_epoch else every or max(1, math.ceil(n / 10)))
    return Progress(iterable, desc, total, mode, every)


def minibatches(n, batch_size, rng, shuffle=True):
    """Index arrays covering range(n) in batches of batch_size (the last may be smaller)."""
    order = rng.permutation(n) if shuffle else np.arange(n)
    for i in range(0, n, batch_size):
        yield order[i:i + batch_size]


def save_figure(fig, out_dir, name):
    """Save a matplotlib figure as PNG under out_dir and return its path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def pyplot():
    """matplotlib.pyplot with the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def single_threaded_blas():
    """Context manager limiting BLAS to one thread (a no-op without threadpoolctl). The small matrices of these
    examples run many times faster on one thread than with OpenBLAS threads spinning on busy shared cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def spread(values):
    """'mean (min-max)' of a list of numbers measured over seeds."""
    return f"{np.mean(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def claim(text, a, b, need=None, higher=True, noise=0.0, fmt="{:.3f}", spread_text="", names=("first", "second")):
    """One row of the claims table: `a` against `b`, margin = a - b (b - a when lower is better).

    need: the margin the example claims; the row `holds` when the margin reaches it. need=None states a comparison
    without claiming a winner: a margin within `noise` (e.g. the spread over seeds) reads "within noise", a larger
    one names the side ahead (`names`)."""
    margin = (a - b) if higher else (b - a)
    if need is not None:
        verdict = "holds" if margin >= need else "FAILS"
    elif abs(margin) <= noise:
        verdict = "within noise"
    else:
        verdict = f"{names[0] if margin > 0 else names[1]} ahead"
    return {"claim": text, "measured": f"{fmt.format(a)} vs {fmt.format(b)}", "margin": float(margin),
            "need": need, "holds": None if need is None else bool(margin >= need), "verdict": verdict,
            "spread": spread_text}


def claims_table(claims):
    """The claims as aligned text lines."""
    head = ("claim", "measured", "margin", "needed", "verdict")
    rows = [(c["claim"], c["measured"] + (f"  [seeds: {c['spread']}]" if c["spread"] else ""),
             f"{c['margin']:+.3g}", "-" if c["need"] is None else f"{c['need']:+.3g}", c["verdict"]) for c in claims]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = "  ".join("{:<%d}" % w for w in widths)
    return [line.format(*head), line.format(*("-" * w for w in widths))] + [line.format(*r) for r in rows]


def report(metrics, claims=(), args=None):
    """Print the final metrics, one per line as `name: value`, then the claims table; return the metrics (with
    metrics['claims'] = the claim rows), also written as JSON to args.json when given."""
    for k, v in metrics.items():
        if isinstance(v, float) and v != 0 and not 1e-3 <= abs(v) < 1e6:
            print(f"{k}: {v:.3e}")  # ratios of gradient norms and the like span many orders of magnitude
        else:
            print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    if claims:
        print("\nwhat this run shows:")
        print("\n".join("  " + ln for ln in claims_table(claims)))
    metrics["claims"] = list(claims)
    if getattr(args, "json", None):
        import json

        with open(args.json, "w") as f:
            json.dump(metrics, f, indent=1, default=str)
    return metrics
