"""optim.SGD: stochastic gradient descent with momentum, dampening, weight decay and Nesterov, as torch.optim.SGD.
Imports: backend, optim.optimizer, optim.checks."""

from .. import backend as B
from . import checks
from .optimizer import Optimizer


class SGD(Optimizer):
    """Per step, with g the gradient:
        g = g + weight_decay * p
        buf = g (first step) or momentum * buf + (1 - dampening) * g      (when momentum > 0)
        g = g + momentum * buf (nesterov) or buf
        p = p - lr * g
    Nesterov needs momentum > 0 and dampening 0 (as in PyTorch). lr defaults to 1e-3, as in PyTorch 2.x."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _check(self, group):
        super()._check(group)
        checks.in_range("SGD", "momentum", group["momentum"])
        checks.in_range("SGD", "dampening", group["dampening"], low=None)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True requires momentum > 0 and dampening 0, got momentum="
                             f"{group['momentum']} and dampening={group['dampening']}")

    def _state_spec(self, group):
        return {}, {"momentum_buffer": "array?"}

    def _update(self, group):
        lr, mom, damp, wd, nesterov = (group[k] for k in ("lr", "momentum", "dampening", "weight_decay", "nesterov"))
        for p, g, x in self._grads(group):
            if wd:
                g = g + wd * x
            if mom:
                st = self.state[p]
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = B.copy(g)
                else:
                    buf *= mom
                    buf += (1.0 - damp) * g if damp else g
                g = g + mom * buf if nesterov else buf
            x -= lr * g
