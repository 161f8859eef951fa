"""optim.lr_scheduler: torch.optim.lr_scheduler's schedulers, matching its learning rates step for step.
base (LRScheduler, state dicts), decay (factor schedules), cycles (warm restarts, cyclic, 1cycle), plateau, compose.
Imports: its own submodules."""

from .base import LRScheduler, _LRScheduler
from .compose import ChainedScheduler, SequentialLR
from .cycles import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from .decay import (
           ConstantLR,
           CosineAnnealingLR,
           ExponentialLR,
           LambdaLR,
           LinearLR,
           MultiplicativeLR,
           MultiStepLR,
           PolynomialLR,
           StepLR,
)
from .plateau import ReduceLROnPlateau

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR",
           "OneCycleLR", "ReduceLROnPlateau", "SequentialLR", "ChainedScheduler", "_LRScheduler"]
