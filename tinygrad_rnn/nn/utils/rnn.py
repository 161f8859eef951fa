"""Variable-length sequence helpers in PyTorch's style: PackedSequence, pack/pad, plus reverse_padded and
last_outputs for bidirectional layers. Imports: backend, tensor. Every gather is one differentiable GetItem."""

from collections import namedtuple

from ... import backend as B
from ...creation import full
from ...functions import cat
from ...tensor import Tensor, int64

_np = B.np


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Sequences of different lengths stored without padding, time-major: `data` (sum(lengths), *) holds step 0 of
    every sequence (longest first), then step 1 of those still running, ... `batch_sizes[t]` counts the sequences
    that have a step t. `sorted_indices[j]` is the original batch index of the j-th longest sequence;
    `unsorted_indices` its inverse (None for both when packed with enforce_sorted=True).
    Recurrent layers accept it as input and return their output packed the same way."""

    __slots__ = ()


def lengths_to_host(lengths, name="lengths"):
    """A list, tuple, NumPy array or integer Tensor of lengths -> a 1-D host int64 array."""
    if isinstance(lengths, Tensor):
        lengths = lengths.numpy()
    elif B.is_array(lengths):
        lengths = B.to_host(lengths)
    try:
        host = _np.asarray(lengths)
    except (ValueError, TypeError):
        host = _np.asarray(None)  # ragged or not array-like: reported below as not a 1-D sequence
    if host.ndim != 1 or (host.size and host.dtype.kind not in "iu"):
        raise ValueError(f"{name}: expected a 1-D sequence of integers, got {host.dtype} array of shape {host.shape}")
    return host.astype(_np.int64)


def _check(name, value, kind, ndim=None, exact=True):
    """A PackedSequence / Tensor argument (of `ndim` dims, or at least `ndim` when not `exact`), or a TypeError /
    ValueError naming `name`."""
    if not isinstance(value, kind):
        raise TypeError(f"{name}: expected a {kind.__name__}, got {type(value).__name__}")
    if ndim is not None and (value.ndim != ndim if exact else value.ndim < ndim):
        want = f"a {ndim}-d padded batch (T, N, F)" if exact else f"a padded batch of at least {ndim} dims (T, N, ...)"
        raise ValueError(f"{name}: expected {want}, got shape {value.shape}")
    return value


def _lengths_in_range(name, lengths, N, T, lo):
    """lengths as a host array of N ints in [lo, T] (T: the padded length), or a ValueError naming `name`."""
    n_len = lengths_to_host(lengths, f"{name}: lengths")
    if n_len.shape[0] != N:
        raise ValueError(f"{name}: expected {N} lengths (one per sequence), got {n_len.shape[0]}")
    if N and (n_len.min() < lo or n_len.max() > T):
        raise ValueError(f"{name}: lengths must be between {lo} and the padded length {T}, got {n_len.tolist()}")
    return n_len


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=False):
    """Pack a padded batch (T, N, *) (or (N, T, *) with batch_first) whose sequence n has lengths[n] valid steps.

    enforce_sorted=False (the default here, unlike PyTorch) sorts by length; True requires decreasing lengths.
        packed = pack_padded_sequence(x, [5, 2, 3]); out, h_n = lstm(packed)"""
    _check("pack_padded_sequence", input, Tensor, 2, exact=False)
    x = input.transpose(0, 1) if batch_first else input
    T, N = x.shape[0], x.shape[1]
    n_len = _lengths_in_range("pack_padded_sequence", lengths, N, T, 1)
    if enforce_sorted:
        if _np.any(n_len[:-1] < n_len[1:]):
            raise ValueError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                             "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                             "sidestep this requirement.")
        order, sorted_t, unsorted_t = _np.arange(N), None, None
    else:
        order = _np.argsort(-n_len, kind="stable")
        sorted_t = Tensor(order)
        unsorted_t = Tensor(_np.argsort(order, kind="stable"))
    return _pack(x, n_len, order, sorted_t, unsorted_t)


def _pack(x, n_len, order, sorted_t, unsorted_t):
    """Pack time-major `x` with lengths n_len (original order) and the given length-descending `order`."""
    N = x.shape[1]
    max_len = int(n_len.max()) if N else 0
    batch_sizes = (n_len[None, :] > _np.arange(max_len)[:, None]).sum(axis=1)
    rows = [t * N + order[: int(batch_sizes[t])] for t in range(max_len)]
    rows = _np.concatenate(rows) if rows else _np.zeros(0, _np.int64)
    flat = x.reshape((-1,) + tuple(x.shape[2:]))
    data = flat[Tensor._wrap(B.asarray(rows, dtype=int64), False)]
    return PackedSequence(data, Tensor(batch_sizes.astype(_np.int64)), sorted_t, unsorted_t)


def packed_layout(sequence):
    """(lengths in original order, length-descending order) of a PackedSequence, as host int64 arrays."""
    _check("packed_layout", sequence, PackedSequence)
    bs = lengths_to_host(sequence.batch_sizes, "batch_sizes")
    N = int(bs[0]) if bs.size else 0
    order = (lengths_to_host(sequence.sorted_indices, "sorted_indices") if sequence.sorted_indices is not None
             else _np.arange(N))
    rank_len = (bs[None, :] > _np.arange(N)[:, None]).sum(axis=1)  # length of the j-th longest sequence
    n_len = _np.empty(N, _np.int64)
    n_len[order] = rank_len
    return n_len, order


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo pack_padded_sequence: (padded (T, N, *) or (N, T, *), lengths Tensor (N,)) in the original order.

    T = max(lengths), or total_length when given (it must not be smaller)."""
    _check("pad_packed_sequence", sequence, PackedSequence)
    bs = lengths_to_host(sequence.batch_sizes, "batch_sizes")
    n_len, order = packed_layout(sequence)
    N, max_len = (int(bs[0]) if bs.size else 0), bs.shape[0]
    T = max_len if total_length is None else int(total_length)
    if T < max_len:
        raise ValueError(f"pad_packed_sequence: total_length={total_length} is smaller than the longest sequence "
                         f"({max_len})")
    data = sequence.data
    offsets = _np.concatenate([[0], _np.cumsum(bs)[:-1]]).astype(_np.int64)
    rank = _np.empty(N, _np.int64)
    rank[order] = _np.arange(N)
    pad_row = data.shape[0]
    idx = _np.full((T, N), pad_row, _np.int64)
    for t in range(max_len):
        running = n_len > t
        idx[t, running] = offsets[t] + rank[running]
    ext = cat([data, full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)], 0)
    padded = ext[Tensor._wrap(B.asarray(idx.reshape(-1), dtype=int64), False)]
    padded = padded.reshape((T, N) + tuple(data.shape[1:]))
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor(n_len)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """A list of Tensors (L_n, *) -> one padded Tensor (T, N, *) (or (N, T, *)), T = max L_n."""
    if not isinstance(sequences, (list, tuple)):
        raise TypeError(f"pad_sequence: expected a list of tensors, got {type(sequences).__name__}")
    if not sequences:
        raise ValueError("pad_sequence: expected a non-empty list of tensors")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: expected a list of Tensors, got a {type(s).__name__} at index {i}")
        if s.ndim == 0:
            raise ValueError(f"pad_sequence: every sequence needs at least 1 dim (time), got a 0-d tensor at index {i}")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    feat = tuple(sequences[0].shape[1:])
    for s in sequences:
        if tuple(s.shape[1:]) != feat:
            raise ValueError(f"pad_sequence: every sequence must have trailing shape {feat}, got {tuple(s.shape)}")
    lens = _np.array([s.shape[0] for s in sequences], _np.int64)
    T, N = int(lens.max()), len(sequences)
    starts = _np.concatenate([[0], _np.cumsum(lens)[:-1]])
    pad_row = int(lens.sum())
    idx = _np.full((T, N), pad_row, _np.int64)
    for n, (st, L) in enumerate(zip(starts, lens, strict=True)):
        rows = _np.arange(L) if padding_side == "right" else _np.arange(T - L, T)
        idx[rows, n] = st + _np.arange(L)
    dtype = sequences[0].dtype
    ext = cat(list(sequences) + [full((1,) + feat, padding_value, dtype=dtype)], 0)
    out = ext[Tensor._wrap(B.asarray(idx.reshape(-1), dtype=int64), False)].reshape((T, N) + feat)
    return out.transpose(0, 1) if batch_first else out


def pack_sequence(sequences, enforce_sorted=False):
    """pack_padded_sequence(pad_sequence(sequences), lengths)."""
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def reverse_padded(x, lengths=None, batch_first=False):
    """Reverse each sequence of a padded batch within its own length; padding stays where it is.

    x (T, N, *) (or (N, T, *)): out[t, n] = x[lengths[n] - 1 - t, n] for t < lengths[n], else x[t, n].
    Without lengths it is x flipped along time."""
    tx = 1 if batch_first else 0
    _check("reverse_padded", x, Tensor, 2, exact=False)
    T = x.shape[tx]
    if lengths is None:
        idx = (slice(None),) * tx + (slice(None, None, -1),)
        return x[idx]
    xt = x.transpose(0, 1) if batch_first else x
    N = xt.shape[1]
    n_len = _lengths_in_range("reverse_padded", lengths, N, T, 0)
    t = _np.arange(T)[:, None]
    src = _np.where(t < n_len[None, :], n_len[None, :] - 1 - t, t)
    rows = src * N + _np.arange(N)[None, :]
    flat = xt.reshape((-1,) + tuple(xt.shape[2:]))
    out = flat[Tensor._wrap(B.asarray(rows.reshape(-1), dtype=int64), False)].reshape(tuple(xt.shape))
    return out.transpose(0, 1) if batch_first else out


def last_outputs(output, lengths=None, bidirectional=False, batch_first=False):
    """Each sequence's final state from a layer's output (T, N, D*H) -> (N, D*H).

    The forward half is taken at t = lengths[n] - 1; the reverse half at t = 0, where the reverse direction ends
    (taking output[-1] for it would give the state after a single step). Equal to h_n of the last layer."""
    _check("last_outputs", output, Tensor, 3)
    out = output.transpose(0, 1) if batch_first else output
    T, N, F = out.shape
    n_len = _np.full(N, T, _np.int64) if lengths is None else _lengths_in_range("last_outputs", lengths, N, T, 1)
    H = F // 2 if bidirectional else F
    rows = (n_len - 1) * N + _np.arange(N)
    flat = out.reshape(T * N, F)
    fwd = flat[Tensor._wrap(B.asarray(rows, dtype=int64), False)]
    if not bidirectional:
        return fwd
    return cat([fwd[:, :H], out[0][:, H:]], 1)
