# Two entry points for a fresh machine (see README.md):
#   make quickstart   set up, then train the embedded model on the quickstart task
#   make test         set up, then run the default test suite (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# On this project's CPU machines `torch==2.13.0` resolves to a local CPU build; on a GPU machine
# install the torch you want into the venv first (or set TORCH_SPEC) so pip does not replace it.
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup quickstart tool-calculator test test-slow test-envs system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

# Each quickstart gets its own run directory (a run directory with checkpoints is only resumed).
quickstart: setup
	$(BIN)/rlvr train configs/quickstart.yaml log.run_dir=runs/quickstart-$$(date +%Y%m%d-%H%M%S)

# The tool example (docs/environments.md): an SFT warm start on calculator episodes, then RL.
tool-calculator: setup
	@ts=$$(date +%Y%m%d-%H%M%S); \
	$(BIN)/rlvr sft configs/tool_calculator_sft.yaml log.run_dir=runs/tool_calculator_sft-$$ts && \
	$(BIN)/rlvr train configs/tool_calculator.yaml model.name=runs/tool_calculator_sft-$$ts/final \
	  log.run_dir=runs/tool_calculator-$$ts

# System packages used by the tests: bubblewrap (the code sandbox) and chromium (the HTML report
# test). Installed only when missing and when we are root; the tests skip with a reason otherwise.
system-deps:
	@missing=""; command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing:$$missing"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
		|| echo "warning: could not install$$missing; the tests that need it will skip"; \
	fi

test: setup system-deps
	$(BIN)/pytest -m "not slow and not gpu" -q --durations=25

test-slow: setup system-deps
	$(BIN)/pytest -m "slow" -q

# The environment adapters' tests with their libraries installed (opt-in extras: each pulls
# ~30-40 packages; without them those tests skip with the reason).
test-envs: setup
	$(BIN)/pip install -q -e '.[verifiers,openenv]' "$(TORCH_SPEC)"
	$(BIN)/pytest -q tests/unit/envs/test_adapters.py tests/integration/test_env_adapters_train.py

clean:
	rm -rf $(VENV) runs .pytest_cache
