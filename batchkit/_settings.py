"""Typed provider settings, structured with cattrs from config + env + keywords."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import attrs
import cattrs
import httpx

from ._errors import ConfigError
from ._http import HttpSession, RetrySettings, check_api_root

S = TypeVar("S", bound="CommonSettings")


@attrs.frozen(kw_only=True)
class CommonSettings:
    """Settings every HTTP provider takes."""

    api_root: str
    #: seconds for connect / read / write / pool waits
    timeout: float = 30.0
    retry_attempts: int = 5
    retry_wait_initial: float = 0.2
    retry_wait_max: float = 10.0
    #: total seconds one call may spend retrying
    retry_timeout: float = 120.0
    allow_insecure_http: bool = False
    #: pooled keep-alive connections (bulk upload runs 16 files at once by default)
    max_connections: int = 32
    #: an httpx transport to send through (tests: `Emulator().transport()`)
    transport: httpx.BaseTransport | None = attrs.field(default=None, repr=False)

    def retry(self) -> RetrySettings:
        """The retry policy these settings describe."""
        return RetrySettings(
            attempts=self.retry_attempts,
            wait_initial=self.retry_wait_initial,
            wait_max=self.retry_wait_max,
            timeout=self.retry_timeout,
        )

    def session(
        self, provider: str, auth: httpx.Auth, headers: Mapping[str, str] | None = None
    ) -> HttpSession:
        """The pooled HTTP session these settings describe."""
        return HttpSession(
            provider=provider,
            api_root=self.checked_api_root(),
            auth=auth,
            headers=headers,
            timeout=self.timeout,
            retry=self.retry(),
            transport=self.transport,
            max_connections=self.max_connections,
        )

    def checked_api_root(self) -> str:
        """`api_root`, validated (https unless loopback or explicitly allowed)."""
        return check_api_root(
            self.api_root, allow_insecure_http=self.allow_insecure_http, setting="api_root"
        )


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"expected true/false, got {value!r}")


def _transport(value: Any, _: Any) -> httpx.BaseTransport | None:
    if value is None or isinstance(value, httpx.BaseTransport):
        return value
    raise ValueError(f"expected an httpx.BaseTransport, got {type(value).__name__}")


def _strict_number(kind: type) -> Any:
    def hook(value: Any, _: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        return kind(value)

    return hook


_converter = cattrs.Converter(forbid_extra_keys=True)
_converter.register_structure_hook(bool, _bool)
_converter.register_structure_hook(httpx.BaseTransport | None, _transport)
_converter.register_structure_hook(int, _strict_number(int))
_converter.register_structure_hook(float, _strict_number(float))


def structure_settings(provider: str, cls: type[S], values: Mapping[str, Any]) -> S:
    """Build `cls` from `values`, turning every problem into one clear `ConfigError`."""
    from ._registry import _settings_error

    known = [f.name for f in attrs.fields(cls)]
    unknown = {k: v for k, v in values.items() if k not in known}
    if unknown:
        raise _settings_error(provider, unknown, known)
    try:
        return _converter.structure(dict(values), cls)
    except cattrs.ClassValidationError as e:
        problems = "; ".join(cattrs.transform_error(e, path=provider))
        # never echo values: they may be secrets
        raise ConfigError(f"invalid {provider} settings: {problems}") from None
