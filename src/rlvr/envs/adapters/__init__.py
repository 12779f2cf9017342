"""Adapters that run environments written for other libraries (verifiers, OpenEnv) in-process
behind rlvr's text protocol (envs/base.py)."""
