"""docs/cli.md and docs/configuration.md keep up with the code: every command is a heading, every
option is mentioned in its command's section, every configuration key is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from stagesync import cli, config

DOCS = Path(__file__).resolve().parents[1] / "docs"
HEADING = re.compile(r"^(#+) (.+)$", re.MULTILINE)


def sections(text: str) -> dict[str, str]:
    """Heading text (without backticks) -> the text up to the next heading of the same or a
    higher level."""
    found: dict[str, str] = {}
    matches = list(HEADING.finditer(text))
    for i, match in enumerate(matches):
        level = len(match.group(1))
        end = len(text)
        for later in matches[i + 1 :]:
            if len(later.group(1)) <= level:
                end = later.start()
                break
        found[match.group(2).strip().strip("`")] = text[match.end() : end]
    return found


def commands() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []

    def walk(command: Any, path: str) -> None:
        found.append((path, command))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, f"{path} {name}")

    walk(get_command(cli.app), "stagesync")
    return found


CLI_SECTIONS = sections((DOCS / "cli.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("path", "command"), commands(), ids=[p for p, _ in commands()])
def test_every_command_is_a_heading_with_its_options(path: str, command: Any) -> None:
    assert path in CLI_SECTIONS, f"docs/cli.md has no heading '{path}'"
    section = CLI_SECTIONS[path]
    for param in command.params:
        for option in [*param.opts, *param.secondary_opts]:
            if option.startswith("-") and option != "--help":
                assert re.search(rf"`{re.escape(option)}[ `,]", section), (
                    f"docs/cli.md, section '{path}', does not mention {option}"
                )


def test_cli_docs_list_every_exit_code() -> None:
    codes = CLI_SECTIONS["Exit codes"]
    for code in (cli.EXIT_OK, cli.EXIT_ERROR, cli.EXIT_USAGE, cli.EXIT_CHANGES):
        assert f"| {code} |" in codes
    assert f"| {cli.EXIT_PUSH_FAILED} |" in codes
    assert f"| {cli.EXIT_POLICY} |" in codes
    assert f"| {cli.EXIT_INTERRUPTED} |" in codes


def test_configuration_docs_cover_every_key() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    keys = ["environments", *config._ENVIRONMENT_KEYS, *config._B2B_KEYS]
    for key in keys:
        assert f"`{key}`" in text, f"docs/configuration.md does not document {key}"
    assert config.CONFIG_ENV_VAR in text
    assert "stagesync init" in text
