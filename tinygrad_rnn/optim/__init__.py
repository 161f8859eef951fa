"""Optimizers and learning-rate schedulers with torch.optim's names, defaults and update rules.
Imports: optim submodules only."""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]


def __getattr__(name):  # a name we lack: an AttributeError that names the absent PyTorch feature (absent.py)
    from ..absent import missing as _missing

    raise _missing(__name__, name)
