"""Scale API errors: each carries its HTTP status and travels as ``{"error": message}``."""

from __future__ import annotations


class ScaleError(Exception):
    """An error the Scale API answers with ``status`` and ``{"error": message}``."""

    status = 400

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(ScaleError):
    """400: the request is malformed or a value is invalid."""

    status = 400


class Unauthorized(ScaleError):
    """401: no API key, a malformed one, or one the emulator does not accept."""

    status = 401


class NotFound(ScaleError):
    """404: no such project, batch or endpoint (for this customer)."""

    status = 404


class MethodNotAllowed(ScaleError):
    """405: the path exists but not with this method."""

    status = 405


class Conflict(ScaleError):
    """409: a name already taken by this customer, or a state that forbids the change."""

    status = 409
