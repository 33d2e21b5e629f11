"""What a worker process of ``run(main, workers=N)`` tells the layers below it (set once, in the
worker, before ``main`` runs; ``None``/empty in any other process).  No imports: every layer may
read it."""

from __future__ import annotations

import weakref
from typing import Any

index: int | None = None  # nodetls.worker_index()
ticket_keys: Any = None  # the PipedTicketKeys every tls.Server of the worker uses by default
servers: weakref.WeakSet[Any] = weakref.WeakSet()  # listening net.Servers, closed on SIGTERM
