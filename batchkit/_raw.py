"""`provider.request(...)`: an endpoint batchkit does not wrap yet, as one checked `Call`.

The call goes through the same session as every operation: the provider's credentials (to
its own origin only), retries by the method's idempotency, the deadline, errors mapped to
batchkit's exceptions with every credential masked. What comes back is the read
`httpx.Response`: its status, headers and body as the vendor sent them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ._call import Call, Retry
from ._errors import InvalidInput
from ._validate import flag, json_object, text

#: an HTTP method: a token (RFC 9110 §9.1), upper-cased before it is sent
_METHOD = re.compile(r"[A-Za-z]{1,20}")
#: methods whose repeat has the effect of one (RFC 9110 §9.2.2): retried on any failure
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: the longest path (or URL) a request may name
MAX_PATH = 8192


def raw_call(
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    ok: Iterable[int] | None = None,
    idempotent: bool | None = None,
) -> Call:
    """The `Call` for `provider.request`, every argument checked (`InvalidInput`)."""
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise InvalidInput(f"method must be an HTTP method such as 'GET', got {method!r:.80}")
    verb = method.upper()
    try:
        text("path", path, max_length=MAX_PATH)
    except InvalidInput as e:
        raise InvalidInput(
            f"{e}: path is a path under the API root (e.g. 'v2/batches/7') or a URL"
        ) from None
    query: dict[str, str | int | list[str]] | None = None
    if params is not None:
        query = {}
        for key, value in json_object("params", dict(params)).items():
            if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
                query[key] = list(value)
            elif isinstance(value, str | int) and not isinstance(value, bool):
                query[key] = value
            else:
                raise InvalidInput(
                    f"params[{key!r}] must be a str, an int or a list of str, got {value!r:.80}"
                )
    if json is not None and content is not None:
        raise InvalidInput("pass json= or content=, not both")
    if content is not None and not isinstance(content, bytes):
        raise InvalidInput(f"content must be bytes, got {type(content).__name__}")
    if headers is not None:
        for name, value in dict(headers).items():
            if not (isinstance(name, str) and isinstance(value, str)):
                raise InvalidInput(f"headers must map str to str, got {name!r:.40}: {value!r:.40}")
            if name.lower() == "authorization":
                raise InvalidInput(
                    "headers must not set Authorization: the provider's own credentials go "
                    "with every request to its API"
                )
    accepted = frozenset(range(200, 300)) if ok is None else frozenset(ok)
    if not accepted or not all(
        isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in accepted
    ):
        raise InvalidInput(f"ok must hold HTTP statuses (100-599), got {ok!r:.80}")
    if idempotent is None:
        idempotent = verb in IDEMPOTENT
    else:
        flag("idempotent", idempotent)
    return Call(
        "request",
        verb,
        path,
        params=query,
        json=json,
        content=content,
        headers=dict(headers) if headers else None,
        ok=accepted,
        retry=Retry.IDEMPOTENT if idempotent else Retry.UNSENT_ONLY,
    )
