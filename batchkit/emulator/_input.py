"""Untrusted request text (headers, query strings, path segments) read safely, for both vendors.

Every number the emulator reads off the wire goes through `whole_number`: Python's
``int()`` refuses more than 4300 digits with a ``ValueError`` (a 500, were it let through),
accepts what no HTTP number is (``'²'``, ``'٣'``, ``'1_000'``, ``' +7 '``), and a number
past 64 bits overflows wherever it meets C (``seek``, ``range``, sizes). Error messages quote
request text through `excerpt`, so a megabyte-long header is not sent back whole.
"""

from __future__ import annotations

import re

#: the most significant digits a wire number may have: every 18-digit number fits in a signed
#: 64-bit integer, and no size, offset, count or id the emulator keeps comes near it
MAX_DIGITS = 18
#: the largest number `whole_number` returns
MAX_WHOLE: int = 10**MAX_DIGITS - 1

_ASCII_DIGITS = re.compile(r"[0-9]+")  # not str.isdigit(): it also takes '²' and '٣'
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")


def whole_number(text: str) -> int | None:
    """``text`` as an ``int`` if it is ASCII digits of at most `MAX_DIGITS` significant
    digits (leading zeros are free); ``None`` for anything else.

    Callers that already know ``text`` is all digits can read ``None`` as "larger than
    `MAX_WHOLE`" (e.g. a ``Range`` past the end of any file).
    """
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > MAX_DIGITS:
        return None
    return int(significant)


def in_range(value: int) -> bool:
    """Whether an integer from a JSON body is within ``±MAX_WHOLE`` (a JSON integer may have
    up to 4300 digits)."""
    return -MAX_WHOLE <= value <= MAX_WHOLE


def printable_ascii(text: str) -> bool:
    """Whether ``text`` is non-empty visible ASCII (no spaces, controls or other scripts), as
    API keys and tokens are."""
    return _PRINTABLE_ASCII.fullmatch(text) is not None


def excerpt(text: str, limit: int = 60) -> str:
    """``repr(text)`` for an error message, cut to ``limit`` characters with the full length
    noted when longer."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"
