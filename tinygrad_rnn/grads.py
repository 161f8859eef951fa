"""The engine's gradient values: the lazy gradients a backward may return (IndexGrad, OuterGrad, RowsGrad), the sum
of the gradients reaching one tensor (Accumulator) and the pending map the backward sweep keeps (Pending). Imports:
backend."""

from . import backend as B


class IndexGrad:
    """A gradient that is zero except `values` at the basic index `idx` (ints and slices). Returning it from
    backward lets x[t] over T steps cost O(T) instead of T full-size zero arrays. `base` (optional): an array of the
    full gradient's shape of which `values` is the view base[idx], idx = (t, ...); when the IndexGrads reaching one
    tensor cover every t of one base exactly once, the engine takes the base itself as the gradient (no copies)."""

    __slots__ = ("idx", "values", "base")

    def __init__(self, idx, values, base=None):
        self.idx, self.values, self.base = idx, values, base


class OuterGrad:
    """A gradient equal to left.T @ right (2-D). The engine collects these per input and multiplies once:
    the T per-step contributions to a shared recurrent weight become one (G*H, T*N) @ (T*N, H) product.
    `span` (optional) = (left_base, right_base, i, j): left is left_base[i] and right is right_base[j]; when the
    spans of one input run over consecutive i with a fixed j - i, the product reads the bases' slices (no concat)."""

    __slots__ = ("left", "right", "span")

    def __init__(self, left, right, span=None):
        self.left, self.right, self.span = left, right, span


# A linear map reading an embedding's output takes its gradients through the table's rows (rows_first, RowsGrad).
# False: the plain products over every row (bench_charlm --ablate).
ROWS_FIRST = True


class RowsGrad:
    """The gradient g @ w ((M, G) @ (G, E), seen as `shape`) of a tensor whose M rows are rows `index` of a (V, E)
    table (an embedding's output), sent by the linear map that read it, kept as its factors and dP = the rows of g
    summed per table row (V, G): the table's gradient, the rows of g @ w summed per table row, is dP @ w (a V x G x E
    product instead of M x G x E). Whoever needs the gradient itself (retain_grad, a second reader of the tensor, the
    norm and anomaly checks) gets g @ w (value())."""

    __slots__ = ("g", "w", "index", "dP", "shape", "swap")

    def __init__(self, g, w, index, dP, shape, swap=False):
        self.g, self.w, self.index, self.dP, self.shape, self.swap = g, w, index, dP, tuple(shape), swap

    def value(self):
        """g @ w as the tensor's shape (swap: g's rows run over the tensor's first two axes swapped)."""
        if not self.swap:
            return B.reshape(B.xp.matmul(self.g, self.w), self.shape)
        n, t = self.shape[:2]
        return B.xp.permute_dims(B.reshape(B.xp.matmul(self.g, self.w), (t, n) + self.shape[2:]), (1, 0, 2))

    def table_grad(self):
        return B.xp.matmul(self.dP, self.w)


def rows_first(g2, w, x2, x, swap=False):
    """The gradients of y = x2 @ w.T (x2 = x's rows as (M, E), g2 = y's gradient as (M, G); swap: the rows of x2 and
    g2 run over x's first two axes swapped, a batch-first x read time-major) taken through the table
    when x is an embedding's output (its grad_fn has rows_of = (index, V): row m of x is row index[m] of a (V, E)
    table) and that costs less: with dP = g2's rows summed per table row (V, G) and R = the table's rows as x holds
    them, dw = g2.T @ x2 = dP.T @ R and the table's gradient is dP @ w (RowsGrad), two small products and one
    (V, M) @ (M, G) one-hot product instead of two M x G x E products and the embedding's own one-hot product.
    Returns (dx as a RowsGrad, dw, dP: its column sums are the bias gradient), or None: the plain products (other
    inputs, a changed x, a large table or wide rows, a non-finite row)."""
    rows_of = getattr(x.grad_fn, "rows_of", None)
    if rows_of is None or not ROWS_FIRST or B.NAME != "numpy" or x._version:  # x changed in place: rows may differ
        return None
    source, V = rows_of
    (M, G), E = g2.shape, w.shape[1]
    rows_first_cost = V * M * G + 2 * V * G * E  # the one-hot product, then dP @ w and dP.T @ R
    plain_cost = 2 * M * G * E + V * M * E       # g @ w, g.T @ x2, then the embedding's one-hot product
    if source.shape[0] != M or V > B.ONEHOT_EMBEDDING_MAX or rows_first_cost > 0.8 * plain_cost:
        return None
    np = B.xp
    index = source
    if swap:  # x2's rows in (t, n) order: the indices in the same order
        index = B.reshape(np.permute_dims(B.reshape(source, x.shape[:2]), (1, 0)), (-1,))
    seen, first = np.unique(index, return_index=True)
    rows = np.zeros((V, E), x2.dtype)
    rows[seen] = x2[first]  # row v of the table as x holds it (tokens absent from x: zero rows, as dP's are)
    if not np.isfinite(rows).all():  # 0 * inf in the products would make NaN where the row sums had none
        return None
    dP = B.embedding_backward(index, g2, V)
    return RowsGrad(g2, w, source, dP, x.shape, swap), np.matmul(dP.T, rows), dP


# Consecutive steps' weight-gradient factors are read from the blocks they live in, as one product (joined_run,
# _joined_spans, and the GRU's run_weight_grads). False: their factors are concatenated first (bench_charlm --ablate).
JOIN = True


def joined_run(first, last, steps):
    """One OuterGrad for `steps` consecutive steps' OuterGrads given the two at the ends of the run (either order),
    read from their spans' bases; None when they have no spans or the bases differ."""
    if not JOIN:
        return None
    a, b = first.span, last.span
    if a is None or b is None or a[0] is not b[0] or a[1] is not b[1] or a[3] - a[2] != b[3] - b[2]:
        return None
    if abs(a[2] - b[2]) + 1 != steps:
        return None
    return OuterGrad(*_span_views(a[0], a[1], min(a[2], b[2]), max(a[2], b[2]), a[3] - a[2]))


def _span_views(lb, rb, lo, hi, off):
    """(left, right): steps lo..hi of the left base and lo+off..hi+off of the right one, each as a 2-D view."""
    left, right = lb[lo:hi + 1, ...], rb[lo + off:hi + 1 + off, ...]
    return B.reshape(left, (-1, left.shape[-1])), B.reshape(right, (-1, right.shape[-1]))


def _joined_spans(spans):
    """(left, right) 2-D views over the bases when `spans` are consecutive steps of one pair of bases, else None."""
    if not JOIN:
        return None
    lb, rb, i0, j0 = spans[0]
    off, idx = j0 - i0, set()
    for s in spans:
        if s is None or s[0] is not lb or s[1] is not rb or s[3] - s[2] != off:
            return None
        idx.add(s[2])
    lo, hi = min(idx), max(idx)
    if hi - lo + 1 != len(spans) or len(idx) != len(spans):
        return None
    return _span_views(lb, rb, lo, hi, off)


class Accumulator:
    """Sum of the gradients reaching one tensor: dense arrays, IndexGrads (added in place into a buffer we
    own, or taken whole when they tile a base), OuterGrads (kept as factors until the value is needed) and RowsGrads
    (`rows`: their values are made only when the value is needed). After value(), `owned` says whether the result is
    a fresh array nobody else holds."""

    __slots__ = ("shape", "dtype", "dense", "owned", "lefts", "rights", "spans", "based", "indexed", "rows")

    def __init__(self, shape, dtype):
        self.shape, self.dtype, self.dense, self.owned = shape, dtype, None, False
        self.lefts, self.rights, self.spans, self.based, self.indexed, self.rows = [], [], [], [], [], []

    def add(self, d, fresh=False):
        """Add gradient d; `fresh`: d is a new array nobody else holds (it may become our buffer)."""
        if isinstance(d, OuterGrad):
            self.lefts.append(d.left)
            self.rights.append(d.right)
            self.spans.append(d.span)
        elif isinstance(d, IndexGrad):
            (self.indexed if d.base is None else self.based).append(d)
        elif isinstance(d, RowsGrad):
            self.rows.append(d)
        elif self.dense is None:
            self.dense, self.owned = d, fresh
        elif self.owned and d.dtype == self.dense.dtype and tuple(d.shape) == tuple(self.dense.shape):
            B.add_into(self.dense, d)  # our own buffer: add in place, no new array per incoming gradient
        else:
            self.dense = self.dense + d
            self.owned = True

    def added(self, d, fresh=False):
        self.add(d, fresh)
        return self

    def _own(self, dtype):
        if not self.owned:
            self.dense = B.zeros(self.shape, dtype) if self.dense is None else B.copy(self.dense)
            self.owned = True

    def _take_based(self):
        based, base = self.based, self.based[0].base
        steps = {d.idx[0] for d in based if d.base is base and len(d.idx) == 2 and d.idx[1] is Ellipsis}
        if len(steps) == len(based) == base.shape[0] and tuple(base.shape) == tuple(self.shape):
            if self.dense is None:
                self.dense = base  # every step's slice is already in place: the base is the gradient
                return
            self._own(base.dtype)
            self.dense += base
            return
        self._own(base.dtype)
        for d in based:
            B.add_at_index(self.dense, d.idx, d.values)

    def only_rows(self, index):
        """The RowsGrads held when they are all this holds and each reads the rows `index` (else None)."""
        if not self.rows or self.dense is not None or self.lefts or self.based or self.indexed:
            return None
        return self.rows if all(r.index is index for r in self.rows) else None

    def value(self):
        if self.rows:
            rows, self.rows = self.rows, []
            for r in rows:
                self.add(r.value(), fresh=True)
        if self.based:
            self._take_based()
        if self.indexed:
            self._own(self.indexed[0].values.dtype)
            for d in self.indexed:
                B.add_at_index(self.dense, d.idx, d.values)
            self.indexed = []
        out = self.dense
        if self.lefts:
            xp = B.xp
            joined = _joined_spans(self.spans) if len(self.spans) > 1 and self.spans[0] is not None else None
            if joined is not None:
                left, right = joined
            else:
                left = self.lefts[0] if len(self.lefts) == 1 else xp.concat(self.lefts, axis=0)
                right = self.rights[0] if len(self.rights) == 1 else xp.concat(self.rights, axis=0)
            prod = xp.matmul(xp.permute_dims(left, (1, 0)), right)
            if out is None:
                out = prod
            elif self.owned and out.dtype == prod.dtype and tuple(out.shape) == tuple(prod.shape):
                out += prod
            else:
                out = out + prod
            self.owned = True
        return out


class Pending(dict):
    """The engine's map Function -> the gradient of its result so far: a bare array or IndexGrad while exactly one
    dense or indexed gradient has arrived (the common cases: no accumulator object, no copy), else an Accumulator."""

    def take(self, fn, lazy=False):
        """Remove and return fn's summed gradient (a dense array), or None if none arrived. lazy: the gradient as
        held, a dense array or an Accumulator whose parts (dense, indexed, based) are not yet added up."""
        a = self.pop(fn, None)
        if type(a) is IndexGrad:
            a = Accumulator(fn.out_shape, fn.dtype).added(a)
        return a.value() if type(a) is Accumulator and not lazy else a

    def route(self, p, d, fresh, leaves):
        """Add gradient d (an array, IndexGrad or OuterGrad) to what tensor p has received so far (by producing
        Function here, by tensor in `leaves`); `fresh`: d is a new array only this edge holds, so others may be
        summed into it."""
        pfn = p.grad_fn
        if pfn is None:
            la = leaves.get(id(p))
            if la is None:
                la = leaves[id(p)] = (p, Accumulator(p.shape, p.dtype))
            la[1].add(d)
            return
        target = self.get(pfn)
        td = type(d)
        lazy = td is IndexGrad or td is OuterGrad or td is RowsGrad
        if target is None:
            self[pfn] = Accumulator(p.shape, p.dtype).added(d) if td is OuterGrad or td is RowsGrad else d
        elif type(target) is Accumulator:
            target.add(d, fresh and not lazy)
        elif lazy or type(target) is IndexGrad:
            self[pfn] = Accumulator(p.shape, p.dtype).added(target).added(d, fresh and not lazy)
        elif fresh and d.dtype == target.dtype and d.shape == target.shape:
            B.add_into(d, target)
            self[pfn] = d
        else:
            self[pfn] = Accumulator(p.shape, p.dtype).added(target).added(d)


def dense_grad(d, p):
    """The array a lazy gradient stands for (used only by the optional norm and anomaly checks)."""
    if isinstance(d, (IndexGrad, OuterGrad, RowsGrad)):
        a = Accumulator(p.shape, p.dtype)
        a.add(d)
        return a.value()
    return d
