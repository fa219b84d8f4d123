"""Errors the AI Hub emulator answers with: each maps to one HTTP status and a JSON message.

AI Hub error bodies are ``{"message": "..."}``. The handlers raise these exceptions and
:mod:`batchkit.emulator.aihub.responses` turns them into responses, so no bad request ever
reaches the generic 500 path.
"""

from __future__ import annotations


class AIHubError(Exception):
    """A request the emulated AI Hub refuses; ``status`` is the HTTP status to answer with."""

    status: int = 400

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})


class BadRequest(AIHubError):
    """400: the request is malformed (bad JSON, wrong type, invalid name, bad parameter)."""

    status = 400


class Unauthorized(AIHubError):
    """401: no bearer token, a malformed ``Authorization`` header or a token not accepted."""

    status = 401


class NotFound(AIHubError):
    """404: the thing does not exist, or belongs to another tenant (never distinguished)."""

    status = 404


class MethodNotAllowed(AIHubError):
    """405: the path exists but does not support the request's method."""

    status = 405


class Conflict(AIHubError):
    """409: the request clashes with current state (a file where a folder must be, ...)."""

    status = 409


class PreconditionFailed(AIHubError):
    """412: ``If-None-Match: *`` was sent and something already exists at the path."""

    status = 412


class RangeNotSatisfiable(AIHubError):
    """416: a well-formed ``Range`` starts at or past the end of the file."""

    status = 416


class InsufficientStorage(AIHubError):
    """507: the emulator's disk cannot hold the data (full, or past the file size limit)."""

    status = 507


def not_found(what: str) -> NotFound:
    """The standard 404, worded like the vendor docs: "does not exist, or denied access"."""
    return NotFound(f"{what} does not exist, or denied access")
