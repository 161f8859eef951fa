"""The char-LM training step (bench_charlm's CharLM: Embedding -> LSTM/GRU/RNN -> Linear -> cross-entropy -> backward
-> Adam, float32, vocabulary 65) on the GPU (TINYGRAD_RNN_GPU=1), beside the same program on the CPU (NumPy backend)
and PyTorch CUDA (nn.LSTM / GRU / RNN: cuDNN), each system in its own process, at the three anchor sizes and
(B, T, H) = (256, 128, 1024). Writes one JSON (per-step medians, ratios, the machine); --readme renders a JSON into
README between markers.

    python benchmarks/bench_gpu.py --json OUT/bench_gpu.json            # on the GPU machine (gpu_check.sh runs it)
    python benchmarks/bench_gpu.py --from-json OUT/bench_gpu.json --readme README.md
    TINYGRAD_RNN_GPU=strict python benchmarks/bench_gpu.py --gpu-flag strict --sizes small --json /tmp/b.json
                                                                        # plumbing dry run: the stand-in, no GPU

A GPU step ends with loss.item(), a host copy, so its time includes the device's work. No size is skipped to meet a
target: a system that fails or runs out of time is recorded with its error.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = {  # the anchors' configs (../shared/bench/anchors.py CONFIGS), plus the large-batch one
    "small": dict(V=65, E=32, H=128, B=32, T=35),
    "medium": dict(V=65, E=64, H=256, B=64, T=64),
    "large": dict(V=65, E=128, H=512, B=64, T=128),
    "xl": dict(V=65, E=128, H=1024, B=256, T=128),
}
SYSTEMS = ("gpu", "cpu", "torch_cuda")
BEGIN = "<!-- bench_gpu table: written by benchmarks/bench_gpu.py --readme -->"
END = "<!-- end of bench_gpu table -->"


def data(cfg, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    seq = rng.integers(0, cfg["V"], size=(cfg["B"], cfg["T"] + 1))
    return np.ascontiguousarray(seq[:, :-1].T), np.ascontiguousarray(seq[:, 1:].T)


def ours(cfg, cell):
    sys.path.insert(0, HERE)
    import bench_charlm
    x, y = data(cfg)
    return bench_charlm.tiny_step(cfg, cell, x, y)


def torch_cuda(cfg, cell):
    import torch
    if not torch.cuda.is_available():
        raise RuntimeError("torch: no CUDA device")
    dev, nn = torch.device("cuda"), torch.nn
    torch.manual_seed(0)
    rnn_cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
    emb, rnn, fc = nn.Embedding(cfg["V"], cfg["E"]), rnn_cls(cfg["E"], cfg["H"]), nn.Linear(cfg["H"], cfg["V"])
    mods = [m.to(dev) for m in (emb, rnn, fc)]
    opt = torch.optim.Adam([p for m in mods for p in m.parameters()], lr=1e-3)
    x, y = data(cfg)
    xt, yt = torch.from_numpy(x).to(dev), torch.from_numpy(y).reshape(-1).to(dev)

    def step():
        opt.zero_grad(set_to_none=True)
        out, _ = rnn(emb(xt))
        loss = nn.functional.cross_entropy(fc(out).reshape(-1, cfg["V"]), yt)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def one(system, cell, size, budget):
    """Run in the child: time one system's step; print one JSON line."""
    cfg = SIZES[size]
    step = torch_cuda(cfg, cell) if system == "torch_cuda" else ours(cfg, cell)
    if system != "torch_cuda":
        import tinygrad_rnn as tr
        backend = tr.backend.NAME
    else:
        backend = "torch"
    for _ in range(2):
        step()
    times, start = [], time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < 50):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    print(json.dumps({"ms": statistics.median(times) * 1e3, "steps": len(times), "backend": backend}))


def run_child(system, cell, size, budget, gpu_flag, timeout):
    env = dict(os.environ)
    env.pop("TINYGRAD_RNN_GPU", None)
    if system == "gpu":
        env["TINYGRAD_RNN_GPU"] = gpu_flag
    cmd = [sys.executable, os.path.abspath(__file__), "--one", system, cell, size, "--budget", str(budget)]
    row = {"system": system, "cell": cell, "size": size, **SIZES[size]}
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**row, "error": f"timed out after {timeout} s"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return {**row, "error": f"exit {p.returncode}: {tail}"}
    return {**row, **json.loads(lines[-1])}


def machine():
    info = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform()}
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        info["gpu"] = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
    except (OSError, subprocess.TimeoutExpired):
        info["gpu"] = None
    for mod in ("numpy", "cupy", "torch"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception as e:  # noqa: BLE001 - any import failure is a fact to record, not a crash
            info[mod] = f"unavailable ({type(e).__name__})"
    return info


def ratios(results):
    ms = {(r["system"], r["cell"], r["size"]): r.get("ms") for r in results}
    out = []
    for (system, cell, size), gpu in ms.items():
        if system != "gpu":
            continue
        cpu, tc = ms.get(("cpu", cell, size)), ms.get(("torch_cuda", cell, size))
        out.append({"cell": cell, "size": size,
                    "gpu_x_cpu": cpu / gpu if gpu and cpu else None,
                    "gpu_x_torch_cuda": tc / gpu if gpu and tc else None})
    return out


def table(report):
    fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    ms = {(r["system"], r["cell"], r["size"]): r for r in report["results"]}
    m = report["machine"]
    lines = [f"Measured {m['date']} on {m.get('gpu') or 'no GPU'} ({m['cpus']} CPUs; CuPy {m.get('cupy')}, "
             f"PyTorch {m.get('torch')}, NumPy {m.get('numpy')}), `{report['command']}`:", "",
             "| cell | size (B, T, H) | GPU ms | CPU ms | PyTorch CUDA ms | GPU x CPU | GPU x PyTorch CUDA |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in report["ratios"]:
        c, s = r["cell"], r["size"]
        cfg = SIZES[s]
        cells = [ms.get((sy, c, s), {}) for sy in SYSTEMS]
        vals = [fmt(x.get("ms"), ".2f") if "error" not in x else "error" for x in cells]
        lines.append(f"| {c.upper()} | {s} ({cfg['B']}, {cfg['T']}, {cfg['H']}) | " + " | ".join(vals)
                     + f" | {fmt(r['gpu_x_cpu'], '.1f')} | {fmt(r['gpu_x_torch_cuda'], '.2f')} |")
    errors = [f"{r['system']} {r['cell']} {r['size']}: {r['error']}" for r in report["results"] if "error" in r]
    if errors:
        lines += ["", "Errors: " + "; ".join(errors) + "."]
    return "\n".join(lines)


def write_readme(path, text):
    with open(path, encoding="utf-8") as f:
        old = f.read()
    if BEGIN not in old or END not in old:
        sys.exit(f"bench_gpu: {path} has no markers {BEGIN} ... {END}")
    sys.path.insert(0, HERE)
    from bench_charlm import write_between
    write_between(path, old, BEGIN, END, text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--one", nargs=3, metavar=("SYSTEM", "CELL", "SIZE"), help=argparse.SUPPRESS)
    ap.add_argument("--cells", default="lstm,gru,rnn")
    ap.add_argument("--sizes", default="small,medium,large,xl")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--budget", type=float, default=5.0, help="seconds of timed steps per system, cell and size")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per child process, warm-up included")
    ap.add_argument("--gpu-flag", default="1", help="TINYGRAD_RNN_GPU for the gpu system (strict: a dry run)")
    ap.add_argument("--json", help="write the report here")
    ap.add_argument("--from-json", help="render an earlier report instead of measuring")
    ap.add_argument("--readme", help="write the table into this README between its markers")
    a = ap.parse_args()
    if a.one:
        one(*a.one, a.budget)
        return
    if a.from_json:
        with open(a.from_json, encoding="utf-8") as f:
            report = json.load(f)
    else:
        results = []
        for cell in a.cells.split(","):
            for size in a.sizes.split(","):
                for system in a.systems.split(","):
                    r = run_child(system, cell, size, a.budget, a.gpu_flag, a.timeout)
                    print(json.dumps(r), flush=True)
                    results.append(r)
        report = {"command": "python benchmarks/bench_gpu.py " + " ".join(sys.argv[1:]), "machine": machine(),
                  "results": results, "ratios": ratios(results)}
        if a.json:
            os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
            with open(a.json, "w", encoding="utf-8") as f:
                json.dump(report, f, indent=1)
    print(table(report))
    if a.readme:
        backends = {r.get("backend") for r in report["results"] if r["system"] == "gpu" and "error" not in r}
        if backends != {"cupy"}:
            sys.exit(f"bench_gpu: not writing {a.readme}: the gpu system ran on {sorted(map(str, backends))}, not CuPy")
        write_readme(a.readme, table(report))


if __name__ == "__main__":
    main()
