"""Shared parsing machinery for vendor adapters: strict cattrs converters, clear errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import cattrs
import httpx

from ._errors import ProviderError

T = TypeVar("T")


def _strict(kind: type, label: str) -> Any:
    def hook(value: Any, _: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ValueError(f"expected {label}, got {type(value).__name__}")
        return value

    return hook


def _bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected a boolean, got {type(value).__name__}")
    return value


def _float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    return float(value)


def strict_converter() -> cattrs.Converter:
    """A converter that ignores unknown keys but never coerces documented types."""
    # detailed_validation off: generated structuring code is much faster on hot paths (file
    # listings); a shape error still becomes a ProviderError naming the problem
    c = cattrs.Converter(forbid_extra_keys=False, detailed_validation=False)
    c.register_structure_hook(str, _strict(str, "a string"))
    c.register_structure_hook(int, _strict(int, "an integer"))
    c.register_structure_hook(bool, _bool)
    c.register_structure_hook(float, _float)
    # Optional scalars are most fields of a listing: give them direct hooks instead of
    # cattrs' generic Optional dispatch (a measured hot spot, see benchmarks B3/B4)
    for kind, hook in (
        (str, _strict(str, "a string")),
        (int, _strict(int, "an integer")),
        (float, _float),
        (bool, _bool),
    ):
        c.register_structure_hook_func(_is_optional_of(kind), _optional(hook))
    return c


def _is_optional_of(kind: type) -> Any:
    def check(t: Any) -> bool:
        return bool(t == kind | None)

    return check


def _optional(hook: Any) -> Any:
    def structure(value: Any, kind: Any) -> Any:
        return None if value is None else hook(value, kind)

    return structure


def parse(
    converter: cattrs.Converter, cls: type[T], data: Any, *, provider: str, operation: str
) -> T:
    """Structure vendor JSON into `cls`; a shape we cannot read becomes a `ProviderError`."""
    try:
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as e:
        if isinstance(e, cattrs.BaseValidationError):
            detail = "; ".join(cattrs.transform_error(e, path="response"))
        else:
            detail = str(e)
        raise ProviderError(
            f"{provider} {operation}: unexpected response shape ({detail})",
            provider=provider,
            operation=operation,
        ) from None


def json_body(response: httpx.Response, *, provider: str, operation: str) -> Any:
    """The response's JSON, or a `ProviderError` saying the vendor sent something else."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        raise ProviderError(
            f"{provider} {operation}: expected JSON, got {response.headers.get('content-type')!r}"
            f" ({len(response.content)} bytes)",
            provider=provider,
            operation=operation,
            status=response.status_code,
        ) from None


def from_unix_ms(value: int | None) -> datetime | None:
    """Unix milliseconds → aware UTC datetime (`ValueError` if out of range)."""
    if value is None:
        return None
    try:
        seconds = value / 1000
    except OverflowError:
        raise ValueError(f"timestamp {value!r} ms is out of range") from None
    return from_unix_s(seconds)


def from_unix_s(value: float | None) -> datetime | None:
    """Unix seconds → aware UTC datetime (`ValueError` if out of range or not finite)."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"timestamp {value!r} is out of range") from None


def from_iso(value: str | None) -> datetime | None:
    """ISO 8601 (with `Z` or an offset; naive taken as UTC) → aware datetime."""
    if value is None:
        return None
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def to_iso(value: datetime) -> str:
    """Aware (or naive = UTC) datetime → ISO 8601 UTC with `Z`, millisecond precision."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
