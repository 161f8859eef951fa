"""The main demo: train a character-level LSTM on Python source, sample from it, and draw its unrolled graph.

The idea, end to end in under a minute: a language model reads Python's own standard library one character
at a time and learns to predict the next character (examples/char_lm.py is the full version: truncated
backpropagation through time with the state carried between chunks, gradient clipping, bits per character).
After training it writes new "Python" at a temperature, and then we look inside: one short chunk of text
is unrolled, a backward pass runs inside `tr.record_grad_norms()`, and `visualize.render` draws the graph,
one column per character, each weight matrix once (with an edge to every step that uses it), and every edge
coloured and sized by the norm of the gradient that flowed along it. The state carried in from the
previous chunk is detached, so the picture shows where truncated BPTT cuts the graph.

The numbers: validation bits per character against two guesses that ignore context, a uniform one
(log2(vocabulary), about 6.6) and the characters' frequencies in the training text (the unigram entropy):
claimed at least 1 bit per character below the second, which only reading the context can buy. And the
path of the SVG (demo_lstm.svg under --out, with or without --no-plot). Measured figures: the README's results
table (examples/run_all.py).

    python examples/demo.py             # under a minute on 2 CPU cores
    python examples/demo.py --quick     # seconds
"""

import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from char_lm import CharLM, detach, evaluate_bpc, load_data, sample, train_lm  # noqa: E402

import tinygrad_rnn as tr  # noqa: E402
import tinygrad_rnn.nn.functional as F  # noqa: E402


def draw_unrolled(model, ids, path, steps=12):
    """Unroll `steps` characters after a warm-up chunk, backprop their loss with gradient norms recorded, and
    render the graph to `path` (SVG). The warm-up state enters detached: truncated BPTT's cut."""
    import visualize  # the optional [viz] extra: imported only when drawing

    warm = tr.tensor(ids[:steps].reshape(-1, 1))
    with tr.no_grad():
        _, state = model(warm)
    x = tr.tensor(ids[steps:2 * steps].reshape(-1, 1))
    y = tr.tensor(ids[steps + 1:2 * steps + 1])
    logits, _ = model(x, detach(state))
    loss = F.cross_entropy(logits.reshape(steps, -1), y)
    model.zero_grad()
    with tr.record_grad_norms():
        loss.backward()
    return visualize.render(loss, path, params=dict(model.named_parameters()))


def main(argv=None):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("--chars", type=int, default=200_000, help="characters of stdlib source (90%% train)")
    p.add_argument("--steps", type=int, default=250, help="optimizer steps")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--unroll", type=int, default=12, help="time steps drawn in the SVG")
    p.add_argument("--temperature", type=float, default=0.8)
    args = p.parse_args(argv)
    if args.quick:
        args.chars, args.steps, args.hidden = 30_000, 20, 32
    with common.single_threaded_blas():
        return run(args)


def run(args):
    start = time.perf_counter()
    tr.manual_seed(args.seed)
    vocab, train_ids, val_ids = load_data(args.chars, args.seed)
    model = CharLM(len(vocab), emb=32, hidden=args.hidden)
    print(f"training {model.__class__.__name__} ({sum(p.numel() for p in model.parameters()):,} weights) on "
          f"{len(train_ids):,} characters of Python's standard library ...")
    train_lm(model, train_ids, args.steps, args, batch_size=32, bptt=64, lr=1e-2, clip=1.0, carry=True)
    metrics = {"uniform_bpc": math.log2(len(vocab)), "unigram_bpc": unigram_bpc(train_ids, val_ids, len(vocab)),
               "val_bpc": evaluate_bpc(model, val_ids)}
    text = sample(model, vocab, length=100 if args.quick else 400, temperature=args.temperature, seed=args.seed)
    print(f"--- sampled at temperature {args.temperature} ---\n{text}\n---")
    os.makedirs(args.out, exist_ok=True)  # the graph is the demo's point: written even with --no-plot
    metrics["svg"] = draw_unrolled(model, val_ids, os.path.join(args.out, "demo_lstm.svg"), args.unroll)
    print(f"wrote the unrolled graph with gradient flow to {metrics['svg']}")
    metrics["seconds"] = time.perf_counter() - start
    claims = [common.claim("LSTM vs character frequencies alone (val bpc, lower is better)", metrics["val_bpc"],
                           metrics["unigram_bpc"], need=1.0, higher=False)]
    return common.report(metrics, claims, args)


def unigram_bpc(train_ids, val_ids, vocab_size):
    """Bits per character of `val_ids` under the training text's character frequencies (add-one smoothed): the
    best any model can do that ignores context."""
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0
    return float(-np.log2(counts[val_ids[1:]] / counts.sum()).mean())


if __name__ == "__main__":
    main()
