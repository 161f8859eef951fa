"""PyTorch features tinygrad_rnn does not have, and the AttributeError a user gets for them: the public namespaces'
module-level __getattr__ raise `missing(__name__, name)`, so `tr.jit` says what is absent instead of just failing.
Imports nothing (level 0: every layer may use it)."""

_ATTENTION = "attention layers: tinygrad_rnn is a recurrent-network framework; write attention with tr.bmm and " \
             "F.softmax, as tests/programs/seq2seq_attention.py does"
_CONV = "convolution and pooling: tinygrad_rnn is a recurrent-network framework"
_BATCHNORM = "batch normalization; nn.LayerNorm is there"
_HALF = "half precision; float32 and float64 are there"
_OPTIM = "SGD, Adam, AdamW, RMSprop and Adagrad are there"

# PyTorch namespace -> {name: why it is absent, or what to use instead}
ABSENT = {
    "torch": {
        "jit": "TorchScript; models are plain Python: call them directly",
        "compile": "graph compilation; models run eagerly",
        "autocast": "mixed precision; use float32 or float64",
        "amp": "mixed precision; use float32 or float64",
        "float16": _HALF, "half": _HALF, "bfloat16": _HALF,
        "sparse": "sparse tensors; use dense ones",
        "sparse_coo_tensor": "sparse tensors; use dense ones",
        "complex64": "complex numbers", "complex128": "complex numbers",
        "fft": "Fourier transforms",
        "linalg": "linear algebra routines; tr.matmul and the Tensor ops are there",
        "distributions": "probability distributions",
        "utils": "DataLoader, Dataset, checkpoint, tensorboard; iterate over your batches in Python, with "
                 "tinygrad_rnn.data's batchify and bptt_batches for token streams",
        "onnx": "ONNX export",
        "distributed": "distributed training",
        "multiprocessing": "multiprocessing",
        "hub": "model hub; nothing is downloaded",
        "quantization": "quantization",
        "func": "functional transforms (vmap, grad, jacrev); use Tensor.backward()",
        "vmap": "vectorizing map",
        "inference_mode": "use tr.no_grad(), which is what inference needs here",
        "set_num_threads": "the NumPy backend's BLAS threads are set by OPENBLAS_NUM_THREADS / OMP_NUM_THREADS "
                           "before Python starts",
        "get_num_threads": "the NumPy backend's BLAS threads are set by OPENBLAS_NUM_THREADS / OMP_NUM_THREADS",
        "backends": "backend flags such as torch.backends.cudnn.deterministic; tinygrad_rnn is deterministic and "
                    "picks its array library once, by TINYGRAD_RNN_GPU: drop these lines",
    },
    "torch.nn": {
        "Transformer": _ATTENTION, "TransformerEncoder": _ATTENTION, "TransformerDecoder": _ATTENTION,
        "TransformerEncoderLayer": _ATTENTION, "TransformerDecoderLayer": _ATTENTION,
        "MultiheadAttention": _ATTENTION,
        "Conv1d": _CONV, "Conv2d": _CONV, "Conv3d": _CONV, "ConvTranspose1d": _CONV, "ConvTranspose2d": _CONV,
        "MaxPool1d": _CONV, "MaxPool2d": _CONV, "AvgPool1d": _CONV, "AvgPool2d": _CONV,
        "AdaptiveAvgPool1d": _CONV, "AdaptiveAvgPool2d": _CONV,
        "BatchNorm1d": _BATCHNORM, "BatchNorm2d": _BATCHNORM,
        "DataParallel": "multi-device training",
        "parallel": "multi-device training",
    },
    "torch.nn.functional": {
        "scaled_dot_product_attention": _ATTENTION, "multi_head_attention_forward": _ATTENTION,
        "conv1d": _CONV, "conv2d": _CONV, "max_pool1d": _CONV, "max_pool2d": _CONV, "avg_pool1d": _CONV,
        "avg_pool2d": _CONV, "batch_norm": _BATCHNORM,
    },
    "torch.optim": {name: _OPTIM for name in
                    ("Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS", "SparseAdam", "ASGD", "Rprop")},
}


def missing(module, name):
    """The AttributeError for `module.name` (module is a tinygrad_rnn namespace's __name__)."""
    if name.startswith("__"):  # Python's own probes (__path__, __wrapped__, ...): the plain error
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    torch_name = "torch" + module[len("tinygrad_rnn"):]
    reason = ABSENT.get(torch_name, {}).get(name)
    if reason is not None:
        return AttributeError(f"{module}.{name}: PyTorch's {torch_name}.{name} is not implemented in tinygrad_rnn "
                              f"({reason})")
    return AttributeError(f"module {module!r} has no attribute {name!r} (where PyTorch has {torch_name}.{name}, "
                          "tinygrad_rnn does not implement it; see the README's 'Coming from PyTorch')")
