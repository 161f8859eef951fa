"""LRScheduler, the base of every learning-rate scheduler: torch.optim.lr_scheduler's stepping protocol
(construction is step 0, "initial_lr" in each group, chainable get_lr, closed forms for step(epoch)) and state
dicts of plain data that load all-or-nothing. Imports: the standard library, optim.optimizer, optim.checks."""

import copy
import numbers
import types
import warnings
from collections import Counter

from .. import checks
from ..optimizer import Optimizer

# Keys PyTorch's schedulers keep in their state dicts that carry nothing we use; dropped when loading one.
_TORCH_ONLY_KEYS = ("_get_lr_called_within_step",)


def check_optimizer(owner, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}: expected an Optimizer, got {type(optimizer).__name__}")
    return optimizer


def per_group(owner, name, optimizer, value, check=None):
    """One value per parameter group: a list/tuple of that length, or a single value repeated (PyTorch's rule)."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{owner}: expected {n} values of {name} (one per parameter group), got {len(value)}")
        values = list(value)
    else:
        values = [value] * n
    if check is not None:
        for i, v in enumerate(values):
            check(owner, name if n == 1 or not isinstance(value, (list, tuple)) else f"{name}[{i}]", v)
    return values


def _like(at, saved, current):
    """`saved` checked to have the structure of `current` (the value this scheduler holds now) and converted to
    its container types; numbers may be int or float, None stands for "not set" and matches anything plain."""
    if saved is None or current is None:
        return copy.deepcopy(saved)
    if isinstance(current, bool):
        if not isinstance(saved, bool):
            raise ValueError(f"{at}: expected a bool, got {saved!r}")
        return saved
    if isinstance(current, numbers.Real):
        if isinstance(saved, bool) or not isinstance(saved, numbers.Real):
            raise ValueError(f"{at}: expected a number, got {type(saved).__name__} {saved!r}")
        return int(saved) if isinstance(current, int) and isinstance(saved, numbers.Integral) else saved
    if isinstance(current, str):
        if not isinstance(saved, str):
            raise ValueError(f"{at}: expected a string, got {type(saved).__name__} {saved!r}")
        return saved
    if isinstance(current, (list, tuple)):
        if not isinstance(saved, (list, tuple)) or len(saved) != len(current):
            got = f"{len(saved)} items" if isinstance(saved, (list, tuple)) else type(saved).__name__
            raise ValueError(f"{at}: expected a list of {len(current)} items, got {got}")
        return type(current)(_like(f"{at}[{i}]", s, c) for i, (s, c) in enumerate(zip(saved, current, strict=True)))
    if isinstance(current, Counter):  # MultiStepLR's milestones: any {epoch: count}
        if not isinstance(saved, dict) or not all(isinstance(k, int) and isinstance(v, int) for k, v in saved.items()):
            raise ValueError(f"{at}: expected a dict of int milestones to int counts, got {saved!r}")
        return Counter(saved)
    if isinstance(current, dict):
        if not isinstance(saved, dict) or set(saved) != set(current):
            got = sorted(map(str, saved)) if isinstance(saved, dict) else type(saved).__name__
            raise ValueError(f"{at}: expected a dict with keys {sorted(map(str, current))}, got {got}")
        return {k: _like(f"{at}[{k!r}]", saved[k], current[k]) for k in current}
    return copy.deepcopy(saved)


class LRScheduler:
    """Base: scheduler.step() once per epoch (after optimizer.step()) sets every group's "lr". Construction counts
    as step 0: it records each group's "initial_lr" (kept if already there, the base learning rate) and calls
    step() once. `last_epoch` >= 0 resumes (the groups must then have "initial_lr"). Subclasses give
    get_lr() (the chainable form: the next lrs from the current ones) and, where PyTorch has one,
    _closed_form() (the lrs at last_epoch from base_lrs, used by the deprecated step(epoch))."""

    _unsaved = ("optimizer",)  # attributes that are not part of the state dict
    _rules = {}  # attribute -> checks.rule: applied by _set in the constructor and again to a loaded state dict

    def __init__(self, optimizer, last_epoch=-1):
        check_optimizer(self._name, optimizer)
        checks.integer(self._name, "last_epoch", last_epoch, low=-1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{self._name}: param_groups[{i}] has no 'initial_lr', which resuming at "
                                   f"last_epoch={last_epoch} needs (load the optimizer's state dict first)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    @property
    def _name(self):
        return type(self).__name__

    def _set(self, **values):
        """Set constructor arguments as attributes, each checked by its rule (the error names the argument)."""
        for k, v in values.items():
            setattr(self, k, self._rules[k](self._name, k, v))

    def _initial_step(self):
        """Step 0. While it runs, _is_initial is True: several get_lr() keep the current lrs then, so that
        building a scheduler to resume (last_epoch >= 0) does not move the lrs a step ahead (PyTorch's rule)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        raise NotImplementedError

    def step(self, epoch=None):
        """Advance one epoch. step(epoch) (deprecated in PyTorch too) jumps to `epoch` using the closed form
        where the scheduler has one, else its chainable form."""
        if epoch is not None:
            checks.integer(f"{self._name}.step", "epoch", epoch)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(f"{self._name}.step(epoch) is deprecated (as in PyTorch): call step() without an "
                          "epoch; with one, the closed form is used where the scheduler has one", UserWarning,
                          stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = epoch
            lrs = self._closed_form() if hasattr(self, "_closed_form") else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates the last step() set, one per parameter group."""
        return list(self._last_lr)

    # ----- state dicts: every attribute except the optimizer, as plain data (numbers, strings, lists, dicts)
    def state_dict(self):
        return self._plain_state()

    def _plain_state(self):
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k not in self._unsaved}

    def load_state_dict(self, state_dict):
        """Restore a state dict from state_dict() (of a scheduler of this kind, built on the same number of
        parameter groups). Everything is checked first: on an error nothing has changed."""
        self._loader(state_dict, f"{self._name}.load_state_dict")()

    def _loader(self, state_dict, at):
        """Check `state_dict` and return a function that applies it (so composites check all before any applies)."""
        if not isinstance(state_dict, dict):
            raise ValueError(f"{at}: expected a dict, got {type(state_dict).__name__}")
        state_dict = {k: v for k, v in state_dict.items() if k not in _TORCH_ONLY_KEYS}
        mine = self._plain_state()
        missing = [k for k in mine if k not in state_dict]
        unknown = [k for k in state_dict if k not in mine]
        if missing or unknown:
            what = f"missing {missing[0]!r}" if missing else f"unknown key {unknown[0]!r}"
            raise ValueError(f"{at}: {what}; a {self._name} state dict has keys {sorted(mine)}")
        new = {k: _like(f"{at}: {k!r}", state_dict[k], mine[k]) for k in mine}
        self._check_loaded(new, at)
        return lambda: self._apply_loaded(new)

    def _check_loaded(self, new, at):
        """Subclass hook: check the values (as the constructor does) before anything is applied."""
        for key in ("last_epoch", "_step_count"):
            if key in new and (isinstance(new[key], bool) or not isinstance(new[key], numbers.Integral)):
                raise ValueError(f"{at}: {key!r} must be an int, got {new[key]!r}")
        for key, check in self._rules.items():
            if key in new:
                try:
                    check(at, key, new[key])
                except TypeError as e:  # a loaded value of the wrong type is a bad value of the state dict
                    raise ValueError(str(e)) from None

    def _apply_loaded(self, new):
        self.__dict__.update(new)


class _LRScheduler(LRScheduler):
    """The old name of LRScheduler, which PyTorch still exports for programs that subclass it."""


class CodeState:
    """Mixin for schedulers holding user code (LambdaLR's lr_lambdas, CyclicLR's scale_fn) in the attribute named
    by _code (a list of callables, or one callable or None). Code is not state: as in PyTorch, a plain function or
    lambda is saved as None (rebuild the scheduler with it), a callable object as a copy of its attributes."""

    _code = "lr_lambdas"

    @property
    def _unsaved(self):
        return ("optimizer", self._code)

    def _code_list(self):
        code = getattr(self, self._code)
        return list(code) if isinstance(code, list) else [code]

    def state_dict(self):
        state = super().state_dict()
        saved = [None if fn is None or isinstance(fn, types.FunctionType) or not hasattr(fn, "__dict__")
                 else copy.deepcopy(fn.__dict__) for fn in self._code_list()]
        state[self._code] = saved if isinstance(getattr(self, self._code), list) else saved[0]
        return state

    def _loader(self, state_dict, at):
        key, fns = self._code, self._code_list()
        if not isinstance(state_dict, dict) or key not in state_dict:
            raise ValueError(f"{at}: missing {key!r}")
        saved = state_dict[key]
        as_list = isinstance(getattr(self, key), list)
        if as_list and (not isinstance(saved, (list, tuple)) or len(saved) != len(fns)):
            raise ValueError(f"{at}: {key!r} must be a list of {len(fns)} entries (None or a dict), got {saved!r}")
        saved = list(saved) if as_list else [saved]
        for i, d in enumerate(saved):
            if d is not None and not isinstance(d, dict):
                raise ValueError(f"{at}: {key!r}{f'[{i}]' if as_list else ''} must be None or a dict, got "
                                 f"{type(d).__name__}")
            if d is not None and fns[i] is None:
                raise ValueError(f"{at}: {key!r} holds attributes for a callable object, but this {self._name} has "
                                 "none (pass the same kind of callable to the constructor)")
        apply_rest = super()._loader({k: v for k, v in state_dict.items() if k != key}, at)

        def apply():
            apply_rest()
            for fn, d in zip(fns, saved, strict=True):
                if d is not None:
                    fn.__dict__.update(copy.deepcopy(d))
        return apply


class FunctionsState(CodeState):
    """LambdaLR/MultiplicativeLR: lr_lambda is one callable or one per group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        check_optimizer(self._name, optimizer)
        self.lr_lambdas = lambdas(self._name, optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)


def lambdas(owner, optimizer, lr_lambda):
    """lr_lambda: one callable for every group, or a list/tuple of one per group."""
    fns = per_group(owner, "lr_lambda", optimizer, lr_lambda)
    for i, fn in enumerate(fns):
        if not callable(fn):
            raise TypeError(f"{owner}: lr_lambda{f'[{i}]' if isinstance(lr_lambda, (list, tuple)) else ''} must be "
                            f"callable, got {type(fn).__name__}")
    return fns
