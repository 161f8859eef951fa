"""tr.device and moving tensors and modules: the active device (cpu on NumPy, cuda:0 on CuPy and on the strict
stand-in) is a no-op, another raises naming TINYGRAD_RNN_GPU; x.cpu().numpy() works everywhere. Runs on every
backend (also TINYGRAD_RNN_GPU=strict, where the GPU branches run)."""

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import backend as B
from tinygrad_rnn import nn

ON_GPU = B.NAME != "numpy"  # CuPy, or the strict stand-in of a GPU
ACTIVE, OTHER = ("cuda", "cpu") if ON_GPU else ("cpu", "cuda")


@pytest.mark.parametrize("spec", ["cpu", "cuda", "cuda:0", ("cuda", 1)])
def test_device_parses_prints_and_compares_like_torch(spec):
    torch = pytest.importorskip("torch")
    args = spec if isinstance(spec, tuple) else (spec,)
    ours, theirs = tr.device(*args), torch.device(*args)
    assert (ours.type, ours.index, str(ours), repr(ours)) == (theirs.type, theirs.index, str(theirs), repr(theirs))
    assert ours == tr.device(str(theirs)) and hash(ours) == hash(tr.device(str(theirs)))
    assert tr.device(ours) == ours and tr.device(0) == tr.device("cuda:0")


def test_device_rejects_what_torch_rejects():
    with pytest.raises(ValueError, match="expected one of .* device type, got 'tpu'"):
        tr.device("tpu")
    with pytest.raises(ValueError, match="invalid device index"):
        tr.device("cuda:x")
    with pytest.raises(ValueError, match="already names an index"):
        tr.device("cuda:0", 1)
    assert tr.device("cuda") != tr.device("cuda:0")  # as in PyTorch


def test_tensor_device_and_the_active_device_is_a_no_op():
    x = tr.randn(2, 3)
    assert x.device.type == ACTIVE and x.is_cuda == ON_GPU
    for target in (ACTIVE, tr.device(ACTIVE), x.device, x):
        assert x.to(target) is x
    assert x.to(device=ACTIVE) is x and x.cpu() is x
    np.testing.assert_array_equal(x.cpu().numpy(), x.numpy())
    assert x.cpu().tolist() == x.tolist() and isinstance(x.sum().cpu().item(), float)


def test_to_dtype_forms():
    x = tr.randn(2, 3, requires_grad=True)
    assert x.to(tr.float64).dtype == tr.float64 and x.to(ACTIVE, tr.float64).dtype == tr.float64
    assert x.to(dtype=tr.int64).dtype == tr.int64 and x.to(device=ACTIVE, dtype=tr.double).dtype == tr.float64
    assert x.to(tr.zeros(1, dtype=tr.float64)).dtype == tr.float64
    y = x.to(tr.float64)
    y.sum().backward()  # the cast is recorded: the gradient reaches x in x's dtype
    assert x.grad.dtype == tr.float32
    with pytest.raises(TypeError, match="to: expected one of tr.float32"):
        x.to(complex)
    with pytest.raises(ValueError, match="device type, got 'float16'"):  # a string names a device, as in PyTorch
        x.to("float16")


def test_the_other_device_raises_naming_the_flag_or_is_served():
    x = tr.ones(2)
    if ON_GPU:
        assert x.cuda() is x and x.to("cuda:0") is x and x.to("cpu") is x  # cpu: the values stay on the device
        with pytest.raises(RuntimeError, match="only device cuda:0"):
            x.to("cuda:1")
    else:
        for call in (lambda: x.cuda(), lambda: x.to("cuda"), lambda: tr.zeros(2, device="cuda"),
                     lambda: tr.tensor([1.0], device="cuda:0"), lambda: tr.Tensor([1.0], device="cuda")):
            with pytest.raises(RuntimeError,
                               match=r"needs the CuPy backend.*TINYGRAD_RNN_GPU=1.*\[gpu-cuda12\].*\[gpu-cuda13\]"):
                call()


@pytest.mark.parametrize("factory", [
    lambda d: tr.zeros(2, 3, device=d), lambda d: tr.ones((2,), device=d, dtype=tr.long),
    lambda d: tr.full((2,), 1.5, device=d), lambda d: tr.arange(4, device=d), lambda d: tr.randn(2, device=d),
    lambda d: tr.rand(2, device=d), lambda d: tr.empty(2, device=d), lambda d: tr.tensor([1, 2], device=d),
    lambda d: tr.zeros_like(tr.ones(2), device=d), lambda d: tr.ones(2).new_zeros(3, device=d),
    lambda d: tr.randint(0, 3, (2,), device=d), lambda d: tr.Tensor(2, device=d)])
def test_every_factory_takes_device(factory):
    t = factory(tr.device(ACTIVE))
    assert t.device.type == ACTIVE and t.numel() >= 2


def test_module_to_device_and_dtype():
    m = nn.Linear(3, 2)
    assert m.to(ACTIVE) is m and m.cpu() is m and m.to(device=tr.device(ACTIVE)) is m
    assert m.to(ACTIVE, tr.float64).weight.dtype == tr.float64
    assert m.to(tr.zeros(1, dtype=tr.float32)).weight.dtype == tr.float32
    if ON_GPU:
        assert m.cuda() is m
    else:
        with pytest.raises(RuntimeError, match="Linear.to: device 'cuda'.*TINYGRAD_RNN_GPU=1"):
            m.cuda()


def test_cuda_is_available_only_on_the_cupy_backend():
    assert tr.cuda.is_available() == (B.NAME == "cupy")
    assert tr.cuda.device_count() == (1 if B.NAME == "cupy" else 0)
    device = tr.device("cuda" if tr.cuda.is_available() else "cpu")  # the usual PyTorch line
    assert tr.ones(2).to(device).device.type in ("cpu", "cuda")


def test_cuda_seeding_and_synchronize_are_safe_everywhere():
    tr.manual_seed(3)
    first = tr.randn(3).tolist()
    tr.manual_seed(3)
    tr.cuda.manual_seed(123)  # no GPU generator: the host generator seeded by tr.manual_seed is untouched
    tr.cuda.manual_seed_all(7)
    tr.cuda.synchronize()
    assert tr.randn(3).tolist() == first
    if tr.cuda.is_available():
        assert tr.cuda.current_device() == 0
    else:
        with pytest.raises(RuntimeError, match="TINYGRAD_RNN_GPU=1"):
            tr.cuda.current_device()
