"""One precedence rule for arguments, environment and file (docs/configuration.md, "One
rule"), checked row by row through the library and through the command alike."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from click.testing import CliRunner

import batchkit
from batchkit import ConfigError, NoProviderChosen
from batchkit.cli._app import cli
from batchkit.emulator import Emulator

MOCK = httpx.MockTransport(lambda request: httpx.Response(599))

#: a default AI Hub profile, a second AI Hub profile and a Scale one
FILE = """\
    default_profile = "hub"

    [profiles.hub]
    provider = "aihub"
    api_root = "https://hub.file.test/api"
    token = "file-token"

    [profiles.hub2]
    provider = "aihub"
    api_root = "https://hub2.file.test/api"
    token = "file-token"

    [profiles.labels]
    provider = "scale"
    api_root = "https://labels.file.test/v1"
    api_key = "file-key"
"""

ROOTS = {
    "hub": "https://hub.file.test/api",
    "hub2": "https://hub2.file.test/api",
    "labels": "https://labels.file.test/v1",
    "aihub": "https://aihub.instabase.com/api",  # the providers' defaults
    "scale": "https://api.scale.com/v1",
    "env": "https://env.file.test/api",
    "arg": "https://arg.file.test/api",
}


@attrs.frozen
class Row:
    """One line of the table: what is given, and what must be chosen."""

    id: str
    provider: str | None = None  # the argument / --provider
    profile: str | None = None  # the argument / --profile
    api_root: str | None = None  # the argument / --api-root
    env: dict[str, str] = attrs.field(factory=dict)
    #: the provider and profile chosen, or the error's type and what its message must name
    want_provider: str | None = None
    want_profile: str | None = None
    #: where api_root came from: "profile", "environment", "argument" or None (the default)
    want_root_from: str | None = None
    want_root: str | None = None
    error: tuple[type[Exception], tuple[str, ...]] | None = None


ROWS = [
    # -- which provider ---------------------------------------------------------------
    Row("provider argument beats BATCHKIT_PROVIDER", provider="aihub",
        env={"BATCHKIT_PROVIDER": "scale"}, want_provider="aihub", want_profile="hub",
        want_root_from="profile", want_root=ROOTS["hub"]),
    Row("BATCHKIT_PROVIDER beats the profile's provider", env={"BATCHKIT_PROVIDER": "scale"},
        want_provider="scale", want_root=ROOTS["scale"]),
    Row("the provider argument, like BATCHKIT_PROVIDER, skips another provider's default",
        provider="scale", want_provider="scale", want_root=ROOTS["scale"]),
    Row("an explicitly named profile gives the provider", profile="labels",
        want_provider="scale", want_profile="labels", want_root_from="profile",
        want_root=ROOTS["labels"]),
    Row("the default profile gives the provider when nothing else does", want_provider="aihub",
        want_profile="hub", want_root_from="profile", want_root=ROOTS["hub"]),
    # -- which profile ----------------------------------------------------------------
    Row("profile argument beats BATCHKIT_PROFILE", profile="hub2",
        env={"BATCHKIT_PROFILE": "labels"}, want_provider="aihub", want_profile="hub2",
        want_root_from="profile", want_root=ROOTS["hub2"]),
    Row("BATCHKIT_PROFILE beats the default profile", env={"BATCHKIT_PROFILE": "labels"},
        want_provider="scale", want_profile="labels", want_root_from="profile",
        want_root=ROOTS["labels"]),
    Row("a default profile for the chosen provider applies", env={"BATCHKIT_PROVIDER": "aihub"},
        want_provider="aihub", want_profile="hub", want_root_from="profile",
        want_root=ROOTS["hub"]),
    Row("a default profile for the chosen provider applies to the argument too",
        provider="aihub", want_provider="aihub", want_profile="hub", want_root_from="profile",
        want_root=ROOTS["hub"]),
    Row("a named profile for the chosen provider applies", provider="scale", profile="labels",
        want_provider="scale", want_profile="labels", want_root_from="profile",
        want_root=ROOTS["labels"]),
    Row("a named profile for another provider is an error naming both", provider="scale",
        profile="hub", error=(ConfigError, ("'hub'", "'aihub'", "'scale'"))),
    Row("BATCHKIT_PROFILE for another provider than BATCHKIT_PROVIDER is an error",
        env={"BATCHKIT_PROVIDER": "scale", "BATCHKIT_PROFILE": "hub"},
        error=(ConfigError, ("'hub'", "'aihub'", "'scale'", "$BATCHKIT_PROVIDER",
                             "$BATCHKIT_PROFILE"))),
    # -- which settings ---------------------------------------------------------------
    Row("the environment beats the profile", env={"AIHUB_API_ROOT": ROOTS["env"]},
        want_provider="aihub", want_profile="hub", want_root_from="environment",
        want_root=ROOTS["env"]),
    Row("the argument beats the environment", api_root=ROOTS["arg"],
        env={"AIHUB_API_ROOT": ROOTS["env"]}, want_provider="aihub", want_profile="hub",
        want_root_from="argument", want_root=ROOTS["arg"]),
    Row("the provider's default when nothing sets it", provider="scale",
        want_provider="scale", want_root=ROOTS["scale"]),
    Row("another provider's default profile gives no settings, the environment does",
        env={"BATCHKIT_PROVIDER": "scale", "SCALE_API_ROOT": ROOTS["env"]},
        want_provider="scale", want_root_from="environment", want_root=ROOTS["env"]),
]

#: where a setting came from, as `config show` says it
SHOWN_FROM = {"profile": "profile", "environment": None, "argument": "--api-root"}


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Write FILE in the working directory and set a row's environment (plus a Scale key)."""

    def apply(row: Row) -> None:
        Path("batchkit.toml").write_text(textwrap.dedent(FILE), encoding="utf-8")
        monkeypatch.setenv("SCALE_API_KEY", "env-key")
        for name, value in row.env.items():
            monkeypatch.setenv(name, value)

    return apply


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_the_library_follows_the_precedence_table(row: Row, setup: Any) -> None:
    """`resolve_settings` and `connect` choose the row's provider, profile and api_root."""
    setup(row)
    settings = {"api_root": row.api_root} if row.api_root else {}
    if row.error is not None:
        kind, names = row.error
        for attempt in (batchkit.resolve_settings, batchkit.connect):
            with pytest.raises(kind) as info:
                attempt(row.provider, profile=row.profile, **settings)
            for name in names:
                assert name in str(info.value)
        return
    resolved = batchkit.resolve_settings(row.provider, profile=row.profile, **settings)
    origin = resolved.origins.get("api_root")
    got = (resolved.provider, resolved.profile, origin.kind if origin else None)
    assert (row.want_provider, row.want_profile, row.want_root_from) == got
    provider = batchkit.connect(row.provider, profile=row.profile, transport=MOCK, **settings)
    assert (row.want_provider, row.want_root) == (provider.name, provider.http.api_root)


def _cli_args(row: Row) -> list[str]:
    args = ["--provider", row.provider] if row.provider else []
    args += ["--profile", row.profile] if row.profile else []
    return args + (["--api-root", row.api_root] if row.api_root else [])


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_the_command_follows_the_precedence_table(row: Row, setup: Any) -> None:
    """`batchkit config show` reports the same choice, and where each value came from;
    an unusable mix exits 2 with one `error:` line naming both sides."""
    setup(row)
    result = CliRunner().invoke(cli, [*_cli_args(row), "--json", "config", "show"])
    if row.error is not None:
        assert 2 == result.exit_code, result.output
        lines = result.stderr.strip().splitlines()
        assert 1 == len(lines), result.stderr
        assert lines[0].startswith("error: ")
        for name in row.error[1]:
            assert name in lines[0]
        if row.provider:
            assert "--provider" in lines[0]
            assert "--profile" in lines[0]
        return
    assert 0 == result.exit_code, result.output
    document = json.loads(result.stdout)
    source = document["sources"].get("api_root")
    want_source = SHOWN_FROM.get(row.want_root_from or "")
    if row.want_root_from == "environment":
        want_source = "$" + ("SCALE" if row.want_provider == "scale" else "AIHUB") + "_API_ROOT"
    got = (document["provider"], document["profile"], source)
    assert (row.want_provider, row.want_profile, want_source) == got
    if row.want_root_from:
        assert row.want_root == document["settings"]["api_root"]


def test_config_show_says_how_the_provider_and_profile_were_chosen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The table output names the variable or flag behind the provider and the profile."""
    Path("batchkit.toml").write_text(textwrap.dedent(FILE), encoding="utf-8")
    monkeypatch.setenv("BATCHKIT_PROVIDER", "aihub")
    shown = CliRunner().invoke(cli, ["config", "show"])
    assert 0 == shown.exit_code, shown.output
    assert "aihub (from $BATCHKIT_PROVIDER)" in shown.stdout
    assert "hub (the file's default_profile)" in shown.stdout
    monkeypatch.delenv("BATCHKIT_PROVIDER")
    shown = CliRunner().invoke(cli, ["--profile", "labels", "config", "show"])
    assert 0 == shown.exit_code, shown.output
    assert "scale (from the profile)" in shown.stdout
    assert "labels (from --profile)" in shown.stdout


def test_batchkit_provider_lists_batches_in_a_folder_with_another_providers_default_profile(
    monkeypatch: pytest.MonkeyPatch, served_emulator: Emulator, tenant: str
) -> None:
    """The reported bug: `BATCHKIT_PROVIDER=scale SCALE_API_KEY=k batchkit batches list`
    beside a default AI Hub profile no longer hands the profile's `token` to Scale."""
    Path("batchkit.toml").write_text(textwrap.dedent(FILE), encoding="utf-8")
    monkeypatch.setenv("SCALE_API_ROOT", served_emulator.scale_api_root)
    monkeypatch.setenv("SCALE_API_KEY", tenant)
    by_flag = CliRunner().invoke(cli, ["--provider", "scale", "--json", "batches", "list"])
    assert 0 == by_flag.exit_code, by_flag.output
    monkeypatch.setenv("BATCHKIT_PROVIDER", "scale")
    by_variable = CliRunner().invoke(cli, ["--json", "batches", "list"])
    assert 0 == by_variable.exit_code, by_variable.output
    assert by_flag.stdout == by_variable.stdout


def test_an_unset_secret_reference_in_an_applied_profile_is_fine_when_given_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A default profile's `token_env` naming an unset variable matters only if that
    token is the one used: an argument or AIHUB_API_TOKEN supplies it instead."""
    Path("batchkit.toml").write_text(
        'default_profile = "prod"\n[profiles.prod]\nprovider = "aihub"\n'
        'token_env = "UNSET_PROD_TOKEN"\n',
        encoding="utf-8",
    )
    monkeypatch.delenv("UNSET_PROD_TOKEN", raising=False)
    assert "kw" == batchkit.connect("aihub", token="kw", transport=MOCK).settings.token
    monkeypatch.setenv("AIHUB_API_TOKEN", "env")
    assert "env" == batchkit.connect(transport=MOCK).settings.token
    monkeypatch.delenv("AIHUB_API_TOKEN")
    with pytest.raises(ConfigError, match=r"\[profiles\.prod\].*UNSET_PROD_TOKEN.*is not set"):
        batchkit.connect()


def test_no_provider_anywhere_is_still_no_provider_chosen() -> None:
    """A file whose only default profile has no provider chooses none."""
    Path("batchkit.toml").write_text(
        'default_profile = "x"\n[profiles.x]\ntimeout = 5\n', encoding="utf-8"
    )
    with pytest.raises(NoProviderChosen):
        batchkit.connect()
