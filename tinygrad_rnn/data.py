"""Language-model data for truncated backpropagation through time: one long token stream -> (T, B) chunks whose
batch columns continue from one chunk to the next. Imports: backend, tensor.

The training loop that carries the state across chunks and cuts the graph between them:

    data = batchify(tokens, batch_size=32)              # (L, 32): column b is one contiguous stretch of the stream
    state = None
    for x, y in bptt_batches(data, bptt=35):            # x, y (T, 32); y is x shifted by one token
        out, state = lstm(embed(x), state)
        loss = F.cross_entropy(head(out).reshape(-1, V), y.reshape(-1))
        opt.zero_grad(); loss.backward(); opt.step()
        state = tuple(s.detach() for s in state)        # keep the values, cut the graph (GRU/RNN: state.detach())

Because column b of chunk k+1 continues column b of chunk k, the carried state is the right context; detach()
keeps its values but makes backward stop at the chunk boundary, so each step costs O(bptt), not O(all tokens)."""

from . import backend as B
from .tensor import Tensor, int64


def batchify(tokens, batch_size):
    """A 1-D token stream (list, NumPy array or Tensor) -> an int64 Tensor (L, batch_size), L = len // batch_size.

    Column b holds tokens[b*L:(b+1)*L] (the tail that does not fill a column is dropped), so reading down a
    column follows the text.
        batchify(list(range(10)), 2).numpy()[:, 0]   # [0 1 2 3 4]"""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batchify: batch_size must be a positive int, got {batch_size!r}")
    host = tokens.numpy() if isinstance(tokens, Tensor) else B.np.asarray(tokens)
    if host.ndim != 1:
        raise ValueError(f"batchify: expected a 1-D token stream, got shape {host.shape}")
    L = host.shape[0] // batch_size
    if L == 0:
        raise ValueError(f"batchify: {host.shape[0]} tokens cannot fill {batch_size} columns")
    cols = host[:L * batch_size].reshape(batch_size, L).T
    return Tensor(B.np.ascontiguousarray(cols), dtype=int64)


def bptt_batches(data, bptt):
    """Yield (input, target) chunks of a batchified (L, B) Tensor: input = data[i:i+T], target = data[i+1:i+1+T],
    T = bptt except for a shorter last chunk; consecutive chunks continue each column.
        for x, y in bptt_batches(batchify(tokens, 32), 35): ..."""
    if isinstance(bptt, bool) or not isinstance(bptt, int) or bptt <= 0:
        raise ValueError(f"bptt_batches: bptt must be a positive int, got {bptt!r}")
    if data.ndim != 2:
        raise ValueError(f"bptt_batches: expected batchified data of shape (L, B), got {data.shape}")
    L = data.shape[0]
    for i in range(0, L - 1, bptt):
        T = min(bptt, L - 1 - i)
        yield data[i:i + T], data[i + 1:i + 1 + T]
