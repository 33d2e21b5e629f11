"""A script for a fresh interpreter (``python -c ECHO_SCRIPT normal|absent``): a TLS 1.3 handshake
and a 64-byte echo over loopback with nodetls; its last line of output is JSON: the OpenSSL binding
in use, ``authorized``, the protocol and whether the echo came back whole. ``absent``: as if the
compiled binding had never been built."""

from __future__ import annotations

import textwrap

ECHO_SCRIPT = textwrap.dedent("""
    import asyncio, json, sys
    if sys.argv[1] == "absent":
        sys.modules["nodetls._openssl._binding"] = None  # the module was never built
    import nodetls as tls
    from nodetls import _openssl
    from nodetls.devcert import make_self_signed

    async def main():
        pair = make_self_signed("localhost")
        server = tls.create_server({"key": pair.key_pem, "cert": pair.cert_pem},
                                   lambda s: (s.on("data", s.write), s.on("end", s.end)))
        server.listen(0, "127.0.0.1")
        await asyncio.wait_for(server, 10)
        sock = await asyncio.wait_for(tls.connect(server.address()["port"], {
            "host": "127.0.0.1", "servername": "localhost", "ca": pair.cert_pem}), 10)
        got = bytearray()
        done = asyncio.get_running_loop().create_future()
        def on_data(chunk):
            got.extend(chunk)
            if len(got) >= 64 and not done.done():
                done.set_result(None)
        sock.on("data", on_data)
        sock.write(bytes(range(64)))
        await asyncio.wait_for(done, 10)
        out = {"binding": _openssl.BINDING, "authorized": sock.authorized,
               "protocol": sock.get_protocol(), "echo": bytes(got) == bytes(range(64))}
        sock.destroy()
        server.close()
        return out

    print(json.dumps(asyncio.run(main())))
""")
