"""Layer 2: the sans-IO TLS engine (never imports asyncio)."""

from .engine import DONE, NEED_DATA, PAUSED, ClientHello, TLSEngine, live_engines

__all__ = ["TLSEngine", "ClientHello", "DONE", "NEED_DATA", "PAUSED", "live_engines"]
