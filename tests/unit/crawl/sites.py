"""Real HTTP servers for the crawl tests: well-behaved pages and hostile ones.

Each factory returns an ``aiohttp.web.Application``; the ``serve`` fixture in
``conftest.py`` runs it on a loopback port. Every app counts the requests it gets per
path in ``app[HITS]``, so a test can assert that a refused URL was never requested.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import gzip
import zlib
from collections.abc import Awaitable, Callable

from aiohttp import web

HITS = web.AppKey("hits", collections.Counter[str])
PAGE = b"<!doctype html><html><head><title>ok</title></head><body>hello</body></html>"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _count(request: web.Request, handler: Handler) -> web.StreamResponse:
    request.app[HITS][request.path] += 1
    return await handler(request)


def counting_app() -> web.Application:
    """An empty app whose requests are counted per path."""
    app = web.Application(middlewares=[_count])
    app[HITS] = collections.Counter()
    return app


@functools.cache
def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped (10 MB become about 10 KB)."""
    return gzip.compress(bytes(size), compresslevel=9)


@functools.cache
def _zero_blocks() -> tuple[bytes, bytes]:
    """The start of a gzip stream of zeros, and a block that adds another MiB of zeros
    each time it is repeated (a full flush resets the compressor, so blocks repeat)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first, block


async def page(request: web.Request) -> web.StreamResponse:
    return web.Response(body=PAGE, content_type="text/html", charset="utf-8")


async def echo_headers(request: web.Request) -> web.StreamResponse:
    return web.json_response(dict(request.headers))


async def gzipped(request: web.Request) -> web.StreamResponse:
    body = gzip.compress(PAGE * 1000)
    return web.Response(
        body=body, headers={"Content-Encoding": "gzip", "Content-Type": "text/html"}
    )


async def raw_deflate(request: web.Request) -> web.StreamResponse:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(PAGE * 1000) + compressor.flush()
    return web.Response(
        body=body, headers={"Content-Encoding": "deflate", "Content-Type": "text/html"}
    )


async def bomb(request: web.Request) -> web.StreamResponse:
    """10 MB of zeros in about 10 KB, with a Content-Length."""
    return web.Response(
        body=gzip_bomb(10_000_000),
        headers={"Content-Encoding": "gzip", "Content-Type": "text/html"},
    )


async def streamed_bomb(request: web.Request) -> web.StreamResponse:
    """1 GB of zeros, gzipped on the fly (about 1 MB on the wire), chunked."""
    response = web.StreamResponse(headers={"Content-Encoding": "gzip", "Content-Type": "text/html"})
    await response.prepare(request)
    first, block = _zero_blocks()
    with contextlib.suppress(ConnectionError):
        await response.write(first)
        for _ in range(1023):
            await response.write(block)
        await response.write_eof()
    return response


async def endless(request: web.Request) -> web.StreamResponse:
    """Zeros, chunked, forever."""
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    chunk = bytes(64 * 1024)
    with contextlib.suppress(ConnectionError):
        while True:
            await response.write(chunk)
    return response


async def declared_huge(request: web.Request) -> web.StreamResponse:
    """Announces 50 MiB, sends a little, then waits."""
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    response.content_length = 50 * 1024 * 1024
    await response.prepare(request)
    await response.write(b"x" * 1024)
    await asyncio.Event().wait()
    return response


async def drip(request: web.Request) -> web.StreamResponse:
    """One byte every ``?every=`` seconds (default 1), forever."""
    every = float(request.query.get("every", "1"))
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        while True:
            await response.write(b"x")
            await asyncio.sleep(every)
    return response


async def stall(request: web.Request) -> web.StreamResponse:
    """Headers and a few bytes, then silence."""
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    await response.write(b"<html>")
    await asyncio.Event().wait()
    return response


async def redirect(request: web.Request) -> web.StreamResponse:
    """Redirects to ``?to=`` with status ``?status=`` (302)."""
    status = int(request.query.get("status", "302"))
    return web.Response(status=status, headers={"Location": request.query["to"]})


async def loop(request: web.Request) -> web.StreamResponse:
    other = "b" if request.match_info["name"] == "a" else "a"
    return web.Response(status=301, headers={"Location": f"/loop/{other}"})


async def chain(request: web.Request) -> web.StreamResponse:
    left = int(request.match_info["left"])
    if left == 0:
        return web.Response(text="end", content_type="text/plain")
    return web.Response(status=307, headers={"Location": f"/chain/{left - 1}"})


async def status(request: web.Request) -> web.StreamResponse:
    headers = {}
    if "retry_after" in request.query:
        headers["Retry-After"] = request.query["retry_after"]
    return web.Response(status=int(request.match_info["code"]), text="status", headers=headers)


def hostile_app() -> web.Application:
    """Pages, redirects, compression, and the hostile cases the fetcher must survive."""
    app = counting_app()
    app.router.add_get("/page", page)
    app.router.add_get("/headers", echo_headers)
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/deflate", raw_deflate)
    app.router.add_get("/bomb", bomb)
    app.router.add_get("/bomb-stream", streamed_bomb)
    app.router.add_get("/endless", endless)
    app.router.add_get("/declared-huge", declared_huge)
    app.router.add_get("/drip", drip)
    app.router.add_get("/stall", stall)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/loop/{name}", loop)
    app.router.add_get("/chain/{left}", chain)
    app.router.add_get("/status/{code}", status)
    return app


RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads the request and hangs up without a word."""
    await reader.readuntil(b"\r\n\r\n")
    writer.close()


async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers with something that is not HTTP."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\nnot http at all\r\n")
    await writer.drain()
    writer.close()


async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Promises 1000 bytes, sends 10, hangs up."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
    await writer.drain()
    writer.close()
