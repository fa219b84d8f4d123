"""The resume journal: append-only JSON lines, one per file sent, each fsynced.

It records what a run sent (and what verification rejected, and the multipart sessions a
file opened and closed); a rerun reads it back to skip what is already in the batch
(`already_sent`) and to abort the sessions an interrupted run left open.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import stat
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import attrs

from .. import _sessions
from .._errors import BatchkitError, InvalidInput
from .._validate import local_path, shorten
from ._items import Item, local_sha256, os_reason

_VERSION = 1


def default_journal_path(provider_name: str, batch_id: str) -> Path:
    """Where ``resume=True`` keeps its journal: ``.batchkit-journal-<provider>-<batch>.jsonl``
    in the current directory (characters other than letters, digits, ``._-`` become ``_``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", batch_id)
    return Path.cwd() / f".batchkit-journal-{provider_name}-{safe}.jsonl"


def journal_path(resume: object, provider_name: str, batch_id: str) -> Path | None:
    """The journal `resume=` asks for (None: no journal), refused if it cannot be one."""
    if resume is None or resume is False:
        return None
    if resume is True:
        return default_journal_path(provider_name, batch_id)
    if not isinstance(resume, str | os.PathLike):
        raise InvalidInput(
            f"resume must be True, False, None or a journal file path, got "
            f"{type(resume).__name__}: {resume!r:.80}"
        )
    path = Path(local_path("resume journal", resume))
    shown = shorten(str(path))
    try:
        st = path.stat()
    except FileNotFoundError:  # a new journal (its directories are made when it opens)
        return path
    except OSError as e:  # too long a name, a file where a directory should be...
        raise InvalidInput(
            f"resume journal {shown!r} cannot be used: {os_reason(e)}; pass another path"
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise InvalidInput(
            f"resume journal {shown!r} is a directory: pass the path of a file in it (it need "
            "not exist yet), or resume=True for the default journal"
        )
    return path


class Journal:
    """Append-only JSON lines: one per file sent; each line flushed and fsynced."""

    def __init__(self, path: Path, provider: str, batch_id: str) -> None:
        self.path = path
        self.provider = provider
        self.batch_id = batch_id
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        #: sessions a run opened and never closed (read() fills it): session -> file name
        self.open_sessions: dict[str, str] = {}

    def read(self) -> dict[str, Mapping[str, Any]]:
        """The latest entry per file name for this provider and batch (bad lines ignored)."""
        entries: dict[str, Mapping[str, Any]] = {}
        try:
            # errors="replace": a line a crash cut mid-character must not make the file unreadable
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return entries
        except OSError as e:
            raise InvalidInput(
                f"cannot read the resume journal {shorten(str(self.path))!r}: {os_reason(e)}"
            ) from None
        # lines end in "\n" only; names may hold other line breaks (U+2028...), which old
        # journals wrote raw, so never split on them
        lines = text.split("\n")
        first = next((line for line in lines if line.strip()), None)
        if first is not None and not first.startswith('{"v"'):
            # every line batchkit writes starts so (even one a crash cut short): never append
            # to someone else's file
            raise InvalidInput(
                f"resume={shorten(str(self.path))!r} is not a batchkit upload journal (it holds "
                "other data): pass a new path, or resume=True for the default journal"
            )
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            if entry.get("provider") != self.provider or entry.get("batch_id") != self.batch_id:
                continue
            event, session = entry.get("event"), entry.get("session")
            if event in ("session_opened", "session_closed"):
                if isinstance(session, str) and event == "session_opened":
                    self.open_sessions[session] = entry["name"]
                elif isinstance(session, str):
                    self.open_sessions.pop(session, None)
                continue
            if event == "uploaded":
                entries[entry["name"]] = entry
            else:  # "rejected": verification found it wrong; do not trust earlier lines
                entries.pop(entry["name"], None)
        return entries

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            f = self.path.open("a+", encoding="utf-8", errors="replace")
            # a crash may have cut the last line short: start ours on a fresh line
            if f.tell() > 0:
                f.seek(f.tell() - 1)
                last = f.read(1)
                f.seek(0, io.SEEK_END)
                if last != "\n":
                    f.write("\n")
        except OSError as e:
            raise InvalidInput(
                f"cannot open the resume journal {shorten(str(self.path))!r}: {os_reason(e)}"
            ) from None
        self._file = f

    def _append(self, entry: dict[str, Any]) -> None:
        entry = {
            "v": _VERSION,
            "provider": self.provider,
            "batch_id": self.batch_id,
            **entry,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        # ASCII only: no character of a name can break the line
        line = json.dumps(entry, ensure_ascii=True) + "\n"
        with self._lock:
            if self._file is None:  # closed after an interruption: drop late lines
                return
            try:
                self._file.write(line)
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError as e:  # a full disk: resuming would be unsafe, so stop
                raise BatchkitError(
                    f"cannot write the resume journal {shorten(str(self.path))!r}: "
                    f"{os_reason(e)}; the upload stopped after the files in flight: make room "
                    "(or pass another resume= path) and rerun"
                ) from e

    def uploaded(self, item: Item, size: int, sha256: str | None) -> None:
        st = item.stat
        entry: dict[str, Any] = {
            "event": "uploaded",
            "name": item.name,
            "size": size,
            "mtime_ns": st.mtime_ns if st else None,
            "ctime_ns": st.ctime_ns if st else None,
            "ino": st.ino if st else None,
            "sha256": sha256,
            "source": item.label,
        }
        if item.remote is not None:  # a remote file: its URL and version marker
            entry["url"] = item.remote.url
            entry["version"] = item.remote.version
        self._append(entry)

    def rejected(self, name: str, reason: str) -> None:
        self._append({"event": "rejected", "name": name, "reason": reason})

    def session(self, name: str, session: str, *, opened: bool) -> None:
        """A multipart session for `name` was opened (before its parts) or closed."""
        event = "session_opened" if opened else "session_closed"
        self._append({"event": event, "name": name, "session": session})

    def left_open(self) -> list[tuple[str, str]]:
        """(session, file name) of each session an earlier run opened and never closed."""
        return list(self.open_sessions.items())

    def aborted(self, session: str) -> None:
        """A session `left_open` named was aborted: nothing of it is left at the vendor."""
        self.session(self.open_sessions[session], session, opened=False)
        del self.open_sessions[session]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def already_sent(
    item: Item, journaled: Mapping[str, Mapping[str, Any]], listed: Mapping[str, int]
) -> tuple[bool, str | None]:
    """(skip `item`?, its local sha256 if that had to be computed) — OSError propagates.

    Skipped only when the journal has it with this size, the batch listing too, and the
    file is unchanged: the same fingerprint (a remote file: the same URL and version
    marker), or else the same sha256.
    """
    entry = journaled.get(item.name)
    if entry is None or item.size is None:
        return False, None
    if entry.get("size") != item.size or listed.get(item.name) != item.size:
        return False, None
    remote = item.remote
    if (
        remote is not None
        and remote.version is not None
        and (entry.get("url"), entry.get("version")) == (remote.url, remote.version)
    ):
        return True, None
    st = item.stat
    if st is not None and (st.mtime_ns, st.ctime_ns, st.ino) == (
        entry.get("mtime_ns"),
        entry.get("ctime_ns"),
        entry.get("ino"),
    ):
        return True, None
    if not entry.get("sha256"):
        return False, None
    sha = local_sha256(item)
    return sha == entry["sha256"], sha


def listening(journal: Journal | None, name: str) -> contextlib.AbstractContextManager[None]:
    """While `name` is sent, journal the upload sessions it opens (with a journal only)."""
    if journal is None:
        return contextlib.nullcontext()
    return _sessions.listening(_JournalSessions(journal, name))


@attrs.frozen
class _JournalSessions:
    """Writes the sessions one file's upload opens and closes to the journal."""

    journal: Journal
    name: str

    def opened(self, session: str) -> None:
        self.journal.session(self.name, session, opened=True)

    def closed(self, session: str) -> None:
        self.journal.session(self.name, session, opened=False)
