# nodetls developer entry points. Quick start on a fresh clone: `make demo`, `make test`.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Stamp: the editable install is redone only when the packaging, the compiled binding's sources or
# the compiled core's (src/nodetls/_compiled.py's MODULES) change (or the venv is new); it rebuilds
# both (setup.py), each skipped without a C compiler (and the core without mypy).
STAMP  := $(VENV)/.nodetls-installed
COMPILED := src/nodetls/_engine/_wire.py src/nodetls/_engine/_queries.py src/nodetls/_engine/_callback_bodies.py src/nodetls/_engine/_setup.py src/nodetls/_engine/_records.py src/nodetls/_engine/engine.py src/nodetls/_tls/wrap_handle.py src/nodetls/_tls/wrap.py

.PHONY: demo test lint venv clean fuzz FORCE

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

# Each fuzz harness for FUZZ_SECONDS under atheris (docs/fuzzing.md); `make test` runs the short form.
FUZZ_SECONDS ?= 60
fuzz: $(STAMP)
	$(PY) -m pip install -q -e '.[fuzz]'
	@for h in $$($(PY) -m fuzz.run --list); do \
	  echo "== $$h"; $(PY) -m fuzz.run $$h --seconds $(FUZZ_SECONDS) || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/ruff check .

venv: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# NODETLS_OPENSSL (shared, static, bundled or an OpenSSL build directory:
# src/nodetls/_openssl/_build.py)
# is recorded so that changing it rebuilds the binding.
export NODETLS_OPENSSL
OPENSSL_MODE := $(VENV)/.nodetls-openssl
$(OPENSSL_MODE): FORCE | $(PY)
	@echo '$(NODETLS_OPENSSL)' | cmp -s - $@ || echo '$(NODETLS_OPENSSL)' > $@
FORCE:

$(STAMP): $(OPENSSL_MODE) pyproject.toml setup.py src/nodetls/_openssl/cdef.py src/nodetls/_openssl/_build.py src/nodetls/_openssl/_bundle.py \
		src/nodetls/_openssl/_bytesio.c src/nodetls/_net/_fastpath.c src/nodetls/_compiled.py $(COMPILED) | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

clean:
	rm -rf build dist src/*.egg-info .pytest_cache .ruff_cache
