"""Write a Scene as DOT text: HTML-like labels (every user string escaped), colours, the log-scale gradient
palette, clusters for gate detail, and the legend; where nodes go is visualize.layout's.
Imports: visualize.layout, visualize.markup, visualize.walk and the standard library only."""

import math

from .layout import columns, folded_states, gate_chain, group_of, head_ranks, is_zero_leaf
from .markup import esc, fmt, label_table, q, shape_text, small, sub
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
        return label_table(rows), style
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
        return label_table(rows), 'shape=box style="filled" fillcolor="#fff6d6" color="#b8962e"'
    if n.kind in ("input", "state"):
        leaf = n.leaf
        t = "" if n.col is None or n.col in (PRE, POST) else str(n.col)
        if n.kind == "state":
            cut = not leaf.tensor.requires_grad and not is_zero_leaf(leaf)
            if is_zero_leaf(leaf):
                return label_table([(small(esc(f"initial state = 0 {shape_text(leaf.shape)}"), "#777777"), "")]), \
                    'shape=plaintext style=""'
            label = "carried state (detached)" if cut else "initial state"
            rows = [(f"<B>{esc(label)}</B>", ""), (small(esc(shape_text(leaf.shape))), "")]
            if cut:
                rows.append((small("values carried, no gradient", "#b03030"), ""))
                return label_table(rows), 'style="filled,dashed" fillcolor="#ffffff" color="#b03030"'
            return label_table(rows), 'fillcolor="#eef7ee" color="#4c9a52"'
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
        return label_table(rows), 'fillcolor="#eef7ee" color="#4c9a52"'
    if n.kind == "bridge":
        t, shape = sub(n.col), small(esc(shape_text(info["shape"])))
        tip = " → ".join(o.name for o in n.ops)
        if info["role"] == "output":
            rows = [(f"<B>y{t}</B>", ""), (shape, "")]
            if len(info["dirs"]) > 1:  # a bidirectional layer: both lanes' h_t side by side
                rows.append((small(f"= [h→{t} ; h←{t}]", "#777777", 8), ""))
                rows.append((small("both directions concatenated", "#777777", 8), ""))
            tooltip = q(f"layer output at t={n.col}: {tip}")
            return label_table(rows), f'fillcolor="#f6f2fb" color="#8e7cc3" tooltip={tooltip}'
        rows = [(f"<B>projection of x{t}</B>", ""), (shape, ""),
                (small("all steps in one product", "#777777", 8), "")]
        tooltip = q(f"input projection at t={n.col}: {tip}")
        return label_table(rows), f'fillcolor="#f4f4f4" color="#bdbdbd" tooltip={tooltip}'
    if n.kind == "ellipsis":
        a, b, k = info["span"]
        lane = f"{n.lane[0]} " if n.lane else ""
        return label_table([(f'<FONT POINT-SIZE="14" COLOR="#888888">{esc(lane)}t={a} … t={b}</FONT>', ""),
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
        return label_table(rows), f'fillcolor="#ffffff" color="{border}"'
    return label_table(rows), 'fillcolor="#f7f7f7" color="#9a9a9a"' + (" peripheries=2" if info.get("root") else "")


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
        attrs.append('weight=0 class="fan-edge gather"' if scene.detail == "cell" else "weight=0")
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
    folded = folded_states(scene, lit)
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
        group = f" group={q(group_of(n))}" if n.col is not None and n.kind != "param" else ""
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
    col_lines, pos = columns(scene, folded)
    out += col_lines + gate_chain(scene, clusters) + head_ranks(scene)
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
    out += _gather_anchors(scene, folded)
    out.append("}")
    return "\n".join(out) + "\n"


def _gather_anchors(scene, folded):
    """The y_t -> op edges of a gather are drawn after the layout (render() routes them as a bus); one invisible
    edge from the last step's y_t keeps their op right after the last column, level with the y row."""
    if scene.detail != "cell":
        return []
    last = {}
    for de in scene.edges.values():
        if de.style == "fan" and de.src.id not in folded:
            key = _colkey(de.src.col, scene)
            if key is not None and (de.dst.id not in last or key >= last[de.dst.id][0]):
                last[de.dst.id] = (key, de.src.id)
    return [f"\t{q(src)} -> {q(dst)} [style=invis weight=8]" for dst, (_, src) in last.items()]


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
