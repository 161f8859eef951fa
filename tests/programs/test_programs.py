"""Five PyTorch training programs (the other files in this folder), each run with identical source through torch and
through tinygrad_rnn bound to the name `torch`: with PyTorch's initial weights copied in, float64 losses agree step
by step; each run learns; a checkpointed run resumes bit-identically. Imports: tinygrad_rnn, numpy, torch if present."""

import contextlib
import random
import runpy
from pathlib import Path

import numpy as np
import pytest

import tinygrad_rnn as tr

HERE = Path(__file__).parent
# name: build arguments for the comparison (no dropout: its masks are random draws), steps compared, steps (or
# epochs) to learn, and the factor the mean loss of the last tenth of the run must fall below, of the first tenth's.
PROGRAMS = {
    "word_lm": dict(build=dict(dropout=0.0), compare=5, learn=150, factor=0.6),
    "names_classifier": dict(build={}, compare=8, learn=240, factor=0.7),
    "names_generator": dict(build=dict(dropout=0.0), compare=6, learn=300, factor=0.7),
    "seq2seq_attention": dict(build={}, compare=2, learn=25, factor=0.6),
    "chatbot": dict(build=dict(dropout=0.0), compare=6, learn=80, factor=0.8),
}
FRAMEWORKS = ["tinygrad_rnn", "torch"]


def ours(name, fw="tinygrad_rnn", torch_is_slow=False):
    """The (name, fw) case; with torch_is_slow, the torch run (a check of the program itself) only under -m slow."""
    return pytest.param(name, fw, marks=[pytest.mark.slow] if fw == "torch" and torch_is_slow else [])


def framework(name):
    return tr if name == "tinygrad_rnn" else pytest.importorskip("torch")


def load(name, torch):
    """The program's globals after running its source with `torch`, `nn` and `F` bound as `import torch` would."""
    bound = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    return runpy.run_path(str(HERE / f"{name}.py"), init_globals=bound, run_name=f"program_{name}")


@contextlib.contextmanager
def isolated(torch, dtype=None):
    """Default dtype, seed, thread count and Python's `random` state set for one run and restored after it."""
    old_dtype, py_state = torch.get_default_dtype(), random.getstate()
    threads = torch.get_num_threads() if hasattr(torch, "get_num_threads") else None
    if threads is not None:
        torch.set_num_threads(1)  # tiny ops: threads only add overhead on a shared machine
    torch.set_default_dtype(dtype or torch.float32)
    torch.manual_seed(0)
    try:
        yield
    finally:
        torch.set_default_dtype(old_dtype)
        random.setstate(py_state)
        if threads is not None:
            torch.set_num_threads(threads)


def as_tuple(models):
    return models if isinstance(models, tuple) else (models,)


def numpy_states(models):
    """state_dict() as NumPy copies (PyTorch's values are tensors sharing the parameters' memory, which training
    then changes in place; ours are already NumPy arrays, a deliberate difference, see the README)."""
    host = lambda v: np.array(v.detach().cpu().numpy() if hasattr(v, "detach") else v)  # noqa: E731
    return [{k: host(v) for k, v in m.state_dict().items()} for m in as_tuple(models)]


def run(name, torch, steps, build=None, states=None, dtype=None, report=False, **train_kwargs):
    """Build the program's model(s) (loading `states` if given) and train; returns (losses, initial states), and
    with report=True what the program's report() says after training (accuracy, samples, ...) as a third item."""
    with isolated(torch, dtype):
        program = load(name, torch)
        models = program["build"](**(build or {}))
        for model, state in zip(as_tuple(models), states or [], strict=False):
            model.load_state_dict(state)
        initial = numpy_states(models)
        losses = program["train"](models, steps, **train_kwargs)
        if not report:
            return losses, initial
        return losses, initial, program["report"](models) if "report" in program else []


@pytest.mark.parametrize("name, fw", [ours(name) for name in PROGRAMS])
def test_program_matches_torch_float64(name, fw):
    torch = pytest.importorskip("torch")
    spec = PROGRAMS[name]
    expected, states, expected_report = run(name, torch, spec["compare"], spec["build"], dtype=torch.float64,
                                            report=True)
    got, _, got_report = run(name, tr, spec["compare"], spec["build"], states=states, dtype=tr.float64, report=True)
    assert len(got) == len(expected) > 1
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    assert len(got_report) == len(expected_report)
    for a, b in zip(got_report, expected_report, strict=True):
        assert a == b if isinstance(b, str) else abs(a - b) <= 1e-9, (got_report, expected_report)


@pytest.mark.parametrize("name, fw", [ours(name, fw, torch_is_slow=True) for name in PROGRAMS for fw in FRAMEWORKS])
def test_program_learns(name, fw):
    spec = PROGRAMS[name]
    losses, _ = run(name, framework(fw), spec["learn"])
    k = max(1, len(losses) // 10)
    first, last = np.mean(losses[:k]), np.mean(losses[-k:])
    assert np.isfinite(losses).all()
    assert last < spec["factor"] * first, f"{name} under {fw}: loss {first:.3f} -> {last:.3f}"


@pytest.mark.parametrize("name, fw", [ours("seq2seq_attention", fw) for fw in FRAMEWORKS])
def test_seq2seq_resumes_from_checkpoint_bit_identically(name, fw, tmp_path):
    torch, ckpt = framework(fw), str(tmp_path / "seq2seq.pt")
    straight, _ = run("seq2seq_attention", torch, 2)
    first, _ = run("seq2seq_attention", torch, 1, checkpoint=ckpt)
    resumed, _ = run("seq2seq_attention", torch, 1, resume=ckpt)
    assert first + resumed == straight


def trained(name, torch, steps, build=None):
    """Train under `torch` (float32, seed 0) and return the program's globals, the models and the losses."""
    with isolated(torch):
        program = load(name, torch)
        models = program["build"](**(build or {}))
        losses = program["train"](models, steps)
    return program, models, losses


@pytest.mark.slow
@pytest.mark.parametrize("name, fw", [ours(name, fw) for name in ("names_classifier", "seq2seq_attention")
                                      for fw in FRAMEWORKS])
def test_long_run_predicts(name, fw):
    steps = {"names_classifier": 960, "seq2seq_attention": 60}[name]
    program, model, _ = trained(name, framework(fw), steps)
    assert program["accuracy"](model) > 0.8


@pytest.mark.slow
@pytest.mark.parametrize("name, fw", [ours("names_generator", fw) for fw in FRAMEWORKS])
def test_long_run_generator_spells_the_names(name, fw):
    program, model, _ = trained(name, framework(fw), 1500)
    model.eval()
    names = program["category_lines"]
    got = [program["sample"](model, c, line[0]) == line for c in names for line in names[c]]
    assert sum(got) >= 0.6 * len(got)


@pytest.mark.slow
@pytest.mark.parametrize("name, fw", [ours(name, fw) for name in ("word_lm", "chatbot") for fw in FRAMEWORKS])
def test_long_run_loss_gets_low(name, fw):
    _, _, losses = trained(name, framework(fw), 400)
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
    assert np.mean(losses[-20:]) < 1.0
