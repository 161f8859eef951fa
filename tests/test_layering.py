"""The design's import arrows, checked by parsing (ast) every module in tinygrad_rnn/: a module may import only
modules at or below its level; nothing imports visualize, graphviz or torch; only backend.py imports numpy/cupy."""

import ast
import pathlib

import pytest

PACKAGE = "tinygrad_rnn"
ROOT = pathlib.Path(__file__).resolve().parent.parent / PACKAGE

# helpers <- backend <- autograd (and grads) <- ops, kernels/ <- tensor <- functional <- nn <- optim, serialization.
# Keys are module paths below the package; a module not listed takes the level of its nearest listed parent
# package (new files in nn/, optim/ or kernels/ need no entry), and any other new top-level module the level of
# optim/serialization: it may use the whole core, and a core module that imports it is flagged as importing upward.
# The package root (__init__) sits on top.
LEVELS = {
    "helpers": 0, "return_types": 0, "absent": 0,
    "backend": 1,
    "autograd": 2, "versions": 2, "grads": 2, "devices": 2, "cuda": 2, "checks": 2,
    "ops": 3, "kernels": 3,
    "inplace": 3,
    "tensor": 4, "creation": 4, "reductions": 4, "movement": 4, "convert": 4, "functions": 4,
    "gradcheck": 5, "nn.functional": 5,
    "nn": 6,
    "optim": 7, "serialization": 7, "data": 7,
    "": 8,
}
NEW_TOP_LEVEL = LEVELS["optim"]
FORBIDDEN_EVERYWHERE = {"visualize", "graphviz", "torch"}
ARRAY_LIBRARIES = {"numpy", "cupy", "cupyx", "array_api_strict"}
ARRAY_LIBRARY_HOME = {"backend"}


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def level_of(rel):
    """The level of a module given its path below the package ('nn.rnn', 'optim', '')."""
    parts = rel.split(".") if rel else []
    while parts:
        key = ".".join(parts)
        if key in LEVELS:
            return LEVELS[key]
        parts.pop()
    if rel:  # a new top-level module
        return NEW_TOP_LEVEL
    return LEVELS[""]


def is_module(rel):
    base = ROOT.joinpath(*rel.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def imports(source, rel, is_package):
    """(line, imported module) for every import in `source`; package-internal ones as paths below the package
    ('tensor', 'nn.functional', '' for the root), external ones as 'external:<top-level name>'."""
    here = rel.split(".") if rel else []
    package = here if is_package else here[:-1]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.append((node.lineno, _classify(alias.name.split("."))))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else list(package)
                parts = base + (node.module.split(".") if node.module else [])
                target = [PACKAGE] + parts
            else:
                target = node.module.split(".")
            for alias in node.names:  # `from . import backend` imports the submodule backend
                sub = target + [alias.name]
                out.append((node.lineno, _classify(sub if _is_internal_module(sub) else target)))
    return out


def _is_internal_module(parts):
    return parts[0] == PACKAGE and len(parts) > 1 and is_module(".".join(parts[1:]))


def _classify(parts):
    if parts[0] == PACKAGE:
        return ".".join(parts[1:])
    return "external:" + parts[0]


def violations(source, rel, is_package):
    me = level_of(rel)
    top = rel.split(".")[0]
    found = []
    for line, target in imports(source, rel, is_package):
        if target.startswith("external:"):
            name = target.split(":", 1)[1]
            if name in FORBIDDEN_EVERYWHERE:
                found.append(f"line {line}: imports {name}, which the core must never import")
            elif name in ARRAY_LIBRARIES and top not in ARRAY_LIBRARY_HOME:
                found.append(f"line {line}: imports {name}; array libraries are imported only in backend.py")
            continue
        if target.split(".")[0] in FORBIDDEN_EVERYWHERE:
            found.append(f"line {line}: imports {target}")
        elif level_of(target) > me:
            found.append(f"line {line}: imports {PACKAGE}.{target} (level {level_of(target)}) from level {me}")
    return found


MODULES = sorted(ROOT.rglob("*.py"))


def test_every_module_is_found():
    names = {module_name(p)[0] for p in MODULES}
    assert {"", "helpers", "backend", "autograd", "ops", "tensor"} <= names


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(ROOT)) for p in MODULES])
def test_imports_follow_the_design(path):
    rel, is_package = module_name(path)
    found = violations(path.read_text(encoding="utf-8"), rel, is_package)
    assert not found, f"{PACKAGE}/{path.relative_to(ROOT)}:\n  " + "\n  ".join(found)


# ----- the checker itself must catch what it claims to catch
@pytest.mark.parametrize("rel, is_package, source, expect", [
    ("ops", False, "from .tensor import Tensor", "level 4"),
    ("autograd", False, "from . import ops", "level 3"),
    ("backend", False, "from .autograd import Function", "level 2"),
    ("tensor", False, "from .nn import Module", "level 6"),
    ("nn.functional", False, "from .module import Module", "level 6"),
    ("nn.rnn", False, "from ..optim import SGD", "level 7"),
    ("nn.layers", False, "import tinygrad_rnn as tr", "level 8"),
    ("nn", True, "from .. import optim", "level 7"),
    ("tensor", False, "import numpy as np", "only in backend.py"),
    ("nn.rnn", False, "def f():\n    import cupy\n", "only in backend.py"),
    ("optim.sgd", False, "import torch", "never import"),
    ("", True, "from visualize import graph", "never import"),
    ("serialization", False, "import graphviz.backend", "never import"),
])
def test_checker_flags_violations(rel, is_package, source, expect):
    found = violations(source, rel, is_package)
    assert found and expect in found[0], found


@pytest.mark.parametrize("rel, is_package, source", [
    ("tensor", False, "from . import autograd, ops\nfrom . import backend as B"),
    ("kernels.fused", False, "from ..ops import stable_sigmoid\nfrom ..autograd import Function"),
    ("nn.rnn", False, "from ..kernels import fused\nfrom . import functional as F\nfrom .module import Module"),
    ("nn.functional", False, "from ..tensor import Tensor\nfrom ..kernels import loss"),
    ("optim.adam", False, "from ..nn import Parameter\nfrom .optimizer import Optimizer"),
    ("", True, "from . import nn, optim\nfrom .serialization import save"),
    ("backend", False, "import numpy as np\nimport array_api_strict as xp"),
])
def test_checker_accepts_allowed_imports(rel, is_package, source):
    assert violations(source, rel, is_package) == []


def test_new_modules_get_a_level_and_cannot_be_imported_from_below():
    assert level_of("nn.brand_new_layer") == LEVELS["nn"] and level_of("optim.lion") == LEVELS["optim"]
    assert level_of("kernels.gru_cuda") == LEVELS["kernels"] and level_of("mystery") == NEW_TOP_LEVEL
    assert "level 7" in violations("import tinygrad_rnn.mystery", "ops", False)[0]
