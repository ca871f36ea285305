"""engine_http without an engine: DS01's create options as the Engine API's JSON (the SDK's own
builder is the reference), and its errors as dockerapi.translate() maps the SDK's."""

import socket
import subprocess
import sys
import threading
from pathlib import Path

import docker.api.container
import docker.models.containers
import docker.types
import pytest
from ds01common import container_spec, dockerapi, engine_http, identity
from ds01common.dockerapi import lazy
from ds01common.errors import Ds01Error, NotFound, PermissionDenied, ResourcesUnavailable
from ds01common.records import Limits

USER = identity.User(login="alice", name="alice", uid=1234, gid=1234, home="/home/alice")


def ds01_options(**overrides):
    limits = Limits(max_cpus=1, memory=512 * 2**20, shm_size=64 * 2**20, pids_limit=256)
    options = container_spec.create_options(USER, "proj", "ds01-test/busybox:latest", "/home/alice/workspace/proj",
                                        limits, {"ds01.managed": "true"}, {"CUDA_VISIBLE_DEVICES": "0"},
                                        port=20001, cgroup_parent="ds01-alice.slice", data_dir="/data/alice")
    options.update(overrides)
    return options


def sdk_body(options):
    """What docker-py would POST for containers.create(**options) (its own builder, no engine)."""
    arguments = dict(options)
    arguments["version"] = "1.45"
    create = docker.models.containers._create_container_args(arguments)
    name = create.pop("name", None)
    config = docker.api.container.ContainerApiMixin.create_container_config(
        type("Api", (), {"_version": "1.45"})(), **create)
    return name, {key: value for key, value in config.items() if value is not None}


def test_ds01_create_options_become_the_json_the_sdk_would_send():
    options = ds01_options()
    name, expected = sdk_body(options)
    assert engine_http.create_body(options) == expected
    assert name == options["name"]


def test_gpu_device_requests_pass_through_as_the_sdk_writes_them():
    requests = dockerapi.gpu_device_requests(["GPU-1", "MIG-2"])
    options = ds01_options(device_requests=requests)
    body = engine_http.create_body(options)
    assert body == sdk_body(options)[1]
    assert body["HostConfig"]["DeviceRequests"][0]["DeviceIDs"] == ["GPU-1", "MIG-2"]


@pytest.mark.parametrize("unknown", [{"restart_policy": {"Name": "always"}}, {"mem_limit": "1g"},
                                     {"command": "sleep 1"}, {"volumes": ["/a:/b"]},
                                     {"ports": {"8888/tcp": 20001}}, {"device_requests": [{"driver": "nvidia"}]}])
def test_an_option_or_form_the_fast_path_does_not_write_leaves_the_create_to_the_sdk(unknown):
    assert engine_http.create_body(ds01_options(**unknown)) is None


@pytest.mark.parametrize(("status", "message", "what", "error_type", "text"), [
    (404, "No such container: x", "container x", NotFound, "container x not found"),
    (404, "No such image: ds01-test/none:latest", "image y", NotFound, "image not found: image y"),
    (404, "No such image: ds01-test/none:latest", None, NotFound,
     "image not found: No such image: ds01-test/none:latest"),
    (409, 'Conflict. The container name "/x._.1" is already in use', "container x", Ds01Error,
     "container x already exists"),
    (500, "container init was OOM-killed (memory limit too low?)", "container x", ResourcesUnavailable,
     "out of memory: container init was OOM-killed (memory limit too low?)"),
    (500, "driver failed", "container x", Ds01Error, "docker: driver failed"),
])
def test_engine_answers_become_the_same_typed_errors_as_the_sdks(status, message, what, error_type, text):
    with pytest.raises(error_type) as raised, dockerapi.errors(what):
        raise engine_http.EngineError(status, message)
    assert str(raised.value) == text


def test_a_socket_the_user_may_not_open_is_the_one_line_permission_message():
    error = engine_http.EngineError(None, "denied", PermissionError(13, "Permission denied"))
    translated = dockerapi.translate(error, "container x")
    assert isinstance(translated, PermissionDenied)
    assert "add-user-to-docker" in str(translated)


def serve_once(socket_path, answer):
    """A one-shot HTTP server on a unix socket; returns (thread, the request it got)."""
    got = []
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(socket_path))
    server.listen(1)

    def serve():
        connection, _ = server.accept()
        with connection:
            got.append(connection.recv(1 << 16))
            connection.sendall(answer)
        server.close()

    thread = threading.Thread(target=serve)
    thread.start()
    return thread, got


def test_a_request_sends_json_and_reads_the_engines_error_message(tmp_path):
    path = tmp_path / "engine.sock"
    body = b'{"message": "Conflict. The container name is already in use"}'
    thread, got = serve_once(path, b"HTTP/1.0 409 Conflict\r\nContent-Type: application/json\r\n\r\n" + body)
    with pytest.raises(engine_http.EngineError) as raised:
        engine_http.request(str(path), "POST", "/containers/create", {"name": "x"}, {"Image": "i"})
    thread.join()
    assert raised.value.status_code == 409
    assert raised.value.explanation == "Conflict. The container name is already in use"
    head, _, sent = got[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /containers/create?name=x HTTP/1.0")
    assert sent == b'{"Image": "i"}'


def test_gpu_device_requests_made_before_the_sdk_is_loaded_are_the_same_request_without_importing_it():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from ds01common import dockerapi, engine_http; "
            "requests = dockerapi.gpu_device_requests(['GPU-1']); "
            "body = engine_http.create_body({'image': 'i', 'device_requests': requests}); "
            "print('docker' in sys.modules, body['HostConfig']['DeviceRequests'] == requests)")
    lib = str(Path(engine_http.__file__).resolve().parent.parent)
    answer = subprocess.run([sys.executable, "-c", code, lib], capture_output=True, text=True, check=True).stdout
    assert answer.split() == ["False", "True"]
    plain = [{"Driver": "nvidia", "Count": 0, "DeviceIDs": ["GPU-1"], "Capabilities": [["gpu"]], "Options": {}}]
    assert plain == dockerapi.gpu_device_requests(["GPU-1"])  # the SDK's DeviceRequest, here where it is loaded
    (converted,) = lazy.sdk_device_requests(plain)
    assert isinstance(converted, docker.types.DeviceRequest) and converted == plain[0]
