"""nn.utils: helpers around training (gradient clipping here; recurrent-sequence helpers may join as nn/utils/rnn.py).
Imports: nn.utils submodules only."""

from . import rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_", "rnn"]
