"""Strict JSON request parsing shared by both emulated vendors.

Python's `json` accepts what a real JSON API would refuse and what the emulator could not send
back: `NaN` / `Infinity`, numbers that overflow to infinity (`1e999`), and lone UTF-16
surrogates (`"\\ud800"`). Stored, such a value would turn every later response that contains
it into a 500, so requests carrying one are refused up front.
"""

from __future__ import annotations

import json
import math
from typing import Any


def loads(body: bytes) -> Any:
    """Parse `body` as strict JSON; `ValueError` (or `RecursionError`) says what is wrong."""

    def refuse_constant(constant: str) -> Any:
        raise ValueError(f"{constant} is not valid JSON")

    def finite(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"the number {text[:20]} is out of range")
        return value

    value = json.loads(body, parse_constant=refuse_constant, parse_float=finite)
    # raw UTF-8 cannot carry a surrogate (decoding refuses it): only a `\u` escape can, so
    # only such a body pays for the re-encoding that finds a lone one
    if b"\\u" in body:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone UTF-16 surrogate (not valid Unicode)") from None
    return value
