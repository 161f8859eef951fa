"""A chatbot model, after PyTorch's chatbot tutorial: a bidirectional GRU encoder over packed padded batches
(pack_padded_sequence with enforce_sorted=False, pad_packed_sequence), a decoder with Luong 'general' attention that
masks padded source positions (masked_fill), and a masked NLL loss (mask from comparisons, gather, .sum()/mask.sum()).
The 'conversation': answer each word with its partner word, in reverse order. Run by test_programs.py with `torch`,
`nn`, `F` bound to PyTorch or to tinygrad_rnn: this file imports neither."""
# ruff: noqa: F821, E741  (torch, nn and F are given by the runner, as `import torch` would; the tutorial names l)

import itertools
import random

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
PAD_token, SOS_token, EOS_token = 0, 1, 2
WORDS = ["hi", "hello", "yes", "no", "up", "down", "left", "right", "cold", "hot", "big", "small"]
PARTNER = {a: b for i in range(0, len(WORDS), 2) for a, b in ((WORDS[i], WORDS[i + 1]), (WORDS[i + 1], WORDS[i]))}
word2index = {w: i + 3 for i, w in enumerate(WORDS)}
voc_size = len(WORDS) + 3


def make_pairs(n=48):
    pairs, seed = [], 5
    for _ in range(n):
        seed = (seed * 69069 + 1) % 2**32
        length = 1 + (seed >> 20) % 5
        query = [WORDS[(seed >> (4 * k + 2)) % len(WORDS)] for k in range(length)]
        pairs.append((" ".join(query), " ".join(PARTNER[w] for w in reversed(query))))
    return pairs


def indexesFromSentence(sentence):
    return [word2index[word] for word in sentence.split(" ")] + [EOS_token]


def zeroPadding(l, fillvalue=PAD_token):
    return list(itertools.zip_longest(*l, fillvalue=fillvalue))


def inputVar(l):
    """Returns padded input sequence tensor and lengths"""
    indexes_batch = [indexesFromSentence(sentence) for sentence in l]
    lengths = torch.tensor([len(indexes) for indexes in indexes_batch])
    padVar = torch.LongTensor(zeroPadding(indexes_batch))
    return padVar, lengths


def outputVar(l):
    """Returns padded target sequence tensor, padding mask, and max target length"""
    indexes_batch = [indexesFromSentence(sentence) for sentence in l]
    max_target_len = max([len(indexes) for indexes in indexes_batch])
    padVar = torch.LongTensor(zeroPadding(indexes_batch))
    mask = padVar != PAD_token
    return padVar, mask, max_target_len


def batch2TrainData(pair_batch):
    """Unsorted batches: pack_padded_sequence(enforce_sorted=False) sorts them itself."""
    input_batch, output_batch = [p[0] for p in pair_batch], [p[1] for p in pair_batch]
    inp, lengths = inputVar(input_batch)
    output, mask, max_target_len = outputVar(output_batch)
    return inp, lengths, output, mask, max_target_len


class EncoderRNN(nn.Module):
    def __init__(self, hidden_size, embedding, n_layers=1, dropout=0):
        super(EncoderRNN, self).__init__()
        self.n_layers = n_layers
        self.hidden_size = hidden_size
        self.embedding = embedding
        self.gru = nn.GRU(hidden_size, hidden_size, n_layers, dropout=(0 if n_layers == 1 else dropout),
                          bidirectional=True)

    def forward(self, input_seq, input_lengths, hidden=None):
        embedded = self.embedding(input_seq)
        packed = nn.utils.rnn.pack_padded_sequence(embedded, input_lengths, enforce_sorted=False)
        outputs, hidden = self.gru(packed, hidden)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs)
        # Sum bidirectional GRU outputs
        outputs = outputs[:, :, :self.hidden_size] + outputs[:, :, self.hidden_size:]
        return outputs, hidden


class Attn(nn.Module):
    """Luong attention layer ('general' score), with padded source positions masked out."""

    def __init__(self, hidden_size):
        super(Attn, self).__init__()
        self.attn = nn.Linear(hidden_size, hidden_size)

    def forward(self, hidden, encoder_outputs, src_mask):
        energy = self.attn(encoder_outputs)
        attn_energies = torch.sum(hidden * energy, dim=2)  # [max_len, batch]
        attn_energies = attn_energies.t()
        attn_energies = attn_energies.masked_fill(src_mask.t() == 0, -1e10)
        return F.softmax(attn_energies, dim=1).unsqueeze(1)


class LuongAttnDecoderRNN(nn.Module):
    def __init__(self, embedding, hidden_size, output_size, n_layers=1, dropout=0.1):
        super(LuongAttnDecoderRNN, self).__init__()
        self.n_layers = n_layers
        self.embedding = embedding
        self.embedding_dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(hidden_size, hidden_size, n_layers, dropout=(0 if n_layers == 1 else dropout))
        self.concat = nn.Linear(hidden_size * 2, hidden_size)
        self.out = nn.Linear(hidden_size, output_size)
        self.attn = Attn(hidden_size)

    def forward(self, input_step, last_hidden, encoder_outputs, src_mask):
        embedded = self.embedding_dropout(self.embedding(input_step))
        rnn_output, hidden = self.gru(embedded, last_hidden)
        attn_weights = self.attn(rnn_output, encoder_outputs, src_mask)
        context = attn_weights.bmm(encoder_outputs.transpose(0, 1))
        rnn_output = rnn_output.squeeze(0)
        context = context.squeeze(1)
        concat_input = torch.cat((rnn_output, context), 1)
        concat_output = torch.tanh(self.concat(concat_input))
        output = self.out(concat_output)
        output = F.softmax(output, dim=1)
        return output, hidden


def maskNLLLoss(inp, target, mask):
    nTotal = mask.sum()
    crossEntropy = -torch.log(torch.gather(inp, 1, target.view(-1, 1)).squeeze(1))
    loss = (crossEntropy * mask.float()).sum() / mask.sum()
    loss = loss.to(device)
    return loss, nTotal.item()


def build(hidden_size=16, dropout=0.1):
    embedding = nn.Embedding(voc_size, hidden_size)
    encoder = EncoderRNN(hidden_size, embedding)
    decoder = LuongAttnDecoderRNN(embedding, hidden_size, voc_size, dropout=dropout)
    return encoder.to(device), decoder.to(device)


def train_batch(input_variable, lengths, target_variable, mask, max_target_len, encoder, decoder,
                encoder_optimizer, decoder_optimizer, batch_size, clip, teacher_forcing_ratio=0.5):
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()
    input_variable = input_variable.to(device)
    target_variable = target_variable.to(device)
    mask = mask.to(device)
    lengths = lengths.to("cpu")  # Lengths for RNN packing should always be on the CPU
    src_mask = input_variable != PAD_token
    loss = 0
    print_losses = []
    n_totals = 0
    encoder_outputs, encoder_hidden = encoder(input_variable, lengths)
    decoder_input = torch.LongTensor([[SOS_token for _ in range(batch_size)]])
    decoder_input = decoder_input.to(device)
    # Initial decoder hidden state: the encoder's final forward-direction state
    decoder_hidden = encoder_hidden[:decoder.n_layers]
    use_teacher_forcing = True if random.random() < teacher_forcing_ratio else False
    for t in range(max_target_len):
        decoder_output, decoder_hidden = decoder(decoder_input, decoder_hidden, encoder_outputs, src_mask)
        if use_teacher_forcing:
            decoder_input = target_variable[t].view(1, -1)  # Teacher forcing: next input is current target
        else:
            _, topi = decoder_output.topk(1)
            decoder_input = torch.LongTensor([[topi[i][0] for i in range(batch_size)]])
            decoder_input = decoder_input.to(device)
        mask_loss, nTotal = maskNLLLoss(decoder_output, target_variable[t], mask[t])
        loss += mask_loss
        print_losses.append(mask_loss.item() * nTotal)
        n_totals += nTotal
    loss.backward()
    _ = nn.utils.clip_grad_norm_(encoder.parameters(), clip)
    _ = nn.utils.clip_grad_norm_(decoder.parameters(), clip)
    encoder_optimizer.step()
    decoder_optimizer.step()
    return sum(print_losses) / n_totals


def train(models, steps, learning_rate=0.005, decoder_learning_ratio=2.0, batch_size=8, clip=50.0):
    encoder, decoder = models
    encoder.train()
    decoder.train()
    encoder_optimizer = torch.optim.Adam(encoder.parameters(), lr=learning_rate)
    decoder_optimizer = torch.optim.Adam(decoder.parameters(), lr=learning_rate * decoder_learning_ratio)
    pairs = make_pairs()
    random.seed(7)  # the teacher-forcing draws: the same sequence in every run
    losses = []
    for iteration in range(steps):
        start = (iteration * batch_size) % len(pairs)
        batch = batch2TrainData(pairs[start:start + batch_size])
        losses.append(train_batch(*batch, encoder, decoder, encoder_optimizer, decoder_optimizer, batch_size, clip))
    return losses
