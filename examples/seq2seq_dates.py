"""Many-to-many with a context vector (the machine-translation shape): human dates -> ISO YYYY-MM-DD.

The idea: an encoder LSTM reads a whole input sequence ("Sunday, March 3, 2019", "03/03/19", "the 3rd of
March 2019", ...) and a separate decoder LSTM writes a different sequence ("2019-03-03") one character at a
time, each step fed the character written before it. Input and output lengths differ; the only bridge
between them is what the encoder hands over. Two choices decide how well that works:

  * what the decoder is fed while training: the true previous character (teacher forcing) or its own
    previous guess (free running). At test time it always runs on its own guesses.
  * what it sees of the input: one fixed context vector (the encoder's final states, given at every step),
    or attention: at every output step a softmax over all encoder states, built here from plain tensor ops
    (a matmul for the scores, softmax, a matmul for the weighted sum), so it sits in the autograd graph.

The numbers that prove it: exact-match accuracy (every one of the 10 characters right) on 1,000 held-out
dates, decoded greedily from the model's own predictions, for three runs with the same steps, batch size and
seed: attention + teacher forcing, attention + free running, and the bare context vector + teacher forcing.
Measured with the defaults: attention 0.975 (teacher forcing) and 0.991 (free running) against 0.739 for the
context vector: one vector squeezes the whole input, attention looks the day, month and year up where they
are. (Free running is known to train slower on hard tasks; on this short, easy output it does no worse.)
A heatmap of the attention weights for one test date shows which input characters each output digit read.

    python examples/seq2seq_dates.py            # ~90 s of CPU on 2 cores (longer when the cores are shared)
    python examples/seq2seq_dates.py --quick    # seconds
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from datasets import ALLOWED_CHARS, CharVocab, make_dates  # noqa: E402

import tinygrad_rnn as tr  # noqa: E402
import tinygrad_rnn.nn.functional as F  # noqa: E402
from tinygrad_rnn import nn, optim  # noqa: E402

TGT_LEN = 10  # "YYYY-MM-DD": every target has exactly ten characters, so no <eos> is needed


class Seq2Seq(nn.Module):
    """Bidirectional LSTM encoder + LSTMCell decoder, with or without attention.

    Source ids (S, N) time-major, padded with 0 -> logits (N, 10, V_tgt). At decoder step t:
        x_t = [embed(y_{t-1}); ctx_{t-1}]          (y_{-1} = <sos>, ctx_{-1} = the context vector)
        h_t, c_t = LSTMCell(x_t, (h_{t-1}, c_{t-1}))
        attention: a_t = softmax_s(enc_s . W_a h_t) over real (unpadded) source steps, ctx_t = sum_s a_t[s] enc_s
        no attention: ctx_t = the context vector (encoder final states) at every step
        logits_t = W_o [h_t; ctx_t]
    """

    def __init__(self, src_vocab, tgt_vocab, emb=32, hidden=64, attention=True):
        super().__init__()
        self.attention = attention
        self.src_embed = nn.Embedding(src_vocab, emb, padding_idx=CharVocab.PAD)
        self.encoder = nn.LSTM(emb, hidden, bidirectional=True)
        enc = 2 * hidden
        self.bridge = nn.Linear(enc, hidden)
        self.tgt_embed = nn.Embedding(tgt_vocab, emb)
        self.decoder = nn.LSTMCell(emb + enc, hidden)
        self.attn_keys = nn.Linear(enc, hidden, bias=False)
        self.out = nn.Linear(hidden + enc, tgt_vocab)

    def encode(self, src, lengths):
        """src (S, N), lengths (N,) -> encoder states (N, S, 2H), context vector (N, 2H), pad mask (N, S)."""
        S, N = src.shape
        # lengths=: padded steps leave the state alone and the reverse direction starts at each true end, so
        # h_n holds both directions' states after reading exactly the real characters: the context vector.
        enc, (h_n, _) = self.encoder(self.src_embed(tr.Tensor(src)), lengths=lengths)  # enc (S, N, 2H)
        context = tr.cat([h_n[0], h_n[1]], axis=-1)
        pad = np.arange(S)[None, :] >= lengths[:, None]
        mask = tr.Tensor(np.where(pad, -1e9, 0.0), dtype=enc.dtype)
        return enc.transpose(0, 1), context, mask

    def step(self, y_prev, state, ctx, enc, keys, mask):
        """One decoder step: y_prev (N,) ids -> logits (N, V), new state, new ctx, attention weights or None."""
        x = tr.cat([self.tgt_embed(tr.Tensor(y_prev)), ctx], axis=-1)
        h, c = self.decoder(x, state)
        weights = None
        if self.attention:
            scores = (keys @ h.unsqueeze(-1)).squeeze(-1) + mask  # (N, S)
            weights = scores.softmax(-1)
            ctx = (weights.unsqueeze(1) @ enc).squeeze(1)  # (N, 2H)
        logits = self.out(tr.cat([h, ctx], axis=-1))
        return logits, (h, c), ctx, weights

    def forward(self, src, lengths, target=None, feed="teacher"):
        """Decode 10 steps. feed="teacher" feeds target[:, t-1] (target (N, 10) required), "prediction" feeds
        the argmax of the previous step's logits. Returns logits (N, 10, V) and attention weights (N, 10, S)."""
        enc, context, mask = self.encode(src, lengths)
        N = enc.shape[0]
        keys = self.attn_keys(enc) if self.attention else None
        state = (self.bridge(context).tanh(), tr.zeros(N, self.bridge.out_features, dtype=context.dtype))
        ctx, y_prev = context, np.full(N, CharVocab.SOS, dtype=np.int64)
        all_logits, all_weights = [], []
        for t in range(TGT_LEN):
            with tr.tag(source=feed if t else "sos", step=t):  # which input the decoder read, for visualize/
                logits, state, ctx, weights = self.step(y_prev, state, ctx, enc, keys, mask)
            all_logits.append(logits)
            all_weights.append(weights)
            # The next input: the true character, or the model's own guess (a constant: no gradient through it).
            y_prev = target[:, t] if feed == "teacher" else logits.numpy().argmax(-1)
        weights = np.stack([w.numpy() for w in all_weights], 1) if self.attention else None
        return tr.stack(all_logits, axis=1), weights


def make_data(n_train, n_test, seed):
    """Train and test (human, iso) pairs; test pairs whose human string occurs in training are dropped."""
    train = make_dates(n_train, seed=seed)
    seen = {h for h, _ in train}
    test = [p for p in make_dates(n_test + n_test // 4, seed=seed + 1_000) if p[0] not in seen][:n_test]
    return train, test


def encode_pairs(pairs, src_vocab, tgt_vocab):
    """-> src (S, N) time-major ids, lengths (N,), target (N, 10) ids."""
    src, lengths = src_vocab.encode_batch([h for h, _ in pairs])
    tgt, _ = tgt_vocab.encode_batch([iso for _, iso in pairs])
    return np.ascontiguousarray(src.T), lengths, tgt


def evaluate(model, pairs, src_vocab, tgt_vocab, batch_size=500):
    """(exact match, character accuracy) of greedy decoding that feeds the model its own predictions."""
    model.eval()
    right = []
    with tr.no_grad():
        for i in range(0, len(pairs), batch_size):
            src, lengths, tgt = encode_pairs(pairs[i:i + batch_size], src_vocab, tgt_vocab)
            logits, _ = model(src, lengths, feed="prediction")
            right.append(logits.numpy().argmax(-1) == tgt)
    model.train()
    right = np.concatenate(right)
    return float(right.all(axis=1).mean()), float(right.mean())


def train(args, train_pairs, test_pairs, src_vocab, tgt_vocab, attention, feed, desc):
    """One run: a fresh seeded model trained for args.steps batches. Returns (model, losses, (exact, per char))."""
    tr.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), args.emb, args.hidden, attention=attention)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    losses = []
    for _ in common.progress(range(args.steps), desc=desc, disable=args.no_progress):
        idx = rng.integers(0, len(train_pairs), size=args.batch_size)
        src, lengths, tgt = encode_pairs([train_pairs[i] for i in idx], src_vocab, tgt_vocab)
        logits, _ = model(src, lengths, target=tgt, feed=feed)
        loss = F.cross_entropy(logits.reshape(-1, len(tgt_vocab)), tr.Tensor(tgt.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        losses.append(loss.item())
    return model, losses, evaluate(model, test_pairs, src_vocab, tgt_vocab)


def plot(args, example, src_vocab, tgt_vocab, model, curves):
    """Attention heatmap for one test date, and the three training-loss curves."""
    plt = common.pyplot()
    human, iso = example
    src, lengths, _ = encode_pairs([example], src_vocab, tgt_vocab)
    with tr.no_grad():
        model.eval()
        logits, weights = model(src, lengths, feed="prediction")
    guess = tgt_vocab.decode(logits.numpy()[0].argmax(-1))
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw=dict(width_ratios=[3, 2]))
    ax0.imshow(weights[0][:, : len(human)], cmap="viridis", aspect="auto", vmin=0, vmax=1)
    ax0.set_xticks(range(len(human)), list(human))
    ax0.set_yticks(range(TGT_LEN), list(guess.ljust(TGT_LEN)))
    ax0.set_xlabel("input character")
    ax0.set_ylabel("output character (greedy)")
    ax0.set_title(f"attention weights: {human!r} -> {guess!r} (true {iso})")
    k = max(1, len(next(iter(curves.values()))) // 50)
    for name, losses in curves.items():
        smooth = np.convolve(losses, np.ones(k) / k, mode="valid")
        ax1.plot(np.arange(len(smooth)) + k, smooth, label=name)
    ax1.set_yscale("log")
    ax1.set_xlabel("training step")
    ax1.set_ylabel("cross-entropy per character")
    ax1.set_title("training loss")
    ax1.legend()
    return common.save_figure(fig, args.out, "seq2seq_dates.png")


def main(argv=None):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300, help="training batches per run")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--hidden", type=int, default=64, help="LSTM hidden size (the encoder has two of them)")
    p.add_argument("--emb", type=int, default=32, help="character embedding size")
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--clip", type=float, default=1.0, help="gradient-norm clipping threshold")
    p.add_argument("--n-train", type=int, default=20_000)
    p.add_argument("--n-test", type=int, default=1_000)
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.batch_size, args.hidden, args.emb, args.lr = 40, 32, 32, 16, 1e-2
        args.n_train, args.n_test = 2_000, 100

    with common.single_threaded_blas():
        return run(args)


def run(args):
    start = time.perf_counter()
    train_pairs, test_pairs = make_data(args.n_train, args.n_test, args.seed)
    src_vocab, tgt_vocab = CharVocab(ALLOWED_CHARS), CharVocab("0123456789-")
    runs = {"attention_teacher": (True, "teacher"), "attention_free_running": (True, "prediction"),
            "context_vector_teacher": (False, "teacher")}
    metrics, curves, models = {}, {}, {}
    for name, (attention, feed) in runs.items():
        models[name], curves[name], (exact, per_char) = train(
            args, train_pairs, test_pairs, src_vocab, tgt_vocab, attention, feed, desc=name)
        metrics[f"exact_match_{name}"], metrics[f"char_accuracy_{name}"] = exact, per_char
    metrics["train_seconds"] = time.perf_counter() - start

    model = models["attention_teacher"]
    model.eval()
    for human, iso in test_pairs[:5]:
        src, lengths, _ = encode_pairs([(human, iso)], src_vocab, tgt_vocab)
        with tr.no_grad():
            guess = tgt_vocab.decode(model(src, lengths, feed="prediction")[0].numpy()[0].argmax(-1))
        print(f"  {human:>30} -> {guess}  {'ok' if guess == iso else 'WRONG (' + iso + ')'}")
    if not args.no_plot:
        print("wrote", plot(args, test_pairs[0], src_vocab, tgt_vocab, model, curves))
    return common.report(metrics)


if __name__ == "__main__":
    main()
