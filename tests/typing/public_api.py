"""Pins the public types: mypy --strict checks this file; nothing runs it."""

from __future__ import annotations

import io
from collections.abc import Iterator

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
