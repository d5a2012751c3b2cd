# Two entry points for a fresh clone: `make repro` (the pipeline on default params) and `make test` (every test;
# `make test-fast` leaves out the ones marked slow: stage scripts, dvc repro and pytest run as processes).
# Both create or refresh the virtual environment in .venv first.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python

# The official KMNIST hosts are unreachable on the build machines; use the shared mirror when it is there.
ifneq ($(wildcard ../shared/kmnist),)
export GLYPHGEN_KMNIST_MIRROR ?= $(abspath ../shared/kmnist)
endif

.PHONY: venv repro test test-fast bench clean-venv

venv: $(VENV)/.installed

# Without compiling every installed file to bytecode (a fresh venv in 65 s, not 123): Python compiles a module
# when it is first imported and keeps it, so the environment must let it write bytecode.
unexport PYTHONDONTWRITEBYTECODE

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --no-compile -c constraints.txt -e '.[dev]'
	touch $@

# dvc.yaml's commands call `python`: the venv's bin goes first on PATH so they run in it. Then the table of
# each stage's wall time (stages DVC skipped show their last measurement), also in reports/timings.md.
repro: venv
	started=$$(date +%s) && PATH="$(abspath $(VENV))/bin:$$PATH" dvc repro && \
	$(PY) -m glyphgen timings --since $$started -o reports/timings.md

# One worker per core, each taking whole test files (their module fixtures build pipelines once per file).
test: venv
	$(PY) -m pytest -q -n auto --dist loadfile

test-fast: venv
	$(PY) -m pytest -q -m 'not slow'

bench: venv
	$(PY) benchmarks/versus_reference.py --dvc-dir .

clean-venv:
	rm -rf $(VENV)
