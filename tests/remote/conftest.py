"""Remote sources and destinations against a real S3 protocol, offline: moto's standalone
server on a loopback port, reached through s3fs (as batchkit reaches it: fsspec's
configuration carries the endpoint), and fsspec's ``memory://`` filesystem for speed."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from tests.remote._s3 import S3

fsspec = pytest.importorskip("fsspec")
pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

#: dummy credentials for moto (which checks that requests are signed, not by whom); no
#: instance-metadata probe ever leaves this machine
_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}

_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 on 127.0.0.1 (a free port), for the whole session."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in _AWS_ENV.items():
            env.setenv(name, value)
        server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3:
    """A fresh bucket; s3:// URLs reach moto through fsspec's configuration, as a user's
    would (``FSSPEC_S3`` or ``fsspec.config.conf["s3"]``)."""
    for name, value in _AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(
        fsspec.config.conf, "s3", {"client_kwargs": {"endpoint_url": moto_endpoint}}
    )
    fs = fsspec.filesystem("s3")
    bucket = f"batchkit-{os.getpid()}-{next(_buckets)}"
    fs.mkdir(bucket)
    return S3(fs, bucket, moto_endpoint)


@pytest.fixture
def memory() -> Iterator[object]:
    """fsspec's in-memory filesystem, emptied after the test."""
    fs = fsspec.filesystem("memory")
    yield fs
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")
