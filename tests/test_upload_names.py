"""Names of uploaded files: ``name_by="basename"`` (as before), ``"relative"`` (the path
below the folder, percent-encoded into one reversible name) or a function of that path; every
conflict listed at once."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePosixPath

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import batchkit
from batchkit._validate import file_name
from batchkit.emulator import Emulator


@pytest.fixture
def emu() -> Emulator:
    return Emulator(job_polls=1)


def _aihub(emu: Emulator) -> batchkit.BatchProvider:
    return batchkit.connect("aihub", api_root=emu.aihub_api_root, token="names",
                            transport=emu.transport())


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


# -- the encoding --------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "name"), [
    ("a.pdf", "a.pdf"),
    ("scans/2026/a.pdf", "scans%2F2026%2Fa.pdf"),
    ("100%/a.pdf", "100%25%2Fa.pdf"),
    ("a\\b/c.pdf", "a%5Cb%2Fc.pdf"),
    ("a..b/c.pdf", "a.%2Eb%2Fc.pdf"),
    (" lead/trail.pdf ", "%20lead%2Ftrail.pdf%20"),
    ("tab\there/x.pdf", "tab%09here%2Fx.pdf"),
    ("café/ünï.pdf", "café%2Fünï.pdf"),
    ("caf\udce9/x.pdf", "caf%E9%2Fx.pdf"),  # a name that is not UTF-8: its raw byte
])
def test_relative_name_examples_and_their_inverse(path: str, name: str) -> None:
    assert name == batchkit.relative_name(path)
    assert name == batchkit.relative_name(PurePosixPath(path))
    assert PurePosixPath(path) == batchkit.relative_path(name)


@pytest.mark.parametrize("bad", ["", "/abs/a.pdf", "../a.pdf", "a/./b.pdf", "a//b.pdf"])
def test_relative_name_refuses_what_is_not_a_relative_path(bad: str) -> None:
    with pytest.raises(batchkit.InvalidInput):
        batchkit.relative_name(bad)


_segment = st.one_of(
    st.text(min_size=1, max_size=12).filter(lambda s: "/" not in s and "\x00" not in s),
    st.binary(min_size=1, max_size=12)
    .filter(lambda b: b"/" not in b and b"\x00" not in b)
    .map(os.fsdecode),
).filter(lambda s: not s.startswith("."))


@given(st.lists(_segment, min_size=1, max_size=5))
def test_relative_name_round_trips_and_is_a_valid_batch_file_name(parts: list[str]) -> None:
    """Any path the walk can find (no hidden segments) encodes into a legal name (given an
    extension and the length limit), and decodes back to the very same path."""
    path = PurePosixPath(*parts[:-1], parts[-1] + ".pdf")
    name = batchkit.relative_name(path)
    assert path == batchkit.relative_path(name)
    if len(name) <= 255:
        assert name == file_name(name)


@given(st.lists(_segment, min_size=1, max_size=4), st.lists(_segment, min_size=1, max_size=4))
def test_two_paths_never_share_a_relative_name(a: list[str], b: list[str]) -> None:
    if a != b:
        assert batchkit.relative_name("/".join(a)) != batchkit.relative_name("/".join(b))


# -- upload --------------------------------------------------------------------------------


def test_basename_stays_the_default_and_relative_keeps_the_folders(
    emu: Emulator, tmp_path: Path
) -> None:
    """Two scan.pdf in different folders collide by base name (listed, nothing sent) and
    go up side by side by relative path; the names decode back to the tree."""
    files = {"2025/scan.pdf": b"%PDF 25", "2026/scan.pdf": b"%PDF 26", "top.pdf": b"%PDF t"}
    scans = _tree(tmp_path / "scans", files)
    p = _aihub(emu)
    batch = p.create_batch("names")
    with pytest.raises(batchkit.InvalidInput, match="name_by='relative'"):
        p.upload(batch, scans)
    report = p.upload(batch, scans, name_by="relative")
    assert ["top.pdf", "2025%2Fscan.pdf", "2026%2Fscan.pdf"] == [f.name for f in report.uploaded]
    assert files == {
        str(batchkit.relative_path(f.name)): p.download_file(batch, f.name)
        for f in report.uploaded
    }


def test_a_function_names_each_file_from_its_relative_path(
    emu: Emulator, tmp_path: Path
) -> None:
    """The function gets the path below the folder (a file given directly: its own name);
    pairs keep their names."""
    scans = _tree(tmp_path / "scans", {"2026/a.pdf": b"a", "b.pdf": b"b"})
    single = _tree(tmp_path / "single", {"c.pdf": b"c"}) / "c.pdf"
    seen: list[PurePosixPath] = []

    def name(rel: PurePosixPath) -> str:
        seen.append(rel)
        return "-".join(rel.parts)

    p = _aihub(emu)
    batch = p.create_batch("callable")
    report = p.upload(batch, [scans, single, ("pair.pdf", b"p")], name_by=name)
    assert ["b.pdf", "2026-a.pdf", "c.pdf", "pair.pdf"] == [f.name for f in report.uploaded]
    assert [PurePosixPath("b.pdf"), PurePosixPath("2026/a.pdf"), PurePosixPath("c.pdf")] == seen


def test_every_conflict_and_bad_name_a_function_makes_is_listed_at_once(
    emu: Emulator, tmp_path: Path
) -> None:
    """A function that maps several files to one name, or returns no valid name (or no str),
    gets every such file listed in one InvalidInput; with invalid="skip" the others go."""
    scans = _tree(tmp_path / "scans", {"x/a.pdf": b"1", "y/a.pdf": b"2", "z/b.pdf": b"3",
                                       "w/c.pdf": b"4", "v/d.pdf": b"5"})

    def name(rel: PurePosixPath) -> str:
        return {"b.pdf": "no-extension", "c.pdf": 42, "d.pdf": "d.pdf"}.get(  # type: ignore[return-value]
            rel.name, "same.pdf"
        )

    p = _aihub(emu)
    batch = p.create_batch("conflicts")
    before = len(emu.requests)
    with pytest.raises(batchkit.InvalidInput) as info:
        p.upload(batch, scans, name_by=name)
    message = str(info.value)
    assert "4 source(s) cannot be uploaded" in message
    assert message.count("'same.pdf' would come from more than one source") == 2
    assert "'no-extension' has no extension" in message
    assert "name_by returned int 42" in message
    assert before == len(emu.requests)
    report = p.upload(batch, scans, name_by=name, invalid="skip")
    assert (["d.pdf"], 4) == ([f.name for f in report.uploaded], len(report.invalid))


def test_relative_names_need_an_extension_on_the_file_itself(
    emu: Emulator, tmp_path: Path
) -> None:
    """``v1.2/README`` would encode to a name whose "extension" is part of a folder name:
    refused like README by base name."""
    scans = _tree(tmp_path / "scans", {"v1.2/README": b"r"})
    p = _aihub(emu)
    with pytest.raises(batchkit.InvalidInput, match="'README' has no extension"):
        p.upload(p.create_batch("ext"), scans, name_by="relative")


@pytest.mark.skipif(sys.platform != "linux", reason="names that are not UTF-8: Linux")
def test_a_folder_name_that_is_not_utf8_becomes_a_legal_relative_name(
    emu: Emulator, tmp_path: Path
) -> None:
    """By base name a name that is not UTF-8 is refused; by relative path its bytes are
    percent-encoded, so it goes up, and decodes back to the name the OS gives."""
    root = tmp_path / "scans"
    raw = os.fsencode(root) + b"/caf\xe9"
    os.makedirs(raw)
    with open(raw + b"/a.pdf", "wb") as f:
        f.write(b"%PDF")
    p = _aihub(emu)
    report = p.upload(p.create_batch("bytes"), root, name_by="relative")
    assert ["caf%E9%2Fa.pdf"] == [f.name for f in report.uploaded]
    assert os.fsdecode(b"caf\xe9/a.pdf") == str(batchkit.relative_path("caf%E9%2Fa.pdf"))


def test_name_by_is_checked_before_anything_is_sent(emu: Emulator, tmp_path: Path) -> None:
    p = _aihub(emu)
    batch = p.create_batch("bad-name-by")
    before = len(emu.requests)
    with pytest.raises(batchkit.InvalidInput, match="name_by must be 'basename', 'relative'"):
        p.upload(batch, tmp_path, name_by="path")  # type: ignore[arg-type]
    assert before == len(emu.requests)


def test_the_cli_names_by_relative_path(
    served_emulator: Emulator, tenant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in list(os.environ):
        if var.startswith(("BATCHKIT_", "AIHUB_", "SCALE_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("AIHUB_API_ROOT", served_emulator.aihub_api_root)
    monkeypatch.setenv("AIHUB_API_TOKEN", tenant)
    from batchkit.cli._app import cli

    scans = _tree(tmp_path / "scans", {"2025/scan.pdf": b"1", "2026/scan.pdf": b"2"})
    runner = CliRunner()
    batch = runner.invoke(cli, ["--json", "--provider", "aihub", "batches", "create", "n"])
    batch_id = __import__("json").loads(batch.stdout)["id"]
    clash = runner.invoke(cli, ["--provider", "aihub", "files", "upload", batch_id, str(scans)])
    assert 2 == clash.exit_code
    assert "--name-by relative" in clash.stderr
    ok = runner.invoke(cli, ["--json", "--provider", "aihub", "files", "upload", batch_id,
                             str(scans), "--name-by", "relative"])
    assert 0 == ok.exit_code, ok.output
    assert ["2025%2Fscan.pdf", "2026%2Fscan.pdf"] == [
        f["name"] for f in __import__("json").loads(ok.stdout)["files"]
    ]
