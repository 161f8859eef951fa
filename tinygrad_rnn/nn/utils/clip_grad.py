"""Gradient clipping in place on the raw gradient arrays, with PyTorch's semantics. Imports: backend, checks, tensor."""

import math

from ... import backend as B
from ... import checks
from ...tensor import Tensor

xp = B.xp


def _grads(op, parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    try:
        parameters = list(parameters)
    except TypeError:
        raise TypeError(f"{op}: parameters must be a Tensor or an iterable of Tensors, got "
                        f"{type(parameters).__name__}") from None
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameters must be Tensors, got a {type(p).__name__}")
    return [p.grad for p in parameters if p.grad is not None]


def _number(op, arg, value):
    return float(checks.reals(op, **{arg: value})[0])


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so that their joint norm is at most `max_norm`; returns the total norm
    measured before clipping, as a 0-d Tensor.

    total = norm([norm(g, p) for g in grads], p)        (p = norm_type; inf is the largest |g|)
    every g *= min(1, max_norm / (total + 1e-6))        (the 1e-6 as PyTorch: never divide by zero)
    Runs on the device without a host round trip, unless error_if_nonfinite asks to check the norm."""
    grads = _grads("clip_grad_norm_", parameters)
    max_norm, norm_type = _number("clip_grad_norm_", "max_norm", max_norm), _number("clip_grad_norm_", "norm_type",
                                                                                    norm_type)
    if not max_norm >= 0:  # a negative bound would flip every gradient's sign
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive or inf, got {norm_type}")
    if not grads:
        return Tensor(0.0)
    arrays = [g.array for g in grads]
    if math.isinf(norm_type):
        norms = [xp.max(xp.abs(a)) for a in arrays]
        total = norms[0] if len(norms) == 1 else xp.max(xp.stack(norms))
    elif norm_type == 2.0:
        norms = [xp.sqrt(xp.sum(a * a)) for a in arrays]
        total = xp.sqrt(xp.sum(xp.stack(norms) ** 2))
    else:
        norms = [xp.sum(xp.abs(a) ** norm_type) ** (1.0 / norm_type) for a in arrays]
        total = xp.sum(xp.stack(norms) ** norm_type) ** (1.0 / norm_type)
    if error_if_nonfinite and not B.all_finite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite, "
                           "so it cannot be clipped; pass error_if_nonfinite=False to clip anyway")
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g.array *= xp.astype(coef, g.array.dtype)
    return Tensor._wrap(total, False)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    clip_value = _number("clip_grad_value_", "clip_value", clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads("clip_grad_value_", parameters):
        g.array = xp.clip(g.array, -clip_value, clip_value)
