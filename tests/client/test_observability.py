"""What a pipeline's logs and errors tell its operator: one batchkit log line per scheduled
retry, the vendor's request id on errors, and a User-Agent that names the pipeline."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator

import httpx
import pytest
import stamina
from stamina.instrumentation import RetryDetails, get_on_retry_hooks, set_on_retry_hooks

import batchkit
from batchkit import NotFound, ServerError
from batchkit._http import REQUEST_ID_HEADERS, VendorErrors, error_for

AIHUB_BATCH = {"id": 7, "name": "b", "workspace": "ws"}
Handler = Callable[[httpx.Request], httpx.Response]


def failing(statuses: list[int], then: Handler, **headers: str) -> Handler:
    """Answer each status in turn (with `headers`), then with `then`."""
    pending = list(statuses)

    def handle(request: httpx.Request) -> httpx.Response:
        if pending:
            return httpx.Response(pending.pop(0), json={"message": "busy"}, headers=headers)
        return then(request)

    return handle


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=AIHUB_BATCH)


@pytest.fixture
def retry_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Everything logged, DEBUG up, so a secret anywhere in it is caught."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


def retries(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "batchkit.http" and "attempt" in r.msg]


# -- retries in the log ------------------------------------------------------------------


def test_each_scheduled_retry_logs_one_warning_with_operation_attempt_wait_and_status(
    kit, retry_log
):
    """Two 503s then success: two WARNINGs on `batchkit.http`, one per retry (the replayed
    first failure is not logged again), each with the attempt, the wait and the hint."""
    rec = kit.Recorder(failing([503, 503], ok, **{"Retry-After": "3"}))
    provider = kit.aihub(rec.transport, retry_wait_initial=0.01, retry_wait_max=0.02)
    provider.get_batch("7")
    assert 3 == len(rec.requests)
    expected = [
        "aihub get_batch: attempt 2 of 5 in 3 s after HTTP 503 (Retry-After 3)",
        "aihub get_batch: attempt 3 of 5 in 3 s after HTTP 503 (Retry-After 3)",
    ]
    assert expected == [r.getMessage() for r in retries(retry_log)]
    assert {logging.WARNING} == {r.levelno for r in retries(retry_log)}


def test_retry_log_shows_a_zero_retry_after_and_the_normal_backoff(kit, retry_log):
    """`Retry-After: 0` is shown as given; the wait is the backoff actually scheduled."""
    rec = kit.Recorder(failing([429], ok, **{"Retry-After": "0"}))
    kit.aihub(rec.transport, retry_wait_initial=0.4, retry_wait_max=0.4).get_batch("7")
    (record,) = retries(retry_log)
    assert "aihub get_batch: attempt 2 of 5 in 0.4 s after HTTP 429 (Retry-After 0)" == (
        record.getMessage()
    )


def test_retry_after_a_network_failure_names_the_exception_type(kit, retry_log):
    """No status: the log names what failed (`ConnectError`), not its text."""
    calls = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return ok(request)

    rec = kit.Recorder(handle)
    kit.aihub(rec.transport, retry_attempts=3, retry_wait_initial=0).get_batch("7")
    (record,) = retries(retry_log)
    assert re.fullmatch(
        r"aihub get_batch: attempt 2 of 3 in [0-9.]+ s after ConnectError", record.getMessage()
    )


def test_no_retry_log_when_nothing_is_retried(kit, retry_log):
    """A 404 is not retried, and a last failed attempt schedules nothing: no retry line."""
    rec = kit.Recorder(failing([404], ok))
    with pytest.raises(NotFound):
        kit.aihub(rec.transport).get_batch("7")
    rec = kit.Recorder(failing([503, 503], ok))
    with pytest.raises(ServerError):
        kit.aihub(rec.transport, retry_attempts=2, retry_wait_initial=0).get_batch("7")
    assert ["aihub get_batch: attempt 2 of 2"] == [
        r.getMessage().split(" in ")[0] for r in retries(retry_log)
    ]


def test_retry_log_carries_no_token_body_or_url(kit, retry_log):
    """Neither the token (sent in the header, echoed by the vendor) nor the request body
    nor the URL appears in the retry line; no log line anywhere shows the token."""

    def echo(request: httpx.Request) -> httpx.Response:
        auth = request.headers["Authorization"]
        return httpx.Response(
            503, json={"message": f"bad {auth}"}, headers={"X-Request-Id": "req-1"}
        )

    rec = kit.Recorder(failing([], echo))
    with pytest.raises(ServerError) as info:
        kit.aihub(rec.transport, retry_attempts=2, retry_wait_initial=0).create_batch(
            "body-marker-batch"
        )
    assert kit.TOKEN not in str(info.value)
    (record,) = retries(retry_log)
    line = record.getMessage()
    assert re.fullmatch(
        r"aihub create_batch: attempt 2 of 2 in [0-9.]+ s after HTTP 503 \(request id req-1\)",
        line,
    )
    assert kit.TOKEN not in retry_log.text
    assert "body-marker-batch" not in line
    assert "aihub.test" not in line


def test_retries_still_reach_stamina_hooks_the_user_installed(kit, retry_log):
    """batchkit neither replaces nor uninstalls stamina's hooks: a user's hook sees each
    retry, and the hooks are the same afterwards."""
    seen: list[RetryDetails] = []
    before = get_on_retry_hooks()
    set_on_retry_hooks([seen.append])
    try:
        installed = get_on_retry_hooks()
        rec = kit.Recorder(failing([503, 503], ok))
        kit.aihub(rec.transport, retry_wait_initial=0).get_batch("7")
        assert installed == get_on_retry_hooks()
    finally:
        set_on_retry_hooks(before)
    assert [1, 2] == [d.retry_num for d in seen]
    assert 2 == len(retries(retry_log))


def test_retry_log_works_without_stamina_testing_mode(kit, retry_log, monkeypatch):
    """Outside `stamina.set_testing` (real scheduling, sleep patched out) the line is the same."""
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda seconds: None)
    rec = kit.Recorder(failing([503], ok, **{"Retry-After": "2"}))
    with stamina.set_testing(False):
        kit.aihub(rec.transport, retry_wait_initial=0.01, retry_wait_max=0.02).get_batch("7")
    assert ["aihub get_batch: attempt 2 of 5 in 2 s after HTTP 503 (Retry-After 2)"] == [
        r.getMessage() for r in retries(retry_log)
    ]


# -- request ids on errors ---------------------------------------------------------------


@pytest.mark.parametrize("header", ["X-Request-ID", "x-request-id", "Request-Id",
                                    "X-Amzn-Trace-Id"])
def test_an_error_carries_the_request_id_the_response_named(kit, header):
    """`request_id` and the message's `(request id …)` come from the common headers,
    whatever their case, so a user can quote it to the vendor's support."""
    rec = kit.Recorder(failing([404], ok, **{header: "abc123"}))
    with pytest.raises(NotFound) as info:
        kit.aihub(rec.transport).get_batch("7")
    assert "abc123" == info.value.request_id
    assert str(info.value).endswith("(request id abc123)")


def test_an_error_without_a_request_id_says_nothing_about_one(kit):
    """No such header: `request_id` is None and the message is as before."""
    rec = kit.Recorder(failing([404], ok))
    with pytest.raises(NotFound) as info:
        kit.aihub(rec.transport).get_batch("7")
    assert info.value.request_id is None
    assert "request id" not in str(info.value)


def test_a_network_failure_has_no_request_id(kit):
    """No response, no id."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(batchkit.TransportError) as info:
        kit.aihub(kit.Recorder(refuse).transport, retry_attempts=1).get_batch("7")
    assert info.value.request_id is None


def test_the_request_id_stays_in_the_message_after_retries(kit):
    """The final error names the last response's id, then how many attempts it took."""
    ids = iter(["first", "second"])

    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"X-Request-Id": next(ids)})

    with pytest.raises(ServerError) as info:
        kit.aihub(kit.Recorder(busy).transport, retry_attempts=2, retry_wait_initial=0).get_batch(
            "7"
        )
    assert "second" == info.value.request_id
    assert str(info.value).endswith("(request id second) (after 2 attempts)")


def test_an_auth_error_shows_the_hint_then_the_request_id(kit):
    rec = kit.Recorder(failing([401], ok, **{"X-Request-Id": "r-401"}))
    with pytest.raises(batchkit.AuthError) as info:
        kit.aihub(rec.transport).get_batch("7")
    assert re.search(r"\(check [^)]*\) \(request id r-401\)$", str(info.value))


def test_a_vendor_header_named_by_the_adapter_wins_over_the_common_ones():
    """`VendorErrors.request_id_headers` is looked at first; the common list is the fallback."""
    response = httpx.Response(
        500, headers={"X-Request-Id": "proxy-id", "X-Vendor-Trace": "vendor-id"}
    )
    vendor = VendorErrors(request_id_headers=("X-Vendor-Trace",))
    assert "vendor-id" == error_for(
        response, provider="p", operation="op", errors=vendor
    ).request_id
    assert "proxy-id" == error_for(response, provider="p", operation="op").request_id
    assert "X-Request-Id" == REQUEST_ID_HEADERS[0]


@pytest.mark.parametrize("value", ["x" * 201, "   ", "id\twith-tab"])
def test_a_request_id_that_could_flood_or_forge_a_line_is_dropped(value):
    """Server text that is too long or not printable is not put into messages and logs."""
    response = httpx.Response(500, headers={"X-Request-Id": value})
    error = error_for(response, provider="p", operation="op")
    assert error.request_id is None
    assert "request id" not in str(error)


def test_a_request_id_echoing_the_token_is_redacted(kit):
    """A proxy that puts the credential in its id does not get it into the message."""

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, headers={"X-Request-Id": f"id-{kit.TOKEN}"})

    with pytest.raises(NotFound) as info:
        kit.aihub(kit.Recorder(echo).transport).get_batch("7")
    assert kit.TOKEN not in str(info.value)
    assert kit.TOKEN not in (info.value.request_id or "")


# -- user_agent --------------------------------------------------------------------------


def test_user_agent_is_appended_to_batchkit_s_own(kit):
    """`user_agent="mypipeline/2.3"` sends `batchkit/<version> mypipeline/2.3`."""
    rec = kit.Recorder(ok)
    kit.aihub(rec.transport, user_agent="mypipeline/2.3").get_batch("7")
    assert f"batchkit/{batchkit.__version__} mypipeline/2.3" == rec.requests[0].headers[
        "User-Agent"
    ]


def test_without_user_agent_the_header_is_batchkit_s_alone(kit):
    rec = kit.Recorder(ok)
    kit.aihub(rec.transport).get_batch("7")
    assert f"batchkit/{batchkit.__version__}" == rec.requests[-1].headers["User-Agent"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("pipe/1\n", "control character"),
        ("pipé/1", "non-ASCII"),
        ("", "empty"),
        (23, "string"),
    ],
)
def test_a_bad_user_agent_is_a_config_error_before_any_request(kit, value, problem):
    """Checked like the other header settings: printable ASCII, no newline, a string."""
    rec = kit.Recorder(ok)
    with pytest.raises(batchkit.ConfigError, match=problem) as info:
        kit.aihub(rec.transport, user_agent=value)
    assert "user_agent" in str(info.value)
    assert [] == rec.requests
