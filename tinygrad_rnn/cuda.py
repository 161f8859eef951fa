"""tr.cuda: the few torch.cuda calls programs make before choosing a device. Imports: backend, checks, devices."""

from . import backend, checks
from .devices import device_count, is_available

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all"]


def manual_seed(seed):
    """torch.cuda.manual_seed: every random draw here comes from one host generator (so both backends give the same
    numbers), and this seeds it, as tr.manual_seed does: `torch.manual_seed(s); torch.cuda.manual_seed(s)` gives the
    same draws as tr.manual_seed(s) alone."""
    backend.manual_seed(checks.size("manual_seed", "seed", seed))


manual_seed_all = manual_seed
