"""PyTorch's module paths (torch.nn.modules.rnn.LSTM, ...) as thin re-exports: the same class objects as tr.nn.X, so
code that names a class by its full PyTorch path (e.g. a safe_globals list) runs unchanged. Imports: nn."""

from . import activation, container, dropout, flatten, linear, loss, module, normalization, rnn, sparse
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .normalization import LayerNorm
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding

__all__ = ["activation", "container", "dropout", "flatten", "linear", "loss", "module", "normalization", "rnn",
           "sparse", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh", "ModuleDict", "ModuleList", "Sequential",
           "Dropout", "Flatten", "Identity", "Linear", "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "NLLLoss",
           "Module", "LayerNorm", "GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase",
           "Embedding"]
