"""Primitive differentiable ops with hand-written backward, on backend arrays. Elementwise ops see
inputs of equal shape: broadcasting is done once, in the Tensor, through `Expand`. Ops that can make inf/NaN
from finite inputs run under B.quiet() (no NumPy warnings; backward runs quiet as a whole).
Imports: backend, autograd."""

from . import backend as B
from .autograd import Function, IndexGrad

xp = B.xp


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing NumPy broadcasting (leading axes and size-1 axes)."""
    if grad.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and grad.shape[lead + i] != 1)
    out = xp.sum(grad, axis=axes, keepdims=True) if axes else grad
    return B.reshape(out, shape) if lead or out.shape != tuple(shape) else out


def sigmoid_(a):
    """a <- sigmoid(a) = 1 / (1 + exp(-a)) in place, the form every fused kernel uses (exp(-a) may overflow to inf,
    giving the exact limit 0: callers run it under B.quiet())."""
    B.negative(a, out=a)
    B.exp(a, out=a)
    a += 1.0
    return B.reciprocal(a, out=a)


def gate_sigmoid_(a):
    """a <- sigmoid(a) = (tanh(a / 2) + 1) / 2 in place: the recurrent cells' gates. Same count of passes as
    sigmoid_, each a quarter to a third quicker (tanh instead of exp and a reciprocal). A gate loses relative precision
    only where its value is below float eps (there it reads 0 instead of, say, 2e-9, an absolute error below half an
    ulp of 1), which changes no sum it enters; the primitive sigmoid keeps the exp form, exact near 0. The LSTM step
    writes the same form inline, to share its one tanh with the g rows."""
    a *= 0.5
    B.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def stable_sigmoid(x):
    """sigmoid(x) as a new array: the one formula (sigmoid_) on a copy; overflow of exp is a value, not a warning."""
    with B.quiet():
        return sigmoid_(B.copy(x))


def sigmoid_grad(y, g, out):
    """out <- g * y * (1 - y), the gradient through y = sigmoid(a): dy/da = y (1 - y). `out` is a third array."""
    B.sub(1.0, y, out=out)
    out *= y
    out *= g
    return out


def tanh_grad(y, g, out):
    """out <- g * (1 - y^2), the gradient through y = tanh(a): dy/da = 1 - tanh(a)^2. `out` is a third array."""
    B.mul(y, y, out=out)
    B.sub(1.0, out, out=out)
    out *= g
    return out


def relu_grad(y, g, out):
    """out <- g where y > 0, else 0 (y = relu(a): dy/da = [a > 0] = [y > 0])."""
    out[...] = xp.where(y > 0, g, xp.zeros_like(g))
    return out


# ----- elementwise binary (equal shapes)
class Add(Function):
    saves_inputs = saves_output = False

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Sub(Function):
    saves_inputs = saves_output = False

    def forward(self, a, b):
        return a - b

    def backward(self, g):
        return g, -g if self.needs_input_grad[1] else None


class Mul(Function):
    saves_output = False
    saved_inputs = Function._saved_crosswise

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        na, nb = self.needs_input_grad
        return (g * self.b if na else None), (g * self.a if nb else None)


class Div(Function):
    saves_output = False

    def forward(self, a, b):
        self.a, self.b = a, b
        with B.quiet():
            return a / b

    def backward(self, g):
        na, nb = self.needs_input_grad
        ga = g / self.b if na else None
        gb = -g * self.a / (self.b * self.b) if nb else None
        return ga, gb


class Pow(Function):
    """a ** b elementwise. d/db uses log(a), taken only where a > 0 (PyTorch's convention: 0 elsewhere
    when a == 0 and b >= 0)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        with B.quiet():
            self.y = a**b
        return self.y

    def backward(self, g):
        na, nb = self.needs_input_grad
        ga = g * self.b * self.a ** (self.b - 1) if na else None
        gb = None
        if nb:
            safe = xp.where(self.a > 0, self.a, xp.ones_like(self.a))
            gb = g * self.y * xp.log(safe)
        return ga, gb


class Maximum(Function):
    """Elementwise max; ties split the gradient evenly, as torch.maximum does."""

    saves_output = False

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.maximum(a, b)

    def backward(self, g):
        gt = xp.astype(self.a > self.b, g.dtype)
        eq = xp.astype(self.a == self.b, g.dtype) * 0.5
        return g * (gt + eq), g * (1.0 - gt - eq)


# ----- elementwise unary
class Neg(Function):
    saves_inputs = saves_output = False

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Clone(Function):
    """A copy in new memory, in the graph: the gradient passes through unchanged."""

    saves_inputs = saves_output = False

    def forward(self, a):
        return B.copy(a)

    def backward(self, g):
        return g


class Exp(Function):
    saves_inputs = False

    def forward(self, a):
        with B.quiet():
            self.y = xp.exp(a)
        return self.y

    def backward(self, g):
        return g * self.y


class Log(Function):
    saves_output = False

    def forward(self, a):
        self.a = a
        with B.quiet():
            return xp.log(a)

    def backward(self, g):
        return g / self.a


class Tanh(Function):
    saves_inputs = False

    def forward(self, a):
        self.y = xp.tanh(a)
        return self.y

    def backward(self, g):
        return tanh_grad(self.y, g, B.empty(g.shape, g.dtype))


class Sigmoid(Function):
    saves_inputs = False

    def forward(self, a):
        self.y = stable_sigmoid(a)
        return self.y

    def backward(self, g):
        return sigmoid_grad(self.y, g, B.empty(g.shape, g.dtype))


class Relu(Function):
    saves_inputs = saves_output = False

    def forward(self, a):
        self.mask = a > 0
        return xp.where(self.mask, a, xp.zeros_like(a))

    def backward(self, g):
        return xp.where(self.mask, g, xp.zeros_like(g))


class Abs(Function):
    saves_output = False

    def forward(self, a):
        self.a = a
        return xp.abs(a)

    def backward(self, g):
        return g * xp.sign(self.a)


class Clip(Function):
    """clip(a, lo, hi); the gradient passes where lo <= a <= hi, as torch.clamp's does."""

    saves_inputs = saves_output = False

    def forward(self, a, lo=None, hi=None):
        self.mask = xp.ones_like(a, dtype=B.bool_)
        if lo is not None:
            self.mask = self.mask & (a >= lo)
        if hi is not None:
            self.mask = self.mask & (a <= hi)
        return xp.clip(a, lo, hi)

    def backward(self, g):
        return xp.where(self.mask, g, xp.zeros_like(g))


class Where(Function):
    """where(cond, a, b) with `cond` a constant boolean array of the same shape."""

    saves_inputs = saves_output = False

    def forward(self, a, b, cond=None):
        self.cond = cond
        return xp.where(cond, a, b)

    def backward(self, g):
        z = xp.zeros_like(g)
        na, nb = self.needs_input_grad
        return (xp.where(self.cond, g, z) if na else None), (xp.where(self.cond, z, g) if nb else None)


class Cast(Function):
    saves_inputs = saves_output = False

    def forward(self, a, dtype=None):
        self.in_dtype = a.dtype
        return xp.astype(a, dtype)

    def backward(self, g):
        return xp.astype(g, self.in_dtype)


# ----- reductions
class Sum(Function):
    saves_inputs = saves_output = False

    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        return xp.sum(a, axis=axis, keepdims=keepdims)

    def backward(self, g):
        if not self.keepdims and self.axis is not None:
            g = B.reshape(g, _kept_shape(self.shape, self.axis))
        elif not self.keepdims:
            g = B.reshape(g, (1,) * len(self.shape))
        return xp.broadcast_to(g, self.shape)


class Max(Function):
    """Max over axes; the gradient is shared evenly by the tied maxima (like torch.amax)."""

    def forward(self, a, axis=None, keepdims=False):
        self.a, self.axis, self.keepdims = a, axis, keepdims
        self.y = xp.max(a, axis=axis, keepdims=True)
        return self.y if keepdims else B.reshape(self.y, _reduced_shape(a.shape, axis))

    def backward(self, g):
        g = B.reshape(g, self.y.shape)
        mask = xp.astype(self.a == self.y, g.dtype)
        count = xp.sum(mask, axis=self.axis, keepdims=True)
        return mask * (g / count)


def _axes(ndim, axis):
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, int) else axis
    return tuple(a % ndim for a in axis)


def _kept_shape(shape, axis):
    axes = _axes(len(shape), axis)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _reduced_shape(shape, axis):
    axes = _axes(len(shape), axis)
    return tuple(s for i, s in enumerate(shape) if i not in axes)


class CumSum(Function):
    """Running sums along `axis`; each input reaches every later output, so backward is the running sum of the
    gradient taken from the far end."""

    def forward(self, a, axis=0):
        self.axis = axis
        return B.cumsum(a, axis)

    def backward(self, g):
        return xp.flip(B.cumsum(xp.flip(g, axis=self.axis), self.axis), axis=self.axis)


# ----- movement
class Reshape(Function):
    saves_inputs = saves_output = False
    views_input = True

    def forward(self, a, shape=None):
        self.in_shape = a.shape
        return B.reshape(a, shape)

    def backward(self, g):
        return B.reshape(g, self.in_shape)


class Permute(Function):
    saves_inputs = saves_output = False
    views_input = True

    def forward(self, a, axes=None):
        self.axes = axes
        return xp.permute_dims(a, axes)

    def backward(self, g):
        inverse = [0] * len(self.axes)
        for i, ax in enumerate(self.axes):
            inverse[ax] = i
        return xp.permute_dims(g, tuple(inverse))


class Expand(Function):
    """Broadcast to a larger shape (a view); backward sums over the broadcast axes."""

    saves_inputs = saves_output = False
    views_input = True

    def forward(self, a, shape=None):
        self.in_shape = a.shape
        return xp.broadcast_to(a, shape)

    def backward(self, g):
        return unbroadcast(g, self.in_shape)


class GetItem(Function):
    """a[idx] for basic slices and integer arrays; backward scatter-adds, so repeated indices accumulate."""

    saves_inputs = saves_output = False
    views_input = True

    def is_view(self, kwargs):
        return _is_basic(kwargs["idx"])  # an integer-array or mask index copies

    def forward(self, a, idx=None):
        self.in_shape, self.idx = a.shape, idx
        return B.getitem(a, idx)

    def backward(self, g):
        if _is_basic(self.idx):
            return IndexGrad(self.idx, g)
        return B.index_add(self.in_shape, self.idx, g)


_is_basic = B.is_basic_index


class Concat(Function):
    saves_inputs = saves_output = False

    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return xp.concat(arrays, axis=axis)

    def backward(self, g):
        out, start = [], 0
        nd = g.ndim
        for size, need in zip(self.sizes, self.needs_input_grad, strict=True):
            if need:
                idx = tuple(slice(start, start + size) if d == self.axis % nd else slice(None) for d in range(nd))
                out.append(g[idx])
            else:
                out.append(None)
            start += size
        return tuple(out)


# ----- linear algebra
class MatMul(Function):
    """Batched matrix product of arrays with ndim >= 2; batch dimensions broadcast."""

    saves_output = False
    saved_inputs = Function._saved_crosswise

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.matmul(a, b)

    def backward(self, g):
        na, nb = self.needs_input_grad
        ga = unbroadcast(xp.matmul(g, _mT(self.b)), self.a.shape) if na else None
        gb = unbroadcast(xp.matmul(_mT(self.a), g), self.b.shape) if nb else None
        return ga, gb


def _mT(a):
    axes = tuple(range(a.ndim - 2)) + (a.ndim - 1, a.ndim - 2)
    return xp.permute_dims(a, axes)


# ----- picking along a dim (torch.gather / scatter_add): each is the other's backward
class Gather(Function):
    """out[i, j, k] = a[i, index[i, j, k], k] for dim=1 (index: an integer array of out's shape); backward
    scatter-adds the gradient back, so repeated indices accumulate."""

    def forward(self, a, index=None, dim=0):
        self.in_shape, self.key = a.shape, B.dim_index(index, dim)
        return B.getitem(a, self.key)

    def backward(self, g):
        return B.index_add(self.in_shape, self.key, g)


class ScatterAdd(Function):
    """a + zeros with src[i, j, k] added at [i, index[i, j, k], k] (dim=1); src has index's shape. Out of place."""

    def forward(self, a, src, index=None, dim=0):
        self.key = B.dim_index(index, dim)
        return a + B.index_add(a.shape, self.key, src)

    def backward(self, g):
        na, ns = self.needs_input_grad
        return (g if na else None), (B.getitem(g, self.key) if ns else None)


class Einsum(Function):
    """einsum over operands whose subscripts `ins` (one string of distinct letters per operand) give the output
    subscripts `out`. backward for operand k is the same contraction with the gradient in k's place:
    dA_k = einsum(out, others -> sub_k); letters of sub_k found nowhere else were summed away in forward, so the
    gradient is constant along them (broadcast back), and a size-1 dim that broadcast is summed back to 1."""

    def forward(self, *arrays, ins=(), out=""):
        self.arrays, self.ins, self.out = arrays, ins, out
        return B.einsum(",".join(ins) + "->" + out, *arrays)

    def backward(self, g):
        grads = []
        for k, need in enumerate(self.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            sub, shape = self.ins[k], self.arrays[k].shape
            others = [s for j, s in enumerate(self.ins) if j != k]
            seen = set(self.out).union(*others)
            target = "".join(c for c in sub if c in seen)
            gk = B.einsum(",".join([self.out] + others) + "->" + target, g,
                          *[a for j, a in enumerate(self.arrays) if j != k])
            kept = tuple(gk.shape[target.index(c)] if c in seen else 1 for c in sub)
            gk = B.reshape(gk, kept)
            wide = tuple(i for i, (n, s) in enumerate(zip(kept, shape, strict=True)) if n != s and s == 1)
            if wide:
                gk = xp.sum(gk, axis=wide, keepdims=True)
            grads.append(gk if gk.shape == shape else xp.broadcast_to(gk, shape))
        return tuple(grads)
