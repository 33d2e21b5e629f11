"""Drive two engines against each other in memory (pyOpenSSL's handshake_in_memory)."""

from __future__ import annotations

from nodetls._engine import DONE, PAUSED, TLSEngine


def pump(a: TLSEngine, b: TLSEngine) -> bool:
    """Move ciphertext both ways once; True if anything moved."""
    moved = False
    for src, dst in ((a, b), (b, a)):
        out = src.take_output()
        if out:
            dst.receive(out)
            moved = True
    return moved


def handshake(client: TLSEngine, server: TLSEngine, on_pause=None, rounds: int = 20) -> None:
    done = {id(client): False, id(server): False}
    for _ in range(rounds):
        for eng in (client, server):
            if not done[id(eng)]:
                r = eng.do_handshake()
                if r == DONE:
                    done[id(eng)] = True
                elif r == PAUSED:
                    assert on_pause is not None, f"unexpected pause: {eng.paused}"
                    on_pause(eng)
        moved = pump(client, server)
        if all(done.values()) and not moved:
            # let the client process post-handshake messages (TLS 1.3 tickets)
            client.read()
            server.read()
            if not pump(client, server):
                return
    raise AssertionError("handshake did not finish")
