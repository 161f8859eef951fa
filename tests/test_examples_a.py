"""Runs the digit, captioning and vanishing-gradient examples in-process (--quick) and checks that they learn:
loose thresholds measured on the quick runs, with margin. Imports: the example scripts by path, pytest."""

import importlib.util
import math
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
QUICK = ["--quick", "--no-plot", "--no-progress", "--out"]


def load(name):
    """Import examples/<name>.py under a private module name (the examples folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"tinygrad_rnn_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["one_to_one_digits", "many_to_one_digits", "one_to_many_captioning",
                                  "vanishing_gradients"])
def test_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        load(name).main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--quick" in out and "--out" in out


def test_one_to_one_digits(tmp_path):
    m = load("one_to_one_digits").main(QUICK + [str(tmp_path)])
    assert m["test_accuracy"] >= 0.85  # measured ~0.94-0.96 over seeds with --quick (4 epochs)
    assert m["train_accuracy"] >= 0.85
    assert not list(tmp_path.iterdir())  # --no-plot writes nothing


def test_many_to_one_digits(tmp_path):
    m = load("many_to_one_digits").main(QUICK + [str(tmp_path)])
    assert m["test_accuracy"] >= 0.8  # measured ~0.9 with --quick (5 epochs)
    probes = [float(a) for a in m["probe_accuracy_by_rows"].split()]
    assert len(probes) == 8
    assert probes[-1] > probes[0] + 0.3  # the state after all rows knows far more than after one


def test_one_to_many_captioning(tmp_path):
    m = load("one_to_many_captioning").main(QUICK + [str(tmp_path)])
    assert m["exact_match"] >= 0.7  # measured ~0.9 with --quick (4 epochs)
    assert m["char_accuracy"] >= m["exact_match"] - 0.05
    assert m["valid_name_rate"] >= 0.8  # the decoder spells real names


def test_vanishing_gradients(tmp_path):
    m = load("vanishing_gradients").main(QUICK + [str(tmp_path)])
    # (a) at default init all three vanish over 100 steps; opening the gates keeps the gradient alive.
    for kind in ("rnn", "lstm", "gru"):
        assert 0 < m[f"grad_ratio_{kind}"] < 1e-10  # measured ~1e-25 .. 1e-20
    assert m["grad_ratio_lstm_gate_bias"] > 1e-4  # measured ~4e-3
    assert m["grad_ratio_gru_gate_bias"] > 1e-7  # measured ~4e-5
    # (b) without clipping the loss reaches inf/NaN; with clipping the same run stays finite.
    assert m["explode_diverged_noclip"] and not m["explode_diverged_clip"]
    assert m["explode_max_grad_norm_clip"] > 100  # the raw gradients really are huge
    assert math.isfinite(m["explode_final_loss_clip"])
    # (c) on the short quick adding problem at least one gated cell already beats the baseline clearly.
    assert min(m["adding_mse_lstm"], m["adding_mse_gru"]) < 0.5 * m["adding_mse_baseline"]  # GRU ~0.01


@pytest.mark.slow
@pytest.mark.parametrize("name, key, threshold", [
    ("one_to_one_digits", "test_accuracy", 0.95),
    ("many_to_one_digits", "test_accuracy", 0.95),
    ("one_to_many_captioning", "exact_match", 0.9),
])
def test_default_runs(name, key, threshold, tmp_path):
    """The full default runs (minutes): the headline numbers in each docstring, and the plot."""
    m = load(name).main(["--no-progress", "--out", str(tmp_path)])
    assert m[key] >= threshold
    assert Path(m["plot"]).is_file()


@pytest.mark.slow
def test_vanishing_gradients_default(tmp_path):
    m = load("vanishing_gradients").main(["--no-progress", "--out", str(tmp_path)])
    assert m["adding_mse_rnn"] > 0.8 * m["adding_mse_baseline"]  # the vanilla RNN learns nothing at T=50
    assert max(m["adding_mse_lstm"], m["adding_mse_gru"]) < 0.2 * m["adding_mse_baseline"]
    assert Path(m["plot"]).is_file()
