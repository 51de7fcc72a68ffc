"""A site whose content exists only once its scripts run, for the browser's tests.

``scripted_site(canary)`` serves:

- ``/csr``: an empty ``<div id="root">`` that ``/app.js`` fills from ``/api/item.json``
  (title, price, links to ``/static`` and ``/click``);
- ``/static``: a plain page with plenty of text and no scripts (``auto`` keeps to HTTP);
- ``/click``: a button whose click loads ``/api/more.json`` into ``#more``;
- ``/infinite``: a list that grows by ``PAGE`` items (from ``/api/items?page=N``) each
  time it is scrolled to the end, ``PAGES`` times;
- ``/hostile``: a page whose script fetches the loopback ``canary`` server, opens a
  WebSocket to it, loads ``file:///etc/passwd``, and embeds iframes of the cloud
  metadata address and of ``/to-private`` (which redirects to a URL robots.txt
  disallows); it also writes ``#ok`` so a test sees that it did render;
- ``/loop``: a script that never ends; ``/hog``: a script that eats memory until the
  renderer dies;
- ``/redirect``: a redirect to ``/private/page``, which robots.txt disallows;
- ``/p/N``: a tree of ``pages`` client-rendered pages (``/p/0`` the root), each with
  ``fanout`` children, all drawn by ``/page.js``.

``canary_app()`` is the server no request may ever reach.
"""

from __future__ import annotations

from aiohttp import web

from tests.sites import server

PAGE = 10
PAGES = 5
TEXT = "Plain server-rendered text for readers. " * 20

_SHELL = (
    "<!doctype html><html><head><title>{title}</title></head><body>"
    '<div id="root"></div><script src="{script}"></script></body></html>'
)
_APP_JS = """
fetch('/api/item.json').then(r => r.json()).then(item => {
  document.getElementById('root').innerHTML =
    '<h1 class="title">' + item.title + '</h1><p class="price">' + item.price + '</p>' +
    '<a href="/static">static</a> <a href="/click">click</a>';
});
"""
_CLICK = """<!doctype html><html><head><title>Click</title></head><body>
<p>{text}</p><button id="load">Load more</button><div id="slot"></div>
<script>
document.getElementById('load').addEventListener('click', () => {{
  fetch('/api/more.json').then(r => r.json()).then(more => {{
    document.getElementById('slot').innerHTML = '<div id="more">' + more.text + '</div>';
  }});
}});
</script></body></html>"""
_INFINITE = """<!doctype html><html><head><title>Infinite</title>
<style>li {{ height: 120px; }}</style></head><body><ul id="list"></ul>
<script>
let next = 0, loading = false;
function more() {{
  if (loading || next >= {pages}) return;
  loading = true;
  fetch('/api/items?page=' + next).then(r => r.json()).then(items => {{
    const list = document.getElementById('list');
    for (const item of items) {{
      const li = document.createElement('li'); li.className = 'item'; li.textContent = item;
      list.appendChild(li);
    }}
    next += 1; loading = false;
  }});
}}
window.addEventListener('scroll', () => {{
  if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 50) more();
}});
more();
</script></body></html>"""
_HOSTILE = """<!doctype html><html><head><title>Hostile</title></head><body>
<p>{text}</p>
<iframe src="http://169.254.169.254/latest/meta-data/"></iframe>
<iframe src="/to-private"></iframe>
<img src="{canary}/image.png">
<script>
function show(text) {{
  const leak = document.createElement('pre'); leak.className = 'leak'; leak.textContent = text;
  document.body.appendChild(leak);
}}
fetch('{canary}/fetch').then(r => r.text()).then(show).catch(() => {{}});
fetch('file:///etc/passwd').then(r => r.text()).then(show).catch(() => {{}});
try {{ new WebSocket('{canary_ws}/socket'); }} catch (e) {{}}
const ok = document.createElement('p'); ok.id = 'ok'; ok.textContent = 'rendered';
document.body.appendChild(ok);
</script></body></html>"""
_PAGE_JS = """
const index = Number(location.pathname.split('/').pop());
const pages = {pages}, fanout = {fanout};
let html = '<h1>Page ' + index + '</h1><p>' + 'Rendered text. '.repeat(30) + '</p>';
for (let c = fanout * index + 1; c <= fanout * index + fanout && c < pages; c++) {{
  html += '<a href="/p/' + c + '">page ' + c + '</a> ';
}}
html += '<a href="/p/0">home</a>';
document.getElementById('root').innerHTML = html;
"""
ROBOTS = "User-agent: *\nDisallow: /private\n"


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html")


def scripted_site(canary: str, *, pages: int = 0, fanout: int = 4) -> web.Application:
    """The site (see the module docstring); ``canary`` is the canary's origin."""
    app = server.logged_app()
    routes = app.router

    async def csr(_: web.Request) -> web.StreamResponse:
        return _html(_SHELL.format(title="Client rendered", script="/app.js"))

    async def app_js(_: web.Request) -> web.StreamResponse:
        return web.Response(text=_APP_JS, content_type="application/javascript")

    async def item(_: web.Request) -> web.StreamResponse:
        return web.json_response({"title": "Client title", "price": "9.99"})

    async def static(_: web.Request) -> web.StreamResponse:
        return _html(
            "<!doctype html><html><head><title>Static</title></head><body>"
            f"<h1 class='title'>Static title</h1><p class='price'>1.00</p><p>{TEXT}</p>"
            "<a href='/csr'>csr</a></body></html>"
        )

    async def click(_: web.Request) -> web.StreamResponse:
        return _html(_CLICK.format(text=TEXT))

    async def more(_: web.Request) -> web.StreamResponse:
        return web.json_response({"text": "Loaded after a click"})

    async def infinite(_: web.Request) -> web.StreamResponse:
        return _html(_INFINITE.format(pages=PAGES))

    async def items(request: web.Request) -> web.StreamResponse:
        page = int(request.query.get("page", "0"))
        return web.json_response([f"item {page * PAGE + n}" for n in range(PAGE)])

    async def hostile(_: web.Request) -> web.StreamResponse:
        canary_ws = canary.replace("http://", "ws://", 1)
        return _html(_HOSTILE.format(text=TEXT, canary=canary, canary_ws=canary_ws))

    async def loop(_: web.Request) -> web.StreamResponse:
        return _html("<!doctype html><title>Loop</title><script>while (true) {}</script>")

    async def hog(_: web.Request) -> web.StreamResponse:
        return _html(
            "<!doctype html><title>Hog</title><script>const a = [];"
            "while (true) { a.push(new Array(100000).fill('x' + Math.random())); }</script>"
        )

    async def redirect(_: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/private/page")

    async def to_private(_: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/private/frame")

    async def private(_: web.Request) -> web.StreamResponse:
        return _html("<p>private</p>")

    async def robots(_: web.Request) -> web.StreamResponse:
        return web.Response(text=ROBOTS, content_type="text/plain")

    async def tree_page(request: web.Request) -> web.StreamResponse:
        index = int(request.match_info["index"])
        if not 0 <= index < pages:
            raise web.HTTPNotFound()
        return _html(_SHELL.format(title=f"Page {index}", script="/page.js"))

    async def page_js(_: web.Request) -> web.StreamResponse:
        script = _PAGE_JS.format(pages=pages, fanout=fanout)
        return web.Response(text=script, content_type="application/javascript")

    routes.add_get("/csr", csr)
    routes.add_get("/app.js", app_js)
    routes.add_get("/api/item.json", item)
    routes.add_get("/static", static)
    routes.add_get("/click", click)
    routes.add_get("/api/more.json", more)
    routes.add_get("/infinite", infinite)
    routes.add_get("/api/items", items)
    routes.add_get("/hostile", hostile)
    routes.add_get("/loop", loop)
    routes.add_get("/hog", hog)
    routes.add_get("/redirect", redirect)
    routes.add_get("/to-private", to_private)
    routes.add_get("/private/{rest:.*}", private)
    routes.add_get("/robots.txt", robots)
    routes.add_get("/p/{index:\\d+}", tree_page)
    routes.add_get("/page.js", page_js)
    return app


def canary_app() -> web.Application:
    """Answers anything (and logs it): a test asserts its log stays empty."""
    app = server.logged_app()

    async def anything(_: web.Request) -> web.StreamResponse:
        return web.Response(text="canary")

    app.router.add_route("*", "/{rest:.*}", anything)
    return app
