"""Char-LM training step as a user writes it (Embedding -> LSTM/GRU/RNN -> Linear -> cross-entropy -> backward ->
Adam, float32) in a plain process, beside the hand-written NumPy step and PyTorch CPU of the shared anchors
(../shared/bench/anchors.py, systems `numpy` and `torch_nn`: same configs, same data), in interleaved rounds.
Each system runs in a spawned process of its own (tinygrad_rnn, the NumPy step, PyTorch), driven in turn, so each
has the allocator and threads of a user's process that runs only it. Reports medians of per-step wall time, the ratios,
and tinygrad_rnn's minor page faults per step.

    python benchmarks/bench_charlm.py                          # three cells, three sizes
    python benchmarks/bench_charlm.py --cells lstm --sizes small --ablate
    python benchmarks/bench_charlm.py --anchors /path/to/anchors.py --malloc-tune

--ablate turns each speed mechanism of the library off in turn (beside it on, interleaved) and prints the gain it
brings per size. --malloc-tune (opt-in, printed) keeps freed memory in glibc's heap in every process it starts: the
library never changes allocator or BLAS settings itself.
"""

import argparse
import contextlib
import ctypes
import importlib.util
import multiprocessing
import os
import resource
import statistics
import sys
import time

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
from tinygrad_rnn import backend, grads, nn, optim
from tinygrad_rnn.kernels import fused, loss, workspace

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ANCHORS = os.path.join(HERE, "..", "..", "shared", "bench", "anchors.py")  # CI: shared/ next to the clone


def load_anchors(path):
    if not os.path.exists(path):
        sys.exit(f"bench_charlm: the shared anchors are not at {os.path.abspath(path)}; pass --anchors PATH "
                 "(CI copies shared/ next to the clone as ../shared)")
    spec = importlib.util.spec_from_file_location("anchors", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class CharLM(nn.Module):
    def __init__(self, cell, V, E, H):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](E, H)
        self.fc = nn.Linear(H, V)

    def forward(self, tokens):
        out, _ = self.rnn(self.embedding(tokens))
        return self.fc(out)


def tiny_step(cfg, cell, x, y):
    """tinygrad_rnn's training step, written as a user writes it."""
    tr.manual_seed(0)
    model = CharLM(cell, cfg["V"], cfg["E"], cfg["H"])
    opt = optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = tr.tensor(x), tr.tensor(y.reshape(-1))

    def step():
        opt.zero_grad()
        logits = model(xt)
        loss = F.cross_entropy(logits.reshape(-1, cfg["V"]), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _set(obj, name, value):
    @contextlib.contextmanager
    def ctx():
        old = getattr(obj, name)
        setattr(obj, name, value)
        try:
            yield
        finally:
            setattr(obj, name, old)
    return ctx


# Each speed mechanism of the library and how to turn it off (the rest of the code then takes its plain path).
MECHANISMS = {
    "workspace reuse": _set(backend, "REUSE", False),                   # fresh workspace arrays every forward
    "workspace": _set(fused, "step_workspace", lambda *a, **k: None),   # per-step arrays, a stacked copy
    "joined products": _set(grads, "JOIN", False),                      # dW_hh from concatenated factors
    "one-hot embedding": _set(backend, "ONEHOT_EMBEDDING_MAX", 0),      # embedding backward by segment sums
    "embedding rows first": _set(grads, "ROWS_FIRST", False),          # the input projection's products over all rows
    "plain cross-entropy": _set(loss.CrossEntropy, "plain", False),  # the general path with a one-hot
    "contiguous W_hh^T": _set(workspace, "CONTIGUOUS_WT", False),     # steps read the transposed view
    "one node per run": _set(fused, "ONE_NODE_PER_RUN", False),      # a graph node per step
}


def tune_malloc():
    """glibc only, whole process: keep freed memory in the heap (opt-in: --malloc-tune)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 32 << 20) and libc.mallopt(m_trim_threshold, 1 << 30))


def _faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class Local:
    """A runner in this process: a step function and the context (a mechanism turned off) it runs in."""

    def __init__(self, fn, ctx=None):
        self.fn, self.ctx = fn, ctx

    def run(self, reps):
        """(per-step times of `reps` steps, minor page faults per step)."""
        with self.ctx() if self.ctx else contextlib.nullcontext():
            f0, times = _faults(), []
            for _ in range(reps):
                t0 = _clock()
                self.fn()
                times.append(_clock() - t0)
            return times, (_faults() - f0) / reps


# Seconds a Worker waits before it runs: the threads of the process that ran before (OpenBLAS's, torch's OpenMP) spin
# for a while after their last call and would take a core from this one (seen: the NumPy step at 1.9x its own time).
SETTLE = 0.4


class Worker:
    """A runner in a process of its own (spawned: a fresh interpreter), which builds one system's step and runs it on
    request, so each library's allocations and threads are those of a user's process running only it (beside each
    other, torch's and NumPy's heaps hid tinygrad_rnn's page faults)."""

    def __init__(self, system, cell, size, a):
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, system, cell, size, a.anchors, a.clock, a.malloc_tune,
                                                     a.torch_threads), daemon=True)
        self.proc.start()
        child.close()
        ok, info = self.conn.recv()
        if not ok:
            self.close()
            raise ImportError(info)

    def run(self, reps):
        time.sleep(SETTLE)
        self.conn.send(reps)
        return self.conn.recv()

    def close(self):
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(timeout=30)
        if self.proc.is_alive():
            self.proc.kill()


def _serve(conn, system, cell, size, anchors_path, clock, malloc_tune, torch_threads):
    """A Worker's process: build `system`'s step ("tinygrad_rnn", "numpy" or "torch"), then run as many steps as
    each request asks, answering (times, faults per step); None ends it."""
    global _clock
    _clock = time.process_time if clock == "cpu" else time.perf_counter
    if malloc_tune:
        tune_malloc()
    try:
        anchors = load_anchors(anchors_path)
        cfg = anchors.CONFIGS[size]
        x, y = anchors.make_data(cfg)
        if system == "tinygrad_rnn":
            fn = tiny_step(cfg, cell, x, y)
        elif system == "numpy":
            fn = anchors.build_numpy(cfg, cell, x, y)[0]
        else:
            fn = anchors.build_torch_nn(cfg, cell, x, y)[0]
            if torch_threads:
                import torch
                torch.set_num_threads(torch_threads)
    except ImportError as e:
        conn.send((False, str(e)))
        return
    conn.send((True, None))
    runner = Local(fn)
    while (reps := conn.recv()) is not None:
        conn.send(runner.run(reps))


def interleaved(runners, rounds, budget):
    """{name: (per-step seconds, minor faults per step)} over `rounds` interleaved rounds; each runner's repetitions
    per round sized to ~budget/rounds seconds. runners: {name: Local or Worker}."""
    reps = {}
    for name, runner in runners.items():  # warm up (2 steps), then size the repetitions on a third
        runner.run(2)
        one = runner.run(1)[0][0]
        reps[name] = max(2, int(budget / rounds / max(one, 1e-4)))
    times = {name: [] for name in runners}
    faults = {name: [] for name in runners}
    for _ in range(rounds):
        for name, runner in runners.items():
            t, f = runner.run(reps[name])
            times[name] += t
            faults[name].append(f)
    return {name: (times[name], statistics.median(faults[name])) for name in runners}


_clock = time.perf_counter


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", default="lstm,gru,rnn")
    ap.add_argument("--sizes", default="small,medium,large", help="anchor configs: small, medium, large")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: this process's CPU time, steadier on a loaded machine (fair with one BLAS thread)")
    ap.add_argument("--rounds", type=int, default=6, help="interleaved rounds")
    ap.add_argument("--budget", type=float, default=4.0, help="seconds per runner per size, over all rounds")
    ap.add_argument("--anchors", default=DEFAULT_ANCHORS, help="path of the shared anchors.py")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--torch-threads", type=int, default=None,
                    help="torch.set_num_threads after the anchors' setup (which sets 2); 1 for a fair --clock cpu")
    ap.add_argument("--ablate", action="store_true", help="each mechanism off in turn: its gain per size")
    ap.add_argument("--mechanisms", default=None, help="with --ablate: a comma-separated subset of the mechanisms")
    ap.add_argument("--malloc-tune", action="store_true", help="opt in: tune glibc malloc for the whole process")
    ap.add_argument("--readme", default=None, metavar="PATH",
                    help="also write the table (with the command, date and load) into PATH between its markers")
    a = ap.parse_args()
    global _clock
    _clock = time.process_time if a.clock == "cpu" else time.perf_counter
    anchors = load_anchors(a.anchors)
    tuned = tune_malloc() if a.malloc_tune else False
    where = "this process, tinygrad_rnn only" if a.ablate else "each system in a spawned process of its own"
    print(f"plain processes ({where}): clock={a.clock} malloc_tuned={tuned or a.malloc_tune} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} torch_threads={a.torch_threads or 'anchors'} "
          f"rounds={a.rounds} budget={a.budget}s; "
          "medians of per-step time", flush=True)
    cell_list, sizes = a.cells.split(","), a.sizes.split(",")
    rows, results = [], []  # markdown rows for --readme; (cell, size, x numpy, x torch or None)
    if a.ablate:
        print(f"{'cell':5} {'size':7} {'mechanism':24} {'on ms':>8} {'off ms':>8} {'gain':>6}")
    else:
        print(f"{'cell':5} {'size':7} | {'tinygrad_rnn':>12} {'numpy':>8} {'torch':>8} ms | {'x numpy':>7} "
              f"{'x torch':>7} | {'faults/step':>11}")
    for cell in cell_list:
        for size in sizes:
            cfg = anchors.CONFIGS[size]
            if a.ablate:  # in this process, which runs only tinygrad_rnn
                x, y = anchors.make_data(cfg)
                ours = tiny_step(cfg, cell, x, y)
                runners = {"on": Local(ours)}
                chosen = a.mechanisms.split(",") if a.mechanisms else list(MECHANISMS)
                runners.update({name: Local(ours, MECHANISMS[name]) for name in chosen})
                r = interleaved(runners, a.rounds, a.budget)
                on = statistics.median(r["on"][0])
                for name in chosen:
                    off = statistics.median(r[name][0])
                    print(f"{cell:5} {size:7} {name:24} {on * 1e3:8.2f} {off * 1e3:8.2f} {off / on - 1:6.1%}",
                          flush=True)
                    rows.append(f"| {cell.upper()} | {size} | {name} | {on * 1e3:.2f} | {off * 1e3:.2f} | "
                                f"{off / on - 1:.1%} |")
                    results.append((name, off / on - 1))
                continue
            runners = {"tinygrad_rnn": Worker("tinygrad_rnn", cell, size, a), "numpy": Worker("numpy", cell, size, a)}
            if not a.no_torch:
                try:
                    runners["torch"] = Worker("torch", cell, size, a)
                except ImportError:
                    pass
            try:
                r = interleaved(runners, a.rounds, a.budget)
            finally:
                for w in runners.values():
                    w.close()
            med = {k: statistics.median(v[0]) for k, v in r.items()}
            t_ours, t_np, t_torch = med["tinygrad_rnn"], med["numpy"], med.get("torch")
            torch_ms = f"{t_torch * 1e3:8.2f}" if t_torch else f"{'-':>8}"
            x_torch = f"{t_torch / t_ours:7.2f}" if t_torch else f"{'-':>7}"
            print(f"{cell:5} {size:7} | {t_ours * 1e3:12.2f} {t_np * 1e3:8.2f} {torch_ms} ms | {t_np / t_ours:7.2f} "
                  f"{x_torch} | {r['tinygrad_rnn'][1]:11.0f}", flush=True)
            results.append((cell, size, t_np / t_ours, t_torch / t_ours if t_torch else None))
            shape = "({B}, {T}, {H})".format(**cfg)
            rows.append(f"| {cell.upper()} | {size} {shape} | {t_ours * 1e3:.2f} | {t_np * 1e3:.2f} | "
                        f"{torch_ms.strip()} | {t_np / t_ours:.2f} | {x_torch.strip()} | {r['tinygrad_rnn'][1]:.0f} |")
    summary = ablation_summary(results) if a.ablate else goals(results)
    print(summary)
    if a.readme:
        write_readme(a.readme, "ablation" if a.ablate else "table", rows + ["", summary])


GOALS = {"small": 0.85, "medium": 0.9, "large": 0.9}  # x the NumPy step; GRU and RNN also >= 1.0 x PyTorch at medium


def goals(results):
    """One line: which of the speed goals this run met."""
    met, missed = [], []
    for cell, size, x_np, x_torch in results:
        (met if x_np >= GOALS[size] else missed).append(f"{cell.upper()} {size} {x_np:.3f}x NumPy (goal {GOALS[size]})")
        if size == "medium" and cell in ("gru", "rnn") and x_torch is not None:
            (met if x_torch >= 1.0 else missed).append(f"{cell.upper()} medium {x_torch:.3f}x PyTorch (goal 1.0)")
    return f"Goals met in this run: {'; '.join(met) or 'none'}. Not met: {'; '.join(missed) or 'none'}."


def ablation_summary(results):
    """One line: each mechanism's best gain over the cells and sizes run, and whether it earns the 5% it must."""
    best = {}
    for name, gain in results:
        best[name] = max(best.get(name, gain), gain)
    keep = [f"{n} (best {g:.1%})" for n, g in best.items() if g >= 0.05]
    drop = [f"{n} (best {g:.1%})" for n, g in best.items() if g < 0.05]
    return f"At least 5% at some size in this run: {', '.join(keep) or 'none'}. Below 5%: {', '.join(drop) or 'none'}."


def write_readme(path, which, rows):
    """Put `rows` (markdown) with their header, the command, date and load between PATH's markers for `which`."""
    begin = f"<!-- bench_charlm {which}: written by benchmarks/bench_charlm.py --readme -->"
    end = f"<!-- end of bench_charlm {which} -->"
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if begin not in text or end not in text:
        sys.exit(f"bench_charlm: {path} has no markers {begin} ... {end}")
    if which == "ablation":
        head = "| cell | size | mechanism off | on ms | off ms | gain |\n|---|---|---|---:|---:|---:|"
    else:
        head = ("| cell | size (B, T, H) | tinygrad_rnn ms | NumPy step ms | PyTorch ms | x NumPy step | x PyTorch "
                "| faults/step |\n|---|---|---:|---:|---:|---:|---:|---:|")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    cmd = "python benchmarks/bench_charlm.py " + " ".join(sys.argv[1:])
    note = (f"`{cmd}` on {time.strftime('%Y-%m-%d %H:%M')}, load average {load}, "
            f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, NumPy {backend.np.__version__}:")
    write_between(path, text, begin, end, note + "\n\n" + head + "\n" + "\n".join(rows))


def write_between(path, text, begin, end, body):
    """Write `text` (PATH's contents, which hold both markers) with `body` between the markers: written whole, then
    renamed over the old file, so a README is never left half-written."""
    before, rest = text.split(begin, 1)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(before + begin + "\n" + body + "\n" + end + rest.split(end, 1)[1])
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
