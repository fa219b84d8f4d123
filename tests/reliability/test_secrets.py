"""R5: credentials never leak (logs, errors, reprs, CLI output, other hosts); tenants stay apart."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import batchkit
from batchkit import BatchkitError, ConfigError, NotFound
from batchkit._call import Call
from batchkit.emulator import Emulator, Fault, Faults
from batchkit.providers.aihub import _protocol as aihub_wire

TOKEN = "tok-R5-secret-0123456789"
#: every form the credential could leak in: itself, AI Hub's header, Scale's Basic forms
SECRETS = (
    TOKEN,
    base64.b64encode(f"{TOKEN}:".encode()).decode(),
    base64.b64encode(TOKEN.encode()).decode(),
)


def assert_clean(text: str) -> None:
    """No form of the credential appears in `text`."""
    for secret in SECRETS:
        assert secret not in text


def error_text(error: BaseException) -> str:
    """Everything an exception shows: str, repr, args and the formatted traceback."""
    return "\n".join(
        [str(error), repr(error), repr(error.args), *traceback.format_exception(error)]
    )


def capture(errors: list[BaseException], call: Callable[[], object]) -> None:
    """Run `call`, which must fail with a BatchkitError; keep the error."""
    with pytest.raises(BatchkitError) as info:
        call()
    errors.append(info.value)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No batchkit settings of the machine leak in; a private working directory."""
    for name in list(os.environ):
        if name.startswith(("BATCHKIT_", "AIHUB_", "SCALE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def emulators() -> Iterator[tuple[Emulator, Emulator]]:
    """An emulator accepting any token, and one accepting only "other" (so TOKEN gets 401s)."""
    with Emulator(job_polls=1).serve() as open_emu, Emulator(tokens={"other"}).serve() as closed:
        yield open_emu, closed


# -- logs, errors, reprs ------------------------------------------------------------------


def test_a_run_with_retries_404s_and_401s_leaves_no_token_in_logs_errors_or_reprs(
    emulators: tuple[Emulator, Emulator], caplog: pytest.LogCaptureFixture, clean_env: None
) -> None:
    """DEBUG logs of every logger, every error and every repr are free of the token."""
    emu, closed = emulators
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    hub = batchkit.connect("aihub", api_root=emu.aihub_api_root, token=TOKEN, poll_initial=0.0)
    scale = batchkit.connect("scale", api_root=emu.scale_api_root, api_key=TOKEN)

    emu.faults = Faults(rules=[Fault.status(503, times=2), Fault.rate_limit(times=1)])
    batch = hub.create_batch("r5")  # a 503 refusal, retried
    hub.upload_file(batch, "a.pdf", b"%PDF-1.7 secret-free")
    scale.create_project("r5", type="imageannotation")  # type: ignore[attr-defined]
    emu.faults = None
    assert [f.name for f in hub.list_files(batch)] == ["a.pdf"]
    assert b"%PDF-1.7 secret-free" == hub.download_file(batch, "a.pdf", start=0)
    scale.create_batch("r5-batch", project="r5")
    scale.prioritize("r5-batch", 20)
    capture(errors, lambda: hub.get_batch("999999"))
    capture(errors, lambda: hub.delete_file(batch, "missing.pdf"))
    capture(errors, lambda: hub.download_file(batch, "missing.pdf"))
    capture(errors, lambda: scale.get_batch("missing"))
    capture(errors, lambda: scale.finalize("missing"))
    capture(errors, lambda: scale.create_batch("r5-batch", project="r5"))  # 409
    emu.faults = Faults(rules=[Fault.status(503)])
    capture(errors, lambda: hub.get_batch(batch))  # retries exhausted
    capture(errors, lambda: scale.status("r5-batch"))
    emu.faults = None
    hub.delete_batch(batch)
    for provider in (
        batchkit.connect("aihub", api_root=closed.aihub_api_root, token=TOKEN),
        batchkit.connect("scale", api_root=closed.scale_api_root, api_key=TOKEN),
    ):
        capture(errors, lambda p=provider: list(p.list_batches()))  # type: ignore[misc]
        assert isinstance(errors[-1], batchkit.AuthError)
        assert_clean(repr(provider))

    assert 401 in {r.status for r in closed.requests}
    assert {r.fault for r in emu.requests} >= {"503", "429"}
    assert 10 == len(errors)
    for error in errors:
        assert_clean(error_text(error))
    for provider in (hub, scale):
        for shown in (provider, provider.settings, provider.http, provider.http.client.auth):
            assert_clean(repr(shown))
            assert_clean(str(shown))
    assert any(r.name.startswith("batchkit") for r in caplog.records)
    assert_clean(caplog.text)
    for record in caplog.records:
        assert_clean(record.getMessage())
        assert_clean(repr(vars(record)))


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " \n"])
def test_a_token_read_with_its_trailing_newline_is_never_echoed_in_an_error(
    emulators: tuple[Emulator, Emulator], caplog: pytest.LogCaptureFixture, suffix: str
) -> None:
    """A token read from a file with its newline fails cleanly, without the token in the text."""
    emu, _ = emulators
    caplog.set_level(logging.DEBUG)

    def read_one() -> None:
        provider = batchkit.connect("aihub", api_root=emu.aihub_api_root, token=TOKEN + suffix)
        provider.get_batch("1")

    with pytest.raises(BatchkitError) as info:
        read_one()
    assert_clean(error_text(info.value))
    assert_clean(caplog.text)


# -- the command --------------------------------------------------------------------------


def _cli(emu: Emulator, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BATCHKIT_", "AIHUB_", "SCALE_"))
    }
    env.update(
        AIHUB_API_ROOT=emu.aihub_api_root,
        AIHUB_API_TOKEN=TOKEN,
        SCALE_API_ROOT=emu.scale_api_root,
        SCALE_API_KEY=TOKEN,
        BATCHKIT_PROVIDER="aihub",
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
    )
    return subprocess.run(
        [sys.executable, "-m", "batchkit.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--json", "config", "show"), 0),
        (("config", "show"), 0),
        (("--provider", "scale", "--json", "config", "show"), 0),
        (("batches", "get", "999"), 3),
        (("--debug", "batches", "get", "999"), 3),
        (("--debug", "--provider", "scale", "batches", "get", "missing"), 3),
    ],
)
def test_the_command_never_prints_the_token_on_stdout_or_stderr(
    emulators: tuple[Emulator, Emulator], tmp_path: Path, args: tuple[str, ...], code: int
) -> None:
    """config show, and a failing `batches get` (even with --debug), keep the token out."""
    emu, _ = emulators
    done = _cli(emu, tmp_path, *args)
    assert code == done.returncode, (done.stdout, done.stderr)
    assert_clean(done.stdout)
    assert_clean(done.stderr)


def test_the_command_with_a_rejected_token_prints_no_token(
    emulators: tuple[Emulator, Emulator], tmp_path: Path
) -> None:
    """A 401 from the vendor, with --debug tracebacks and logs: exit 3, token nowhere."""
    _, closed = emulators
    done = _cli(closed, tmp_path, "--debug", "batches", "list")
    assert 3 == done.returncode, (done.stdout, done.stderr)
    assert "401" in done.stderr
    assert_clean(done.stdout)
    assert_clean(done.stderr)


# -- plain http ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "root",
    [
        "http://aihub.example.com/api",
        "http://10.0.0.5/api",
        "http://[2001:db8::1]/api",
        "http://127.0.0.1.example.com/api",
        "http://localhost.example.com/api",
        "HTTP://API.EXAMPLE.COM/v1",
    ],
)
def test_plain_http_to_a_non_loopback_host_is_refused_for_both_providers(
    root: str, clean_env: None
) -> None:
    """The credential would travel in clear text: ConfigError, and the error hides it."""
    for name, secret in (("aihub", "token"), ("scale", "api_key")):
        with pytest.raises(ConfigError, match="plain http") as info:
            batchkit.connect(name, api_root=root, **{secret: TOKEN})
        assert_clean(error_text(info.value))


@pytest.mark.parametrize(
    "root",
    [
        "https://aihub.example.com/api",
        "https://10.0.0.5/api",
        "http://127.0.0.2:9/api",
        "http://[::1]:9/api",
        "http://batchkit.localhost/api",
    ],
)
def test_https_anywhere_and_http_to_loopback_are_accepted(root: str, clean_env: None) -> None:
    """https to any host, and plain http to loopback addresses, connect."""
    for name, secret in (("aihub", "token"), ("scale", "api_key")):
        with batchkit.connect(name, api_root=root, **{secret: TOKEN}) as provider:
            assert root.rstrip("/") == provider.http.api_root


# -- other hosts never get the credential -----------------------------------------------


class Hosts:
    """A MockTransport standing for the vendor and other hosts; records Authorization."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.seen: list[tuple[str, str, str | None]] = []
        self._handler = handler
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.seen.append((request.method, str(request.url), request.headers.get("Authorization")))
        return self._handler(request)

    def authorized_elsewhere(self, vendor: str) -> list[str]:
        """URLs not on the vendor's origin that received an Authorization header."""
        return [url for _, url, auth in self.seen if auth and not url.startswith(vendor)]


AIHUB = "https://aihub.test/api"
SCALE = "https://api.scale.test/v1"
BATCH = {"id": 7, "name": "b", "workspace": "ws"}
SCALE_BATCH = {"name": "b", "project": "p", "status": "staging"}


@pytest.mark.parametrize(
    "target",
    [
        "https://elsewhere.test/v1/batches/b",
        "http://api.scale.test/v1/batches/b",  # same host, downgraded to http
        "https://api.scale.test:8443/v1/batches/b",  # same host, another port
        "//elsewhere.test/v1/batches/b",  # scheme-relative
    ],
)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_scale_redirect_off_the_api_origin_never_carries_basic_auth(
    target: str, status: int, clean_env: None
) -> None:
    """Scale's Basic credential is dropped when a redirect leaves the API's origin."""

    def handle(request: httpx.Request) -> httpx.Response:
        if str(request.url) == f"{SCALE}/batches/b":
            return httpx.Response(status, headers={"Location": target})
        return httpx.Response(200, json=SCALE_BATCH)

    hosts = Hosts(handle)
    scale = batchkit.connect("scale", api_root=SCALE, api_key=TOKEN, transport=hosts.transport)
    assert "b" == scale.get_batch("b").name
    assert 2 == len(hosts.seen)
    assert hosts.seen[0][2] is not None
    assert [] == hosts.authorized_elsewhere(SCALE)


def test_an_upload_redirected_to_another_host_is_sent_there_without_the_token(
    clean_env: None,
) -> None:
    """A 307 from a PUT (as to a storage host) re-sends the body, but not the bearer token."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "aihub.test":
            return httpx.Response(307, headers={"Location": "https://storage.test/put/a.pdf"})
        return httpx.Response(204)

    hosts = Hosts(handle)
    hub = batchkit.connect("aihub", api_root=AIHUB, token=TOKEN, transport=hosts.transport)
    hub.upload_file("7", "a.pdf", b"%PDF")
    assert ["https://storage.test/put/a.pdf"] == [url for _, url, _ in hosts.seen[1:]]
    assert [] == hosts.authorized_elsewhere(AIHUB)


@pytest.mark.parametrize(
    "location",
    [
        "https://elsewhere.test/api/v2/batches/jobs/j1",
        "//elsewhere.test/api/v2/batches/jobs/j1",
        "http://aihub.test/api/v2/batches/jobs/j1",
        "https://aihub.test:8443/api/v2/batches/jobs/j1",
    ],
)
def test_a_batch_deletion_job_location_off_the_api_origin_never_receives_the_token(
    location: str, clean_env: None
) -> None:
    """delete_batch polls the job where Location says, but without the bearer token."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(202, json={"job_id": "j1"}, headers={"Location": location})
        return httpx.Response(200, json={"state": "COMPLETE"})

    hosts = Hosts(handle)
    hub = batchkit.connect(
        "aihub", api_root=AIHUB, token=TOKEN, transport=hosts.transport, poll_initial=0.0
    )
    hub.delete_batch("7")
    polls = [url for method, url, _ in hosts.seen if method == "GET"]
    assert polls
    assert [] == [url for url in polls if url.startswith(AIHUB)]
    assert [] == hosts.authorized_elsewhere(AIHUB)


# -- tenants ------------------------------------------------------------------------------


def test_aihub_tenants_cannot_read_list_change_or_delete_each_others_batches(
    served_emulator: Emulator, tenant: str, clean_env: None
) -> None:
    """Another token gets NotFound for every batch, file, job and session of mine."""
    emu = served_emulator
    mine = batchkit.connect("aihub", api_root=emu.aihub_api_root, token=f"{tenant}-a")
    theirs = batchkit.connect(
        "aihub", api_root=emu.aihub_api_root, token=f"{tenant}-b", multipart_threshold=8
    )
    batch = mine.create_batch("private")
    doomed = mine.create_batch("being-deleted")
    mine.upload_file(batch, "a.pdf", b"%PDF-1.7 mine")
    job = mine.delete_batch(doomed, wait=False)
    assert job is not None
    start = mine.http.send(aihub_wire.start_multipart(batch.id, "big.pdf", 4))
    session, _ = aihub_wire.parse_session(start, mine.http.api_root)
    mine.http.send(aihub_wire.put_part(session, 1, b"%PDF", 4))
    path = mine.batch_path(batch)

    attempts: dict[str, Callable[[], Any]] = {
        "get_batch": lambda: theirs.get_batch(batch.id),
        "status": lambda: theirs.status(batch.id),
        "list_files": lambda: list(theirs.list_files(batch.id)),
        "upload_file": lambda: theirs.upload_file(batch.id, "b.pdf", b"theirs"),
        "upload_file-multipart": lambda: theirs.upload_file(batch.id, "c.pdf", b"x" * 20),
        "delete_file": lambda: theirs.delete_file(batch.id, "a.pdf"),
        "download_file": lambda: theirs.download_file(batch.id, "a.pdf"),
        "fs_read": lambda: theirs.fs_read(f"{path}/a.pdf"),  # type: ignore[attr-defined]
        "delete_batch": lambda: theirs.delete_batch(batch.id),
        "wait_job": lambda: theirs.wait_job(job, timeout=5),
        "get_job": lambda: theirs.get_job(job),  # type: ignore[attr-defined]
        "put_part": lambda: theirs.http.send(aihub_wire.put_part(session, 1, b"EVIL", 4)),
        "commit": lambda: theirs.http.send(aihub_wire.commit_multipart(session, [(1, "1")])),
        "abort": lambda: theirs.http.send(aihub_wire.abort_multipart(session)),
    }
    outcomes = {}
    for label, attempt in attempts.items():
        try:
            attempt()
        except NotFound:
            outcomes[label] = "NotFound"
        except BatchkitError as e:
            outcomes[label] = f"{type(e).__name__}: {e}"
        else:
            outcomes[label] = "allowed"
    assert dict.fromkeys(attempts, "NotFound") == outcomes
    assert [] == [b for b in theirs.list_batches() if b.id in (batch.id, doomed.id)]

    # my batch, file, session and job are untouched
    assert [("a.pdf", 13)] == [(f.name, f.size) for f in mine.list_files(batch)]
    assert b"%PDF-1.7 mine" == mine.download_file(batch, "a.pdf")
    assert [session.rsplit("/", 1)[1]] == emu.aihub.open_sessions(f"{tenant}-a")
    mine.http.send(aihub_wire.commit_multipart(session, [(1, _part_id(emu, mine, session))]))
    assert {"a.pdf", "big.pdf"} == {f.name for f in mine.list_files(batch)}
    assert b"%PDF" == mine.download_file(batch, "big.pdf")
    mine.wait_job(job, timeout=5)
    with pytest.raises(NotFound):
        mine.get_batch(doomed)


def _part_id(emu: Emulator, provider: Any, session: str) -> str:
    """Re-upload part 1 as its owner to learn its current id (the owner's id, not a guess)."""
    return aihub_wire.parse_part(provider.http.send(aihub_wire.put_part(session, 1, b"%PDF", 4)))


def test_scale_customers_cannot_read_list_finalize_or_prioritize_each_others_batches(
    served_emulator: Emulator, tenant: str, clean_env: None
) -> None:
    """Another API key gets NotFound for get, status, finalize and prioritize; lists hide it."""
    emu = served_emulator
    mine = batchkit.connect("scale", api_root=emu.scale_api_root, api_key=f"{tenant}-a")
    theirs = batchkit.connect("scale", api_root=emu.scale_api_root, api_key=f"{tenant}-b")
    # a Studio project, so a finalize by another customer would show (staging → in progress)
    mine.create_project("p", type="imageannotation", studio=True)  # type: ignore[attr-defined]
    mine.create_batch("private", project="p")

    for attempt in (
        lambda: theirs.get_batch("private"),
        lambda: theirs.status("private"),
        lambda: theirs.finalize("private"),
        lambda: theirs.prioritize("private", 30),
        lambda: theirs.set_metadata("private", {"owner": "them"}),  # type: ignore[attr-defined]
        lambda: theirs.create_batch("x", project="p"),  # my project is not theirs
    ):
        with pytest.raises(NotFound):
            attempt()
    assert [] == list(theirs.list_batches())
    assert [] == list(theirs.list_batches(project="p"))

    kept = mine.get_batch("private")
    assert batchkit.BatchState.STAGING == kept.state
    assert "priority" not in kept.raw
    assert {} == (kept.raw.get("metadata") or {})


def test_a_call_carries_only_the_providers_own_credential(clean_env: None) -> None:
    """Two providers in one process never mix credentials: each request has its own."""
    hosts = Hosts(lambda request: httpx.Response(200, json=BATCH))
    one = batchkit.connect("aihub", api_root=AIHUB, token=TOKEN, transport=hosts.transport)
    two = batchkit.connect("aihub", api_root=AIHUB, token="other-token", transport=hosts.transport)
    one.get_batch("7")
    two.get_batch("7")
    one.http.send(Call("get_batch", "GET", "v2/batches/7"))
    assert [f"Bearer {TOKEN}", "Bearer other-token", f"Bearer {TOKEN}"] == [
        auth for _, _, auth in hosts.seen
    ]
