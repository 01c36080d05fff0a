"""A throwaway PostgreSQL cluster for the test suite (and benchmarks) on 127.0.0.1.

Usage::

    eval "$(python scripts/pg_cluster.py start)"   # exports ALW_DATABASE_URL, ALW_PGDATA
    python scripts/pg_cluster.py restart "$ALW_PGDATA"
    python scripts/pg_cluster.py stop "$ALW_PGDATA"  # stops the server, removes the directory
    python scripts/pg_cluster.py pause "$ALW_PGDATA"   # stops the server, keeps the data
    python scripts/pg_cluster.py resume "$ALW_PGDATA"  # starts it again on the same port

``start`` creates a temporary directory, runs ``initdb`` (as the ``postgres`` user
when run as root: PostgreSQL refuses to run as root), starts the server on a free
port with password (scram) authentication on 127.0.0.1 only and creates the
database ``alw``. The binaries come from ``ALW_PG_BINDIR``, else ``pg_ctl`` on the
PATH, else the newest ``/usr/lib/postgresql/*/bin``. Nothing is downloaded.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

USER = "alw"
DATABASE = "alw"


def _bindir() -> Path:
    if os.environ.get("ALW_PG_BINDIR"):
        return Path(os.environ["ALW_PG_BINDIR"])
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    sys.exit("pg_cluster: no PostgreSQL server binaries (pg_ctl); apt-get install postgresql")


def _as_owner(args: list[str]) -> list[str]:
    """Run as the ``postgres`` user when we are root (the server refuses root)."""
    if os.geteuid() != 0:
        return args
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *args]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], **kwargs: object) -> None:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        sys.exit(f"pg_cluster: {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def pg_ctl(data: Path, *args: str) -> None:
    """Run ``pg_ctl -D data ARGS`` as the cluster's owner."""
    _run(_as_owner([str(_bindir() / "pg_ctl"), "-D", str(data), "-w", "-t", "60", *args]))


def start() -> tuple[str, Path]:
    """Create and start a cluster; return its URL and data directory."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="alw-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    password = secrets.token_hex(12)
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        shutil.chown(pwfile, "postgres")
    root.chmod(0o700)
    _run(
        _as_owner(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            ]
        )
    )
    pwfile.unlink()
    port = _free_port()
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sockets}"
    (root / "options").write_text(options)
    pg_ctl(data, "-l", str(root / "server.log"), "-o", options, "start")
    env = {**os.environ, "PGPASSWORD": password}
    _run(
        [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE],
        env=env,
    )
    return f"postgresql://{USER}:{password}@127.0.0.1:{port}/{DATABASE}", data


def stop(data: Path) -> None:
    """Stop the cluster (fast shutdown) and remove its directory."""
    if (data / "postmaster.pid").exists():
        pg_ctl(data, "-m", "fast", "stop")
    root = data.parent
    if root.name.startswith("alw-pg-"):
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> None:
    """``start`` | ``stop DATA`` | ``restart DATA`` | ``pause DATA`` | ``resume DATA``."""
    command = argv[0] if argv else ""
    if command == "start":
        url, data = start()
        print(f"export ALW_DATABASE_URL='{url}'")
        print(f"export ALW_PGDATA='{data}'")
    elif command in ("stop", "restart", "pause", "resume") and len(argv) == 2 and argv[1]:
        data = Path(argv[1])
        log = str(data.parent / "server.log")
        if command == "stop":
            stop(data)
        elif command == "pause":
            pg_ctl(data, "-m", "fast", "stop")
        elif command == "resume":
            pg_ctl(data, "-l", log, "-o", (data.parent / "options").read_text(), "start")
        else:
            pg_ctl(data, "-l", log, "-m", "fast", "restart")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
