# Module state as PyTorch keeps it: tied weights listed under every name in state_dict (once in named_parameters),
# PyTorch checkpoints with tied weights loading strictly, all-or-nothing load_state_dict, and attribute assignment
# that keeps a name's kind and place. Compared with torch where it is installed.
import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn


def _tied(lib):
    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = lib.nn.Embedding(9, 4)
            self.rnn = lib.nn.GRU(4, 4, num_layers=2)
            self.decoder = lib.nn.Linear(4, 9)
            self.decoder.weight = self.encoder.weight
            self.shared = lib.nn.Linear(4, 4)
            self.head = lib.nn.Sequential(self.shared, lib.nn.Tanh(), self.shared)

        def forward(self, x):
            out, _ = self.rnn(self.encoder(x))
            return self.decoder(self.head(out))

    return Tied()


TIED_KEYS = ["encoder.weight"] + [f"rnn.{w}_l{k}" for k in range(2) for w in ("weight_ih", "weight_hh", "bias_ih",
                                                                               "bias_hh")]
TIED_KEYS += ["decoder.weight", "decoder.bias", "shared.weight", "shared.bias", "head.0.weight", "head.0.bias",
              "head.2.weight", "head.2.bias"]


def test_tied_weights_in_state_dict_and_named_parameters():
    m = _tied(tr)
    assert list(m.state_dict()) == TIED_KEYS
    names = [n for n, _ in m.named_parameters()]
    assert names == [k for k in TIED_KEYS if k not in ("decoder.weight", "head.0.weight", "head.0.bias",
                                                       "head.2.weight", "head.2.bias")]
    assert [n for n, _ in m.named_parameters(remove_duplicate=False)] == TIED_KEYS
    assert len(list(m.parameters())) == len(names)
    sd = m.state_dict()
    assert sd["decoder.weight"] is sd["encoder.weight"]  # one host copy per tensor, under each name
    kv = m.state_dict(keep_vars=True)
    assert kv["decoder.weight"] is m.encoder.weight and isinstance(kv["rnn.bias_hh_l1"], nn.Parameter)
    assert list(m.state_dict(prefix="model.")) == ["model." + k for k in TIED_KEYS]


def test_same_keys_and_order_as_torch():
    torch = pytest.importorskip("torch")
    t, m = _tied(torch), _tied(tr)
    assert list(t.state_dict()) == list(m.state_dict()) == TIED_KEYS
    assert [n for n, _ in t.named_parameters()] == [n for n, _ in m.named_parameters()]
    assert ([n for n, _ in t.named_parameters(remove_duplicate=False)]
            == [n for n, _ in m.named_parameters(remove_duplicate=False)])
    assert [n for n, _ in t.named_modules()] == [n for n, _ in m.named_modules()]
    assert ([n for n, _ in t.named_modules(remove_duplicate=False)]
            == [n for n, _ in m.named_modules(remove_duplicate=False)])


def test_pytorch_checkpoint_with_tied_weights_loads_strictly_and_stays_tied(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    t = _tied(torch).double()
    m = _tied(tr).double()
    result = m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert m.decoder.weight is m.encoder.weight and m.head[0] is m.shared is m.head[2]
    x = np.random.default_rng(1).integers(0, 9, (5, 3))
    np.testing.assert_allclose(m(tr.Tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    # the same through a file, and straight from torch tensors
    tr.save(m.state_dict(), tmp_path / "ck.npz")
    m2 = _tied(tr).double()
    m2.load_state_dict(tr.load(tmp_path / "ck.npz"))
    m3 = _tied(tr).double()
    m3.load_state_dict(t.state_dict())
    for other in (m2, m3):
        assert other.decoder.weight is other.encoder.weight
        for (k, a), b in zip(m.state_dict().items(), other.state_dict().values(), strict=True):
            np.testing.assert_array_equal(a, b, err_msg=k)
    # a strict load without the tied alias fails exactly as PyTorch's does
    partial = {k: v for k, v in m.state_dict().items() if k != "decoder.weight"}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "decoder.weight"'):
        m.load_state_dict(partial)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "decoder.weight"'):
        t.load_state_dict({k: torch.tensor(v) for k, v in partial.items()})


def _snapshot(m):
    return [(k, t, t.array, np.array(t.numpy(), copy=True)) for k, t in m._state_items()]


def _unchanged(m, snap):
    for (k, t, arr, values), (k2, t2) in zip(snap, m._state_items(), strict=True):
        assert k == k2 and t is t2 and t.array is arr, k
        np.testing.assert_array_equal(t.numpy(), values, err_msg=k)
        assert t.numpy().tobytes() == values.tobytes(), k


BAD_LOADS = {
    "strings of the right shape": ("rnn.bias_hh_l1", lambda v: np.full(v.shape, "x"),
                                   r'"rnn.bias_hh_l1", expected a numeric array of shape \(12,\) \(float32\) from '
                                   r"checkpoint but received an array of dtype <U1"),
    "wrong shape, last key": ("head.2.bias", lambda v: np.zeros(5, np.float32),
                              r"size mismatch for head.2.bias: copying a param with shape \(5,\) from checkpoint, the "
                              r"shape in current model is \(4,\)"),
    "not an array": ("encoder.weight", lambda v: {"a": 1}, r'"encoder.weight", expected .* but received a dict'),
    "None": ("decoder.bias", lambda v: None, r'"decoder.bias", expected .* but received a NoneType'),
    "complex": ("shared.weight", lambda v: v.astype(np.complex64), "received an array of dtype complex64"),
    "object array": ("rnn.weight_ih_l0", lambda v: np.empty(v.shape, object), "received an array of dtype object"),
}


@pytest.mark.parametrize("case", list(BAD_LOADS))
def test_failed_load_changes_nothing(case):
    key, bad, pattern = BAD_LOADS[case]
    tr.manual_seed(0)
    src = _tied(tr).state_dict()
    tr.manual_seed(1)
    m = _tied(tr)
    snap = _snapshot(m)
    src[key] = bad(src[key])
    with pytest.raises(RuntimeError, match=r"Error\(s\) in loading state_dict for Tied:\n\t.*" + pattern):
        m.load_state_dict(src)
    _unchanged(m, snap)
    with pytest.raises(RuntimeError, match=pattern):
        m.load_state_dict(src, strict=False)  # strict only concerns names: bad values always fail
    _unchanged(m, snap)


def test_failed_load_names_every_problem():
    m = nn.Linear(3, 2)
    snap = _snapshot(m)
    bad = {"weight": np.zeros((3, 3)), "bias": np.array(["a", "b"]), "extra": np.ones(1)}
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(bad)
    text = str(err.value)
    for part in ('Unexpected key(s) in state_dict: "extra"', "size mismatch for weight", '"bias", expected'):
        assert part in text
    _unchanged(m, snap)
    with pytest.raises(TypeError, match="Linear.load_state_dict: expected a dict of arrays, got list"):
        m.load_state_dict([1, 2])
    _unchanged(m, snap)
    # strict=False: unexpected and missing keys are reported, the rest loads
    res = m.load_state_dict({"bias": np.array([1, 2]), "extra": 0}, strict=False)
    assert res.missing_keys == ["weight"] and res.unexpected_keys == ["extra"]
    assert m.bias.dtype == tr.float32 and m.bias.numpy().tolist() == [1.0, 2.0]


def test_attribute_assignment_keeps_kind_and_order_like_torch():
    torch = pytest.importorskip("torch")
    for lib in (torch, tr):
        lin = lib.nn.Linear(3, 3)
        lin.weight = lib.nn.Parameter(lin.weight.detach() * 1 if lib is torch else lin.weight.numpy())
        assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
        with pytest.raises(TypeError, match=r"cannot assign '[\w.]*Tensor' as parameter 'weight' \(\w+.*Parameter or "
                                            r"None expected\)"):
            lin.weight = lin.bias * 2
        lin.bias = None
        assert [n for n, _ in lin.named_parameters()] == ["weight"] and "bias" in lin._parameters
        seq = lib.nn.Sequential(lib.nn.Tanh(), lib.nn.ReLU())
        with pytest.raises(TypeError, match=r"cannot assign 'int' as child module '0'"):
            setattr(seq, "0", 3)
        setattr(seq, "0", lib.nn.Sigmoid())
        assert [n for n, _ in seq.named_children()] == ["0", "1"]


def test_buffers_persistent_or_not_like_torch():
    torch = pytest.importorskip("torch")
    keys = []
    for lib in (torch, tr):
        m = lib.nn.Linear(2, 2)
        m.register_buffer("steps", lib.zeros(1))
        m.register_buffer("cache", lib.ones(2), persistent=False)
        m.register_buffer("steps", lib.ones(1), persistent=False)  # re-registered: now not saved
        m.register_buffer("cache", lib.zeros(2))  # ...and this one now saved
        keys.append(list(m.state_dict()))
        with pytest.raises(TypeError, match=r"cannot assign 'int' object to buffer 'b' \(.*Tensor or None "
                                            r"required\)"):
            m.register_buffer("b", 3)
    assert keys[0] == keys[1] == ["weight", "bias", "cache"]


def test_load_writes_in_place_like_torch():
    torch = pytest.importorskip("torch")
    for lib in (torch, tr):
        lin = lib.nn.Linear(3, 2)
        data = lin.weight.data  # shares storage with the parameter
        new = np.arange(6, dtype=np.float32).reshape(2, 3)
        lin.load_state_dict({"weight": new, "bias": np.zeros(2, np.float32)} if lib is tr else
                            {"weight": torch.tensor(new), "bias": torch.zeros(2)})
        assert data.numpy().tolist() == new.tolist()  # .data sees the loaded values, as in torch
        # loading between a forward and its backward is caught, not mixed into the gradient
        out = lin(lib.ones(4, 3, requires_grad=True)).sum()  # its backward needs the old weight
        lin.load_state_dict({k: v.clone() if lib is torch else v for k, v in lin.state_dict().items()})
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.backward()
    ro = np.ones((2, 3), np.float32)
    ro.flags.writeable = False
    lin = nn.Linear(3, 2)
    lin.weight = nn.Parameter(ro)
    lin.load_state_dict({"weight": np.zeros((2, 3)), "bias": np.zeros(2)})  # a read-only array is replaced instead
    assert lin.weight.numpy().tolist() == [[0.0] * 3] * 2 and ro.tolist() == [[1.0] * 3] * 2


def test_assign_gives_new_storage_and_keeps_the_checkpoints_dtype():
    torch = pytest.importorskip("torch")
    for lib in (torch, tr):
        lin = lib.nn.Linear(3, 2)
        data, before = lin.weight.data, lin.weight.detach().numpy().copy()
        sd = {"weight": np.zeros((2, 3)), "bias": np.zeros(2, np.float32)}
        lin.load_state_dict({k: torch.tensor(v) for k, v in sd.items()} if lib is torch else sd, assign=True)
        assert lin.weight.detach().numpy().tolist() == [[0.0] * 3] * 2 and np.array_equal(data.numpy(), before)
        assert str(lin.weight.dtype).endswith("float64") and str(lin.bias.dtype).endswith("float32")
        assert lin.weight.requires_grad
    with pytest.raises(RuntimeError, match="assign=True keeps the checkpoint's dtype, and float16 is not one of"):
        lin.load_state_dict({"weight": np.zeros((2, 3), np.float16), "bias": np.zeros(2)}, assign=True)
