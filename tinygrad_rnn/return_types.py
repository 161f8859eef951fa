"""Named (values, indices) results, as torch.return_types: `v, i = x.max(1)` unpacks, `.values`/`.indices` read.
Imports only the standard library."""

from collections import namedtuple

max = namedtuple("max", "values indices")  # noqa: A001  (PyTorch's names)
min = namedtuple("min", "values indices")  # noqa: A001
sort = namedtuple("sort", "values indices")
topk = namedtuple("topk", "values indices")
