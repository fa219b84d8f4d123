"""`batchkit.toml` profiles, environment overrides and secret references, and `connect`.

Lookup order for the file: the explicit path, `$BATCHKIT_CONFIG`, `./batchkit.toml`, then the
user config dir (e.g. `~/.config/batchkit/batchkit.toml`). A profile looks like::

    [profiles.prod]
    provider = "aihub"
    api_root = "https://aihub.instabase.com/api"
    token_env = "AIHUB_PROD_TOKEN"   # any `<setting>_env` key reads <setting> from that variable

`default_profile = "prod"` at the top level picks a profile when none is named, if that
profile is for the provider chosen (see `resolve` for the whole rule).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs
import platformdirs

from ._aprovider import AsyncBatchProvider
from ._errors import ConfigError, InvalidInput, NoProviderChosen
from ._provider import BatchProvider
from ._registry import async_provider_class, provider_class, provider_names
from ._suggest import did_you_mean
from ._validate import local_path

CONFIG_NAME = "batchkit.toml"


#: a batchkit.toml is a few hundred bytes; a file past this is not one, and tomllib would hold
#: all of it in memory (twice: bytes, then text)
MAX_CONFIG_BYTES = 1024 * 1024


def config_candidates(explicit: str | Path | None = None) -> list[Path]:
    """Where a config file is looked for, in order."""
    if explicit is not None:
        return [Path(_config_path(explicit))]
    if os.environ.get("BATCHKIT_CONFIG"):
        return [Path(os.environ["BATCHKIT_CONFIG"])]
    paths = []
    with contextlib.suppress(OSError):  # a deleted working directory holds no file
        paths.append(Path.cwd() / CONFIG_NAME)
    paths.append(Path(platformdirs.user_config_dir("batchkit")) / CONFIG_NAME)
    return paths


def _config_path(explicit: object) -> str:
    """`config=` as text, if it is a usable path (the checks of `local_path`)."""
    try:
        return local_path("config (the path of a batchkit.toml, or None)", explicit)
    except InvalidInput as e:
        raise ConfigError(str(e)) from None


def load_config(explicit: str | Path | None = None) -> tuple[dict[str, Any], Path | None]:
    """Read the first config file found; ({}, None) if there is none.

    An explicit path (argument or `$BATCHKIT_CONFIG`) that does not exist is an error. Every
    problem with a file that is there is a `ConfigError` naming it, never quoting it (it may
    hold secrets).
    """
    candidates = config_candidates(explicit)
    must_exist = explicit is not None or bool(os.environ.get("BATCHKIT_CONFIG"))
    for path in candidates:
        data = _read_config(path)
        if data is not None:
            return data, path
        if must_exist:
            raise ConfigError(f"config file {path} does not exist")
    return {}, None


def _cannot_read(path: Path, error: OSError | ValueError) -> ConfigError:
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return ConfigError(
        f"config file {path} cannot be read: {reason}; check the path and its permissions"
    )


def _read_config(path: Path) -> dict[str, Any] | None:
    """The parsed file at `path`, or None if nothing is there."""
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as e:  # ValueError: a NUL in the path
        raise _cannot_read(path, e) from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(
            f"config file {path} is a directory, not a file: remove or rename it, or name "
            "the file to use with config= or $BATCHKIT_CONFIG"
        )
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(
            f"config file {path} is not a regular file (a device, pipe or socket): name a "
            "TOML file with config= or $BATCHKIT_CONFIG"
        )
    limit = f"{MAX_CONFIG_BYTES // (1024 * 1024)} MiB"
    too_big = ConfigError(
        f"config file {path} is larger than {limit}: a batchkit.toml holds a few profiles; "
        "is this the right file?"
    )
    if info.st_size > MAX_CONFIG_BYTES:
        raise too_big
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)  # the size can change after stat()
    except OSError as e:
        raise _cannot_read(path, e) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise too_big
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"config file {path} is not valid UTF-8 (byte {e.start}): TOML files are "
            "UTF-8; re-save it as UTF-8"
        ) from None
    except RecursionError:
        raise ConfigError(
            f"config file {path} is not usable TOML: its arrays or inline tables are nested "
            "too deeply to read; a batchkit.toml needs only [profiles.<name>] tables of "
            "plain values: rewrite it that way"
        ) from None


#: how the provider was chosen (`ResolvedSettings.provider_from`)
ProviderSource = Literal["argument", "environment", "profile"]
#: how the profile was chosen (`ResolvedSettings.profile_from`)
ProfileSource = Literal["argument", "environment", "default_profile"]


def _argument_or_env(
    value: str | None, variable: str
) -> tuple[str | None, Literal["argument", "environment"] | None]:
    """An argument wins over its environment variable; an empty one of either is unset."""
    if value:
        return value, "argument"
    if os.environ.get(variable):
        return os.environ[variable], "environment"
    return None, None


@attrs.frozen
class SettingOrigin:
    """Where one resolved setting came from."""

    #: "profile" (the profile's table in the config file), "environment" (a variable the
    #: provider reads, e.g. AIHUB_API_TOKEN) or "argument" (a keyword argument)
    kind: Literal["profile", "environment", "argument"]
    #: the environment variable the value was read from: the provider's own, or the one a
    #: `<setting>_env` key names; None for a value written out
    variable: str | None = None
    #: `variable` is not set (only with ``allow_unset=True``; the value is then None)
    unset: bool = False


@attrs.frozen
class ResolvedSettings:
    """What `connect` builds a provider from, and where each part came from."""

    #: the provider's registry name
    provider: str
    #: the merged settings (profile < environment < arguments); never shown in a repr, since
    #: they hold credentials
    settings: Mapping[str, Any] = attrs.field(repr=False)
    #: where each of `settings` came from
    origins: Mapping[str, SettingOrigin]
    #: the profile used, if any
    profile: str | None = None
    #: the config file read, if one was
    config_file: Path | None = None
    #: the provider's settings that hold secrets (`BatchProvider.secret_settings`)
    secret_settings: frozenset[str] = frozenset()
    #: how the provider was chosen: "argument", "environment" ($BATCHKIT_PROVIDER) or
    #: "profile" (the profile's `provider`)
    provider_from: ProviderSource | None = None
    #: how the profile was chosen: "argument", "environment" ($BATCHKIT_PROFILE) or
    #: "default_profile"; None when no profile applies
    profile_from: ProfileSource | None = None


def _resolve_secret_refs(
    values: Mapping[str, Any],
    label: str,
    kind: Literal["profile", "argument"],
    *,
    lenient: bool = False,
) -> tuple[dict[str, Any], dict[str, SettingOrigin]]:
    """`values` with each `<setting>_env` read from its variable, and each one's origin."""
    out: dict[str, Any] = {}
    origins: dict[str, SettingOrigin] = {}
    for key, value in values.items():
        if key.endswith("_env") and key != "_env":
            setting = key[: -len("_env")]
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{label}: {key} must name an environment variable")
            if value not in os.environ and not lenient:
                raise ConfigError(
                    f"{label}: {key} = {value!r} but the environment variable {value} is not "
                    f"set: export it, or set {setting} directly"
                )
            if setting not in out:
                unset = value not in os.environ
                out[setting] = None if unset else os.environ[value]
                origins[setting] = SettingOrigin(kind, variable=value, unset=unset)
        else:
            out[key] = value
            origins[key] = SettingOrigin(kind)
    return out, origins


def _example_provider() -> str:
    """A registered provider's name, for the examples in messages."""
    names = provider_names()
    return names[0] if names else "<provider>"


_SOURCE_TEXT = {
    "argument": "the {0} argument",
    "environment": "${1}",
    "profile": "the profile's provider",
    "default_profile": "default_profile",
}


def _chosen_by(source: str | None, what: str) -> str:
    """`source` as a message says it: "the provider argument", "$BATCHKIT_PROVIDER", ..."""
    return _SOURCE_TEXT[source or "argument"].format(what, f"BATCHKIT_{what.upper()}")


def resolve(
    provider: str | None,
    *,
    profile: str | None,
    config: str | Path | None,
    overrides: Mapping[str, Any],
    lenient: bool = False,
) -> ResolvedSettings:
    """Work out the provider name and its merged settings, by one rule (docs/configuration.md).

    Which provider: the argument, else `$BATCHKIT_PROVIDER`, else the profile's `provider`.
    Which profile: the argument, else `$BATCHKIT_PROFILE`, else the file's `default_profile`;
    a profile applies only to its own provider: a default profile for another provider than
    the one chosen is ignored, a named one is a `ConfigError` naming both.
    Which settings: profile < the provider's environment variables < keyword arguments.

    With `lenient`, a `<setting>_env` naming an unset variable gives None (its origin says
    `unset`) instead of a `ConfigError` (to show the configuration, not to connect with it).
    """
    for label, value in (("provider", provider), ("profile", profile)):
        if value is not None and not isinstance(value, str):
            example = _example_provider() if label == "provider" else "prod"
            raise ConfigError(
                f"{label} must be a name (a str, e.g. {example!r}) or None; got "
                f"{type(value).__name__}: {value!r:.80}"
            )
    provider_from: ProviderSource | None
    profile_from: ProfileSource | None
    provider, provider_from = _argument_or_env(provider, "BATCHKIT_PROVIDER")
    profile, profile_from = _argument_or_env(profile, "BATCHKIT_PROFILE")
    data, path = load_config(config)
    if profile is None and "default_profile" in data:
        profile = data["default_profile"]
        if not isinstance(profile, str) or not profile:
            where = f" in {path}" if path else ""
            raise ConfigError(
                f"default_profile{where} must be a profile name in quotes, "
                'e.g. default_profile = "prod"; got '
                + (repr(profile) if isinstance(profile, str) else f"a {type(profile).__name__}")
            )
        profile_from = "default_profile"
    values: dict[str, Any] = {}
    origins: dict[str, SettingOrigin] = {}
    if profile is not None:
        profiles = data.get("profiles", {})
        if not isinstance(profiles, dict) or profile not in profiles:
            known = sorted(profiles) if isinstance(profiles, dict) else []
            where = str(path) if path else "no batchkit.toml was found"
            raise ConfigError(
                f"unknown profile {profile!r} ({where}): {did_you_mean(profile, known)}"
                f"known profiles: {', '.join(known) or 'none'}"
            )
        table = profiles[profile]
        if not isinstance(table, dict):
            raise ConfigError(f"[profiles.{profile}] must be a table")
        # an unset `<setting>_env` is an error only if its setting is not given elsewhere
        values, origins = _resolve_secret_refs(
            table, f"[profiles.{profile}]", "profile", lenient=True
        )
    own = values.pop("provider", None)
    origins.pop("provider", None)
    if own is not None and not isinstance(own, str):
        raise ConfigError(
            f'provider must be a provider name in quotes, e.g. provider = "{_example_provider()}"; '
            f"got a {type(own).__name__}"
        )
    if provider is not None and own and own != provider:
        if profile_from != "default_profile":
            raise ConfigError(
                f"profile {profile!r} (from {_chosen_by(profile_from, 'profile')}) is for "
                f"provider {own!r}, but provider {provider!r} was chosen (by "
                f"{_chosen_by(provider_from, 'provider')}): name a {provider} profile, "
                f"or choose provider {own!r}"
            )
        # the file's default profile is for another provider: it does not apply
        values, origins, profile, profile_from = {}, {}, None, None
    name = provider or own
    if provider is None and own:
        provider_from = "profile"
    if not name:
        choices = " | ".join(repr(n) for n in provider_names())
        raise NoProviderChosen(
            f"no provider chosen: pass connect({choices}), set BATCHKIT_PROVIDER, "
            "or use a profile with provider = ..."
        )
    cls = provider_class(name)
    for env_var, setting in cls.env_settings.items():
        if os.environ.get(env_var):
            values[setting] = os.environ[env_var]
            origins[setting] = SettingOrigin("environment", variable=env_var)
    given, given_origins = _resolve_secret_refs(overrides, "connect()", "argument")
    values.update(given)
    origins.update(given_origins)
    if not lenient:
        for setting, origin in origins.items():
            if origin.unset:
                raise ConfigError(
                    f"[profiles.{profile}]: {setting}_env = {origin.variable!r} but the "
                    f"environment variable {origin.variable} is not set: export it, or set "
                    f"{setting} directly"
                )
    return ResolvedSettings(
        provider=name,
        settings=values,
        origins=origins,
        profile=profile,
        config_file=path,
        secret_settings=cls.secret_settings,
        provider_from=provider_from,
        profile_from=profile_from,
    )


def resolve_settings(
    provider: str | None = None,
    *,
    profile: str | None = None,
    config: str | Path | None = None,
    allow_unset: bool = False,
    **settings: Any,
) -> ResolvedSettings:
    """What `connect` would build a provider from, with the same arguments, and where each
    setting came from; connects to nothing.

    With `allow_unset`, a profile's `<setting>_env` naming a variable that is not set gives
    the setting None and an origin marked `unset`, instead of a `ConfigError`: to show a
    configuration (``batchkit config show``), not to connect with it.
    """
    return resolve(
        provider, profile=profile, config=config, overrides=settings, lenient=allow_unset
    )


def connect(
    provider: str | None = None,
    *,
    profile: str | None = None,
    config: str | Path | None = None,
    **settings: Any,
) -> BatchProvider:
    """Return a ready `BatchProvider`.

    The provider is `provider`, else `$BATCHKIT_PROVIDER`, else the profile's `provider`.
    Settings come from the profile (`profile`, else `$BATCHKIT_PROFILE`, else the file's
    `default_profile` if it is for that provider) in `batchkit.toml`, overridden by
    environment variables (e.g. `AIHUB_API_TOKEN`), overridden by keyword
    arguments. Examples::

        batchkit.connect("aihub", api_root="https://aihub.instabase.com/api", token=...)
        batchkit.connect("scale", api_key=...)
        batchkit.connect(profile="prod")
    """
    resolved = resolve(provider, profile=profile, config=config, overrides=settings)
    return provider_class(resolved.provider).from_settings(resolved.settings)


def connect_async(
    provider: str | None = None,
    *,
    profile: str | None = None,
    config: str | Path | None = None,
    **settings: Any,
) -> AsyncBatchProvider:
    """Return a ready `AsyncBatchProvider`: `connect`, for asyncio and trio.

    The same provider choice, profiles, environment variables and settings as `connect`
    (a `transport=` must be an `httpx.AsyncBaseTransport`, e.g.
    `Emulator().async_transport()`). Use it with ``async with``::

        async with batchkit.connect_async(profile="prod") as provider:
            batch = await provider.create_batch("invoices", project="ops")
            async for f in provider.list_files(batch): ...
    """
    resolved = resolve(provider, profile=profile, config=config, overrides=settings)
    return async_provider_class(resolved.provider).from_settings(resolved.settings)
