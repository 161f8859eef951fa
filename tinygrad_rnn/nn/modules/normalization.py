"""torch.nn.modules.normalization: LayerNorm (re-exported from layers). Imports: nn."""

from ..layers import LayerNorm

__all__ = ["LayerNorm"]
