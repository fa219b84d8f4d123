"""The one place that talks HTTP: client construction, retries, error mapping, redaction.

Adapters describe each request as a `Call` (pure data: the "sans-I/O" half) and hand it to
`HttpSession.send`, which owns the I/O, the stamina retry policy and the translation of HTTP
failures into batchkit errors. No vendor knowledge lives here.
"""

from __future__ import annotations

import email.utils
import enum
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import attrs
import httpx
import stamina

from ._errors import (
    AuthError,
    ConfigError,
    Conflict,
    NotFound,
    ProviderError,
    RateLimited,
    ServerError,
    TransportError,
)
from ._version import __version__

log = logging.getLogger("batchkit.http")

USER_AGENT = f"batchkit/{__version__}"

#: A request body: bytes, or a factory giving a fresh iterable of chunks for each attempt
#: (so a retried upload re-reads its source instead of holding it in memory).
Body = bytes | Callable[[], Iterable[bytes]]


class Retry(enum.Enum):
    """Which failures a call may be retried on."""

    #: GET, PUT, DELETE, HEAD: connection errors, 408, 429 and 5xx.
    IDEMPOTENT = "idempotent"
    #: Non-idempotent creates: only when the request provably never reached the server
    #: (connect errors) or was refused before any work (429, 503).
    UNSENT_ONLY = "unsent_only"
    NEVER = "never"


@attrs.frozen
class Call:
    """One HTTP request an adapter wants made, and what counts as success."""

    operation: str
    method: str
    #: a path relative to the provider's API root (segments already quoted), or a full URL
    url: str
    params: Mapping[str, str | int] | None = None
    json: Any = None
    content: Body | None = None
    headers: Mapping[str, str] | None = None
    ok: frozenset[int] = frozenset({200})
    retry: Retry = Retry.IDEMPOTENT


@attrs.frozen
class RetrySettings:
    """How hard to retry. Defaults suit an interactive pipeline; tune per provider."""

    attempts: int = 5
    wait_initial: float = 0.2
    wait_max: float = 10.0
    wait_jitter: float = 0.5
    #: total time budget for one call's retries, in seconds (None = no budget)
    timeout: float | None = 120.0
    #: never wait longer than this for a server's Retry-After
    max_retry_after: float = 60.0


def segment(value: str | int) -> str:
    """Percent-encode one path segment with no safe characters (`/` → `%2F`).

    `.` and `..` are encoded too (`%2E`), or URL normalisation would treat them as
    dot-segments and the request would leave its path (a batch named `..`).
    """
    quoted = quote(str(value), safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


_LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1, localhost and `*.localhost` (RFC 6761)."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_root(api_root: str, *, allow_insecure_http: bool, setting: str) -> str:
    """Validate an API root URL; plain http only for loopback hosts unless allowed."""
    try:
        url = httpx.URL(api_root)
    except (httpx.InvalidURL, TypeError) as e:
        raise ConfigError(f"{setting} {api_root!r} is not a URL: {e}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            f"{setting} {api_root!r} must be an absolute http(s) URL, "
            "e.g. https://aihub.instabase.com/api"
        )
    if url.scheme == "http" and not allow_insecure_http and not is_loopback(url.host):
        raise ConfigError(
            f"{setting} {api_root!r} uses plain http to a non-loopback host: the token would "
            "travel unencrypted. Use https, or pass allow_insecure_http=True if you must."
        )
    return api_root.rstrip("/")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def vendor_message(response: httpx.Response) -> str | None:
    """The vendor's error text: JSON `message` (AI Hub) or `error` (Scale), else the body."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip() if response.content else ""
        return text[:300] or None
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return None


def error_for(
    response: httpx.Response, *, provider: str, operation: str, what: str | None = None
) -> ProviderError:
    """Translate an unexpected HTTP response into the matching batchkit error."""
    status = response.status_code
    detail = vendor_message(response)
    subject = f" {what}" if what else ""
    base = f"{provider} {operation}{subject} failed: HTTP {status}"
    text = f"{base}: {detail}" if detail else base
    kw: dict[str, Any] = {
        "provider": provider,
        "operation": operation,
        "status": status,
        "vendor_message": detail,
    }
    if status in (401, 403):
        return AuthError(f"{text} (check the token / API key and, for AI Hub, IB-Context)", **kw)
    if status == 404:
        return NotFound(text, **kw)
    if status in (409, 412):
        return Conflict(text, **kw)
    if status == 429:
        return RateLimited(
            text, retry_after=parse_retry_after(response.headers.get("Retry-After")), **kw
        )
    if status == 408 or status >= 500:
        return ServerError(text, **kw)
    return ProviderError(text, **kw)


class _UnsendableRequest(TransportError):
    """httpx refused to send the request (h11 LocalProtocolError): never retried."""


#: connect-phase failures: the request never reached the server
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _retryable(call: Call, settings: RetrySettings) -> Callable[[Exception], bool | float]:
    """The stamina predicate for `call`: retry or not, and how long Retry-After asks for."""

    def decide(exc: Exception) -> bool | float:
        if call.retry is Retry.NEVER or isinstance(exc, _UnsendableRequest):
            return False
        if isinstance(exc, RateLimited):
            if exc.retry_after is None:
                return True
            # stamina does not cap a backoff returned by the predicate: cap it here
            return min(exc.retry_after, settings.max_retry_after)
        if call.retry is Retry.UNSENT_ONLY:
            # 503 means the server declined to handle the request at all (RFC 9110 15.6.4)
            if isinstance(exc, ServerError) and exc.status == 503:
                return True
            return isinstance(exc, TransportError) and isinstance(exc.__cause__, _UNSENT)
        return isinstance(exc, ServerError | TransportError)

    return decide


class HttpSession:
    """One pooled `httpx.Client` for one provider instance, with retries and error mapping."""

    def __init__(
        self,
        *,
        provider: str,
        api_root: str,
        auth: httpx.Auth,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout = 30.0,
        retry: RetrySettings | None = None,
        transport: httpx.BaseTransport | None = None,
        max_connections: int = 32,
    ) -> None:
        self.provider = provider
        self.api_root = api_root.rstrip("/")
        self.retry = retry or RetrySettings()
        self.client = httpx.Client(
            base_url=self.api_root + "/",
            auth=auth,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            # no pool timeout: our own concurrency is bounded, so waiting for a pooled
            # connection is queueing, not a failure
            timeout=timeout
            if isinstance(timeout, httpx.Timeout)
            else httpx.Timeout(timeout, pool=None),
            transport=transport,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            # httpx drops Authorization when a redirect leaves the origin
            follow_redirects=True,
        )

    def __repr__(self) -> str:
        return f"<HttpSession {self.provider} {self.api_root}>"

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()

    def url(self, path: str) -> str:
        """The absolute URL of a path relative to the API root."""
        return f"{self.api_root}/{path.lstrip('/')}"

    def _same_origin(self, url: httpx.URL) -> bool:
        base = self.client.base_url
        return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)

    def _build(self, call: Call) -> httpx.Request:
        content: Any = call.content() if callable(call.content) else call.content
        return self.client.build_request(
            call.method,
            call.url.lstrip("/") if "://" not in call.url else call.url,
            params=call.params,
            json=call.json,
            content=content,
            headers=call.headers,
        )

    def _once(self, call: Call, *, stream: bool) -> httpx.Response:
        request = self._build(call)
        log.debug("%s %s (%s)", request.method, request.url, call.operation)
        # absolute URLs come from vendor Location headers: credentials go to the API's own
        # origin only, never to another host a response points at
        auth: Any = httpx.USE_CLIENT_DEFAULT if self._same_origin(request.url) else None
        try:
            response = self.client.send(request, stream=stream, auth=auth)
        except httpx.LocalProtocolError:
            # h11's message quotes the offending header value, which may be a credential:
            # raised outside the except block so the original is not even chained
            response = None
        except httpx.TransportError as e:
            log.debug("%s %s: %s", request.method, request.url, type(e).__name__)
            text = f"{self.provider} {call.operation} failed: {type(e).__name__}: {e}"
            if isinstance(e, httpx.ConnectError | httpx.ConnectTimeout):
                text += f" (connecting to {request.url.host}: is api_root {self.api_root} right?)"
            if call.retry is not Retry.IDEMPOTENT and not isinstance(e, _UNSENT):
                text += (
                    "; the request was sent and may have taken effect before the connection "
                    "failed, so it was not repeated: check (e.g. list_batches) before retrying"
                )
            raise TransportError(text, provider=self.provider, operation=call.operation) from e
        if response is None:
            raise _UnsendableRequest(
                f"{self.provider} {call.operation} failed: the request is not valid HTTP "
                "(a header value with a newline or control character?); details withheld "
                "because they may contain credentials",
                provider=self.provider,
                operation=call.operation,
            )
        log.debug("%s %s -> %s", request.method, request.url, response.status_code)
        if response.status_code in call.ok:
            return response
        if stream:
            response.read()
            response.close()
        raise error_for(response, provider=self.provider, operation=call.operation)

    def _attempts(
        self, decide: Callable[[Exception], bool | float], timeout: float | None
    ) -> Iterator[Any]:
        s = self.retry
        yield from stamina.retry_context(
            on=decide,
            attempts=s.attempts,
            timeout=timeout,
            wait_initial=s.wait_initial,
            wait_max=s.wait_max,
            wait_jitter=s.wait_jitter,
        )

    def _send(self, call: Call, *, stream: bool) -> httpx.Response:
        """One call with retries. The first attempt runs outside stamina: building a retry
        context costs about as much as parsing the response (benchmark B3), and most calls
        succeed at once. If it fails, the failure is replayed as the first attempt of a
        stamina context, so the predicate, Retry-After, backoff, attempt count and time
        budget behave exactly as if stamina had run it."""
        decide = _retryable(call, self.retry)
        started = time.monotonic()
        try:
            return self._once(call, stream=stream)
        except ProviderError as e:
            if not decide(e):
                raise
            first = e
        budget = self.retry.timeout
        if budget is not None:
            budget -= time.monotonic() - started
            if budget <= 0:  # the first attempt used the whole budget
                raise first
        pending: ProviderError | None = first
        n = 1
        try:
            for attempt in self._attempts(decide, budget):
                with attempt:
                    if pending is not None:
                        failure, pending = pending, None
                        raise failure
                    n += 1
                    return self._once(call, stream=stream)
        except ProviderError as e:
            e.attempts = n
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def send(self, call: Call) -> httpx.Response:
        """Send `call`, retrying per its policy; return the (read) success response.

        A raised `ProviderError` carries `attempts`: how many times the request was sent
        (callers use it to tell "already existed" from "my retried create succeeded").
        """
        return self._send(call, stream=False)

    @contextmanager
    def stream(self, call: Call) -> Iterator[httpx.Response]:
        """Send `call` and yield the response unread, for streaming downloads."""
        response = self._send(call, stream=True)
        try:
            yield response
        finally:
            response.close()
