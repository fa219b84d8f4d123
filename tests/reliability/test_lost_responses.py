"""R2: the server did the work but the response was lost: one batch, and the caller knows."""

from __future__ import annotations

import logging

import pytest

import batchkit
from batchkit.emulator import Emulator, Fault, Faults


def test_scale_retried_create_recovers_the_batch_through_409(
    served_emulator: Emulator, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A lost create response is retried, meets 409, and returns the one batch that exists."""
    emu = served_emulator
    p = batchkit.connect("scale", api_root=emu.scale_api_root, api_key=tenant)
    p.create_project("r2", type="imageannotation")  # type: ignore[attr-defined]
    emu.faults = Faults(rules=[Fault.lost_response(methods="POST", paths="/v1/batches", times=1)])
    emu.requests.clear()
    try:
        with caplog.at_level(logging.WARNING, logger="batchkit"):
            batch = p.create_batch("lost-once", project="r2")
    finally:
        emu.faults = None
    assert "lost-once" == batch.name
    assert ["lost-once"] == [b.name for b in p.list_batches(project="r2")]
    creates = [r for r in emu.requests if r.method == "POST" and r.path == "/v1/batches"]
    assert [("lost_response", 200), (None, 409)] == [(r.fault, r.status) for r in creates]
    assert any("earlier attempt created it" in r.getMessage() for r in caplog.records)


def test_scale_create_conflict_on_first_attempt_is_reported_not_hidden(
    served_emulator: Emulator, tenant: str
) -> None:
    """Without a retry, a 409 means the name was already taken: Conflict, with advice."""
    p = batchkit.connect("scale", api_root=served_emulator.scale_api_root, api_key=tenant)
    p.create_project("r2b", type="imageannotation")  # type: ignore[attr-defined]
    p.create_batch("taken", project="r2b")
    with pytest.raises(batchkit.Conflict, match="already exists"):
        p.create_batch("taken", project="r2b")


def test_scale_retried_create_does_not_adopt_a_batch_from_another_project(
    served_emulator: Emulator, tenant: str
) -> None:
    """A 409 after a retry for a name used in a different project stays a Conflict."""
    emu = served_emulator
    p = batchkit.connect("scale", api_root=emu.scale_api_root, api_key=tenant)
    p.create_project("mine", type="imageannotation")  # type: ignore[attr-defined]
    p.create_project("theirs", type="imageannotation")  # type: ignore[attr-defined]
    p.create_batch("shared-name", project="theirs")
    emu.faults = Faults(rules=[Fault.status(503, methods="POST", paths="/v1/batches", times=1)])
    try:
        with pytest.raises(batchkit.Conflict):
            p.create_batch("shared-name", project="mine")
    finally:
        emu.faults = None


def test_aihub_lost_create_is_not_repeated_and_the_caller_is_told(
    served_emulator: Emulator, tenant: str
) -> None:
    """AI Hub creates are not idempotent: one POST, one batch, and an error saying so."""
    emu = served_emulator
    p = batchkit.connect("aihub", api_root=emu.aihub_api_root, token=tenant)
    emu.faults = Faults(
        rules=[Fault.lost_response(methods="POST", paths="/api/v2/batches", times=1)]
    )
    emu.requests.clear()
    try:
        with pytest.raises(batchkit.TransportError, match="may have taken effect"):
            p.create_batch("lost-aihub")
    finally:
        emu.faults = None
    posts = [r for r in emu.requests if r.method == "POST" and r.tenant == tenant]
    assert 1 == len(posts)
    assert ["lost-aihub"] == [b.name for b in p.list_batches()]


def test_aihub_create_refused_with_503_is_retried_safely(
    served_emulator: Emulator, tenant: str
) -> None:
    """A 503 means the server did nothing, so the create is retried and one batch exists."""
    emu = served_emulator
    p = batchkit.connect("aihub", api_root=emu.aihub_api_root, token=tenant)
    emu.faults = Faults(rules=[Fault.status(503, methods="POST", paths="/api/v2/batches", times=2)])
    try:
        batch = p.create_batch("after-503")
    finally:
        emu.faults = None
    assert [batch.id] == [b.id for b in p.list_batches()]
