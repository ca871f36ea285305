"""Docker access: an unreachable engine or a socket permission problem is one clear line."""

import pytest
from ds01common import dockerapi
from ds01common.errors import DockerUnavailable, Ds01Error, NotFound, PermissionDenied


def test_an_unreachable_engine_is_one_line_naming_the_address(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(DockerUnavailable) as caught:
        dockerapi.connect(timeout=3)
    message = str(caught.value)
    assert "\n" not in message
    assert "unix:///nonexistent/docker.sock" in message
    assert caught.value.exit_code == 1


def test_a_socket_permission_problem_says_how_to_join_the_docker_group(monkeypatch):
    import docker

    def refuse(**kwargs):
        raise docker.errors.DockerException(
            "Error while fetching server API version: "
            "('Connection aborted.', PermissionError(13, 'Permission denied'))")
    monkeypatch.setattr(docker, "from_env", refuse)
    with pytest.raises(PermissionDenied, match="add-user-to-docker") as caught:
        dockerapi.connect()
    assert caught.value.exit_code == 4


def test_sdk_errors_become_typed_errors():
    import docker.errors

    with pytest.raises(NotFound, match="container x"):
        with dockerapi.errors("container x"):
            raise docker.errors.NotFound("No such container")
    with pytest.raises(Ds01Error, match="already exists"):
        with dockerapi.errors("container x"):
            response = type("Response", (), {"status_code": 409, "reason": "Conflict"})()
            raise docker.errors.APIError("Conflict", response=response,
                                         explanation='Conflict. The container name "/x" is already in use')


def test_non_docker_exceptions_pass_through_untouched():
    with pytest.raises(KeyError):
        with dockerapi.errors("x"):
            raise KeyError("mine")


def test_a_missing_container_or_image_is_none_and_other_failures_are_typed_errors():
    import docker.errors

    class Collection:
        def __init__(self, error=None):
            self.error = error

        def get(self, key):
            if self.error:
                raise self.error
            return f"object {key}"

    assert dockerapi.get_or_none(Collection(), "x") == "object x"
    assert dockerapi.get_or_none(Collection(docker.errors.ImageNotFound("gone")), "x") is None
    assert dockerapi.get_or_none(Collection(docker.errors.NotFound("gone")), "x") is None
    with pytest.raises(Ds01Error, match="docker:"):
        dockerapi.get_or_none(Collection(docker.errors.APIError("engine hiccup")), "x", "container x")


def test_gpu_device_requests_name_uuids_never_a_count():
    (request,) = dockerapi.gpu_device_requests(["MIG-a", "GPU-b"])
    assert request["DeviceIDs"] == ["MIG-a", "GPU-b"] and request.get("Count") in (None, 0)
    assert request["Driver"] == "nvidia" and request["Capabilities"] == [["gpu"]]


def test_an_inspect_becomes_container_details_with_never_as_none_and_mounts_as_records():
    from ds01common.records import Mount

    details = dockerapi.container_details({
        "Id": "c" * 64, "Name": "/demo._.1000", "Image": "sha256:abc", "Created": "2026-01-01T00:00:00.1Z",
        "State": {"Status": "exited", "Pid": 0, "ExitCode": 137, "OOMKilled": True, "Error": "",
                  "StartedAt": "0001-01-01T00:00:00Z", "FinishedAt": "2026-01-01T00:00:05.5Z"},
        "Config": {"Image": "ds01-alice/demo:latest", "Labels": {"ds01.user": "alice"}},
        "Mounts": [{"Type": "bind", "Source": "/home/alice/ws", "Destination": "/workspace", "Mode": "rw",
                    "RW": True}]})
    assert (details.name, details.status, details.image, details.image_id) == (
        "demo._.1000", "exited", "ds01-alice/demo:latest", "sha256:abc")
    assert details.started_at is None and details.finished_at == "2026-01-01T00:00:05.5Z"
    assert details.exit_code == 137 and details.oom_killed and not details.running
    assert details.mount_at("/workspace") == Mount("bind", "/home/alice/ws", "/workspace", True, "rw")
    bare = dockerapi.container_details({"Id": "d" * 64})
    assert (bare.name, bare.status, bare.labels, bare.mounts, bare.exit_code) == ("", "", {}, (), None)


def test_importing_the_boundary_loads_no_sdk():
    import subprocess
    import sys
    from pathlib import Path

    lib = str(Path(dockerapi.__file__).resolve().parent.parent.parent)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import ds01common.dockerapi; "
            "print(sorted(name for name in ('docker', 'requests', 'urllib3') if name in sys.modules))")
    answer = subprocess.run([sys.executable, "-c", code, lib], capture_output=True, text=True, check=True)
    assert answer.stdout.strip() == "[]"
