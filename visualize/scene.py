"""Turn a Walk into what gets drawn: boxes per cell step (or per gate op), one node per Parameter, per-column proxies
for the ops that span all time steps, merged edges with gradient norms, time columns and elision.
Imports: visualize.walk and the standard library only (no graphviz)."""

from .walk import POST, PRE, Leaf, Op, grad_norm, is_zero


class Node:
    """One drawn node. kind: step, op, param, input, state, bridge, ellipsis, header."""

    __slots__ = ("id", "kind", "col", "lane", "ops", "leaf", "info", "order")

    def __init__(self, id, kind, col=None, lane=None, leaf=None, order=0):
        self.id, self.kind, self.col, self.lane, self.leaf, self.order = id, kind, col, lane, leaf, order
        self.ops, self.info = [], {}


class DrawEdge:
    """Merged edges between two drawn nodes: norms of the underlying graph edges, `exact` when their norm is known
    exactly (one edge, or every use of one tensor); style: data, param, state, cut, teacher, prediction, fan."""

    __slots__ = ("src", "dst", "norms", "exact", "style", "srcs")

    def __init__(self, src, dst, style):
        self.src, self.dst, self.style, self.norms, self.exact, self.srcs = src, dst, style, [], True, set()

    @property
    def norm(self):
        if not self.norms or any(n is None for n in self.norms):
            return None
        return self.norms[0] if len(self.norms) == 1 else sum(self.norms)


def _clean(s):
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in str(s)) or "_"


def lane_id(lane):
    module, layer, direction = lane
    return f"{_clean(module) or 'rnn'}/L{layer}" + ("/rev" if direction else "")


class Scene:
    """Everything the DOT writer needs, in a deterministic order."""

    def __init__(self, walk, detail="cell", max_nodes=400, vanishing=1e-6, exploding=1e3, highlight=None):
        if detail not in ("cell", "gates"):
            raise ValueError(f"visualize: detail must be 'cell' or 'gates', got {detail!r}")
        if max_nodes < 20:
            raise ValueError(f"visualize: max_nodes must be at least 20, got {max_nodes}")
        self.walk, self.detail, self.vanishing, self.exploding = walk, detail, vanishing, exploding
        self.nodes, self.edges = {}, {}
        self.lanes = sorted({op.lane for op in walk.ops if op.lane is not None}, key=lambda ln: (ln[1], ln[0], ln[2]))
        self.cols = sorted({op.col for op in walk.ops if op.step is not None})
        self.grad_state = walk.grad_state()
        self.elided = ()
        self._bridges()
        self._state_leaves()
        self._build()
        self.node_count_full = len(self.nodes)
        self._param_summaries()
        self._bridge_roles()
        self._fan_norms()
        if len(self.nodes) > max_nodes and len(self.cols) > 4:
            self._elide(max_nodes)
        self._summaries()
        self.highlighted = self._highlight(highlight) if highlight is not None else None

    # ----- classification
    def _bridges(self):
        """Ops outside any step that touch two or more time columns (the all-steps input projection, the output
        stacker) are time-distributed: slice t only meets step t. They are drawn once per column, linked to it."""
        w = self.walk
        self.bridge = {}
        cand = []
        for op in w.ops:
            if op.step is not None or op.alias is not None or op.col not in (PRE, POST):
                continue
            cols = {e.src.col for e in w.in_edges.get(op, ()) if isinstance(e.src, Op) and e.src.step is not None}
            cols |= {e.dst.col for e in w.out_edges.get(op, ()) if e.dst.step is not None}
            if len(cols) >= 2:
                cand.append(op)
        inner = set(cand)
        for op in w.ops:  # ops between two bridges (a dropout mask between layers) are time-distributed too
            if op in inner or op.step is not None or op.alias is not None or op.col not in (PRE, POST):
                continue
            ins = [e.src for e in w.in_edges.get(op, ()) if not (isinstance(e.src, Leaf) and e.src.role != "input")]
            if ins and all(x in inner for x in ins) and any(e.dst in inner for e in w.out_edges.get(op, ())):
                cand.append(op)
                inner.add(op)
        cand.sort(key=lambda op: op.i)
        comp = {op: i for i, op in enumerate(cand)}
        for e in w.edges:  # union bridges joined by a direct edge: stack -> next layer's projection
            if e.src in comp and e.dst in comp and comp[e.src] != comp[e.dst]:
                old, new = comp[e.dst], comp[e.src]
                for k, v in comp.items():
                    if v == old:
                        comp[k] = new
        ids = {}
        for op in cand:
            ids.setdefault(comp[op], len(ids))
            self.bridge[op] = ids[comp[op]]
        self.bridge_ops = {}
        for op, b in self.bridge.items():
            self.bridge_ops.setdefault(b, []).append(op)

    def _state_leaves(self):
        """Non-parameter leaves fed into the first step of a lane where later steps take the previous step's output:
        initial states. Found by comparing (consumer op, slot, shape) signatures of leaf inputs at the first and
        the second step of each lane."""
        w = self.walk
        by_step = {}
        for e in w.edges:
            if isinstance(e.src, Leaf) and e.src.role == "input" and e.dst.step is not None:
                by_step.setdefault((e.dst.lane, e.dst.step), []).append(e)
        self.states = {}
        for lane in self.lanes:
            steps = sorted(s for (ln, s) in by_step if ln == lane)
            all_steps = sorted({op.step for op in w.ops if op.lane == lane})
            if len(all_steps) < 2:
                continue
            first, second = (all_steps[0], all_steps[1]) if lane[2] == 0 else (all_steps[-1], all_steps[-2])
            if first not in steps:
                continue
            later = [(e.dst.name, e.slot, e.src.shape) for e in by_step.get((lane, second), ())]
            for e in by_step[(lane, first)]:
                sig = (e.dst.name, e.slot, e.src.shape)
                if sig in later:
                    later.remove(sig)
                else:
                    self.states[e.src] = lane

    # ----- nodes
    def _node(self, id, kind, **kw):
        n = self.nodes.get(id)
        if n is None:
            n = self.nodes[id] = Node(id, kind, **kw)
        return n

    def _step_node(self, op):
        sid = f"{lane_id(op.lane)}/t{op.step}"
        n = self._node(sid, "step", col=op.col, lane=op.lane)
        if self.detail == "cell":
            n.ops.append(op)
            return n
        n.ops.append(op)  # the cluster keeps the list of its ops
        k = n.info.setdefault("count", {})
        key = op.name + (f"[{op.tag['kind']}]" if "kind" in op.tag else "")
        k[key] = k.get(key, 0) + 1
        g = self._node(f"{sid}/{_clean(key)}{k[key] - 1}", "op", col=op.col, lane=op.lane)
        g.ops.append(op)
        g.info["cluster"] = sid
        return g

    def node_of(self, op):
        """The drawn node of a walk Op (None when elided or not drawn)."""
        n = self._op_nodes.get(op)
        return n if n is not None and n.id in self.nodes else None

    def _target(self, node, col=None, lane=None):
        """The drawn node for a non-bridge walk node (seen from column `col` and `lane`: inputs get one proxy per
        column, an initial state shared by several lanes one node per lane)."""
        node = self.walk.resolve(node)
        if isinstance(node, Op):
            return self._op_nodes[node]
        leaf = node
        if leaf.role == "param":
            return self._node(f"param/{leaf.name}" if leaf.name else f"param/{leaf.i}", "param", leaf=leaf)
        if leaf in self.states and lane is not None:
            return self._node(f"state/{leaf.i}/{lane_id(lane)}", "state", col=col, leaf=leaf, lane=lane)
        if col is None or col in (PRE, POST) or leaf.col not in (None, PRE, POST):
            return self._node(f"input/{leaf.i}", "input", col=leaf.col, leaf=leaf)
        return self._node(f"input/{leaf.i}/t{col}", "input", col=col, leaf=leaf)

    def _bridge_nodes(self, b, col, op):
        """Where bridge op `op` (of component `b`) is drawn at column `col`: merged into the steps it feeds there
        (cell detail: the input projection of step t belongs to step t), else a proxy node per column."""
        key = (op, col)
        cache = self.__dict__.setdefault("_bnodes", {})
        if key not in cache:
            w, steps, seen, stack = self.walk, [], {op}, [op]
            while stack:  # the steps fed by `op`, directly or through later ops of the same bridge
                x = stack.pop()
                for e in w.out_edges.get(x, ()):
                    if e.dst.step is not None:
                        if e.dst.col == col and self._op_nodes[e.dst] not in steps:
                            steps.append(self._op_nodes[e.dst])
                    elif self.bridge.get(e.dst) == b and e.dst not in seen:
                        seen.add(e.dst)
                        stack.append(e.dst)
            if self.detail == "cell" and steps:
                cache[key] = steps
            else:
                n = self._node(f"bridge{b}/t{col}", "bridge", col=col)
                n.ops = list(self.bridge_ops[b])
                if steps and steps[0].info.get("cluster") and len({x.info["cluster"] for x in steps}) == 1:
                    n.info["cluster"], n.lane = steps[0].info["cluster"], steps[0].lane
                cache[key] = [n]
        return cache[key]

    def _into(self, b, col, d):
        """Norm of the gradient flowing from drawn node `d` into bridge `b`'s slice at `col` (the step's gx_t)."""
        norms = [e.norm for op in self.bridge_ops[b] for e in self.walk.out_edges.get(op, ())
                 if e.dst.col == col and e.dst.step is not None and self._op_nodes[e.dst] is d]
        return sum(norms) if norms and None not in norms else None

    def _build(self):
        w = self.walk
        self._op_nodes = {}
        for op in w.ops:
            if op.step is not None:
                self._op_nodes[op] = self._step_node(op)
            elif op.alias is None and op not in self.bridge:
                name = _clean(op.tag.get("module", "")) + "/" if "module" in op.tag else ""
                n = self._node(f"op/{name}{op.name}{op.i}", "op", col=op.col)
                n.ops.append(op)
                self._op_nodes[op] = n
        for e in w.edges:
            src, dst = w.resolve(e.src), e.dst
            if isinstance(src, Leaf) and src.role == "const":
                continue
            for s, d, norm, fan in self._endpoints(src, dst, e):
                if s is not d:
                    self._edge(s, d, e, src, norm, fan)
        for r in w.root_nodes:
            if isinstance(r, Op) and r in self.bridge:
                for c in self._bridge_cols(self.bridge[r]):
                    for n in self._bridge_nodes(self.bridge[r], c, r):
                        n.info["root"] = True
            else:
                self._target(r, r.col).info["root"] = True

    def _endpoints(self, src, dst, e):
        """(drawn src, drawn dst, gradient norm, fan) for one graph edge. Bridges are drawn per column, so an edge
        into or out of one becomes one edge per column it spans; `fan` marks the edges that join all columns
        into one op (the loss), whose per-column share of the gradient is not recorded."""
        sb = self.bridge.get(src) if isinstance(src, Op) else None
        db = self.bridge.get(dst)
        if sb is not None and sb == db:
            return []
        if db is not None:
            scol = src.col if src.col not in (PRE, POST) else None
            out = []
            for c in ([scol] if scol is not None else self._bridge_cols(db)):
                for d in self._bridge_nodes(db, c, dst):
                    if scol is not None:
                        norm = e.norm  # a step's state into the stacker: its slice's gradient, recorded exactly
                    elif isinstance(src, Leaf) and src.role == "param":
                        norm = None  # one product for all steps: no per-step share was recorded
                    else:
                        norm = self._into(db, c, d) if d.kind == "step" else None
                    srcs = [self._target(src, c)] if sb is None else self._bridge_nodes(sb, c, src)
                    out += [(s, d, norm, False) for s in srcs]
            return out
        if sb is not None:
            if dst.col not in (PRE, POST):
                return [(s, self._target(dst), e.norm, False) for s in self._bridge_nodes(sb, dst.col, src)]
            return [(s, self._target(dst), None, True) for c in self._bridge_cols(sb)
                    for s in self._bridge_nodes(sb, c, src)]
        col = dst.col if isinstance(src, Leaf) and dst.col not in (PRE, POST) else None
        return [(self._target(src, col, dst.lane), self._target(dst), e.norm, False)]

    def _bridge_cols(self, b):
        cache = self.__dict__.setdefault("_bcols", {})
        if b not in cache:
            w, cols = self.walk, set()
            for op in self.bridge_ops[b]:
                cols |= {e.src.col for e in w.in_edges.get(op, ()) if isinstance(e.src, Op) and e.src.step is not None}
                cols |= {e.dst.col for e in w.out_edges.get(op, ()) if e.dst.step is not None}
            cache[b] = sorted(cols)
        return cache[b]

    def _edge(self, s, d, e, src, norm, fan):
        style = "data"
        if fan:
            style = "fan"
        elif s.kind == "param":
            style = "param"
        elif s.kind == "state":
            style = "cut" if not src.tensor.requires_grad and not is_zero(src.tensor) else "state"
        elif s.lane is not None and s.lane == d.lane and s.col != d.col:
            style = "recurrent"
        source = (src.tag.get("source") if isinstance(src, Op) else None) or e.dst.tag.get("source")
        if source in ("teacher", "prediction") and style == "data" and s.kind in ("input", "op", "bridge", "step"):
            style = source
            if s.kind == "input":
                s.info["source"] = source
        key = (s.id, d.id)
        de = self.edges.get(key)
        if de is None:
            de = self.edges[key] = DrawEdge(s, d, style)
        de.srcs.add(src)
        de.norms.append(norm)
        if len(de.norms) > 1 and not fan:
            # several graph edges drawn as one: exact only if they carry the whole gradient of one tensor
            users = {x.dst for x in self.walk.out_edges.get(src, ())}
            if (len(de.srcs) > 1 or not isinstance(src, Op) or src.out_grad_norm is None
                    or not all(self._op_nodes.get(u) is d for u in users)):
                de.exact = False
            else:
                de.norms = [src.out_grad_norm]

    # ----- elision
    def _elide(self, budget):
        """Keep the first and last columns that fit in the budget; draw one '…' node per lane for the rest."""
        fixed = sum(1 for n in self.nodes.values() if n.col is None or n.col in (PRE, POST))
        per_col = max(1.0, (len(self.nodes) - fixed) / len(self.cols))
        keep = max(4, int((budget - fixed - 2 * len(self.lanes) - 2) / per_col))
        if keep >= len(self.cols):
            return
        head = (keep + 1) // 2
        self.elided = tuple(self.cols[head:len(self.cols) - (keep - head)])
        gone = set(self.elided)
        first, last = self.elided[0], self.elided[-1]
        remap = {}
        for n in list(self.nodes.values()):
            if n.col not in gone:
                continue
            del self.nodes[n.id]
            if n.lane is None or n.kind not in ("step", "op"):
                remap[n.id] = None  # inputs and per-column outputs of elided steps are not drawn
                continue
            eid = f"{lane_id(n.lane)}/elided"
            en = self._node(eid, "ellipsis", col="elided", lane=n.lane)
            en.info["span"] = (first, last, len(self.elided))
            en.info["ops"] = en.info.get("ops", 0) + (len(n.ops) if not n.info.get("cluster") else 0)
            remap[n.id] = en
        edges = {}
        for de in self.edges.values():
            s, d = remap.get(de.src.id, de.src), remap.get(de.dst.id, de.dst)
            if s is None or d is None or s is d or (s.kind == "param" and d.kind == "ellipsis"):
                continue
            key = (s.id, d.id)
            if key in edges:  # many edges folded into one: no single gradient norm to show
                edges[key].norms, edges[key].exact = [None], False
                continue
            ne = DrawEdge(s, d, de.style)
            ne.norms, ne.exact, ne.srcs = list(de.norms), de.exact, de.srcs
            edges[key] = ne
        self.edges = edges

    # ----- gradients
    def _summaries(self):
        """Per step: the norm of the gradient reaching its state output, and a vanishing/exploding mark; per
        Parameter: total gradient norm and per-step contributions."""
        w = self.walk
        for n in self.nodes.values():
            if n.kind == "step" and n.ops:
                ops = set(n.ops)
                outs = [op for op in n.ops if any(e.dst not in ops for e in w.out_edges.get(op, ()))] or n.ops[-1:]
                nxt = [op for op in outs if any(e.dst.lane == n.lane and e.dst.step != op.step
                                                for e in w.out_edges.get(op, ()))]
                out = (nxt or outs)[0]
                n.info["out"] = out
                n.info["state"] = "(h, c)" if any(op.name.startswith("LSTM") or op.tag.get("kind") == "c"
                                                  for op in n.ops) else "h"
                g = out.out_grad_norm
                n.info["gnorm"] = g
                if g is not None:
                    n.info["flag"] = "vanishing" if g < self.vanishing else "exploding" if g > self.exploding else None

    def _param_summaries(self):
        """Per Parameter (before elision, so every step counts): the steps it is used at, its total gradient norm,
        the per-step contributions, and a home column (its first step) to sit under."""
        for n in self.nodes.values():
            if n.kind != "param":
                continue
            contrib, uses = {}, 0
            for de in self.edges.values():
                if de.src is not n:
                    continue
                uses += 1
                if de.dst.lane is not None and isinstance(de.dst.col, int):
                    contrib.setdefault((de.dst.col, de.dst.lane), []).extend(de.norms)
            keys = sorted(contrib, key=lambda k: (k[0], lane_id(k[1])))
            firsts = [k for k in keys if k[1][2] == 0] or keys[::-1]  # a backward lane starts at the last step
            n.info.update(uses=uses, steps=len(keys), total=grad_norm(n.leaf.tensor),
                          contrib=[((k[1], k[0]), None if None in contrib[k] else sum(contrib[k]), len(contrib[k]) == 1)
                                   for k in keys])
            if keys:
                n.info["home"] = firsts[0]

    def _bridge_roles(self):
        """Per bridge node: role 'output' (it gathers the steps' states: the layer's output y_t) or 'input' (it
        feeds the steps: the all-steps input projection), the directions it gathers, and its per-step shape."""
        ins, outs = {}, {}
        for de in self.edges.values():
            ins.setdefault(de.dst.id, []).append(de.src)
            outs.setdefault(de.src.id, []).append(de.dst)
        for n in self.nodes.values():
            if n.kind != "bridge":
                continue
            feeds_step = any(d.kind == "step" or d.info.get("cluster") for d in outs.get(n.id, ()))
            n.info["role"] = "input" if feeds_step else "output"
            n.info["dirs"] = sorted({s.lane[2] for s in ins.get(n.id, ()) if s.lane is not None})
            shape = n.ops[-1].shape
            n.info["shape"] = shape[1:] if len(shape) > 1 and shape[0] == len(self.cols) else shape

    def _fan_norms(self):
        """The gradient on y_t -> (the op that joins all columns, e.g. the head or the loss): the slice of the
        stacked output's gradient that belongs to step t, which is exactly what the stacker sent back along the
        steps' edges into y_t (sqrt of the sum of squares over both directions of a bidirectional layer, whose
        halves are concatenated). Known only when y_t feeds that one op."""
        fans, ins = {}, {}
        for de in self.edges.values():
            if de.style == "fan" and de.src.kind == "bridge":
                fans.setdefault(de.src.id, []).append(de)
            if de.dst.kind == "bridge" and de.src.kind == "step":
                ins.setdefault(de.dst.id, []).append(de)
        for src, outs in fans.items():
            norms = [de.norm for de in ins.get(src, ())]
            if len(outs) == 1 and norms and None not in norms:
                outs[0].norms, outs[0].exact = [sum(n * n for n in norms) ** 0.5], True

    def norms(self):
        """Every positive gradient norm drawn, for the colour scale."""
        vals = [de.norm for de in self.edges.values() if de.norm]
        vals += [n.info["gnorm"] for n in self.nodes.values() if n.info.get("gnorm")]
        vals += [c for n in self.nodes.values() for _, c, _ in n.info.get("contrib", ()) if c]
        return vals

    # ----- highlight
    def _highlight(self, target):
        """(src id, dst id) of the drawn edges on a path from `target` (a Tensor, or (Tensor, step)) to a root:
        the way the gradient travels from the loss back to it."""
        from tinygrad_rnn import Tensor

        step = None
        if isinstance(target, tuple):
            target, step = target
        if not isinstance(target, Tensor):
            raise TypeError(f"visualize: highlight must be a Tensor or (Tensor, step), got {type(target).__name__}")
        starts = [n for n in self.nodes.values()
                  if (n.leaf is not None and n.leaf.tensor is target)
                  or (target.grad_fn is not None and any(op.fn is target.grad_fn for op in n.ops))]
        if step is not None:
            starts = [n for n in starts if n.col == step or n.col is None]
        if not starts:
            raise ValueError("visualize: the highlight tensor is not part of the drawn graph"
                             + ("" if step is None else f" at step {step}"))
        fwd, bwd = {}, {}
        for de in self.edges.values():
            fwd.setdefault(de.src.id, []).append(de.dst.id)
            bwd.setdefault(de.dst.id, []).append(de.src.id)
        down = _reach([n.id for n in starts], fwd)
        up = _reach([n.id for n in self.nodes.values() if n.info.get("root")], bwd)
        on = down & up
        return {k for k in self.edges if k[0] in on and k[1] in on}


def _reach(starts, adj):
    seen, stack = set(starts), list(starts)
    while stack:
        for y in adj.get(stack.pop(), ()):
            if y not in seen:
                seen.add(y)
                stack.append(y)
    return seen
