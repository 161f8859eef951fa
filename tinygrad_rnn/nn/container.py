"""Containers of modules: Sequential, ModuleList, ModuleDict (children named "0", "1", ... or by key, so
parameter names match PyTorch's: "0.weight", "layers.1.bias"). Imports: checks, nn.module."""

from collections import OrderedDict

from .. import checks
from .module import Module


def _check_module(owner, m):
    if not isinstance(m, Module):
        raise TypeError(f"{owner}: expected an nn.Module, got {type(m).__name__}")
    return m


class Sequential(Module):
    """Modules applied in order: Sequential(a, b, c)(x) == c(b(a(x))). Also Sequential(OrderedDict(name=module)).
        model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))"""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                self.add_module(str(name), _check_module("Sequential", m))
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), _check_module("Sequential", m))

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        mods = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(mods[idx]))
        idx = checks.size("Sequential", "index", idx, minimum=None)
        if not -len(mods) <= idx < len(mods):
            raise IndexError(f"Sequential: index {idx} is out of range for {len(mods)} modules")
        return mods[idx][1]

    def append(self, module):
        self.add_module(str(len(self._modules)), _check_module("Sequential", module))
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain Python list would hide them)."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def _key(self, idx):
        n, idx = len(self._modules), checks.size("ModuleList", "index", idx, minimum=None)
        if not -n <= idx < n:
            raise IndexError(f"ModuleList: index {idx} is out of range for {n} modules")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[self._key(idx)]

    def __setitem__(self, idx, module):
        self.add_module(self._key(idx), _check_module("ModuleList", module))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def append(self, module):
        self.add_module(str(len(self._modules)), _check_module("ModuleList", module))
        return self

    def extend(self, modules):
        if isinstance(modules, Module) or not hasattr(modules, "__iter__"):
            raise TypeError(f"ModuleList: expected an iterable of Modules, got {type(modules).__name__}")
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        mods = list(self._modules.values())
        mods.insert(index, _check_module("ModuleList", module))
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)


class ModuleDict(Module):
    """A dict of modules (string keys, insertion order) whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: keys must be strings, got {type(key).__name__}")
        self.add_module(key, _check_module("ModuleDict", module))

    def __delitem__(self, key):
        del self._modules[key]

    def __contains__(self, key):
        return key in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules):
        pairs = modules.items() if hasattr(modules, "items") else modules
        if isinstance(pairs, (str, Module)) or not hasattr(pairs, "__iter__"):
            raise TypeError(f"ModuleDict: expected a dict or (key, Module) pairs, got {type(modules).__name__}")
        pairs = list(pairs)
        if not all(isinstance(p, (tuple, list)) and len(p) == 2 for p in pairs):
            raise TypeError("ModuleDict: expected a dict or (key, Module) pairs")
        for k, m in pairs:
            self[k] = m
