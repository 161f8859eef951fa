"""Tensor at the user's boundary: clear errors (type and message), repr, host conversion, dtype rules and
comparisons. Runs on every backend; the test that builds arrays of another library is NumPy-backend only."""

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import backend as B


# ----- errors
def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(5, 2\) are not aligned"):
        tr.ones(2, 3) @ tr.ones(5, 2)
    with pytest.raises(ValueError, match=r"\(4,\) and \(3,\)"):
        tr.ones(4) @ tr.ones(3)
    with pytest.raises(ValueError, match=r"at least 1 dimension.*\(\)"):
        tr.matmul(tr.Tensor(2.0), tr.ones(2))
    with pytest.raises(ValueError, match=r"broadcast: shapes \(2,\) and \(3,\)"):
        tr.ones(2, 3, 4) @ tr.ones(3, 4, 1)


def test_broadcast_failure_names_both_shapes():
    with pytest.raises(ValueError, match=r"broadcast: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        tr.ones(2, 3) + tr.ones(4)
    with pytest.raises(ValueError, match=r"\(3, 1\) and \(2, 2\)"):
        tr.where(tr.tensor([True, False]), tr.ones(3, 1), tr.ones(2, 2))


def test_backward_errors():
    x = tr.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*shape \(2,\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\), expected \(2,\)"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        tr.Tensor([1.0, 2.0]).sum().backward()
    with tr.no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


@pytest.mark.no_strict
def test_mixing_backends_is_a_type_error_naming_both():
    import array_api_strict as xps

    foreign = xps.asarray([1.0, 2.0])
    with pytest.raises(TypeError, match=r"array_api_strict.*active backend is numpy"):
        tr.Tensor(foreign)
    with pytest.raises(TypeError, match=r"array_api_strict.*active backend is numpy"):
        tr.Tensor([1.0, 2.0]) + foreign


@pytest.mark.parametrize("data", ["abc", ["a", "b"], [object()], None, {"a": 1}, np.array(["x"]),
                                  np.array([1 + 2j]), [1 + 2j]], ids=repr)
def test_non_numeric_data_is_a_type_error(data):
    with pytest.raises(TypeError, match="numeric"):
        tr.Tensor(data)


def test_requires_grad_needs_floating_dtype():
    with pytest.raises(TypeError, match=r"only floating point.*int64"):
        tr.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="only floating point"):
        tr.tensor([True]).requires_grad_()
    assert tr.tensor([1, 2], dtype=tr.float64, requires_grad=True).requires_grad


def test_other_boundary_errors():
    with pytest.raises(TypeError, match="0-d"):
        len(tr.Tensor(1.0))
    with pytest.raises(ValueError, match=r"item\(\).*shape \(2,\)"):
        tr.ones(2).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(tr.ones(2))
    with pytest.raises(ValueError, match="not a permutation"):
        tr.ones(2, 3).permute(0, 0)
    with pytest.raises(ValueError, match=r"cat: shapes \(2, 3\) and \(2, 4\) differ outside dim 0"):
        tr.cat([tr.ones(2, 3), tr.ones(2, 4)])
    with pytest.raises(ValueError, match="same shape"):
        tr.stack([tr.ones(2), tr.ones(3)])
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1\] do not add up to 3"):
        tr.split(tr.ones(3), [1, 1])
    with pytest.raises(ValueError, match="at least one of min and max"):
        tr.ones(2).clip()


# ----- repr and host conversion
def test_repr_is_readable():
    assert repr(tr.Tensor([1.0, 2.5])) == "tensor([1. , 2.5])"
    assert repr(tr.tensor([[1, 2]])) == "tensor([[1, 2]], dtype=int64)"
    x64 = tr.Tensor([1.0], dtype=tr.float64, requires_grad=True)
    assert repr(x64) == "tensor([1.], dtype=float64, requires_grad=True)"
    x = tr.Tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<Mul>)"
    assert repr(tr.Tensor(3.0)) == "tensor(3.)"
    big = repr(tr.zeros(100, 100))
    assert "..." in big and len(big) < 600


def test_item_numpy_tolist():
    x = tr.Tensor([[1.5, 2.0], [3.0, 4.0]])
    host = x.numpy()
    assert isinstance(host, np.ndarray) and host.dtype == np.float32
    np.testing.assert_array_equal(host, [[1.5, 2.0], [3.0, 4.0]])
    assert x.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    v = x[0, 0].item()
    assert type(v) is float and v == 1.5
    assert type(tr.tensor([7]).item()) is int and tr.tensor([[7]]).item() == 7
    assert tr.tensor([True]).item() is True
    assert x.sum().item() == pytest.approx(10.5)
    assert (len(x), x.ndim, x.numel(), x.size(), x.size(1)) == (2, 2, 4, (2, 2), 2)


# ----- dtype rules
def test_dtype_defaults_and_requests():
    assert tr.Tensor([1.0, 2.0]).dtype == tr.float32
    assert tr.Tensor(1.5).dtype == tr.float32
    assert tr.Tensor([1.0], dtype=tr.float64).dtype == tr.float64
    assert tr.tensor([1, 2]).dtype == tr.int64 and tr.Tensor(np.array([1, 2], np.int32)).dtype == tr.int32
    assert tr.Tensor(np.array([1, 2], np.int16)).dtype == tr.int64
    assert tr.tensor([True, False]).dtype == tr.bool_
    # the Tensor class makes Python data float32, as torch.Tensor does (ints and bools too)
    assert tr.Tensor([1, 2]).dtype == tr.float32 and tr.Tensor([True]).dtype == tr.float32
    # NumPy arrays keep their float dtype, on every backend (as torch.tensor does)
    assert tr.Tensor(np.zeros(2)).dtype == tr.float64
    assert tr.Tensor(np.zeros(2, np.float32)).dtype == tr.float32
    assert tr.Tensor(np.zeros(2), dtype=tr.float32).dtype == tr.float32
    for f in (tr.zeros, tr.ones, tr.randn, tr.rand):
        assert f(2, 3).dtype == tr.float32 and f(2, dtype=tr.float64).dtype == tr.float64
    assert tr.arange(3).dtype == tr.int64


def test_in_place_change_of_a_0d_result():
    # loss = 0; for ...: loss += criterion(...) -- the tutorials' accumulation; NumPy's 0-d results are scalars
    rng = np.random.default_rng(0)
    w0, g1, g2 = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)
    a = tr.tensor(w0, requires_grad=True)
    loss = 0
    loss += (a * tr.tensor(g1)).sum()
    loss += (a * tr.tensor(g2)).sum()
    loss *= 2.0
    loss.backward()
    np.testing.assert_allclose(loss.item(), 2 * (w0 @ g1 + w0 @ g2), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), 2 * (g1 + g2), rtol=1e-12)
    total = tr.tensor([1.0, 2.0]).sum()
    total += 1
    total.zero_()
    assert total.item() == 0.0


def test_nested_lists_of_one_element_tensors_as_pytorch():
    # torch.LongTensor([[topi[i][0] for i in range(batch_size)]]), the chatbot tutorial's greedy decoding
    topi = tr.tensor([[3], [1], [4]])
    t = tr.LongTensor([[topi[i][0] for i in range(3)]])
    assert t.dtype == tr.int64 and t.tolist() == [[3, 1, 4]]
    mixed = tr.tensor([(tr.tensor(2.5), 1), [tr.tensor([0.5]).squeeze(0), 2]])
    assert mixed.dtype == tr.float32 and mixed.tolist() == [[2.5, 1.0], [0.5, 2.0]]


def test_python_numbers_do_not_promote_and_ints_meet_floats():
    x = tr.Tensor([1.0, 2.0])
    assert (x * 2.0).dtype == tr.float32 and (2 + x).dtype == tr.float32 and (x**2).dtype == tr.float32
    i = tr.tensor([1, 2])
    assert (i + 1).dtype == tr.int64
    np.testing.assert_array_equal((i * 2).numpy(), [2, 4])
    assert (i + 0.5).dtype == tr.float32
    np.testing.assert_allclose((i + 0.5).numpy(), [1.5, 2.5])
    assert (i * tr.Tensor([0.5, 0.5], dtype=tr.float64)).dtype == tr.float64


def test_mixed_float_precision_promotes_with_input_dtype_grads():
    a = tr.Tensor([1.0, 2.0], requires_grad=True)
    b = tr.Tensor([3.0, 4.0], dtype=tr.float64, requires_grad=True)
    for y in (a + b, b * a, a @ b, tr.cat([a, b.astype(tr.float32)])):
        assert y.dtype in (tr.float64, tr.float32)
    y = (a * b).sum() + (a @ b)
    assert y.dtype == tr.float64
    y.backward()
    assert a.grad.dtype == tr.float32 and b.grad.dtype == tr.float64
    np.testing.assert_allclose(a.grad.numpy(), [6.0, 8.0])
    np.testing.assert_allclose(b.grad.numpy(), [2.0, 4.0])


def test_astype_to_int_leaves_the_graph():
    x = tr.Tensor([1.7, -2.2], requires_grad=True)
    n = x.astype(tr.int64)
    assert n.dtype == tr.int64 and not n.requires_grad and n.tolist() == [1, -2]
    assert x.long().tolist() == [1, -2]


# ----- comparisons
@pytest.mark.parametrize("op, expected", [("__lt__", [True, False, False]), ("__le__", [True, True, False]),
                                          ("__gt__", [False, False, True]), ("__ge__", [False, True, True]),
                                          ("__eq__", [False, True, False]), ("__ne__", [True, False, True])])
def test_comparisons_give_bool_tensors_without_grad(op, expected):
    x = tr.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for other in (2.0, tr.Tensor([2.0, 2.0, 2.0]), tr.Tensor(2.0), 2):
        r = getattr(x, op)(other)
        assert r.dtype == tr.bool_ and not r.requires_grad and r.grad_fn is None
        assert r.tolist() == expected
    assert getattr(tr.tensor([1, 2, 3]), op)(2).tolist() == expected


BITWISE = {"&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b}


@pytest.mark.parametrize("op", BITWISE)
def test_and_or_xor_on_masks_and_integers_as_pytorch(op):
    # masks: (predicted == target) & (target != PAD); integers: bitwise; bool with int -> int; Python operands too
    f, rng = BITWISE[op], np.random.default_rng(0)
    m1, m2 = rng.random((3, 4)) > 0.5, rng.random((1, 4)) > 0.5
    i1, i2 = rng.integers(-8, 8, (3, 4)), rng.integers(-8, 8, (4,))
    for a, b in ((m1, m2), (i1, i2), (m1, i2), (i1, m2)):
        r = f(tr.tensor(a), tr.tensor(b))
        assert r.tolist() == f(a, b).tolist() and r.dtype == (tr.bool_ if a.dtype == b.dtype == bool else tr.int64)
        assert not r.requires_grad and r.grad_fn is None
    assert f(tr.tensor(m1), True).tolist() == f(m1, True).tolist() == f(True, tr.tensor(m1)).tolist()
    assert f(3, tr.tensor(i1)).tolist() == f(3, i1).tolist()
    with pytest.raises(TypeError, match=rf"^\{op}: expected bool or integer tensors, got dtype float32"):
        f(tr.tensor([1.0]), tr.tensor([True]))
    with pytest.raises(TypeError, match=rf"^\{op}: expected bool or integer tensors, got dtype float64"):
        f(tr.tensor([True]), tr.tensor([1.5], dtype=tr.float64))
    with pytest.raises(TypeError, match=rf"^\{op}: expected bool or integer tensors, got dtype float32"):
        f(tr.tensor([True]), 1.5)


def test_invert_is_logical_not_on_masks_and_bitwise_not_on_integers():
    assert (~tr.tensor([True, False])).tolist() == [False, True]
    assert (~tr.tensor([0, 5, -3])).tolist() == [-1, -6, 2]
    with pytest.raises(TypeError, match=r"^~: expected a bool or integer tensor, got dtype float32"):
        ~tr.tensor([1.0])


def test_comparison_broadcasts_and_tensors_stay_hashable():
    r = tr.Tensor([[1.0], [3.0]]) > tr.Tensor([0.0, 2.0, 4.0])
    assert r.shape == (2, 3) and r.tolist() == [[True, False, False], [True, True, False]]
    x = tr.ones(2)
    assert {x: 1}[x] == 1


def test_device_arrays_stay_on_the_backend():
    x = tr.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).tanh()
    assert B.is_array(y.array) and B.is_array(x.array)
    y.sum().backward()
    assert B.is_array(x.grad.array)


def test_in_place_shape_changes_keep_the_storage_and_refuse_leaves():
    # target_line_tensor.unsqueeze_(-1), the name-generator tutorial: same storage, new shape, version unchanged
    c = tr.tensor([1, 2, 3])
    alias = c.data
    c.unsqueeze_(-1)
    assert c.shape == (3, 1) and alias.shape == (3,) and c._version == 0
    c[1, 0] = 7
    assert alias.tolist() == [1, 7, 3]
    w = tr.zeros(2, 3)
    w.transpose_(0, 1)[0, 1] = 5.0
    assert w.shape == (3, 2) and w.tolist() == [[0.0, 5.0], [0.0, 0.0], [0.0, 0.0]]
    leaf = tr.zeros(1, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="squeeze_: a leaf Variable that requires grad"):
        leaf.squeeze_(0)
    with tr.no_grad():
        assert leaf.squeeze_(0).shape == (2,)


def test_in_place_shape_change_of_a_view_still_writes_the_base():
    # v = base[1]; v.unsqueeze_(0); v[0, 1] = ... must reach base and its gradient, as in PyTorch
    w = tr.ones(3, requires_grad=True, dtype=tr.float64)
    base = tr.zeros(2, 3, dtype=tr.float64)
    base[0] = w * 2
    v = base[1]
    v.unsqueeze_(0)
    v[0, 1] = w[2] * 5
    (base * tr.tensor([[1.0, 2, 3], [4, 5, 6]], dtype=tr.float64)).sum().backward()
    assert base.tolist() == [[2.0, 2.0, 2.0], [0.0, 5.0, 0.0]] and v.shape == (1, 3)
    assert w.grad.tolist() == [2.0, 4.0, 6.0 + 25.0]
    c = tr.arange(6).view(2, 3)
    r = c[1]
    r.unsqueeze_(-1)
    r[2, 0] = 9
    assert c.tolist() == [[0, 1, 2], [3, 4, 9]]


def test_tensor_copies_arrays_and_from_numpy_shares_as_pytorch():
    a = np.zeros(3, dtype=np.float32)
    copied, shared = tr.tensor(a), tr.from_numpy(a)
    a[0] = 5.0
    assert copied.tolist() == [0.0, 0.0, 0.0]
    if tr.backend.NAME == "numpy":  # on a device the data must move: a copy
        assert shared.tolist() == [5.0, 0.0, 0.0]
        shared[1] = 7.0
        assert a.tolist() == [5.0, 7.0, 0.0]
    assert tr.from_numpy(np.arange(3)).dtype == tr.int64 and tr.from_numpy(np.zeros(2)).dtype == tr.float64
    t = tr.ones(2)
    assert tr.tensor(t) is not t and tr.is_tensor(t) and tr.is_tensor(tr.nn.Parameter(t)) and not tr.is_tensor(a)
    with pytest.raises(TypeError, match=r"from_numpy: expected np.ndarray \(got list\)"):
        tr.from_numpy([1.0])


def test_cuda_manual_seed_checks_its_seed_and_leaves_the_host_generator_alone():
    tr.manual_seed(3)
    expected = tr.randn(4).tolist()
    tr.manual_seed(3)
    tr.cuda.manual_seed(99)  # as on a CPU PyTorch: the draws torch.manual_seed set up do not change
    tr.cuda.manual_seed_all(99)
    assert tr.randn(4).tolist() == expected
    with pytest.raises(ValueError, match="manual_seed: seed must be non-negative"):
        tr.cuda.manual_seed(-1)
