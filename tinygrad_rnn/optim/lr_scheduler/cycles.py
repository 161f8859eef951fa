"""Schedulers that compute each lr afresh from the step count (not chainable): CosineAnnealingWarmRestarts, CyclicLR
and OneCycleLR (the last two also cycle momentum, or Adam's beta1), as torch.optim.lr_scheduler computes them.
Imports: the standard library, optim.checks, lr_scheduler.base."""

import math

from .. import checks
from .base import CodeState, LRScheduler, check_optimizer, per_group


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2, where T_cur counts epochs since
    the last restart and T_i, the length of the current cycle, starts at T_0 and is multiplied by T_mult at every
    restart. step(epoch) accepts a fractional epoch (e.g. epoch + batch / batches)."""

    _rules = {"T_0": checks.rule(checks.integer, low=1), "T_mult": checks.rule(checks.integer, low=1),
              "eta_min": checks.rule(checks.in_range), "T_i": checks.rule(checks.integer, low=1)}

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        self._set(T_0=T_0, T_mult=T_mult, eta_min=eta_min)
        self.T_i = T_0
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base in self.base_lrs]

    def step(self, epoch=None):
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i *= self.T_mult
        else:
            checks.in_range(self._name, "epoch", epoch)
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:  # the cycle n that holds epoch: T_0 * (T_mult**n - 1) / (T_mult - 1) <= epoch
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = self._current()


def cycled_momentum(owner, optimizer):
    """Whether the optimizer's momentum lives in betas[0] (Adam) or in "momentum" (SGD, RMSprop)."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{owner}: cycle_momentum=True needs an optimizer with momentum or betas, got "
                         f"{type(optimizer).__name__} (pass cycle_momentum=False)")
    return "betas" in optimizer.defaults


def set_momentum(group, value, use_beta1):
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


class CyclicLR(CodeState, LRScheduler):
    """Cyclical learning rates, stepped once per batch: each cycle rises from base_lr to max_lr over step_size_up
    steps and falls back over step_size_down (default: the same), the height scaled per mode: "triangular" (1),
    "triangular2" (halved every cycle), "exp_range" (gamma ** step), or by scale_fn(cycle or step, per
    scale_mode). With cycle_momentum the momentum (Adam: beta1) moves inversely, max_momentum to base_momentum."""

    _code = "_scale_fn_custom"
    _rules = {"total_size": checks.rule(checks.in_range, low_open=True),
              "step_ratio": checks.rule(checks.in_range, low=0, high=1, low_open=True, high_open=True),
              "gamma": checks.rule(checks.in_range, low_open=True),
              "scale_mode": lambda owner, name, v: checks.choice(owner, name, v, ("cycle", "iterations"))}

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        owner = "CyclicLR"
        self.optimizer = check_optimizer(owner, optimizer)
        base_lrs = per_group(owner, "base_lr", optimizer, base_lr, checks.in_range)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs, strict=True):
                group["lr"] = lr
        self.max_lrs = per_group(owner, "max_lr", optimizer, max_lr, checks.in_range)
        up = float(checks.in_range(owner, "step_size_up", step_size_up, low_open=True))
        down = up if step_size_down is None else \
            float(checks.in_range(owner, "step_size_down", step_size_down, low_open=True))
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if scale_fn is None:
            checks.choice(owner, "mode", mode, ("triangular", "triangular2", "exp_range"))
        elif not callable(scale_fn):
            raise TypeError(f"{owner}: scale_fn must be callable, got {type(scale_fn).__name__}")
        self.mode = mode
        self._set(gamma=gamma, scale_mode=scale_mode)
        self._scale_fn_custom = scale_fn
        if scale_fn is None:  # the built-in modes fix their own scale_mode (as PyTorch's do)
            self.scale_mode = "iterations" if mode == "exp_range" else "cycle"
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = cycled_momentum(owner, optimizer)
            self.base_momentums = per_group(owner, "base_momentum", optimizer, base_momentum, checks.in_range)
            self.max_momentums = per_group(owner, "max_momentum", optimizer, max_momentum, checks.in_range)
            if last_epoch == -1:
                for group, top, bottom in zip(optimizer.param_groups, self.max_momentums, self.base_momentums,
                                              strict=True):
                    set_momentum(group, top, self.use_beta1)
                    group["max_momentum"] = top
                    group["base_momentum"] = bottom
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x):
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        scale = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        height = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (top - base) * scale * height for base, top in zip(self.base_lrs, self.max_lrs, strict=True)]
        if self.cycle_momentum:
            for group, bottom, top in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums,
                                          strict=True):
                set_momentum(group, top - (top - bottom) * scale * height, self.use_beta1)
        return lrs

    def _check_loaded(self, new, at):
        super()._check_loaded(new, at)
        if self._scale_fn_custom is None:
            checks.choice(at, "mode", new["mode"], ("triangular", "triangular2", "exp_range"))


class OneCycleLR(LRScheduler):
    """The 1cycle policy, stepped once per batch for total_steps (or epochs * steps_per_epoch) steps: lr rises
    from max_lr / div_factor to max_lr over the first pct_start of the steps, then anneals ("cos" or "linear") to
    initial_lr / final_div_factor; three_phase=True goes back to initial_lr first, then down. With cycle_momentum
    the momentum (Adam: beta1) moves inversely between max_momentum and base_momentum."""

    _rules = {"total_steps": checks.rule(checks.integer, low=1),
              "_anneal_func_type": lambda owner, name, v: checks.choice(owner, name, v, ("cos", "linear"))}

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        owner = "OneCycleLR"
        check_optimizer(owner, optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            self.total_steps = checks.integer(owner, "total_steps", total_steps, low=1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = checks.integer(owner, "epochs", epochs, low=1) * \
                checks.integer(owner, "steps_per_epoch", steps_per_epoch, low=1)
        else:
            raise ValueError(f"{owner}: pass total_steps, or both epochs and steps_per_epoch")
        checks.in_range(owner, "pct_start", pct_start, 0, 1)
        self._anneal_func_type = checks.choice(owner, "anneal_strategy", anneal_strategy, ("cos", "linear"))
        checks.in_range(owner, "div_factor", div_factor, low_open=True)
        checks.in_range(owner, "final_div_factor", final_div_factor, low_open=True)
        up = float(pct_start * self.total_steps) - 1
        if three_phase:
            phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr", "base_momentum",
                       "max_momentum"),
                      (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        keys = ("end_step", "start_lr", "end_lr", "start_momentum", "end_momentum")
        self._schedule_phases = [dict(zip(keys, p, strict=True)) for p in phases]
        max_lrs = per_group(owner, "max_lr", optimizer, max_lr, checks.in_range)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs, strict=True):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = cycled_momentum(owner, optimizer)
            tops = per_group(owner, "max_momentum", optimizer, max_momentum, checks.in_range)
            bottoms = per_group(owner, "base_momentum", optimizer, base_momentum, checks.in_range)
            if last_epoch == -1:
                for group, top, bottom in zip(optimizer.param_groups, tops, bottoms, strict=True):
                    set_momentum(group, top, self.use_beta1)
                    group["max_momentum"] = top
                    group["base_momentum"] = bottom
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; total_steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or i == len(self._schedule_phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                        set_momentum(group, momentum, self.use_beta1)
                    break
                start = end
        return lrs

