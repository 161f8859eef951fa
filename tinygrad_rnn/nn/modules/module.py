"""torch.nn.modules.module: Module (re-exported from module). Imports: nn."""

from ..module import Module

__all__ = ["Module"]
