"""How the emulated AI Hub refuses: ``{"message": "..."}`` with the status, a Bearer challenge.

The refusals themselves are the shared `batchkit.emulator._errors`; this module gives
their AI Hub form and the vendor's wording of a 404.
"""

from __future__ import annotations

from batchkit.emulator._errors import ErrorFormat, NotFound


class AIHubErrors(ErrorFormat):
    """AI Hub error bodies: ``{"message": ...}``; a 401 says ``WWW-Authenticate: Bearer``."""

    name = "AI Hub"
    challenge = "Bearer"
    max_json_body = 1024 * 1024  # the API's JSON bodies are tiny


def not_found(what: str) -> NotFound:
    """The standard 404, worded like the vendor docs: "does not exist, or denied access"."""
    return NotFound(f"{what} does not exist, or denied access")
