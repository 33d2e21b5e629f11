"""Layer 2: the sans-IO TLS engine (never imports asyncio)."""

from ._wire import session_ticket
from .engine import TLSEngine, live_engines
from .protocol import (
    DONE,
    HANDSHAKE_DONE,
    NEED_DATA,
    PAUSED,
    ClientHello,
    HandshakeDone,
    KeylogLine,
    NewSession,
    Pause,
    State,
    Step,
)

__all__ = ["TLSEngine", "ClientHello", "DONE", "NEED_DATA", "PAUSED", "live_engines", "State",
           "Step", "Pause", "KeylogLine", "NewSession", "HandshakeDone", "HANDSHAKE_DONE",
           "session_ticket"]
