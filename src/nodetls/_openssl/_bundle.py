"""``NODETLS_OPENSSL=bundled`` (and the default): OpenSSL built from its released source, as Node
builds its own.

Node links its own build of OpenSSL into its binary; measured here, the same handshakes cost
1.13-1.19x as much CPU under the distribution's shared library (3.0) as under Node's build.  The
pinned release is OpenSSL 3.5, the long-term-support series after 3.0 (whose support ended in
September 2026): supported until April 2030, and cheaper per handshake than 3.0 (OpenSSL 3.0
walks its whole name map several times per handshake; ``docs/DESIGN.md``, "The OpenSSL
binding").  This module gets that build for the binding (:func:`ensure`):

1. **Fetch** the release tarball pinned by :data:`VERSION` and :data:`SHA256`: the file named by
   ``NODETLS_OPENSSL_TARBALL`` (offline builds), else one already fetched into the build
   directory, else the first of :data:`URLS` that answers.  Whatever its origin, a tarball whose
   SHA-256 differs is refused: nothing unverified is ever built.  (The pinned hash is that of
   Debian's ``openssl_3.5.7.orig.tar.gz``, OpenSSL's release tarball, fetched over HTTPS from
   deb.debian.org; its detached signature, ``.orig.tar.gz.asc``, names the issuer
   BA54 73A2 B058 7B07 FB27  CF2D 2160 94DF D0CB 81EF, OpenSSL's release key, but was not
   verified when the pin was taken: the key was not at hand.)
2. **Extract** it, refusing members that would land outside the build directory.
3. **Edit** the source as :data:`EDITS` says (two edits, below: record pipelining capped at one
   record; the key shares freed once used); an edit whose text is not found exactly once
   stops the build, before any file is changed.
4. **Build** the static libraries only: ``./config`` with :data:`CONFIGURE` (no shared
   libraries, no tests, no kernel TLS or compression: Node's choices), then ``make build_libs``.
   A stamp records the configuration and the edits; a build with the same stamp is reused.

**Why two edits.** Both make an idle connection smaller; neither changes what goes on the wire.

*Pipelining.* OpenSSL sizes its record-layer arrays for ``SSL_MAX_PIPELINES`` (32)
records at once: since 3.2 each connection holds two record layers (read and write) with 32
record slots and 33 buffer slots each, and 32 record templates in the connection itself,
about 10 KiB per connection, whatever the connection does.  Pipelining (several records
encrypted in one call, ``SSL_CTX_set_max_pipelines``) serves TLS 1.2 CBC ciphers on engines that
implement it; OpenSSL never uses it unless asked, and nodetls never asks (it exposes no such
option).  With the cap at 1 the arrays hold one slot: an idle TLS 1.3 connection costs about
10 KiB less (``benchmarks/README.md``), and nothing else changes: every path OpenSSL takes with
pipelining off (its default) is the same code.  ``SSL_CTX_set_max_pipelines`` above 1 fails, as
it does for a value above 32 in OpenSSL's own build.

*The key shares.* A TLS 1.3 server keeps the key share it chose from the ClientHello
(``s->s3.peer_tmp``) and, for (EC)DHE, its own key pair (``s->s3.tmp.pkey``) until the
connection is freed, though both are last read when the server makes its share
(``tls_construct_stoc_key_share``: the ECDHE derivation, or the encapsulation to a KEM key).  For
X25519 they are a few hundred bytes each; for X25519MLKEM768, which OpenSSL 3.5 clients and
current browsers offer first, the client's share is the parsed ML-KEM-768 public key, about
6 KiB per connection for the connection's life (a server takes that group only when its
``ecdh_curve`` names it).  The edit frees both right there and clears the pointers (so
``SSL_free`` frees nothing twice).  Their public readers, ``SSL_get_peer_tmp_key`` and
``SSL_get_tmp_key``, then answer NULL on a server after its ServerHello; nodetls reads the first
only on clients (``getEphemeralKeyInfo()`` is None on a server, as Node's is) and never the
second.  A HelloRetryRequest returns before this point, with no key share kept; TLS 1.2 frees its
key pair once the ClientKeyExchange is read, as released.

The result is a directory :func:`nodetls._openssl._build.link_options` links as any other
OpenSSL build directory.  The build directory is ``NODETLS_OPENSSL_DIR``, by default ``build/openssl``
under the source tree.  A bundled OpenSSL gets security fixes only when nodetls is rebuilt with a
newer pin: the trade-off Node and ``cryptography``'s wheels make.

Like ``_build.py``, this file runs before nodetls is importable (loaded by path) and imports
nothing from it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from collections.abc import Sequence

#: The OpenSSL release built (the 3.5 long-term-support series).
VERSION = "3.5.7"
#: SHA-256 of ``openssl-3.5.7.tar.gz`` (53,153,930 bytes).
SHA256 = "a8c0d28a529ca480f9f36cf5792e2cd21984552a3c8e4aa11a24aa31aeac98e8"
TARBALL = f"openssl-{VERSION}.tar.gz"
#: Where the tarball is fetched from, in order: OpenSSL's site, its GitHub release, Debian's mirror.
URLS = (f"https://www.openssl.org/source/{TARBALL}",
        f"https://github.com/openssl/openssl/releases/download/openssl-{VERSION}/{TARBALL}",
        f"https://deb.debian.org/debian/pool/main/o/openssl/openssl_{VERSION}.orig.tar.gz")
#: Edits to the source before it is configured: (file, the text as released, its replacement).
#: Record pipelining capped at one record; a TLS 1.3 server lets go of the key shares once its
#: own is made (see the module's docstring).
EDITS = (("include/openssl/ssl.h.in", "\n#define SSL_MAX_PIPELINES 32\n",
          "\n#define SSL_MAX_PIPELINES 1 /* nodetls: 32 as released */\n"),
         ("ssl/statem/extensions_srvr.c", "\n    s->s3.did_kex = 1;\n",
          "\n    /* nodetls: neither key share is read again */\n"
          "    EVP_PKEY_free(s->s3.peer_tmp);\n"
          "    s->s3.peer_tmp = NULL;\n"
          "    EVP_PKEY_free(s->s3.tmp.pkey);\n"
          "    s->s3.tmp.pkey = NULL;\n"
          "    s->s3.did_kex = 1;\n"))
#: ``./config`` options: static libraries only, position-independent (linked into a shared module).
CONFIGURE = ("no-shared", "no-tests", "no-ktls", "no-comp", "-O3", "-fPIC")
STAMP = ".nodetls-built"

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))  # src/nodetls/_openssl/_bundle.py -> the source tree


def default_dir() -> str:
    """``NODETLS_OPENSSL_DIR``, or ``build/openssl`` under the source tree."""
    return os.environ.get("NODETLS_OPENSSL_DIR") or os.path.join(_ROOT, "build", "openssl")


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check(path: str, sha256: str, origin: str) -> None:
    got = sha256_of(path)
    if got != sha256:
        raise ValueError(f"NODETLS_OPENSSL=bundled: {origin} has SHA-256 {got}, not the pinned "
                         f"{sha256} of {TARBALL}; refusing to build it")


def fetch(dest: str, urls: Sequence[str] = URLS, sha256: str = SHA256,
          name: str = TARBALL, timeout: float = 60.0) -> str:
    """The verified tarball's path under ``dest`` (see the module's docstring, step 1); a
    ``ValueError`` for a tarball with another hash, an ``OSError`` when none could be fetched."""
    os.makedirs(dest, exist_ok=True)
    target = os.path.join(dest, name)
    given = os.environ.get("NODETLS_OPENSSL_TARBALL")
    if given:
        _check(given, sha256, f"NODETLS_OPENSSL_TARBALL={given!r}")
        if os.path.abspath(given) != os.path.abspath(target):
            shutil.copyfile(given, target)
        return target
    if os.path.isfile(target) and sha256_of(target) == sha256:
        return target
    errors = []
    for url in urls:
        fd, part = tempfile.mkstemp(dir=dest, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
                shutil.copyfileobj(r, out)
            _check(part, sha256, url)  # a wrong file from one source is an error, not a retry
            os.replace(part, target)
            return target
        except OSError as exc:  # (urllib's errors are OSErrors) unreachable: try the next one
            errors.append(f"{url}: {exc}")
        finally:
            if os.path.exists(part):
                os.unlink(part)
    raise OSError(f"NODETLS_OPENSSL=bundled: could not fetch {name} (set NODETLS_OPENSSL_TARBALL "
                  "to a downloaded copy): " + "; ".join(errors))


def extract(tarball: str, dest: str) -> str:
    """Unpack ``tarball`` into ``dest``; the top directory's path.  A member that is absolute,
    climbs out with ``..``, or is a link pointing outside is refused (``ValueError``)."""
    root = os.path.realpath(dest)
    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
        for m in members:
            path = os.path.realpath(os.path.join(root, m.name))
            link = (os.path.realpath(os.path.join(os.path.dirname(path), m.linkname))
                    if m.issym() or m.islnk() else path)
            if os.path.commonpath([root, path]) != root or os.path.commonpath([root, link]) != root \
                    or not (m.isfile() or m.isdir() or m.issym() or m.islnk()):
                raise ValueError(f"NODETLS_OPENSSL=bundled: {tarball} has an unsafe member "
                                 f"{m.name!r}")
        tops = {m.name.split("/", 1)[0] for m in members}
        if len(tops) != 1:
            raise ValueError(f"NODETLS_OPENSSL=bundled: {tarball} is not one source tree")
        # (every member checked above; where tarfile has extraction filters, its own "data"
        # filter checks again)
        extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(root, members, **extra)  # type: ignore[arg-type]  # noqa: S202
    return os.path.join(root, tops.pop())


def _stamp_text() -> str:
    edits = hashlib.sha256(repr(EDITS).encode()).hexdigest()[:16]
    return " ".join((VERSION, SHA256, *CONFIGURE, f"edits={edits}")) + "\n"


def edit(tree: str, edits: Sequence[tuple[str, str, str]] = EDITS) -> None:
    """Apply ``edits`` to the source under ``tree`` (the module's docstring, step 3); a
    ``RuntimeError`` when an edit's text is not in its file exactly once (a new release that
    changed it: the edit needs checking again, not guessing), and then no file is changed."""
    edited: dict[str, str] = {}
    for rel, old, new in edits:  # every edit checked before any file is written
        path = os.path.join(tree, rel)
        if path not in edited:
            with open(path, encoding="utf-8") as f:
                edited[path] = f.read()
        if edited[path].count(old) != 1:
            raise RuntimeError(f"NODETLS_OPENSSL=bundled: {rel} in {tree} does not hold "
                               f"{old.strip()!r} exactly once; the edit needs checking against "
                               f"OpenSSL {VERSION}")
        edited[path] = edited[path].replace(old, new)
    for path, text in edited.items():
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def is_built(tree: str) -> bool:
    """``tree`` holds a finished build made with this module's pin and configuration."""
    try:
        with open(os.path.join(tree, STAMP)) as f:
            stamp = f.read()
    except OSError:
        return False
    return stamp == _stamp_text() and all(
        os.path.isfile(os.path.join(tree, p))
        for p in ("libssl.a", "libcrypto.a", os.path.join("include", "openssl", "ssl.h")))


def build(tree: str, jobs: int | None = None) -> None:
    """Configure and build ``tree``'s static libraries; its log goes to ``tree/nodetls-build.log``
    (its tail is in the ``RuntimeError`` when a step fails)."""
    log_path = os.path.join(tree, "nodetls-build.log")
    steps = (["./config", *CONFIGURE], ["make", f"-j{jobs or os.cpu_count() or 1}", "build_libs"])
    with open(log_path, "w") as log:
        for argv in steps:
            res = subprocess.run(argv, cwd=tree, stdout=log, stderr=subprocess.STDOUT, check=False)
            if res.returncode:
                log.flush()
                with open(log_path, errors="replace") as f:
                    tail = "".join(f.readlines()[-15:])
                raise RuntimeError(f"NODETLS_OPENSSL=bundled: {' '.join(argv)} failed "
                                   f"(exit {res.returncode}) in {tree}:\n{tail}")
    with open(os.path.join(tree, STAMP), "w") as f:
        f.write(_stamp_text())


def ensure(dest: str | None = None) -> str:
    """The directory of a bundled OpenSSL build under ``dest`` (:func:`default_dir`): reused when
    already built with this pin and configuration, else fetched, verified, extracted and built
    (a few minutes)."""
    dest = dest or default_dir()
    tree = os.path.join(dest, f"openssl-{VERSION}")
    if is_built(tree):
        return tree
    tarball = fetch(dest)
    if os.path.isdir(tree):
        shutil.rmtree(tree)  # an unfinished or differently configured build: start again
    if extract(tarball, dest) != tree:
        raise ValueError(f"NODETLS_OPENSSL=bundled: {tarball} does not unpack to {tree}")
    edit(tree)
    build(tree)
    return tree
