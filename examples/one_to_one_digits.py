"""One-to-one: a plain fully connected network (MLP) on the 8x8 handwritten digits, the reference point.

The idea: before any recurrence, the simplest mapping there is. One input (all 64 pixels of an image at
once, flattened) goes to one output (the digit's class), through Linear -> ReLU -> Linear. Nothing is
read in time, nothing is remembered between steps: this is the "one-to-one" box of Karpathy's diagram of
recurrent patterns, and the baseline every recurrent example on these digits should be compared with.

The number that proves it: `test_accuracy` on held-out images, claimed at >= 0.95 (the measured figure is in the
README's results table, written by examples/run_all.py). The many-to-one example reads the same images row by row
with an LSTM and should come close to it.

    python examples/one_to_one_digits.py            # well under a minute on 2 CPU cores
    python examples/one_to_one_digits.py --quick    # a few seconds
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from datasets import load_digits_split  # noqa: E402

import tinygrad_rnn as tr  # noqa: E402
import tinygrad_rnn.nn.functional as F  # noqa: E402
from tinygrad_rnn import nn, optim  # noqa: E402


def build_model(hidden):
    """64 pixels -> hidden (ReLU) -> 10 class logits."""
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def accuracy(model, X, y):
    """Fraction of images whose largest logit is the true class (no graph is recorded)."""
    with tr.no_grad():
        pred = model(tr.Tensor(X)).numpy().argmax(axis=1)
    return float((pred == y).mean())


def main(argv=None):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    args = p.parse_args(argv)
    with common.single_threaded_blas():
        return run(args)


def run(args):
    """Train with the parsed arguments, evaluate, plot; returns the metrics."""
    if args.quick:
        args.epochs = 4

    tr.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    X_train, y_train, X_test, y_test = load_digits_split(seed=args.seed)
    X_train, X_test = X_train.reshape(-1, 64), X_test.reshape(-1, 64)  # one vector per image: no time axis

    model = build_model(args.hidden)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    history = {"loss": [], "test_accuracy": []}
    start = time.perf_counter()
    bar = common.progress(range(args.epochs), args, "epochs", per_epoch=True)
    for _ in bar:
        model.train()
        losses = []
        for idx in common.minibatches(len(X_train), args.batch_size, rng):
            loss = F.cross_entropy(model(tr.Tensor(X_train[idx])), tr.tensor(y_train[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        model.eval()
        history["loss"].append(float(np.mean(losses)))
        history["test_accuracy"].append(accuracy(model, X_test, y_test))
        bar.set(loss=history["loss"][-1], test_accuracy=history["test_accuracy"][-1])

    metrics = {
        "train_accuracy": accuracy(model, X_train, y_train),
        "test_accuracy": history["test_accuracy"][-1],
        "final_loss": history["loss"][-1],
        "train_seconds": time.perf_counter() - start,
    }
    if not args.no_plot:
        plt = common.pyplot()
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
        epochs = np.arange(1, args.epochs + 1)
        ax[0].plot(epochs, history["loss"])
        ax[0].set(xlabel="epoch", ylabel="training cross-entropy", title="MLP on flattened 8x8 digits")
        ax[1].plot(epochs, history["test_accuracy"])
        ax[1].set(xlabel="epoch", ylabel="test accuracy", ylim=(0.5, 1.0), title="one-to-one baseline")
        metrics["plot"] = common.save_figure(fig, args.out, "one_to_one_digits.png")
    claims = [common.claim("an MLP on all 64 pixels: test accuracy (vs the 0.95 claimed)", metrics["test_accuracy"],
                           0.95, need=0.0)]
    return common.report(metrics, claims, args)


if __name__ == "__main__":
    main()
