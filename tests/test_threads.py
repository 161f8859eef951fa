"""Modes (grad mode, tag, detect_anomaly, record_grad_norms, use_primitives) are per thread and per asyncio task, and
backward() changes nothing another thread sees: models trained in concurrent threads give the numbers they give alone.
Overlaps are forced with Barriers and Events, never left to timing."""

import asyncio
import threading

import numpy as np
import pytest

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
from tinygrad_rnn import nn, optim

V, E, H, T, N, STEPS = 11, 6, 8, 5, 3, 4
TIMEOUT = 60


class CharModel(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.rnn = getattr(nn, cell)(E, H)
        self.out = nn.Linear(H, V)

    def forward(self, x):
        y, _ = self.rnn(self.emb(x))
        return self.out(y)


def _make(i):
    """Model i (its own seed, cell and data) and its optimizer."""
    tr.manual_seed(100 + i)
    model = CharModel(("LSTM", "GRU", "RNN", "LSTM")[i % 4])
    rng = np.random.default_rng(i)
    data = [(rng.integers(0, V, (T, N)), rng.integers(0, V, (T * N,))) for _ in range(STEPS)]
    return model, optim.Adam(model.parameters(), lr=0.01), data


def _train(model, opt, data, barrier=None):
    losses = []
    for x, y in data:
        if barrier is not None:
            barrier.wait(TIMEOUT)  # every thread is at the same step: their forward and backward overlap
        logits = model(tr.Tensor(x, dtype=tr.int64))
        loss = F.cross_entropy(logits.reshape(T * N, V), tr.Tensor(y, dtype=tr.int64))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, {k: v.copy() for k, v in model.state_dict().items()}


def _run_threads(targets):
    errors, threads = [], []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # reported in the main thread
                errors.append(e)
        return run

    for fn in targets:
        threads.append(threading.Thread(target=wrap(fn)))
    for th in threads:
        th.start()
    for th in threads:
        th.join(TIMEOUT)
    assert not any(th.is_alive() for th in threads), "a thread hung"
    if errors:
        raise errors[0]


def _same(a, b):
    assert a[0] == b[0]  # losses, bit for bit
    assert a[1].keys() == b[1].keys()
    for k in a[1]:
        np.testing.assert_array_equal(a[1][k], b[1][k], err_msg=k)


def test_four_threads_train_as_one_after_another():
    alone = [_train(*_make(i)) for i in range(4)]
    jobs = [_make(i) for i in range(4)]
    barrier, results = threading.Barrier(4), [None] * 4

    def job(i):
        return lambda: results.__setitem__(i, _train(*jobs[i], barrier=barrier))

    _run_threads([job(i) for i in range(4)])
    for i in range(4):
        _same(results[i], alone[i])
    assert tr.is_grad_enabled()


def test_no_grad_validation_thread_beside_training():
    reference = _train(*_make(0))
    model, opt, data = _make(0)
    val_model = _make(1)[0]
    inside, done, result, seen = threading.Event(), threading.Event(), [], []

    def validate():
        x = tr.Tensor(np.zeros((T, N), np.int64), dtype=tr.int64)
        with tr.no_grad():
            inside.set()
            while not done.is_set():  # inference the whole time the other thread trains
                y = val_model(x)
                seen.append(y.requires_grad or y.grad_fn is not None)

    def train():
        assert inside.wait(TIMEOUT)
        try:
            result.append(_train(model, opt, data))
        finally:
            done.set()

    _run_threads([validate, train])
    _same(result[0], reference)
    assert seen and not any(seen)
    assert tr.is_grad_enabled()


def test_overlapping_no_grad_blocks_restore():
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    checks = {}

    def a():
        with tr.no_grad():
            a_in.set()
            assert b_in.wait(TIMEOUT)
            checks["a inside"] = tr.is_grad_enabled()
        checks["a after"] = tr.is_grad_enabled()  # b is still inside its block
        a_out.set()

    def b():
        assert a_in.wait(TIMEOUT)
        with tr.no_grad():
            b_in.set()
            assert a_out.wait(TIMEOUT)
            checks["b inside after a left"] = tr.is_grad_enabled()
        checks["b after"] = tr.is_grad_enabled()

    _run_threads([a, b])
    assert checks == {"a inside": False, "a after": True, "b inside after a left": False, "b after": True}
    assert tr.is_grad_enabled()


def _lstm_nodes():
    """The graph-node names and tags an LSTM step makes in the calling thread, plus whether the anomaly and norm
    recording modes left their marks."""
    tr.manual_seed(0)
    lstm = nn.LSTM(3, 4)
    x = tr.randn(2, 2, 3, requires_grad=True)
    out, _ = lstm(x)
    out.backward(tr.randn(*out.shape))
    fn = out.grad_fn
    return {"name": fn.name, "tag": dict(fn.tag), "anomaly": "created_at" in fn.__dict__,
            "norms": fn.__dict__.get("grad_norms") is not None}


MODES = {
    "tag": (lambda: tr.tag(experiment="a"), lambda r: r["tag"].get("experiment") == "a"),
    "detect_anomaly": (tr.detect_anomaly, lambda r: r["anomaly"]),
    "record_grad_norms": (tr.record_grad_norms, lambda r: r["norms"]),
    "use_primitives": (tr.use_primitives, lambda r: r["name"] != "StackRuns"),
    "no_grad": (tr.no_grad, None),
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_modes_are_per_thread(mode):
    ctx, marked = MODES[mode]
    plain = _lstm_nodes()
    held, checked, out = threading.Event(), threading.Event(), {}

    def holder():
        with ctx():
            held.set()
            assert checked.wait(TIMEOUT)  # the other thread works while this one is inside the mode
            if marked is not None:
                out["holder"] = _lstm_nodes()
            out["holder grad"] = tr.is_grad_enabled()

    def other():
        assert held.wait(TIMEOUT)
        try:
            out["other"] = _lstm_nodes()
        finally:
            checked.set()

    _run_threads([holder, other])
    assert out["other"] == plain  # untouched by the mode the holder is in
    if marked is not None:
        assert marked(out["holder"]) and not marked(plain)
    assert out["holder grad"] == (mode != "no_grad")


def test_asyncio_tasks_see_their_own_modes():
    async def task(ctx, first, second, key, out):
        with ctx():
            first.set()
            await second.wait()  # the other task has entered its own mode meanwhile
            out[key] = (tr.is_grad_enabled(), dict(tr.autograd.current_tag()))
        out[key + " after"] = (tr.is_grad_enabled(), dict(tr.autograd.current_tag()))

    async def main():
        e1, e2, out = asyncio.Event(), asyncio.Event(), {}
        await asyncio.gather(task(tr.no_grad, e1, e2, "a", out), task(lambda: tr.tag(step=3), e2, e1, "b", out))
        return out

    out = asyncio.run(main())
    assert out == {"a": (False, {}), "b": (True, {"step": 3}), "a after": (True, {}), "b after": (True, {})}


def test_no_grad_decorator_in_two_threads():
    barrier, seen = threading.Barrier(2), []

    @tr.no_grad()
    def infer():
        barrier.wait(TIMEOUT)  # both threads are inside the same decorated function
        seen.append(tr.is_grad_enabled())
        barrier.wait(TIMEOUT)

    _run_threads([infer, infer])
    assert seen == [False, False] and tr.is_grad_enabled()


def test_set_grad_enabled_call_and_block():
    with tr.set_grad_enabled(False):
        assert not tr.is_grad_enabled()
    assert tr.is_grad_enabled()
    with tr.no_grad():
        tr.set_grad_enabled(True)  # as a call: sets the mode until the enclosing block restores its own
        assert tr.is_grad_enabled()
    assert tr.is_grad_enabled()
