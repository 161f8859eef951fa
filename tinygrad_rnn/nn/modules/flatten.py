"""torch.nn.modules.flatten: Flatten (re-exported from layers). Imports: nn."""

from ..layers import Flatten

__all__ = ["Flatten"]
