"""Kernels: the recurrent cell steps and the output-end losses as single Functions with derived backward.
Imports: helpers, backend, autograd, ops (never tensor).

  fused.py   what nn's layers call: linear (every step's input projection in one matmul), rnn_step / lstm_step /
             gru_step, step_workspace, run_direction (a layer direction's steps: one Run node, or run_steps' node
             per step), stack_states (the layer output); and STEPS, the one table that picks a step's
             implementation: (fused Function, twin of primitives) per kind
  cells.py   the cell Functions RNNCell, LSTMCell, GRUCell, GRUCellResetBefore: each cell's forward and backward
             written ONCE, with its derivation in the class docstring, over backend's out= vocabulary (B.mul, B.add,
             B.matmul, ...: in place on NumPy and CuPy, computed then written on the array-API stand-in), so the same
             code runs on every backend (with or without a workspace, masked or not); the cells with gates compute
             feature-major (gates as contiguous (H, N) row blocks), the RNN batch-major
  workspace.py  the Workspace, one layer direction's arrays (all states, per-step saved values, gate gradients) so
             outputs and weight-gradient factors are views, not copies (the gate activations overwrite the layer's
             input projection, read by nothing else), and the helpers the cells take arrays from
  twins.py   each step made of primitive ops: the readable specification, what use_primitives() builds and the
             visualizer draws; tests check every fused step against its twin in float64
  loss.py    log-softmax, softmax, cross-entropy and BCE-with-logits as single Functions

How a step is dispatched: nn.RNN/LSTM/GRU -> fused.run_direction -> STEPS[kind]: with a workspace (fused, no masks)
ONE fused.Run node, which calls the cell's forward per step on plain cell objects and in backward their
step_backward from the last step back, returning gx's gradient (the workspace's gradient block) and each weight's (one
product over all steps); else (masks, or no workspace) run_steps makes a node per step: the twin inside
tr.use_primitives(), else the cell's Function.apply(gx, state, weights, t=, mask=, ws=) (the per-step helpers
fused.rnn_step etc. the same way), whose backward is the cell's step_backward plus the gradients of gx (an IndexGrad)
and of the weights (OuterGrads the engine joins into one product over all steps). A Run node shows its steps to the
visualizer through the Graph API (fn.steps).
Speed mechanisms kept (benchmarks/bench_charlm.py --ablate, each >= 5% at some size; README, Benchmarks): the
workspace, its reuse across batches (with the other pooled arrays: backend.reusable_empty), the joined weight products,
one node per run (fused.ONE_NODE_PER_RUN), the one-hot embedding backward, the plain cross-entropy path and the
contiguous copy of W_hh^T (workspace.CONTIGUOUS_WT); the layouts themselves (feature-major gate blocks, the
batch-major RNN) were chosen by measurement, not switched.
The shared derivatives (tanh, sigmoid, relu) and the in-place sigmoids (sigmoid_, exact near 0, for the primitive;
gate_sigmoid_, (tanh(x/2) + 1) / 2, quicker, for the gates) live in ops.py beside the primitives that use them.
"""
