"""torch.nn.modules.container: Sequential, ModuleList, ModuleDict (re-exported from container). Imports: nn."""

from ..container import ModuleDict, ModuleList, Sequential

__all__ = ["ModuleDict", "ModuleList", "Sequential"]
