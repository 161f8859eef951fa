# tr.save / tr.load: round trips of nested checkpoints, no pickle, atomic writes, clear errors, and a model +
# optimizer checkpoint that resumes training bit for bit.
import os
import zipfile

import numpy as np
import pytest

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
from tinygrad_rnn import nn, optim


def test_round_trip_nested_structure(tmp_path):
    obj = {
        "model": {"w": tr.Tensor(np.arange(6.0).reshape(2, 3), dtype=tr.float64), "b": np.array([1, 2], np.int64)},
        "flags": np.array([True, False]),
        "scalar": np.float32(2.5),
        "zero_d": np.array(7.0),
        "meta": {"epoch": 3, "lr": 1e-3, "name": "lstm", "ok": True, "none": None, "inf": float("inf"),
                 "betas": (0.9, 0.999), "sizes": [1, 2, [3, "x"]]},
        0: {"step": 5, "exp_avg": np.ones((2, 2), np.float32)},
        "__tricky__": {"array": "a0"},  # user data shaped like an internal tag
    }
    path = tmp_path / "ck.npz"
    tr.save(obj, path)
    out = tr.load(path)
    assert list(out) == list(obj)
    w = out["model"]["w"]  # a Tensor comes back a Tensor, an array an array
    assert type(w) is tr.Tensor and w.dtype == tr.float64 and np.array_equal(w.numpy(), np.arange(6.0).reshape(2, 3))
    assert out["model"]["b"].dtype == np.int64 and out["flags"].dtype == np.bool_
    assert out["scalar"] == 2.5 and type(out["scalar"]) is np.float32
    assert out["zero_d"].shape == () and out["zero_d"] == 7.0
    meta = out["meta"]
    assert meta == {**obj["meta"], "sizes": [1, 2, [3, "x"]]} and isinstance(meta["betas"], tuple)
    assert type(meta["epoch"]) is int and type(meta["lr"]) is float
    assert out[0]["step"] == 5 and out[0]["exp_avg"].dtype == np.float32
    assert out["__tricky__"] == {"array": "a0"}


def test_no_pickle_and_atomic_write(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    tr.save({"a": np.ones(3)}, path)
    # a crafted archive with a pickled (object) entry is refused, not unpickled
    crafted = tmp_path / "crafted.npz"
    np.savez(crafted, payload=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"crafted.npz holds pickled Python objects, which tinygrad_rnn never loads"):
        tr.load(crafted)
    # a failing write leaves the old file intact and no temporary files behind
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tr.backend.np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        tr.save({"a": np.zeros(3)}, path)
    monkeypatch.undo()
    assert np.array_equal(tr.load(path)["a"], np.ones(3))
    assert sorted(os.listdir(tmp_path)) == ["ck.npz", "crafted.npz"]


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"tr.load: no such file: .*missing.npz"):
        tr.load(tmp_path / "missing.npz")
    text = tmp_path / "notes.txt"
    text.write_text("hello, not a checkpoint")
    with pytest.raises(ValueError, match=r"tr.load: .*notes.txt is not a tinygrad_rnn checkpoint"):
        tr.load(text)
    npy = tmp_path / "arr.npy"
    np.save(npy, np.ones(2))
    with pytest.raises(ValueError, match=r"arr.npy is not a tinygrad_rnn checkpoint: it holds a single array"):
        tr.load(npy)
    bad = tmp_path / "bad.npz"
    np.savez(bad, __tinygrad_rnn_structure__=np.array("{not json"))
    with pytest.raises(ValueError, match=r"bad.npz is corrupt"):
        tr.load(bad)
    with pytest.raises(TypeError, match=r"tr.save: cannot save obj\['m'\] \(a function\)"):
        tr.save({"m": len}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"tr.save: dict key \(1, 2\) at obj is a tuple"):
        tr.save({(1, 2): 3}, tmp_path / "x.npz")
    plain = tmp_path / "plain.npz"  # a plain np.savez of arrays is accepted as a dict of them
    np.savez(plain, w=np.ones(2))
    assert list(tr.load(plain)) == ["w"]
    assert zipfile.is_zipfile(plain)


def _model():
    return nn.Sequential(nn.Embedding(7, 4), nn.Flatten(), nn.Linear(12, 8), nn.Tanh(), nn.LayerNorm(8),
                         nn.Linear(8, 3))


def _train(model, opt, sched, batches):
    for x, y in batches:
        loss = F.cross_entropy(model(tr.Tensor(x)), tr.Tensor(y), label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()


def test_checkpoint_resumes_training_bit_for_bit(tmp_path):
    rng = np.random.default_rng(0)
    batches = [(rng.integers(0, 7, (5, 3)), rng.integers(0, 3, 5)) for _ in range(8)]
    tr.manual_seed(0)
    model = _model()
    opt = optim.AdamW(model.parameters(), lr=0.05)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.7)
    _train(model, opt, sched, batches[:4])
    path = tmp_path / "run.npz"
    tr.save({"model": model.state_dict(), "optim": opt.state_dict(), "sched": sched.state_dict()}, path)
    _train(model, opt, sched, batches[4:])

    tr.manual_seed(123)  # different initial weights: everything must come from the checkpoint
    resumed = _model()
    opt2 = optim.AdamW(resumed.parameters(), lr=0.05)
    sched2 = optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.7)
    ck = tr.load(path)
    resumed.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["optim"])
    sched2.load_state_dict(ck["sched"])
    _train(resumed, opt2, sched2, batches[4:])
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert sched.get_last_lr() == sched2.get_last_lr()


def test_loading_into_a_model_of_another_shape(tmp_path):
    path = tmp_path / "m.npz"
    tr.save(nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2)).state_dict(), path)
    other = nn.Sequential(nn.Linear(8, 5), nn.ReLU(), nn.Linear(5, 2))
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.weight: copying a param with shape \(4, 8\) from "
                                           r"checkpoint, the shape in current model is \(5, 8\)"):
        other.load_state_dict(tr.load(path))
