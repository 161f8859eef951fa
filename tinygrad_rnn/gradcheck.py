"""tr.gradcheck: analytic gradients against float64 central differences, with a random upstream gradient.
Imports: backend, autograd, tensor."""

from . import backend as B
from .autograd import no_grad
from .tensor import Tensor, float64


class GradcheckError(AssertionError):
    """A gradient that disagrees with finite differences; the message names the input and element."""


def _objective(fn, inputs, upstream):
    outs = fn(*inputs)
    outs = outs if isinstance(outs, (tuple, list)) else (outs,)
    outs = [o for o in outs if isinstance(o, Tensor) and B.is_floating(o.dtype)]
    if upstream is None:
        rng = B.np.random.default_rng(1234)
        upstream = [Tensor(rng.standard_normal(o.shape), dtype=o.dtype) for o in outs]
    total = None
    for o, g in zip(outs, upstream, strict=True):
        term = (o * g).sum()
        total = term if total is None else total + term
    return total, upstream


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, directional=False, seed=0):
    """Check the gradients of fn(*inputs) w.r.t. every input with requires_grad=True.

    The outputs (a Tensor or tuple of Tensors) are contracted with a fixed random upstream gradient g, so
    S = sum(out * g) and the check covers the whole Jacobian, transposition bugs included. Elementwise mode
    perturbs every element by +-eps; `directional=True` checks one random direction v per input,
    dS/dv = <grad, v> (HIPS autograd's cheap check, for whole layers). Inputs must be float64.
    Returns True, or raises GradcheckError naming the input index, the element and both values."""
    if isinstance(inputs, Tensor):  # PyTorch takes a lone Tensor as a one-element tuple
        inputs = (inputs,)
    if not callable(fn) or not isinstance(inputs, (tuple, list)):
        raise TypeError(f"gradcheck: expected a callable and a tuple of inputs, got {type(fn).__name__} and "
                        f"{type(inputs).__name__}")
    inputs = list(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in wrt:
        if inputs[i].dtype != float64:
            raise TypeError(f"gradcheck: input {i} has dtype {B.dtype_name(inputs[i].dtype)}; finite differences "
                            "need float64")
    for i in wrt:
        inputs[i].grad = None
    total, upstream = _objective(fn, inputs, None)
    if total is None or not total.requires_grad:
        raise ValueError("gradcheck: fn's outputs do not depend on any input that requires grad")
    total.backward()
    analytic = {i: (inputs[i].grad.numpy() if inputs[i].grad is not None else B.np.zeros(inputs[i].shape))
                for i in wrt}

    def evaluate():
        with no_grad():
            return _objective(fn, inputs, upstream)[0].item()

    rng = B.np.random.default_rng(seed)
    for i in wrt:
        t = inputs[i]
        base = B.to_host(t.array).astype(B.np.float64, copy=True)
        try:
            if directional:
                v = rng.standard_normal(base.shape)
                t.array = B.asarray(base + eps * v, dtype=float64)
                plus = evaluate()
                t.array = B.asarray(base - eps * v, dtype=float64)
                minus = evaluate()
                num, ana = (plus - minus) / (2 * eps), float((analytic[i] * v).sum())
                if abs(num - ana) > atol + rtol * abs(num):
                    raise GradcheckError(f"gradcheck: input {i} (shape {t.shape}): directional derivative "
                                         f"analytic {ana:.8g} vs numerical {num:.8g}")
                continue
            flat = base.reshape(-1)
            for j in range(flat.size):
                old = flat[j]
                flat[j] = old + eps
                t.array = B.asarray(flat.reshape(base.shape), dtype=float64)
                plus = evaluate()
                flat[j] = old - eps
                t.array = B.asarray(flat.reshape(base.shape), dtype=float64)
                minus = evaluate()
                flat[j] = old
                num = (plus - minus) / (2 * eps)
                ana = analytic[i].reshape(-1)[j]
                if abs(num - ana) > atol + rtol * abs(num):
                    where = tuple(int(k) for k in B.np.unravel_index(j, base.shape))
                    raise GradcheckError(f"gradcheck: input {i} (shape {t.shape}) element {where}: "
                                         f"analytic {ana:.8g} vs numerical {num:.8g}")
        finally:
            t.array = B.asarray(base, dtype=float64)
    return True
