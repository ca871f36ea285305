"""Every start checks the mounts again (issue 11): Docker resolves a bind mount's source anew at
each start, so a workspace swapped for a link after the create's check must not be mounted,
on deploy's first start as on `container-start`, `container-run`, `mlc start` or jupyter."""

import ast
import os

import pytest
from ds01common import config as config_module
from ds01common import containers, identity
from ds01common.security import LinkRefused
from fakes.engine import FakeEngine
from helpers import ROOT, write_config

IMAGE = "ds01-test/busybox:latest"
STARTS = {"start", "shell", "run", "start_jupyter"}  # containers.start and what starts through it


def test_deploys_first_start_refuses_a_workspace_swapped_for_a_link_after_the_create(ds01_env, tmp_path,
                                                                                      monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("a workspace owned by another uid needs root to make")
    write_config(ds01_env, {"workspace_root": "~/workspace"})
    nobody = identity.lookup_user("nobody")
    home = tmp_path / "nobody-home"
    home.mkdir()
    os.chown(home, nobody.uid, nobody.gid)
    user = identity.User("nobody", "nobody", nobody.uid, nobody.gid, str(home))
    engine = FakeEngine()
    real_create = containers._create

    def create_then_swap(*args, **kwargs):
        result, container = real_create(*args, **kwargs)
        workspace = result["workspace"]
        assert container.mount_at("/workspace").source == workspace  # the engine reports the bind mount
        os.rename(workspace, workspace + ".old")  # between the create's check and Docker's start
        os.symlink("/etc", workspace)
        return result, container

    monkeypatch.setattr(containers, "_create", create_then_swap)
    with pytest.raises(LinkRefused, match="symlink"):
        containers.deploy(engine, config_module.load(ds01_env["config"]), user, "swapped", image=IMAGE,
                          cpu_only=True, state_dir=ds01_env["state"], log_dir=ds01_env["log"])
    assert engine.calls["start"] == 0 and not engine.by_name  # never started, and removed again


def start_calls_without_config():
    """Calls in the library that start a container without passing `config` (and so skip the checks)."""
    found = []
    for path in sorted((ROOT / "lib" / "ds01common").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
            owner = function.value.id if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) \
                else None
            in_lifecycle = path == ROOT / "lib" / "ds01common" / "containers.py"  # not dockerapi/containers.py
            ours = owner in ("containers", "container_exec", "laptop") or (owner is None and in_lifecycle)
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            starts = not (isinstance(keywords.get("start"), ast.Constant) and keywords["start"].value is False)
            if called in STARTS and ours and starts and "config" not in keywords:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {owner or ''}.{called}")
    return found


def test_every_start_path_in_the_library_passes_the_config_that_turns_the_checks_on():
    assert start_calls_without_config() == []
