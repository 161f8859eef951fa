# nn.functional: losses and activations against PyTorch (skipped without torch), the fused cross-entropy against its
# primitive twin in float64, float64 gradchecks, stability at extreme logits, and the errors users see.
import numpy as np
import pytest

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F

SHAPES = {"NC": (6, 5), "C": (5,), "NCd": (3, 5, 2, 2)}


def _target_shape(shape):
    return () if len(shape) == 1 else (shape[0],) + shape[2:]


def _ce_case(shape_key, ignore, seed=0):
    rng = np.random.default_rng(seed)
    shape = SHAPES[shape_key]
    c = shape[0] if len(shape) == 1 else shape[1]
    x = rng.standard_normal(shape) * 3
    t = rng.integers(0, c, _target_shape(shape))
    if ignore and t.ndim:
        t.reshape(-1)[::3] = -100
    return x, t, rng.random(c) + 0.5


def _run(fn, x_np, *args, **kwargs):
    """Value and input gradient of fn(x, ...) in float64, contracted with a random upstream gradient."""
    x = tr.Tensor(x_np, requires_grad=True, dtype=tr.float64)
    out = fn(x, *args, **kwargs)
    g = np.random.default_rng(7).standard_normal(out.shape)
    (out * tr.Tensor(g, dtype=tr.float64)).sum().backward()
    return out.numpy(), x.grad.numpy(), g


CE_GRID = [(s, ig, w, ls, red) for s in SHAPES for ig in (False, True) for w in (False, True) for ls in (0.0, 0.15)
           for red in ("mean", "sum", "none")]


@pytest.mark.parametrize("shape_key,ignore,use_w,ls,reduction", CE_GRID)
def test_cross_entropy_fused_matches_composed_float64(shape_key, ignore, use_w, ls, reduction):
    x, t, w = _ce_case(shape_key, ignore)
    kw = dict(weight=tr.Tensor(w, dtype=tr.float64) if use_w else None, reduction=reduction, label_smoothing=ls)
    v1, g1, _ = _run(F.cross_entropy, x, tr.Tensor(t), **kw)
    v2, g2, _ = _run(F.cross_entropy_composed, x, tr.Tensor(t), **kw)
    np.testing.assert_allclose(v1, v2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape_key,ignore,use_w,ls,reduction", CE_GRID)
def test_cross_entropy_matches_torch(shape_key, ignore, use_w, ls, reduction):
    torch = pytest.importorskip("torch")
    x, t, w = _ce_case(shape_key, ignore)
    kw = dict(reduction=reduction, label_smoothing=ls)
    v, g_x, up = _run(F.cross_entropy, x, tr.Tensor(t), weight=tr.Tensor(w, dtype=tr.float64) if use_w else None,
                      **kw)
    tx = torch.tensor(x, requires_grad=True)
    tout = torch.nn.functional.cross_entropy(tx, torch.tensor(t), weight=torch.tensor(w) if use_w else None, **kw)
    (tout * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(v, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g_x, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


NLL_GRID = [(s, ig, w, red) for s in SHAPES for ig in (False, True) for w in (False, True)
            for red in ("mean", "sum", "none")]


@pytest.mark.parametrize("shape_key,ignore,use_w,reduction", NLL_GRID)
def test_nll_loss_fused_matches_composed_float64(shape_key, ignore, use_w, reduction):
    x, t, w = _ce_case(shape_key, ignore)
    kw = dict(weight=tr.Tensor(w, dtype=tr.float64) if use_w else None, reduction=reduction)
    v1, g1, _ = _run(F.nll_loss, x, tr.Tensor(t), **kw)
    v2, g2, _ = _run(F.nll_loss_composed, x, tr.Tensor(t), **kw)
    np.testing.assert_allclose(v1, v2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("use_w", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_matches_torch(use_w, reduction):
    torch = pytest.importorskip("torch")
    x, t, w = _ce_case("NCd", True, seed=3)
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    kw = dict(reduction=reduction)
    v, g_x, up = _run(F.nll_loss, logp, tr.Tensor(t), weight=tr.Tensor(w, dtype=tr.float64) if use_w else None, **kw)
    tx = torch.tensor(logp, requires_grad=True)
    tout = torch.nn.functional.nll_loss(tx, torch.tensor(t), weight=torch.tensor(w) if use_w else None, **kw)
    (tout * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(v, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g_x, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weights", [False, True])
def test_bce_with_logits_matches_torch(reduction, weights):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((4, 3)) * 4, rng.random((4, 3))
    w, pw = (rng.random((1, 3)) + 0.5, rng.random(3) + 0.5) if weights else (None, None)
    ours_t = tr.Tensor(t, requires_grad=True, dtype=tr.float64)
    v, g_x, up = _run(F.binary_cross_entropy_with_logits, x, ours_t, weight=w, pos_weight=pw, reduction=reduction)
    tx, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    tout = torch.nn.functional.binary_cross_entropy_with_logits(
        tx, tt, weight=None if w is None else torch.tensor(w), pos_weight=None if pw is None else torch.tensor(pw),
        reduction=reduction)
    (tout * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(v, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g_x, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_t.grad.numpy(), tt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    v, g_x, up = _run(F.mse_loss, x, tr.Tensor(y, dtype=tr.float64), reduction=reduction)
    tx = torch.tensor(x, requires_grad=True)
    tout = torch.nn.functional.mse_loss(tx, torch.tensor(y), reduction=reduction)
    (tout * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(v, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(g_x, tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_matches_torch(name, dim):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((3, 4, 5)) * 5
    v, g_x, up = _run(getattr(F, name), x, dim)
    tx = torch.tensor(x, requires_grad=True)
    tout = getattr(torch.nn.functional, name)(tx, dim=dim)
    (tout * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(v, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g_x, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


# ----- gradchecks (float64, finite differences, random upstream gradient)
def _x(shape, seed=0, scale=1.0):
    return tr.Tensor(np.random.default_rng(seed).standard_normal(shape) * scale, requires_grad=True, dtype=tr.float64)


@pytest.mark.parametrize("ls", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_gradcheck_cross_entropy(ls, reduction):
    x, t, w = _ce_case("NCd", True, seed=5)
    weight = tr.Tensor(w, dtype=tr.float64)
    assert tr.gradcheck(lambda a: F.cross_entropy(a, tr.Tensor(t), weight=weight, reduction=reduction,
                                                  label_smoothing=ls), [_x(x.shape, 5, 3.0)])


def test_gradcheck_other_losses_and_activations():
    t_int = tr.tensor([1, 0, 3])
    y = tr.Tensor(np.random.default_rng(9).random((3, 4)), requires_grad=True, dtype=tr.float64)
    pw = np.array([0.5, 1.0, 2.0, 3.0])
    assert tr.gradcheck(lambda a: F.nll_loss(F.log_softmax(a, 1), t_int), [_x((3, 4))])
    assert tr.gradcheck(lambda a, b: F.mse_loss(a, b, reduction="sum"), [_x((3, 4)), y])
    assert tr.gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pw), [_x((3, 4), 1, 3.0), y])
    for fn in (F.relu, F.tanh, F.sigmoid, lambda a: F.softmax(a, 0), lambda a: F.log_softmax(a, -1)):
        assert tr.gradcheck(fn, [_x((3, 4), 2)])


# ----- numerics: extreme logits give finite values and gradients with no warnings (RuntimeWarnings are errors here)
def test_losses_stable_at_extreme_logits_float32():
    x_np = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [3.0, 1e4, -1e4]], dtype=np.float32)
    t = tr.tensor([1, 2, 0])
    for loss_fn in (lambda a: F.cross_entropy(a, t, label_smoothing=0.1),
                    lambda a: F.cross_entropy_composed(a, t, label_smoothing=0.1),
                    lambda a: F.nll_loss(F.log_softmax(a, 1), t),
                    lambda a: F.binary_cross_entropy_with_logits(a, tr.Tensor(np.eye(3, dtype=np.float32))),
                    lambda a: (F.softmax(a, 1) * tr.Tensor(np.arange(9.0).reshape(3, 3))).sum()):
        x = tr.Tensor(x_np, requires_grad=True)
        loss = loss_fn(x)
        loss.backward()
        assert np.isfinite(loss.numpy()).all() and np.isfinite(x.grad.numpy()).all()
    # cross-entropy with a wrong confident class is ~2e4, and its gradient is softmax - onehot
    x = tr.Tensor(x_np, requires_grad=True)
    loss = F.cross_entropy(x, t, reduction="sum")
    loss.backward()
    assert loss.item() == pytest.approx(2e4 + 0.0 + (1e4 - 3.0), rel=1e-6)
    np.testing.assert_allclose(x.grad.numpy()[0], [1.0, -1.0, 0.0], atol=1e-6)


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x = _x((2, 3))
    loss = F.cross_entropy(x, tr.tensor([-100, -100]))
    assert np.isnan(loss.item())
    assert F.cross_entropy(x, tr.tensor([-100, -100]), reduction="sum").item() == 0.0


def test_cross_entropy_is_one_node():
    x = _x((4, 3))
    loss = F.cross_entropy(x, tr.tensor([0, 1, 2, 0]))
    assert loss.grad_fn.name == "CrossEntropy" and loss.grad_fn.parents == (x,)


# ----- errors at the boundary
def test_cross_entropy_errors():
    x = _x((4, 3))
    with pytest.raises(TypeError, match=r"cross_entropy: expected integer class indices as target, got dtype float"):
        F.cross_entropy(x, tr.Tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"cross_entropy: target index 3 is out of range for 3 classes"):
        F.cross_entropy(x, tr.tensor([0, 1, 3, 1]))
    with pytest.raises(ValueError, match=r"cross_entropy: target index -1 is out of range for 3 classes"):
        F.cross_entropy(x, tr.tensor([0, -1, 2, 1]))
    with pytest.raises(ValueError, match=r"cross_entropy: expected target of shape \(4,\) for input of shape \(4, 3\), "
                                         r"got shape \(4, 1\)"):
        F.cross_entropy(x, tr.tensor([[0], [1], [2], [1]]))
    with pytest.raises(ValueError, match=r"cross_entropy: reduction must be one of"):
        F.cross_entropy(x, tr.tensor([0, 1, 2, 1]), reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: expected weight of shape \(3,\), got shape \(4,\)"):
        F.cross_entropy(x, tr.tensor([0, 1, 2, 1]), weight=tr.Tensor([1.0, 1.0, 1.0, 1.0], dtype=tr.float64))
    with pytest.raises(ValueError, match=r"nll_loss: target index 7 is out of range for 3 classes"):
        F.nll_loss(x, tr.tensor([0, 7, 2, 1]))


def test_other_loss_errors():
    x = _x((4, 3))
    with pytest.raises(ValueError, match=r"mse_loss: expected target of shape \(4, 3\) \(same as input\), got shape"):
        F.mse_loss(x, tr.Tensor(np.zeros((4, 1))))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: expected target of shape \(4, 3\)"):
        F.binary_cross_entropy_with_logits(x, tr.Tensor(np.zeros(3)))
    with pytest.raises(TypeError, match=r"binary_cross_entropy_with_logits: expected a float target, got dtype int"):
        F.binary_cross_entropy_with_logits(x, tr.Tensor(np.zeros((4, 3), dtype=np.int64)))
    with pytest.raises(ValueError, match=r"dropout: dropout probability has to be between 0 and 1, got 1.5"):
        F.dropout(x, 1.5)


# ----- nll_loss's ignore_index, pad, one_hot, cosine_similarity, dropout
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_module_with_weight_and_ignore_index_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    x, t, w = _ce_case("NC", False, seed=4)
    t[[0, 3]] = 2  # a real class used as ignore_index: those rows count for nothing, also in the weighted mean
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    loss = tr.nn.NLLLoss(weight=tr.Tensor(w, dtype=tr.float64), ignore_index=2, reduction=reduction)
    v, g_x, up = _run(loss, logp, tr.Tensor(t))
    tx = torch.tensor(logp, requires_grad=True)
    tout = torch.nn.NLLLoss(weight=torch.tensor(w), ignore_index=2, reduction=reduction)(tx, torch.tensor(t))
    (tout * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(v, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g_x, tx.grad.numpy(), rtol=1e-12, atol=1e-14)


PADS = [((1, 2), "constant", 0.5), ((2, 1, 1, 0), "constant", None), ((-1, 2), "constant", None),
        ((0, 0, 1, 1, 2, 0), "constant", -1.0), ((2, 3), "reflect", None), ((1, 1, 2, 0), "reflect", None),
        ((1, 2, 2, 1), "replicate", None), ((2, 1), "circular", None), ((4, 0), "circular", None)]


@pytest.mark.parametrize("pad,mode,value", PADS, ids=[f"{m}{p}" for p, m, _ in PADS])
def test_pad_matches_torch_and_gradchecks(pad, mode, value):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3, 4))
    kw = {} if value is None else {"value": value}
    v, g_x, up = _run(lambda a: F.pad(a, pad, mode, **kw), x)
    tx = torch.tensor(x, requires_grad=True)
    tout = torch.nn.functional.pad(tx, pad, mode, **kw)
    (tout * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(v, tout.detach().numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(g_x, tx.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert tr.gradcheck(lambda a: F.pad(a, pad, mode, **kw), [_x((2, 3, 4), 3)])


def test_pad_errors():
    x = tr.zeros(2, 3)
    with pytest.raises(ValueError, match="pad: expected an even number of ints"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match="padding length 6 is too large"):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="reflect padding \\(3, 0\\) must be smaller"):
        F.pad(x, (3, 0), "reflect")
    with pytest.raises(ValueError, match="doesn't take in value"):
        F.pad(x, (1, 0), "replicate", value=1.0)
    with pytest.raises(ValueError, match="mode must be"):
        F.pad(x, (1, 0), "edge")


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    t = np.array([[0, 3], [1, 1], [2, 0]])
    for nc in (-1, 6):
        ours = F.one_hot(tr.tensor(t), num_classes=nc)
        ref = torch.nn.functional.one_hot(torch.tensor(t), num_classes=nc)
        assert ours.dtype == tr.int64 and ours.shape == tuple(ref.shape)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    assert F.one_hot(tr.tensor(2), 3).tolist() == [0, 0, 1]
    with pytest.raises(TypeError, match="one_hot: expected an integer"):
        F.one_hot(tr.tensor([1.0]))
    with pytest.raises(ValueError, match="smaller than num_classes=3, got 3"):
        F.one_hot(tr.tensor([3]), 3)
    with pytest.raises(ValueError, match="non-negative, got -1"):
        F.one_hot(tr.tensor([-1]), 3)
    with pytest.raises(ValueError, match="empty tensor"):
        F.one_hot(tr.tensor(np.zeros(0, dtype=np.int64)))


COS = [((4, 3), (4, 3), 1, 1e-8), ((4, 3), (1, 3), 1, 1e-8), ((2, 3, 5), (3, 1), 0, 1e-8),
       ((2, 3, 5), (2, 3, 5), -1, 1e-8), ((3, 4), (3, 4), 1, 0.5), ("tiny", (3, 2), 1, 1e-8)]


@pytest.mark.parametrize("s1,s2,dim,eps", COS, ids=[f"{a}-{b}-{d}-{e}" for a, b, d, e in COS])
def test_cosine_similarity_matches_torch(s1, s2, dim, eps):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    if s1 == "tiny":  # norms below eps (clamped, yet the gradient flows through the norm) and an all-zero row
        a = np.array([[1e-9, 0.0], [3.0, 4.0], [0.0, 0.0]])
    else:
        a = rng.standard_normal(s1)
    b = rng.standard_normal(s2)
    x1, x2 = tr.Tensor(a, requires_grad=True, dtype=tr.float64), tr.Tensor(b, requires_grad=True, dtype=tr.float64)
    t1, t2 = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out = F.cosine_similarity(x1, x2, dim=dim, eps=eps)
    tout = torch.nn.functional.cosine_similarity(t1, t2, dim=dim, eps=eps)
    up = rng.standard_normal(tout.shape)
    (out * tr.Tensor(up, dtype=tr.float64)).sum().backward()
    (tout * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x1.grad.numpy(), t1.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x2.grad.numpy(), t2.grad.numpy(), rtol=1e-10, atol=1e-12)
    if s1 != "tiny":
        assert tr.gradcheck(lambda p, q: F.cosine_similarity(p, q, dim=dim, eps=eps), [_x(s1, 4), _x(s2, 5)])
    with pytest.raises(IndexError, match="cosine_similarity: dim 3"):
        F.cosine_similarity(x1, x2, dim=3)


def test_dropout_statistics_module_and_inplace():
    tr.manual_seed(0)
    x = tr.ones(400, 500, dtype=tr.float64)
    y = F.dropout(x, 0.3).numpy()
    assert set(np.unique(y)) == {0.0, 1.0 / 0.7} and abs((y == 0).mean() - 0.3) < 0.005 and abs(y.mean() - 1) < 0.01
    assert F.dropout(x, 0.3, training=False) is x and F.dropout(x, 0.0) is x
    assert not F.dropout(x, 1.0).numpy().any()
    tr.manual_seed(1)
    a = F.dropout(x, 0.4)
    tr.manual_seed(1)
    drop = tr.nn.Dropout(0.4)
    np.testing.assert_array_equal(drop(x).numpy(), a.numpy())  # the module is F.dropout
    drop.eval()
    assert drop(x) is x
    tr.manual_seed(1)
    z = tr.ones(400, 500, dtype=tr.float64)
    assert F.dropout(z, 0.4, inplace=True) is z and z._version == 1
    np.testing.assert_array_equal(z.numpy(), a.numpy())
    w = _x((3, 4))
    tr.manual_seed(2)
    h = w * 1.0
    assert tr.nn.Dropout(0.5, inplace=True)(h) is h
    (h * w).sum().backward()  # recorded: gradients through the mask
    tr.manual_seed(2)
    mask = F.dropout(tr.ones(3, 4, dtype=tr.float64), 0.5).numpy()
    np.testing.assert_allclose(w.grad.numpy(), 2 * w.numpy() * mask)
    assert repr(tr.nn.Dropout(0.2, inplace=True)) == "Dropout(p=0.2, inplace=True)"
