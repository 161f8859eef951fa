"""optim.RMSprop, as torch.optim's single-tensor implementations.
Imports: optim.optimizer, optim.checks, backend."""

from .. import backend as B
from . import checks
from .optimizer import Optimizer

xp = B.xp


class RMSprop(Optimizer):
    """Per step, with g the gradient (plus weight_decay * p):
        sq = alpha * sq + (1 - alpha) * g * g
        avg = sqrt(sq - ga * ga) + eps with ga = alpha * ga + (1 - alpha) * g (centered), else sqrt(sq) + eps
        buf = momentum * buf + g / avg; p = p - lr * buf      (momentum > 0), else p = p - lr * g / avg"""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _check(self, group):
        super()._check(group)
        for k in ("momentum", "alpha"):
            checks.in_range("RMSprop", k, group[k])

    def _state_spec(self, group):
        arrays = ("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ()) + \
            (("grad_avg",) if group["centered"] else ())
        return {"step": "count", **dict.fromkeys(arrays, "array")}, {}

    def _update(self, group):
        lr, alpha, eps, wd, mom, centered = (group[k] for k in ("lr", "alpha", "eps", "weight_decay", "momentum",
                                                               "centered"))
        for p, g, x in self._grads(group):
            st = self.state[p]
            if not st:
                st.update(step=0, square_avg=xp.zeros_like(x))
                if mom > 0:
                    st["momentum_buffer"] = xp.zeros_like(x)
                if centered:
                    st["grad_avg"] = xp.zeros_like(x)
            st["step"] += 1
            if wd:
                g = g + wd * x
            sq = st["square_avg"]
            sq *= alpha
            sq += (1.0 - alpha) * (g * g)
            if centered:
                ga = st["grad_avg"]
                ga *= alpha
                ga += (1.0 - alpha) * g
                avg = xp.sqrt(sq - ga * ga)
            else:
                avg = xp.sqrt(sq)
            avg += eps
            if mom > 0:
                buf = st["momentum_buffer"]
                buf *= mom
                buf += g / avg
                x -= lr * buf
            else:
                x -= lr * (g / avg)
