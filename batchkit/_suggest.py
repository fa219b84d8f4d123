"""A "did you mean …?" for a name looked up in a known set (providers, profiles, settings)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"did you mean 'x'? "`` for the closest of `choices` to `name`, or ``""`` if none
    is close (to put in front of the list of known names)."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"did you mean {close[0]!r}? " if close else ""
