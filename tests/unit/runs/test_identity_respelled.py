"""A checkpoint whose config an older rlvr wrote (renamed keys, keys added since) resumes with a
note; a real change is still refused and is named in today's spelling."""

from rlvr.config import load_config
from rlvr.runs.identity import _sha, hashed_config, mismatches, respelled_keys


def _identity(cfg_json):
    return {"config": cfg_json, "config_sha256": _sha(hashed_config(cfg_json)),
            "dataset": {"rows": 1, "sha256": "x"}, "tokenizer_sha256": "t", "world_size": 1}


def _old_spelling(cfg_json):
    """The config as the previous release wrote it: hf knobs directly under rollout, no data."""
    old = {k: v for k, v in cfg_json.items() if k != "data"}
    rollout = dict(old["rollout"])
    engine = rollout.pop("engine")
    rollout.update(engine=engine["name"], decoder=engine["decoder"],
                   batch_size=engine["batch_size"])
    rollout.pop("sync", None)
    old["rollout"] = rollout
    return old


def test_an_older_spelling_is_not_a_change():
    current = load_config(None, []).model_dump(mode="json")
    saved = _old_spelling(current)
    assert _sha(hashed_config(saved)) != _sha(hashed_config(current))
    assert "config" not in mismatches(_identity(saved), _identity(current))
    keys = respelled_keys(saved, current)
    assert "rollout.engine.decoder" in keys and "data.selection.name" in keys


def test_a_real_change_is_refused_and_named_in_todays_spelling():
    current = load_config(None, ["optim.lr=0.5"]).model_dump(mode="json")
    saved = _old_spelling(load_config(None, []).model_dump(mode="json"))
    problem = mismatches(_identity(saved), _identity(current))["config"]
    assert problem == "config changed: optim.lr: 1e-05 -> 0.5"
    assert respelled_keys(saved, current) == []
