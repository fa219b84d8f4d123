"""The one place that talks HTTP: client construction, retries, error mapping, redaction.

Adapters describe each request as a `Call` (pure data: the "sans-I/O" half) and hand it to
`HttpSession.send`, which owns the I/O, the stamina retry policy and the translation of HTTP
failures into batchkit errors. No vendor knowledge lives here.
"""

from __future__ import annotations

import base64
import email.utils
import inspect
import ipaddress
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import attrs
import httpx

from ._call import Call, Retry
from ._deadline import Budget, deadline
from ._deadline import current as current_budget
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
from ._network import Network
from ._pools import transport as blocking_transport
from ._version import __version__

log = logging.getLogger("batchkit.http")

USER_AGENT = f"batchkit/{__version__}"


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


def masked_url(url: httpx.URL) -> str:
    """`url` as messages show it: a password in it becomes `***`."""
    return str(url.copy_with(username=url.username, password="***")) if url.password else str(url)


def request_root(api_root: str) -> str:
    """The API root requests go to. A user:password in the configured one is dropped: it is
    never sent (auth= sets Authorization), and so no URL built from this, no log line and no
    message can show it."""
    url = httpx.URL(api_root.rstrip("/"))
    return str(url.copy_with(userinfo=b"")) if url.userinfo else str(url)


def check_api_root(
    api_root: str, *, allow_insecure_http: bool, setting: str, example: str | None = None
) -> str:
    """Validate an API root URL; plain http only for loopback hosts unless allowed.
    `example` (the provider's own API root) is shown with a URL that is not one."""
    try:
        url = httpx.URL(api_root)
    except (httpx.InvalidURL, TypeError, UnicodeError) as e:
        raise ConfigError(f"{setting} is not a URL: {e}") from None
    shown = repr(masked_url(url))
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            f"{setting} {shown} must be an absolute http(s) URL"
            + (f", e.g. {example}" if example else "")
        )
    if url.scheme == "http" and not allow_insecure_http and not is_loopback(url.host):
        raise ConfigError(
            f"{setting} {shown} uses plain http to a non-loopback host: the token would "
            "travel unencrypted. Use https, or pass allow_insecure_http=True if you must."
        )
    return api_root.rstrip("/")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # "nan" is no hint; a negative wait (clock skew) is none
        return max(0.0, seconds) if not math.isnan(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


#: response headers that commonly carry a request id, first match wins (header names are
#: case-insensitive: `X-Request-ID` is `X-Request-Id`): generic and proxy (nginx, Envoy,
#: Heroku), Stripe-style, AWS API Gateway, S3, an AWS load balancer's trace id, and the
#: correlation id some gateways send. A vendor's own header goes first
#: (`VendorErrors.request_id_headers`).
REQUEST_ID_HEADERS = (
    "X-Request-Id",
    "Request-Id",
    "X-Amzn-RequestId",
    "X-Amz-Request-Id",
    "X-Amzn-Trace-Id",
    "X-Correlation-Id",
)

#: a request id longer than this is not one (or not one worth quoting): dropped
_MAX_REQUEST_ID = 200


def _request_id(headers: httpx.Headers, names: Iterable[str]) -> str | None:
    """The first usable request id among `names`: printable ASCII, at most 200 characters
    (it goes into messages and log lines, so nothing that could forge or flood them)."""
    for name in names:
        value = str(headers.get(name) or "").strip()
        if value and len(value) <= _MAX_REQUEST_ID and value.isascii() and value.isprintable():
            return value
    return None


@attrs.frozen
class VendorErrors:
    """How a vendor words its error answers: its adapter's knowledge, handed to the HTTP
    layer (`HttpSession(errors=...)`, `CommonSettings.session(errors=...)`), which knows none.

    The defaults know no vendor: a JSON error body gives no message, another body its text.
    An adapter whose vendor nests its message deeper overrides `message`.
    """

    #: top-level keys of a JSON error body that hold the vendor's message, first match wins
    message_keys: tuple[str, ...] = ()
    #: what to check after a 401 or 403, e.g. "check the token"
    auth_hint: str = "check the credentials"
    #: the vendor's own request-id header(s), looked at before `REQUEST_ID_HEADERS`
    request_id_headers: tuple[str, ...] = ()

    def request_id(self, response: httpx.Response) -> str | None:
        """The id the response gives the request, for the vendor's support, or None."""
        return _request_id(response.headers, (*self.request_id_headers, *REQUEST_ID_HEADERS))

    def message(self, response: httpx.Response) -> str | None:
        """The vendor's error text: a string under one of `message_keys` in a JSON body,
        else a body that is not JSON (trimmed to 300 characters), else None."""
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            text = response.text.strip() if response.content else ""
            return text[:300] or None
        if isinstance(body, dict):
            for key in self.message_keys:
                if isinstance(body.get(key), str):
                    return str(body[key])
        return None


_NO_VENDOR = VendorErrors()


def error_for(
    response: httpx.Response,
    *,
    provider: str,
    operation: str,
    what: str | None = None,
    errors: VendorErrors = _NO_VENDOR,
) -> ProviderError:
    """Translate an unexpected HTTP response into the matching batchkit error, with the
    vendor's message and hint as `errors` reads and words them."""
    status = response.status_code
    detail = errors.message(response)
    request_id = errors.request_id(response)
    subject = f" {what}" if what else ""
    base = f"{provider} {operation}{subject} failed: HTTP {status}"
    text = f"{base}: {detail}" if detail else base
    if status in (401, 403):
        text += f" ({errors.auth_hint})"
    if request_id is not None:
        text += f" (request id {request_id})"
    kw: dict[str, Any] = {
        "provider": provider,
        "operation": operation,
        "status": status,
        "vendor_message": detail,
        "request_id": request_id,
    }
    if status in (401, 403):
        return AuthError(text, **kw)
    if status == 404:
        return NotFound(text, **kw)
    if status in (409, 412):
        return Conflict(text, **kw)
    if status in (429, 503):
        kw["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429:
        return RateLimited(text, **kw)
    if status == 408 or status >= 500:
        return ServerError(text, **kw)
    return ProviderError(text, **kw)


class _UnsendableRequest(TransportError):
    """httpx refused to send the request (h11 LocalProtocolError): never retried."""


#: connect-phase failures: the request never reached the server
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def never_applied(exc: ProviderError) -> bool:
    """True when a failed attempt provably did nothing at the server.

    429 and 503 say the server declined the request without handling it (RFC 9110 15.6.4),
    408 that it never received it whole; a connect-phase error never reached the server; a
    request httpx refused to send was never sent. Anything else (500, 502, 504, a
    connection lost after sending, a read timeout) may have been applied.
    """
    if isinstance(exc, _UnsendableRequest):
        return True
    if isinstance(exc, TransportError):
        return isinstance(exc.__cause__, _UNSENT)
    return exc.status in (408, 429, 503)


class _Attempts:
    """The retry state of one call: what to retry, how long to wait, and its deadline.

    `decide` is the stamina hook. It returns the wait itself (never True), so that every
    wait is known here and can be held to the call's deadline: stamina sleeps exactly that
    (or nothing, under `stamina.set_testing`).
    """

    def __init__(self, call: Call, settings: RetrySettings) -> None:
        self.call = call
        self.settings = settings
        #: the call's deadline (None: no `retry_timeout`)
        self.budget = (
            None if settings.timeout is None else Budget(time.monotonic() + settings.timeout)
        )
        #: requests sent so far
        self.sent = 0
        #: an earlier attempt failed in a way that may have applied it at the server
        self.may_have_applied = False
        #: the call gave up because its time budget ran out
        self.out_of_time = False
        self._last: tuple[Exception, bool | float] | None = None
        #: the failed first attempt, replayed as the first attempt of a stamina context
        self.pending: ProviderError | None = None

    def replay(self) -> None:
        """Inside a stamina attempt: raise the pending first failure, or count a send."""
        if self.pending is not None:
            failure, self.pending = self.pending, None
            raise failure
        self.sent += 1

    def _retryable(self, exc: Exception) -> bool:
        call = self.call
        if call.retry is Retry.NEVER or not isinstance(exc, ProviderError):
            return False
        if isinstance(exc, _UnsendableRequest):
            return False
        if call.retry is Retry.UNSENT_ONLY:
            return never_applied(exc)
        if isinstance(exc, TransportError):
            # a network failure; not a redirect loop or an undecodable body, which recur
            return isinstance(exc.__cause__, httpx.TransportError)
        return isinstance(exc, ServerError | RateLimited)

    def _wait(self, exc: Exception) -> float:
        s = self.settings
        backoff = s.wait_initial * 2.0 ** (self.sent - 1) + random.uniform(0, s.wait_jitter)
        wait = min(s.wait_max, backoff)
        if isinstance(exc, ProviderError) and exc.retry_after is not None:
            # the server's hint, capped: a wait returned to stamina is not capped by wait_max
            wait = max(wait, min(exc.retry_after, s.max_retry_after))
        return wait

    def decide(self, exc: Exception) -> bool | float:
        """False to give up, else the seconds to wait before the next attempt."""
        if self._last is not None and self._last[0] is exc:  # the replayed first attempt
            return self._last[1]
        decision: bool | float = False
        if self._retryable(exc) and self.sent < self.settings.attempts:
            wait = self._wait(exc)
            if self.budget is not None and wait >= self.budget.remaining():
                self.out_of_time = True
            else:
                decision = wait
                if isinstance(exc, ProviderError):  # always, as _retryable said yes
                    self._log_retry(exc, wait)
        self._last = (exc, decision)
        return decision

    def _log_retry(self, exc: ProviderError, wait: float) -> None:
        """One WARNING per scheduled retry, e.g. `aihub get_batch: attempt 2 of 5 in 0.4 s
        after HTTP 503 (Retry-After 0)`. Only what the error already carries (redacted by the
        session): operation, counts, wait, status or exception type, hint and request id;
        never a header, URL or body. WARNING, as the logging HOWTO defines it: something
        unexpected happened (the vendor failed) and the software still works (it retries)."""
        if exc.status is not None:
            why = f"HTTP {exc.status}"
        else:
            why = type(exc.__cause__ or exc).__name__
        if exc.retry_after is not None:
            why += f" (Retry-After {exc.retry_after:g})"
        if exc.request_id is not None:
            why += f" (request id {exc.request_id})"
        log.warning(
            "%s %s: attempt %d of %d in %s s after %s",
            exc.provider,
            self.call.operation,
            self.sent + 1,
            self.settings.attempts,
            f"{wait:.2f}".rstrip("0").rstrip("."),
            why,
        )

    def failed(self, exc: ProviderError) -> ProviderError:
        """Record a failed attempt on the error the caller will see."""
        exc.attempts = self.sent
        exc.earlier_attempt_may_have_applied = self.may_have_applied
        if not never_applied(exc):
            self.may_have_applied = True
        return exc

    def give_up(self, exc: ProviderError) -> ProviderError:
        """The final error, saying why retrying stopped when it was the time budget."""
        timed_out = self.out_of_time or (self.budget is not None and self.budget.remaining() <= 0)
        if timed_out and self._retryable(exc) and self.settings.timeout is not None:
            why = (
                f"; gave up after {self.sent} attempt(s): the call's time budget "
                f"(retry_timeout={self.settings.timeout:g} s) ran out"
            )
        elif self.sent > 1:
            why = f" (after {self.sent} attempts)"
        else:
            return exc
        exc.args = (f"{exc.args[0]}{why}", *exc.args[1:])
        return exc


E = TypeVar("E", bound=BaseException)


def _secret_forms(secrets: Iterable[str | None]) -> tuple[str, ...]:
    """Each secret as it may appear in text: itself, percent-encoded and in Basic auth's
    base64 (`key:`), longest first so a longer form is masked before a part of it."""
    forms: set[str] = set()
    for secret in secrets:
        if not secret or len(secret) < 4:  # too short to mask without mangling messages
            continue
        forms |= {secret, quote(secret, safe=""), base64.b64encode(f"{secret}:".encode()).decode()}
    return tuple(sorted(forms, key=len, reverse=True))


def _mask(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "<redacted>")
    return text


class _Replayable:
    """An iterable body that calls its factory afresh each time it is iterated."""

    def __init__(self, factory: Callable[[], Iterable[bytes]]) -> None:
        self._factory = factory

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._factory())


class _AsyncReplayable:
    """An async-iterable body that calls its factory afresh each time it is iterated; the
    chunks are read in place (local files, in the page cache: quicker than a thread hop)."""

    def __init__(self, factory: Callable[[], Iterable[bytes]]) -> None:
        self._factory = factory

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if getattr(self._factory, "blocking", False):  # remote reads: off the event loop
            import anyio.to_thread

            chunks = iter(self._factory())
            while (chunk := await anyio.to_thread.run_sync(next, chunks, None)) is not None:
                yield chunk
            return
        for chunk in self._factory():
            yield chunk


def _one_shot(auth: httpx.Auth) -> httpx.Auth | None:
    """`auth` if its flow sets credentials on the request and is done (Basic, Bearer and
    the like: it reads no body and awaits nothing), so the lean path can run it; None for
    flows that need the client (digest challenges, token refreshes reading a response)."""
    kind = type(auth)
    plain = (
        kind.sync_auth_flow is httpx.Auth.sync_auth_flow
        and kind.async_auth_flow is httpx.Auth.async_auth_flow
    )
    if plain and not auth.requires_request_body and not auth.requires_response_body:
        return auth
    return None


async def _awaited(result: Any) -> None:
    """An event hook's result, awaited if it is awaitable (the async client takes both)."""
    if inspect.isawaitable(result):
        await result


def _awaitable(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`hook` as httpx's async client calls it: a coroutine function."""

    async def call(value: Any) -> None:
        await _awaited(hook(value))

    return call


class _Session:
    """What the blocking and the async session share: everything but the I/O."""

    def __init__(
        self,
        *,
        provider: str,
        api_root: str,
        auth: httpx.Auth,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout = 30.0,
        retry: RetrySettings | None = None,
        transport: Any = None,
        max_connections: int = 32,
        secrets: Iterable[str | None] = (),
        errors: VendorErrors = _NO_VENDOR,
        user_agent: str | None = None,
        network: Network | None = None,
        event_hooks: Mapping[str, list[Callable[[Any], Any]]] | None = None,
    ) -> None:
        self.provider = provider
        #: the proxy and TLS settings the default transport is built with
        self.network = network or Network()
        #: called with each request before it is sent and each response as it arrives
        self.hooks: Mapping[str, list[Callable[[Any], Any]]] = event_hooks or {}
        #: how the vendor words its errors (its adapter says)
        self.errors = errors
        url = httpx.URL(api_root.rstrip("/"))
        #: the API root requests go to (`request_root`)
        self.api_root = request_root(api_root)
        #: the API root as messages show it: a password in it is masked
        self.shown_root = masked_url(url)
        self.retry = retry or RetrySettings()
        #: every credential this session knows, longest first, for `redact`
        self._secrets = _secret_forms([*secrets, url.password or None])
        options = self._client_options(
            auth=auth,
            headers=headers,
            timeout=timeout,
            user_agent=user_agent,
            max_connections=max_connections,
        )
        self._transport = self._open(transport, options)
        # the lean path (see `_lean`): what the client would add to each request, once
        self._auth_root = (url.scheme, url.host, url.port)
        self._one_shot_auth = _one_shot(auth)
        self._headers = httpx.Headers(self.client.headers)
        self._extensions = {"timeout": self.client.timeout.as_dict()}
        self._lean = self._one_shot_auth is not None

    client: httpx.Client | httpx.AsyncClient

    def _open(self, transport: Any, options: dict[str, Any]) -> Any:
        """Make the pooled client (on `transport`, or httpx's own on a deadline backend);
        return the transport it sends through."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider} {self.shown_root}>"

    def redact(self, error: E) -> E:
        """`error` with every credential this session knows masked in its message and
        vendor message (a vendor may echo the token back; an API root may hold a password)."""
        if self._secrets:
            error.args = tuple(
                _mask(a, self._secrets) if isinstance(a, str) else a for a in error.args
            )
            if isinstance(error, ProviderError) and error.vendor_message:
                error.vendor_message = _mask(error.vendor_message, self._secrets)
            if isinstance(error, ProviderError) and error.request_id:
                error.request_id = _mask(error.request_id, self._secrets)
        return error

    def url(self, path: str) -> str:
        """The absolute URL of a path relative to the API root."""
        return f"{self.api_root}/{path.lstrip('/')}"

    def _client_options(
        self,
        *,
        auth: httpx.Auth,
        headers: Mapping[str, str] | None,
        timeout: float | httpx.Timeout,
        user_agent: str | None,
        max_connections: int,
    ) -> dict[str, Any]:
        """The keyword arguments of the `httpx.Client` / `httpx.AsyncClient`."""
        return {
            "base_url": self.api_root + "/",
            "auth": auth,
            "headers": {
                # the caller's suffix names their pipeline: `batchkit/0.1.0 mypipeline/2.3`
                "User-Agent": f"{USER_AGENT} {user_agent}" if user_agent else USER_AGENT,
                "Accept": "application/json",
                **(headers or {}),
            },
            # no pool timeout: our own concurrency is bounded, so waiting for a pooled
            # connection is queueing, not a failure
            "timeout": timeout
            if isinstance(timeout, httpx.Timeout)
            else httpx.Timeout(timeout, pool=None),
            "limits": httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            # httpx drops Authorization when a redirect leaves the origin
            "follow_redirects": True,
            # the proxy variables are resolved once by `_network` into our own transport:
            # httpx's would mount a transport of its own for them, bypassing ours
            "trust_env": False,
        }

    def _request(self, call: Call) -> httpx.Request:
        """The request for `call`, built as `client.build_request` would (the client's
        headers and timeouts, the URL under the API root) without its per-request merging
        of base URL, cookies and parameters: the headers and timeouts are the session's,
        made once."""
        if callable(call.content):
            # a body factory goes in as a re-iterable: httpx can then resend it when it
            # follows a 307/308 (a generator would raise StreamConsumed there)
            content: Any = (
                _Replayable(call.content)
                if isinstance(self.client, httpx.Client)
                else _AsyncReplayable(call.content)
            )
        else:
            content = call.content
        url = call.url if "://" in call.url else self.url(call.url)
        headers = self._headers
        if call.headers:
            headers = headers.copy()
            headers.update(call.headers)
        request = httpx.Request(
            call.method,
            httpx.URL(url, params=call.params) if call.params else url,
            json=call.json,
            content=content,
            headers=headers,
            files=call.files,
            data=call.form,
            extensions=dict(self._extensions),
        )
        log.debug("%s %s (%s)", request.method, request.url, call.operation)
        return request

    def _own_origin(self, request: httpx.Request) -> bool:
        """Credentials go to the API's own origin only: absolute URLs come from vendor
        Location headers, never to another host a response points at."""
        return (request.url.scheme, request.url.host, request.url.port) == self._auth_root

    def _auth(self, request: httpx.Request) -> Any:
        return httpx.USE_CLIENT_DEFAULT if self._own_origin(request) else None

    def _authorized(self, request: httpx.Request) -> Generator[httpx.Request, Any, None] | None:
        """The lean path's auth: the one-shot flow run on `request` (its headers set), or
        None for another origin. Send the response into the flow when it comes."""
        if self._one_shot_auth is None or not self._own_origin(request):
            return None
        flow = self._one_shot_auth.auth_flow(request)
        next(flow)  # sets the credentials on `request` itself
        return flow

    def _follow_up(self, request: httpx.Request, response: httpx.Response) -> httpx.Request:
        """What the client sends after the lean path met `response`: for a redirect, the
        request httpx's client would follow it with (its own method, origin and body
        rules; the client follows any further ones); for a second auth round, `request`
        again, without the credentials the lean path set (the client's auth sets them).
        `_build_redirect_request` is httpx's, unexported: without it (another httpx), the
        client sends `request` again and follows the redirect itself."""
        build = getattr(self.client, "_build_redirect_request", None)
        if response.has_redirect_location and callable(build):
            follow: httpx.Request = build(request, response)
            return follow
        request.headers.pop("Authorization", None)
        return request

    @staticmethod
    def _settled(flow: Generator[httpx.Request, Any, None] | None, response: Any) -> bool:
        """Whether the lean path's `response` is final: no redirect to follow, and no
        second round the auth flow asks for (then the client's full path takes over)."""
        if response.has_redirect_location:
            return False
        if flow is None:
            return True
        try:
            flow.send(response)
        except StopIteration:
            return True
        return False

    def _unsendable(self, call: Call) -> _UnsendableRequest:
        return _UnsendableRequest(
            f"{self.provider} {call.operation} failed: the request is not valid HTTP "
            "(a header value with a newline or control character?); details withheld "
            "because they may contain credentials",
            provider=self.provider,
            operation=call.operation,
        )

    def _failed(self, call: Call, response: httpx.Response) -> ProviderError:
        """The error for a (read) response whose status `call` does not accept."""
        return self.redact(
            error_for(
                response, provider=self.provider, operation=call.operation, errors=self.errors
            )
        )

    def _no_response(
        self, call: Call, request: httpx.Request, e: httpx.HTTPError | httpx.StreamError
    ) -> TransportError:
        """The `TransportError` for a request that got no usable response."""
        log.debug("%s %s: %s", request.method, request.url, type(e).__name__)
        text = f"{self.provider} {call.operation} failed: {type(e).__name__}: {e}"
        if isinstance(e, httpx.ConnectError | httpx.ConnectTimeout):
            text += f" (connecting to {request.url.host}: is api_root {self.shown_root} right?)"
        elif isinstance(e, httpx.TooManyRedirects):
            text += " (the server keeps redirecting: check api_root)"
        elif isinstance(e, httpx.DecodingError):
            text += " (the response body could not be decoded)"
        if (
            call.retry is not Retry.IDEMPOTENT
            and isinstance(e, httpx.TransportError)
            and not isinstance(e, _UNSENT)
        ):
            text += (
                "; the request was sent and may have taken effect before the connection "
                "failed, so it was not repeated: check (e.g. list_batches) before retrying"
            )
        return self.redact(TransportError(text, provider=self.provider, operation=call.operation))


class HttpSession(_Session):
    """One pooled `httpx.Client` for one provider instance, with retries and error mapping."""

    client: httpx.Client
    _transport: httpx.BaseTransport

    def _open(
        self, transport: httpx.BaseTransport | None, options: dict[str, Any]
    ) -> httpx.BaseTransport:
        sender = transport or blocking_transport(options["limits"], self.network)
        hooks = {kind: list(listed) for kind, listed in self.hooks.items()}
        self.client = httpx.Client(transport=sender, event_hooks=hooks, **options)
        return sender

    def _exchange(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        """Send `request`: on the lean path straight to the transport (the client's auth,
        redirect, cookie and hook layers cost a third of a small request's CPU, and
        batchkit uses none of them on its own origin), else through the client. A redirect
        or a second auth round met on the lean path is sent again through the client."""
        if self._lean:
            flow = self._authorized(request)
            for hook in self.hooks.get("request", ()):
                hook(request)
            response = self._transport.handle_request(request)
            response.request = request
            for hook in self.hooks.get("response", ()):
                hook(response)
            if self._settled(flow, response):
                if not stream:
                    try:
                        response.read()
                    except BaseException:
                        response.close()
                        raise
                return response
            response.close()
            request = self._follow_up(request, response)
        return self.client.send(request, stream=stream, auth=self._auth(request))

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()

    def _once(self, call: Call, *, stream: bool) -> httpx.Response:
        request = self._request(call)
        budget = current_budget()
        if budget is not None:
            budget.attempt(request)
        try:
            response = self._exchange(request, stream=stream)
        except httpx.LocalProtocolError:
            # h11's message quotes the offending header value, which may be a credential:
            # raised outside the except block so the original is not even chained
            response = None
        except (httpx.HTTPError, httpx.StreamError) as e:
            raise self._no_response(call, request, e) from e
        if response is None:
            raise self._unsendable(call)
        log.debug("%s %s -> %s", request.method, request.url, response.status_code)
        if response.status_code in call.ok:
            return response
        try:
            if stream:
                response.read()
        except (httpx.HTTPError, httpx.StreamError) as e:
            raise self._no_response(call, request, e) from e
        finally:
            if stream:
                response.close()
        raise self._failed(call, response)

    def _send(self, call: Call, *, stream: bool) -> httpx.Response:
        """One call with retries, under one deadline (`retry_timeout`) for every attempt and
        every wait. The first attempt runs outside stamina: building a retry context costs
        about as much as parsing the response (benchmark B3), and most calls succeed at
        once. If it fails, the failure is replayed as the first attempt of a stamina
        context, so the hook, backoff and attempt count behave as if stamina had run it."""
        state = _Attempts(call, self.retry)
        with deadline(state.budget):
            try:
                state.sent += 1
                return self._once(call, stream=stream)
            except ProviderError as e:
                first = state.failed(e)
            if state.decide(first) is False:  # a wait of 0.0 is a retry
                raise state.give_up(first)
            state.pending = first
            import stamina  # only a retry needs it (it imports tenacity, and tornado if there)

            try:
                for attempt in stamina.retry_context(on=state.decide, attempts=None, timeout=None):
                    with attempt:
                        state.replay()
                        try:
                            return self._once(call, stream=stream)
                        except ProviderError as e:
                            state.failed(e)
                            raise
            except ProviderError as e:
                state.give_up(e)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def send(self, call: Call) -> httpx.Response:
        """Send `call`, retrying per its policy; return the (read) success response.

        A raised `ProviderError` carries `attempts`: how many times the request was sent
        (callers use it to tell "already existed" from "my retried create succeeded").
        """
        return self._send(call, stream=False)

    def open(self, call: Call) -> httpx.Response:
        """Send `call` like `send`, and return the response unread (close it when done)."""
        return self._send(call, stream=True)


class AsyncHttpSession(_Session):
    """`HttpSession` on an `httpx.AsyncClient`: the same requests, retries, deadline and
    errors, awaited (on asyncio or trio)."""

    client: httpx.AsyncClient
    _transport: httpx.AsyncBaseTransport

    def _open(
        self, transport: httpx.AsyncBaseTransport | None, options: dict[str, Any]
    ) -> httpx.AsyncBaseTransport:
        if transport is None:
            from ._httpcore import async_transport  # httpcore is imported only when needed

            transport = async_transport(options["limits"], self.network)
        hooks = {kind: [_awaitable(hook) for hook in listed] for kind, listed in self.hooks.items()}
        self.client = httpx.AsyncClient(transport=transport, event_hooks=hooks, **options)
        return transport

    async def _exchange(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        """`HttpSession._exchange`, awaited."""
        if self._lean:
            flow = self._authorized(request)
            for hook in self.hooks.get("request", ()):
                await _awaited(hook(request))
            response = await self._transport.handle_async_request(request)
            response.request = request
            for hook in self.hooks.get("response", ()):
                await _awaited(hook(response))
            if self._settled(flow, response):
                if not stream:
                    try:
                        await response.aread()
                    except BaseException:
                        await response.aclose()
                        raise
                return response
            await response.aclose()
            request = self._follow_up(request, response)
        return await self.client.send(request, stream=stream, auth=self._auth(request))

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self.client.aclose()

    async def _once(self, call: Call, *, stream: bool) -> httpx.Response:
        request = self._request(call)
        budget = current_budget()
        if budget is not None:
            budget.attempt(request, is_async=True)
        response: httpx.Response | None
        try:
            response = await self._exchange(request, stream=stream)
        except httpx.LocalProtocolError:
            response = None  # see HttpSession._once
        except (httpx.HTTPError, httpx.StreamError) as e:
            raise self._no_response(call, request, e) from e
        if response is None:
            raise self._unsendable(call)
        log.debug("%s %s -> %s", request.method, request.url, response.status_code)
        if response.status_code in call.ok:
            return response
        try:
            if stream:
                await response.aread()
        except (httpx.HTTPError, httpx.StreamError) as e:
            raise self._no_response(call, request, e) from e
        finally:
            if stream:
                await response.aclose()
        raise self._failed(call, response)

    async def _send(self, call: Call, *, stream: bool) -> httpx.Response:
        """`HttpSession._send`, awaited: the same attempts, waits and deadline (the budget
        is a context variable, so each task has its own)."""
        state = _Attempts(call, self.retry)
        with deadline(state.budget):
            try:
                state.sent += 1
                return await self._once(call, stream=stream)
            except ProviderError as e:
                first = state.failed(e)
            if state.decide(first) is False:
                raise state.give_up(first)
            state.pending = first
            import stamina

            try:
                async for attempt in stamina.retry_context(
                    on=state.decide, attempts=None, timeout=None
                ):
                    with attempt:
                        state.replay()
                        try:
                            return await self._once(call, stream=stream)
                        except ProviderError as e:
                            state.failed(e)
                            raise
            except ProviderError as e:
                state.give_up(e)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(self, call: Call) -> httpx.Response:
        """Send `call`, retrying per its policy; return the (read) success response."""
        return await self._send(call, stream=False)

    async def open(self, call: Call) -> httpx.Response:
        """Send `call` like `send`, and return the response unread (close it when done)."""
        return await self._send(call, stream=True)
