"""Pages that try to hang, exhaust or misdirect a crawler, behind one start page.

``hostile_site(elsewhere)`` serves ``/``, which links every page in ``TRAPS`` and
``ODD_PAGES``; ``elsewhere`` is the origin of a second server (on another loopback
address) that one redirect points to, to check that the crawler never connects to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import zlib

from aiohttp import web

from tests.sites import server

TRAPS = {
    # path: the error type its record must carry
    "/loop/a": "TooManyRedirects",
    "/chain/12": "TooManyRedirects",
    "/bomb": "BodyTooLarge",
    "/endless": "BodyTooLarge",
    "/drip": "FetchTimeout",
    "/stall": "FetchTimeout",
    "/to-metadata": "BlockedAddress",
    "/to-other-loopback": "BlockedAddress",
}

ODD_PAGES = {
    # path: (the title extraction must find, Content-Type, body)
    "/broken": (
        "Broken <page>",
        "text/html",
        b"<html><head><title>Broken &lt;page&gt;</title><body><div><p>unclosed <b>bold"
        b" <i>italic</div></table></td><a href='/broken#x'>self</a>\x00\x00<p>after NULs"
        b"<!-- unterminated comment <script>var x = '</script>",
    ),
    "/nested": (
        "Nested",
        "text/html",
        b"<html><head><title>Nested</title></head><body>"
        + b"<div>" * 40_000
        + b"bottom"
        + b"</div>" * 40_000
        + b"</body></html>",
    ),
    "/meta-charset": (
        "Café crème",
        "text/html",
        '<html><head><meta charset="windows-1252"><title>Café crème</title></head>'
        "<body>Voilà</body></html>".encode("cp1252"),
    ),
    "/shift-jis": (
        "日本語のページ",
        "text/html; charset=shift_jis",
        "<html><head><title>日本語のページ</title></head><body>こんにちは</body></html>".encode(
            "shift_jis"
        ),
    ),
    "/utf-16": (
        "Ünïcödé",
        "text/html",
        "<html><head><title>Ünïcödé</title></head><body>sixteen</body></html>".encode("utf-16"),
    ),
    "/bad-utf-8": (
        "Bad \ufffd bytes",
        "text/html; charset=utf-8",
        b"<html><head><title>Bad \xff bytes</title></head><body>\xfe\xfd</body></html>",
    ),
    "/unknown-charset": (
        "Naïve",
        "text/html; charset=x-no-such-charset",
        "<html><head><title>Naïve</title></head><body>ok</body></html>".encode(),
    ),
    "/binary": (
        None,
        "text/html",
        bytes(range(256)) * 64,
    ),
}


@functools.cache
def _zero_blocks() -> tuple[bytes, bytes]:
    """The start of a gzip stream of zeros, and a block that adds another MiB of zeros
    each time it is repeated (a full flush resets the compressor, so blocks repeat)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first, block


async def bomb(request: web.Request) -> web.StreamResponse:
    """1 GiB of zeros, gzipped on the fly (about 1 MiB on the wire), chunked."""
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
    """HTML that never ends."""
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    chunk = b"<p>" + b"more " * 13_000 + b"</p>"
    with contextlib.suppress(ConnectionError):
        await response.write(b"<html><body>")
        while True:
            await response.write(chunk)
    return response


async def drip(request: web.Request) -> web.StreamResponse:
    """One byte a second, forever."""
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        while True:
            await response.write(b"x")
            await asyncio.sleep(1.0)
    return response


async def stall(request: web.Request) -> web.StreamResponse:
    """Headers and a few bytes, then silence."""
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    await response.write(b"<html>")
    await asyncio.Event().wait()
    return response


async def loop(request: web.Request) -> web.StreamResponse:
    other = "b" if request.match_info["name"] == "a" else "a"
    return web.Response(status=301, headers={"Location": f"/loop/{other}"})


async def chain(request: web.Request) -> web.StreamResponse:
    left = int(request.match_info["left"])
    if left == 0:
        return web.Response(text="end", content_type="text/plain")
    return web.Response(status=307, headers={"Location": f"/chain/{left - 1}"})


def _redirect(to: str) -> server.Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": to})

    return handle


def _odd(content_type: str, body: bytes) -> server.Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, headers={"Content-Type": content_type})

    return handle


async def home(request: web.Request) -> web.StreamResponse:
    hrefs = [*TRAPS, *ODD_PAGES]
    body = "".join(f'<a href="{href}">{href}</a>\n' for href in hrefs)
    return web.Response(
        text=f"<html><head><title>Traps</title></head><body>{body}</body></html>",
        content_type="text/html",
    )


def hostile_site(elsewhere: str) -> web.Application:
    """The start page and every trap (see the module docstring)."""
    app = server.logged_app()
    add = app.router.add_get
    add("/", home)
    add("/loop/{name}", loop)
    add("/chain/{left}", chain)
    add("/bomb", bomb)
    add("/endless", endless)
    add("/drip", drip)
    add("/stall", stall)
    add("/to-metadata", _redirect("http://169.254.169.254/latest/meta-data/"))
    add("/to-other-loopback", _redirect(f"{elsewhere}/secret"))
    for path, (_, content_type, body) in ODD_PAGES.items():
        add(path, _odd(content_type, body))
    return app


OK_PAGE = "<html><head><title>ok</title></head><body>ok</body></html>"


def page_app(text: str = OK_PAGE) -> web.Application:
    """An app that answers every GET with the same page (``/robots.txt`` too)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(text=text, content_type="text/html")

    app = server.logged_app()
    app.router.add_get("/{tail:.*}", handle)
    return app
