"""--guided on the container modules at a pseudo-terminal, on the real engine, as a real user: the
answers make what the flags make (create, deploy, run, exit)."""

import sys

import pytest
from fakes.terminal import DOWN, ENTER, Terminal
from helpers import BASE_CONFIG, BIN, run_command, server_site

IMAGE = "ds01-test/busybox:latest"


@pytest.fixture
def person(shared_root, linux_users, docker_client, unique):
    """A real user with a server-like site (their own containers only, so the lists are theirs)."""
    entry = linux_users("i12guide")
    config = dict(BASE_CONFIG, workspace_root="~/workspace")
    env = server_site(shared_root / f"i12-guided-{unique}", config)
    yield {"entry": entry, "env": env, "docker": docker_client}
    for container in docker_client.containers.list(all=True, filters={"label": f"ds01.user={entry.pw_name}"},
                                                   ignore_removed=True):
        container.remove(force=True)


def guided(person, command, *args):
    return Terminal(["runuser", "-u", person["entry"].pw_name, "--", sys.executable, str(BIN / command),
                     "--guided", *args], env=person["env"])


def container(person, name):
    return person["docker"].containers.get(f"{name}._.{person['entry'].pw_uid}")


def test_image_create_alone_is_the_builder_it_builds_and_starts_a_container(person):
    terminal = Terminal(["runuser", "-u", person["entry"].pw_name, "--", sys.executable, str(BIN / "image-create")],
                        env=person["env"])
    terminal.expect("Project name")
    terminal.send("built" + ENTER)
    terminal.expect("Template:")
    terminal.send(DOWN * 4 + ENTER)  # custom: offline
    terminal.expect("Extra packages")
    terminal.send(ENTER)
    terminal.expect("Build the image now")
    terminal.send("y")
    terminal.expect("Start a container from it")
    terminal.send("y")
    assert terminal.wait(timeout=120) == 0, terminal.text
    assert "Step 1/" in terminal.text or "FROM" in terminal.text  # the build's progress was shown
    made = container(person, "built")
    assert made.status == "running" and made.image.tags == [f"ds01-{person['entry'].pw_name}/built:latest"]
    person["docker"].containers.get(made.id).remove(force=True)
    person["docker"].images.remove(f"ds01-{person['entry'].pw_name}/built:latest", force=True)


def test_create_deploy_run_and_exit_guided_do_what_their_flags_do(person):
    terminal = guided(person, "container-create", "--image", IMAGE)
    terminal.expect("temporary .retire it")  # explained before asking
    terminal.expect("Container .project. name")
    terminal.send("gcreate" + ENTER)
    terminal.expect("GPUs:")
    terminal.send(DOWN + ENTER)  # no GPU (CPU only)
    assert terminal.wait() == 0, terminal.text
    flags = run_command("container-create", "fcreate", "--image", IMAGE, "--cpu-only", env=person["env"],
                        user=person["entry"].pw_name)
    assert flags.returncode == 0, flags.stderr
    made, by_flags = container(person, "gcreate"), container(person, "fcreate")
    assert made.status == by_flags.status == "created"
    assert made.labels["ds01.gpu.slots"] == by_flags.labels["ds01.gpu.slots"] == ""
    assert made.labels["ds01.port"] != by_flags.labels["ds01.port"]

    terminal = guided(person, "container-deploy", "--image", IMAGE)
    terminal.expect("Container .project.:")
    terminal.send(DOWN + DOWN + ENTER)  # past the fcreate and gcreate folders: a new name
    terminal.expect("name")
    terminal.send("gdeploy" + ENTER)
    terminal.expect("GPUs:")
    terminal.send(DOWN + ENTER)
    terminal.expect("Then:")
    terminal.send(DOWN + ENTER)  # leave it running
    assert terminal.wait() == 0, terminal.text
    assert container(person, "gdeploy").status == "running"

    terminal = guided(person, "container-run")
    terminal.expect("Container:")
    terminal.send(ENTER)  # the first listed: fcreate (stopped: started for it)
    terminal.expect("Command")
    terminal.send("echo hello-from-guided" + ENTER)
    assert terminal.wait() == 0, terminal.text
    assert "hello-from-guided" in terminal.text
    assert container(person, "fcreate").status == "running"

    terminal = guided(person, "container-exit")
    terminal.expect("never stops the container")
    terminal.expect("Container:")
    terminal.send(DOWN + ENTER)  # gcreate
    terminal.expect("What should happen")
    terminal.send(DOWN + DOWN + ENTER)  # retire
    assert terminal.wait() == 0, terminal.text
    left = {item.labels["ds01.project"] for item in person["docker"].containers.list(
        all=True, filters={"label": f"ds01.user={person['entry'].pw_name}"})}
    assert left == {"fcreate", "gdeploy"}
