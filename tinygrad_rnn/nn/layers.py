"""Feed-forward layers, activations and losses as Modules, with PyTorch's names, arguments and default inits.
Imports: backend, checks, tensor, nn.module, nn.parameter, nn.functional."""

import math

from .. import backend as B
from .. import checks
from ..creation import uniform
from . import functional as F
from .module import Module
from .parameter import Parameter


def _kwargs_repr(**pairs):
    """', name=value' for each pair whose value differs from its default: pairs are name=(value, default)."""
    return "".join(f", {k}={v!r}" for k, (v, d) in pairs.items() if v != d)


class Linear(Module):
    """y = x @ weight.T + bias.

    x (..., in_features) -> y (..., out_features). weight (out_features, in_features) and bias (out_features,) are
    drawn from U(-1/sqrt(in_features), 1/sqrt(in_features)), as PyTorch's default init.
        layer = nn.Linear(8, 4); layer(tr.randn(5, 8)).shape   # (5, 4)"""

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        in_features, out_features = (checks.size("Linear", k, v) for k, v in (("in_features", in_features),
                                                                               ("out_features", out_features)))
        self.in_features, self.out_features = in_features, out_features
        dtype = dtype or B.default_float()
        bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
        self.weight = Parameter(uniform((out_features, in_features), -bound, bound, dtype))
        if bias:
            self.bias = Parameter(uniform((out_features,), -bound, bound, dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        if F._tensor("Linear", x).ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: expected input with last dimension {self.in_features}, got shape {x.shape}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}" + _kwargs_repr(bias=(self.bias is not None, True))


class Embedding(Module):
    """A lookup table: integer indices (...) -> rows (..., embedding_dim).

    weight (num_embeddings, embedding_dim) ~ N(0, 1). The row at padding_idx starts at zero and never gets a
    gradient, as in PyTorch. Indices outside [0, num_embeddings) raise ValueError."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None, _weight=None):
        super().__init__()
        num_embeddings = checks.size("Embedding", "num_embeddings", num_embeddings)
        embedding_dim = checks.size("Embedding", "embedding_dim", embedding_dim)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            padding_idx = checks.size("Embedding", "padding_idx", padding_idx, minimum=None)
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within [-{num_embeddings}, {num_embeddings}), "
                                 f"got {padding_idx}")
            padding_idx = padding_idx % num_embeddings
        self.padding_idx = padding_idx
        dtype = dtype or B.default_float()
        if _weight is None:
            host = B.host_rng().standard_normal((num_embeddings, embedding_dim))
            if padding_idx is not None:
                host[padding_idx] = 0.0
            self.weight = Parameter(B.asarray(host, dtype=dtype))
        else:
            self.weight = Parameter(_weight)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding whose table is a copy of `embeddings` (V, E); frozen (no gradient) unless freeze=False."""
        data = B.copy(embeddings.array) if hasattr(embeddings, "array") and B.is_array(embeddings.array) else None
        if data is None:
            data = B.asarray(B.np.array(embeddings, dtype=B.np.float32))
        if data.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: expected a 2-d table, got shape {tuple(data.shape)}")
        layer = cls(data.shape[0], data.shape[1], padding_idx=padding_idx, _weight=data)
        layer.weight.requires_grad = not freeze
        return layer

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + _kwargs_repr(padding_idx=(self.padding_idx, None))


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1-p);
    the identity in eval mode. Masks come from the host RNG, so tr.manual_seed fixes them on every backend."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F._check_p("Dropout", p)
        self.p, self.inplace = float(p), bool(inplace)

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return ", ".join(([] if self.p == 0.5 else [f"p={self.p}"]) + (["inplace=True"] if self.inplace else []))


class LayerNorm(Module):
    """Normalise over the trailing `normalized_shape` dims: (x - mean) / sqrt(var + eps) * weight + bias.

    x (..., *normalized_shape) -> same shape. weight starts at ones, bias at zeros; biased variance, as PyTorch."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        ns = checks.sizes("LayerNorm", (normalized_shape,), "normalized_shape")
        checks.reals("LayerNorm", eps=eps)
        self.normalized_shape, self.eps, self.elementwise_affine = ns, float(eps), bool(elementwise_affine)
        dtype = dtype or B.default_float()
        if elementwise_affine:
            self.weight = Parameter(B.ones(self.normalized_shape, dtype))
            if bias:
                self.bias = Parameter(B.zeros(self.normalized_shape, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        F._tensor("LayerNorm", x)
        n = len(self.normalized_shape)
        if x.shape[max(x.ndim - n, 0):] != self.normalized_shape or x.ndim < n:
            raise ValueError(f"LayerNorm: expected input with trailing shape {self.normalized_shape}, "
                             f"got shape {x.shape}")
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}" + _kwargs_repr(eps=(self.eps, 1e-5),
                                                          elementwise_affine=(self.elementwise_affine, True))


# ----- activations and shape helpers
class Tanh(Module):
    def forward(self, x):
        return x.tanh()


class Sigmoid(Module):
    def forward(self, x):
        return x.sigmoid()


class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.relu(x, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Softmax(Module):
    """softmax along `dim` (required: PyTorch's implicit-dim guess is deprecated there and absent here)."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax) along `dim`, one fused stable node."""

    def forward(self, x):
        return F.log_softmax(x, self.dim)


class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments (as PyTorch's)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one: (N, *rest) -> (N, prod(rest)) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return _kwargs_repr(start_dim=(self.start_dim, 1), end_dim=(self.end_dim, -1)).lstrip(", ")


# ----- losses as modules
class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self):
        return _kwargs_repr(reduction=(self.reduction, "mean")).lstrip(", ")


class CrossEntropyLoss(_Loss):
    """F.cross_entropy as a module: (input logits, integer target) -> loss."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(_Loss):
    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(_Loss):
    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)
