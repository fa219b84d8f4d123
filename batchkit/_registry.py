"""The provider registry: the `batchkit.providers` entry points and `register_provider`.

Every provider, the built-in ones included, comes in through the entry point group (batchkit's
own `pyproject.toml` declares ``aihub`` and ``scale`` there), so this module names no vendor.
A floor above the adapter kit: it imports `BatchProvider` to check what it loads, and hands
the kit its answer to "who supports this?" (`_provider.answer_who_supports`).
"""

from __future__ import annotations

import importlib
import threading
import warnings
from typing import Any

from ._adapter import Adapter, answer_who_supports
from ._aprovider import AsyncBatchProvider
from ._capabilities import Capability
from ._errors import ConfigError
from ._provider import BatchProvider
from ._suggest import did_you_mean

ENTRY_POINT_GROUP = "batchkit.providers"

#: The distribution whose entry points are read first, so that a plugin declaring a name
#: batchkit itself declares is the one ignored (with a warning), whatever the install order.
#: No list of built-ins backs the entry points up: every install, editable ones (`pip install
#: -e .`) included, carries them, and installing is also how batchkit's dependencies arrive;
#: only sources put on `sys.path` by hand list no provider, and that is no way to run batchkit.
_OWN_DISTRIBUTION = "batchkit"

#: Guards `_targets`, `_loaded` and `_discovered`: connect() may be called from many threads
#: at once, the first calls racing to read the entry points. Reentrant so that code run under
#: it (a `warnings.showwarning` hook, say) may call back into the registry. Never held while
#: a provider module is imported: that takes Python's import lock, and a module importing
#: batchkit in another thread could then wait for this one (a deadlock).
_lock = threading.RLock()
_targets: dict[str, str | type[BatchProvider] | type[Adapter]] = {}
_loaded: dict[str, type[BatchProvider]] = {}
_discovered = False


def _discover() -> None:
    """Fill `_targets` from the entry points, once per process.

    `_discovered` is set only once `_targets` is complete, and only under the lock, so no
    thread ever sees (or lists) a half-filled registry.
    """
    global _discovered
    if _discovered:  # the fast path: complete, and never emptied again
        return
    # lazy for import-time speed only: importlib.metadata costs ~30 ms (benchmark B5)
    from importlib.metadata import entry_points

    with _lock:
        if _discovered:
            return
        found = entry_points(group=ENTRY_POINT_GROUP)
        # batchkit's own first (sorted() is stable: the rest keep their order)
        for ep in sorted(found, key=lambda ep: getattr(ep.dist, "name", None) != _OWN_DISTRIBUTION):
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
    name: str, target: str | type[BatchProvider] | type[Adapter], *, replace: bool = False
) -> None:
    """Register a provider class or an adapter class (or a lazy "module:Class" string for
    one) under `name`.

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
            f"unknown provider {name!r}: {did_you_mean(name, names)}"
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
    if isinstance(cls, type) and issubclass(cls, Adapter):
        cls = _provider_for(cls)
    if not (isinstance(cls, type) and issubclass(cls, BatchProvider)):
        raise ConfigError(
            f"provider {name!r} ({target!r}) is neither a BatchProvider nor an Adapter subclass"
        )
    with _lock:
        # cache it only if `name` was not re-registered meanwhile
        if _targets.get(name) is target:
            _loaded[name] = cls
    return cls


def _provider_for(adapter: type[Adapter]) -> type[BatchProvider]:
    """The plain `BatchProvider` of an adapter registered on its own (no vendor extras)."""
    return type(f"{adapter.__name__}Provider", (BatchProvider,), {"adapter_class": adapter})


def async_provider_class(name: str) -> type[AsyncBatchProvider]:
    """The async provider class of the provider registered as `name`: its own, if its
    vendor package declares one (`BatchProvider.async_class`), else a plain
    `AsyncBatchProvider` over the same adapter."""
    sync = provider_class(name)
    if sync.async_class is not None:
        return sync.async_class
    with _lock:
        made = _async.get(sync)
        if made is None:
            made = type(
                f"Async{sync.__name__}",
                (AsyncBatchProvider,),
                {"adapter_class": sync.adapter_class},
            )
            _async[sync] = made
    return made


#: the plain async classes made for providers without their own, one per provider class
_async: dict[type[BatchProvider], type[AsyncBatchProvider]] = {}


def capability_matrix() -> dict[str, Capability]:
    """Every registered provider and what it can do (the docs' and CLI's table)."""
    return {name: provider_class(name).capabilities for name in provider_names()}


def providers_supporting(feature: Capability | type[Any]) -> list[str]:
    """The registered providers that support `feature`, sorted: a `Capability` (every flag
    of it declared), or an interface of vendor extras their class implements, such as
    `SupportsProjects`. The "providers that support it" of every `UnsupportedOperation`."""
    if isinstance(feature, Capability):
        return [name for name, caps in capability_matrix().items() if feature in caps]
    return [name for name in provider_names() if issubclass(provider_class(name), feature)]


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


answer_who_supports(providers_supporting)
