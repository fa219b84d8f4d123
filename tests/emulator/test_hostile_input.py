"""Hostile header and query values: numbers of thousands of digits, credentials that are not
ASCII or not base64. Each once made the emulator answer 500; each is now the 4xx the same
mistake gets in a small form (400 malformed, 401 bad credentials, 416 unsatisfiable range)."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchkit.emulator import Emulator

TOKEN = "hostile"
AIHUB = {"Authorization": f"Bearer {TOKEN}"}
SCALE = httpx.BasicAuth(TOKEN, "")
FILE = {"expect-node-type": "file"}
CONTENT = b"hello"
HUGE = "9" * 5_000  # int() refuses more than 4300 digits
#: no error message quotes a hostile value whole
MAX_MESSAGE = 1_000


class Wire:
    """An in-process emulator with one AI Hub batch holding ``a.txt`` (``hello``)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        created = client.post("/api/v2/batches", json={"name": "b"}, headers=AIHUB)
        self.batch_id = int(created.json()["id"])
        uploaded = client.put(
            f"/api/v2/batches/{self.batch_id}/files/a.txt", content=CONTENT, headers=AIHUB
        )
        assert 204 == uploaded.status_code
        batch = client.get(f"/api/v2/batches/{self.batch_id}", headers=AIHUB).json()
        path = (
            f"/{batch['repo_owner']}/{batch['workspace']}/fs/{batch['mount_point']}/"
            f"{batch['path_suffix']}/a.txt"
        )
        self.file_url = "/api/v2/files/" + quote(path, safe="")
        client.post("/v1/projects", json={"name": "proj", "type": "t"}, auth=SCALE)

    def read(self, **headers: Any) -> httpx.Response:
        return self.client.get(self.file_url, params=FILE, headers={**AIHUB, **headers})

    def head(self, **headers: Any) -> httpx.Response:
        return self.client.head(self.file_url, headers={**AIHUB, **headers})


@pytest.fixture(scope="module")
def wire() -> Iterator[Wire]:
    with (
        Emulator(job_polls=0) as emu,
        httpx.Client(transport=emu.transport(), base_url=emu.url) as client,
    ):
        yield Wire(client)


def assert_refused(response: httpx.Response, status: int, key: str = "message") -> str:
    """The response is `status` with a short JSON error message; the message."""
    assert status == response.status_code, response.text
    message = response.json()[key]
    assert isinstance(message, str)
    assert len(message) < MAX_MESSAGE
    return message


# -- Range ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [f"bytes={HUGE}-", f"bytes=99999999999999999999-{HUGE}", "bytes=1" + "0" * 30 + "-"],
    ids=["huge-start", "huge-start-and-end", "start-past-64-bits"],
)
def test_a_range_starting_at_a_number_of_thousands_of_digits_is_416(
    wire: Wire, header: str
) -> None:
    """A well-formed range whose start is past any file is unsatisfiable, whatever its length
    in digits: 416 with ``Content-Range: bytes */<size>``."""
    response = wire.read(Range=header)
    assert_refused(response, 416)
    assert f"bytes */{len(CONTENT)}" == response.headers["content-range"]


@pytest.mark.parametrize(
    ("header", "body", "content_range"),
    [
        (f"bytes=0-{HUGE}", b"hello", "bytes 0-4/5"),
        (f"bytes=1-{'0' * 5_000}9", b"ello", "bytes 1-4/5"),
        (f"bytes={'0' * 5_000}3-", b"lo", "bytes 3-4/5"),
    ],
    ids=["huge-end", "zero-padded-end", "zero-padded-start"],
)
def test_a_range_with_thousands_of_digits_that_fits_the_file_is_206(
    wire: Wire, header: str, body: bytes, content_range: str
) -> None:
    """A huge last byte is clamped to the file's end and leading zeros are free, as for any
    range: 206 with the slice."""
    response = wire.read(Range=header)
    assert (206, body, content_range) == (
        response.status_code,
        response.content,
        response.headers["content-range"],
    )


def test_a_range_ending_before_its_huge_start_is_400(wire: Wire) -> None:
    """``bytes=<5000 digits>-1`` ends before it starts: 400, like ``bytes=5-2``."""
    message = assert_refused(wire.read(Range=f"bytes={HUGE}-1"), 400)
    assert "ends before it starts" in message


# -- IB-Retry-Config -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        f"{{retries:{HUGE},backoff-seconds:1}}",
        f'{{"retries": 2, "backoff-seconds": {HUGE}}}',
        "{retries:1" + "0" * 18 + ",backoff-seconds:1}",
    ],
    ids=["huge-retries", "huge-backoff", "past-18-digits"],
)
def test_an_ib_retry_config_with_a_huge_number_is_400(wire: Wire, value: str) -> None:
    """Retries or backoff seconds of thousands of digits (or past 18) are a 400 on GET and
    HEAD, and the message does not repeat the whole header."""
    message = assert_refused(wire.read(**{"IB-Retry-Config": value}), 400)
    assert "IB-Retry-Config" in message
    assert 400 == wire.head(**{"IB-Retry-Config": value}).status_code


# -- credentials ---------------------------------------------------------------------------


def basic(raw: bytes) -> dict[str, bytes]:
    """An ``Authorization: Basic`` header carrying `raw` base64-encoded."""
    return {"Authorization": b"Basic " + base64.b64encode(raw)}


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": b"Basic \xe9\xe9=="},
        {"Authorization": b"Basic " + base64.b64encode(b"key:") + b"\xe9"},
        basic("k\u00e9y:".encode()),
        basic("k\u00e9y:".encode("latin-1")),
        basic(b"\xff\xfe:"),
        basic(b"k\x00y:"),
        {"Authorization": b"Basic a2V5Og"},  # unpadded
        {"Authorization": b"Basic !!!!"},
    ],
    ids=[
        "latin-1-header",
        "non-ascii-after-base64",
        "utf-8-key",
        "latin-1-key",
        "not-utf-8",
        "control-character",
        "bad-padding",
        "not-base64",
    ],
)
def test_scale_basic_credentials_that_are_not_an_ascii_key_are_401(
    wire: Wire, headers: dict[str, Any]
) -> None:
    """A Basic header with non-ASCII bytes, invalid base64, or a user name that is not
    visible ASCII (non-UTF-8, non-ASCII, control characters) is a 401 JSON error."""
    response = wire.client.get("/v1/batches", headers=headers)
    assert_refused(response, 401, key="error")
    assert "Basic" in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "header", [b"Bearer \xff\xfe", "Bearer tok\u00e9n".encode(), b"Bearer t\x01k"]
)
def test_aihub_bearer_tokens_that_are_not_visible_ascii_are_401(wire: Wire, header: bytes) -> None:
    """Tokens with non-ASCII bytes or control characters are a 401, as a malformed header."""
    response = wire.client.get("/api/v2/batches", headers={b"Authorization": header})
    assert_refused(response, 401)


# -- numbers in queries, paths and JSON bodies ---------------------------------------------


@pytest.mark.parametrize("param", ["limit", "offset"])
@pytest.mark.parametrize("value", [HUGE, "1" + "0" * 18])
def test_aihub_list_batches_refuses_a_huge_limit_or_offset(
    wire: Wire, param: str, value: str
) -> None:
    """A limit or offset past 18 digits is a 400 naming the parameter, the value cut short."""
    message = assert_refused(
        wire.client.get("/api/v2/batches", params={param: value}, headers=AIHUB), 400
    )
    assert param in message


def test_aihub_list_files_refuses_a_huge_page_size(wire: Wire) -> None:
    """A page_size of thousands of digits is a 400 naming the parameter."""
    response = wire.client.get(
        f"/api/v2/batches/{wire.batch_id}/files", params={"page_size": HUGE}, headers=AIHUB
    )
    assert "page_size" in assert_refused(response, 400)


def test_a_batch_id_of_thousands_of_digits_is_an_unknown_batch(wire: Wire) -> None:
    """404 like any batch that does not exist, with the id cut short in the message."""
    assert_refused(wire.client.get(f"/api/v2/batches/{HUGE}", headers=AIHUB), 404)


def test_a_part_number_of_thousands_of_digits_is_400(wire: Wire) -> None:
    """A multipart part number of thousands of digits in the path is a 400."""
    response = wire.client.put(
        f"/api/v2/batches/multipart-upload/sessions/nosuch/parts/{HUGE}",
        content=b"x",
        headers=AIHUB,
    )
    assert_refused(response, 400)


@pytest.mark.parametrize(
    "body",
    [
        {"batch_id": HUGE, "filename": "h.bin", "file_size": 1},
        {"batch_id": int("9" * 4_000), "filename": "h.bin", "file_size": 1},
        {"batch_id": 1, "filename": "h.bin", "file_size": -int("9" * 4_000)},
    ],
    ids=["string-id", "integer-id", "negative-size"],
)
def test_aihub_json_integers_of_thousands_of_digits_are_400(
    wire: Wire, body: dict[str, Any]
) -> None:
    """JSON integers (up to 4300 digits parse) past 18 digits are a 400 naming the field."""
    response = wire.client.post("/api/v2/batches/multipart-upload", json=body, headers=AIHUB)
    assert "must be an integer" in assert_refused(response, 400)


@pytest.mark.parametrize("param", ["limit", "offset"])
def test_scale_list_refuses_a_huge_limit_or_offset_with_a_short_message(
    wire: Wire, param: str
) -> None:
    """Scale's limit or offset of thousands of digits is a 400 that does not repeat it whole."""
    response = wire.client.get("/v1/batches", params={param: HUGE}, auth=SCALE)
    assert param in assert_refused(response, 400, key="error")


# -- anything at all in these headers and queries ------------------------------------------

_NUMBERS = st.one_of(
    st.from_regex(r"[0-9]{1,25}", fullmatch=True),
    st.integers(min_value=4_000, max_value=6_000).map(lambda n: "9" * n),
    st.integers(min_value=4_000, max_value=6_000).map(lambda n: "0" * n + "7"),
    st.sampled_from(["", "-1", "+1", "1_0", "\u00b2", "\u0663", " 1 ", "1e3", "0x1"]),
)
_RANGES = st.one_of(
    st.builds(lambda a, b: f"bytes={a}-{b}", _NUMBERS, _NUMBERS | st.just("")),
    st.builds(lambda a: f"bytes=-{a}", _NUMBERS),
    st.text(max_size=30),
)
_RETRY_CONFIGS = st.one_of(
    st.builds(lambda a, b: f"{{retries:{a},backoff-seconds:{b}}}", _NUMBERS, _NUMBERS),
    st.builds(lambda a, b: f'{{"retries": {a}, "backoff-seconds": {b}}}', _NUMBERS, _NUMBERS),
    st.text(max_size=30),
)
#: header bytes as a client could send them: anything but CR, LF and NUL
_HEADER_BYTES = st.binary(max_size=40).map(
    lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
)
_BASIC = st.one_of(
    _HEADER_BYTES.map(lambda raw: b"Basic " + base64.b64encode(raw)),
    _HEADER_BYTES.map(lambda raw: b"Basic " + raw),
    _HEADER_BYTES,
)
_BEARER = st.one_of(_HEADER_BYTES.map(lambda raw: b"Bearer " + raw), _HEADER_BYTES)


@settings(max_examples=150, deadline=None)
@given(range_=st.none() | _RANGES, retry=st.none() | _RETRY_CONFIGS, head=st.booleans())
def test_no_range_or_retry_config_header_causes_a_server_error(
    wire: Wire, range_: str | None, retry: str | None, head: bool
) -> None:
    """Random, malformed and enormous ``Range`` / ``IB-Retry-Config`` values on a file read
    or HEAD are answered below 500."""
    headers: dict[str, str] = {}
    if range_ is not None:
        headers["Range"] = range_
    if retry is not None:
        headers["IB-Retry-Config"] = retry
    sent = {k: v.encode("utf-8") for k, v in headers.items()}
    response = wire.head(**sent) if head else wire.read(**sent)
    assert response.status_code < 500, (headers, response.text)
    if response.status_code >= 400 and not head:
        assert len(response.json()["message"]) < MAX_MESSAGE


@settings(max_examples=150, deadline=None)
@given(scale=_BASIC, aihub=_BEARER)
def test_no_authorization_header_causes_a_server_error(
    wire: Wire, scale: bytes, aihub: bytes
) -> None:
    """Random ``Authorization`` bytes get 2xx or 401 from both vendors, never a 5xx."""
    scale_response = wire.client.get("/v1/batches", headers={b"Authorization": scale})
    aihub_response = wire.client.get("/api/v2/batches", headers={b"Authorization": aihub})
    assert scale_response.status_code in (200, 401), scale_response.text
    assert aihub_response.status_code in (200, 401), aihub_response.text


@settings(max_examples=150, deadline=None)
@given(
    target=st.sampled_from(
        [
            ("aihub", "/api/v2/batches", "limit"),
            ("aihub", "/api/v2/batches", "offset"),
            ("aihub", "/api/v2/batches/{batch}/files", "page_size"),
            ("scale", "/v1/batches", "limit"),
            ("scale", "/v1/batches", "offset"),
        ]
    ),
    value=_NUMBERS | st.text(max_size=20),
)
def test_no_number_in_a_query_causes_a_server_error(
    wire: Wire, target: tuple[str, str, str], value: str
) -> None:
    """Random, malformed and enormous numeric query parameters are answered below 500."""
    vendor, path, param = target
    path = path.replace("{batch}", str(wire.batch_id))
    if vendor == "aihub":
        response = wire.client.get(path, params={param: value}, headers=AIHUB)
    else:
        response = wire.client.get(path, params={param: value}, auth=SCALE)
    assert response.status_code < 500, (path, param, value, response.text)


def test_scale_priority_of_thousands_of_digits_is_400_with_a_short_message(wire: Wire) -> None:
    """A JSON integer of 4000 digits (JSON parses up to 4300) is a 400 naming its length."""
    wire.client.post("/v1/batches", json={"project": "proj", "name": "p"}, auth=SCALE)
    body = b'{"priority": ' + b"9" * 4_000 + b"}"
    response = wire.client.post("/v1/batches/p/prioritize", content=body, auth=SCALE)
    assert "4000-digit" in assert_refused(response, 400, key="error")
