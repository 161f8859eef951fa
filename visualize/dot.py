"""Write a Scene as DOT text: HTML-like labels (every user string escaped), colours, the log-scale gradient
palette, time columns as rank=same groups, clusters for gate detail, and the legend.
Imports: visualize.scene, visualize.walk and the standard library only."""

import math

from .walk import POST, PRE

FONT = "Helvetica"
LANE = {0: ("#e8f0fb", "#3a6db5"), 1: ("#fdeedd", "#cf6f18")}  # (fill, border) per direction
PALETTE = ("#c9d3de", "#8db4dc", "#3f7fc1", "#4d3a96", "#b01c2e")  # weak -> strong gradient
STYLE = {  # edge styles that do not depend on gradients
    "param": 'color="#d8c690" penwidth=0.6 arrowsize=0.35',  # context: the recurrence is the story
    "cut": 'color="#b03030" style=dashed arrowhead=tee label=<<FONT POINT-SIZE="9" COLOR="#b03030">✂ no grad</FONT>>',
    "state": 'color="#999999" style=dotted',
    "teacher": 'color="#2e8b57" style=dashed',
    "prediction": 'color="#e07b00" style=bold',
    "fan": 'color="#bbbbbb" arrowsize=0.4',
}


def esc(text):
    """Text for an HTML-like label: &, <, > and quotes escaped; unicode kept."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "<BR/>"))


def q(text):
    """A double-quoted DOT string (ids, tooltips): backslashes and quotes escaped, newlines as \\n."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def fmt(x):
    if x is None:
        return "–"
    return "0" if x == 0 else f"{x:.1e}" if x < 1e-2 or x >= 1e3 else f"{x:.3g}"


def shape_text(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


class Scale:
    """Log-scale map from gradient norms to a colour and a pen width."""

    def __init__(self, values, fixed=None):
        vals = [math.log10(v) for v in values if v and v > 0 and math.isfinite(v)]
        self.lo, self.hi = (min(vals), max(vals)) if vals else (0.0, 0.0)
        if fixed is not None:
            lo, hi = fixed
            if not 0 < lo < hi:
                raise ValueError(f"visualize: grad_range must be (low, high) with 0 < low < high, got {fixed!r}")
            self.lo, self.hi = math.log10(lo), math.log10(hi)

    def pos(self, v):
        if self.hi - self.lo < 1e-12:
            return 0.6
        return min(1.0, max(0.0, (math.log10(v) - self.lo) / (self.hi - self.lo)))

    def color(self, v):
        p = self.pos(v) * (len(PALETTE) - 1)
        i = min(int(p), len(PALETTE) - 2)
        a, b, f = PALETTE[i], PALETTE[i + 1], p - i
        mix = [round(int(a[k:k + 2], 16) * (1 - f) + int(b[k:k + 2], 16) * f) for k in (1, 3, 5)]
        return "#" + "".join(f"{c:02x}" for c in mix)

    def width(self, v):
        return round(0.6 + 5.4 * self.pos(v), 2)


def _table(rows, **attrs):
    extra = "".join(f' {k.upper()}="{v}"' for k, v in attrs.items())
    body = "".join(f"<TR><TD{a}>{c}</TD></TR>" for c, a in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"{extra}>{body}</TABLE>>'


def sub(t):
    """A time index as unicode subscript digits (x₀, y₁₂): renders the same in every SVG viewer, unlike <SUB>."""
    return str(t).translate(_SUB)


_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def small(text, color="#555555", size=9):
    return f'<FONT POINT-SIZE="{size}" COLOR="{color}">{text}</FONT>'


def step_title(lane, step):
    module, layer, direction = lane
    head = f"<B>{esc(module or 'step')}</B>"
    extra = f" · layer {layer}" if layer else ""
    extra += " · ←" if direction else ""
    return f"{head}{esc(extra)} · t={step}"


def _node_attrs(n, scene, scale, zero_init=False):
    """(label, attribute string) for one drawn node; zero_init: a step fed the zero initial state."""
    info, grads = n.info, scene.grad_state == "recorded"
    if n.kind == "step" and scene.detail == "cell":
        fill, border = LANE.get(n.lane[2], LANE[0])
        names = sorted({op.name for op in n.ops})
        out = info.get("out")
        rows = [(step_title(n.lane, n.col), ""),
                (small(esc(f"{info['state']} {shape_text(out.shape)}" if out else "")), "")]
        if zero_init:
            rows.append((small(esc(f"initial state = 0 {shape_text(info['out'].shape) if out else ''}"), "#777777",
                               8), ""))
        if len(names) > 1 or len(n.ops) > 1:
            rows.append((small(esc(f"{len(n.ops)} ops"), "#777777", 8), ""))
        elif names:
            rows.append((small(esc(names[0]), "#777777", 8), ""))
        style = f'fillcolor="{fill}" color="{border}"'
        if grads:
            g = info.get("gnorm")
            rows.append((small(f"‖∂L/∂{esc(info['state'])}‖ {fmt(g)}", "#222222"), ""))
            flag = info.get("flag")
            if flag == "vanishing":
                rows.append((small("▽ vanishing", "#777777"), ""))
                style = 'fillcolor="#f0f0f0" color="#9a9a9a" style="rounded,filled,dashed" fontcolor="#777777"'
            elif flag == "exploding":
                rows.append((small("△ exploding", "#b01c2e"), ""))
                style = 'fillcolor="#fde2e2" color="#b01c2e" penwidth=2.5'
            elif g:
                style += f" penwidth={max(1.0, scale.width(g) / 2)}"
        return _table(rows), style
    if n.kind == "param":
        leaf = n.leaf
        name = leaf.name or f"Parameter {shape_text(leaf.shape)}"
        used = (f"used at {info['steps']} steps" if info["steps"] > 1 else
                f"used at {info['steps']} step" if info["steps"] == 1 else f"used by {info['uses']} op(s)")
        rows = [(f"<B>{esc(name)}</B>", ""), (small(esc(f"{shape_text(leaf.shape)} · {used}")), "")]
        if grads and info.get("total") is not None:
            rows.append((small(f"‖∇‖ {fmt(info['total'])} = Σ over steps" if info["steps"] > 1
                               else f"‖∇‖ {fmt(info['total'])}", "#222222"), ""))
            strip = _strip(info["contrib"], scale)
            if strip:
                rows.append((strip, ""))
                rows.append((small(esc(f"per-step contributions, t={info['contrib'][0][0][1]} … "
                                       f"t={info['contrib'][-1][0][1]}"), "#777777", 8), ""))
        return _table(rows), 'shape=box style="filled" fillcolor="#fff6d6" color="#b8962e"'
    if n.kind in ("input", "state"):
        leaf = n.leaf
        t = "" if n.col is None or n.col in (PRE, POST) else str(n.col)
        if n.kind == "state":
            cut = not leaf.tensor.requires_grad and not _zero(leaf)
            if _zero(leaf):
                return _table([(small(esc(f"initial state = 0 {shape_text(leaf.shape)}"), "#777777"), "")]), \
                    'shape=plaintext style=""'
            label = "carried state (detached)" if cut else "initial state"
            rows = [(f"<B>{esc(label)}</B>", ""), (small(esc(shape_text(leaf.shape))), "")]
            if cut:
                rows.append((small("values carried, no gradient", "#b03030"), ""))
                return _table(rows), 'style="filled,dashed" fillcolor="#ffffff" color="#b03030"'
            return _table(rows), 'fillcolor="#eef7ee" color="#4c9a52"'
        src = info.get("source")
        title = f"x{sub(t)}" if t else "input"
        shape = leaf.shape
        if t and leaf.col in (None, PRE, POST) and len(shape) > 1 and shape[0] == len(scene.cols):
            shape = shape[1:]  # one time slice of a (T, ...) input
        rows = [(f"<B>{title}</B>", ""), (small(esc(shape_text(shape))), "")]
        if src == "teacher":
            rows.append((small("ground truth (teacher forcing)", "#2e8b57"), ""))
        elif src == "prediction":
            rows.append((small("model's own prediction", "#e07b00"), ""))
        if leaf.tensor.requires_grad and grads:
            rows.append((small(f"‖∇‖ {fmt(_gn(leaf))}", "#222222"), ""))
        return _table(rows), 'fillcolor="#eef7ee" color="#4c9a52"'
    if n.kind == "bridge":
        t, shape = sub(n.col), small(esc(shape_text(info["shape"])))
        tip = " → ".join(o.name for o in n.ops)
        if info["role"] == "output":
            rows = [(f"<B>y{t}</B>", ""), (shape, "")]
            if len(info["dirs"]) > 1:  # a bidirectional layer: both lanes' h_t side by side
                rows.append((small(f"= [h→{t} ; h←{t}]", "#777777", 8), ""))
                rows.append((small("both directions concatenated", "#777777", 8), ""))
            return _table(rows), f'fillcolor="#f6f2fb" color="#8e7cc3" tooltip={q(f"layer output at t={n.col}: {tip}")}'
        rows = [(f"<B>projection of x{t}</B>", ""), (shape, ""),
                (small("all steps in one product", "#777777", 8), "")]
        return _table(rows), f'fillcolor="#f4f4f4" color="#bdbdbd" tooltip={q(f"input projection at t={n.col}: {tip}")}'
    if n.kind == "ellipsis":
        a, b, k = info["span"]
        lane = f"{n.lane[0]} " if n.lane else ""
        return _table([(f'<FONT POINT-SIZE="14" COLOR="#888888">{esc(lane)}t={a} … t={b}</FONT>', ""),
                       (small(esc(f"{k} steps elided ({info['ops']} ops)"), "#888888"), "")]), \
            'shape=box style="rounded,dashed" color="#bbbbbb"'
    # a single op (gate detail, or an untagged op such as the loss)
    op = n.ops[0]
    kind = op.tag.get("kind")
    head = f"<B>{esc(kind)}</B> · {esc(op.name)}" if kind and kind != "cell" else esc(op.name)
    rows = [(head, ""), (small(esc(shape_text(op.shape))), "")]
    if grads and op.out_grad_norm is not None:
        rows.append((small(f"‖∂L/∂out‖ {fmt(op.out_grad_norm)}", "#222222"), ""))
    if info.get("cluster"):
        fill, border = LANE.get(n.lane[2], LANE[0])
        return _table(rows), f'fillcolor="#ffffff" color="{border}"'
    return _table(rows), 'fillcolor="#f7f7f7" color="#9a9a9a"' + (" peripheries=2" if info.get("root") else "")


def _zero(leaf):
    if leaf.zero is None:
        leaf.zero = not leaf.tensor.numpy().any()
    return leaf.zero


def _gn(leaf):
    from .walk import grad_norm

    return grad_norm(leaf.tensor)


def _strip(contrib, scale):
    """A row of small cells, one per step (bucketed past 120), coloured by that step's contribution norm."""
    vals = [c for _, c, _ in contrib]
    if len(vals) < 2 or not any(vals):
        return ""
    k = max(1, math.ceil(len(vals) / 120))
    cells, width = [], max(2, min(24, 150 // math.ceil(len(vals) / k)))  # cells touch: one continuous strip
    for i in range(0, len(vals), k):
        chunk = [v for v in vals[i:i + k] if v]
        v = max(chunk) if chunk else 0
        color = scale.color(v) if v else "#ffffff"
        cells.append(f'<TD BGCOLOR="{color}" WIDTH="{width}" HEIGHT="9" FIXEDSIZE="TRUE"></TD>')
    return (f'<TABLE BORDER="1" COLOR="#c8c8c8" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>{"".join(cells)}'
            "</TR></TABLE>")


def _edge_attrs(de, scene, scale, lit):
    attrs = []
    norm = de.norm
    grads = scene.grad_state == "recorded"
    if de.style in STYLE:
        attrs.append(STYLE[de.style])
    tip = f"{de.src.id} → {de.dst.id}"
    if de.style == "param":  # thin and light whatever the gradient; the weight's strip shows the per-step shares
        if grads and norm is not None:
            attrs.append(f'color="{scale.color(norm)}66"' if norm > 0 else 'style=dotted')
            tip += f"\ngradient norm {'' if de.exact else '≤ '}{fmt(norm)}"
    elif grads and norm is not None and de.style != "cut":
        attrs.append(f'color="{scale.color(norm)}" penwidth={scale.width(norm)}' if norm > 0
                     else 'color="#bbbbbb" style=dotted')
        tip += f"\ngradient norm {'' if de.exact else '≤ '}{fmt(norm)}"
    elif grads and de.style != "cut":
        attrs.append('color="#c8c8c8"')
        tip += "\nno gradient recorded on this edge"
    if de.style == "recurrent":
        attrs.append("weight=8")
    if de.style == "param" and de.src.info.get("steps"):
        # a weight shared by the steps: render() lays these out last, routed as a bus under the steps they feed
        attrs.append('weight=0 class="param-edge bus"' if scene.detail == "cell" else 'weight=0 class="param-edge"')
    elif de.style == "param":
        attrs.append("weight=2")  # a weight of one op (a head, the loss): laid out with it, so it sits beside it
    if de.style == "fan":
        attrs.append("weight=0")
    if lit:
        attrs.append('color="#e6007e" penwidth=3.5')
    attrs.append(f"tooltip={q(tip)}")
    return " ".join(attrs)


def _colkey(col, scene):
    if col == "elided":
        return scene.elided[0]
    return col if isinstance(col, int) and col not in (PRE, POST) else None


def to_text(scene, title=None, grad_range=None):
    """The DOT source of a Scene (deterministic: ids from names and tags, nodes and edges in walk order)."""
    scale = Scale(scene.norms(), grad_range)
    lit = scene.highlighted or set()
    # a row of steps needs room under it for its weights' bus tracks (one track per weight)
    per_lane = {}
    for n in scene.nodes.values():
        if n.kind == "param" and n.info.get("home") and scene.detail == "cell":
            per_lane[n.info["home"][1]] = per_lane.get(n.info["home"][1], 0) + 1
    nodesep = round(0.2 + 0.07 * max(per_lane.values()), 2) if per_lane else 0.18
    out = ["digraph unrolled {",
           f'\tgraph [rankdir=LR newrank=true nodesep={nodesep} ranksep=0.45 fontname="{FONT}" fontsize=11 '
           f'bgcolor="white" labelloc=t labeljust=l outputorder=edgesfirst pad=0.3 '
           f"label={_legend(scene, scale, title)}]",
           f'\tnode [shape=box style="rounded,filled" fontname="{FONT}" fontsize=10 margin="0.08,0.03" '
           f'penwidth=1.2]',
           f'\tedge [fontname="{FONT}" fontsize=9 arrowsize=0.6 color="#8c8c8c"]']
    folded = _folded_states(scene, lit)
    clusters = {}
    for n in scene.nodes.values():
        if n.id in folded:
            continue
        if n.info.get("cluster"):
            clusters.setdefault(n.info["cluster"], []).append(n)
            continue
        if n.kind == "step" and scene.detail == "gates":
            continue
        label, attrs = _node_attrs(n, scene, scale, n.id in folded.values())
        group = f" group={q(_group(n))}" if n.col is not None and n.kind != "param" else ""
        tip = "" if "tooltip=" in attrs else f" tooltip={q(n.id)}"
        out.append(f"\t{q(n.id)} [label={label} {attrs}{group}{tip}]")
    for cid, members in clusters.items():
        step = scene.nodes[cid]
        fill, border = LANE.get(step.lane[2], LANE[0])
        gn = scene.nodes[cid].info.get("gnorm")
        label = step_title(step.lane, step.col) + (f" · ‖∂L/∂{esc(step.info['state'])}‖ {fmt(gn)}"
                                                   if scene.grad_state == "recorded" else "")
        out.append(f"\tsubgraph {q('cluster_' + cid)} {{")
        out.append(f'\t\tgraph [label=<{label}> style="rounded,filled" fillcolor="{fill}" color="{border}" '
                   f'fontsize=10]')
        for n in members:
            label, attrs = _node_attrs(n, scene, scale)
            tip = "" if "tooltip=" in attrs else f" tooltip={q(n.id)}"
            out.append(f"\t\t{q(n.id)} [label={label} {attrs}{tip}]")
        out.append("\t}")
    col_lines, pos = _columns(scene, folded)
    out += col_lines + _gate_chain(scene, clusters)
    for de in scene.edges.values():
        if de.src.id in folded:
            continue
        key = (de.src.id, de.dst.id)
        attrs = _edge_attrs(de, scene, scale, key in lit)
        sc, dc = _colkey(de.src.col, scene), _colkey(de.dst.col, scene)
        flat_up = de.src.id in pos and de.dst.id in pos and pos[de.src.id][0] == pos[de.dst.id][0] \
            and pos[de.src.id][1] > pos[de.dst.id][1]
        if flat_up or sc is not None and dc is not None and sc > dc:
            attrs += " constraint=false"  # a backward lane, or upwards in a column: the columns fix the layout
        out.append(f"\t{q(de.src.id)} -> {q(de.dst.id)} [{attrs}]")
    out.append("}")
    return "\n".join(out) + "\n"


def _gate_chain(scene, clusters):
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


def _folded_states(scene, lit):
    """state node id -> step id, for the zero initial states of cell detail: written inside the step they feed
    ("initial state = 0") instead of as a node of their own, which would sit between x_0 and its step."""
    if scene.detail != "cell":
        return {}
    out = {}
    for de in scene.edges.values():
        n = de.src
        if (n.kind == "state" and de.dst.kind == "step" and _zero(n.leaf) and not n.leaf.tensor.requires_grad
                and (n.id, de.dst.id) not in lit):
            out.setdefault(n.id, de.dst.id)
    return {k: v for k, v in out.items() if sum(1 for de in scene.edges.values() if de.src.id == k) == 1}


def _columns(scene, folded=()):
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


def _group(n):
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


def _legend(scene, scale, title):
    """The graph label: a title, the gradient status, and a key for what appears in the picture."""
    w = scene.walk
    n_steps = len(scene.cols)
    head = esc(title) if title else esc(f"unrolled graph · {n_steps} time step{'s' if n_steps != 1 else ''} · "
                                        f"{len(w.ops)} ops")
    rows = [f'<TR><TD ALIGN="LEFT" COLSPAN="2"><FONT POINT-SIZE="15"><B>{head}</B></FONT></TD></TR>']
    status = {
        "none": "No gradients yet: run loss.backward() inside tr.record_grad_norms() to see gradient flow.",
        "unrecorded": "backward() ran without tr.record_grad_norms(), so no gradient norms were kept: "
                      "wrap it as  with tr.record_grad_norms(): loss.backward()",
        "recorded": "Edges are coloured and sized by the norm of the gradient flowing back along them (log scale).",
    }[scene.grad_state]
    rows.append(f'<TR><TD ALIGN="LEFT" COLSPAN="2">{small(esc(status), "#444444", 10)}</TD></TR>')
    if scene.elided:
        a, b = scene.elided[0], scene.elided[-1]
        note = small(esc(f"Steps t={a} … t={b} elided to stay legible (raise max_nodes to draw them)."), "#444444", 10)
        rows.append(f'<TR><TD ALIGN="LEFT" COLSPAN="2">{note}</TD></TR>')
    keys = []
    kinds = {n.kind for n in scene.nodes.values()}
    styles = {de.style for de in scene.edges.values()}
    if scene.grad_state == "recorded" and scale.hi >= scale.lo and scene.norms():
        keys.append(("gradient norm", _colorbar(scale)))
        flags = {n.info.get("flag") for n in scene.nodes.values()}
        if "vanishing" in flags:
            keys.append(("▽ vanishing", esc(f"‖∂L/∂h_t‖ < {fmt(scene.vanishing)}")))
        if "exploding" in flags:
            keys.append(("△ exploding", esc(f"‖∂L/∂h_t‖ > {fmt(scene.exploding)}")))
    if {op.lane[2] for op in w.ops if op.lane} == {0, 1}:
        keys.append(("lanes", f'<FONT COLOR="{LANE[0][1]}">■ forward in time</FONT>   '
                              f'<FONT COLOR="{LANE[1][1]}">■ backward in time (←)</FONT>'))
    if "param" in kinds:
        keys.append(("shared weight", esc("one node per Parameter, an edge to every step that uses it"
                                          + (" (drawn as a bus under the steps)" if scene.detail == "cell" else ""))))
    if scene.grad_state == "recorded":
        plain = [de for de in scene.edges.values() if de.style not in ("cut", "param")]
        if any(de.norm == 0 for de in plain):
            keys.append(('<FONT COLOR="#bbbbbb">┈┈ zero</FONT>', esc("no gradient flowed along this edge")))
        if any(de.norm is None for de in plain):
            keys.append(('<FONT COLOR="#c8c8c8">━ grey</FONT>', esc("gradient not recorded on this edge "
                                                                   "(shared by several uses)")))
    if "cut" in styles:
        keys.append(("✂ cut", esc("detached carried state: values flow in, no gradient flows back (truncated BPTT)")))
    if "teacher" in styles:
        keys.append(('<FONT COLOR="#2e8b57">- - teacher</FONT>', esc("decoder input is the ground truth")))
    if "prediction" in styles:
        keys.append(('<FONT COLOR="#e07b00">━ prediction</FONT>', esc("decoder input is the model's own output")))
    if scene.highlighted:
        keys.append(('<FONT COLOR="#e6007e">━ highlight</FONT>', esc("gradient path from the output to the chosen "
                                                                      "tensor")))
    for k, v in keys:
        rows.append(f'<TR><TD ALIGN="RIGHT">{small(k, "#222222", 10)}</TD><TD ALIGN="LEFT">{small(v, "#444444", 10)}'
                    f"</TD></TR>")
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1">{"".join(rows)}</TABLE>>'


def _colorbar(scale):
    lo, hi = scale.lo, scale.hi
    n = 24
    cells = []
    for i in range(n):
        v = 10 ** (lo + (hi - lo) * i / (n - 1)) if hi > lo else 10 ** lo
        cells.append(f'<TD BGCOLOR="{scale.color(v)}" WIDTH="8" HEIGHT="10" FIXEDSIZE="TRUE"></TD>')
    bar = f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>{"".join(cells)}</TR></TABLE>'
    return (f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="0"><TR><TD>{esc(fmt(10 ** lo))}</TD>'
            f'<TD>{bar}</TD><TD>{esc(fmt(10 ** hi))}</TD></TR></TABLE>')
