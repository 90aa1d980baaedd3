"""The bot's Prometheus metrics and health check (served by :mod:`videobot.metrics` on ``--metrics-port``).

From the store, refreshed at each scrape: ``videobot_queue_depth{guild_id}`` (jobs waiting per server;
a server whose queue emptied shows 0 until the next scrape drops it), ``videobot_workers_online{state}``
(live GPU workers: starting, ready, paused) and ``videobot_store_up``.

Counted as they happen: ``videobot_jobs_failed_total{reason}`` (failed jobs the delivery loop reported
to their members, by their db.failures code), ``videobot_discord_api_errors_total{status,route}`` (every
REST response from Discord that was no success, retried ones too; ``status="connection"`` when no
answer came at all) and ``videobot_discord_rate_limits_total{route,scope}`` (its 429s; ``scope`` is
Discord's ``X-RateLimit-Scope``: user, shared or global). ``videobot_gateway_connected`` is 1 while the
gateway is.

How Discord's answers are counted: an aiohttp ``TraceConfig`` on discord.py's HTTP session (its public
``http_trace`` option) sees every response, including the 429s and 5xx discord.py retries on its own
and never raises (a wrapper around ``HTTPClient.request`` would only see the last try; a handler on
discord.http's log lines would depend on their wording and miss every other status). The route label
is discord.py's own template (``POST /channels/{channel_id}/messages``), put in a context variable by a
thin wrapper around ``bot.http.request``: bounded labels, no ids or interaction tokens in them.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge

from bot.app import VideoBot
from db.store import Job
from db.store.models import WORKER_STATES
from videobot.metrics import HealthCheck, MetricsServer, store_check

log = logging.getLogger(__name__)

OTHER_ROUTE = "other"  # a request not made through HTTPClient.request (CDN downloads)
_ROUTE: contextvars.ContextVar[str | None] = contextvars.ContextVar("videobot_discord_route", default=None)


def route_label(method: str, path_template: str) -> str:
    """The label of a Discord route: ``"POST /channels/{channel_id}/messages"``."""
    return f"{method.upper()} {path_template}"


def rate_limit_scope(headers: Mapping[str, str], body_global: bool = False) -> str:
    """Which limit a 429 hit, from Discord's headers: ``user``, ``shared``, ``global`` (or
    ``unknown`` when Discord did not say, as behind Cloudflare)."""
    if body_global or headers.get("X-RateLimit-Global", "").lower() == "true":
        return "global"
    scope = headers.get("X-RateLimit-Scope", "").strip().lower()
    return scope if scope in ("user", "shared", "global") else "unknown"


class BotMetrics:
    """The metrics of one bot process, on a registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.queue_depth = Gauge(
            "videobot_queue_depth", "Jobs waiting in the queue, per server", ["guild_id"],
            registry=self.registry,
        )  # fmt: skip
        self.workers_online = Gauge(
            "videobot_workers_online", "GPU workers seen in the last minute, by state", ["state"],
            registry=self.registry,
        )  # fmt: skip
        self.store_up = Gauge(
            "videobot_store_up", "1 when the job store answered the last scrape", registry=self.registry
        )
        self.gateway_connected = Gauge(
            "videobot_gateway_connected", "1 while the bot is connected to Discord's gateway",
            registry=self.registry,
        )  # fmt: skip
        self.failed = Counter(
            "videobot_jobs_failed", "Failed jobs reported to their members, by reason (a db.failures code)",
            ["reason"], registry=self.registry,
        )  # fmt: skip
        self.discord_errors = Counter(
            "videobot_discord_api_errors", "Discord REST responses that were no success, by status and route",
            ["status", "route"], registry=self.registry,
        )  # fmt: skip
        self.rate_limits = Counter(
            "videobot_discord_rate_limits", "429 responses from Discord, by route and scope",
            ["route", "scope"], registry=self.registry,
        )  # fmt: skip
        self.unsigned = Counter(
            "videobot_clips_unsigned", "Clips posted without content credentials (they could not be signed)",
            registry=self.registry,
        )  # fmt: skip
        for state in WORKER_STATES:
            self.workers_online.labels(state=state).set(0)
        self.bot: VideoBot | None = None

    # ---- Discord's answers -------------------------------------------------------------------------

    def response(self, route: str | None, status: int, headers: Mapping[str, str]) -> None:
        """Count one HTTP response from Discord."""
        if status < 400:
            return
        label = route or OTHER_ROUTE
        self.discord_errors.labels(status=str(status), route=label).inc()
        if status == 429:
            self.rate_limits.labels(route=label, scope=rate_limit_scope(headers)).inc()

    def trace_config(self) -> aiohttp.TraceConfig:
        """An aiohttp trace that counts every response of the session it is given to."""
        trace = aiohttp.TraceConfig()

        async def on_end(session: Any, context: Any, params: aiohttp.TraceRequestEndParams) -> None:
            self.response(_ROUTE.get(), params.response.status, params.response.headers)

        async def on_exception(
            session: Any, context: Any, params: aiohttp.TraceRequestExceptionParams
        ) -> None:
            self.discord_errors.labels(status="connection", route=_ROUTE.get() or OTHER_ROUTE).inc()

        trace.on_request_end.append(on_end)
        trace.on_request_exception.append(on_exception)
        return trace

    def instrument(self, bot: VideoBot) -> None:
        """Count ``bot``'s Discord responses and failures. Call it before ``bot.start`` (or ``login``):
        discord.py builds its HTTP session, with the trace, when it logs in."""
        self.bot = bot
        http = bot.http
        if http.http_trace is None:
            http.http_trace = self.trace_config()
        else:
            log.warning("the bot already has an http_trace: Discord's answers are not counted")
        original = http.request

        async def request(route: Any, **kwargs: Any) -> Any:
            token = _ROUTE.set(route_label(route.method, route.path))
            try:
                return await original(route, **kwargs)
            finally:
                _ROUTE.reset(token)

        setattr(http, "request", request)  # noqa: B010 (an instance attribute over the method, on purpose)
        bot.add_listener(self.on_ending_posted, "on_ending_posted")
        bot.add_listener(self.on_clip_unsigned, "on_clip_unsigned")

    async def on_ending_posted(self, job: Job) -> None:
        """The delivery loop told a member their job ended without a clip."""
        if job.state == "failed":
            self.failed.labels(reason=job.error_code or "unknown").inc()

    async def on_clip_unsigned(self, job: Job, reason: str) -> None:
        """The delivery loop posted a clip it could not sign (bot.credentials)."""
        self.unsigned.inc()

    # ---- from the store, at each scrape ------------------------------------------------------------

    async def refresh(self) -> None:
        bot = self.bot
        if bot is None:
            return
        self.gateway_connected.set(1 if gateway_problem(bot) is None else 0)
        store = getattr(bot, "store", None)
        if store is None:  # not open yet (setup_hook)
            self.store_up.set(0)
            return
        try:
            queued = await store.metrics.queued_by_guild()
            workers = await store.workers.live_workers()
        except Exception:
            self.store_up.set(0)
            raise
        self.store_up.set(1)
        self.queue_depth.clear()
        for guild_id, n in queued.items():
            self.queue_depth.labels(guild_id=str(guild_id)).set(n)
        for state in WORKER_STATES:
            self.workers_online.labels(state=state).set(sum(1 for w in workers if w.state == state))

    def health_check(self, bot: VideoBot) -> HealthCheck:
        """Healthy when the gateway is connected and the job store answers."""
        kept: list[tuple[object, HealthCheck]] = []  # the store's check, kept: it logs an outage once

        async def check() -> str | None:
            problem = gateway_problem(bot)
            if problem is not None:
                return problem
            store = getattr(bot, "store", None)
            if store is None:
                return "job store not open yet"
            if not kept or kept[0][0] is not store:
                kept[:] = [(store, store_check(store.metrics))]
            return await kept[0][1]()

        return check


def gateway_problem(bot: VideoBot) -> str | None:
    """Why the bot is not connected to Discord's gateway, or None when it is."""
    if bot.is_closed():
        return "Discord gateway disconnected (the bot is closed)"
    ws = bot.ws
    if not bot.is_ready() or ws is None or not ws.open:
        return "Discord gateway disconnected"
    return None


async def serve_bot_metrics(bot: VideoBot, host: str, port: int) -> MetricsServer:
    """Instrument ``bot`` (before it logs in) and serve its ``/metrics`` and ``/healthz``."""
    metrics = BotMetrics()
    metrics.instrument(bot)
    server = MetricsServer(metrics.registry, metrics.health_check(bot), metrics.refresh)
    await server.start(host, port)
    return server
