"""Build the optional compiled OpenSSL binding (everything else is in pyproject.toml).

``nodetls._openssl._binding`` (cffi API mode, ``src/nodetls/_openssl/_build.py``) needs a C compiler
and OpenSSL 3's headers.  Without them the build step warns and the install goes on: nodetls then
binds OpenSSL in ABI mode at import, with the same behaviour, a little slower per C call.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """``build_ext`` whose failure is a warning, not an install error."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - no compiler, no headers, ...: all the same
            self._skipped(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._skipped(exc)

    def _skipped(self, exc: BaseException) -> None:
        self.warn(f"nodetls: compiled OpenSSL binding not built ({exc}); "
                  "nodetls will use cffi ABI mode (same behaviour, slower C calls)")


setup(
    cffi_modules=["src/nodetls/_openssl/_build.py:ffibuilder"],
    # Optional too: OpenSSL writes the data path's large bytes objects itself (no copy through a
    # buffer of ours); it links against nothing but CPython (see the file).
    ext_modules=[Extension("nodetls._openssl._bytesio", ["src/nodetls/_openssl/_bytesio.c"])],
    cmdclass={"build_ext": OptionalBuildExt},
)
