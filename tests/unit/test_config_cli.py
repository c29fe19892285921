import json
from pathlib import Path

from click.testing import CliRunner

from marketo_stream.cli import main
from marketo_stream.exit_codes import ExitStatus

GOOD = """
[marketo]
base_url = "http://127.0.0.1:1"
client_id = "id"
client_secret = "the-secret-value"

[hash]
columns = { lead = ["email"] }
secret = "hmac-key-value"
"""


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env=env or {}, catch_exceptions=False)
    return result.exit_code, result.output


def test_config_schema_is_json_schema_of_every_section() -> None:
    code, out = run(["config", "schema"])
    assert code == 0
    schema = json.loads(out)
    assert {"marketo", "kafka", "sync", "block", "hash"} <= set(schema["properties"])


def test_a_valid_file_validates_and_show_masks_every_secret(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(GOOD)
    assert run(["config", "validate", "-c", str(path)]) == (0, "configuration is valid\n")
    code, out = run(["config", "show", "-c", str(path)])
    assert code == 0
    assert "the-secret-value" not in out and "hmac-key-value" not in out
    assert json.loads(out)["marketo"]["client_secret"] == "**********"


def test_an_invalid_setting_fails_validate_naming_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(GOOD.replace('client_id = "id"', 'client_id = "id"\ncalls_per_window = 500'))
    code, out = run(["config", "validate", "-c", str(path)])
    assert code == ExitStatus.CONFIG
    assert "marketo.calls_per_window" in out


def test_blocking_the_lead_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(GOOD + '\n[block]\ntables = ["lead"]\n')
    code, out = run(["config", "validate", "-c", str(path)])
    assert code == ExitStatus.CONFIG
    assert "block.tables" in out and "lead table cannot be blocked" in out


def test_environment_overrides_the_file_and_secrets_can_come_from_files(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(GOOD)
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    env = {"MARKETO_STREAM_KAFKA__TOPIC_PREFIX": "acme", "MARKETO_STREAM_CLIENT_SECRET_FILE": str(secret_file)}
    code, out = run(["config", "show", "-c", str(path)], env)
    assert code == 0
    assert json.loads(out)["kafka"]["topic_prefix"] == "acme"
    from marketo_stream.settings import load_settings

    settings = load_settings(path, env)
    assert settings.marketo.client_secret.get_secret_value() == "from-a-file"


def test_hashing_without_a_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(GOOD.replace('secret = "hmac-key-value"', ""))
    code, out = run(["config", "validate", "-c", str(path)])
    assert code == ExitStatus.CONFIG
    assert "hash.secret" in out
