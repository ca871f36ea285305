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
