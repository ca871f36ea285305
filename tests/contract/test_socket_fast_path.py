"""dockerapi's socket fast path (engine_http) against the docker SDK on a real engine.

The fast path writes the Engine API's JSON for DS01's create options itself; these tests create
one container each way from the same options and compare what the engine made of them, and
check that its answers and errors read as the SDK's do. Containers carry only a contract label.
"""

import uuid

import pytest
from ds01common import container_spec, dockerapi, identity
from ds01common.errors import Ds01Error, NotFound
from ds01common.records import Limits
from helpers import TEST_IMAGE

CONTRACT_LABEL = "ds01test.contract"

# What DS01 sets at create; the engine's other fields (ids, paths, times) differ by nature.
HOST_CONFIG_FIELDS = ("Binds", "NetworkMode", "PortBindings", "Privileged", "SecurityOpt", "Init", "Memory",
                      "MemorySwap", "NanoCpus", "ShmSize", "PidsLimit", "CgroupParent", "DeviceRequests",
                      "PublishAllPorts", "AutoRemove", "RestartPolicy", "CapAdd", "CapDrop", "Dns", "ExtraHosts",
                      "LogConfig", "IpcMode", "PidMode", "Runtime", "Tmpfs", "Ulimits", "Mounts")
CONFIG_FIELDS = ("Hostname", "User", "Tty", "OpenStdin", "StdinOnce", "AttachStdin", "AttachStdout", "AttachStderr",
                 "Env", "Cmd", "Image", "Volumes", "Entrypoint", "WorkingDir", "Labels", "ExposedPorts")


@pytest.fixture
def fast_client(docker_client, monkeypatch):
    """A LazyClient on the local socket (the fast path); removes what the test made."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///var/run/docker.sock")
    run = uuid.uuid4().hex[:10]
    yield dockerapi.LazyClient(), run
    for container in docker_client.containers.list(all=True, filters={"label": f"{CONTRACT_LABEL}={run}"}):
        container.remove(force=True)


def options_for(name, run, tmp_path, port):
    user = identity.current_user()
    workspace = tmp_path / name
    workspace.mkdir()
    limits = Limits(max_cpus=1, memory=256 * 2**20, shm_size=64 * 2**20, pids_limit=256)
    labels = {CONTRACT_LABEL: run, "ds01test.name": name}
    options = container_spec.create_options(user, name, TEST_IMAGE, workspace, limits, labels,
                                        {"DS01_EXTRA": "1"}, port=port)
    options["name"] = f"ds01-contract-{run}-{name}"
    return options


def without_own(inspected, name):
    """The fields to compare, with the container's own name (hostname, workspace, label) made equal."""
    host = {key: inspected["HostConfig"].get(key) for key in HOST_CONFIG_FIELDS}
    config = {key: inspected["Config"].get(key) for key in CONFIG_FIELDS}
    text = repr((host, config)).replace(name, "NAME")
    return text


def test_a_container_made_over_the_socket_equals_one_made_by_the_sdk_from_the_same_options(
        fast_client, docker_client, tmp_path):
    client, run = fast_client
    fast = dockerapi.create_container(client, options_for("fast", run, tmp_path, 29871))
    sdk = docker_client.containers.create(**options_for("sdk", run, tmp_path, 29872))
    assert not client.connected  # no SDK client was needed
    fast_inspected = docker_client.api.inspect_container(fast.id)
    sdk_inspected = docker_client.api.inspect_container(sdk.id)
    fast_fields = without_own(fast_inspected, "fast").replace("29871", "PORT")
    sdk_fields = without_own(sdk_inspected, "sdk").replace("29872", "PORT")
    assert fast_fields == sdk_fields
    assert fast_inspected["HostConfig"]["Memory"] == 256 * 2**20
    assert fast_inspected["HostConfig"]["PortBindings"] == {"8888/tcp": [{"HostIp": "127.0.0.1", "HostPort": "29871"}]}


def test_fast_path_answers_read_as_the_sdks_and_start_stop_and_remove_the_container(
        fast_client, docker_client, tmp_path):
    client, run = fast_client
    made = dockerapi.create_container(client, options_for("life", run, tmp_path, 29873))
    sdk = docker_client.containers.get(made.id)
    assert (made.id, made.name, made.status, made.labels) == (sdk.id, sdk.name, sdk.status, sdk.labels)
    assert dockerapi.get_container(client, made.name) == made
    assert dockerapi.start_and_inspect(client, made.id).status == "running"
    assert dockerapi.stop_and_inspect(client, made.id, timeout=1).status == "exited"
    image = client.images.get(TEST_IMAGE)
    sdk_image = docker_client.images.get(TEST_IMAGE)
    assert (image.id, image.short_id, image.tags, image.labels) == \
        (sdk_image.id, sdk_image.short_id, sdk_image.tags, sdk_image.labels)
    dockerapi.remove_container(client, made.id, force=True)
    assert dockerapi.get_container(client, made.id) is None
    assert not client.connected


def test_fast_path_errors_are_the_sdks_typed_ds01_errors(fast_client, docker_client, tmp_path):
    client, run = fast_client
    assert dockerapi.get_or_none(client.images, "ds01-test/no-such-image:never") is None
    with pytest.raises(NotFound, match="^container ghost not found$"):
        dockerapi.inspect_container(client, f"ds01-contract-{run}-ghost", "container ghost")
    options = options_for("twice", run, tmp_path, 29874)
    dockerapi.create_container(client, options, "container twice")
    with pytest.raises(Ds01Error, match="^container twice already exists$"):
        dockerapi.create_container(client, options, "container twice")
    missing = dict(options, name=f"ds01-contract-{run}-noimage", image="ds01-test/no-such-image:never")
    with pytest.raises(NotFound, match="^image not found: "):
        dockerapi.create_container(client, missing)
    assert not client.connected


def test_an_engine_that_is_not_there_is_the_one_line_connection_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    client = dockerapi.LazyClient()
    with pytest.raises(Ds01Error, match="^cannot reach the Docker engine at unix://.*: is dockerd running\\?$"):
        dockerapi.get_container(client, "x", "container x")
    assert not client.connected
