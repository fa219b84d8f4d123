"""Refusals, shared by both vendors: one exception per HTTP status, one format per vendor.

Handlers, backends and the shared router and request parser raise an `EmulatorError`
subclass; the vendor's app answers it in the vendor's `ErrorFormat` (the body's key,
the 401 challenge, and its wording of the refusals every vendor makes). So a refusal is never
a 500. Pure Python: backends raise these without importing anything of HTTP.
"""

from __future__ import annotations

from typing import ClassVar


class EmulatorError(Exception):
    """A request an emulated vendor refuses; ``status`` is the HTTP status to answer with."""

    status: int = 400

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})


class BadRequest(EmulatorError):
    """400: the request is malformed (bad JSON, wrong type, invalid name, bad parameter)."""

    status = 400


class Unauthorized(EmulatorError):
    """401: no credential, a malformed one, or one the emulator does not accept."""

    status = 401


class NotFound(EmulatorError):
    """404: no such endpoint, or the thing does not exist for this tenant (never told apart)."""

    status = 404


class MethodNotAllowed(EmulatorError):
    """405: the path exists but does not support the request's method."""

    status = 405


class Conflict(EmulatorError):
    """409: the request clashes with current state (a name taken, a batch being deleted, …)."""

    status = 409


class PreconditionFailed(EmulatorError):
    """412: ``If-None-Match: *`` was sent and something already exists at the path."""

    status = 412


class RangeNotSatisfiable(EmulatorError):
    """416: a well-formed ``Range`` starts at or past the end of the file."""

    status = 416


class InsufficientStorage(EmulatorError):
    """507: the emulator's disk cannot hold the data (full, or past the file size limit)."""

    status = 507


class ErrorFormat:
    """How one vendor answers a refusal; each vendor subclasses it in its ``errors.py``.

    The body is ``{key: message}`` with the error's status and headers; a 401 also carries
    ``WWW-Authenticate: <challenge>``. The templates (``str.format``) word the refusals the
    shared router and request parser make, so each vendor keeps its own phrasing.
    """

    #: the vendor's name, as the templates may use it
    name: ClassVar[str]
    #: the key of the error body: ``{"message": …}`` or ``{"error": …}``
    key: ClassVar[str] = "message"
    #: ``WWW-Authenticate`` of a 401
    challenge: ClassVar[str]

    #: no route fits the path (``name``, ``method``, ``path``)
    no_route: ClassVar[str] = "no {name} endpoint at {path!r}"
    #: a route fits but not the method (``method``, ``path``, ``allowed``)
    wrong_method: ClassVar[str] = "{method} is not supported on {path!r}; use {allowed}"
    #: a path segment that does not decode (``raw``: its bytes)
    bad_segment: ClassVar[str] = "path segment {raw!r} is not valid percent-encoded UTF-8"
    #: the largest JSON body read, in bytes (None: no limit), and its refusal (``limit``)
    max_json_body: ClassVar[int | None] = None
    too_large: ClassVar[str] = "JSON body is larger than {limit} bytes"
    #: an empty body where an object is required (None: refused as invalid JSON)
    no_body: ClassVar[str | None] = None
    #: a body that is not strict JSON (``error``) or not an object (``type``)
    not_json: ClassVar[str] = "request body is not valid JSON ({error}): send a JSON object"
    not_object: ClassVar[str] = "request body must be a JSON object, got {type}"
    #: a query parameter that is not a whole number >= ``minimum`` (``name``, ``value``
    #: excerpted, ``minimum``, ``digits``)
    bad_query_number: ClassVar[str] = (
        "query parameter {name}={value} must be an integer >= {minimum} of at most {digits} digits"
    )
