"""optim.Adagrad, as torch.optim's single-tensor implementation. Imports: optim.optimizer, optim.checks, backend."""

from .. import backend as B
from . import checks
from .optimizer import Optimizer

xp = B.xp


class Adagrad(Optimizer):
    """Per step t, with g the gradient (plus weight_decay * p):
        sum = sum + g * g;  p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)
    The accumulator starts at initial_accumulator_value. As in PyTorch, every parameter given to the constructor
    gets its state at once, and always from the constructor's initial_accumulator_value (a group's own value is
    kept in the group but not used, in PyTorch too)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p):
        st = self.state[p]
        st.update(step=0, sum=B.full(p.array.shape, self.defaults["initial_accumulator_value"], p.array.dtype))
        return st

    def _check(self, group):
        super()._check(group)
        for k in ("lr_decay", "initial_accumulator_value"):
            checks.in_range("Adagrad", k, group[k])

    def _state_spec(self, group):
        return {"step": "count", "sum": "array"}, {}

    def _update(self, group):
        lr, lr_decay, wd, eps = (group[k] for k in ("lr", "lr_decay", "weight_decay", "eps"))
        for p, g, x in self._grads(group):
            st = self.state[p] or self._init_state(p)  # a parameter added by add_param_group
            st["step"] = t = st["step"] + 1
            if wd:
                g = g + wd * x
            clr = lr / (1 + (t - 1) * lr_decay)
            s = st["sum"]
            s += g * g
            std = xp.sqrt(s)
            std += eps
            x -= clr * (g / std)
