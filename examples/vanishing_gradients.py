"""Vanishing and exploding gradients: why gated cells (LSTM, GRU) learn long-range tasks and a vanilla RNN doesn't.

The idea: backpropagation through time multiplies the gradient by one Jacobian dh_t/dh_{t-1} per step. For a
vanilla RNN that Jacobian is diag(tanh') @ W_hh, so over T steps the gradient shrinks (or grows) roughly
geometrically, like |W_hh|^T. LSTM and GRU add an additive path (c' = f*c + i*g; h' = (1-z)*n + z*h) whose
per-step factor is a GATE the network can learn to hold near 1. Three experiments, each with its number:

(a) ||dL/dh_t|| over t = 0..T (T=100), for per-step cells in a Python loop (nn.RNNCell, nn.LSTMCell,
    nn.GRUCell with h.retain_grad()), on the same input sequence and the same L = <g, h_T> (a random
    direction g, so dL/dh_T = g). `grad_ratio_*` = ||dL/dh_0|| / ||dL/dh_T||. Honest finding: at PyTorch's
    default init every gate sits near sigmoid(0) = 0.5, so all three vanish over 100 steps. What the gates buy
    is a knob: with the LSTM forget gate / GRU update gate biased open (+2, as "forget-gate bias" init does)
    the ratio rises by many orders of magnitude (claimed: at least 5 for the LSTM); a vanilla RNN has no
    such knob.
(b) Exploding: a vanilla RNN with large recurrent weights (W_hh ~ N(0, scale^2/H), spectral radius ~ scale)
    trained with plain SGD on the adding problem, without and with nn.utils.clip_grad_norm_. Without clipping
    the gradient norm blows up and the loss goes to inf/NaN (`explode_diverged_noclip`); with clipping the
    same run stays finite for every step (`explode_diverged_clip`), though the raw norms it measures before
    clipping stay huge (`explode_max_grad_norm_clip`). The clipped trajectory is chaotic: its exact numbers
    move with the last bits of floating point, the verdicts do not.
(c) The adding problem (examples/datasets.py, T=50): output the sum of the two marked values among T random
    ones. Predicting 1.0 always gives the baseline MSE (about 1/6, `adding_mse_baseline`). Claimed: LSTM and
    GRU get below 0.01 (`adding_mse_lstm`, `adding_mse_gru`); the vanilla RNN stays within 20% of the baseline
    (`adding_mse_rnn`). A heatmap (vanishing_heatmap.png) shows ||dL/dh_t|| over time step x training step for
    the three cells on one colour scale: whether the gradient reaches the early steps, where the marked values
    are, and how training changes that.
The claims and their margins are printed as a table at the end; the measured figures are in the README's
results table (examples/run_all.py).

    python examples/vanishing_gradients.py           # under a minute of CPU (README table: wall and CPU time)
    python examples/vanishing_gradients.py --quick   # seconds (part (c) on shorter sequences)
"""

import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from datasets import adding_problem  # noqa: E402

import tinygrad_rnn as tr  # noqa: E402
import tinygrad_rnn.nn.functional as F  # noqa: E402
from tinygrad_rnn import nn, optim  # noqa: E402

CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


# ------------------------------------------------------------------------------- (a) gradient norms over time
def open_gate(module, suffix, hidden, bias):
    """Add `bias` to the LSTM forget gate / GRU update gate (rows H..2H of bias_ih in both gate orders)."""
    state = module.state_dict()
    state["bias_ih" + suffix][hidden:2 * hidden] += bias
    module.load_state_dict(state)


def grad_norms_over_time(kind, x, g, hidden, seed, gate_bias=0.0):
    """||dL/dh_t|| for t = 0..T of one cell unrolled over x (T, N, I), with L = sum(g * h_T)."""
    tr.manual_seed(seed)  # the same weights draw for every run of a kind
    cell = CELLS[kind](x.shape[2], hidden)
    if gate_bias:
        open_gate(cell, "", hidden, gate_bias)
    return unrolled_grad_norms(kind, cell, x, lambda h_T: (h_T * tr.Tensor(g)).sum())


def unrolled_grad_norms(kind, cell, x, loss_of_last_state):
    """||dL/dh_t|| for t = 0..T of `cell` unrolled over x (T, N, I) in a Python loop, L = loss_of_last_state(h_T)."""
    hidden = cell.hidden_size
    h = tr.zeros(x.shape[1], hidden, requires_grad=True)  # h_0 is a leaf: its .grad is kept
    c = tr.zeros(x.shape[1], hidden)
    states = [h]
    for t in range(x.shape[0]):
        if kind == "lstm":
            h, c = cell(tr.Tensor(x[t]), (h, c))
        else:
            h = cell(tr.Tensor(x[t]), h)
        states.append(h.retain_grad())  # keep dL/dh_t on this intermediate result
    loss_of_last_state(h).backward()
    return np.array([np.linalg.norm(s.grad.numpy().astype(np.float64)) for s in states])  # float64: no underflow


# ---------------------------------------------------------------------------------- (b) exploding gradients
def train_exploding(clip, X, y, args, quick_steps):
    """SGD on a vanilla RNN with large recurrent weights; returns per-step (loss, gradient norm before clipping)."""
    tr.manual_seed(args.seed)
    rnn, head = nn.RNN(2, args.hidden, batch_first=True), nn.Linear(args.hidden, 1)
    state = rnn.state_dict()
    w_rng = np.random.default_rng(args.seed)
    state["weight_hh_l0"] = (w_rng.standard_normal((args.hidden, args.hidden)) * args.explode_scale
                             / math.sqrt(args.hidden)).astype(np.float32)
    rnn.load_state_dict(state)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = optim.SGD(params, lr=args.explode_lr)
    rng = np.random.default_rng(args.seed + 1)
    losses, norms = [], []
    for _ in range(quick_steps):
        idx = rng.integers(0, len(X), args.batch_size)
        _, h_n = rnn(tr.Tensor(X[idx]))
        loss = F.mse_loss(head(h_n[-1]).reshape(-1), tr.Tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        # With max_norm=inf clip_grad_norm_ only measures; either way it returns the norm BEFORE clipping.
        norm = nn.utils.clip_grad_norm_(params, args.max_norm if clip else math.inf).item()
        losses.append(loss.item())
        norms.append(norm)
        if not (math.isfinite(losses[-1]) and math.isfinite(norm)):
            break  # diverged: the weights are now inf/NaN and every later step would be NaN too
        opt.step()
    return np.array(losses), np.array(norms)


# ------------------------------------------------------------------------------------------- (c) adding problem
class Regressor(nn.Module):
    """A recurrent layer over (N, T, 2) -> Linear on the last hidden state -> one number per sequence."""

    def __init__(self, kind, hidden):
        super().__init__()
        self.rnn = LAYERS[kind](2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        output, _ = self.rnn(x)
        return self.head(output[:, -1]).reshape(-1)


def layer_grad_norms(kind, model, x, y):
    """||dL/dh_t|| over t for a Regressor's layer on a batch: its weights copied into a cell of the same kind
    (same names without the _l0 suffix) and unrolled step by step, since the fused layer keeps no per-step h_t."""
    cell = CELLS[kind](2, model.rnn.hidden_size)
    cell.load_state_dict({k.replace("_l0", ""): v for k, v in model.rnn.state_dict().items()})
    xt = np.ascontiguousarray(x.transpose(1, 0, 2))  # time-major (T, N, 2)
    return unrolled_grad_norms(kind, cell, xt, lambda h_T: F.mse_loss(model.head(h_T).reshape(-1), tr.Tensor(y)))


def train_adding(kind, data, args, steps, progress_bar):
    """Adam on the adding problem; returns the test MSE measured every args.eval_every steps (and at the end), and
    ||dL/dh_t|| over t on a fixed training batch at the same steps (and before training) as [(step, norms)]."""
    X_train, y_train, X_test, y_test = data
    tr.manual_seed(args.seed)
    model = Regressor(kind, args.hidden)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed + 2)
    curve, heat = [], [(0, layer_grad_norms(kind, model, X_train[:64], y_train[:64]))]
    bar = progress_bar(range(1, steps + 1), desc=f"adding {kind}", every=args.eval_every)
    for step in bar:
        idx = rng.integers(0, len(X_train), args.batch_size)
        loss = F.mse_loss(model(tr.Tensor(X_train[idx])), tr.Tensor(y_train[idx]))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.max_norm)
        opt.step()
        if step % args.eval_every == 0 or step == steps:
            with tr.no_grad():
                pred = model(tr.Tensor(X_test)).numpy()
            curve.append((step, float(np.mean((pred - y_test) ** 2))))
            heat.append((step, layer_grad_norms(kind, model, X_train[:64], y_train[:64])))
            bar.set(test_mse=curve[-1][1])
    return curve, heat


def main(argv=None):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--grad-T", type=int, default=100, help="sequence length of part (a)")
    p.add_argument("--gate-bias", type=float, default=2.0, help="forget/update gate bias of part (a)'s open gates")
    p.add_argument("--explode-scale", type=float, default=2.5, help="part (b): W_hh ~ N(0, scale^2 / H)")
    p.add_argument("--explode-lr", type=float, default=0.1, help="part (b): SGD learning rate")
    p.add_argument("--explode-steps", type=int, default=150)
    p.add_argument("--max-norm", type=float, default=1.0, help="clip_grad_norm_ threshold, parts (b) and (c)")
    p.add_argument("--adding-T", type=int, default=50, help="sequence length of part (c)")
    p.add_argument("--steps", type=int, default=800, help="part (c): Adam steps per cell")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-2, help="part (c): Adam learning rate")
    p.add_argument("--eval-every", type=int, default=50)
    args = p.parse_args(argv)
    with common.single_threaded_blas():
        return run(args)


def run(args):
    """Run the three experiments, plot, and return the metrics."""
    if args.quick:
        args.explode_steps, args.adding_T, args.steps, args.eval_every = 40, 20, 150, 50
    start = time.perf_counter()
    metrics = {}

    def progress_bar(it, desc, every=None):
        return common.progress(it, args, desc, every=every)

    # (a) the same sequence (adding-problem inputs) and the same direction g for every cell
    x_seq, _ = adding_problem(8, args.grad_T, seed=args.seed)
    x_seq = np.ascontiguousarray(x_seq.transpose(1, 0, 2))  # time-major (T, N, 2)
    g = np.random.default_rng(args.seed).standard_normal((x_seq.shape[1], args.hidden)).astype(np.float32)
    curves = {}
    for kind in ["rnn", "lstm", "gru"]:
        curves[kind] = grad_norms_over_time(kind, x_seq, g, args.hidden, args.seed)
        if kind != "rnn":
            curves[kind + "_gate_bias"] = grad_norms_over_time(kind, x_seq, g, args.hidden, args.seed, args.gate_bias)
    for name, norms in curves.items():
        metrics[f"grad_ratio_{name}"] = float(norms[0] / norms[-1])

    # (b) exploding gradients, without and with clipping
    X_exp, y_exp = adding_problem(2048, 50, seed=args.seed + 10)
    runs = {}
    for label, clip in (("noclip", False), ("clip", True)):
        with np.errstate(over="ignore", invalid="ignore"):  # the overflow to inf/NaN is the point here
            losses, norms = train_exploding(clip, X_exp, y_exp, args, args.explode_steps)
        runs[label] = (losses, norms)
        finite = np.isfinite(losses) & np.isfinite(norms)
        metrics[f"explode_diverged_{label}"] = bool(not finite.all() or losses.max() > 1e6)
        metrics[f"explode_max_grad_norm_{label}"] = float(norms.max())  # inf when it overflowed
        metrics[f"explode_median_grad_norm_{label}"] = float(np.median(norms[finite])) if finite.any() else math.nan
        metrics[f"explode_final_loss_{label}"] = float(losses[-1])
        metrics[f"explode_steps_run_{label}"] = len(losses)
        metrics[f"explode_steps_finite_{label}"] = int(finite.sum()) if finite.all() else int(np.argmin(finite))

    # (c) the adding problem
    data = (*adding_problem(20000, args.adding_T, seed=args.seed + 20), *adding_problem(1000, args.adding_T,
                                                                                          seed=args.seed + 30))
    metrics["adding_mse_baseline"] = float(np.mean((data[3] - 1.0) ** 2))  # always predict 1.0 = E[y]
    adding, heat = {}, {}
    for kind in ("rnn", "lstm", "gru"):
        adding[kind], heat[kind] = train_adding(kind, data, args, args.steps, progress_bar)
        metrics[f"adding_mse_{kind}"] = adding[kind][-1][1]
    metrics["seconds"] = time.perf_counter() - start

    if not args.no_plot:
        plt = common.pyplot()
        fig, ax = plt.subplots(1, 3, figsize=(15, 4))
        colors = {"rnn": "tab:red", "lstm": "tab:blue", "gru": "tab:green"}
        for name, norms in curves.items():
            kind = name.split("_")[0]
            ax[0].semilogy(norms, color=colors[kind], ls="--" if name.endswith("gate_bias") else "-",
                           label=kind.upper() + (f" (gate bias +{args.gate_bias:g})" if "gate" in name else ""))
        ax[0].set(xlabel="time step t", ylabel="||dL/dh_t||", title=f"(a) gradient reaching back, T={args.grad_T}")
        ax[0].legend(fontsize=8)
        for (label, (losses, norms)), color in zip(runs.items(), ("tab:red", "tab:green"), strict=True):
            ax[1].semilogy(np.arange(len(norms)), norms, color=color, label=f"gradient norm, {label}")
            ax[1].semilogy(np.arange(len(losses)), losses, color=color, ls=":", label=f"loss, {label}")
        ax[1].set(xlabel="SGD step", ylabel="gradient norm (before clipping), loss",
                  title=f"(b) RNN, W_hh scale {args.explode_scale:g}: clipping at {args.max_norm:g}")
        ax[1].legend(fontsize=8)
        for kind, curve in adding.items():
            steps, mse = zip(*curve, strict=True)
            ax[2].plot(steps, mse, color=colors[kind], label=kind.upper())
        ax[2].axhline(metrics["adding_mse_baseline"], color="gray", ls="--", label="predict 1.0")
        ax[2].set(xlabel="Adam step", ylabel="test MSE", title=f"(c) adding problem, T={args.adding_T}")
        ax[2].legend(fontsize=8)
        metrics["plot"] = common.save_figure(fig, args.out, "vanishing_gradients.png")
        metrics["heatmap"] = plot_heatmap(heat, args)
    return common.report(metrics, claims(metrics, args), args)


def claims(metrics, args):
    """(a) the gate knob in orders of magnitude, (b) clipping, (c) the adding problem against its baseline."""
    base = metrics["adding_mse_baseline"]
    return [
        common.claim("(a) LSTM ||dL/dh_0||/||dL/dh_T||, forget bias +2 vs 0 (log10)",
                     math.log10(metrics["grad_ratio_lstm_gate_bias"]), math.log10(metrics["grad_ratio_lstm"]),
                     need=5.0, fmt="{:.1f}"),
        common.claim(f"(b) steps before inf/NaN (of {args.explode_steps}): clipped vs unclipped",
                     metrics["explode_steps_finite_clip"], metrics["explode_steps_finite_noclip"],
                     need=1.0, fmt="{:.0f}"),
        common.claim("(c) adding problem: vanilla RNN MSE / baseline (stays near 1)", metrics["adding_mse_rnn"] / base,
                     0.8, need=0.0),
        common.claim("(c) adding problem: LSTM MSE (vs 0.01, lower is better)", metrics["adding_mse_lstm"], 0.01,
                     need=0.0, higher=False, fmt="{:.4f}"),
        common.claim("(c) adding problem: GRU MSE (vs 0.01, lower is better)", metrics["adding_mse_gru"], 0.01,
                     need=0.0, higher=False, fmt="{:.4f}"),
    ]


def plot_heatmap(heat, args):
    """||dL/dh_t|| as a heatmap of time step (rows) x training step (columns) for each cell, on ONE log colour
    scale: a gradient that dies on its way back in time shows as a dark lower band, one that lives as colour
    reaching down to t=0. Returns the PNG's path."""
    from matplotlib.colors import LogNorm

    plt = common.pyplot()
    grids = {k: np.stack([norms for _, norms in v], axis=1) for k, v in heat.items()}  # (T+1, checks)
    vals = np.concatenate([g[g > 0] for g in grids.values()])
    norm = LogNorm(vmin=max(vals.min(), vals.max() * 1e-12), vmax=vals.max())
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharey=True, constrained_layout=True)
    for ax, (kind, grid) in zip(axes, grids.items(), strict=True):
        steps = [s for s, _ in heat[kind]]
        im = ax.imshow(np.maximum(grid, norm.vmin), aspect="auto", origin="lower", cmap="magma", norm=norm,
                       extent=(-0.5, len(steps) - 0.5, -0.5, grid.shape[0] - 0.5), interpolation="nearest")
        tick = list(range(0, len(steps), max(1, len(steps) // 6)))
        ax.set_xticks(tick, [str(steps[i]) for i in tick])
        ax.set(title=f"{kind.upper()}: ‖∂L/∂h_t‖ while learning (T={args.adding_T})", xlabel="training step")
    axes[0].set_ylabel("time step t (loss on the last step)")
    axes[0].yaxis.get_major_locator().set_params(integer=True)
    fig.colorbar(im, ax=axes, label="‖∂L/∂h_t‖ (one log scale for all three)", shrink=0.9)
    return common.save_figure(fig, args.out, "vanishing_heatmap.png")


if __name__ == "__main__":
    main()
