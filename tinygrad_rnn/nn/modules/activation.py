"""torch.nn.modules.activation: activation layers (re-exported from layers). Imports: nn."""

from ..layers import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh

__all__ = ["LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh"]
