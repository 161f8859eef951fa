"""Where things go in the DOT layout: time columns as rank=same groups, the weights' row under the steps, straight
rows across columns, the zero initial states folded into their step, and the time-major chain of gate-detail steps.
Imports: visualize.markup, visualize.walk and the standard library only."""

import math

from .markup import esc, q
from .walk import POST


def is_zero_leaf(leaf):
    if leaf.zero is None:
        leaf.zero = not leaf.tensor.numpy().any()
    return leaf.zero


def gate_chain(scene, clusters):
    """Gate detail, time-major: invisible edges from the op that hands the state on at step t to the first ops of
    step t+1 (in the lane's own direction), so each step's cluster starts where the previous one ends and the
    steps run left to right, their gates stacked top to bottom, instead of a staircase of overlapping clusters."""
    if scene.detail != "gates":
        return []
    inner = {}
    for de in scene.edges.values():
        if de.dst.info.get("cluster") and de.src.info.get("cluster") == de.dst.info["cluster"]:
            inner[de.dst.id] = True
    lines = []
    for lane in scene.lanes:
        steps = sorted((n for n in scene.nodes.values() if n.kind == "step" and n.lane == lane and n.id in clusters),
                       key=lambda n: n.col, reverse=bool(lane[2]))
        for a, b in zip(steps, steps[1:], strict=False):
            out = a.info.get("out")
            src = scene.node_of(out) if out is not None else None
            if src is None:
                continue
            for m in clusters[b.id]:
                if m.id not in inner:
                    lines.append(f"\t{q(src.id)} -> {q(m.id)} [style=invis weight=4]")
    return lines


def folded_states(scene, lit):
    """state node id -> step id, for the zero initial states of cell detail: written inside the step they feed
    ("initial state = 0") instead of as a node of their own, which would sit between x_0 and its step."""
    if scene.detail != "cell":
        return {}
    out = {}
    for de in scene.edges.values():
        n = de.src
        if (n.kind == "state" and de.dst.kind == "step" and is_zero_leaf(n.leaf) and not n.leaf.tensor.requires_grad
                and (n.id, de.dst.id) not in lit):
            out.setdefault(n.id, de.dst.id)
    return {k: v for k, v in out.items() if sum(1 for de in scene.edges.values() if de.src.id == k) == 1}


def columns(scene, folded=()):
    """A header per time column, headers chained left to right, and each column's nodes in one rank, stacked
    inputs -> layer 0 -> layer 1 -> outputs by their depth inside the column."""
    cols = [c for c in scene.cols if c not in scene.elided]
    if scene.elided:
        head = [c for c in cols if c < scene.elided[0]]
        cols = head + ["elided"] + [c for c in cols if c > scene.elided[-1]]
    if not cols or scene.detail == "gates":  # gate detail: each step is a labelled cluster instead
        return [], {}
    members = {c: [] for c in cols}
    for n in scene.nodes.values():
        if n.id in folded:
            continue
        if n.col in members and n.kind != "step" or (n.kind == "step" and scene.detail == "cell" and n.col in members):
            if not n.info.get("cluster"):
                members[n.col].append(n)
    lines = []
    for c in cols:
        hid = "col/elided" if c == "elided" else f"col/t{c}"
        text = "…" if c == "elided" else f"t = {c}"
        lines.append(f'\t{q(hid)} [label=<<B>{esc(text)}</B>> shape=plaintext style="" fontsize=12 '
                     f'fontcolor="#444444"]')
    for a, b in zip(cols, cols[1:], strict=False):
        ha = "col/elided" if a == "elided" else f"col/t{a}"
        hb = "col/elided" if b == "elided" else f"col/t{b}"
        lines.append(f"\t{q(ha)} -> {q(hb)} [style=invis weight=20]")
    if scene.detail == "gates":
        return lines, {}
    depth = _depths(scene)
    lane_rank = {lane: i for i, lane in enumerate(scene.lanes)}
    key, slots = {}, _param_slots(scene, [c for c in cols if c != "elided"], lane_rank)
    for nid, (col, row) in slots.items():
        members[col].append(scene.nodes[nid])
        key[nid] = (1 << 20, row, 1, nid)  # last in the column: the rows above stay straight
    rows, pos = [], {}
    for c in cols:
        hid = "col/elided" if c == "elided" else f"col/t{c}"
        ms = sorted(members[c], key=lambda n: key.get(n.id) or (depth.get(n.id, 0), lane_rank.get(n.lane, -1), 0,
                                                                n.id))
        ids = [hid] + [m.id for m in ms]
        pos.update((i, (c, k)) for k, i in enumerate(ids))
        lines.append("\t{rank=same; " + "; ".join(q(i) for i in ids) + "}")
        for a, b in zip(ids, ids[1:], strict=False):
            lines.append(f"\t{q(a)} -> {q(b)} [style=invis]")
        rows.append([(m.id, _row_sig(m)) for m in ms if m.kind != "param"])
    by_row = sorted((row, cols.index(col), nid) for nid, (col, row) in slots.items())
    for (ra, ca, a), (rb, cb, b) in zip(by_row, by_row[1:], strict=False):
        if ra == rb and cb == ca + 1:  # the weights of one lane side by side, in one straight row
            lines.append(f"\t{q(a)} -> {q(b)} [style=invis weight=10]")
    # keep rows straight: the same kind of node at the same height from column to column, also across the '…'
    # column (these edges cost dot most of its time on big graphs, so past ~160 nodes rows are left to the layout)
    last = {}
    for row in rows if len(scene.nodes) <= 160 else ():
        seen = {}
        for nid, sig in row:
            k = seen[sig] = seen.get(sig, -1) + 1
            if (sig, k) in last:
                lines.append(f"\t{q(last[sig, k])} -> {q(nid)} [style=invis weight=10]")
            last[sig, k] = nid
    return lines, pos


def _param_slots(scene, cols, lane_rank):
    """nid -> (column, row) for each weight: one row per lane beneath the cells, that lane's weights side by side
    and centred under the columns they feed, so their fan-out edges stay short and symmetric."""
    index = {c: i for i, c in enumerate(cols)}
    groups = {}
    for n in scene.nodes.values():
        if n.kind == "param" and n.info.get("home"):
            fed = [index[c] for (_, c), _, _ in n.info["contrib"] if c in index]
            if fed:
                groups.setdefault(n.info["home"][1], []).append((n.leaf.i, n.id, fed))
    slots, row = {}, 0
    for lane in sorted(groups, key=lambda ln: lane_rank.get(ln, -1)):
        ps = sorted(groups[lane])
        for k in range(0, len(ps), len(cols)):
            chunk = ps[k:k + len(cols)]
            fed = sorted(i for _, _, f in chunk for i in f)
            mid = (fed[0] + fed[-1]) / 2
            start = min(max(0, math.floor(mid - (len(chunk) - 1) / 2 + 0.5)), len(cols) - len(chunk))
            for j, (_, nid, _) in enumerate(chunk):
                slots[nid] = (cols[start + j], row)
            row += 1
    return slots


def group_of(n):
    return "/".join(str(x) for x in _row_sig(n))


def _row_sig(n):
    if n.kind in ("step", "ellipsis"):
        return ("lane", n.lane)
    if n.kind in ("input", "state"):
        return (n.kind, n.leaf.i if n.leaf is not None else None)
    return (n.kind, tuple(op.name for op in n.ops[:2]), n.lane)


def _depths(scene):
    """Longest path length to each node over edges that stay inside one column (iterative)."""
    inner = {}
    indeg = {}
    for de in scene.edges.values():
        if de.src.col == de.dst.col and de.src.col is not None:
            inner.setdefault(de.src.id, []).append(de.dst.id)
            indeg[de.dst.id] = indeg.get(de.dst.id, 0) + 1
    depth = {}
    stack = [i for i in inner if indeg.get(i, 0) == 0]
    for i in stack:
        depth[i] = 0
    while stack:
        x = stack.pop()
        for y in inner.get(x, ()):
            depth[y] = max(depth.get(y, 0), depth[x] + 1)
            indeg[y] -= 1
            if indeg[y] == 0:
                stack.append(y)
    return depth


def head_ranks(scene):
    """A weight (or a whole-sequence input such as a loss's target) used by one op outside the time steps (a head,
    the loss) shares that op's rank, so it is drawn just above or below it with a short edge, not in a column of its
    own away from it."""
    dsts = {}
    for de in scene.edges.values():
        src = de.src
        if (src.kind == "param" and not src.info.get("steps")) or (
                src.kind == "input" and src.col not in scene.cols and de.dst.col == POST):
            dsts.setdefault(src.id, set()).add(de.dst.id)
    groups = {}
    for pid, ds in sorted(dsts.items()):
        if len(ds) == 1:
            groups.setdefault(next(iter(ds)), []).append(pid)
    return ["\t{rank=same; " + "; ".join(q(i) for i in [op] + ps) + "}" for op, ps in groups.items()]
