"""nn.Parameter: a Tensor that a Module registers as learnable. Imports: tensor."""

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor with requires_grad=True that Modules collect in named_parameters()."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
