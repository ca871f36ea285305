"""Workspace folders, git, README, SSH key and VS Code entry: real git and ssh-keygen, no Docker."""

import os
import subprocess

import pytest
from ds01common import config as config_module
from ds01common import onboarding, paths
from ds01common.identity import User, current_user
from helpers import run_command

TEMPLATES_DIR = paths.checkout_root() / "config" / "templates"
# What a command's context would hand git: PATH, and nothing of this test process's git settings.
ENVIRONMENT = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


@pytest.fixture
def config(ds01_env):
    return config_module.load(ds01_env["config"])


@pytest.fixture
def me(tmp_path):
    """The real caller with a throwaway home, so keys and files land under tmp."""
    real = current_user()
    home = tmp_path / "home"
    home.mkdir()
    return User(real.login, real.name, real.uid, real.gid, str(home))


def test_dir_create_makes_the_layout_and_leaves_existing_files_alone(config, me):
    workspace, made = onboarding.create_dirs(config, me, "proj")
    assert workspace == config.workspace_dir(me.home) / "proj"
    assert sorted(path.name for path in workspace.iterdir()) == sorted(onboarding.PROJECT_DIRS)
    (workspace / "data" / "set.csv").write_text("1,2\n")
    again, made_again = onboarding.create_dirs(config, me, "proj")
    assert made_again == [] and (workspace / "data" / "set.csv").read_text() == "1,2\n"
    assert all(path.stat().st_uid == me.uid for path in made)


def test_git_init_ignores_data_checkpoints_caches_and_secrets(tmp_path, me):
    project = tmp_path / "proj"
    project.mkdir()
    result = onboarding.git_init(project, me, TEMPLATES_DIR, use_lfs=False, environment=ENVIRONMENT)
    assert result == {"repository": True, "gitignore": True, "lfs": []}
    for path in ("data/x.csv", "checkpoints/epoch1.ckpt", "models/best.pt", "__pycache__/a.pyc", ".env",
                 "secrets/token.txt", "id_ed25519", ".ipynb_checkpoints/a.ipynb"):
        target = project / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x")
    (project / "src").mkdir()
    (project / "src" / "train.py").write_text("print(1)\n")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=project,
                            capture_output=True, text=True, check=True).stdout
    assert "src/train.py" in status and ".gitignore" in status
    for ignored in ("data/", "checkpoints/", "best.pt", "__pycache__", ".env", "secrets/", "id_ed25519"):
        assert ignored not in status, status


def test_git_init_tracks_model_files_with_lfs_when_git_lfs_exists(tmp_path, me, monkeypatch):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    record = tmp_path / "lfs-calls"
    (fake_bin / "git-lfs").write_text(f"#!/bin/sh\necho \"$@\" >> {record}\n")
    (fake_bin / "git-lfs").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}:{os.environ['PATH']}")
    project = tmp_path / "proj"
    project.mkdir()
    result = onboarding.git_init(project, me, TEMPLATES_DIR, environment={"PATH": os.environ["PATH"]})
    assert "*.safetensors" in result["lfs"]
    calls = record.read_text()
    assert "install --local" in calls and "track *.pt" in calls
    assert "\nmodels/\n" not in (project / ".gitignore").read_text()  # weights go to lfs, not ignored


def test_git_runs_with_the_environment_the_command_gives_it(tmp_path, me):
    project = tmp_path / "proj"
    project.mkdir()
    # Git's own configuration through the environment: proof that git saw the given one.
    given = dict(ENVIRONMENT, GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="init.defaultBranch",
                 GIT_CONFIG_VALUE_0="given-branch")
    onboarding.git_init(project, me, TEMPLATES_DIR, use_lfs=False, environment=given)
    assert (project / ".git" / "HEAD").read_text().strip() == "ref: refs/heads/given-branch"


def test_git_init_keeps_an_existing_repository_and_gitignore(tmp_path, me):
    project = tmp_path / "proj"
    project.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / ".gitignore").write_text("mine\n")
    result = onboarding.git_init(project, me, TEMPLATES_DIR, use_lfs=False, environment=ENVIRONMENT)
    assert result["repository"] is False and result["gitignore"] is False
    assert (project / ".gitignore").read_text() == "mine\n"


def test_readme_has_the_daily_workflow_and_is_never_overwritten(config, me):
    onboarding.create_dirs(config, me, "proj")
    path, written = onboarding.create_readme(config, me, "proj", TEMPLATES_DIR)
    text = path.read_text()
    assert written and "project-launch proj" in text and "container-retire proj" in text
    assert str(config.workspace_dir(me.home) / "proj") in text and f"ds01-{me.name}/proj:latest" in text
    path.write_text("my notes\n")
    _, written = onboarding.create_readme(config, me, "proj", TEMPLATES_DIR)
    assert not written and path.read_text() == "my notes\n"


def test_ssh_setup_makes_a_key_once_and_never_overwrites_it(me):
    first = onboarding.ssh_setup(me)
    assert first["created"] and first["public_key"].startswith("ssh-ed25519 ")
    private = first["private"]
    assert oct(os.stat(private).st_mode & 0o777) == "0o600"
    assert oct(os.stat(os.path.dirname(private)).st_mode & 0o777) == "0o700"
    second = onboarding.ssh_setup(me)
    assert not second["created"] and second["public_key"] == first["public_key"]


def test_ssh_setup_recovers_a_lost_public_key_from_the_private_one(me):
    first = onboarding.ssh_setup(me)
    os.unlink(first["public"])
    again = onboarding.ssh_setup(me)
    assert not again["created"] and again["public_key"].split()[:2] == first["public_key"].split()[:2]


def test_vscode_entry_names_this_server_the_user_and_the_identity_file(me):
    entry = onboarding.vscode_host_entry(me, hostname="gpu1.lab.example")
    assert entry.splitlines()[:4] == ["Host gpu1", "    HostName gpu1.lab.example", f"    User {me.login}",
                                      "    IdentityFile ~/.ssh/id_ed25519"]
    steps = "\n".join(onboarding.vscode_steps(me, hostname="gpu1.lab.example"))
    assert f"ssh-copy-id -i ~/.ssh/id_ed25519.pub {me.login}@gpu1.lab.example" in steps
    assert "Remote - SSH" in steps


def test_vscode_setup_command_prints_the_host_entry(ds01_env):
    result = run_command("vscode-setup", "--hostname", "gpu1.lab.example", "--alias", "lab")
    assert result.returncode == 0, result.stderr
    assert "  Host lab\n      HostName gpu1.lab.example\n" in result.stdout


def test_dir_create_git_init_and_readme_create_commands_work_in_order(ds01_env):
    assert run_command("git-init", "proj").returncode == 1  # no folder yet: says to run dir-create
    for command in ("dir-create", "git-init", "readme-create"):
        result = run_command(command, "proj")
        assert result.returncode == 0, result.stderr
    project = ds01_env["workspace_root"] / "proj"
    assert (project / ".git").is_dir() and (project / "README.md").is_file() and (project / "notebooks").is_dir()
    assert "already there" in run_command("dir-create", "proj").stdout
