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

# The version-sensitive part of the suite on another CPython (`make test-py3.12`, `make
# test-py3.13`, `make test-py3.14`; nodetls supports 3.11+): the asyncio-facing layers, the
# engine, faults, fleet processes, the benchmark harness (its profiler traces the interpreter),
# the README and the builds, in a venv of that Python's own (.venv-3.X) over this tree, reusing
# build/openssl.
# The interpreter: PYTHON_3X (e.g. PYTHON_312=/path/to/python3.12), else python3.X on PATH, else
# pyenv's: the first that runs (a pyenv shim on PATH may not). The compiled modules are per
# version (cpython-3XX .so); the cffi binding is abi3.
COMPAT_TESTS ?= tests/engine tests/net tests/aio tests/stream tests/events tests/tls \
	tests/faults tests/fleet tests/test_benchmarks.py tests/test_benchmarks_orphans.py \
	tests/test_run_process.py tests/test_readme.py tests/test_examples.py \
	tests/test_compiled_core.py tests/openssl/test_binding.py
test-py3.%: FORCE
	@py=""; for c in "$(PYTHON_3$*)" "$$(command -v python3.$* || true)" \
	    $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.$*.*/bin/python3.$* 2>/dev/null); do \
	    if [ -n "$$c" ] && "$$c" -c '' >/dev/null 2>&1; then py="$$c"; break; fi; done; \
	  test -n "$$py" || { echo "make: no working python3.$* (set PYTHON_3$*)" >&2; exit 1; }; \
	  test -x .venv-3.$*/bin/python || "$$py" -m venv .venv-3.$*
	.venv-3.$*/bin/python -m pip install -q -e '.[test]'
	.venv-3.$*/bin/python -m pytest -q -p no:cacheprovider $(COMPAT_TESTS)

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
