"""Sequence-to-sequence with attention, after the classic PyTorch seq2seq tutorials: a GRU encoder, a decoder that
attends over the encoder outputs (bmm, softmax over dim=1), teacher forcing, outputs[t] written into a preallocated
tensor, Adam with a StepLR schedule and gradient clipping, and a checkpoint to resume from. The task: reverse a
sequence of digits. Run by test_programs.py with `torch`, `nn`, `F` bound to PyTorch or to tinygrad_rnn."""
# ruff: noqa: F821  (torch, nn and F are given by the runner, as `import torch` would)

import random

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
PAD_IDX, SOS_IDX, EOS_IDX = 0, 1, 2
VOCAB = 10  # PAD, SOS, EOS and the digits 3..9
SEED = 1234


def make_batches(n_batches=4, batch_size=8):
    """(src, trg) pairs of (len, batch) LongTensors: trg is SOS + reversed src + EOS, both padded with PAD."""
    batches, seed = [], 11
    for _ in range(n_batches):
        srcs, trgs = [], []
        for _ in range(batch_size):
            seed = (seed * 1103515245 + 12345) % 2**31
            n = 3 + (seed >> 8) % 3
            digits = [3 + (seed >> (3 * k + 11)) % 7 for k in range(n)]
            srcs.append(digits + [EOS_IDX])
            trgs.append([SOS_IDX] + digits[::-1] + [EOS_IDX])
        width_s, width_t = max(map(len, srcs)), max(map(len, trgs))
        src = torch.tensor([s + [PAD_IDX] * (width_s - len(s)) for s in srcs], dtype=torch.long).t()
        trg = torch.tensor([t + [PAD_IDX] * (width_t - len(t)) for t in trgs], dtype=torch.long).t()
        batches.append((src.to(device), trg.to(device)))
    return batches


class Encoder(nn.Module):
    def __init__(self, input_dim, emb_dim, hid_dim):
        super().__init__()
        self.embedding = nn.Embedding(input_dim, emb_dim)
        self.rnn = nn.GRU(emb_dim, hid_dim)

    def forward(self, src):
        embedded = self.embedding(src)  # [src len, batch size, emb dim]
        outputs, hidden = self.rnn(embedded)  # outputs [src len, batch, hid]; hidden [1, batch, hid]
        return outputs, hidden.squeeze(0)


class Attention(nn.Module):
    def __init__(self, hid_dim):
        super().__init__()
        self.attn = nn.Linear(hid_dim * 2, hid_dim)
        self.v = nn.Linear(hid_dim, 1, bias=False)

    def forward(self, hidden, encoder_outputs):
        src_len = encoder_outputs.shape[0]
        hidden = hidden.unsqueeze(1).repeat(1, src_len, 1)  # [batch size, src len, hid dim]
        encoder_outputs = encoder_outputs.permute(1, 0, 2)
        energy = torch.tanh(self.attn(torch.cat((hidden, encoder_outputs), dim=2)))
        attention = self.v(energy).squeeze(2)  # [batch size, src len]
        return F.softmax(attention, dim=1)


class Decoder(nn.Module):
    def __init__(self, output_dim, emb_dim, hid_dim, attention):
        super().__init__()
        self.output_dim = output_dim
        self.attention = attention
        self.embedding = nn.Embedding(output_dim, emb_dim)
        self.rnn = nn.GRU(hid_dim + emb_dim, hid_dim)
        self.fc_out = nn.Linear(hid_dim * 2 + emb_dim, output_dim)

    def forward(self, input, hidden, encoder_outputs):
        embedded = self.embedding(input.unsqueeze(0))  # [1, batch size, emb dim]
        a = self.attention(hidden, encoder_outputs).unsqueeze(1)  # [batch size, 1, src len]
        weighted = torch.bmm(a, encoder_outputs.permute(1, 0, 2))  # [batch size, 1, hid dim]
        weighted = weighted.permute(1, 0, 2)
        output, hidden = self.rnn(torch.cat((embedded, weighted), dim=2), hidden.unsqueeze(0))
        prediction = self.fc_out(torch.cat((output.squeeze(0), weighted.squeeze(0), embedded.squeeze(0)), dim=1))
        return prediction, hidden.squeeze(0)


class Seq2Seq(nn.Module):
    def __init__(self, encoder, decoder, device):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.device = device

    def forward(self, src, trg, teacher_forcing_ratio=0.5):
        trg_len, batch_size = trg.shape
        # tensor to store decoder outputs
        outputs = torch.zeros(trg_len, batch_size, self.decoder.output_dim).to(self.device)
        encoder_outputs, hidden = self.encoder(src)
        input = trg[0, :]  # first input to the decoder is the <sos> tokens
        for t in range(1, trg_len):
            output, hidden = self.decoder(input, hidden, encoder_outputs)
            outputs[t] = output
            teacher_force = random.random() < teacher_forcing_ratio
            top1 = output.argmax(1)
            input = trg[t] if teacher_force else top1
        return outputs


def init_weights(m):
    for name, param in m.named_parameters():
        if "weight" in name:
            nn.init.normal_(param.data, mean=0, std=0.1)
        else:
            nn.init.constant_(param.data, 0)


def build(emb_dim=8, hid_dim=24):
    model = Seq2Seq(Encoder(VOCAB, emb_dim, hid_dim), Decoder(VOCAB, emb_dim, hid_dim, Attention(hid_dim)), device)
    model.apply(init_weights)
    return model.to(device)


def accuracy(model):
    """Token accuracy of greedy decoding (no teacher forcing) on the training batches, padding excluded."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for src, trg in make_batches():
            output = model(src, trg, 0)  # turn off teacher forcing
            _, predicted = torch.max(output[1:], 2)
            mask = trg[1:] != PAD_IDX
            correct += ((predicted == trg[1:]) & mask).sum().item()
            total += mask.sum().item()
    return correct / total


def train(model, epochs, lr=0.01, clip=1.0, checkpoint=None, resume=None):
    """Returns the loss of every batch; saves a checkpoint after the last epoch, or resumes from one first."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    criterion = nn.CrossEntropyLoss(ignore_index=PAD_IDX)
    start_epoch = 0
    if resume is not None:
        state = torch.load(resume)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch = state["epoch"] + 1
    batches, losses = make_batches(), []
    for epoch in range(start_epoch, start_epoch + epochs):
        random.seed(SEED + epoch)  # teacher forcing draws, reproducible per epoch so a resumed run repeats them
        model.train()
        for src, trg in batches:
            optimizer.zero_grad()
            output = model(src, trg)
            output_dim = output.shape[-1]
            output = output[1:].view(-1, output_dim)  # the first step is never predicted
            loss = criterion(output, trg[1:].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    if checkpoint is not None:
        torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict()}, checkpoint)
    return losses


def report(model):
    return [accuracy(model)]
