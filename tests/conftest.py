"""Shared test fixtures: a seeded RNG, and markers for tests that need optional packages."""

import numpy as np
import pytest

import tinygrad_rnn as tr


@pytest.fixture
def rng():
    tr.manual_seed(0)
    return np.random.default_rng(0)


def pytest_collection_modifyitems(config, items):
    # Tests marked no_strict use NumPy-only facilities on purpose; skip them on the strict stand-in.
    if tr.backend.NAME == "strict":
        skip = pytest.mark.skip(reason="needs host NumPy arrays; not run on the strict device stand-in")
        for item in items:
            if "no_strict" in item.keywords:
                item.add_marker(skip)
