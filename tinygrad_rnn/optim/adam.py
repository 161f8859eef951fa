"""optim.Adam and optim.AdamW (decoupled weight decay), as torch.optim's single-tensor implementations.
Imports: optim.optimizer, optim.checks, backend."""

from .. import backend as B
from . import checks
from .optimizer import Optimizer

xp = B.xp


class Adam(Optimizer):
    """Per step t, with g the gradient (plus weight_decay * p; AdamW instead shrinks p by lr * weight_decay):
        m = beta1 * m + (1 - beta1) * g            v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) if amsgrad else v
        p = p - lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)
    State per parameter: step (int), exp_avg, exp_avg_sq (and max_exp_avg_sq with amsgrad).
    decoupled_weight_decay=True makes it AdamW (as in PyTorch)."""

    _decoupled = False  # AdamW: the flag must stay True
    _optional_on_load = Optimizer._optional_on_load | {"decoupled_weight_decay"}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{type(self).__name__}: betas must be a pair (beta1, beta2), got {betas!r}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      foreach=foreach, maximize=maximize, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _check(self, group):
        super()._check(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{self._name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, b in enumerate(betas):
            checks.in_range(self._name, f"betas[{i}]", b, 0, 1, high_open=True)
        if self._decoupled and not group["decoupled_weight_decay"]:
            raise ValueError("AdamW: decoupled_weight_decay must be True (AdamW is Adam with decoupled weight decay)")

    def _state_spec(self, group):
        arrays = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())
        return {"step": "count", **dict.fromkeys(arrays, "array")}, {}

    def _update(self, group):
        lr, (b1, b2), eps, wd, amsgrad, decoupled = (group[k] for k in ("lr", "betas", "eps", "weight_decay", "amsgrad",
                                                                          "decoupled_weight_decay"))
        for p, g, x in self._grads(group):
            st = self.state[p]
            if not st:
                st.update(step=0, exp_avg=xp.zeros_like(x), exp_avg_sq=xp.zeros_like(x))
                if amsgrad:
                    st["max_exp_avg_sq"] = xp.zeros_like(x)
            st["step"] = t = st["step"] + 1
            if wd:
                if decoupled:
                    x *= 1.0 - lr * wd
                else:
                    g = g + wd * x
            m, v = st["exp_avg"], st["exp_avg_sq"]
            tmp = B.reusable_empty(x.shape, x.dtype)  # one scratch array, no temporaries (same operations in order)
            m *= b1
            m += B.mul(g, 1.0 - b1, out=tmp)
            v *= b2
            gg = B.mul(g, g, out=tmp)
            gg *= 1.0 - b2
            v += gg
            if amsgrad:
                v = st["max_exp_avg_sq"] = xp.maximum(st["max_exp_avg_sq"], v)
            denom = B.sqrt(v, out=tmp)
            denom /= (1.0 - b2**t) ** 0.5
            denom += eps
            upd = B.div(m, denom, out=tmp)
            upd *= lr / (1.0 - b1**t)
            x -= upd


class AdamW(Adam):
    """Adam with decoupled weight decay (p = p * (1 - lr * weight_decay) before the Adam step); default 1e-2."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, foreach=foreach,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
