"""tr.cuda: the few torch.cuda calls programs make around choosing a device and seeding. Imports: backend, checks,
devices."""

from . import backend as B
from . import checks
from .devices import device_count, is_available

__all__ = ["is_available", "device_count", "current_device", "manual_seed", "manual_seed_all", "synchronize"]


def current_device():
    """0 on the GPU backend; a RuntimeError naming the flag elsewhere (as torch.cuda without a GPU)."""
    if not is_available():
        raise RuntimeError("cuda.current_device: no GPU backend; set TINYGRAD_RNN_GPU=1 before importing tinygrad_rnn "
                           "(pip install 'tinygrad_rnn[gpu-cuda12]' or '[gpu-cuda13]')")
    return 0


def manual_seed(seed):
    """torch.cuda.manual_seed: the seed is checked and nothing else happens. Every random draw here comes from the one
    host generator that tr.manual_seed seeds (so both backends give the same numbers); there is no GPU generator, and
    a CPU program's draws stay as torch.manual_seed made them, as in PyTorch."""
    checks.size("manual_seed", "seed", seed)


manual_seed_all = manual_seed


def synchronize(device=None):
    """Wait for the GPU's queued work (for timing); nothing to wait for on NumPy."""
    if B.NAME == "cupy":
        B.xp.cuda.Device().synchronize()
