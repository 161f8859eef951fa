"""Argument checks shared by the optimizers and schedulers: one wording for every refused hyperparameter
("Adam: invalid eps=nan; expected a finite number >= 0"). Imports: the standard library only."""

import math
import numbers


def _show(value):
    return repr(value) if isinstance(value, str) else str(value)


def number(owner, name, value):
    """`value` must be a real number (bools and Tensors are refused: a Tensor lr is a torch feature we lack)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__} {_show(value)}")
    return value


def in_range(owner, name, value, low=0, high=None, low_open=False, high_open=False, finite=True):
    """Refuse `value` unless low <= value (< if low_open) and value <= high (< if high_open). Written as
    `not (low <= value)` so that NaN, for which every comparison is False, is refused too."""
    number(owner, name, value)
    ok = (low is None or (low < value if low_open else low <= value)) and \
         (high is None or (value < high if high_open else value <= high)) and (not finite or math.isfinite(value))
    if not ok:
        parts = []
        if low is not None and high is not None:
            parts.append(f"in {'(' if low_open else '['}{_show(low)}, {_show(high)}{')' if high_open else ']'}")
        elif low is not None:
            parts.append(f"{'>' if low_open else '>='} {_show(low)}")
        elif high is not None:
            parts.append(f"{'<' if high_open else '<='} {_show(high)}")
        kind = "a finite number" if finite else "a number"
        raise ValueError(f"{owner}: invalid {name}={_show(value)}; expected {kind} {' '.join(parts)}".rstrip())
    return value


def integer(owner, name, value, low=None):
    """`value` must be an int (not a bool, not a float such as 3.0: PyTorch's schedulers count steps in ints)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, got {type(value).__name__} {_show(value)}")
    if low is not None and value < low:
        raise ValueError(f"{owner}: invalid {name}={value}; expected an int >= {low}")
    return int(value)


def rule(check, **bounds):
    """check with its bounds fixed: rule(owner, name, value) -> value. Schedulers list one per attribute and apply it
    in the constructor and again to a loaded state dict, so both refuse the same values."""
    return lambda owner, name, value: check(owner, name, value, **bounds)


def choice(owner, name, value, options):
    if value not in options:
        raise ValueError(f"{owner}: invalid {name}={_show(value)}; expected one of {', '.join(map(repr, options))}")
    return value
