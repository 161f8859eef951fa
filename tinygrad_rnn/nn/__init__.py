"""Neural-network building blocks with PyTorch's names, signatures and defaults."""

from . import functional, init, modules, utils
from .container import ModuleDict, ModuleList, Sequential
from .layers import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    Linear,
    LogSoftmax,
    MSELoss,
    NLLLoss,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .module import Module
from .parameter import Parameter
from .rnn import GRU, LSTM, RNN, Bidirectional
from .rnn_cells import GRUCell, LSTMCell, RNNCell

__all__ = ["Module", "Parameter"]
__all__ += ["functional", "init", "utils", "Sequential", "ModuleList", "ModuleDict", "Linear", "Embedding", "Dropout",
            "LayerNorm", "Tanh", "Sigmoid", "ReLU", "Softmax", "LogSoftmax", "Identity", "Flatten", "CrossEntropyLoss",
            "NLLLoss", "MSELoss", "BCEWithLogitsLoss"]
__all__ += ["modules"]
__all__ += ["RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU", "Bidirectional"]


def __getattr__(name):  # a name we lack: an AttributeError that names the absent PyTorch feature (absent.py)
    from ..absent import missing as _missing

    raise _missing(__name__, name)
