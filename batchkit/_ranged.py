"""Resumable ranged downloads that never splice two versions of a file or repeat bytes.

A connection that breaks mid-body is resumed with a new `Range` request from the last byte
received. Each answer is checked against what was asked and what came before:

- `206`: its `Content-Range` must start at or before the byte we need (a server starting
  elsewhere is not trusted to have sent what we asked), and name the same file size;
- `200` is the whole file from byte 0: what we already hold is skipped (a server that
  ignores `Range`), unless the answer says the file changed;
- the file's validator (a strong `ETag`, else `Last-Modified`) from the first answer goes
  out as `If-Range` on every resume: a server that honours it answers `200` with the new
  file when it changed, and any answer whose validator or size differs from the first is
  a new version.

A new version (or an answer that cannot be placed) restarts the download from the start:
the sink is rewound and truncated, so the result is always one version, whole. A sink that
cannot rewind gets a `ProviderError` saying so instead of a spliced file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import IO

import attrs
import httpx

from ._call import Call
from ._errors import ProviderError, TransportError
from ._flow import Close, Flow, Open, Read, Stream

log = logging.getLogger("batchkit.download")

#: the request for one range: (first byte wanted, last byte or None, If-Range value or None)
OpenRange = Callable[[int, int | None, str | None], Call]

_CONTENT_RANGE = re.compile(r"bytes (\d{1,19})-(\d{1,19})/(\d{1,19}|\*)", re.ASCII)


@attrs.frozen
class _Answer:
    """Where a response's body sits in the file, and which version of the file it is."""

    #: file offset of the body's first byte
    start: int
    #: the whole file's size, if the response says
    size: int | None
    #: a strong ETag or Last-Modified, if given
    validator: str | None

    def other_version_than(self, first: _Answer) -> bool:
        """True if validators or sizes both answers give disagree."""
        return bool(
            (self.validator and first.validator and self.validator != first.validator)
            or (self.size is not None and first.size is not None and self.size != first.size)
        )


def _answer(response: httpx.Response, what: str, provider: str, operation: str) -> _Answer:
    headers = response.headers
    etag = headers.get("ETag")
    validator = etag if etag and not etag.startswith("W/") else headers.get("Last-Modified")
    if response.status_code == 206:
        match = _CONTENT_RANGE.fullmatch(headers.get("Content-Range", "").strip())
        if match is None:
            raise ProviderError(
                f"{provider} {operation} {what}: a 206 answer without a usable Content-Range "
                f"({headers.get('Content-Range')!r:.80}); cannot tell which bytes it holds",
                provider=provider,
                operation=operation,
                status=206,
            )
        first, _last, total = match.groups()
        return _Answer(int(first), None if total == "*" else int(total), validator)
    length = headers.get("Content-Length", "")
    plain = "Content-Encoding" not in headers
    size = int(length) if plain and length.isascii() and length.isdigit() else None
    return _Answer(0, size, validator)


def _piece(chunk: bytes, pos: int, start: int, end: int | None) -> bytes | None:
    """The part of `chunk` (at body offset `pos`) inside bytes `start..end` (inclusive,
    relative to the body); None once past `end`."""
    lo, hi = pos, pos + len(chunk)
    if end is not None and lo > end:
        return None
    if hi <= start:
        return b""
    return chunk[max(0, start - lo) : None if end is None else end + 1 - lo]


def read_resumable(
    open_range: OpenRange,
    sink: IO[bytes],
    start: int,
    end: int | None,
    *,
    attempts: int,
    provider: str,
    operation: str,
    what: str,
) -> Flow[int]:
    """Stream bytes `start..end` of a file into `sink`, resuming broken connections; returns
    the number of bytes written. See the module docstring for the checks."""
    try:
        origin: int | None = sink.tell() if sink.seekable() else None
    except (AttributeError, OSError, ValueError):
        origin = None
    written = 0
    first: _Answer | None = None  # the version being downloaded
    for attempt in range(1, attempts + 1):
        offset = start + written
        if_range = first.validator if first is not None and written else None
        try:
            stream: Stream = yield Open(open_range(offset, end, if_range))
            try:
                response = stream.response
                answer = _answer(response, what, provider, operation)
                # a 200 to an If-Range request means the file changed (RFC 9110 13.1.5)
                new_version = first is not None and (
                    (if_range is not None and response.status_code == 200)
                    or answer.other_version_than(first)
                )
                if new_version or answer.start > offset:
                    why = (
                        "the file changed on the server"
                        if new_version
                        else (f"the server sent bytes from {answer.start}, not {offset} as asked")
                    )
                    _rewind(sink, origin, written, what, why, provider, operation)
                    written, offset, first = 0, start, None
                    log.info("%s %s %s: %s; starting over", provider, operation, what, why)
                    if answer.start > offset:
                        continue  # this answer cannot supply the start: ask again
                first = first or answer
                stop = None if end is None else end - answer.start
                pos, skip = 0, offset - answer.start
                while chunk := (yield Read(stream)):
                    piece = _piece(chunk, pos, skip, stop)
                    pos += len(chunk)
                    if piece is None:
                        break
                    if piece:
                        sink.write(piece)
                        written += len(piece)
            finally:
                yield Close(stream)
            return written
        except (httpx.HTTPError, httpx.StreamError) as e:
            if not isinstance(e, httpx.TransportError) or attempt == attempts:
                raise TransportError(
                    f"{provider} {operation} {what}: reading the body failed after {written} "
                    f"bytes and {attempt} attempt(s): {type(e).__name__}: {e}",
                    provider=provider,
                    operation=operation,
                ) from e
            log.info(
                "%s %s %s: resuming at byte %d after %s",
                provider,
                operation,
                what,
                offset,
                type(e).__name__,
            )
    raise ProviderError(
        f"{provider} {operation} {what}: the server kept answering with other ranges or "
        f"versions of the file ({attempts} attempts); try again later",
        provider=provider,
        operation=operation,
    )


def _rewind(
    sink: IO[bytes],
    origin: int | None,
    written: int,
    what: str,
    why: str,
    provider: str,
    operation: str,
) -> None:
    """Drop what was written so far, so the download can start over cleanly."""
    if not written:
        return
    if origin is None:
        raise ProviderError(
            f"{provider} {operation} {what}: {why} after {written} bytes were written to a "
            "stream that cannot rewind; download it again (to a path or a seekable stream, "
            "the download restarts by itself)",
            provider=provider,
            operation=operation,
        )
    sink.seek(origin)
    sink.truncate()
