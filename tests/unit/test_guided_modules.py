"""--guided on every single-step module: on a pseudo-terminal it asks and then does what the flags
do; without a terminal it is exit 2 naming the flags. (The container modules: integration tests.)"""

import json
import os
import sys

import pytest
from ds01common.identity import current_user
from fakes.terminal import CTRL_C, DOWN, ENTER, Terminal
from helpers import BIN, run_command

NO_DOCKER = {"DOCKER_HOST": "unix:///nonexistent.sock"}
GUIDED_MODULES = {
    "ssh-setup": "--comment", "vscode-setup": "--hostname", "dir-create": "PROJECT", "git-init": "PROJECT",
    "readme-create": "--force", "image-create": "--template", "container-create": "--cpu-only",
    "container-deploy": "--background", "container-run": "-- CMD", "container-exit": "container-retire NAME",
}


def guided(command, *args):
    return Terminal([sys.executable, str(BIN / command), "--guided", *args], env=NO_DOCKER)


@pytest.mark.parametrize("command", sorted(GUIDED_MODULES))
def test_guided_without_a_terminal_is_exit_2_naming_the_flags(ds01_env, command):
    result = run_command(command, "--guided", env=NO_DOCKER)
    assert result.returncode == 2, result.stderr
    assert "instead of --guided" in result.stderr and GUIDED_MODULES[command] in result.stderr
    assert not ds01_env["workspace_root"].exists()


def test_image_create_without_a_project_and_without_a_terminal_is_exit_2_naming_the_flags(ds01_env):
    result = run_command("image-create", env=NO_DOCKER)
    assert result.returncode == 2 and "image-create PROJECT" in result.stderr and "--framework" in result.stderr


def test_dir_create_guided_makes_what_the_flags_make(ds01_env):
    terminal = guided("dir-create")
    terminal.expect("with the usual")  # the step is explained first
    terminal.expect("Project name")
    terminal.send("alpha" + ENTER)
    assert terminal.wait() == 0, terminal.text
    assert run_command("dir-create", "beta").returncode == 0
    root = ds01_env["workspace_root"]
    assert sorted(path.name for path in (root / "alpha").iterdir()) == sorted(
        path.name for path in (root / "beta").iterdir())


def test_git_init_and_readme_create_guided_pick_an_existing_project(ds01_env):
    assert run_command("dir-create", "alpha").returncode == 0
    terminal = guided("git-init")
    terminal.expect("Git keeps the history")
    terminal.expect("Project:")
    terminal.send(ENTER)  # the only project, alpha
    assert terminal.wait() == 0, terminal.text
    project = ds01_env["workspace_root"] / "alpha"
    assert (project / ".git").is_dir() and (project / ".gitignore").is_file()

    terminal = guided("readme-create")
    terminal.expect("Project:")
    terminal.send(ENTER)
    assert terminal.wait() == 0, terminal.text
    first = (project / "README.md").read_text()
    (project / "README.md").write_text("mine\n")
    terminal = guided("readme-create", "alpha")  # given as a flag: not asked again
    terminal.expect("Replace it with a fresh one")
    terminal.send("y")
    assert terminal.wait() == 0, terminal.text
    assert (project / "README.md").read_text() == first  # the same as readme-create alpha --force


def test_image_create_guided_writes_the_dockerfile_the_flags_write(ds01_env):
    terminal = guided("image-create")
    terminal.expect("Project name")
    terminal.send("imgp" + ENTER)
    terminal.expect("Template:")
    terminal.send(DOWN * 4 + ENTER)  # custom
    terminal.expect("Extra packages")
    terminal.send("einops" + ENTER)
    terminal.expect("Build the image now")
    terminal.send("n")
    assert terminal.wait() == 0, terminal.text
    flags = run_command("image-create", "imgq", "--template", "custom", "--packages", "einops", "--no-build",
                        env=NO_DOCKER)
    assert flags.returncode == 0, flags.stderr
    root = ds01_env["workspace_root"]
    assert ((root / "imgp" / "Dockerfile").read_text().replace("imgp", "X")
            == (root / "imgq" / "Dockerfile").read_text().replace("imgq", "X"))
    assert "image-create imgp" in terminal.text  # says how to build it later


def test_image_create_alone_at_a_terminal_is_the_builder_and_offers_frameworks(ds01_env):
    from helpers import write_config
    write_config(ds01_env, {"images": {"base": "ds01-test/busybox:latest",
                                       "frameworks": {"PyTorch-2.8.0": "ds01-test/busybox:latest",
                                                      "PyTorch-2.7.1": "ds01-test/busybox:latest"}}})
    terminal = Terminal([sys.executable, str(BIN / "image-create")], env=NO_DOCKER)
    terminal.expect("Project name")
    terminal.send("fw" + ENTER)
    terminal.expect("Framework:")
    terminal.send(ENTER)
    terminal.expect("Version:")
    terminal.send(DOWN + ENTER)  # 2.7.1 (newest first)
    terminal.expect("Template:")
    terminal.send(DOWN * 4 + ENTER)
    terminal.expect("Extra packages")
    terminal.send(ENTER)
    terminal.expect("Build the image now")
    terminal.send(CTRL_C)
    assert terminal.wait() == 130
    assert not (ds01_env["workspace_root"] / "fw").exists()  # asked everything before making anything


def test_vscode_setup_guided_asks_the_name_and_writes_the_devcontainer(ds01_env):
    assert run_command("dir-create", "alpha").returncode == 0
    terminal = guided("vscode-setup")
    terminal.expect("Server name")
    terminal.send("\x15" + "gpu9.example.org" + ENTER)  # Ctrl-U clears the suggested name
    terminal.expect("Short name")
    terminal.send(ENTER)  # the suggested gpu9
    terminal.expect("Write it for a project")
    terminal.send(DOWN + ENTER)  # alpha
    assert terminal.wait() == 0, terminal.text
    assert "HostName gpu9.example.org" in terminal.text and "Host gpu9" in terminal.text
    assert "Attach to Running Container" in terminal.text
    document = json.loads((ds01_env["workspace_root"] / "alpha" / ".devcontainer" / "devcontainer.json").read_text())
    me = current_user()
    assert document["image"] == f"ds01-{me.name}/alpha:latest" and document["workspaceFolder"] == "/workspace"
    flags = run_command("vscode-setup", "alpha", "--hostname", "gpu9.example.org")
    assert flags.returncode == 0 and "kept existing" in flags.stdout


    def instructions(text):
        return text.split("Add this to", 1)[1].split("(This entry is saved", 1)[0].split()

    assert instructions(terminal.text) == instructions(flags.stdout)  # the answers did what the flags do


def test_ssh_setup_guided_explains_and_makes_nothing_when_declined_or_shows_the_key(ds01_env):
    home_key = os.path.join(current_user().home, ".ssh", "id_ed25519")
    had_key = os.path.exists(home_key)
    terminal = guided("ssh-setup")
    terminal.expect("SSH key")
    if had_key:
        assert terminal.wait() == 0
        assert run_command("ssh-setup").stdout.split("Your public key")[1].split()[3] in terminal.text
    else:
        terminal.expect("Make an SSH key pair now")
        terminal.send("n")
        assert terminal.wait() == 0 and "no key was made" in terminal.text
        assert not os.path.exists(home_key)


def test_image_create_guided_on_a_project_with_a_dockerfile_asks_only_what_it_uses(ds01_env):
    assert run_command("image-create", "kept", "--template", "custom", "--no-build", env=NO_DOCKER).returncode == 0
    dockerfile = ds01_env["workspace_root"] / "kept" / "Dockerfile"
    before = dockerfile.read_text()
    terminal = guided("image-create", "kept")
    terminal.expect("exists and is used as it is")
    terminal.expect("Build the image now")  # no template or packages question: they would be ignored
    terminal.send("n")
    assert terminal.wait() == 0, terminal.text
    assert "Template:" not in terminal.text and "Extra packages" not in terminal.text
    assert dockerfile.read_text() == before
