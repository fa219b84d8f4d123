"""Typed provider settings, structured with cattrs from config + env + keywords."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs
import cattrs
import httpx

from ._errors import ConfigError
from ._http import AsyncHttpSession, HttpSession, RetrySettings, VendorErrors, check_api_root
from ._network import resolve
from ._suggest import did_you_mean

S = TypeVar("S", bound="CommonSettings")


#: the longest wait any seconds setting may ask for (about 115 days); beyond it, deadline
#: arithmetic overflows and "never" is not what anyone means
MAX_SECONDS = 1e7


def at_least(minimum: float, *, exclusive: bool = False, maximum: float | None = None) -> Any:
    """An attrs validator: a finite number (a whole one for `int` fields) >= `minimum` (>
    with `exclusive`) and at most `maximum`, else ConfigError. It also guards settings built
    directly, without `connect()`'s converter."""
    relation = ">" if exclusive else ">="

    def check(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
        name = attribute.name
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"setting {name} must be a number, got {type(value).__name__}")
        if not math.isfinite(value):
            raise ConfigError(f"setting {name} must be a finite number, got {value!r}")
        if attribute.type in (int, "int") and not isinstance(value, int):
            raise ConfigError(f"setting {name} must be a whole number (an int), got {value!r}")
        if value < minimum or (exclusive and value == minimum):
            raise ConfigError(f"setting {name} must be {relation} {minimum}, got {value!r}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"setting {name} must be at most {maximum:g}, got {value!r}")

    return check


def boolean(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An attrs validator: a real bool (the string "false" is truthy: never accept it here)."""
    if not isinstance(value, bool):
        raise ConfigError(
            f"setting {attribute.name} must be True or False, got {type(value).__name__}"
        )


def required_credential(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    """`credential`, and present: a required secret may not be None."""
    if value is None:
        raise ConfigError(f"setting {attribute.name} is required")
    credential(instance, attribute, value)


def credential(_: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    """An attrs validator for secrets and headers: printable ASCII text, no surrounding
    whitespace (HTTP header values are ASCII).

    A token read from a file often keeps its trailing newline; sent as a header it would make
    httpx refuse the request with an error quoting the token. The message never echoes it.
    """
    if value is None:
        return
    if not isinstance(value, str):
        raise ConfigError(f"setting {attribute.name} must be a string")
    if not value:
        raise ConfigError(f"setting {attribute.name} is empty")
    if not value.isascii():
        raise ConfigError(
            f"setting {attribute.name} has non-ASCII characters: HTTP headers carry ASCII only; "
            "check it was copied whole (the value is not shown because it may be a secret)"
        )
    if value != value.strip() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ConfigError(
            f"setting {attribute.name} has leading/trailing whitespace or a control character "
            "(a trailing newline from a file or `echo`?): strip it and try again "
            "(the value is not shown because it may be a secret)"
        )


@attrs.frozen(kw_only=True)
class HttpOptions:
    """What an adapter adds to its settings for its HTTP session: credentials and wording."""

    #: how requests authenticate (`httpx.BasicAuth`, a bearer `httpx.Auth`, ...)
    auth: httpx.Auth
    #: headers every request carries (e.g. AI Hub's IB-Context)
    headers: Mapping[str, str] = attrs.field(factory=dict)
    #: the credentials behind `auth`: masked in every message and log line
    secrets: Iterable[str | None] = ()
    #: where the vendor puts an error answer's message, its request-id header, its auth hint
    errors: VendorErrors = attrs.field(factory=VendorErrors)


@attrs.frozen(kw_only=True)
class CommonSettings:
    """Settings every HTTP provider takes."""

    api_root: str
    #: seconds for each connect / read / write (waiting for a pooled connection is not bounded:
    #: it is our own queueing)
    timeout: float = attrs.field(
        default=30.0, validator=at_least(0, exclusive=True, maximum=MAX_SECONDS)
    )
    #: sends per call, the first included (1 = no retries)
    retry_attempts: int = attrs.field(default=5, validator=at_least(1))
    retry_wait_initial: float = attrs.field(default=0.2, validator=at_least(0, maximum=MAX_SECONDS))
    retry_wait_max: float = attrs.field(default=10.0, validator=at_least(0, maximum=MAX_SECONDS))
    #: total seconds one call may spend retrying
    retry_timeout: float = attrs.field(
        default=120.0, validator=at_least(0, exclusive=True, maximum=MAX_SECONDS)
    )
    allow_insecure_http: bool = attrs.field(default=False, validator=boolean)
    #: pooled keep-alive connections (bulk upload runs 16 files at once by default)
    max_connections: int = attrs.field(default=32, validator=at_least(1))
    #: appended to the User-Agent, naming your pipeline: `batchkit/0.1.0 mypipeline/2.3`
    user_agent: str | None = attrs.field(default=None, validator=credential)
    #: first and largest wait between polls of a job or run, in seconds
    poll_initial: float = attrs.field(default=0.2, validator=at_least(0, maximum=MAX_SECONDS))
    poll_max: float = attrs.field(default=5.0, validator=at_least(0, maximum=MAX_SECONDS))
    #: a proxy URL (``http://``, ``https://``, ``socks5://``); unset: the standard
    #: ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` variables, ``NO_PROXY`` honoured
    proxy: str | None = attrs.field(default=None, validator=credential)
    #: TLS certificate checks: true (default), false, or a CA bundle (a file or a directory)
    verify: bool | str = True
    #: a client certificate: one PEM file (certificate and key), or [certificate, key]
    cert: str | list[str] | None = None
    #: called with each request as it is sent ("request") and each response as it arrives
    #: ("response"), before its body is read: httpx's event hooks (from Python only; the
    #: async client awaits a hook that returns an awaitable)
    event_hooks: Mapping[str, Sequence[Callable[[Any], Any]]] | None = attrs.field(
        default=None, repr=False
    )
    #: an httpx transport to send through (tests: `Emulator().transport()`, and for
    #: `connect_async` an async one: `Emulator().async_transport()`, `httpx.MockTransport`)
    transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = attrs.field(
        default=None, repr=False
    )

    def retry(self) -> RetrySettings:
        """The retry policy these settings describe."""
        return RetrySettings(
            attempts=self.retry_attempts,
            wait_initial=self.retry_wait_initial,
            wait_max=self.retry_wait_max,
            timeout=self.retry_timeout,
        )

    def session(self, provider: str, options: HttpOptions) -> HttpSession:
        """The pooled HTTP session these settings describe, with the adapter's `options`
        (its credentials, masked in every error message, and how its vendor words errors)."""
        transport = self.transport
        self._no_network_with(transport, provider)
        if transport is not None and not isinstance(transport, httpx.BaseTransport):
            raise ConfigError(
                f"{provider}: transport {type(transport).__name__} is async-only: use it with "
                "batchkit.connect_async, or pass an httpx.BaseTransport to connect"
            )
        return HttpSession(transport=transport, **self._session_options(provider, options))

    def async_session(self, provider: str, options: HttpOptions) -> AsyncHttpSession:
        """`session`, for the async client."""
        transport = self.transport
        self._no_network_with(transport, provider)
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            raise ConfigError(
                f"{provider}: transport {type(transport).__name__} is sync-only: use it with "
                "batchkit.connect, or pass an httpx.AsyncBaseTransport to connect_async "
                "(e.g. Emulator().async_transport())"
            )
        return AsyncHttpSession(transport=transport, **self._session_options(provider, options))

    def _no_network_with(self, transport: object, provider: str) -> None:
        given = [
            name
            for name, value in (("proxy", self.proxy), ("verify", self.verify), ("cert", self.cert))
            if value is not attrs.fields_dict(CommonSettings)[name].default
        ]
        if transport is not None and given:
            raise ConfigError(
                f"{provider}: {', '.join(given)} set with transport=: the transport is the "
                "network, so they would not apply; drop one or the other"
            )

    def _session_options(self, provider: str, options: HttpOptions) -> dict[str, Any]:
        api_root = self.checked_api_root()
        network = resolve(
            api_root, proxy=self.proxy, verify=self.verify, cert=self.cert, provider=provider
        )
        return {
            "provider": provider,
            "api_root": api_root,
            "network": network,
            "event_hooks": _hooks(self.event_hooks, provider),
            "auth": options.auth,
            "headers": options.headers,
            "timeout": self.timeout,
            "retry": self.retry(),
            "max_connections": self.max_connections,
            "secrets": [*options.secrets, network.proxy_password],
            "errors": options.errors,
            "user_agent": self.user_agent,
        }

    def checked_api_root(self) -> str:
        """`api_root`, validated (https unless loopback or explicitly allowed)."""
        default = attrs.fields(type(self)).api_root.default
        return check_api_root(
            self.api_root,
            allow_insecure_http=self.allow_insecure_http,
            setting="api_root",
            example=default if isinstance(default, str) else None,
        )


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("expected true or false (or yes/no, on/off, 1/0)")


def _hooks(
    hooks: Mapping[str, Sequence[Callable[[Any], Any]]] | None, provider: str
) -> dict[str, list[Callable[[Any], Any]]]:
    """`event_hooks` checked: "request" and "response" lists of callables."""
    if not hooks:
        return {}
    if not isinstance(hooks, Mapping) or set(hooks) - {"request", "response"}:
        raise ConfigError(
            f"{provider}: event_hooks must be {{'request': [...], 'response': [...]}}, got "
            f"{hooks!r:.80}"
        )
    checked: dict[str, list[Callable[[Any], Any]]] = {}
    for kind, given in hooks.items():
        listed: list[Any] = [given] if callable(given) else list(given)
        if not all(callable(hook) for hook in listed):
            raise ConfigError(f"{provider}: event_hooks[{kind!r}] must hold callables")
        checked[kind] = listed
    return checked


def _verify_setting(value: Any, _: Any) -> bool | str:
    """true / false (also as text, from the environment or TOML), or a CA bundle path."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, str) and value.strip():
        return value
    raise ValueError("expected true, false or the path of a CA bundle")


def _cert_setting(value: Any, _: Any) -> str | list[str] | None:
    if value is None or (isinstance(value, str) and value):
        return value
    if (
        isinstance(value, list | tuple)
        and 1 <= len(value) <= 2
        and all(isinstance(v, str) and v for v in value)
    ):
        return list(value)
    raise ValueError("expected a PEM file path, or [certificate file, key file]")


def _event_hooks_setting(value: Any, _: Any) -> Any:
    return value  # checked when the session is made (`_hooks`), with the provider's name


def _transport(value: Any, _: Any) -> httpx.BaseTransport | httpx.AsyncBaseTransport | None:
    if value is None or isinstance(value, httpx.BaseTransport | httpx.AsyncBaseTransport):
        return value
    raise ValueError(
        f"expected an httpx.BaseTransport (or AsyncBaseTransport), got {type(value).__name__}"
    )


#: numbers as text (from the environment): plain ASCII decimals, no `_` separators
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _int(value: Any, _: Any) -> int:
    """Ints, and strings of them (from the environment); never bools or fractions."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a whole number, got {type(value).__name__}")
    if isinstance(value, str) and not _INT_TEXT.fullmatch(value.strip()):
        raise ValueError("expected a whole number, got other text")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("expected a whole number, got a fraction")
    return int(value)


def _float(value: Any, _: Any) -> float:
    """Finite numbers, and strings of them (from the environment); never bools, NaN or inf."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if isinstance(value, str) and not _FLOAT_TEXT.fullmatch(value.strip()):
        raise ValueError("expected a number, got other text")
    try:
        number = float(value)
    except OverflowError:  # an int too big for a float
        raise ValueError("expected a finite number, got one too large") from None
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {number!r}")
    return number


def _str(value: Any, _: Any) -> str:
    """Strings only: token=123 is a mistake to report, not a value to send as "123"."""
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return value


def _optional_str(value: Any, _: Any) -> str | None:
    return None if value is None else _str(value, _)


_converter = cattrs.Converter(forbid_extra_keys=True)
_converter.register_structure_hook(bool, _bool)
_converter.register_structure_hook(
    httpx.BaseTransport | httpx.AsyncBaseTransport | None, _transport
)
_converter.register_structure_hook(bool | str, _verify_setting)
_converter.register_structure_hook(str | list[str] | None, _cert_setting)
_converter.register_structure_hook(
    Mapping[str, Sequence[Callable[[Any], Any]]] | None, _event_hooks_setting
)
_converter.register_structure_hook(int, _int)
_converter.register_structure_hook(float, _float)
_converter.register_structure_hook(str, _str)
_converter.register_structure_hook(str | None, _optional_str)


def _unknown_settings(provider: str, unknown: Mapping[str, Any], known: list[str]) -> ConfigError:
    parts = [f"{k!r} ({did_you_mean(k, known).strip() or 'no close match'})" for k in unknown]
    return ConfigError(
        f"unknown {provider} setting(s): {', '.join(parts)}; known settings: {', '.join(known)}"
    )


def structure_settings(provider: str, cls: type[S], values: Mapping[str, Any]) -> S:
    """Build `cls` from `values`, turning every problem into one clear `ConfigError`."""
    known = [f.name for f in attrs.fields(cls)]
    unknown = {k: v for k, v in values.items() if k not in known}
    if unknown:
        raise _unknown_settings(provider, unknown, known)
    try:
        return _converter.structure(dict(values), cls)
    except cattrs.ClassValidationError as e:
        problems = "; ".join(_describe(line) for line in cattrs.transform_error(e, "", _reason))
        raise ConfigError(f"invalid {provider} settings: {problems}") from None


def _reason(exc: BaseException, _: Any) -> str:
    """One problem in words. Our hooks and validators never put a value in a message (it may
    be a secret), so their text is used as is; anything else says only what was expected."""
    if isinstance(exc, ConfigError | ValueError) and str(exc):
        return str(exc)
    if isinstance(exc, KeyError):
        return "is required"
    return "has the wrong type"


def _describe(line: str) -> str:
    """cattrs' "<reason> @ .<setting>" as "<setting>: <reason>" (validators name it already)."""
    reason, _, path = line.rpartition(" @ ")
    setting = path.lstrip(".$")
    return f"{setting}: {reason}" if setting else reason
