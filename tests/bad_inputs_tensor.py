"""Rows of the bad-input table for tensors: construction and factories, shapes, indexing, ops, the PyTorch tensor
API, item assignment and in-place ops, dims. Machinery in bad_inputs_table.py; run by test_bad_inputs.py."""

import numpy as np
from bad_inputs_table import (
    IX,
    I,
    T,
    V,
    module_state,
    row,
    x34,
)

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
from tinygrad_rnn import nn

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
row("tr.arange", lambda: tr.arange("a"), T, r"arange: end must be a number, got str 'a'")
row("tr.arange", lambda: tr.arange(0, 5, 0), V, r"arange: step must be nonzero")
row("tr.arange", lambda: tr.arange(5, 0, 1), V, r"arange: upper bound and lower bound inconsistent with step sign")
row("tr.manual_seed", lambda: tr.manual_seed("a"), T, r"manual_seed: seed should be of type int, got: str")
row("tr.manual_seed", lambda: tr.manual_seed(-1), V, r"manual_seed: seed must be non-negative, got -1")
row("tr.set_grad_enabled", lambda _: tr.set_grad_enabled("no"), T,
    r"set_grad_enabled: expected mode to be a bool, got str", make=lambda tmp: None,
    state=lambda _: tr.is_grad_enabled())
row("tr.use_primitives", lambda: tr.use_primitives(1), T, r"use_primitives: expected flag to be a bool, got int")
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
row("Tensor.clip", lambda: x34().clip(min="a"), T, r"clip: min must be a number, got str")
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
row("Tensor.clone", lambda: x34().clone(memory_format="channels_last"), T,
    r"clone: memory_format is not supported .* got 'channels_last'; drop the argument")
row("tr.clone", lambda: tr.clone("abc"), T, r"Tensor: data must be numeric .*str")
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
row("Tensor.type", lambda: x34().type("torch.HalfTensor"), T, r"type: expected one of tr.float32, .* got 'torch.Half")
row("Tensor.view_as", lambda: x34().view_as((3, 4)), T, r"view_as: expected a Tensor, got tuple")
row("Tensor.view_as", lambda: x34().view_as(tr.randn(5)), V, r"reshape: shape \(5,\) is invalid for a tensor of 12")
row("Tensor.cumsum", lambda: x34().cumsum(5), I, r"cumsum: " + DIM5)
row("tr.cumsum", lambda: tr.cumsum(x34(), -3), I, r"cumsum: dim -3 is out of range")
row("Tensor.add", lambda: x34().add(tr.randn(5), alpha=2), V, r"broadcast: shapes \(3, 4\) and \(5,\)")
row("Tensor.sub", lambda: x34().sub(tr.randn(5)), V, r"broadcast: shapes \(3, 4\) and \(5,\)")
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
row("tr.clip", lambda: tr.clip(x34(), min="a"), T, r"clip: min must be a number, got str")
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
row("Tensor.relu_", lambda t: t.relu_(), RuntimeError, r"relu_: a leaf Variable that requires grad",
    lambda tmp: tr.randn(3, requires_grad=True), values)
row("Tensor.clamp_", lambda t: t.clamp_(), V, r"clip: at least one of min and max must be given", leaf, values)
row("Tensor.clip_", lambda t: t.clip_(min="a"), T, r"clip: min must be a number, got str", leaf, values)
row("Tensor.copy_", lambda t: t.copy_(tr.randn(5)), V, r"copy_: value of shape \(5,\) cannot be broadcast", leaf,
    values)
row("Tensor.fill_", lambda t: t.fill_(tr.randn(2)), V, r"fill_: expected a number or a 0-dim tensor, got shape \(2,\)",
    leaf, values)
row("Tensor.masked_fill_", lambda t: t.masked_fill_(tr.randn(3, 4), 0.0), T, r"masked_fill_: expected a boolean mask",
    leaf, values)
row("Tensor.normal_", lambda t: t.normal_(std=-1.0), V, r"normal_: expected std >= 0, got std=-1.0", leaf, values)
row("Tensor.normal_", lambda t: t.normal_(mean=None), T, r"normal_: mean must be a number, got NoneType", leaf, values)
row("Tensor.uniform_", lambda t: t.uniform_("a"), T, r"uniform_: a must be a number, got str", leaf, values)
row("Tensor.uniform_", lambda t: t.uniform_(2.0, 1.0), V, r"uniform_: expected a range \[a, b\) with a <= b", leaf,
    values)
row("Tensor.zero_", lambda t: t.zero_(), RuntimeError, r"a leaf Variable that requires grad is being used in an in-pl",
    lambda tmp: tr.randn(3, requires_grad=True), values)
row("Tensor.max", lambda: tr.zeros(0).max(), V, r"max: cannot reduce over an empty dim of a tensor of shape \(0,\)")
row("Tensor.min", lambda: tr.zeros(0, 3).min(0), V, r"min: cannot reduce over an empty dim")
row("Tensor.argmax", lambda: tr.zeros(0).argmax(), V, r"argmax: cannot reduce over an empty dim")
row("Tensor.amin", lambda: tr.zeros(0, 3).amin(), V, r"amin: cannot reduce over an empty dim")
row("Tensor.logsumexp", lambda: tr.zeros(0, 2).logsumexp(0), V, r"logsumexp: cannot reduce over an empty dim")
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
if hasattr(tr.Tensor, "relu_"):  # the inplace helper's (rows where the running code has it)
    row("Tensor.relu_", lambda t: t.relu_(), RuntimeError, r"relu_: a leaf Variable that requires grad",
        lambda tmp: tr.randn(3, requires_grad=True), lambda t: t.numpy().copy())
# ----- & | ^ ~ (bool and integer tensors), in-place shape changes, the default dtype
for op in ("__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__"):
    row(f"Tensor.{op}", lambda op=op: getattr(tr.tensor([True]), op)(x34()), T,
        r"expected bool or integer tensors, got dtype float32")
row("Tensor.__invert__", lambda: ~x34(), T, r"~: expected a bool or integer tensor, got dtype float32")
row("Tensor.unsqueeze_", lambda: x34().unsqueeze_(3), I, r"unsqueeze: dim 3 is out of range")
row("Tensor.squeeze_", lambda: x34().squeeze_(-3), I, r"squeeze: dim -3 is out of range")
row("Tensor.transpose_", lambda: x34().transpose_(0, 2), I, r"transpose: dim 2 is out of range")
row("Tensor.t_", lambda: tr.zeros(2, 3, 4).t_(), V, r"t: expects a tensor of at most 2 dims, got shape \(2, 3, 4\)")
row("tr.set_default_dtype", lambda: tr.set_default_dtype(tr.int64), T,
    r"set_default_dtype: only floating-point types are supported as the default type")
row("tr.from_numpy", lambda: tr.from_numpy([1.0, 2.0]), T, r"from_numpy: expected np.ndarray \(got list\)")
