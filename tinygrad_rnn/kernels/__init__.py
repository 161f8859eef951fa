"""Kernels: the recurrent cell steps and the output-end losses as single Functions with derived backward.
Imports: helpers, backend, autograd, ops (never tensor).

  fused.py        the step Functions (RNN, LSTM, GRU), input projection and output stacker, and the helpers the
                  layers call (linear, rnn_step, lstm_step, gru_step, run_steps, use_primitives)
  numpy_steps.py  the same steps written with in-place NumPy ufuncs and layer-owned buffers
  chain.py        the engine's chain backward over a layer direction's buffered NumPy steps
  twins.py        each step made of primitive ops: the readable specification, and what the visualizer draws
  loss.py         log-softmax, softmax, cross-entropy and BCE-with-logits as single Functions
"""
