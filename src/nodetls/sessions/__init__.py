"""Session caches and ticket keys for one process, many workers, or a fleet.

* :class:`MemorySessionStore` / :class:`RedisSessionStore` (any :class:`SessionStore`) serve
  ``server.use_session_store(store)``: TLS 1.2 session ids and TLS 1.3 stateful tickets (with
  ``secure_options=SSL_OP_NO_TICKET``) resume on whichever server of a fleet the client reaches.
* :class:`TicketKeys` / :class:`RedisTicketKeys` serve ``server.use_ticket_keys(source)``:
  stateless tickets under keys that rotate by themselves, shared by a fleet through Redis.

See ``docs/fleet.md`` for which to use where.
"""

from __future__ import annotations

from ._keys import RedisTicketKeys, TicketKeys
from ._stores import MemorySessionStore, RedisSessionStore, SessionStore

__all__ = ["SessionStore", "MemorySessionStore", "RedisSessionStore", "TicketKeys",
           "RedisTicketKeys"]
