"""Character-level name classifier, after PyTorch's char_rnn_classification tutorial: an RNN cell written with
nn.Linear over one-hot letters, trained with hand-written SGD through .data; topk and torch.max read the guesses.
Run by test_programs.py with `torch`, `nn`, `F` bound to PyTorch or to tinygrad_rnn: this file imports neither."""
# ruff: noqa: F821  (torch, nn and F are given by the runner, as `import torch` would)

import string

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)


def make_names():
    """Made-up names in four 'languages', each built from its own syllables by a fixed generator."""
    syllables = {"Italic": ["ri", "ni", "lo", "ti", "ca"], "Nordic": ["sv", "en", "ss", "ol", "dt"],
                 "Slavic": ["ov", "ko", "sky", "vic", "zh"], "Japonic": ["ka", "mo", "to", "shi", "ya"]}
    names, seed = {}, 3
    for lang, syl in syllables.items():
        names[lang] = []
        for _ in range(12):
            seed = (seed * 69069 + 1) % 2**32
            n = 2 + (seed >> 16) % 3
            name = "".join(syl[(seed >> (3 * k + 4)) % len(syl)] for k in range(n))
            names[lang].append(name.capitalize())
    return names


category_lines = make_names()
all_categories = list(category_lines)
n_categories = len(all_categories)


def letterToIndex(letter):
    return all_letters.find(letter)


def lineToTensor(line):
    """A name as a <line_length x 1 x n_letters> tensor of one-hot letter vectors."""
    tensor = torch.zeros(len(line), 1, n_letters, device=device)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = torch.tanh(self.i2h(combined))
        output = self.i2o(combined)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size, device=device)


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i


def build(n_hidden=32):
    return RNN(n_letters, n_hidden, n_categories).to(device)


def examples():
    """Every (category, name) pair, interleaved across categories: a fixed order instead of random choice."""
    for i in range(max(len(v) for v in category_lines.values())):
        for category in all_categories:
            if i < len(category_lines[category]):
                line = category_lines[category][i]
                category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long, device=device)
                yield category, line, category_tensor, lineToTensor(line)


def evaluate(rnn, line_tensor):
    hidden = rnn.initHidden()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    return output


def accuracy(rnn, confusion=None):
    """Fraction of names whose top guess is right; fills the confusion matrix by item assignment."""
    if confusion is None:
        confusion = torch.zeros(n_categories, n_categories)
    correct = 0
    with torch.no_grad():
        for category, _, _, line_tensor in examples():
            output = evaluate(rnn, line_tensor)
            guess, guess_i = categoryFromOutput(output)
            _, predicted = torch.max(output, 1)
            assert predicted.item() == guess_i
            category_i = all_categories.index(category)
            confusion[category_i][guess_i] += 1
            correct += guess == category
    assert confusion.sum().item() == len(list(examples()))
    return correct / confusion.sum().item()


def train(rnn, steps, learning_rate=0.05):
    criterion = nn.NLLLoss()
    data = list(examples())
    losses = []
    for step in range(steps):
        category, line, category_tensor, line_tensor = data[step % len(data)]
        hidden = rnn.initHidden()
        rnn.zero_grad()
        for i in range(line_tensor.size()[0]):
            output, hidden = rnn(line_tensor[i], hidden)
        loss = criterion(output, category_tensor)
        loss.backward()
        # Add parameters' gradients to their values, multiplied by learning rate
        for p in rnn.parameters():
            p.data.add_(p.grad.data, alpha=-learning_rate)
        losses.append(loss.item())
    return losses


def report(rnn):
    """What the test compares across frameworks after training: accuracy and the confusion matrix."""
    confusion = torch.zeros(n_categories, n_categories)
    return [accuracy(rnn, confusion)] + confusion.view(-1).tolist()
