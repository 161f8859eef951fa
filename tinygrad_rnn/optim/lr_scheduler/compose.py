"""Schedulers made of schedulers: SequentialLR (one after another at milestones) and ChainedScheduler (all at
every step), as torch.optim.lr_scheduler's. Imports: the standard library, optim.checks, lr_scheduler.*."""

from bisect import bisect_right

from .. import checks
from .base import LRScheduler, check_optimizer
from .plateau import ReduceLROnPlateau


def _check_schedulers(owner, schedulers, optimizer):
    if isinstance(schedulers, LRScheduler) or not isinstance(schedulers, (list, tuple)):
        raise TypeError(f"{owner}: schedulers must be a list of schedulers, got {type(schedulers).__name__}")
    if not schedulers:
        raise ValueError(f"{owner}: expected at least one scheduler, got none")
    optimizer = optimizer if optimizer is not None else getattr(schedulers[0], "optimizer", None)
    check_optimizer(owner, optimizer)
    for i, s in enumerate(schedulers):
        if not isinstance(s, LRScheduler):
            raise TypeError(f"{owner}: schedulers[{i}] is a {type(s).__name__}, not a scheduler")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{owner}: schedulers[{i}] is a ReduceLROnPlateau, which needs the metric in step(), "
                             "so it cannot be composed")
        if s.optimizer is not optimizer:
            raise ValueError(f"{owner}: schedulers[{i}] ({type(s).__name__}) belongs to another optimizer")
    return optimizer


class _Composite(LRScheduler):
    """State dicts of composites: their own attributes plus one state dict per scheduler; loading checks every
    part before applying any."""

    _unsaved = ("optimizer", "_schedulers")

    def state_dict(self):
        state = self._plain_state()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def _loader(self, state_dict, at):
        subs = state_dict.get("_schedulers") if isinstance(state_dict, dict) else None
        if not isinstance(subs, (list, tuple)) or len(subs) != len(self._schedulers):
            raise ValueError(f"{at}: '_schedulers' must be a list of {len(self._schedulers)} state dicts, got "
                             f"{subs!r:.80}")
        appliers = [s._loader(d, f"{at}: '_schedulers'[{i}] ({type(s).__name__})")
                    for i, (s, d) in enumerate(zip(self._schedulers, subs, strict=True))]
        appliers.append(super()._loader({k: v for k, v in state_dict.items() if k != "_schedulers"}, at))
        return lambda: [apply() for apply in appliers]


class SequentialLR(_Composite):
    """schedulers[0] until milestones[0], then schedulers[1] (restarted at its epoch 0) until milestones[1], ...
    len(milestones) == len(schedulers) - 1, increasing."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        owner = "SequentialLR"
        _check_schedulers(owner, schedulers, check_optimizer(owner, optimizer))
        milestones = list(milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"{owner}: expected {len(schedulers) - 1} milestones (one fewer than the "
                             f"{len(schedulers)} schedulers), got {len(milestones)}")
        for i, m in enumerate(milestones):
            checks.integer(owner, f"milestones[{i}]", m, low=0)
            if i and m <= milestones[i - 1]:
                raise ValueError(f"{owner}: milestones must increase, got {milestones}")
        checks.integer(owner, "last_epoch", last_epoch, low=-1)
        self._schedulers = list(schedulers)
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:  # back to the start: building the schedulers stepped them
            group["lr"] = group["initial_lr"]
        self._undo_construction_step(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    @classmethod
    def _undo_construction_step(cls, scheduler):
        if isinstance(scheduler, _Composite):
            for s in scheduler._schedulers:
                cls._undo_construction_step(s)
        else:
            scheduler.last_epoch -= 1

    def step(self):
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._update_lr(0)  # a new phase starts at its own epoch 0 (its closed form, where it has one)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Every scheduler's step() in order at each step: their factors multiply (for chainable schedulers)."""

    def __init__(self, schedulers, optimizer=None):
        self.optimizer = _check_schedulers("ChainedScheduler", schedulers, optimizer)
        self._schedulers = list(schedulers)
        self._last_lr = self._current()

    def step(self):
        for s in self._schedulers:
            s.step()
        self._last_lr = self._current()
