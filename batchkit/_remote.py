"""Files behind fsspec URLs (``s3://``, ``gs://``, ``az://``, ``memory://`` ...): upload
sources and download destinations.

fsspec is optional (``pip install 'batchkit-client[fsspec]'``, plus the backend of the
protocol: s3fs, gcsfs, adlfs...) and imported only when such a URL is used, so ``import
batchkit`` never loads it. fsspec is untyped: everything batchkit does with a filesystem goes
through the typed wrappers here, which also put its errors into batchkit's words (a missing
object stays a `FileNotFoundError`; missing credentials are a `ConfigError` naming the
backend's configuration; anything else is an `OSError` with the backend's message).

Reads are ranged (`Location.chunks`: one request per `CHUNK`, never the whole object) and
stateless, so the parts of one multipart upload read their slices concurrently. Writes
(`Location.writer`) stream in blocks of `WRITE_BLOCK` and are committed only when the
download completes (``autocommit=False``: an S3 multipart upload completed at the end, or
aborted), so a failed download leaves no partial object on filesystems that support it.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs

from ._errors import BatchkitError, ConfigError, InvalidInput
from ._validate import shorten

T = TypeVar("T")

#: how to install what remote URLs need
INSTALL = "pip install 'batchkit-client[fsspec]'"
#: bytes per ranged read of a remote file: the memory one read holds
CHUNK = 4 << 20
#: block size of a remote write (S3's smallest multipart part): the memory one download holds
WRITE_BLOCK = 5 << 20

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")

#: the package that implements a protocol, for the messages
_BACKENDS = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
    "adl": "adlfs",
    "http": "aiohttp",
    "https": "aiohttp",
}
#: how each backend is configured, for the "no credentials" message
_CREDENTIALS = {
    "s3fs": "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role",
    "gcsfs": "GOOGLE_APPLICATION_CREDENTIALS or `gcloud auth application-default login`",
    "adlfs": "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with a key",
}

#: fields of `fs.info()` that change whenever the object is rewritten, best first: an
#: object version (S3 with versioning, GCS generations), an entity tag (S3, Azure, GCS,
#: HTTP), a modification time (local, memory, HTTP)
_VERSION_FIELDS = (
    "VersionId",
    "generation",
    "version_id",
    "ETag",
    "etag",
    "md5Hash",
    "LastModified",
    "last_modified",
    "Last-Modified",
    "mtime",
    "updated",
    "modified",
    "created",
)


def scheme(value: object) -> str | None:
    """The URL scheme of `value` (lower case) if it is a str starting ``scheme://``."""
    if not isinstance(value, str):
        return None
    found = _SCHEME.match(value)
    return found.group(1).lower() if found else None


def is_http(value: object) -> bool:
    """Whether `value` is an ``http://`` or ``https://`` URL."""
    return scheme(value) in ("http", "https")


def is_file_url(value: object) -> bool:
    """Whether `value` is a ``file://`` URL (a local path, see `file_url_path`)."""
    return scheme(value) == "file"


def is_remote(value: object) -> bool:
    """Whether `value` is a URL that fsspec opens: a scheme other than http(s) and file."""
    return scheme(value) not in (None, "http", "https", "file")


def file_url_path(url: str) -> str:
    """The local path a ``file://`` URL names (percent-decoded, RFC 8089): batchkit reads
    and writes it as any local path, with everything the local walk does."""
    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost") or not parts.path:
        raise InvalidInput(
            f"{shorten(url)!r} is not a local file URL: write file:///absolute/path "
            "(or pass the path itself)"
        )
    # imported here: it imports http.client and email, a sixth of `import batchkit`
    from urllib.request import url2pathname

    return url2pathname(parts.path)


def _backend(url: str) -> str:
    return _BACKENDS.get(scheme(url) or "", "its fsspec backend")


def fsspec_module(url: str) -> Any:
    """fsspec, imported now (the first URL that needs it); `InvalidInput` if absent."""
    try:
        return importlib.import_module("fsspec")
    except ImportError:
        raise InvalidInput(
            f"{shorten(url)!r} is a remote URL, read and written through fsspec, which is not "
            f"installed: {INSTALL} (and the package of the protocol: s3fs for s3://, gcsfs "
            "for gs://, adlfs for az://)"
        ) from None


def http_streaming() -> bool:
    """Whether http(s) URLs can be streamed through this machine: fsspec with its HTTP
    filesystem (which needs aiohttp). Imports fsspec: call it only for an http(s) source."""
    try:
        fsspec = importlib.import_module("fsspec")
        fsspec.get_filesystem_class("https")
    except ImportError:
        return False
    return True


def _credentials_missing(error: BaseException) -> bool:
    """A backend's "no credentials" error (botocore's NoCredentialsError, google-auth's
    DefaultCredentialsError, azure's CredentialUnavailableError...), however wrapped."""
    seen: BaseException | None = error
    while seen is not None:
        if any("Credential" in cls.__name__ for cls in type(seen).__mro__):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def no_credentials(url: str, error: BaseException) -> ConfigError:
    """`error` (missing credentials) as a `ConfigError` saying how to configure them."""
    backend = _backend(url)
    how = _CREDENTIALS.get(backend, "the backend's own settings")
    proto = scheme(url) or "<protocol>"
    return ConfigError(
        f"cannot reach {shorten(url)!r}: {backend} found no credentials "
        f"({type(error).__name__}: {error}); configure {backend} ({how}), or pass storage "
        f"options through fsspec's configuration (the FSSPEC_{proto.upper()} environment "
        f"variable as JSON, or fsspec.config.conf[{proto!r}] in Python)"
    )


def _guard(url: str, call: Callable[[], T]) -> T:
    """Run a filesystem call: a missing object stays `FileNotFoundError`, missing
    credentials become `ConfigError`, any other failure an `OSError` with its message."""
    try:
        return call()
    except (FileNotFoundError, BatchkitError):
        raise
    except Exception as e:
        if _credentials_missing(e):
            raise no_credentials(url, e) from e
        if isinstance(e, OSError):
            raise
        raise OSError(f"{type(e).__name__}: {e}") from e


def _version(info: Mapping[str, Any]) -> str | None:
    """The first version marker `info` has (see `_VERSION_FIELDS`), as ``field=value``;
    times in UTC ISO 8601, so a listing and a HEAD of one object agree."""
    for field in _VERSION_FIELDS:
        value = info.get(field)
        if value is None or value == "":
            continue
        if isinstance(value, datetime):
            aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            value = aware.astimezone(UTC).isoformat()
        return f"{field}={value}"
    return None


@attrs.frozen
class Info:
    """What a filesystem says of one entry."""

    #: "file", "directory", or the filesystem's own word for anything else
    kind: str
    size: int | None
    #: changes whenever the object is rewritten (see `_version`), or None if unknown
    version: str | None

    @classmethod
    def of(cls, info: Mapping[str, Any]) -> Info:
        size = info.get("size")
        if size is None:
            size = info.get("Size")
        return cls(
            str(info.get("type") or "file"),
            int(size) if isinstance(size, int | float) else None,
            _version(info),
        )


def _join(base: str, rel: str) -> str:
    return f"{base.rstrip('/')}/{rel}" if base.rstrip("/") else f"{base}{rel}"


@attrs.frozen
class Location:
    """A path on an fsspec filesystem: a file or a "directory" (a prefix)."""

    fs: Any = attrs.field(eq=False, repr=False)
    #: the filesystem's own path
    path: str
    #: the URL as given (or joined): shown in reports, recorded in the journal
    url: str

    @property
    def key(self) -> tuple[str, str]:
        """What tells two remote files apart (two URLs for one object share it)."""
        return (type(self.fs).__name__, self.path)

    @property
    def name(self) -> str:
        """The last segment of the path (its base name)."""
        return self.path.rstrip("/").rpartition("/")[2]

    def child(self, rel: str) -> Location:
        return Location(self.fs, _join(self.path, rel), _join(self.url, rel))

    def info(self, *, fresh: bool = False) -> Info:
        """What the filesystem says of this path now (`fresh`: past its listing cache)."""

        def call() -> Info:
            if fresh:
                self.fs.invalidate_cache(self.path)
            return Info.of(self.fs.info(self.path))

        return _guard(self.url, call)

    def files(self) -> list[tuple[tuple[str, ...], Info]]:
        """Every file below this directory (one recursive listing), as (path segments
        relative to it, info), in the order of the local walk: a directory's files by name,
        then its subdirectories."""

        def call() -> Any:
            self.fs.invalidate_cache(self.path)
            return self.fs.find(self.path, detail=True, withdirs=False)

        found: Mapping[str, Mapping[str, Any]] = _guard(self.url, call)
        root = self.path.rstrip("/")
        out: list[tuple[tuple[str, ...], Info]] = []
        for full, details in found.items():
            info = Info.of(details)
            if info.kind == "directory" or full.endswith("/"):
                continue  # a "folder" marker object
            rel = full[len(root) :] if full.startswith(root) else full
            parts = tuple(p for p in rel.split("/") if p)
            if parts:
                out.append((parts, info))
        out.sort(key=lambda found: [(1, p) for p in found[0][:-1]] + [(0, found[0][-1])])
        return out

    def read(self, start: int, end: int) -> bytes:
        """Bytes `start..end` (end exclusive): one ranged request. `OSError` if the
        filesystem answers with another length (a server that ignores ranges)."""
        if end <= start:
            return b""
        block = _guard(self.url, lambda: self.fs.cat_file(self.path, start=start, end=end))
        if not isinstance(block, bytes | bytearray) or len(block) != end - start:
            got = len(block) if isinstance(block, bytes | bytearray) else type(block).__name__
            raise OSError(
                f"{shorten(self.url)} answered {got} bytes for bytes {start}-{end - 1}: it "
                "changed meanwhile, or its server ignores range requests"
            )
        return bytes(block)

    def chunks(self, offset: int, length: int) -> Iterator[bytes]:
        """Bytes `offset..offset+length` in ranged reads of at most `CHUNK`."""
        pos, end = offset, offset + length
        while pos < end:
            block = self.read(pos, min(pos + CHUNK, end))
            pos += len(block)
            yield block

    def writer(self) -> RemoteWriter:
        """A sink that becomes this object when committed (see `RemoteWriter`)."""
        return RemoteWriter(self)

    def top_sizes(self) -> dict[str, int]:
        """{name: size} of the files directly in this directory (nothing if it does not
        exist yet); `InvalidInput` if it is a file."""
        try:
            info = self.info(fresh=True)
        except FileNotFoundError:
            return {}
        if info.kind != "directory":
            raise InvalidInput(f"cannot download into {shorten(self.url)!r}: it is not a folder")

        def call() -> Any:
            return self.fs.ls(self.path, detail=True)

        listing: list[Mapping[str, Any]] = _guard(self.url, call)
        sizes: dict[str, int] = {}
        for details in listing:
            entry = Info.of(details)
            name = str(details.get("name", "")).rstrip("/").rpartition("/")[2]
            if entry.kind == "file" and entry.size is not None and name:
                sizes[name] = entry.size
        return sizes


def locate(url: str) -> Location:
    """The filesystem and path of a remote URL: `InvalidInput` when fsspec, or the
    protocol's backend, is not installed, or the protocol is unknown."""
    fsspec = fsspec_module(url)
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as e:
        backend = _backend(url)
        raise InvalidInput(
            f"cannot open {shorten(url)!r}: {e}; fsspec needs the package of this protocol "
            f"(pip install {backend})"
            if backend != "its fsspec backend"
            else f"cannot open {shorten(url)!r}: {e}"
        ) from None
    except (ValueError, KeyError) as e:
        raise InvalidInput(
            f"cannot open {shorten(url)!r}: {e}; fsspec knows no such protocol (see "
            "fsspec.available_protocols())"
        ) from None
    except Exception as e:
        if _credentials_missing(e):
            raise no_credentials(url, e) from e
        raise InvalidInput(f"cannot open {shorten(url)!r}: {type(e).__name__}: {e}") from None
    return Location(fs, str(path), url)


@attrs.frozen
class RemoteFile:
    """One remote file as planned: where, how big, and which version."""

    where: Location
    size: int
    version: str | None

    @property
    def url(self) -> str:
        return self.where.url

    def now(self) -> RemoteFile:
        """The file as it is now (past any listing cache): `FileNotFoundError` if it is
        gone, `OSError` if it is no longer a file or has no size."""
        info = self.where.info(fresh=True)
        if info.kind != "file" or info.size is None:
            raise OSError(f"{shorten(self.url)} is no longer a file with a size")
        return RemoteFile(self.where, info.size, info.version)

    def changes(self, now: RemoteFile) -> str:
        """What differs from `now`, in words ("" if nothing)."""
        said = []
        if now.size != self.size:
            said.append(f"size {self.size} -> {now.size} bytes")
        if now.version != self.version:
            said.append(f"version {self.version} -> {now.version}")
        return ", ".join(said)


def remote_file(url: str) -> RemoteFile:
    """The remote file at `url` (`upload_file` given a URL): `InvalidInput` unless it is a
    file that exists."""
    where = locate(url)
    try:
        info = where.info(fresh=True)
    except FileNotFoundError:
        raise InvalidInput(f"{shorten(url)!r} does not exist: check the URL") from None
    except OSError as e:
        raise InvalidInput(f"cannot read {shorten(url)!r}: {e}") from None
    if info.kind != "file" or info.size is None:
        raise InvalidInput(f"{shorten(url)!r} is not a file (it is a {info.kind}): pass a file")
    return RemoteFile(where, info.size, info.version)


class RemoteWriter:
    """A binary sink streaming into a remote object, in blocks of `WRITE_BLOCK`, that
    becomes the object only on `commit` (``autocommit=False``); `discard` throws it away.
    It can rewind to its start (a download restarting on a new version): the object is then
    begun again."""

    def __init__(self, where: Location) -> None:
        self.where = where
        self._written = 0
        self._file: Any = self._open()

    def _open(self) -> Any:
        where = self.where
        return _guard(
            where.url,
            lambda: where.fs.open(where.path, "wb", autocommit=False, block_size=WRITE_BLOCK),
        )

    def write(self, data: bytes) -> int:
        _guard(self.where.url, lambda: self._file.write(data))
        self._written += len(data)
        return len(data)

    def flush(self) -> None:
        """Blocks go up as they fill; the rest on `commit`."""

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def seek(self, offset: int, whence: int = 0) -> int:
        """Rewind to the start only (the object is begun again)."""
        if (offset, whence) != (0, 0):
            raise OSError("a remote download can only be rewound to its start")
        if self._written:
            self.discard()
            self._file = self._open()
            self._written = 0
        return 0

    def truncate(self, size: int | None = None) -> int:
        """After a rewind there is nothing to cut."""
        return self._written

    def commit(self) -> None:
        """Finish the object: it appears (or replaces the old one) now."""

        def call() -> None:
            self._file.close()
            self._file.commit()

        _guard(self.where.url, call)

    def discard(self) -> None:
        """Throw the object away (an S3 multipart upload is aborted): best effort."""
        file = self._file
        with contextlib.suppress(Exception):
            file.discard()
        # never let the filesystem's file close (and so commit) itself when collected
        with contextlib.suppress(Exception):
            file.closed = True
