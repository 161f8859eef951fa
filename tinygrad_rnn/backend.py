"""The array library, chosen once at import: NumPy by default, CuPy with TINYGRAD_RNN_GPU=1.
Every NumPy/CuPy difference (host copies, scatter-add, random numbers, 0-d results) lives here and
nowhere else. TINYGRAD_RNN_GPU=strict selects `array_api_strict` arrays on a non-CPU device: a
stand-in for a GPU that refuses implicit host conversions, used by CI to prove the device path."""

import sys
import threading

import numpy as np  # also the host library: user data and checkpoints pass through it

from .helpers import getenv, prod

_FLAG = "TINYGRAD_RNN_GPU"
_MODE = getenv(_FLAG, "0", {"", "0", "1", "strict"}) or "0"

if _MODE == "1":
    try:
        import cupy as xp
    except ImportError as e:
        raise RuntimeError(
            f"{_FLAG}=1 selects the CuPy backend, but CuPy is not installed: "
            "pip install 'tinygrad_rnn[gpu-cuda12]' or 'tinygrad_rnn[gpu-cuda13]', matching your CUDA driver (or unset "
            "the flag to use NumPy)"
        ) from e
    try:
        if xp.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no CUDA device")
    except Exception as e:
        raise RuntimeError(
            f"{_FLAG}=1 selects the CuPy backend, but no usable GPU was found ({e}); unset the flag to use NumPy"
        ) from e
    NAME = "cupy"
    DEVICE = None
    _array_type = xp.ndarray
    # Array-API spellings that older CuPy releases lack.
    if not hasattr(xp, "concat"):
        xp.concat = xp.concatenate
    if not hasattr(xp, "permute_dims"):
        xp.permute_dims = xp.transpose
    if not hasattr(xp, "astype"):
        xp.astype = lambda a, dtype, copy=True: a.astype(dtype, copy=copy)
elif _MODE == "strict":
    try:
        import array_api_strict as xp
    except ImportError as e:
        raise RuntimeError(f"{_FLAG}=strict needs the test extra: pip install array-api-strict") from e
    NAME = "strict"
    DEVICE = xp.Device("device1")
    _array_type = type(xp.asarray(0.0))
else:
    xp = np
    NAME = "numpy"
    DEVICE = None
    _array_type = np.ndarray

float32, float64, int64, int32 = xp.float32, xp.float64, xp.int64, xp.int32
bool_ = getattr(xp, "bool_", None) or xp.bool  # CuPy 13 has only bool_ (its `bool` may be Python's); strict only bool
FLOAT_DTYPES = (float32, float64)
_default_float = float32


def default_float():
    """The float dtype made when none is asked for (Python floats, factories, layer weights): float32 unless
    tr.set_default_dtype changed it, as in PyTorch. One process-wide setting, like PyTorch's."""
    return _default_float


def set_default_float(dtype):
    global _default_float
    _default_float = dtype


if NAME == "strict":
    reshape = xp.reshape
else:
    def reshape(a, shape):
        """xp.reshape(a, shape); the method call skips NumPy's function dispatch (a hot path: microseconds)."""
        return a.reshape(shape)


# ----- elementwise and matmul with an optional `out=` (the kernels write their results in place). NumPy and CuPy
# take out= natively; the array-API stand-in computes afresh and writes into `out` (a view writes through to its base).
if NAME == "strict":
    def _into(fn):
        def call(*args, out=None):
            r = fn(*args)
            if out is None:
                return r
            out[...] = r
            return out
        return call

    mul, add, sub = _into(lambda a, b: a * b), _into(lambda a, b: a + b), _into(lambda a, b: a - b)
    tanh, exp, reciprocal, negative = _into(xp.tanh), _into(xp.exp), _into(lambda a: 1.0 / a), _into(lambda a: -a)
    sqrt, div = _into(xp.sqrt), _into(lambda a, b: a / b)
    matmul = _into(xp.matmul)
else:
    mul, add, sub, tanh, exp, matmul = xp.multiply, xp.add, xp.subtract, xp.tanh, xp.exp, xp.matmul
    reciprocal, negative, sqrt, div = xp.reciprocal, xp.negative, xp.sqrt, xp.divide


def empty(shape, dtype):
    if NAME == "strict":
        return xp.empty(shape, dtype=dtype, device=DEVICE)
    return xp.empty(shape, dtype=dtype)


_per_thread = threading.local()  # arrays a call writes into and keeps for later: one set per thread, never shared
REUSE = NAME == "numpy"  # CuPy keeps its own memory pool; the stand-in needs none. (False: every call allocates.)


def matmul_pooled(a, b):
    """a @ b (2-D) in an array nobody holds any more (reusable_empty), the caller's to keep or change: a fresh one of
    a language model's size is page-faulted in again on every step."""
    if not REUSE or a.dtype != b.dtype:
        return xp.matmul(a, b)
    return xp.matmul(a, b, out=reusable_empty((a.shape[0], b.shape[1]), a.dtype))


def reusable_empty(shape, dtype):
    """An uninitialised array for a kernel's workspace. On NumPy: one of that shape and dtype this thread made
    before and nobody holds any more (no Tensor, view or graph node refers to it: its reference count says so), else
    a new one, kept for later (at most 4 per shape). So steady training allocates no large array per step: a fresh
    large array is page-faulted in on every use (thousands of faults a step) unless the process tunes malloc,
    which the library never does. The arrays nobody holds stay kept only up to POOL_FREE_BYTES in all (many shapes
    of large arrays, as in generation with a growing length, must not pile up). Elsewhere a new array (CuPy has its own
    memory pool)."""
    if not REUSE:
        return empty(shape, dtype)
    pool = _per_thread.__dict__.setdefault("pool", {})
    key = (shape, dtype)
    arrays = pool.get(key)
    if arrays is None:
        if len(pool) >= 64:  # many shapes (varying batches): start over rather than grow
            pool.clear()
        arrays = pool[key] = []
    for a in arrays:
        if sys.getrefcount(a) == 3:  # the list, the name `a` and getrefcount's argument: nobody else
            return a
    a = np.empty(shape, dtype)
    if len(arrays) < 4:
        _trim_pool(pool, a.nbytes)
        arrays.append(a)
    return a


POOL_FREE_BYTES = 1 << 30  # at most this many bytes of pooled arrays nobody holds, per thread


def _trim_pool(pool, incoming):
    """Before the pool keeps a new array of `incoming` bytes: if the arrays nobody holds would then pass
    POOL_FREE_BYTES, drop them (their shapes went out of use; the arrays in use stay)."""
    free = [(key, a) for key, arrays in pool.items() for a in arrays if sys.getrefcount(a) == 3]
    if sum(a.nbytes for _, a in free) + incoming <= POOL_FREE_BYTES:
        return
    for key, a in free:
        pool[key] = [b for b in pool[key] if b is not a]


def take_rows(w, idx):
    """Rows `idx` (1-D ints) of the 2-D table w, as a new array (on NumPy one nobody holds any more: reusable_empty)."""
    if REUSE:
        return np.take(w, idx, axis=0, out=reusable_empty((idx.shape[0], w.shape[1]), w.dtype))
    return xp.take(w, idx, axis=0)


def is_array(a):
    """True for an array of the active backend."""
    return isinstance(a, _array_type)


def writable(a):
    """a, or for a NumPy scalar (NumPy gives 0-d results as immutable scalars, np.float32(1.5)) a 0-d array holding
    it, so that an in-place change (loss = 0; loss += l) can write into it."""
    return np.asarray(a) if isinstance(a, np.generic) else a


def is_foreign_array(a):
    """An array object of another library (a CuPy/torch/array-api array while this backend is different)."""
    if is_array(a) or isinstance(a, (np.ndarray, np.generic)):
        return False
    return hasattr(a, "__array_namespace__") or hasattr(a, "__cuda_array_interface__") or hasattr(a, "__dlpack__")


def asarray(data, dtype=None):
    """Host data (lists, scalars, NumPy arrays) or backend arrays -> a backend array on the device."""
    if NAME == "numpy":
        return np.asarray(data, dtype=dtype)
    if NAME == "cupy":
        return xp.asarray(data, dtype=dtype)
    if is_array(data):
        return data if dtype is None or data.dtype == dtype else xp.astype(data, dtype)
    host = np.asarray(data)
    return xp.asarray(host, dtype=dtype, device=DEVICE, copy=True)  # a transfer copies, as CuPy's does


def to_host(a):
    """A backend array -> a NumPy array (an explicit device-to-host copy)."""
    if NAME == "numpy":
        return a
    if NAME == "cupy":
        return xp.asnumpy(a)
    return np.asarray(xp.asarray(a, device=xp.Device("CPU_DEVICE")))


def is_writeable(a):
    """Whether a's storage takes in-place writes: a NumPy array may be read-only, and so may the host array the strict
    stand-in wraps without copying; CuPy device arrays always do."""
    if NAME == "cupy":
        return True
    host = a if NAME == "numpy" else getattr(a, "_array", a)
    return bool(getattr(getattr(host, "flags", None), "writeable", True))


def dtype_name(dtype):
    """'float32' on every backend (array_api_strict's dtypes print with their module's name)."""
    return str(dtype).split(".")[-1]


def host_dtype(dtype):
    """The NumPy dtype matching a backend dtype."""
    return np.dtype(dtype_name(dtype)) if NAME == "strict" else np.dtype(dtype)


def dtype_from_host(np_dtype):
    return getattr(xp, np.dtype(np_dtype).name)


def is_floating(dtype):
    return dtype in FLOAT_DTYPES


def promote(*dtypes):
    """PyTorch's result dtype when tensors of these dtypes meet: the widest float if any is floating (int or bool with
    float32 -> float32), else the widest int (bool with int32 -> int32), else bool."""
    floats = [d for d in dtypes if is_floating(d)]
    if floats:
        return float64 if float64 in floats else float32
    return int64 if int64 in dtypes else int32 if int32 in dtypes else dtypes[0]


def zeros(shape, dtype):
    return xp.zeros(shape, dtype=dtype, device=DEVICE) if DEVICE is not None else xp.zeros(shape, dtype=dtype)


def ones(shape, dtype):
    return xp.ones(shape, dtype=dtype, device=DEVICE) if DEVICE is not None else xp.ones(shape, dtype=dtype)


def full(shape, value, dtype):
    if DEVICE is not None:
        return xp.full(shape, value, dtype=dtype, device=DEVICE)
    return xp.full(shape, value, dtype=dtype)


def arange(start, stop=None, step=1, dtype=None):
    if DEVICE is not None:
        return xp.arange(start, stop, step, dtype=dtype, device=DEVICE)
    return xp.arange(start, stop, step, dtype=dtype)


def copy(a):
    return xp.asarray(a, copy=True) if NAME == "strict" else a.copy()


def quiet():
    """Silence NumPy's floating-point warnings (log(0), x/0, overflow): like PyTorch and CuPy we return inf or NaN
    as values, and detect_anomaly() is the tool that finds where they came from."""
    return np.errstate(all="ignore")


def all_finite(a):
    return bool(to_host(xp.all(xp.isfinite(a))))


# ----- random numbers: always drawn on the host, so a seed gives the same numbers on every backend.
_rng = np.random.default_rng()


def manual_seed(seed):
    global _rng
    _rng = np.random.default_rng(seed)


def host_rng():
    return _rng


# ----- indexing. NumPy and CuPy index natively; the strict stand-in only offers `take`, so there we
# turn any index into flat positions computed on the host, the way a device kernel would gather.
def _host_index(idx):
    if isinstance(idx, tuple):
        return tuple(_host_index(i) for i in idx)
    if is_array(idx):
        return to_host(idx)
    return idx


def _flat_positions(shape, idx):
    return np.arange(prod(shape)).reshape(shape)[_host_index(idx)]


def is_basic_index(idx):
    """Ints, slices, None and Ellipsis only: a view, with no repeated elements."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in parts)


def _basic_key(idx):
    # The array API wants every axis indexed or an explicit trailing ellipsis (NumPy adds it implicitly).
    parts = idx if isinstance(idx, tuple) else (idx,)
    return parts if any(p is Ellipsis for p in parts) else parts + (Ellipsis,)


def getitem(a, idx):
    if NAME != "strict":
        return a[idx]
    if is_basic_index(idx):
        return a[_basic_key(idx)]
    pos = _flat_positions(a.shape, idx)
    flat = xp.take(xp.reshape(a, (-1,)), asarray(pos.reshape(-1)), axis=0)
    return xp.reshape(flat, pos.shape)


def setitem(a, idx, values):
    """a[idx] = values in place; `values` has the indexed shape. Repeated integer indices: the last write wins."""
    if NAME != "strict":
        a[idx] = values
        return
    if is_basic_index(idx):
        key = tuple(p for p in _basic_key(idx) if p is not None)  # setitem takes no None: drop the new axes
        a[key] = xp.reshape(values, a[key].shape)
        return
    # The stand-in takes only basic keys: find, on the host, which value lands on each element, then write all.
    pos = _flat_positions(a.shape, idx).reshape(-1)
    src = np.full(prod(a.shape), -1, dtype=np.int64)
    src[pos] = np.arange(pos.size)
    flat = xp.reshape(a, (-1,))
    picked = xp.take(xp.reshape(values, (-1,)), asarray(np.maximum(src, 0)), axis=0)
    a[...] = xp.reshape(xp.where(asarray(src >= 0), picked, flat), a.shape)


def index_add(shape, idx, values):
    """zeros(shape) with `values` added at a[idx]; repeated indices accumulate (the backward of a[idx])."""
    out = zeros(shape, values.dtype)
    if NAME == "numpy":
        np.add.at(out, idx, values)
        return out
    if NAME == "cupy":
        import cupyx

        cupyx.scatter_add(out, idx, values)
        return out
    pos = asarray(_flat_positions(shape, idx).reshape(-1))
    onehot = xp.astype(xp.reshape(pos, (-1, 1)) == xp.reshape(arange(prod(shape)), (1, -1)), values.dtype)
    flat = xp.matmul(xp.reshape(values, (1, -1)), onehot)
    return xp.reshape(flat, shape)


def add_at_index(buf, idx, values):
    """buf[idx] += values in place, for a basic index (ints and slices) into a buffer the caller owns."""
    if NAME == "strict":
        key = tuple(p for p in _basic_key(idx) if p is not None)  # setitem takes no None: drop the new axes
        cur = buf[key]
        buf[key] = cur + xp.reshape(values, cur.shape)
    else:
        view = buf[idx]
        if view.ndim:  # a basic index: a view, written through
            add_into(view, values)
        else:  # one element: a copy, so written back
            buf[idx] += values


def add_into(out, values):
    """out += values in place (arrays). A 2-D `out` laid out column-major (the transposed view a recurrent step's state
    is, seen batch-major) is summed as out.T += values.T, in its own memory order: NumPy walks a column-major `out`
    against a row-major `values` 3-4x slower than the same sum on the transposes."""
    if out.ndim == 2 and NAME != "strict" and out.strides[0] < out.strides[1] and getattr(values, "ndim", 0) == 2:
        out = out.T
        out += values.T
    else:
        out += values


def dim_index(index, dim):
    """The advanced-index key that picks a[..., index[i, j, k], ...] at position `dim` for every position (i, j, k)
    of the integer array `index` (torch.gather's addressing): `index` at `dim`, a broadcast arange elsewhere."""
    key = []
    for d, n in enumerate(index.shape):
        if d == dim:
            key.append(index)
        else:
            shape = tuple(n if e == d else 1 for e in range(index.ndim))
            key.append(reshape(arange(n, dtype=index.dtype), shape))
    return tuple(key)


def cumsum(a, axis):
    """Running sums along `axis` (the array API calls it cumulative_sum; CuPy has only cumsum)."""
    return xp.cumulative_sum(a, axis=axis) if NAME == "strict" else xp.cumsum(a, axis=axis)


def argsort(a, axis, descending=False):
    """Stable argsort along `axis`; descending keeps equal elements in their original order (as torch's stable
    sort). NumPy and CuPy sort only ascending: reverse, sort stably, reverse back and mirror the indices."""
    if NAME == "strict":
        return xp.argsort(a, axis=axis, descending=descending, stable=True)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable") if NAME == "numpy" else xp.argsort(a, axis=axis)
    n = a.shape[axis]
    up = xp.argsort(xp.flip(a, axis=axis), axis=axis, **({"kind": "stable"} if NAME == "numpy" else {}))
    return (n - 1) - xp.flip(up, axis=axis)


def einsum(subscripts, *arrays):
    """xp.einsum. The strict stand-in has none (the array API leaves it out; CuPy has it), so there the product
    runs on the host: an explicit copy each way, which the stand-in allows."""
    if NAME != "strict":
        return xp.einsum(subscripts, *arrays)
    return asarray(np.einsum(subscripts, *[to_host(a) for a in arrays]))


def min_max(a):
    """(min, max) of a non-empty integer array as Python ints, with one host transfer."""
    if NAME == "numpy":
        return int(a.min()), int(a.max())
    lo, hi = to_host(xp.stack([xp.min(a), xp.max(a)]))
    return int(lo), int(hi)


_ones_columns = {}


def ones_column(n, dtype):
    """A cached (n, 1) array of ones: the left factor that turns column sums into a product (ones^T a), so per-step
    sums can join the engine's one product over all steps (the GRU's b_hn)."""
    key = (n, dtype)
    v = _ones_columns.get(key)
    if v is None:
        if len(_ones_columns) > 64:  # many batch sizes: start over rather than grow
            _ones_columns.clear()
        v = _ones_columns[key] = ones((n, 1), dtype)
    return v


def col_sums(a):
    """The column sums (C,) of a 2-D array (M, C), as the product ones^T a: one BLAS matrix-vector product, 2-5x
    quicker than xp.sum(a, axis=0) on NumPy for the rows of a few dozen to a few thousand columns a bias gradient
    has (NumPy adds such rows one at a time), and no less accurate (BLAS adds in blocks, not in one running sum)."""
    return xp.matmul(ones_column(a.shape[0], a.dtype)[:, 0], a)


def row_sums(a):
    """The row sums (M,) of a 2-D array (M, C), as the product a ones: for short rows (a character model's 65
    classes) 5x quicker than xp.sum(a, axis=1) on NumPy, which adds each short row in a call of its own."""
    return xp.matmul(a, ones_column(a.shape[1], a.dtype)[:, 0])


ONEHOT_EMBEDDING_MAX = 1024  # tables up to this many rows: embedding backward as one one-hot product


def embedding_backward(indices, grad, num_embeddings):
    """Rows of `grad` (N, E) summed into a (num_embeddings, E) table at `indices` (N,)."""
    if NAME == "numpy":
        n = indices.shape[0]
        if num_embeddings <= ONEHOT_EMBEDDING_MAX and n:
            # Small table (a character vocabulary): one-hot (V, N) @ grad (N, E) runs at BLAS speed, several times
            # faster than sorting the rows and summing segments.
            key = (num_embeddings, n, grad.dtype)
            cache = _per_thread.__dict__.setdefault("onehot", {})
            cols = cache.get(key)
            if cols is None:
                if len(cache) > 8:
                    cache.clear()
                cols = cache[key] = (np.zeros((num_embeddings, n), dtype=grad.dtype), np.arange(n))
            onehot, rows = cols
            onehot[indices, rows] = 1  # a zero buffer kept between calls: set, multiply, clear again
            try:
                if grad.strides[0] < grad.strides[1] and grad.shape[1] > 2 * num_embeddings:
                    # wide rows stored column-major (a recurrent layer's gate gradients): (grad.T @ onehot.T).T reads
                    # both as stored, 25-35% quicker than onehot @ grad there (rows of 384-1536, 65 table rows)
                    out = np.matmul(grad.T, onehot.T).T
                else:
                    out = np.matmul(onehot, grad)
            finally:
                onehot[indices, rows] = 0
            if np.isfinite(out).all():  # else 0 * inf made NaN in rows that never saw it: redo by segments
                return out
        out = np.zeros((num_embeddings, grad.shape[1]), dtype=grad.dtype)
        if indices.size:  # sort + segment sums: several times faster than np.add.at (a char-LM step's hot spot)
            order = np.argsort(indices, kind="stable")
            ids = indices[order]
            starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
            out[ids[starts]] = np.add.reduceat(grad[order], starts, axis=0)
        return out
    return index_add((num_embeddings, grad.shape[1]), (indices,), grad)
