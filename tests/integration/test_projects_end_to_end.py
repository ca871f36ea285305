"""Projects end to end on the real engine: a real Linux user's first day through the installed
commands, and the guided wizard typed into a pseudo-terminal."""

import contextlib
import json
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from ds01common.identity import current_user
from fakes.terminal import CTRL_C, DOWN, ENTER, Terminal
from helpers import BIN, installed_site, remove_users_docker_objects, run_command

BASE = "ds01-test/busybox:latest"


@pytest.fixture(scope="module")
def site(shared_root, installed, linux_users, docker_client):
    """The installed DS01 with its own config/state/log and one real user, pia."""
    root = shared_root / "projects-site"
    pia, quinn, rosa = linux_users("pia"), linux_users("quinn"), linux_users("rosa")
    config = {
        "default_group": "student", "admin_group": "ds01-admin", "workspace_root": "~/workspace",
        "defaults": {"max_cpus": 1, "memory": "256m", "shm_size": "32m", "pids_limit": 128,
                     "max_containers_per_user": 2},
        "groups": {"student": {"members": []}},
        "images": {"base": BASE},
    }
    env, bin_dir = installed_site(installed, root, config, DS01_TEMPLATES_DIR=installed["CONFDIR"] / "templates")
    yield {"env": env, "bin": bin_dir, "pia": pia, "quinn": quinn, "rosa": rosa, "docker": docker_client}
    logins = {pia.pw_name, quinn.pw_name, rosa.pw_name}
    remove_users_docker_objects(docker_client, logins)


def as_user(site, who, command, *args):
    return run_command(command, *args, user=site[who].pw_name, bin_dir=site["bin"], env=site["env"], timeout=90)


def as_pia(site, command, *args):
    return as_user(site, "pia", command, *args)


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_first_day_as_a_real_user_init_build_deploy_retire_delete(site):
    pia, client = site["pia"], site["docker"]
    workspace = Path(pia.pw_dir) / "workspace" / "thesis"
    image = "ds01-ds01t-pia/thesis:latest"

    key = ok(as_pia(site, "ssh-setup"))
    assert "ssh-ed25519 " in key and (Path(pia.pw_dir) / ".ssh" / "id_ed25519").stat().st_uid == pia.pw_uid
    assert "already have a key pair (kept)" in ok(as_pia(site, "ssh-setup"))

    ok(as_pia(site, "new-project", "thesis", "--template", "custom", "--no-build"))
    for path in [workspace, workspace / "Dockerfile", workspace / "README.md", workspace / ".gitignore",
                 workspace / ".git" / "HEAD", workspace / "data", workspace / "models"]:
        assert path.stat().st_uid == pia.pw_uid, path
    assert f"FROM {BASE}" in (workspace / "Dockerfile").read_text()

    assert f"built {image}" in ok(as_pia(site, "image", "create", "thesis"))
    deployed = ok(as_pia(site, "container-deploy", "thesis", "--background"))
    assert "running in the background" in deployed
    container = client.containers.get(f"thesis._.{pia.pw_uid}")
    assert container.image.id == client.images.get(image).id  # the project's own image

    inside = ok(as_pia(site, "container-run", "thesis", "--", "sh", "-c", "id -u; touch results/run1.txt"))
    assert inside.split()[0] == str(pia.pw_uid)
    assert (workspace / "results" / "run1.txt").stat().st_uid == pia.pw_uid
    assert "already running" in ok(as_pia(site, "project", "launch", "thesis", "--background"))

    listed = json.loads(ok(as_pia(site, "image-list", "--json")))
    assert [entry["containers"] for entry in listed if entry["image"] == image] == [["thesis"]]
    refused = as_pia(site, "image-delete", "thesis", "--yes")
    assert refused.returncode == 1 and "container-retire thesis" in refused.stderr

    ok(as_pia(site, "container-retire", "thesis", "--yes"))
    assert "kept" in ok(as_pia(site, "image-delete", "thesis", "--yes"))
    assert (workspace / "Dockerfile").is_file() and (workspace / "results" / "run1.txt").is_file()
    assert not [entry for entry in client.api.images() if image in (entry["RepoTags"] or [])]

    # The next morning: project-launch rebuilds the missing image from the kept Dockerfile.
    launched = ok(as_pia(site, "project-launch", "thesis", "--background"))
    assert f"image {image}" in launched and "created and started" in launched
    ok(as_pia(site, "container-retire", "thesis", "--yes"))


def test_guided_wizard_on_a_terminal_builds_the_image_it_describes(docker_env, unique):
    client = docker_env["docker"]
    me = current_user()
    project = f"guided{unique}"
    image = f"ds01-{me.name}/{project}:latest"
    terminal = Terminal([sys.executable, str(BIN / "project-init"), "--guided"])
    try:
        terminal.expect("Project name")
        terminal.send(project + ENTER)
        terminal.expect("Image template")
        terminal.send(DOWN * 4 + ENTER)  # custom
        terminal.expect("Extra packages")
        terminal.send(ENTER)
        terminal.expect("git repository")
        terminal.send("n")
        terminal.expect("Build the image now")
        terminal.send("y")
        terminal.expect("Start a container")
        terminal.send("n")
        assert terminal.wait() == 0, terminal.text
        workspace = docker_env["workspace_root"] / project
        assert "custom" in (workspace / "Dockerfile").read_text() and not (workspace / ".git").exists()
        assert "Step 1/" in terminal.text  # build output streamed to the terminal
        assert client.images.get(image).labels["ds01.project"] == project
    finally:
        for tag in (image,):
            try:
                client.images.remove(tag, force=True)
            except Exception:  # noqa: BLE001 - not built
                pass


def test_ctrl_c_during_the_build_lists_exactly_what_was_made_and_exits_130(docker_env, unique):
    project = f"slow{unique}"
    workspace = docker_env["workspace_root"] / project
    workspace.mkdir(parents=True)
    (workspace / "Dockerfile").write_text(f"FROM {BASE}\nRUN echo build-started; sleep 60\n")
    terminal = Terminal([sys.executable, str(BIN / "project-init"), project, "--no-git"])
    terminal.expect("build-started", timeout=60)
    terminal.send(CTRL_C)
    assert terminal.wait(timeout=30) == 130, terminal.text
    made = terminal.text.split("made so far (kept):\n")[1].split("\n\n")[0]
    assert [line.split(":")[0].strip() for line in made.splitlines()] == ["dir-create", "readme-create",
                                                                          "image-create"]
    assert (workspace / "README.md").is_file() and (workspace / "src").is_dir()
    tags = [tag for entry in docker_env["docker"].api.images() for tag in entry["RepoTags"] or []]
    assert f"ds01-{current_user().name}/{project}:latest" not in tags


def first_day_lines():
    text = (Path(__file__).resolve().parents[2] / "docs" / "projects.md").read_text()
    block = text.split("<!-- first-day:start -->")[1].split("<!-- first-day:end -->")[0]
    return [line.split("#")[0].strip() for line in block.splitlines()
            if line.strip() and not line.startswith("```")]


@contextlib.contextmanager
def offline_templates(site):
    """The installed templates with the offline `custom` text standing in for `general` (whose
    apt and PyPI steps need the network), so the walkthrough's lines run exactly as written.
    Baked into the site's installed copy as `make install` would: an installed DS01 honours
    DS01_TEMPLATES_DIR for root only, never for the users who run the walkthrough."""
    installed = Path(site["env"]["DS01_TEMPLATES_DIR"])
    offline = Path(site["env"]["DS01_CONFIG"]).parent / "offline-templates"
    shutil.rmtree(offline, ignore_errors=True)
    shutil.copytree(installed, offline)
    shutil.copy(installed / "Dockerfile.custom", offline / "Dockerfile.general")
    for path in [offline, *offline.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    layout = site["bin"].parent / "lib" / "ds01" / "ds01common" / "_install.py"
    baked = layout.read_text()
    layout.write_text(baked.replace(repr(str(installed)), repr(str(offline))))
    forget_compiled_layout(layout)
    try:
        yield offline
    finally:
        layout.write_text(baked)
        forget_compiled_layout(layout)


def forget_compiled_layout(layout):
    for stale in (layout.parent / "__pycache__").glob("_install.*"):
        stale.unlink()


def test_the_documented_first_day_works_as_written(site):
    """Every line of the walkthrough, verbatim, typed by a new user at a terminal: they answer
    `y` to a confirmation and `exit` the shell that project-launch opens. The guided
    `user-setup` line is driven in the next test."""
    lines = first_day_lines()
    assert lines[0] == "user-setup" and "project-launch thesis" in lines and lines[-1] == "container-retire thesis"
    rosa = site["rosa"]
    with offline_templates(site):
        for line in lines[1:]:
            command, *args = shlex.split(line)
            terminal = Terminal(["runuser", "-u", rosa.pw_name, "--", str(site["bin"] / command), *args],
                                env=site["env"])
            if command == "project-launch":
                terminal.expect("Opening a shell", timeout=60)
                terminal.send("id -u > /workspace/results/from-shell.txt; exit" + ENTER, pause=1.5)
            elif command == "container-retire":
                terminal.expect(r"\(y/N\)|\(Y/n\)")
                terminal.send("y")
            assert terminal.wait(timeout=90) == 0, f"{line}:\n{terminal.text}"
    workspace = Path(rosa.pw_dir) / "workspace" / "thesis"
    assert (workspace / "README.md").stat().st_uid == rosa.pw_uid
    shell_output = workspace / "results" / "from-shell.txt"
    assert shell_output.read_text().strip() == str(rosa.pw_uid) and shell_output.stat().st_uid == rosa.pw_uid
    assert not site["docker"].api.containers(all=True, filters={"label": f"ds01.user={rosa.pw_name}"})


def test_user_setup_on_a_terminal_as_a_real_user(site):
    quinn, client = site["quinn"], site["docker"]
    terminal = Terminal(["runuser", "-u", quinn.pw_name, "--", str(site["bin"] / "user-setup"),
                         "--hostname", "gpu1.lab.example"], env=site["env"])
    terminal.expect("Make an SSH key pair now")
    terminal.send("y")
    terminal.expect("Project name")
    terminal.send("first" + ENTER)
    terminal.expect("Image template")
    terminal.send(DOWN * 4 + ENTER)
    terminal.expect("Extra packages")
    terminal.send(ENTER)
    terminal.expect("git repository")
    terminal.send("y")
    terminal.expect("Build the image now")
    terminal.send("y")
    terminal.expect("Start a container")
    terminal.send("n")
    assert terminal.wait(timeout=120) == 0, terminal.text
    home = Path(quinn.pw_dir)
    assert (home / ".ssh" / "id_ed25519").stat().st_uid == quinn.pw_uid
    assert (home / "workspace" / "first" / ".git").is_dir()
    assert f"User {quinn.pw_name}" in terminal.text and "HostName gpu1.lab.example" in terminal.text
    image = client.images.get(f"ds01-{quinn.pw_name}/first:latest")
    output = client.containers.run(image.id, ["id", "-u"], remove=True).decode().strip()
    assert output == str(quinn.pw_uid)


USER_COMMANDS = [("project-init", "x", "--no-build"), ("project-launch", "x", "--background"),
                 ("image-create", "x", "--no-build"), ("image-update", "x", "--no-build"), ("image-list",),
                 ("image-delete", "x", "--yes"), ("dir-create", "x"), ("git-init", "x"), ("readme-create", "x")]


def test_user_option_is_exit_4_for_a_non_admin_and_an_admins_project_belongs_to_the_user(site):
    pia, quinn, client = site["pia"], site["quinn"], site["docker"]
    for command, *args in USER_COMMANDS:
        refused = as_user(site, "quinn", command, *args, "--user", pia.pw_name)
        assert refused.returncode == 4, f"{command}: {refused.stdout}{refused.stderr}"
        assert "--user is for members of ds01-admin" in refused.stderr and refused.stdout == "", command
    assert not (Path(pia.pw_dir) / "workspace" / "x").exists()
    assert not (Path(quinn.pw_dir) / "workspace" / "x").exists()

    made = run_command("project-init", "forpia", "--template", "custom", "--user", pia.pw_name,
                       bin_dir=site["bin"], env=site["env"], timeout=90)
    assert made.returncode == 0, made.stdout + made.stderr
    workspace = Path(pia.pw_dir) / "workspace" / "forpia"
    for path in [workspace, workspace / "Dockerfile", workspace / ".git" / "config", workspace / "src"]:
        assert path.stat().st_uid == pia.pw_uid, path
    image = f"ds01-{pia.pw_name}/forpia:latest"
    assert client.images.get(image).labels["ds01.user"] == pia.pw_name
    assert "kept" in ok(as_pia(site, "image-delete", "forpia", "--yes"))  # hers to delete
