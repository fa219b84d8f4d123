"""The shared base both emulated vendors are built on: router, request parsing, vendor app.

Tested directly and through a toy vendor written to the same template as AI Hub and Scale
(``urls`` rows, an ``ErrorFormat``, ``authenticate``), so a new endpoint or vendor can trust
what it inherits.
"""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import errno
import inspect
from typing import Any

import anyio
import httpx
import pytest
from starlette.datastructures import Headers
from starlette.types import Message

from batchkit.emulator._errors import (
    BadRequest,
    EmulatorError,
    ErrorFormat,
    MethodNotAllowed,
    NotFound,
    Unauthorized,
)
from batchkit.emulator._request import Call
from batchkit.emulator._routing import Router
from batchkit.emulator._vendor import TENANT_KEY, VendorApp
from batchkit.emulator.aihub import urls as aihub_urls
from batchkit.emulator.scale import urls as scale_urls

# -- a toy vendor, written to the template ---------------------------------------------------


class ToyErrors(ErrorFormat):
    name = "Toy"
    key = "problem"
    challenge = "Toy"
    max_json_body = 64


async def get_thing(call: Call[dict[str, Any]]) -> Any:
    return {"name": call.params["name"], "tenant": call.tenant}


async def put_thing(call: Call[dict[str, Any]]) -> Any:
    call.backend[call.params["name"]] = await call.json_object()
    return {"stored": len(call.backend)}


async def full_disk(call: Call[dict[str, Any]]) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device")


async def crash(call: Call[dict[str, Any]]) -> Any:
    raise KeyError("bug")


async def list_tail(call: Call[dict[str, Any]]) -> Any:
    return {"tail": [raw.decode() for raw in call.tail]}


TOY_URLS = (
    ("GET", "/toy/things/{name}", get_thing),
    ("PUT", "/toy/things/{name}", put_thing),
    ("POST", "/toy/full", full_disk),
    ("POST", "/toy/crash", crash),
    ("GET", "/toy/files/{*}", list_tail),
)


class ToyApp(VendorApp[dict[str, Any]]):
    urls = TOY_URLS
    errors = ToyErrors

    def authenticate(self, headers: Headers) -> str:
        token = headers.get("x-token")
        if not token or not self.accept(token):
            raise Unauthorized("who are you?")
        return token


@pytest.fixture
def toy() -> tuple[dict[str, Any], ToyApp]:
    backend: dict[str, Any] = {}
    return backend, ToyApp(backend, accept=lambda token: token != "refused")


def send(app: ToyApp, method: str, path: str, **options: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://toy") as client:
            return await client.request(method, path, **options)

    return anyio.run(go)


TOKEN = {"x-token": "t1"}


def test_a_handler_returning_json_answers_200_with_it(toy: tuple[dict[str, Any], ToyApp]):
    _, app = toy
    response = send(app, "GET", "/toy/things/a%2Fb", headers=TOKEN)
    assert (200, {"name": "a/b", "tenant": "t1"}) == (response.status_code, response.json())
    assert "application/json" == response.headers["content-type"]


def test_refusals_answer_in_the_vendors_format(toy: tuple[dict[str, Any], ToyApp]):
    _, app = toy
    missing = send(app, "GET", "/toy/nothing", headers=TOKEN)
    assert (404, {"problem": "no Toy endpoint at '/toy/nothing'"}) == (
        missing.status_code,
        missing.json(),
    )
    wrong = send(app, "DELETE", "/toy/things/x", headers=TOKEN)
    assert (405, "GET, PUT") == (wrong.status_code, wrong.headers["allow"])
    assert {"problem": "DELETE is not supported on '/toy/things/x'; use GET, PUT"} == wrong.json()


@pytest.mark.parametrize("headers", [{}, {"x-token": "refused"}])
def test_authentication_comes_first_and_a_401_carries_the_challenge(
    toy: tuple[dict[str, Any], ToyApp], headers: dict[str, str]
):
    _, app = toy
    response = send(app, "GET", "/toy/nothing", headers=headers)
    assert (401, "Toy", {"problem": "who are you?"}) == (
        response.status_code,
        response.headers["www-authenticate"],
        response.json(),
    )


def test_the_tenant_is_recorded_in_the_scope(toy: tuple[dict[str, Any], ToyApp]):
    _, app = toy
    seen: dict[str, Any] = {}

    async def go() -> None:
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/toy/things/x",
            "raw_path": b"/toy/things/x",
            "query_string": b"",
            "headers": [(b"x-token", b"t9")],
        }
        messages: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def record(message: Message) -> None:
            messages.append(message)

        await app(scope, receive, record)
        seen.update(scope)
        seen["status"] = messages[0]["status"]

    anyio.run(go)
    assert ("t9", 200) == (seen[TENANT_KEY], seen["status"])


def test_json_bodies_are_strict_objects_within_the_vendors_limit(
    toy: tuple[dict[str, Any], ToyApp],
):
    backend, app = toy
    stored = send(app, "PUT", "/toy/things/a", headers=TOKEN, json={"x": 1})
    assert (200, {"stored": 1}, {"a": {"x": 1}}) == (stored.status_code, stored.json(), backend)
    for content in (b"", b"[1]", b'{"x": NaN}', b'{"x": 1e999}', b'{"x": "\\ud800"}'):
        refused = send(app, "PUT", "/toy/things/b", headers=TOKEN, content=content)
        assert 400 == refused.status_code, content
        assert "request body" in refused.json()["problem"]
    too_big = send(app, "PUT", "/toy/things/b", headers=TOKEN, json={"x": "y" * 100})
    assert (400, {"problem": "JSON body is larger than 64 bytes"}) == (
        too_big.status_code,
        too_big.json(),
    )
    assert ["a"] == list(backend)


def test_a_full_disk_is_a_507_in_the_vendors_format(toy: tuple[dict[str, Any], ToyApp]):
    _, app = toy
    response = send(app, "POST", "/toy/full", headers=TOKEN)
    assert 507 == response.status_code
    assert "No space left on device" in response.json()["problem"]


def test_a_bug_in_a_handler_is_not_hidden_by_the_vendor_app(toy: tuple[dict[str, Any], ToyApp]):
    """The root app answers a crash (a JSON 500 naming it); the vendor app lets it through."""
    _, app = toy
    with pytest.raises(KeyError, match="bug"):
        send(app, "POST", "/toy/crash", headers=TOKEN)


def test_the_tail_is_the_raw_rest_of_the_path(toy: tuple[dict[str, Any], ToyApp]):
    _, app = toy
    response = send(app, "GET", "/toy/files/a/b%2Fc/", headers=TOKEN)
    assert {"tail": ["a", "b%2Fc", ""]} == response.json()


# -- the router ------------------------------------------------------------------------------


def router(*urls: tuple[str, str, str]) -> Router[str]:
    return Router(urls, ToyErrors)


def test_percent_encoded_slashes_stay_inside_one_parameter():
    table = router(("GET", "/b/{name}", "one"), ("GET", "/b/{name}/x", "two"))
    assert ("one", {"name": "a/b c"}, []) == table.resolve("GET", b"/b/a%2Fb%20c")
    assert ("two", {"name": "ü"}, []) == table.resolve("GET", b"/b/%C3%BC/x")


def test_literal_segments_match_their_decoded_form():
    assert ("h", {}, []) == router(("GET", "/v1/batches", "h")).resolve("GET", b"/v1/batch%65s")


def test_the_first_fitting_pattern_is_the_resource():
    """A literal route listed first wins over the parametrised one it overlaps: its methods
    are all the path has."""
    table = router(
        ("POST", "/b/upload", "upload"),
        ("GET", "/b/{id}", "get"),
        ("DELETE", "/b/{id}", "delete"),
    )
    with pytest.raises(MethodNotAllowed) as info:
        table.resolve("GET", b"/b/upload")
    assert {"Allow": "POST"} == info.value.headers
    with pytest.raises(MethodNotAllowed) as info:
        table.resolve("PUT", b"/b/7")
    assert {"Allow": "DELETE, GET"} == info.value.headers
    assert ("get", {"id": "7"}, []) == table.resolve("GET", b"/b/7")


@pytest.mark.parametrize("path", [b"/b", b"/b/7/extra", b"/c/7", b"/", b""])
def test_a_path_no_pattern_fits_is_a_404(path: bytes):
    with pytest.raises(NotFound):
        router(("GET", "/b/{id}", "get")).resolve("GET", path)


def test_a_segment_that_is_not_utf8_is_a_400():
    with pytest.raises(BadRequest, match="not valid percent-encoded UTF-8"):
        router(("GET", "/b/{id}", "get")).resolve("GET", b"/b/%FF")


def test_the_tail_may_be_empty_but_not_missing():
    table = router(("GET", "/f/{*}", "tail"))
    assert ("tail", {}, [b""]) == table.resolve("GET", b"/f/")
    assert ("tail", {}, []) == table.resolve("GET", b"/f")


# -- query parameters ------------------------------------------------------------------------


def call(query: bytes) -> Call[None]:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    return Call({"type": "http", "query_string": query, "headers": []}, receive, None, ToyErrors)


@pytest.mark.parametrize(
    ("query", "expected"),
    # '+' is a space in a query string; spaces around a number are stripped
    [(b"", None), (b"n=0", 0), (b"n=007", 7), (b"n=+7", 7), (b"n=%207%20", 7)],
)
def test_query_numbers_are_ascii_whole_numbers(query: bytes, expected: int | None):
    assert expected == call(query).query_int("n")


@pytest.mark.parametrize(
    "value", [b"-1", b"1.5", b"%C2%B2", b"1_000", b"abc", b"1" * 19, b"9" * 5000]
)
def test_query_numbers_past_the_limits_are_a_400(value: bytes):
    with pytest.raises(BadRequest) as info:
        call(b"n=" + value).query_int("n")
    assert len(info.value.message) < 200


def test_query_numbers_below_the_minimum_are_a_400():
    assert 1 == call(b"n=1").query_int("n", minimum=1)
    with pytest.raises(BadRequest, match=">= 1"):
        call(b"n=0").query_int("n", minimum=1)


@pytest.mark.parametrize(
    ("query", "expected"),
    [(b"", False), (b"b=true", True), (b"b=True", True), (b"b=1", True), (b"b=FALSE", False)],
)
def test_query_booleans(query: bytes, expected: bool):
    assert expected is call(query).query_bool("b")


def test_a_query_boolean_that_is_neither_is_a_400():
    with pytest.raises(BadRequest, match="true or false"):
        call(b"b=yes").query_bool("b")


# -- both vendors follow the template --------------------------------------------------------


@pytest.mark.parametrize("urls", [aihub_urls, scale_urls], ids=["aihub", "scale"])
def test_each_vendor_is_a_route_table_of_handlers_from_its_responses_module(urls: Any):
    """Every route's handler is a coroutine function of the vendor's ``responses`` module and
    the vendor's app is a :class:`VendorApp` serving that table."""
    vendor = urls.__name__.rsplit(".", 1)[0]
    for method, pattern, handler in urls.URLS:
        assert pattern.startswith("/"), pattern
        assert method in {"GET", "HEAD", "POST", "PUT", "DELETE"}, method
        assert inspect.iscoroutinefunction(handler), handler
        assert f"{vendor}.responses" == handler.__module__, handler
    apps = [
        value
        for value in vars(urls).values()
        if isinstance(value, type) and issubclass(value, VendorApp) and value is not VendorApp
    ]
    assert 1 == len(apps)
    assert urls.URLS is apps[0].urls
    assert issubclass(apps[0].errors, ErrorFormat)


def test_an_error_keeps_its_own_headers():
    error = EmulatorError("x", headers={"Retry-After": "1"})
    assert ({"Retry-After": "1"}, 400) == (error.headers, error.status)
