"""ReduceLROnPlateau: lower the lr when a metric stops improving, as torch.optim.lr_scheduler's.
Imports: the standard library, optim.checks, lr_scheduler.base."""

import math
import warnings

from .. import checks
from .base import LRScheduler, check_optimizer, per_group


class ReduceLROnPlateau(LRScheduler):
    """step(metric) once per epoch. A metric better than best (mode "min": lower; "max": higher) by more than
    threshold (threshold_mode "rel": a fraction of best; "abs": an amount) resets the count of bad epochs; after
    more than `patience` bad epochs each group's lr becomes max(lr * factor, min_lr) (skipped when the change is
    at most eps), then `cooldown` epochs pass with bad epochs ignored."""

    _rules = {"factor": checks.rule(checks.in_range, low=0, high=1, high_open=True),
              "patience": checks.rule(checks.integer, low=0), "cooldown": checks.rule(checks.integer, low=0),
              "eps": checks.rule(checks.in_range), "threshold": checks.rule(checks.in_range),
              "mode": lambda owner, name, v: checks.choice(owner, name, v, ("min", "max")),
              "threshold_mode": lambda owner, name, v: checks.choice(owner, name, v, ("rel", "abs"))}

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        owner = "ReduceLROnPlateau"
        self._set(factor=factor)
        self.optimizer = check_optimizer(owner, optimizer)
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = per_group(owner, "min_lr", optimizer, min_lr, checks.in_range)
        else:
            self.default_min_lr = checks.in_range(owner, "min_lr", min_lr)
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self._set(patience=patience, cooldown=cooldown, eps=eps)
        self.last_epoch = 0
        self._last_lr = self._current()
        self._set(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self.mode_worse = math.inf if mode == "min" else -math.inf  # the worst value: anything beats it
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" else a < best - self.threshold
        return a > best * (self.threshold + 1.0) if self.threshold_mode == "rel" else a > best + self.threshold

    def step(self, metrics, epoch=None):
        try:
            current = float(metrics.item() if hasattr(metrics, "item") else metrics)  # a 0-d Tensor or a number
        except (TypeError, ValueError):
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number or a one-element tensor, got "
                            f"{type(metrics).__name__} {metrics!r}"[:200]) from None
        if epoch is not None:
            warnings.warn("ReduceLROnPlateau.step(metrics, epoch) is deprecated (as in PyTorch): call step(metrics)",
                          UserWarning, stacklevel=2)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current()

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):  # a group was added after construction
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups, min_lr "
                                   f"was given for {len(self.min_lrs)}; set scheduler.min_lrs to one per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    def _check_loaded(self, new, at):
        super()._check_loaded(new, at)
        if new["mode_worse"] != (math.inf if new["mode"] == "min" else -math.inf):
            raise ValueError(f"{at}: 'mode_worse' {new['mode_worse']} does not match mode {new['mode']!r}")
