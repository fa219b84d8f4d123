"""R4: bad input is a typed `BatchkitError` with a message, raised before any request.

Hypothesis drives the public API with arbitrary file names, batch names and ids, priorities,
sizes, byte ranges and configuration (bytes or TOML as `batchkit.toml`, provider names,
tokens, settings of the wrong type) through a recording `httpx.MockTransport`: whatever is
refused is refused with a `BatchkitError` (never a raw httpx / cattrs / tomllib / TypeError /
KeyError) and with no request sent. The emulator's Scale API, fuzzed from the HTTP side, never
answers with a 5xx (AI Hub's fuzz test is in tests/emulator/test_aihub_batches.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import platformdirs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batchkit
from batchkit import BatchkitError, ConfigError, InvalidInput
from batchkit.emulator import Emulator
from tests.recorder import Recorder

AIHUB_ROOT = "https://aihub.test/api"
SCALE_ROOT = "https://api.scale.test/v1"
AIHUB_BATCH = {"id": 7, "name": "b", "workspace": "ws"}
SCALE_BATCH = {"name": "b", "project": "p", "status": "staging"}

FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _accept_anything(request: httpx.Request) -> httpx.Response:
    """Answer like a vendor that accepts anything (so only batchkit can refuse input)."""
    if request.method == "PUT":
        return httpx.Response(204)
    if request.url.host == "aihub.test":
        return httpx.Response(200, json=AIHUB_BATCH)
    return httpx.Response(200, json=SCALE_BATCH)


REC = Recorder(_accept_anything)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No batchkit.toml, profile or vendor variable of the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("BATCHKIT_", "AIHUB_", "SCALE_")):
            monkeypatch.delenv(name)
    user_dir = tmp_path / "user-config"
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda *a, **k: str(user_dir))
    monkeypatch.chdir(tmp_path)
    REC.clear()


@pytest.fixture(scope="module")
def aihub() -> Iterator[batchkit.BatchProvider]:
    with batchkit.connect(
        "aihub", api_root=AIHUB_ROOT, token="t", transport=REC.transport
    ) as provider:
        yield provider


@pytest.fixture(scope="module")
def scale() -> Iterator[batchkit.BatchProvider]:
    with batchkit.connect(
        "scale", api_root=SCALE_ROOT, api_key="k", transport=REC.transport
    ) as provider:
        yield provider


def refused(call: Callable[[], object], kind: type[BatchkitError] = BatchkitError) -> BatchkitError:
    """`call` raises `kind` (a BatchkitError) with a message, and sent no request."""
    REC.clear()
    error: BatchkitError | None = None
    try:
        call()
    except BatchkitError as e:
        error = e
    except Exception as e:  # a raw httpx / cattrs / tomllib / TypeError / KeyError
        pytest.fail(f"raw {type(e).__module__}.{type(e).__name__} escaped: {e!r}")
    if error is None:
        pytest.fail("the bad input was accepted")
    assert isinstance(error, kind), f"{type(error).__name__}: {error}"
    assert str(error).strip()
    assert [] == REC.requests
    return error


def refused_or_sent(call: Callable[[], object], requests: int = 1) -> bool:
    """Either refused locally (InvalidInput, message, no request) or sent as `requests` requests."""
    REC.clear()
    message: str | None = None
    try:
        call()
    except InvalidInput as e:
        message = str(e)
    except Exception as e:
        pytest.fail(f"{type(e).__module__}.{type(e).__name__} escaped: {e!r}")
    if message is not None:
        assert message.strip()
        assert [] == REC.requests
        return False
    assert requests == len(REC.requests)
    return True


#: anything that is not a string: a name or id of the wrong type
NOT_TEXT = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
#: anything that is not an int (bools are not ints here)
NOT_INT = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(),
    st.text(max_size=5),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=2),
)


# -- file names ---------------------------------------------------------------------------


@FAST
@given(name=NOT_TEXT)
def test_file_names_that_are_not_strings_are_refused_by_every_file_operation(
    aihub: batchkit.BatchProvider, name: Any
) -> None:
    """upload_file, delete_file and download_file refuse a non-str name with no request."""
    refused(lambda: aihub.upload_file("7", name, b"data"), InvalidInput)
    refused(lambda: aihub.delete_file("7", name), InvalidInput)
    refused(lambda: aihub.download_file("7", name), InvalidInput)


@FAST
@given(name=st.text(max_size=300))
def test_any_text_file_name_is_refused_locally_or_uploaded_under_that_name(
    aihub: batchkit.BatchProvider, name: str
) -> None:
    """An arbitrary name is refused before any request, or sent as exactly one PUT of it."""
    if refused_or_sent(lambda: aihub.upload_file("7", name, b"data")):
        assert name == httpx.URL(str(REC.requests[0].url)).path.rsplit("/", 1)[1]


@FAST
@given(
    stem=st.text(max_size=10),
    bad=st.sampled_from(["/", "\\", "..", "\x00", "\n", "\x7f", "\x1b"]),
    tail=st.text(max_size=10),
)
def test_file_names_with_separators_dot_dot_or_controls_are_refused_everywhere(
    aihub: batchkit.BatchProvider, stem: str, bad: str, tail: str
) -> None:
    """A name with a path separator, `..` or a control character never reaches the vendor."""
    name = f"{stem}{bad}{tail}.pdf"
    refused(lambda: aihub.upload_file("7", name, b"data"), InvalidInput)
    refused(lambda: aihub.delete_file("7", name), InvalidInput)
    refused(lambda: aihub.download_file("7", name), InvalidInput)


# -- batch names and ids ------------------------------------------------------------------


@FAST
@given(name=NOT_TEXT)
def test_batch_names_that_are_not_strings_are_refused_by_both_providers(
    aihub: batchkit.BatchProvider, scale: batchkit.BatchProvider, name: Any
) -> None:
    """create_batch(<not a str>) is InvalidInput at AI Hub and Scale, with no request."""
    refused(lambda: aihub.create_batch(name), InvalidInput)
    refused(lambda: scale.create_batch(name, project="p"), InvalidInput)


@FAST
@given(name=st.text(max_size=300))
def test_any_text_batch_name_is_refused_locally_or_created_with_one_request(
    scale: batchkit.BatchProvider, name: str
) -> None:
    """Scale create_batch with an arbitrary name: InvalidInput and no request, or one POST."""
    if refused_or_sent(lambda: scale.create_batch(name, project="p")):
        assert {"project": "p", "name": name} == json.loads(REC.requests[0].content)


@FAST
@given(batch=st.one_of(NOT_TEXT, st.text(max_size=12)))
def test_any_aihub_batch_reference_is_refused_locally_or_fetched_once(
    aihub: batchkit.BatchProvider, batch: Any
) -> None:
    """get_batch with an arbitrary id: refused with no request unless it is an integer id."""
    if refused_or_sent(lambda: aihub.get_batch(batch)):
        assert isinstance(batch, int | str)
        assert str(batch).isascii()
        assert str(batch).isdigit()


@FAST
@given(batch=st.one_of(NOT_TEXT.filter(lambda v: not isinstance(v, int)), st.just("")))
def test_scale_batch_references_of_the_wrong_type_are_refused(
    scale: batchkit.BatchProvider, batch: Any
) -> None:
    """get_batch / status / finalize / prioritize with a non-name batch send nothing."""
    refused(lambda: scale.get_batch(batch), InvalidInput)
    refused(lambda: scale.status(batch), InvalidInput)
    refused(lambda: scale.finalize(batch), InvalidInput)
    refused(lambda: scale.prioritize(batch, 20), InvalidInput)


# -- priorities, sizes, byte ranges ---------------------------------------------------------


@FAST
@given(priority=st.one_of(NOT_INT, st.integers().filter(lambda v: not 10 <= v <= 30)))
def test_priorities_other_than_ints_from_10_to_30_are_refused(
    scale: batchkit.BatchProvider, priority: Any
) -> None:
    """prioritize(batch, <anything but 10..30>) is InvalidInput with no request."""
    error = refused(lambda: scale.prioritize("b", priority), InvalidInput)
    assert "10" in str(error)


@FAST
@given(data=st.binary(max_size=64), size=st.integers())
def test_upload_file_with_a_size_that_is_not_the_datas_is_refused(
    aihub: batchkit.BatchProvider, data: bytes, size: int
) -> None:
    """upload_file(..., size=n) with n != len(data) is InvalidInput; the right n is sent."""
    if size == len(data):
        assert refused_or_sent(lambda: aihub.upload_file("7", "a.pdf", data, size=size))
    else:
        error = refused(lambda: aihub.upload_file("7", "a.pdf", data, size=size), InvalidInput)
        assert str(size) in str(error)


@FAST
@given(size=NOT_INT.filter(lambda v: v is not None and v != 1))
def test_upload_file_with_a_size_of_the_wrong_type_is_refused(
    aihub: batchkit.BatchProvider, size: Any
) -> None:
    """size= must be an int: a bool, float, str, bytes or list is InvalidInput, no request."""
    refused(lambda: aihub.upload_file("7", "a.pdf", b"x", size=size), InvalidInput)


@pytest.mark.parametrize("size", [True, 1.0])
def test_upload_file_size_equal_to_the_length_but_not_an_int_is_refused(
    aihub: batchkit.BatchProvider, size: Any
) -> None:
    """size=True or size=1.0 for one byte is a wrong type, refused like size="1" is."""
    refused(lambda: aihub.upload_file("7", "a.pdf", b"x", size=size), InvalidInput)


_BAD_RANGES = st.one_of(
    st.tuples(st.integers(max_value=-1), st.none() | st.integers()),
    st.integers(min_value=1).flatmap(
        lambda start: st.tuples(st.just(start), st.integers(max_value=start - 1))
    ),
    st.tuples(NOT_INT, st.none() | st.integers(min_value=0)),
    st.tuples(st.integers(min_value=0), NOT_INT.filter(lambda v: v is not None)),
)


@FAST
@given(bounds=_BAD_RANGES)
def test_bad_byte_ranges_are_refused_before_any_request(
    aihub: Any, bounds: tuple[Any, Any]
) -> None:
    """Negative starts, ends before starts and non-int bounds: InvalidInput, nothing sent."""
    start, end = bounds
    refused(lambda: aihub.download_file("7", "a.pdf", start=start, end=end), InvalidInput)
    refused(lambda: aihub.fs_read("/me/ws/fs/drive/a.pdf", start=start, end=end), InvalidInput)


# -- configuration --------------------------------------------------------------------------


@FAST
@given(content=st.text(max_size=200))
def test_arbitrary_text_as_batchkit_toml_is_a_config_error(content: str) -> None:
    """Whatever text the config file holds, connect() raises ConfigError and sends nothing."""
    Path("batchkit.toml").write_text(content, encoding="utf-8")
    refused(lambda: batchkit.connect(transport=REC.transport), ConfigError)
    refused(lambda: batchkit.connect(profile="p", transport=REC.transport), ConfigError)


@pytest.mark.parametrize(
    "content", [b"\x80", b"\xff\xfe[profiles.p]\n", 'x = "caf\u00e9"\n'.encode("latin-1")]
)
def test_a_batchkit_toml_that_is_not_utf8_is_a_config_error(content: bytes) -> None:
    """Bytes that are not UTF-8 are a ConfigError naming the file, not a UnicodeDecodeError."""
    Path("batchkit.toml").write_bytes(content)
    error = refused(lambda: batchkit.connect(profile="p", transport=REC.transport), ConfigError)
    assert "batchkit.toml" in str(error)


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if value == value and abs(value) != float("inf") else "nan"
    if isinstance(value, str):
        return _toml_string(value)
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


_TOML_SCALARS = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=12),
)
_TOML_VALUES = _TOML_SCALARS | st.lists(_TOML_SCALARS, max_size=3)
_SETTING_KEYS = st.sampled_from(
    [
        "provider",
        "api_root",
        "token",
        "token_env",
        "api_key",
        "api_key_env",
        "ib_context",
        "timeout",
        "retry_attempts",
        "retry_wait_initial",
        "retry_wait_max",
        "retry_timeout",
        "allow_insecure_http",
        "max_connections",
        "multipart_threshold",
        "part_concurrency",
        "poll_initial",
        "poll_max",
        "transport",
        "timout",
        "x",
    ]
)


@FAST
@given(
    default=st.none() | st.sampled_from(["p", "q"]) | st.text(max_size=5),
    table=st.dictionaries(_SETTING_KEYS, _TOML_VALUES, max_size=6),
)
def test_any_profile_in_batchkit_toml_connects_or_is_a_batchkit_error(
    default: str | None, table: dict[str, Any]
) -> None:
    """A profile of arbitrary keys and values: a provider, or a BatchkitError; never a request.

    (A `default_profile` that is not a string is covered by its own regression test.)
    """
    lines = [f"default_profile = {_toml_string(default)}"] if default is not None else []
    lines.append("[profiles.p]")
    lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()]
    Path("batchkit.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.environ["TOKEN_VAR"] = "from-env"
    try:
        REC.clear()
        message = None
        try:
            batchkit.connect(profile="p", transport=REC.transport).close()
        except BatchkitError as e:
            message = str(e)
        except Exception as e:
            pytest.fail(f"raw {type(e).__module__}.{type(e).__name__} escaped: {e!r}")
        if message is None:
            assert table.get("provider") in batchkit.provider_names()
        else:
            assert message.strip()
        assert [] == REC.requests
    finally:
        del os.environ["TOKEN_VAR"]


@pytest.mark.parametrize("default", ["[1]", "{ a = 1 }", "1", "true", "1979-05-27"])
def test_a_default_profile_that_is_not_a_string_is_a_config_error(default: str) -> None:
    """`default_profile = [1]` (a table, number, bool, date) is a ConfigError, not TypeError."""
    Path("batchkit.toml").write_text(
        f'default_profile = {default}\n[profiles.1]\nprovider = "aihub"\ntoken = "t"\n'
    )
    error = refused(lambda: batchkit.connect(transport=REC.transport), ConfigError)
    assert "default_profile" in str(error)


@FAST
@given(name=st.text(max_size=20).filter(lambda n: n not in ("aihub", "scale")))
def test_unknown_provider_names_are_a_config_error_wherever_they_come_from(name: str) -> None:
    """An unknown provider, as an argument, in BATCHKIT_PROVIDER or in a profile: ConfigError."""
    refused(lambda: batchkit.connect(name or None, token="t", transport=REC.transport), ConfigError)
    Path("batchkit.toml").write_text(f"[profiles.p]\nprovider = {_toml_string(name)}\n")
    refused(lambda: batchkit.connect(profile="p", token="t", transport=REC.transport), ConfigError)
    if name and "\x00" not in name:
        os.environ["BATCHKIT_PROVIDER"] = name
        try:
            refused(lambda: batchkit.connect(token="t", transport=REC.transport), ConfigError)
        finally:
            del os.environ["BATCHKIT_PROVIDER"]


@pytest.mark.parametrize(("provider", "secret"), [("aihub", "token"), ("scale", "api_key")])
@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_or_empty_credential_is_a_config_error(
    provider: str, secret: str, value: str | None
) -> None:
    """No token / API key (absent, None or empty) is a ConfigError before any request."""
    refused(lambda: batchkit.connect(provider, transport=REC.transport), ConfigError)
    refused(
        lambda: batchkit.connect(provider, transport=REC.transport, **{secret: value}), ConfigError
    )


def _not_a_number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True
    return False


_NUMERIC_SETTINGS = st.sampled_from(
    [
        "timeout",
        "retry_attempts",
        "retry_wait_initial",
        "retry_wait_max",
        "retry_timeout",
        "max_connections",
        "multipart_threshold",
        "part_concurrency",
        "poll_initial",
        "poll_max",
    ]
)


@FAST
@given(
    setting=_NUMERIC_SETTINGS,
    value=st.one_of(
        st.booleans(),
        st.none(),
        st.text(max_size=8).filter(_not_a_number),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
        st.binary(max_size=4).filter(_not_a_number),
    ),
)
def test_numeric_settings_of_the_wrong_type_are_a_config_error(setting: str, value: Any) -> None:
    """timeout="abc", retry_attempts=True, max_connections=[1] ...: ConfigError, no request."""
    error = refused(
        lambda: batchkit.connect("aihub", token="t", transport=REC.transport, **{setting: value}),
        ConfigError,
    )
    assert setting in str(error)


@FAST
@given(
    setting=st.sampled_from(["allow_insecure_http"]),
    value=st.one_of(
        st.integers().filter(lambda v: v not in (0, 1)),
        st.floats(),
        st.none(),
        st.text(max_size=8).filter(
            lambda s: s.strip().lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}
        ),
    ),
)
def test_boolean_settings_of_the_wrong_type_are_a_config_error(setting: str, value: Any) -> None:
    """allow_insecure_http="maybe" (or 7, or None) is a ConfigError, not silently truthy."""
    refused(
        lambda: batchkit.connect("scale", api_key="k", transport=REC.transport, **{setting: value}),
        ConfigError,
    )


@pytest.mark.parametrize(
    ("setting", "value"),
    [("token", 123), ("token", True), ("ib_context", [1, 2]), ("ib_context", 5), ("api_root", 443)],
)
def test_string_settings_of_another_type_are_a_config_error(setting: str, value: Any) -> None:
    """token=123 or ib_context=[1, 2] is refused, not turned into "123" / "[1, 2]" and sent."""
    kw: dict[str, Any] = {"token": "t", setting: value}
    refused(lambda: batchkit.connect("aihub", transport=REC.transport, **kw), ConfigError)


@pytest.mark.parametrize(("setting", "value"), [("retry_attempts", 1.5), ("max_connections", 2.7)])
def test_integer_settings_given_a_fraction_are_a_config_error(setting: str, value: float) -> None:
    """retry_attempts=1.5 is refused, not silently truncated to 1."""
    refused(
        lambda: batchkit.connect("aihub", token="t", transport=REC.transport, **{setting: value}),
        ConfigError,
    )


@pytest.mark.parametrize(
    ("setting", "value"),
    [("timeout", -1), ("max_connections", 0), ("poll_initial", -1.0)],
)
def test_settings_out_of_range_are_a_config_error_at_connect(setting: str, value: Any) -> None:
    """timeout=-1 and poll_initial=-1 (raw ValueErrors later) or max_connections=0 (a request
    that waits forever for a pooled connection) are refused by connect()."""
    refused(
        lambda: batchkit.connect("aihub", token="t", transport=REC.transport, **{setting: value}),
        ConfigError,
    )


# -- the Scale emulator from the HTTP side --------------------------------------------------


@pytest.fixture(scope="module")
def scale_http() -> Iterator[httpx.Client]:
    """An in-process emulator with one project and batch of the key `fuzz`."""
    with (
        Emulator(job_polls=0) as emu,
        httpx.Client(transport=emu.transport(), base_url=emu.url, timeout=10) as client,
    ):
        auth = httpx.BasicAuth("fuzz", "")
        for path, body in (
            ("/v1/projects", {"name": "proj", "type": "imageannotation"}),
            ("/v1/batches", {"name": "b1", "project": "proj"}),
        ):
            assert 200 == client.post(path, json=body, auth=auth).status_code
        yield client


_SEGMENTS = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "batches",
                "projects",
                "b1",
                "proj",
                "finalize",
                "status",
                "setMetadata",
                "prioritize",
                "tasks",
                "complete",
                "archive",
                "",
                ".",
                "..",
                "%2E%2E",
                "%2F",
                "%",
                "%ZZ",
                "%FF",
                "%C3%28",
                "%00",
                "b1%2Fx",
            ]
        ),
        st.text(max_size=8).map(lambda s: quote(s, safe="")),
    ),
    max_size=4,
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda kids: (
        st.lists(kids, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "project",
                    "type",
                    "params",
                    "priority",
                    "metadata",
                    "callback",
                    "calibration_batch",
                    "self_label_batch",
                    "count",
                    "outcome",
                    "archived",
                    "batchName",
                ]
            )
            | st.text(max_size=4),
            kids,
            max_size=4,
        )
    ),
    max_leaves=8,
)
_QUERY = st.one_of(
    st.dictionaries(
        st.sampled_from(
            [
                "limit",
                "offset",
                "project",
                "status",
                "start_time",
                "end_time",
                "detailed",
                "exclude_archived",
            ]
        ),
        st.one_of(
            st.text(max_size=10),
            st.integers().map(str),
            st.sampled_from(["2024-01-01", "2024-01-01T00:00:00Z", "9999-99-99", "true", "-1"]),
        ),
        max_size=3,
    ).map(urlencode),
    st.text(max_size=12).map(lambda s: quote(s, safe="=&%+")),
)


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    prefix=st.sampled_from(["/v1", "/v1/batches", "/v1/batches/b1", "/_emulator/scale/batches"]),
    segments=_SEGMENTS,
    query=_QUERY,
    body=st.one_of(_JSON.map(lambda v: json.dumps(v).encode()), st.binary(max_size=40)),
    key=st.sampled_from(["fuzz", "other", None]),
)
def test_the_scale_emulator_never_answers_a_malformed_request_with_a_5xx(
    scale_http: httpx.Client,
    method: str,
    prefix: str,
    segments: list[str],
    query: str,
    body: bytes,
    key: str | None,
) -> None:
    """Random methods, paths, queries and JSON or garbage bodies get a 2xx-4xx JSON answer."""
    path = "/".join([prefix, *segments])
    url = httpx.URL(str(scale_http.base_url).rstrip("/") + path).copy_with(query=query.encode())
    auth = httpx.BasicAuth(key, "") if key is not None else None
    response = scale_http.request(method, url, content=body, auth=auth)
    assert response.status_code < 500, (method, path, query, body, response.text)
    if response.status_code >= 400 and method != "HEAD":
        # Scale's errors are {"error"}; a path outside /v1/... gets the router's {"message"}
        document = response.json()
        assert isinstance(document.get("error", document.get("message")), str), document
