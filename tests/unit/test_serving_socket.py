"""The API's listening socket: its connections must send small answers at once."""

from __future__ import annotations

import asyncio
import socket

import pytest

from scrapeyard import errors
from scrapeyard.cli import serving


async def test_accepted_connections_have_tcp_nodelay() -> None:
    # asyncio sets TCP_NODELAY only on connections of a socket whose proto is TCP;
    # without it a response's body waits ~40 ms behind its headers (delayed ACK).
    listener = serving._bind("127.0.0.1", 0)
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=listener)
    try:
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(seen, timeout=5) == 1
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


def test_a_port_in_use_is_refused_with_the_field() -> None:
    taken = serving._bind("127.0.0.1", 0)
    try:
        with pytest.raises(errors.InvalidInput, match="port"):
            serving._bind("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()
