"""The README can be followed as written: what it names is in the repository, each ``plaza``
command it shows parses with the real command's arguments, its Python compiles and imports what
exists, and its operator's block runs, line by line in a shell, on a new plaza. (That the
first steps and the training work on a running demo is tests/integration/test_readme.py.)"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
from pathlib import Path

import pytest
import typer

from modelplaza.cli.main import app
from modelplaza.config import Settings
from modelplaza.plaza import Plaza
from tests.readme import ROOT, block_in, blocks, commands, mentioned_paths, plaza_shim

PLAZA = typer.main.get_command(app)
# Serving commands run until stopped: their lines are parsed here, not run.
LONG_RUNNING = ("serve", "worker", "demo")


def plaza_lines() -> list[list[str]]:
    return [words for block in blocks("bash") for words in commands(block) if words[0] == "plaza"]


def test_every_file_and_folder_it_names_is_in_the_repository():
    missing = sorted(path for path in mentioned_paths() if not (ROOT / path).exists())
    assert missing == []


def test_the_recipe_it_shows_is_the_shipped_example():
    shown = block_in("Training", "yaml").text
    assert shown == (ROOT / "examples/recipes/digits-cnn.yaml").read_text()
    assert "plaza train submit examples/recipes/digits-cnn.yaml --watch" in block_in("Training", "bash").text


def test_the_first_steps_use_the_virtualenv_make_run_makes():
    first = block_in("First steps", "bash").text
    assert first.splitlines()[0].startswith(". .venv/bin/activate ")
    makefile = (ROOT / "Makefile").read_text()
    assert "VENV    ?= .venv" in makefile and "$(BIN)/plaza demo" in makefile


@pytest.mark.parametrize("words", plaza_lines(), ids=" ".join)
def test_each_plaza_command_parses(words):
    """The command's own parsing of the arguments (typer's, without running it): unknown
    commands or options, missing arguments and values of the wrong type fail here as they would
    in a shell. The groups on the way (``plaza``, ``plaza admin``) take no options of their own."""
    command, args, context = PLAZA, words[1:], None
    while hasattr(command, "get_command"):  # a group: its first word names the subcommand
        context = command.make_context(command.name, [args[0]], parent=context)
        found = command.get_command(context, args[0])
        assert found is not None, f"no command {args[0]!r} in {' '.join(words)}"
        command, args = found, args[1:]
    command.make_context(command.name, list(args), parent=context)


def test_python_blocks_compile_and_import_what_exists():
    for block in blocks("python"):
        tree = ast.parse(block.text)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = importlib.import_module(node.module)
                assert all(hasattr(module, alias.name) for alias in node.names), ast.unparse(node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    importlib.import_module(alias.name)
    assert hasattr(importlib.import_module("modelplaza"), "load_model")


def test_the_operators_block_runs_line_by_line_on_a_new_plaza(tmp_path):
    """Each line of "Operating a plaza" in bash, with its data dir under tmp_path. ``plaza
    serve``'s part is done first (it creates the plaza, as a serve does when it starts); the
    serving lines themselves only parse (above). Standard input is not a terminal here, so the
    lines that ask for a password on a terminal read it from standard input instead."""
    block = block_in("Operating a plaza", "bash")
    data_dir = tmp_path / "srv" / "plaza"
    text = block.text.replace("/srv/plaza", str(data_dir))
    Plaza(Settings(data_dir=data_dir)).migrate().close()
    (tmp_path / "bobs-password.txt").write_text("bobs-first-password\n")
    bin_dir = tmp_path / "bin"
    plaza_shim(bin_dir)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop("PLAZA_DATA_DIR", None)
    env.pop("PLAZA_DATABASE_URL", None)
    exports, outputs = [], {}
    for line in text.splitlines():
        words = commands(type(block)("bash", line, block.section))
        if not words:
            continue
        if words[0][0] == "export":
            exports.append(line)
            continue
        if words[0][:2] == ["plaza", "serve"] or words[0][1] in LONG_RUNNING:
            continue
        script = "\n".join([*exports, line])
        done = subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=tmp_path,
            env=env,
            input="a-long-password\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        outputs[" ".join(words[0][:4])] = done
    assert outputs["plaza admin create-token alice"].stdout.startswith("plz_")
    assert "freed" in outputs["plaza admin gc"].stdout
    assert not (tmp_path / ".plaza").exists()  # every line worked on the data dir it was given

    from modelplaza.auth import accounts

    plaza = Plaza.existing(Settings(data_dir=data_dir))
    with plaza.db.read() as session:
        assert accounts.check_password(session, "alice", "a-long-password").is_admin
        assert accounts.check_password(session, "bob", "a-long-password") is not None  # set-password
        assert accounts.org_roles(session, accounts.get_user(session, "bob").id) == {"acme": "write"}
    plaza.close()


def test_the_development_commands_name_real_files():
    for words in commands(block_in("Development", "bash")):
        while "=" in words[0]:  # a variable for the one command
            words = words[1:]
        if words[0] == "make":
            assert f"\n{words[1]}:" in (ROOT / "Makefile").read_text()
        else:
            assert Path(words[0]).as_posix() == ".venv/bin/python", words
            targets = [w for w in words[3:] if w.startswith("tests")]
            assert all((ROOT / target).exists() for target in targets), words
