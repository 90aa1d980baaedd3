"""A stand-in for the Hugging Face hub on loopback, for ``HF_ENDPOINT``: it serves folders as model
repositories through the routes ``huggingface_hub`` calls (repo info, the recursive file tree, HEAD and
GET of ``resolve`` with HTTP Range), and records every request so a test can say what was fetched.

It runs in a thread of its own with its own event loop, so sync code (``huggingface_hub``) and async
tests can both use it. ``bytes_per_second`` slows file bodies down, so a test can kill a download
halfway. A ``gated`` repository is what the hub makes of one whose license the caller has not accepted: its
description and file list are public (``"gated": "manual"``), and each of its files is answered 401 with
the hub's ``GatedRepo`` error code.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

LFS_THRESHOLD = 10 * 1024  # files at least this big are served as LFS files, as the hub does for weights
CHUNK = 16 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # the file's path in its repository, or the API route
    range_start: int  # 0 without a Range header
    bytes_sent: int


@dataclass
class FakeHub:
    repos: dict[str, Path]  # repo id -> the folder it serves
    gated: set[str] = field(default_factory=set)
    bytes_per_second: float | None = None
    requests: list[Request] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # the repository as the hub describes it

    def commit(self, repo_id: str) -> str:
        return hashlib.sha1(repo_id.encode()).hexdigest()

    def files(self, repo_id: str) -> dict[str, Path]:
        folder = self.repos[repo_id]
        return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}

    def fetched(self, repo_id: str | None = None) -> list[str]:
        """The files whose bodies were sent (GET of resolve), in order."""
        prefix = "" if repo_id is None else f"{repo_id}:"
        with self._lock:
            return [
                r.path.removeprefix(prefix)
                for r in self.requests
                if r.method == "GET:file" and r.path.startswith(prefix)
            ]

    def bytes_sent(self) -> int:
        with self._lock:
            return sum(r.bytes_sent for r in self.requests)

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _entry(self, path: str, file: Path) -> dict[str, object]:
        data = file.read_bytes()
        entry: dict[str, object] = {
            "type": "file",
            "path": path,
            "size": len(data),
            "oid": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
        }
        if len(data) >= LFS_THRESHOLD:
            entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
        return entry

    # routes

    def _repo(self, request: web.Request, *, file: bool = False) -> str:
        """The repository a request names; a file of a gated one is refused as the hub refuses it."""
        repo_id = f"{request.match_info['org']}/{request.match_info['name']}"
        if repo_id not in self.repos:
            raise web.HTTPNotFound(headers={"X-Error-Code": "RepoNotFound"}, text="Repository not found")
        if file and repo_id in self.gated:
            self._record(Request("GATED", f"{repo_id}:{request.match_info.get('path', '')}", 0, 0))
            raise web.HTTPUnauthorized(
                headers={"X-Error-Code": "GatedRepo"},
                text=f"Access to model {repo_id} is restricted. You must be authenticated to access it.",
            )
        return repo_id

    async def _info(self, request: web.Request) -> web.Response:
        repo_id = self._repo(request)
        self._record(Request("GET:info", repo_id, 0, 0))
        return web.json_response(
            {
                "_id": repo_id,
                "id": repo_id,
                "modelId": repo_id,
                "sha": self.commit(repo_id),
                "private": False,
                "gated": "manual" if repo_id in self.gated else False,
                "disabled": False,
                "tags": ["diffusers"],
                "siblings": [{"rfilename": path} for path in self.files(repo_id)],
            }
        )

    async def _tree(self, request: web.Request) -> web.Response:
        repo_id = self._repo(request)
        self._record(Request("GET:tree", repo_id, 0, 0))
        under = request.match_info.get("path", "").strip("/")
        entries = [
            self._entry(path, file)
            for path, file in self.files(repo_id).items()
            if not under or path.startswith(under + "/")
        ]
        return web.json_response(entries)

    async def _paths_info(self, request: web.Request) -> web.Response:
        """What the hub says of some of a repository's files (their sizes), asked for in a form."""
        repo_id = self._repo(request)
        self._record(Request("POST:paths-info", repo_id, 0, 0))
        asked = (await request.post()).getall("paths", [])
        files = self.files(repo_id)
        found = [str(path) for path in asked if path in files]
        return web.json_response([self._entry(path, files[path]) for path in found])

    async def _resolve(self, request: web.Request) -> web.StreamResponse:
        repo_id = self._repo(request, file=True)
        path = request.match_info["path"]
        file = self.files(repo_id).get(path)
        if file is None:
            raise web.HTTPNotFound(headers={"X-Error-Code": "EntryNotFound"}, text="Entry not found")
        data = file.read_bytes()
        entry = self._entry(path, file)
        lfs = entry.get("lfs")
        etag = lfs["oid"] if isinstance(lfs, dict) else entry["oid"]
        headers = {
            "X-Repo-Commit": self.commit(repo_id),
            "ETag": f'"{etag}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if request.method == "HEAD":
            self._record(Request("HEAD:file", f"{repo_id}:{path}", 0, 0))
            return web.Response(headers={**headers, "Content-Length": str(len(data))})
        start = 0
        ranged = request.headers.get("Range", "")
        if ranged.startswith("bytes="):
            start = int(ranged.removeprefix("bytes=").split("-")[0] or 0)
        body = data[start:]
        status = 206 if start else 200
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        response = web.StreamResponse(status=status, headers={**headers, "Content-Length": str(len(body))})
        await response.prepare(request)
        sent = 0
        try:
            for offset in range(0, len(body), CHUNK):
                chunk = body[offset : offset + CHUNK]
                await response.write(chunk)
                sent += len(chunk)
                if self.bytes_per_second:
                    await asyncio.sleep(len(chunk) / self.bytes_per_second)
            await response.write_eof()
        finally:
            self._record(Request("GET:file", f"{repo_id}:{path}", start, sent))
        return response

    # running

    def _app(self) -> web.Application:
        app = web.Application()
        repo = "/api/models/{org}/{name}"
        app.router.add_get(repo + "/revision/{rev}", self._info)
        app.router.add_get(repo, self._info)
        app.router.add_get(repo + "/tree/{rev}", self._tree)
        app.router.add_get(repo + "/tree/{rev}/{path:.*}", self._tree)
        app.router.add_post(repo + "/paths-info/{rev}", self._paths_info)
        app.router.add_route("HEAD", "/{org}/{name}/resolve/{rev}/{path:.*}", self._resolve)
        app.router.add_get("/{org}/{name}/resolve/{rev}/{path:.*}", self._resolve, allow_head=False)
        return app

    def start(self) -> FakeHub:
        started = threading.Event()

        def serve() -> None:
            loop = self._loop = asyncio.new_event_loop()
            runner = self._runner = web.AppRunner(self._app(), access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            sockets = runner.addresses
            self.url = f"http://127.0.0.1:{sockets[0][1]}"
            started.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-hub", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the fake hub did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
