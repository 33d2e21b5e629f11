"""Build ``nodetls._openssl._binding``: the same declarations as ABI mode, compiled (cffi API mode).

API mode calls each OpenSSL function from generated C instead of through libffi: about half the
overhead per call (``benchmarks/README.md``); it also carries cdef.py's HELPERS (the data path's
loops, the session-ticket callbacks).  It needs a C compiler and OpenSSL 3's headers; when either
is missing the build is skipped and :mod:`nodetls._openssl` falls back to ABI mode.

How it links OpenSSL is chosen by ``NODETLS_OPENSSL`` at build time (:func:`link_options`):

* unset (the default): ``bundled`` when it can be had, else ``shared`` (with a warning saying
  why): OpenSSL linked into the binding as Node links it into its binary;
* ``shared``: the system's shared ``libssl``/``libcrypto``, so the distribution's security
  updates reach nodetls with no rebuild;
* ``static``: the system's static archives (``libssl.a``/``libcrypto.a``, Debian's
  ``libssl-dev``) linked into the module, their symbols hidden;
* a directory: an OpenSSL source tree configured and built as static libraries (``DIR/libssl.a``,
  ``DIR/libcrypto.a``, ``DIR/include``), linked the same way: Node's way (its own build inside its
  binary).  ``docs/DESIGN.md``, "The OpenSSL binding", gives the build line and the measured
  difference;
* ``bundled``: such a directory made by ``_bundle.py`` (the pinned, verified OpenSSL release,
  fetched and built once, then reused); an error when that fails.

A static link keeps that copy of OpenSSL until nodetls is rebuilt: its security updates are then
the installer's to apply.

This file runs outside the package (setup.py loads it by path, before nodetls is importable), so it
imports nothing from nodetls: ``cdef.py`` is read by path too.  :func:`make_builder` is what
setup.py's ``cffi_modules`` calls (importing this module links nothing: the default may fetch and
build OpenSSL); :func:`build` compiles under a directory and never raises.
"""

from __future__ import annotations

import os
import runpy
from typing import Any

from cffi import FFI

MODULE = "nodetls._openssl._binding"

_HERE = os.path.dirname(os.path.abspath(__file__))

# The cdef says ``OPENSSL_STACK *`` for every ``STACK_OF(T) *`` (ABI mode has no typed stacks); the
# headers' typed stacks are distinct C types, so these macros cast, as OpenSSL's own sk_T macros do.
# ``(name)(...)`` calls the function itself: a function-like macro does not expand inside its body.
SOURCE = """
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#define NODETLS_CDEF_HASH %(hash)dLL
#define NODETLS_STATIC %(static)d

#define X509_STORE_CTX_get0_chain(c) ((OPENSSL_STACK *)(X509_STORE_CTX_get0_chain)(c))
#define SSL_get_peer_cert_chain(s) ((OPENSSL_STACK *)(SSL_get_peer_cert_chain)(s))
#define SSL_get0_verified_chain(s) ((OPENSSL_STACK *)(SSL_get0_verified_chain)(s))
#define SSL_get_ciphers(s) ((OPENSSL_STACK *)(SSL_get_ciphers)(s))
#define SSL_CTX_get_client_CA_list(c) ((OPENSSL_STACK *)(SSL_CTX_get_client_CA_list)(c))
#define SSL_CTX_set_client_CA_list(c, l) \\
    (SSL_CTX_set_client_CA_list)((c), (STACK_OF(X509_NAME) *)(l))
#define SSL_dup_CA_list(l) \\
    ((OPENSSL_STACK *)(SSL_dup_CA_list)((const STACK_OF(X509_NAME) *)(l)))
#define SSL_set_client_CA_list(s, l) \\
    (SSL_set_client_CA_list)((s), (STACK_OF(X509_NAME) *)(l))
#define PKCS12_parse(p, pw, k, c, ca) \\
    (PKCS12_parse)((p), (pw), (k), (c), (STACK_OF(X509) **)(ca))
"""


def _cdef_module() -> dict[str, Any]:
    return runpy.run_path(os.path.join(_HERE, "cdef.py"))


def _archive(name: str) -> str | None:
    """The system's static ``name`` (e.g. ``libssl.a``) as the C compiler finds it, or None."""
    import shutil
    import subprocess

    cc = os.environ.get("CC", "cc").split()[0]
    if shutil.which(cc) is None:
        return None
    try:
        out = subprocess.run([cc, f"-print-file-name={name}"], capture_output=True, text=True,
                             timeout=30, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out if os.path.isabs(out) and os.path.isfile(out) else None


#: ``set_source`` keyword arguments linking the system's shared libraries.
SHARED: dict[str, Any] = {"libraries": ["ssl", "crypto"]}


def _default_bundle() -> str | None:
    """The default's bundled build directory (``_bundle.ensure``), or None with a warning saying
    why the shared libraries are linked instead: no C toolchain to build OpenSSL with (checked
    before anything is fetched), or the fetch, the check or the build failed."""
    import shutil
    import warnings

    tools = [os.environ.get("CC", "cc").split()[0], "make", "perl"]
    missing = [t for t in tools if shutil.which(t) is None]
    try:
        if missing:
            raise RuntimeError(f"no {', '.join(missing)} to build it with")
        tree: str = runpy.run_path(os.path.join(_HERE, "_bundle.py"))["ensure"]()
        return tree
    except Exception as exc:  # noqa: BLE001 - offline, no toolchain, a failed build: all alike
        warnings.warn(f"nodetls: the bundled OpenSSL was not built ({exc}); linking the system's "
                      "shared libssl instead (NODETLS_OPENSSL=shared chooses it without trying)",
                      stacklevel=2)
        return None


def link_options(mode: str | None = None) -> tuple[dict[str, Any], bool]:
    """``(set_source keyword arguments, static)`` for ``NODETLS_OPENSSL`` (or ``mode``); a
    ``ValueError`` naming ``NODETLS_OPENSSL`` when the static libraries it asks for are missing
    (``bundled``: an error naming it when the pinned source cannot be fetched, is not the pinned
    one, or does not build; unset: the shared libraries then, with a warning)."""
    mode = os.environ.get("NODETLS_OPENSSL", "") if mode is None else mode
    if mode == "shared":
        return dict(SHARED), False
    if mode == "":
        tree = _default_bundle()
        if tree is None:
            return dict(SHARED), False
        mode = tree
    elif mode == "bundled":
        mode = runpy.run_path(os.path.join(_HERE, "_bundle.py"))["ensure"]()
    if mode == "static":
        archives = [_archive("libssl.a"), _archive("libcrypto.a")]
        include: list[str] = []
        where = "the C compiler's library path"
    else:
        archives = [os.path.join(mode, "libssl.a"), os.path.join(mode, "libcrypto.a")]
        include = [os.path.join(mode, "include")]
        where = repr(mode)
    missing = [a or "?" for a in archives if not a or not os.path.isfile(a)]
    if missing or (include and not os.path.isfile(os.path.join(include[0], "openssl", "ssl.h"))):
        raise ValueError(f"NODETLS_OPENSSL={mode!r}: no static libssl.a/libcrypto.a (and headers)"
                         f" in {where}; missing {missing or include}")
    # --exclude-libs: OpenSSL's symbols stay inside the module, so they neither clash with nor
    # replace the shared libssl that Python's ssl module loads into the same process.
    return {"include_dirs": include, "extra_objects": archives,
            "extra_link_args": ["-Wl,--exclude-libs,ALL"],
            "libraries": ["pthread", "dl"]}, True


def make_builder() -> FFI:
    """An ``FFI`` ready to compile: cdef.py's declarations plus the hash that ties the built module
    to them (the loader refuses a module built from other declarations)."""
    cdef = _cdef_module()
    builder = FFI()
    builder.cdef(cdef["CDEF"] + cdef["HELPERS"])
    builder.cdef("#define NODETLS_CDEF_HASH ...")
    builder.cdef("#define NODETLS_STATIC ...")
    link, static = link_options()
    builder.set_source(MODULE, SOURCE % {"hash": cdef["CDEF_HASH"], "static": int(static)}
                       + cdef["HELPERS_SOURCE"], **link)
    return builder


def build(tmpdir: str, verbose: bool = False) -> str | None:
    """Compile the module under ``tmpdir``; its path, or ``None`` (with a warning) on any failure:
    no compiler, no OpenSSL headers, headers that disagree with the cdef."""
    import warnings

    try:
        return str(make_builder().compile(tmpdir=tmpdir, verbose=verbose))
    except Exception as exc:  # noqa: BLE001 - any failure means "no compiled binding"
        warnings.warn(f"nodetls: compiled OpenSSL binding not built ({exc}); ABI mode is used",
                      stacklevel=2)
        return None

