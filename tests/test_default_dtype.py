"""tr.set_default_dtype / tr.get_default_dtype: every place that makes a float without being told which (Python
floats, tr.Tensor, factories, layer weights) follows it, as in PyTorch; explicit dtypes and .float() do not."""

import contextlib

import pytest

import tinygrad_rnn as tr

# name -> a function of the framework module that makes a tensor without naming a float dtype
MADE = {
    "Tensor(list)": lambda m: m.Tensor([0, 1]),
    "Tensor(size)": lambda m: m.Tensor(2, 3),
    "tensor(floats)": lambda m: m.tensor([1.5, 2.0]),
    "zeros": lambda m: m.zeros(2, 3),
    "ones": lambda m: m.ones(2),
    "full(float)": lambda m: m.full((2,), 1.0),
    "arange(float step)": lambda m: m.arange(0, 1, 0.25),
    "randn": lambda m: m.randn(2),
    "rand": lambda m: m.rand(2),
    "int tensor * float": lambda m: m.tensor([1, 2]) * 2.5,
    "Linear": lambda m: m.nn.Linear(2, 3).weight,
    "Embedding": lambda m: m.nn.Embedding(4, 3).weight,
    "LayerNorm": lambda m: m.nn.LayerNorm(3).weight,
    "GRU": lambda m: m.nn.GRU(2, 3).weight_hh_l0,
    "LSTMCell": lambda m: m.nn.LSTMCell(2, 3).bias_ih,
    # not following the default: explicit dtypes, float32-by-name, integers
    "FloatTensor": lambda m: m.FloatTensor([1.0]),
    ".float()": lambda m: m.tensor([1.0]).float(),
    "dtype=float32": lambda m: m.zeros(2, dtype=m.float32),
    "tensor(ints)": lambda m: m.tensor([1, 2]),
}


@contextlib.contextmanager
def default(m, dtype):
    old = m.get_default_dtype()
    m.set_default_dtype(dtype)
    try:
        yield
    finally:
        m.set_default_dtype(old)


def name(dtype):
    return str(dtype).split(".")[-1].split("'")[0]


def test_float32_is_the_default():
    assert tr.get_default_dtype() == tr.float32
    assert tr.tensor([1.0]).dtype == tr.float32


@pytest.mark.parametrize("case", MADE)
def test_float64_default_follows_torch(case):
    torch = pytest.importorskip("torch")
    with default(torch, torch.float64):
        expected = name(MADE[case](torch).dtype)
    with default(tr, tr.float64):
        assert tr.get_default_dtype() == tr.float64
        got = name(MADE[case](tr).dtype)
    assert got == expected
    assert name(MADE[case](tr).dtype) != "float64"  # restored: float32 again (or an integer dtype)


def test_float64_default_without_torch():
    with default(tr, tr.float64):
        assert tr.zeros(2).dtype == tr.float64 and tr.nn.Linear(2, 2).bias.dtype == tr.float64
        assert tr.FloatTensor([1.0]).dtype == tr.float32
        assert "dtype" not in repr(tr.tensor([1.5])) and "float32" in repr(tr.tensor([1.5], dtype=tr.float32))
    assert tr.zeros(2).dtype == tr.float32


@pytest.mark.parametrize("bad", [tr.int64, tr.bool_, "float64", None])
def test_only_float_dtypes_can_be_the_default(bad):
    with pytest.raises(TypeError, match="set_default_dtype: only floating-point types are supported"):
        tr.set_default_dtype(bad)
    assert tr.get_default_dtype() == tr.float32
