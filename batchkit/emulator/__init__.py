"""An offline emulator of the Instabase AI Hub and Scale AI batch APIs (like moto for AWS).

Written from the vendors' docs only; it imports nothing from batchkit's client side:

    from batchkit.emulator import Emulator, Fault, Faults

    with Emulator(faults=Faults(seed=7, rules=[Fault.status(503, rate=0.1)])).serve() as emu:
        ...  # point a client at emu.aihub_api_root or emu.scale_api_root

    client = httpx.Client(transport=Emulator().transport(), base_url=Emulator.IN_PROCESS_URL)

Also a pytest plugin (fixtures ``batchkit_emulator``, ``batchkit_emulator_inprocess`` and
``batchkit_emulator_factory``) and a command, ``python -m batchkit.emulator --port 8765``.
See ``docs/emulator.md``.

`Emulator` needs the ``emulator`` extra (starlette, uvicorn) and is imported on first
use, so this package (and the pytest plugin) imports without them.
"""

from typing import TYPE_CHECKING, Any

from batchkit.emulator._faults import Fault, Faults, Latency
from batchkit.emulator._log import RequestLog, RequestRecord

if TYPE_CHECKING:
    from batchkit.emulator._emulator import Emulator

__all__ = ["Emulator", "Fault", "Faults", "Latency", "RequestLog", "RequestRecord"]


def __getattr__(name: str) -> Any:
    if name == "Emulator":
        from batchkit.emulator._emulator import Emulator

        return Emulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
