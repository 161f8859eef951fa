"""torch.nn.modules.sparse: Embedding (re-exported from layers). Imports: nn."""

from ..layers import Embedding

__all__ = ["Embedding"]
