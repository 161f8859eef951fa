"""Route edges as buses after the layout. Shared weights: from the weight up a riser between two columns, along a
horizontal track beside the steps' row, and into each step by a short vertical tie. Gathers (every step's output
y_t into one op, such as a head or the loss): down from each y_t to a track under their row, along it, and into
the op. Every use stays its own edge, as the graph has it; drawn on top of each other, the edges of one bus read
as one line. Imports: the standard library only."""

import re

_NODE = re.compile(r'^\t+"((?:[^"\\]|\\.)*)"\s*\[', re.M)
_ATTR = {"pos": re.compile(r'\bpos="([-0-9.e,]+)"'), "width": re.compile(r'\bwidth="?([-0-9.e]+)'),
         "height": re.compile(r'\bheight="?([-0-9.e]+)')}
_EDGE = re.compile(r'^\t"((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)" \[')


def node_boxes(laid):
    """id -> (x, y, half width, half height) in points (y up) from Graphviz's -Tdot output."""
    starts = [(m.start(), m.end(), m.group(1)) for m in _NODE.finditer(laid)]
    boxes = {}
    for k, (_, end, nid) in enumerate(starts):
        stop = starts[k + 1][0] if k + 1 < len(starts) else len(laid)
        body = laid[end:stop]
        body = body[:body.find("];") if "];" in body else len(body)]
        found = {key: rx.search(body) for key, rx in _ATTR.items()}
        if all(found.values()):
            x, y = (float(v) for v in found["pos"].group(1).split(",")[:2])
            boxes[nid.replace('\\"', '"')] = (x, y, float(found["width"].group(1)) * 36,
                                               float(found["height"].group(1)) * 36)
    return boxes


def _spline(pts, end):
    """Graphviz's pos for a polyline through `pts` with its arrowhead ending at `end`."""
    spline = [pts[0]]
    for a, b in zip(pts, pts[1:], strict=False):
        spline += [a, b, b]  # a cubic whose control points sit on its ends is a straight segment
    return f"e,{end[0]:.1f},{end[1]:.1f} " + " ".join(f"{x:.1f},{y:.1f}" for x, y in spline)


def gather_routes(laid, lines):
    """`lines` (DOT edge statements marked "gather", left out of the layout) with a pos="..." spline each: one bus
    per target op, down from each source to a track under the sources' row, along it, and into the target from
    the side that faces the track."""
    boxes = node_boxes(laid)
    by_dst = {}
    for ln in lines:
        m = _EDGE.match(ln)
        if m and m.group(1) in boxes and m.group(2) in boxes:
            by_dst.setdefault(m.group(2), []).append(m.group(1))
    new = {}
    for k, (dst, srcs) in enumerate(sorted(by_dst.items())):
        track = min(boxes[s][1] - boxes[s][3] for s in srcs) - 14 - 5 * k
        tx, ty, _, th = boxes[dst]
        end = (tx, ty - th) if ty > track else (tx, ty + th)  # the target's side that faces the track
        for src in srcs:
            sx, sy, _, sh = boxes[src]
            step = -4 if ty > track else 4
            new[src, dst] = _spline([(sx, sy - sh), (sx, track), (tx, track), (tx, end[1] + step)], end)
    out = []
    for ln in lines:
        m = _EDGE.match(ln)
        key = (m.group(1), m.group(2)) if m else None
        out.append(ln[:-1] + f' pos="{new[key]}"]' if key in new and ln.endswith("]") else ln)
    return out


def bus_routes(laid, lines):
    """`lines` (DOT edge statements marked "bus") with a pos="..." spline each, routed on `laid`'s layout; a line
    whose ends are not in the layout is returned unchanged."""
    boxes = node_boxes(laid)
    edges = []
    for ln in lines:
        m = _EDGE.match(ln)
        edges.append((ln, m.group(1), m.group(2)) if m and m.group(1) in boxes and m.group(2) in boxes else (ln,))
    by_src = {}
    for e in edges:
        if len(e) == 3:
            by_src.setdefault(e[1], []).append(e[2])
    # weights that feed the same row of steps share that row's tracks, one track each, ordered by their x
    rows = {}
    for src, dsts in by_src.items():
        ys = sorted(boxes[d][1] for d in dsts)
        rows.setdefault(round(ys[len(ys) // 2]), []).append(src)
    plan = {}
    for members in rows.values():
        members.sort(key=lambda s: boxes[s][0])
        dsts = {d for s in members for d in by_src[s]}
        below = boxes[members[0]][1] < min(boxes[d][1] for d in dsts)  # the weights sit under the steps
        edge_y = min(boxes[d][1] - boxes[d][3] for d in dsts) if below else \
            max(boxes[d][1] + boxes[d][3] for d in dsts)
        xs = sorted({round(boxes[d][0], 1) for d in dsts})
        half_w = min(boxes[d][2] for d in dsts)
        gaps = [(a + b) / 2 for a, b in zip(xs, xs[1:], strict=False)] + [xs[0] - half_w - 12, xs[-1] + half_w + 12]
        k_all = len(members)
        for k, src in enumerate(members):
            off = k - (k_all - 1) / 2
            sgn = -1 if below else 1
            plan[src] = dict(track=edge_y + sgn * (9 + 4 * k), sgn=sgn, tie=off * min(8.0, 1.6 * half_w / (k_all + 1)),
                             riser=min(gaps, key=lambda g: abs(g - boxes[src][0])) + 3 * off, lane=k)
    out = []
    for e in edges:
        if len(e) != 3:
            out.append(e[0])
            continue
        ln, src, dst = e
        p, (px, py, _, ph), (dx, dy, _, dh) = plan[src], boxes[src], boxes[dst]
        sgn = p["sgn"]
        start = (px, py - sgn * ph)  # the weight's side that faces the steps
        exit_y = start[1] - sgn * (6 + 3 * p["lane"])
        tie_x, end_y = dx + p["tie"], dy + sgn * dh
        pts = [start, (px, exit_y), (p["riser"], exit_y), (p["riser"], p["track"]), (tie_x, p["track"]),
               (tie_x, end_y + sgn * 4)]
        pos = _spline(pts, (tie_x, end_y))
        out.append(ln[:-1] + f' pos="{pos}"]' if ln.endswith("]") else ln)
    return out
