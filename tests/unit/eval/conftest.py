"""Fixtures for the evaluation tests."""

import pytest

from eval_fixtures import synthetic_result, write_synthetic_run


@pytest.fixture
def make_result():
    return synthetic_result


@pytest.fixture
def synthetic_run(tmp_path):
    return write_synthetic_run(tmp_path / "run")
