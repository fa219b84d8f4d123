"""Fault and latency rules, and the seeded decider that applies them to requests."""

from __future__ import annotations

import fnmatch
import math
import random
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Literal

import attrs

FaultKind = Literal["status", "reset", "drop", "lost_response", "slow"]
PathPattern = str | re.Pattern[str]


def _methods(value: Iterable[str] | str | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    return frozenset(m.upper() for m in value)


def _paths(value: Iterable[PathPattern] | PathPattern | None) -> tuple[PathPattern, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | re.Pattern):
        return (value,)
    return tuple(value)


def _check_rate(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _check_non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value!r}")


def _matches(
    methods: frozenset[str] | None, paths: tuple[PathPattern, ...] | None, method: str, path: str
) -> bool:
    if methods is not None and method.upper() not in methods:
        return False
    if paths is None:
        return True
    for pattern in paths:
        if isinstance(pattern, str):
            if fnmatch.fnmatchcase(path, pattern):
                return True
        elif pattern.fullmatch(path):
            return True
    return False


@attrs.frozen
class Fault:
    """One fault rule: what goes wrong, how often, and for which requests.

    Build rules with the constructors `status`, `rate_limit`, `reset`,
    `drop`, `lost_response` and `slow`. ``methods`` limits a rule to those
    HTTP methods; ``paths`` to raw request paths (as sent, percent-encoding included, without
    the query) matching any of the patterns: a ``str`` is a glob (``fnmatch``; ``*`` also
    matches ``/``), a compiled ``re.Pattern`` must match the whole path. ``times`` caps how
    often it fires.
    """

    kind: FaultKind
    rate: float = attrs.field(default=1.0, validator=_check_rate)
    status_code: int | None = None
    retry_after: int | None = None
    methods: frozenset[str] | None = attrs.field(default=None, converter=_methods)
    paths: tuple[PathPattern, ...] | None = attrs.field(default=None, converter=_paths)
    times: int | None = None
    #: seconds a ``slow`` fault holds the vendor's response back
    delay: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.times is not None and self.times < 1:
            raise ValueError(f"times must be at least 1 (or None for no cap), got {self.times!r}")
        code = self.status_code
        if self.kind == "status" and (code is None or not 400 <= code <= 599):
            raise ValueError(f"a status fault needs a 4xx or 5xx status, got {self.status_code!r}")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError(f"retry_after must not be negative, got {self.retry_after!r}")
        delay = self.delay
        if self.kind == "slow" and (delay is None or not math.isfinite(delay) or delay < 0):
            raise ValueError(f"a slow fault needs a finite delay >= 0 seconds, got {delay!r}")

    @classmethod
    def status(
        cls,
        status: int,
        *,
        rate: float = 1.0,
        retry_after: int | None = None,
        methods: Iterable[str] | str | None = None,
        paths: Iterable[PathPattern] | PathPattern | None = None,
        times: int | None = None,
    ) -> Fault:
        """Answer with ``status`` (e.g. 500, 502, 503) before the vendor sees the request.

        ``retry_after`` (whole seconds, 0 included) adds a ``Retry-After`` header, as a 503
        often carries.
        """
        return cls("status", rate, status, retry_after, methods, paths, times)

    @classmethod
    def rate_limit(
        cls,
        *,
        rate: float = 1.0,
        retry_after: int = 1,
        methods: Iterable[str] | str | None = None,
        paths: Iterable[PathPattern] | PathPattern | None = None,
        times: int | None = None,
    ) -> Fault:
        """Answer 429 with a ``Retry-After: <retry_after>`` header (whole seconds, 0 included)."""
        return cls("status", rate, 429, retry_after, methods, paths, times)

    @classmethod
    def reset(
        cls,
        *,
        rate: float = 1.0,
        methods: Iterable[str] | str | None = None,
        paths: Iterable[PathPattern] | PathPattern | None = None,
        times: int | None = None,
    ) -> Fault:
        """Close the connection before the vendor sees the request: no state change, no answer.

        The client sees ``httpx.RemoteProtocolError`` ("Server disconnected without sending a
        response"), exactly as for `lost_response`, whose work did happen.
        """
        return cls("reset", rate, None, None, methods, paths, times)

    @classmethod
    def drop(
        cls,
        *,
        rate: float = 1.0,
        methods: Iterable[str] | str | None = None,
        paths: Iterable[PathPattern] | PathPattern | None = None,
        times: int | None = None,
    ) -> Fault:
        """Drop the connection mid-response: the vendor did the work, half its answer arrives.

        The client gets the vendor's real status line, headers (``Content-Length`` included)
        and the first half of the real body, then the connection closes: an
        ``httpx.RemoteProtocolError``, never a response. A bodiless answer (204, HEAD) has
        nothing to cut, so the connection closes before the status line.
        """
        return cls("drop", rate, None, None, methods, paths, times)

    @classmethod
    def lost_response(
        cls,
        *,
        rate: float = 1.0,
        methods: Iterable[str] | str | None = None,
        paths: Iterable[PathPattern] | PathPattern | None = None,
        times: int | None = None,
    ) -> Fault:
        """Let the vendor do the work (state changes), then close the connection unanswered."""
        return cls("lost_response", rate, None, None, methods, paths, times)

    @classmethod
    def slow(
        cls,
        seconds: float,
        *,
        rate: float = 1.0,
        methods: Iterable[str] | str | None = None,
        paths: Iterable[PathPattern] | PathPattern | None = None,
        times: int | None = None,
    ) -> Fault:
        """Let the vendor do the work (state changes), then hold its answer back ``seconds``.

        The whole, genuine response follows the wait. A client whose read timeout is shorter
        gives up first (``httpx.ReadTimeout``) on a request that did take effect: the slow
        cousin of `lost_response`. Unlike `Latency` (which waits *before* the
        vendor sees the request), it fires at ``rate`` and the work is already done.
        """
        return cls("slow", rate, None, None, methods, paths, times, float(seconds))

    @property
    def name(self) -> str:
        """The name in the request log: ``"503"``, ``"429"``, ``"reset"``, ``"drop"``, …"""
        if self.kind == "status":
            return str(self.status_code)
        return self.kind

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to a request with this method and raw path."""
        return _matches(self.methods, self.paths, method, path)


def _rules(value: Iterable[Fault]) -> tuple[Fault, ...]:
    return tuple(value)


@attrs.frozen
class Faults:
    """A seeded set of fault rules for one `Emulator`.

    For each request the rules are tried in order; every rule that applies draws one number
    from ``random.Random(seed)`` and the first whose draw falls under its ``rate`` fires. So the
    same seed and the same request sequence give the same faults. Assigning ``emu.faults``
    restarts the sequence (and the ``times`` counters) from the seed.
    """

    rules: tuple[Fault, ...] = attrs.field(default=(), converter=_rules)
    seed: int = 0


@attrs.frozen
class Latency:
    """Added latency: ``fixed`` seconds plus a uniform draw from ``[0, jitter]``.

    The jitter comes from ``random.Random(seed)``, separate from the faults' generator, so
    turning latency on does not change which faults fire. ``methods`` and ``paths`` scope it
    like a `Fault`.
    """

    fixed: float = attrs.field(default=0.0, validator=_check_non_negative)
    jitter: float = attrs.field(default=0.0, validator=_check_non_negative)
    seed: int = 0
    methods: frozenset[str] | None = attrs.field(default=None, converter=_methods)
    paths: tuple[PathPattern, ...] | None = attrs.field(default=None, converter=_paths)

    def matches(self, method: str, path: str) -> bool:
        """Whether this latency applies to a request with this method and raw path."""
        return _matches(self.methods, self.paths, method, path)


@attrs.frozen
class Decision:
    """What the emulator does to one request: the fault to inject (if any) and the delay."""

    fault: Fault | None
    delay: float


class Decider:
    """Per-emulator runtime state of faults and latency: generators, counters, one lock."""

    def __init__(self, faults: Faults | None, latency: Latency | None) -> None:
        self._lock = threading.Lock()
        self._faults = Faults()
        self._fault_rng = random.Random(0)
        self._fired: list[int] = []
        self._latency: Latency | None = None
        self._latency_rng = random.Random(0)
        self.set_faults(faults)
        self.set_latency(latency)

    @property
    def faults(self) -> Faults:
        """The current fault rules."""
        return self._faults

    @property
    def latency(self) -> Latency | None:
        """The current latency, or None."""
        return self._latency

    def set_faults(self, faults: Faults | None) -> None:
        """Replace the rules and restart their random sequence and ``times`` counters."""
        faults = Faults() if faults is None else faults
        with self._lock:
            self._faults = faults
            self._fault_rng = random.Random(faults.seed)
            self._fired = [0] * len(faults.rules)

    def set_latency(self, latency: Latency | None) -> None:
        """Replace the latency and restart its random sequence."""
        with self._lock:
            self._latency = latency
            self._latency_rng = random.Random(latency.seed if latency else 0)

    def decide(self, method: str, path: str) -> Decision:
        """Decide, in arrival order, the fault and delay for one request."""
        with self._lock:
            fault = self._pick(method, path)
            delay = 0.0
            latency = self._latency
            if latency is not None and latency.matches(method, path):
                delay = latency.fixed
                if latency.jitter:
                    delay += self._latency_rng.uniform(0.0, latency.jitter)
            return Decision(fault, delay)

    def _pick(self, method: str, path: str) -> Fault | None:
        rules: Sequence[Fault] = self._faults.rules
        for index, rule in enumerate(rules):
            if rule.times is not None and self._fired[index] >= rule.times:
                continue
            if not rule.matches(method, path):
                continue
            if self._fault_rng.random() < rule.rate:
                self._fired[index] += 1
                return rule
        return None
