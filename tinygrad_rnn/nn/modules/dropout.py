"""torch.nn.modules.dropout: Dropout (re-exported from layers). Imports: nn."""

from ..layers import Dropout

__all__ = ["Dropout"]
