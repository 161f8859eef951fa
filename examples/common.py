"""Shared plumbing for the example scripts: argument parsing, a progress bar, mini-batches, plots and
the final metric line. Users of the public API only (tinygrad_rnn, numpy, matplotlib, tqdm)."""

import argparse
import contextlib
import os
import sys

import numpy as np

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def make_parser(description, **defaults):
    """An ArgumentParser with the options every example shares: --quick, --seed, --out, --no-plot."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a tiny run (seconds) used by the test suite")
    p.add_argument("--seed", type=int, default=defaults.pop("seed", 0), help="random seed for data and weights")
    p.add_argument("--out", default=OUT_DIR, help="folder for plots and SVGs")
    p.add_argument("--no-plot", action="store_true", help="skip writing plots")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def progress(iterable, desc="", total=None, disable=False):
    """tqdm's bar on stderr when available and wanted, else the plain iterable."""
    if disable or not sys.stderr.isatty() and os.environ.get("TINYGRAD_RNN_PROGRESS") != "1":
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)


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


def report(metrics):
    """Print the final metrics, one per line as `name: value`, and return them."""
    for k, v in metrics.items():
        if isinstance(v, float) and v != 0 and not 1e-3 <= abs(v) < 1e6:
            print(f"{k}: {v:.3e}")  # ratios of gradient norms and the like span many orders of magnitude
        else:
            print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    return metrics
