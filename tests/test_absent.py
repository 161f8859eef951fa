"""PyTorch features tinygrad_rnn lacks give an AttributeError at the public surface that names them (absent.py);
the table lists only names that really are absent."""

import importlib

import pytest

from tinygrad_rnn.absent import ABSENT

CASES = [(torch_module, name) for torch_module, names in ABSENT.items() for name in names]


def ours(torch_module):
    return importlib.import_module("tinygrad_rnn" + torch_module[len("torch"):])


@pytest.mark.parametrize("torch_module, name", CASES, ids=[f"{m}.{n}" for m, n in CASES])
def test_absent_feature_names_itself(torch_module, name):
    module = ours(torch_module)
    with pytest.raises(AttributeError) as info:
        getattr(module, name)
    message = str(info.value)
    assert f"PyTorch's {torch_module}.{name} is not implemented in tinygrad_rnn" in message
    assert message.startswith(f"{module.__name__}.{name}: ")
    assert not hasattr(module, name)


@pytest.mark.parametrize("torch_module", sorted(ABSENT))
def test_unknown_name_points_at_the_readme(torch_module):
    module = ours(torch_module)
    with pytest.raises(AttributeError, match=rf"module '{module.__name__}' has no attribute 'no_such_thing' \(where "
                                             rf"PyTorch has {torch_module}.no_such_thing.*Coming from PyTorch"):
        _ = module.no_such_thing
    with pytest.raises(AttributeError, match=r"^module 'tinygrad_rnn[.a-z]*' has no attribute '__wrapped__'$"):
        _ = module.__wrapped__


def test_from_import_of_absent_name_is_an_import_error():
    with pytest.raises(ImportError, match="cannot import name 'jit'"):
        from tinygrad_rnn import jit  # noqa: F401
