"""Differential testing of ``nodetls.aio``'s TLS transport against asyncio's own SSL transports
(``asyncio.sslproto`` on the asyncio loop, uvloop's ``SSLProtocol`` on uvloop): ``gen.py``
(random scripts from a seed), ``runner.py`` (one script on one implementation and loop),
``compare.py`` (the verdict over the four runs), ``batch.py`` (many seeds, minimised)."""
