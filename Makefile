# nodetls developer entry points. Quick start on a fresh clone: `make demo`, `make test`.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Stamp: the editable install is redone only when pyproject.toml changes (or the venv is new).
STAMP  := $(VENV)/.nodetls-installed

.PHONY: demo test lint venv clean

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check .

venv: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

clean:
	rm -rf build dist src/*.egg-info .pytest_cache .ruff_cache
