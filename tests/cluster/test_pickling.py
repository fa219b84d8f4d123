"""Providers travel to other processes as their settings (Dask, Ray, multiprocessing), and an
upload fanned out over a Dask cluster of worker processes sends every file exactly once."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import cloudpickle
import pytest
from distributed import Client, LocalCluster

import batchkit
from batchkit import UploadReport
from batchkit.emulator import Emulator


@pytest.mark.parametrize("connect", [batchkit.connect, batchkit.connect_async])
@pytest.mark.parametrize("vendor", ["aihub", "scale"])
def test_a_provider_pickles_to_its_settings_and_connects_afresh(
    served_emulator: Emulator, connect, vendor: str
) -> None:
    root = served_emulator.aihub_api_root if vendor == "aihub" else served_emulator.scale_api_root
    credential = {"token": "pk"} if vendor == "aihub" else {"api_key": "pk"}
    provider = connect(vendor, api_root=root, timeout=7.5, user_agent="pipe/2", **credential)
    copy = pickle.loads(pickle.dumps(provider))
    assert type(provider) is type(copy)
    assert provider.settings == copy.settings
    assert copy.http is not provider.http  # its own connections


def test_a_provider_on_an_in_process_transport_says_it_cannot_travel() -> None:
    emu = Emulator()
    provider = batchkit.connect("aihub", api_root=emu.aihub_api_root, token="t",
                                transport=emu.transport())
    with pytest.raises(pickle.PicklingError, match="connect in the worker"):
        pickle.dumps(provider)


def test_merged_reports_refuse_overlapping_shards_and_other_batches() -> None:
    one = batchkit.FileOutcome("a.txt", 1, "a.txt", "uploaded")
    with pytest.raises(ValueError, match=r"'a\.txt'"):
        UploadReport.merged([UploadReport("1", (one,)), UploadReport("1", (one,))])
    with pytest.raises(ValueError, match="2 batches"):
        UploadReport.merged([UploadReport("1", (one,)), UploadReport("2", ())])


def upload_shard(provider, batch, paths, journal):  # runs in a worker process
    return provider.upload(batch, paths, resume=journal)


def test_an_upload_fanned_out_over_dask_worker_processes_sends_each_file_once(
    served_emulator: Emulator, tmp_path: Path
) -> None:
    """60 files in 6 shards on 2 worker processes, each shard with its own journal; then
    the same shards again (a rerun): nothing is sent twice, every file is in the batch with
    its size, and the merged reports account for each file once."""
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    scans = tmp_path / "scans"
    scans.mkdir()
    for i in range(60):
        (scans / f"f{i:03d}.txt").write_bytes(b"x" * (i + 1))
    provider = batchkit.connect("aihub", api_root=served_emulator.aihub_api_root, token="dask")
    batch = provider.create_batch("dask")
    files = sorted(scans.iterdir())
    shards = [files[i::6] for i in range(6)]
    journals = [str(tmp_path / f"shard-{i}.journal") for i in range(6)]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        def run() -> UploadReport:
            futures = [client.submit(upload_shard, provider, batch, shard, journal, pure=False)
                       for shard, journal in zip(shards, journals, strict=True)]
            return UploadReport.merged(client.gather(futures))

        first = run()
        again = run()
    assert (60, 0) == (len(first.uploaded), len(first.failed))
    assert (0, 60) == (len(again.uploaded), len(again.skipped))
    listed = {f.name: f.size for f in provider.list_files(batch)}
    assert {f.name: f.stat().st_size for f in files} == listed
