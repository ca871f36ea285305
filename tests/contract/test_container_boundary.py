"""The container half of the dockerapi boundary, one scenario on three engines: the fake
(tests/fakes/engine.py), the real engine through the docker SDK, and the real engine through
LazyClient's socket fast path. Every call is by container id and every answer a
records.ContainerDetails, so what unit tests read from the fake is what the real engine reports.

Containers carry only a contract label, never ds01.managed; each test removes what it made.
"""

import uuid

import pytest
from ds01common import dockerapi
from ds01common.errors import Ds01Error, NotFound
from ds01common.records import ContainerDetails, Mount
from fakes.engine import FakeEngine
from helpers import TEST_IMAGE

CONTRACT_LABEL = "ds01test.contract"
KILLED = 137  # the test image's `sleep` ignores SIGTERM as PID 1: a stop ends in the kill


def clients(kind, request, monkeypatch):
    """(client, run id) for `kind`; afterwards the containers and images of the run are removed."""
    run = uuid.uuid4().hex[:10]
    if kind == "fake":
        yield FakeEngine(), run
        return
    real = request.getfixturevalue("docker_client")
    if kind == "socket":
        monkeypatch.setenv("DOCKER_HOST", "unix:///var/run/docker.sock")
    yield (dockerapi.LazyClient() if kind == "socket" else real), run
    for container in real.containers.list(all=True, filters={"label": f"{CONTRACT_LABEL}={run}"}):
        container.remove(force=True)
    for image in real.images.list(filters={"label": f"{CONTRACT_LABEL}={run}"}):
        real.images.remove(image.id, force=True)


@pytest.fixture(params=["fake", "sdk", "socket"])
def engine(request, monkeypatch):
    """The fake, the SDK client, or a LazyClient on the local socket."""
    yield from clients(request.param, request, monkeypatch)


@pytest.fixture(params=["sdk", "socket"])
def real_engine(request, monkeypatch):
    """The real engine only (the fake runs no processes)."""
    yield from clients(request.param, request, monkeypatch)


def create(client, run, tmp_path, suffix="a"):
    data = tmp_path / f"data-{suffix}"
    data.mkdir(exist_ok=True)
    options = {"image": TEST_IMAGE, "command": ["sleep", "60"], "name": f"ds01-contract-{run}-{suffix}",
               "labels": {CONTRACT_LABEL: run, "ds01test.user": "alice"},
               "volumes": {str(data): {"bind": "/data", "mode": "ro"}}}
    return dockerapi.create_container(client, options, f"container {suffix}")


def test_a_created_container_reads_the_same_on_every_engine(engine, tmp_path):
    client, run = engine
    made = create(client, run, tmp_path)
    assert isinstance(made, ContainerDetails)
    assert (made.name, made.status, made.image) == (f"ds01-contract-{run}-a", "created", TEST_IMAGE)
    assert made.labels["ds01test.user"] == "alice" and len(made.id) == 64
    assert made.image_id == dockerapi.get_image(client, TEST_IMAGE).id and made.image_id.startswith("sha256:")
    assert made.mounts == (Mount(type="bind", source=str(tmp_path / "data-a"), destination="/data",
                                 read_write=False, mode="ro"),)
    assert made.mount_at("/data") is not None and made.mount_at("/workspace") is None
    assert (made.pid, made.started_at, made.finished_at) == (0, None, None) and made.created is not None
    for key in (made.name, made.id, made.id[:12]):
        assert dockerapi.get_container(client, key) == made
    assert dockerapi.get_container(client, f"ds01-contract-{run}-nothing") is None
    with pytest.raises(NotFound, match="container x not found"):
        dockerapi.inspect_container(client, f"ds01-contract-{run}-nothing", "container x")


def test_start_stop_and_kill_by_id_answer_with_the_state_after_them(engine, tmp_path):
    client, run = engine
    made = create(client, run, tmp_path)
    running = dockerapi.start_and_inspect(client, made.id)
    assert running.running and running.pid > 0 and running.started_at is not None
    assert running.finished_at is None and not running.oom_killed
    stopped = dockerapi.stop_and_inspect(client, made.id, timeout=1)
    assert (stopped.status, stopped.pid, stopped.exit_code) == ("exited", 0, KILLED)
    assert stopped.finished_at is not None
    dockerapi.start_container(client, made.id)
    assert dockerapi.inspect_container(client, made.id).running
    dockerapi.kill_quietly(client, made.id)
    killed = dockerapi.inspect_container(client, made.id)
    assert (killed.status, killed.exit_code) == ("exited", KILLED)
    dockerapi.kill_quietly(client, made.id)  # not running: the engine's refusal is swallowed
    dockerapi.stop_container(client, made.id, timeout=1)  # a stopped container stays as it is
    assert dockerapi.inspect_container(client, made.id).status == "exited"


def test_removing_by_id_needs_force_while_it_runs_and_a_gone_container_is_not_found(engine, tmp_path):
    client, run = engine
    made = create(client, run, tmp_path)
    dockerapi.start_container(client, made.id)
    with pytest.raises(Ds01Error) as refused:
        dockerapi.remove_container(client, made.id, what="container a")
    assert not isinstance(refused.value, NotFound) and "container" in str(refused.value)
    dockerapi.remove_container(client, made.id, force=True)
    assert dockerapi.get_container(client, made.id) is None
    with pytest.raises(NotFound, match="container a not found"):
        dockerapi.remove_container(client, made.id, what="container a")
    dockerapi.remove_quietly(client, made.id)  # already gone: nothing to say
    with pytest.raises(NotFound, match="container a not found"):
        dockerapi.start_container(client, made.id, "container a")


def test_a_second_create_of_one_name_already_exists_and_leaves_the_first_alone(engine, tmp_path):
    client, run = engine
    first = create(client, run, tmp_path)
    with pytest.raises(Ds01Error, match="container a already exists"):
        create(client, run, tmp_path)
    assert dockerapi.get_container(client, first.name) == first


def test_a_commit_by_id_makes_an_image_with_the_labels_given(engine, tmp_path):
    client, run = engine
    made = create(client, run, tmp_path)
    reference = dockerapi.commit_container(client, made.id, f"ds01-contract/commit-{run}", "saved",
                                           {CONTRACT_LABEL: run, "ds01test.project": "a"})
    assert reference == f"ds01-contract/commit-{run}:saved"
    image = dockerapi.get_image(client, reference)
    assert image.labels[CONTRACT_LABEL] == run and image.labels["ds01test.project"] == "a"
    assert reference in image.tags



def test_exec_and_logs_by_id_return_the_exit_status_and_the_output(real_engine, tmp_path):
    client, run = real_engine
    made = create(client, run, tmp_path)
    dockerapi.start_container(client, made.id)
    code, output = dockerapi.exec_in_container(client, made.id, ["sh", "-c", "echo $GREETING in $PWD; exit 3"],
                                               user="1000:1000", environment={"GREETING": "hello"}, workdir="/data")
    assert (code, output) == (3, b"hello in /data\n")
    assert dockerapi.container_logs(client, made.id, tail=5) == b""  # `sleep` writes nothing
    with pytest.raises(NotFound, match="container gone not found"):
        dockerapi.exec_in_container(client, f"ds01-contract-{run}-gone", ["true"], what="container gone")
