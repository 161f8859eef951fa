"""One table of bad inputs across the public API (rows in bad_inputs_tensor.py and bad_inputs_nn.py): each row is a
call, the error type, a regex its message must match and, for stateful objects (modules, tensors, optimizers,
schedulers, checkpoint files), a check that the failed call changed nothing. test_bad_inputs_coverage.py walks the API
and fails when a public callable has neither a row nor a commented exemption."""

import bad_inputs_nn  # noqa: F401  (registers its rows)
import bad_inputs_tensor  # noqa: F401  (registers its rows)
import pytest
from bad_inputs_table import ROWS, same


@pytest.mark.parametrize("name, call, exc, match, make, state", ROWS)
def test_bad_input(name, call, exc, match, make, state, tmp_path):
    obj = make(tmp_path) if make else None
    before = state(obj) if state else None
    with pytest.raises(exc, match=match):
        call(obj) if make else call()
    if state:
        assert same(before, state(obj)), f"{name}: the failed call changed the object"


def test_the_table_is_big_enough():
    assert len(ROWS) >= 60
