"""torch.nn.modules.loss: loss modules (re-exported from layers). Imports: nn."""

from ..layers import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "NLLLoss"]
