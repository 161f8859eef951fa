"""Neural-network building blocks with PyTorch's names, signatures and defaults."""

from .module import Module
from .parameter import Parameter

__all__ = ["Module", "Parameter"]
