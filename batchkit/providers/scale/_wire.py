"""Scale v1 wire models and their converter (documented keys; unknown keys ignored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
import cattrs

from ..._wire import from_iso, strict_converter


@attrs.frozen
class WireBatch:
    """A v1 batch object."""

    name: str
    project: str | None = None
    status: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    callback: str | None = None
    metadata: dict[str, Any] = attrs.Factory(dict)
    priority: int | None = None


@attrs.frozen
class WireStatus:
    """`GET /batches/<name>/status`: counts absent on the wire mean 0."""

    status: str | None = None
    pending: int = 0
    completed: int = 0
    error: int = 0
    canceled: int = 0


@attrs.frozen
class WirePage:
    """`GET /batches`: the paged envelope the live API sends."""

    docs: list[WireBatch]
    totalDocs: int | None = None
    limit: int | None = None
    offset: int | None = None
    has_more: bool = False


@attrs.frozen
class WireProject:
    """A project; the SDK requires `param_history`."""

    name: str
    type: str | None = None
    param_history: list[dict[str, Any]] = attrs.Factory(list)


@attrs.frozen
class WireTask:
    """A v1 task object (docs: tasks-object-overview); `batch` / `project` are names."""

    task_id: str
    status: str | None = None
    type: str | None = None
    batch: str | None = None
    project: str | None = None
    unique_id: str | None = None
    created_at: datetime | None = None
    response: dict[str, Any] | None = None
    metadata: dict[str, Any] = attrs.Factory(dict)


@attrs.frozen
class WireTaskPage:
    """`GET /tasks`: `docs` and `has_more` (the SDK's stop condition), `next_token`."""

    docs: list[WireTask]
    has_more: bool = False
    next_token: str | None = None
    total: int | None = None


def _datetime(value: Any, _: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 string, got {type(value).__name__}")
    when = from_iso(value)
    assert when is not None
    return when


def _any_dict(value: Any, _: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"expected an object, got {type(value).__name__}")
    return value


def make_converter() -> cattrs.Converter:
    """The Scale converter: strict types, ISO timestamps to aware datetimes."""
    c = strict_converter()
    c.register_structure_hook(datetime, _datetime)
    c.register_structure_hook_func(lambda t: t == dict[str, Any], _any_dict)
    c.register_structure_hook_func(
        lambda t: t == dict[str, Any] | None, lambda v, _: None if v is None else _any_dict(v, _)
    )
    return c


def normalize_status(data: Any) -> Any:
    """Accept the docs' SDK-derived `tasks_pending` / `tasks_completed` keys too."""
    if isinstance(data, dict):
        data = dict(data)
        for short in ("pending", "completed", "error", "canceled"):
            long = f"tasks_{short}"
            if short not in data and long in data:
                data[short] = data[long]
    return data


def normalize_page(data: Any) -> Any:
    """The docs show a bare batch (or a list) where the wire sends `{"docs": [...]}`."""
    if isinstance(data, list):
        return {"docs": data, "has_more": False}
    if isinstance(data, dict) and "docs" not in data and "name" in data:
        return {"docs": [data], "has_more": False}
    return data
