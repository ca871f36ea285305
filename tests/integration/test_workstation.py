"""The inside of a container as a workstation, on the real engine with real Linux users: the
forwarded port reaches a server inside from the host's 127.0.0.1, ports are unique and freed,
JupyterLab's absence is one clear line, and `pip install` lands in the per-container home."""

import base64
import hashlib
import io
import json
import os
import subprocess
import urllib.request
import zipfile
from pathlib import Path

import pytest
from ds01common import config as config_module
from ds01common import container_listing, containers, image_store, images, laptop, ports
from ds01common.errors import NotFound
from ds01common.identity import lookup_user
from helpers import ROOT, run_command, write_config
from helpers import missing as _missing

BUSYBOX = "ds01-test/busybox:latest"
PYTHON_IMAGE = os.environ.get("DS01_PYTHON_TEST_IMAGE", "ds01-test/debian-python:bookworm")


def as_user(entry):
    return lookup_user(entry.pw_name)


@pytest.fixture
def world(docker_env, unique, shared_root):
    """A private port range (other tests use the default one), workspaces the real users can
    reach (pytest's own tmp dirs are closed to them), and the engine; removes what it made."""
    # Below the kernel's ephemeral ports (32768+), where outgoing connections could hold one.
    first = 30100 + (int(unique[:4], 16) % 130) * 20
    workspaces = shared_root / f"i12-{unique}"
    workspaces.mkdir(mode=0o755)
    write_config(docker_env, {"connect": {"ports": f"{first}-{first + 19}"}, "workspace_root": str(workspaces),
                              "images": {"base": BUSYBOX, "allowed": ["i12-test/*"]}})
    docker_env["first_port"] = first
    docker_env["config_object"] = config_module.load(docker_env["config"])
    yield docker_env
    for item in docker_env["docker"].containers.list(all=True, filters={"label": "ds01.managed=true"},
                                                     ignore_removed=True):
        if item.labels.get("ds01.workspace", "").startswith(str(workspaces)):
            item.remove(force=True)


def deploy(world, user, name, **options):
    options.setdefault("image", BUSYBOX)
    options.setdefault("cpu_only", True)
    return containers.deploy(world["docker"], world["config_object"], user, name,
                             state_dir=world["state"], log_dir=world["log"], **options)


def retire(world, user, name):
    return containers.retire(world["docker"], world["config_object"], user, name,
                             state_dir=world["state"], log_dir=world["log"], timeout=1)


def test_a_server_inside_answers_on_the_hosts_loopback_port_and_ports_are_unique_and_freed(world, linux_users):
    user = as_user(linux_users("i12port"))
    first = deploy(world, user, "web")
    second = deploy(world, user, "other")
    assert first["port"] != second["port"]
    assert {first["port"], second["port"]} == {world["first_port"], world["first_port"] + 1}
    assert container_listing.list_containers(world["docker"], user)[1]["port"] == first["port"]  # sorted: other, web
    (Path(first["workspace"]) / "index.html").write_text("hello from inside\n")
    container = world["docker"].containers.get(first["docker_name"])
    exit_code, output = container.exec_run(["/bin/sh", "-c", "httpd -p 8888 -h /workspace"],
                                           user=f"{user.uid}:{user.gid}")
    assert exit_code == 0, output
    with urllib.request.urlopen(f"http://127.0.0.1:{first['port']}/index.html", timeout=10) as answer:
        assert answer.read().decode() == "hello from inside\n"
    bindings = container.attrs["HostConfig"]["PortBindings"]["8888/tcp"]
    assert bindings == [{"HostIp": "127.0.0.1", "HostPort": str(first["port"])}]  # loopback only

    retire(world, user, "web")
    entries = world["docker"].api.containers(all=True)
    assert first["port"] not in ports.ports_taken(entries)
    third = deploy(world, user, "third")
    assert third["port"] == first["port"]  # freed with its container, so handed out again


def test_jupyter_on_an_image_without_it_is_one_line_saying_how_to_get_it(world, linux_users):
    user = as_user(linux_users("i12jup"))
    deploy(world, user, "nojup")
    containers.stop(world["docker"], user, "nojup", timeout=1, log_dir=world["log"])
    with pytest.raises(NotFound) as raised:
        laptop.start_jupyter(world["docker"], user, "nojup", "gpu1.example.org", state_dir=world["state"],
                             log_dir=world["log"])
    message = str(raised.value)
    assert "\n" not in message and "--packages jupyterlab" in message and "pip install jupyterlab" in message
    assert world["docker"].containers.get(f"nojup._.{user.uid}").status == "running"  # started for it


# --- pip in an image DS01 built on a Debian base ---

@pytest.fixture(scope="session")
def python_base(docker_client):
    """Debian with python3 and pip, built once by tests/build-python-image.sh (debootstrap) and cached."""
    try:
        docker_client.images.get(PYTHON_IMAGE)
    except Exception:  # noqa: BLE001 - not built yet
        result = subprocess.run(["bash", str(ROOT / "tests" / "build-python-image.sh")], capture_output=True,
                                text=True, timeout=900)
        if result.returncode != 0:
            _missing(f"cannot build {PYTHON_IMAGE}: {result.stderr.strip()[-500:]}")
    return PYTHON_IMAGE


def make_wheel(directory, name="ds01probe", version="1.0"):
    """A minimal pure-Python wheel, built by hand (no build tools, no network)."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": "WHERE = __file__\n",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: ds01-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    wheel = Path(directory) / f"{name}-{version}-py3-none-any.whl"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    wheel.write_bytes(buffer.getvalue())
    wheel.chmod(0o644)
    return wheel


def tree(path):
    return sorted((str(item.relative_to(path)), item.stat().st_size) for item in Path(path).rglob("*"))


def test_pip_install_as_the_user_lands_in_the_container_home_and_goes_with_the_container(
        world, linux_users, python_base, unique):
    user = as_user(linux_users("i12pip"))
    config = world["config_object"]
    project = "piptest"
    images.write_dockerfile(config, user, project, template="custom", base=python_base)
    built = image_store.build(world["docker"], config, user, project, log_dir=world["log"])
    try:
        wheels = Path(user.home) / "wheels"  # a data directory of the user's own
        wheels.mkdir()
        wheel = make_wheel(wheels)
        os.chown(wheels, user.uid, user.gid)
        created = deploy(world, user, project, image=None, data_dir=str(wheels))
        assert created["home"] == f"/home/{user.name}" and created["notice"] is None
        workspace = Path(created["workspace"])
        before = tree(workspace)
        container = world["docker"].containers.get(created["docker_name"])
        exit_code, output = container.exec_run(
            ["sh", "-c", f"cd /workspace && python3 -m pip install --no-index /data/{wheel.name} && "
                         "python3 -c 'import ds01probe; print(ds01probe.WHERE)' && echo HOME=$HOME && pwd"])
        text = output.decode()
        assert exit_code == 0, text
        assert f"/home/{user.name}/.local/lib/python3" in text and f"HOME=/home/{user.name}" in text
        assert text.rstrip().endswith("/workspace")  # still the working directory
        assert tree(workspace) == before  # nothing written under the workspace

        retire(world, user, project)
        deploy(world, user, project, image=None, data_dir=str(wheels))
        container = world["docker"].containers.get(created["docker_name"])
        exit_code, output = container.exec_run(["python3", "-c", "import ds01probe"])
        assert exit_code != 0 and b"No module named 'ds01probe'" in output  # gone with the old container
    finally:
        for item in world["docker"].containers.list(all=True, filters={"label": f"ds01.uid={user.uid}"}):
            item.remove(force=True)
        world["docker"].images.remove(built["image"], force=True)


def test_a_container_of_an_image_ds01_did_not_build_works_with_a_notice(world, linux_users):
    user = as_user(linux_users("i12foreign"))
    created = deploy(world, user, "plain")
    assert created["home"] == "/tmp" and "not built by DS01" in created["notice"]
    container = world["docker"].containers.get(created["docker_name"])
    exit_code, output = container.exec_run(["sh", "-c", "echo $HOME; pwd; touch ~/x"])
    assert exit_code == 0 and output.decode().split() == ["/tmp", "/workspace"]


def test_container_jupyter_starts_it_as_the_user_with_a_token_and_prints_the_tunnel(world, linux_users, unique):
    """A stand-in JupyterLab (busybox httpd showing the token it was given): the real one needs the network."""
    user = as_user(linux_users("i12lab"))
    stub = f"i12-test/fake-jupyter-{unique}:latest"
    script = ('#!/bin/sh\\nmkdir -p /tmp/lab && echo "token=$JUPYTER_TOKEN user=$(id -u) in=$(pwd)" '
              '> /tmp/lab/lab && exec httpd -f -p 8888 -h /tmp/lab\\n')
    dockerfile = (f"FROM {BUSYBOX}\nRUN mkdir -p /usr/local/bin && printf '{script}' > /usr/local/bin/jupyter-lab "
                  "&& chmod 755 /usr/local/bin/jupyter-lab\n")
    world["docker"].images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=stub, rm=True)
    try:
        created = deploy(world, user, "lab", image=stub)
        result = run_command("container-jupyter", "lab", "--user", user.login, "--json", "--hostname",
                             "gpu1.example.org")
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        port = created["port"]
        assert document["port"] == port and len(document["token"]) >= 32
        assert document["ssh"] == f"ssh -N -L {port}:127.0.0.1:{port} {user.login}@gpu1.example.org"
        assert document["url"] == f"http://127.0.0.1:{port}/lab?token={document['token']}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=10) as answer:
            assert answer.read().decode().split() == [f"token={document['token']}", f"user={user.uid}",
                                                      "in=/workspace"]
        again = run_command("container-jupyter", "lab", "--user", user.login, "--hostname", "gpu1.example.org")
        assert again.returncode == 0 and document["url"] in again.stdout  # the running one is reused
        assert document["ssh"] in again.stdout
    finally:
        for item in world["docker"].containers.list(all=True, filters={"label": f"ds01.uid={user.uid}"}):
            item.remove(force=True)
        world["docker"].images.remove(stub, force=True)
