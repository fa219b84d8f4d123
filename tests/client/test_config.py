"""`batchkit.toml` profiles, environment overrides, secret references and their errors."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import textwrap
from pathlib import Path

import httpx
import pytest

import batchkit
from batchkit import ConfigError

MOCK = httpx.MockTransport(lambda request: httpx.Response(599))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


PROFILES = """\
    default_profile = "dev"

    [profiles.dev]
    provider = "aihub"
    api_root = "https://dev.aihub.test/api"
    token = "dev-token"
    ib_context = "dev-org"

    [profiles.prod]
    provider = "aihub"
    api_root = "https://prod.aihub.test/api"
    token_env = "AIHUB_PROD_TOKEN"

    [profiles.labels]
    provider = "scale"
    api_key = "scale-file-key"
    retry_attempts = 2
"""


# -- where the file comes from -----------------------------------------------------------


def test_an_explicit_config_path_is_read(tmp_path):
    """`config=` names the file; its default profile is used."""
    path = write(tmp_path / "elsewhere" / "my.toml", PROFILES)
    provider = batchkit.connect(config=path, transport=MOCK)
    assert ("aihub", "https://dev.aihub.test/api") == (provider.name, provider.http.api_root)
    assert "dev-org" == provider.settings.ib_context


def test_batchkit_config_env_names_the_file(tmp_path, monkeypatch):
    """`$BATCHKIT_CONFIG` is read when no path is passed."""
    path = write(tmp_path / "env.toml", PROFILES)
    monkeypatch.setenv("BATCHKIT_CONFIG", str(path))
    assert "dev-token" == batchkit.connect(transport=MOCK).settings.token


def test_batchkit_toml_in_the_working_directory_is_read():
    """./batchkit.toml is found without any setting."""
    write(Path.cwd() / "batchkit.toml", PROFILES)
    assert "https://dev.aihub.test/api" == batchkit.connect(transport=MOCK).http.api_root


def test_the_user_config_dir_is_the_last_place_looked(user_config_dir):
    """With nothing closer, <user config dir>/batchkit.toml is read."""
    write(user_config_dir / "batchkit.toml", PROFILES)
    assert "dev-token" == batchkit.connect(transport=MOCK).settings.token


def test_the_working_directory_file_beats_the_user_config_dir(user_config_dir):
    """./batchkit.toml is preferred over the user-wide one."""
    write(user_config_dir / "batchkit.toml", PROFILES)
    write(Path.cwd() / "batchkit.toml", PROFILES.replace("dev-token", "local-token"))
    assert "local-token" == batchkit.connect(transport=MOCK).settings.token


def test_batchkit_config_env_beats_the_working_directory_file(tmp_path, monkeypatch):
    """`$BATCHKIT_CONFIG` wins over ./batchkit.toml."""
    write(Path.cwd() / "batchkit.toml", PROFILES)
    path = write(tmp_path / "env.toml", PROFILES.replace("dev-token", "env-file-token"))
    monkeypatch.setenv("BATCHKIT_CONFIG", str(path))
    assert "env-file-token" == batchkit.connect(transport=MOCK).settings.token


@pytest.mark.parametrize("how", ["argument", "env"])
def test_a_named_config_file_that_does_not_exist_is_a_config_error(tmp_path, monkeypatch, how):
    """An explicit path (argument or `$BATCHKIT_CONFIG`) must exist."""
    missing = tmp_path / "nope.toml"
    if how == "env":
        monkeypatch.setenv("BATCHKIT_CONFIG", str(missing))
    with pytest.raises(ConfigError, match="does not exist"):
        batchkit.connect(config=missing if how == "argument" else None)


def test_invalid_toml_is_a_config_error_not_a_tomllib_error():
    """A syntax error in the file is reported as ConfigError naming the file."""
    write(Path.cwd() / "batchkit.toml", "[profiles.dev\nprovider = 'aihub'\n")
    with pytest.raises(ConfigError) as info:
        batchkit.connect()
    assert "is not valid TOML" in str(info.value)
    assert "batchkit.toml" in str(info.value)
    assert info.value.__cause__ is None


# -- which profile -----------------------------------------------------------------------


def test_batchkit_profile_env_beats_default_profile(monkeypatch):
    """`$BATCHKIT_PROFILE` picks a profile over `default_profile`."""
    write(Path.cwd() / "batchkit.toml", PROFILES)
    monkeypatch.setenv("BATCHKIT_PROFILE", "labels")
    provider = batchkit.connect(transport=MOCK)
    assert ("scale", "scale-file-key") == (provider.name, provider.settings.api_key)
    assert 2 == provider.settings.retry_attempts


def test_profile_argument_beats_batchkit_profile_env(monkeypatch):
    """`profile=` wins over `$BATCHKIT_PROFILE`."""
    write(Path.cwd() / "batchkit.toml", PROFILES)
    monkeypatch.setenv("BATCHKIT_PROFILE", "labels")
    assert "aihub" == batchkit.connect(profile="dev", transport=MOCK).name


def test_unknown_profile_is_a_config_error_listing_known_ones():
    """An unknown profile names the file, suggests a close one and lists all."""
    write(Path.cwd() / "batchkit.toml", PROFILES)
    with pytest.raises(ConfigError) as info:
        batchkit.connect(profile="prd")
    message = str(info.value)
    assert "unknown profile 'prd'" in message
    assert "did you mean 'prod'" in message
    assert "known profiles: dev, labels, prod" in message


def test_a_profile_without_any_config_file_says_none_was_found():
    """Naming a profile with no file anywhere says no batchkit.toml was found."""
    with pytest.raises(ConfigError, match=r"no batchkit\.toml was found"):
        batchkit.connect(profile="dev")


def test_a_profile_that_is_not_a_table_is_a_config_error():
    """`profiles.x = "..."` is not a profile."""
    write(Path.cwd() / "batchkit.toml", '[profiles]\ndev = "aihub"\n')
    with pytest.raises(ConfigError, match=r"\[profiles.dev\] must be a table"):
        batchkit.connect(profile="dev")


# -- which provider ----------------------------------------------------------------------


def test_batchkit_provider_env_chooses_the_provider(monkeypatch):
    """`$BATCHKIT_PROVIDER` picks the vendor when no argument or profile does."""
    monkeypatch.setenv("BATCHKIT_PROVIDER", "scale")
    monkeypatch.setenv("SCALE_API_KEY", "env-key")
    provider = batchkit.connect(transport=MOCK)
    assert ("scale", "env-key") == (provider.name, provider.settings.api_key)


def test_no_provider_anywhere_is_a_config_error_saying_how_to_choose():
    """Without argument, env or profile, the error lists the three ways."""
    with pytest.raises(ConfigError, match="no provider chosen"):
        batchkit.connect()


def test_unknown_provider_is_a_config_error_with_did_you_mean():
    """A misspelt provider name is answered with the closest known name."""
    with pytest.raises(ConfigError) as info:
        batchkit.connect("aihbu", token="t")
    assert "unknown provider 'aihbu'" in str(info.value)
    assert "did you mean 'aihub'" in str(info.value)
    assert "aihub, scale" in str(info.value)


def test_unknown_provider_in_a_profile_is_a_config_error():
    """A profile's provider is checked the same way."""
    write(Path.cwd() / "batchkit.toml", '[profiles.x]\nprovider = "scal"\napi_key = "k"\n')
    with pytest.raises(ConfigError, match="did you mean 'scale'"):
        batchkit.connect(profile="x")


# -- precedence: file < env < keywords ---------------------------------------------------


def test_aihub_environment_variables_beat_the_file(monkeypatch):
    """AIHUB_API_TOKEN, AIHUB_IB_CONTEXT and AIHUB_API_ROOT override the profile."""
    write(Path.cwd() / "batchkit.toml", PROFILES)
    monkeypatch.setenv("AIHUB_API_TOKEN", "env-token")
    monkeypatch.setenv("AIHUB_IB_CONTEXT", "env-org")
    monkeypatch.setenv("AIHUB_API_ROOT", "https://env.aihub.test/api")
    provider = batchkit.connect(transport=MOCK)
    got = (provider.settings.token, provider.settings.ib_context, provider.http.api_root)
    assert ("env-token", "env-org", "https://env.aihub.test/api") == got


def test_scale_environment_variables_beat_the_file(monkeypatch):
    """SCALE_API_KEY and SCALE_API_ROOT override the profile."""
    write(Path.cwd() / "batchkit.toml", PROFILES)
    monkeypatch.setenv("SCALE_API_KEY", "env-key")
    monkeypatch.setenv("SCALE_API_ROOT", "https://env.scale.test/v1")
    provider = batchkit.connect(profile="labels", transport=MOCK)
    got = (provider.settings.api_key, provider.http.api_root)
    assert ("env-key", "https://env.scale.test/v1") == got


def test_keyword_arguments_beat_the_environment(monkeypatch):
    """connect(token=..., ib_context=...) wins over AIHUB_* variables."""
    monkeypatch.setenv("AIHUB_API_TOKEN", "env-token")
    monkeypatch.setenv("AIHUB_IB_CONTEXT", "env-org")
    provider = batchkit.connect(
        "aihub", token="kw-token", ib_context="kw-org", transport=MOCK
    )
    assert ("kw-token", "kw-org") == (provider.settings.token, provider.settings.ib_context)


def test_environment_alone_configures_a_provider(monkeypatch):
    """connect("aihub") works from AIHUB_API_TOKEN with the default API root."""
    monkeypatch.setenv("AIHUB_API_TOKEN", "env-token")
    provider = batchkit.connect("aihub", transport=MOCK)
    assert "https://aihub.instabase.com/api" == provider.http.api_root


def test_an_empty_environment_variable_does_not_override(monkeypatch):
    """AIHUB_API_TOKEN="" is treated as unset, so the file's token stays."""
    write(Path.cwd() / "batchkit.toml", PROFILES)
    monkeypatch.setenv("AIHUB_API_TOKEN", "")
    assert "dev-token" == batchkit.connect(transport=MOCK).settings.token


# -- secret references -------------------------------------------------------------------


def test_token_env_reads_the_token_from_the_named_variable(monkeypatch):
    """`token_env = "VAR"` in a profile reads the token from $VAR."""
    write(Path.cwd() / "batchkit.toml", PROFILES)
    monkeypatch.setenv("AIHUB_PROD_TOKEN", "prod-secret")
    assert "prod-secret" == batchkit.connect(profile="prod", transport=MOCK).settings.token


def test_token_env_naming_an_unset_variable_is_a_config_error_naming_it():
    """An unset secret reference names the variable and how to fix it."""
    write(Path.cwd() / "batchkit.toml", PROFILES)
    with pytest.raises(ConfigError) as info:
        batchkit.connect(profile="prod")
    assert "AIHUB_PROD_TOKEN" in str(info.value)
    assert "is not set" in str(info.value)
    assert "[profiles.prod]" in str(info.value)


def test_a_secret_reference_may_be_a_keyword_argument(monkeypatch):
    """connect(api_key_env="VAR") reads the key from $VAR."""
    monkeypatch.setenv("MY_SCALE_KEY", "from-var")
    provider = batchkit.connect("scale", api_key_env="MY_SCALE_KEY", transport=MOCK)
    assert "from-var" == provider.settings.api_key


@pytest.mark.parametrize("value", ['""', "3"])
def test_a_secret_reference_that_is_not_a_variable_name_is_a_config_error(value):
    """`token_env` must be a non-empty string."""
    write(Path.cwd() / "batchkit.toml", f'[profiles.x]\nprovider = "aihub"\ntoken_env = {value}\n')
    with pytest.raises(ConfigError, match="token_env must name an environment variable"):
        batchkit.connect(profile="x")


# -- settings checks ---------------------------------------------------------------------


def test_unknown_setting_in_a_profile_is_a_config_error_with_a_suggestion():
    """A misspelt key is rejected, suggesting the known one."""
    write(Path.cwd() / "batchkit.toml", '[profiles.x]\nprovider = "aihub"\ntokne = "t"\n'
          'token = "t"\n')
    with pytest.raises(ConfigError) as info:
        batchkit.connect(profile="x")
    assert "unknown aihub setting(s): 'tokne' (did you mean 'token'?)" in str(info.value)


def test_unknown_keyword_setting_is_a_config_error_with_a_suggestion():
    """connect(api_rot=...) suggests api_root."""
    with pytest.raises(ConfigError, match="did you mean 'api_root'"):
        batchkit.connect("scale", api_key="k", api_rot="https://x.test")


def test_a_setting_of_the_wrong_type_is_a_config_error_that_does_not_echo_the_value():
    """`timeout = "soon"` is a ConfigError naming the setting, never the value."""
    write(Path.cwd() / "batchkit.toml",
          '[profiles.x]\nprovider = "aihub"\ntoken = "t"\ntimeout = "s3cr3t-ish"\n')
    with pytest.raises(ConfigError) as info:
        batchkit.connect(profile="x")
    assert "invalid aihub settings" in str(info.value)
    assert "timeout" in str(info.value)
    assert "s3cr3t-ish" not in str(info.value)


def test_boolean_settings_accept_true_false_words():
    """`allow_insecure_http="yes"` (e.g. from an env-style string) means True."""
    provider = batchkit.connect(
        "aihub", token="t", api_root="http://aihub.example/api", allow_insecure_http="yes",
        transport=MOCK,
    )
    assert provider.settings.allow_insecure_http is True


def test_missing_aihub_token_is_a_config_error_mentioning_the_variable():
    """No token anywhere: the error says to pass token= or set AIHUB_API_TOKEN."""
    with pytest.raises(ConfigError, match="AIHUB_API_TOKEN"):
        batchkit.connect("aihub")


def test_missing_scale_key_is_a_config_error_mentioning_the_variable():
    """No API key anywhere: the error says to set SCALE_API_KEY."""
    with pytest.raises(ConfigError, match="SCALE_API_KEY"):
        batchkit.connect("scale")


# -- plain http --------------------------------------------------------------------------


@pytest.mark.parametrize("root", ["http://aihub.example.com/api", "http://10.0.0.5:8080/api"])
def test_plain_http_to_a_remote_host_is_refused(root):
    """The token would travel unencrypted: ConfigError suggesting https."""
    with pytest.raises(ConfigError, match="plain http to a non-loopback host"):
        batchkit.connect("aihub", token="t", api_root=root)


@pytest.mark.parametrize(
    "root",
    ["http://127.0.0.1:8080/api", "http://localhost:9/api", "http://[::1]:9/api",
     "http://127.1.2.3/api", "http://emu.localhost/api"],
)
def test_plain_http_to_loopback_is_allowed(root):
    """The emulator on loopback needs no TLS."""
    provider = batchkit.connect("aihub", token="t", api_root=root, transport=MOCK)
    assert root.rstrip("/") == provider.http.api_root


def test_allow_insecure_http_permits_a_remote_http_root():
    """`allow_insecure_http=True` is the explicit opt-out."""
    provider = batchkit.connect(
        "scale", api_key="k", api_root="http://scale.example.com/v1", allow_insecure_http=True,
        transport=MOCK,
    )
    assert "http://scale.example.com/v1" == provider.http.api_root


@pytest.mark.parametrize("root", ["ftp://aihub.test/api", "aihub.test/api", "https://"])
def test_an_api_root_that_is_not_an_http_url_is_a_config_error(root):
    """Only absolute http(s) URLs are API roots."""
    with pytest.raises(ConfigError, match="api_root"):
        batchkit.connect("aihub", token="t", api_root=root)


def test_a_trailing_slash_on_the_api_root_is_dropped():
    """`https://x/api/` and `https://x/api` are the same root."""
    provider = batchkit.connect("aihub", token="t", api_root="https://x.test/api/", transport=MOCK)
    assert "https://x.test/api" == provider.http.api_root


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"timeout": -1}, "timeout must be > 0"),
        ({"token": 123}, "token: expected a string"),
        ({"retry_attempts": 1.5}, "retry_attempts: expected a whole number"),
        ({"token": "t\n"}, "token has leading/trailing whitespace"),
        ({"max_connections": "many"}, "max_connections: expected a whole number"),
    ],
)
def test_settings_errors_read_as_plain_sentences_naming_the_setting(settings, expected):
    """No cattrs jargon ("unknown error", "@ aihub.token") in what the user reads."""
    with pytest.raises(ConfigError) as info:
        batchkit.connect("aihub", **{"token": "t", **settings})
    text = str(info.value)
    assert expected in text
    assert "unknown error" not in text
    assert " @ " not in text


@pytest.mark.parametrize(
    "settings",
    [
        {"timeout": "inf"},
        {"timeout": 1e301},
        {"retry_timeout": 10**400},
        {"retry_attempts": "\u0661\u0662"},
        {"ib_context": "org-\u00fc"},
        {"token": "t\u00f6k"},
    ],
)
def test_settings_that_would_fail_later_are_refused_at_connect(settings):
    """Infinite or absurd waits (an OverflowError at the first request), non-ASCII digits
    and non-ASCII header values (a UnicodeEncodeError) are ConfigErrors up front."""
    with pytest.raises(ConfigError):
        batchkit.connect("aihub", **{"token": "t", **settings})


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"allow_insecure_http": "false"}, "True or False"),
        ({"token": 123}, "must be a string"),
        ({"timeout": "30"}, "must be a number"),
        ({"retry_attempts": 1.5}, "whole number"),
        ({"timeout": float("nan")}, "finite"),
    ],
)
def test_settings_built_directly_get_the_same_checks(settings, expected):
    """AIHubSettings(...) without connect(): the validators still refuse bad values — above
    all the truthy string "false" for allow_insecure_http."""
    from batchkit.providers.aihub import AIHubSettings

    with pytest.raises(ConfigError, match=expected):
        AIHubSettings(**{"token": "t", **settings})


@pytest.mark.parametrize(
    ("cls_path", "settings"),
    [
        ("batchkit.providers.aihub:AIHubSettings", {"token": None}),
        ("batchkit.providers.scale:ScaleSettings", {"api_key": None}),
        ("batchkit.providers.aihub:AIHubSettings", {"token": "t", "retry_attempts": 3.0}),
    ],
)
def test_required_credentials_and_int_types_are_checked_when_built_directly(cls_path, settings):
    """AIHubSettings(token=None) would send "Bearer None"; retry_attempts=3.0 would store a
    float in an int setting: both are ConfigErrors."""
    import importlib

    module, _, name = cls_path.partition(":")
    cls = getattr(importlib.import_module(module), name)
    with pytest.raises(ConfigError):
        cls(**settings)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("retry_attempts", "1_000"), ("retry_attempts", float("inf")), ("timeout", "1_0")],
)
def test_numbers_as_text_are_plain_decimals(setting, value):
    with pytest.raises(ConfigError):
        batchkit.connect("aihub", token="t", **{setting: value})


# -- hostile config files: every problem is a ConfigError naming the file ----------------


@pytest.mark.parametrize(
    "nested",
    [
        "a = " + "[" * 10_000 + "]" * 10_000,
        "a = " + "{b = " * 5_000 + "1" + "}" * 5_000,
        'token = "s3cr3t-nested"\na = ' + "[" * 10_000,
    ],
    ids=["arrays", "inline-tables", "unclosed"],
)
def test_a_deeply_nested_config_file_is_a_config_error_naming_the_file(nested):
    """Thousands of nested arrays or inline tables (tomllib's RecursionError) are a
    ConfigError that names the file and says what to do, without echoing the contents."""
    write(Path.cwd() / "batchkit.toml", nested)
    with pytest.raises(ConfigError) as info:
        batchkit.connect()
    message = str(info.value)
    assert str(Path.cwd() / "batchkit.toml") in message
    assert "nested too deeply" in message
    assert "s3cr3t-nested" not in message
    assert info.value.__cause__ is None


@pytest.mark.parametrize("how", ["argument", "env", "working-directory"])
def test_a_directory_named_as_the_config_file_is_a_config_error_saying_so(
    tmp_path, monkeypatch, how
):
    """A directory where the config file should be is "not a regular file", not "does not
    exist" (explicit path) nor silently skipped (./batchkit.toml)."""
    folder = Path.cwd() / "batchkit.toml"
    folder.mkdir()
    if how == "env":
        monkeypatch.setenv("BATCHKIT_CONFIG", str(folder))
    with pytest.raises(ConfigError) as info:
        batchkit.connect(config=folder if how == "argument" else None)
    assert f"config file {folder} is a directory, not a file" in str(info.value)


def test_a_config_path_the_system_cannot_look_up_is_a_config_error():
    """A path too long for the OS (an OSError from the lookup itself) is a ConfigError."""
    path = Path.cwd() / ("x" * 5_000 + ".toml")
    with pytest.raises(ConfigError, match="cannot be read"):
        batchkit.connect(config=path)


def test_a_config_file_larger_than_the_limit_is_a_config_error_and_is_not_read_whole():
    """A batchkit.toml of over 1 MiB is refused (tomllib would hold all of it in memory)."""
    from batchkit._config import MAX_CONFIG_BYTES

    path = Path.cwd() / "batchkit.toml"
    path.write_bytes(b"# padding\n" * (MAX_CONFIG_BYTES // 10 + 1))
    with pytest.raises(ConfigError) as info:
        batchkit.connect()
    assert f"config file {path} is larger than 1 MiB" in str(info.value)


def test_an_unreadable_config_file_is_a_config_error(monkeypatch):
    """A file that cannot be opened (permissions) is a ConfigError naming the file."""
    path = write(Path.cwd() / "batchkit.toml", PROFILES)

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "open", refuse)
    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(ConfigError) as info:
        batchkit.connect()
    assert f"config file {path} cannot be read" in str(info.value)
    assert "Permission denied" in str(info.value)


def test_a_deleted_working_directory_falls_back_to_the_user_config_file(
    tmp_path, monkeypatch, user_config_dir
):
    """When the working directory no longer exists, ./batchkit.toml is skipped (not a raw
    FileNotFoundError) and the user config dir is still read."""
    write(user_config_dir / "batchkit.toml", PROFILES)
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert "dev-token" == batchkit.connect(transport=MOCK).settings.token


@pytest.mark.parametrize(
    "profile",
    [
        'provider = {name = {deeper = "aihub-s3cr3t"}}',
        'provider = "aihub"\ntoken = {value = {deeper = "s3cr3t"}}',
        'provider = "aihub"\ntoken = ["s3cr3t", ["s3cr3t"]]',
        'provider = "aihub"\ntoken_env = {name = "s3cr3t"}',
        'provider = "aihub"\ntoken = "t"\ntimeout = [[1.5, "s3cr3t"]]',
        'provider = "aihub"\ntoken = "t"\n[profiles.x.retry]\nattempts = "s3cr3t"',
    ],
)
def test_a_value_of_the_wrong_type_at_depth_is_a_config_error_that_does_not_echo_it(profile):
    """Tables and arrays where a string or number belongs are ConfigErrors that never
    repeat the value."""
    write(Path.cwd() / "batchkit.toml", "[profiles.x]\n" + profile + "\n")
    with pytest.raises(ConfigError) as info:
        batchkit.connect(profile="x")
    assert "s3cr3t" not in str(info.value)
