"""A real headless Chromium (Debian's ``chromium`` package), driven over the DevTools protocol with
aiohttp's websocket client: no Playwright or Selenium download needed.

``async with Chromium.start(tmp) as browser: await browser.navigate(url)`` … ``evaluate(js)``,
``wait_for(js)``, ``set_viewport(w, h)``, ``screenshot(path)``. :func:`chromium_or_skip` skips a test
when the browser is missing, and fails it when ``CI`` is set (``.ci/run`` installs it).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import pytest

CANDIDATES = ("chromium", "chromium-browser")


def chromium_binary() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_or_skip() -> str:
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(
                "CI is set but chromium is not installed (apt-get install -y chromium)", pytrace=False
            )
        pytest.skip("chromium is not installed here (apt-get install -y chromium; CI installs it)")
    return binary


class DevToolsError(RuntimeError):
    """Chromium answered a command with an error, or a page script threw."""


class Chromium:
    """One headless browser process with one page, spoken to over the DevTools protocol."""

    def __init__(self, process: subprocess.Popen[bytes], profile: Path) -> None:
        self.process = process
        self.profile = profile
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._waiters: list[tuple[str, asyncio.Future[dict[str, Any]]]] = []
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def launch(cls, binary: str | None = None, *, timeout: float = 30.0) -> Chromium:
        binary = binary or chromium_or_skip()
        profile = Path(tempfile.mkdtemp(prefix="videobot-chromium-"))
        log = open(profile / "chromium.log", "wb")  # noqa: SIM115 - closed once the child holds it
        process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--mute-audio",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "--autoplay-policy=no-user-gesture-required",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        log.close()
        browser = cls(process, profile)
        try:
            await browser._connect(timeout)
        except BaseException:
            await browser.close()
            raise
        return browser

    async def _connect(self, timeout: float) -> None:
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.process.poll() is not None:
                raise DevToolsError(f"chromium exited with {self.process.returncode}: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise DevToolsError(f"chromium wrote no DevToolsActivePort in {timeout} s: {self.log_tail()}")
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        self._session = aiohttp.ClientSession()
        page_url = None
        while page_url is None:
            async with self._session.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = await response.json()
            page_url = next((t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"), None)
            if page_url is None:
                if time.monotonic() > deadline:
                    raise DevToolsError("chromium shows no page target")
                await asyncio.sleep(0.05)
        self._ws = await self._session.ws_connect(page_url, max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        await self.send("Page.enable")
        await self.send("Runtime.enable")

    def log_tail(self) -> str:
        log = self.profile / "chromium.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
            else:
                for method, waiter in list(self._waiters):
                    if method == data.get("method") and not waiter.done():
                        waiter.set_result(data.get("params", {}))
                        self._waiters.remove((method, waiter))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(DevToolsError("the DevTools connection closed"))

    async def send(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0) -> Any:
        """One DevTools command; its result."""
        assert self._ws is not None
        command_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = future
        await self._ws.send_json({"id": command_id, "method": method, "params": params or {}})
        reply = await asyncio.wait_for(future, timeout)
        if "error" in reply:
            raise DevToolsError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def _event(self, method: str) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.append((method, future))
        return future

    async def navigate(self, url: str, *, timeout: float = 30.0) -> None:
        """Open ``url`` and wait for its load event."""
        loaded = self._event("Page.loadEventFired")
        result = await self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise DevToolsError(f"navigating to {url}: {result['errorText']}")
        await asyncio.wait_for(loaded, timeout)

    async def evaluate(self, expression: str) -> Any:
        """A JavaScript expression's value in the page (promises awaited)."""
        result = await self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, *, timeout: float = 20.0, what: str = "") -> Any:
        """Poll ``expression`` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what or expression} not true after {timeout} s (last: {value!r})")
            await asyncio.sleep(0.05)

    async def set_viewport(self, width: int, height: int, *, mobile: bool = True) -> None:
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    async def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        """A PNG of the page (the whole page, not only the viewport, unless ``full_page`` is off)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        result = await self.send("Page.captureScreenshot", params)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(result["data"]))
        return path

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)
        shutil.rmtree(self.profile, ignore_errors=True)

    async def __aenter__(self) -> Chromium:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
