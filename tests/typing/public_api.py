"""Pins the public types: mypy --strict checks this file; nothing runs it."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx

import batchkit
from batchkit import Batch, BatchFile, BatchProvider, BatchStatus, Capability, Job, UploadReport


def pipeline(provider: BatchProvider) -> None:
    batch: Batch = provider.create_batch("x", project="p")
    same: Batch = provider.get_batch(batch.id)
    listed: Iterator[Batch] = provider.list_batches(project="p", limit=10)
    status: BatchStatus = provider.status(same)
    counts_total: int | None = status.counts.total if status.counts else None
    if provider.supports(Capability.UPLOAD_FILES):
        uploaded: BatchFile = provider.upload_file(batch, "a.pdf", b"%PDF")
        streamed: BatchFile = provider.upload_file(batch, "b.pdf", io.BytesIO(b"x"))
        files: Iterator[BatchFile] = provider.list_files(batch)
        whole: bytes = provider.download_file(batch, "a.pdf")
        written: int = provider.download_file(batch, "a.pdf", io.BytesIO())
        report: UploadReport = provider.upload(batch, ["scans/"])
        del uploaded, streamed, files, whole, written, report
    job: Job | None = provider.delete_batch(batch, wait=False)
    provider.require(Capability.PRIORITIZE)
    provider.prioritize(batch, 20)
    del listed, counts_total, job


def connect_both() -> tuple[BatchProvider, BatchProvider]:
    aihub = batchkit.connect("aihub", api_root="https://aihub.instabase.com/api", token="t")
    scale = batchkit.connect("scale", api_key="k")
    return aihub, scale


matrix: dict[str, Capability] = batchkit.capability_matrix()


def newer_public_names(provider: BatchProvider) -> None:
    resolved: batchkit.ResolvedSettings = batchkit.resolve_settings("aihub", token="t")
    origin: batchkit.SettingOrigin | None = resolved.origins.get("token")
    names: list[str] = batchkit.providers_supporting(batchkit.SupportsProjects)
    also: list[str] = batchkit.providers_supporting(Capability.FINALIZE)
    if isinstance(provider, batchkit.SupportsProjects):
        project: batchkit.Project = provider.get_project("p")
        projects: list[batchkit.Project] = provider.list_projects()
        del project, projects
    with batchkit.save_to("out/", "a.pdf") as (path, file):
        file.write(b"%PDF")
        del path
    provider.abort_upload_session("https://aihub.test/api/v2/batches/multipart-upload/sessions/s")
    del origin, names, also


async def async_pipeline() -> None:
    provider: batchkit.AsyncBatchProvider = batchkit.connect_async("scale", api_key="k")
    async with provider:
        batch: Batch = await provider.create_batch("x", project="p")
        listed: list[Batch] = [b async for b in provider.list_batches(limit=3)]
        status: BatchStatus = await provider.status(batch)
        whole: bytes = await provider.download_file(batch, "a.pdf")
        written: int = await provider.download_file(batch, "a.pdf", io.BytesIO())
        files: list[BatchFile] = [f async for f in provider.list_files(batch)]
        report: UploadReport = await provider.upload(batch, ["scans/"])
        await provider.prioritize(batch, 20)
        del listed, status, whole, written, files, report


def adapter_kit() -> None:
    from batchkit import adapters

    call: adapters.Call = adapters.Call("get_thing", "GET", "things/1")
    options: adapters.HttpOptions = adapters.HttpOptions(auth=httpx.BasicAuth("k", ""))
    del call, options
