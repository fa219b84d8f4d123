"""The toy vendor's service: an in-memory HTTP API for `httpx.MockTransport` (sync and async).

Written apart from the adapter, from the wire described in the package docstring."""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any
from urllib.parse import unquote

import httpx


def _json(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


class ToyServer:
    """Batches and files per bearer token; counts the requests it answers."""

    def __init__(self) -> None:
        self.tenants: dict[str, dict[str, dict[str, Any]]] = {}
        self.requests = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def transport(self) -> httpx.MockTransport:
        """A transport for `connect("toy", transport=...)` and `connect_async` alike."""
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests += 1
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or not auth[7:]:
                return _json(401, {"error": "missing bearer token"})
            batches = self.tenants.setdefault(auth[7:], {})
            parts = [unquote(p) for p in request.url.raw_path.decode().split("?")[0].split("/")]
            parts = parts[parts.index("batches") :]  # after the api root
            return self._route(request, batches, parts)

    def _route(
        self, request: httpx.Request, batches: dict[str, dict[str, Any]], parts: list[str]
    ) -> httpx.Response:
        method = request.method
        if parts == ["batches"] and method == "POST":
            name = json.loads(request.content)["name"]
            batch_id = f"b-{next(self._ids)}"
            batches[batch_id] = {
                "id": batch_id,
                "name": name,
                "created": time.time(),
                "priority": 20,
                "files": {},
            }
            return _json(201, self._shown(batches[batch_id]))
        if parts == ["batches"] and method == "GET":
            offset = int(request.url.params.get("offset", 0))
            limit = int(request.url.params.get("limit", 50))
            every = list(batches.values())
            page = every[offset : offset + limit]
            return _json(
                200,
                {"batches": [self._shown(b) for b in page], "more": offset + limit < len(every)},
            )
        batch = batches.get(parts[1]) if len(parts) > 1 else None
        if batch is None:
            return _json(404, {"error": "no such batch"})
        if len(parts) == 2 and method == "GET":
            return _json(200, self._shown(batch))
        if len(parts) == 2 and method == "DELETE":
            del batches[parts[1]]
            return httpx.Response(204)
        if parts[2:] == ["priority"] and method == "POST":
            priority = json.loads(request.content)["priority"]
            if not 10 <= priority <= 30:
                return _json(400, {"error": "priority must be 10..30"})
            batch["priority"] = priority
            return httpx.Response(204)
        files: dict[str, bytes] = batch["files"]
        if parts[2:] == ["files"] and method == "GET":
            names = sorted(files)
            start = (
                names.index(request.url.params["cursor"]) if "cursor" in request.url.params else 0
            )
            page = names[start : start + 2]  # tiny pages: the adapter must follow cursors
            following = names[start + 2] if start + 2 < len(names) else None
            return _json(
                200,
                {"files": [{"name": n, "size": len(files[n])} for n in page], "next": following},
            )
        if len(parts) == 4 and parts[2] == "files":
            name = parts[3]
            if method == "PUT":
                files[name] = request.read()
                return httpx.Response(201)
            if method == "GET":
                if name not in files:
                    return _json(404, {"error": "no such file"})
                data = files[name]
                wanted = request.headers.get("Range", "")
                if wanted.startswith("bytes="):
                    first, _, last = wanted[6:].partition("-")
                    lo, hi = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
                    return httpx.Response(
                        206,
                        content=data[lo : hi + 1],
                        headers={"Content-Range": f"bytes {lo}-{hi}/{len(data)}"},
                    )
                return httpx.Response(200, content=data)
        return _json(405, {"error": f"{method} not allowed here"})

    @staticmethod
    def _shown(batch: dict[str, Any]) -> dict[str, Any]:
        return {k: batch[k] for k in ("id", "name", "created")}
