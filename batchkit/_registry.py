"""The provider registry: built-ins, `batchkit.providers` entry points, and `connect`."""

from __future__ import annotations

import difflib
import importlib
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._capabilities import Capability
from ._errors import ConfigError

if TYPE_CHECKING:
    from ._provider import BatchProvider

ENTRY_POINT_GROUP = "batchkit.providers"

_BUILTIN: dict[str, str] = {
    "aihub": "batchkit.providers.aihub:AIHubProvider",
    "scale": "batchkit.providers.scale:ScaleProvider",
}
#: Guards `_targets`, `_loaded` and `_discovered`: connect() may be called from many threads
#: at once, the first calls racing to read the entry points. Reentrant so that code run under
#: it (a `warnings.showwarning` hook, say) may call back into the registry. Never held while
#: a provider module is imported: that takes Python's import lock, and a module importing
#: batchkit in another thread could then wait for this one (a deadlock).
_lock = threading.RLock()
_targets: dict[str, str | type[BatchProvider]] = {}
_loaded: dict[str, type[BatchProvider]] = {}
_discovered = False


def _discover() -> None:
    """Fill `_targets` from the built-ins and the entry points, once per process.

    `_discovered` is set only once `_targets` is complete, and only under the lock, so no
    thread ever sees (or lists) a half-filled registry.
    """
    global _discovered
    if _discovered:  # the fast path: complete, and never emptied again
        return
    from importlib.metadata import entry_points  # lazy: it costs ~30 ms at import

    with _lock:
        if _discovered:
            return
        for name, target in _BUILTIN.items():
            _targets.setdefault(name, target)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            known = _targets.get(ep.name)
            if known is None:
                _targets[ep.name] = ep.value
            elif known != ep.value:
                warnings.warn(
                    f"batchkit provider {ep.name!r} from entry point {ep.value!r} ignored: "
                    f"the name is already taken by {known!r}",
                    stacklevel=2,
                )
        _discovered = True


def register_provider(
    name: str, target: str | type[BatchProvider], *, replace: bool = False
) -> None:
    """Register a provider class (or a lazy "module:Class" string) under `name`.

    Refuses to overwrite a registered name unless `replace=True`. Plugin packages
    should prefer the `batchkit.providers` entry point group. Safe to call from any thread.
    """
    _discover()
    with _lock:
        if name in _targets and not replace and _targets[name] != target:
            raise ConfigError(
                f"provider name {name!r} is already registered ({_targets[name]!r}); "
                "pass replace=True to override it"
            )
        _targets[name] = target
        _loaded.pop(name, None)


def provider_names() -> list[str]:
    """Every registered provider name, sorted."""
    _discover()
    with _lock:
        return sorted(_targets)


def _did_you_mean(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def provider_class(name: str) -> type[BatchProvider]:
    """The provider class registered as `name` (imported on first use; thread-safe)."""
    _discover()
    with _lock:
        loaded = _loaded.get(name)
        target = _targets.get(name)
    if loaded is not None:
        return loaded
    if target is None:
        names = provider_names()
        raise ConfigError(
            f"unknown provider {name!r}: {_did_you_mean(name, names)}"
            f"known providers: {', '.join(names)}"
        )
    # imported outside the lock (see `_lock`); Python's import lock makes a module that
    # two threads import at once run once, and both get the same class
    if isinstance(target, str):
        module_name, _, attr = target.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as e:
            raise ConfigError(f"provider {name!r} could not be loaded from {target!r}: {e}") from e
    else:
        cls = target
    from ._provider import BatchProvider

    if not (isinstance(cls, type) and issubclass(cls, BatchProvider)):
        raise ConfigError(f"provider {name!r} ({target!r}) is not a BatchProvider subclass")
    with _lock:
        # cache it only if `name` was not re-registered meanwhile
        if _targets.get(name) is target:
            _loaded[name] = cls
    return cls


def capability_matrix() -> dict[str, Capability]:
    """Every registered provider and what it can do (the docs' and CLI's table)."""
    return {name: provider_class(name).capabilities for name in provider_names()}


def connect(
    provider: str | None = None,
    *,
    profile: str | None = None,
    config: str | Path | None = None,
    **settings: Any,
) -> BatchProvider:
    """Return a ready `BatchProvider`.

    The provider is `provider`, else `$BATCHKIT_PROVIDER`, else the profile's `provider`.
    Settings come from the profile (`profile`, else `$BATCHKIT_PROFILE`) in `batchkit.toml`,
    overridden by environment variables (e.g. `AIHUB_API_TOKEN`), overridden by keyword
    arguments. Examples::

        batchkit.connect("aihub", api_root="https://aihub.instabase.com/api", token=...)
        batchkit.connect("scale", api_key=...)
        batchkit.connect(profile="prod")
    """
    from ._config import resolve

    name, merged = resolve(provider, profile=profile, config=config, overrides=settings)
    cls = provider_class(name)
    return cls.from_settings(merged)


def _settings_error(provider: str, unknown: Mapping[str, Any], known: list[str]) -> ConfigError:
    parts = [f"{k!r} ({_did_you_mean(k, known).strip() or 'no close match'})" for k in unknown]
    return ConfigError(
        f"unknown {provider} setting(s): {', '.join(parts)}; known settings: {', '.join(known)}"
    )


def capability_matrix_markdown() -> str:
    """The capability matrix as a Markdown table (docs/providers.md embeds it)."""
    matrix = capability_matrix()
    names = list(matrix)
    lines = [
        "| capability | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for flag in Capability:
        marks = " | ".join("✓" if flag in matrix[n] else "—" for n in names)
        lines.append(f"| `{flag.name}` | {marks} |")
    return "\n".join(lines) + "\n"
