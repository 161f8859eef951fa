"""The everyday Tensor API against PyTorch: construction and dtype inference, dtype names, small methods, max/min
with (values, indices), sorting, gather/scatter_add, masks, bmm/einsum, free functions. Values, indices and
gradients (random upstream) are compared with torch. Runs on every backend (also TINYGRAD_RNN_GPU=strict)."""

import numpy as np
import pytest

import tinygrad_rnn as tr

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _pair(host, requires_grad=True):
    return (tr.tensor(host, dtype=tr.float64, requires_grad=requires_grad),
            torch.tensor(host, dtype=torch.float64, requires_grad=requires_grad))


def _backward_both(ours, theirs, rng):
    g = rng.standard_normal(tuple(theirs.shape))
    (ours * tr.tensor(g)).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()


def _same(a, b, exact=False):
    a, b = _np(a), _np(b)
    assert a.shape == b.shape
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# ----- construction and dtypes
DTYPE_NAMES = ["float", "float32", "double", "float64", "long", "int64", "int", "int32", "bool"]


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_names_match_torch(name):
    assert str(getattr(tr, name)).split(".")[-1].strip("'>") in str(getattr(torch, name))


@pytest.mark.parametrize("data", [[1, 2], [1.5, 2], [True, False], 3, 2.5, True, [[1, 2], [3, 4]],
                                  np.array([1, 2], np.int32), np.array([1.0], np.float64), np.array([True])],
                         ids=repr)
def test_tensor_infers_dtype_like_torch(data):
    ours, theirs = tr.tensor(data), torch.tensor(data)
    assert ours._dtype_name == str(theirs.dtype).split(".")[-1]
    assert ours.tolist() == theirs.tolist()


def test_tensor_class_and_typed_constructors_like_torch():
    for data in ([1, 2, 3], [[True, False]], [0.5]):
        assert tr.Tensor(data).dtype == tr.float32 and tr.Tensor(data).tolist() == torch.Tensor(data).tolist()
    assert tr.Tensor(2, 3).shape == (2, 3) and tr.Tensor(2, 3).dtype == tr.float32
    assert tr.Tensor().shape == tuple(torch.Tensor().shape) == (0,)
    assert tr.LongTensor([1, 2]).dtype == tr.long and tr.LongTensor(4).shape == (4,)
    assert tr.FloatTensor([1, 2]).dtype == tr.float and tr.DoubleTensor(1, 2).dtype == tr.double
    assert tr.BoolTensor([1, 0]).tolist() == [True, False] and tr.IntTensor([7]).dtype == tr.int32
    with pytest.raises(TypeError, match="expected data or a size of ints"):
        tr.Tensor([1.0], 2)


def test_factories_infer_like_torch():
    for ours, theirs in [(tr.full((2,), 3), torch.full((2,), 3)), (tr.full((2,), 1.5), torch.full((2,), 1.5)),
                         (tr.full((1,), True), torch.full((1,), True)), (tr.arange(5), torch.arange(5)),
                         (tr.arange(1, 7, 2), torch.arange(1, 7, 2)), (tr.arange(0, 1, 0.25), torch.arange(0, 1, 0.25)),
                         (tr.zeros((2, 3), dtype=tr.long), torch.zeros((2, 3), dtype=torch.long)),
                         (tr.ones_like(tr.zeros(2, dtype=tr.int64)),
                          torch.ones_like(torch.zeros(2, dtype=torch.int64))),
                         (tr.full_like(tr.zeros(2), 7), torch.full_like(torch.zeros(2), 7)),
                         (tr.empty(2, 2), torch.zeros(2, 2))]:
        assert ours._dtype_name == str(theirs.dtype).split(".")[-1]
        _same(ours, theirs, exact=True)
    r = tr.randint(0, 5, (100,))
    assert r.dtype == tr.int64 and 0 <= r.min().item() and r.max().item() < 5
    assert tr.randn(2, 3, requires_grad=True).requires_grad


# ----- small methods
def test_facts_and_conversions_like_torch():
    host = np.arange(24.0).reshape(2, 3, 4)
    x, xt = tr.tensor(host), torch.tensor(host)
    assert x.dim() == xt.dim() and x.numel() == xt.numel() and x.size(-1) == xt.size(-1) == 4
    assert x.size() == tuple(xt.size())
    with pytest.raises(IndexError, match=r"size: dim 3 is out of range"):
        x.size(3)
    m = x[0]
    _same(m.t(), xt[0].t(), exact=True)
    _same(m.T, xt[0].T, exact=True)
    _same(x.contiguous().view(6, 4), xt.contiguous().view(6, 4), exact=True)
    _same(x.narrow(2, 1, 2), xt.narrow(2, 1, 2), exact=True)
    _same(x[:, :1].expand_as(x), xt[:, :1].expand_as(xt), exact=True)
    _same(m.repeat(2, 1, 3), xt[0].repeat(2, 1, 3), exact=True)
    for args, kw in (((2, 0, 1), {}), (((2, 0, 1),), {}), ((), {"dims": (2, 0, 1)})):
        _same(x.permute(*args, **kw), xt.permute(*args, **kw), exact=True)
    assert x.tolist() == xt.tolist()
    for conv in ("float", "double", "long", "int", "bool"):
        assert getattr(x, conv)()._dtype_name == str(getattr(xt, conv)().dtype).split(".")[-1]
    assert x.type_as(tr.zeros(1, dtype=tr.int64)).dtype == tr.int64
    for new in ("new_zeros", "new_ones"):
        a, b = getattr(x.long(), new)((2, 2)), getattr(xt.long(), new)((2, 2))
        _same(a, b, exact=True)
        assert a.dtype == tr.int64
    _same(x.new_full((2,), 5.0), xt.new_full((2,), 5.0), exact=True)
    _same(x.new_tensor([1, 2]), xt.new_tensor([1, 2]), exact=True)
    assert x.new_tensor([1, 2]).dtype == tr.float64  # new_tensor takes self's dtype, as PyTorch
    for conv in ("double", "float", "long", "int", "bool"):
        assert getattr(x, conv)().type() == getattr(xt, conv)().type()
    assert x.type(tr.LongTensor).dtype == tr.int64 and x.type(tr.float32).dtype == tr.float32
    _same(x.long().cumsum(-1), xt.long().cumsum(-1), exact=True)
    _same(tr.cumsum(x.bool(), 0), torch.cumsum(xt.bool(), 0), exact=True)
    y, yt = tr.tensor(np.arange(6) % 3), torch.tensor(np.arange(6) % 3)
    for op in ("eq", "ne", "lt", "le", "gt", "ge"):
        _same(getattr(y, op)(1), getattr(yt, op)(1), exact=True)
    _same(x.view_as(tr.zeros(4, 6)), xt.view_as(torch.zeros(4, 6)), exact=True)
    for ours, theirs in [(tr.tensor([1, 2]) / 2, torch.tensor([1, 2]) / 2), (3 / tr.tensor([2]), 3 / torch.tensor([2])),
                         (tr.tensor([True]).div(tr.tensor([2])), torch.tensor([True]).div(torch.tensor([2])))]:
        assert ours.dtype == tr.float32 and ours.tolist() == theirs.tolist()
    i32 = tr.tensor([3, -2], dtype=tr.int32)
    assert (i32 + 2).dtype == (2 * i32).dtype == tr.int32 and (tr.tensor([True]) + 2).dtype == tr.int64
    with pytest.raises(IndexError, match="0-d tensor has no dims"):
        tr.tensor(1.0).size(0)


def test_one_element_tensors_convert_to_python_numbers():
    items = [10, 20, 30]
    assert items[tr.tensor(1)] == 20 and items[tr.tensor([2])] == 30
    assert int(tr.tensor([[3.7]])) == 3 and float(tr.tensor(2)) == 2.0 and bool(tr.tensor([0.0])) is False
    assert range(tr.tensor(3)) == range(3)
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        items[tr.tensor(1.0)]
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        items[tr.tensor([0, 1])]
    with pytest.raises(ValueError, match="one-element"):
        float(tr.ones(2))


# ----- max / min / arg*
def test_max_min_over_a_dim_return_values_and_indices_like_torch(rng):
    host = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])  # ties: the first index wins in both
    for op in ("max", "min"):
        for keepdim in (False, True):
            x, xt = _pair(host)
            v, i = getattr(x, op)(1, keepdim=keepdim)
            vt, it = getattr(xt, op)(1, keepdim=keepdim)
            _same(v, vt)
            _same(i, it, exact=True)
            r = getattr(tr, op)(x, dim=-1)
            assert r.values is r[0] and r.indices.dtype == tr.int64
            _backward_both(v, vt, rng)  # the gradient goes to the returned index only
            _same(x.grad, xt.grad)
    x, xt = _pair(host)
    _same(x.max(), xt.max())
    _same(tr.min(x), torch.min(xt))
    _same(tr.max(x, tr.tensor(2.5, dtype=tr.float64)), torch.max(xt, torch.tensor(2.5, dtype=torch.float64)))
    with pytest.raises(TypeError, match="use amax"):
        x.max((0, 1))


def test_argmax_argmin_like_torch():
    host = np.random.default_rng(1).permutation(24).reshape(2, 3, 4)
    x, xt = tr.tensor(host), torch.tensor(host)
    for op in ("argmax", "argmin"):
        for kw in ({}, {"dim": 1}, {"dim": -1, "keepdim": True}, {"keepdim": True}):
            _same(getattr(x, op)(**kw), getattr(xt, op)(**kw), exact=True)
        _same(getattr(tr, op)(x, 0), getattr(torch, op)(xt, 0), exact=True)


def test_an_empty_dim_tuple_reduces_every_dim_like_torch():
    host = np.random.default_rng(5).standard_normal((2, 3))
    x, xt = _pair(host, False)
    for op in ("sum", "mean", "var", "std", "amax", "amin"):
        _same(getattr(x, op)(dim=()), getattr(xt, op)(dim=()))
        _same(getattr(x, op)((), keepdim=True), getattr(xt, op)((), keepdim=True))
    with pytest.raises(TypeError, match="logsumexp: dim is required"):
        x.logsumexp(())


def test_var_std_default_to_the_unbiased_estimate_like_torch():
    host = np.random.default_rng(2).standard_normal((3, 4))
    x, xt = _pair(host, False)
    for kw in ({}, {"dim": 1}, {"dim": 0, "unbiased": False}, {"dim": 1, "correction": 0, "keepdim": True}):
        _same(x.var(**kw), xt.var(**kw))
        _same(x.std(**kw), xt.std(**kw))
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        one = x[:, :1].var(1)
    assert np.isnan(one.numpy()).all()


# ----- sorting
def test_sort_argsort_topk_like_torch(rng):
    host = rng.permutation(np.arange(20.0) * 0.3 - 2).reshape(4, 5)
    for dim in (0, 1, -1):
        for desc in (False, True):
            x, xt = _pair(host)
            v, i = x.sort(dim, descending=desc)
            vt, it = xt.sort(dim, descending=desc)
            _same(v, vt)
            _same(i, it, exact=True)
            _same(tr.argsort(x, dim, descending=desc), torch.argsort(xt, dim, descending=desc), exact=True)
            _backward_both(v, vt, rng)
            _same(x.grad, xt.grad)
        for largest in (True, False):
            x, xt = _pair(host)
            v, i = x.topk(3, dim=dim, largest=largest)
            vt, it = xt.topk(3, dim=dim, largest=largest)
            _same(v, vt)
            _same(i, it, exact=True)
            _backward_both(v, vt, rng)
            _same(x.grad, xt.grad)


def test_sort_is_stable_both_ways_like_torch_stable():
    host = np.array([3, 1, 3, 1, 2, 3, 1])
    for desc in (False, True):
        v, i = tr.tensor(host).sort(descending=desc)
        vt, it = torch.tensor(host).sort(descending=desc, stable=True)
        _same(v, vt, exact=True)
        _same(i, it, exact=True)


def test_topk_k_out_of_range_is_a_value_error():
    with pytest.raises(ValueError, match=r"topk: k=4 is out of range for dim 1 of size 3"):
        tr.ones(2, 3).topk(4, dim=1)


# ----- gather / scatter_add
def test_gather_and_scatter_add_like_torch(rng):
    host, idx = rng.standard_normal((3, 4)), np.array([[0, 3, 3], [1, 1, 0], [2, 0, 2]])
    x, xt = _pair(host)
    out, outt = x.gather(1, tr.tensor(idx)), xt.gather(1, torch.tensor(idx))
    _same(out, outt)
    _backward_both(out, outt, rng)
    _same(x.grad, xt.grad)
    (a, at), (s, st) = _pair(host), _pair(rng.standard_normal((3, 3)))
    out, outt = tr.scatter_add(a, 1, tr.tensor(idx), s), torch.scatter_add(at, 1, torch.tensor(idx), st)
    _same(out, outt)
    _backward_both(out, outt, rng)
    _same(a.grad, at.grad)
    _same(s.grad, st.grad)
    with pytest.raises(IndexError, match=r"gather: index 4 is out of bounds for dim 1 with size 4"):
        x.gather(1, tr.tensor([[4]]))
    with pytest.raises(TypeError, match="gather: expected an int64 index tensor"):
        x.gather(1, tr.tensor([[1.0]]))
    with pytest.raises(ValueError, match=r"gather: index of shape \(1,\) does not fit input of shape \(3, 4\)"):
        x.gather(0, tr.tensor([1]))


# ----- masks and where
def test_masked_fill_masked_select_where_like_torch(rng):
    host = rng.standard_normal((3, 4))
    mask = rng.random((3, 4)) < 0.5
    x, xt = _pair(host)
    cases = [(x.masked_fill(tr.tensor(mask), -1.0), xt.masked_fill(torch.tensor(mask), -1.0)),
             (x.masked_fill(tr.tensor(mask[0]), 2), xt.masked_fill(torch.tensor(mask[0]), 2)),
             (x.masked_select(tr.tensor(mask)), xt.masked_select(torch.tensor(mask))),
             (x[0].masked_select(tr.tensor(mask)), xt[0].masked_select(torch.tensor(mask))),  # x broadcasts
             (x.masked_select(tr.tensor(mask[:1])), xt.masked_select(torch.tensor(mask[:1]))),  # mask broadcasts
             (tr.where(tr.tensor(mask), x, 0.5), torch.where(torch.tensor(mask), xt, 0.5)),
             (tr.where(tr.tensor(mask), -0.5, x), torch.where(torch.tensor(mask), -0.5, xt)),
             (x.where(tr.tensor(mask), x * 2), xt.where(torch.tensor(mask), xt * 2))]
    total, totalt = sum((o * float(k + 1)).sum() for k, (o, _) in enumerate(cases)), \
        sum((o * float(k + 1)).sum() for k, (_, o) in enumerate(cases))
    for o, ot in cases:
        _same(o, ot)
    total.backward()
    totalt.backward()
    _same(x.grad, xt.grad)
    _same(tr.where(tr.tensor(mask), 1.0, 0.0), torch.where(torch.tensor(mask), 1.0, 0.0))
    with pytest.raises(ValueError, match=r"masked_fill: mask of shape \(2, 3, 4\) does not broadcast to \(3, 4\)"):
        x.masked_fill(tr.zeros(2, 3, 4, dtype=tr.bool), 0.0)
    with pytest.raises(TypeError, match="masked_fill: expected a bool mask"):
        x.masked_fill(tr.zeros(3, 4), 0.0)


def test_clamp_tril_triu_like_torch():
    host = np.random.default_rng(3).standard_normal((2, 3, 4))
    x, xt = _pair(host, False)
    _same(tr.clamp(x, -0.5, 0.5), torch.clamp(xt, -0.5, 0.5))
    _same(x.clamp(min=0.1), xt.clamp(min=0.1))
    _same(x.clip(max=0.0), xt.clip(max=0.0))
    for d in (-1, 0, 2):
        _same(x.tril(d), xt.tril(d))
        _same(tr.triu(x, diagonal=d), torch.triu(xt, diagonal=d))
    _same(tr.ones(3, 3, dtype=tr.long).tril(), torch.ones(3, 3, dtype=torch.long).tril(), exact=True)
    with pytest.raises(ValueError, match="tril: expects a tensor of at least 2 dims"):
        x[0, 0].tril()


# ----- bmm / einsum
EINSUMS = [("bij,bjk->bik", (2, 3, 4), (2, 4, 5)), ("bqd,bkd->bqk", (2, 3, 4), (2, 5, 4)),
           ("ij,jk->ik", (3, 4), (4, 2)), ("bi,bij->bj", (2, 3), (2, 3, 4)), ("bij,bj->bi", (2, 3, 4), (2, 4)),
           ("ij->ji", (3, 4)), ("i,i->", (3,), (3,)), ("ij,kj", (2, 3), (4, 3)),
           ("...ij,...jk->...ik", (2, 2, 3), (3, 1)), ("b i j , b j k -> b i k", (1, 2, 3), (2, 3, 2))]


@pytest.mark.parametrize("eq, shapes", [(e[0], e[1:]) for e in EINSUMS], ids=[e[0] for e in EINSUMS])
def test_einsum_like_torch(eq, shapes, rng):
    pairs = [_pair(rng.standard_normal(s)) for s in shapes]
    out, outt = tr.einsum(eq, *[p[0] for p in pairs]), torch.einsum(eq, *[p[1] for p in pairs])
    _same(out, outt)
    _backward_both(out, outt, rng)
    for ours, theirs in pairs:
        _same(ours.grad, theirs.grad)


def test_einsum_and_bmm_errors():
    a = tr.ones(2, 3)
    with pytest.raises(ValueError, match="einsum: 'ij,jk->ik' names 2 operands, got 1 tensors"):
        tr.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="repeat a letter"):
        tr.einsum("ii->i", tr.ones(2, 2))
    with pytest.raises(ValueError, match="letter 'j' has size 3 in one operand and 4"):
        tr.einsum("ij,jk->ik", a, tr.ones(4, 2))
    with pytest.raises(ValueError, match=r"bmm: expected \(B, n, m\) and \(B, m, p\) tensors, got shapes \(2, 3\)"):
        tr.bmm(a, a)
    _same(tr.einsum("ij,jk", [a, tr.ones(3, 2)]), torch.einsum("ij,jk", [torch.ones(2, 3), torch.ones(3, 2)]))


# ----- free functions exist where PyTorch has them
FREE = ["sum", "mean", "var", "std", "log", "exp", "tanh", "sigmoid", "relu", "max", "min", "argmax", "argmin",
        "amax", "matmul", "bmm", "unsqueeze", "squeeze", "softmax", "log_softmax", "logsumexp", "zeros_like",
        "ones_like", "full_like", "arange", "full", "abs", "sqrt", "clamp", "clip", "transpose", "flatten", "topk",
        "sort", "argsort", "gather", "scatter_add", "cat", "stack", "split", "chunk", "where", "einsum", "masked_fill",
        "masked_select", "tril", "triu", "narrow", "select", "unbind", "permute", "reshape", "t", "maximum",
        "minimum", "numel", "tensor", "as_tensor", "empty", "randint"]


def test_free_functions_exist_and_match_the_methods():
    assert [n for n in FREE if not hasattr(tr, n)] == []
    host = np.random.default_rng(4).standard_normal((3, 4))
    x, xt = _pair(host, False)
    for name, args in [("sum", (1,)), ("mean", (0, True)), ("tanh", ()), ("unsqueeze", (-1,)), ("softmax", (1,)),
                       ("log", ()), ("transpose", (0, 1)), ("flatten", ()), ("squeeze", ())]:
        _same(getattr(tr, name)(x.abs() if name == "log" else x, *args),
              getattr(torch, name)(xt.abs() if name == "log" else xt, *args))


def test_tensor_and_new_tensor_copy_the_callers_memory_like_torch():
    host = np.zeros(3)
    t, src = tr.tensor(host), tr.ones(2)
    host[0] = 5.0
    assert t.tolist() == [0.0, 0.0, 0.0]
    assert tr.tensor(src).array is not src.array and src.new_tensor(src).array is not src.array
    assert tr.as_tensor(src) is src  # as_tensor shares, as PyTorch's
    with pytest.raises(TypeError, match="clip: min must be a number"):
        src.clamp(min=tr.zeros(2))


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")
def test_empty_tensors_like_torch():
    host = np.zeros((2, 0, 3))
    x, xt = tr.tensor(host), torch.tensor(host)
    for f in (lambda m, v: v.sum(1), lambda m, v: v.mean(1), lambda m, v: v.mean(), lambda m, v: v.var(0),
              lambda m, v: v + m.ones(1, 1, 1, dtype=m.float64), lambda m, v: m.where(v > 0, v, 1.0),
              lambda m, v: v.masked_select(v > 0), lambda m, v: v.tril(), lambda m, v: m.cat([v, v], 1)):
        ours, theirs = f(tr, x), f(torch, xt)
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # NaN where PyTorch has NaN (mean of nothing)
    assert tr.ones(1, 3).expand(0, 3).shape == (0, 3)


PROMOTING = {"exp": lambda m, x: x.exp(), "log": lambda m, x: m.log(x), "tanh": lambda m, x: x.tanh(),
             "sigmoid": lambda m, x: x.sigmoid(), "sqrt": lambda m, x: x.sqrt(),
             "logsumexp": lambda m, x: x.logsumexp(0), "clamp-float": lambda m, x: x.clamp(0.5, 1.5),
             "clamp-int": lambda m, x: x.clamp(0, 1), "tril": lambda m, x: x.reshape(1, -1).tril(),
             "div": lambda m, x: x / x.sum(), "mul-float": lambda m, x: x * 0.5, "add-int": lambda m, x: x + 1,
             "sum": lambda m, x: x.sum(), "cumsum": lambda m, x: x.cumsum(0)}


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("op", sorted(PROMOTING))
def test_integer_and_bool_tensors_promote_like_torch(op, dtype):
    data = [True, False] if dtype == "bool" else [1, 2]
    fn = PROMOTING[op]
    try:
        theirs = fn(torch, torch.tensor(data, dtype=getattr(torch, dtype)))
    except (RuntimeError, NotImplementedError):
        with pytest.raises((TypeError, ValueError)):
            fn(tr, tr.tensor(data, dtype=getattr(tr, dtype)))
        return
    ours = fn(tr, tr.tensor(data, dtype=getattr(tr, dtype)))
    assert ours._dtype_name == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float), rtol=1e-6)


def test_joins_and_products_promote_like_torch_and_gradients_keep_input_dtypes():
    a, b = tr.ones(2, requires_grad=True), tr.ones(2, dtype=tr.float64, requires_grad=True)
    c = tr.cat([a, b])
    assert c.dtype == tr.float64
    c.sum().backward()
    assert a.grad.dtype == tr.float32 and b.grad.dtype == tr.float64
    for ours, theirs in [(tr.cat([tr.ones(2), tr.tensor([1, 2])]), torch.cat([torch.ones(2), torch.tensor([1, 2])])),
                         (tr.stack([tr.tensor([1]), tr.tensor([True])]), torch.stack([torch.tensor([1]),
                                                                                     torch.tensor([True])]))]:
        assert ours._dtype_name == str(theirs.dtype).split(".")[-1]
        _same(ours, theirs, exact=True)
