"""The HTTP layer: what is retried and how long it waits, error mapping, headers, and
that no credential ever leaks into reprs, messages, logs or other hosts."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import base64
import json
import logging
import traceback
import types
from collections.abc import Callable, Iterator

import attrs
import httpx
import pytest
import stamina
import tenacity.nap

import batchkit
from batchkit import (
    AuthError,
    Conflict,
    NotFound,
    ProviderError,
    RateLimited,
    ServerError,
    TransportError,
)
from batchkit._call import Call, Retry
from batchkit._http import RetrySettings, _Attempts, parse_retry_after

AIHUB_BATCH = {"id": 7, "name": "b", "workspace": "ws"}
SCALE_BATCH = {"name": "b", "project": "p", "status": "staging"}

Failure = int | type[httpx.TransportError]


def flaky(failures: list[Failure], success: Callable[[httpx.Request], httpx.Response],
          **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    """Fail with each status / transport error in turn, then answer with `success`."""
    pending = list(failures)

    def handle(request: httpx.Request) -> httpx.Response:
        if pending:
            failure = pending.pop(0)
            if isinstance(failure, int):
                body = {"message": f"failure {failure}", "error": f"failure {failure}"}
                return httpx.Response(failure, json=body, headers=headers)
            raise failure("simulated", request=request)
        return success(request)

    return handle


def ok_json(data: object) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json=data)


@pytest.fixture
def real_backoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """stamina computes its real waits, and tenacity records them instead of sleeping."""
    waits: list[float] = []
    monkeypatch.setattr(tenacity.nap, "time", types.SimpleNamespace(sleep=waits.append))
    with stamina.set_testing(False):
        yield waits


# -- which failures are retried ----------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [503, 502, 500, 504, 408, 429, httpx.ConnectError, httpx.ReadError, httpx.ReadTimeout,
     httpx.ConnectTimeout, httpx.RemoteProtocolError],
)
def test_get_is_retried_on_transient_failures_and_then_succeeds(kit, failure):
    """A GET failing twice with a transient error succeeds on the third attempt."""
    rec = kit.Recorder(flaky([failure, failure], ok_json(AIHUB_BATCH)))
    batch = kit.aihub(rec.transport).get_batch("7")
    assert "7" == batch.id
    assert 3 == len(rec.requests)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 422])
def test_get_is_not_retried_on_client_errors(kit, status):
    """4xx other than 408 / 429 is final: one request."""
    rec = kit.Recorder(flaky([status], ok_json(AIHUB_BATCH)))
    with pytest.raises(ProviderError):
        kit.aihub(rec.transport).get_batch("7")
    assert 1 == len(rec.requests)


def test_retries_stop_after_retry_attempts_and_the_error_says_how_many(kit):
    """An endless 503 is tried `retry_attempts` times; the error carries that count."""
    rec = kit.Recorder(lambda request: httpx.Response(503))
    with pytest.raises(ServerError) as info:
        kit.aihub(rec.transport, retry_attempts=3).get_batch("7")
    assert (3, 3) == (len(rec.requests), info.value.attempts)


def test_put_upload_is_retried_and_resends_the_same_body(kit):
    """An upload PUT is idempotent: retried after a 503 with identical bytes."""
    rec = kit.Recorder(flaky([503], lambda request: httpx.Response(204)))
    kit.aihub(rec.transport).upload_file("7", "a.pdf", b"payload")
    assert [b"payload", b"payload"] == [r.content for r in rec.requests]


def test_delete_is_retried_after_a_reset_connection(kit):
    """DELETE is idempotent: retried after ReadError."""
    rec = kit.Recorder(flaky([httpx.ReadError], lambda request: httpx.Response(
        202, json={"job_id": "j"}
    )))
    job = kit.aihub(rec.transport).delete_batch("7", wait=False)
    assert ("j", 2) == (job.id, len(rec.requests))


# -- AI Hub create_batch: not idempotent -------------------------------------------------


@pytest.mark.parametrize("failure", [httpx.ReadError, httpx.ReadTimeout, 500, 502, 504])
def test_aihub_create_batch_is_not_retried_once_the_request_may_have_arrived(kit, failure):
    """A create that may have reached AI Hub (read error, 5xx) is sent exactly once."""
    rec = kit.Recorder(flaky([failure], ok_json({"id": 1})))
    with pytest.raises(ProviderError):
        kit.aihub(rec.transport).create_batch("b")
    assert 1 == len(rec.requests)


def test_aihub_create_batch_read_error_says_it_may_have_taken_effect(kit):
    """The error tells the caller the batch may exist and to check before retrying."""
    rec = kit.Recorder(flaky([httpx.ReadError], ok_json({"id": 1})))
    with pytest.raises(TransportError, match="may have taken effect"):
        kit.aihub(rec.transport).create_batch("b")


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout, 503, 429])
def test_aihub_create_batch_is_retried_when_the_request_was_never_handled(kit, failure):
    """Connect errors (never sent), 503 and 429 (declined unhandled) are retried."""
    def created_then_fetched(request: httpx.Request) -> httpx.Response:
        body = {"id": 12} if request.method == "POST" else {"id": 12, "name": "b"}
        return httpx.Response(200, json=body)

    rec = kit.Recorder(flaky([failure], created_then_fetched))
    batch = kit.aihub(rec.transport).create_batch("b")
    posts = [r for r in rec.requests if r.method == "POST"]
    assert ("12", "b", 2) == (batch.id, batch.name, len(posts))


# -- Scale create_batch: names are unique ------------------------------------------------


def test_scale_create_retried_into_a_409_fetches_and_returns_the_batch(kit):
    """502, then 409 on the retry: the first attempt created it; GET it and return it."""
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={**SCALE_BATCH, "name": "nightly"})
        return next(answers)

    answers = iter([httpx.Response(502), httpx.Response(409, json={"error": "exists"})])
    rec = kit.Recorder(handle)
    batch = kit.scale(rec.transport).create_batch("nightly", project="p")
    assert ("nightly", "p") == (batch.id, batch.project)
    expected = [("POST", "/v1/batches"), ("POST", "/v1/batches"), ("GET", "/v1/batches/nightly")]
    assert expected == rec.lines


def test_scale_create_meeting_409_on_the_first_attempt_is_a_conflict(kit):
    """A name already taken before we asked is a Conflict naming it; nothing else is sent."""
    rec = kit.Recorder(lambda request: httpx.Response(409, json={"error": "duplicate"}))
    with pytest.raises(Conflict) as info:
        kit.scale(rec.transport).create_batch("nightly", project="p")
    assert "'nightly'" in str(info.value)
    assert ("duplicate", 409) == (info.value.vendor_message, info.value.status)
    assert [("POST", "/v1/batches")] == rec.lines


def test_scale_create_retried_into_a_409_of_another_project_is_a_conflict(kit):
    """If the existing batch is in another project, it is not ours: Conflict."""
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={**SCALE_BATCH, "project": "someone-else"})
        return next(answers)

    answers = iter([httpx.Response(502), httpx.Response(409, json={"error": "exists"})])
    rec = kit.Recorder(handle)
    with pytest.raises(Conflict):
        kit.scale(rec.transport).create_batch("b", project="p")
    assert 3 == len(rec.requests)


def test_scale_create_after_a_read_error_is_retried_and_resolved(kit):
    """A lost response (ReadError) is retried; the 409 that follows is resolved by a GET."""
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=SCALE_BATCH)
        if not rec.requests[:-1]:
            raise httpx.ReadError("lost", request=request)
        return httpx.Response(409, json={"error": "exists"})

    rec = kit.Recorder(handle)
    assert "b" == kit.scale(rec.transport).create_batch("b", project="p").id
    assert ["POST", "POST", "GET"] == [m for m, _ in rec.lines]


# -- Retry-After -------------------------------------------------------------------------


def test_retry_after_seconds_is_the_wait_before_the_next_attempt(kit, real_backoff):
    """`Retry-After: 2` on a 429 makes stamina wait exactly 2 s (recorded, not slept)."""
    rec = kit.Recorder(flaky([429], ok_json(AIHUB_BATCH), **{"Retry-After": "2"}))
    kit.aihub(rec.transport).get_batch("7")
    assert [2.0] == real_backoff
    assert 2 == len(rec.requests)


def test_retry_after_is_capped_at_max_retry_after(kit, real_backoff):
    """A server asking for 600 s gets the 60 s cap, not 600."""
    rec = kit.Recorder(flaky([429], ok_json(AIHUB_BATCH), **{"Retry-After": "600"}))
    kit.aihub(rec.transport).get_batch("7")
    assert [60.0] == real_backoff


def test_retry_after_cap_is_per_session(kit, real_backoff):
    """A session's own `max_retry_after` caps the wait."""
    rec = kit.Recorder(flaky([429, 429], ok_json(SCALE_BATCH), **{"Retry-After": "30"}))
    provider = kit.scale(rec.transport)
    provider.http.retry = attrs.evolve(provider.http.retry, max_retry_after=1.5)
    provider.get_batch("b")
    assert [1.5, 1.5] == real_backoff


def test_a_429_without_retry_after_uses_the_exponential_backoff(kit, real_backoff):
    """No hint: the normal backoff applies (initial wait plus at most the jitter)."""
    rec = kit.Recorder(flaky([429], ok_json(AIHUB_BATCH)))
    kit.aihub(rec.transport, retry_wait_initial=0.25, retry_wait_max=10).get_batch("7")
    assert 1 == len(real_backoff)
    assert 0.25 <= real_backoff[0] <= 0.25 + RetrySettings().wait_jitter


def test_backoff_between_5xx_retries_never_exceeds_wait_max(kit, real_backoff):
    """Exponential waits are clamped to `retry_wait_max`."""
    rec = kit.Recorder(flaky([503] * 4, ok_json(AIHUB_BATCH)))
    kit.aihub(rec.transport, retry_wait_initial=1, retry_wait_max=1.25).get_batch("7")
    assert 4 == len(real_backoff)
    assert all(1 <= w <= 1.25 for w in real_backoff)


def test_the_retry_hook_returns_the_capped_retry_after_or_the_backoff():
    """The stamina hook returns the wait: Retry-After capped at max_retry_after, or the
    backoff when there is no hint (a float, so a wait of 0.0 still means "retry")."""
    state = _Attempts(Call("get_batch", "GET", "x"), RetrySettings(
        max_retry_after=5.0, wait_initial=0.1, wait_jitter=0.0))
    state.sent = 1
    limited = RateLimited("slow down", retry_after=2.0, provider="p", operation="o")
    too_long = RateLimited("slow down", retry_after=600.0, provider="p", operation="o")
    no_hint = RateLimited("slow down", retry_after=None, provider="p", operation="o")
    assert (2.0, 5.0, 0.1) == (state.decide(limited), state.decide(too_long),
                               state.decide(no_hint))


def test_the_retry_hook_never_retries_a_never_call():
    """`Retry.NEVER` calls are never retried, whatever the error."""
    state = _Attempts(Call("x", "POST", "x", retry=Retry.NEVER), RetrySettings())
    state.sent = 1
    limited = RateLimited("x", retry_after=1.0, provider="p", operation="o")
    server = ServerError("x", provider="p", operation="o", status=503)
    assert (False, False) == (state.decide(limited), state.decide(server))


@pytest.mark.parametrize(
    ("header", "expected"),
    [("2", 2.0), ("0.5", 0.5), ("-3", 0.0), (" 7 ", 7.0), (None, None), ("", None),
     ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_header_parsing(header, expected):
    """Delta seconds parse as floats, past HTTP dates as 0, garbage as None."""
    assert expected == parse_retry_after(header)


# -- error mapping -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, ProviderError), (401, AuthError), (403, AuthError), (404, NotFound),
     (409, Conflict), (412, Conflict), (429, RateLimited), (408, ServerError),
     (500, ServerError), (502, ServerError), (503, ServerError), (504, ServerError)],
)
def test_http_statuses_map_to_batchkit_errors(kit, status, error):
    """Each status raises its error class carrying provider, operation, status, message."""
    rec = kit.Recorder(lambda request: httpx.Response(status, json={"error": "vendor says no"}))
    with pytest.raises(ProviderError) as info:
        kit.scale(rec.transport).get_batch("b")
    e = info.value
    assert error is type(e)
    got = (e.provider, e.operation, e.status, e.vendor_message)
    assert ("scale", "get_batch", status, "vendor says no") == got
    assert f"HTTP {status}" in str(e)


def test_429_error_carries_the_servers_retry_after(kit):
    """After the retries run out, RateLimited.retry_after is the server's hint."""
    rec = kit.Recorder(lambda request: httpx.Response(429, headers={"Retry-After": "7"}))
    with pytest.raises(RateLimited) as info:
        kit.aihub(rec.transport).get_batch("7")
    assert 7.0 == info.value.retry_after


def test_aihub_error_message_is_read_from_the_message_key(kit):
    """AI Hub errors are `{"message": ...}`; the text reaches the exception."""
    rec = kit.Recorder(lambda request: httpx.Response(404, json={"message": "no batch 7"}))
    with pytest.raises(NotFound) as info:
        kit.aihub(rec.transport).get_batch("7")
    assert ("aihub", "get_batch", 404, "no batch 7") == (
        info.value.provider, info.value.operation, info.value.status, info.value.vendor_message
    )


def test_a_plain_text_error_body_becomes_the_vendor_message(kit):
    """A non-JSON error body is kept (trimmed) as the vendor's message."""
    rec = kit.Recorder(lambda request: httpx.Response(400, text="  bad request  "))
    with pytest.raises(ProviderError) as info:
        kit.scale(rec.transport).get_batch("b")
    assert "bad request" == info.value.vendor_message


def test_connection_errors_become_transport_errors_without_status(kit):
    """A refused connection, after retries, is TransportError with status None."""
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    rec = kit.Recorder(refuse)
    with pytest.raises(TransportError) as info:
        kit.scale(rec.transport).get_batch("b")
    e = info.value
    assert ("scale", "get_batch", None, 5) == (e.provider, e.operation, e.status, e.attempts)
    assert isinstance(e.__cause__, httpx.ConnectError)


def test_every_provider_error_is_a_batchkit_error():
    """One root: catching BatchkitError catches every HTTP error."""
    for cls in (AuthError, NotFound, Conflict, RateLimited, ServerError, TransportError):
        assert issubclass(cls, ProviderError)
        assert issubclass(cls, batchkit.BatchkitError)


# -- headers -----------------------------------------------------------------------------


def test_aihub_requests_carry_user_agent_bearer_token_and_ib_context(kit):
    """AI Hub: `User-Agent: batchkit/<version>`, `Bearer <token>`, `IB-Context`."""
    rec = kit.Recorder(ok_json(AIHUB_BATCH))
    kit.aihub(rec.transport, ib_context="org-42").get_batch("7")
    headers = rec.requests[0].headers
    got = (headers["User-Agent"], headers["Authorization"], headers["IB-Context"])
    assert (f"batchkit/{batchkit.__version__}", f"Bearer {kit.TOKEN}", "org-42") == got


def test_aihub_sends_no_ib_context_when_none_is_configured(kit):
    """Without `ib_context` there is no IB-Context header."""
    rec = kit.Recorder(ok_json(AIHUB_BATCH))
    kit.aihub(rec.transport).get_batch("7")
    assert "IB-Context" not in rec.requests[0].headers


def test_scale_requests_use_basic_auth_with_the_key_as_user_name(kit):
    """Scale: HTTP Basic, API key as user, empty password; JSON bodies."""
    rec = kit.Recorder(ok_json(SCALE_BATCH))
    kit.scale(rec.transport).create_batch("b", project="p")
    request = rec.requests[0]
    expected = "Basic " + base64.b64encode(f"{kit.API_KEY}:".encode()).decode()
    assert expected == request.headers["Authorization"]
    assert f"batchkit/{batchkit.__version__}" == request.headers["User-Agent"]
    assert {"project": "p", "name": "b"} == json.loads(request.content)
    assert request.headers["Content-Type"].startswith("application/json")


# -- secret hygiene ----------------------------------------------------------------------


def _secrets(kit) -> list[str]:
    basic = base64.b64encode(f"{kit.API_KEY}:".encode()).decode()
    return [kit.TOKEN, kit.API_KEY, basic]


def _assert_clean(kit, text: str) -> None:
    for secret in _secrets(kit):
        assert secret not in text


def test_reprs_of_providers_settings_and_sessions_hold_no_secret(kit):
    """Neither the providers nor their settings, sessions or auth show the credential."""
    for provider in (kit.aihub(kit.Recorder().transport),
                     kit.scale(kit.Recorder().transport)):
        for obj in (provider, provider.settings, provider.http, provider.http.client.auth):
            _assert_clean(kit, repr(obj))
            _assert_clean(kit, str(obj))


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_hold_no_secret(kit, status):
    """A 401/403 whose body echoes nothing: message, repr, args and traceback are clean."""
    rec = kit.Recorder(lambda request: httpx.Response(status))
    for provider in (kit.aihub(rec.transport), kit.scale(rec.transport)):
        with pytest.raises(AuthError) as info:
            provider.get_batch("7")
        e = info.value
        text = "\n".join([str(e), repr(e), repr(e.args), *traceback.format_exception(e)])
        _assert_clean(kit, text)
        assert "check the token" in str(e)


def test_debug_logs_hold_no_secret(kit, caplog):
    """At DEBUG, every record from a run of calls (with retries and errors) is clean."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="batchkit")
    rec = kit.Recorder(flaky([503, httpx.ConnectError], ok_json(AIHUB_BATCH)))
    aihub = kit.aihub(rec.transport, ib_context="org")
    aihub.get_batch("7")
    rec.handler = lambda request: httpx.Response(401)
    with pytest.raises(AuthError):
        aihub.get_batch("7")
    scale_rec = kit.Recorder(flaky([502], ok_json(SCALE_BATCH)))
    kit.scale(scale_rec.transport).get_batch("b")
    assert any(r.name.startswith("batchkit") for r in caplog.records)
    for record in caplog.records:
        _assert_clean(kit, record.getMessage())
        _assert_clean(kit, repr(vars(record)))


def _two_hosts(kit, redirect_status: int, target: str):
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "aihub.test" and "/v2/batches/7" in request.url.path:
            return httpx.Response(redirect_status, headers={"Location": target})
        return httpx.Response(200, json=AIHUB_BATCH)

    return kit.Recorder(handle)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_cross_origin_redirect_does_not_carry_the_token(kit, status):
    """Following a redirect to another host drops Authorization."""
    rec = _two_hosts(kit, status, "https://elsewhere.test/api/v2/batches/8")
    kit.aihub(rec.transport).get_batch("7")
    assert ["aihub.test", "elsewhere.test"] == [r.url.host for r in rec.requests]
    assert "Authorization" not in rec.requests[1].headers


def test_a_same_origin_redirect_keeps_the_token(kit):
    """The control case: a redirect within the API host still authenticates."""
    rec = _two_hosts(kit, 302, "https://aihub.test/api/v2/batches/8")
    kit.aihub(rec.transport).get_batch("7")
    assert f"Bearer {kit.TOKEN}" == rec.requests[1].headers["Authorization"]


def test_a_job_location_on_another_host_does_not_receive_the_token(kit):
    """A 202 whose Location names another host must not get the bearer token when polled."""
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(202, headers={"Location": "https://elsewhere.test/jobs/j1"})
        return httpx.Response(200, json={"state": "COMPLETE"})

    rec = kit.Recorder(handle)
    kit.aihub(rec.transport).delete_file("7", "a.pdf")
    polls = [r for r in rec.requests if r.url.host == "elsewhere.test"]
    assert polls
    assert [] == [str(r.url) for r in polls if "Authorization" in r.headers]


def test_a_multipart_session_location_on_another_host_does_not_receive_the_token(kit):
    """Parts sent to a session URL on another host must not carry the bearer token."""
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/batches/multipart-upload":
            return httpx.Response(201, json={"part_size": 100},
                                  headers={"Location": "https://elsewhere.test/s/1"})
        if "/parts/" in request.url.path:
            return httpx.Response(201, json={"part_id": "p", "part_num": 1})
        return httpx.Response(204)

    rec = kit.Recorder(handle)
    kit.aihub(rec.transport, multipart_threshold=50).upload_file("7", "a.pdf", b"x" * 60)
    foreign = [r for r in rec.requests if r.url.host == "elsewhere.test"]
    assert foreign
    assert [] == [str(r.url) for r in foreign if "Authorization" in r.headers]


def test_a_request_httpx_refuses_to_send_is_not_retried_and_its_details_are_withheld(kit):
    """h11's LocalProtocolError quotes the bad header value (maybe a token): batchkit raises a
    TransportError that neither repeats nor chains it, and does not retry a request that can
    never be sent."""
    secret = "Bearer tok-secret-value\n"
    rec = kit.Recorder()

    def refuse(request: httpx.Request) -> httpx.Response:
        rec.requests.append(request)
        raise httpx.LocalProtocolError(f"Illegal header value {secret.encode()!r}")

    provider = kit.aihub(httpx.MockTransport(refuse))
    with pytest.raises(TransportError) as info:
        provider.get_batch("7")
    text = "".join(traceback.format_exception(info.value))
    assert "tok-secret-value" not in text
    assert "not valid HTTP" in str(info.value)
    assert 1 == len(rec.requests)


@pytest.mark.parametrize("setting", ["token", "ib_context"])
@pytest.mark.parametrize("bad", ["s3cr3t\n", " s3cr3t", "s3\x00cr3t", "s3cr3t\r\n", ""])
def test_credentials_with_whitespace_or_control_characters_are_refused_unechoed(
    kit, setting, bad
):
    """A token or IB-Context with a trailing newline (read from a file) is a ConfigError at
    connect() that says what is wrong without showing the value."""
    rec = kit.Recorder()
    with pytest.raises(batchkit.ConfigError) as info:
        kit.aihub(rec.transport, **{setting: bad})
    assert setting in str(info.value)
    assert "s3" not in str(info.value)
    assert [] == rec.requests


def test_a_scale_api_key_with_a_trailing_newline_is_refused(kit):
    """The Scale key is refused the same way (Basic auth would otherwise just 401)."""
    with pytest.raises(batchkit.ConfigError, match="api_key"):
        kit.scale(kit.Recorder().transport, api_key="key-123\n")


def test_a_first_attempt_that_used_the_whole_time_budget_is_not_retried(kit):
    """retry_timeout is the budget for the whole call: a first attempt that outlasts it ends
    the call, even though the error is retryable (the second would have succeeded)."""
    import time as _time

    answers = [503, 200]

    def slow(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0)
        _time.sleep(0.05)
        return httpx.Response(status, json=AIHUB_BATCH)

    rec = kit.Recorder(slow)
    with pytest.raises(ServerError) as info:
        kit.aihub(rec.transport, retry_timeout=0.01).get_batch("7")
    assert (1, 1) == (info.value.attempts, len(rec.requests))


# -- the lean path: straight to the transport, the client where it is needed -------------


def test_an_auth_flow_with_a_challenge_round_goes_through_the_client():
    """A two-round auth (HTTP Digest: a 401 challenge, then the answer) is not one-shot:
    every request of that session goes through httpx's client, which runs the rounds."""
    from batchkit._http import HttpSession

    seen: list[str | None] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        if not (request.headers.get("Authorization") or "").startswith("Digest "):
            challenge = 'Digest realm="r", nonce="n", qop="auth", algorithm=MD5'
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        return httpx.Response(200, json={"ok": True})

    session = HttpSession(provider="x", api_root="https://digest.test/api",
                          auth=httpx.DigestAuth("u", "p"), transport=httpx.MockTransport(handle))
    assert {"ok": True} == session.send(Call("get", "GET", "v1/thing")).json()
    assert 2 == len(seen)
    assert seen[0] is None
    assert (seen[1] or "").startswith('Digest username="u"')


def test_requests_carry_the_clients_default_headers_and_the_calls_own():
    """What the lean path builds once per session is what the client would send: its
    User-Agent, Accept and encoding headers, the call's headers on top, and the query."""
    from batchkit._http import HttpSession

    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    session = HttpSession(provider="x", api_root="https://h.test/api",
                          auth=httpx.BasicAuth("k", ""), transport=httpx.MockTransport(handle),
                          user_agent="pipe/1")
    session.send(Call("get", "GET", "v1/a b", params={"tags": ["x", "y"], "n": 1},
                      headers={"Accept": "text/csv"}))
    (request,) = seen
    assert "https://h.test/api/v1/a%20b?tags=x&tags=y&n=1" == str(request.url)
    assert request.headers["User-Agent"].endswith(" pipe/1")
    assert "text/csv" == request.headers["Accept"]
    assert "gzip" in request.headers["Accept-Encoding"]
    assert request.headers["Authorization"].startswith("Basic ")
    assert {"connect", "read", "write", "pool"} == set(request.extensions["timeout"])
