"""The backend switch TINYGRAD_RNN_GPU, read once at import: each case runs in a fresh interpreter with its own
environment, so these tests do not depend on the backend the suite itself runs on."""

import importlib.util
import os
import subprocess
import sys

import pytest


def run(code, gpu=None, *flags):
    env = {k: v for k, v in os.environ.items() if k != "TINYGRAD_RNN_GPU"}
    if gpu is not None:
        env["TINYGRAD_RNN_GPU"] = gpu
    return subprocess.run([sys.executable, *flags, "-c", code], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("gpu", [None, "0"])
def test_unset_or_zero_selects_numpy_and_import_is_silent(gpu):
    res = run("import tinygrad_rnn as tr, numpy as np; x = tr.ones(2) * 3; "
              "print(tr.backend.NAME, type(x.array) is np.ndarray)", gpu, "-W", "error")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["numpy", "True"] and res.stderr == ""


def test_plain_import_prints_nothing():
    res = run("import tinygrad_rnn", None, "-W", "error")
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
def test_gpu_without_cupy_names_the_flag_and_the_extra():
    res = run("import tinygrad_rnn", "1")
    assert res.returncode != 0 and res.stdout == ""
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError:"), res.stderr
    assert "TINYGRAD_RNN_GPU=1" in last and "tinygrad_rnn[gpu-cuda12]" in last and "[gpu-cuda13]" in last


def test_unknown_value_is_rejected():
    res = run("import tinygrad_rnn", "maybe")
    assert res.returncode != 0 and res.stdout == ""
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("ValueError:") and "TINYGRAD_RNN_GPU='maybe'" in last and "'strict'" in last, last


STRICT_PROBE = """
import numpy as np, tinygrad_rnn as tr
B = tr.backend
x = tr.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
y = (x @ x).tanh().sum()
y.backward()
print(B.NAME, B.xp.__name__, str(B.DEVICE) != "CPU_DEVICE", x.array.device == B.DEVICE, x.grad.array.device == B.DEVICE)
try:
    np.asarray(y.array)
    print("implicit-host-conversion-allowed")
except (RuntimeError, TypeError, ValueError):
    print("implicit-host-conversion-refused")
print(type(x.grad.numpy()).__name__, round(y.item(), 6), x.grad.numpy().shape)
"""


def test_strict_selects_array_api_strict_on_a_device_that_refuses_host_conversion():
    res = run(STRICT_PROBE, "strict", "-W", "error")
    assert res.returncode == 0 and res.stderr == "", res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["strict", "array_api_strict", "True", "True", "True"]
    assert lines[1] == "implicit-host-conversion-refused"
    import numpy as np

    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert lines[2].split() == ["ndarray", str(round(float(np.tanh(x @ x).sum()), 6)), "(2,", "2)"]
