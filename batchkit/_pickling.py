"""Providers across processes (Dask, Ray, multiprocessing): pickled as their settings,
rebuilt where they are unpickled. Light on purpose: `import batchkit` loads it, not httpx."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from ._settings import CommonSettings


def portable(settings: CommonSettings, provider: str) -> dict[str, Any]:
    """`settings` as the mapping `from_settings` takes, to rebuild a provider in another
    process (pickling: Dask, Ray, multiprocessing). A `transport` cannot travel: it is this
    process's (an emulator's, a mock's): `pickle.PicklingError` saying so."""
    if settings.transport is not None:
        raise pickle.PicklingError(
            f"this {provider} provider sends through transport={type(settings.transport).__name__}"
            ", which lives in this process and cannot be sent to another: connect in the worker "
            "instead (or use an api_root the worker can reach, e.g. a served emulator's)"
        )
    return {
        key: value
        for key, value in attrs.asdict(settings, recurse=False).items()
        if key != "transport"
    }


def reconnect(cls: Any, settings: Mapping[str, Any]) -> Any:
    """A provider of class `cls` rebuilt from `portable` settings (unpickling)."""
    return cls.from_settings(settings)
