# Whole-model checkpoints: tr.save(model) / tr.load under the safe_globals allowlist, PyTorch's nn.modules.* paths,
# and tampered files that must be refused without importing or calling anything (a marker file proves it).
import io
import json
import sys
import threading

import numpy as np
import pytest

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
from tinygrad_rnn import nn, optim
from tinygrad_rnn.serialization import UnsafeGlobalError

MARKER = {"path": None}


def write_marker(*args, **kwargs):
    """What an attacker would like a checkpoint to run: it leaves a file behind, so a test sees that it ran."""
    with open(MARKER["path"], "w") as f:
        f.write("ran")


@pytest.fixture
def marker(tmp_path):
    MARKER["path"] = tmp_path / "marker"
    yield MARKER["path"]
    MARKER["path"] = None


class WordModel(nn.Module):
    """Embedding -> dropout -> 2-layer LSTM -> GRU -> dropout -> decoder tied to the embedding."""

    def __init__(self, ntoken=11, nhid=6):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, nhid)
        self.drop = nn.Dropout(0.25)
        self.rnn = nn.LSTM(nhid, nhid, num_layers=2, dropout=0.2)
        self.gru = nn.GRU(nhid, nhid, batch_first=False)
        self.decoder = nn.Linear(nhid, ntoken)
        self.decoder.weight = self.encoder.weight
        self.ntoken, self.config = ntoken, {"tied": True, "sizes": (ntoken, nhid), "names": ["a", None, 2.5]}

    def forward(self, x):
        out, _ = self.rnn(self.drop(self.encoder(x)))
        out, _ = self.gru(out)
        return self.decoder(self.drop(out)).reshape(-1, self.ntoken)


class Evil(nn.Module):
    """A Module class that is never allowed: every way to construct it leaves the marker."""

    def __new__(cls, *args, **kwargs):
        write_marker()
        return super().__new__(cls)

    def __init__(self):
        write_marker()
        super().__init__()

    def __setstate__(self, state):
        write_marker()


def _data(rng, n=4):
    return [(rng.integers(0, 11, (5, 3)), rng.integers(0, 11, 15)) for _ in range(n)]


def _train(model, opt, batches, seed):
    tr.manual_seed(seed)  # the same dropout masks for both runs
    model.train()
    losses = []
    for x, y in batches:
        loss = F.cross_entropy(model(tr.Tensor(x)), tr.Tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_whole_model_round_trip_continues_training_identically(tmp_path):
    rng = np.random.default_rng(0)
    tr.manual_seed(0)
    model = WordModel()
    opt = optim.Adam(model.parameters(), lr=0.01)
    _train(model, opt, _data(rng), seed=1)
    path = tmp_path / "model.pt"
    tr.save({"model": model, "optim": opt.state_dict(), "epoch": 4}, path)
    with tr.serialization.safe_globals([WordModel]):
        ck = tr.load(path)
    loaded = ck["model"]
    assert type(loaded) is WordModel and ck["epoch"] == 4
    assert loaded.decoder.weight is loaded.encoder.weight  # still tied
    assert loaded.config == model.config and isinstance(loaded.config["sizes"], tuple)
    assert type(loaded.rnn) is nn.LSTM and loaded.rnn.dropout == 0.2 and loaded.drop.p == 0.25
    assert list(loaded.state_dict()) == list(model.state_dict())
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b, err_msg=name)
    x = tr.Tensor(rng.integers(0, 11, (7, 2)))
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(model(x).numpy(), loaded(x).numpy())

    opt2 = optim.Adam(loaded.parameters(), lr=0.01)
    opt2.load_state_dict(ck["optim"])
    more = _data(rng, 5)
    want, got = _train(model, opt, more, seed=7), _train(loaded, opt2, more, seed=7)
    assert want == got and len(set(want)) == 5
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert loaded.decoder.weight is loaded.encoder.weight


def test_user_class_must_be_allowed(tmp_path, marker):
    path = tmp_path / "m.npz"
    tr.save(WordModel(), path)
    with pytest.raises(UnsafeGlobalError, match=r"m.npz holds a test_checkpoint_modules.WordModel at obj, which is "
                                               r"not an allowed class.*safe_globals\(\[WordModel\]\)"):
        tr.load(path)
    import pickle  # the error is also what `except pickle.UnpicklingError` around torch.load expects

    with pytest.raises(pickle.UnpicklingError):
        tr.load(path, weights_only=True)
    # allowed for one block only, in this thread only
    with tr.serialization.safe_globals([WordModel]):
        assert type(tr.load(path)) is WordModel
        seen = []
        t = threading.Thread(target=lambda: seen.append(_try_load(path)))
        t.start(), t.join()
        assert seen == ["refused"]
    with pytest.raises(UnsafeGlobalError):
        tr.load(path)
    # allowed process-wide until cleared
    tr.serialization.add_safe_globals([WordModel])
    try:
        assert WordModel in tr.serialization.get_safe_globals()
        assert type(tr.load(path)) is WordModel
    finally:
        tr.serialization.clear_safe_globals()
    assert tr.serialization.get_safe_globals() == []
    # weights_only=False: the caller trusts the file, any existing Module class of that name (still no import)
    assert type(tr.load(path, weights_only=False)) is WordModel
    assert not marker.exists()


def _try_load(path):
    try:
        tr.load(path)
        return "loaded"
    except UnsafeGlobalError:
        return "refused"


def test_framework_modules_need_no_allowlist():
    model = nn.Sequential(nn.Embedding(5, 3), nn.LSTM(3, 4, bidirectional=True), nn.ModuleList([nn.Linear(8, 2)]),
                          nn.ModuleDict({"out": nn.LayerNorm(2)}), nn.RNNCell(2, 3), nn.GRUCell(3, 3),
                          nn.LSTMCell(3, 3), nn.Tanh(), nn.Dropout(0.1), nn.CrossEntropyLoss(label_smoothing=0.1))
    buf = io.BytesIO()
    tr.save([model, model[1]], buf)
    buf.seek(0)
    loaded, lstm = tr.load(buf)
    assert lstm is loaded[1] and repr(loaded) == repr(model)
    assert loaded[-1].label_smoothing == 0.1 and loaded[1].bidirectional is True


def test_pytorch_module_paths_are_the_same_classes():
    m = tr.nn.modules
    pairs = [(m.rnn.LSTM, nn.LSTM), (m.rnn.GRU, nn.GRU), (m.rnn.RNN, nn.RNN), (m.rnn.RNNCell, nn.RNNCell),
             (m.rnn.LSTMCell, nn.LSTMCell), (m.rnn.GRUCell, nn.GRUCell), (m.linear.Linear, nn.Linear),
             (m.linear.Identity, nn.Identity), (m.sparse.Embedding, nn.Embedding), (m.dropout.Dropout, nn.Dropout),
             (m.container.Sequential, nn.Sequential), (m.container.ModuleList, nn.ModuleList),
             (m.container.ModuleDict, nn.ModuleDict), (m.activation.Tanh, nn.Tanh), (m.activation.ReLU, nn.ReLU),
             (m.activation.Sigmoid, nn.Sigmoid), (m.activation.Softmax, nn.Softmax),
             (m.activation.LogSoftmax, nn.LogSoftmax), (m.normalization.LayerNorm, nn.LayerNorm),
             (m.module.Module, nn.Module), (m.loss.CrossEntropyLoss, nn.CrossEntropyLoss),
             (m.flatten.Flatten, nn.Flatten), (m.LSTM, nn.LSTM)]
    for ours, same in pairs:
        assert ours is same


def test_flatten_parameters_is_a_no_op():
    for layer in (nn.RNN(3, 4), nn.LSTM(3, 4, num_layers=2), nn.GRU(3, 4, bidirectional=True)):
        before = [(n, p, p.array) for n, p in layer.named_parameters()]
        assert layer.flatten_parameters() is None
        assert [(n, p, p.array) for n, p in layer.named_parameters()] == before


def test_what_cannot_be_saved(tmp_path):
    m = nn.Linear(2, 2)
    m.hook = lambda x: x
    with pytest.raises(TypeError, match=r"tr.save: cannot save obj.hook \(a function .*<lambda>; functions are "
                                        r"saved by name, so only module-level ones\)"):
        tr.save(m, tmp_path / "x.npz")
    m.hook = threading.Lock()
    with pytest.raises(TypeError, match=r"cannot save obj\[0\].hook \(a _thread.lock\)"):
        tr.save([m], tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"obj\[0\] \(a builtins.range\)"):
        tr.save((range(3),), tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def _rewrite(path, edit):
    """Change a checkpoint's JSON structure as an attacker would, keeping its arrays."""
    with np.load(path, allow_pickle=False) as z:
        entries = {k: z[k] for k in z.files}
    meta = json.loads(str(entries["__tinygrad_rnn_structure__"][()]))
    edit(meta["data"])
    entries["__tinygrad_rnn_structure__"] = np.array(json.dumps(meta))
    np.savez(path, **entries)


def _set_attr(state, name, value):
    state["dict"] = [p for p in state["dict"] if p[0] != name] + [[name, value]]


TAMPERS = {
    "class renamed to os:system": (lambda d: d.update(module="os:system"), UnsafeGlobalError, r"os.system at obj"),
    "class never imported": (lambda d: d.update(module="antigravity:Fly"), UnsafeGlobalError, "antigravity.Fly"),
    "a function as the class": (lambda d: d.update(module="test_checkpoint_modules:write_marker"), UnsafeGlobalError,
                                "write_marker"),
    "a Module class not allowed": (lambda d: d.update(module="test_checkpoint_modules:Evil"), UnsafeGlobalError,
                                   r"Evil at obj, which is not an allowed class"),
    "attribute that calls": (lambda d: _set_attr(d["state"], "x", {"call": "os:system", "args": ["touch x"]}),
                             ValueError, r"is corrupt: .*unknown entry \{'call'"),
    "attribute that is a class": (lambda d: _set_attr(d["state"], "x", {"module": "os:system", "id": 99,
                                                                        "state": {"dict": []}}),
                                  UnsafeGlobalError, "os.system at obj.x"),
    "parameters not parameters": (lambda d: _set_attr(d["state"], "_parameters", {"dict": [["w", "rm -rf"]]}),
                                  ValueError, r"obj._parameters is not a dict of Parameters"),
    "dangling reference": (lambda d: _set_attr(d["state"], "x", {"ref": 1234}), ValueError,
                           "refers to an object that was not defined"),
    "missing array": (lambda d: _set_attr(d["state"], "x", {"array": "zzz"}), ValueError, "names a missing array"),
    "training not a bool": (lambda d: _set_attr(d["state"], "training", "yes"), ValueError,
                            "obj.training is not a bool"),
}


@pytest.mark.parametrize("case", list(TAMPERS))
def test_tampered_files_are_refused_and_run_nothing(tmp_path, marker, case):
    edit, exc, pattern = TAMPERS[case]
    path = tmp_path / "m.npz"
    tr.save(nn.Linear(3, 2), path)
    _rewrite(path, edit)
    before = set(sys.modules)
    trusting = [{}] if case == "a Module class not allowed" else [{"weights_only": False}]  # see the next test
    for kwargs in [{}, {"weights_only": True}] + trusting:
        with tr.serialization.safe_globals([write_marker, (write_marker, "os.system")]):
            with pytest.raises(exc, match=pattern):
                tr.load(path, **kwargs)
    assert set(sys.modules) == before  # nothing was imported
    assert not marker.exists()  # nothing was called


def test_weights_only_false_still_refuses_functions_and_unknown_classes(tmp_path, marker):
    path = tmp_path / "m.npz"
    tr.save(nn.Linear(3, 2), path)
    _rewrite(path, lambda d: d.update(module="test_checkpoint_modules:Evil"))
    evil = tr.load(path, weights_only=False)  # the user said they trust the file: Evil is a Module class here
    assert type(evil) is Evil and marker.exists()  # ...and its __new__ and __setstate__ ran, as unpickling runs them
    marker.unlink()
    with tr.serialization.safe_globals([(nn.Linear, "test_checkpoint_modules.Evil")]):
        assert type(tr.load(path)) is nn.Linear  # an alias given by the caller wins over the recorded name
    assert not marker.exists()


def test_functions_kept_as_attributes_load_only_when_allowed(tmp_path, marker):
    m = nn.Linear(3, 3)
    m.activation = F.relu  # as PyTorch layers keep `self.activation = F.relu`
    m.callback = write_marker
    path = tmp_path / "m.npz"
    tr.save(m, path)
    for kwargs in ({}, {"weights_only": False}):  # functions must be listed even when the file is trusted
        with pytest.raises(UnsafeGlobalError, match=r"refers to the function tinygrad_rnn.nn.functional.relu at "
                                                    r"obj.activation, which is not allowed"):
            tr.load(path, **kwargs)
    with tr.serialization.safe_globals([F.relu]):
        with pytest.raises(UnsafeGlobalError, match=r"test_checkpoint_modules.write_marker at obj.callback"):
            tr.load(path)
        with tr.serialization.safe_globals([write_marker]):
            out = tr.load(path)
    assert out.activation is F.relu and out.callback is write_marker
    assert not marker.exists()  # referred to, never called
    x = tr.Tensor(np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32))
    np.testing.assert_array_equal(out.activation(out(x)).numpy(), m.activation(m(x)).numpy())


def test_a_tensor_entry_holding_text_is_refused(tmp_path):
    path = tmp_path / "t.npz"
    tr.save({"w": tr.ones(2)}, path)
    with np.load(path) as z:
        entries = {k: z[k] for k in z.files}
    name = [k for k in entries if k != "__tinygrad_rnn_structure__"][0]
    entries[name] = np.array(["rm", "-rf"])
    np.savez(path, **entries)
    with pytest.raises(ValueError, match="is corrupt: .*the tensor at obj\\['w'\\] has bad flags"):
        tr.load(path)


def test_module_attributes_missing_from_an_older_file_get_their_defaults(tmp_path):
    path = tmp_path / "m.npz"
    tr.save(nn.Linear(3, 2), path)
    _rewrite(path, lambda d: d["state"].update(dict=[p for p in d["state"]["dict"] if p[0] in ("_parameters",
                                                                                              "in_features",
                                                                                              "out_features")]))
    out = tr.load(path)
    assert out.training is True and out._buffers == {} and out._modules == {}
    assert out(tr.zeros(1, 3)).shape == (1, 2)


def test_load_arguments():
    with pytest.raises(TypeError, match="weights_only must be True, False or None"):
        tr.load(io.BytesIO(), weights_only="yes")
    with pytest.raises(ValueError, match="pickle_module is not supported"):
        tr.load(io.BytesIO(), pickle_module=json)
    with pytest.raises(TypeError, match="safe_globals: expected classes or functions, got 3"):
        with tr.serialization.safe_globals([3]):
            pass


def test_buffers_shared_arrays_and_cycles(tmp_path):
    m = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
    m.register_buffer("steps", tr.Tensor([3]))
    m.register_buffer("scratch", tr.Tensor(np.ones(2)), persistent=False)
    buf = io.BytesIO()
    tr.save(m, buf)
    buf.seek(0)
    out = tr.load(buf)
    assert list(out.state_dict()) == list(m.state_dict()) == ["steps", "0.weight", "0.bias"]
    assert out.scratch.numpy().tolist() == [1.0, 1.0] and out._non_persistent == {"scratch"}
    # a state_dict's tied names share one array: stored once, loaded as one array
    tied = nn.Linear(4, 4)
    holder = nn.Sequential(tied, tied)
    sd = holder.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias"] and sd["1.weight"] is sd["0.weight"]
    tr.save(sd, tmp_path / "sd.npz")
    with np.load(tmp_path / "sd.npz") as z:
        assert len(z.files) == 3  # the structure and two arrays
    back = tr.load(tmp_path / "sd.npz")
    assert back["1.weight"] is back["0.weight"] and list(back) == list(sd)
    # a crafted file that makes a module its own child is refused (state_dict() would never end)
    path = tmp_path / "cycle.npz"
    tr.save(nn.Sequential(nn.Linear(2, 2)), path)

    def make_cycle(d):
        modules = [p for p in d["state"]["dict"] if p[0] == "_modules"][0][1]
        modules["odict"].append(["loop", {"ref": d["id"]}])

    _rewrite(path, make_cycle)
    with pytest.raises(ValueError, match="is corrupt: .*a Sequential module contains itself"):
        tr.load(path)


# Every public layer saved whole and loaded back without any allowlist. A new nn class needs a row here.
LAYERS = {
    "Module": lambda: nn.Module(),
    "Sequential": lambda: nn.Sequential(nn.Linear(2, 3), nn.ReLU()),
    "ModuleList": lambda: nn.ModuleList([nn.Tanh(), nn.Sigmoid()]),
    "ModuleDict": lambda: nn.ModuleDict({"a": nn.Identity()}),
    "Linear": lambda: nn.Linear(3, 2, bias=False),
    "Embedding": lambda: nn.Embedding(6, 3, padding_idx=0),
    "Dropout": lambda: nn.Dropout(0.3),
    "LayerNorm": lambda: nn.LayerNorm((2, 3), eps=1e-3),
    "Tanh": lambda: nn.Tanh(),
    "Sigmoid": lambda: nn.Sigmoid(),
    "ReLU": lambda: nn.ReLU(),
    "Softmax": lambda: nn.Softmax(dim=1),
    "LogSoftmax": lambda: nn.LogSoftmax(dim=-1),
    "Identity": lambda: nn.Identity(),
    "Flatten": lambda: nn.Flatten(0, -1),
    "CrossEntropyLoss": lambda: nn.CrossEntropyLoss(weight=tr.Tensor([1.0, 2.0, 3.0]), label_smoothing=0.1),
    "NLLLoss": lambda: nn.NLLLoss(ignore_index=1),
    "MSELoss": lambda: nn.MSELoss(reduction="sum"),
    "BCEWithLogitsLoss": lambda: nn.BCEWithLogitsLoss(pos_weight=tr.Tensor([2.0])),
    "RNNCell": lambda: nn.RNNCell(3, 4, nonlinearity="relu"),
    "LSTMCell": lambda: nn.LSTMCell(3, 4),
    "GRUCell": lambda: nn.GRUCell(3, 4),
    "RNN": lambda: nn.RNN(3, 4, num_layers=2, bidirectional=True),
    "LSTM": lambda: nn.LSTM(3, 4, proj_size=2, batch_first=True),
    "GRU": lambda: nn.GRU(3, 4, bias=False),
    "Bidirectional": lambda: nn.Bidirectional(nn.GRU(3, 4), merge_mode="sum"),
}


def _public_layers():
    return [n for n in nn.__all__ if isinstance(getattr(nn, n), type) and issubclass(getattr(nn, n), nn.Module)]


def test_every_public_layer_has_a_row():
    missing = sorted(set(_public_layers()) - set(LAYERS))
    assert not missing, f"add a row to LAYERS for {missing}"


@pytest.mark.parametrize("name", _public_layers())
def test_every_public_layer_saves_whole(name):
    tr.manual_seed(0)
    layer = LAYERS[name]()
    buf = io.BytesIO()
    tr.save(layer, buf)
    buf.seek(0)
    out = tr.load(buf)
    assert type(out) is type(layer) and repr(out) == repr(layer)
    assert list(out.state_dict()) == list(layer.state_dict())
    for (k, a), b in zip(layer.state_dict().items(), out.state_dict().values(), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b), k
    assert {k: v for k, v in vars(out).items() if not k.startswith("_")}.keys() == \
        {k: v for k, v in vars(layer).items() if not k.startswith("_")}.keys()


def _general_checkpoint(torch, path):
    """PyTorch's "saving and loading a general checkpoint" recipe, written once for torch and for tinygrad_rnn."""

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.GRU(3, 5, batch_first=True)
            self.fc = torch.nn.Linear(5, 2)

        def forward(self, x):
            out, h = self.rnn(x)
            return self.fc(out[:, -1])

    torch.manual_seed(0)
    x, y = torch.randn(4, 6, 3), torch.tensor([0, 1, 1, 0])
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(3):  # noqa: B007  (the recipe saves the last epoch)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": loss}, path)

    model2 = Net()
    optimizer2 = torch.optim.SGD(model2.parameters(), lr=0.1, momentum=0.9)
    checkpoint = torch.load(path, weights_only=True)
    model2.load_state_dict(checkpoint["model_state_dict"])
    optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
    model2.train()
    resumed = []
    for m, opt in ((model, optimizer), (model2, optimizer2)):
        loss2 = torch.nn.functional.cross_entropy(m(x), y)
        opt.zero_grad()
        loss2.backward()
        opt.step()
        resumed.append(torch.nn.functional.cross_entropy(m(x), y).item())
    return checkpoint["epoch"], checkpoint["loss"].item(), loss.item(), resumed


@pytest.mark.parametrize("lib", ["tinygrad_rnn", "torch"])
def test_general_checkpoint_recipe(tmp_path, lib):
    module = tr if lib == "tinygrad_rnn" else pytest.importorskip("torch")
    epoch, saved_loss, loss, (a, b) = _general_checkpoint(module, tmp_path / "ck.pt")
    assert epoch == 2 and saved_loss == loss and a == b


class Cached(nn.Module):
    """Keeps a cache it does not want saved, and rebuilds it on load: __getstate__/__setstate__ as with pickle."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.cache = {"big": np.ones(1000)}

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "cache"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.cache = {"rebuilt": True}


def test_getstate_and_setstate_are_honoured(tmp_path):
    m = Cached()
    tr.save(m, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz") as z:
        assert all(z[k].size < 1000 for k in z.files if k != "__tinygrad_rnn_structure__")
    with tr.serialization.safe_globals([Cached]):
        out = tr.load(tmp_path / "c.npz")
    assert out.cache == {"rebuilt": True} and type(out.lin) is nn.Linear
    np.testing.assert_array_equal(out.lin.weight.numpy(), m.lin.weight.numpy())


def _nodes(data, path=()):
    yield path, data
    if isinstance(data, list):
        for i, v in enumerate(data):
            yield from _nodes(v, path + (i,))
    elif isinstance(data, dict):
        for k, v in data.items():
            yield from _nodes(v, path + (k,))


def test_random_damage_to_the_structure_only_raises_valueerror(tmp_path, marker):
    """300 random edits of a whole-model checkpoint's JSON: each loads or raises ValueError, imports and calls
    nothing."""
    import copy
    import random

    model = nn.Sequential(nn.Embedding(5, 3), nn.LSTM(3, 3), nn.Linear(3, 5))
    path = tmp_path / "m.npz"
    tr.save({"model": model, "step": 3, "t": (1, [2.0])}, path)
    with np.load(path) as z:
        entries = {k: z[k] for k in z.files}
    meta = json.loads(str(entries["__tinygrad_rnn_structure__"][()]))
    nodes = list(_nodes(meta["data"]))
    rnd = random.Random(0)
    junk = [None, 0, -1, 1.5, "x", "a0", [], {}, [1, 2], {"ref": 0}, {"array": "a1"}, {"dict": 3}, {"tuple": {}},
            {"module": "tinygrad_rnn.nn.layers:Linear", "id": 0, "state": {"dict": []}}, {"function": "os:system"},
            {"dtype": "object"}, {"device": "tpu"}, {"set": [[1]]}, {"scalar": "a0"}, True]
    before = set(sys.modules)
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(300):
        data = copy.deepcopy(meta["data"])
        path_to, _node = rnd.choice(nodes)
        if not path_to:
            data = rnd.choice(junk)
        else:
            parent = data
            for key in path_to[:-1]:
                parent = parent[key]
            if isinstance(parent, dict) and rnd.random() < 0.3:
                del parent[path_to[-1]]
            else:
                parent[path_to[-1]] = copy.deepcopy(rnd.choice(junk))
        entries["__tinygrad_rnn_structure__"] = np.array(json.dumps({**meta, "data": data}))
        buf = io.BytesIO()
        np.savez(buf, **entries)
        buf.seek(0)
        try:
            tr.load(buf)
            outcomes["loaded"] += 1
        except ValueError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 100 and set(sys.modules) == before and not marker.exists()
