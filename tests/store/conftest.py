"""Fixtures for the job store: a real throwaway PostgreSQL cluster and fresh SQLite files.

The cluster comes from Debian's packages (``apt-get install -y postgresql``): ``initdb`` into a
temporary folder, ``pg_ctl start`` on 127.0.0.1 at a free port with its socket in that folder, once
per test session; as root, the server runs as the ``postgres`` system user (created if missing).
Outside CI a machine without PostgreSQL skips the PostgreSQL half; with ``CI`` set it fails loudly.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from db.store import Store, open_store

BACKENDS = ("sqlite", "postgresql")
PG_USER = "videobot"
TEMPLATE_DB = "videobot_template"
START_TIME = 1_700_000_000.0


class FakeClock:
    """A clock the test moves by hand (lease expiry without sleeping)."""

    def __init__(self, start: float = START_TIME) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _postgres_bin() -> Path | None:
    found = []
    for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        match = re.fullmatch(r"\d+", initdb.parent.parent.name)
        if match:
            found.append((int(initdb.parent.parent.name), initdb.parent))
    return max(found)[1] if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> str | None:
    """The user to run the server as when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return "postgres"


class PostgresCluster:
    def __init__(self) -> None:
        bindir = _postgres_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
        self.bindir = bindir
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="videobot-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._counter = itertools.count()

    def _prefix(self) -> list[str]:
        """What runs a server command where the server lives (nothing: this machine)."""
        return []

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        command = [*self._prefix(), *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-3000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}\n{tail}")

    def start(self) -> None:
        atexit.register(self.stop)  # even if the session dies before its teardown
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        if not self.root.exists():
            return
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def cpu_seconds(self) -> float:
        """CPU seconds the server has used so far: the postmaster with the children it has reaped
        (cutime, cstime), plus the live ones (backends, autovacuum, WAL writer). For the benches."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        ticks = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # it ended meanwhile: its time went to the postmaster's reaped children
            if int(proc.name) == postmaster:
                ticks += sum(int(f) for f in fields[11:15])
            elif int(fields[1]) == postmaster:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def url(self, database: str) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"

    async def create_template(self) -> None:
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        finally:
            await conn.close()
        store = await open_store(self.url(TEMPLATE_DB))  # migrated once; each test copies it
        await store.close()

    async def fresh_database(self) -> str:
        name = f"test_{os.getpid()}_{next(self._counter)}"
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB} STRATEGY FILE_COPY")
        finally:
            await conn.close()
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster | None]:
    try:
        cluster = PostgresCluster()
        cluster.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but PostgreSQL could not be started: {exc}", pytrace=False)
        yield None
        return
    try:
        asyncio.run(cluster.create_template())
        yield cluster
    finally:
        cluster.stop()


UrlFactory = Callable[[], Awaitable[str]]


@pytest.fixture(scope="session")
def url_factories(
    pg_cluster: PostgresCluster | None, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, UrlFactory]:
    """backend name → coroutine function giving the URL of a fresh, empty database."""
    counter = itertools.count()

    async def sqlite_url() -> str:
        folder = tmp_path_factory.mktemp(f"sqlite{next(counter)}")
        return str(folder / "videobot.db")

    factories: dict[str, UrlFactory] = {"sqlite": sqlite_url}
    if pg_cluster is not None:
        factories["postgresql"] = pg_cluster.fresh_database
    return factories


def need_backend(factories: dict[str, UrlFactory], backend: str) -> UrlFactory:
    if backend not in factories:
        pytest.skip("PostgreSQL is not installed here (CI runs it)")
    return factories[backend]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def store_url(backend: str, url_factories: dict[str, UrlFactory]) -> str:
    return await need_backend(url_factories, backend)()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    opened = await open_store(store_url, clock=clock)
    try:
        yield opened
    finally:
        await opened.close()
