"""Capabilities are declared data: the matrix, supports/require, "unsupported" messages
generated from the registry, and the registry's rules."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Self

import httpx
import pytest

import batchkit
from batchkit import BatchProvider, Capability, ConfigError, UnsupportedOperation
from batchkit import _registry as registry
from batchkit._capabilities import OPERATION_CAPABILITY, flag_names
from batchkit.adapters import Adapter, CommonSettings, HttpOptions

C = Capability
AIHUB = (C.CREATE_BATCH | C.LIST_BATCHES | C.DELETE_BATCH | C.UPLOAD_FILES
         | C.MULTIPART_UPLOAD | C.LIST_FILES | C.DELETE_FILES | C.DOWNLOAD_FILES
         | C.RUNS | C.RESULTS)
SCALE = (C.CREATE_BATCH | C.LIST_BATCHES | C.LIST_FILTERS | C.FINALIZE | C.STATUS_COUNTS
         | C.PRIORITIZE | C.CALLBACKS | C.METADATA | C.TASKS | C.RUNS | C.RESULTS
         | C.UPLOAD_FILES | C.IMPORT_URLS)


@pytest.fixture
def clean_registry() -> Iterator[None]:
    """Whatever a test registers is forgotten afterwards."""
    registry._discover()
    targets, loaded = dict(registry._targets), dict(registry._loaded)
    yield
    registry._targets.clear()
    registry._targets.update(targets)
    registry._loaded.clear()
    registry._loaded.update(loaded)


class TinyAdapter(Adapter):
    """A vendor that can only prioritize: enough to show up in the matrix."""

    name: ClassVar[str] = "tiny"
    capabilities: ClassVar[Capability] = C.PRIORITIZE | C.UPLOAD_FILES

    def __init__(self) -> None:
        self.settings = CommonSettings(api_root="http://127.0.0.1:9")

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        return cls()

    def http_options(self) -> HttpOptions:
        return HttpOptions(auth=httpx.BasicAuth("k", ""))

    def create_batch(self, name, **kw):  # pragma: no cover - never called
        raise NotImplementedError

    def get_batch(self, batch):  # pragma: no cover
        raise NotImplementedError

    def list_batches(self, **kw):  # pragma: no cover
        raise NotImplementedError

    def status(self, batch):  # pragma: no cover
        raise NotImplementedError


class Tiny(BatchProvider):
    """Its provider."""

    adapter_class = TinyAdapter


# -- the matrix --------------------------------------------------------------------------


def test_the_matrix_declares_what_aihub_and_scale_can_do():
    """The built-in declarations, exactly."""
    matrix = batchkit.capability_matrix()
    assert (AIHUB, SCALE) == (matrix["aihub"], matrix["scale"])


def test_the_matrix_lists_the_built_in_providers():
    """aihub and scale are registered without any configuration."""
    assert {"aihub", "scale"} <= set(batchkit.provider_names())
    assert {"aihub", "scale"} <= set(batchkit.capability_matrix())


def test_flag_names_lists_single_flags_in_declaration_order():
    """The matrix's row labels come from the flags set."""
    assert ["CREATE_BATCH", "FINALIZE", "PRIORITIZE"] == flag_names(
        C.PRIORITIZE | C.CREATE_BATCH | C.FINALIZE
    )


def test_every_neutral_operation_maps_to_a_capability():
    """Each operation name maps to a single declared flag."""
    for operation, flag in OPERATION_CAPABILITY.items():
        assert [flag.name] == flag_names(flag), operation


# -- supports / require ------------------------------------------------------------------


def test_supports_answers_from_the_declaration(kit):
    """supports() is true only when every flag asked is declared."""
    aihub = kit.aihub(kit.Recorder().transport)
    scale = kit.scale(kit.Recorder().transport)
    got = [
        aihub.supports(C.UPLOAD_FILES), aihub.supports(C.UPLOAD_FILES | C.LIST_FILES),
        aihub.supports(C.UPLOAD_FILES | C.PRIORITIZE), aihub.supports(C.STATUS_COUNTS),
        scale.supports(C.PRIORITIZE), scale.supports(C.UPLOAD_FILES | C.LIST_FILES),
    ]
    assert [True, True, False, False, True, False] == got


def test_require_passes_silently_for_a_supported_flag(kit):
    """require() returns None when the provider can do it."""
    assert kit.scale(kit.Recorder().transport).require(C.FINALIZE) is None


def test_require_names_provider_operation_and_who_supports_it(kit):
    """require() raises UnsupportedOperation naming the providers that do support it."""
    with pytest.raises(UnsupportedOperation) as info:
        kit.aihub(kit.Recorder().transport).require(C.FINALIZE)
    e = info.value
    assert ("aihub", "finalize", ("scale",)) == (e.provider, e.operation, e.supported_by)
    assert "Capability.FINALIZE" in str(e)


def test_scale_list_files_names_scale_the_operation_and_aihub(kit):
    """Scale batches hold tasks, not files to list; the message says so and points to
    AI Hub."""
    rec = kit.Recorder()
    with pytest.raises(UnsupportedOperation) as info:
        kit.scale(rec.transport).list_files("b")
    message = str(info.value)
    assert "scale does not support list_files" in message
    assert "providers that support it: aihub" in message
    assert ("scale", "list_files", ("aihub",)) == (
        info.value.provider, info.value.operation, info.value.supported_by
    )
    assert [] == rec.requests


SCALE_UNSUPPORTED = {
    "list_files": lambda p: p.list_files("b"),
    "delete_file": lambda p: p.delete_file("b", "a.pdf"),
    "download_file": lambda p: p.download_file("b", "a.pdf"),
    "delete_batch": lambda p: p.delete_batch("b"),
}


@pytest.mark.parametrize("operation", SCALE_UNSUPPORTED)
def test_scale_file_operations_are_unsupported_and_point_to_aihub(kit, operation):
    """Every file operation on Scale is UnsupportedOperation naming AI Hub; nothing sent."""
    rec = kit.Recorder()
    with pytest.raises(UnsupportedOperation) as info:
        SCALE_UNSUPPORTED[operation](kit.scale(rec.transport))
    assert (operation, ("aihub",)) == (info.value.operation, info.value.supported_by)
    assert [] == rec.requests


AIHUB_UNSUPPORTED = {
    "finalize": lambda p: p.finalize("7"),
    "prioritize": lambda p: p.prioritize("7", 20),
    "create_batch(callback=...)": lambda p: p.create_batch("b", callback="x@example.com"),
    "create_batch(metadata=...)": lambda p: p.create_batch("b", metadata={"k": 1}),
}


@pytest.mark.parametrize("operation", AIHUB_UNSUPPORTED)
def test_aihub_task_operations_are_unsupported_and_point_to_scale(kit, operation):
    """What only Scale can do raises on AI Hub naming Scale; nothing sent."""
    rec = kit.Recorder()
    with pytest.raises(UnsupportedOperation) as info:
        AIHUB_UNSUPPORTED[operation](kit.aihub(rec.transport))
    assert (operation, ("scale",)) == (info.value.operation, info.value.supported_by)
    assert [] == rec.requests


# -- the registry ------------------------------------------------------------------------


def test_register_provider_refuses_to_overwrite_a_name(clean_registry):
    """An existing name cannot be taken over silently."""
    with pytest.raises(ConfigError, match=r"already registered.*replace=True"):
        batchkit.register_provider("aihub", Tiny)
    assert "aihub" == registry.provider_class("aihub").name


def test_register_provider_replaces_with_replace_true(clean_registry):
    """replace=True takes the name over, and the new class is what loads."""
    batchkit.register_provider("aihub", Tiny, replace=True)
    assert Tiny is registry.provider_class("aihub")


def test_registering_the_same_target_twice_is_harmless(clean_registry):
    """Re-registering an identical target is not an overwrite."""
    batchkit.register_provider("tiny", Tiny)
    batchkit.register_provider("tiny", Tiny)
    assert Tiny is registry.provider_class("tiny")


def test_a_provider_registered_at_runtime_joins_the_matrix_and_the_messages(
    clean_registry, kit
):
    """A new provider appears in capability_matrix() and in "supported by" hints."""
    batchkit.register_provider("tiny", Tiny)
    assert C.PRIORITIZE | C.UPLOAD_FILES == batchkit.capability_matrix()["tiny"]
    with pytest.raises(UnsupportedOperation) as info:
        kit.aihub(kit.Recorder().transport).prioritize("7", 20)
    assert ("scale", "tiny") == info.value.supported_by
    assert "tiny" in batchkit.provider_names()


def test_a_provider_registered_at_runtime_is_reachable_through_connect(clean_registry):
    """connect("tiny") builds the registered class."""
    batchkit.register_provider("tiny", Tiny)
    assert isinstance(batchkit.connect("tiny"), Tiny)


def test_a_lazy_string_target_is_imported_on_first_use(clean_registry):
    """"module:Class" targets load when first needed."""
    batchkit.register_provider("tiny", f"{__name__}:Tiny")
    assert Tiny is registry.provider_class("tiny")


def test_a_target_that_cannot_be_imported_is_a_config_error(clean_registry):
    """A broken "module:Class" is reported as ConfigError naming the target."""
    batchkit.register_provider("ghost", "no_such_module_xyz:Ghost")
    with pytest.raises(ConfigError, match="could not be loaded from 'no_such_module_xyz:Ghost'"):
        registry.provider_class("ghost")


def test_a_target_that_is_not_a_batch_provider_is_a_config_error(clean_registry):
    """Only BatchProvider subclasses can be providers."""
    batchkit.register_provider("wrong", dict)
    with pytest.raises(ConfigError, match="is neither a BatchProvider nor an Adapter subclass"):
        registry.provider_class("wrong")



def test_supports_and_require_take_a_capability_name_too(kit):
    """`supports("upload_files")` (e.g. from a config file) works like the flag; a name that
    is not a capability is InvalidInput listing the names, not a TypeError."""
    aihub = kit.aihub(kit.Recorder().transport)
    assert (True, False) == (aihub.supports("upload_files"), aihub.supports("FINALIZE"))
    with pytest.raises(batchkit.UnsupportedOperation):
        aihub.require("finalize")
    with pytest.raises(batchkit.InvalidInput, match="UPLOAD_FILES"):
        aihub.supports("uploads")


def test_waiting_on_something_that_is_not_a_job_is_invalid_input(kit):
    rec = kit.Recorder()
    with pytest.raises(batchkit.InvalidInput, match="expected a Job"):
        kit.aihub(rec.transport).wait_job(None)
    assert [] == rec.requests
