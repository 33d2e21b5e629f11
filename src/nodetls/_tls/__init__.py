"""Layer 6: tls over net (TLSSocket, Server, connect)."""

from .connect import connect
from .server import Server, create_server
from .socket import CLIENT_RENEG_LIMIT, CLIENT_RENEG_WINDOW, TLSSocket

__all__ = ["TLSSocket", "Server", "create_server", "connect", "CLIENT_RENEG_LIMIT",
           "CLIENT_RENEG_WINDOW"]
