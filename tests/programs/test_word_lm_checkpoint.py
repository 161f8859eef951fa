# The word-language-model checkpoint pattern of PyTorch's examples, written once in PyTorch style and run twice:
# with real torch, and with tinygrad_rnn bound to the name `torch`. Train a tiny tied LSTM LM with truncated BPTT,
# torch.save(model, f) on every validation improvement, reload under torch.serialization.safe_globals([...]),
# model.rnn.flatten_parameters(), evaluate. The torch run is skipped when torch is missing.
import math
import sys
import types

import numpy as np
import pytest

import tinygrad_rnn

PROGRAM = '''
import math
nn = torch.nn
F = torch.nn.functional


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super(RNNModel, self).__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        else:
            return weight.new_zeros(self.nlayers, bsz, self.nhid)


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def batchify(data, bsz, device):
    # Work out how cleanly we can divide the dataset into bsz parts.
    nbatch = data.size(0) // bsz
    # Trim off any extra elements that wouldn't cleanly fit (remainders).
    data = data.narrow(0, 0, nbatch * bsz)
    # Evenly divide the data across the bsz batches.
    data = data.view(bsz, -1).t().contiguous()
    return data.to(device)


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def evaluate(model, data_source, criterion, bptt, eval_batch_size):
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def train(model, train_data, criterion, lr, clip, bptt, batch_size):
    model.train()
    hidden = model.init_hidden(batch_size)
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i, bptt)
        hidden = repackage_hidden(hidden)
        model.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        # `clip_grad_norm` helps prevent the exploding gradient problem in RNNs / LSTMs.
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)


def main(ids, save, epochs=4, lr=20.0, clip=0.25, bptt=10, batch_size=8, eval_batch_size=4):
    torch.manual_seed(1111)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    ntokens = int(max(ids)) + 1
    n = len(ids)
    train_data = batchify(torch.tensor(ids[: n * 8 // 10], dtype=torch.long), batch_size, device)
    val_data = batchify(torch.tensor(ids[n * 8 // 10: n * 9 // 10], dtype=torch.long), eval_batch_size, device)
    test_data = batchify(torch.tensor(ids[n * 9 // 10:], dtype=torch.long), eval_batch_size, device)
    model = RNNModel("LSTM", ntokens, 16, 16, 2, dropout=0.2, tie_weights=True).to(device)
    criterion = nn.NLLLoss()
    first_val = evaluate(model, val_data, criterion, bptt, eval_batch_size)
    best_val_loss = None
    saves = 0
    for epoch in range(1, epochs + 1):
        train(model, train_data, criterion, lr, clip, bptt, batch_size)
        val_loss = evaluate(model, val_data, criterion, bptt, eval_batch_size)
        # Save the model if the validation loss is the best we've seen so far.
        if not best_val_loss or val_loss < best_val_loss:
            with open(save, "wb") as f:
                torch.save(model, f)
            best_val_loss = val_loss
            saves += 1
        else:
            # Anneal the learning rate if no improvement has been seen in the validation dataset.
            lr /= 4.0

    # Load the best saved model.
    with open(save, "rb") as f:
        safe_globals = [RNNModel, torch.nn.modules.rnn.LSTM, torch.nn.modules.linear.Linear,
                        torch.nn.modules.dropout.Dropout, torch.nn.modules.sparse.Embedding]
        with torch.serialization.safe_globals(safe_globals):
            model = torch.load(f)
        # after load the rnn params are not a continuous chunk of memory
        # this makes them a continuous chunk, and will speed up forward pass
        model.rnn.flatten_parameters()
    reloaded_val = evaluate(model, val_data, criterion, bptt, eval_batch_size)
    test_loss = evaluate(model, test_data, criterion, bptt, eval_batch_size)
    tied = model.decoder.weight is model.encoder.weight
    return {"first_val": first_val, "best_val": best_val_loss, "reloaded_val": reloaded_val, "test": test_loss,
            "saves": saves, "tied": tied, "ntokens": ntokens, "model": model}
'''


def corpus(n_sentences=700, seed=0):
    """Token ids of a small, learnable synthetic corpus (subject verb object sentences with agreement), the same for
    both frameworks."""
    rng = np.random.default_rng(seed)
    words = ["<eos>", "the", "a", "cat", "cats", "dog", "dogs", "sees", "see", "chases", "chase", "mat", "ball",
             "on", "under", "big", "small"]
    index = {w: i for i, w in enumerate(words)}
    ids = []
    for _ in range(n_sentences):
        plural = rng.random() < 0.5
        noun = rng.choice(["cats", "dogs"] if plural else ["cat", "dog"])
        verb = rng.choice(["see", "chase"] if plural else ["sees", "chases"])
        sent = ["the", rng.choice(["big", "small"]), noun, verb, rng.choice(["the", "a"]), rng.choice(["mat", "ball"])]
        if rng.random() < 0.3:
            sent += [rng.choice(["on", "under"]), "the", rng.choice(["mat", "ball"])]
        ids += [index[w] for w in sent] + [0]
    return ids


def run_program(lib, tmp_path, monkeypatch):
    """exec PROGRAM as its own module with `torch` bound to lib (registered in sys.modules, so torch's pickle can
    find RNNModel by name) and run main()."""
    name = f"word_lm_checkpoint_{lib.__name__}"
    module = types.ModuleType(name)
    module.torch = lib
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(PROGRAM, f"<{name}>", "exec"), module.__dict__)
    return module.main(corpus(), str(tmp_path / "model.pt")), module


def check(result):
    assert result["first_val"] > 0.9 * math.log(result["ntokens"])
    assert result["best_val"] < 0.7 * result["first_val"]  # it learned
    assert result["saves"] >= 2  # saved on more than one improvement, overwriting the file
    assert result["reloaded_val"] == pytest.approx(result["best_val"], rel=1e-6)  # the best model came back
    assert math.isfinite(result["test"]) and result["test"] < 0.8 * result["first_val"]
    assert result["tied"]


def test_word_lm_checkpoint_tinygrad_rnn(tmp_path, monkeypatch):
    result, module = run_program(tinygrad_rnn, tmp_path, monkeypatch)
    check(result)
    assert type(result["model"]) is module.RNNModel
    # the class had to be allowed: the same load without safe_globals is refused
    with pytest.raises(tinygrad_rnn.serialization.UnsafeGlobalError, match="RNNModel"):
        tinygrad_rnn.load(tmp_path / "model.pt")


def test_word_lm_checkpoint_torch(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    result, _ = run_program(torch, tmp_path, monkeypatch)
    check(result)
