"""Prometheus metrics and ``/healthz`` for every long-running process (the bot, each worker).

One small aiohttp server per process, started by ``--metrics-port N`` (off when not given):

- ``GET /metrics``: the process's own :class:`prometheus_client.CollectorRegistry` in Prometheus' text
  format (a registry per process, never the global default one, so a test can run several). Gauges
  that mirror the store (queue depth, workers online) are refreshed just before each scrape.
- ``GET /healthz``: ``200 ok`` only when the process's health check passes (the store answers a cheap
  query within :data:`HEALTH_TIMEOUT_S`; on the bot the gateway is connected too), else ``503`` with
  the reason as one line of text. The reason names the part that is down ("job store unavailable"),
  never its error: a database error can name the database's host, user or tables, and /healthz is
  often reachable by more people than the logs. The error goes to the log, once per outage.

Neither discord nor torch is imported here, and aiohttp only when a server starts: ``videobot generate``
parses its arguments without it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from aiohttp import web
    from prometheus_client import CollectorRegistry

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 2.0  # a store that takes longer than this to answer a cheap query is unhealthy
REFRESH_TIMEOUT_S = 2.0  # a scrape waits this long for the store-backed gauges, then shows the last values

STORE_DOWN = "job store unavailable"

# None: healthy; otherwise which part is down, in one line (never an error's text)
HealthCheck = Callable[[], Awaitable[str | None]]
Refresh = Callable[[], Awaitable[None]]


def add_metrics_arguments(parser: argparse.ArgumentParser) -> None:
    """``--metrics-port`` and ``--metrics-host`` for a long-running subcommand."""
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve Prometheus metrics on /metrics and a health check on /healthz (default: off)",
    )
    parser.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="HOST",
        help="address the metrics server listens on (default 127.0.0.1; 0.0.0.0 in a container)",
    )


async def health_reason(
    check: HealthCheck, timeout_s: float = HEALTH_TIMEOUT_S, outage: Outage | None = None
) -> str | None:
    """Run ``check`` within ``timeout_s``: None when healthy, else the reason (a check that hangs or
    raises is unhealthy too, and says so; what it raised goes to the log through ``outage``)."""
    try:
        reason = await asyncio.wait_for(check(), timeout_s)
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except Exception as exc:
        (outage or Outage("the health check")).down(one_line(exc))
        return "health check failed"
    if outage is not None:
        outage.up()
    return reason


def one_line(exc: BaseException) -> str:
    """An exception as one short line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class Outage:
    """A part that is down: its error is logged when it goes and a line when it is back, once each
    however often /healthz is asked (a load balancer asks every few seconds)."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.down_since: float | None = None

    def down(self, error: str) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("%s unavailable: %s", self.part, error)

    def up(self) -> None:
        if self.down_since is not None:
            log.info("%s is back after %.0f s", self.part, time.monotonic() - self.down_since)
            self.down_since = None


class Pingable(Protocol):
    """What a store health check needs (:class:`db.store.metrics.MetricsStore`, ``store.metrics``, is one)."""

    async def ping(self) -> None: ...


def store_check(store: Pingable, timeout_s: float = HEALTH_TIMEOUT_S) -> HealthCheck:
    """A health check that passes when the store answers :meth:`ping` within ``timeout_s``. Make one
    per store and keep it: it remembers an outage, so the error is logged once."""
    outage = Outage("job store")

    async def check() -> str | None:
        try:
            await asyncio.wait_for(store.ping(), timeout_s)
        except TimeoutError:
            outage.down(f"no answer within {timeout_s:g} s")
            return f"{STORE_DOWN} (no answer within {timeout_s:g} s)"
        except Exception as exc:
            outage.down(one_line(exc))
            return STORE_DOWN
        outage.up()
        return None

    return check


class MetricsServer:
    """The ``/metrics`` and ``/healthz`` server of one process."""

    def __init__(
        self,
        registry: CollectorRegistry,
        health: HealthCheck,
        refresh: Refresh | None = None,
        *,
        health_timeout_s: float = HEALTH_TIMEOUT_S,
    ) -> None:
        self.registry = registry
        self.health = health
        self.refresh = refresh
        self.health_timeout_s = health_timeout_s
        self._health_failing = Outage("the health check")
        self._runner: web.AppRunner | None = None
        self.port: int | None = None  # the port it listens on, once started (a real one for port 0)

    def app(self) -> web.Application:
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        return app

    async def _metrics(self, request: web.Request) -> web.Response:
        from aiohttp import web
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if self.refresh is not None:
            try:
                await asyncio.wait_for(self.refresh(), REFRESH_TIMEOUT_S)
            except Exception as exc:  # the store is away: the scrape still answers, with the last values
                log.debug("metrics refresh failed: %s", one_line(exc))
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        from aiohttp import web

        reason = await health_reason(self.health, self.health_timeout_s + 0.5, self._health_failing)
        if reason is None:
            return web.Response(text="ok\n")
        return web.Response(status=503, text=f"{reason}\n")

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host:port`` (0: any free port); the port it listens on."""
        from aiohttp import web

        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        log.info("metrics on http://%s:%d/metrics", host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
