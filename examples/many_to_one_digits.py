"""Many-to-one: an LSTM reads a digit image row by row and classifies it from its final hidden state.

The idea: a sequence in, one label out (the shape of sentiment classification). Each 8x8 image becomes a
sequence of T=8 steps, the 8 pixels of one row per step. The LSTM carries what it has seen so far in its
hidden state; only the state after the last row, h_T, goes to a Linear classifier. The network never sees
the whole image at once, so everything it knows about the top rows must survive in h_t until step 8.

The numbers that prove it: `test_accuracy` on held-out images against a BAG-OF-ROWS baseline trained the same way:
the same rows, each through a small layer, averaged, then classified, so it sees every row but not their ORDER
(a 6 and a 9 have similar rows in a different order). The LSTM must beat it by at least 0.02, and reach >= 0.95;
`probe_accuracy_by_rows`: a linear probe fitted on h_t after only t rows, which climbs as more of the image has
been read (the plot shows the curve). Measured figures: the README's results table (examples/run_all.py).

    python examples/many_to_one_digits.py           # seconds (README table: wall and CPU time)
    python examples/many_to_one_digits.py --quick   # a few seconds
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


class RowReader(nn.Module):
    """(N, 8 rows, 8 pixels) -> LSTM over the rows -> Linear on the last hidden state -> (N, 10) logits."""

    def __init__(self, hidden):
        super().__init__()
        self.lstm = nn.LSTM(input_size=8, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        output, (h_n, c_n) = self.lstm(x)  # output: h_t for every step (N, T, H); h_n: the last one (1, N, H)
        return self.head(h_n[-1])

    def states(self, x):
        """The hidden state after every row, as host arrays (N, T, H): what the LSTM knows after t rows."""
        output, _ = self.lstm(x)
        return output.numpy()


class BagOfRows(nn.Module):
    """The order-free baseline: each row (8 pixels) -> Linear -> tanh, the mean over rows -> Linear -> logits."""

    def __init__(self, hidden):
        super().__init__()
        self.row = nn.Linear(8, hidden)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.head(self.row(x).tanh().mean(1))  # the mean is the same for any order of the rows


def probe_accuracy_by_rows(model, X_train, y_train, X_test, y_test):
    """Test accuracy of a linear probe (logistic regression, fitted on the training images' states) reading
    h_t after t rows, for t = 1..T: how much the state knows about the digit so far. The trained head only ever
    saw h_T, so each step gets its own probe; the LSTM itself stays frozen."""
    from sklearn.linear_model import LogisticRegression

    with tr.no_grad():
        s_train, s_test = model.states(tr.Tensor(X_train)), model.states(tr.Tensor(X_test))
    accs = []
    for t in range(s_train.shape[1]):
        probe = LogisticRegression(max_iter=2000).fit(s_train[:, t], y_train)
        accs.append(float(probe.score(s_test[:, t], y_test)))
    return accs


def main(argv=None):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-2)
    args = p.parse_args(argv)
    if args.quick:
        args.epochs = 5
    with common.single_threaded_blas():
        return run(args)


def train(model, X_train, y_train, args, desc):
    """Adam with clipping for args.epochs epochs; returns the mean training loss per epoch."""
    rng = np.random.default_rng(args.seed)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    losses = []
    bar = common.progress(range(args.epochs), args, desc, per_epoch=True)
    for _ in bar:
        epoch_losses = []
        for idx in common.minibatches(len(X_train), args.batch_size, rng):
            loss = F.cross_entropy(model(tr.Tensor(X_train[idx])), tr.tensor(y_train[idx]))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            epoch_losses.append(loss.item())
        losses.append(float(np.mean(epoch_losses)))
        bar.set(loss=losses[-1])
    return losses


def accuracy(model, X, y):
    with tr.no_grad():
        return float((model(tr.Tensor(X)).numpy().argmax(axis=1) == y).mean())


def run(args):
    """Train the LSTM and the bag-of-rows baseline, evaluate, plot; returns the metrics."""
    X_train, y_train, X_test, y_test = load_digits_split(seed=args.seed)  # (N, 8, 8): 8 steps of 8 pixels
    start = time.perf_counter()
    tr.manual_seed(args.seed)
    model = RowReader(args.hidden)
    losses = train(model, X_train, y_train, args, "LSTM")
    train_seconds = time.perf_counter() - start
    tr.manual_seed(args.seed)
    bag = BagOfRows(args.hidden)
    train(bag, X_train, y_train, args, "bag of rows")

    by_rows = probe_accuracy_by_rows(model, X_train, y_train, X_test, y_test)
    metrics = {
        "train_accuracy": accuracy(model, X_train, y_train),
        "test_accuracy": accuracy(model, X_test, y_test),
        "test_accuracy_bag_of_rows": accuracy(bag, X_test, y_test),
        "probe_accuracy_by_rows": " ".join(f"{a:.2f}" for a in by_rows),
        "final_loss": losses[-1],
        "train_seconds": train_seconds,
    }
    claims = [
        common.claim("LSTM reading rows in order vs the order-free bag of rows (test accuracy)",
                     metrics["test_accuracy"], metrics["test_accuracy_bag_of_rows"], need=0.02),
        common.claim("LSTM test accuracy (vs the 0.95 claimed)", metrics["test_accuracy"], 0.95, need=0.0),
        common.claim("a probe on h_t knows more after 8 rows than after 4", by_rows[-1], by_rows[3], need=0.1),
    ]
    if not args.no_plot:
        plt = common.pyplot()
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
        ax[0].plot(np.arange(1, args.epochs + 1), losses)
        ax[0].set(xlabel="epoch", ylabel="training cross-entropy", title="LSTM reading digits row by row")
        ax[1].plot(np.arange(1, len(by_rows) + 1), by_rows, marker="o")
        ax[1].set(xlabel="rows read (t)", ylabel="test accuracy of a linear probe on h_t", ylim=(0, 1),
                  title="what the hidden state knows after t rows")
        metrics["plot"] = common.save_figure(fig, args.out, "many_to_one_digits.png")
    return common.report(metrics, claims, args)


if __name__ == "__main__":
    main()
