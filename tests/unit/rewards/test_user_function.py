"""User reward functions by module path or by file path; a file function survives pickling into
the verifier pool's worker processes (where the file's module is not importable by name)."""

import pickle

import pytest

from rlvr.configs.reward import PythonTerm
from rlvr.rewards.pool import WorkerPool
from rlvr.rewards.user_function import FileFunction, load_function
from rlvr.types import RewardResult, TaskRow

SOURCE = '''
from rlvr.types import RewardResult

def shout(completion, row):
    return RewardResult.scored(float(completion.isupper()), "upper" if completion.isupper() else "lower")
'''
ROW = TaskRow("r0", "say hi", "HI")


@pytest.fixture
def reward_file(tmp_path):
    path = tmp_path / "my_reward.py"
    path.write_text(SOURCE)
    return path


def test_a_file_function_scores(reward_file):
    fn = load_function(f"{reward_file}:shout")
    assert isinstance(fn, FileFunction)
    assert fn("HI", ROW) == RewardResult.scored(1.0, "upper")
    assert fn("hi", ROW).score == 0.0


def test_a_file_function_pickles_without_its_module(reward_file):
    fn = load_function(f"{reward_file}:shout")
    clone = pickle.loads(pickle.dumps(fn))
    assert clone._fn is None and clone("HI", ROW).score == 1.0


def test_a_file_function_runs_in_the_worker_pool(reward_file):
    fn = load_function(f"{reward_file}:shout")
    with WorkerPool(workers=1, deadline_s=20) as pool:
        results = pool.map(fn, [("HI", ROW), ("hi", ROW)])
    assert [r.score for r in results] == [1.0, 0.0]


def test_a_module_function_loads():
    fn = load_function("rlvr.rewards.format:well_formed")
    assert callable(fn)


@pytest.mark.parametrize("path, message", [
    ("missing_file.py:shout", "file not found: missing_file.py"),
    ("json:no_such_function", "'json' has no function 'no_such_function'"),
    ("no_such_module_xyz:f", "cannot import 'no_such_module_xyz'"),
])
def test_bad_paths_name_the_problem(path, message):
    with pytest.raises(ValueError, match=message):
        load_function(path)


def test_a_file_without_the_function_fails_at_load(reward_file):
    with pytest.raises(ValueError, match="has no function 'whisper'"):
        load_function(f"{reward_file}:whisper")


@pytest.mark.parametrize("path", ["pkg.mod:fn", "rewards/my.py:fn", "./a b/c.py:score"])
def test_the_config_accepts_both_shapes(path):
    assert PythonTerm(path=path).path == path


@pytest.mark.parametrize("path", ["pkg.mod", "dir/notes.txt:fn", "mod:fn()"])
def test_the_config_rejects_other_shapes(path):
    with pytest.raises(ValueError, match="package.module:function"):
        PythonTerm(path=path)
