"""tr.cuda: the few torch.cuda queries programs make before choosing a device. Imports: devices."""

from .devices import device_count, is_available

__all__ = ["is_available", "device_count"]
