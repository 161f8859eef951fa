#!/usr/bin/env bash
# One prepared GPU check: install CuPy if missing, run the op, engine, tensor and recurrent tests on the CuPy backend
# (TINYGRAD_RNN_GPU=1), compare one LSTM + Linear training step on CuPy with the NumPy backend (same weights; loss,
# grads and updated weights within 1e-4 in float32), run benchmarks/bench_gpu.py (the char-LM step on the GPU, on the
# CPU and in PyTorch CUDA at four sizes), and print a summary. Everything goes to $OUT (default: a temporary folder):
# gpu_check.log and bench_gpu.json. Usage: bash benchmarks/gpu_check.sh [pytest args replacing the default tests]
# Dry run without a GPU: GPU_CHECK_DEVICE=strict (the array-api-strict stand-in plays CuPy; nothing is installed).
# BENCH=0 skips the benchmark; BENCH_ARGS adds bench_gpu.py options (e.g. "--cells lstm --budget 3").
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_check.log") 2>&1
PY=${PYTHON:-python3}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-420}
DEV=${GPU_CHECK_DEVICE:-1}            # the TINYGRAD_RNN_GPU value under test: 1 (CuPy) or strict (dry run)
EXPECT=$([ "$DEV" = "strict" ] && echo strict || echo cupy)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

gpu="none"; cupy_ver="none"; suite="not run"; step="not run"; status=0

if command -v nvidia-smi >/dev/null 2>&1; then
  gpu=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | head -n 1)
fi
if [ "$DEV" = "strict" ]; then
  cupy_ver="not used (dry run on the strict stand-in)"
elif ! "$PY" -c "import cupy" >/dev/null 2>&1; then
  echo "gpu_check: CuPy missing; installing cupy-cuda12x"
  "$PY" -m pip install -q "cupy-cuda12x>=13" || echo "gpu_check: pip install cupy-cuda12x failed (offline?)"
fi
if [ "$DEV" = "strict" ]; then
  :
elif cupy_ver=$("$PY" -c "import cupy; cupy.cuda.runtime.getDeviceCount(); print(cupy.__version__, int((cupy.arange(4) ** 2).sum()))" 2>"$WORK/cupy.err"); then
  [ "${cupy_ver##* }" = "14" ] || { echo "gpu_check: CuPy smoke test computed ${cupy_ver##* }, expected 14"; status=1; }
  cupy_ver=${cupy_ver% *}
else
  echo "gpu_check: CuPy cannot use a GPU here:"; tail -n 3 "$WORK/cupy.err"
  cupy_ver="unusable"; status=1
fi
missing=$("$PY" -c "
import importlib.util as u
print(' '.join(m for m in ('pytest', 'hypothesis', 'array_api_strict') if u.find_spec(m) is None))")
if [ -n "$missing" ]; then
  echo "gpu_check: installing test dependencies: $missing"
  [ "$DEV" = "strict" ] || "$PY" -m pip install -q -e ".[test]" >/dev/null 2>&1 || "$PY" -m pip install -q pytest hypothesis array-api-strict \
    || echo "gpu_check: could not install $missing; tests that need them will error"
fi

if [ "$cupy_ver" != "unusable" ]; then
  # Tests marked no_strict use host NumPy arrays on purpose: they are skipped on device backends, as on strict.
  echo "== test suite with TINYGRAD_RNN_GPU=$DEV =="
  TESTS=("$@")
  [ ${#TESTS[@]} -gt 0 ] || TESTS=(tests/test_ops.py tests/test_engine.py tests/test_tensor.py tests/test_tensor_api.py
                                   tests/test_devices.py tests/test_recurrent_core.py tests/test_recurrent_paths.py
                                   tests/test_recurrent_lengths.py tests/test_recurrent_torch.py tests/test_workspace.py)
  TINYGRAD_RNN_GPU=$DEV timeout "$SUITE_TIMEOUT" "$PY" -m pytest -o addopts="" -q -p no:cacheprovider -m "not slow and not no_strict" \
    "${TESTS[@]}" 2>&1 | tee "$WORK/suite.log" | tail -n 25
  rc=${PIPESTATUS[0]}
  summary=$(grep -E "(passed|failed|error)" "$WORK/suite.log" | tail -n 1)
  if [ "$rc" -eq 0 ]; then suite="PASS ($summary)"; elif [ "$rc" -eq 124 ]; then suite="TIMEOUT after ${SUITE_TIMEOUT}s"
  else suite="FAIL rc=$rc ($summary)"; fi
  [ "$rc" -eq 0 ] || status=1

  echo "== one LSTM training step: $EXPECT vs NumPy =="
  cat >"$WORK/lstm_step.py" <<'PYEOF'
"""Run one LSTM + Linear training step from saved weights and save loss, grads and updated weights."""
import sys

import numpy as np

import tinygrad_rnn as tr

try:
    from tinygrad_rnn import nn
    import tinygrad_rnn.nn.functional as F
    _ = nn.LSTM, nn.Linear, F.cross_entropy
except (ImportError, AttributeError) as e:
    print(f"SKIP: nn.LSTM/nn.Linear/F.cross_entropy not available ({e})")
    sys.exit(3)
try:
    from tinygrad_rnn import optim
    SGD = optim.SGD
except (ImportError, AttributeError):
    SGD = None

T, N, I, H, C = 12, 4, 8, 16, 5


def build():
    tr.manual_seed(0)
    return nn.LSTM(I, H, num_layers=2), nn.Linear(H, C)


def main(mode, weights, out):
    lstm, head = build()
    if mode == "init":  # draw weights and data once, on the host
        rng = np.random.default_rng(0)
        arrays = {f"lstm.{k}": v for k, v in lstm.state_dict().items()}
        arrays.update({f"head.{k}": v for k, v in head.state_dict().items()})
        arrays["_x"] = rng.standard_normal((T, N, I)).astype(np.float32)
        arrays["_y"] = rng.integers(0, C, N).astype(np.int64)
        np.savez(weights, **arrays)
        return
    saved = np.load(weights)
    lstm.load_state_dict({k[5:]: saved[k] for k in saved.files if k.startswith("lstm.")})
    head.load_state_dict({k[5:]: saved[k] for k in saved.files if k.startswith("head.")})
    params = [("lstm." + n, p) for n, p in lstm.named_parameters()]
    params += [("head." + n, p) for n, p in head.named_parameters()]
    out_seq, _ = lstm(tr.Tensor(saved["_x"], dtype=tr.float32))
    loss = F.cross_entropy(head(out_seq[-1]), tr.Tensor(saved["_y"]))
    loss.backward()
    result = {"_loss": np.array(loss.item()), "_backend": np.array(tr.backend.NAME)}
    result.update({"grad." + n: p.grad.numpy() for n, p in params})
    if SGD is not None:
        SGD([p for _, p in params], lr=0.1).step()
        result.update({"new." + n: p.numpy() for n, p in params})
    np.savez(out, **result)


if __name__ == "__main__":
    main(*sys.argv[1:4])
PYEOF
  "$PY" "$WORK/lstm_step.py" init "$WORK/w.npz" - >"$WORK/init.log" 2>&1
  rc=$?
  if [ "$rc" -eq 3 ]; then
    step="SKIPPED ($(tail -n 1 "$WORK/init.log"))"
  elif [ "$rc" -ne 0 ]; then
    step="FAIL: could not build the model"; status=1; tail -n 5 "$WORK/init.log"
  else
    env -u TINYGRAD_RNN_GPU "$PY" "$WORK/lstm_step.py" run "$WORK/w.npz" "$WORK/cpu.npz" \
      && TINYGRAD_RNN_GPU=$DEV "$PY" "$WORK/lstm_step.py" run "$WORK/w.npz" "$WORK/gpu.npz"
    if [ $? -ne 0 ]; then
      step="FAIL: the training step raised"; status=1
    else
      if step=$("$PY" - "$WORK/cpu.npz" "$WORK/gpu.npz" "$EXPECT" <<'PYEOF'
import sys

import numpy as np

cpu, gpu = np.load(sys.argv[1]), np.load(sys.argv[2])
assert str(cpu["_backend"]) == "numpy" and str(gpu["_backend"]) == sys.argv[3], (cpu["_backend"], gpu["_backend"])
assert set(cpu.files) == set(gpu.files), set(cpu.files) ^ set(gpu.files)
worst, where = 0.0, ""
for k in sorted(cpu.files):
    if k == "_backend":
        continue
    a, b = cpu[k].astype(np.float64), gpu[k].astype(np.float64)
    err = float(np.max(np.abs(a - b) / (1.0 + np.abs(a)))) if a.size else 0.0
    if err > worst:
        worst, where = err, k
n_grads = sum(k.startswith("grad.") for k in cpu.files)
updated = any(k.startswith("new.") for k in cpu.files)
verdict = "PASS" if worst <= 1e-4 else "FAIL"
print(f"{verdict}: loss {float(cpu['_loss']):.6f} (numpy) vs {float(gpu['_loss']):.6f} ({sys.argv[3]}); {n_grads} grads"
      f"{' and SGD-updated weights' if updated else ''}; worst |diff|/(1+|x|) = {worst:.2e} at {where or '-'}")
PYEOF
      ); then
        [ "${step%%:*}" = "PASS" ] || status=1
      else
        step="FAIL: the comparison raised ${step}"; status=1
      fi
    fi
  fi
fi

bench="not run"
if [ "${BENCH:-1}" != "0" ] && [ "$cupy_ver" != "unusable" ]; then
  echo "== char-LM step: GPU vs CPU vs PyTorch CUDA (benchmarks/bench_gpu.py) =="
  # shellcheck disable=SC2086
  if "$PY" benchmarks/bench_gpu.py --gpu-flag "$DEV" --json "$OUT/bench_gpu.json" ${BENCH_ARGS:-}; then
    bench="written to $OUT/bench_gpu.json"
  else
    bench="FAIL (see the log)"; status=1
  fi
fi

echo
echo "== gpu_check summary =="
echo "GPU:        ${gpu:-none}"
echo "CuPy:       $cupy_ver"
echo "test suite: $suite"
echo "LSTM step:  $step"
echo "benchmark:  $bench"
echo "output:     $OUT"
echo "result:     $([ "$status" -eq 0 ] && echo OK || echo FAILED)"
exit "$status"
