"""torch.nn.modules.rnn: the recurrent layers and cells (re-exported from nn.rnn and nn.rnn_cells). Imports: nn."""

from ..rnn import GRU, LSTM, RNN, RNNBase
from ..rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase

__all__ = ["GRU", "LSTM", "RNN", "RNNBase", "GRUCell", "LSTMCell", "RNNCell", "RNNCellBase"]
