"""Word-level language model with truncated BPTT, after PyTorch's examples/word_language_model.
Run by test_programs.py with `torch`, `nn`, `F` bound to PyTorch or to tinygrad_rnn: this file imports neither."""
# ruff: noqa: F821  (torch, nn and F are given by the runner, as `import torch` would)

import math

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Dictionary:
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


def make_corpus(n_sentences=60):
    """A tiny grammar walked by a fixed linear congruential generator: deterministic, nothing downloaded."""
    subjects, verbs = ["the cat", "a dog", "the bird", "my fish"], ["sat on", "ran to", "looked at", "slept by"]
    objects = ["the mat", "a log", "the tree", "my bed"]
    dictionary, ids, seed = Dictionary(), [], 7
    for _ in range(n_sentences):
        seed = (seed * 1103515245 + 12345) % 2**31
        s = subjects[seed % 4] + " " + verbs[(seed // 4) % 4] + " " + objects[(seed // 16) % 4] + " <eos>"
        ids += [dictionary.add_word(w) for w in s.split()]
    return dictionary, torch.tensor(ids, dtype=torch.long)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    return data.to(device)


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

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
            return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


corpus, train_ids = make_corpus()


def build(rnn_type="LSTM", dropout=0.0, tied=True):
    return RNNModel(rnn_type, len(corpus), 16, 16, 2, dropout, tie_weights=tied).to(device)


def evaluate(model, data_source, bptt=6, eval_batch_size=4):
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(eval_batch_size)
    criterion = nn.NLLLoss()
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def train(model, steps, lr=20.0, bptt=6, batch_size=4, clip=1.0):
    """Plain SGD through .data, as the example does; the learning rate is quartered when validation stops improving."""
    criterion = nn.NLLLoss()
    train_data = batchify(train_ids, batch_size)
    losses, best_val_loss, step = [], None, 0
    while step < steps:  # epochs
        model.train()
        hidden = model.init_hidden(batch_size)
        for i in range(0, train_data.size(0) - 1, bptt):
            if step == steps:
                break
            data, targets = get_batch(train_data, i, bptt)
            # Starting each batch, we detach the hidden state from how it was previously produced.
            hidden = repackage_hidden(hidden)
            model.zero_grad()
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            # `clip_grad_norm` helps prevent the exploding gradient problem in RNNs / LSTMs.
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            losses.append(loss.item())
            step += 1
        val_loss = evaluate(model, train_data)
        if best_val_loss is None or val_loss < best_val_loss:
            best_val_loss = val_loss
        else:
            lr /= 4.0
    assert math.isfinite(losses[-1])
    return losses


def report(model):
    return [evaluate(model, batchify(train_ids, 4))]
