"""How the emulated Scale API refuses: ``{"error": message}`` with the status, a Basic challenge.

The refusals themselves are the shared `batchkit.emulator._errors`; this module gives
their Scale form and Scale's wording of the refusals the shared router and parser make.
"""

from __future__ import annotations

from batchkit.emulator._errors import Conflict, EmulatorError, ErrorFormat

#: The base of every Scale refusal (the shared one: the format is the app's, not the error's).
ScaleError = EmulatorError


class ScaleErrors(ErrorFormat):
    """Scale error bodies: ``{"error": message}``; a 401 asks for HTTP Basic."""

    name = "Scale"
    key = "error"
    challenge = 'Basic realm="Scale API"'
    no_route = "no such endpoint: {method} {path}"
    wrong_method = "{method} is not allowed here; use {allowed}"
    bad_segment = "path segment {raw!r} is not percent-encoded UTF-8"
    no_body = "the request body must be a JSON object"
    not_json = "the request body is not valid JSON: {error}"
    not_object = "the request body must be a JSON object, got {type}"
    bad_query_number = (
        "query parameter {name!r} must be a non-negative integer of at most {digits} digits, "
        "got {value}"
    )


class ContentTooLarge(EmulatorError):
    """413: an uploaded file is larger than Scale's documented limit (80 MB per file).

    The docs give the limit but not the status; 413 is HTTP's "Content Too Large"."""

    status = 413


class DuplicateTask(Conflict):
    """409: the ``unique_id`` (or ``Idempotency-Key``) is already used for another task.

    Answered as the docs' idempotency page shows, with both keys: ``{"status_code": 409,
    "error": "The unique_id (\\"<uid>\\") is already used for a different task (<id>)."}``
    (the page's example is not valid JSON: single quotes; served as valid JSON)."""

    def __init__(self, message: str, *, task_id: str) -> None:
        super().__init__(message)
        self.task_id = task_id

    def body(self) -> dict[str, object]:
        """The wire body."""
        return {"status_code": self.status, "error": self.message}
