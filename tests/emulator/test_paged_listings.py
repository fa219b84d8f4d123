"""Paged listings read sorted indexes: the wire is what a full sort of every record gave, and a
page costs O(page size), not O(records).

Every paging test keeps its own model of the records (names, creation keys, statuses) and
computes each expected page the way the emulator used to: filter everything, sort it, slice.
Records are added, removed and moved between statuses *between* pages, with a fake clock
that also runs backwards, so new records land before, after and at the cursor.

The cost tests count work, never time: :func:`calls_made` counts every Python function call
and every builtin call made while one page is served (``sys.setprofile``). A listing that
touched each record would make at least one call per record; an indexed page makes about
the same number of calls whether 1,000 or 4,000 records are stored.
"""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from batchkit.emulator import Emulator, _index
from batchkit.emulator._index import SortedIndex

T0 = 1_700_000_000.0


class Clock:
    """A fake clock, moved by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def calls_made(fn: Callable[[], object]) -> int:
    """How many Python function calls and builtin calls ``fn()`` makes (in this thread)."""
    count = 0

    def profile(frame: types.FrameType, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(previous)
    return count


# -- the index itself --------------------------------------------------------------------


class Item:
    """A record with a key; compares by identity, as the emulator's records do."""

    def __init__(self, key: int) -> None:
        self.key = key

    def __repr__(self) -> str:
        return f"Item({self.key})"


ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 12)),
        st.tuples(st.just("remove"), st.integers(0, 10_000)),
        st.tuples(st.just("query"), st.integers(-1, 13)),
    ),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(ops=ops, start=st.integers(-3, 130), length=st.integers(0, 130))
# a slice ending before 0 is empty (`slice` clamps both ends to 0..len), where a Python
# list's negative stop counts from the end: the model used to say so, one CI run in many
@example(ops=[("add", 0), ("add", 0)], start=-1, length=0)
def test_the_index_matches_a_stably_sorted_list(
    ops: list[tuple[str, int]], start: int, length: int
) -> None:
    """Adds, removes, bisections and slices agree with a list sorted stably by key, with
    blocks small enough that splits and merges happen."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_index, "LOAD", 2)
        index: SortedIndex[Item] = SortedIndex(lambda item: item.key)
        model: list[Item] = []
        for op, value in ops:
            if op == "add":
                item = Item(value)
                index.add(item)
                model.append(item)
                model.sort(key=lambda i: i.key)  # stable: equal keys keep arrival order
            elif op == "remove" and model:
                item = model.pop(value % len(model))
                index.remove(item)
            elif op == "query":
                keys = [i.key for i in model]
                assert index.bisect_left(value) == sum(1 for k in keys if k < value)
                assert index.bisect_right(value) == sum(1 for k in keys if k <= value)
            assert len(index) == len(model)
            assert list(index) == model
            assert list(reversed(index)) == model[::-1]
        stop = start + length
        assert index.slice(start, stop) == model[max(start, 0) : max(stop, 0)]
        with pytest.raises(ValueError, match="is not in the index"):
            index.remove(Item(3))


# -- AI Hub: a batch's files ---------------------------------------------------------------


@pytest.fixture
def aihub() -> Iterator[tuple[Emulator, httpx.Client]]:
    """An in-process emulator whose deletions complete at once, and a tenant's client."""
    with (
        Emulator(job_seconds=0) as emu,
        httpx.Client(
            transport=emu.transport(),
            base_url=emu.aihub_api_root,
            headers={"Authorization": "Bearer pager"},
        ) as client,
    ):
        yield emu, client


def _put(client: httpx.Client, path: str) -> None:
    response = client.put(path, content=b"x")
    assert response.status_code in (201, 204), response.text


@pytest.mark.parametrize("seed", range(4))
def test_list_files_pages_as_a_full_sort_did_while_files_come_and_go(
    aihub: tuple[Emulator, httpx.Client], seed: int
) -> None:
    """Between pages files are uploaded (before and after the cursor), replaced, deleted (the
    cursor's own file included), written and deleted through the Filesystem API, and a folder
    appears inside the batch folder: every page is the next names in Python string order
    after the previous page's last one, as a sort of every file gives."""
    emu, client = aihub
    rng = random.Random(seed)
    batch = client.post("/v2/batches", json={"name": "b"}).json()["id"]
    info = client.get(f"/v2/batches/{batch}").json()
    folder = "/".join(
        (info["repo_owner"], info["workspace"], "fs", info["mount_point"], info["path_suffix"])
    )
    prefixes = ["a", "B", "b", "é", "z", "0", "~", "aa", "日本"]
    names: set[str] = set()

    def new_name() -> str:
        return f"{rng.choice(prefixes)}{rng.randrange(10_000)}.pdf"

    for _ in range(60):
        name = new_name()
        _put(client, f"/v2/batches/{batch}/files/{name}")
        names.add(name)
    after: str | None = None
    token = ""
    pages = 0
    while True:
        size = rng.choice([1, 3, 7, 20])
        params: dict[str, str | int] = {"page_size": size}
        if token:
            params["start_token"] = token
        body = client.get(f"/v2/batches/{batch}/files", params=params).json()
        rest = sorted(n for n in names if after is None or n > after)
        assert [node["name"] for node in body["nodes"]] == rest[:size]
        assert body["has_more"] == (len(rest) > size)
        assert (body["next_page_token"] != "") == body["has_more"]
        assert all(node["metadata"]["node_type"] == "file" for node in body["nodes"])
        pages += 1
        if not body["has_more"]:
            break
        after, token = body["nodes"][-1]["name"], body["next_page_token"]
        for _ in range(rng.randrange(4)):  # new files anywhere
            name = new_name()
            _put(client, f"/v2/batches/{batch}/files/{name}")
            names.add(name)
        if rng.random() < 0.3:  # the cursor's own file goes: its token stays valid
            assert client.delete(f"/v2/batches/{batch}/files/{after}").status_code == 202
            names.discard(after)
        for name in rng.sample(sorted(names), min(2, len(names))):
            if rng.random() < 0.5:
                assert client.delete(f"/v2/batches/{batch}/files/{name}").status_code == 202
                names.discard(name)
            else:  # replaced: still one file of that name
                _put(client, f"/v2/batches/{batch}/files/{name}")
        if rng.random() < 0.3:  # through the Filesystem API, into the batch folder
            name = new_name()
            _put(client, f"/v2/files/{folder}/{name}")
            names.add(name)
        if rng.random() < 0.2:  # a folder in the batch folder is not a file of the batch
            _put(client, f"/v2/files/{folder}/{new_name()}/inner.txt")
    assert pages > 5
    listed = emu.aihub.list_batch_files("pager", batch, page_size=1000)
    assert [node["name"] for node in listed.nodes] == sorted(names)


def test_list_files_after_the_last_file_or_in_an_emptied_batch_is_an_empty_last_page(
    aihub: tuple[Emulator, httpx.Client],
) -> None:
    """A token past every file left gives an empty last page; so does a batch whose files
    were all deleted."""
    _, client = aihub
    batch = client.post("/v2/batches", json={"name": "b"}).json()["id"]
    for name in ("a.txt", "b.txt", "c.txt"):
        _put(client, f"/v2/batches/{batch}/files/{name}")
    first = client.get(f"/v2/batches/{batch}/files", params={"page_size": 2}).json()
    assert first["has_more"]
    for name in ("a.txt", "b.txt", "c.txt"):
        assert client.delete(f"/v2/batches/{batch}/files/{name}").status_code == 202
    params = {"page_size": 2, "start_token": first["next_page_token"]}
    last = client.get(f"/v2/batches/{batch}/files", params=params).json()
    assert last == {"nodes": [], "next_page_token": "", "has_more": False}
    again = client.get(f"/v2/batches/{batch}/files").json()
    assert again == {"nodes": [], "next_page_token": "", "has_more": False}


# -- AI Hub: batches and runs ------------------------------------------------------------


def test_list_batches_pages_by_id_through_deletions(aihub: tuple[Emulator, httpx.Client]) -> None:
    """Offset pages of the tenant's batches (and of one workspace) are slices of the
    batches by ascending id, with deleted batches gone and other tenants' never there."""
    emu, client = aihub
    rng = random.Random(5)
    model: dict[int, str] = {}  # id -> workspace
    for i in range(40):
        workspace = rng.choice(["w1", "w2", "my-repo"])
        body: dict[str, str] = {"name": f"b{i}"}
        if workspace != "my-repo" or rng.random() < 0.5:
            body["workspace"] = workspace
        model[client.post("/v2/batches", json=body).json()["id"]] = workspace
        emu.aihub.create_batch("someone-else", name=f"x{i}", workspace=workspace)
    for batch_id in rng.sample(sorted(model), 12):
        assert client.delete(f"/v2/batches/{batch_id}").status_code == 202
        del model[batch_id]
    for workspace in (None, "w1", "w2", "my-repo", "nowhere"):
        ids = sorted(i for i, w in model.items() if workspace is None or w == workspace)
        for offset, limit in (
            (0, 5),
            (3, 4),
            (max(0, len(ids) - 1), 10),
            (len(ids) + 2, 3),
            (2, None),
        ):
            params: dict[str, str | int] = {"offset": offset}
            if limit is not None:
                params["limit"] = limit
            if workspace is not None:
                params["workspace"] = workspace
            got = [b["id"] for b in client.get("/v2/batches", params=params).json()["batches"]]
            assert got == ids[offset : None if limit is None else offset + limit]
    username = emu.aihub.username("pager")
    assert len(emu.aihub.list_batches("pager", username=username)) == len(model)
    assert emu.aihub.list_batches("pager", username="user-nobody") == []
    everything = [b.id for b in emu.aihub.list_batches("pager")]
    assert [b.id for b in emu.aihub.list_batches("pager", offset=-3)] == everything[-3:]


def test_list_runs_pages_in_start_order_with_ties_and_deletions() -> None:
    """Runs started at the same moment keep their start order (reversed newest first); the
    pages and the status sort are those of a full sort, with deleted runs gone."""
    clock = Clock()
    with (
        Emulator(clock=clock, job_seconds=None, job_polls=None) as emu,
        httpx.Client(
            transport=emu.transport(),
            base_url=emu.aihub_api_root,
            headers={"Authorization": "Bearer runner"},
        ) as client,
    ):
        batch = client.post("/v2/batches", json={"name": "b"}).json()["id"]
        _put(client, f"/v2/batches/{batch}/files/a.txt")
        rng = random.Random(3)
        starts: list[tuple[float, str]] = []
        for _ in range(30):
            clock.now = T0 + rng.choice([0, 0, 1, 2, 2, 5, -1])
            app = rng.choice(["batchkit-extractor", "batchkit-fail"])
            run = client.post("/v2/apps/runs", json={"app_name": app, "batch_id": batch})
            starts.append((clock.now, run.json()["id"]))
        for gone in rng.sample(starts, 6):
            deleted = client.delete(f"/v2/apps/runs/{gone[1]}", params={"delete_input": "false"})
            assert deleted.status_code == 202
            starts.remove(gone)
        clock.now = T0 + 10
        emu.aihub.finish_runs()
        status = {run_id: emu.aihub.get_run("runner", run_id).status for _, run_id in starts}
        ascending = [run_id for _, run_id in sorted(starts, key=lambda s: s[0])]  # stable
        started = dict((run_id, at) for at, run_id in starts)
        by_status = sorted(ascending, key=lambda r: status[r])
        for params, expected in [
            ({}, ascending[::-1]),
            ({"order": "ASCENDING"}, ascending),
            ({"sort_by": "status", "order": "ASCENDING"}, by_status),
            ({"sort_by": "status"}, by_status[::-1]),
            ({"app_name": "batchkit-fail"}, [r for r in ascending[::-1] if status[r] == "FAILED"]),
            ({"from_timestamp": int(T0) + 1}, [r for r in ascending[::-1] if started[r] >= T0 + 1]),
        ]:
            for offset, limit in ((0, 4), (5, 7), (22, 10), (30, 2)):
                query = {**params, "offset": offset, "limit": limit}
                got = [r["id"] for r in client.get("/v2/apps/runs", params=query).json()["runs"]]
                assert got == expected[offset : offset + limit], query


# -- Scale: tasks --------------------------------------------------------------------------


class ScaleModel:
    """The test's own record of a customer's tasks: key (created_at, seq) and batch."""

    def __init__(self, emu: Emulator, clock: Clock) -> None:
        self.emu, self.clock = emu, clock
        self.tasks: dict[str, tuple[tuple[float, int], str]] = {}

    def add(self, batch: str, count: int, at: float) -> None:
        self.clock.now = at
        for _ in range(count):
            task = self.emu.scale.create_task(
                "key", "categorization", batch=batch, params={"categories": ["a", "b"]}
            )
            self.tasks[task["task_id"]] = ((at, int(task["task_id"][8:], 16)), batch)

    def expected(
        self, keep: Callable[[dict[str, Any]], bool], after: str | None, limit: int
    ) -> dict[str, Any]:
        """The page a filter-sort-slice of every task gives."""
        found = [
            (key, task_id)
            for task_id, (key, _) in self.tasks.items()
            if keep(self.emu.scale.get_task("key", task_id))
        ]
        found.sort(reverse=True)
        cursor = None if after is None else self.tasks[after][0]
        offset = 0 if cursor is None else sum(1 for key, _ in found if key >= cursor)
        page = [task_id for _, task_id in found[offset : offset + limit]]
        has_more = offset + len(page) < len(found)
        return {
            "ids": page,
            "total": len(found),
            "offset": offset,
            "has_more": has_more,
            "next_token": page[-1] if has_more else None,
        }


TASK_FILTERS: list[tuple[dict[str, str], Callable[[dict[str, Any]], bool]]] = [
    ({}, lambda t: True),
    ({"batch": "b1"}, lambda t: t["batch"] == "b1"),
    (
        {"batch": "b1", "status": "pending"},
        lambda t: t["batch"] == "b1" and t["status"] == "pending",
    ),
    ({"project": "p", "status": "completed"}, lambda t: t["status"] == "completed"),
    ({"batch": "b2", "project": "p"}, lambda t: t["batch"] == "b2"),
    ({"batch": "b2", "project": "other"}, lambda t: False),
    ({"batch": "nope"}, lambda t: False),
    ({"status": "canceled"}, lambda t: t["status"] == "canceled"),
    # no index answers these: one pass, still the same pages
    ({"batch": "b1", "type": "categorization"}, lambda t: t["batch"] == "b1"),
    ({"type": "imageannotation"}, lambda t: False),
    (
        {"start_time": "2023-11-14T22:13:21Z", "end_time": "2023-11-14T22:13:24Z"},
        lambda t: "2023-11-14T22:13:21.000Z" <= t["created_at"] <= "2023-11-14T22:13:24.000Z",
    ),
    (
        {"batch": "b1", "start_time": "2023-11-14T22:13:22Z"},
        lambda t: t["batch"] == "b1" and t["created_at"] >= "2023-11-14T22:13:22.000Z",
    ),
]


@pytest.mark.parametrize(("query", "keep"), TASK_FILTERS, ids=lambda v: str(v)[:60])
def test_list_tasks_pages_as_a_full_sort_did_while_tasks_come_and_change(
    query: dict[str, str], keep: Callable[[dict[str, Any]], bool]
) -> None:
    """next_token paging: between pages tasks are created at the newest moment, at an older
    one (they sort after the cursor, so later pages show them), at the cursor's own moment,
    completed and canceled; every page, total and offset is what a sort of every task gives."""
    clock = Clock()
    rng = random.Random(len(str(query)))
    with (
        Emulator(clock=clock, scale_task_seconds=None) as emu,
        httpx.Client(
            transport=emu.transport(), base_url=emu.scale_api_root, auth=("key", "")
        ) as client,
    ):
        emu.scale.create_project("key", name="p", type="categorization")
        emu.scale.create_project("key", name="other", type="categorization")
        for batch in ("b1", "b2"):
            emu.scale.create_batch("key", project="p", name=batch)
        model = ScaleModel(emu, clock)
        for _ in range(40):
            model.add(rng.choice(["b1", "b2"]), 1, T0 + rng.choice([0, 1, 2, 3, 4, 5]))
        emu.scale.complete_tasks(
            "key", "b2", min(5, emu.scale.batch_status("key", "b2")["pending"])
        )
        after: str | None = None
        pages = 0
        while True:
            limit = rng.choice([1, 2, 5])
            params = {**query, "limit": limit}
            if after is not None:
                params["next_token"] = after
            body = client.get("/tasks", params=params).json()
            expected = model.expected(keep, after, limit)
            assert [t["task_id"] for t in body["docs"]] == expected["ids"]
            assert body["docs"] == [emu.scale.get_task("key", i) for i in expected["ids"]]
            for field in ("total", "offset", "has_more", "next_token"):
                assert body[field] == expected[field], field
            pages += 1
            if not body["has_more"] or pages > 60:
                break
            after = body["next_token"]
            cursor_at = model.tasks[after][0][0]
            model.add(rng.choice(["b1", "b2"]), rng.randrange(3), T0 + 9)  # newest
            model.add(rng.choice(["b1", "b2"]), rng.randrange(2), T0 + rng.choice([0, 1, 2]))
            model.add(rng.choice(["b1", "b2"]), rng.randrange(2), cursor_at)  # a tie
            batch = rng.choice(["b1", "b2"])
            if emu.scale.batch_status("key", batch)["pending"]:
                emu.scale.complete_tasks("key", batch, 1)
            pending = [
                i for i in model.tasks if emu.scale.get_task("key", i)["status"] == "pending"
            ]
            if pending and rng.random() < 0.5:
                assert client.post(f"/task/{rng.choice(pending)}/cancel").status_code == 200
        assert body["has_more"] is False


def test_list_tasks_by_unique_id_pages_the_named_tasks() -> None:
    """unique_id filters look the few named tasks up; the other filters still apply."""
    clock = Clock()
    with Emulator(clock=clock, scale_task_seconds=None) as emu:
        scale = emu.scale
        scale.create_project("key", name="p", type="categorization")
        scale.create_batch("key", project="p", name="b")
        ids = []
        for n, at in enumerate([3, 1, 2, 1]):
            clock.now = T0 + at
            task = scale.create_task("key", "categorization", batch="b", unique_id=f"u{n}")
            ids.append(task["task_id"])
        scale.cancel_task("key", ids[2])
        wanted = ["u0", "u1", "u2", "u3", "missing"]
        page = scale.list_tasks("key", unique_ids=wanted, limit=2)
        assert [t["task_id"] for t in page["docs"]] == [ids[0], ids[2]]
        assert (page["total"], page["offset"], page["has_more"]) == (4, 0, True)
        rest = scale.list_tasks("key", unique_ids=wanted, limit=2, next_token=page["next_token"])
        assert [t["task_id"] for t in rest["docs"]] == [ids[3], ids[1]]
        assert (rest["offset"], rest["has_more"], rest["next_token"]) == (2, False, None)
        pending = scale.list_tasks("key", unique_ids=wanted, status="pending")
        assert [t["task_id"] for t in pending["docs"]] == [ids[0], ids[3], ids[1]]


# -- Scale: batches ------------------------------------------------------------------------


def test_list_batches_pages_as_a_full_sort_did_while_batches_come_and_change() -> None:
    """Offset paging of batches newest first (ties: latest created first), by project, by
    status, in a time window and without archived ones, while batches are created (also
    at older moments), finalized, completed and archived between pages."""
    clock = Clock()
    rng = random.Random(11)
    with (
        Emulator(clock=clock, scale_task_seconds=None) as emu,
        httpx.Client(
            transport=emu.transport(), base_url=emu.scale_api_root, auth=("key", "")
        ) as client,
    ):
        scale = emu.scale
        scale.create_project("key", name="std", type="categorization")
        scale.create_project("key", name="studio", type="categorization", studio=True)
        order: list[tuple[float, int, str]] = []

        def create(n: int) -> None:
            for _ in range(n):
                clock.now = T0 + rng.choice([0, 1, 1, 2, 3])
                name = f"b{len(order)}"
                scale.create_batch("key", project=rng.choice(["std", "studio"]), name=name)
                order.append((clock.now, len(order), name))

        archived: dict[str, bool] = {}

        def mutate() -> None:
            create(rng.randrange(3))
            name = rng.choice(order)[2]
            status = scale.get_batch("key", name)["status"]
            if status == "staging":
                scale.finalize_batch("key", name)
            elif status == "in_progress":
                scale.add_tasks("key", name, 1)
                scale.complete_tasks("key", name)  # all its tasks done: completed
            target = rng.choice(order)[2]
            archived[target] = rng.random() < 0.5
            scale.archive_batch("key", target, archived=archived[target])

        create(30)
        queries: list[dict[str, str]] = [
            {},
            {"project": "studio"},
            {"status": "staging"},
            {"project": "std", "status": "completed"},
            {"start_time": "2023-11-14T22:13:21Z", "end_time": "2023-11-14T22:13:22Z"},
            {"exclude_archived": "true"},
            {"project": "nope"},
        ]
        for query in queries:
            offset = 0
            while True:
                limit = rng.choice([1, 3, 8])
                params = {**query, "limit": limit, "offset": offset, "detailed": "true"}
                body = client.get("/batches", params=params).json()
                found = []
                for at, seq, name in order:
                    batch = scale.get_batch("key", name)
                    if (
                        query.get("project", batch["project"]) == batch["project"]
                        and query.get("status", batch["status"]) == batch["status"]
                        and ("start_time" not in query or T0 + 1 <= at <= T0 + 2)
                        and not ("exclude_archived" in query and archived.get(name, False))
                    ):
                        found.append(((at, seq), name))
                found.sort(reverse=True)
                names = [name for _, name in found[offset : offset + limit]]
                assert [b["name"] for b in body["docs"]] == names, query
                assert body["totalDocs"] == len(found)
                assert body["has_more"] == (offset + len(names) < len(found))
                for doc in body["docs"]:
                    status = scale.batch_status("key", doc["name"])
                    assert {k: doc[k] for k in ("pending", "completed")} == {
                        k: status[k] for k in ("pending", "completed")
                    }
                if not body["has_more"]:
                    break
                offset += limit
                mutate()


# -- the cost of a page --------------------------------------------------------------------


def _aihub_files(n: int) -> Callable[[], object]:
    emu = Emulator()
    backend = emu.aihub
    batch = backend.create_batch("t", name="b")
    for i in range(n):
        blob = backend.blobs.create()
        backend.put_batch_file("t", batch.id, f"f{(i * 7919) % n:06d}.pdf", blob, 0)
    token = backend.list_batch_files("t", batch.id, page_size=500).next_page_token

    def page() -> object:
        listed = backend.list_batch_files("t", batch.id, page_size=50, start_token=token)
        assert len(listed.nodes) == 50
        return listed

    page.emu = emu  # type: ignore[attr-defined]
    return page


def _aihub_batches(n: int) -> Callable[[], object]:
    emu = Emulator()
    backend = emu.aihub
    for i in range(n):
        backend.create_batch("t", name=f"b{i}", workspace=f"w{i % 2}")
        backend.create_batch("u", name=f"b{i}")

    def page() -> object:
        found = backend.list_batches("t", workspace="w1", offset=n // 4, limit=50)
        assert len(found) == 50
        return found

    page.emu = emu  # type: ignore[attr-defined]
    return page


def _aihub_runs(n: int) -> Callable[[], object]:
    clock = Clock()
    emu = Emulator(clock=clock)
    backend = emu.aihub
    batch = backend.create_batch("t", name="b")
    backend.put_batch_file("t", batch.id, "a.txt", backend.blobs.create(), 0)
    for i in range(n):
        clock.now = T0 + i // 3
        backend.run_app("t", app_name="batchkit-extractor", batch_id=batch.id)

    def page() -> object:
        found = backend.list_runs("t", offset=n // 2, limit=20)
        assert len(found) == 20
        return found

    page.emu = emu  # type: ignore[attr-defined]
    return page


def _scale_tasks(n: int, **filters: Any) -> Callable[[], object]:
    emu = Emulator(scale_task_seconds=None)
    scale = emu.scale
    scale.create_project("k", name="p", type="categorization")
    scale.create_batch("k", project="p", name="b")
    scale.add_tasks("k", "b", count=n)
    scale.complete_tasks("k", "b", n // 2)
    token = scale.list_tasks("k", limit=100, **filters)["next_token"]

    def page() -> object:
        found = scale.list_tasks("k", limit=50, next_token=token, **filters)
        assert len(found["docs"]) == 50
        return found

    page.emu = emu  # type: ignore[attr-defined]
    return page


def _scale_batches(n: int) -> Callable[[], object]:
    emu = Emulator(scale_task_seconds=None)
    scale = emu.scale
    scale.create_project("k", name="p", type="categorization", studio=True)
    for i in range(n):
        scale.create_batch("k", project="p", name=f"b{i}")
        if i % 2:
            scale.finalize_batch("k", f"b{i}")

    def page() -> object:
        found = scale.list_batches("k", project="p", status="in_progress", offset=n // 4, limit=50)
        assert len(found["docs"]) == 50
        return found

    page.emu = emu  # type: ignore[attr-defined]
    return page


LISTINGS: dict[str, Callable[[int], Callable[[], object]]] = {
    "aihub list files": _aihub_files,
    "aihub list batches": _aihub_batches,
    "aihub list runs": _aihub_runs,
    "scale list tasks": _scale_tasks,
    "scale list tasks of a batch": lambda n: _scale_tasks(n, batch="b"),
    "scale list pending tasks of a batch": lambda n: _scale_tasks(n, batch="b", status="pending"),
    "scale list batches by project and status": _scale_batches,
}


@pytest.mark.parametrize("listing", LISTINGS)
def test_a_page_costs_the_same_with_four_times_the_records(listing: str) -> None:
    """One page (after a token or an offset) makes as many calls with 4,000 records stored
    as with 1,000: nothing is done per stored record. (A listing that filtered or sorted
    every record made thousands of calls more.)"""
    costs = []
    for n in (1000, 4000):
        page = LISTINGS[listing](n)
        try:
            page()  # warm: the first call after building may rebuild block positions
            costs.append(calls_made(page))
        finally:
            page.emu.close()  # type: ignore[attr-defined]
    small, large = costs
    assert large <= small + 25, costs
