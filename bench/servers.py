"""Serve a directory on a free 127.0.0.1 port: nginx, or an aiohttp fallback.

    with servers.serve(root) as server:
        mark = server.log_mark()
        ...                                   # crawl server.origin
        requests = server.requests_since(mark)  # [(status, request URI), ...]

nginx comes from Debian (``apt-get install nginx-light``, else ``nginx``) when it is not
installed; when that fails, a small aiohttp server in a subprocess takes its place and
``Server.kind`` says so. Either server logs one line per request, ``STATUS URI``, so the
benchmark can check robots compliance on the server side rather than trust a crawler's
output. nginx writes that line unbuffered: a ``write()`` per request costs far less than
the crawler's work per page.

nginx runs in the foreground (``daemon off``) as our child with a private prefix directory
holding its configuration, pid file, logs and temp paths, so it never touches the system's
nginx. One worker process is the default: on two cores it leaves the other core to the
crawler (``python -m bench.crawl --nginx-workers auto`` compares).

Run ``python -m bench.servers ROOT`` to serve a site by hand until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import measure

_NGINX_CONF = """\
{user}worker_processes {workers};
worker_rlimit_nofile 65536;
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;

events {{
    worker_connections 4096;
    multi_accept on;
}}

http {{
    types {{
        text/html html;
        text/css css;
        text/plain txt;
        application/xml xml;
        application/gzip gz;
        application/json json;
    }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/css text/plain application/xml application/json;

    log_format bench '$status $request_uri';
    access_log {prefix}/requests.log bench;

    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    # Cached descriptors stay open: keep well under the open-files limit, or try_files
    # fails with EMFILE and answers 404 for pages that exist.
    open_file_cache max=8192 inactive=60s;
    open_file_cache_valid 600s;
    server_tokens off;

    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

    server {{
        listen 127.0.0.1:{port} reuseport backlog=4096;
        server_name localhost;
        root {root};
        index index.html;
        location / {{
            try_files $uri $uri/ =404;
        }}
    }}
}}
"""


@dataclass
class Server:
    """A running static server; ``kind`` names it for the report."""

    kind: str
    origin: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_mark(self) -> int:
        """A position in the request log; pass it to ``requests_since``."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def requests_since(self, mark: int) -> list[tuple[int, str]]:
        """(status, request URI) of every request logged after ``mark``."""
        with self.log_path.open("rb") as file:
            file.seek(mark)
            lines = file.read().decode("utf-8", "replace").splitlines()
        requests = []
        for line in lines:
            status, _, uri = line.partition(" ")
            if status.isdigit():
                requests.append((int(status), uri))
        return requests

    def cpu_seconds(self) -> float:
        """CPU seconds the server (master and workers) has used so far."""
        return measure.tree_cpu_seconds(self.process.pid)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)),
        None,
    )


def ensure_nginx() -> tuple[str | None, str]:
    """The nginx binary, installing Debian's package when missing; else (None, why not)."""
    found = _find_nginx()
    if found:
        return found, ""
    if shutil.which("apt-get") is None:
        return None, "nginx is not installed and apt-get is not available"
    print("bench: installing nginx with apt-get ...", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
    for package in ("nginx-light", "nginx"):
        installed = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
            env=env,
            check=False,
            stdout=subprocess.DEVNULL,
        )
        found = _find_nginx()
        if installed.returncode == 0 and found:
            return found, ""
    return None, "apt-get could not install nginx"


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return True
        time.sleep(0.05)
    return False


@dataclass(frozen=True)
class _Started:
    kind: str
    port: int
    process: subprocess.Popen[bytes]


def _start_nginx(binary: str, root: Path, prefix: Path, workers: str) -> _Started | None:
    port = free_port()
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(
        _NGINX_CONF.format(user=user, workers=workers, prefix=prefix, port=port, root=root)
    )
    version = subprocess.run([binary, "-v"], capture_output=True, text=True).stderr
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(prefix / "stderr.log").open("wb"),
        start_new_session=True,
    )
    if not _wait_listening(port, process):
        _stop(process)
        return None
    kind = f"{version.strip().split(': ')[-1]}, worker_processes {workers}"
    return _Started(kind, port, process)


def _start_python(root: Path, prefix: Path, why_not: str) -> _Started:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.servers", str(root), "--port", str(port)]
        + ["--log", str(prefix / "requests.log")],
        cwd=Path(__file__).resolve().parent.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(prefix / "stderr.log").open("wb"),
        start_new_session=True,
    )
    if not _wait_listening(port, process):
        _stop(process)
        raise RuntimeError("the aiohttp fallback server did not start: " + _tail(prefix))
    return _Started(f"aiohttp fallback, because {why_not}", port, process)


def _start(root: Path, prefix: Path, workers: str, use_nginx: bool) -> _Started:
    binary, why_not = ensure_nginx() if use_nginx else (None, "nginx was not wanted")
    if binary is not None:
        started = _start_nginx(binary, root, prefix, workers)
        if started is not None:
            return started
        why_not = "nginx did not start: " + _tail(prefix)
    print(f"bench: {why_not}; serving with aiohttp instead", file=sys.stderr)
    return _start_python(root, prefix, why_not)


@contextlib.contextmanager
def serve(root: Path, *, workers: str = "1", use_nginx: bool = True) -> Iterator[Server]:
    """Serve ``root`` on 127.0.0.1 until the block ends."""
    prefix = Path(tempfile.mkdtemp(prefix="bench-server-"))
    started: _Started | None = None
    try:
        started = _start(root.resolve(), prefix, workers, use_nginx)
        origin = f"http://127.0.0.1:{started.port}"
        yield Server(started.kind, origin, started.process, prefix / "requests.log")
    finally:
        if started is not None:
            _stop(started.process)
        shutil.rmtree(prefix, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _tail(prefix: Path) -> str:
    paths = (prefix / "error.log", prefix / "stderr.log")
    text = " ".join(path.read_text(errors="replace") for path in paths if path.exists())
    return text.strip()[-300:] or "no error output"


# ---------------------------------------------------------------------------- fallback


def _run_python_server(root: Path, port: int, log: Path) -> None:
    """An aiohttp static server with the same request log; slower than nginx."""
    from aiohttp import web

    types = {".html": "text/html", ".xml": "application/xml", ".gz": "application/gzip"}
    types |= {".txt": "text/plain", ".css": "text/css", ".json": "application/json"}
    log_file = log.open("a", buffering=1)
    base = root.resolve()

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path
        file = (base / path.lstrip("/")).resolve()
        if path.endswith("/"):
            file = file / "index.html"
        if not file.is_relative_to(base) or not file.is_file():
            log_file.write(f"404 {request.raw_path}\n")
            raise web.HTTPNotFound()
        log_file.write(f"200 {request.raw_path}\n")
        content_type = types.get(file.suffix, "application/octet-stream")
        charset = "utf-8" if content_type.startswith("text/") else None
        return web.Response(body=file.read_bytes(), content_type=content_type, charset=charset)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a generated benchmark site.")
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=0, help="the fallback server's port")
    parser.add_argument("--log", type=Path, help="the fallback server's request log")
    args = parser.parse_args()
    if args.log is not None:  # started by serve() as the fallback
        _run_python_server(args.root, args.port, args.log)
        return
    from bench import site

    with serve(args.root) as server:
        site.write_discovery_files(args.root, server.origin)
        print(f"serving {args.root} at {server.origin}/ with {server.kind}; Ctrl-C stops")
        with contextlib.suppress(KeyboardInterrupt):
            server.process.wait()


if __name__ == "__main__":
    main()
