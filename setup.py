"""Build the optional compiled parts (everything else is in pyproject.toml).

* ``nodetls._openssl._binding`` (cffi API mode, ``src/nodetls/_openssl/_build.py``) needs a C
  compiler and OpenSSL 3's headers.  Without them the build step warns and the install goes on:
  nodetls then binds OpenSSL in ABI mode at import, with the same behaviour, a little slower per C
  call.
* The compiled core: the modules ``src/nodetls/_compiled.py`` lists (the TLS wrap and the engine),
  compiled with mypyc when mypy and a C compiler are there.  All or none: when any of them fails,
  none is kept and the build warns; nodetls then runs their ``.py`` files, with the same behaviour.
  The build records each source's SHA-256 (``nodetls/_compiled.json``): a source edited since is
  run as Python, never the stale compiled module (``_compiled.py``).
  ``NODETLS_NO_MYPYC=1`` skips this step.
"""

import ast
import hashlib
import json
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(ROOT, "src")


def compiled_modules() -> list[str]:
    """``MODULES`` of ``src/nodetls/_compiled.py`` (read, not imported: the package is not built)."""
    with open(os.path.join(SRC, "nodetls", "_compiled.py")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
        if isinstance(target, ast.Name) and target.id == "MODULES":
            return list(ast.literal_eval(node.value))
    raise RuntimeError("src/nodetls/_compiled.py defines no MODULES")


def source_of(module: str) -> str:
    return os.path.join(SRC, *module.split(".")) + ".py"


class OptionalBuildExt(build_ext):
    """``build_ext`` whose failures are warnings, not install errors; it also builds the compiled
    core (mypyc), all or none."""

    def finalize_options(self) -> None:
        self._mypyc: list[Extension] = []
        self._failed: list[str] = []
        if os.environ.get("NODETLS_NO_MYPYC", "") in ("", "0") and self._compiler_works():
            self._mypyc = self._mypycify()
            self.distribution.ext_modules = [*(self.distribution.ext_modules or []),
                                             *self._mypyc]
        super().finalize_options()

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - no compiler, no headers, ...: all the same
            self._skipped(exc)
            self._failed.append("*")
        self._finish_core()

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            if ext.name == "nodetls._net._fastpath":  # (independent of the compiled core)
                self.warn(f"nodetls: net.Socket's C data path not built ({exc}); "
                          "nodetls will run the Python methods (same behaviour, slower)")
                return
            self._failed.append(ext.name)
            if ext in self._mypyc:
                self.warn(f"nodetls: compiled core not built ({ext.name}: {exc}); "
                          "nodetls will run its pure-Python modules (same behaviour, slower)")
            else:
                self._skipped(exc)

    def _skipped(self, exc: BaseException) -> None:
        self.warn(f"nodetls: compiled OpenSSL binding not built ({exc}); "
                  "nodetls will use cffi ABI mode (same behaviour, slower C calls)")

    def _compiler_works(self) -> bool:
        """A C file compiles (else mypy's analysis, some 20 s, is not worth starting)."""
        import tempfile

        from setuptools._distutils.ccompiler import new_compiler
        from setuptools._distutils.sysconfig import customize_compiler

        try:
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "probe.c")
                with open(path, "w") as f:
                    f.write("int main(void) { return 0; }\n")
                cc = new_compiler()
                customize_compiler(cc)
                cc.compile([path], output_dir=tmp)
            return True
        except Exception as exc:  # noqa: BLE001 - CompileError, no compiler at all, ...
            self.warn(f"nodetls: compiled core not built (no working C compiler: {exc}); "
                      "nodetls will run its pure-Python modules (same behaviour, slower)")
            return False

    def _mypycify(self) -> list[Extension]:
        """mypyc's C sources and extensions for the compiled core ([] and a warning if mypy or
        its analysis fails). Before any C compiler runs: a compiler that is missing is found by
        the build of the binding's or these extensions."""
        modules = compiled_modules()
        try:
            from mypyc.build import mypycify

            cwd = os.getcwd()
            os.chdir(ROOT)  # mypy's module names come from the paths under src/
            try:
                # (--ignore-missing-imports: pip's isolated build env has mypy, not our runtime
                # dependencies; what they return is then Any, which compiles to generic calls)
                return mypycify(["--ignore-missing-imports",
                                 *(os.path.relpath(source_of(m), ROOT) for m in modules)],
                                opt_level="3", group_name="nodetls._core",
                                target_dir=os.path.join(ROOT, "build", "mypyc"))
            finally:
                os.chdir(cwd)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - no mypy, a type error, ...
            self.warn(f"nodetls: compiled core not built (mypyc: {exc!r}); "
                      "nodetls will run its pure-Python modules (same behaviour, slower)")
            return []

    def _finish_core(self) -> None:
        """All or none: write the manifest if every compiled-core extension was built, else
        remove what was (and any manifest of an earlier build)."""
        if not self._mypyc:
            return
        package_dir = os.path.dirname(self.get_ext_fullpath("nodetls._compiled"))
        manifest = os.path.join(package_dir, "_compiled.json")
        if self._failed:
            for ext in self._mypyc:
                path = self.get_ext_fullpath(ext.name)
                if os.path.exists(path):
                    os.remove(path)
            if os.path.exists(manifest):
                os.remove(manifest)
            return
        hashes = {}
        for module in compiled_modules():
            with open(source_of(module), "rb") as f:
                hashes[module] = hashlib.sha256(f.read()).hexdigest()
        with open(manifest, "w") as f:
            json.dump(hashes, f, indent=1, sort_keys=True)
            f.write("\n")


setup(
    cffi_modules=["src/nodetls/_openssl/_build.py:make_builder"],
    # Optional too: OpenSSL writes the data path's large bytes objects itself (no copy through a
    # buffer of ours); it links against nothing but CPython (see the file).
    ext_modules=[Extension("nodetls._openssl._bytesio", ["src/nodetls/_openssl/_bytesio.c"]),
                 # net.Socket's per-message methods (src/nodetls/_net/fastpath.py): optional
                 Extension("nodetls._net._fastpath", ["src/nodetls/_net/_fastpath.c"])],
    cmdclass={"build_ext": OptionalBuildExt},
)
