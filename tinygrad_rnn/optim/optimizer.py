"""Optimizer base class: parameter groups, zero_grad, step, and state dicts in PyTorch's layout.
Updates work in place on the raw backend arrays (p.array, p.grad.array): no graph, no Tensor overhead.
Imports: backend, autograd, tensor, optim.checks."""

import collections
import copy
import math
import numbers

from .. import backend as B
from ..autograd import bump_version, enable_grad
from ..tensor import Tensor
from . import checks

# torch.optim's implementation switches, taken with its signatures and kept in every group as torch keeps them
# (so state dicts carry the same keys). Only maximize changes the numbers; foreach/fused/capturable pick kernels
# and change nothing here; differentiable=True (a graph through the update itself) is refused. A state dict
# without them (an older PyTorch's) loads with these defaults.
SWITCHES = {"maximize": False, "foreach": None, "differentiable": False, "fused": None, "capturable": False}


class Optimizer:
    """Base of every optimizer. `params` is an iterable of Tensors or of dicts {"params": [...], **overrides}
    (parameter groups); `defaults` fills each group's missing hyperparameters. Subclasses implement
    `_update(group)`, `_check(group)` (validate a group's hyperparameters, raising ValueError naming the argument)
    and `_state_spec(group)` (the per-parameter state they keep, for load_state_dict to check)."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        # param -> dict of state arrays and counters (keyed by identity); a defaultdict as torch's, so that
        # opt.state[p] of a parameter not stepped yet is {} rather than a KeyError
        self.state = collections.defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params should be an iterable of Tensors or dicts, got a single Tensor")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: params must be an ordered collection (a list), got a set: the order of "
                            "parameters has to be the same between runs for state_dict to work")
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(f"{self._name}: params should be an iterable of Tensors or dicts, got "
                            f"{type(params).__name__}") from None
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    @property
    def _name(self):
        return type(self).__name__

    # ----- hyperparameters
    def _check(self, group):
        """PyTorch's checks, plus NaN and infinity (which PyTorch lets through for some optimizers)."""
        checks.in_range(self._name, "lr", group["lr"])
        if "weight_decay" in group:
            checks.in_range(self._name, "weight_decay", group["weight_decay"])
        if "eps" in group:
            checks.in_range(self._name, "eps", group["eps"])
        if not isinstance(group.get("maximize", False), bool):
            raise TypeError(f"{self._name}: maximize must be a bool, got {group['maximize']!r}")
        if group.get("differentiable"):
            raise ValueError(f"{self._name}: differentiable=True is not supported (updates run outside the graph)")

    def _grads(self, group):
        """(parameter, gradient array, parameter array) for each parameter of the group that has a gradient; the
        gradient negated under maximize=True (PyTorch's rule: ascend the objective)."""
        maximize = group.get("maximize", False)
        for p in group["params"]:
            if p.grad is not None:
                yield p, (-p.grad.array if maximize else p.grad.array), p.array

    def _state_spec(self, group):
        """({required state name: kind}, {optional state name: kind}), kind "array" (shaped like the parameter),
        "array?" (the same, or None) or "count" (an int); an empty state {} is always allowed (not stepped yet)."""
        return {}, {}

    def add_param_group(self, param_group):
        """Add a dict {"params": Tensor or list of Tensors, **hyperparameters}; missing keys take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}: a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{self._name}: a parameter group needs a 'params' entry")
        params = param_group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: a group's params must be an ordered collection (a list), got a set")
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
        group = {**self.defaults, **{k: v for k, v in param_group.items() if k != "params"}, "params": params}
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
        if closure is not None and not callable(closure):
            raise TypeError(f"{self._name}.step: closure must be callable (it recomputes the loss), got "
                            f"{type(closure).__name__}")
        if closure is not None:
            if not callable(closure):
                raise TypeError(f"{self._name}.step: closure must be callable (or None), got {type(closure).__name__}")
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update(group)
            for p in group["params"]:  # an in-place change, as in torch: a backward that saved p now raises
                if p.grad is not None:
                    bump_version(p)
        return loss

    def _update(self, group):
        raise NotImplementedError

    # ----- state dicts: {"state": {index: {name: host array or int}}, "param_groups": [{..., "params": [index]}]}
    def state_dict(self):
        """The optimizer's state as plain host data: arrays are NumPy copies, numbers and strings as they are,
        parameters referred to by their index over all groups (PyTorch's layout), so tr.save can write it and
        another process can resume from it bit for bit."""
        index, groups = {}, []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            groups.append({**{k: copy.deepcopy(v) for k, v in group.items() if k != "params"}, "params": ids})
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (B.np.array(B.to_host(v), copy=True) if B.is_array(v) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore state saved by state_dict() (or a PyTorch optimizer's, with its tensors turned into arrays)
        into an optimizer built over parameters of the same shapes, in the same groups. Everything is checked and
        converted first; on any error nothing has changed, and the message names the entry, expected and got."""
        where = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            got = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{where}: expected a dict with keys 'param_groups' and 'state', got {got}")
        groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, (list, tuple)) or len(groups) != len(self.param_groups):
            got = len(groups) if isinstance(groups, (list, tuple)) else type(groups).__name__
            raise ValueError(f"{where}: expected {len(self.param_groups)} parameter groups, got {got}")
        if not isinstance(saved_state, dict):
            raise ValueError(f"{where}: expected 'state' to be a dict, got {type(saved_state).__name__}")
        by_index, new_groups = {}, []
        for i, (mine, saved) in enumerate(zip(self.param_groups, groups, strict=True)):
            new_groups.append(self._loaded_group(where, i, mine, saved, by_index))
        new_state = {}
        for key, st in saved_state.items():
            k = int(key) if isinstance(key, (numbers.Integral, str)) and str(key).lstrip("-").isdigit() else key
            if k not in by_index:
                raise ValueError(f"{where}: state[{key!r}] is for no parameter; the groups list indices "
                                 f"{sorted(by_index)}")
            p, gi = by_index[k]
            new_state[p] = self._loaded_state(f"{where}: state[{key!r}]", p, new_groups[gi], st)
        for mine, new in zip(self.param_groups, new_groups, strict=True):  # all checked: now commit
            mine.clear()
            mine.update(new)
        self.state = collections.defaultdict(dict, new_state)

    def _loaded_group(self, where, i, mine, saved, by_index):
        """The group `saved` checked against `mine` and merged into a new dict (mine is not touched)."""
        at = f"{where}: param_groups[{i}]"
        if not isinstance(saved, dict) or "params" not in saved:
            raise ValueError(f"{at}: expected a dict with a 'params' list, got {type(saved).__name__}")
        ids = saved["params"]
        if not isinstance(ids, (list, tuple)) or len(ids) != len(mine["params"]):
            got = len(ids) if isinstance(ids, (list, tuple)) else type(ids).__name__
            raise ValueError(f"{at}: expected {len(mine['params'])} parameter indices (as this optimizer's "
                             f"group {i} has), got {got}")
        for j, k in zip(ids, mine["params"], strict=True):
            if isinstance(j, bool) or not isinstance(j, numbers.Integral):
                raise ValueError(f"{at}['params']: expected int parameter indices, got {j!r}")
            if int(j) in by_index:
                raise ValueError(f"{at}['params']: parameter index {j} appears twice")
            by_index[int(j)] = (k, i)
        missing = [k for k in self.defaults if k not in saved and k not in self._optional_on_load]
        if missing:
            raise ValueError(f"{at}: missing hyperparameter {missing[0]!r} (expected keys {sorted(self.defaults)})")
        # The saved group replaces ours (PyTorch's rule), with our parameters.
        new = {**{k: self.defaults[k] for k in self._optional_on_load if k in self.defaults},
               **{k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}, "params": mine["params"]}
        for k, default in self.defaults.items():
            if isinstance(default, tuple) and isinstance(new[k], list):
                new[k] = tuple(new[k])
        try:
            self._check(new)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{at}: {e}") from None
        return new

    _optional_on_load = frozenset(SWITCHES)  # group keys a loaded state dict may lack (take our defaults)

    def _loaded_state(self, at, p, group, st):
        """One parameter's saved state, checked against _state_spec and converted to backend arrays."""
        if not isinstance(st, dict):
            raise ValueError(f"{at}: expected a dict, got {type(st).__name__}")
        if not st:
            return {}
        required, optional = self._state_spec(group)  # the loaded group's flags (amsgrad, centered, ...)
        kinds = {**required, **optional}
        unknown = [k for k in st if k not in kinds]
        if unknown:
            raise ValueError(f"{at}: unknown state {unknown[0]!r} (expected {sorted(kinds)})")
        missing = [k for k in required if k not in st]
        if missing:
            raise ValueError(f"{at}: missing state {missing[0]!r} (expected {sorted(required)})")
        return {k: self._loaded_value(f"{at}[{k!r}]", p, kinds[k], v) for k, v in st.items()}

    @staticmethod
    def _loaded_value(at, p, kind, v):
        if isinstance(v, Tensor):
            v = v.array
        if kind == "count":
            if B.is_array(v) or isinstance(v, (B.np.ndarray, B.np.generic)):
                host = B.np.asarray(B.to_host(v) if B.is_array(v) else v)
                if host.shape != () or host.dtype.kind not in "iuf":
                    raise ValueError(f"{at}: expected a step count (int), got an array of shape {host.shape} and "
                                     f"dtype {host.dtype}")
                v = host.item()
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0 or int(v) != v:
                raise ValueError(f"{at}: expected a step count (an int >= 0), got {v!r}")
            return int(v)
        if v is None and kind == "array?":
            return None
        if not (B.is_array(v) or isinstance(v, B.np.ndarray)):
            raise ValueError(f"{at}: expected an array of shape {p.shape}, got {type(v).__name__}")
        host = B.to_host(v) if B.is_array(v) else v
        if tuple(host.shape) != p.shape:
            raise ValueError(f"{at}: expected shape {p.shape} (the parameter's), got {tuple(host.shape)}")
        if host.dtype.kind not in "iuf":
            raise ValueError(f"{at}: expected a numeric array, got dtype {host.dtype}")
        return B.asarray(B.np.array(host, dtype=B.host_dtype(p.dtype), copy=True), dtype=p.dtype)

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"
