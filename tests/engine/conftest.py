"""Fixtures shared by the engine's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nodetls._engine import TLSEngine
from nodetls._openssl import constants as C

from .pair import handshake
from .rawctx import RawContext, make_ca_and_leaf

CA, CERT, KEY = make_ca_and_leaf("localhost")


@pytest.fixture(params=[C.TLS1_2_VERSION, C.TLS1_3_VERSION], ids=["tls12", "tls13"])
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[TLSEngine, TLSEngine]]:
    """A client and a server engine, handshaken in memory (TLS 1.2 and TLS 1.3)."""
    server = TLSEngine(RawContext(CERT, KEY, max_version=request.param), server=True)
    client = TLSEngine(RawContext(ca=CA, max_version=request.param), server=False)
    handshake(client, server)
    yield client, server
    client.free()
    server.free()
