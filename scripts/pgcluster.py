"""A throwaway PostgreSQL cluster on a free loopback port, for tests and benchmarks.

    python scripts/pgcluster.py start DIR [--durable]   # prints the database URL
    python scripts/pgcluster.py restart DIR              # same port, new server process
    python scripts/pgcluster.py stop DIR

Installs Debian's ``postgresql`` with apt-get when no server binaries are found. As
root, the server runs as the ``postgres`` user (PostgreSQL refuses to run as root).
Without ``--durable`` the cluster trades crash safety for speed (``fsync=off``), which
is right for tests; benchmarks pass ``--durable`` to measure what users get.
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def _bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def ensure_installed() -> Path:
    bindir = _bindir()
    if bindir is not None:
        return bindir
    print("pgcluster: installing postgresql with apt-get", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
        check=True,
        env=env,
    )
    bindir = _bindir()
    if bindir is None:
        sys.exit("pgcluster: postgresql is installed but initdb was not found")
    return bindir


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def start(directory: Path, durable: bool) -> str:
    bindir = ensure_installed()
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    if not data.exists():
        subprocess.run(
            _as_server_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    port = _free_port()
    options = [
        f"-p {port}",
        f"-k {directory}",
        "-c listen_addresses=127.0.0.1",
        "-c max_connections=300",
        "-c shared_buffers=256MB",
    ]
    if not durable:
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    subprocess.run(
        _as_server_user(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                " ".join(options),
                "-l",
                str(directory / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (directory / "port").write_text(str(port))
    _wait_ready(port)
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def _wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"pgcluster: server on port {port} did not come up")


def stop(directory: Path) -> None:
    bindir = _bindir()
    data = directory / "data"
    if bindir is None or not (data / "postmaster.pid").exists():
        return
    subprocess.run(
        _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
        check=False,
        stdout=subprocess.DEVNULL,
    )


def restart(directory: Path) -> None:
    """Stop the server abruptly-but-cleanly and start it again on the same port."""
    bindir = ensure_installed()
    data = directory / "data"
    subprocess.run(
        _as_server_user(
            [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "restart"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    _wait_ready(int((directory / "port").read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "restart"])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--durable", action="store_true", help="keep fsync on")
    args = parser.parse_args()
    if args.action == "start":
        print(start(args.directory.resolve(), args.durable))
    elif args.action == "restart":
        restart(args.directory.resolve())
    else:
        stop(args.directory.resolve())


if __name__ == "__main__":
    main()
