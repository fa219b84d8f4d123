"""Testing a pipeline built on batchkit: record its traffic once, replay it offline.

Two parts, both for your test suite (never imported by ``import batchkit``):

- `vcr_config` is a vcrpy configuration for batchkit traffic: requests match on method,
  path and query only (scheme, host and port are ignored, so a cassette recorded against the
  real API, or an emulator on one port, replays against any API root); credentials are
  scrubbed from requests *and* responses; big request bodies (file uploads) are elided, so the
  cassette of a 100 MB upload is a few kilobytes. Use it as ``vcr.VCR(**vcr_config())`` or as
  the return value of pytest-recording's ``vcr_config`` fixture. `batchkit_vcr` builds
  the ``vcr.VCR`` for you.
- The emulator's pytest fixtures (``batchkit_emulator``, ``batchkit_emulator_inprocess``,
  ``batchkit_emulator_factory``) and the ``@pytest.mark.batchkit_emulator(**options)``
  marker come with the package's pytest plugin; `EmulatorFactory` is the factory
  fixture's type, for annotations.

vcrpy is needed only by `batchkit_vcr` (``pip install vcrpy``; the ``test`` extra,
``pip install 'batchkit-client[test]'``, has it); `vcr_config` returns a plain dict.
See ``docs/testing.md``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batchkit.emulator.pytest_plugin import EmulatorFactory

__all__ = [
    "DEFAULT_MAX_BODY",
    "MATCH_ON",
    "MIN_SECRET_LENGTH",
    "SCRUBBED",
    "SECRET_FIELDS",
    "SECRET_HEADERS",
    "EmulatorFactory",
    "batchkit_vcr",
    "vcr_config",
]

#: what a scrubbed credential is replaced by (URL- and JSON-safe)
SCRUBBED = "SCRUBBED"
#: request bodies longer than this many bytes are elided from cassettes
DEFAULT_MAX_BODY = 64 * 1024
#: what requests match on: not scheme, host or port, so any API root replays a cassette
MATCH_ON: tuple[str, ...] = ("method", "path", "query")
#: credentials learned from requests shorter than this are not searched for in bodies (a
#: short test token such as ``"t"`` would match everyday text); headers are dropped anyway
MIN_SECRET_LENGTH = 8
#: headers dropped from recorded requests and responses (case-insensitive); ``IB-Context``
#: (an AI Hub workspace context, not a secret) is kept
SECRET_HEADERS: frozenset[str] = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
    }
)
#: JSON keys and query parameters whose values are scrubbed (exact names, case-insensitive:
#: paging tokens such as ``next_token`` are kept, replay needs them). An object under such a
#: key goes whole (AI Hub's run ``settings.keys.secret``, its PDF ``passwords``); the
#: ``X-Amz-*`` and ``X-Goog-*`` ones are the signatures of presigned URLs
SECRET_FIELDS: frozenset[str] = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_token",
        "auth_token",
        "api_key",
        "apikey",
        "secret",
        "secrets",
        "client_secret",
        "password",
        "passwords",
        "passwd",
        "private_key",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
    }
)

_BOUNDARY = "batchkit-boundary"
#: a credential written out in text: "Bearer <token>", "Basic <base64 of user:password>"
_AUTH_IN_TEXT = re.compile(
    rb"\b(?P<scheme>[Bb]earer|[Bb]asic)(?P<space>[ \t]+)(?P<value>[A-Za-z0-9._~+/=-]{8,})"
)
#: the bodies patterns are looked for in (a download of other bytes is only searched for the
#: credentials themselves: "Basic information" in a PDF is not one)
_TEXT_TYPES = re.compile(r"(?i)json|text/|xml|x-www-form-urlencoded|javascript")
_SECRET_QUERY = re.compile(
    r"(?i)(?P<lead>(?:^|[?&;])(?:"
    + "|".join(re.escape(f) for f in sorted(SECRET_FIELDS))
    + r")=)(?P<value>[^&;#\s\"'<>]*)"
)
_MULTIPART = re.compile(r"(?i)multipart/[^;]+;.*?\bboundary=\"?(?P<boundary>[^\";]+)\"?")

_Hook = Callable[[Any], Any]


def vcr_config(
    *,
    max_body: int | None = DEFAULT_MAX_BODY,
    secrets: Iterable[str] = (),
    match_body: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """A vcrpy configuration for batchkit traffic: ``vcr.VCR(**vcr_config())``.

    Also the return value of pytest-recording's ``vcr_config`` fixture (it sets no record
    mode and no cassette directory, which pytest-recording chooses; pass ``record_mode`` or
    ``cassette_library_dir`` to set them). What it does:

    - **Matching** on method, path and query (`MATCH_ON`): the emulator's port changes
      every run, and a cassette recorded against the vendor's API root replays against any
      other whose path is the same (``<anything>/api`` for AI Hub, ``<anything>/v1`` for
      Scale). Identical requests (polls of one job) replay in recorded order.
      ``match_body=True`` matches bodies too (multipart boundaries are normalized and an
      elided body matches by size and SHA-256), which keeps concurrent requests to one path
      apart, at the price of failing when a body holds something random.
    - **Credentials** are scrubbed from what is recorded, requests and responses alike: the
      `SECRET_HEADERS` are dropped (AI Hub's ``Authorization: Bearer``, Scale's Basic
      auth, cookies), the values of `SECRET_FIELDS` in JSON bodies, query strings and
      URLs (presigned-URL signatures) become `SCRUBBED`, so does any ``Bearer``/``Basic``
      credential written in a body, and so does every credential seen in a request's
      ``Authorization`` header (the token, the Basic user name and password, at least
      `MIN_SECRET_LENGTH` characters) wherever a body or header echoes it. ``secrets``
      adds literal values to scrub everywhere (any length).
    - **Big bodies**: a request body longer than ``max_body`` bytes (``None``: never) is
      recorded as ``<N bytes elided, sha256:…>``; bodies are not matched (unless
      ``match_body``), so replay works all the same. Response bodies (downloads) are kept
      whole: replay must hand them back.
    - Compressed responses are stored decoded (readable, and scrubbable).

    ``overrides`` are vcrpy options. ``filter_headers`` and ``filter_query_parameters`` add
    to the scrubbing; ``before_record_request`` and ``before_record_response`` run *before*
    batchkit's own hooks (which always have the last word); any other key (``match_on``,
    ``record_mode``, ``cassette_library_dir``, ``serializer``, …) replaces or adds the value.
    """
    if max_body is not None and max_body < 0:
        raise ValueError(f"max_body must be >= 0 or None, got {max_body!r}")
    options = dict(overrides)
    extra_headers = _header_rules(options.pop("filter_headers", ()))
    user_request = _hooks(options.pop("before_record_request", None))
    user_response = _hooks(options.pop("before_record_response", None))
    scrubber = _Scrubber(
        secrets=[s for s in secrets if s], max_body=max_body, extra_headers=extra_headers
    )

    def before_record_request(request: Any) -> Any:
        """batchkit's request hook: the user's hooks, then scrub, normalize and elide."""
        for hook in user_request:
            request = hook(request)
            if request is None:
                return None
        return scrubber.request(request)

    def before_record_response(response: Any) -> Any:
        """batchkit's response hook: the user's hooks, then scrub headers and body."""
        for hook in user_response:
            response = hook(response)
            if response is None:
                return None
        return scrubber.response(response)

    config: dict[str, Any] = {
        "match_on": (*MATCH_ON, "body") if match_body else MATCH_ON,
        "before_record_request": before_record_request,
        "before_record_response": before_record_response,
        "decode_compressed_response": True,
    }
    return config | options


def batchkit_vcr(cassette_dir: str | os.PathLike[str] | None = None, **options: Any) -> Any:
    """A ``vcr.VCR`` configured by `vcr_config` (``options`` are its arguments).

    ``cassette_dir`` is the cassette library directory: ``use_cassette("name.yaml")`` then
    reads and writes ``<cassette_dir>/name.yaml``. Needs vcrpy.
    """
    try:
        import vcr
    except ImportError as exc:  # pragma: no cover - vcrpy is a test dependency
        raise ImportError(
            "batchkit.testing.batchkit_vcr needs vcrpy: pip install vcrpy (the test extra has"
            " it: pip install 'batchkit-client[test]')"
        ) from exc
    if cassette_dir is not None:
        options.setdefault("cassette_library_dir", os.fspath(cassette_dir))
    return vcr.VCR(**vcr_config(**options))


def __getattr__(name: str) -> Any:
    # EmulatorFactory lives in the pytest plugin: imported on use, so vcr_config() works in a
    # suite without pytest
    if name == "EmulatorFactory":
        from batchkit.emulator.pytest_plugin import EmulatorFactory

        return EmulatorFactory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- the hooks --------------------------------------------------------------------------------


def _hooks(value: _Hook | Iterable[_Hook] | None) -> list[_Hook]:
    if value is None:
        return []
    if callable(value):
        return [value]
    return list(value)


def _header_rules(value: Iterable[str | tuple[str, str | None]]) -> dict[str, str | None]:
    rules: dict[str, str | None] = {}
    for item in value:
        name, replacement = (item, None) if isinstance(item, str) else item
        rules[name.lower()] = replacement
    return rules


def _credentials(value: str) -> list[str]:
    """The secrets inside an Authorization-like header value."""
    value = value.strip()
    found = [value]
    scheme, _, param = value.partition(" ")
    param = param.strip()
    if param:
        found.append(param)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(param, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                pass
            else:
                user, _, password = decoded.partition(":")
                found += [decoded, user, password]
    return [f for f in found if len(f) >= MIN_SECRET_LENGTH]


def _as_bytes(body: Any) -> bytes | None:
    if isinstance(body, bytes):
        return body
    if isinstance(body, bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    return None


def _scrub_json(value: Any) -> tuple[Any, bool]:
    """`value` with the values of SECRET_FIELDS keys scrubbed, and whether any was."""
    if isinstance(value, dict):
        changed = False
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and key.lower() in SECRET_FIELDS and item not in (None, ""):
                out[key] = SCRUBBED
                changed = True
            else:
                out[key], sub = _scrub_json(item)
                changed = changed or sub
        return out, changed
    if isinstance(value, list):
        items = [_scrub_json(item) for item in value]
        return [item for item, _ in items], any(sub for _, sub in items)
    return value, False


def _scrub_query(text: str) -> str:
    return _SECRET_QUERY.sub(lambda m: m.group("lead") + SCRUBBED, text)


def _auth_in_text(match: re.Match[bytes]) -> bytes:
    """A written-out credential scrubbed: any Bearer token; a Basic one only if it is the
    base64 of ``user:password`` (so "Basic information" stays)."""
    if match.group("scheme").lower() == b"basic":
        try:
            decoded = base64.b64decode(match.group("value"), validate=True)
        except binascii.Error:
            return match.group(0)
        if b":" not in decoded:
            return match.group(0)
    return match.group("scheme") + match.group("space") + SCRUBBED.encode()


def _header(headers: Any, name: str) -> str:
    """A header's value from vcrpy's request headers or a response's header lists."""
    for key in list(headers):
        if key.lower() == name:
            value = headers[key]
            if isinstance(value, list):
                value = value[0] if value else ""
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return ""


class _Scrubber:
    """The state behind one configuration's hooks: the credentials seen so far."""

    def __init__(
        self, *, secrets: list[str], max_body: int | None, extra_headers: dict[str, str | None]
    ) -> None:
        self._lock = threading.Lock()
        self._fixed = list(secrets)
        self._learned: set[str] = set()
        self._max_body = max_body
        self._extra_headers = extra_headers

    def _secrets(self) -> list[str]:
        with self._lock:
            found = {*self._fixed, *self._learned}
        return sorted(found, key=len, reverse=True)  # "Basic abc…" before "abc…"

    def _learn(self, value: str) -> None:
        with self._lock:
            self._learned.update(_credentials(value))

    def _text(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, SCRUBBED)
        return _scrub_query(text)

    def _body(self, body: bytes, *, text: bool) -> bytes:
        """`body` without the credentials; if it is `text`, without anything that looks like
        one either (written-out credentials, secret JSON fields, URL signatures)."""
        for secret in self._secrets():
            body = body.replace(secret.encode("utf-8"), SCRUBBED.encode())
        if not text:
            return body
        body = _AUTH_IN_TEXT.sub(_auth_in_text, body)
        if body.lstrip()[:1] in (b"{", b"["):
            try:
                parsed = json.loads(body)
            except ValueError:
                pass
            else:
                scrubbed, changed = _scrub_json(parsed)
                if changed:
                    body = json.dumps(scrubbed, ensure_ascii=False).encode("utf-8")
        if b"=" in body:  # a form, or a URL in the body: presigned-URL signatures
            decoded = body.decode("utf-8", "surrogateescape")
            body = _scrub_query(decoded).encode("utf-8", "surrogateescape")
        return body

    def request(self, request: Any) -> Any:
        """Scrub a vcrpy request (a copy vcrpy made): headers, URI, body."""
        headers = request.headers
        for name in list(headers.keys()):
            lowered = name.lower()
            if lowered in SECRET_HEADERS:
                value = headers[name]
                self._learn(value.decode("latin-1") if isinstance(value, bytes) else str(value))
                del headers[name]
            elif lowered in self._extra_headers:
                replacement = self._extra_headers[lowered]
                if replacement is None:
                    del headers[name]
                else:
                    headers[name] = replacement
        request.uri = self._text(request.uri)
        body = _as_bytes(request.body)
        if body is not None:
            content_type = _header(headers, "content-type")
            multipart = _MULTIPART.match(content_type)
            if multipart:  # random per request: the same upload records the same bytes
                boundary = multipart.group("boundary")
                body = body.replace(boundary.encode("latin-1"), _BOUNDARY.encode())
                headers["Content-Type"] = content_type.replace(boundary, _BOUNDARY)
            if self._max_body is not None and len(body) > self._max_body:
                digest = hashlib.sha256(body).hexdigest()[:16]
                body = f"<{len(body)} bytes elided, sha256:{digest}>".encode()
            else:
                body = self._body(body, text=True)
            request.body = body
        return request

    def response(self, response: Any) -> Any:
        """Scrub a vcrpy response dict (a copy vcrpy made): headers and body."""
        headers = response.get("headers") or {}
        text = bool(_TEXT_TYPES.search(_header(headers, "content-type")))
        for name in list(headers):
            if name.lower() in SECRET_HEADERS:
                del headers[name]
                continue
            values = headers[name]
            if isinstance(values, list):
                headers[name] = [self._text(v) if isinstance(v, str) else v for v in values]
            elif isinstance(values, str):
                headers[name] = self._text(values)
        body = response.get("body")
        if isinstance(body, dict):
            raw = body.get("string")
            data = _as_bytes(raw)
            if data:
                scrubbed = self._body(data, text=text)
                if scrubbed != data:
                    body["string"] = scrubbed.decode("utf-8") if isinstance(raw, str) else scrubbed
                    for name in list(headers):  # replay hands back the new length
                        if name.lower() == "content-length":
                            headers[name] = [str(len(scrubbed))]
        return response
