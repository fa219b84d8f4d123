"""Every batchkit name the docs mention exists (README.md and docs/**/*.md).

Checked, in the text of every page:

- dotted names under ``batchkit`` (``batchkit.connect``, ``batchkit.testing.vcr_config``,
  ``batchkit.emulator.Emulator``): imported and resolved attribute by attribute;
- ``from batchkit... import a, b`` in code, including blocks no test runs (``text``, ``sh``);
- ``Name.member`` for the public classes and enums of ``batchkit``, ``batchkit.emulator``
  and the vendor providers (``Capability.IMPORT_URLS``, ``RunState.COMPLETED``,
  ``BatchProvider.upload``, ``AIHubProvider.fs_read``);

and, in code only (fenced blocks and inline code), methods and attributes called on the
variables the docs use for providers and emulators: ``provider.x`` / ``sync_provider.x`` on
the neutral providers or a vendor's, ``aihub.x`` / ``hub.x`` on AI Hub's, ``scale.x`` on
Scale's (blocking or async), ``p.x(...)`` on any, and ``emu.x.y`` on an `Emulator`,
followed attribute by attribute.

A failure names the page and each missing name. A name that looks like batchkit's but is
not (a file name, a logger, a variable that is no provider) goes in `ALLOWED`, with why.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import batchkit
import batchkit.emulator
from batchkit import AsyncBatchProvider, BatchProvider
from batchkit.providers.aihub import AIHubProvider, AsyncAIHubProvider
from batchkit.providers.scale import AsyncScaleProvider, ScaleProvider

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

#: (page, name) -> why the docs may say it although batchkit has no such name; page "*" is
#: any page. Keep the reasons: an entry whose name no page mentions any more fails the test.
ALLOWED: dict[tuple[str, str], str] = {
    ("*", "batchkit.toml"): "the config file's name, not a module",
    ("errors.md", "batchkit.http"): 'a logger name (logging.getLogger("batchkit.http"))',
    ("emulator.md", "batchkit.tenant"): "the ASGI scope key the emulator's apps set",
    ("emulator.md", "Batch.finalize"): "the Scale SDK's Batch (scaleapi), not batchkit's",
    # emulator.md talks to the emulator with plain httpx: `with httpx.Client(...) as scale:`
    ("emulator.md", "scale.get"): "an httpx.Client named scale, not a provider",
    ("emulator.md", "scale.post"): "an httpx.Client named scale, not a provider",
}

#: code fences (``` or ~~~, any info string) and inline code spans
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n]*\n(?P<code>.*?)^(?P=fence)[ \t]*$", re.S | re.M)
INLINE = re.compile(r"(?P<ticks>`+)(?P<code>.+?)(?P=ticks)", re.S)
#: not after a word, a dot, a path or URL separator or a quote: `docs/scale.md`,
#: `api.scale.com`, `"aihub.jsonl"`, `emu.aihub` are not provider variables
_NOT_AFTER = r"(?<![\w.'\"/:\\-])"
DOTTED = re.compile(_NOT_AFTER + r"batchkit(?:\.[A-Za-z_]\w*)+")
FROM_IMPORT = re.compile(
    r"^\s*from\s+(?P<module>batchkit(?:\.\w+)*)\s+import\s+(?P<names>\([^)]*\)|[^\n]+)", re.M
)
VARIABLE = re.compile(
    _NOT_AFTER
    + r"(?P<var>provider|sync_provider|aihub|hub|scale|p|emu)(?P<chain>(?:\.[A-Za-z_]\w*)+)"
    + r"(?P<call>\()?"
)

#: the vendors' providers, blocking and async (`connect` / `connect_async` return them)
VENDOR_PROVIDERS = (AIHubProvider, ScaleProvider, AsyncAIHubProvider, AsyncScaleProvider)
#: the classes a provider variable may be, by its name in the docs
PROVIDER_VARIABLES: dict[str, tuple[type, ...]] = {
    "provider": (BatchProvider, AsyncBatchProvider, *VENDOR_PROVIDERS),
    "sync_provider": (BatchProvider, AIHubProvider, ScaleProvider),
    "p": (BatchProvider, AsyncBatchProvider, *VENDOR_PROVIDERS),
    "aihub": (AIHubProvider, AsyncAIHubProvider),
    "hub": (AIHubProvider, AsyncAIHubProvider),
    "scale": (ScaleProvider, AsyncScaleProvider),
}


def _public_classes() -> dict[str, type]:
    """Classes (enums included) the docs may qualify a member with: `Name.member`."""
    found: dict[str, type] = {cls.__name__: cls for cls in VENDOR_PROVIDERS}
    for module in (batchkit, batchkit.emulator):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value):
                found[name] = value
    return found


CLASSES = _public_classes()
QUALIFIED = re.compile(
    _NOT_AFTER + r"(?P<cls>" + "|".join(sorted(CLASSES, key=len, reverse=True)) + r")"
    r"\.(?P<member>[A-Za-z_]\w*)"
)


def _code(text: str) -> Iterator[str]:
    """The code of a page: each fenced block, then each inline span outside them."""
    for match in FENCE.finditer(text):
        yield match["code"]
    for match in INLINE.finditer(FENCE.sub("", text)):
        yield match["code"]


def _has(cls: type, name: str) -> bool:
    """Whether instances of `cls` have `name`: a class attribute (methods, properties,
    enum members, slotted attrs fields) or an attribute only instances get (annotated on
    the class or a base, or set as ``self.<name> = ...`` in one of their methods)."""
    if hasattr(cls, name):
        return True
    sets_it = re.compile(rf"\bself\.{re.escape(name)}\s*(?::[^=\n]+)?=")
    for klass in cls.__mro__:
        if name in getattr(klass, "__annotations__", {}):
            return True
        if klass.__module__.startswith("batchkit") and sets_it.search(inspect.getsource(klass)):
            return True
    return False


def _resolve(dotted: str) -> str | None:
    """None if `dotted` (``batchkit.a.b``) names something; else what is missing."""
    parts = dotted.split(".")
    module: Any = None
    for end in range(len(parts), 0, -1):  # the longest importable module prefix
        try:
            module = importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        break
    assert module is not None  # `batchkit` itself always imports
    value = module
    for i in range(end, len(parts)):
        if not hasattr(value, parts[i]):
            return f"{'.'.join(parts[:i])} has no attribute {parts[i]!r}"
        value = getattr(value, parts[i])
    return None


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    """One emulator to look `emu.*` names up on (never served)."""
    from batchkit.emulator import Emulator

    with Emulator() as emu:
        yield emu


def _missing(page: Path, emu: Any) -> Iterator[tuple[str, str]]:
    """(name, why) for each name `page` mentions that does not exist."""
    text = page.read_text(encoding="utf-8")
    for match in DOTTED.finditer(text):
        why = _resolve(match[0])
        if why is not None:
            yield match[0], why
    for match in QUALIFIED.finditer(text):
        cls = CLASSES[match["cls"]]
        if not _has(cls, match["member"]):
            kind = "enum" if issubclass(cls, enum.Enum) else "class"
            yield (
                f"{match['cls']}.{match['member']}",
                f"{kind} {cls.__qualname__} has no such member",
            )
    for code in _code(text):
        for match in FROM_IMPORT.finditer(code):
            names = re.sub(r"#[^\n]*", "", match["names"]).strip("()")
            for entry in names.split(","):
                name = entry.split(" as ")[0].strip()
                if name and name != "*":
                    dotted = f"{match['module']}.{name}"
                    why = _resolve(dotted)
                    if why is not None:
                        yield dotted, why
        for match in VARIABLE.finditer(code):
            var, chain = match["var"], match["chain"].lstrip(".").split(".")
            if var == "emu":
                value: Any = emu
                for i, attr in enumerate(chain):
                    if not hasattr(value, attr):
                        yield (
                            f"emu.{'.'.join(chain[: i + 1])}",
                            (f"{type(value).__qualname__} has no attribute {attr!r}"),
                        )
                        break
                    value = getattr(value, attr)
                continue
            if var == "p" and not (len(chain) == 1 and match["call"]):
                continue  # `p` is a provider only as `p.method(...)`; else often a Path
            classes = PROVIDER_VARIABLES[var]
            if not any(_has(cls, chain[0]) for cls in classes):
                shown = " / ".join(cls.__name__ for cls in classes)
                yield f"{var}.{chain[0]}", f"no {shown} has it"


def _allowed(page: Path, name: str) -> bool:
    return (page.name, name) in ALLOWED or ("*", name) in ALLOWED


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_batchkit_name_on_the_page_exists(page: Path, emulator: Any) -> None:
    """Each name is imported, looked up on its class or module, or allowed with a reason."""
    missing = sorted({(n, why) for n, why in _missing(page, emulator) if not _allowed(page, n)})
    shown = "\n".join(f"  {name}: {why}" for name, why in missing)
    where = page.relative_to(ROOT)
    assert not missing, f"{where} mentions names batchkit does not have:\n{shown}"


def test_every_allowed_name_is_still_mentioned() -> None:
    """No stale entries in `ALLOWED`: each is still on its page (or some page, for "*")."""
    texts = {page.name: page.read_text(encoding="utf-8") for page in PAGES}
    stale = [
        (page, name)
        for page, name in ALLOWED
        if not any(name in text for p, text in texts.items() if page in ("*", p))
    ]
    assert not stale, f"ALLOWED entries no page mentions any more: {stale}"


def test_the_allowed_strings_that_are_batchkits_are_in_its_source() -> None:
    """A logger name and a scope key the docs mention are the ones the code uses."""
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in (ROOT / "batchkit").rglob("*.py")
    )
    for name in ("batchkit.http", "batchkit.tenant"):
        assert f'"{name}"' in source, name


def test_the_checks_catch_a_missing_name(tmp_path: Path, emulator: Any) -> None:
    """The scan finds what it should: one miss of each kind on a made-up page."""
    page = tmp_path / "made-up.md"
    page.write_text(
        "Call `batchkit.connect_later()` or `batchkit.testing.vcr_cfg`; check\n"
        "`Capability.TELEPORT` and `RunState.DONE`.\n\n"
        "```text\nfrom batchkit import Batch, Batchh\n```\n\n"
        "```python\nprovider.upload_all(batch)\nscale.fs_read(path)\n"
        "emu.aihub.no_such_control()\np.name\nprovider.create_batch('ok')\n```\n",
        encoding="utf-8",
    )
    found = {name for name, _ in _missing(page, emulator)}
    assert {
        "batchkit.connect_later",
        "batchkit.testing.vcr_cfg",
        "Capability.TELEPORT",
        "RunState.DONE",
        "batchkit.Batchh",
        "provider.upload_all",
        "scale.fs_read",
        "emu.aihub.no_such_control",
    } == found
