"""`save_to`: the destination handling of `download_file`, for callers that stream the bytes
into a file themselves (the ``batchkit files download`` command, with its progress bar)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ._destinations import atomic_file, target_path
from ._validate import file_name


@contextmanager
def save_to(dest: str | os.PathLike[str], name: str) -> Iterator[tuple[Path, IO[bytes]]]:
    """Open the file a download of batch file `name` to `dest` goes to: ``(path, file)``.

    `dest` is a file path, or a directory that receives the file under `name`, as with
    `BatchProvider.download_file`. `name` and `dest` are checked first, so a bad one is an
    `InvalidInput` before any file is created. The file is written atomically: it replaces
    `path` only when the block completes, and an error leaves an existing file untouched.
    """
    file_name(name)
    path = target_path(dest, name)
    with atomic_file(path) as f:
        yield path, f
