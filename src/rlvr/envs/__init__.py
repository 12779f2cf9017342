"""Environments: multi-turn episodes of model turns and environment (tool, feedback) turns."""
