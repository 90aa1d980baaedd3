"""Several hosts on one machine: network namespaces joined by a switch, PostgreSQL on one of them, a
real ``videobot worker`` on each of two others, and the bot in this process (the root namespace).

The lab (root and iproute2's ``ip`` needed; ``.ci/run`` installs it)::

    vb-sw-<id>   a bridge, the switch: every host's cable ends here (its netfilter is its own and empty,
                 so a firewall of the machine's, Docker's say, never filters the lab's traffic)
    vb-db-<id>   PostgreSQL on 10.A.B.1:5432, eth0 into the switch
    vb-w1-<id>   worker host 1, 10.A.B.11, with its own host name, spool and temp folders
    vb-w2-<id>   worker host 2, 10.A.B.12
    root         this process (the bot and the test's own store connection), 10.A.B.254

Cutting a host's link is ``ip link set eth0 down`` in its namespace: its connections stay open and
hear nothing, as with a pulled cable. Outside CI a machine where the lab cannot be built (not root, no
``ip``, no namespaces) skips these tests with the reason; with ``CI`` set they fail instead.
Namespaces and processes go in the fixtures' finalizers, and at exit if the session dies first.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import pytest

from bot.app import VideoBot
from bot.config import BotConfig
from db.presets import PresetCatalog
from db.store import Job, Store, WorkerInfo, open_store, store_unavailable
from tests.discord_fake import DiscordFake
from tests.discord_fake.fixtures import discord_fake
from tests.processes import WorkerProcess
from tests.store.conftest import PG_USER, PostgresCluster

__all__ = ["discord_fake"]

PG_PORT = 5432  # the database host is a machine of its own: the standard port is free there
DATABASE = "videobot"
MID_STEPS = 8000  # tiny-mid: a render of several seconds on a CPU, long enough to cut a link in mid-render
# (progress is written every 2 s at most: a shorter render may be over before the test sees it begin;
# 2000 steps took 2 s on a quiet machine, and 1 run in 4 to 8 missed the job mid-render)


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


class NetLab:
    """The namespaces, the switch and the cables. ``hosts`` maps a host name (db, w1, w2) to its
    namespace; ``address(host)`` is its IPv4 address."""

    HOSTS: ClassVar[dict[str, int]] = {"db": 1, "w1": 11, "w2": 12}

    def __init__(self) -> None:
        self.id = secrets.token_hex(3)
        self.subnet = self._free_subnet()
        self.switch = f"vb-sw-{self.id}"
        self.hosts = {name: f"vb-{name}-{self.id}" for name in self.HOSTS}
        self._made: list[str] = []

    @staticmethod
    def _free_subnet() -> str:
        routes = _ip("-4", "route", "show", "table", "all").stdout
        for _ in range(50):
            subnet = f"10.{200 + secrets.randbelow(55)}.{secrets.randbelow(256)}"
            if f"{subnet}." not in routes:
                return subnet
        raise RuntimeError("no free 10.x.y.0/24 subnet for the lab")

    def address(self, host: str) -> str:
        return f"{self.subnet}.{self.HOSTS[host] if host != 'root' else 254}"

    def exec_argv(self, host: str) -> list[str]:
        """The argv prefix that runs a command on ``host``."""
        return ["ip", "netns", "exec", self.hosts[host]]

    def build(self) -> None:
        atexit.register(self.close)  # even if the session dies before the finalizer
        for ns in (self.switch, *self.hosts.values()):
            _ip("netns", "add", ns)
            self._made.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        for host, ns in self.hosts.items():
            end, port = f"vb{host}{self.id}", f"vb{host}{self.id}s"
            _ip("link", "add", end, "type", "veth", "peer", "name", port)
            _ip("link", "set", port, "netns", self.switch)
            _ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
            _ip("link", "set", end, "netns", ns)
            _ip("-n", ns, "link", "set", end, "name", "eth0")
            _ip("-n", ns, "addr", "add", f"{self.address(host)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
        # this process's host: its end of the cable stays in the root namespace
        end, port = f"vbh{self.id}", f"vbh{self.id}s"
        _ip("link", "add", end, "type", "veth", "peer", "name", port)
        _ip("link", "set", port, "netns", self.switch)
        _ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
        _ip("addr", "add", f"{self.address('root')}/24", "dev", end)
        _ip("link", "set", end, "up")

    def link_down(self, host: str) -> None:
        _ip("-n", self.hosts[host], "link", "set", "eth0", "down")

    def link_up(self, host: str) -> None:
        _ip("-n", self.hosts[host], "link", "set", "eth0", "up")

    def close(self) -> None:
        """Delete the namespaces (their cables go with them); safe to call twice."""
        while self._made:
            _ip("netns", "del", self._made.pop(), check=False)


class NetnsCluster(PostgresCluster):
    """A throwaway PostgreSQL (tests/store/conftest.py) run on the lab's database host, listening on
    its address only; clients on the subnet are trusted. ``restart`` is ``pg_ctl restart`` there."""

    def __init__(self, lab: NetLab) -> None:
        super().__init__()
        self.lab = lab
        self.host = lab.address("db")
        self.port = PG_PORT

    def _prefix(self) -> list[str]:
        return self.lab.exec_argv("db")  # server commands run on the database host

    def start(self) -> None:
        atexit.register(self.stop)
        if self.user is not None:
            shutil.chown(self.root, self.user, self.user)
        self._run(
            "initdb", "-D", str(self.data), "-U", PG_USER, "-A", "trust", "-E", "UTF8", "--no-locale",
            "--no-sync",
        )  # fmt: skip
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {self.lab.subnet}.0/24 trust\n")
        options = (
            f"-h {self.host} -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip

    def restart(self) -> None:
        """A fast restart (every client's connection drops), as an upgrade or a failover does."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-m", "fast", "-w",
                  "-t", "60", "restart")  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgresql://{PG_USER}@{self.host}:{self.port}/{database}"


class HostWorker(WorkerProcess):
    """``videobot worker`` on a lab host: in its namespace, under its own host name (a UTS namespace),
    with its own spool and temp folders (a host's disk is its own), serving ``models``."""

    def __init__(self, lab: NetLab, host: str, url: str, presets: Path, models: tuple[str, ...]) -> None:
        self.host = host
        self.hostname = lab.hosts[host]
        self.models = models
        self.disk = Path(tempfile.mkdtemp(prefix=f"videobot-{host}-"))
        (self.disk / "tmp").mkdir()
        super().__init__(
            url,
            presets,
            env={
                "VIDEOBOT_SPOOL_DIR": str(self.disk / "spool"),
                "TMPDIR": str(self.disk / "tmp"),
                "HF_HUB_OFFLINE": "1",
            },
        )
        worker = self.argv.index("worker")
        self.argv[worker:worker] = ["-v"]
        self.argv += ["--models", *models]
        # ip netns exec → unshare (no fork) → sh → exec python: the Popen pid is the worker's pid
        self.argv = [
            *lab.exec_argv(host),
            "unshare", "--uts", "--", "sh", "-c", 'hostname "$1" && shift && exec "$@"', "sh",
            self.hostname, *self.argv,
        ]  # fmt: skip

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.disk, ignore_errors=True)


class Hosts:
    """The two worker hosts; which one holds a job, and the other."""

    def __init__(self, workers: list[HostWorker]) -> None:
        self.workers = workers

    def info(self, store_workers: list[WorkerInfo], worker: HostWorker) -> WorkerInfo | None:
        return next((w for w in store_workers if w.host == worker.hostname), None)

    async def worker_ids(self, store: Store) -> dict[str, HostWorker]:
        """worker id (as the store knows it) → host."""
        known = await store.workers.live_workers()
        return {w.worker_id: h for h in self.workers if (w := self.info(known, h)) is not None}

    def other(self, worker: HostWorker) -> HostWorker:
        return next(w for w in self.workers if w is not worker)

    def logs(self) -> str:
        return "\n".join(f"--- {w.hostname} ---\n{w.log()}" for w in self.workers)


async def poll(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """``check()`` (sync or async) until it gives something truthy; a store that is away meanwhile
    (a restart) counts as not yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
        except Exception as exc:
            if not store_unavailable(exc) and not isinstance(exc, OSError | asyncpg.PostgresError):
                raise
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.1)


async def job_where(store: Store, job_id: int, test: Callable[[Job], bool], timeout: float, what: str) -> Job:
    async def check() -> Job | None:
        job = await store.jobs.get(job_id)
        return job if job is not None and test(job) else None

    return await poll(check, timeout, f"job {job_id} {what}")


def _lab_or_skip() -> NetLab:
    why = None
    if os.geteuid() != 0:
        why = "needs root (network namespaces)"
    elif shutil.which("ip") is None:
        why = "needs iproute2's ip (apt-get install iproute2)"
    elif shutil.which("unshare") is None:
        why = "needs util-linux's unshare"
    if why is None:
        lab = NetLab()
        try:
            lab.build()
            return lab
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            lab.close()
            why = f"network namespaces cannot be built here: {exc}"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the cross-host lab {why}", pytrace=False)
    pytest.skip(f"the cross-host lab {why}")


@pytest.fixture(scope="module")
def netlab() -> Iterator[NetLab]:
    lab = _lab_or_skip()
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture(scope="module")
def db_host(netlab: NetLab) -> Iterator[NetnsCluster]:
    """PostgreSQL on the database host, with the job store's database migrated."""
    try:
        cluster = NetnsCluster(netlab)
        cluster.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but PostgreSQL could not be started on the lab's host: {exc}")
        pytest.skip(f"PostgreSQL cannot be started here: {exc}")

    async def create() -> None:
        conn = await asyncpg.connect(cluster.url("postgres"))  # from this host, through the switch
        try:
            await conn.execute(f"CREATE DATABASE {DATABASE}")
        finally:
            await conn.close()
        store = await open_store(cluster.url(DATABASE))
        await store.close()

    try:
        asyncio.run(create())
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def hosts_presets(tiny_ltx: Path, tiny_wan: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`tiny-mid` (both hosts: a render of a few seconds), `tiny-ltx` (host 1 only), `tiny-wan`
    (host 2 only): a clip of a model only one host serves shows that host is serving."""
    from tests.tiny_models import preset_entry as preset

    presets = {
        "default": "tiny-mid",
        "tiny-mid": preset(
            "ltx-video", tiny_ltx, title="Tiny mid", default_steps=MID_STEPS, max_steps=MID_STEPS
        ),
        "tiny-ltx": preset("ltx-video", tiny_ltx),
        "tiny-wan": preset("wan-1.3b", tiny_wan),
    }
    path = tmp_path_factory.mktemp("hosts") / "presets.json"
    path.write_text(json.dumps(presets, indent=2))
    return path


ONLY_ON = {"w1": "tiny-ltx", "w2": "tiny-wan"}


@pytest.fixture(scope="module")
def worker_hosts(netlab: NetLab, db_host: NetnsCluster, hosts_presets: Path) -> Iterator[Hosts]:
    """A real worker process on each of the two worker hosts, both ready. Their logs are printed at
    the end (pytest shows them when a test failed)."""
    url = db_host.url(DATABASE)
    workers = [HostWorker(netlab, h, url, hosts_presets, ("tiny-mid", ONLY_ON[h])) for h in ONLY_ON]
    hosts = Hosts(workers)
    try:
        for worker in workers:
            worker.start()

        async def ready() -> None:
            store = await open_store(url)
            try:

                async def both() -> bool:
                    for w in workers:
                        assert w.alive(), hosts.logs()
                    known = await store.workers.live_workers()
                    return all(
                        (i := hosts.info(known, w)) is not None and i.state == "ready" for w in workers
                    )

                await poll(both, 120, "both worker hosts to be ready")
            finally:
                await store.close()

        asyncio.run(ready())
        yield hosts
    finally:
        print(hosts.logs())
        for worker in workers:
            worker.stop()


@pytest.fixture(scope="module")
def hosts_catalog(hosts_presets: Path) -> PresetCatalog:
    return PresetCatalog.load(hosts_presets)


@pytest.fixture
async def store(db_host: NetnsCluster) -> AsyncIterator[Store]:
    """The test's own connection to the job store (from the root namespace, through the switch)."""
    opened = await open_store(db_host.url(DATABASE))
    yield opened
    await opened.close()


@pytest.fixture
async def bot(
    discord_fake: DiscordFake, db_host: NetnsCluster, hosts_catalog: PresetCatalog
) -> AsyncIterator[VideoBot]:
    """The real bot in this event loop, on the lab's PostgreSQL, against the fake Discord."""
    config = BotConfig(token=discord_fake.token, database_url=db_host.url(DATABASE))
    running = VideoBot(config, hosts_catalog, guild_ready_timeout=0.1)
    task = asyncio.create_task(running.start(config.token))
    try:
        ready = asyncio.ensure_future(discord_fake.wait_until_ready(timeout=30))
        await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():  # the bot gave up before it was ready: say why
            ready.cancel()
            task.result()
        await ready
        await asyncio.wait_for(running.wait_until_ready(), 15)
        yield running
    finally:
        await running.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 15)


def mentions(job_id: int) -> re.Pattern[str]:
    return re.compile(rf"#{job_id}\b")
