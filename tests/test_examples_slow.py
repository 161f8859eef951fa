"""Every example at its default arguments (minutes in all; `pytest -m slow`): each claim the example makes holds with
the margin it states, plus the headline comparisons spelled out. Imports: the example scripts by path, pytest."""

import math
from pathlib import Path

import pytest
from test_examples_a import ALL, load

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")
pytestmark = pytest.mark.slow

EXTRA = {  # each example's headline, asserted on top of its own claims table
    "one_to_one_digits": lambda m: m["test_accuracy"] >= 0.95,
    "many_to_one_digits": lambda m: m["test_accuracy"] >= m["test_accuracy_bag_of_rows"] + 0.02,
    "one_to_many_captioning": lambda m: m["exact_match"] >= 0.9 and m["valid_name_rate"] >= 0.98,
    "seq2seq_dates": lambda m: m["exact_match_attention_teacher"] >= m["exact_match_context_vector_teacher"] + 0.1,
    "char_lm": lambda m: all(
        c < r - 0.02 for t in ("carried", "reset")
        for c, r in zip(map(float, m[f"val_bpc_train_{t}_eval_carried_seeds"].split()),
                        map(float, m[f"val_bpc_train_{t}_eval_reset_seeds"].split()), strict=True)),
    "bidirectional_tagging": lambda m: m["accuracy_bidirectional"] >= m["accuracy_unidirectional"] + 0.03,
    "vanishing_gradients": lambda m: (m["adding_mse_rnn"] > 0.8 * m["adding_mse_baseline"]
                                      and max(m["adding_mse_lstm"], m["adding_mse_gru"]) < 0.01
                                      and m["explode_diverged_noclip"] and not m["explode_diverged_clip"]),
    "demo": lambda m: m["val_bpc"] <= m["unigram_bpc"] - 1.0,
}


@pytest.mark.parametrize("name", ALL)
def test_default_run_claims_hold(name, tmp_path):
    m = load(name).main(["--no-progress", "--out", str(tmp_path)])
    failed = [c for c in m["claims"] if c["holds"] is False]
    assert not failed, failed
    assert any(c["holds"] for c in m["claims"]), "an example that claims nothing"
    assert EXTRA[name](m), {k: v for k, v in m.items() if k != "claims"}
    for c in m["claims"]:  # comparisons it does not claim must still be measured
        assert math.isfinite(c["margin"]), c
    written = list(tmp_path.iterdir())
    assert written and all(p.parent == tmp_path for p in written)
    for key in ("plot", "heatmap", "svg"):
        if key in m:
            assert Path(m[key]).is_file() and Path(m[key]).parent == tmp_path
