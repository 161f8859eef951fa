"""Rows of the bad-input table for everything above tensors: layers and Module methods, functional and losses,
nn.utils, optimizers and schedulers, checkpoints, visualize. Machinery in bad_inputs_table.py; run by
test_bad_inputs.py."""

import numpy as np
from bad_inputs_table import (
    I,
    T,
    V,
    bad_state_dict,
    checkpoint,
    file_state,
    loss,
    module_state,
    optim_state,
    param,
    pickled,
    render_to,
    row,
    sched_state,
    scheduler,
    trained,
    truncated,
    x34,
)

import tinygrad_rnn as tr
import tinygrad_rnn.nn.functional as F
import tinygrad_rnn.nn.utils.rnn as R
import visualize
from tinygrad_rnn import nn, optim
from tinygrad_rnn.optim import lr_scheduler as S

# ----- layers: constructors, and calls that must leave the module unchanged
lin = lambda tmp: nn.Linear(4, 3)  # noqa: E731
lstm = lambda tmp: nn.LSTM(3, 4)  # noqa: E731
row("nn.Linear", lambda: nn.Linear(-1, 3), V, r"Linear: in_features must be non-negative, got -1")
row("nn.Linear", lambda: nn.Linear(4, 2.5), T, r"Linear: out_features should be of type int, got: float 2.5")
row("nn.Linear", lambda m: m(tr.randn(2, 5)), V, r"Linear: expected input with last dimension 4, got shape \(2, 5\)",
    lin, module_state)
row("nn.Linear", lambda m: m([[1.0] * 4]), T, r"Linear: expected input to be a Tensor, got list", lin, module_state)
row("nn.Embedding", lambda: nn.Embedding(-1, 3), V, r"Embedding: num_embeddings must be non-negative, got -1")
row("nn.Embedding", lambda: nn.Embedding(5, 3, padding_idx=5), V, r"Embedding: padding_idx must be within \[-5, 5\)")
row("nn.Embedding", lambda: nn.Embedding(5, 3, padding_idx=1.5), T, r"Embedding: padding_idx should be of type int")
row("nn.Embedding", lambda m: m(tr.Tensor([0.5])), T, r"embedding: expected integer indices, got dtype float32",
    lambda tmp: nn.Embedding(5, 3), module_state)
row("nn.Embedding", lambda m: m(tr.tensor([1, 5])), V, r"embedding: index 5 is out of range for a table of 5 rows",
    lambda tmp: nn.Embedding(5, 3), module_state)
row("nn.Embedding.from_pretrained", lambda: nn.Embedding.from_pretrained(tr.randn(2, 3, 4)), V,
    r"Embedding.from_pretrained: expected a 2-d table, got shape \(2, 3, 4\)")
row("nn.Dropout", lambda: nn.Dropout(1.5), V, r"Dropout: dropout probability has to be between 0 and 1, got 1.5")
row("nn.Dropout", lambda: nn.Dropout("a"), T, r"Dropout: dropout probability should be a number between 0 and 1")
row("nn.LayerNorm", lambda: nn.LayerNorm(-1), V, r"LayerNorm: normalized_shape must be non-negative, got \(-1,\)")
row("nn.LayerNorm", lambda: nn.LayerNorm((2, "a")), T, r"LayerNorm: normalized_shape must be ints, got str")
row("nn.LayerNorm", lambda: nn.LayerNorm(4, eps="small"), T, r"LayerNorm: eps must be a number, got str 'small'")
row("F.layer_norm", lambda: F.layer_norm(x34(), 4, eps=None), T, r"layer_norm: eps must be a number, got NoneType")
row("nn.LayerNorm", lambda m: m(tr.randn(2, 3)), V, r"LayerNorm: expected input with trailing shape \(4,\), got",
    lambda tmp: nn.LayerNorm(4), module_state)
row("nn.RNN", lambda: nn.RNN(-1, 4), V, r"RNN: input_size must be greater than zero, got -1")
row("nn.RNN", lambda: nn.RNN(3, 4.0), T, r"RNN: hidden_size should be of type int, got: float")
row("nn.RNN", lambda: nn.RNN(3, 4, num_layers=0), V, r"RNN: num_layers must be greater than zero, got 0")
row("nn.RNN", lambda: nn.RNN(3, 4, nonlinearity="gelu"), V, r"RNN: unknown nonlinearity 'gelu'")
row("nn.RNN", lambda: nn.RNN(3, 4, num_layers=2, dropout=1.5), V, r"RNN: dropout should be a number in range \[0, 1\]")
row("nn.LSTM", lambda: nn.LSTM(3, 4, proj_size=-1), V, r"LSTM: proj_size must be non-negative, got -1")
row("nn.LSTM", lambda: nn.LSTM(3, 4, proj_size=4), V, r"LSTM: proj_size has to be smaller than hidden_size")
row("nn.LSTM", lambda m: m(tr.randn(2, 1, 3), (tr.randn(1, 1, 4, dtype=tr.float64), tr.randn(1, 1, 4))), T,
    r"LSTM: h_0 has dtype float64 but the parameters are float32", lstm, module_state)
row("nn.LSTM", lambda m: m(tr.randn(2, 1, 3), (tr.randn(1, 1, 4), tr.randn(1, 1, 4, dtype=tr.float64))), T,
    r"LSTM: c_0 has dtype float64", lstm, module_state)
row("nn.LSTM", lambda m: m(tr.randn(2, 1, 3), (tr.randn(1, 1, 4), tr.randn(1, 2, 4))), V,
    r"LSTM: expected c_0 of shape \(1, 1, 4\), got \(1, 2, 4\)", lstm, module_state)
row("nn.LSTM", lambda m: m(tr.randn(2, 1, 3), tr.randn(1, 1, 4)), T, r"LSTM: expected hx to be a tuple \(h_0, c_0\)",
    lstm, module_state)
row("nn.LSTM", lambda m: m(tr.randn(2, 1, 3, dtype=tr.float64)), T, r"LSTM: input has dtype float64", lstm,
    module_state)
row("nn.GRU", lambda m: m(tr.randn(2, 0, 3)), V, r"GRU: expected at least one time step, got shape \(2, 0, 3\)",
    lambda tmp: nn.GRU(3, 4, batch_first=True), module_state)
row("nn.GRU", lambda m: m(tr.randn(5, 2, 7)), V, r"GRU: expected input of feature size 3, got shape \(5, 2, 7\)",
    lambda tmp: nn.GRU(3, 4, batch_first=True), module_state)
row("nn.RNNCell", lambda: nn.RNNCell(3, 0), V, r"RNNCell: hidden_size must be greater than zero, got 0")
row("nn.RNNCell", lambda m: m(tr.randn(2, 3), tr.randn(2, 4, dtype=tr.float64)), T,
    r"RNNCell: hx has dtype float64 but the parameters are float32", lambda tmp: nn.RNNCell(3, 4), module_state)
row("nn.LSTMCell", lambda m: m(tr.randn(2, 3), tr.randn(2, 4)), T, r"LSTMCell: expected hx to be a tuple",
    lambda tmp: nn.LSTMCell(3, 4), module_state)
row("nn.LSTMCell", lambda m: m(tr.randn(2, 3), (tr.randn(2, 4), tr.randn(2, 4, dtype=tr.float64))), T,
    r"LSTMCell: c_0 has dtype float64", lambda tmp: nn.LSTMCell(3, 4), module_state)
row("nn.GRUCell", lambda m: m(tr.randn(3, 3), tr.randn(3, 5)), V, r"GRUCell: expected hx of shape \(3, 4\), got",
    lambda tmp: nn.GRUCell(3, 4), module_state)
row("nn.Bidirectional", lambda: nn.Bidirectional(nn.GRU(3, 4), merge_mode="max"), V, r"merge_mode must be one of")
row("nn.Bidirectional", lambda: nn.Bidirectional(nn.GRU(3, 4, bidirectional=True)), V, r"already bidirectional")
row("nn.Sequential", lambda: nn.Sequential(nn.Tanh(), 5), T, r"Sequential: expected an nn.Module, got int")
row("nn.Sequential.append", lambda m: m.append("relu"), T, r"Sequential: expected an nn.Module, got str",
    lambda tmp: nn.Sequential(nn.Linear(2, 2)), module_state)
row("nn.ModuleList", lambda: nn.ModuleList([nn.Tanh(), None]), T, r"ModuleList: expected an nn.Module, got NoneType")
row("nn.ModuleList.append", lambda: nn.ModuleList().append(3), T, r"ModuleList: expected an nn.Module, got int")
row("nn.ModuleList.extend", lambda: nn.ModuleList().extend([nn.Tanh(), 3]), T, r"ModuleList: expected an nn.Module")
row("nn.ModuleList.insert", lambda: nn.ModuleList().insert(0, "a"), T, r"ModuleList: expected an nn.Module, got str")
row("nn.ModuleList", lambda: nn.ModuleList(5), T, r"ModuleList: expected an iterable of Modules, got int")
row("nn.ModuleDict", lambda: nn.ModuleDict("ab"), T, r"ModuleDict: expected a dict or \(key, Module\) pairs, got str")
row("nn.ModuleDict", lambda: nn.ModuleDict({1: nn.Tanh()}), T, r"ModuleDict: keys must be strings, got int")
row("nn.ModuleDict.update", lambda: nn.ModuleDict().update({"a": 1}), T, r"ModuleDict: expected an nn.Module")
row("nn.Parameter", lambda: nn.Parameter("w"), T, r"Tensor: data must be numeric")
row("nn.Parameter", lambda: nn.Parameter(tr.tensor([1, 2])), T, r"only floating point tensors can require gradients")
# ----- Module methods
row("nn.Module.load_state_dict", lambda m: m.load_state_dict({"weight": np.zeros((2, 2)), "bias": np.zeros(3)}),
    RuntimeError, r"size mismatch for weight: copying a param with shape \(2, 2\)", lin, module_state)
row("nn.Module.load_state_dict", lambda m: m.load_state_dict({"weight": np.zeros((3, 4))}), RuntimeError,
    r'Missing key\(s\) in state_dict: "bias"', lin, module_state)
row("nn.Module.load_state_dict", lambda m: m.load_state_dict({"weight": "w", "bias": np.zeros(3)}), RuntimeError,
    r'copying the parameter named "weight", expected a numeric array of shape \(3, 4\) .* received a str', lin,
    module_state)
row("nn.Module.load_state_dict", bad_state_dict, RuntimeError,
    r'parameter named "bias", expected a numeric array .*<U1', lin, module_state)
row("nn.Module.to", lambda m: m.to("bogus"), (T, V, RuntimeError), r"bogus", lin, module_state)
row("nn.Module.register_parameter", lambda m: m.register_parameter("w", tr.randn(2)), T,
    r"Linear.register_parameter: cannot assign a Tensor to parameter 'w' \(an nn.Parameter or None required\)",
    lin, module_state)
row("nn.Module.register_buffer", lambda m: m.register_buffer("b", 5), T,
    r"Linear.register_buffer: cannot assign 'int' object to buffer 'b'", lin, module_state)
row("nn.Module.add_module", lambda m: m.add_module("a.b", nn.Tanh()), V, r"Linear.add_module: name must be a non-empty",
    lin, module_state)
row("nn.Module.add_module", lambda m: m.add_module("head", 5), T, r"Linear.add_module: 'head' must be an nn.Module",
    lin, module_state)
row("nn.Module.apply", lambda m: m.apply(5), T, r"Linear.apply: fn must be callable, got int", lin, module_state)
row("nn.Module.train", lambda m: m.train("no"), V, r"Linear.train: mode is expected to be a bool, got 'no'", lin,
    module_state)
# ----- functional and losses
row("F.linear", lambda: F.linear(x34(), tr.randn(2, 5)), V, r"linear: expected input with last dimension 5")
row("F.linear", lambda: F.linear(x34(), tr.randn(2, 4, dtype=tr.float64)), T, r"linear: input dtype float32 does not")
row("F.embedding", lambda: F.embedding(tr.tensor([3]), tr.randn(3, 2)), V, r"embedding: index 3 is out of range")
row("F.dropout", lambda: F.dropout(x34(), p=-0.1), V, r"dropout: dropout probability has to be between 0 and 1")
row("F.dropout", lambda: F.dropout(np.ones(3)), T, r"dropout: expected input to be a Tensor, got ndarray")
row("F.layer_norm", lambda: F.layer_norm(x34(), (5,)), V, r"layer_norm: expected input with trailing shape \(5,\)")
row("F.layer_norm", lambda: F.layer_norm(x34(), None), T, r"layer_norm: normalized_shape must be ints, got NoneType")
row("F.relu", lambda: F.relu(5), T, r"relu: expected input to be a Tensor, got int")
row("F.relu_", lambda: F.relu_(5), T, r"relu_: expected input to be a Tensor, got int")
row("F.pad", lambda: F.pad(x34(), (1,)), V, r"pad: expected an even number of ints, got \(1,\)")
row("F.pad", lambda: F.pad(np.ones(3), (1, 1)), T, r"pad: expected input to be a Tensor, got ndarray")
row("F.pad", lambda: F.pad(x34(), (4, 0), "reflect"), V, r"pad: reflect padding \(4, 0\) must be smaller")
row("F.one_hot", lambda: F.one_hot(tr.tensor([0.0, 1.0])), T, r"one_hot: expected an integer \(index\) tensor")
row("F.one_hot", lambda: F.one_hot([0, 1]), T, r"one_hot: expected tensor to be a Tensor, got list")
row("F.one_hot", lambda: F.one_hot(tr.tensor([0, 3]), 3), V, r"one_hot: class values must be smaller than num_classes")
row("F.cosine_similarity", lambda: F.cosine_similarity(x34(), tr.randn(5)), V, r"broadcast: shapes \(3, 4\) and \(5,\)")
row("F.cosine_similarity", lambda: F.cosine_similarity(x34(), [1.0]), T,
    r"cosine_similarity: expected x2 to be a Tensor, got list")
row("F.tanh", lambda: F.tanh([1.0]), T, r"tanh: expected input to be a Tensor, got list")
row("F.sigmoid", lambda: F.sigmoid(None), T, r"sigmoid: expected input to be a Tensor, got NoneType")
row("F.cross_entropy", lambda: F.cross_entropy(x34(), tr.tensor([0, 1])), V,
    r"cross_entropy: expected target of shape \(3,\) for input of shape \(3, 4\), got shape \(2,\)")
row("F.cross_entropy", lambda: F.cross_entropy(x34(), tr.randn(3)), T, r"cross_entropy: expected integer class indices")
row("F.cross_entropy", lambda: F.cross_entropy(x34(), tr.tensor([0, 1, 4])), V,
    r"cross_entropy: target index 4 is out of range for 4 classes")
row("F.nll_loss_composed", lambda: F.nll_loss_composed(x34(), tr.tensor([0, 1, 4])), V,
    r"nll_loss: target index 4 is out of range for 4 classes")
row("F.cross_entropy", lambda: F.cross_entropy(x34(), tr.tensor([0, 1, 2]), weight=tr.randn(3)), V,
    r"cross_entropy: expected weight of shape \(4,\), got shape \(3,\)")
row("F.cross_entropy", lambda: F.cross_entropy(x34(), tr.tensor([0, 1, 2]), reduction="avg"), V,
    r"cross_entropy: reduction must be one of \('mean', 'sum', 'none'\), got 'avg'")
row("F.cross_entropy", lambda: F.cross_entropy(x34(), tr.tensor([0, 1, 2]), label_smoothing=2), V,
    r"cross_entropy: label_smoothing must be in \[0, 1\], got 2")
row("F.cross_entropy", lambda: F.cross_entropy(x34().numpy(), tr.tensor([0, 1, 2])), T,
    r"cross_entropy: expected input to be a Tensor, got ndarray")
row("F.cross_entropy_composed", lambda: F.cross_entropy_composed(x34(), tr.tensor([-1, 0, 0])), V,
    r"cross_entropy: target index -1 is out of range for 4 classes")
row("F.nll_loss", lambda: F.nll_loss(x34(), tr.tensor([0, 1, 9])), V, r"nll_loss: target index 9 is out of range")
row("F.mse_loss", lambda: F.mse_loss(tr.randn(3), tr.randn(4)), V,
    r"mse_loss: expected target of shape \(3,\) \(same as input\), got shape \(4,\)")
row("F.binary_cross_entropy_with_logits", lambda: F.binary_cross_entropy_with_logits(tr.randn(3), tr.tensor([0, 1, 1])),
    T, r"binary_cross_entropy_with_logits: expected a float target, got dtype int64")
row("F.binary_cross_entropy_with_logits", lambda: F.binary_cross_entropy_with_logits(tr.randn(3), tr.randn(2)), V,
    r"binary_cross_entropy_with_logits: expected target of shape \(3,\)")
row("nn.CrossEntropyLoss", lambda: nn.CrossEntropyLoss(reduction="avg"), V, r"CrossEntropyLoss: reduction must be")
row("nn.NLLLoss", lambda: nn.NLLLoss()(x34(), tr.tensor([0, 1, -3])), V, r"nll_loss: target index -3 is out of range")
row("nn.MSELoss", lambda: nn.MSELoss()(tr.randn(2, 3), tr.randn(3, 2)), V, r"mse_loss: expected target of shape")
row("nn.BCEWithLogitsLoss", lambda: nn.BCEWithLogitsLoss(reduction=None), V, r"BCEWithLogitsLoss: reduction must be")
# ----- nn.utils
row("nn.utils.clip_grad_norm_", lambda: nn.utils.clip_grad_norm_(5, 1.0), T,
    r"clip_grad_norm_: parameters must be a Tensor or an iterable of Tensors, got int")
row("nn.utils.clip_grad_norm_", lambda: nn.utils.clip_grad_norm_([param()], "1"), T,
    r"clip_grad_norm_: max_norm must be a number, got str")
row("nn.utils.clip_grad_norm_", lambda: nn.utils.clip_grad_norm_([param()], -1.0), V,
    r"clip_grad_norm_: max_norm must be >= 0, got -1.0")
row("nn.utils.clip_grad_norm_", lambda: nn.utils.clip_grad_norm_([param()], 1.0, norm_type=0), V,
    r"clip_grad_norm_: norm_type must be positive or inf, got 0.0")
row("nn.utils.clip_grad_norm_", lambda: nn.utils.clip_grad_norm_([param(), 3], 1.0), T,
    r"clip_grad_norm_: parameters must be Tensors, got a int")
row("nn.utils.clip_grad_value_", lambda: nn.utils.clip_grad_value_([param()], -1), V,
    r"clip_grad_value_: clip_value must be >= 0, got -1.0")
row("nn.utils.rnn.pack_padded_sequence", lambda: R.pack_padded_sequence(tr.randn(3, 2, 4), [4, 1]), V,
    r"pack_padded_sequence: lengths must be between 1 and the padded length 3, got \[4, 1\]")
row("nn.utils.rnn.pack_padded_sequence", lambda: R.pack_padded_sequence(tr.randn(3, 2, 4), [3]), V,
    r"pack_padded_sequence: expected 2 lengths \(one per sequence\), got 1")
row("nn.utils.rnn.pad_sequence", lambda: R.pad_sequence([]), V, r"pad_sequence: expected a non-empty list of tensors")
row("nn.utils.rnn.pad_sequence", lambda: R.pad_sequence(x34()), T, r"pad_sequence: expected a list of tensors, got")
row("nn.utils.rnn.pad_sequence", lambda: R.pad_sequence([tr.randn(2), "ab"]), T,
    r"pad_sequence: expected a list of Tensors, got a str at index 1")
row("nn.utils.rnn.pad_packed_sequence",
    lambda: R.pad_packed_sequence(R.pack_sequence([tr.randn(3, 2), tr.randn(2, 2)]), total_length=2), V,
    r"pad_packed_sequence: total_length=2 is smaller than the longest sequence \(3\)")
row("nn.utils.rnn.pack_sequence", lambda: R.pack_sequence([tr.randn(2, 3), tr.randn(2, 4)]), V,
    r"pad_sequence: every sequence must have trailing shape \(3,\)")
row("nn.utils.rnn.lengths_to_host", lambda: R.lengths_to_host([1.5, 2]), V,
    r"lengths: expected a 1-D sequence of integers, got float64")
row("nn.utils.rnn.lengths_to_host", lambda: R.lengths_to_host([1, [2]]), V, r"lengths: expected a 1-D sequence")
row("nn.utils.rnn.pad_packed_sequence", lambda: R.pad_packed_sequence(x34()), T,
    r"pad_packed_sequence: expected a PackedSequence, got Tensor")
row("nn.utils.rnn.reverse_padded", lambda: R.reverse_padded(tr.randn(3, 2, 4), [2, 5]), V,
    r"reverse_padded: lengths must be between 0 and the padded length 3, got \[2, 5\]")
row("nn.utils.rnn.reverse_padded", lambda: R.reverse_padded([[1.0]]), T, r"reverse_padded: expected a Tensor, got list")
row("nn.utils.rnn.last_outputs", lambda: R.last_outputs(tr.randn(3, 2, 4), [0, 1]), V,
    r"last_outputs: lengths must be between 1 and the padded length 3, got \[0, 1\]")
row("nn.utils.rnn.last_outputs", lambda: R.last_outputs(x34()), V,
    r"last_outputs: expected a 3-d padded batch \(T, N, F\), got shape \(3, 4\)")
row("nn.utils.rnn.packed_layout", lambda: R.packed_layout(R.PackedSequence(tr.randn(3), [[1]], None, None)), V,
    r"batch_sizes: expected a 1-D sequence of integers")
row("nn.utils.rnn.packed_layout", lambda: R.packed_layout((1, 2)), T, r"packed_layout: expected a PackedSequence")
# ----- optimizers and schedulers (a failed load_state_dict leaves the optimizer as it was)
adam = trained(optim.Adam)
row("optim.SGD", lambda: optim.SGD([param()], lr=-0.1), V, r"SGD: invalid lr=-0.1; expected a finite number >= 0")
row("optim.SGD", lambda: optim.SGD([param()], lr=float("nan")), V, r"SGD: invalid lr=nan; expected a finite number")
row("optim.SGD", lambda: optim.SGD([param()], lr=0.1, momentum=-1), V, r"SGD: invalid momentum=-1; expected a finite")
row("optim.SGD", lambda: optim.SGD([param()], lr=0.1, nesterov=True), V,
    r"SGD: nesterov=True requires momentum > 0 and dampening 0")
row("optim.SGD", lambda: optim.SGD(param(), lr=0.1), T, r"SGD: params should be an iterable of Tensors or dicts")
row("optim.SGD", lambda: optim.SGD([], lr=0.1), V, r"SGD: got an empty parameter list")
row("optim.SGD", lambda: optim.SGD(None, lr=0.1), T, r"SGD: params should be an iterable .* got NoneType")
row("optim.Adam", lambda: optim.Adam([param()], betas=(1.5, 0.9)), V,
    r"Adam: invalid betas\[0\]=1.5; expected a finite number in \[0, 1\)")
row("optim.Adam", lambda: optim.Adam([param()], eps=-1e-8), V, r"Adam: invalid eps")
row("optim.Adam", lambda: optim.Adam([param()], lr="fast"), T, r"Adam: lr must be a number, got str 'fast'")
row("optim.AdamW", lambda: optim.AdamW([param()], weight_decay=-0.01), V,
    r"AdamW: invalid weight_decay=-0.01; expected a finite number >= 0")
row("optim.AdamW", lambda: optim.AdamW([param()], betas=(0.9, float("nan"))), V, r"AdamW: invalid betas\[1\]=nan")
row("optim.RMSprop", lambda: optim.RMSprop([param()], alpha=-0.5), V, r"RMSprop: invalid alpha=-0.5")
row("optim.Adagrad", lambda: optim.Adagrad([param()], lr_decay=-1), V, r"Adagrad: invalid lr_decay=-1")
row("optim.Optimizer", lambda: optim.Optimizer([param()], {"lr": -1.0}), V, r"Optimizer: invalid lr=-1.0")
row("optim.Optimizer.add_param_group", lambda o: o.add_param_group([param()]), T,
    r"Adam: a parameter group must be a dict, got list", adam, optim_state)
row("optim.Optimizer.add_param_group", lambda o: o.add_param_group({"params": o.param_groups[0]["params"]}), V,
    r"Adam: a parameter appears twice", adam, optim_state)
row("optim.Optimizer.add_param_group", lambda o: o.add_param_group({"params": [param()], "lr": -2.0}), V,
    r"Adam: invalid lr=-2.0", adam, optim_state)
row("optim.Optimizer.load_state_dict", lambda o: o.load_state_dict({**o.state_dict(), "param_groups": []}), V,
    r"Adam.load_state_dict: expected 1 parameter groups, got 0", adam, optim_state)
row("optim.Optimizer.load_state_dict",
    lambda o: o.load_state_dict({**o.state_dict(), "state": {0: {"step": 1, "exp_avg": np.zeros((2, 2)),
                                                                 "exp_avg_sq": np.zeros((3, 2))}}}),
    V, r"Adam.load_state_dict: state\[0\]\['exp_avg'\]: expected shape \(3, 2\) .* got \(2, 2\)", adam,
    optim_state)
row("optim.Optimizer.load_state_dict", lambda o: o.load_state_dict({"state": {}}), (V, KeyError, T),
    r"Adam.load_state_dict: .*param_groups", adam, optim_state)
row("optim.Optimizer.load_state_dict",
    lambda o: o.load_state_dict({**o.state_dict(), "param_groups": [{**o.state_dict()["param_groups"][0], "lr": -1}]}),
    V, r"Adam.load_state_dict: .*lr", adam, optim_state)
row("optim.Optimizer.step", lambda o: o.step(closure=5), T, r"Adam.step: closure must be callable", adam, optim_state)
row("lr_scheduler.LRScheduler", lambda: S.LRScheduler("opt"), T, r"LRScheduler: expected an Optimizer, got str")
row("lr_scheduler.StepLR", lambda: S.StepLR(optim.SGD([param()], lr=0.1), 0), V,
    r"StepLR: invalid step_size=0; expected an int >= 1")
row("lr_scheduler.StepLR", lambda: S.StepLR(optim.SGD([param()], lr=0.1), "a"), (V, T), r"StepLR: .*step_size")
row("lr_scheduler.ExponentialLR", lambda: S.ExponentialLR([param()], 0.9), T, r"ExponentialLR: expected an Optimizer")
row("lr_scheduler.CosineAnnealingLR", lambda: S.CosineAnnealingLR(optim.SGD([param()], lr=0.1), T_max=0), V,
    r"CosineAnnealingLR: invalid T_max=0; expected a finite number > 0")
row("lr_scheduler.LRScheduler.load_state_dict", lambda s: s.load_state_dict({"last_epoch": "x"}), (V, T, KeyError),
    r"StepLR.load_state_dict", scheduler(S.StepLR, 2), sched_state)
sgd = lambda: optim.SGD([param()], lr=0.1)  # noqa: E731
row("lr_scheduler._LRScheduler", lambda: S._LRScheduler(5), T, r"_LRScheduler: expected an Optimizer, got int")
row("lr_scheduler.LRScheduler.step", lambda s: s.step("a"), T, r"StepLR.step: epoch must be an int, got str 'a'",
    scheduler(S.StepLR, 2), sched_state)
row("lr_scheduler.ChainedScheduler", lambda: S.ChainedScheduler([5]), T, r"ChainedScheduler: expected an Optimizer")
row("lr_scheduler.ConstantLR", lambda: S.ConstantLR(sgd(), factor=2), V, r"ConstantLR: invalid factor=2; expected")
row("lr_scheduler.CosineAnnealingWarmRestarts", lambda: S.CosineAnnealingWarmRestarts(sgd(), T_0=0), V,
    r"CosineAnnealingWarmRestarts: invalid T_0=0; expected an int >= 1")
row("lr_scheduler.CosineAnnealingWarmRestarts.step", lambda s: s.step(-1), V,
    r"CosineAnnealingWarmRestarts: invalid epoch=-1", scheduler(S.CosineAnnealingWarmRestarts, 2), sched_state)
row("lr_scheduler.CyclicLR", lambda: S.CyclicLR(sgd(), base_lr=0.1, max_lr=1, mode="x"), V,
    r"CyclicLR: invalid mode='x'; expected one of 'triangular', 'triangular2', 'exp_range'")
row("lr_scheduler.LambdaLR", lambda: S.LambdaLR(sgd(), 5), T, r"LambdaLR: lr_lambda must be callable, got int")
row("lr_scheduler.MultiplicativeLR", lambda: S.MultiplicativeLR(sgd(), "a"), T, r"MultiplicativeLR: lr_lambda must be")
row("lr_scheduler.LinearLR", lambda: S.LinearLR(sgd(), start_factor=0), V, r"LinearLR: invalid start_factor=0")
row("lr_scheduler.MultiStepLR", lambda: S.MultiStepLR(sgd(), "ab"), T,
    r"MultiStepLR: milestones must be a list of ints")
row("lr_scheduler.OneCycleLR", lambda: S.OneCycleLR(sgd(), max_lr=1.0), V,
    r"OneCycleLR: pass total_steps, or both epochs and steps_per_epoch")
row("lr_scheduler.PolynomialLR", lambda: S.PolynomialLR(sgd(), total_iters=-1), V, r"PolynomialLR: invalid total_iters")
row("lr_scheduler.ReduceLROnPlateau", lambda: S.ReduceLROnPlateau(sgd(), mode="x"), V,
    r"ReduceLROnPlateau: invalid mode='x'; expected one of 'min', 'max'")
row("lr_scheduler.ReduceLROnPlateau", lambda: S.ReduceLROnPlateau(sgd(), factor=1.5), V, r"invalid factor=1.5")
row("lr_scheduler.ReduceLROnPlateau.step", lambda s: s.step("low"), T,
    r"ReduceLROnPlateau.step: metrics must be a number or a one-element tensor, got str",
    lambda tmp: S.ReduceLROnPlateau(trained(optim.SGD, lr=0.1)(tmp)), sched_state)
row("lr_scheduler.SequentialLR", lambda: S.SequentialLR(sgd(), [], milestones=[]), V,
    r"SequentialLR: expected at least one scheduler, got none")
row("lr_scheduler.SequentialLR", lambda: S.SequentialLR(sgd(), [S.StepLR(sgd(), 2)], milestones=[]), V,
    r"SequentialLR: schedulers\[0\] \(StepLR\) belongs to another optimizer")
# ----- checkpoints (a failed save leaves the old file as it was and no temp file behind)
row("tr.save", lambda p: tr.save({"a": object()}, p), T,
    r"tr.save: cannot save obj\['a'\] \(a builtins.object\)", checkpoint,
    file_state)
row("tr.save", lambda p: tr.save({(1, 2): 3}, p), T, r"tr.save: dict key \(1, 2\) at obj is a tuple", checkpoint,
    file_state)
row("tr.save", lambda p: tr.save({"m": np.array(["a"], dtype=object)}, p), T, r"tr.save: the array at obj\['m'\]",
    checkpoint, file_state)
row("tr.save", lambda p: tr.save({"w": 1}, p.parent / "missing" / "ck.npz"), FileNotFoundError,
    r"tr.save: .*missing/ck.npz", checkpoint, file_state)
row("tr.load", lambda p: tr.load(p.parent / "nothing.npz"), FileNotFoundError, r"tr.load: no such file: .*nothing.npz",
    checkpoint, file_state)
row("tr.load", tr.load, V, r"tr.load: .*ck.npz is not a (tinygrad_rnn|readable) check", truncated, file_state)
row("tr.load", tr.load, V, r"tr.load: .*evil.npz", pickled, file_state)
# ----- visualize
row("visualize.render", lambda: render_to("/tmp/graph.png"), V, r"visualize.render: only SVG is written; .*\.png")
row("visualize.render", lambda p: render_to(p.parent / "missing" / "g.svg"), FileNotFoundError,
    r"visualize.render: cannot write '.*missing/g.svg': no such folder", checkpoint, file_state)
row("visualize.render", lambda: visualize.render(5, "g.svg"), T, r"visualize: expected Tensors .*got int")
row("visualize.render", lambda: visualize.render(loss(), None), T, r"visualize.render: path must be a str or")
row("visualize.render", lambda: visualize.render(loss(), "g.svg", engine="cairo"), V, r"visualize: engine must be")
row("visualize.to_dot", lambda: visualize.to_dot(loss(), detail="all"), V, r"visualize: detail must be 'cell' or")
row("visualize.to_dot", lambda: visualize.to_dot(loss(), max_nodes=3), V, r"visualize: max_nodes must be at least 20")
row("visualize.to_dot", lambda: visualize.to_dot(loss(), params={"w": 3}), T, r"visualize: params\['w'\] is a int")
row("visualize.to_dot", lambda: visualize.to_dot(loss(), params=3), T, r"visualize: params must be a Module, a dict")
row("visualize.to_dot", lambda: visualize.to_dot(loss(), highlight="h"), T, r"visualize: highlight must be a Tensor")
row("visualize.graph", lambda: visualize.graph(None), (T, V), r"visualize: expected")
row("nn.utils.rnn.pack_padded_sequence", lambda: R.pack_padded_sequence(tr.randn(3), [3]), V,
    r"pack_padded_sequence: expected a padded batch of at least 2 dims \(T, N, ...\), got shape \(3,\)")
row("F.cross_entropy", lambda: F.cross_entropy(tr.tensor([[1, 2]]), tr.tensor([0])), T,
    r"cross_entropy: expected floating point input, got dtype int64")
row("F.binary_cross_entropy_with_logits",
    lambda: F.binary_cross_entropy_with_logits(tr.randn(3), tr.rand(3), weight=tr.randn(4)), V,
    r"binary_cross_entropy_with_logits: weight of shape \(4,\) does not broadcast to the input's shape \(3,\)")
row("F.binary_cross_entropy_with_logits",
    lambda: F.binary_cross_entropy_with_logits(tr.randn(3, 2), tr.rand(3, 2), pos_weight=tr.randn(3)), V,
    r"pos_weight of shape \(3,\) does not broadcast")
row("nn.Sequential", lambda: nn.Sequential(nn.Tanh())[1.5], T, r"Sequential: index should be of type int, got: float")
row("nn.ModuleList", lambda: nn.ModuleList([nn.Tanh()])["0"], T, r"ModuleList: index should be of type int, got: str")
row("F.nll_loss", lambda: F.nll_loss(x34(), tr.tensor([0, 1, 2]), ignore_index=1.5), T,
    r"nll_loss: ignore_index should be of type int, got: float")
# ----- the inplace helper's functional additions and nn.init (rows guarded by hasattr, from before they landed)
if hasattr(F, "one_hot"):
    row("F.one_hot", lambda: F.one_hot(tr.tensor([0, 5]), 3), V, r"one_hot: class values must be smaller than")
    row("F.one_hot", lambda: F.one_hot(tr.Tensor([0.5])), T, r"one_hot: expected an integer \(index\) tensor")
if hasattr(F, "pad"):
    row("F.pad", lambda: F.pad(x34(), (1,)), V, r"pad: expected an even number of ints, got \(1,\)")
    row("F.pad", lambda: F.pad(x34(), (1,) * 6), V, r"pad: padding length 6 is too large for a tensor of 2 dims")
if hasattr(F, "cosine_similarity"):
    row("F.cosine_similarity", lambda: F.cosine_similarity(x34(), x34(), dim=5), I,
        r"cosine_similarity: dim 5 is out of range")
    row("F.cosine_similarity", lambda: F.cosine_similarity(x34(), tr.randn(5)), V, r"broadcast: shapes")
if hasattr(F, "relu_"):
    row("F.relu_", lambda: F.relu_(5), T, r"relu_: expected input to be a Tensor, got int")
if hasattr(nn, "init"):
    init = nn.init
    row("nn.init.calculate_gain", lambda: init.calculate_gain("x"), V, r"calculate_gain: unsupported nonlinearity 'x'")
    row("nn.init.constant_", lambda: init.constant_(x34(), "a"), T, r"Tensor: data must be numeric")
    row("nn.init.eye_", lambda: init.eye_(tr.randn(3)), V, r"eye_: only tensors with 2 dimensions are supported")
    row("nn.init.kaiming_uniform_", lambda: init.kaiming_uniform_(x34(), nonlinearity="gelu"), V,
        r"calculate_gain: unsupported nonlinearity 'gelu'")
    row("nn.init.kaiming_normal_", lambda: init.kaiming_normal_(x34(), mode="x"), V,
        r"Mode x not supported, please use one of fan_in, fan_out")
    row("nn.init.xavier_uniform_", lambda: init.xavier_uniform_(tr.randn(3)), V,
        r"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    row("nn.init.xavier_normal_", lambda: init.xavier_normal_(tr.randn(3)), V, r"Fan in and fan out can not be")
    row("nn.init.orthogonal_", lambda: init.orthogonal_(tr.randn(3)), V, r"orthogonal_: only tensors with 2 or more")
    row("nn.init.trunc_normal_", lambda: init.trunc_normal_(x34(), a=2, b=-2), V, r"trunc_normal_: expected a < b")
    row("nn.init.ones_", lambda: init.ones_(5), T, r"ones_: expected a Tensor")
    row("nn.init.zeros_", lambda: init.zeros_([1]), T, r"zeros_: expected a Tensor")
    row("nn.init.uniform_", lambda: init.uniform_(x34(), 2, 1), V, r"uniform_: .*a <= b")
    row("nn.init.normal_", lambda: init.normal_(x34(), std=-1), V, r"normal_: .*std >= 0")
