"""``NODE_EXTRA_CA_CERTS``: extra trusted roots for the default store, as Node v20 reads them.

Node (``UseExtraCaCerts`` in ``crypto_context.cc``, called once from ``node.cc`` at startup) adds
every PEM ``CERTIFICATE`` of the file named by ``NODE_EXTRA_CA_CERTS`` to its process-wide root
store, the one a context created without ``ca`` shares (``addRootCerts``).  So:

* the extra roots are trusted by every context without ``ca`` (client and server side), never by
  one with ``ca`` (``ca`` replaces the default roots entirely), and they are not in
  ``tls.rootCertificates``;
* a context that must modify its store (``crl``, or CA certificates from a ``pfx``) gets a
  private copy of the *bundled* roots only (``NewRootCertStore``), without the extra ones: a Node
  v20 quirk (nodejs/node#32010), kept here;
* a file that cannot be opened, or a malformed PEM block, prints one line on stderr (a plain
  ``fprintf``, not ``process.emitWarning``; here a WARNING of the ``nodetls`` logger, which
  Python writes to stderr as that line when logging is not configured)::

      Warning: Ignoring extra certs from `<file>`, load failed: <OpenSSL error string>

  and the process goes on; the certificates read before a malformed block stay trusted.  Text
  that holds no PEM block at all (an empty file, DER, a directory) is no error and adds nothing;
  an empty value is ignored; a set-uid/set-gid process ignores the variable (Node's
  ``SafeGetenv``).

When: Node reads the variable before running any JavaScript.  nodetls reads it once, when the
shared default store is first built (the first context created without ``ca``), not at import:
importing nodetls stays free of file I/O and of output, a program that never trusts the default
roots never reads the file, and a value set in ``os.environ`` before the first such context
counts.  Later changes have no effect, as in Node.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from .._openssl import ffi, lib
from .pem import _read_blocks, free_x509s

__all__ = ["ENV_NAME", "add_extra_ca_certs", "extra_ca_certs_loaded"]

ENV_NAME = "NODE_EXTRA_CA_CERTS"
_log = logging.getLogger("nodetls")

_ERR_SYSTEM_FLAG = 0x80000000  # OpenSSL 3: a system error's code is this flag | errno
_loaded = False


def extra_ca_certs_loaded() -> bool:
    """Whether the extra certificates were read without error (Node's internal
    ``isExtraRootCertsFileLoaded``, for tests): false until the default store is built."""
    return _loaded


def _safe_getenv(name: str) -> str | None:
    """``os.environ[name]``, or ``None`` in a set-uid/set-gid process (Node's ``SafeGetenv``)."""
    if hasattr(os, "geteuid") and (
        os.getuid() != os.geteuid() or os.getgid() != os.getegid()
    ):
        return None
    return os.environ.get(name)


def _error_string(code: int) -> bytes:
    """OpenSSL's ``ERR_error_string`` of ``code`` (``error:80000002:system library::...``)."""
    buf = ffi.new("char[]", 256)
    lib.ERR_error_string_n(code, buf, 256)
    return bytes(ffi.string(buf))


def _warn(file: str, code: int) -> None:
    """Node's one line (a ``fprintf`` to stderr there), as a WARNING of the ``nodetls`` logger:
    with logging not configured, Python's last-resort handler writes exactly that line to
    stderr; an application that configures logging decides where it goes."""
    _log.warning("Warning: Ignoring extra certs from `%s`, load failed: %s", file,
                 _error_string(code).decode("ascii", "replace"))


def _read_file(file: str) -> tuple[bytes, int]:
    """The file's bytes and 0, or ``b""`` and the OpenSSL code of a system error (as
    ``BIO_new_file`` reports it)."""
    try:
        with open(file, "rb") as f:
            return f.read(), 0
    except IsADirectoryError:  # fopen() opens a directory; reading it finds no PEM block
        return b"", 0
    except OSError as exc:
        return b"", _ERR_SYSTEM_FLAG | (exc.errno or 0)


def add_extra_ca_certs(store: Any) -> bool:
    """Add the certificates of ``$NODE_EXTRA_CA_CERTS`` to ``store`` (Node's
    ``UseExtraCaCerts``/``AddCertsFromFile``); the root store calls this once, when it builds the
    shared default store.  Prints Node's warning line when the file cannot be read or holds a
    malformed block.  Returns whether the file was read without error."""
    global _loaded
    file = _safe_getenv(ENV_NAME)
    if not file:
        return False
    data, code = _read_file(file)
    certs: list[Any] = []
    if not code:
        certs, ok = _read_blocks(data, lib.PEM_read_bio_X509)
        if not ok:  # nothing read, or a malformed block: the first error says which
            err = lib.ERR_peek_error()
            if not ((err >> 23) & 0xFF == 9 and err & 0x7FFFFF == 108):  # PEM, no start line
                code = err
    try:
        for x509 in certs:  # those read before a malformed block count, as in Node
            lib.X509_STORE_add_cert(store, x509)
    finally:
        free_x509s(certs)
        lib.ERR_clear_error()  # "cert already in hash table" is no error here
    if code:
        _warn(file, code)
        return False
    _loaded = True
    return True
