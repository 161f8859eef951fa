"""Read the autograd graph behind some tensors into plain records: ops, leaves, edges, time columns and lanes.
Reads only the core's public graph API (grad_fn, name, parents via inputs_of, tag, out_shape, grad_norms,
out_grad_norm, and a Run node's steps and its reader's reads_steps / step_grad_norms).
Imports: tinygrad_rnn (Tensor, nn.Parameter, nn.Module) and the standard library."""

import math

from tinygrad_rnn import Tensor
from tinygrad_rnn.autograd import inputs_of
from tinygrad_rnn.nn import Module, Parameter

PRE, POST = -1, 1 << 30  # columns before the first and after the last time step


class Op:
    """One Function: its index in walk order, lane (module, layer, direction) and time step when tagged."""

    __slots__ = ("i", "fn", "name", "tag", "shape", "lane", "step", "col", "alias")

    def __init__(self, i, fn):
        self.i, self.fn, self.name = i, fn, fn.name
        self.tag = dict(getattr(fn, "tag", None) or {})
        self.shape = tuple(getattr(fn, "out_shape", ()))
        self.lane = self.step = self.col = self.alias = None
        if "step" in self.tag:
            t = self.tag
            self.lane = (str(t.get("module", "")), int(t.get("layer", 0)), int(t.get("direction", 0)))
            self.step = self.col = int(t["step"])

    @property
    def grad_norms(self):
        return getattr(self.fn, "grad_norms", None)

    @property
    def out_grad_norm(self):
        return getattr(self.fn, "out_grad_norm", None)


class Leaf:
    """A tensor without grad_fn: a Parameter, an input, a carried state or a constant."""

    __slots__ = ("i", "tensor", "name", "shape", "role", "col", "zero")

    def __init__(self, i, tensor, name):
        self.i, self.tensor, self.name, self.shape = i, tensor, name, tuple(tensor.shape)
        self.role = "param" if name is not None or isinstance(tensor, Parameter) else "input"
        if self.role == "input" and _is_constant(tensor):
            self.role = "const"
        self.col = None
        self.zero = None


class Edge:
    """parent (an Op or a Leaf) -> child Op, feeding the child's parent slot `slot`; `norm` is the gradient norm
    recorded on that edge (None when none was recorded or none flowed): the child's grad_norms[slot] unless given."""

    __slots__ = ("src", "dst", "slot", "norm")

    def __init__(self, src, dst, slot, norm=None, given=False):
        self.src, self.dst, self.slot = src, dst, slot
        norms = dst.grad_norms
        self.norm = norm if given else norms[slot] if norms is not None and slot < len(norms) else None


class Walk:
    """The graph reachable from `roots`: ops in topological order (producers first), leaves, edges."""

    def __init__(self, roots, params=None):
        self.roots = _flatten(roots)
        if not self.roots:
            raise ValueError("visualize: expected a Tensor (or a tuple/list of Tensors) to draw, got nothing")
        self.names = _param_names(params)
        self.ops, self.leaves, self.edges = [], [], []
        self.root_nodes = []
        self._walk()
        self.out_edges, self.in_edges = {}, {}
        for e in self.edges:
            self.out_edges.setdefault(e.src, []).append(e)
            self.in_edges.setdefault(e.dst, []).append(e)
        self._columns()
        self._aliases()

    def _leaf(self, t, index):
        leaf = index.get(id(t))
        if leaf is None:
            leaf = index[id(t)] = Leaf(len(self.leaves), t, self.names.get(id(t)))
            self.leaves.append(leaf)
        return leaf

    def _walk(self):
        """Iterative post-order DFS from every root, parents in order: deterministic, and deep graphs are fine. A node
        that runs recurrent steps (fn.steps, the core's Run) becomes one op per step: step k fed by the Run's gx,
        the step before (the Run's initial state for the first) and its weights; a reader of every step's state
        (fn.reads_steps: the layer output) gets an edge from each step, any other reader (h_n) from the last."""
        ops, leaf_index, pending, seen, runs = {}, {}, [], set(), {}
        for r in self.roots:
            if r.grad_fn is None:
                self.root_nodes.append(self._leaf(r, leaf_index))
                continue
            stack = [(r.grad_fn, False)]
            while stack:
                fn, expanded = stack.pop()
                if expanded:
                    steps = fn.steps
                    if steps:
                        run = runs[id(fn)] = [Op(len(self.ops) + k, st) for k, st in enumerate(steps)]
                        self.ops += run
                        ops[id(fn)] = run[-1]
                        pending.append((fn, run))
                        continue
                    op = ops[id(fn)] = Op(len(self.ops), fn)
                    self.ops.append(op)
                    pending.append((fn, op))
                    continue
                if id(fn) in seen:
                    continue
                seen.add(id(fn))
                stack.append((fn, True))
                for p in reversed(inputs_of(fn)):
                    if p.grad_fn is not None and id(p.grad_fn) not in seen:
                        stack.append((p.grad_fn, False))
            self.root_nodes.append(ops[id(r.grad_fn)])
        def source(p):
            return ops[id(p.grad_fn)] if p.grad_fn is not None else self._leaf(p, leaf_index)

        for fn, op in pending:
            parents = inputs_of(fn)
            if type(op) is list:  # a Run's steps
                for k, step in enumerate(op):
                    for slot, p in enumerate(parents):
                        self.edges.append(Edge(op[k - 1] if slot == 1 and k else source(p), step, slot))
                continue
            for slot, p in enumerate(parents):
                run = runs.get(id(p.grad_fn)) if p.grad_fn is not None else None
                if run is None or not getattr(fn, "reads_steps", False):
                    self.edges.append(Edge(source(p), op, slot))
                    continue
                norms = fn.step_grad_norms[slot] if fn.step_grad_norms else None
                for step in sorted(run, key=lambda o: o.step):
                    norm = norms[step.step] if norms else None
                    self.edges.append(Edge(step, op, slot * len(run) + step.step, norm, given=True))
        # leaves are numbered by first use, so names like input_3 do not depend on id()
        seen = []
        for e in self.edges:
            if isinstance(e.src, Leaf) and e.src not in seen:
                seen.append(e.src)
        seen += [n for n in self.root_nodes if isinstance(n, Leaf) and n not in seen]
        self.leaves = seen
        for i, leaf in enumerate(seen):
            leaf.i = i

    def _columns(self):
        """Time column of every op: its step tag; else the one column its producers sit in (forward), else the one
        column its consumers sit in (backward); PRE when it only feeds many columns, POST when it joins many."""
        parents = {op: [e.src for e in self.in_edges.get(op, ())] for op in self.ops}
        children = {op: [e.dst for e in self.out_edges.get(op, ())] for op in self.ops}
        for op in self.ops:  # topological order: producers first
            if op.col is not None:
                continue
            cols = {p.col for p in parents[op] if isinstance(p, Op) and p.col is not None}
            if len(cols) == 1:
                op.col = cols.pop()
            elif cols:
                op.col = POST
        for op in reversed(self.ops):
            if op.col is not None:
                continue
            cols = {c.col for c in children[op] if c.col is not None}
            op.col = cols.pop() if len(cols) == 1 else (PRE if children[op] else POST)
        for leaf in self.leaves:
            cols = {e.dst.col for e in self.out_edges.get(leaf, ())}
            leaf.col = cols.pop() if len(cols) == 1 else None

    def _aliases(self):
        """Ops made only from one Parameter outside any step (W.T, reshapes) are drawn as that Parameter."""
        for op in self.ops:
            if op.step is not None:
                continue
            srcs = set()
            for e in self.in_edges.get(op, ()):
                src = e.src.alias if isinstance(e.src, Op) else e.src
                if not (isinstance(src, Leaf) and src.role == "const"):
                    srcs.add(src if isinstance(src, Leaf) and src.role == "param" else None)
            if len(srcs) == 1 and None not in srcs:
                op.alias = srcs.pop()

    def resolve(self, node):
        """The node drawn for `node`: the Parameter an alias op stands for, else itself."""
        return node.alias if isinstance(node, Op) and node.alias is not None else node

    def grad_state(self):
        """'recorded' when a backward inside record_grad_norms() reached this graph, 'unrecorded' when a backward
        ran without it, 'none' before any backward."""
        if any(op.grad_norms is not None for op in self.ops):
            return "recorded"
        if any(op.fn.released for op in self.ops if hasattr(op.fn, "released")):
            return "unrecorded"
        if any(leaf.tensor.grad is not None for leaf in self.leaves if leaf.role == "param"):
            return "unrecorded"
        return "none"


def grad_norm(t):
    """‖t.grad‖ as a float, or None."""
    g = t.grad
    if g is None:
        return None
    a = g.numpy().astype("float64").ravel()
    return math.sqrt(float(a @ a))


def is_zero(t):
    return not t.numpy().any()


def _is_constant(t):
    """Scalars and broadcast views of scalars (what `1 - z` wraps around the 1) carry no information to draw."""
    if math.prod(t.shape) <= 1:
        return True
    strides = getattr(t.array, "strides", None)
    return bool(strides) and all(s == 0 for s in strides)


def _flatten(obj):
    out, stack = [], [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, Tensor):
            out.append(x)
        elif isinstance(x, (tuple, list)):
            stack.extend(reversed(x))
        elif x is not None:
            raise TypeError(f"visualize: expected Tensors (or nested tuples/lists of them), got {type(x).__name__}")
    return out


def _param_names(params):
    """id(tensor) -> qualified name, from a Module, a dict name -> tensor, or (name, tensor) pairs."""
    if params is None:
        return {}
    given = params
    if isinstance(params, Module):
        params = params.named_parameters()
    elif isinstance(params, dict):
        params = params.items()
    params = list(params) if hasattr(params, "__iter__") and not isinstance(params, (str, Tensor)) else None
    if params is None or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in params):
        raise TypeError(f"visualize: params must be a Module, a dict name -> Tensor or (name, Tensor) pairs, got "
                        f"{type(given).__name__}")
    names = {}
    for name, t in params:
        if not isinstance(t, Tensor):
            raise TypeError(f"visualize: params[{name!r}] is a {type(t).__name__}, expected a Tensor")
        names.setdefault(id(t), str(name))
    return names
