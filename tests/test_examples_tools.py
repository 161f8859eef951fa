"""The examples' shared tools: progress output for people (bars) and logs (lines), the claims table, and
examples/run_all.py's README table. Fast; imports the example modules by path, pytest."""

import json

import pytest
from test_examples_a import load

common = load("common")


class Args:
    no_progress, log_every = False, 0


@pytest.fixture
def not_a_terminal(monkeypatch):
    monkeypatch.delenv(common.PROGRESS_ENV, raising=False)
    monkeypatch.setattr(common.sys.stderr, "isatty", lambda: False, raising=False)


def test_log_lines_when_not_a_terminal(not_a_terminal, capsys):
    bar = common.progress(range(20), Args(), "train")
    seen = []
    for i in bar:
        seen.append(i)
        bar.set(loss=1.0 / (i + 1))
    lines = capsys.readouterr().out.splitlines()
    assert seen == list(range(20))
    assert len(lines) == 10 and lines[0].startswith("[train] 2/20  loss 0.5") and lines[-1].startswith("[train] 20/20")


def test_log_every_epoch_and_every_n(not_a_terminal, capsys):
    list(common.progress(range(3), Args(), "epochs", per_epoch=True))
    assert len(capsys.readouterr().out.splitlines()) == 3
    args = Args()
    args.log_every = 7
    list(common.progress(range(20), args, "steps"))
    assert [ln.split()[1] for ln in capsys.readouterr().out.splitlines()] == ["7/20", "14/20", "20/20"]
    list(common.progress(range(20), Args(), "evals", every=5))  # a loop that evaluates every 5 steps
    assert [ln.split()[1] for ln in capsys.readouterr().out.splitlines()] == ["5/20", "10/20", "15/20", "20/20"]


def test_progress_env_and_no_progress(monkeypatch, capsys):
    monkeypatch.setenv(common.PROGRESS_ENV, "off")
    list(common.progress(range(5), Args(), "x"))
    monkeypatch.setenv(common.PROGRESS_ENV, "log")
    args = Args()
    args.no_progress = True
    list(common.progress(range(5), args, "x"))
    assert capsys.readouterr().out == ""
    monkeypatch.setenv(common.PROGRESS_ENV, "off")
    assert common.progress_mode(Args()) == "off"
    monkeypatch.setenv(common.PROGRESS_ENV, "log")
    assert common.progress_mode(Args()) == "log"
    monkeypatch.setenv(common.PROGRESS_ENV, "bar")
    assert common.progress_mode(Args()) in ("bar", "log")  # "log" only where tqdm is missing


def test_claim_verdicts():
    assert common.claim("x", 0.9, 0.7, need=0.1)["verdict"] == "holds"
    c = common.claim("x", 0.75, 0.7, need=0.1)
    assert c["verdict"] == "FAILS" and c["holds"] is False
    assert common.claim("bpc", 2.5, 2.6, need=0.05, higher=False)["holds"]  # lower is better
    tie = common.claim("x", 0.71, 0.70, noise=0.02, names=("a", "b"))
    assert tie["verdict"] == "within noise" and tie["holds"] is None
    assert common.claim("x", 0.70, 0.75, noise=0.02, names=("a", "b"))["verdict"] == "b ahead"
    lines = common.claims_table([c, tie])
    assert lines[0].split() == ["claim", "measured", "margin", "needed", "verdict"] and len(lines) == 4


def test_run_all_writes_the_table_between_markers(tmp_path):
    run_all = load("run_all")
    (tmp_path / "results").mkdir()
    claims = [common.claim("attention vs context vector", 0.99, 0.74, need=0.1),
              common.claim("teacher forcing vs free running", 0.99, 0.986, noise=0.01, spread_text="0.99 vs 0.98")]
    (tmp_path / "results" / "seq2seq_dates.json").write_text(json.dumps(
        {"metrics": {}, "claims": claims, "wall_s": 12.3, "cpu_s": 10.0, "when": "2026-01-01 00:00 UTC"}))
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{run_all.BEGIN}\nold table\n{run_all.END}\noutro\n")
    run_all.write_readme(str(tmp_path), str(readme))
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old table" not in text
    rows = [ln for ln in text.splitlines() if ln.startswith("|")][2:]
    seq = [ln for ln in rows if "attention vs context vector" in ln][0]
    assert "`seq2seq_dates.py`" in seq and "0.990 vs 0.740" in seq and "holds" in seq and "12 s (10 s)" in seq
    assert any("within noise" in ln and "0.99 vs 0.98" in ln for ln in rows)
    assert sum("(not run yet)" in ln for ln in rows) == len(run_all.EXAMPLES) - 1
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit):
        run_all.write_readme(str(tmp_path), str(readme))
