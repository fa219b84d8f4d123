"""Input checks: what is accepted, what is refused with a helpful message, and that a
refused call sends no request at all."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import io

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import batchkit
from batchkit import Batch, InvalidInput
from batchkit._validate import batch_name, byte_range, file_name, positive_int, priority

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_CONTROL = st.characters(categories=["Cc"])
_SAFE = st.characters(
    categories=["L", "M", "N", "P", "S", "Zs"], exclude_characters="/\\."
)
_EXT = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=6)


@st.composite
def valid_file_names(draw: st.DrawFn) -> str:
    """Flat names with a stem and an extension, no separators, `..`, controls or
    surrounding whitespace."""
    ext = draw(_EXT)
    stem = draw(st.text(_SAFE, min_size=1, max_size=255 - 1 - len(ext)))
    # single dots inside the stem are fine ("v1.2.pdf"); ".." never is
    dotted = draw(st.lists(st.text(_SAFE, min_size=1, max_size=5), max_size=3))
    stem = ".".join([stem, *dotted])[: 255 - 1 - len(ext)]
    assume(not stem.endswith(".") and stem.strip(".") and stem == stem.strip())
    return f"{stem}.{ext}"


# -- file names --------------------------------------------------------------------------


@given(valid_file_names())
def test_valid_file_names_are_returned_unchanged(name):
    """A flat name with an extension passes through `file_name` as is."""
    assert name == file_name(name)


@given(st.text(_SAFE, max_size=20), st.sampled_from(["/", "\\"]), st.text(_SAFE, max_size=20))
def test_file_names_with_path_separators_are_refused_naming_the_name(head, sep, tail):
    """`/` and `\\` are refused; the message quotes the name and says names are flat."""
    name = f"{head}{sep}{tail}.pdf"
    with pytest.raises(InvalidInput) as info:
        file_name(name)
    assert repr(name) in str(info.value)
    assert "flat" in str(info.value)


@given(st.text(_SAFE, max_size=20), st.text(_SAFE, max_size=20))
def test_file_names_containing_dot_dot_are_refused(head, tail):
    """A name containing `..` is refused and quoted in the message."""
    name = f"{head}..{tail}.pdf"
    with pytest.raises(InvalidInput) as info:
        file_name(name)
    assert repr(name) in str(info.value)


@pytest.mark.parametrize("name", [" scan.pdf", "scan.pdf ", "\u00a0scan.pdf"])
def test_file_names_with_surrounding_whitespace_are_refused_with_the_stripped_name(name):
    """A stray space is refused, and the message shows the stripped name to use."""
    with pytest.raises(InvalidInput) as info:
        file_name(name)
    assert "whitespace" in str(info.value)
    assert repr(name.strip()) in str(info.value)


@pytest.mark.parametrize("ext", ["pdf", "PDF", "docx"])
def test_a_file_name_that_is_only_an_extension_asks_for_a_name(ext):
    """`.pdf` gets "put a name before it, e.g. 'scan.pdf'", not the odd '.pdf.pdf'."""
    with pytest.raises(InvalidInput, match=rf"only an extension.*'scan\.{ext}'"):
        file_name(f".{ext}")


@given(st.text(_SAFE, max_size=20), _CONTROL, st.text(_SAFE, max_size=20))
def test_file_names_with_control_characters_are_refused(head, control, tail):
    """Any Unicode control character (tab, newline, NUL, DEL...) is refused."""
    name = f"{head}{control}{tail}.pdf"
    with pytest.raises(InvalidInput) as info:
        file_name(name)
    assert repr(name) in str(info.value)
    assert "control" in str(info.value)


@given(st.text(_SAFE, min_size=1, max_size=40))
def test_file_names_without_an_extension_are_refused_with_an_example(stem):
    """`report`, `report.` and `.pdf` have no usable extension; the hint suggests one."""
    assume(stem == stem.strip())
    for name in (stem, f"{stem}.", f".{stem}"):
        assume(name.strip())
        with pytest.raises(InvalidInput) as info:
            file_name(name)
        assert repr(name) in str(info.value)
        assert "extension" in str(info.value)


@pytest.mark.parametrize("name", ["", " ", "\t "])
def test_empty_file_names_are_refused_with_a_hint(name):
    """An empty or blank name is refused, suggesting what a name looks like."""
    with pytest.raises(InvalidInput, match="empty"):
        file_name(name)


@given(st.integers(min_value=256, max_value=2000))
def test_file_names_longer_than_255_characters_are_refused(length):
    """Names over 255 characters are refused; the message gives the length and limit."""
    name = "a" * (length - 4) + ".pdf"
    with pytest.raises(InvalidInput) as info:
        file_name(name)
    assert f"is {length} characters" in str(info.value)
    assert "255" in str(info.value)


def test_a_255_character_file_name_is_accepted():
    """Exactly 255 characters is within the limit."""
    name = "a" * 251 + ".pdf"
    assert name == file_name(name)


@pytest.mark.parametrize("name", [None, 3, b"a.pdf", ["a.pdf"]])
def test_file_names_that_are_not_str_are_refused(name):
    """Only `str` names are accepted; the message names the type received."""
    with pytest.raises(InvalidInput, match=type(name).__name__):
        file_name(name)


# -- batch names -------------------------------------------------------------------------


@given(st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=255))
def test_any_non_blank_batch_name_without_controls_is_accepted(name):
    """Batch names may hold spaces, slashes, unicode: anything printable, up to 255."""
    assume(name.strip())
    assert name == batch_name(name)


@given(st.text(st.characters(categories=["Zs"]), max_size=5))
def test_blank_batch_names_are_refused(name):
    """Empty and whitespace-only batch names are refused."""
    with pytest.raises(InvalidInput, match="empty"):
        batch_name(name)


@given(st.text(min_size=1, max_size=10), _CONTROL)
def test_batch_names_with_control_characters_are_refused(head, control):
    """A control character anywhere in a batch name is refused."""
    assume(head.strip())
    with pytest.raises(InvalidInput, match="control"):
        batch_name(head + control)


def test_batch_names_longer_than_255_are_refused():
    """A 256-character batch name is refused with the limit in the message."""
    with pytest.raises(InvalidInput, match="the limit is 255"):
        batch_name("b" * 256)


@pytest.mark.parametrize("name", [None, 12, b"name"])
def test_batch_names_that_are_not_str_are_refused(name):
    """A non-str batch name is refused, naming its type."""
    with pytest.raises(InvalidInput, match="must be a str"):
        batch_name(name)


# -- priorities --------------------------------------------------------------------------


@given(st.integers(min_value=10, max_value=30))
def test_priorities_from_10_to_30_are_accepted(value):
    """10 (lowest) to 30 (highest) inclusive are valid priorities."""
    assert value == priority(value)


@given(st.integers().filter(lambda v: not 10 <= v <= 30))
def test_priorities_outside_10_to_30_are_refused_naming_the_range(value):
    """Out-of-range priorities are refused; the message names the allowed range."""
    with pytest.raises(InvalidInput) as info:
        priority(value)
    assert f"priority {value} is out of range" in str(info.value)


@given(st.one_of(
    st.booleans(), st.floats(), st.text(max_size=3), st.none(),
    st.integers(10, 30).map(float), st.integers(10, 30).map(str),
))
def test_priorities_that_are_not_ints_are_refused(value):
    """bools, floats (even 20.0) and strings are not priorities."""
    with pytest.raises(InvalidInput, match="must be an int"):
        priority(value)


# -- byte ranges -------------------------------------------------------------------------


@given(st.integers(0, 10**12), st.one_of(st.none(), st.integers(0, 10**6)))
def test_byte_ranges_with_end_at_or_after_start_are_accepted(start, extra):
    """`start >= 0` with `end` None or `>= start` is returned unchanged."""
    end = None if extra is None else start + extra
    assert (start, end) == byte_range(start, end)


@given(st.integers(max_value=-1))
def test_byte_ranges_with_a_negative_start_are_refused(start):
    """Ranges start at 0 or later."""
    with pytest.raises(InvalidInput, match="negative"):
        byte_range(start, None)


@given(st.integers(1, 10**6), st.integers(1, 10**6))
def test_byte_ranges_ending_before_they_start_are_refused(start, short):
    """`end < start` is refused, showing the range."""
    end = start - short
    assume(end >= 0)
    with pytest.raises(InvalidInput, match=f"{start}-{end} ends before it starts"):
        byte_range(start, end)


@pytest.mark.parametrize(
    ("start", "end"), [(1.0, None), (0, 2.5), (True, None), (0, False), ("0", None)]
)
def test_byte_ranges_of_non_int_bounds_are_refused(start, end):
    """Bounds must be ints (not bools, floats or strings)."""
    with pytest.raises(InvalidInput, match="must be an int"):
        byte_range(start, end)


def test_byte_range_start_none_is_refused_as_invalid_input():
    """`start=None` is an InvalidInput like any other non-int bound, not a TypeError."""
    with pytest.raises(InvalidInput, match="must be an int"):
        byte_range(None, 4)  # type: ignore[arg-type]


def test_byte_range_starting_past_the_end_of_a_known_size_is_refused():
    """With the file size known, a start at or past it is refused."""
    with pytest.raises(InvalidInput, match="past the end of a 10-byte file"):
        byte_range(10, None, size=10)


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "3", None])
def test_positive_int_refuses_anything_but_an_int_of_at_least_one(value):
    """Page sizes, concurrency and thresholds must be ints >= 1."""
    with pytest.raises(InvalidInput, match="page_size must be an int >= 1"):
        positive_int("page_size", value)


# -- no request for invalid input --------------------------------------------------------


def _assert_refused_without_request(rec, call):
    rec.clear()
    with pytest.raises(InvalidInput):
        call()
    assert [] == rec.requests


@FAST
@given(st.one_of(
    st.text(_SAFE, max_size=10).map(lambda s: f"dir/{s}.pdf"),
    st.text(_SAFE, max_size=10).map(lambda s: f"..{s}.pdf"),
    st.text(_SAFE, max_size=10).map(lambda s: f" {s}.pdf"),
    st.text(_SAFE, max_size=10).map(lambda s: f"{s}\\x.pdf"),
    st.text(_SAFE, max_size=10).map(lambda s: f"a{s}\n.pdf"),
    st.text(_SAFE, min_size=1, max_size=10),
    st.just(""),
    st.just("x" * 300 + ".pdf"),
))
def test_aihub_upload_file_with_a_bad_name_sends_no_request(kit, name):
    """Every refused file name is refused before any HTTP request."""
    rec = kit.Recorder()
    with kit.aihub(rec.transport) as provider:
        _assert_refused_without_request(rec, lambda: provider.upload_file("7", name, b"data"))


@FAST
@given(st.one_of(
    st.integers().filter(lambda v: not 10 <= v <= 30), st.booleans(), st.floats(),
    st.just("20"),
))
def test_scale_prioritize_out_of_range_sends_no_request(kit, value):
    """prioritize(batch, 5) and other bad priorities never reach Scale."""
    rec = kit.Recorder()
    with kit.scale(rec.transport) as provider:
        _assert_refused_without_request(rec, lambda: provider.prioritize("b", value))


@pytest.mark.parametrize(
    ("start", "end"), [(-1, None), (5, 2), (0, 1.5), (True, None), (None, 3)]
)
def test_aihub_download_with_a_bad_range_sends_no_request(kit, start, end):
    """A bad byte range is refused before even looking the batch up."""
    rec = kit.Recorder()
    provider = kit.aihub(rec.transport)
    _assert_refused_without_request(
        rec, lambda: provider.download_file("7", "a.pdf", start=start, end=end)
    )


@pytest.mark.parametrize(
    "batch_id", ["abc", "", "-1", "1.5", "12a", " 7", "7/8", True, None, 3.0]
)
def test_aihub_non_integer_batch_ids_are_refused_without_a_request(kit, batch_id):
    """AI Hub batch ids are integers: anything else is refused locally."""
    rec = kit.Recorder()
    provider = kit.aihub(rec.transport)
    _assert_refused_without_request(rec, lambda: provider.get_batch(batch_id))


@pytest.mark.parametrize("batch_id", ["²", "١٢", "①", "𝟕"])
def test_aihub_batch_ids_of_non_ascii_digits_are_refused_without_a_request(kit, batch_id):
    """Superscript or Arabic-Indic digits pass `str.isdigit` but are not AI Hub ids."""
    rec = kit.Recorder()
    provider = kit.aihub(rec.transport)
    _assert_refused_without_request(rec, lambda: provider.get_batch(batch_id))


def test_a_scale_batch_passed_to_aihub_is_refused_naming_both_providers(kit):
    """A Batch handle carries its provider; AI Hub refuses a Scale batch, sending nothing."""
    rec = kit.Recorder()
    provider = kit.aihub(rec.transport)
    scale_batch = Batch(provider="scale", id="my-batch", name="my-batch")
    for call in (
        lambda: provider.get_batch(scale_batch),
        lambda: provider.upload_file(scale_batch, "a.pdf", b"x"),
        lambda: list(provider.list_files(scale_batch)),
        lambda: provider.delete_batch(scale_batch),
    ):
        _assert_refused_without_request(rec, call)
    with pytest.raises(InvalidInput) as info:
        provider.get_batch(scale_batch)
    assert "'scale'" in str(info.value)
    assert "'aihub'" in str(info.value)


def test_an_aihub_batch_passed_to_scale_is_refused(kit):
    """The other way round too: Scale refuses an AI Hub batch."""
    rec = kit.Recorder()
    provider = kit.scale(rec.transport)
    aihub_batch = Batch(provider="aihub", id="7", name="n")
    _assert_refused_without_request(rec, lambda: provider.finalize(aihub_batch))
    _assert_refused_without_request(rec, lambda: provider.prioritize(aihub_batch, 20))


INVALID_AIHUB_CALLS = {
    "create_batch-empty-name": lambda p: p.create_batch(""),
    "create_batch-options": lambda p: p.create_batch("b", options={"x": 1}),
    "delete_file-bad-name": lambda p: p.delete_file("7", "a/b.pdf"),
    "list_files-page-size-0": lambda p: p.list_files("7", page_size=0),
    "upload_file-size-mismatch": lambda p: p.upload_file("7", "a.pdf", b"abc", size=4),
    "upload_file-unsupported-data": lambda p: p.upload_file("7", "a.pdf", 123),
    "upload_file-text-stream": lambda p: p.upload_file("7", "a.pdf", io.StringIO("text")),
    "upload_file-missing-path": lambda p: p.upload_file("7", "a.pdf", "/no/such/file.pdf"),
    "download_file-bad-name": lambda p: p.download_file("7", "../x.pdf"),
    "fs_read-bad-path": lambda p: p.fs_read("relative/fs/x.pdf"),
    "fs_read-dot-dot": lambda p: p.fs_read("/org/ws/fs/drive/../x.pdf"),
}


@pytest.mark.parametrize("call", INVALID_AIHUB_CALLS.values(), ids=INVALID_AIHUB_CALLS.keys())
def test_invalid_aihub_calls_send_no_request(kit, call):
    """Each invalid AI Hub call raises InvalidInput before any request."""
    rec = kit.Recorder()
    _assert_refused_without_request(rec, lambda: call(kit.aihub(rec.transport)))


INVALID_SCALE_CALLS = {
    "create_batch-no-project": lambda p: p.create_batch("b"),
    "create_batch-blank-name": lambda p: p.create_batch("  ", project="p"),
    "create_batch-unknown-option": lambda p: p.create_batch("b", project="p",
                                                            options={"colour": True}),
    "create_batch-non-bool-option": lambda p: p.create_batch(
        "b", project="p", options={"calibration_batch": "yes"}),
    "create_batch-metadata-list": lambda p: p.create_batch("b", project="p", metadata=[1]),
    "get_batch-control-char": lambda p: p.get_batch("bad\nname"),
    "list_batches-owner": lambda p: p.list_batches(owner="me"),
    "set_metadata-not-mapping": lambda p: p.set_metadata("b", [("k", "v")]),
    "create_project-no-type": lambda p: p.create_project("proj", type=""),
}


@pytest.mark.parametrize("call", INVALID_SCALE_CALLS.values(), ids=INVALID_SCALE_CALLS.keys())
def test_invalid_scale_calls_send_no_request(kit, call):
    """Each invalid Scale call raises InvalidInput before any request."""
    rec = kit.Recorder()
    _assert_refused_without_request(rec, lambda: call(kit.scale(rec.transport)))


def test_invalid_input_is_also_a_value_error():
    """Callers catching ValueError also catch InvalidInput."""
    assert issubclass(InvalidInput, ValueError)
    assert issubclass(InvalidInput, batchkit.BatchkitError)


def test_valid_upload_sends_exactly_one_put(kit):
    """The control case: a valid small upload sends one PUT and nothing else."""
    rec = kit.Recorder(lambda request: httpx.Response(204))
    kit.aihub(rec.transport).upload_file("7", "a.pdf", b"abc")
    assert [("PUT", "/api/v2/batches/7/files/a.pdf")] == rec.lines


# -- list_batches filters ---------------------------------------------------------------


@pytest.mark.parametrize("provider_name", ["aihub", "scale"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"state": "bogus"},
        {"state": "unknown"},
        {"state": 3},
        {"limit": 0},
        {"limit": -1},
        {"limit": "5"},
        {"limit": 2.5},
        {"created_after": "2026-01-01"},
        {"created_before": 1700000000},
    ],
)
def test_bad_list_batches_filters_are_invalid_input_before_any_request(
    kit, provider_name, kwargs
):
    """A typo'd state or a nonsensical limit fails loudly instead of listing nothing."""
    rec = kit.Recorder()
    provider = getattr(kit, provider_name)(rec.transport)
    with pytest.raises(InvalidInput) as info:
        provider.list_batches(**kwargs)
    assert next(iter(kwargs)) in str(info.value)
    assert [] == rec.requests


def test_a_state_given_as_text_filters_like_the_enum(kit):
    """`state="staging"` (as a CLI or config gives it) is `BatchState.STAGING` on the wire."""
    page = {"docs": [], "totalDocs": 0, "limit": 100, "offset": 0, "has_more": False}
    rec = kit.Recorder(lambda request: httpx.Response(200, json=page))
    list(kit.scale(rec.transport).list_batches(state="Staging"))
    assert "staging" == rec.requests[0].url.params["status"]
