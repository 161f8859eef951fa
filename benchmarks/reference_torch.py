# PyTorch twin of benchmarks/reference_numpy.py: nn.Embedding -> nn.LSTM/GRU/RNN -> nn.Linear,
# F.cross_entropy (mean) and torch.optim.Adam (defaults); built from a NumpyCharLM `params` dict.
# torch is imported lazily; torch.set_num_threads is left at torch's default (all cores) on purpose.
import numpy as np


def _torch():
    import torch  # lazy: the NumPy side and its tests must not need torch
    return torch


class TorchCharLM:
    """Same model in PyTorch. `params`: dict with PyTorch names (e.g. NumpyCharLM.params).

    Thread count: whatever torch chooses by default (torch.get_num_threads(), normally the number of
    physical cores); NumPy's OpenBLAS likewise uses its default thread pool. Nothing is pinned here.
    """

    def __init__(self, cell, params, dtype=None, lr=1e-3):
        torch = _torch()
        nn = torch.nn
        if dtype is None:
            dtype = {np.dtype(np.float64): torch.float64}.get(params["fc.weight"].dtype, torch.float32)
        V, D = params["embedding.weight"].shape
        H = params["rnn.weight_hh_l0"].shape[1]
        rnn_cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        rnn_kw = {"nonlinearity": "tanh"} if cell == "rnn" else {}

        class CharLM(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = nn.Embedding(V, D)
                self.rnn = rnn_cls(D, H, num_layers=1, bias=True, batch_first=False, **rnn_kw)
                self.fc = nn.Linear(H, V)

            def forward(self, tokens):  # tokens (T, B) int64 -> logits (T, B, V)
                out, _ = self.rnn(self.embedding(tokens))  # zero initial state
                return self.fc(out)

        self.cell = cell
        self.model = CharLM().to(dtype)
        with torch.no_grad():
            for name, p in self.model.named_parameters():
                p.copy_(torch.from_numpy(np.ascontiguousarray(params[name])).to(dtype))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)

    @staticmethod
    def as_tensor(a):
        """int64 tensor from a numpy array (do this once, outside timed loops)."""
        torch = _torch()
        return a if isinstance(a, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(a)).long()

    def _loss(self, tokens, targets):
        F = _torch().nn.functional
        tokens, targets = self.as_tensor(tokens), self.as_tensor(targets)
        logits = self.model(tokens)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    def loss_and_grads(self, tokens, targets):
        """(loss: float, grads: dict name -> numpy array copy); does not step the optimizer."""
        self.opt.zero_grad(set_to_none=True)
        loss = self._loss(tokens, targets)
        loss.backward()
        return loss.item(), {n: p.grad.detach().numpy().copy() for n, p in self.model.named_parameters()}

    def step(self, tokens, targets):
        """zero_grad, forward, backward, Adam step; returns the loss before the update."""
        self.opt.zero_grad(set_to_none=True)
        loss = self._loss(tokens, targets)
        loss.backward()
        self.opt.step()
        return loss.item()

    def params_numpy(self):
        return {n: p.detach().numpy().copy() for n, p in self.model.named_parameters()}


def build_torch_model(cell, params, dtype=None, lr=1e-3):
    """Convenience constructor: TorchCharLM initialised from a PyTorch-named numpy params dict."""
    return TorchCharLM(cell, params, dtype=dtype, lr=lr)
