"""How the contract suite reaches each provider on the emulator.

A provider added as a plugin joins the suite by adding an entry to `SETUPS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

import batchkit
from batchkit.emulator import Emulator


@attrs.frozen
class Setup:
    """A connected provider plus the keyword arguments its batches need."""

    provider: batchkit.BatchProvider
    create_kwargs: dict[str, Any]
    emulator: Emulator
    credential: str


def _aihub(emu: Emulator, credential: str) -> Setup:
    provider = batchkit.connect(
        "aihub", api_root=emu.aihub_api_root, token=credential,
        multipart_threshold=64 * 1024, poll_initial=0.0,
    )
    return Setup(provider, {}, emu, credential)


def _scale(emu: Emulator, credential: str) -> Setup:
    provider = batchkit.connect("scale", api_root=emu.scale_api_root, api_key=credential)
    # a Studio project: its batches start staging, so finalize has work to do
    provider.create_project(  # type: ignore[attr-defined]
        "contract", type="imageannotation", studio=True
    )
    return Setup(provider, {"project": "contract"}, emu, credential)


SETUPS: dict[str, Callable[[Emulator, str], Setup]] = {"aihub": _aihub, "scale": _scale}
