"""Kernels: the recurrent cell steps and the output-end losses as single Functions with derived backward.
Imports: helpers, backend, autograd, ops (never tensor).

  fused.py   what nn's layers call: linear (every step's input projection in one matmul), rnn_step / lstm_step /
             gru_step, step_workspace, run_steps (a layer direction's steps), stack_states (the layer output); and
             STEPS, the one table that picks a step's implementation: (fused Function, twin of primitives) per kind
  cells.py   the cell Functions RNNCell, LSTMCell, GRUCell, GRUCellResetBefore: each cell's forward and backward
             written ONCE, with its derivation in the class docstring, over backend's out= vocabulary (B.mul, B.add,
             B.matmul, ...: in place on NumPy and CuPy, computed then written on the array-API stand-in), so the same
             code runs on every backend; and the Workspace, one layer direction's arrays (all states, per-step saved
             values, gate gradients) so outputs and weight-gradient factors are views, not copies
  twins.py   each step made of primitive ops: the readable specification, what use_primitives() builds and the
             visualizer draws; tests check every fused step against its twin in float64
  loss.py    log-softmax, softmax, cross-entropy and BCE-with-logits as single Functions

How a step is dispatched: nn.RNN/LSTM/GRU -> fused.run_steps -> fused.rnn_step (etc.) -> STEPS[kind]: the twin inside
tr.use_primitives(), else the cell's Function.apply(gx, state, weights, t=, mask=, ws=). Its backward (Cell.backward)
is the cell's step_backward plus the gradients of gx (an IndexGrad into the workspace's gradient block) and of the
weights (OuterGrads the engine joins into one product over all steps).
Speed mechanisms kept (benchmarks/bench_charlm.py --ablate, each >= 5% at some size): the workspace, its reuse
across batches, the joined weight products, the one-hot embedding backward, the plain cross-entropy path and the
contiguous copy of W_hh^T the steps read (cells.CONTIGUOUS_WT).
The shared derivatives (tanh, sigmoid, relu) and the one in-place sigmoid live in ops.py beside the primitives that
use them.
"""
