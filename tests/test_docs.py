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


# --- every command, flag, kind and file the docs name exists ----------------------------------

ROOT = DOCS.parent
DOC_FILES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
INVOCATION = re.compile(r"^\s*(?:\$\s+)?(?:[\w.-]*/)*stagesync((?:[ \t]+[^\s|;&>#]+)*)")
FLAG = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")
PROJECT_PATH = re.compile(r"(?<![\w/.~$-])(?:stagesync|docs|tests|bench|fixtures|\.ci)/[\w./*-]*\w")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def code_pieces(text: str) -> list[str]:
    """Code blocks' lines and inline code spans: where docs show what to type."""
    pieces = [line for block in FENCE.findall(text) for line in block.splitlines()]
    prose = FENCE.sub("", text)
    return pieces + SPAN.findall(prose)


def invocations(text: str) -> list[list[str]]:
    """Every ``stagesync ...`` shown in code, as words (comments, pipes and ``&&`` cut off)."""
    found = []
    for piece in code_pieces(text):
        for part in re.split(r"&&|;|\||>", piece.split("#", 1)[0]):
            match = INVOCATION.match(part)
            if match:
                found.append(match.group(1).split())
    return found


def resolve(words: list[str]) -> tuple[str, Any, list[str]]:
    """(command path, click command, the words after it); AssertionError for an unknown command."""
    command: Any = get_command(cli.app)
    path = "stagesync"
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    rest = list(words)
    while rest:
        word = rest[0]
        if word in ("--config",):
            rest = rest[2:]
            continue
        if word.startswith("-") or not hasattr(command, "commands"):
            break
        if not re.fullmatch(r"[a-z][a-z0-9-]*", word):
            break  # a placeholder (COMMAND, [ARGS]...)
        assert word in command.commands, f"no command '{path} {word}'"
        command = command.commands[word]
        path += f" {word}"
        rest = rest[1:]
    return path, command, [w for w in rest if w not in options]


def all_options(command: Any) -> set[str]:
    root = get_command(cli.app)
    return {
        option
        for c in (command, root)
        for param in c.params
        for option in (*param.opts, *param.secondary_opts)
    } | {"--help"}


def kind_cells(text: str) -> list[str]:
    """The backticked cells of every table column headed ``kind``."""
    cells: list[str] = []
    column: int | None = None
    lines = text.splitlines()
    for line, after in zip(lines, [*lines[1:], ""], strict=True):
        row = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            column = None
        elif after.startswith("|--") or after.startswith("|:-") or after.startswith("| -"):
            column = row.index("kind") if "kind" in row else None
        elif column is not None and column < len(row):
            cell = row[column]
            if re.fullmatch(r"`[a-z][a-z0-9_]*`", cell):
                cells.append(cell.strip("`"))
    return cells


def problems_in(name: str, text: str) -> list[str]:
    from stagesync.entities import UnknownKind, resolve_kinds

    found = []
    for words in invocations(text):
        shown = "stagesync " + " ".join(words)
        try:
            path, command, rest = resolve(words)
        except AssertionError as error:
            found.append(f"{name}: `{shown}`: {error}")
            continue
        known = all_options(command)
        for flag in FLAG.findall(" ".join(rest)):
            if flag not in known:
                found.append(f"{name}: `{shown}`: '{path}' has no option {flag}")
        for flag, value in zip(rest, rest[1:], strict=False):
            names = []
            if flag == "--kinds":
                names = value.strip("'\"").split(",")
            elif flag == "--only":
                names = [p.split(":", 1)[0] for p in value.strip("'\"").split(",")]
            for kind in names:
                if re.fullmatch(r"[a-z][a-z_-]*", kind):
                    try:
                        resolve_kinds([kind])
                    except UnknownKind:
                        found.append(f"{name}: `{shown}`: no kind '{kind}'")
    for kind in kind_cells(text):
        try:
            resolve_kinds([kind])
        except UnknownKind:
            found.append(f"{name}: table row names no kind '{kind}'")
    for path in PROJECT_PATH.findall(text):
        placeholder = "*" in path or re.search(r"/[A-Z][A-Z_]*(\.\w+)?$", path)
        if not placeholder and not (ROOT / path).exists():
            found.append(f"{name}: names {path}, which does not exist")
    here = (ROOT / name).parent
    for target in LINK.findall(text):
        target = target.split("#", 1)[0]
        if target and "://" not in target and not (here / target).exists():
            found.append(f"{name}: links to {target}, which does not exist")
    for doc in re.findall(r"(?<![\w/.-])([A-Z][A-Za-z-]*\.md)\b", text):
        if not (ROOT / doc).exists() and not (DOCS / doc).exists():
            found.append(f"{name}: names {doc}, which is not in the project")
    return found


def test_docs_name_only_commands_flags_kinds_and_files_that_exist() -> None:
    problems = [
        problem
        for doc in DOC_FILES
        for problem in problems_in(str(doc.relative_to(ROOT)), doc.read_text(encoding="utf-8"))
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Run `stagesync pul staging`.", "no command 'stagesync pul'"),
        ("```\nstagesync push --plan p.json --yolo\n```", "has no option --yolo"),
        ("`stagesync pull staging --kinds products,gadgets`", "no kind 'gadgets'"),
        ("`stagesync diff a b --only 'widgetz:X'`", "no kind 'widgetz'"),
        ("See `stagesync/nothing_here.py`.", "names stagesync/nothing_here.py"),
        ("See stagesync/entities/Brands.py.", "names stagesync/entities/Brands.py"),
        ("See [x](missing.md).", "links to missing.md"),
        ("The kinds listed in DESIGN.md.", "names DESIGN.md"),
        ("| kind | key |\n|---|---|\n| `gadgets` | name |", "table row names no kind 'gadgets'"),
    ],
)
def test_the_docs_check_catches_each_kind_of_mistake(text: str, expected: str) -> None:
    problems = problems_in("docs/example.md", text)
    assert any(expected in problem for problem in problems), problems


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (command,) = re.findall(r"^python3 -m venv .*pytest.*$", readme, re.MULTILINE)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert command.strip() in ci
