"""What a pipeline reaches for at the edges: `provider.request` for an endpoint batchkit does
not wrap, event hooks on every request and response, and the proxy / TLS settings."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import anyio
import httpx
import pytest

import batchkit
from batchkit import ConfigError, InvalidInput, NotFound, ProviderError

FAST = {"retry_wait_initial": 0.0, "retry_wait_max": 0.0}


def _answers(*responses: httpx.Response | type[Exception]):
    """A handler answering each request with the next of `responses` (the last repeats)."""
    queue = list(responses)

    def handle(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, type):
            raise answer("down", request=request)
        return answer

    return handle


# -- provider.request ----------------------------------------------------------------------


def test_request_reaches_an_unwrapped_endpoint_with_the_providers_credentials(kit):
    rec = kit.Recorder(lambda request: httpx.Response(200, json={"runs": []},
                                                      headers={"X-Page": "1"}))
    hub = kit.aihub(rec.transport)
    response = hub.request("get", "v2/apps/runs", params={"app_name": "x", "status": ["A", "B"]})
    assert (200, {"runs": []}, "1") == (response.status_code, response.json(),
                                        response.headers["X-Page"])
    (sent,) = rec.requests
    assert "https://aihub.test/api/v2/apps/runs?app_name=x&status=A&status=B" == str(sent.url)
    assert f"Bearer {kit.TOKEN}" == sent.headers["Authorization"]


def test_request_retries_a_get_but_not_a_post_unless_told_it_is_idempotent(kit):
    rec = kit.Recorder(_answers(httpx.Response(502), httpx.Response(200, json={})))
    assert 200 == kit.aihub(rec.transport, **FAST).request("GET", "v2/x").status_code
    assert 2 == len(rec.requests)

    rec = kit.Recorder(_answers(httpx.Response(502), httpx.Response(200, json={})))
    with pytest.raises(ProviderError) as caught:
        kit.aihub(rec.transport, **FAST).request("POST", "v2/x", json={"a": 1})
    assert (502, 1) == (caught.value.status, len(rec.requests))

    rec = kit.Recorder(_answers(httpx.Response(502), httpx.Response(201, json={})))
    hub = kit.aihub(rec.transport, **FAST)
    assert 201 == hub.request("POST", "v2/x", json={"a": 1}, idempotent=True).status_code
    assert [b'{"a":1}'] * 2 == [r.content for r in rec.requests]


def test_request_maps_errors_and_masks_a_credential_the_vendor_echoes(kit):
    body = {"message": f"no run here for token {kit.TOKEN}"}
    rec = kit.Recorder(lambda request: httpx.Response(404, json=body))
    with pytest.raises(NotFound) as caught:
        kit.aihub(rec.transport).request("GET", "v2/apps/runs/nope")
    assert kit.TOKEN not in str(caught.value)
    rec = kit.Recorder(lambda request: httpx.Response(202, json={}))
    with pytest.raises(ProviderError, match="202"):
        kit.aihub(rec.transport).request("GET", "v2/x", ok={200})


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("G ET", "v2/x"), {}, "HTTP method"),
        (("GET", "v2/x\nHost: evil"), {}, "control or invalid"),
        (("GET", ""), {}, "path"),
        (("GET", "v2/x"), {"headers": {"Authorization": "Bearer other"}}, "Authorization"),
        (("GET", "v2/x"), {"ok": {700}}, "statuses"),
        (("POST", "v2/x"), {"json": {}, "content": b"x"}, "not both"),
        (("GET", "v2/x"), {"params": {"a": {"nested": 1}}}, "params"),
        (("GET", "v2/x"), {"idempotent": "yes"}, "idempotent"),
    ],
)
def test_request_refuses_bad_arguments_before_sending(kit, args, kwargs, match):
    rec = kit.Recorder(lambda request: httpx.Response(200))
    with pytest.raises(InvalidInput, match=match):
        kit.aihub(rec.transport).request(*args, **kwargs)
    assert [] == rec.requests


# -- event hooks ---------------------------------------------------------------------------


def test_event_hooks_see_every_request_and_response_of_every_operation(kit):
    seen: list[str] = []
    hooks = {
        "request": [lambda request: seen.append(f"> {request.method} {request.url.path}")],
        "response": [lambda response: seen.append(f"< {response.status_code}")],
    }
    rec = kit.Recorder(_answers(httpx.Response(503), httpx.Response(200, json={
        "id": 7, "name": "b", "workspace": "ws"})))
    hub = kit.aihub(rec.transport, event_hooks=hooks, **FAST)
    assert "b" == hub.get_batch("7").name
    assert ["> GET /api/v2/batches/7", "< 503", "> GET /api/v2/batches/7", "< 200"] == seen


def test_async_event_hooks_may_be_coroutines_or_plain_functions(kit):
    seen: list[str] = []

    async def on_request(request: httpx.Request) -> None:
        seen.append(request.method)

    def on_response(response: httpx.Response) -> None:
        seen.append(str(response.status_code))

    async def main() -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
        async with batchkit.connect_async(
            "aihub", api_root=kit.AIHUB_ROOT, token=kit.TOKEN, transport=transport,
            event_hooks={"request": [on_request], "response": [on_response]},
        ) as hub:
            await hub.request("GET", "v2/x")

    anyio.run(main)
    assert ["GET", "200"] == seen


def test_bad_event_hooks_are_a_config_error(kit):
    rec = kit.Recorder(lambda request: httpx.Response(200))
    with pytest.raises(ConfigError, match="event_hooks"):
        kit.aihub(rec.transport, event_hooks={"before": [print]})
    with pytest.raises(ConfigError, match="callables"):
        kit.aihub(rec.transport, event_hooks={"request": ["print"]})


# -- proxy and TLS -------------------------------------------------------------------------


class _Proxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy that answers itself: it records the absolute-form target each
    request names, and answers as an AI Hub batch would."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(f"{self.path} {self.headers.get('Authorization', '-')[:6]}")
        body = json.dumps({"id": 7, "name": "via-proxy", "workspace": "ws"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    _Proxy.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_requests_go_through_the_proxy_setting(proxy: str) -> None:
    hub = batchkit.connect("aihub", api_root="http://aihub.internal/api", token="tok-proxy",
                           allow_insecure_http=True, proxy=proxy)
    assert "via-proxy" == hub.get_batch("7").name
    assert ["http://aihub.internal/api/v2/batches/7 Bearer"] == _Proxy.seen


def test_the_standard_proxy_variables_are_honoured_no_proxy_too(
    proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "skip.internal")
    hub = batchkit.connect("aihub", api_root="http://aihub.internal/api", token="tok-proxy",
                           allow_insecure_http=True)
    assert "via-proxy" == hub.get_batch("7").name
    assert 1 == len(_Proxy.seen)
    direct = batchkit.connect("aihub", api_root="http://skip.internal/api", token="t",
                              allow_insecure_http=True, proxy=None)
    assert direct.http.network.proxy is None


def test_a_proxy_password_never_shows_in_a_message() -> None:
    hub = batchkit.connect("aihub", api_root="http://aihub.internal/api", token="tok",
                           allow_insecure_http=True, proxy="http://user:pr0xy-s3cret@127.0.0.1:9",
                           retry_attempts=1)
    with pytest.raises(ProviderError) as caught:
        hub.get_batch("7")
    assert "pr0xy-s3cret" not in f"{caught.value} {caught.value!r}"


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"proxy": "ftp://proxy.example.com"}, "socks5"),
        ({"verify": "/no/such/ca-bundle.pem"}, "CA bundle"),
        ({"cert": "/no/such/client.pem"}, "cannot load the TLS settings"),
        ({"cert": ["a.pem", "b.pem", "c.pem"]}, "cert"),
    ],
)
def test_unusable_network_settings_are_config_errors_at_connect(settings, match) -> None:
    with pytest.raises(ConfigError, match=match):
        batchkit.connect("aihub", api_root="https://aihub.test/api", token="t", **settings)


def test_verify_takes_false_true_as_text_or_a_ca_bundle(tmp_path: Path) -> None:
    import certifi

    for value in (False, "false", "true", certifi.where()):
        hub = batchkit.connect("aihub", api_root="https://aihub.test/api", token="t",
                               verify=value)
        assert hub.settings.verify in (False, True, certifi.where())


def test_network_settings_with_a_transport_are_refused(kit) -> None:
    rec = kit.Recorder(lambda request: httpx.Response(200))
    with pytest.raises(ConfigError, match="transport is the network"):
        kit.aihub(rec.transport, proxy="http://127.0.0.1:3128")
