"""stagesync.toml: lookup order, every key, and an error that names the file for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagesync.config import (
    CONFIG_TEMPLATE,
    B2BConfig,
    Config,
    Environment,
    init_config,
    load_config,
)
from stagesync.errors import ConfigError

STAGING = """\
[environments.staging]
store_hash = "abc123"
access_token_env = "STAGESYNC_STAGING_TOKEN"
"""


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAGESYNC_CONFIG", raising=False)
    monkeypatch.delenv("STAGESYNC_STAGING_TOKEN", raising=False)
    monkeypatch.delenv("STAGESYNC_STAGING_B2B_PASSWORD", raising=False)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def staging_environment() -> Environment:
    return Environment(
        name="staging", store_hash="abc123", access_token_env="STAGESYNC_STAGING_TOKEN"
    )


def config_error(text: str, tmp_path: Path) -> str:
    path = write(tmp_path / "stagesync.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in caught.value.message
    return caught.value.message


# --- reading a valid file ------------------------------------------------------------------------


def test_minimal_environment_gets_the_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "stagesync.toml", STAGING))

    assert config.path == tmp_path / "stagesync.toml"
    assert config.environments == {
        "staging": Environment(
            name="staging",
            store_hash="abc123",
            access_token_env="STAGESYNC_STAGING_TOKEN",
            api_url="https://api.bigcommerce.com",
            quota=150,
            window_ms=30000,
            b2b=None,
        )
    }
    assert config.environment("staging").role == "production"  # the strictest is the default


def test_every_key(tmp_path: Path) -> None:
    text = """\
[environments.local]
store_hash = "staging"
access_token_env = "EMULATOR_TOKEN"
api_url = "http://127.0.0.1:8765/"
quota = 450
window_ms = 15000
role = "sandbox"

[environments.local.b2b]
auth = "password"
email = "b2b@example.com"
password_env = "STAGESYNC_STAGING_B2B_PASSWORD"
api_url = "http://127.0.0.1:8765"
"""
    env = load_config(write(tmp_path / "stagesync.toml", text)).environment("local")

    assert env.api_url == "http://127.0.0.1:8765"
    assert (env.quota, env.window_ms) == (450, 15000)
    assert env.role == "sandbox"
    assert env.b2b == B2BConfig(
        auth="password",
        email="b2b@example.com",
        password_env="STAGESYNC_STAGING_B2B_PASSWORD",
        api_url="http://127.0.0.1:8765",
    )


def test_b2b_token_auth_needs_no_email_and_defaults_its_url(tmp_path: Path) -> None:
    text = STAGING + '\n[environments.staging.b2b]\nauth = "token"\n'
    b2b = load_config(write(tmp_path / "stagesync.toml", text)).environment("staging").b2b

    assert b2b == B2BConfig(auth="token", email=None, password_env=None)
    assert b2b.api_url == "https://api-b2b.bigcommerce.com"


def test_environments_keep_file_order(tmp_path: Path) -> None:
    text = STAGING.replace("staging]", "zeta]") + STAGING.replace("staging]", "alpha]")
    config = load_config(write(tmp_path / "stagesync.toml", text))

    assert list(config.environments) == ["zeta", "alpha"]


def test_find_environment_by_store(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "stagesync.toml", STAGING))

    assert config.find_environment_by_store("abc123") == config.environment("staging")
    assert config.find_environment_by_store("zzz999") is None


# --- lookup order ----------------------------------------------------------------------------


def test_lookup_order_option_then_variable_then_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = write(tmp_path / "stagesync.toml", STAGING)
    named = write(tmp_path / "named.toml", STAGING.replace("staging]", "named]"))
    given = write(tmp_path / "given.toml", STAGING.replace("staging]", "given]"))

    assert load_config().path == Path("stagesync.toml")
    assert load_config().path.resolve() == here  # type: ignore[union-attr]
    monkeypatch.setenv("STAGESYNC_CONFIG", str(named))
    assert list(load_config().environments) == ["named"]
    assert list(load_config(given).environments) == ["given"]


def test_missing_default_file_says_to_run_init() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config()

    assert "stagesync.toml" in caught.value.message
    assert "stagesync init" in caught.value.message


def test_missing_file_named_by_the_variable_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGESYNC_CONFIG", str(tmp_path / "elsewhere.toml"))
    with pytest.raises(ConfigError) as caught:
        load_config()

    assert "elsewhere.toml" in caught.value.message
    assert "$STAGESYNC_CONFIG" in caught.value.message


def test_a_folder_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a file"):
        load_config(tmp_path)


# --- mistakes --------------------------------------------------------------------------------


def test_toml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    message = config_error('[environments.staging]\nstore_hash = "abc123\n', tmp_path)

    assert "not valid TOML" in message
    assert "line 2" in message


@pytest.mark.parametrize("missing", ["store_hash", "access_token_env"])
def test_missing_required_key(tmp_path: Path, missing: str) -> None:
    text = "\n".join(line for line in STAGING.splitlines() if not line.startswith(missing))
    message = config_error(text, tmp_path)

    assert f"[environments.staging] is missing {missing}" in message


def test_typo_in_a_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = config_error(STAGING.replace("access_token_env", "acess_token_env"), tmp_path)

    assert "unknown key 'acess_token_env' in [environments.staging]" in message
    assert "Did you mean 'access_token_env'?" in message


def test_unknown_top_level_and_b2b_keys(tmp_path: Path) -> None:
    assert "unknown key 'enviroments'" in config_error(
        STAGING.replace("[environments.", "[enviroments."), tmp_path
    )
    text = STAGING + '[environments.staging.b2b]\nauth = "token"\nemial = "x@y.z"\n'
    assert "'emial' in [environments.staging.b2b]" in config_error(text, tmp_path)


@pytest.mark.parametrize(
    ("line", "instead"),
    [
        ('access_token = "t0k3n"', "access_token_env"),
        ('token = "t0k3n"', "access_token_env"),
        ('client_secret = "s3cret"', "access_token_env"),
    ],
)
def test_a_literal_secret_is_refused(tmp_path: Path, line: str, instead: str) -> None:
    message = config_error(STAGING + line + "\n", tmp_path)

    assert "secret" in message
    assert "environment variables" in message
    assert instead in message
    assert "t0k3n" not in message and "s3cret" not in message


def test_a_literal_b2b_password_is_refused(tmp_path: Path) -> None:
    text = STAGING + '[environments.staging.b2b]\nemail = "a@b.c"\npassword = "hunter2"\n'
    message = config_error(text, tmp_path)

    assert "password_env" in message
    assert "hunter2" not in message


def test_a_token_in_access_token_env_is_refused(tmp_path: Path) -> None:
    message = config_error(
        STAGING.replace('"STAGESYNC_STAGING_TOKEN"', '"4bc-d3f/tok=="'), tmp_path
    )

    assert "must be the name of an environment variable" in message
    assert "4bc-d3f/tok==" not in message


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ('store_hash = "abc123"', "store_hash = 123", "store_hash must be a string"),
        ('store_hash = "abc123"', 'store_hash = ""', "store_hash is empty"),
        ('store_hash = "abc123"', 'store_hash = "a/b"', "is not a store hash"),
        ("\n", '\nquota = "150"\n', "quota must be an integer"),
        ("\n", "\nquota = true\n", "quota must be an integer"),
        ("\n", "\nwindow_ms = 0\n", "window_ms must be greater than 0"),
        ("\n", '\napi_url = "api.bigcommerce.com"\n', "must start with http:// or https://"),
        ("\n", "\nb2b = 1\n", "must be a table"),
        ("\n", '\nrole = "prod"\n', "role must be one of 'production', 'staging', 'sandbox'"),
        ("\n", "\nrole = 1\n", "role must be a string"),
    ],
)
def test_wrong_types_and_values(tmp_path: Path, replace: str, by: str, expected: str) -> None:
    assert expected in config_error(STAGING.replace(replace, by, 1), tmp_path)


def test_environments_must_be_tables(tmp_path: Path) -> None:
    assert "must be a table" in config_error('environments = "staging"\n', tmp_path)
    assert "must be a table" in config_error('[environments]\nstaging = "x"\n', tmp_path)


def test_b2b_password_auth_needs_email_and_password_env(tmp_path: Path) -> None:
    text = STAGING + '[environments.staging.b2b]\nauth = "password"\nemail = "a@b.c"\n'
    assert "needs email and password_env" in config_error(text, tmp_path)
    text = STAGING + '[environments.staging.b2b]\nauth = "oauth"\n'
    assert 'auth must be "password" or "token"' in config_error(text, tmp_path)


def test_environment_names_must_be_folder_safe(tmp_path: Path) -> None:
    text = STAGING.replace("[environments.staging]", '[environments."my store"]')
    assert "environment name 'my store'" in config_error(text, tmp_path)


# --- environments and tokens -----------------------------------------------------------------


def test_unknown_environment_lists_the_configured_ones(tmp_path: Path) -> None:
    text = STAGING + STAGING.replace("staging]", "production]")
    config = load_config(write(tmp_path / "stagesync.toml", text))

    with pytest.raises(ConfigError) as caught:
        config.environment("prod")

    message = caught.value.message
    assert "Unknown environment 'prod'" in message
    assert "production, staging" in message
    assert "[environments.prod]" in message


def test_unknown_environment_when_none_are_configured() -> None:
    with pytest.raises(ConfigError, match="configures no environments"):
        Config(path=None, environments={}).environment("staging")


def test_token_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    env = Environment(
        name="staging", store_hash="abc123", access_token_env="STAGESYNC_STAGING_TOKEN"
    )
    monkeypatch.setenv("STAGESYNC_STAGING_TOKEN", "t0k3n\n")

    assert env.token() == "t0k3n"


@pytest.mark.parametrize("value", [None, "", "  "])
def test_missing_token_names_the_variable_and_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is not None:
        monkeypatch.setenv("STAGESYNC_STAGING_TOKEN", value)
    env = Environment(
        name="staging", store_hash="abc123", access_token_env="STAGESYNC_STAGING_TOKEN"
    )

    with pytest.raises(ConfigError) as caught:
        env.token()

    message = caught.value.message
    assert message.startswith("STAGESYNC_STAGING_TOKEN is ")
    assert "environment 'staging' reads its access token from it" in message
    assert "export STAGESYNC_STAGING_TOKEN=" in message


def test_b2b_password_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    b2b = B2BConfig(auth="password", email="a@b.c", password_env="STAGESYNC_STAGING_B2B_PASSWORD")
    with pytest.raises(ConfigError, match="STAGESYNC_STAGING_B2B_PASSWORD is not set"):
        b2b.password("staging")
    monkeypatch.setenv("STAGESYNC_STAGING_B2B_PASSWORD", "pw")
    assert b2b.password("staging") == "pw"


# --- init ------------------------------------------------------------------------------------


def test_init_writes_the_template_which_loads(tmp_path: Path) -> None:
    path = init_config(tmp_path / "conf" / "stagesync.toml")

    assert path.read_text(encoding="utf-8") == CONFIG_TEMPLATE
    config = load_config(path)
    assert list(config.environments) == ["staging", "production"]
    assert config.environment("staging").b2b is None
    assert config.environment("staging").role == "staging"
    assert config.environment("production").role == "production"
    assert "[environments.staging.b2b]" in CONFIG_TEMPLATE  # commented out, as an example


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = write(tmp_path / "stagesync.toml", "# mine\n")

    with pytest.raises(ConfigError, match="--force"):
        init_config(path)
    assert path.read_text(encoding="utf-8") == "# mine\n"

    init_config(path, force=True)
    assert path.read_text(encoding="utf-8") == CONFIG_TEMPLATE


def test_init_refuses_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        init_config(tmp_path)
