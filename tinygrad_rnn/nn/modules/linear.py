"""torch.nn.modules.linear: Linear, Identity (re-exported from layers). Imports: nn."""

from ..layers import Identity, Linear

__all__ = ["Identity", "Linear"]
