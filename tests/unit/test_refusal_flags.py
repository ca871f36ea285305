"""No message suggests a flag the command lacks (issue 9/15): refusals and hints are scanned for
`--flag`s, each checked against the parser of the command it belongs to (the command whose
module says it, or the command named just before it), and the shared create path's refusals
are checked as mlc-create words them (AIME's `-g 0`, not `--cpu-only`)."""

import argparse
import ast
import importlib
import os
import re
from pathlib import Path

import pytest
from ds01common import config as config_module
from ds01common import mlc
from ds01common.commands import registry
from ds01common.errors import ResourcesUnavailable
from ds01common.identity import User
from fakes.engine import FakeEngine
from helpers import ROOT, write_config

LIBRARY = ROOT / "lib" / "ds01common"
FLAG_RE = re.compile(r"(?<![\w-])--[a-z][a-z0-9_-]*")
# Other programs whose flags DS01 texts quote (docker run lines, sbatch scripts): not ours to check.
FOREIGN = ("docker", "sbatch", "srun", "apt-get", "pip", "setpriv", "git", "salloc", "kubectl")
COMMANDS = {command.name: command for command in registry.COMMANDS}
PREFIXES = [command.prefix for command in registry.COMMANDS if command.prefix]
# `container start` is container-start; a bare `container` or `image` is an English word here.
DISPATCHED = {name.replace("-", " ", 1): name for name in COMMANDS
              if any(name.startswith(prefix + "-") for prefix in PREFIXES)}
NAMES = sorted([name for name, command in COMMANDS.items() if not command.prefix]
               + [alias for command in registry.COMMANDS for alias in command.aliases]
               + list(DISPATCHED) + list(FOREIGN), key=len, reverse=True)
MENTION_RE = re.compile(r"(`?)(?<![\w-])(" + "|".join(re.escape(name) for name in NAMES) + r")(?![\w-])")
CLAUSE_END_RE = re.compile(r"[;():\n]|[.,](?:\s|\Z)")
MLC_FAMILY = [name for name in COMMANDS if name.startswith("mlc-")]


def options(parser):
    found = set()
    for action in parser._actions:
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= options(sub)
    return found


def command_options(name):
    name = DISPATCHED.get(name, name)
    command = next((item for item in registry.COMMANDS if name == item.name or name in item.aliases), None)
    if command is None or command.prefix:
        return None
    module = importlib.import_module(f"ds01common.commands.{command.module_name}")
    return options(module.build_parser()) | {"--help"}


def segments(text, owner):
    """(command, text) pieces: flags belong to the command named before them, else to `owner`."""
    pieces, position = [], 0
    mentions = list(MENTION_RE.finditer(text))
    for index, mention in enumerate(mentions):
        if mention.start() < position:
            continue
        pieces.append((owner, text[position:mention.start()]))
        following = mentions[index + 1].start() if index + 1 < len(mentions) else len(text)
        if mention.group(1) and "`" in text[mention.end():]:  # `command ... --flag`: up to the backtick
            end = text.index("`", mention.end())
        else:  # command ARGS --flag: up to the end of the clause
            stop = CLAUSE_END_RE.search(text, mention.end())
            end = stop.start() if stop else len(text)
        end = min(end, following)
        pieces.append((mention.group(2), text[mention.start():end]))
        position = end
    pieces.append((owner, text[position:]))
    return pieces


def strings(path):
    """Every text a module could say; not argv items (`"--yes"`), not texts it only searches for."""
    tree = ast.parse(path.read_text())
    searched = {id(call.args[0]) for call in ast.walk(tree) if isinstance(call, ast.Call) and call.args
                and isinstance(call.func, ast.Attribute) and call.func.attr in ("replace", "split", "startswith")}
    searched |= {id(part) for joined in ast.walk(tree) if isinstance(joined, ast.JoinedStr) for part in joined.values}
    for node in ast.walk(tree):
        if id(node) in searched or (isinstance(node, ast.Constant) and isinstance(node.value, str)
                                    and re.fullmatch(r"\s*--[\w-]+", node.value)):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):  # an f-string: its literal parts, joined
            yield node.lineno, "".join(part.value for part in node.values
                                       if isinstance(part, ast.Constant) and isinstance(part.value, str))


def owner_of(path):
    """The command(s) a module speaks for: its own, the mlc family's, or none (library code)."""
    if path.parent.name != "commands":
        return None
    if path.stem == "mlc_family":
        return "mlc-family"
    return next((name for name, command in COMMANDS.items()
                 if command.module_name == path.stem and not command.prefix), None)


def wrong_flags():
    mlc_options = set().union(*(command_options(name) for name in MLC_FAMILY))
    found = []
    for path in sorted(LIBRARY.rglob("*.py")):
        owner = owner_of(path)
        for line, text in strings(path):
            for command, piece in segments(text, owner):
                if command is None or command in FOREIGN:
                    continue
                allowed = mlc_options if command == "mlc-family" else command_options(command)
                if allowed is None:
                    continue
                found += [f"{path.relative_to(ROOT)}:{line}: {command} has no {flag}"
                          for flag in FLAG_RE.findall(piece) if flag not in allowed]
    return found


def test_every_flag_a_message_names_is_one_the_command_it_belongs_to_takes():
    assert wrong_flags() == []


def test_the_scan_catches_a_hint_naming_a_flag_its_command_lacks():
    assert segments("no GPU free; use --cpu-only", "mlc-create") == [("mlc-create", "no GPU free; use --cpu-only")]
    pieces = segments("retry with `container-start x --wait`, or --yes", "mlc-remove")
    assert ("container-start", "`container-start x --wait") in pieces and pieces[-1] == ("mlc-remove", "`, or --yes")
    assert "--cpu-only" not in command_options("mlc-create")


@pytest.fixture
def gpu_world(ds01_env):
    def world(defaults):
        write_config(ds01_env, {"images": {"frameworks": {"Pytorch-2.8.0": "pytorch/pytorch:2.8.0"}},
                                "gpus": {"simulate": [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g"}]},
                                "defaults": defaults})
        home = Path(ds01_env["root"]) / "home-i9flags"
        home.mkdir(exist_ok=True)
        user = User("i9flags", "i9flags", os.getuid(), os.getgid(), str(home))
        return config_module.load(ds01_env["config"]), user
    return world


@pytest.mark.parametrize("defaults", [{"max_mig_instances": 0}, {"max_gpus_per_container": 0}],
                         ids=["no-gpu-slots", "no-gpu-per-container"])
def test_mlc_create_refusals_name_only_flags_mlc_create_takes(gpu_world, ds01_env, defaults):
    config, user = gpu_world(dict(defaults, max_containers_per_user=3))
    with pytest.raises(ResourcesUnavailable) as refused:
        mlc.create(FakeEngine(images=("pytorch/pytorch:2.8.0",)), config, user, "x", "Pytorch", "2.8.0",
                   gpus=1, state_dir=ds01_env["state"], log_dir=ds01_env["log"])
    message = str(refused.value)
    assert "-g 0" in message
    assert set(FLAG_RE.findall(message)) <= command_options("mlc-create"), message


@pytest.mark.parametrize("refusal", ["no GPU free: all 1 GPU slots are in use; nobody is waiting (use --wait to queue)",
                                     "your limits allow no GPU slots (max_mig_instances = 0); use --cpu-only"])
def test_the_guided_image_builders_deploy_refusal_names_the_command_whose_flags_it_suggests(refusal, monkeypatch):
    from types import SimpleNamespace

    from ds01common.commands import container_deploy, image_create

    def refuse(argv):
        raise ResourcesUnavailable(refusal)

    monkeypatch.setattr(container_deploy, "main", refuse)
    me = SimpleNamespace(login="ada")
    with pytest.raises(ResourcesUnavailable) as refused:
        image_create._deploy(SimpleNamespace(user=me, caller=me), "thesis")
    message = str(refused.value)
    assert "`container-deploy thesis --wait`" in message
    for command, piece in segments(message, "image-create"):
        assert set(FLAG_RE.findall(piece)) <= command_options(command), (command, piece)
