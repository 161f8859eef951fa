"""Which classes tr.load may rebuild: tinygrad_rnn's own Modules always, user classes only when allowed with
safe_globals([...]) / add_safe_globals([...]) (PyTorch's names); a function an attribute refers to (an activation)
only when allowed. Classes are found by name among classes that already exist; nothing is ever imported.
Imports: the standard library, nn.module."""

import contextlib
import contextvars
from pickle import UnpicklingError as _PickleUnpicklingError  # the exception class only: nothing here unpickles

from ..nn.module import Module

_added = []  # add_safe_globals: process-wide, as in PyTorch
_scoped = contextvars.ContextVar("tinygrad_rnn_safe_globals", default=())  # safe_globals(): this thread/task only


class UnsafeGlobalError(_PickleUnpicklingError, ValueError):
    """tr.load met a class or function that is not allowed. A pickle.UnpicklingError, like torch.load's error for
    the same case (so `except pickle.UnpicklingError` written for torch catches it), and a ValueError."""


def _entries(objs, fn):
    if not isinstance(objs, (list, tuple)):
        raise TypeError(f"{fn}: expected a list of classes (or (class, 'module.Name') pairs), got "
                        f"{type(objs).__name__}")
    out = []
    for obj in objs:
        if isinstance(obj, tuple):
            if len(obj) != 2 or not isinstance(obj[1], str):
                raise TypeError(f"{fn}: a pair must be (class, 'module.Name'), got {obj!r}")
            out.append((obj[0], obj[1]))
        elif isinstance(obj, type) or callable(obj):
            out.append((obj, None))
        else:
            raise TypeError(f"{fn}: expected classes or functions, got {obj!r}")
    return out


def add_safe_globals(safe_globals):
    """Allow these classes (and functions, e.g. an activation a module keeps as an attribute) in every later
    tr.load (process-wide). Entries: classes or functions, or (obj, "module.Name") pairs to allow one under
    another name."""
    _added.extend(_entries(safe_globals, "add_safe_globals"))


@contextlib.contextmanager
def safe_globals(safe_globals):
    """with tr.serialization.safe_globals([MyModel]): model = tr.load(f) -- allow these classes inside the block
    (in this thread or asyncio task only)."""
    token = _scoped.set(_scoped.get() + tuple(_entries(safe_globals, "safe_globals")))
    try:
        yield
    finally:
        _scoped.reset(token)


def get_safe_globals():
    """The allowed user entries (add_safe_globals, then the enclosing safe_globals blocks), as given."""
    return [obj if name is None else (obj, name) for obj, name in (*_added, *_scoped.get())]


def clear_safe_globals():
    """Forget every add_safe_globals entry (safe_globals blocks end on their own)."""
    _added.clear()


def class_name(cls):
    """The name a checkpoint records for a class: 'module:qualname'."""
    return f"{cls.__module__}:{cls.__qualname__}"


def dotted_name(name):
    """'pkg.mod:Qual.name' -> 'pkg.mod.Qual.name', the form safe_globals aliases and messages use."""
    return name.replace(":", ".", 1)


def _module_classes():
    """Every nn.Module subclass defined so far (walked from Module itself: nothing is imported)."""
    seen, stack = [], [Module]
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return seen


def _is_framework(cls):
    return cls.__module__ == "tinygrad_rnn" or cls.__module__.startswith("tinygrad_rnn.")


def _allowed():
    """(dotted name, obj) for every allowed user entry, the latest first."""
    for obj, alias in reversed((*_added, *_scoped.get())):
        name = alias if alias is not None else dotted_name(class_name(obj)) if hasattr(obj, "__qualname__") else None
        if name is not None:
            yield name, obj


def resolve_function(name, path, where):
    """The function a checkpoint refers to, only if the caller allowed it (framework functions too, as in
    PyTorch): a restored model calls what its attributes hold."""
    dotted = dotted_name(name)
    for allowed, obj in _allowed():
        if allowed == dotted and callable(obj) and not isinstance(obj, type):
            return obj
    short = dotted.rsplit(".", 1)[-1]
    raise UnsafeGlobalError(
        f"tr.load: {path} refers to the function {dotted} at {where}, which is not allowed. If you trust it, allow "
        f"it with tr.serialization.safe_globals([..., {short}]) or add_safe_globals([{short}]). Nothing from the "
        "file was imported or called.")


def resolve(name, weights_only, path, where):
    """The Module class a checkpoint names, if it is allowed; else UnsafeGlobalError saying how to allow it."""
    dotted = dotted_name(name)
    candidates = [c for c in _module_classes() if dotted_name(class_name(c)) == dotted]
    framework = [c for c in candidates if _is_framework(c)]
    if framework:
        return framework[0]
    for allowed, obj in _allowed():
        if allowed == dotted:
            if not (isinstance(obj, type) and issubclass(obj, Module)):
                raise UnsafeGlobalError(f"tr.load: {path} asks for {dotted} at {where}, which is allowed but is not an "
                                       "nn.Module class; a checkpoint can only rebuild Modules")
            return obj
    if weights_only is False and len(candidates) == 1:
        return candidates[0]  # the caller trusts the file: any Module class that already exists, still no import
    short = dotted.rsplit(".", 1)[-1]
    extra = (f" (weights_only=False found {len(candidates)} classes of that name; allow the right one)"
             if weights_only is False and candidates else "")
    raise UnsafeGlobalError(
        f"tr.load: {path} holds a {dotted} at {where}, which is not an allowed class{extra}. If you trust it, allow "
        f"it with `with tr.serialization.safe_globals([{short}]): tr.load(...)` or "
        f"tr.serialization.add_safe_globals([{short}]); tinygrad_rnn's own layers are always allowed. Nothing from "
        "the file was imported or called.")


def is_allowed(tag, name):
    """Whether tr.load (weights_only=True) would accept this class (tag "module") or function (tag "function")."""
    try:
        if tag == "module":
            resolve(name, True, "", "")
        else:
            resolve_function(name, "", "")
    except UnsafeGlobalError:
        return False
    return True
