"""Conditional character-level name generator, after PyTorch's char_rnn_generation tutorial: category + previous
letter -> next letter, trained with teacher forcing (the true previous letter is fed in), sampled greedily with topk.
Run by test_programs.py with `torch`, `nn`, `F` bound to PyTorch or to tinygrad_rnn: this file imports neither."""
# ruff: noqa: F821  (torch, nn and F are given by the runner, as `import torch` would)

import string

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
all_letters = string.ascii_letters + " .,;'-"
n_letters = len(all_letters) + 1  # Plus EOS marker
category_lines = {"Italic": ["Rossi", "Ricci", "Conti", "Bruno", "Greco"],
                  "Nordic": ["Berg", "Dahl", "Lund", "Holm", "Strand"],
                  "Slavic": ["Ivanov", "Petrov", "Sokolov", "Popov", "Orlov"]}
all_categories = list(category_lines)
n_categories = len(all_categories)
max_length = 10


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size, dropout=0.1):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
        self.o2o = nn.Linear(hidden_size + output_size, output_size)
        self.dropout = nn.Dropout(dropout)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, category, input, hidden):
        input_combined = torch.cat((category, input, hidden), 1)
        hidden = self.i2h(input_combined)
        output = self.i2o(input_combined)
        output_combined = torch.cat((hidden, output), 1)
        output = self.o2o(output_combined)
        output = self.dropout(output)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size, device=device)


def categoryTensor(category):
    """One-hot vector for category."""
    li = all_categories.index(category)
    tensor = torch.zeros(1, n_categories, device=device)
    tensor[0][li] = 1
    return tensor


def inputTensor(line):
    """One-hot matrix of first to last letters (not including EOS) for input."""
    tensor = torch.zeros(len(line), 1, n_letters, device=device)
    for li in range(len(line)):
        letter = line[li]
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor


def targetTensor(line):
    """LongTensor of second letter to end (EOS) for target."""
    letter_indexes = [all_letters.find(line[li]) for li in range(1, len(line))]
    letter_indexes.append(n_letters - 1)  # EOS
    return torch.LongTensor(letter_indexes).to(device)


def build(n_hidden=48, dropout=0.1):
    return RNN(n_letters, n_hidden, n_letters, dropout).to(device)


def sample(rnn, category, start_letter="A"):
    """Greedy sampling: the most likely next letter (topk(1)) is fed back until EOS."""
    with torch.no_grad():  # no need to track history in sampling
        category_tensor = categoryTensor(category)
        input = inputTensor(start_letter)
        hidden = rnn.initHidden()
        output_name = start_letter
        for _ in range(max_length):
            output, hidden = rnn(category_tensor, input[0], hidden)
            topv, topi = output.topk(1)
            topi = topi[0][0]
            if topi == n_letters - 1:
                break
            else:
                letter = all_letters[topi]
                output_name += letter
            input = inputTensor(letter)
        return output_name


def train(rnn, steps, learning_rate=0.01):
    criterion = nn.NLLLoss()
    pairs = [(c, line) for i in range(5) for c in all_categories for line in category_lines[c][i:i + 1]]
    rnn.train()
    losses = []
    for step in range(steps):
        category, line = pairs[step % len(pairs)]
        category_tensor, input_line_tensor = categoryTensor(category), inputTensor(line)
        target_line_tensor = targetTensor(line)
        target_line_tensor.unsqueeze_(-1)
        hidden = rnn.initHidden()
        rnn.zero_grad()
        loss = torch.Tensor([0])  # you can also just simply use ``loss = 0``
        for i in range(input_line_tensor.size(0)):
            output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
            l = criterion(output, target_line_tensor[i])  # noqa: E741  (the tutorial's name)
            loss += l
        loss.backward()
        for p in rnn.parameters():
            p.data.add_(p.grad.data, alpha=-learning_rate)
        losses.append(loss.item() / input_line_tensor.size(0))
    return losses


def report(rnn):
    """What the test compares across frameworks after training: a greedy sample from each category."""
    rnn.eval()
    return [sample(rnn, category, lines[0][0]) for category, lines in category_lines.items()]
