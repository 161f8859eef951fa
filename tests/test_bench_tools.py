"""The benchmark scripts' bookkeeping (not their timings): bench_charlm's goals line and README writer, bench_gpu's
ratios, table and its refusal to write a run that was not on CuPy into the README."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "benchmarks")


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(BENCH, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_goals_line_sorts_met_from_missed():
    bc = _load("bench_charlm")
    line = bc.goals([("lstm", "small", 0.86, 0.5), ("gru", "medium", 0.89, 1.02), ("rnn", "large", 0.95, None)])
    met, missed = line.split("Not met:")
    assert "LSTM small 0.860x" in met and "GRU medium 1.020x PyTorch" in met and "RNN large 0.950x" in met
    assert "GRU medium 0.890x NumPy" in missed


def _marked_readme(tmp_path, what):
    """A README.md with `what`'s markers around old rows, and a check that a writer kept everything outside them."""
    script = what.split()[0]
    begin = f"<!-- {what}: written by benchmarks/{script}.py --readme -->"
    end = f"<!-- end of {what} -->"
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{begin}\nold rows\n{end}\nafter\n", encoding="utf-8")

    def check():
        text = readme.read_text(encoding="utf-8")
        assert text.startswith("before\n" + begin) and text.endswith(end + "\nafter\n")
        return text

    return readme, check


def test_readme_writer_replaces_only_between_markers(tmp_path):
    bc = _load("bench_charlm")
    readme, check = _marked_readme(tmp_path, "bench_charlm table")
    bc.write_readme(str(readme), "table", ["| LSTM | small | 1 |"])
    text = check()
    assert "old rows" not in text and "| LSTM | small | 1 |" in text
    assert not (tmp_path / "README.md.tmp").exists()
    (tmp_path / "bare.md").write_text("no markers\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        bc.write_readme(str(tmp_path / "bare.md"), "table", [])
    assert (tmp_path / "bare.md").read_text(encoding="utf-8") == "no markers\n"


def _report(backend):
    bg = _load("bench_gpu")
    results = [
        {"system": "gpu", "cell": "lstm", "size": "large", "ms": 10.0, "backend": backend},
        {"system": "cpu", "cell": "lstm", "size": "large", "ms": 400.0, "backend": "numpy"},
        {"system": "torch_cuda", "cell": "lstm", "size": "large", "ms": 5.0, "backend": "torch"},
        {"system": "gpu", "cell": "lstm", "size": "xl", "error": "timed out after 120 s"},
        {"system": "cpu", "cell": "lstm", "size": "xl", "ms": 900.0, "backend": "numpy"},
        {"system": "torch_cuda", "cell": "lstm", "size": "xl", "ms": 8.0, "backend": "torch"},
    ]
    machine = {"date": "2026-01-01 00:00 UTC", "cpus": 16, "gpu": "a GPU", "cupy": "13", "torch": "2", "numpy": "2"}
    return bg, {"command": "python benchmarks/bench_gpu.py", "machine": machine, "results": results,
                "ratios": bg.ratios(results)}


def test_gpu_ratios_and_table():
    bg, report = _report("cupy")
    by_size = {r["size"]: r for r in report["ratios"]}
    assert by_size["large"]["gpu_x_cpu"] == pytest.approx(40.0)
    assert by_size["large"]["gpu_x_torch_cuda"] == pytest.approx(0.5)
    assert by_size["xl"]["gpu_x_cpu"] is None  # the GPU run failed: no ratio, and the error is in the table
    text = bg.table(report)
    assert "| LSTM | large (64, 128, 512) | 10.00 | 400.00 | 5.00 | 40.0 | 0.50 |" in text
    assert "gpu lstm xl: timed out after 120 s" in text


@pytest.mark.parametrize("backend", ("cupy", "strict"))
def test_gpu_readme_only_from_a_cupy_run(backend, tmp_path):
    bg, report = _report(backend)
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(f"x\n{bg.BEGIN}\n{bg.END}\ny\n", encoding="utf-8")
    p = subprocess.run([sys.executable, os.path.join(BENCH, "bench_gpu.py"), "--from-json", str(path),
                        "--readme", str(readme)], capture_output=True, text=True, timeout=120)
    text = readme.read_text(encoding="utf-8")
    if backend == "cupy":
        assert p.returncode == 0, p.stderr
        assert "| LSTM | large (64, 128, 512) | 10.00 |" in text
    else:
        assert p.returncode != 0 and "not CuPy" in p.stderr
        assert text == f"x\n{bg.BEGIN}\n{bg.END}\ny\n"


def test_vocab_readme_writer_fills_its_markers(tmp_path):
    bv = _load("bench_vocab")
    readme, check = _marked_readme(tmp_path, "bench_vocab table")
    row = "| `log_softmax` + `nll_loss` | 2.00 | 1.00 | 2.00 |"
    bv.write_readme(str(readme), [row], "N = 8 rows")
    text = check()
    assert "old rows" not in text and "N = 8 rows" in text and row in text


ANCHORS = os.path.join(HERE, "..", "..", "shared", "bench", "anchors.py")


@pytest.mark.skipif(not os.path.exists(ANCHORS), reason="the shared anchors are not next to this checkout")
def test_bench_worker_runs_a_system_in_a_process_of_its_own():
    if BENCH not in sys.path:  # the spawned process imports bench_charlm by name (it gets this sys.path)
        sys.path.insert(0, BENCH)
    bc = importlib.import_module("bench_charlm")
    opts = type("Opts", (), {"anchors": ANCHORS, "clock": "wall", "malloc_tune": False, "torch_threads": None})
    w = bc.Worker("tinygrad_rnn", "rnn", "small", opts)
    try:
        assert w.proc.pid != os.getpid() and w.proc.is_alive()
        times, faults = w.run(3)
        assert len(times) == 3 and all(t > 0 for t in times) and faults >= 0
    finally:
        w.close()
    assert not w.proc.is_alive()


@pytest.mark.parametrize("cell", ("lstm", "gru", "rnn"))
def test_every_ablation_switch_changes_the_code_that_runs_and_no_gradient(cell):
    """bench_charlm --ablate turns each speed mechanism off in turn: each switch must reach the code the training step
    runs (the lines executed in tinygrad_rnn differ) and leave every gradient as it was."""
    import numpy as np

    import tinygrad_rnn as tr
    import tinygrad_rnn.nn.functional as F

    bc = _load("bench_charlm")
    package = os.path.dirname(tr.__file__)
    rng = np.random.default_rng(0)
    tokens, targets = rng.integers(0, 7, (8, 6)), rng.integers(0, 7, 48)  # enough rows per table row for rows first

    def run():
        tr.manual_seed(0)
        model = bc.CharLM(cell, 7, 12, 4).double()
        lines = set()

        def tracer(frame, event, arg):
            if frame.f_code.co_filename.startswith(package):
                lines.add((frame.f_code.co_filename, frame.f_lineno))
                return tracer
            return None
        sys.settrace(tracer)
        try:
            F.cross_entropy(model(tr.tensor(tokens)).reshape(-1, 7), tr.tensor(targets)).backward()
        finally:
            sys.settrace(None)
        return lines, [p.grad.numpy().copy() for p in model.parameters()]
    on_lines, on_grads = run()
    for name, off in bc.MECHANISMS.items():
        with off():
            off_lines, off_grads = run()
        assert off_lines != on_lines, f"turning off {name!r} changed no line the step runs"
        for a, b in zip(on_grads, off_grads, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)
