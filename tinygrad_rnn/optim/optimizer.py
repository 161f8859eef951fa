"""Optimizer base class: parameter groups, zero_grad, step, and state dicts in PyTorch's layout.
Updates work in place on the raw backend arrays (p.array, p.grad.array): no graph, no Tensor overhead.
Imports: backend, autograd, tensor."""

from .. import backend as B
from ..autograd import bump_version, enable_grad
from ..tensor import Tensor


class Optimizer:
    """Base of every optimizer. `params` is an iterable of Tensors or of dicts {"params": [...], **overrides}
    (parameter groups); `defaults` fills each group's missing hyperparameters. Subclasses implement
    `_update(group)` and may override `_check(group)` to validate a group's hyperparameters."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}  # param -> dict of state arrays and counters (keyed by identity)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params should be an iterable of Tensors or dicts, got a single Tensor")
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    @property
    def _name(self):
        return type(self).__name__

    def _check(self, group):
        lr = group["lr"]
        if not isinstance(lr, (int, float)) or lr < 0:
            raise ValueError(f"{self._name}: invalid learning rate {lr!r}; expected a number >= 0")
        if group.get("weight_decay", 0) < 0:
            raise ValueError(f"{self._name}: invalid weight_decay {group['weight_decay']!r}; expected >= 0")

    def add_param_group(self, group):
        """Add a dict {"params": Tensor or list of Tensors, **hyperparameters}; missing keys take the defaults."""
        if not isinstance(group, dict):
            raise TypeError(f"{self._name}: a parameter group must be a dict, got {type(group).__name__}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: can only optimize Tensors, got {type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError(f"{self._name}: can't optimize a non-leaf Tensor (one made by an op)")
            if not B.is_floating(p.dtype):
                raise TypeError(f"{self._name}: can only optimize floating point Tensors, got dtype {p.dtype}")
            if id(p) in seen:
                raise ValueError(f"{self._name}: a parameter appears twice (in one group or in two groups)")
            seen.add(id(p))
        group = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}, "params": params}
        self._check(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: None by default (the next backward allocates), else zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.array = B.xp.zeros_like(p.grad.array)

    def step(self, closure=None):
        """Update every parameter that has a gradient. `closure` (optional) recomputes and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update(group)
            for p in group["params"]:
                if p.grad is not None:  # written in place (raw arrays): a graph that saved p must not reuse it
                    bump_version(p)
        return loss

    def _update(self, group):
        raise NotImplementedError

    # ----- state dicts: {"state": {index: {name: host array or number}}, "param_groups": [{..., "params": [index]}]}
    def state_dict(self):
        """The optimizer's state as host data: arrays are NumPy copies, parameters are referred to by their index
        over all groups (PyTorch's layout), so tr.save can write it and another process can resume from it."""
        index, groups = {}, []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (B.np.array(B.to_host(v), copy=True) if B.is_array(v) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore state saved by state_dict() into an optimizer built over parameters of the same shapes, in the
        same groups. Arrays are copied to the backend in each parameter's dtype."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{self._name}.load_state_dict: the state has {len(groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        by_index = {}
        for mine, saved in zip(self.param_groups, groups, strict=True):
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(f"{self._name}.load_state_dict: a saved parameter group has {len(saved['params'])} "
                                 f"parameters, the matching group here has {len(mine['params'])}")
            by_index.update(zip(saved["params"], mine["params"], strict=True))
        new_state = {}
        for key, st in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(f"{self._name}.load_state_dict: state for unknown parameter index {key}")
            new_state[p] = {k: self._load_value(p, k, v) for k, v in st.items()}
        for mine, saved in zip(self.param_groups, groups, strict=True):
            for k, v in saved.items():
                if k != "params":
                    mine[k] = tuple(v) if isinstance(self.defaults.get(k), tuple) else v
        self.state = new_state

    def _load_value(self, p, key, v):
        if isinstance(v, Tensor):
            v = v.array
        if B.is_array(v) or isinstance(v, B.np.ndarray):
            host = B.to_host(v) if B.is_array(v) else v
            if tuple(host.shape) != p.shape:
                raise ValueError(f"{self._name}.load_state_dict: state {key!r} has shape {tuple(host.shape)}, "
                                 f"the parameter has shape {p.shape}")
            return B.asarray(B.np.array(host, dtype=B.host_dtype(p.dtype), copy=True), dtype=p.dtype)
        return v

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"
