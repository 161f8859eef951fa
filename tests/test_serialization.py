# tr.save / tr.load: round trips of nested checkpoints, no pickle, atomic writes, clear errors, and a model +
# optimizer checkpoint that resumes training bit for bit.
import io
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
    with pytest.raises(TypeError, match=r"tr.save: cannot save obj\['m'\] \(a builtins.generator\)"):
        tr.save({"m": (i for i in range(2))}, tmp_path / "x.npz")
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


# ----- exact round trips, file objects, refusals
def test_exact_round_trip_of_types_and_order(tmp_path):
    from collections import Counter, OrderedDict

    shared = tr.Tensor(np.arange(3.0), requires_grad=True)
    p = nn.Parameter(np.ones((2, 2), np.float32))
    obj = OrderedDict(z=1, a=1.0, m=[1, (2, 3.5), [True, None]], s={1, "b"}, t=(), e=[], c=Counter([3, 3, 5]),
                      d={"k": {"x": (1,)}, 2: "two", 1.5: -0.0, None: float("nan"), True: float("-inf")},
                      n64=np.float64(1.25), i32=np.int32(7), b=np.bool_(True), big=2**70,
                      arrays=[np.arange(4, dtype=np.int32), np.zeros((0, 3), np.float16), np.array(True)],
                      tensors=[shared, shared, p, tr.tensor([1, 2]), tr.tensor([True]), (shared * 3).sum()])
    buf = io.BytesIO()
    tr.save(obj, buf)
    buf.seek(0)
    out = tr.load(buf)
    assert type(out) is OrderedDict and list(out) == list(obj)
    assert type(out["z"]) is int and type(out["a"]) is float and out["big"] == 2**70
    assert out["m"] == [1, (2, 3.5), [True, None]] and type(out["m"][1]) is tuple and type(out["m"][2]) is list
    assert out["s"] == {1, "b"} and out["t"] == () and out["e"] == []
    assert type(out["c"]) is Counter and out["c"] == Counter({3: 2, 5: 1})
    d = out["d"]
    assert list(d) == ["k", 2, 1.5, None, True] and d["k"] == {"x": (1,)} and np.isnan(d[None])
    assert str(d[1.5]) == "-0.0" and d[True] == float("-inf")
    assert type(out["n64"]) is np.float64 and type(out["i32"]) is np.int32 and type(out["b"]) is np.bool_
    for a, b in zip(obj["arrays"], out["arrays"], strict=True):
        assert type(b) is np.ndarray and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    t0, t1, tp, ti, tb, loss = out["tensors"]
    assert loss.item() == 9.0 and loss.requires_grad and loss.grad_fn is None  # a result loads as a leaf, as in torch
    assert t0 is t1 and type(t0) is tr.Tensor and t0.requires_grad and t0.grad is None
    assert type(tp) is nn.Parameter and tp.requires_grad and tp.dtype == tr.float32
    assert ti.dtype == tr.int64 and not ti.requires_grad and tb.dtype == tr.bool_


def test_paths_and_file_objects(tmp_path):
    sd = {"w": np.arange(6.0).reshape(2, 3)}
    for f in (str(tmp_path / "a.pt"), tmp_path / "b.pt"):
        tr.save(sd, f)
        assert np.array_equal(tr.load(f)["w"], sd["w"])
    assert sorted(os.listdir(tmp_path)) == ["a.pt", "b.pt"]  # the exact name, no .npz added, no temp left
    with open(tmp_path / "c.pt", "wb") as f:
        tr.save(sd, f)
    with open(tmp_path / "c.pt", "rb") as f:
        assert np.array_equal(tr.load(f)["w"], sd["w"])

    class Stream:  # read() only: no seek, like a socket or a pipe
        def __init__(self, data):
            self.data = data

        def read(self, n=-1):
            out, self.data = self.data, b""
            return out

    assert np.array_equal(tr.load(Stream((tmp_path / "c.pt").read_bytes()))["w"], sd["w"])
    with open(tmp_path / "d.txt", "w") as f, pytest.raises(TypeError, match="expected a binary file object"):
        tr.save(sd, f)
    with pytest.raises(TypeError, match=r"tr.load: expected a path \(str or os.PathLike\) or a binary file object"):
        tr.load(3)


def test_old_format_still_loads(tmp_path):
    path = tmp_path / "v1.npz"
    structure = '{"format": "tinygrad_rnn.checkpoint/1", "data": {"dict": [["w", {"array": "a0"}], ["e", 3]]}}'
    np.savez(path, __tinygrad_rnn_structure__=np.array(structure), a0=np.ones(2))
    out = tr.load(path)
    assert out["e"] == 3 and np.array_equal(out["w"], np.ones(2))


class _Boom:
    """Unpickling this calls write_marker: the payload a malicious pickle carries."""

    def __reduce__(self):
        return (_write_marker, (os.environ["TR_TEST_MARKER"],))


def _write_marker(path):
    with open(path, "w") as f:
        f.write("ran")


def test_bad_files_are_refused_and_never_unpickled(tmp_path, monkeypatch):
    import pickle

    marker = tmp_path / "marker"
    monkeypatch.setenv("TR_TEST_MARKER", str(marker))
    good = tmp_path / "good.npz"
    tr.save({"w": np.random.default_rng(0).standard_normal((50, 50)), "epoch": 3}, good)
    data = good.read_bytes()
    files = {
        "truncated.npz": (data[: len(data) // 2], r"not a readable checkpoint \(truncated or damaged\?\)"),
        "header_only.npz": (data[:30], "not a readable checkpoint"),
        "random.npz": (np.random.default_rng(1).bytes(4096), "not a tinygrad_rnn checkpoint .*it starts with"),
        "empty.npz": (b"", "not a tinygrad_rnn checkpoint"),
        "pickle.pt": (pickle.dumps({"w": _Boom()}), "holds pickled Python objects, which tinygrad_rnn never loads"),
        "pickle0.pt": (pickle.dumps(_Boom(), protocol=0), "not a tinygrad_rnn checkpoint"),
    }
    for name, (content, _) in files.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "objects.npy", np.array([_Boom()], dtype=object), allow_pickle=True)
    files["objects.npy"] = (None, "holds pickled Python objects")
    np.savez(tmp_path / "objects.npz", w=np.ones(2), x=np.array([_Boom()], dtype=object))
    files["objects.npz"] = (None, "holds pickled Python objects")
    for name, (_, pattern) in files.items():
        with pytest.raises(ValueError, match=f"tr.load: .*{name} {pattern}" if "holds" in pattern else pattern):
            tr.load(tmp_path / name)
        with open(tmp_path / name, "rb") as f, pytest.raises(ValueError):
            tr.load(f)
    assert not marker.exists()
    pickle.loads((tmp_path / "pickle.pt").read_bytes())  # the payload is real: unpickling it does write the marker
    assert marker.exists()


def test_pytorch_checkpoint_file_is_refused_with_advice(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "t.pt")
    with pytest.raises(ValueError, match=r"t.pt looks like a PyTorch checkpoint .* never unpickles; load it with"):
        tr.load(tmp_path / "t.pt")


def test_save_errors_name_the_users_path(tmp_path):
    target = tmp_path / "missing_folder" / "ck.npz"
    with pytest.raises(FileNotFoundError, match=r"tr.save: cannot write .*missing_folder/ck.npz: the folder "
                                                r".*missing_folder does not exist"):
        tr.save({"a": 1}, target)
    (tmp_path / "adir").mkdir()
    with pytest.raises(IsADirectoryError, match=r"tr.save: cannot write .*adir"):
        tr.save({"a": 1}, tmp_path / "adir")
    assert sorted(os.listdir(tmp_path)) == ["adir"]  # no temp left behind by the failed saves
    with pytest.raises(IsADirectoryError, match=r"tr.load: .*adir is a folder, not a checkpoint file"):
        tr.load(tmp_path / "adir")
    with pytest.raises(ValueError, match="tr.save: the path is empty"):
        tr.save({}, "")
    locked = tmp_path / "locked.npz"
    tr.save({"a": 1}, locked)
    os.chmod(locked, 0)
    try:
        if os.geteuid() != 0:  # root reads anything
            with pytest.raises(PermissionError, match=r"tr.load: cannot read .*locked.npz: Permission denied"):
                tr.load(locked)
    finally:
        os.chmod(locked, 0o644)


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_file_mode_follows_the_umask_like_np_savez(tmp_path, umask):
    old = os.umask(umask)
    try:
        tr.save({"a": np.ones(2)}, tmp_path / "ours.npz")
        np.savez(tmp_path / "numpy.npz", a=np.ones(2))
    finally:
        os.umask(old)
    ours, theirs = (os.stat(tmp_path / n).st_mode & 0o777 for n in ("ours.npz", "numpy.npz"))
    assert ours == theirs == 0o666 & ~umask


def test_one_fixed_temp_name_reused_after_a_crash(tmp_path):
    from tinygrad_rnn.serialization.files import temp_path

    path = tmp_path / "ck.npz"
    tmp = temp_path(path)
    assert os.path.basename(tmp) == ".ck.npz.tmp" and os.path.dirname(tmp) == str(tmp_path)
    with open(tmp, "wb") as f:  # what a save killed half-way leaves
        f.write(b"PK half a checkpoint")
    tr.save({"a": np.ones(3)}, path)
    assert os.listdir(tmp_path) == ["ck.npz"]
    assert np.array_equal(tr.load(path)["a"], np.ones(3))


def test_concurrent_saves_to_one_path_never_mix(tmp_path):
    import threading

    path = tmp_path / "ck.npz"
    big = {i: np.full((200, 200), float(i)) for i in range(8)}
    errors = []

    def saver(i):
        try:
            for _ in range(3):
                tr.save({"who": i, "w": big[i]}, path)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=saver, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    out = tr.load(path)
    assert np.array_equal(out["w"], big[out["who"]])
    assert os.listdir(tmp_path) == ["ck.npz"]


def test_map_location(tmp_path):
    path = tmp_path / "ck.npz"
    tr.save({"w": tr.ones(2)}, path)
    here = str(tr.devices.ACTIVE)
    for where in (None, here, tr.device(here), {"cuda:0": here}, "cpu"):
        assert tr.load(path, map_location=where)["w"].numpy().tolist() == [1.0, 1.0]
    if tr.devices.ACTIVE.type == "cpu":
        with pytest.raises(RuntimeError, match=r"tr.load: device 'cuda' needs the CuPy backend.*TINYGRAD_RNN_GPU=1"):
            tr.load(path, map_location="cuda")
    with pytest.raises(TypeError, match="tr.load: map_location as a function is not supported"):
        tr.load(path, map_location=lambda storage, loc: storage)


def test_saves_where_the_file_system_has_no_locks(tmp_path, monkeypatch):
    import errno

    from tinygrad_rnn.serialization import files

    if files.fcntl is None:
        pytest.skip("no fcntl on this platform")

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(files.fcntl, "flock", no_locks)
    tr.save({"a": np.ones(2)}, tmp_path / "ck.npz")
    assert np.array_equal(tr.load(tmp_path / "ck.npz")["a"], np.ones(2)) and os.listdir(tmp_path) == ["ck.npz"]


def test_dtypes_and_devices_kept_as_settings_round_trip():
    x = tr.ones(2, dtype=tr.float64)
    obj = {"f32": tr.float32, "f64": tr.float64, "i64": tr.int64, "b": tr.bool_, "x.dtype": x.dtype,
           "np": np.dtype("int32"), "np16": np.float16, "devices": [tr.device("cpu"), tr.device("cuda", 0)]}
    buf = io.BytesIO()
    tr.save(obj, buf)
    buf.seek(0)
    out = tr.load(buf)
    assert out["f32"] is tr.float32 and out["f64"] is tr.float64 and out["i64"] is tr.int64 and out["b"] is tr.bool_
    assert out["x.dtype"] == x.dtype and tr.ones(1, dtype=out["x.dtype"]).dtype == tr.float64
    assert out["np"] == np.dtype("int32") and out["np16"] == np.float16
    assert out["devices"] == [tr.device("cpu"), tr.device("cuda:0")] and isinstance(out["devices"][0], tr.device)
