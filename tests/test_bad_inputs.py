"""One table of bad inputs across the public API: each row is a call, the error type, a regex its message must match
and, for stateful objects, a check that the failed call changed nothing. test_bad_inputs_coverage.py walks the API
and fails when a public callable has neither a row here nor a commented exemption there."""

import copy
import os

import numpy as np
import pytest

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
import tinygrad_rnn.nn.utils.rnn as R
import visualize
from tinygrad_rnn import nn, optim
from tinygrad_rnn.optim import lr_scheduler as S


# ----- builders and snapshots
def x34():
    return tr.randn(3, 4)


def param():
    return nn.Parameter(tr.randn(3, 2))


def loss():
    return (tr.randn(3, requires_grad=True) * 2.0).sum()


def trained(cls, **kw):
    """A maker of an optimizer that has taken one step (so it has state to keep)."""
    def make(tmp):
        p = param()
        opt = cls([p], **kw)
        p.grad = tr.randn(3, 2)
        opt.step()
        return opt
    return make


def scheduler(cls, *args):
    def make(tmp):
        sched = cls(trained(optim.SGD, lr=0.1, momentum=0.9)(tmp), *args)
        sched.step()
        return sched
    return make


def checkpoint(tmp):
    path = tmp / "ck.npz"
    tr.save({"w": np.arange(3.0), "epoch": 2}, path)
    return path


def module_state(m):
    return {k: v.copy() for k, v in m.state_dict().items()}, [x.training for x in m.modules()]


def optim_state(opt):
    return copy.deepcopy(opt.state_dict()), [p.numpy().copy() for g in opt.param_groups for p in g["params"]]


def sched_state(s):
    return copy.deepcopy(s.state_dict()), [g["lr"] for g in s.optimizer.param_groups], optim_state(s.optimizer)


def file_state(path):
    return path.read_bytes(), sorted(os.listdir(path.parent))


def same(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return a == b or (a != a and b != b)  # NaN hyperparameters compare equal to themselves


def bad_state_dict(m):
    sd = m.state_dict()
    sd["bias"] = np.array(["a", "b", "c"])  # the right shape, not numeric; "weight" comes first and must survive
    return m.load_state_dict(sd)


def pickled(tmp):
    path = tmp / "evil.npz"
    np.savez(path, obj=np.array([{"a": 1}], dtype=object))
    return path


def truncated(tmp):
    path = checkpoint(tmp)
    path.write_bytes(path.read_bytes()[:40])
    return path


def render_to(path):
    return visualize.render(loss(), path)


ROWS = []
LANDS_WITH = {"tensorapi": "dims validated with helpers.normalize_dim: lands with helper tensorapi",
              "optim": "hyperparameter and load_state_dict validation: lands with helper optim",
              "ckpt": "atomic load_state_dict and checkpoint errors: lands with helper ckpt"}


def row(name, call, exc, match, make=None, state=None, xfail=None):
    """name: the public callable the row exercises (the coverage key); call(): the bad call, or call(obj) on
    make(tmp_path) when the row checks with state(obj) that a failed call changed nothing."""
    marks = [pytest.mark.xfail(strict=True, reason=LANDS_WITH[xfail])] if xfail else []
    ROWS.append(pytest.param(name, call, exc, match, make, state, marks=marks, id=f"{name}-{len(ROWS)}"))


T, V, I, IX = TypeError, ValueError, IndexError, "index: index"  # noqa: E741
# ----- Tensor construction and factories
row("tr.Tensor", lambda: tr.Tensor("abc"), T, r"Tensor: data must be numeric .*str")
row("tr.Tensor", lambda: tr.Tensor([[1, 2], [3]]), V, r"Tensor: ragged .* length 2 at dim 1, got 1")
row("tr.Tensor", lambda: tr.Tensor(np.array([1, "a"], dtype=object)), T, r"Tensor: data must be numeric .*object")
row("tr.Tensor", lambda: tr.Tensor({"a": 1}), T, r"Tensor: data must be numeric .*dict")
row("tr.tensor", lambda: tr.tensor([1, 2], requires_grad=True), T, r"only floating point tensors can require grad")
row("tr.tensor", lambda: tr.tensor([[1.0], [2.0, 3.0]]), V, r"Tensor: ragged nested sequence")
row("tr.zeros", lambda: tr.zeros(-1, 2), V, r"zeros: sizes must be non-negative, got \(-1, 2\)")
row("tr.ones", lambda: tr.ones(2.5), T, r"ones: sizes must be ints, got float 2.5")
row("tr.full", lambda: tr.full((-1,), 2.0), V, r"full: sizes must be non-negative")
row("tr.randn", lambda: tr.randn(2, -3), V, r"randn: sizes must be non-negative, got \(2, -3\)")
row("tr.rand", lambda: tr.rand(2, "a"), T, r"rand: sizes must be ints, got str")
row("tr.zeros_like", lambda: tr.zeros_like([1, 2]), T, r"zeros_like: expected input to be a Tensor, got list")
row("tr.ones_like", lambda: tr.ones_like(3), T, r"ones_like: expected input to be a Tensor, got int")
row("tr.arange", lambda: tr.arange("a"), T, r"arange: end must be a number, got str")
row("tr.arange", lambda: tr.arange(0, 5, 0), V, r"arange: step must be nonzero")
row("tr.arange", lambda: tr.arange(5, 0, 1), V, r"arange: upper bound and lower bound inconsistent with step sign")
row("tr.manual_seed", lambda: tr.manual_seed("a"), T, r"manual_seed: seed should be of type int, got: str")
row("tr.manual_seed", lambda: tr.manual_seed(-1), V, r"manual_seed: seed must be non-negative, got -1")
# ----- shapes
row("Tensor.reshape", lambda: x34().reshape(4, 5), V,
    r"reshape: shape \(4, 5\) is invalid for a tensor of 12 elements \(shape \(3, 4\)\)")
row("Tensor.reshape", lambda: x34().reshape(-1, -1), V, r"reshape: only one size can be inferred \(-1\)")
row("Tensor.reshape", lambda: x34().reshape(-2, 6), V, r"reshape: invalid size -2 in shape \(-2, 6\)")
row("Tensor.reshape", lambda: x34().reshape(2.5, 6), T, r"reshape: sizes must be ints, got float 2.5")
row("Tensor.reshape", lambda: tr.zeros(0, 3).reshape(0, -1), V, r"reshape: cannot infer the -1 in shape \(0, -1\)")
row("Tensor.view", lambda: x34().view(5, 5), V, r"(reshape|view): shape \(5, 5\) is invalid for a tensor of 12")
row("Tensor.expand", lambda: x34().expand(3, 5), V, r"expand: the size 5 at dim 1 must match the existing size 4")
row("Tensor.expand", lambda: x34().expand(4), V, r"expand: the number of sizes given \(1\) must be at least .* \(2\)")
row("Tensor.expand", lambda: x34().expand(-1, 3, 4), V, r"expand: invalid size -1 at a new leading dim")
row("Tensor.permute", lambda: x34().permute(0, 0), V, r"permute: \(0, 0\) is not a permutation of the 2 dims")
row("Tensor.split", lambda: x34().split(0), V, r"split: split_size must be greater than zero, got 0")
row("Tensor.split", lambda: x34().split([4, -1]), V, r"split: split_size must be non-negative, got \(4, -1\)")
row("Tensor.split", lambda: x34().split([1, 1]), V, r"split: sizes \[1, 1\] do not add up to 3")
row("Tensor.chunk", lambda: x34().chunk(0), V, r"chunk: chunks must be greater than zero, got 0")
row("tr.split", lambda: tr.split(x34(), 2.5), T, r"split: split_size should be of type int, got: float")
# ----- indexing
row("Tensor.__getitem__", lambda: x34()[5], I, rf"{IX} 5 is out of range for dim 0 of size 3")
row("Tensor.__getitem__", lambda: x34()[-4], I, rf"{IX} -4 is out of range for dim 0 of size 3")
row("Tensor.__getitem__", lambda: x34()[0, 7], I, rf"{IX} 7 is out of range for dim 1 of size 4")
row("Tensor.__getitem__", lambda: x34()[..., 9], I, rf"{IX} 9 is out of range for dim 1 of size 4")
row("Tensor.__getitem__", lambda: x34()[1.5], T, r"index: only integers, .* got float 1.5")
row("Tensor.__getitem__", lambda: x34()["a"], T, r"index: only integers, .* got str 'a'")
row("Tensor.__getitem__", lambda: x34()[tr.Tensor([0.0, 1.0])], T, r"index: index tensors .* got dtype float32")
row("Tensor.__getitem__", lambda: x34()[[0.5, 1]], T, r"index: index tensors and lists must hold integers or bools")
row("Tensor.__getitem__", lambda: x34()[[0, 5]], I, rf"{IX} 5 \(in an index tensor\) is out of range for dim 0 of")
row("Tensor.__getitem__", lambda: x34()[:, tr.tensor([[1], [-5]])], I, rf"{IX} -5 .* for dim 1 of size 4")
row("Tensor.__getitem__", lambda: x34()[tr.tensor([True, False])], I,
    r"index: the bool mask of shape \(2,\) does not match the indexed dim 0 of size \(3,\)")
row("Tensor.__getitem__", lambda: x34()[0, 0, 0], I, r"index: too many indices for a tensor of 2 dims .* 3 given")
row("Tensor.__getitem__", lambda: x34()[0:2.5], T, r"index: slice stop must be an int or None, got float")
row("Tensor.__getitem__", lambda: x34()[::0], V, r"index: slice step cannot be zero")
row("Tensor.__getitem__", lambda: x34()[..., ...], I, r"index: an index can only have a single ellipsis")
row("Tensor.__getitem__", lambda: x34()[[0, [1]]], I, r"index: ragged nested sequence")
# ----- ops
row("Tensor.__add__", lambda: x34() + tr.randn(5), V, r"broadcast: shapes \(3, 4\) and \(5,\) cannot be broadcast")
row("Tensor.__add__", lambda: x34() + "a", T, r"Tensor: data must be numeric")
row("Tensor.__radd__", lambda: "a" + x34(), T, r"Tensor: data must be numeric")
row("Tensor.__sub__", lambda: x34() - tr.randn(2, 1, 3), V, r"broadcast: shapes")
row("Tensor.__rsub__", lambda: [1.0, 2.0] - x34(), V, r"broadcast: shapes \(2,\) and \(3, 4\)")
row("Tensor.__mul__", lambda: x34() * tr.randn(4, 3), V, r"broadcast: shapes \(3, 4\) and \(4, 3\)")
row("Tensor.__rmul__", lambda: None * x34(), T, r"Tensor: data must be numeric")
row("Tensor.__truediv__", lambda: x34() / tr.randn(2), V, r"broadcast: shapes")
row("Tensor.__rtruediv__", lambda: "a" / x34(), T, r"Tensor: data must be numeric")
row("Tensor.__pow__", lambda: x34() ** tr.randn(5), V, r"broadcast: shapes")
row("Tensor.__rpow__", lambda: [2.0, 3.0] ** x34(), V, r"broadcast: shapes")
row("Tensor.__matmul__", lambda: x34() @ tr.randn(5, 2), V, r"matmul: shapes \(3, 4\) and \(5, 2\) are not aligned")
row("Tensor.__rmatmul__", lambda: np.ones((2, 5)) @ x34(), V, r"matmul: shapes \(2, 5\) and \(3, 4\)")
row("tr.matmul", lambda: tr.matmul(tr.Tensor(1.0), x34()), V, r"matmul: both operands need at least 1 dimension")
for op in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
    row(f"Tensor.{op}", lambda op=op: getattr(x34(), op)(tr.randn(2)), V, r"broadcast: shapes \(3, 4\) and \(2,\)")
row("Tensor.maximum", lambda: x34().maximum(tr.randn(5)), V, r"broadcast: shapes")
row("Tensor.minimum", lambda: x34().minimum("a"), T, r"Tensor: data must be numeric")
row("Tensor.clip", lambda: x34().clip(), V, r"clip: at least one of min and max must be given")
row("Tensor.clamp", lambda: x34().clamp(), V, r"clip: at least one of min and max")
row("Tensor.clip", lambda: x34().clip(min="a"), T, r"clip: min must be a number or None, got str")
row("Tensor.__bool__", lambda: bool(x34()), V, r"the truth value of a tensor of shape \(3, 4\) is ambiguous")
row("Tensor.__len__", lambda: len(tr.Tensor(1.0)), T, r"len\(\) of a 0-d tensor")
row("Tensor.item", lambda: x34().item(), V, r"item\(\): only one-element tensors .* shape \(3, 4\)")
row("Tensor.backward", lambda: x34().sum().backward(), RuntimeError, r"backward\(\): this tensor does not require grad")
row("Tensor.backward", lambda: (tr.randn(3, requires_grad=True) * 2).backward(tr.randn(4)), V,
    r"backward\(\): gradient has shape \(4,\), expected \(3,\)")
row("Tensor.astype", lambda: x34().astype("bogus"), T, r"astype: expected one of tr.float32, .* got 'bogus'")
row("Tensor.to", lambda: x34().to("bogus"), V, r"device: expected one of \('cpu', 'cuda'\) device type, got 'bogus'")
row("Tensor.requires_grad_", lambda: tr.tensor([1, 2]).requires_grad_(), T, r"only floating point tensors can")
row("tr.cat", lambda: tr.cat([x34(), tr.randn(2, 5)]), V, r"cat: shapes \(3, 4\) and \(2, 5\) differ outside dim 0")
row("tr.cat", lambda: tr.cat([]), V, r"cat: expected a non-empty list of tensors")
row("tr.cat", lambda: tr.cat(x34()), T, r"cat: expected a list or tuple of tensors, got Tensor")
row("tr.stack", lambda: tr.stack(5), T, r"stack: expected a list or tuple of tensors, got int")
row("tr.concat", lambda: tr.concat([x34(), x34()], axis=5), I, r"dim 5 is out of range")
row("tr.stack", lambda: tr.stack([x34(), tr.randn(2, 4)]), V, r"stack: all tensors must have the same shape")
row("tr.where", lambda: tr.where(tr.tensor([True, False]), x34(), x34()), V, r"broadcast: shapes")
row("tr.gradcheck", lambda: tr.gradcheck(lambda a: a * 2, (x34(),)), V, r"gradcheck: no input has requires_grad")
row("tr.gradcheck", lambda: tr.gradcheck(lambda a: a, 5), T, r"gradcheck: expected a callable and a tuple of inputs")
# ----- the PyTorch tensor API (issue 10)
DIM5 = r"dim 5 is out of range for a tensor of 2 dims"
row("Tensor.__float__", lambda: float(x34()), V, r"float\(\): only one-element tensors can be converted")
row("Tensor.__int__", lambda: int(x34()), V, r"int\(\): only one-element tensors can be converted")
row("Tensor.__index__", lambda: [1, 2][tr.Tensor([1.0])], T, r"only integer tensors of a single element")
row("Tensor.amax", lambda: x34().amax(5), I, r"amax: " + DIM5)
row("Tensor.amin", lambda: x34().amin(-3), I, r"dim -3 is out of range")
row("Tensor.argmin", lambda: x34().argmin(5), I, r"argmin: " + DIM5)
row("Tensor.argsort", lambda: x34().argsort(5), I, r"argsort: " + DIM5)
row("Tensor.sort", lambda: x34().sort(5), I, DIM5)
row("Tensor.std", lambda: x34().std(5), I, DIM5)
row("Tensor.unbind", lambda: x34().unbind(5), I, r"unbind: " + DIM5)
row("Tensor.bmm", lambda: x34().bmm(x34()), V, r"bmm: expected \(B, n, m\) and \(B, m, p\) tensors")
row("Tensor.matmul", lambda: x34().matmul(x34()), V, r"matmul: shapes \(3, 4\) and \(3, 4\) are not aligned")
row("Tensor.t", lambda: tr.randn(2, 3, 4).t(), V, r"t: expects a tensor of at most 2 dims, got shape \(2, 3, 4\)")
row("Tensor.expand_as", lambda: x34().expand_as(tr.randn(2, 4)), V, r"expand: the size 2 at dim 0 must match")
row("Tensor.gather", lambda: x34().gather(1, tr.tensor([[0, 5]])), I, r"gather: index 5 is out of bounds for dim 1")
row("Tensor.gather", lambda: x34().gather(1, tr.Tensor([[0.0]])), T, r"gather: expected an int64 index tensor")
row("Tensor.scatter_add", lambda: x34().scatter_add(1, tr.tensor([[4]]), tr.randn(1, 1)), I,
    r"scatter_add: index 4 is out of bounds for dim 1 with size 4")
row("Tensor.masked_fill", lambda: x34().masked_fill(tr.randn(3, 4), 0.0), T, r"masked_fill: expected a bool mask")
row("Tensor.masked_select", lambda: x34().masked_select(tr.tensor([True, False])), V, r"broadcast: shapes")
row("Tensor.narrow", lambda: x34().narrow(1, 2, 5), I, r"narrow: start 2 and length 5 do not fit dim 1 of size 4")
row("Tensor.select", lambda: x34().select(0, 3), I, r"select: index 3 is out of range for dim 0 of size 3")
row("Tensor.topk", lambda: x34().topk(5), V, r"topk: k=5 is out of range for dim 1 of size 4")
row("Tensor.tril", lambda: tr.randn(3).tril(), V, r"tril: expects a tensor of at least 2 dims, got shape \(3,\)")
row("Tensor.triu", lambda: tr.randn(3).triu(), V, r"triu: expects a tensor of at least 2 dims")
row("Tensor.where", lambda: x34().where(tr.tensor([True, False]), 0.0), V, r"broadcast: shapes")
row("Tensor.repeat", lambda: x34().repeat(2), V, r"repeat: got 1 repeat counts for a tensor of 2 dims")
row("Tensor.repeat", lambda: x34().repeat(2, -1), V, r"repeat: repeat counts must be non-negative, got \(2, -1\)")
row("Tensor.type_as", lambda: x34().type_as(3), T, r"type_as: expected a Tensor, got int")
row("Tensor.new_zeros", lambda: x34().new_zeros(-2), V, r"new_zeros: sizes must be non-negative, got \(-2,\)")
row("Tensor.new_ones", lambda: x34().new_ones(2.5), T, r"new_ones: sizes must be ints, got float 2.5")
row("Tensor.new_full", lambda: x34().new_full((2, -1), 1.0), V, r"new_full: sizes must be non-negative")
row("Tensor.new_empty", lambda: x34().new_empty(-1), V, r"new_zeros: sizes must be non-negative")
row("Tensor.new_tensor", lambda: x34().new_tensor("a"), T, r"Tensor: data must be numeric")
row("Tensor.cuda", lambda: x34().cuda("tpu"), V, r"device: expected one of \('cpu', 'cuda'\) device type, got 'tpu'")
row("nn.Module.cuda", lambda m: m.cuda("tpu"), V, r"device: expected one of", lambda tmp: nn.Linear(2, 2),
    module_state)
row("tr.Tensor", lambda: tr.Tensor(2, -3), V, r"Tensor: sizes must be non-negative, got \(2, -3\)")
row("tr.Tensor", lambda: tr.Tensor([1.0], [2.0]), T, r"Tensor: expected data or a size of ints, got 2 arguments")
row("tr.FloatTensor", lambda: tr.FloatTensor("a"), T, r"Tensor: data must be numeric")
row("tr.DoubleTensor", lambda: tr.DoubleTensor(2, -3), V, r"Tensor: sizes must be non-negative")
row("tr.LongTensor", lambda: tr.LongTensor([[1], [2, 3]]), V, r"Tensor: ragged nested sequence")
row("tr.IntTensor", lambda: tr.IntTensor(None), T, r"Tensor: data must be numeric")
row("tr.BoolTensor", lambda: tr.BoolTensor(-1), V, r"Tensor: sizes must be non-negative")
row("tr.as_tensor", lambda: tr.as_tensor("a"), T, r"Tensor: data must be numeric")
row("tr.device", lambda: tr.device("tpu"), V, r"device: expected one of \('cpu', 'cuda'\) device type, got 'tpu'")
row("tr.device", lambda: tr.device("cuda:x"), V, r"device: invalid device index")
row("tr.einsum", lambda: tr.einsum("ij,jk->ik", x34(), x34()), V, r"einsum: letter 'j' has size 4 in one operand and 3")
row("tr.einsum", lambda: tr.einsum("ij,jk->ik", x34()), V, r"einsum: 'ij,jk->ik' names 2 operands, got 1")
row("tr.empty", lambda: tr.empty(-1), V, r"(empty|zeros): sizes must be non-negative")
row("tr.empty_like", lambda: tr.empty_like(3), T, r"(empty|zeros)_like: expected input to be a Tensor, got int")
row("tr.full_like", lambda: tr.full_like([1], 2), T, r"full_like: expected input to be a Tensor, got list")
row("tr.randint", lambda: tr.randint(5, 2, (3,)), V, r"randint: expected low < high, got low=5 and high=2")
row("tr.randint", lambda: tr.randint(5), T, r"randint: size is required")
row("tr.randint", lambda: tr.randint(0, 5, (-1,)), V, r"randint: sizes must be non-negative")
for fn in ("add", "sub", "mul", "div", "pow", "maximum", "minimum"):
    row(f"tr.{fn}", lambda fn=fn: getattr(tr, fn)(x34(), tr.randn(5)), V, r"broadcast: shapes \(3, 4\) and \(5,\)")
for fn in ("abs", "neg", "exp", "log", "sqrt", "relu", "tanh", "sigmoid", "numel"):
    row(f"tr.{fn}", lambda fn=fn: getattr(tr, fn)("a"), T, r"Tensor: data must be numeric .*str")
for fn in ("sum", "mean", "std", "var", "max", "min", "amax", "amin", "argmax", "argmin", "argsort", "sort",
           "logsumexp", "softmax", "log_softmax", "squeeze", "flatten", "unbind"):
    row(f"tr.{fn}", lambda fn=fn: getattr(tr, fn)(x34(), 5), I, DIM5)
row("tr.unsqueeze", lambda: tr.unsqueeze(x34(), 4), I, r"unsqueeze: dim 4 is out of range .* \[-3, 2\]")
row("tr.transpose", lambda: tr.transpose(x34(), 0, 5), I, r"transpose: " + DIM5)
row("tr.swapaxes", lambda: tr.swapaxes(x34(), 5, 0), I, DIM5)
row("tr.permute", lambda: tr.permute(x34(), (0, 0)), V, r"permute: \(0, 0\) is not a permutation")
row("tr.reshape", lambda: tr.reshape(x34(), (5,)), V, r"reshape: shape \(5,\) is invalid for a tensor of 12")
row("tr.chunk", lambda: tr.chunk(x34(), 0), V, r"chunk: chunks must be greater than zero, got 0")
row("tr.clamp", lambda: tr.clamp(x34()), V, r"clip: at least one of min and max must be given")
row("tr.clip", lambda: tr.clip(x34(), min="a"), T, r"clip: min must be a number or None, got str")
row("tr.t", lambda: tr.t(tr.randn(2, 3, 4)), V, r"t: expects a tensor of at most 2 dims")
row("tr.topk", lambda: tr.topk(x34(), 9), V, r"topk: k=9 is out of range")
row("tr.gather", lambda: tr.gather(x34(), 1, tr.tensor([[0, 5]])), I, r"gather: index 5 is out of bounds")
row("tr.scatter_add", lambda: tr.scatter_add(x34(), 1, tr.tensor([[9]]), tr.randn(1, 1)), I, r"scatter_add: index 9")
row("tr.masked_fill", lambda: tr.masked_fill(x34(), tr.tensor([True] * 4), "a"), T, r"Tensor: data must be numeric")
row("tr.masked_select", lambda: tr.masked_select(x34(), tr.randn(3, 4)), T, r"masked_select: expected a bool mask")
row("tr.narrow", lambda: tr.narrow(x34(), 0, 2, 2), I, r"narrow: start 2 and length 2 do not fit dim 0 of size 3")
row("tr.select", lambda: tr.select(x34(), 0, 3), I, r"select: index 3 is out of range for dim 0 of size 3")
row("tr.tril", lambda: tr.tril(tr.randn(3)), V, r"tril: expects a tensor of at least 2 dims")
row("tr.triu", lambda: tr.triu(tr.randn(3)), V, r"triu: expects a tensor of at least 2 dims")
row("tr.bmm", lambda: tr.bmm(x34(), x34()), V, r"bmm: expected \(B, n, m\) and \(B, m, p\) tensors")
row("tr.zeros", lambda: tr.zeros(x34()), T, r"zeros: sizes must be ints, got a Tensor that is not one integer")
row("tr.zeros", lambda: tr.zeros(2, dtype="float32"), T, r"zeros: expected one of tr.float32, .* got 'float32'")
row("tr.tensor", lambda: tr.tensor([1.0], dtype=5), T, r"Tensor: expected one of tr.float32, .* got 5")
row("tr.full", lambda: tr.full((2,), "a"), T, r"full: fill_value must be a number or a bool, got str")
row("tr.full_like", lambda: tr.full_like(x34(), [1, 2]), T, r"full: fill_value must be a number")
row("tr.einsum", lambda: tr.einsum(None, x34()), T, r"einsum: equation must be a str")
row("Tensor.tril", lambda: x34().tril(None), T, r"tril: diagonal should be of type int, got: NoneType")
row("Tensor.triu", lambda: x34().triu(1.5), T, r"triu: diagonal should be of type int, got: float")
row("Tensor.unbind", lambda: tr.Tensor(1.0).unbind(), V, r"unbind: a 0-d tensor has no dim to unbind")
row("Tensor.expand_as", lambda: x34().expand_as((3, 4)), T, r"expand_as: expected a Tensor, got tuple")
row("F.softmax", lambda: F.softmax([1.0, 2.0], 0), T, r"softmax: expected input to be a Tensor, got list")
row("F.log_softmax", lambda: F.log_softmax(None, 0), T, r"log_softmax: expected input to be a Tensor, got NoneType")
row("tr.randint", lambda: tr.randint(0, 2.5, (3,)), T, r"randint: high must be an int, got float")
# ----- item assignment and in-place ops (a failed one leaves the tensor as it was)
def setitem(t, idx, value):
    t[idx] = value


def iop(op):
    def call(t):
        t = getattr(t, op)(tr.randn(5))
    return call


leaf = lambda tmp: tr.randn(3, 4)  # noqa: E731
values = lambda t: t.numpy().copy()  # noqa: E731
row("Tensor.__setitem__", lambda t: setitem(t, 5, 1.0), I, rf"{IX} 5 is out of range for dim 0 of size 3", leaf,
    values)
row("Tensor.__setitem__", lambda t: setitem(t, (0, 1.5), 1.0), T,
    r"index: only integers, .* got float 1.5", leaf, values)
row("Tensor.__setitem__", lambda t: setitem(t, 0, tr.randn(5)), V,
    r"__setitem__: value of shape \(5,\) cannot be broadcast to the indexed shape \(4,\)", leaf, values)
row("Tensor.__setitem__", lambda t: setitem(t, tr.tensor([True, False]), 0.0), I, r"index: the bool mask of shape",
    leaf, values)
row("Tensor.__setitem__", lambda t: setitem(t, 0, 1.0), RuntimeError,
    r"__setitem__: a leaf Variable that requires grad is being used in an in-place operation",
    lambda tmp: tr.randn(3, requires_grad=True), values)
for op in ("__iadd__", "__isub__", "__imul__", "__itruediv__", "add_", "sub_", "mul_", "div_"):
    row(f"Tensor.{op}", iop(op), V, r"broadcast: shapes \(3, 4\) and \(5,\)", leaf, values)
row("Tensor.add_", lambda t: t.add_(t, alpha="a"), T, r"Tensor: data must be numeric", leaf, values)
row("Tensor.add_", lambda t: t.add_(0.5), T, r"add_: result type Float can't be cast to the desired output type Long",
    lambda tmp: tr.tensor([1, 2]), values)
row("Tensor.clamp_", lambda t: t.clamp_(), V, r"clip: at least one of min and max must be given", leaf, values)
row("Tensor.clip_", lambda t: t.clip_(min="a"), T, r"clip: min must be a number or None, got str", leaf, values)
row("Tensor.copy_", lambda t: t.copy_(tr.randn(5)), V, r"copy_: value of shape \(5,\) cannot be broadcast", leaf,
    values)
row("Tensor.fill_", lambda t: t.fill_(tr.randn(2)), V, r"fill_: expected a number or a 0-dim tensor, got shape \(2,\)",
    leaf, values)
row("Tensor.masked_fill_", lambda t: t.masked_fill_(tr.randn(3, 4), 0.0), T, r"masked_fill_: expected a boolean mask",
    leaf, values)
row("Tensor.normal_", lambda t: t.normal_(std=-1.0), V, r"normal_: expected std >= 0, got std=-1.0", leaf, values)
row("Tensor.uniform_", lambda t: t.uniform_(2.0, 1.0), V, r"uniform_: expected a range \[a, b\) with a <= b", leaf,
    values)
row("Tensor.zero_", lambda t: t.zero_(), RuntimeError, r"a leaf Variable that requires grad is being used in an in-pl",
    lambda tmp: tr.randn(3, requires_grad=True), values)
# ----- dims (the rule is helpers.normalize_dim's: IndexError naming the op, the dim and the range)
for meth in ("sum", "mean", "var", "max", "min", "argmax", "logsumexp", "log_softmax", "softmax", "squeeze",
             "flatten", "size"):
    row(f"Tensor.{meth}", lambda meth=meth: getattr(x34(), meth)(5), I, r"dim 5 is out of range")
row("Tensor.transpose", lambda: x34().transpose(0, 5), I, r"dim 5 is out of range")
row("Tensor.unsqueeze", lambda: x34().unsqueeze(10), I, r"dim 10 is out of range")
row("F.softmax", lambda: F.softmax(x34(), dim=2), I, r"softmax: dim 2 is out of range")
row("F.log_softmax", lambda: F.log_softmax(x34(), 2), I, r"log_softmax: dim 2 is out of range")
row("nn.Softmax", lambda: nn.Softmax(3)(x34()), I, r"softmax: dim 3 is out of range")
row("nn.LogSoftmax", lambda: nn.LogSoftmax(-3)(x34()), I, r"dim -3 is out of range")
row("nn.Flatten", lambda: nn.Flatten(4)(x34()), I, r"dim 4 is out of range")
# ----- layers: constructors, and calls that must leave the module unchanged
lin = lambda tmp: nn.Linear(4, 3)  # noqa: E731
lstm = lambda tmp: nn.LSTM(3, 4)  # noqa: E731
row("nn.Linear", lambda: nn.Linear(-1, 3), V, r"Linear: in_features must be non-negative, got -1")
row("nn.Linear", lambda: nn.Linear(4, 2.5), T, r"Linear: out_features should be of type int, got: float 2.5")
row("nn.Linear", lambda m: m(tr.randn(2, 5)), V, r"Linear: expected input with last dimension 4, got shape \(2, 5\)",
    lin, module_state)
row("nn.Linear", lambda m: m([[1.0] * 4]), T, r"Linear: expected input to be a Tensor, got list", lin, module_state)
row("nn.Embedding", lambda: nn.Embedding(-1, 3), V, r"Embedding: num_embeddings must be non-negative, got -1")
row("nn.Embedding", lambda: nn.Embedding(5, 3, padding_idx=5), V, r"Embedding: padding_idx must be within \[-5, 5\)")
row("nn.Embedding", lambda: nn.Embedding(5, 3, padding_idx=1.5), T, r"Embedding: padding_idx should be of type int")
row("nn.Embedding", lambda m: m(tr.Tensor([0.5])), T, r"embedding: expected integer indices, got dtype float32",
    lambda tmp: nn.Embedding(5, 3), module_state)
row("nn.Embedding", lambda m: m(tr.tensor([1, 5])), V, r"embedding: index 5 is out of range for a table of 5 rows",
    lambda tmp: nn.Embedding(5, 3), module_state)
row("nn.Embedding.from_pretrained", lambda: nn.Embedding.from_pretrained(tr.randn(2, 3, 4)), V,
    r"Embedding.from_pretrained: expected a 2-d table, got shape \(2, 3, 4\)")
row("nn.Dropout", lambda: nn.Dropout(1.5), V, r"Dropout: dropout probability has to be between 0 and 1, got 1.5")
row("nn.Dropout", lambda: nn.Dropout("a"), T, r"Dropout: dropout probability should be a number between 0 and 1")
row("nn.LayerNorm", lambda: nn.LayerNorm(-1), V, r"LayerNorm: normalized_shape must be non-negative, got \(-1,\)")
row("nn.LayerNorm", lambda: nn.LayerNorm((2, "a")), T, r"LayerNorm: normalized_shape must be ints, got str")
row("nn.LayerNorm", lambda m: m(tr.randn(2, 3)), V, r"LayerNorm: expected input with trailing shape \(4,\), got",
    lambda tmp: nn.LayerNorm(4), module_state)
row("nn.RNN", lambda: nn.RNN(-1, 4), V, r"RNN: input_size must be greater than zero, got -1")
row("nn.RNN", lambda: nn.RNN(3, 4.0), T, r"RNN: hidden_size should be of type int, got: float")
row("nn.RNN", lambda: nn.RNN(3, 4, num_layers=0), V, r"RNN: num_layers must be greater than zero, got 0")
row("nn.RNN", lambda: nn.RNN(3, 4, nonlinearity="gelu"), V, r"RNN: unknown nonlinearity 'gelu'")
row("nn.RNN", lambda: nn.RNN(3, 4, num_layers=2, dropout=1.5), V, r"RNN: dropout should be a number in range \[0, 1\]")
row("nn.LSTM", lambda: nn.LSTM(3, 4, proj_size=-1), V, r"LSTM: proj_size must be non-negative, got -1")
row("nn.LSTM", lambda: nn.LSTM(3, 4, proj_size=4), V, r"LSTM: proj_size has to be smaller than hidden_size")
row("nn.LSTM", lambda m: m(tr.randn(2, 1, 3), (tr.randn(1, 1, 4, dtype=tr.float64), tr.randn(1, 1, 4))), T,
    r"LSTM: h_0 has dtype float64 but the parameters are float32", lstm, module_state)
row("nn.LSTM", lambda m: m(tr.randn(2, 1, 3), (tr.randn(1, 1, 4), tr.randn(1, 1, 4, dtype=tr.float64))), T,
    r"LSTM: c_0 has dtype float64", lstm, module_state)
row("nn.LSTM", lambda m: m(tr.randn(2, 1, 3), (tr.randn(1, 1, 4), tr.randn(1, 2, 4))), V,
    r"LSTM: expected c_0 of shape \(1, 1, 4\), got \(1, 2, 4\)", lstm, module_state)
row("nn.LSTM", lambda m: m(tr.randn(2, 1, 3), tr.randn(1, 1, 4)), T, r"LSTM: expected hx to be a tuple \(h_0, c_0\)",
    lstm, module_state)
row("nn.LSTM", lambda m: m(tr.randn(2, 1, 3, dtype=tr.float64)), T, r"LSTM: input has dtype float64", lstm,
    module_state)
row("nn.GRU", lambda m: m(tr.randn(2, 0, 3)), V, r"GRU: expected at least one time step, got shape \(2, 0, 3\)",
    lambda tmp: nn.GRU(3, 4, batch_first=True), module_state)
row("nn.GRU", lambda m: m(tr.randn(5, 2, 7)), V, r"GRU: expected input of feature size 3, got shape \(5, 2, 7\)",
    lambda tmp: nn.GRU(3, 4, batch_first=True), module_state)
row("nn.RNNCell", lambda: nn.RNNCell(3, 0), V, r"RNNCell: hidden_size must be greater than zero, got 0")
row("nn.RNNCell", lambda m: m(tr.randn(2, 3), tr.randn(2, 4, dtype=tr.float64)), T,
    r"RNNCell: hx has dtype float64 but the parameters are float32", lambda tmp: nn.RNNCell(3, 4), module_state)
row("nn.LSTMCell", lambda m: m(tr.randn(2, 3), tr.randn(2, 4)), T, r"LSTMCell: expected hx to be a tuple",
    lambda tmp: nn.LSTMCell(3, 4), module_state)
row("nn.LSTMCell", lambda m: m(tr.randn(2, 3), (tr.randn(2, 4), tr.randn(2, 4, dtype=tr.float64))), T,
    r"LSTMCell: c_0 has dtype float64", lambda tmp: nn.LSTMCell(3, 4), module_state)
row("nn.GRUCell", lambda m: m(tr.randn(3, 3), tr.randn(3, 5)), V, r"GRUCell: expected hx of shape \(3, 4\), got",
    lambda tmp: nn.GRUCell(3, 4), module_state)
row("nn.Bidirectional", lambda: nn.Bidirectional(nn.GRU(3, 4), merge_mode="max"), V, r"merge_mode must be one of")
row("nn.Bidirectional", lambda: nn.Bidirectional(nn.GRU(3, 4, bidirectional=True)), V, r"already bidirectional")
row("nn.Sequential", lambda: nn.Sequential(nn.Tanh(), 5), T, r"Sequential: expected an nn.Module, got int")
row("nn.Sequential.append", lambda m: m.append("relu"), T, r"Sequential: expected an nn.Module, got str",
    lambda tmp: nn.Sequential(nn.Linear(2, 2)), module_state)
row("nn.ModuleList", lambda: nn.ModuleList([nn.Tanh(), None]), T, r"ModuleList: expected an nn.Module, got NoneType")
row("nn.ModuleList.append", lambda: nn.ModuleList().append(3), T, r"ModuleList: expected an nn.Module, got int")
row("nn.ModuleList.extend", lambda: nn.ModuleList().extend([nn.Tanh(), 3]), T, r"ModuleList: expected an nn.Module")
row("nn.ModuleList.insert", lambda: nn.ModuleList().insert(0, "a"), T, r"ModuleList: expected an nn.Module, got str")
row("nn.ModuleList", lambda: nn.ModuleList(5), T, r"ModuleList: expected an iterable of Modules, got int")
row("nn.ModuleDict", lambda: nn.ModuleDict("ab"), T, r"ModuleDict: expected a dict or \(key, Module\) pairs, got str")
row("nn.ModuleDict", lambda: nn.ModuleDict({1: nn.Tanh()}), T, r"ModuleDict: keys must be strings, got int")
row("nn.ModuleDict.update", lambda: nn.ModuleDict().update({"a": 1}), T, r"ModuleDict: expected an nn.Module")
row("nn.Parameter", lambda: nn.Parameter("w"), T, r"Tensor: data must be numeric")
row("nn.Parameter", lambda: nn.Parameter(tr.tensor([1, 2])), T, r"only floating point tensors can require gradients")
# ----- Module methods
row("nn.Module.load_state_dict", lambda m: m.load_state_dict({"weight": np.zeros((2, 2)), "bias": np.zeros(3)}),
    RuntimeError, r"size mismatch for weight: copying a param with shape \(2, 2\)", lin, module_state)
row("nn.Module.load_state_dict", lambda m: m.load_state_dict({"weight": np.zeros((3, 4))}), RuntimeError,
    r'Missing key\(s\) in state_dict: "bias"', lin, module_state)
row("nn.Module.load_state_dict", lambda m: m.load_state_dict({"weight": "w", "bias": np.zeros(3)}), RuntimeError,
    r'copying the parameter named "weight", expected a numeric array of shape \(3, 4\) .* received a str', lin,
    module_state)
row("nn.Module.load_state_dict", bad_state_dict, RuntimeError,
    r'parameter named "bias", expected a numeric array .*<U1', lin, module_state)
row("nn.Module.to", lambda m: m.to("bogus"), (T, V, RuntimeError), r"bogus", lin, module_state)
row("nn.Module.register_parameter", lambda m: m.register_parameter("w", tr.randn(2)), T,
    r"Linear.register_parameter: cannot assign a Tensor to parameter 'w' \(an nn.Parameter or None required\)",
    lin, module_state)
row("nn.Module.register_buffer", lambda m: m.register_buffer("b", 5), T,
    r"Linear.register_buffer: cannot assign a int to buffer 'b'", lin, module_state)
row("nn.Module.add_module", lambda m: m.add_module("a.b", nn.Tanh()), V, r"Linear.add_module: name must be a non-empty",
    lin, module_state)
row("nn.Module.add_module", lambda m: m.add_module("head", 5), T, r"Linear.add_module: 'head' must be an nn.Module",
    lin, module_state)
row("nn.Module.apply", lambda m: m.apply(5), T, r"Linear.apply: fn must be callable, got int", lin, module_state)
row("nn.Module.train", lambda m: m.train("no"), V, r"Linear.train: mode is expected to be a bool, got 'no'", lin,
    module_state)
# ----- functional and losses
row("F.linear", lambda: F.linear(x34(), tr.randn(2, 5)), V, r"linear: expected input with last dimension 5")
row("F.linear", lambda: F.linear(x34(), tr.randn(2, 4, dtype=tr.float64)), T, r"linear: input dtype float32 does not")
row("F.embedding", lambda: F.embedding(tr.tensor([3]), tr.randn(3, 2)), V, r"embedding: index 3 is out of range")
row("F.dropout", lambda: F.dropout(x34(), p=-0.1), V, r"dropout: dropout probability has to be between 0 and 1")
row("F.dropout", lambda: F.dropout(np.ones(3)), T, r"dropout: expected input to be a Tensor, got ndarray")
row("F.layer_norm", lambda: F.layer_norm(x34(), (5,)), V, r"layer_norm: expected input with trailing shape \(5,\)")
row("F.layer_norm", lambda: F.layer_norm(x34(), None), T, r"layer_norm: normalized_shape must be ints, got NoneType")
row("F.relu", lambda: F.relu(5), T, r"relu: expected input to be a Tensor, got int")
row("F.tanh", lambda: F.tanh([1.0]), T, r"tanh: expected input to be a Tensor, got list")
row("F.sigmoid", lambda: F.sigmoid(None), T, r"sigmoid: expected input to be a Tensor, got NoneType")
row("F.cross_entropy", lambda: F.cross_entropy(x34(), tr.tensor([0, 1])), V,
    r"cross_entropy: expected target of shape \(3,\) for input of shape \(3, 4\), got shape \(2,\)")
row("F.cross_entropy", lambda: F.cross_entropy(x34(), tr.randn(3)), T, r"cross_entropy: expected integer class indices")
row("F.cross_entropy", lambda: F.cross_entropy(x34(), tr.tensor([0, 1, 4])), V,
    r"cross_entropy: target index 4 is out of range for 4 classes")
row("F.cross_entropy", lambda: F.cross_entropy(x34(), tr.tensor([0, 1, 2]), weight=tr.randn(3)), V,
    r"cross_entropy: expected weight of shape \(4,\), got shape \(3,\)")
row("F.cross_entropy", lambda: F.cross_entropy(x34(), tr.tensor([0, 1, 2]), reduction="avg"), V,
    r"cross_entropy: reduction must be one of \('mean', 'sum', 'none'\), got 'avg'")
row("F.cross_entropy", lambda: F.cross_entropy(x34(), tr.tensor([0, 1, 2]), label_smoothing=2), V,
    r"cross_entropy: label_smoothing must be in \[0, 1\], got 2")
row("F.cross_entropy", lambda: F.cross_entropy(x34().numpy(), tr.tensor([0, 1, 2])), T,
    r"cross_entropy: expected input to be a Tensor, got ndarray")
row("F.cross_entropy_composed", lambda: F.cross_entropy_composed(x34(), tr.tensor([-1, 0, 0])), V,
    r"cross_entropy: target index -1 is out of range for 4 classes")
row("F.nll_loss", lambda: F.nll_loss(x34(), tr.tensor([0, 1, 9])), V, r"nll_loss: target index 9 is out of range")
row("F.mse_loss", lambda: F.mse_loss(tr.randn(3), tr.randn(4)), V,
    r"mse_loss: expected target of shape \(3,\) \(same as input\), got shape \(4,\)")
row("F.binary_cross_entropy_with_logits", lambda: F.binary_cross_entropy_with_logits(tr.randn(3), tr.tensor([0, 1, 1])),
    T, r"binary_cross_entropy_with_logits: expected a float target, got dtype int64")
row("F.binary_cross_entropy_with_logits", lambda: F.binary_cross_entropy_with_logits(tr.randn(3), tr.randn(2)), V,
    r"binary_cross_entropy_with_logits: expected target of shape \(3,\)")
row("nn.CrossEntropyLoss", lambda: nn.CrossEntropyLoss(reduction="avg"), V, r"CrossEntropyLoss: reduction must be")
row("nn.NLLLoss", lambda: nn.NLLLoss()(x34(), tr.tensor([0, 1, -3])), V, r"nll_loss: target index -3 is out of range")
row("nn.MSELoss", lambda: nn.MSELoss()(tr.randn(2, 3), tr.randn(3, 2)), V, r"mse_loss: expected target of shape")
row("nn.BCEWithLogitsLoss", lambda: nn.BCEWithLogitsLoss(reduction=None), V, r"BCEWithLogitsLoss: reduction must be")
# ----- nn.utils
row("nn.utils.clip_grad_norm_", lambda: nn.utils.clip_grad_norm_(5, 1.0), T,
    r"clip_grad_norm_: parameters must be a Tensor or an iterable of Tensors, got int")
row("nn.utils.clip_grad_norm_", lambda: nn.utils.clip_grad_norm_([param()], "1"), T,
    r"clip_grad_norm_: max_norm must be a number, got str")
row("nn.utils.clip_grad_norm_", lambda: nn.utils.clip_grad_norm_([param()], -1.0), V,
    r"clip_grad_norm_: max_norm must be >= 0, got -1.0")
row("nn.utils.clip_grad_norm_", lambda: nn.utils.clip_grad_norm_([param()], 1.0, norm_type=0), V,
    r"clip_grad_norm_: norm_type must be positive or inf, got 0.0")
row("nn.utils.clip_grad_norm_", lambda: nn.utils.clip_grad_norm_([param(), 3], 1.0), T,
    r"clip_grad_norm_: parameters must be Tensors, got a int")
row("nn.utils.clip_grad_value_", lambda: nn.utils.clip_grad_value_([param()], -1), V,
    r"clip_grad_value_: clip_value must be >= 0, got -1.0")
row("nn.utils.rnn.pack_padded_sequence", lambda: R.pack_padded_sequence(tr.randn(3, 2, 4), [4, 1]), V,
    r"pack_padded_sequence: lengths must be between 1 and the padded length 3, got \[4, 1\]")
row("nn.utils.rnn.pack_padded_sequence", lambda: R.pack_padded_sequence(tr.randn(3, 2, 4), [3]), V,
    r"pack_padded_sequence: expected 2 lengths \(one per sequence\), got 1")
row("nn.utils.rnn.pad_sequence", lambda: R.pad_sequence([]), V, r"pad_sequence: expected a non-empty list of tensors")
row("nn.utils.rnn.pad_sequence", lambda: R.pad_sequence(x34()), T, r"pad_sequence: expected a list of tensors, got")
row("nn.utils.rnn.pad_sequence", lambda: R.pad_sequence([tr.randn(2), "ab"]), T,
    r"pad_sequence: expected a list of Tensors, got a str at index 1")
row("nn.utils.rnn.pad_packed_sequence",
    lambda: R.pad_packed_sequence(R.pack_sequence([tr.randn(3, 2), tr.randn(2, 2)]), total_length=2), V,
    r"pad_packed_sequence: total_length=2 is smaller than the longest sequence \(3\)")
row("nn.utils.rnn.pack_sequence", lambda: R.pack_sequence([tr.randn(2, 3), tr.randn(2, 4)]), V,
    r"pad_sequence: every sequence must have trailing shape \(3,\)")
row("nn.utils.rnn.lengths_to_host", lambda: R.lengths_to_host([1.5, 2]), V,
    r"lengths: expected a 1-D sequence of integers, got float64")
row("nn.utils.rnn.lengths_to_host", lambda: R.lengths_to_host([1, [2]]), V, r"lengths: expected a 1-D sequence")
row("nn.utils.rnn.pad_packed_sequence", lambda: R.pad_packed_sequence(x34()), T,
    r"pad_packed_sequence: expected a PackedSequence, got Tensor")
row("nn.utils.rnn.reverse_padded", lambda: R.reverse_padded(tr.randn(3, 2, 4), [2, 5]), V,
    r"reverse_padded: lengths must be between 0 and the padded length 3, got \[2, 5\]")
row("nn.utils.rnn.reverse_padded", lambda: R.reverse_padded([[1.0]]), T, r"reverse_padded: expected a Tensor, got list")
row("nn.utils.rnn.last_outputs", lambda: R.last_outputs(tr.randn(3, 2, 4), [0, 1]), V,
    r"last_outputs: lengths must be between 1 and the padded length 3, got \[0, 1\]")
row("nn.utils.rnn.last_outputs", lambda: R.last_outputs(x34()), V,
    r"last_outputs: expected a 3-d padded batch \(T, N, F\), got shape \(3, 4\)")
row("nn.utils.rnn.packed_layout", lambda: R.packed_layout(R.PackedSequence(tr.randn(3), [[1]], None, None)), V,
    r"batch_sizes: expected a 1-D sequence of integers")
row("nn.utils.rnn.packed_layout", lambda: R.packed_layout((1, 2)), T, r"packed_layout: expected a PackedSequence")
# ----- optimizers and schedulers (a failed load_state_dict leaves the optimizer as it was)
adam = trained(optim.Adam)
row("optim.SGD", lambda: optim.SGD([param()], lr=-0.1), V, r"SGD: invalid lr=-0.1; expected a finite number >= 0")
row("optim.SGD", lambda: optim.SGD([param()], lr=float("nan")), V, r"SGD: invalid lr=nan; expected a finite number")
row("optim.SGD", lambda: optim.SGD([param()], lr=0.1, momentum=-1), V, r"SGD: invalid momentum=-1; expected a finite")
row("optim.SGD", lambda: optim.SGD([param()], lr=0.1, nesterov=True), V,
    r"SGD: nesterov=True requires momentum > 0 and dampening 0")
row("optim.SGD", lambda: optim.SGD(param(), lr=0.1), T, r"SGD: params should be an iterable of Tensors or dicts")
row("optim.SGD", lambda: optim.SGD([], lr=0.1), V, r"SGD: got an empty parameter list")
row("optim.SGD", lambda: optim.SGD(None, lr=0.1), T, r"SGD: params should be an iterable .* got NoneType")
row("optim.Adam", lambda: optim.Adam([param()], betas=(1.5, 0.9)), V,
    r"Adam: invalid betas\[0\]=1.5; expected a finite number in \[0, 1\)")
row("optim.Adam", lambda: optim.Adam([param()], eps=-1e-8), V, r"Adam: invalid eps")
row("optim.Adam", lambda: optim.Adam([param()], lr="fast"), T, r"Adam: lr must be a number, got str 'fast'")
row("optim.AdamW", lambda: optim.AdamW([param()], weight_decay=-0.01), V,
    r"AdamW: invalid weight_decay=-0.01; expected a finite number >= 0")
row("optim.AdamW", lambda: optim.AdamW([param()], betas=(0.9, float("nan"))), V, r"AdamW: invalid betas\[1\]=nan")
row("optim.RMSprop", lambda: optim.RMSprop([param()], alpha=-0.5), V, r"RMSprop: invalid alpha=-0.5")
row("optim.Adagrad", lambda: optim.Adagrad([param()], lr_decay=-1), V, r"Adagrad: invalid lr_decay=-1")
row("optim.Optimizer", lambda: optim.Optimizer([param()], {"lr": -1.0}), V, r"Optimizer: invalid lr=-1.0")
row("optim.Optimizer.add_param_group", lambda o: o.add_param_group([param()]), T,
    r"Adam: a parameter group must be a dict, got list", adam, optim_state)
row("optim.Optimizer.add_param_group", lambda o: o.add_param_group({"params": o.param_groups[0]["params"]}), V,
    r"Adam: a parameter appears twice", adam, optim_state)
row("optim.Optimizer.add_param_group", lambda o: o.add_param_group({"params": [param()], "lr": -2.0}), V,
    r"Adam: invalid lr=-2.0", adam, optim_state)
row("optim.Optimizer.load_state_dict", lambda o: o.load_state_dict({**o.state_dict(), "param_groups": []}), V,
    r"Adam.load_state_dict: expected 1 parameter groups, got 0", adam, optim_state)
row("optim.Optimizer.load_state_dict",
    lambda o: o.load_state_dict({**o.state_dict(), "state": {0: {"step": 1, "exp_avg": np.zeros((2, 2)),
                                                                 "exp_avg_sq": np.zeros((3, 2))}}}),
    V, r"Adam.load_state_dict: state\[0\]\['exp_avg'\]: expected shape \(3, 2\) .* got \(2, 2\)", adam,
    optim_state)
row("optim.Optimizer.load_state_dict", lambda o: o.load_state_dict({"state": {}}), (V, KeyError, T),
    r"Adam.load_state_dict: .*param_groups", adam, optim_state)
row("optim.Optimizer.load_state_dict",
    lambda o: o.load_state_dict({**o.state_dict(), "param_groups": [{**o.state_dict()["param_groups"][0], "lr": -1}]}),
    V, r"Adam.load_state_dict: .*lr", adam, optim_state)
row("optim.Optimizer.step", lambda o: o.step(closure=5), T, r"Adam.step: closure must be callable", adam, optim_state)
row("lr_scheduler.LRScheduler", lambda: S.LRScheduler("opt"), T, r"LRScheduler: expected an Optimizer, got str")
row("lr_scheduler.StepLR", lambda: S.StepLR(optim.SGD([param()], lr=0.1), 0), V,
    r"StepLR: invalid step_size=0; expected an int >= 1")
row("lr_scheduler.StepLR", lambda: S.StepLR(optim.SGD([param()], lr=0.1), "a"), (V, T), r"StepLR: .*step_size")
row("lr_scheduler.ExponentialLR", lambda: S.ExponentialLR([param()], 0.9), T, r"ExponentialLR: expected an Optimizer")
row("lr_scheduler.CosineAnnealingLR", lambda: S.CosineAnnealingLR(optim.SGD([param()], lr=0.1), T_max=0), V,
    r"CosineAnnealingLR: invalid T_max=0; expected a finite number > 0")
row("lr_scheduler.LRScheduler.load_state_dict", lambda s: s.load_state_dict({"last_epoch": "x"}), (V, T, KeyError),
    r"StepLR.load_state_dict", scheduler(S.StepLR, 2), sched_state)
sgd = lambda: optim.SGD([param()], lr=0.1)  # noqa: E731
row("lr_scheduler.ChainedScheduler", lambda: S.ChainedScheduler([5]), T, r"ChainedScheduler: expected an Optimizer")
row("lr_scheduler.ConstantLR", lambda: S.ConstantLR(sgd(), factor=2), V, r"ConstantLR: invalid factor=2; expected")
row("lr_scheduler.CosineAnnealingWarmRestarts", lambda: S.CosineAnnealingWarmRestarts(sgd(), T_0=0), V,
    r"CosineAnnealingWarmRestarts: invalid T_0=0; expected an int >= 1")
row("lr_scheduler.CosineAnnealingWarmRestarts.step", lambda s: s.step(-1), V,
    r"CosineAnnealingWarmRestarts: invalid epoch=-1", scheduler(S.CosineAnnealingWarmRestarts, 2), sched_state)
row("lr_scheduler.CyclicLR", lambda: S.CyclicLR(sgd(), base_lr=0.1, max_lr=1, mode="x"), V,
    r"CyclicLR: invalid mode='x'; expected one of 'triangular', 'triangular2', 'exp_range'")
row("lr_scheduler.LambdaLR", lambda: S.LambdaLR(sgd(), 5), T, r"LambdaLR: lr_lambda must be callable, got int")
row("lr_scheduler.MultiplicativeLR", lambda: S.MultiplicativeLR(sgd(), "a"), T, r"MultiplicativeLR: lr_lambda must be")
row("lr_scheduler.LinearLR", lambda: S.LinearLR(sgd(), start_factor=0), V, r"LinearLR: invalid start_factor=0")
row("lr_scheduler.MultiStepLR", lambda: S.MultiStepLR(sgd(), "ab"), T,
    r"MultiStepLR: milestones must be a list of ints")
row("lr_scheduler.OneCycleLR", lambda: S.OneCycleLR(sgd(), max_lr=1.0), V,
    r"OneCycleLR: pass total_steps, or both epochs and steps_per_epoch")
row("lr_scheduler.PolynomialLR", lambda: S.PolynomialLR(sgd(), total_iters=-1), V, r"PolynomialLR: invalid total_iters")
row("lr_scheduler.ReduceLROnPlateau", lambda: S.ReduceLROnPlateau(sgd(), mode="x"), V,
    r"ReduceLROnPlateau: invalid mode='x'; expected one of 'min', 'max'")
row("lr_scheduler.ReduceLROnPlateau", lambda: S.ReduceLROnPlateau(sgd(), factor=1.5), V, r"invalid factor=1.5")
row("lr_scheduler.ReduceLROnPlateau.step", lambda s: s.step("low"), T,
    r"ReduceLROnPlateau.step: metrics must be a number or a one-element tensor, got str",
    lambda tmp: S.ReduceLROnPlateau(trained(optim.SGD, lr=0.1)(tmp)), sched_state)
row("lr_scheduler.SequentialLR", lambda: S.SequentialLR(sgd(), [], milestones=[]), V,
    r"SequentialLR: expected at least one scheduler, got none")
row("lr_scheduler.SequentialLR", lambda: S.SequentialLR(sgd(), [S.StepLR(sgd(), 2)], milestones=[]), V,
    r"SequentialLR: schedulers\[0\] \(StepLR\) belongs to another optimizer")
# ----- checkpoints (a failed save leaves the old file as it was and no temp file behind)
row("tr.save", lambda p: tr.save({"a": object()}, p), T,
    r"tr.save: cannot save obj\['a'\] \(a builtins.object\)", checkpoint,
    file_state)
row("tr.save", lambda p: tr.save({(1, 2): 3}, p), T, r"tr.save: dict key \(1, 2\) at obj is a tuple", checkpoint,
    file_state)
row("tr.save", lambda p: tr.save({"m": np.array(["a"], dtype=object)}, p), T, r"tr.save: the array at obj\['m'\]",
    checkpoint, file_state)
row("tr.save", lambda p: tr.save({"w": 1}, p.parent / "missing" / "ck.npz"), FileNotFoundError,
    r"tr.save: .*missing/ck.npz", checkpoint, file_state)
row("tr.load", lambda p: tr.load(p.parent / "nothing.npz"), FileNotFoundError, r"tr.load: no such file: .*nothing.npz",
    checkpoint, file_state)
row("tr.load", tr.load, V, r"tr.load: .*ck.npz is not a (tinygrad_rnn|readable) check", truncated, file_state)
row("tr.load", tr.load, V, r"tr.load: .*evil.npz", pickled, file_state)
# ----- visualize
row("visualize.render", lambda: render_to("/tmp/graph.png"), V, r"visualize.render: only SVG is written; .*\.png")
row("visualize.render", lambda p: render_to(p.parent / "missing" / "g.svg"), FileNotFoundError,
    r"visualize.render: cannot write '.*missing/g.svg': no such folder", checkpoint, file_state)
row("visualize.render", lambda: visualize.render(5, "g.svg"), T, r"visualize: expected Tensors .*got int")
row("visualize.render", lambda: visualize.render(loss(), None), T, r"visualize.render: path must be a str or")
row("visualize.render", lambda: visualize.render(loss(), "g.svg", engine="cairo"), V, r"visualize: engine must be")
row("visualize.to_dot", lambda: visualize.to_dot(loss(), detail="all"), V, r"visualize: detail must be 'cell' or")
row("visualize.to_dot", lambda: visualize.to_dot(loss(), max_nodes=3), V, r"visualize: max_nodes must be at least 20")
row("visualize.to_dot", lambda: visualize.to_dot(loss(), params={"w": 3}), T, r"visualize: params\['w'\] is a int")
row("visualize.to_dot", lambda: visualize.to_dot(loss(), params=3), T, r"visualize: params must be a Module, a dict")
row("visualize.to_dot", lambda: visualize.to_dot(loss(), highlight="h"), T, r"visualize: highlight must be a Tensor")
row("visualize.graph", lambda: visualize.graph(None), (T, V), r"visualize: expected")


@pytest.mark.parametrize("name, call, exc, match, make, state", ROWS)
def test_bad_input(name, call, exc, match, make, state, tmp_path):
    obj = make(tmp_path) if make else None
    before = state(obj) if state else None
    with pytest.raises(exc, match=match):
        call(obj) if make else call()
    if state:
        assert same(before, state(obj)), f"{name}: the failed call changed the object"


def test_the_table_is_big_enough():
    assert len(ROWS) >= 60
